"""Nodes of the annotation pipeline: a zero-shot template + examples -> teacher labels and
rationales.

Thin wrappers: template choice, planning, the dry run, the teacher's answers and the metrics
live in :mod:`zeroshot_distill.annotation` (evaluation and active distillation use them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill import annotation
from zeroshot_distill.annotation import AnnotationError

__all__ = [
    "AnnotationError",
    "annotate_and_keep_in_memory",
    "annotate_examples",
    "estimate_annotation_cost",
    "plan_annotation",
    "select_template",
    "summarize_annotations",
]


def select_template(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    best_prompt: Mapping[str, Any] | None,
    seed: int,
) -> dict[str, Any]:
    """The template to annotate with (``best_prompt`` when there is one and
    ``annotation.prompt_source`` allows it, else the configured one), validated against the
    task, with its label-only and rationalize variants."""
    return annotation.select_template(examples, task, params, best_prompt, seed)


def plan_annotation(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    prompt: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """One row per example to annotate: its prompt kind (full / label-only / rationalize)
    and rendered messages."""
    return annotation.plan_annotation(examples, task, params, prompt, seed)


def estimate_annotation_cost(
    plan: pd.DataFrame,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Dry run: tokens and USD the annotation would take; nothing is sent to the teacher.

    Run it alone with
    ``kedro run --pipelines annotation --to-nodes annotation.estimate_annotation_cost``.
    """
    return annotation.estimate_annotation_cost(plan, examples, task, teacher, params)


def annotate_examples(
    plan: pd.DataFrame,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
    prompt: Mapping[str, Any],
    estimate: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ``annotations`` table (every planned row, parsed) and the run statistics."""
    return annotation.annotate_examples(plan, examples, task, teacher, params, prompt, estimate)


def annotate_and_keep_in_memory(
    plan: pd.DataFrame,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
    prompt: Mapping[str, Any],
    estimate: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """:func:`annotate_examples`, plus the same table for ``summarize_annotations`` through
    memory, so that a run's metrics describe the table this run wrote (a versioned dataset
    loads the latest version on disk, which a concurrent run may have written)."""
    annotations, stats = annotate_examples(plan, examples, task, teacher, params, prompt, estimate)
    return annotations, stats, annotations


def summarize_annotations(
    annotations: pd.DataFrame,
    examples: pd.DataFrame,
    run_stats: Mapping[str, Any],
) -> dict[str, list[dict[str, float]]]:
    """MLflow metrics of the annotation: accuracy vs gold, explanation and parse-failure
    rates, tokens, USD, throughput, cache hits and the label-only saving."""
    return annotation.summarize_annotations(annotations, examples, run_stats)
