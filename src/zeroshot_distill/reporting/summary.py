"""The evaluation summary: one JSON-ready dict that the report, MLflow and sweeps read.

Schema (every block may be ``None`` when its stage did not run)::

    run        task, task_kind, labels, teacher_backend, teacher_model, teacher_simulated, …
    data       sizes: examples per split, annotations, training set
    student    classification_metrics(...) on the test split + "speed" (SpeedStats)
    teacher    classification_metrics(...) of the teacher on the compared test rows
    student_on_teacher_rows   the student's metrics on exactly those rows
    agreement  Agreement of student and teacher labels on those rows
    annotation teacher label quality on the annotated rows that have a gold label
    cost       teacher spend per stage, projections per 1M predictions
    break_even after how many predictions the student has paid for its distillation
    prompt     the zero-shot template used (best_prompt) and its OPRO scores
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from zeroshot_distill.reporting.cost import (
    StageSpend,
    break_even,
    distillation_teacher_usd,
    hours_per_million,
    mean_tokens_per_call,
    student_usd_per_million,
    total_spend,
    usd_per_million_calls,
)
from zeroshot_distill.reporting.markdown import finite_or_none
from zeroshot_distill.reporting.metrics import agreement, classification_metrics
from zeroshot_distill.tasks.parse_quality import (
    DEFAULT_ALARM_SHARE,
    advice,
    annotations_parse_quality,
)
from zeroshot_distill.tasks.values import is_blank


def prediction_metrics(
    predictions: pd.DataFrame, labels: Sequence[str] | None
) -> dict[str, dict[str, Any] | None]:
    """Student metrics on every row; teacher, student and agreement on the teacher's rows.

    ``predictions`` has ``gold_label`` and ``student_label`` and, when the teacher was asked,
    ``teacher_label`` plus a boolean ``teacher_compared`` marking the rows it was asked
    about (so that a teacher answer that named no label counts against the teacher). Without
    ``teacher_compared``, the rows with a ``teacher_label`` are taken.
    """
    out: dict[str, dict[str, Any] | None] = {
        "student": classification_metrics(
            predictions["gold_label"].tolist(), predictions["student_label"].tolist(), labels
        ),
        "teacher": None,
        "student_on_teacher_rows": None,
        "agreement": None,
    }
    if "teacher_label" not in predictions.columns:
        return out
    if "teacher_compared" in predictions.columns:
        rows = predictions[predictions["teacher_compared"].fillna(False).astype(bool)]
    else:
        rows = predictions[[not is_blank(v) for v in predictions["teacher_label"]]]
    if rows.empty:
        return out
    gold = rows["gold_label"].tolist()
    out["teacher"] = classification_metrics(gold, rows["teacher_label"].tolist(), labels)
    out["student_on_teacher_rows"] = classification_metrics(
        gold, rows["student_label"].tolist(), labels
    )
    out["agreement"] = agreement(
        rows["student_label"].tolist(), rows["teacher_label"].tolist()
    ).as_dict()
    return out


def annotation_summary(
    annotations: pd.DataFrame,
    examples: pd.DataFrame | None = None,
    alarm_share: float = DEFAULT_ALARM_SHARE,
) -> dict[str, Any]:
    """Teacher label quality on the annotated rows: parse statuses, explanation rate and
    accuracy against gold labels where ``examples`` has them (the train split is often
    unlabeled, then ``accuracy_vs_gold`` is NaN with ``n_with_gold`` 0)."""
    n = len(annotations)
    statuses = (
        annotations["parse_status"].astype(str).value_counts().sort_index().to_dict()
        if "parse_status" in annotations.columns
        else {}
    )
    with_rationale = (
        sum(0 if is_blank(v) else 1 for v in annotations["rationale"])
        if "rationale" in annotations.columns
        else 0
    )
    result: dict[str, Any] = {
        "n": n,
        "parse_status": {str(k): int(v) for k, v in statuses.items()},
        "explanation_rate": with_rationale / n if n else math.nan,
        "accuracy_vs_gold": math.nan,
        "n_with_gold": 0,
    }
    if (
        examples is not None
        and "gold_label" in examples.columns
        and "teacher_label" in annotations.columns
    ):
        gold = examples[["id", "gold_label"]].drop_duplicates("id")
        joined = annotations[["id", "teacher_label"]].merge(gold, on="id", how="inner")
        joined = joined[[not is_blank(g) for g in joined["gold_label"]]]
        if len(joined):
            teacher = [None if is_blank(t) else str(t) for t in joined["teacher_label"]]
            correct = sum(
                1 for t, g in zip(teacher, joined["gold_label"], strict=True) if t == str(g)
            )
            result["accuracy_vs_gold"] = correct / len(joined)
            result["n_with_gold"] = len(joined)
    result["parse_quality"] = annotation_parse_quality(annotations, alarm_share)
    return result


def annotation_parse_quality(
    annotations: pd.DataFrame, alarm_share: float = DEFAULT_ALARM_SHARE
) -> dict[str, Any]:
    """Parse-status shares, the alarm and its likely cause (see ``tasks.parse_quality``);
    rows whose label the prompt gave (``rationalize``) are left out."""
    if "parse_status" not in annotations.columns:
        return {}
    quality = annotations_parse_quality(annotations, alarm_share)
    return {**quality.as_dict(), "advice": advice(quality)}


def cost_summary(
    spend: Mapping[str, StageSpend],
    *,
    teacher_calls: pd.DataFrame | None,
    teacher_price: tuple[float, float] | None,
    teacher_model: str,
    student_examples_per_s: float,
    student_hourly_usd: float,
    student_machine: str,
    reference_price: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Teacher spend per stage, and USD per 1M predictions: teacher vs student.

    The teacher's projection is its mean tokens per call in ``teacher_calls`` (the annotation
    calls: the same zero-shot prompt a deployment would send) at ``teacher_price`` (USD per
    1M input and output tokens). ``reference_price`` (``{model, input_per_1m, output_per_1m}``)
    adds the same projection at a real API's list price, which makes a simulated or local
    teacher's token counts comparable to a paid one. The student's figure is compute: 1M /
    measured examples per second, on a machine rented at ``student_hourly_usd`` per hour.
    """
    prompt_tokens, completion_tokens = (
        mean_tokens_per_call(teacher_calls) if teacher_calls is not None else (math.nan, math.nan)
    )
    teacher_per_1m = (
        usd_per_million_calls(prompt_tokens, completion_tokens, *teacher_price)
        if teacher_price is not None
        else math.nan
    )
    reference = None
    if reference_price:
        reference = {
            "model": str(reference_price.get("model", "reference")),
            "input_per_1m": float(reference_price["input_per_1m"]),
            "output_per_1m": float(reference_price["output_per_1m"]),
        }
        reference["usd_per_1m_predictions"] = usd_per_million_calls(
            prompt_tokens, completion_tokens, reference["input_per_1m"], reference["output_per_1m"]
        )
    student_per_1m = student_usd_per_million(student_examples_per_s, student_hourly_usd)
    return {
        "stages": {name: s.as_dict() for name, s in spend.items()},
        "teacher_total_usd": total_spend(spend),
        "teacher_model": teacher_model,
        "teacher_price": (
            None
            if teacher_price is None
            else {"input_per_1m": teacher_price[0], "output_per_1m": teacher_price[1]}
        ),
        "teacher_mean_prompt_tokens": prompt_tokens,
        "teacher_mean_completion_tokens": completion_tokens,
        "teacher_usd_per_1m_predictions": teacher_per_1m,
        "reference": reference,
        "student_usd_per_1m_predictions": student_per_1m,
        "student_hours_per_1m_predictions": hours_per_million(student_examples_per_s),
        "student_hourly_usd": float(student_hourly_usd),
        "student_assumption": (
            f"compute only: 1M / measured throughput ({student_examples_per_s:.1f} examples/s "
            f"on {student_machine}), machine fully busy at ${student_hourly_usd:g}/hour "
            "(evaluation.cost.student_hourly_usd); no idle time, serving overhead, storage or "
            "network; training cost not included"
        ),
    }


def _or_nan(value: Any) -> float:
    number = finite_or_none(value)
    return math.nan if number is None else number


def break_even_summary(
    cost: Mapping[str, Any],
    training_wall_s: Any,
    baselines: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The :class:`~zeroshot_distill.reporting.cost.BreakEven` of a run from its cost block,
    the student's training wall time (seconds, priced at the cost block's hourly rate) and
    its baselines (a student that did not beat the majority class never pays off)."""
    seconds = finite_or_none(training_wall_s)
    beats = (baselines or {}).get("beats_majority")
    result = break_even(
        teacher_usd=distillation_teacher_usd(cost.get("stages") or {}, cost.get("teacher_price")),
        training_hours=math.nan if seconds is None else seconds / 3600.0,
        hourly_usd=float(cost.get("student_hourly_usd") or 0.0),
        teacher_usd_per_1m=_or_nan(cost.get("teacher_usd_per_1m_predictions")),
        student_usd_per_1m=_or_nan(cost.get("student_usd_per_1m_predictions")),
        beats_baseline=None if beats is None else bool(beats),
    )
    return {**result.as_dict(), "training_wall_s": seconds}


def _value(block: Mapping[str, Any] | None, key: str) -> float | None:
    return finite_or_none(block.get(key)) if block else None


def headline_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """The summary's scalar figures under flat names (for MLflow and comparison tables).

    Names: ``student_accuracy``, ``student_macro_f1``, ``student_invalid_rate``,
    ``student_examples_per_s``, ``student_latency_p50_ms``, ``student_latency_p95_ms``,
    ``teacher_accuracy``, ``student_accuracy_on_teacher_rows``, ``agreement``,
    ``majority_baseline_accuracy``, ``chance_baseline_accuracy``,
    ``annotation_accuracy``, ``teacher_usd_<stage>``, ``teacher_usd_total``,
    ``teacher_usd_per_1m``, ``reference_usd_per_1m``, ``student_usd_per_1m``,
    ``n_test``, ``n_teacher_compared``, ``student_parameters``,
    ``student_trainable_parameters``, ``student_peak_memory_mb`` (training),
    ``break_even_predictions`` (absent when the student never pays off),
    ``distillation_usd``, ``distillation_training_usd``. Missing or NaN figures are left out.
    """
    student = summary.get("student") or {}
    speed = student.get("speed") or {}
    cost = summary.get("cost") or {}
    candidates: dict[str, float | None] = {
        "student_accuracy": _value(student, "accuracy"),
        "student_macro_f1": _value(student, "macro_f1"),
        "student_invalid_rate": _value(student, "invalid_rate"),
        "n_test": _value(student, "n"),
        "student_examples_per_s": _value(speed, "examples_per_s"),
        "student_latency_p50_ms": _value(speed, "latency_p50_ms"),
        "student_latency_p95_ms": _value(speed, "latency_p95_ms"),
        "teacher_accuracy": _value(summary.get("teacher"), "accuracy"),
        "n_teacher_compared": _value(summary.get("teacher"), "n"),
        "student_accuracy_on_teacher_rows": _value(
            summary.get("student_on_teacher_rows"), "accuracy"
        ),
        "agreement": _value(summary.get("agreement"), "rate"),
        "majority_baseline_accuracy": _value(summary.get("baselines"), "majority"),
        "chance_baseline_accuracy": _value(summary.get("baselines"), "chance"),
        "annotation_accuracy": _value(summary.get("annotation"), "accuracy_vs_gold"),
        "teacher_usd_total": _value(cost, "teacher_total_usd"),
        "teacher_usd_per_1m": _value(cost, "teacher_usd_per_1m_predictions"),
        "reference_usd_per_1m": _value(cost.get("reference"), "usd_per_1m_predictions"),
        "student_usd_per_1m": _value(cost, "student_usd_per_1m_predictions"),
        "student_parameters": _value(summary.get("student_model"), "parameters"),
        "student_trainable_parameters": _value(
            summary.get("student_model"), "trainable_parameters"
        ),
        "student_peak_memory_mb": _value(summary.get("student_model"), "peak_memory_mb"),
        "break_even_predictions": _value(summary.get("break_even"), "predictions"),
        "distillation_usd": _value(summary.get("break_even"), "investment_usd"),
        "distillation_training_usd": _value(summary.get("break_even"), "training_usd"),
    }
    for stage, spend in (cost.get("stages") or {}).items():
        candidates[f"teacher_usd_{stage}"] = _value(spend, "usd")
    return {name: value for name, value in candidates.items() if value is not None}
