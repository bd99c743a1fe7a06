"""The teacher interface every backend implements and every pipeline calls.

A pipeline builds a teacher from parameters with :func:`zeroshot_distill.teachers.build_teacher`
and sends it a batch of :class:`ChatRequest`. The teacher answers each with a
:class:`ChatResult` (never raises for a single bad answer: the result carries the status),
going through the response cache and the cost ledger on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ResultStatus = Literal["ok", "truncated", "refused", "error"]


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to make.

    ``key`` identifies the request in logs and results (e.g. the example id); it is not part
    of the cache key. A request carries only what is sent; the simulated backend (a test
    double) gets the rows it answers from through
    :func:`zeroshot_distill.teachers.provide_references`, keyed by ``key``.
    ``None`` sampling fields fall back to the teacher's configured defaults.

    Sampling several answers to the same prompt: at ``temperature > 0`` identical requests
    in one ``complete()`` call are distinct samples (the k-th repeat has its own cache
    key); ``seed`` (sent to the API where supported, and part of the cache key) also tells
    samples apart across calls. At temperature 0 identical requests are sent once.
    """

    key: str
    messages: Sequence[Mapping[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: Mapping[str, Any] | None = None
    seed: int | None = None


@dataclass
class ChatResult:
    """The teacher's answer to one request, with what it cost."""

    key: str
    text: str | None
    status: ResultStatus
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    simulated: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class BudgetExceededError(RuntimeError):
    """Raised when the next request would cross ``max_cost_usd``; everything paid is cached."""


@runtime_checkable
class Teacher(Protocol):
    """A chat model that answers batches of requests through cache and ledger."""

    backend: str
    model: str
    simulated: bool

    def complete(
        self, requests: Sequence[ChatRequest], *, stage: str, progress: bool = True
    ) -> list[ChatResult]:
        """Answer every request, in order. ``stage`` labels the spend in the ledger
        (e.g. ``prompt_optimization``, ``annotation``, ``evaluation``)."""
        ...

    def mark_refused(self, results: Sequence[ChatResult]) -> int:
        """Record answers a task's parser read as refusals as ``refused`` (re-asked on the
        next run as ``teacher.cache.reuse_statuses`` says); returns how many changed."""
        ...

    def spend(self) -> Mapping[str, Any]:
        """Ledger totals so far: per stage and overall tokens, USD, cache hits, USD saved."""
        ...
