"""``openai_batch`` backend: the OpenAI Batch API, at its lower price.

The missing requests are written as JSONL, uploaded (``files.create(purpose="batch")``) and
submitted (``batches.create``); the job is polled until it ends and its output file is
downloaded. The job id is recorded in the response cache's ``batch_jobs`` table *as soon
as it exists*, under a fingerprint of exactly the requests it answers: a rerun (or a
restart after a crash) with the same missing requests resumes polling that job instead of
paying for a new one. ``teacher.batch.max_wait_s`` bounds the wait; past it the run stops
with :class:`BatchPendingError` and the job keeps running at OpenAI.

Many OpenAI-compatible servers (vLLM, Ollama, llama.cpp) serve chat completions but not
the Files and Batches endpoints: before the first upload the backend lists both
(``GET /files``, ``GET /batches``, nothing is paid) and stops with a plain
:class:`~zeroshot_distill.teachers.breaker.TeacherFatalError` when either is missing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import openai

from zeroshot_distill.teachers.base import ChatRequest, ChatResult
from zeroshot_distill.teachers.breaker import TeacherFatalError
from zeroshot_distill.teachers.cache import BatchJob, ResponseCache, cache_key
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.credentials import redact
from zeroshot_distill.teachers.engine import PreparedRequest, Sink
from zeroshot_distill.teachers.openai_backend import (
    MalformedResponseError,
    connection_failure,
    fatal_error,
    public_url,
    request_body,
    result_from_completion,
    unreachable_error,
)

logger = logging.getLogger(__name__)
ENDPOINT = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class BatchPendingError(RuntimeError):
    """A batch job is still running after ``teacher.batch.max_wait_s``; rerun to collect."""


class OpenAIBatchBackend:
    """Submit, poll and collect Batch API jobs; resume a job recorded in the cache."""

    name = "openai_batch"
    simulated = False

    def __init__(self, config: TeacherConfig, api_key: str | None, cache: ResponseCache) -> None:
        self.config = config
        self.model = config.model
        self._api_key = api_key
        self._cache = cache
        self._client: openai.OpenAI | None = None
        self._batch_api_checked = False

    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """Nothing beyond the request itself."""
        return None

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, str]]) -> int | None:
        """No local tokenizer."""
        return None

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _api(self) -> openai.OpenAI:
        if self._client is None:
            self._client = openai.OpenAI(
                api_key=self._api_key,
                base_url=self.config.base_url,
                organization=self.config.organization,
                timeout=self.config.timeout_s,
                max_retries=self.config.max_retries,
            )
        return self._client

    def run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        """One job per ``teacher.batch.max_requests_per_job`` items, each waited for."""
        if not self._cache.writable:
            logger.warning(
                "teacher.cache.mode is %r: the batch job id cannot be recorded, so a crash "
                "while waiting would lose the job",
                self._cache.mode,
            )
        size = self.config.batch.max_requests_per_job
        for start in range(0, len(items), size):
            self._run_job(items[start : start + size], sink)

    def _run_job(self, chunk: Sequence[PreparedRequest], sink: Sink) -> None:
        fingerprint = cache_key({"model": self.model, "requests": [it.key for it in chunk]})
        job = self._cache.get_batch_job(fingerprint)
        try:
            if job is None:
                job = self._submit(chunk, fingerprint)
            else:
                logger.info(
                    "resuming batch job %s (%d requests) recorded in %s",
                    job.batch_id,
                    job.n_requests,
                    self._cache.path,
                )
            batch = self._wait(job)
            answers = self._collect(batch)
        except (
            openai.AuthenticationError,
            openai.PermissionDeniedError,
            openai.NotFoundError,
        ) as err:
            raise fatal_error(err, self.config, self._api_key) from None
        latency = max(time.time() - float(getattr(batch, "created_at", 0) or 0), 0.0)
        per_item = latency / max(len(chunk), 1) if getattr(batch, "created_at", None) else 0.0
        for item in chunk:
            line = answers.get(item.key)
            sink(item, self._result(item, line, batch, per_item))
        self._cache.put_batch_job(replace(job, state="collected"))

    def _check_batch_api(self, api: openai.OpenAI) -> None:
        """Stop plainly, before uploading anything, when the endpoint lacks the Batch API."""
        if self._batch_api_checked:
            return
        url = public_url(self.config.base_url)
        for path in ("/files", "/batches"):
            try:
                api.get(path, cast_to=object, options={"params": {"limit": 1}})
            except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
                raise fatal_error(err, self.config, self._api_key) from None
            except openai.APIStatusError as err:
                if err.status_code in (429,) or err.status_code >= 500:
                    raise  # transient: the client retried already; let the run report it
                detail = redact(str(getattr(err, "message", err)), self._api_key)
                raise TeacherFatalError(
                    f"teacher endpoint {url} does not offer the Batch API that "
                    f"teacher.backend 'openai_batch' needs: GET {path} answered HTTP "
                    f"{err.status_code} ({detail}). Nothing was uploaded or paid. Use "
                    "teacher.backend: openai for this server (most local servers - vLLM, "
                    "Ollama, llama.cpp - have chat completions but no Files/Batches API)."
                ) from None
            except openai.APIConnectionError as err:
                failure = connection_failure(err)
                if failure is not None:
                    cause = redact(str(failure), self._api_key)
                    raise unreachable_error(self.config, cause) from None
                raise
        self._batch_api_checked = True

    def _submit(self, chunk: Sequence[PreparedRequest], fingerprint: str) -> BatchJob:
        api = self._api()
        self._check_batch_api(api)
        lines = []
        for item in chunk:
            body = request_body(self.config, item, response_format=True)
            body.update(self.config.extra_body)
            lines.append(
                json.dumps({"custom_id": item.key, "method": "POST", "url": ENDPOINT, "body": body})
            )
        data = ("\n".join(lines) + "\n").encode("utf-8")
        uploaded = api.files.create(file=("teacher_batch.jsonl", data), purpose="batch")
        batch = api.batches.create(
            input_file_id=uploaded.id,
            endpoint=ENDPOINT,
            completion_window=self.config.batch.completion_window,
            metadata={"source": "zeroshot-distill"},
        )
        job = BatchJob(
            fingerprint=fingerprint,
            batch_id=batch.id,
            input_file_id=uploaded.id,
            model=self.model,
            n_requests=len(chunk),
            state="submitted",
        )
        self._cache.put_batch_job(job)
        logger.info(
            "submitted batch job %s with %d requests; its id is recorded in %s, so a rerun "
            "resumes it instead of paying again",
            batch.id,
            len(chunk),
            self._cache.path,
        )
        return job

    def _wait(self, job: BatchJob) -> Any:
        api = self._api()
        started = time.monotonic()
        max_wait = self.config.batch.max_wait_s
        while True:
            batch = api.batches.retrieve(job.batch_id)
            if batch.status in TERMINAL:
                if batch.status != "completed":
                    logger.warning("batch job %s ended with status %s", job.batch_id, batch.status)
                return batch
            if max_wait is not None and time.monotonic() - started > max_wait:
                raise BatchPendingError(
                    f"batch job {job.batch_id} is still {batch.status!r} after "
                    f"{max_wait:g}s (teacher.batch.max_wait_s). It keeps running; its id is "
                    f"recorded in {self._cache.path}: rerun the same command later to collect "
                    "the answers without paying again."
                )
            time.sleep(self.config.batch.poll_interval_s)

    def _collect(self, batch: Any) -> dict[str, Mapping[str, Any]]:
        answers: dict[str, Mapping[str, Any]] = {}
        for attr in ("error_file_id", "output_file_id"):  # output wins over error lines
            file_id = getattr(batch, attr, None)
            if not file_id:
                continue
            content = self._api().files.content(file_id).read().decode("utf-8")
            for raw in content.splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    answers[str(line.get("custom_id"))] = line
        return answers

    def _result(
        self, item: PreparedRequest, line: Mapping[str, Any] | None, batch: Any, latency_s: float
    ) -> ChatResult:
        def error(message: str) -> ChatResult:
            return ChatResult(
                key=item.request.key,
                text=None,
                status="error",
                model=self.model,
                error=redact(message, self._api_key),
                extra={"batch_id": batch.id},
            )

        if line is None:
            return error(f"batch {batch.id} ({batch.status}) has no answer for this request")
        response = line.get("response") or {}
        if line.get("error") or int(response.get("status_code") or 0) != 200:
            detail = line.get("error") or (response.get("body") or {}).get("error")
            return error(f"batch {batch.id}: HTTP {response.get('status_code')}: {detail}")
        try:
            result = result_from_completion(response.get("body") or {}, item, self.model, latency_s)
        except MalformedResponseError as err:
            return error(f"batch {batch.id}: malformed answer: {err}")
        result.extra["batch_id"] = batch.id
        return result
