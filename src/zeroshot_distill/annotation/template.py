"""Which template annotates: the optimized ``best_prompt`` or the configured one, validated
against the task, with its label-only and rationalize variants."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.annotation.params import (
    AnnotationError,
    AnnotationParams,
    seeded_unit,
    template_id,
)
from zeroshot_distill.tasks.prompts import (
    default_template,
    few_shot_cot_template,
    json_variant,
    label_only_variant,
    validate_template,
)
from zeroshot_distill.tasks.spec import TaskSpec

logger = logging.getLogger(__name__)


def select_template(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    best_prompt: Mapping[str, Any] | None,
    seed: int,
) -> dict[str, Any]:
    """The template to annotate with, validated against the task.

    ``annotation.prompt_source``: ``auto`` takes ``best_prompt["template"]`` when prompt
    optimization produced one and the configured template otherwise; ``best_prompt``
    requires it; ``configured`` ignores it. The configured template is
    ``annotation.template`` or the task kind's default (``style: few_shot_cot`` bakes
    ``few_shot_k`` labeled train rows with reference rationales into it).
    """
    spec = TaskSpec.from_params(task)
    cfg = AnnotationParams.from_params(params)
    has_best = isinstance(best_prompt, Mapping) and bool(best_prompt.get("template"))
    if cfg.prompt_source == "best_prompt" and not has_best:
        raise AnnotationError(
            "annotation.prompt_source is 'best_prompt' but no best_prompt exists: run the "
            "prompt_optimization pipeline first, or set annotation.prompt_source: auto"
        )
    if has_best and cfg.prompt_source != "configured":
        assert best_prompt is not None
        template = str(best_prompt["template"])
        source = "best_prompt"
        chosen_id = str(best_prompt.get("template_id") or template_id(template))
    elif cfg.template:
        template, source = cfg.template, "configured"
        chosen_id = template_id(template)
    elif cfg.style == "few_shot_cot":
        template = few_shot_cot_template(spec, _exemplars(examples, cfg.few_shot_k, seed))
        source, chosen_id = "few_shot_cot", template_id(template)
    else:
        template = default_template(spec, "zero_shot")
        source, chosen_id = "default", template_id(template)
    validate_template(template, spec)
    if cfg.output_format == "json":
        template = json_variant(template, spec)
    label_only = label_only_variant(template, spec)
    rationalize = default_template(spec, "rationalize")
    logger.info("annotation template (%s, %s):\n%s", source, chosen_id, template)
    return {
        "template": template,
        "template_id": chosen_id,
        "source": source,
        "label_only_template": label_only,
        "rationalize_template": rationalize,
        "output_format": cfg.output_format,
        "system_prompt": cfg.system_prompt,
        "best_prompt_scores": {
            k: best_prompt.get(k)
            for k in ("accuracy", "explanation_rate", "score")
            if has_best and best_prompt is not None and k in best_prompt
        },
    }


def _exemplars(examples: pd.DataFrame, k: int, seed: int) -> list[dict[str, Any]]:
    pool = examples[
        (examples["split"] == "train")
        & examples["gold_label"].notna()
        & examples.get("reference_rationale", pd.Series(index=examples.index)).notna()
    ]
    if len(pool) < k:
        raise AnnotationError(
            f"annotation.style few_shot_cot needs {k} train rows with gold_label and "
            f"reference_rationale; found {len(pool)}"
        )
    ranked = sorted(pool.to_dict("records"), key=lambda r: seeded_unit(seed, "exemplar", r["id"]))
    return ranked[:k]
