"""Asking the teacher: the dry-run estimate and the annotation of planned rows.

Both go through the teacher's cache, ledger and budget; :func:`annotate_examples` parses
every answer into the :data:`ANNOTATION_COLUMNS` contract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.annotation.params import ANNOTATION_COLUMNS, AnnotationError, AnnotationParams
from zeroshot_distill.tasks.parsing import parse_answer
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.tasks.values import is_missing
from zeroshot_distill.teachers import ChatRequest, ChatResult, build_teacher, provide_references
from zeroshot_distill.teachers.prompt_guard import (
    largest_prompts,
    max_prompt_tokens,
    messages_tokens,
)

logger = logging.getLogger(__name__)


def _examples_by_id(examples: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The example rows by id (the request key): what the parser and a simulated teacher read."""
    return {str(r["id"]): r for r in examples.to_dict("records")}


def build_requests(plan: pd.DataFrame, temperature: float | None) -> list[ChatRequest]:
    """One teacher request per plan row, keyed by the row's id."""
    requests = []
    for row in plan.itertuples(index=False):
        requests.append(
            ChatRequest(
                key=str(row.id),
                messages=row.messages,
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
    requests = build_requests(plan, cfg.temperature)
    with build_teacher(teacher) as client:
        references = _references(requests, _examples_by_id(examples))
        provide_references(client, references, labels=task.get("labels"))
        estimate = client.estimate(requests)
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

    ``stage`` labels the spend in the teacher's ledger (evaluation asks the teacher through
    this function too). ``estimate`` (the dry run's output) orders the annotation node after
    the dry run and is kept in the run statistics next to what was actually spent.

    Returns the ``annotations`` table (one row per planned example, every row with a
    ``parse_status``) and run statistics (wall time, the teacher's ledger). Raises
    ``BudgetExceededError`` (everything paid for is cached) when the budget is reached.
    """
    spec = TaskSpec.from_params(task)
    cfg = AnnotationParams.from_params(params)
    requests = build_requests(plan, cfg.temperature)
    by_id = _examples_by_id(examples)
    started = time.perf_counter()
    with build_teacher(teacher) as client:
        provide_references(client, _references(requests, by_id), labels=spec.labels)
        results = client.complete(requests, stage=stage, progress=cfg.progress)
        rows = [
            _annotation_row(spec, cfg, prompt, by_id.get(str(planned.id)), result, planned)
            for result, planned in zip(results, plan.itertuples(index=False), strict=True)
        ]
        client.mark_refused(
            [r for r, row in zip(results, rows, strict=True) if row["parse_status"] == "refused"]
        )
        spend = dict(client.spend())
        backend, simulated = client.backend, client.simulated
    elapsed = time.perf_counter() - started
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
        **_structured_output_counts(requests, results),
    }
    return annotations, stats


def _annotation_row(
    spec: TaskSpec,
    cfg: AnnotationParams,
    prompt: Mapping[str, Any],
    example: Mapping[str, Any] | None,
    result: ChatResult,
    planned: Any,
) -> dict[str, Any]:
    """One row of the ``annotations`` table: the teacher's answer, parsed, and its costs."""
    parsed = parse_answer(
        spec,
        result.text,
        example,
        status=result.status,
        finish_reason=result.extra.get("finish_reason"),
        expect_rationale=planned.prompt_kind != "label_only",
        given_label=planned.given_label if planned.prompt_kind == "rationalize" else None,
        min_rationale_words=cfg.min_rationale_words,
    )
    return {
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


def _references(
    requests: list[ChatRequest], by_id: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """The example row of each request, by request key (what a simulated teacher answers
    from; other teachers ignore it)."""
    return {r.key: by_id[r.key] for r in requests if r.key in by_id}


def _structured_output_counts(
    requests: list[ChatRequest], results: list[ChatResult]
) -> dict[str, int]:
    """How many requests asked for a JSON schema and how many of them fell back; warns."""
    counts = {
        "structured_requests": sum(1 for r in requests if r.response_format),
        "structured_fallbacks": sum(1 for r in results if r.extra.get("structured_fallback")),
    }
    if counts["structured_fallbacks"]:
        logger.warning(
            "%d of %d structured-output (JSON schema) requests fell back to a weaker format "
            "or free text: the server refused response_format; the parser read them as text",
            counts["structured_fallbacks"],
            counts["structured_requests"],
        )
    return counts
