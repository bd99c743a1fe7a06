"""compare_students on tiny students: one row per student, figures that make sense, a report
that marks students below the majority-class baseline and a simulated teacher."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zeroshot_distill.pipelines.compare_students.nodes import (
    compare_students,
    evaluate_compared_student,
    student_training_params,
)
from zeroshot_distill.reporting.compare import COMPARISON_COLUMNS, comparison_report
from zeroshot_distill.reporting.run_summary import compare_students_summary_lines
from zeroshot_distill.students import train_student_model

TASK = {
    "name": "sentiment",
    "kind": "classification",
    "description": "Sentiment",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}
TRAINING = {
    "preset": None,
    "student": {"name_or_path": "t5-small"},  # replaced by each preset
    "max_steps": 2,
    "num_threads": 1,
    "batch_size": 4,
    "logging_steps": 1,
    "max_rationale_length": 64,
    "progress_bar": False,
}
PRESETS = {
    "narrow": {
        "name": "narrow",
        "student": {
            "architecture": {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_heads": 4, "num_layers": 1}
        },
    },
    "wide": {
        "name": "wide",
        "student": {
            "architecture": {"d_model": 48, "d_ff": 96, "d_kv": 12, "num_heads": 4, "num_layers": 1}
        },
        "learning_rate": 2e-3,
    },
}
EVALUATION = {
    "split": "test",
    "batch_size": 8,
    "latency_samples": 2,
    "cost": {"student_hourly_usd": 0.1},
}
SIMULATED = {"backend": "simulated", "model": "simulated-teacher"}


def _examples() -> pd.DataFrame:
    rows = []
    for split, n in (("train", 8), ("valid", 4), ("test", 6)):
        for i in range(n):
            label = "positive" if i % 2 else "negative"
            rows.append(
                {
                    "id": f"{split}{i}",
                    "split": split,
                    "text": f"{'great' if i % 2 else 'awful'} thing {i}",
                    "gold_label": label,
                }
            )
    return pd.DataFrame(rows)


def _training_set(examples: pd.DataFrame) -> pd.DataFrame:
    frame = examples.assign(
        input="text: " + examples["text"],
        label=examples["gold_label"],
        label_target=examples["gold_label"],
        rationale_target=[
            f"it says {t.split()[0]}" if s == "train" and i % 2 else None
            for i, (t, s) in enumerate(zip(examples["text"], examples["split"], strict=True))
        ],
    )
    return frame


def test_training_params_carry_the_students_preset() -> None:
    params = student_training_params(
        {**TRAINING, "preset": PRESETS["narrow"]},
        {"students": ["narrow", "wide"], "presets": PRESETS},
        student="wide",
    )
    assert params["preset"] == PRESETS["wide"] and params["max_steps"] == 2
    with pytest.raises(ValueError, match=r"parameters_compare_students\.yml"):
        student_training_params(TRAINING, {"presets": PRESETS}, student="other")


@pytest.mark.trains
def test_two_tiny_students_on_one_training_set_make_one_table() -> None:
    examples = _examples()
    training_set = _training_set(examples)
    results = []
    for name in ("narrow", "wide"):
        params = student_training_params(TRAINING, {"presets": PRESETS}, student=name)
        student, _, _ = train_student_model(training_set, params, TASK, seed=1)
        result, metrics = evaluate_compared_student(
            student, examples, training_set, TASK, EVALUATION, student=name
        )
        assert {"accuracy", "predictions_per_s", "usd_per_million", "parameters"} <= set(metrics)
        assert all(m[0]["step"] == 0 and math.isfinite(m[0]["value"]) for m in metrics.values())
        results.append(result)
    table, markdown, html = compare_students(TASK, SIMULATED, EVALUATION, *results)

    assert list(table.columns) == list(COMPARISON_COLUMNS)
    assert table["student"].tolist() == ["narrow", "wide"]
    assert (table["family"] == "seq2seq").all()
    assert table["parameters"].iloc[0] < table["parameters"].iloc[1]  # d_model 32 < 48
    assert (table["trainable_parameters"] == table["parameters"]).all()  # no adapters here
    assert table["accuracy"].between(0, 1).all() and (table["valid_output_rate"] == 1.0).all()
    assert (table["n_test"] == 6).all() and (table["n_train"] == 8).all()
    assert (table["n_train_with_rationale"] == 4).all()
    assert (table["majority_baseline"] == 0.5).all()
    assert (table["training_time_s"] > 0).all() and (table["train_examples_per_s"] > 0).all()
    assert (table["predictions_per_s"] > 0).all()
    # USD per 1M = 1M / (predictions/s) / 3600 * hourly price, from the same measurement
    expected = 1e6 / table["predictions_per_s"] / 3600 * 0.1
    assert table["usd_per_million"].tolist() == pytest.approx(expected.tolist())
    assert "SIMULATED TEACHER" in markdown and "SIMULATED TEACHER" in html
    assert "`narrow`" in markdown and "`wide`" in markdown


def _row(name: str, accuracy: float, beats: bool | None) -> dict[str, object]:
    return {
        "student": name,
        "family": "seq2seq",
        "accuracy": accuracy,
        "macro_f1": accuracy,
        "valid_output_rate": 1.0,
        "majority_baseline": 0.6 if beats is not None else float("nan"),
        "vs_majority": accuracy - 0.6 if beats is not None else float("nan"),
        "beats_majority": beats,
        "parameters": 1000,
        "trainable_parameters": 100,
        "training_time_s": 2.0,
        "train_examples_per_s": 40.0,
        "predictions_per_s": 500.0,
        "usd_per_million": 0.0556,
        "peak_memory_mb": float("nan"),
        "n_train": 10,
        "n_train_with_rationale": 5,
        "n_test": 20,
        "device": "cpu (1 threads)",
    }


def test_report_marks_students_below_the_baseline_and_names_the_best() -> None:
    rows = [_row("good", 0.8, True), _row("bad", 0.5, False)]
    table, markdown, _ = compare_students(
        TASK, {"backend": "openai", "model": "m"}, EVALUATION, *rows
    )
    lines = {
        line.split("|")[1].strip(): line for line in markdown.splitlines() if line.startswith("| `")
    }
    assert "✗" in lines["`bad` ✗"] and "`good`" in lines
    assert "+20.0 pts" in lines["`good`"] and "-10.0 pts" in lines["`bad` ✗"]
    assert "1 of 2 student(s) beat it" in markdown
    assert "**Best: `good`**" in markdown and "SIMULATED" not in markdown
    assert "100" in lines["`good`"]  # trainable parameters column
    assert "Peak memory:" not in markdown  # none recorded
    rows[0] |= {"peak_memory_mb": 120.0, "peak_memory_kind": "cpu_peak_rss_growth"}
    _, with_memory, _ = compare_students(TASK, {"backend": "openai"}, EVALUATION, *rows)
    assert "120 MB" in with_memory and "`cpu_peak_rss_growth`" in with_memory
    summary = compare_students_summary_lines(table)
    assert "best good" in summary[0] and summary[1].endswith("bad")


def test_report_without_a_label_set_has_no_baseline_marks() -> None:
    table = pd.DataFrame([_row("a", 0.3, None)])
    markdown, _ = comparison_report(
        table, task="svamp", teacher={"backend": "openai"}, simulated=False, hourly_usd=0.1
    )
    assert "✗" not in markdown.split("|---")[1].split("\n\n")[0]
    assert "No majority-class baseline" in markdown


def test_duplicate_students_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        compare_students(TASK, SIMULATED, EVALUATION, _row("a", 0.5, True), _row("a", 0.6, True))


def test_family_names_encoder_and_adapter_students() -> None:
    from types import SimpleNamespace

    from zeroshot_distill.reporting.compare import student_family

    def bundle(info: dict[str, object], encoder_decoder: bool = True) -> object:
        config = SimpleNamespace(is_encoder_decoder=encoder_decoder)
        return SimpleNamespace(info=info, model=SimpleNamespace(config=config))

    assert student_family(bundle({"family": "seq2seq", "student_kind": "encoder"})) == "encoder"
    assert student_family(bundle({"family": "seq2seq", "peft": {"method": "lora"}})) == (
        "seq2seq + lora"
    )
    assert student_family(bundle({"family": "causal_lm", "peft": None})) == "causal_lm"
    assert student_family(bundle({}, encoder_decoder=False)) == "causal_lm"
    assert student_family(bundle({})) == "seq2seq"
