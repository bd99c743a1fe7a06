"""Nodes of compare_students: several named students on one training set, one table."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.reporting import fmt_pct
from zeroshot_distill.reporting.compare import (
    best_student,
    comparison_report,
    comparison_table,
    did_not_beat_majority,
    evaluate_student,
    mlflow_figures,
    select_labeled_rows,
)
from zeroshot_distill.students import StudentBundle
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers.simulated_notice import is_simulated

logger = logging.getLogger(__name__)


def student_training_params(
    training: Mapping[str, Any], compare_students: Mapping[str, Any], *, student: str
) -> dict[str, Any]:
    """``training`` with the preset of ``student`` as its named student (it replaces any
    ``student_name`` of the run), applied when training validates the parameters."""
    presets = compare_students.get("presets") or {}
    if student not in presets:
        raise ValueError(
            f"compare_students: no preset for {student!r} in the parameters "
            f"(compare_students.presets has {sorted(presets)}); the students to compare are "
            "read from conf/<env>/parameters_compare_students.yml when the pipeline is built, "
            "so change them there, not with --params"
        )
    return {**dict(training), "preset": presets[student]}


def evaluate_compared_student(
    student_model: StudentBundle,
    examples: pd.DataFrame,
    training_set: pd.DataFrame,
    task: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    *,
    student: str,
) -> tuple[dict[str, Any], dict[str, list[dict[str, float]]]]:
    """One student on the evaluation's test rows: its row of the comparison table and its
    MLflow figures (prefixed ``compare.<student>.`` by the catalog)."""
    spec = TaskSpec.from_params(task)
    rows = select_labeled_rows(examples, spec, evaluation)
    result = evaluate_student(student, student_model, rows, spec, evaluation, training_set)
    logger.info(
        "compare_students %s (%s, %s parameters): accuracy %s (majority-class baseline %s), "
        "%.1f predictions/s",
        student,
        result["family"],
        f"{result['parameters']:,}",
        fmt_pct(result["accuracy"]),
        fmt_pct(result["majority_baseline"]),
        result["predictions_per_s"],
    )
    if did_not_beat_majority(result["beats_majority"]):
        logger.warning(
            "compare_students %s did not beat the majority-class baseline (%s vs %s)",
            student,
            fmt_pct(result["accuracy"]),
            fmt_pct(result["majority_baseline"]),
        )
    return result, mlflow_figures(result)


def compare_students(
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    *results: Mapping[str, Any],
) -> tuple[pd.DataFrame, str, str]:
    """The comparison table (one row per student, in the configured order) and its report
    as Markdown and self-contained HTML; a simulated teacher's run carries its banner."""
    table = comparison_table(results)
    markdown, html = comparison_report(
        table,
        task=str(task.get("name", "?")),
        teacher=teacher,
        simulated=is_simulated(teacher),
        hourly_usd=(evaluation.get("cost") or {}).get("student_hourly_usd"),
    )
    best = best_student(table)
    if best is not None:
        logger.info(
            "compare_students: best of %d is %s, accuracy %s",
            len(table),
            best["student"],
            fmt_pct(best["accuracy"]),
        )
    return table, markdown, html
