"""What every backend shares: cache lookup, deduplication, budget, ledger, progress.

:class:`CachedTeacher` implements the :class:`~zeroshot_distill.teachers.base.Teacher`
protocol on top of a :class:`Backend` (openai, openai_batch, transformers, simulated),
which only has to turn prepared requests into results. The flow of ``complete()``:

1. prepare each request: effective sampling parameters and its cache key;
2. answer what the cache has as final (``cached=True``, cost 0, the original price as USD
   saved); stored answers whose status is not in ``teacher.cache.reuse_statuses``
   (truncated, refused by default) are kept for the record but asked again;
3. send each distinct missing request once (at temperature > 0, the k-th repeat of a
   request is a distinct sample with its own key), in rounds the budget admits: a request
   is sent only if its worst case (estimated prompt + ``max_tokens`` completion) still fits
   under ``max_cost_usd``, so a run stops *before* crossing it. Before sending, each request
   is claimed in the cache (a lease a heartbeat renews); a request another process has in
   flight is waited for and its answer taken from the cache, so two runs at once pay once;
4. store each answer as it arrives, with its spend booked against the run (one small
   transaction), so a killed run loses nothing it paid for and the next run can report
   what it spent; account for it in the ledger and the run budget.

A circuit breaker stops the run (:class:`TeacherFatalError`) when the first
``teacher.fail_fast_after`` answers of a teacher are all errors, or when every request of
a call failed before any answer succeeded: a run of errors is never saved as a result.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from tqdm.auto import tqdm

from zeroshot_distill.teachers.base import BudgetExceededError, ChatRequest, ChatResult
from zeroshot_distill.teachers.breaker import CircuitBreaker
from zeroshot_distill.teachers.breaker import TeacherFatalError as TeacherFatalError  # re-export
from zeroshot_distill.teachers.cache import CachedResponse, ResponseCache, SpendRow
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.ledger import (
    CostEstimate,
    CostLedger,
    RunBudget,
    estimate_prompt_tokens,
    usd,
)
from zeroshot_distill.teachers.requests import PreparedRequest as PreparedRequest  # re-export
from zeroshot_distill.teachers.requests import prepare_requests

logger = logging.getLogger(__name__)

CACHEABLE_STATUSES = frozenset({"ok", "truncated", "refused"})
WAIT_POLL_S = 0.25  # how often a process waiting for another's answer looks at the cache
T = TypeVar("T")


def suggest_budget(needed_usd: float, current_usd: float) -> float:
    """A round cap (two significant digits, rounded up) of at least ``needed_usd`` and
    more than ``current_usd``: 0.0103 current, 0.013 needed -> 0.013."""
    target = max(needed_usd, current_usd * 1.1, 1e-4)
    step = 10.0 ** (math.floor(math.log10(target)) - 1)
    return round(math.ceil(target / step - 1e-9) * step, 12)


class _Heartbeat:
    """Renews a teacher's cache claims every ``lease_s / 3`` while the teacher is open."""

    def __init__(self, cache: ResponseCache, owner: str, lease_s: float) -> None:
        self.cache, self.owner, self.lease_s = cache, owner, lease_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.cache.renew(self.owner, self.lease_s)
            except Exception as err:  # a busy database: the next beat tries again
                logger.debug("cache lease renewal failed: %s", err)

    def start(self) -> None:
        """Start beating (once; only for a writable cache)."""
        if self._thread is None and self.cache.writable:
            self._thread = threading.Thread(target=self._beat, name="cache-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop beating."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


Sink = Callable[[PreparedRequest, ChatResult], None]


class Backend(Protocol):
    """Turns prepared requests into results; the engine does everything else."""

    name: str
    model: str
    simulated: bool

    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """Extra cache-key material that changes the answer (e.g. the simulated settings)."""
        ...

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, str]]) -> int | None:
        """Exact prompt tokens when a local tokenizer knows them, else ``None``."""
        ...

    def run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        """Answer every item, calling ``sink(item, result)`` as each result arrives."""
        ...

    def close(self) -> None:
        """Release clients and models."""
        ...


def run_sync(make_coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (a notebook): then it runs on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make_coro())
        except BaseException as err:  # re-raised in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=target, name="teacher-event-loop")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _duplicate(result: ChatResult, request_key: str, cost: float) -> ChatResult:
    """The answer to a duplicate request of the same call: shared, free, marked as such."""
    return ChatResult(
        key=request_key,
        text=result.text,
        status=result.status,
        model=result.model,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost_usd=0.0,
        latency_s=0.0,
        cached=True,
        simulated=result.simulated,
        error=result.error,
        extra={**result.extra, "saved_usd": cost, "deduplicated": True},
    )


class CachedTeacher:
    """A :class:`~zeroshot_distill.teachers.base.Teacher`: backend + cache + ledger + budget."""

    def __init__(
        self,
        config: TeacherConfig,
        backend: Backend,
        cache: ResponseCache,
        budget: RunBudget,
    ) -> None:
        self.config = config
        self.backend_impl = backend
        self.backend: str = backend.name
        self.model: str = backend.model
        self.simulated: bool = backend.simulated
        self.cache = cache
        self.budget = budget
        self.ledger = CostLedger()
        self._price = config.price()
        self._discount = config.batch_discount() if backend.name == "openai_batch" else 0.0
        self._lock = threading.Lock()
        # One id per teacher: owner of its cache claims and key of its spend session.
        self.session_id = f"{budget.run_id}/{uuid.uuid4().hex[:12]}"
        self._session_open = False
        self._reuse = frozenset(config.cache.reuse_statuses)
        # The longest completion an answer of this teacher has had: a server that ignores
        # max_tokens makes the budget's worst case this, not max_tokens.
        self._completion_seen = 0
        self._heartbeat = _Heartbeat(cache, self.session_id, config.cache.lease_s)
        endpoint = str(getattr(backend, "endpoint", f"{self.backend}:{self.model}"))
        self._breaker = CircuitBreaker(
            config.fail_fast_after, f"{self.backend}:{self.model}", endpoint
        )

    # ------------------------------------------------------------------------------ public
    def complete(
        self, requests: Sequence[ChatRequest], *, stage: str, progress: bool = True
    ) -> list[ChatResult]:
        """Answer every request, in order (see the module docstring for the flow).

        Raises :class:`BudgetExceededError` when the next request could cross
        ``max_cost_usd``; its ``results`` attribute holds what was answered (``None`` for
        the rest), and every answer is in the cache already.
        """
        started = time.perf_counter()
        prepared = self._prepare_all(requests)
        results: list[ChatResult | None] = [None] * len(prepared)
        groups: dict[str, list[int]] = {}  # cache key -> positions of the requests sharing it
        for i, item in enumerate(prepared):
            groups.setdefault(item.key, []).append(i)
        self._open_session()
        hits = self._final_hits(list(groups))
        for key, stored in hits.items():
            self._serve_cached(stage, groups[key], prepared, results, stored)
        todo = [prepared[indices[0]] for key, indices in groups.items() if key not in hits]
        bar = self._progress_bar(
            stage, len(prepared), sum(len(groups[key]) for key in hits), enabled=progress
        )
        stage_cost = [0.0]
        fresh: list[ChatResult] = []

        def sink(item: PreparedRequest, result: ChatResult) -> None:
            indices = groups[item.key]
            request_keys = [prepared[i].request.key for i in indices]
            self._accept(stage, item, result, indices, request_keys, results, stage_cost)
            fresh.append(result)
            bar.update(len(groups[item.key]))
            note = getattr(self.backend_impl, "progress_note", lambda: "")()
            bar.set_postfix_str(f"${stage_cost[0]:.4f}{', ' + note if note else ''}", refresh=False)
            if getattr(self.backend_impl, "fail_fast", False):
                self._breaker.watch(result)

        def serve(key: str, stored: CachedResponse) -> None:
            self._serve_cached(stage, groups[key], prepared, results, stored)
            bar.update(len(groups[key]))

        try:
            self._send_all(stage, todo, groups, results, sink, serve)
        finally:
            bar.close()
            self.cache.release(self.session_id)
        self._breaker.check_all_failed(fresh, results)
        final = [r for r in results if r is not None]
        self._log_stage(stage, len(final), time.perf_counter() - started)
        return final

    def _send_all(
        self,
        stage: str,
        todo: list[PreparedRequest],
        groups: Mapping[str, list[int]],
        results: list[ChatResult | None],
        sink: Sink,
        serve: Callable[[str, CachedResponse], None],
    ) -> None:
        """Send ``todo`` in budget-admissible batches, claiming each key first; wait for keys
        another process is answering. Raises :class:`BudgetExceededError` when the next
        request could cross the budget and nothing else is in flight."""
        waiting: list[PreparedRequest] = []
        while todo or waiting:
            if waiting:
                waiting, freed = self._collect(waiting, serve)
                todo = freed + todo
            if not todo:
                if waiting:
                    time.sleep(WAIT_POLL_S)
                continue
            n_admit = min(self._admissible(todo), self._round_size(len(todo)))
            if n_admit == 0:
                if waiting:  # their answers may come for free: wait for them first
                    time.sleep(WAIT_POLL_S)
                    continue
                raise self._budget_error(stage, todo, results)
            batch, todo = todo[:n_admit], todo[n_admit:]
            mine, busy = self._claim(batch, serve)
            if busy and not waiting:
                logger.info(
                    "%s: %d request(s) are in flight in another process; waiting for "
                    "their answers instead of paying twice",
                    stage,
                    len(busy),
                )
            waiting.extend(busy)
            self.backend_impl.run(mine, sink)
            missing = [item for item in mine if results[groups[item.key][0]] is None]
            for item in missing:  # a backend must answer everything it was given
                sink(item, self._error(item, "the backend returned no result"))

    def _progress_bar(self, stage: str, total: int, done: int, *, enabled: bool) -> tqdm:
        return tqdm(
            total=total,
            initial=done,
            desc=f"{stage} [{self.backend}:{self.model}]",
            unit="req",
            disable=not enabled,
            mininterval=0.5,
            dynamic_ncols=True,
        )

    def _log_stage(self, stage: str, n_results: int, seconds: float) -> None:
        totals = self.ledger.stage(stage)
        logger.info(
            "%s: %d requests to %s:%s in %.1fs, %d from cache, $%.4f spent, $%.4f saved, %s",
            stage,
            n_results,
            self.backend,
            self.model,
            seconds,
            totals.cache_hits,
            totals.cost_usd,
            totals.saved_usd,
            dict(totals.statuses),
        )

    def mark_refused(self, results: Sequence[ChatResult]) -> int:
        """Record answers the task's parser read as refusals ("I'm sorry, I can't help with
        that", finish reason ``stop``, no label) as ``refused`` in the cache, so that the
        next run asks again unless ``teacher.cache.reuse_statuses`` lists ``refused``.
        Returns how many stored answers changed."""
        keys = sorted({str(r.extra.get("cache_key")) for r in results if r.extra.get("cache_key")})
        changed = self.cache.restatus(keys, "refused", was="ok")
        if changed:
            again = "kept as final" if "refused" in self._reuse else "asked again next run"
            logger.warning(
                "%d answer(s) of %s:%s read as refusals: stored as refused (%s, "
                "teacher.cache.reuse_statuses)",
                changed,
                self.backend,
                self.model,
                again,
            )
        return changed

    def spend(self) -> Mapping[str, Any]:
        """Ledger totals: per stage and overall tokens, USD, cache hits, USD saved."""
        summary = self.ledger.summary()
        summary.update(
            {
                "backend": self.backend,
                "model": self.model,
                "simulated": self.simulated,
                "run_spent_usd": self.budget.spent_usd,
                "max_cost_usd": self.config.max_cost_usd,
            }
        )
        return summary

    def estimate(
        self, requests: Sequence[ChatRequest], *, expected_completion_tokens: float | None = None
    ) -> CostEstimate:
        """Dry run: tokens and USD of answering ``requests``; nothing is sent.

        Expected completion tokens per request: the argument, else the mean of this model's
        cached ``ok`` answers (with at least 10 of them), else half of ``max_tokens``.
        """
        prepared = self._prepare_all(requests)
        hits = self._final_hits([p.key for p in prepared])
        seen: set[str] = set()
        to_send: list[PreparedRequest] = []
        saved = 0.0
        for item in prepared:
            if item.key in hits:
                saved += hits[item.key].cost_usd
            elif item.key not in seen:
                seen.add(item.key)
                to_send.append(item)
        source = "argument"
        if expected_completion_tokens is None:
            stats = self.cache.mean_completion_tokens(self.backend, self.model)
            if stats and stats[1] >= 10:
                expected_completion_tokens, source = stats[0], f"cache mean of {stats[1]} answers"
            else:
                source = "half of max_tokens"
        prompt = completion_max = 0
        completion_expected = 0.0
        for item in to_send:
            exact = self.backend_impl.count_prompt_tokens(item.messages)
            prompt += exact if exact is not None else estimate_prompt_tokens(item.messages)
            cap = item.max_tokens or self.config.max_tokens or 0
            completion_max += cap
            completion_expected += (
                min(cap, expected_completion_tokens)
                if expected_completion_tokens is not None
                else cap / 2
            )
        completion_exp = math.ceil(completion_expected)
        return CostEstimate(
            backend=self.backend,
            model=self.model,
            n_requests=len(prepared),
            n_cached=sum(1 for p in prepared if p.key in hits),
            n_to_send=len(to_send),
            prompt_tokens=prompt,
            completion_tokens_expected=completion_exp,
            completion_tokens_max=completion_max,
            usd_expected=usd(self._price, prompt, completion_exp, self._discount),
            usd_max=usd(self._price, prompt, completion_max, self._discount),
            usd_saved_by_cache=saved,
            expected_completion_source=source,
        )

    def close(self) -> None:
        """Release the backend, this teacher's claims and session, and the cache."""
        try:
            self.backend_impl.close()
        finally:
            self._heartbeat.stop()
            if self._session_open:
                self.cache.release(self.session_id)
                self.cache.close_session(self.session_id)
            self.cache.close()

    def __enter__(self) -> CachedTeacher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- helpers
    def _open_session(self) -> None:
        """Book this teacher in the cache (its spend is attributed to it) once."""
        if not self._session_open:
            self.cache.open_session(self.session_id, self.budget.run_id, self.budget.mlflow_run_id)
            self._session_open = True
            self._heartbeat.start()

    def _final_hits(self, keys: Sequence[str]) -> dict[str, CachedResponse]:
        """Stored answers that count as final (status in ``teacher.cache.reuse_statuses``)."""
        if not self.cache.readable:
            return {}
        return {k: v for k, v in self.cache.get_many(keys).items() if v.status in self._reuse}

    def _serve_cached(
        self,
        stage: str,
        indices: Sequence[int],
        prepared: Sequence[PreparedRequest],
        results: list[ChatResult | None],
        stored: CachedResponse,
    ) -> None:
        for i in indices:
            results[i] = self._from_cache(prepared[i], stored)
            self.ledger.record(
                stage,
                status=stored.status,
                prompt_tokens=stored.prompt_tokens,
                completion_tokens=stored.completion_tokens,
                cost_usd=0.0,
                cached=True,
                saved_usd=stored.cost_usd,
            )
        if stored.status != "error":
            self._breaker.disarm()

    def _claim(
        self, batch: Sequence[PreparedRequest], serve: Callable[[str, CachedResponse], None]
    ) -> tuple[list[PreparedRequest], list[PreparedRequest]]:
        """Split ``batch`` into what this process sends and what another has in flight;
        answers that arrived meanwhile are served at once."""
        if not self.cache.writable:
            return list(batch), []
        states = self.cache.claim(
            [item.key for item in batch], self.session_id, self.config.cache.lease_s, self._reuse
        )
        answered = [item.key for item in batch if states[item.key] == "answered"]
        if answered:
            for key, stored in self._final_hits(answered).items():
                serve(key, stored)
        mine = [item for item in batch if states[item.key] == "mine"]
        busy = [item for item in batch if states[item.key] == "busy"]
        return mine, busy

    def _collect(
        self,
        waiting: Sequence[PreparedRequest],
        serve: Callable[[str, CachedResponse], None],
    ) -> tuple[list[PreparedRequest], list[PreparedRequest]]:
        """Take the answers other processes stored; hand back (still waiting, free to send):
        a request whose claim ended without a final answer (an error, a crash) is ours."""
        keys = [item.key for item in waiting]
        found = self._final_hits(keys)
        for key, stored in found.items():
            serve(key, stored)
        rest = [item for item in waiting if item.key not in found]
        busy = self.cache.busy([item.key for item in rest], self.session_id)
        return [i for i in rest if i.key in busy], [i for i in rest if i.key not in busy]

    def _prepare_all(self, requests: Sequence[ChatRequest]) -> list[PreparedRequest]:
        return prepare_requests(requests, self.config, self.backend_impl)

    def _from_cache(self, item: PreparedRequest, stored: CachedResponse) -> ChatResult:
        return ChatResult(
            key=item.request.key,
            text=stored.text,
            status=stored.status,  # type: ignore[arg-type]
            model=self.model,
            prompt_tokens=stored.prompt_tokens,
            completion_tokens=stored.completion_tokens,
            cost_usd=0.0,
            latency_s=0.0,
            cached=True,
            simulated=self.simulated,
            extra={**stored.extra, "saved_usd": stored.cost_usd, "cache_key": item.key},
        )

    def _error(self, item: PreparedRequest, message: str) -> ChatResult:
        return ChatResult(
            key=item.request.key,
            text=None,
            status="error",
            model=self.model,
            simulated=self.simulated,
            error=message,
        )

    def _accept(
        self,
        stage: str,
        item: PreparedRequest,
        result: ChatResult,
        indices: list[int],
        request_keys: list[str],
        results: list[ChatResult | None],
        stage_cost: list[float],
    ) -> None:
        """Price, store and account for one fresh result; fan it out to duplicates."""
        cost = usd(self._price, result.prompt_tokens, result.completion_tokens, self._discount)
        result.cost_usd = cost
        result.model = result.model or self.model
        result.simulated = self.simulated
        result.extra.setdefault("cache_key", item.key)
        with self._lock:
            # The answer, its spend and the end of this process's claim: one transaction.
            self.cache.put_many(
                self._cache_rows(item, result, cost),
                spend=self._spend_rows(stage, item, result, cost),
                release=[item.key],
                owner=self.session_id,
            )
            self.budget.add(cost, stage)
            self._completion_seen = max(self._completion_seen, result.completion_tokens)
            stage_cost[0] += cost
            self.ledger.record(
                stage,
                status=result.status,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                cost_usd=cost,
                latency_s=result.latency_s,
                saved_usd=cost * (len(indices) - 1),
                count=len(indices),
            )
            for n, (index, request_key) in enumerate(zip(indices, request_keys, strict=True)):
                # a duplicate request in the same call shares the answer, for free
                results[index] = result if n == 0 else _duplicate(result, request_key, cost)

    def _cache_rows(
        self, item: PreparedRequest, result: ChatResult, cost: float
    ) -> list[tuple[str, str, str, CachedResponse]]:
        """The cache row for a result worth keeping (:data:`CACHEABLE_STATUSES`), else none."""
        if result.status not in CACHEABLE_STATUSES:
            return []
        stored_extra = {k: v for k, v in result.extra.items() if k != "cache_key"}
        stored = CachedResponse(
            key=item.key,
            text=result.text,
            status=result.status,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=cost,
            latency_s=result.latency_s,
            extra=stored_extra,
        )
        return [(item.key, self.backend, self.model, stored)]

    def _spend_rows(
        self, stage: str, item: PreparedRequest, result: ChatResult, cost: float
    ) -> list[SpendRow]:
        """The spend-log row of a paid answer (free answers log nothing)."""
        if not cost > 0:
            return []
        return [
            SpendRow(
                run_id=self.budget.run_id,
                session_id=self.session_id,
                stage=stage,
                key=item.key,
                status=result.status,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                cost_usd=cost,
            )
        ]

    def _worst_case_usd(self, item: PreparedRequest) -> float:
        """The most ``item`` can cost: its prompt estimate and a completion of ``max_tokens``
        or of the longest completion seen (a server may ignore ``max_tokens``)."""
        cap = max(item.max_tokens or self.config.max_tokens or 0, self._completion_seen)
        return usd(self._price, item.prompt_tokens_estimate, cap, self._discount)

    def _round_size(self, n_todo: int) -> int:
        """Requests sent before admission looks at the spend again: under a budget at most
        ``teacher.concurrency`` (what can be in flight at once; a batch job is one round)."""
        if self.config.max_cost_usd is None or self.backend == "openai_batch":
            return n_todo
        return self.config.concurrency

    def _admissible(self, todo: Sequence[PreparedRequest]) -> int:
        """How many of ``todo`` (a prefix) fit under the budget in their worst case."""
        if self.config.max_cost_usd is None:
            return len(todo)
        remaining = self.config.max_cost_usd - self.budget.spent_usd
        total, n = 0.0, 0
        for item in todo:
            cost = self._worst_case_usd(item)
            if total + cost > remaining + 1e-12:
                break
            total += cost
            n += 1
        return n

    def _budget_error(
        self, stage: str, todo: Sequence[PreparedRequest], results: list[ChatResult | None]
    ) -> BudgetExceededError:
        spent = self.budget.spent_usd
        budget = self.config.max_cost_usd or 0.0
        done = sum(r is not None for r in results)
        next_cost = self._worst_case_usd(todo[0])
        remaining = sum(self._worst_case_usd(item) for item in todo)
        if self.cache.writable:
            kept = (
                f"All {done} answers so far are stored in the response cache "
                f"({self.cache.path}) and will not be paid for again."
            )
        else:
            kept = (
                f"WARNING: teacher.cache.mode is {self.cache.mode!r}, so answers are not "
                "stored; use read_write to keep what you pay for."
            )
        error = BudgetExceededError(
            f"teacher budget reached in stage {stage!r}: ${spent:.4f} spent in this run of "
            f"teacher.max_cost_usd=${budget:.4f} (this stage: "
            f"${self.ledger.stage(stage).cost_usd:.4f}); the next request could cost up to "
            f"${next_cost:.4f}, so {len(todo)} distinct requests were not sent. {kept} "
            f"The unsent requests could cost up to ${remaining:.4f} (every answer at "
            "max_tokens). To resume, rerun the same command with a budget that covers them, "
            f"e.g. `--params teacher.max_cost_usd={suggest_budget(remaining, budget):g}`: "
            "cached answers are reused for free and only the missing requests are sent."
        )
        error.results = list(results)  # type: ignore[attr-defined]
        error.spent_usd = spent  # type: ignore[attr-defined]
        error.max_cost_usd = budget  # type: ignore[attr-defined]
        error.n_unsent = len(todo)  # type: ignore[attr-defined]
        return error
