"""Classifier students: a head on an encoder for the label, a small decoder for the rationale
(auxiliary task), from a config or a local pretrained encoder directory; saved, reloaded,
scored and explained like any student."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertConfig, BertForMaskedLM

from zeroshot_distill.students import (
    StudentLoadError,
    TrainingConfigError,
    accuracy,
    generate_rationales,
    label_probabilities,
    load_student,
    predict_labels,
    train_from_training_set,
)
from zeroshot_distill.students.classifier import (
    ClassifierCollator,
    MultiTaskClassifier,
    encode_classifier_examples,
    shift_right,
)
from zeroshot_distill.students.data import IGNORE_INDEX
from zeroshot_distill.students.model import (
    StudentConfig,
    load_saved_student,
    resolve_family,
    save_student,
)
from zeroshot_distill.students.trainer import TrainingConfig, resolve_training_config

from .conftest import LABELS, cue_rows

TINY_ENCODER = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
TINY_DECODER = {"num_hidden_layers": 1}


@pytest.fixture
def classifier_student():
    return load_student(
        {"architecture": TINY_ENCODER, "decoder": TINY_DECODER}, seed=0, labels=LABELS
    )


def _training_set(spec, n_train: int = 48, n_valid: int = 24) -> pd.DataFrame:
    train = cue_rows(n_train, spec, prefix="t").assign(split="train")
    valid = cue_rows(n_valid, spec, prefix="v").assign(split="valid")
    return pd.concat([train, valid], ignore_index=True)


def test_a_bare_encoder_on_a_task_with_labels_becomes_a_classifier(classifier_student):
    assert classifier_student.family == "classifier"
    assert classifier_student.model.config.id2label == dict(enumerate(LABELS))
    assert classifier_student.rationale_decoder is not None
    # without a label set (numeric tasks) the same encoder is an encoder-decoder student
    assert resolve_family(StudentConfig(architecture=TINY_ENCODER), has_labels=False) == "encoder"
    explicit = StudentConfig(architecture=TINY_ENCODER, family="encoder")
    assert resolve_family(explicit) == "encoder"


def test_a_numeric_task_cannot_have_a_classifier():
    with pytest.raises(StudentLoadError, match="numeric tasks have none"):
        load_student({"architecture": TINY_ENCODER, "family": "classifier"}, labels=None)


def test_scores_are_the_heads_probabilities_in_label_set_order(classifier_student, nli_spec):
    rows = cue_rows(7, nli_spec)
    probs = label_probabilities(
        classifier_student.model, classifier_student.tokenizer, nli_spec, rows, 3
    )
    one_by_one = np.concatenate(
        [
            label_probabilities(
                classifier_student.model, classifier_student.tokenizer, nli_spec, [r], 1
            )
            for r in rows.to_dict("records")
        ]
    )
    np.testing.assert_allclose(probs, one_by_one, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    tokens = classifier_student.tokenizer(
        [nli_spec.student_input(rows.iloc[0])], return_tensors="pt"
    )
    with torch.no_grad():
        logits = classifier_student.model(**tokens).logits
    np.testing.assert_allclose(probs[0], torch.softmax(logits, -1)[0].numpy(), atol=1e-5)


def test_a_head_trained_for_other_labels_is_refused(classifier_student):
    from zeroshot_distill.tasks.spec import TaskSpec

    other = TaskSpec(
        name="s",
        kind="classification",
        description="s",
        input_fields=["text"],
        labels=["positive", "negative", "mixed"],
    )
    with pytest.raises(ValueError, match="trained for the labels"):
        label_probabilities(
            classifier_student.model, classifier_student.tokenizer, other, [{"text": "x"}]
        )


def test_one_encoder_pass_feeds_head_and_decoder(classifier_student, nli_spec):
    rows = cue_rows(6, nli_spec).to_dict("records")
    examples, _ = encode_classifier_examples(
        classifier_student.tokenizer,
        rows,
        [r["rationale_target"] if isinstance(r["rationale_target"], str) else None for r in rows],
        LABELS,
        max_input_length=256,
        max_rationale_length=64,
    )
    assert [e.label_ids for e in examples] == [[LABELS.index(r["label"])] for r in rows]
    batch = ClassifierCollator(classifier_student.tokenizer.pad_token_id)(examples)
    assert batch["input_ids"].shape[0] == 6  # one row per example, no second "explain" row
    assert batch["rationale_rows"].tolist() == [1, 3, 5]
    view = MultiTaskClassifier(classifier_student.model, classifier_student.rationale_decoder, 0.5)
    out = view(**batch)
    assert out.rationale_loss is not None
    torch.testing.assert_close(out.loss, 0.5 * out.label_loss + 0.5 * out.rationale_loss)
    out.loss.backward()
    assert classifier_student.model.bert.embeddings.word_embeddings.weight.grad is not None
    assert any(p.grad is not None for p in classifier_student.rationale_decoder.parameters())
    label_only = MultiTaskClassifier(
        classifier_student.model, classifier_student.rationale_decoder, 1.0
    )(**batch)
    assert label_only.rationale_loss is None


def test_shift_right_starts_every_rationale_from_the_start_token():
    targets = torch.tensor([[5, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]])
    assert shift_right(targets, 1).tolist() == [[1, 5, 6], [1, 8, 1]]


def test_a_row_with_a_label_outside_the_task_is_named(classifier_student, nli_spec):
    rows = cue_rows(2, nli_spec).to_dict("records")
    rows[1]["label"] = "maybe"
    with pytest.raises(ValueError, match="t01 \\('maybe'\\)"):
        encode_classifier_examples(
            classifier_student.tokenizer,
            rows,
            [None, None],
            LABELS,
            max_input_length=64,
            max_rationale_length=8,
        )


@pytest.mark.trains
def test_the_classifier_learns_the_cue_and_explains(nli_spec, tmp_path):
    """Trained end to end through the Trainer: well above chance on held-out cue rows (a
    margin, not an exact figure), saved with its decoder and reloaded identical."""
    training = TrainingConfig.from_params(
        {
            "student": {"architecture": TINY_ENCODER, "decoder": TINY_DECODER},
            "num_epochs": 25,
            "batch_size": 8,
            "learning_rate": 3e-3,
            "max_rationale_length": 64,
            "early_stopping_patience": None,
            "progress_bar": False,
        }
    )
    result = train_from_training_set(_training_set(nli_spec), training, nli_spec, seed=0)
    student = result.student
    assert student.family == "classifier"
    test = cue_rows(30, nli_spec, prefix="x")
    predicted = predict_labels(student.model, student.tokenizer, nli_spec, test)
    assert accuracy(predicted, test["label"].tolist()) >= 0.6  # chance: 0.33
    assert result.summary["n_train_with_rationale"] == 24
    save_student(student, tmp_path / "s")
    again = load_saved_student(tmp_path / "s")
    assert again.family == "classifier" and again.rationale_decoder is not None
    assert isinstance(
        AutoModelForSequenceClassification.from_pretrained(tmp_path / "s"),
        type(student.model),
    )
    np.testing.assert_allclose(
        label_probabilities(again.model, again.tokenizer, nli_spec, test),
        label_probabilities(student.model, student.tokenizer, nli_spec, test),
        atol=1e-5,
    )
    texts = generate_rationales(
        again.model,
        again.tokenizer,
        nli_spec,
        test.head(3),
        max_new_tokens=12,
        rationale_decoder=again.rationale_decoder,
    )
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    with pytest.raises(ValueError, match="no rationale decoder"):
        generate_rationales(again.model, again.tokenizer, nli_spec, test.head(1))


def test_auto_settings_follow_the_student(classifier_student, tmp_path):
    """A random model keeps the demo's settings; a pretrained encoder gets a small rate for
    its own weights and a larger one for the head and decoder, few epochs, every thread."""
    random_init = resolve_training_config(
        TrainingConfig.from_params({"student": {"architecture": TINY_ENCODER}}), classifier_student
    )
    assert (random_init.learning_rate, random_init.new_learning_rate) == (3e-3, 3e-3)
    assert (random_init.num_epochs, random_init.num_threads, random_init.precision) == (
        12,
        1,
        "fp32",
    )
    encoder = BertForMaskedLM(
        BertConfig(**{k: v for k, v in TINY_ENCODER.items() if k != "model_type"}, vocab_size=300)
    )
    encoder.save_pretrained(tmp_path / "bert")
    config = TrainingConfig.from_params(
        {"student": {"name_or_path": str(tmp_path / "bert"), "tokenizer": "byt5"}}
    )
    student = load_student(config.student, seed=0, labels=LABELS)
    pretrained = resolve_training_config(config, student)
    assert pretrained.learning_rate == 5e-5 and pretrained.new_learning_rate == 1e-3
    assert pretrained.num_epochs == 3
    assert 1 <= pretrained.num_threads <= (os.cpu_count() or 1)  # the cores left free
    new = set(student.info["new_parameters"])
    # the head, and the pooler a masked-LM checkpoint does not have
    assert new == {
        f"{m}.{p}" for m in ("classifier", "bert.pooler.dense") for p in ("weight", "bias")
    }
    fixed = resolve_training_config(
        TrainingConfig.from_params({**config.model_dump(), "learning_rate": 1e-4}), student
    )
    assert fixed.learning_rate == 1e-4  # a number always wins


def test_the_new_parameters_get_their_own_learning_rate(tmp_path, nli_spec):
    encoder = BertForMaskedLM(
        BertConfig(**{k: v for k, v in TINY_ENCODER.items() if k != "model_type"}, vocab_size=300)
    )
    encoder.save_pretrained(tmp_path / "bert")
    training = {
        "student": {"name_or_path": str(tmp_path / "bert"), "tokenizer": "byt5"},
        "max_steps": 1,
        "learning_rate": 1e-5,
        "new_learning_rate": 1e-2,
        "warmup": 0,
        "lr_scheduler": "constant",
        "max_rationale_length": 64,
        "progress_bar": False,
    }
    seen = {}
    from zeroshot_distill.students import trainer as trainer_module

    original = trainer_module.MultiTaskTrainer.create_optimizer

    def spy(self, model=None):
        optimizer = original(self, model)
        seen["groups"] = sorted(
            {(g["lr"], len(g["params"])) for g in optimizer.param_groups}, key=lambda x: x[0]
        )
        seen["n_new"] = len(self._new_parameter_ids)
        return optimizer

    trainer_module.MultiTaskTrainer.create_optimizer = spy
    try:
        train_from_training_set(_training_set(nli_spec, 8, 4), training, nli_spec, seed=0)
    finally:
        trainer_module.MultiTaskTrainer.create_optimizer = original
    rates = {lr for lr, _ in seen["groups"]}
    assert rates == {1e-5, 1e-2}
    n_new = sum(n for lr, n in seen["groups"] if lr == 1e-2)
    assert n_new == seen["n_new"] > 2  # the head and every decoder parameter


def test_lora_on_a_classifier_is_refused(nli_spec):
    with pytest.raises(TrainingConfigError, match="not supported for classifier"):
        train_from_training_set(
            _training_set(nli_spec, 4, 2),
            {"student": {"architecture": TINY_ENCODER}, "peft": {"method": "lora"}},
            nli_spec,
        )


def test_a_pretrained_student_takes_the_cores_other_processes_leave(monkeypatch):
    from zeroshot_distill.students import defaults

    monkeypatch.setattr(defaults.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(defaults.os, "getloadavg", lambda: (1.0, 1.0, 1.0))  # just us
    assert defaults.free_cores() == 4
    monkeypatch.setattr(defaults.os, "getloadavg", lambda: (3.2, 1.0, 1.0))  # 2 others busy
    assert defaults.free_cores() == 2
    monkeypatch.setattr(defaults.os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # overloaded
    assert defaults.free_cores() == 1


def test_an_encoder_students_decoder_is_new_and_its_pretrained_encoder_is_not(tmp_path):
    encoder = BertForMaskedLM(
        BertConfig(**{k: v for k, v in TINY_ENCODER.items() if k != "model_type"}, vocab_size=300)
    )
    encoder.save_pretrained(tmp_path / "bert")
    student = load_student(
        {"name_or_path": str(tmp_path / "bert"), "tokenizer": "byt5", "family": "encoder"}
    )
    new = set(student.info["new_parameters"])
    assert new and not any(n.startswith("encoder.") for n in new)
    assert all(n in new for n, _ in student.model.named_parameters() if n.startswith("decoder."))
