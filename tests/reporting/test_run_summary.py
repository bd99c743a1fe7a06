"""The run's MLflow name, headline figures and closing summary."""

from __future__ import annotations

import pandas as pd
import pytest

from zeroshot_distill.hooks import runner_name
from zeroshot_distill.reporting.run_summary import (
    active_distill_summary_lines,
    evaluation_summary_lines,
    headline_figures,
    predictions_summary_lines,
    run_name,
    student_name,
    summary_block,
    teacher_name,
)

PARAMS = {
    "task": {"name": "nli"},
    "teacher": {"backend": "openai", "model": "gpt-4o-mini"},
    "training": {"student": {"name_or_path": "google/t5-v1_1-base"}},
    "subsampling": {"explanation_rate": 0.3, "train_fraction": 0.5},
}


def _with(**subsampling: float) -> dict:
    return {**PARAMS, "subsampling": {**PARAMS["subsampling"], **subsampling}}


def test_run_name_says_what_differs() -> None:
    assert (
        run_name(["distill"], PARAMS)
        == "distill · er 0.3 · tf 0.5 · nli · gpt-4o-mini → t5-v1_1-base"
    )
    # Two runs that differ only in their explanation rate (or train fraction) differ by name.
    assert run_name(["distill"], _with(explanation_rate=1.0)) != run_name(["distill"], PARAMS)
    assert run_name(["distill"], _with(train_fraction=1.0)) != run_name(["distill"], PARAMS)
    assert run_name(["__default__"], PARAMS).startswith("distill · ")


def test_run_name_lists_stages_in_pipeline_order() -> None:
    forward = run_name(["subsampling", "training", "evaluation"], PARAMS)
    assert forward.startswith("subsampling+training+evaluation · ")
    for shuffled in (
        ["evaluation", "training", "subsampling"],
        ["training", "subsampling", "evaluation", "training"],
    ):
        assert run_name(shuffled, PARAMS) == forward


def test_standard_distillation_is_not_named_by_an_explanation_rate() -> None:
    standard = {**PARAMS, "subsampling": {**PARAMS["subsampling"], "mode": "standard_distill"}}
    name = run_name(["distill"], standard)
    assert "er " not in name
    assert name.startswith("distill · standard_distill · tf 0.5 · ")
    explicit = {**PARAMS, "subsampling": {**PARAMS["subsampling"], "mode": "step_by_step"}}
    assert run_name(["distill"], explicit) == run_name(["distill"], PARAMS)


def test_run_name_leaves_out_what_a_pipeline_does_not_use() -> None:
    # The sweep varies rate and fraction per variant; annotation trains no student.
    assert run_name(["experiments"], PARAMS) == "experiments · nli · gpt-4o-mini → t5-v1_1-base"
    assert run_name(["data_processing", "annotation"], PARAMS) == (
        "data_processing+annotation · nli · gpt-4o-mini"
    )
    assert run_name(["predict"], PARAMS) == "predict · nli · t5-v1_1-base"


def test_names_of_teacher_and_student() -> None:
    assert teacher_name({"backend": "simulated", "model": "gpt-4o-mini"}) == (
        "gpt-4o-mini (SIMULATED)"
    )
    assert teacher_name({"backend": "simulated", "model": "simulated-teacher"}) == (
        "simulated-teacher"
    )
    assert student_name({"student": {"name_or_path": None, "architecture": {"d_model": 64}}}) == (
        "t5-random-d64"
    )
    assert student_name({"student": {"name_or_path": "/models/my-t5/"}}) == "my-t5"


def test_runner_tag_is_the_class_name() -> None:
    assert runner_name("<kedro.runner.sequential_runner.SequentialRunner object at 0x7f3>") == (
        "SequentialRunner"
    )
    assert runner_name("ParallelRunner") == "ParallelRunner"

    class ThreadRunner:
        pass

    assert runner_name(ThreadRunner()) == "ThreadRunner"


METRICS = {
    "run": {"split": "test", "teacher_model": "gpt-4o-mini", "teacher_simulated": False},
    "student": {
        "n": 10,
        "accuracy": 0.6,
        "per_class": {
            "yes": {"support": 7, "f1": 0.5},
            "no": {"support": 3, "f1": 0.5},
        },
    },
    "baselines": {"majority": 0.7, "chance": 0.5, "beats_majority": False},
    "teacher": {"n": 8, "accuracy": 0.875},
    "student_model": {"n_train": 40, "n_train_with_rationale": 12},
    "cost": {"teacher_total_usd": 1.25},
}


def test_headline_figures() -> None:
    figures = headline_figures(METRICS)
    assert figures == pytest.approx(
        {
            "student_accuracy": 0.6,
            "teacher_accuracy": 0.875,
            "baseline_accuracy": 0.7,
            "teacher_usd": 1.25,
            "explanation_rate": 0.3,
        }
    )
    # Missing blocks leave their figures out rather than inventing them.
    assert headline_figures({"student": {"accuracy": 0.5}}) == {"student_accuracy": 0.5}


def test_summary_lines_and_block() -> None:
    lines = evaluation_summary_lines(METRICS)
    text = "\n".join(lines)
    assert "student accuracy   60.0% on 10 test rows" in text
    assert "teacher accuracy   87.5%" in text and "SIMULATED" not in text
    assert "baseline accuracy  70.0%" in text and "NOT beaten" in text
    simulated = {**METRICS, "run": {**METRICS["run"], "teacher_simulated": True}}
    assert "SIMULATED" in "\n".join(evaluation_summary_lines(simulated))

    block = summary_block("Run summary: x", lines, {"report": "/data/report.md"})
    rows = block.splitlines()
    assert rows[0] == rows[-1] and set(rows[0]) == {"="}
    assert rows[1] == "Run summary: x"
    assert rows[-2] == "  report: /data/report.md"


def test_predictions_summary_shows_a_few_rows() -> None:
    predictions = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "student_label": ["yes", None, "no", "yes"],
            "valid_output": [True, False, True, True],
            "gold_label": ["yes", "no", "yes", None],
            "correct": [True, False, False, None],
        }
    )
    lines = predictions_summary_lines(predictions, n_rows=2)
    assert lines[0] == "4 rows labelled, 1 without a label, accuracy 33.3%"
    assert len(lines) == 1 + 3  # header row + two rows
    assert "student_label" in lines[1] and lines[2].split()[:2] == ["a", "yes"]


def test_active_distill_summary_compares_the_arms_at_equal_spend() -> None:
    metrics = {
        "equal_spend.spend": {"step": 0, "value": 0.0019},
        "equal_spend.explanation_consistency.test_accuracy": {"step": 0, "value": 0.5},
        "equal_spend.random.test_accuracy": {"step": 0, "value": 0.375},
        "equal_spend.delta_test_accuracy": {"step": 0, "value": 0.125},
        "random.test_accuracy": [{"step": 1, "value": 0.3}],
    }
    (line,) = active_distill_summary_lines(metrics)
    assert line.startswith("test accuracy at equal teacher spend ($0.0019")
    assert line.endswith("explanation_consistency 50.0% vs random 37.5%")
    assert active_distill_summary_lines({"random.test_accuracy": 0.3}) == []


def test_a_named_student_and_a_comparison_name_their_students() -> None:
    named = {**PARAMS, "training": {**PARAMS["training"], "preset": {"name": "t5_tiny_wide"}}}
    assert run_name(["training"], named) == "training · er 0.3 · tf 0.5 · nli · t5_tiny_wide"
    compared = {**PARAMS, "compare_students": {"students": ["t5_tiny", "decoder_tiny"]}}
    assert (
        run_name(["compare_students"], compared)
        == "compare_students · nli · t5_tiny vs decoder_tiny"
    )
    assert run_name(["training"], compared).endswith("t5-v1_1-base")
