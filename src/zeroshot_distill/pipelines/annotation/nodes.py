"""Nodes of the annotation pipeline: a zero-shot template + examples -> teacher labels and
rationales.

``select_template`` picks the template (the optimized ``best_prompt`` when it exists, else
the configured one) and validates it; ``plan_annotation`` decides which rows are annotated
and with which prompt (full / label-only / rationalize-the-gold-label) and renders the
messages; ``estimate_annotation_cost`` is the dry run; ``annotate_examples`` asks the teacher
(through its cache, ledger and budget) and parses each answer; ``summarize_annotations``
turns the annotations into MLflow metrics.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zeroshot_distill.tasks.parse_quality import (
    DEFAULT_ALARM_SHARE,
    alarm_message,
    annotations_parse_quality,
)
from zeroshot_distill.tasks.parsing import DEFAULT_MIN_RATIONALE_WORDS, PARSE_STATUSES, parse_answer
from zeroshot_distill.tasks.prompts import (
    default_template,
    few_shot_cot_template,
    json_response_format,
    json_variant,
    label_only_variant,
    render_prompt,
    validate_template,
)
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.tasks.values import is_missing
from zeroshot_distill.teachers import ChatRequest, build_teacher
from zeroshot_distill.teachers.prompt_guard import (
    largest_prompts,
    max_prompt_tokens,
    messages_tokens,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
ANNOTATION_COLUMNS = [
    "id",
    "split",
    "teacher_label",
    "rationale",
    "raw_response",
    "parse_status",
    "prompt_kind",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "saved_usd",
    "latency_s",
    "cached",
    "model",
    "simulated",
    "error",
    "template_id",
]
PromptKind = Literal["full", "label_only", "rationalize"]


class AnnotationError(ValueError):
    """Invalid annotation parameters or inputs (raised before any teacher request)."""


class AnnotationParams(BaseModel):
    """The ``annotation`` parameter block (see ``parameters_annotation.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_source: Literal["auto", "best_prompt", "configured"] = "auto"
    template: str | None = None
    style: Literal["zero_shot", "few_shot_cot"] = "zero_shot"
    output_format: Literal["text", "json"] = "text"
    system_prompt: str | None = None
    few_shot_k: int = Field(default=3, ge=1, le=16)
    splits: list[Literal["train", "valid", "test"]] = Field(
        default_factory=lambda: ["train", "valid"]
    )
    max_rows: int | None = Field(default=None, ge=1)
    rationale_fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    label_only_max_tokens: int = Field(default=16, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    rationalize_labeled: bool = False
    min_rationale_words: int = Field(default=DEFAULT_MIN_RATIONALE_WORDS, ge=0)
    # Warn loudly (log, MLflow, report) above this share of no_label / no-rationale answers.
    alarm_share: float = Field(default=DEFAULT_ALARM_SHARE, ge=0.0, le=1.0)
    progress: bool = True

    @field_validator("splits")
    @classmethod
    def _splits(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one split to annotate")
        return list(dict.fromkeys(value))

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> AnnotationParams:
        """Validate ``params:annotation``; the error names each bad key."""
        try:
            return cls.model_validate(dict(params or {}))
        except ValidationError as err:
            problems = "; ".join(
                f"annotation.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise AnnotationError(f"invalid annotation parameters: {problems}") from None


def _template_id(template: str) -> str:
    return "t" + hashlib.sha256(template.encode("utf-8")).hexdigest()[:10]


def _unit(*parts: Any) -> float:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# ---------------------------------------------------------------------------------- nodes
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
        template_id = str(best_prompt.get("template_id") or _template_id(template))
    elif cfg.template:
        template, source = cfg.template, "configured"
        template_id = _template_id(template)
    elif cfg.style == "few_shot_cot":
        template = few_shot_cot_template(spec, _exemplars(examples, cfg.few_shot_k, seed))
        source, template_id = "few_shot_cot", _template_id(template)
    else:
        template = default_template(spec, "zero_shot")
        source, template_id = "default", _template_id(template)
    validate_template(template, spec)
    if cfg.output_format == "json":
        template = json_variant(template, spec)
    label_only = label_only_variant(template, spec)
    rationalize = default_template(spec, "rationalize")
    logger.info("annotation template (%s, %s):\n%s", source, template_id, template)
    return {
        "template": template,
        "template_id": template_id,
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
    ranked = sorted(pool.to_dict("records"), key=lambda r: _unit(seed, "exemplar", r["id"]))
    return ranked[:k]


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
    needed = ["id", "split", *spec.input_fields]
    missing = [c for c in needed if c not in examples.columns]
    if missing:
        raise AnnotationError(f"`examples` lacks column(s) {missing} needed for annotation")
    rows = examples[examples["split"].isin(cfg.splits)]
    if rows["id"].duplicated().any():
        dupes = rows.loc[rows["id"].duplicated(), "id"].head(5).tolist()
        raise AnnotationError(f"`examples` has duplicate ids, e.g. {dupes}")
    if cfg.max_rows is not None and len(rows) > cfg.max_rows:
        order = sorted(rows.index, key=lambda i: _unit(seed, "max_rows", rows.at[i, "id"]))
        rows = rows.loc[sorted(order[: cfg.max_rows])]
    records = rows.to_dict("records")
    plan = []
    response_format = json_response_format(spec) if prompt.get("output_format") == "json" else None
    for row in records:
        gold = row.get("gold_label")
        given: str | None = None
        if cfg.rationalize_labeled and not is_missing(gold) and spec.is_valid_label(gold):
            kind: PromptKind = "rationalize"
            given = str(gold)
            messages = render_prompt(
                prompt["rationalize_template"],
                spec,
                row,
                label=given,
                system=prompt.get("system_prompt"),
            )
            max_tokens, fmt = cfg.max_tokens, None
        elif _unit(seed, "rationale", row["id"]) < cfg.rationale_fraction:
            kind = "full"
            messages = render_prompt(
                prompt["template"], spec, row, system=prompt.get("system_prompt")
            )
            max_tokens, fmt = cfg.max_tokens, response_format
        else:
            kind = "label_only"
            messages = render_prompt(
                prompt["label_only_template"], spec, row, system=prompt.get("system_prompt")
            )
            max_tokens, fmt = cfg.label_only_max_tokens, None
        plan.append(
            {
                "id": str(row["id"]),
                "split": row["split"],
                "prompt_kind": kind,
                "messages": messages,
                "max_tokens": max_tokens,
                "response_format": fmt,
                "given_label": given,
            }
        )
    counts = pd.Series([p["prompt_kind"] for p in plan], dtype="object").value_counts()
    logger.info(
        "annotation plan: %d rows of splits %s (%s)", len(plan), cfg.splits, counts.to_dict()
    )
    return pd.DataFrame(
        plan,
        columns=[
            "id",
            "split",
            "prompt_kind",
            "messages",
            "max_tokens",
            "response_format",
            "given_label",
        ],
    )


def _requests(
    plan: pd.DataFrame, examples: pd.DataFrame, temperature: float | None
) -> list[ChatRequest]:
    by_id = {str(r["id"]): r for r in examples.to_dict("records")}
    requests = []
    for row in plan.itertuples(index=False):
        requests.append(
            ChatRequest(
                key=str(row.id),
                messages=row.messages,
                example=by_id.get(str(row.id)),
                temperature=temperature,
                max_tokens=None if is_missing(row.max_tokens) else int(row.max_tokens),
                response_format=row.response_format or None,
            )
        )
    return requests


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
    Warns when the expected cost does not fit the remaining budget.
    """
    cfg = AnnotationParams.from_params(params)
    prompt_tokens = [messages_tokens(m) for m in plan["messages"]]
    check_prompt_sizes(plan["id"].tolist(), prompt_tokens, max_prompt_tokens(teacher))
    with build_teacher(teacher, task=task) as client:
        estimate = client.estimate(_requests(plan, examples, cfg.temperature))
        budget = client.config.max_cost_usd
        price = client.config.price()
    out = estimate.as_dict()
    out["by_prompt_kind"] = plan["prompt_kind"].value_counts().to_dict() if len(plan) else {}
    out["max_cost_usd"] = budget
    per_request = estimate.completion_tokens_expected / max(estimate.n_to_send, 1)
    out["largest_prompts"] = largest_prompts(
        plan["id"].tolist(),
        prompt_tokens,
        per_request,
        (price.input_per_1m, price.output_per_1m),
    )
    logger.info("annotation dry run: %s", estimate.describe())
    if out["largest_prompts"]:
        logger.info(
            "largest prompts (share of the cost before cache hits): %s",
            ", ".join(
                f"{p['id']} ~{p['prompt_tokens']:,} tokens {p['share_of_cost']:.1%}"
                for p in out["largest_prompts"]
            ),
        )
    if budget is not None and estimate.usd_expected > budget:
        logger.warning(
            "the expected annotation cost $%.4f exceeds teacher.max_cost_usd=$%.4f: the run "
            "will stop at the budget (answers so far stay cached)",
            estimate.usd_expected,
            budget,
        )
    return out


def check_prompt_sizes(ids: list[str], prompt_tokens: list[int], limit: int | None) -> None:
    """Raise naming the rows whose rendered prompt exceeds ``limit`` (nothing is sent)."""
    if limit is None:
        return
    over = sorted(
        ((t, i) for i, t in zip(ids, prompt_tokens, strict=True) if t > limit), reverse=True
    )
    if over:
        named = "; ".join(f"id={i!r}: ~{t:,} tokens" for t, i in over[:5])
        more = f"; and {len(over) - 5} more" if len(over) > 5 else ""
        raise AnnotationError(
            f"{len(over)} annotation prompt(s) exceed teacher.max_prompt_tokens={limit:,} "
            f"(nothing was sent): {named}{more}. Shorten the template, drop or truncate the "
            "rows (data_processing.on_oversize), or raise teacher.max_prompt_tokens."
        )


def annotate_examples(
    plan: pd.DataFrame,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
    prompt: Mapping[str, Any],
    estimate: Mapping[str, Any] | None = None,
    *,
    stage: str = "annotation",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ask the teacher for every planned row and parse each answer.

    ``stage`` labels the spend in the teacher's ledger (evaluation reuses this node).

    ``estimate`` (the dry run's output) only orders this node after it and is kept in the
    run statistics next to what was actually spent.

    Returns the ``annotations`` table (one row per planned example, every row with a
    ``parse_status``) and run statistics (wall time, the teacher's ledger). Raises
    ``BudgetExceededError`` (everything paid for is cached) when the budget is reached.
    """
    spec = TaskSpec.from_params(task)
    cfg = AnnotationParams.from_params(params)
    requests = _requests(plan, examples, cfg.temperature)
    started = time.perf_counter()
    with build_teacher(teacher, task=spec) as client:
        results = client.complete(requests, stage=stage, progress=cfg.progress)
        spend = dict(client.spend())
        backend, simulated = client.backend, client.simulated
    elapsed = time.perf_counter() - started
    rows = []
    for request, result, planned in zip(
        requests, results, plan.itertuples(index=False), strict=True
    ):
        parsed = parse_answer(
            spec,
            result.text,
            request.example,
            status=result.status,
            finish_reason=result.extra.get("finish_reason"),
            expect_rationale=planned.prompt_kind != "label_only",
            given_label=planned.given_label if planned.prompt_kind == "rationalize" else None,
            min_rationale_words=cfg.min_rationale_words,
        )
        rows.append(
            {
                "id": planned.id,
                "split": planned.split,
                "teacher_label": parsed.label,
                "rationale": parsed.rationale,
                "raw_response": result.text,
                "parse_status": parsed.status,
                "prompt_kind": planned.prompt_kind,
                "prompt_tokens": int(result.prompt_tokens),
                "completion_tokens": int(result.completion_tokens),
                "cost_usd": float(result.cost_usd),
                "saved_usd": float(result.extra.get("saved_usd", 0.0)),
                "latency_s": float(result.latency_s),
                "cached": bool(result.cached),
                "model": result.model,
                "simulated": bool(result.simulated),
                "error": result.error,
                "template_id": prompt.get("template_id"),
            }
        )
    annotations = pd.DataFrame(rows, columns=ANNOTATION_COLUMNS)
    for column in ("teacher_label", "rationale", "raw_response", "error", "model"):
        annotations[column] = annotations[column].astype("object")
    stats = {
        "elapsed_s": elapsed,
        "backend": backend,
        "simulated": simulated,
        "spend": spend,
        "template_id": prompt.get("template_id"),
        "template_source": prompt.get("source"),
        "estimated_usd": (estimate or {}).get("usd_expected"),
        "alarm_share": cfg.alarm_share,
        "structured_requests": sum(1 for r in requests if r.response_format),
        "structured_fallbacks": sum(1 for r in results if r.extra.get("structured_fallback")),
    }
    if stats["structured_fallbacks"]:
        logger.warning(
            "%d of %d structured-output (JSON schema) requests fell back to a weaker format "
            "or free text: the server refused response_format; the parser read them as text",
            stats["structured_fallbacks"],
            stats["structured_requests"],
        )
    return annotations, stats


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
