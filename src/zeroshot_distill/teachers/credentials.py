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

Error texts, logs and stored data go through :func:`redact`, which removes registered keys,
anything shaped like an OpenAI key and the credentials inside URLs.

Parameters never carry a secret: :func:`secret_parameters` finds a parameter named like one
(``api_key``, ``token``, ``password``, ...), a value shaped like a key, or a URL with
credentials in it (``user:KEY@host``, ``?key=KEY``, ``&sig=...``). The project's config
loader refuses such parameters when it reads them (``settings.ProjectConfigLoader``), before
any hook, kedro-mlflow's included, logs a parameter or the ``runtime_params`` tag. URL
credentials are refused rather than moved into a header: the key's one place is the
credentials entry or the environment variable, from where it is sent as the
``Authorization: Bearer`` header.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl, urlsplit

from zeroshot_distill.teachers.config import TeacherConfig, TeacherConfigError

_KEYS: dict[str, str] = {}
_LOCK = threading.Lock()
_KEY_SHAPE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")
# A parameter whose name says it holds a secret (`api_key_env` names a variable and
# `max_tokens` counts tokens: neither matches), and the query keys of a URL that do.
SECRET_NAME = re.compile(
    r"^(?:.*[_.-])?(?:api[_-]?key|apikey|secret|client[_-]?secret|secret[_-]?key|"
    r"access[_-]?key|private[_-]?key|password|passwd|token|access[_-]?token|auth[_-]?token|"
    r"bearer)$",
    re.IGNORECASE,
)
SECRET_QUERY_NAME = re.compile(
    rf"{SECRET_NAME.pattern}|^(?:key|auth|authorization|sig|signature|code|"
    r"x-amz-signature|x-amz-credential|x-goog-signature)$",
    re.IGNORECASE,
)
# scheme://user:password@host and ?name=value pairs inside any text.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")
_URL_QUERY_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&\s#]+)=(?P<value>[^&\s#]*)")
KEYS_GO_TO = (
    "API keys go in conf/local/credentials.yml (`openai: {api_key: ...}`, git-ignored, read "
    "under every --env, with teacher.credentials: openai) or in the environment variable "
    "named by teacher.api_key_env (default OPENAI_API_KEY); the teacher sends it as the "
    "Authorization header and it is never logged"
)


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
    """``text`` with the given secrets, every registered key, key-shaped tokens and the
    credentials inside URLs (:func:`redact_urls`) removed."""
    if text is None:
        return None
    with _LOCK:
        known = [*_KEYS.values()]
    for secret in (*secrets, *known):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return redact_urls(_KEY_SHAPE.sub(r"\1-***", text))


def redact_urls(text: str) -> str:
    """``scheme://user:pw@host/p?key=K&x=1`` -> ``scheme://***@host/p?key=***&x=1``."""
    text = _URL_USERINFO.sub(r"\g<scheme>***@", text)

    def query(match: re.Match[str]) -> str:
        if not SECRET_QUERY_NAME.match(match["name"]) or not match["value"]:
            return match[0]
        return f"{match['sep']}{match['name']}=***"

    return _URL_QUERY_PAIR.sub(query, text) if "://" in text else text


def url_credentials(url: str) -> list[str]:
    """What in ``url`` is a credential: ``user:password@`` and secret-named query keys."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    if not parts.scheme or not parts.netloc:
        return []
    found = ["user:password@" if parts.password else "user@"] if "@" in parts.netloc else []
    found += [
        f"?{name}="
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if value and SECRET_QUERY_NAME.match(name)
    ]
    return found


def secret_parameters(params: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted parameter name, why it is a secret)`` for every parameter that holds one:
    a string value under a secret-like name, a key-shaped value, a URL with credentials."""
    for name, value in params.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from secret_parameters(value, f"{path}.")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from secret_parameters(item, f"{path}.{i}.")
                elif isinstance(item, str):
                    yield from _secret_value(f"{path}.{i}", str(name), item)
        elif isinstance(value, str):
            yield from _secret_value(path, str(name), value)


class SecretParameterError(TeacherConfigError):
    """A parameter holds a secret; raised while parameters are read, before any logging."""


def refuse_secret_parameters(
    params: Mapping[str, object], runtime: Mapping[str, object] | None = None
) -> None:
    """Raise :class:`SecretParameterError` naming every parameter that holds a secret (and
    whether it came from ``--params``), never the secret itself, and where keys go."""
    found = list(secret_parameters(params))
    if not found:
        return
    from_cli = {path for path, _ in secret_parameters(runtime or {})}
    named = "; ".join(
        f"{path} ({'--params' if path in from_cli else 'a parameter file'}): {why}"
        for path, why in found
    )
    raise SecretParameterError(
        f"parameters must not hold secrets (they are logged to MLflow and the console), "
        f"refused before anything was logged: {named}. {KEYS_GO_TO}. A URL takes no "
        "credentials (user:password@ or ?key=): remove them from it."
    )


def _secret_value(path: str, name: str, value: str) -> Iterator[tuple[str, str]]:
    if not value.strip() or name.startswith("_"):
        return
    if SECRET_NAME.match(name):
        yield path, "its name says it holds a secret"
    elif _KEY_SHAPE.search(value):
        yield path, "its value is shaped like an API key"
    elif credentials := url_credentials(value):
        yield path, f"the URL carries credentials ({', '.join(credentials)})"
