"""The teacher budget of an arm is never exceeded, in USD or in calls."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zeroshot_distill.active.budget import (
    Budget,
    Ledger,
    affordable,
    request_cost_bound,
    spend_within_budget,
)
from zeroshot_distill.teachers.config import Price


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)]})


class Teacher:
    """Answers each row at a cost in [0.5, 1] x its bound; ``hits`` are cached."""

    def __init__(self, costs: dict[str, float], hits: set[str] = frozenset()) -> None:
        self.costs = costs
        self.hits = hits
        self.chunks: list[int] = []

    def __call__(self, chunk: pd.DataFrame) -> pd.DataFrame:
        self.chunks.append(len(chunk))
        hit = [i in self.hits for i in chunk["id"]]
        price = [self.costs[i] for i in chunk["id"]]
        return pd.DataFrame(
            {
                "id": chunk["id"],
                "cost_usd": [0.0 if h else p for h, p in zip(hit, price, strict=True)],
                "saved_usd": [p if h else 0.0 for h, p in zip(hit, price, strict=True)],
                "cached": hit,
            }
        )


def test_affordable_counts_the_prefix_that_fits():
    assert affordable(Budget(max_cost_usd=1.0), Ledger(usd=0.5), [0.2, 0.2, 0.2]) == 2
    assert affordable(Budget(max_calls=5), Ledger(calls=3), [0.0] * 10) == 2
    assert affordable(Budget(), Ledger(), [1e9] * 3) == 3


def test_a_budget_that_runs_out_mid_batch_shrinks_the_batch():
    rows = _rows(16)
    costs = {i: 0.01 for i in rows["id"]}
    teacher = Teacher(costs)
    ledger = Ledger(usd=0.0)
    result = spend_within_budget(
        rows, teacher, lambda r: [0.012] * len(r), Budget(max_cost_usd=0.1), ledger
    )
    assert ledger.usd <= 0.1 + 1e-12
    assert result.exhausted
    # worst case admits 8 (0.096); they cost 0.08; the 0.02 left admits one more at 0.012
    assert teacher.chunks == [8, 1]
    assert result.n_answered == 9
    assert ledger.calls == 9


@pytest.mark.parametrize("max_calls", [0, 1, 5, 7])
def test_call_budget_is_exact(max_calls):
    rows = _rows(10)
    teacher = Teacher({i: 0.0 for i in rows["id"]})
    ledger = Ledger(calls=2)
    budget = Budget(max_calls=max_calls)
    result = spend_within_budget(rows, teacher, lambda r: [0.0] * len(r), budget, ledger)
    assert ledger.calls == max(2, max_calls)
    assert result.n_answered == max(0, max_calls - 2)
    assert result.exhausted


def test_cached_answers_count_at_their_price_but_are_not_paid():
    rows = _rows(4)
    teacher = Teacher({i: 0.02 for i in rows["id"]}, hits={"r0", "r1"})
    ledger = Ledger()
    spend_within_budget(rows, teacher, lambda r: [0.02] * len(r), Budget(max_cost_usd=1), ledger)
    assert ledger.usd == pytest.approx(0.08)
    assert ledger.paid_usd == pytest.approx(0.04)
    assert ledger.paid_calls == 2


def test_bounds_are_never_below_the_dearest_answer_seen():
    """An arm that already saw a $0.05 answer does not trust a $0.01 bound: of $0.10 left it
    sends at most two requests."""
    rows = _rows(10)
    teacher = Teacher({i: 0.01 for i in rows["id"]})
    ledger = Ledger(usd=0.9, calls=20, max_call_usd=0.05)
    spend_within_budget(rows, teacher, lambda r: [0.01] * len(r), Budget(max_cost_usd=1.0), ledger)
    assert teacher.chunks[0] == 2
    assert ledger.usd <= 1.0 + 1e-12


def test_request_cost_bound_covers_bytes_and_completion_cap():
    price = Price(input_per_1m=1.0, output_per_1m=2.0)
    messages = [{"role": "user", "content": "héllo"}]  # 6 bytes
    bound = request_cost_bound(messages, price, max_tokens=100)
    assert bound == pytest.approx(((16 + 6 + 8) * 1.0 + 100 * 2.0) / 1e6)
    assert math.isinf(request_cost_bound(messages, price, max_tokens=None))
    free = Price(input_per_1m=0.0, output_per_1m=0.0)
    assert request_cost_bound(messages, free, max_tokens=None) == 0.0


def test_ledger_round_trips():
    ledger = Ledger()
    ledger.charge([0.1, 0.2], [False, True])
    again = Ledger.from_dict(ledger.as_dict())
    assert again == ledger
    assert again.max_call_usd == pytest.approx(0.2)
