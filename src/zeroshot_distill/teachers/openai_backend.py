"""``openai`` backend: any OpenAI-compatible chat endpoint through the official client.

OpenAI, Azure OpenAI (``base_url`` of the deployment), vLLM, Ollama, llama.cpp server,
LM Studio. Async with bounded concurrency (``teacher.concurrency`` workers on one
``AsyncOpenAI`` client), optional requests/tokens-per-minute limits (``aiolimiter``), and
the client's own retry machinery for 408/409/429/5xx, connection errors and timeouts: it
backs off exponentially and honours ``Retry-After`` (``teacher.max_retries``,
``teacher.timeout_s``). A malformed response body is retried a few times with
``tenacity``. Requests go through the client's documented low-level ``post`` (same retry
and timeout machinery, no typed request/response models) over its aiohttp transport
(``teacher.http_client``); together they halve the client's CPU per request, which is
what lets 32 requests in flight at 200 ms latency reach > 0.9x the ideal 160 req/s on a
shared 2-core machine.
A single bad answer never raises: it becomes a result with status ``error`` (not cached,
so a rerun retries it) and an ``error_kind`` (``connection``, ``timeout``, ``http_500``,
``malformed``...) that the engine's circuit breaker reads. An endpoint that rejects every
request (401/403, unknown model) or cannot be reached at all (refused connection, unknown
host: probed once before the first request) stops the run at once with
:class:`~zeroshot_distill.teachers.breaker.TeacherFatalError`. With the aiohttp transport a
refused connection surfaces as ``APITimeoutError`` (cause ``ConnectTimeout``):
:func:`connection_failure` tells it from a real timeout by the cause chain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import openai
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from zeroshot_distill.teachers.base import ChatRequest, ChatResult
from zeroshot_distill.teachers.breaker import TeacherFatalError
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.credentials import redact
from zeroshot_distill.teachers.engine import PreparedRequest, Sink, run_sync
from zeroshot_distill.teachers.ledger import estimate_prompt_tokens, estimate_tokens
from zeroshot_distill.teachers.watchdog import EndpointWatch

logger = logging.getLogger(__name__)


class MalformedResponseError(ValueError):
    """The endpoint answered 200 with a body that is not a usable chat completion."""


#: Structured-output levels, strongest first; a server that refuses one gets the next.
STRUCTURED_LEVELS = ("requested", "json_object", "off")


def structured_output_fields(
    config: TeacherConfig, response_format: Mapping[str, Any] | None, level: str = "requested"
) -> dict[str, Any]:
    """The body fields that ask for structured output at ``level`` (none: ``{}``).

    A JSON-schema ``response_format`` goes out as is, as vLLM's ``guided_json`` or as JSON
    mode (``teacher.structured_output_mode``); ``json_object`` level sends JSON mode only.
    """
    if not response_format or level == "off":
        return {}
    is_schema = response_format.get("type") == "json_schema"
    if level == "json_object" or (is_schema and config.structured_output_mode == "json_object"):
        return {"response_format": {"type": "json_object"}}
    if is_schema and config.structured_output_mode == "guided_json":
        return {"guided_json": dict(response_format["json_schema"]["schema"])}
    return {"response_format": dict(response_format)}


def refuses_structured_output(err: Exception) -> bool:
    """Whether a 400 answer names the structured-output fields."""
    text = str(getattr(err, "message", "")) + " " + str(err)
    return any(k in text for k in ("response_format", "json_schema", "guided_json"))


def request_body(
    config: TeacherConfig,
    item: PreparedRequest,
    *,
    response_format: bool,
    level: str = "requested",
) -> dict:
    """The chat completion parameters for one request (shared with the batch backend)."""
    body: dict[str, Any] = {
        "model": config.model,
        "messages": item.messages,
        "temperature": item.temperature,
    }
    if item.max_tokens is not None:
        body[config.max_tokens_param] = item.max_tokens
    if item.top_p is not None:
        body["top_p"] = item.top_p
    if item.seed is not None:
        body["seed"] = item.seed
    if response_format:
        body.update(structured_output_fields(config, item.response_format, level))
    return body


def result_from_completion(
    completion: Mapping[str, Any], item: PreparedRequest, model: str, latency_s: float
) -> ChatResult:
    """A :class:`ChatResult` from a chat completion body (dict); raises
    :class:`MalformedResponseError` when it has no usable choice."""
    choices = completion.get("choices") if isinstance(completion, Mapping) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], Mapping):
        raise MalformedResponseError("the response has no choices")
    choice = choices[0]
    message = choice.get("message") or {}
    if not isinstance(message, Mapping):
        raise MalformedResponseError("the response's message is not an object")
    text = message.get("content")
    refusal = message.get("refusal")
    finish = choice.get("finish_reason")
    if refusal or finish == "content_filter":
        status = "refused"
        text = text or refusal
    elif finish == "length":
        status = "truncated"
    elif text is None:
        raise MalformedResponseError("the response's message has no content")
    else:
        status = "ok"
    usage = completion.get("usage") or {}
    extra: dict[str, Any] = {"finish_reason": finish}
    if usage.get("prompt_tokens") is not None:
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
    else:  # some local servers omit usage: estimate, and say so
        prompt_tokens = estimate_prompt_tokens(item.messages)
        completion_tokens = estimate_tokens(text or "")
        extra["usage_estimated"] = True
    return ChatResult(
        key=item.request.key,
        text=text,
        status=status,  # type: ignore[arg-type]
        model=str(completion.get("model") or model),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_s=latency_s,
        extra=extra,
    )


def fatal_error(err: Exception, config: TeacherConfig, api_key: str | None) -> TeacherFatalError:
    """A clear stop for errors that every further request would repeat."""
    status = getattr(err, "status_code", None)
    detail = redact(str(getattr(err, "message", err)), api_key) or ""
    endpoint = public_url(config.base_url)
    if status == 401:
        hint = (
            "the API key was rejected; check the key in "
            f"{config.api_key_env or 'the environment'} / conf/local/credentials.yml"
        )
    elif status == 403:
        hint = "the key may not use this model or endpoint"
    else:
        hint = f"is teacher.model {config.model!r} served at {endpoint}?"
    return TeacherFatalError(
        f"teacher endpoint {endpoint} answered HTTP {status}: {detail} ({hint}). "
        "Answers received so far are cached."
    )


def public_url(url: str | None) -> str:
    """``url`` without user info, query or fragment (where a key could hide)."""
    if not url:
        return "https://api.openai.com/v1"
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def connection_failure(err: BaseException) -> BaseException | None:
    """The exception in ``err``'s cause chain that says the endpoint could not be reached
    (refused, unknown host, unreachable network), or ``None`` (a real timeout, an answer).

    openai's aiohttp transport wraps a refused connection as ``APITimeoutError`` caused by
    ``ConnectTimeout`` caused by aiohttp's ``ClientConnectorError`` (an ``OSError``); httpx
    raises ``APIConnectionError`` caused by ``ConnectError``. A timeout is also an
    ``OSError`` subclass (``TimeoutError``) and is not a connection failure.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return current
        if type(current).__name__ == "ConnectError":  # httpx: connection could not be made
            return current
        current = current.__cause__ or current.__context__
    return None


def unreachable_error(config: TeacherConfig, cause: BaseException | str) -> TeacherFatalError:
    """One clear stop for an endpoint that cannot be reached."""
    url = public_url(config.base_url)
    return TeacherFatalError(
        f"teacher endpoint {url} cannot be reached ({cause}). Check that the server is "
        f"running and that teacher.base_url is right, e.g. `curl {url}/models`. "
        "Nothing was paid for the failed requests; answers received so far are cached."
    )


def _http_client(kind: str, watch: EndpointWatch) -> Any:
    """The async HTTP transport: aiohttp (about a third less CPU per request) or httpx,
    with ``watch``'s hooks on every attempt and every answer."""
    if kind == "aiohttp":
        try:
            import aiohttp  # noqa: F401  (openai's aiohttp transport needs it)
        except ImportError:
            logger.warning(
                "teacher.http_client is aiohttp but aiohttp is not installed; using httpx "
                "(pip install 'openai[aiohttp]')"
            )
        else:
            return openai.DefaultAioHttpClient(event_hooks=watch.event_hooks())
    return openai.DefaultAsyncHttpxClient(event_hooks=watch.event_hooks())


class OpenAIBackend:
    """Concurrent chat completions against an OpenAI-compatible endpoint."""

    name = "openai"
    simulated = False
    fail_fast = True  # answers stream in one by one: the circuit breaker may stop early

    def __init__(self, config: TeacherConfig, api_key: str | None) -> None:
        self.config = config
        self.model = config.model
        self._api_key = api_key
        self._response_format_ok = config.structured_output
        self._reachable = False  # set once the endpoint has answered anything
        self.endpoint = public_url(config.base_url)
        self._watch: EndpointWatch | None = None  # the current call's, for progress
        self._structured_level = 0 if config.structured_output else len(STRUCTURED_LEVELS) - 1

    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """Server-specific parameters change answers: they are part of the key already."""
        return None

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, str]]) -> int | None:
        """No local tokenizer: the ledger uses the API's ``usage``."""
        return None

    def close(self) -> None:
        """Nothing to release (a client lives only during ``run``)."""

    def progress_note(self) -> str:
        """Retries and failures of the current call so far (``""`` when none)."""
        return self._watch.progress_note() if self._watch is not None else ""

    def _client(self, watch: EndpointWatch) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self.config.base_url,
            organization=self.config.organization,
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
            http_client=_http_client(self.config.http_client, watch),
        )

    def run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        """Answer ``items`` with ``teacher.concurrency`` concurrent workers."""
        if items:
            run_sync(lambda: self._run(items, sink))

    async def _run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        cfg = self.config
        rpm = AsyncLimiter(cfg.requests_per_minute, 60) if cfg.requests_per_minute else None
        tpm = AsyncLimiter(cfg.tokens_per_minute, 60) if cfg.tokens_per_minute else None
        pending = iter(items)
        watch = EndpointWatch(self.endpoint, cfg.timeout_s, cfg.on_silent_endpoint)
        self._watch = watch
        client = self._client(watch)
        if not self._reachable:
            try:
                await self._probe(client)
            except BaseException:
                await client.close()
                raise

        async def worker() -> None:
            for item in pending:  # a shared iterator: each item goes to one worker
                if rpm is not None:
                    await rpm.acquire()
                if tpm is not None and cfg.tokens_per_minute:
                    tokens = item.prompt_tokens_estimate + (item.max_tokens or 0)
                    await tpm.acquire(min(float(tokens), cfg.tokens_per_minute))
                watch.request_started()
                result = await self._one(client, item)
                watch.request_ended(failed=result.status == "error")
                sink(item, result)

        tasks = [asyncio.ensure_future(worker()) for _ in range(min(cfg.concurrency, len(items)))]
        workers = asyncio.gather(*tasks)
        watcher = asyncio.ensure_future(watch.watch())
        try:
            await asyncio.wait({workers, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if watcher.done():
                watcher.result()  # a silent endpoint: raises SilentEndpointError
            await workers
        except BaseException:  # a fatal error (or Ctrl-C): stop the other workers too
            workers.cancel()
            await asyncio.wait(tasks)
            if workers.done() and not workers.cancelled():
                workers.exception()  # retrieved: the error raised here is the one that counts
            raise
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await client.close()

    async def _probe(self, client: openai.AsyncOpenAI) -> None:
        """Fail in a second, not after every request's retries, when nothing listens.

        One ``GET /models`` with a single retry: any HTTP answer (even 401 or 404) or a
        slow one proves the endpoint is reachable; only a connection failure stops the run.
        """
        try:
            await client.with_options(max_retries=1, timeout=min(self.config.timeout_s, 10.0)).get(
                "/models", cast_to=object
            )
        except openai.APIStatusError:
            pass
        except openai.APIConnectionError as err:  # APITimeoutError is a subclass
            failure = connection_failure(err)
            if failure is not None:
                raise unreachable_error(self.config, redact(str(failure), self._api_key)) from None
            return  # a real timeout: the server may only be slow; requests will tell
        except Exception:  # an odd body from /models: reachable
            pass
        self._reachable = True

    def _transport_error(
        self, item: PreparedRequest, started: float, err: openai.APIConnectionError
    ) -> ChatResult:
        """A timeout or a connection failure, told apart by the cause chain."""
        failure = connection_failure(err)
        if failure is not None:
            return self._error(
                item,
                started,
                f"connection failed after {self.config.max_retries} retries: {failure}",
                kind="connection",
            )
        if isinstance(err, openai.APITimeoutError):
            return self._error(
                item,
                started,
                f"timed out after {self.config.timeout_s:g}s ({self.config.max_retries} retries)",
                kind="timeout",
            )
        message = f"connection error after retries: {err}"
        return self._error(item, started, message, kind="connection")

    async def _one(self, client: openai.AsyncOpenAI, item: PreparedRequest) -> ChatResult:
        started = time.perf_counter()
        try:
            result = await self._attempts(client, item, started)
            self._reachable = True
            return result
        except (
            openai.AuthenticationError,
            openai.PermissionDeniedError,
            openai.NotFoundError,
        ) as err:
            raise fatal_error(err, self.config, self._api_key) from None
        except openai.BadRequestError as err:
            if self._downgrade_structured_output(err, item):
                return await self._one(client, item)
            message = f"HTTP 400: {getattr(err, 'message', err)}"
            return self._error(item, started, message, kind="http_400")
        except openai.APIStatusError as err:
            message = getattr(err, "message", err)
            return self._error(
                item,
                started,
                f"HTTP {err.status_code} after retries: {message}",
                kind=f"http_{err.status_code}",
            )
        except openai.APIConnectionError as err:  # APITimeoutError is a subclass
            return self._transport_error(item, started, err)
        except (
            MalformedResponseError,
            json.JSONDecodeError,
            openai.APIResponseValidationError,
        ) as e:
            return self._error(item, started, f"malformed response: {e}", kind="malformed")
        except asyncio.CancelledError:
            raise
        except Exception as err:  # one row's bad luck must not end the run
            return self._error(item, started, f"{type(err).__name__}: {err}", kind="other")

    async def _attempts(
        self, client: openai.AsyncOpenAI, item: PreparedRequest, started: float
    ) -> ChatResult:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(
                (MalformedResponseError, json.JSONDecodeError, openai.APIResponseValidationError)
            ),
            stop=stop_after_attempt(1 + self.config.malformed_retries),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                level = STRUCTURED_LEVELS[self._structured_level]
                body = request_body(self.config, item, response_format=True, level=level)
                body.update(self.config.extra_body)
                # The client's documented low-level call: the same retries, back-off,
                # Retry-After and timeouts as `chat.completions.create`, without its typed
                # request transform and response models (most of its CPU per request).
                try:
                    completion = await client.post("/chat/completions", body=body, cast_to=object)
                except openai.BadRequestError as err:
                    err.structured_level = level  # type: ignore[attr-defined]
                    raise
                result = result_from_completion(
                    completion, item, self.model, time.perf_counter() - started
                )
                if item.response_format:
                    result.extra["structured_output"] = level
                    result.extra["structured_fallback"] = (
                        level != "requested" and self.config.structured_output
                    )
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _downgrade_structured_output(self, err: Exception, item: PreparedRequest) -> bool:
        """After a 400 that names the structured-output fields: the next weaker level for
        this and every later request (``True``), else ``False`` (a real bad request)."""
        last = len(STRUCTURED_LEVELS) - 1
        if not item.response_format or not refuses_structured_output(err):
            return False
        used = getattr(err, "structured_level", STRUCTURED_LEVELS[self._structured_level])
        if STRUCTURED_LEVELS.index(used) < self._structured_level:
            return True  # another request already stepped down: retry at the new level
        if self._structured_level >= last:
            return False
        refused = STRUCTURED_LEVELS[self._structured_level]
        self._structured_level += 1
        weaker = structured_output_fields(self.config, item.response_format, "json_object")
        if self._structured_level == 1 and weaker == structured_output_fields(
            self.config, item.response_format
        ):
            self._structured_level = last  # JSON mode itself was refused
        self._response_format_ok = self._structured_level < last
        logger.warning(
            "the endpoint refuses structured output (%s level: %s); sending %s from now on "
            "(teacher.structured_output_mode / structured_output: false skip this)",
            refused,
            redact(str(getattr(err, "message", err)), self._api_key),
            "JSON mode" if self._response_format_ok else "free-text requests",
        )
        return True

    def _error(
        self, item: PreparedRequest, started: float, message: str, *, kind: str
    ) -> ChatResult:
        return ChatResult(
            key=item.request.key,
            text=None,
            status="error",
            model=self.model,
            latency_s=time.perf_counter() - started,
            error=redact(message, self._api_key),
            extra={"error_kind": kind},
        )
