"""Requests as the engine sends them: effective sampling parameters and a cache key.

The key covers everything that changes an answer (backend, model, messages, sampling
parameters, structured-output schema, extra body, backend material such as the simulated
teacher's settings), so equal requests share one answer and one payment. Repeats of a
request sampled at a temperature above zero get their own keys (``occurrence``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zeroshot_distill.teachers.base import ChatRequest
from zeroshot_distill.teachers.cache import cache_key
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.ledger import CONSERVATIVE_CHARS_PER_TOKEN, estimate_prompt_tokens

CACHE_KEY_VERSION = 1


class _KeyedBackend(Protocol):
    """What a request's cache key needs of a backend."""

    name: str
    model: str

    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class PreparedRequest:
    """A request with its effective sampling parameters and cache key."""

    request: ChatRequest
    key: str
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int | None
    top_p: float | None
    seed: int | None
    response_format: dict[str, Any] | None
    prompt_tokens_estimate: int
    extra: dict[str, Any] = field(default_factory=dict)


def _messages(request: ChatRequest) -> list[dict[str, str]]:
    """The chat messages as plain role/content dicts; a malformed message names its request."""
    out = []
    for i, message in enumerate(request.messages):
        if "role" not in message or "content" not in message:
            raise ValueError(
                f"request {request.key!r}: message {i} needs 'role' and 'content', "
                f"got keys {sorted(message)}"
            )
        out.append({"role": str(message["role"]), "content": str(message["content"])})
    return out


def prepare_requests(
    requests: Sequence[ChatRequest], config: TeacherConfig, backend: _KeyedBackend
) -> list[PreparedRequest]:
    """Every request prepared; the n-th repeat of a request sampled above temperature 0 gets
    ``occurrence`` n, so that repeats are answered (and paid for) separately."""
    occurrences: dict[str, int] = {}
    prepared = []
    for request in requests:
        item = prepare_request(request, config, backend, 0)
        if item.temperature > 0:
            k = occurrences.get(item.key, 0)
            occurrences[item.key] = k + 1
            if k:
                item = prepare_request(request, config, backend, k)
        prepared.append(item)
    return prepared


def prepare_request(
    request: ChatRequest, config: TeacherConfig, backend: _KeyedBackend, occurrence: int = 0
) -> PreparedRequest:
    """The request with the teacher's defaults filled in and its cache key."""
    cfg = config
    messages = _messages(request)
    temperature = cfg.temperature if request.temperature is None else request.temperature
    max_tokens = cfg.max_tokens if request.max_tokens is None else request.max_tokens
    seed = cfg.seed if request.seed is None else request.seed
    response_format = (
        dict(request.response_format) if request.response_format and cfg.structured_output else None
    )
    payload: dict[str, Any] = {
        "v": CACHE_KEY_VERSION,
        "backend": backend.name,
        "model": backend.model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "top_p": cfg.top_p,
        "seed": seed,
        "response_format": response_format,
        "extra_body": cfg.extra_body,
    }
    material = backend.cache_material(request)
    if material:
        payload["backend_material"] = dict(material)
    if occurrence:
        payload["occurrence"] = occurrence
    return PreparedRequest(
        request=request,
        key=cache_key(payload),
        messages=messages,
        temperature=float(temperature),
        max_tokens=max_tokens,
        top_p=cfg.top_p,
        seed=seed,
        response_format=response_format,
        prompt_tokens_estimate=estimate_prompt_tokens(messages, CONSERVATIVE_CHARS_PER_TOKEN),
    )
