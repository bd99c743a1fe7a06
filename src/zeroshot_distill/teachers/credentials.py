"""Where a teacher's API key comes from, and how it is kept out of everything else.

Two sources, in this order:

1. ``conf/local/credentials.yml``, under the entry named by ``teacher.credentials``::

       openai:                 # teacher.credentials: openai
         api_key: sk-...

   The project's config loader (``settings.ProjectConfigLoader``) reads ``conf/local`` under
   every ``--env``; :class:`zeroshot_distill.teachers.hooks.TeacherRunHook`
   (``after_context_created``) hands the entry's ``api_key`` to :func:`register_api_key`, an
   in-process store. The key never becomes a parameter, so it never reaches the catalog,
   ``params:`` inputs or MLflow params.
2. The environment variable named by ``teacher.api_key_env`` (default ``OPENAI_API_KEY``).

Error texts, logs and stored data go through :func:`redact`, which removes registered keys
and anything shaped like an OpenAI key.
"""

from __future__ import annotations

import os
import re
import threading

from zeroshot_distill.teachers.config import TeacherConfig, TeacherConfigError

_KEYS: dict[str, str] = {}
_LOCK = threading.Lock()
_KEY_SHAPE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")


def register_api_key(name: str, key: str) -> None:
    """Make the key of credentials entry ``name`` available to :func:`resolve_api_key`."""
    if key:
        with _LOCK:
            _KEYS[name] = key


def forget_api_keys() -> None:
    """Drop every registered key (tests; end of a session)."""
    with _LOCK:
        _KEYS.clear()


def resolve_api_key(config: TeacherConfig) -> str | None:
    """The API key for ``config``, or ``None`` when the backend needs none.

    Raises :class:`TeacherConfigError` (before any request) when a key is required and
    neither source has it, saying where to put it.
    """
    if config.backend not in ("openai", "openai_batch"):
        return None
    if config.credentials:
        with _LOCK:
            key = _KEYS.get(config.credentials)
        if key:
            return key
    if config.api_key_env:
        key = os.environ.get(config.api_key_env, "").strip()
        if key:
            return key
    if not config.require_api_key:
        # Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) accept any token.
        return "not-needed"
    sources = []
    if config.api_key_env:
        sources.append(f"set the environment variable {config.api_key_env}")
    entry = config.credentials or "openai"
    sources.append(
        f"or put `{entry}: {{api_key: ...}}` in conf/local/credentials.yml (git-ignored, read "
        f"under every --env) with `teacher.credentials: {entry}`"
    )
    raise TeacherConfigError(
        f"teacher backend {config.backend!r} needs an API key and none was found: "
        + " ".join(sources)
        + ". For a local server that needs no key, set teacher.require_api_key: false."
    )


def redact(text: str | None, *secrets: str | None) -> str | None:
    """``text`` with the given secrets, every registered key and key-shaped tokens removed."""
    if text is None:
        return None
    with _LOCK:
        known = [*_KEYS.values()]
    for secret in (*secrets, *known):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPE.sub(r"\1-***", text)
