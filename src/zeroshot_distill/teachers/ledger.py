"""Cost ledger, run budget and token estimates.

- :class:`CostLedger`: per-stage totals of one teacher (requests, cache hits, tokens, USD,
  USD saved by cache hits, statuses). ``Teacher.spend()`` returns its :meth:`summary`.
- :class:`RunBudget`: the money spent by *every* teacher of this process (= one
  ``kedro run``), checked against ``teacher.max_cost_usd`` before each request is sent.
  Prompt optimization and annotation share it; ``TeacherRunHook`` resets it when a run starts
  (with the Kedro run id, which the persistent ``spend`` table of the cache books against)
  and a project hook logs its totals to MLflow, also when the run stops at the budget.
- :func:`estimate_tokens`: a tokenizer-free estimate (~4 characters per token for English)
  for dry runs and budget reservations, where the API's ``usage`` is not known yet.
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from zeroshot_distill.teachers.config import Price

CHARS_PER_TOKEN = 4.0
# Budget reservations assume denser text than usual so that an unusual prompt does not
# cross the budget: 3 characters per token.
CONSERVATIVE_CHARS_PER_TOKEN = 3.0
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """Approximate token count of ``text``."""
    return math.ceil(len(text) / chars_per_token) if text else 0


def estimate_prompt_tokens(
    messages: Sequence[Mapping[str, str]], chars_per_token: float = CHARS_PER_TOKEN
) -> int:
    """Approximate prompt tokens of a chat request (content plus per-message overhead)."""
    return (
        sum(
            estimate_tokens(str(m.get("content") or ""), chars_per_token) + MESSAGE_OVERHEAD_TOKENS
            for m in messages
        )
        + 3
    )


def usd(price: Price, prompt_tokens: int, completion_tokens: int, discount: float = 0.0) -> float:
    """Cost of a call at ``price`` (USD per 1M tokens) less ``discount`` (0.5 = half)."""
    gross = (prompt_tokens * price.input_per_1m + completion_tokens * price.output_per_1m) / 1e6
    return gross * (1.0 - discount)


@dataclass
class StageTotals:
    """What one stage asked for and paid."""

    requests: int = 0
    cache_hits: int = 0
    sent: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    latency_s: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict view (statuses as a dict)."""
        out = asdict(self)
        out["statuses"] = dict(self.statuses)
        return out


class CostLedger:
    """Per-stage token and USD totals of one teacher. Thread-safe."""

    def __init__(self) -> None:
        self._stages: dict[str, StageTotals] = {}
        self._lock = threading.Lock()

    def record(
        self,
        stage: str,
        *,
        status: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        latency_s: float = 0.0,
        cached: bool = False,
        saved_usd: float = 0.0,
        count: int = 1,
    ) -> None:
        """Account for ``count`` identical results (a deduplicated request counts once)."""
        with self._lock:
            totals = self._stages.setdefault(stage, StageTotals())
            totals.requests += count
            totals.statuses[status] += count
            if cached:
                totals.cache_hits += count
                totals.saved_usd += saved_usd
                return
            totals.sent += 1
            totals.cache_hits += count - 1
            totals.saved_usd += saved_usd
            totals.prompt_tokens += prompt_tokens
            totals.completion_tokens += completion_tokens
            totals.cost_usd += cost_usd
            totals.latency_s += latency_s

    def stage(self, stage: str) -> StageTotals:
        """Totals of one stage (zeros if it made no request)."""
        with self._lock:
            return self._stages.get(stage, StageTotals())

    @property
    def total_cost_usd(self) -> float:
        """USD over all stages."""
        with self._lock:
            return sum(t.cost_usd for t in self._stages.values())

    def summary(self) -> dict[str, Any]:
        """``{"stages": {stage: totals}, "total": totals}`` as plain dicts."""
        with self._lock:
            stages = {name: t.as_dict() for name, t in self._stages.items()}
        total = StageTotals()
        for t in stages.values():
            total.requests += t["requests"]
            total.cache_hits += t["cache_hits"]
            total.sent += t["sent"]
            total.prompt_tokens += t["prompt_tokens"]
            total.completion_tokens += t["completion_tokens"]
            total.cost_usd += t["cost_usd"]
            total.saved_usd += t["saved_usd"]
            total.latency_s += t["latency_s"]
            total.statuses.update(t["statuses"])
        return {"stages": stages, "total": total.as_dict()}


def _new_run_id() -> str:
    return f"pid{os.getpid()}-{uuid.uuid4().hex[:12]}"


class RunBudget:
    """USD spent in this run by every teacher; the shared counter behind ``max_cost_usd``.

    Also the run's identity for the books: ``run_id`` (the Kedro run id when a hook set it,
    else a fresh id per process/reset), ``mlflow_run_id`` (set by the MLflow hook) and the
    interrupted sessions found when the run started (``interrupted``).
    """

    def __init__(self) -> None:
        self._spent = 0.0
        self._paid = 0
        self._stages: dict[str, float] = {}
        self._lock = threading.Lock()
        self.run_id = _new_run_id()
        self.mlflow_run_id: str | None = None
        self.interrupted: list[Any] = []

    @property
    def spent_usd(self) -> float:
        """USD paid so far in this run."""
        with self._lock:
            return self._spent

    def add(self, cost_usd: float, stage: str | None = None) -> None:
        """Record money paid (for one answer, of ``stage``)."""
        with self._lock:
            self._spent += cost_usd
            if stage is not None:
                self._paid += 1
                self._stages[stage] = self._stages.get(stage, 0.0) + cost_usd

    def totals(self) -> dict[str, Any]:
        """``{"spent_usd", "paid_requests", "stages": {stage: usd}}`` of this run."""
        with self._lock:
            return {
                "spent_usd": self._spent,
                "paid_requests": self._paid,
                "stages": dict(self._stages),
            }

    def reset(self, run_id: str | None = None) -> None:
        """A new run starts."""
        with self._lock:
            self._spent = 0.0
            self._paid = 0
            self._stages = {}
            self.run_id = run_id or _new_run_id()
            self.mlflow_run_id = None
            self.interrupted = []


_RUN_BUDGET = RunBudget()


def run_budget() -> RunBudget:
    """The process-wide budget counter (one ``kedro run`` = one process)."""
    return _RUN_BUDGET


@dataclass(frozen=True)
class CostEstimate:
    """A dry run: what answering some requests would take, without calling the teacher."""

    backend: str
    model: str
    n_requests: int
    n_cached: int
    n_to_send: int
    prompt_tokens: int
    completion_tokens_expected: int
    completion_tokens_max: int
    usd_expected: float
    usd_max: float
    usd_saved_by_cache: float
    expected_completion_source: str

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return asdict(self)

    def describe(self) -> str:
        """One human line."""
        return (
            f"{self.n_to_send} of {self.n_requests} requests to send to {self.backend}:"
            f"{self.model} ({self.n_cached} cached): ~{self.prompt_tokens:,} prompt + "
            f"~{self.completion_tokens_expected:,} completion tokens (at most "
            f"{self.completion_tokens_max:,}) = ~${self.usd_expected:.4f} (at most "
            f"${self.usd_max:.4f}); cache saves ${self.usd_saved_by_cache:.4f}"
        )
