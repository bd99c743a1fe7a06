"""Which rows are annotated and with which prompt: full, label-only or rationalize-the-gold-label.

:func:`plan_annotation` runs the steps: :func:`rows_to_annotate` (checked columns and ids,
the ``max_rows`` cap), :func:`plan_row` (one row's prompt kind and rendered messages), then
the plan table with the :data:`PLAN_COLUMNS`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.annotation.params import (
    PLAN_COLUMNS,
    AnnotationError,
    AnnotationParams,
    PromptKind,
    seeded_unit,
)
from zeroshot_distill.tasks.prompts import json_response_format, render_prompt
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.tasks.values import is_missing

logger = logging.getLogger(__name__)


def plan_annotation(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    prompt: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """One row per example to annotate: its prompt kind and rendered messages.

    Rows of ``annotation.splits`` (capped at ``max_rows``, chosen by seed); a seeded
    ``rationale_fraction`` of them get the full template, the rest the label-only variant;
    with ``rationalize_labeled`` rows that have a gold label get the rationalize template.
    """
    spec = TaskSpec.from_params(task)
    cfg = AnnotationParams.from_params(params)
    rows = rows_to_annotate(examples, spec, cfg, seed)
    response_format = json_response_format(spec) if prompt.get("output_format") == "json" else None
    plan = [
        plan_row(row, spec, cfg, prompt, seed, response_format) for row in rows.to_dict("records")
    ]
    counts = pd.Series([p["prompt_kind"] for p in plan], dtype="object").value_counts()
    logger.info(
        "annotation plan: %d rows of splits %s (%s)", len(plan), cfg.splits, counts.to_dict()
    )
    return pd.DataFrame(plan, columns=PLAN_COLUMNS)


def rows_to_annotate(
    examples: pd.DataFrame, spec: TaskSpec, cfg: AnnotationParams, seed: int
) -> pd.DataFrame:
    """The rows of ``cfg.splits``, checked (columns, unique ids), capped at ``max_rows``."""
    needed = ["id", "split", *spec.input_fields]
    missing = [c for c in needed if c not in examples.columns]
    if missing:
        raise AnnotationError(f"`examples` lacks column(s) {missing} needed for annotation")
    rows = examples[examples["split"].isin(cfg.splits)]
    if rows["id"].duplicated().any():
        dupes = rows.loc[rows["id"].duplicated(), "id"].head(5).tolist()
        raise AnnotationError(f"`examples` has duplicate ids, e.g. {dupes}")
    if cfg.max_rows is not None and len(rows) > cfg.max_rows:
        order = sorted(rows.index, key=lambda i: seeded_unit(seed, "max_rows", rows.at[i, "id"]))
        rows = rows.loc[sorted(order[: cfg.max_rows])]
    return rows


def plan_row(
    row: Mapping[str, Any],
    spec: TaskSpec,
    cfg: AnnotationParams,
    prompt: Mapping[str, Any],
    seed: int,
    response_format: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One row of the plan: which prompt kind, its messages, token cap and response format."""
    gold = row.get("gold_label")
    system = prompt.get("system_prompt")
    given: str | None = None
    if cfg.rationalize_labeled and not is_missing(gold) and spec.is_valid_label(gold):
        kind: PromptKind = "rationalize"
        given = str(gold)
        messages = render_prompt(
            prompt["rationalize_template"], spec, row, label=given, system=system
        )
        max_tokens, fmt = cfg.max_tokens, None
    elif seeded_unit(seed, "rationale", row["id"]) < cfg.rationale_fraction:
        kind = "full"
        messages = render_prompt(prompt["template"], spec, row, system=system)
        max_tokens, fmt = cfg.max_tokens, response_format
    else:
        kind = "label_only"
        messages = render_prompt(prompt["label_only_template"], spec, row, system=system)
        max_tokens, fmt = cfg.label_only_max_tokens, None
    return {
        "id": str(row["id"]),
        "split": row["split"],
        "prompt_kind": kind,
        "messages": messages,
        "max_tokens": max_tokens,
        "response_format": fmt,
        "given_label": given,
    }
