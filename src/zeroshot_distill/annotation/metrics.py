"""The annotation's MLflow metrics: teacher accuracy, explanation and parse rates, tokens,
USD, throughput, cache hits and the label-only saving."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.annotation.params import SPLITS
from zeroshot_distill.tasks.parse_quality import (
    DEFAULT_ALARM_SHARE,
    alarm_message,
    annotations_parse_quality,
)
from zeroshot_distill.tasks.parsing import PARSE_STATUSES

logger = logging.getLogger(__name__)


def summarize_annotations(
    annotations: pd.DataFrame,
    examples: pd.DataFrame,
    run_stats: Mapping[str, Any],
) -> dict[str, list[dict[str, float]]]:
    """MLflow metrics: teacher accuracy vs gold, explanation / parse-failure rates,
    rationale length, tokens, USD (spent and saved), throughput, cache-hit rate, and the
    label-only saving. (The run's ``teacher_simulated`` tag comes from a project hook.)"""
    metrics = annotation_metrics(annotations, examples, float(run_stats.get("elapsed_s", 0.0)))
    quality = annotations_parse_quality(
        annotations, float(run_stats.get("alarm_share", DEFAULT_ALARM_SHARE))
    )
    metrics.update(quality.metrics())
    for key in ("structured_requests", "structured_fallbacks"):
        if run_stats.get(key):
            metrics[key] = float(run_stats[key])
    if quality.alarm:
        logger.warning(alarm_message(quality, "annotation"))
    logger.info(
        "annotation: %s",
        ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if not k.startswith("status_")),
    )
    if run_stats.get("simulated"):
        logger.warning(
            "annotation used the SIMULATED teacher: labels and rationales are test-double "
            "output (annotations.simulated is true)"
        )
    return {name: [{"value": float(value), "step": 0}] for name, value in metrics.items()}


def annotation_metrics(
    annotations: pd.DataFrame, examples: pd.DataFrame, elapsed_s: float
) -> dict[str, float]:
    """The numbers :func:`summarize_annotations` logs (plain floats, NaN-free)."""
    n = len(annotations)
    out: dict[str, float] = {"n_rows": float(n)}
    if n == 0:
        return out
    gold = examples.set_index(examples["id"].astype(str))["gold_label"]
    joined = annotations.assign(gold=annotations["id"].astype(str).map(gold))
    has_gold = joined["gold"].notna() & (joined["prompt_kind"] != "rationalize")
    if has_gold.any():
        hit = joined.loc[has_gold, "teacher_label"].astype(str) == joined.loc[
            has_gold, "gold"
        ].astype(str)
        out["teacher_accuracy"] = float(hit.mean())
        out["n_with_gold"] = float(has_gold.sum())
        for split in SPLITS:
            mask = has_gold & (joined["split"] == split)
            if mask.any():
                out[f"teacher_accuracy_{split}"] = float(
                    (
                        joined.loc[mask, "teacher_label"].astype(str)
                        == joined.loc[mask, "gold"].astype(str)
                    ).mean()
                )
    asked = annotations["prompt_kind"] != "label_only"
    has_rationale = annotations["rationale"].notna()
    if asked.any():
        out["explanation_rate"] = float(has_rationale[asked].mean())
    out["rationale_share"] = float(has_rationale.mean())
    no_label = annotations["teacher_label"].isna() & (annotations["prompt_kind"] != "rationalize")
    out["parse_failure_rate"] = float(no_label.mean())
    for status in PARSE_STATUSES:
        out[f"status_{status}_rate"] = float((annotations["parse_status"] == status).mean())
    words = annotations.loc[has_rationale, "rationale"].astype(str).str.split().str.len()
    out["mean_rationale_words"] = float(words.mean()) if len(words) else 0.0
    fresh = ~annotations["cached"].astype(bool)
    out["prompt_tokens"] = float(annotations.loc[fresh, "prompt_tokens"].sum())
    out["completion_tokens"] = float(annotations.loc[fresh, "completion_tokens"].sum())
    out["cost_usd"] = float(annotations["cost_usd"].sum())
    out["saved_usd"] = float(annotations["saved_usd"].sum())
    out["cache_hit_rate"] = float(annotations["cached"].astype(bool).mean())
    out["n_sent"] = float(fresh.sum())
    if elapsed_s > 0:
        out["throughput_rows_per_s"] = n / elapsed_s
        out["elapsed_s"] = elapsed_s
    out.update(_label_only_saving(annotations))
    return {k: v for k, v in out.items() if not (isinstance(v, float) and math.isnan(v))}


def _label_only_saving(annotations: pd.DataFrame) -> dict[str, float]:
    """Completion tokens / USD saved by the label-only prompt, against full answers."""
    label_only = annotations["prompt_kind"] == "label_only"
    full = annotations["prompt_kind"] == "full"
    if not label_only.any() or not full.any():
        return {"label_only_rows": float(label_only.sum())}
    full_tokens = annotations.loc[full, "completion_tokens"].mean()
    short_tokens = annotations.loc[label_only, "completion_tokens"].mean()
    saved_tokens = max(full_tokens - short_tokens, 0.0) * label_only.sum()
    paid = annotations["cost_usd"] + annotations["saved_usd"]
    full_usd, short_usd = paid[full].mean(), paid[label_only].mean()
    return {
        "label_only_rows": float(label_only.sum()),
        "label_only_completion_tokens_saved": float(saved_tokens),
        "label_only_usd_saved": float(max(full_usd - short_usd, 0.0) * label_only.sum()),
    }
