"""A server that accepts connections and never answers must not hold a run in silence.

The openai client retries a timed-out request by itself (``teacher.max_retries`` times,
``teacher.timeout_s`` each), so without a watch a silent server holds every request for
retries x timeout, and the run for that times the requests before the circuit breaker sees
its first errors. :class:`EndpointWatch` follows one backend call at the HTTP level (the
transport's request and response hooks, so every attempt and every answer of any status
counts) and, while requests are waiting and nothing answers:

- logs, at most ``first_notice_s`` (at most 15 s) after the silence began and every 30 s
  after, the endpoint, how many requests are waiting, for how long, the retries and failures
  so far;
- stops the call with :class:`SilentEndpointError` (a
  :class:`~zeroshot_distill.teachers.breaker.TeacherFatalError`) once the endpoint has been
  silent for ``2 x teacher.timeout_s``: every request in flight has then timed out at least
  once and nothing came back. ``teacher.on_silent_endpoint: wait`` keeps waiting (and
  logging) instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from zeroshot_distill.teachers.breaker import TeacherFatalError

logger = logging.getLogger(__name__)

NOTICE_EVERY_S = 30.0
SILENCE_TIMEOUTS = 2.0  # a call stops after this many teacher.timeout_s without an answer
TICK_S = 0.5


class SilentEndpointError(TeacherFatalError):
    """The endpoint accepted the requests and answered none of them for 2 x timeout_s."""


@dataclass
class EndpointWatch:
    """Requests in flight at one endpoint, the attempts made and when it last answered."""

    endpoint: str
    timeout_s: float
    on_silence: Literal["fail", "wait"] = "fail"
    path_suffix: str = "/chat/completions"
    waiting: int = 0
    started: int = 0
    attempts: int = 0
    failed: int = 0
    answered: int = 0
    _quiet_since: float = field(default_factory=time.monotonic)

    # ---------------------------------------------------------------- request bookkeeping
    def request_started(self) -> None:
        """A request (with all its retries) begins."""
        if self.waiting == 0:
            self._quiet_since = time.monotonic()  # idle time is not the server's silence
        self.waiting += 1
        self.started += 1

    def request_ended(self, *, failed: bool) -> None:
        """A request got its final result (an answer, or an error after its retries)."""
        self.waiting -= 1
        self.failed += int(failed)

    @property
    def retries(self) -> int:
        """Attempts beyond the first of each request (the client's own retries)."""
        return max(0, self.attempts - self.started)

    def silent_s(self) -> float:
        """Seconds since the endpoint last answered (or requests began waiting)."""
        return time.monotonic() - self._quiet_since

    def progress_note(self) -> str:
        """``12 retries, 3 failed`` for a progress bar; empty while all is well."""
        parts = [f"{self.retries} retries"] if self.retries else []
        parts += [f"{self.failed} failed"] if self.failed else []
        return ", ".join(parts)

    # ------------------------------------------------------------------ transport hooks
    async def on_request(self, request: Any) -> None:
        """httpx event hook: one HTTP attempt is sent."""
        if str(getattr(request, "url", "")).endswith(self.path_suffix):
            self.attempts += 1

    async def on_response(self, response: Any) -> None:
        """httpx event hook: the endpoint answered (any status: it is alive)."""
        self._quiet_since = time.monotonic()
        self.answered += 1

    def event_hooks(self) -> dict[str, list[Any]]:
        """The hooks for ``httpx.AsyncClient(event_hooks=...)``."""
        return {"request": [self.on_request], "response": [self.on_response]}

    # -------------------------------------------------------------------------- watching
    def limit_s(self) -> float:
        """Silence after which the call stops: ``2 x teacher.timeout_s``."""
        return SILENCE_TIMEOUTS * self.timeout_s

    def first_notice_s(self) -> float:
        """When the first log line comes: 15 s at most, earlier for a short timeout."""
        return min(15.0, self.timeout_s / 2)

    async def watch(self) -> None:
        """Log while requests wait in silence; raise :class:`SilentEndpointError` at the
        limit (``on_silence: fail``). Runs until cancelled."""
        next_notice = self.first_notice_s()
        while True:
            await asyncio.sleep(TICK_S)
            silent = self.silent_s()
            if self.waiting == 0 or silent < self.first_notice_s():
                next_notice = self.first_notice_s()
                continue
            if self.on_silence == "fail" and silent >= self.limit_s():
                raise SilentEndpointError(self.silence_message(silent))
            if silent >= next_notice:
                self.log_waiting(silent)
                next_notice = silent + NOTICE_EVERY_S

    def log_waiting(self, silent: float) -> None:
        """One line: endpoint, requests waiting, silence, retries, failures, what comes next."""
        then = (
            f"the call stops at {self.limit_s():.0f} s of silence (2 x teacher.timeout_s)"
            if self.on_silence == "fail"
            else "waiting on (teacher.on_silent_endpoint: wait)"
        )
        logger.warning(
            "teacher endpoint %s: %d request(s) waiting, no answer for %.0f s "
            "(teacher.timeout_s=%g; %d retries, %d failed so far); %s",
            self.endpoint,
            self.waiting,
            silent,
            self.timeout_s,
            self.retries,
            self.failed,
            then,
        )

    def silence_message(self, silent: float) -> str:
        """The stop message: the endpoint, what waited, and what to check."""
        return (
            f"teacher endpoint {self.endpoint} accepts connections but answered none of the "
            f"{self.waiting} request(s) in flight for {silent:.0f} s (2 x teacher.timeout_s="
            f"{self.timeout_s:g}; {self.retries} retries, {self.failed} failed): is the "
            f"server stuck, overloaded or still loading the model? Check `curl "
            f"{self.endpoint}/models`, raise teacher.timeout_s for a slow server, or set "
            "teacher.on_silent_endpoint: wait to keep waiting. Nothing was paid for the "
            "unanswered requests; answers received so far are cached."
        )
