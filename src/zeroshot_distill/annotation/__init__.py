"""Annotation: a zero-shot template + examples -> teacher labels and rationales.

:func:`select_template` picks the template (the optimized ``best_prompt`` when it exists,
else the configured one) and validates it; :func:`plan_annotation` decides which rows are
annotated and with which prompt (full / label-only / rationalize-the-gold-label);
:func:`estimate_annotation_cost` is the dry run; :func:`annotate_examples` asks the teacher
(through its cache, ledger and budget) and parses each answer into the
:data:`ANNOTATION_COLUMNS` contract; :func:`summarize_annotations` turns the annotations
into MLflow metrics. The annotation, evaluation and active_distill pipelines all use it.
"""

from zeroshot_distill.annotation.annotate import (
    annotate_examples,
    build_requests,
    check_prompt_sizes,
    estimate_annotation_cost,
)
from zeroshot_distill.annotation.metrics import annotation_metrics, summarize_annotations
from zeroshot_distill.annotation.params import (
    ANNOTATION_COLUMNS,
    PLAN_COLUMNS,
    SPLITS,
    AnnotationError,
    AnnotationParams,
    PromptKind,
)
from zeroshot_distill.annotation.plan import plan_annotation, plan_row, rows_to_annotate
from zeroshot_distill.annotation.template import select_template

__all__ = [
    "ANNOTATION_COLUMNS",
    "PLAN_COLUMNS",
    "SPLITS",
    "AnnotationError",
    "AnnotationParams",
    "PromptKind",
    "annotate_examples",
    "annotation_metrics",
    "build_requests",
    "check_prompt_sizes",
    "estimate_annotation_cost",
    "plan_annotation",
    "plan_row",
    "rows_to_annotate",
    "select_template",
    "summarize_annotations",
]
