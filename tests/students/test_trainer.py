"""Training end to end on a tiny model: it learns, it selects on valid (never test), it
restores the best weights, and bad input fails before the first step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from zeroshot_distill.students import (
    StudentLoadError,
    TargetTooLongError,
    TrainingConfigError,
    accuracy,
    generate_rationales,
    label_log_probs,
    load_student,
    predict_labels,
    summary_metrics,
    train_from_training_set,
)
from zeroshot_distill.students import trainer as trainer_module
from zeroshot_distill.students.trainer import KeepBestWeights, MultiTaskTrainer

from .conftest import LABELS, cue_rows

pytestmark = pytest.mark.trains

TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": LABELS,
}
PARAMS = {
    "student": {
        "architecture": {
            "d_model": 128,
            "d_ff": 256,
            "d_kv": 32,
            "num_heads": 4,
            "num_layers": 2,
            "num_decoder_layers": 2,
            "dropout_rate": 0.0,
        }
    },
    "alpha": 0.5,
    "learning_rate": 1e-3,
    "batch_size": 4,
    "num_epochs": 80,
    "eval_steps": 20,
    "logging_steps": 5,
    "early_stopping_patience": 5,
    "max_rationale_length": 64,
    "precision": "fp32",
    "progress_bar": False,
}


def _training_set(spec) -> pd.DataFrame:
    """16 train rows; valid: the same inputs and labels; test: the same inputs, labels rotated.

    Valid and test disagree on every row: a model good on one is wrong on the other.
    """
    train = cue_rows(16, spec, prefix="train")
    valid = cue_rows(16, spec, prefix="valid").assign(rationale_target=None)
    test = cue_rows(16, spec, prefix="test", flip=True).assign(rationale_target=None)
    return pd.concat(
        [train.assign(split="train"), valid.assign(split="valid"), test.assign(split="test")],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def trained():
    """One training run shared by the tests below, with every evaluated row recorded."""
    from zeroshot_distill.tasks.spec import TaskSpec

    spec = TaskSpec.from_params(TASK)
    training_set = _training_set(spec)
    seen: list[str] = []
    original = trainer_module.predict_labels

    def spy(model, tokenizer, spec, rows, *args, **kwargs):
        seen.extend(str(r["id"]) for r in rows)
        return original(model, tokenizer, spec, rows, *args, **kwargs)

    trainer_module.predict_labels = spy
    try:
        result = train_from_training_set(training_set, PARAMS, TASK, seed=1)
    finally:
        trainer_module.predict_labels = original
    return spec, training_set, result, seen


# Tiny models train to different numbers on different CPUs (AVX2 vs AVX-512 round floats
# differently): these tests assert margins and invariants, never an exact training outcome.
def test_tiny_model_learns_sixteen_examples(trained):
    spec, training_set, result, _ = trained
    train = training_set[training_set["split"] == "train"]
    student = result.student
    predicted = predict_labels(student.model, student.tokenizer, spec, train, batch_size=5)
    assert accuracy(predicted, list(train["label"])) >= 0.75  # chance is 1/3
    assert result.summary["n_train"] == 16 and result.summary["n_train_with_rationale"] == 8


def test_full_fine_tuning_records_parameters_and_peak_memory(trained):
    info = trained[2].student.info
    assert info["peft"] is None
    assert info["num_trainable_parameters"] == info["num_parameters"] > 100_000
    assert info["peak_memory_mb"] >= 0 and info["peak_memory_kind"]
    metrics = summary_metrics(trained[2].history, trained[2].summary)
    assert metrics["num_trainable_parameters"]["value"] == info["num_parameters"]
    assert "peak_memory_mb" in metrics


def test_selection_uses_validation_never_test(trained):
    spec, training_set, result, seen = trained
    assert seen and all(i.startswith("valid") for i in seen), "only valid rows are evaluated"
    valid = training_set[training_set["split"] == "valid"]
    test = training_set[training_set["split"] == "test"]
    model, tok = result.student.model, result.student.tokenizer
    # The restored model is the one with the best validation accuracy ...
    valid_accuracy = accuracy(predict_labels(model, tok, spec, valid), list(valid["label"]))
    assert valid_accuracy == pytest.approx(result.summary["best_valid_accuracy"])
    assert valid_accuracy >= 0.75
    # ... and test disagrees with valid on every row: what is right on one is wrong on the
    # other, so test accuracy can only be what valid accuracy leaves.
    test_accuracy = accuracy(predict_labels(model, tok, spec, test), list(test["label"]))
    assert test_accuracy <= 1.0 - valid_accuracy + 1e-9
    evals = result.history[result.history["kind"] == "eval"]
    best = evals.loc[evals["valid_accuracy"].idxmax()]
    assert int(best["step"]) == result.summary["best_step"]


def test_history_logs_label_and_rationale_losses_separately(trained):
    _, _, result, _ = trained
    train_logs = result.history[result.history["kind"] == "train"]
    assert train_logs["label_loss"].notna().all() and train_logs["rationale_loss"].notna().all()
    assert train_logs["label_loss"].iloc[-1] < train_logs["label_loss"].iloc[0]
    assert result.student.info["prefixes"] == {"predict": "predict: ", "explain": "explain: "}
    assert result.student.info["label_decoding"] == "score"


def test_inference_helpers_keep_row_order(trained):
    spec, training_set, result, _ = trained
    rows = training_set[training_set["split"] == "train"]
    reverse = rows.iloc[::-1]
    model, tok = result.student.model, result.student.tokenizer
    forward = predict_labels(model, tok, spec, rows, batch_size=3)
    assert predict_labels(model, tok, spec, reverse, batch_size=3) == forward[::-1]
    scores = label_log_probs(model, tok, spec, reverse, batch_size=3)
    assert scores.shape == (16, 3)
    assert [LABELS[i] for i in np.argmax(scores, axis=1)] == forward[::-1]
    rationales = generate_rationales(model, tok, spec, reverse.head(2), max_new_tokens=8)
    assert len(rationales) == 2 and all(isinstance(r, str) for r in rationales)


def test_early_stopping_ends_training_when_valid_accuracy_stalls(nli_spec):
    params = {
        **PARAMS,
        "student": {"architecture": {"d_model": 16, "d_kv": 8, "num_heads": 2, "num_layers": 1}},
        "learning_rate": 1e-9,  # nothing is learned: accuracy never improves
        "max_steps": 50,
        "eval_steps": 1,
        "early_stopping_patience": 2,
    }
    result = train_from_training_set(_training_set(nli_spec), params, TASK, seed=0)
    assert result.summary["stopped_early"]
    assert result.summary["final_step"] == 3  # the first evaluation, then two without gain
    assert result.summary["best_step"] == 1


def test_best_weights_are_restored_not_the_last():
    model = torch.nn.Linear(2, 1)
    keep = KeepBestWeights()

    class State:
        global_step = 0

    for step, (value, acc) in enumerate([(1.0, 0.5), (2.0, 0.9), (3.0, 0.7)], start=1):
        torch.nn.init.constant_(model.weight, value)
        State.global_step = step
        keep.on_evaluate(None, State, None, metrics={"eval_accuracy": acc}, model=model)
    keep.restore(model)
    assert keep.best_step == 2 and torch.all(model.weight == 2.0)


# ---------------------------------------------------------------- errors before training
@pytest.fixture
def no_training(monkeypatch):
    """Make any training start fail loudly: errors must come before it."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MultiTaskTrainer, "train", refuse)


@pytest.mark.parametrize("alpha", [-0.5, 1.01])
def test_alpha_outside_unit_interval_fails_before_training(no_training, nli_spec, alpha):
    with pytest.raises(TrainingConfigError, match=r"training\.alpha"):
        train_from_training_set(_training_set(nli_spec), {**PARAMS, "alpha": alpha}, TASK)


def test_empty_training_set_fails_before_training(no_training, nli_spec):
    frame = _training_set(nli_spec)
    frame.loc[frame["split"] == "train", "label_target"] = None
    with pytest.raises(TrainingConfigError, match="no train rows"):
        train_from_training_set(frame, PARAMS, TASK)


def test_missing_valid_split_fails_before_training(no_training, nli_spec):
    frame = _training_set(nli_spec)
    frame = frame[frame["split"] != "valid"]
    with pytest.raises(TrainingConfigError, match="valid"):
        train_from_training_set(frame, PARAMS, TASK)


def test_too_long_rationale_fails_before_training(no_training, nli_spec):
    frame = _training_set(nli_spec)
    frame.loc[1, "rationale_target"] = "word " * 40
    with pytest.raises(TargetTooLongError, match="max_rationale_length=64"):
        train_from_training_set(frame, PARAMS, TASK)


def test_unknown_model_offline_fails_before_training(no_training, nli_spec, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    params = {**PARAMS, "student": {"name_or_path": "no-such-org/t5-nothing"}}
    with pytest.raises(StudentLoadError, match="offline"):
        train_from_training_set(_training_set(nli_spec), params, TASK)


def test_tokenizer_loads_without_files():
    assert load_student({"architecture": {"d_model": 16, "num_heads": 2, "d_kv": 8}}).tokenizer
