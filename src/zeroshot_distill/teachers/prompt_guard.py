"""Prompt-size guard: find rows whose teacher prompt is too large before anything is paid.

One input row of 1 MB becomes a ~250,000-token prompt: as much money as hundreds of normal
rows, for an answer that is rarely worth it. ``teacher.max_prompt_tokens`` (default 8,000;
``null``: no limit) caps the estimated prompt of every row. ``data_processing`` checks each
row rendered with the task's default template (prompt optimization and annotation both send
rows like that) and, by ``data_processing.on_oversize``, stops naming them, drops them to
``rejected_examples`` or truncates them; the annotation dry run checks the real prompts again
and lists the largest ones with their share of the cost.

Token counts are estimates (~4 characters per token, see :mod:`.ledger`): English prose
is close, code and other scripts run denser, so keep a margin below the model's context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from zeroshot_distill.tasks.prompts import default_template, render_prompt
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.teachers.ledger import CHARS_PER_TOKEN, estimate_prompt_tokens

DEFAULT_MAX_PROMPT_TOKENS = 8000
OnOversize = Literal["error", "truncate", "drop"]
ON_OVERSIZE: tuple[str, ...] = ("error", "truncate", "drop")
TRUNCATION_MARK = " [...truncated]"


def max_prompt_tokens(teacher: Mapping[str, Any] | None) -> int | None:
    """The limit from the ``teacher`` parameters (missing key: the default; null: none)."""
    value = (teacher or {}).get("max_prompt_tokens", DEFAULT_MAX_PROMPT_TOKENS)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"teacher.max_prompt_tokens must be a positive integer or null, got {value!r}"
        )
    return value


def row_prompt_tokens(spec: TaskSpec, row: Mapping[str, Any]) -> int:
    """Estimated prompt tokens of ``row`` under the task's default zero-shot template."""
    return estimate_prompt_tokens(render_prompt(default_template(spec), spec, row))


def messages_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """Estimated prompt tokens of rendered chat messages."""
    return estimate_prompt_tokens(messages)


def truncate_to_fit(spec: TaskSpec, row: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """A copy of ``row`` whose longest text fields are cut (marked) until the prompt fits."""
    out = dict(row)
    for _ in range(len(spec.text_fields) + 1):
        excess = row_prompt_tokens(spec, out) - limit
        if excess <= 0:
            return out
        field = max(spec.text_fields, key=lambda f: len(str(out[f])))
        text = str(out[field])
        keep = max(0, len(text) - int(excess * CHARS_PER_TOKEN) - len(TRUNCATION_MARK) - 8)
        out[field] = text[:keep].rstrip() + TRUNCATION_MARK
    return out


def largest_prompts(
    ids: Sequence[str],
    prompt_tokens: Sequence[int],
    completion_tokens: float,
    price: tuple[float, float],
    n: int = 5,
) -> list[dict[str, Any]]:
    """The ``n`` largest requests with their tokens, USD and share of the total cost.

    ``completion_tokens`` is the expected answer length per request; ``price`` USD per 1M
    (input, output). Shares are of the cost before cache hits.
    """
    input_price, output_price = price
    costs = [(p * input_price + completion_tokens * output_price) / 1e6 for p in prompt_tokens]
    total_cost = sum(costs)
    total_tokens = sum(prompt_tokens) or 1
    order = sorted(range(len(ids)), key=lambda i: prompt_tokens[i], reverse=True)[:n]
    return [
        {
            "id": str(ids[i]),
            "prompt_tokens": int(prompt_tokens[i]),
            "usd": costs[i],
            "share_of_cost": costs[i] / total_cost
            if total_cost
            else prompt_tokens[i] / total_tokens,
        }
        for i in order
    ]
