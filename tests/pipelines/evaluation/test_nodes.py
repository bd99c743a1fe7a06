"""Evaluation nodes on a tiny random T5, the simulated teacher and tiny frames."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure

from zeroshot_distill.annotation import (
    annotate_examples,
    plan_annotation,
    select_template,
)
from zeroshot_distill.pipelines.evaluation import nodes
from zeroshot_distill.reporting import SIMULATED_BANNER
from zeroshot_distill.reporting.evaluation import current_search

from .conftest import EVALUATION, TASK, make_examples

HISTORY = pd.DataFrame(
    {
        "step": [10, 20, 20, 30, 40, 40],
        "label_loss": [2.0, 1.5, None, 1.1, 0.9, None],
        "rationale_loss": [3.0, 2.6, None, 2.2, 2.0, None],
        "valid_accuracy": [None, None, 0.4, None, None, 0.6],
    }
)


class ConstantStudent:
    """Stands in for ``generate_texts``: the same answer for every input, calls recorded."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls: list[int] = []

    def __call__(self, model: Any, tokenizer: Any, inputs: list[str], *args, **kwargs):
        assert all(text.startswith("predict: premise: ") for text in inputs)
        self.calls.append(len(inputs))
        return [self.answer] * len(inputs)


def test_generated_student_outputs_are_normalised_to_labels(student, monkeypatch) -> None:
    from zeroshot_distill.students import inference

    fake = ConstantStudent("Entailment.")
    monkeypatch.setattr(inference, "generate_texts", fake)
    params = {**EVALUATION, "label_decoding": "generate"}
    predictions, profile = nodes.predict_test_split(student, make_examples(), TASK, params)
    assert predictions["id"].tolist() == [f"test-{i:02d}" for i in range(6)]
    assert set(predictions["student_label"]) == {"entailment"}
    assert predictions["correct"].sum() == 2  # test-00 and test-03 are entailment
    assert predictions["valid_output"].all()
    # a warm-up call, the whole split (batched inside), two single-row latency calls
    assert fake.calls == [1, 6, 1, 1]
    assert profile["speed"]["n_examples"] == 6 and profile["speed"]["latency_n"] == 2
    assert profile["model"]["best_step"] == 40


def test_tiny_t5_predicts_every_test_row(student) -> None:
    predictions, profile = nodes.predict_test_split(student, make_examples(), TASK, EVALUATION)
    assert list(predictions.columns) == [
        "id",
        "gold_label",
        "student_output",
        "student_label",
        "valid_output",
        "correct",
    ]
    assert len(predictions) == 6
    # Label scoring (the default) always names a label, even for an untrained student.
    assert predictions["valid_output"].all()
    assert set(predictions["student_label"]) <= set(TASK["labels"])
    assert predictions["student_output"].tolist() == predictions["student_label"].tolist()
    assert profile["model"]["label_decoding"] == "score"
    assert profile["speed"]["examples_per_s"] > 0
    assert profile["model"]["model_type"] == "t5" and profile["model"]["parameters"] > 0


def test_lora_student_is_evaluated_and_its_footprint_reported(student) -> None:
    import copy

    from zeroshot_distill.students.adapters import PeftSettings, attach_adapters

    student = copy.deepcopy(student)  # the fixture is shared by the session
    attach_adapters(student, PeftSettings(r=2))
    student.info.update(num_trainable_parameters=123, peak_memory_mb=4.5)
    predictions, profile = nodes.predict_test_split(student, make_examples(), TASK, EVALUATION)
    assert predictions["valid_output"].all()
    model = profile["model"]
    assert model["model_type"] == "t5" and model["trainable_parameters"] == 123
    assert 0 < model["trainable_percent"] < 100 and model["peak_memory_mb"] == 4.5
    assert model["adapters"].startswith("LoRA r=2")


def test_evaluation_without_gold_labels_fails_clearly() -> None:
    examples = make_examples()
    examples["gold_label"] = None
    with pytest.raises(ValueError, match="gold labels on the 'test' split"):
        nodes.predict_test_split(None, examples, TASK, EVALUATION)


def _annotate(examples: pd.DataFrame, teacher: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    params = {"splits": ["train", "valid"], "progress": False}
    prompt = select_template(examples, TASK, params, None, 0)
    plan = plan_annotation(examples, TASK, params, prompt, 0)
    annotations, _ = annotate_examples(plan, examples, TASK, teacher, params, prompt)
    return annotations, prompt


def test_evaluation_end_to_end_with_simulated_teacher(student, teacher_params) -> None:
    examples = make_examples()
    annotations, prompt = _annotate(examples, teacher_params)
    student_predictions, profile = nodes.predict_test_split(student, examples, TASK, EVALUATION)
    answers = nodes.ask_teacher_on_test(examples, TASK, teacher_params, {}, prompt, EVALUATION)
    assert answers["id"].tolist() == ["test-00", "test-01", "test-02", "test-03"]  # max_rows 4
    predictions = nodes.combine_predictions(student_predictions, answers)
    assert predictions["teacher_compared"].sum() == 4
    assert predictions.loc[~predictions["teacher_compared"], "teacher_label"].isna().all()

    rationales = nodes.explain_examples(student, predictions, examples, TASK, EVALUATION)
    assert len(rationales) == 2 and {"id", "input", "rationale"} <= set(rationales[0])

    metrics = nodes.compute_metrics(
        predictions,
        profile,
        answers,
        examples,
        annotations,
        prompt,
        None,
        None,
        TASK,
        teacher_params,
        EVALUATION,
    )
    json.dumps(metrics, allow_nan=False)  # strict JSON: NaN became null
    assert metrics["run"]["teacher_simulated"] is True
    assert metrics["teacher"]["n"] == 4 and metrics["student"]["n"] == 6
    assert set(metrics["cost"]["stages"]) == {"annotation", "evaluation"}
    assert metrics["cost"]["teacher_usd_per_1m_predictions"] > 0
    assert metrics["data"]["training_set"] == {
        "train rows": 6,
        "with rationale": 4,
        "validation rows": 3,
    }
    mlflow_metrics = nodes.metrics_for_mlflow(metrics)
    for name in ("student_accuracy", "teacher_accuracy", "teacher_usd_total", "student_usd_per_1m"):
        assert set(mlflow_metrics[name]) == {"value", "step"}

    # The tiny student does not beat its baseline: no break-even, and the report says so.
    assert metrics["baselines"]["beats_majority"] is False
    assert metrics["break_even"]["predictions"] is None
    *figures, images = nodes.plot_evaluation(metrics, HISTORY, None, None, prompt)
    assert all(isinstance(f, Figure) for f in figures)
    assert set(images) == {"accuracy_comparison.png", "confusion_matrix.png", "training_curve.png"}

    markdown, html = nodes.render_report(metrics, images, rationales)
    assert "(SIMULATED TEACHER)" in markdown.splitlines()[0]
    assert markdown.splitlines()[4].startswith("**No break-even:** the student did not beat")
    assert SIMULATED_BANNER in markdown
    assert "![Confusion matrix (student)](confusion_matrix.png)" in markdown
    assert html.count('src="data:image/png;base64,') == 3
    assert "kedro run --pipelines evaluation --load-versions" in markdown


def test_teacher_comparison_can_be_switched_off(student, teacher_params, monkeypatch) -> None:
    from zeroshot_distill.students import inference

    monkeypatch.setattr(inference, "generate_texts", ConstantStudent("neutral"))
    params = {**EVALUATION, "teacher_comparison": {"enabled": False}, "label_decoding": "generate"}
    answers = nodes.ask_teacher_on_test(make_examples(), TASK, teacher_params, {}, {}, params)
    assert answers.empty and "teacher_label" in answers.columns
    student_predictions, profile = nodes.predict_test_split(student, make_examples(), TASK, params)
    predictions = nodes.combine_predictions(student_predictions, answers)
    assert not predictions["teacher_compared"].any()
    metrics = nodes.compute_metrics(
        predictions,
        profile,
        answers,
        make_examples(),
        pd.DataFrame({"id": [], "teacher_label": [], "prompt_kind": []}),
        {"template": "{premise} {hypothesis}", "source": "configured", "template_id": "t1"},
        None,
        None,
        TASK,
        {
            **teacher_params,
            "backend": "openai",
            "model": "gpt-4o-mini",
            "require_api_key": False,
            "prices": {"gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.60}},
        },
        params,
    )
    assert metrics["teacher"] is None and metrics["run"]["teacher_simulated"] is False
    markdown, _ = nodes.render_report(metrics, {}, [])
    assert "SIMULATED" not in markdown and "Teacher not evaluated" in markdown
    # Always "neutral" on a balanced split: no better than the majority class, so the report
    # says so first and gives no cost headline.
    assert metrics["baselines"]["beats_majority"] is False
    assert "did NOT beat the baselines" in markdown.splitlines()[0]
    assert markdown.splitlines()[2].startswith("**The student did NOT beat the majority-class")
    assert "Cost per 1M predictions" not in markdown


def test_opro_outputs_of_another_run_are_ignored() -> None:
    history = pd.DataFrame({"template_id": ["s0", "s1"], "cost_usd": [0.1, 0.2]})
    best = {"template_id": "s1", "score": 0.9}
    used = {"source": "best_prompt", "template_id": "s1"}
    assert current_search(used, history, best) == (history, best)
    stale = {"source": "best_prompt", "template_id": "s9"}
    assert current_search(stale, history, best) == (None, None)
    configured = {"source": "configured", "template_id": "s1"}
    assert current_search(configured, history, best) == (None, None)
    assert current_search(used, None, None) == (None, None)


def test_opro_progression_joins_the_report_when_the_search_made_the_prompt() -> None:
    from zeroshot_distill.optimization import Objective

    history = pd.DataFrame(
        {
            "step": [0, 0, 1],
            "template_id": ["s0", "s1", "p1"],
            "status": ["scored", "scored", "scored"],
            "accuracy": [0.6, 0.7, 0.8],
            "explanation_rate": [0.9, 0.8, 0.9],
            "score": [0.6, 0.7, 0.8],
            "n_scored": [5, 5, 5],
            "n_cached": [0, 0, 0],
            "cost_usd": [0.01, 0.01, 0.02],
            "optimizer_cost_usd": [0.0, 0.0, 0.005],
            "simulated": [True, True, True],
        }
    )
    best = {"template_id": "p1", "score": 0.8, "step": 1, "objective": Objective().as_dict()}
    prompt = {"template": "{premise}", "template_id": "p1", "source": "best_prompt"}
    metrics = {"run": {}, "student": {}}
    *_, images = nodes.plot_evaluation(metrics, HISTORY, history, best, prompt)
    assert images["opro_progression.png"].startswith(b"\x89PNG")
    markdown, html = nodes.render_report(metrics, images, [])
    assert "![Prompt optimization (OPRO)](opro_progression.png)" in markdown
    assert html.count("data:image/png;base64,") == 4
