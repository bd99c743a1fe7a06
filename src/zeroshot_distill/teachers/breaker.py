"""The teacher's circuit breaker: stop when a teacher only ever answers with errors.

A run of errors must not be saved as a result. The breaker trips when the first
``fail_fast_after`` answers of a teacher are all errors, when that many connection failures
come in a row (the server went away mid-run), or when every answer of a call failed before
any answer ever succeeded. Its error names the most common kind of failure and what to check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zeroshot_distill.teachers.base import ChatResult


class TeacherFatalError(RuntimeError):
    """The endpoint rejects every request (bad key, unknown model): stop, don't retry rows."""


# What to check when the first answers of a teacher are all errors of one kind.
_BREAKER_HINTS = {
    "connection": "is the server running, and is teacher.base_url right? e.g. `curl {url}/models`",
    "timeout": (
        "the server accepts connections but did not answer within teacher.timeout_s: is it "
        "overloaded or still loading the model? Raise teacher.timeout_s or lower "
        "teacher.concurrency"
    ),
    "http_429": (
        "every request was rate limited: lower teacher.concurrency or set "
        "teacher.requests_per_minute / tokens_per_minute to your account's limits"
    ),
    "malformed": (
        "the answers are not chat completions: is teacher.base_url an OpenAI-compatible "
        "endpoint (usually ending in /v1)?"
    ),
    "http_400": "the server rejects the requests: check teacher.model and teacher.extra_body",
}


class CircuitBreaker:
    """Armed until the first non-error answer; ``limit`` 0 switches it off.

    ``teacher`` (``backend:model``) and ``endpoint`` name the teacher in the error.
    """

    def __init__(self, limit: int, teacher: str, endpoint: str) -> None:
        self.limit = limit
        self.teacher = teacher
        self.endpoint = endpoint
        self.armed = True
        self._first_errors: list[ChatResult] = []
        self._unreachable_streak: list[ChatResult] = []

    def disarm(self) -> None:
        """An answer that is not an error arrived (from the cache, say): the teacher works."""
        self.armed = False

    def watch(self, result: ChatResult) -> None:
        """Count a fresh answer; raise :class:`TeacherFatalError` when the breaker trips."""
        if self.limit == 0:
            return
        if result.status != "error":
            self.armed = False
            self._first_errors.clear()
            self._unreachable_streak.clear()
            return
        if result.extra.get("error_kind") == "connection":
            self._unreachable_streak.append(result)
            if len(self._unreachable_streak) >= self.limit:
                raise self.error(self._unreachable_streak, in_a_row=True)
        else:
            self._unreachable_streak.clear()
        if self.armed:
            self._first_errors.append(result)
            if len(self._first_errors) >= self.limit:
                raise self.error(self._first_errors)

    def check_all_failed(
        self, fresh: Sequence[ChatResult], results: Sequence[ChatResult | None]
    ) -> None:
        """A call whose every answer failed, before any answer ever succeeded, stops."""
        if not self.armed or self.limit == 0 or not fresh:
            return
        if all(r is not None and r.status == "error" for r in results):
            raise self.error(list(fresh))

    def error(self, errors: Sequence[ChatResult], *, in_a_row: bool = False) -> TeacherFatalError:
        """The error that stops the run: what failed, how often, and what to check."""
        kinds = Counter(str(r.extra.get("error_kind") or "other") for r in errors)
        kind, _ = kinds.most_common(1)[0]
        hint = _BREAKER_HINTS.get(kind, "").format(url=self.endpoint)
        if not hint and kind.startswith("http_5"):
            hint = "the server fails on every request: see its log"
        described = ", ".join(f"{n}x {k}" for k, n in kinds.most_common())
        n = len(errors)
        which = f"{n} requests in a row" if in_a_row else f"the first {n} requests"
        return TeacherFatalError(
            f"teacher {self.teacher} at {self.endpoint}: {which} all failed "
            f"({described}), e.g. {errors[0].error}. {hint + '. ' if hint else ''}Stopped so "
            "that a run of errors is not saved as a result; nothing was paid for them and "
            "answers received so far are cached."
        )
