"""Teacher budget of one active-distillation arm: a ledger and a guard that is never crossed.

The guard works with a per-request *upper bound* on cost. Before sending anything it takes
the longest prefix of the pending requests whose bounds still fit the remaining USD and call
budget, sends only that chunk, charges what the answers actually cost, and repeats with what
is left. A batch that would cross the budget therefore shrinks (or is not sent at all);
since an answer never costs more than its bound, the ledger can never end above the budget.

Spend is *nominal*: an answer is charged its price even when the response cache served it
for free (a cached answer's ``saved_usd`` is what it cost when it was paid). Two arms then
compare at equal spend, and a resumed run does not charge again for rounds it restored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from zeroshot_distill.teachers.config import Price
from zeroshot_distill.teachers.ledger import usd

#: Tokens a chat template may add per message and per request, on top of the text's bytes.
_MESSAGE_OVERHEAD_TOKENS = 8
_REQUEST_OVERHEAD_TOKENS = 16
_EPS = 1e-12


@dataclass(frozen=True)
class Budget:
    """Limits of one arm; ``None`` means no limit of that kind."""

    max_cost_usd: float | None = None
    max_calls: int | None = None

    @property
    def unlimited(self) -> bool:
        """No limit at all (the loop then stops after ``n_rounds`` or an empty pool)."""
        return self.max_cost_usd is None and self.max_calls is None


@dataclass
class Ledger:
    """What an arm has spent on the teacher so far.

    ``usd``/``calls`` are nominal (see the module docstring) and are what the budget limits;
    ``paid_usd``/``paid_calls`` count only answers that were not cache hits in this process.
    """

    usd: float = 0.0
    calls: int = 0
    paid_usd: float = 0.0
    paid_calls: int = 0
    max_call_usd: float = 0.0  # the dearest single answer so far (a floor for cost bounds)

    def charge(self, costs: Sequence[float], cached: Sequence[bool]) -> None:
        """Add answered requests (one cost and cache flag per answer)."""
        for cost, hit in zip(costs, cached, strict=True):
            value = 0.0 if cost is None or math.isnan(float(cost)) else float(cost)
            self.usd += value
            self.calls += 1
            self.max_call_usd = max(self.max_call_usd, value)
            if not hit:
                self.paid_usd += value
                self.paid_calls += 1

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON state and metrics."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Ledger:
        """Inverse of :meth:`as_dict` (missing keys start at zero)."""
        values = values or {}
        return cls(
            usd=float(values.get("usd", 0.0)),
            calls=int(values.get("calls", 0)),
            paid_usd=float(values.get("paid_usd", 0.0)),
            paid_calls=int(values.get("paid_calls", 0)),
            max_call_usd=float(values.get("max_call_usd", 0.0)),
        )

    def copy(self) -> Ledger:
        """An independent copy (each arm continues from the seed round's ledger)."""
        return Ledger(**asdict(self))


def can_afford_another(budget: Budget, ledger: Ledger) -> bool:
    """Whether one more request as dear as the dearest so far still fits the budget."""
    return affordable(budget, ledger, [ledger.max_call_usd]) == 1


def affordable(budget: Budget, ledger: Ledger, bounds: Sequence[float]) -> int:
    """How many of the next requests, in order, fit the budget even at their worst case."""
    n, spent = 0, ledger.usd
    for bound in bounds:
        if budget.max_calls is not None and ledger.calls + n + 1 > budget.max_calls:
            break
        if budget.max_cost_usd is not None and spent + float(bound) > budget.max_cost_usd + _EPS:
            break
        spent += float(bound)
        n += 1
    return n


def request_cost_bound(
    messages: Sequence[Mapping[str, str]],
    price: Price,
    max_tokens: int | None,
    discount: float = 0.0,
) -> float:
    """An upper bound on one chat request's USD from its text and its completion cap.

    A token of a byte-level tokenizer covers at least one byte, so the UTF-8 length of the
    messages plus a chat-template allowance bounds the prompt tokens (stricter than the
    teacher's own chars-per-token estimate, on purpose); ``max_tokens`` bounds the
    completion. Without a completion cap there is no bound (``inf``) unless output is free.
    """
    prompt = _REQUEST_OVERHEAD_TOKENS + sum(
        len(str(m.get("content") or "").encode("utf-8")) + _MESSAGE_OVERHEAD_TOKENS
        for m in messages
    )
    if max_tokens is None:
        return math.inf if price.output_per_1m > 0 else usd(price, prompt, 0, discount)
    return usd(price, prompt, int(max_tokens), discount)


def nominal_costs(answers: pd.DataFrame) -> list[float]:
    """Each answer's price whether paid now or earlier: ``cost_usd`` + ``saved_usd``.

    The teacher reports a cache hit with ``cost_usd = 0`` and its original price as
    ``saved_usd`` (the annotation table keeps both columns).
    """
    paid = answers["cost_usd"].astype(float).fillna(0.0)
    if "saved_usd" in answers.columns:
        paid = paid + answers["saved_usd"].astype(float).fillna(0.0)
    return [float(v) for v in paid]


@dataclass
class GuardedResult:
    """What a guarded batch got: the answers (possibly fewer rows) and whether it stopped."""

    answers: pd.DataFrame
    n_requested: int
    exhausted: bool

    @property
    def n_answered(self) -> int:
        """Rows answered (and charged)."""
        return len(self.answers)


def spend_within_budget(
    rows: pd.DataFrame,
    call: Callable[[pd.DataFrame], pd.DataFrame],
    bounds: Callable[[pd.DataFrame], Sequence[float]],
    budget: Budget,
    ledger: Ledger,
) -> GuardedResult:
    """Send ``rows`` through ``call`` in chunks that cannot cross ``budget``; charge ``ledger``.

    ``call`` answers a chunk with one row per request, carrying ``cost_usd``, ``cached`` and
    (for cache hits) ``saved_usd``, as the annotation pipeline's rows do.
    ``bounds`` gives each pending row's worst-case USD. A bound is raised to the dearest
    answer the ledger has seen, so a bound that turned out too low is not trusted twice.
    Stops (``exhausted=True``) when not even the next single request fits.
    """
    answered: list[pd.DataFrame] = []
    start = 0
    exhausted = False
    while start < len(rows):
        pending = rows.iloc[start:]
        worst = [max(float(b), ledger.max_call_usd) for b in bounds(pending)]
        n = affordable(budget, ledger, worst)
        if n == 0:
            exhausted = True
            break
        chunk = pending.iloc[:n]
        answers = call(chunk)
        if len(answers) != len(chunk):
            raise RuntimeError(f"the teacher answered {len(answers)} of {len(chunk)} requests")
        ledger.charge(nominal_costs(answers), [bool(c) for c in answers["cached"].fillna(False)])
        answered.append(answers)
        start += n
    if not exhausted and len(rows):
        # Done, but say whether the next request would still fit (the loop stops if not).
        exhausted = not can_afford_another(budget, ledger)
    frame = pd.concat(answered, ignore_index=True) if answered else rows.iloc[0:0].copy()
    return GuardedResult(answers=frame, n_requested=len(rows), exhausted=exhausted)
