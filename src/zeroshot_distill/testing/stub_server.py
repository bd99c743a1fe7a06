"""A local OpenAI-compatible HTTP server for tests, benchmarks and offline demos.

Real HTTP on ``127.0.0.1`` (an ephemeral port), so the ``openai`` client, its retries,
timeouts and connection pool are exercised exactly as against a real endpoint. Stdlib only.

Usage::

    from zeroshot_distill.testing.stub_server import FaultRule, StubReply, StubServer

    def answer(body: dict) -> str:            # the chat completion request body
        return "The premise says so.\\nAnswer: entailment"

    with StubServer(answer_fn=answer, latency_s=0.05,
                    faults=[FaultRule("rate_limit", match="ROW-3", retry_after_s=0.2)]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test")
        ...
        server.chat_requests()                # log of POST /v1/chat/completions, in order
        server.prompts()                      # the last user message of each of them

API
  * ``StubServer(answer_fn=None, *, latency_s=0.0, faults=(), model="stub-model",
    api_key=None, batch_polls=1, structured=("json_object", "json_schema", "guided_json"),
    ignore_max_tokens=False)``:
    a context manager (``start()`` / ``stop()`` also work). A request whose
    ``response_format`` type (or ``guided_json`` field) is not in ``structured`` gets a 400
    that names ``response_format``, as servers without structured output answer.
    ``base_url`` is ``http://127.0.0.1:<port>/v1``. An answer longer than the request's
    ``max_tokens`` is cut there (``finish_reason="length"``) unless ``ignore_max_tokens``
    plays a server that bills whatever it generates.
  * ``answer_fn(body) -> str | StubReply``: the assistant's answer. A :class:`StubReply`
    sets ``finish_reason``, ``refusal`` or the token counts explicitly. The default answers
    with a fixed rationale and ``Answer: stub`` (JSON when ``response_format`` asks for it).
  * ``faults``: :class:`FaultRule` list; the first rule that matches a request and has not
    been used up *for that request body* applies (``times=1``: only the first attempt of
    each matching request fails, so the client's retry then succeeds). Kinds:
    ``rate_limit`` (429 + ``Retry-After``), ``server_error`` (500), ``hang`` (no answer for
    ``hang_s`` seconds, past the client's timeout), ``malformed`` (200 with a broken JSON
    body), ``truncated`` (half the answer, ``finish_reason="length"``), ``refusal``
    (``message.refusal`` set, no content), ``content_filter`` (``finish_reason=
    "content_filter"``), ``no_usage`` (a normal answer without ``usage``).
  * ``requests``: every request received (:class:`StubRequest`: method, path, body,
    prompt, attempt number for that body, fault applied, HTTP status, timings, whether
    the bearer token matched ``api_key``). Thread-safe; ``reset_log()`` clears it.
  * The Batch API subset the ``openai_batch`` backend uses: ``POST /v1/files``,
    ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/files/{id}/content``, and the
    listings ``GET /v1/files`` and ``GET /v1/batches``. A batch reports ``in_progress`` for
    ``batch_polls`` polls, then ``completed``. ``batch_api=False`` plays a server without
    that API (like vLLM or Ollama): its routes answer 404, an upload 400 ``bad json``.
  * ``GET /_stub/stats`` -> ``{"n_requests": …, "n_chat": …}`` (for a server in another
    process: ``python -m zeroshot_distill.testing.stub_server --latency 0.2`` prints its
    base URL and serves until killed; :class:`StubServerProcess` wraps that).

The handler sets ``disable_nagle_algorithm = True`` and speaks HTTP/1.1 keep-alive: without
the first, every response costs ~40 ms of delayed-ACK wait.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "hang",
    "malformed",
    "truncated",
    "refusal",
    "content_filter",
    "no_usage",
]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True)
class StubReply:
    """An answer with explicit metadata (``answer_fn`` may return this instead of a str)."""

    text: str | None
    finish_reason: str = "stop"
    refusal: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class FaultRule:
    """Inject a fault into matching chat requests.

    ``match``: a substring of the request's last user message, a predicate on the request
    body, or ``None`` (every chat request). ``times``: how many attempts of each distinct
    request body fail (``None``: all of them).
    """

    kind: FaultKind
    match: str | Callable[[Mapping[str, Any]], bool] | None = None
    times: int | None = 1
    retry_after_s: float = 0.1
    hang_s: float = 30.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")

    def matches(self, body: Mapping[str, Any], prompt: str) -> bool:
        """Whether this rule applies to a request (ignoring ``times``)."""
        if self.match is None:
            return True
        if isinstance(self.match, str):
            return self.match in prompt
        return bool(self.match(body))


@dataclass
class StubRequest:
    """One request the server received."""

    method: str
    path: str
    body: Any
    prompt: str
    attempt: int
    fault: str | None
    status: int
    started: float
    finished: float
    authorized: bool


def default_answer(body: Mapping[str, Any]) -> str:
    """A fixed answer; JSON when the request asks for a JSON response format."""
    rationale = "The stub server read the question and gives a fixed answer."
    if body.get("response_format"):
        return json.dumps({"rationale": rationale, "answer": "stub"})
    return f"{rationale}\nAnswer: stub"


def last_user_message(body: Mapping[str, Any]) -> str:
    """The content of the last ``user`` message of a chat request body ('' if none)."""
    for message in reversed(list(body.get("messages") or [])):
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _count_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


#: Structured-output forms the stub accepts by default; pass ``structured=()`` to refuse all.
STRUCTURED_KINDS = ("json_object", "json_schema", "guided_json")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line."""

    # ------------------------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, payload: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True

    def _json(self, status: int, obj: Any, **headers: str) -> None:
        self._send(status, json.dumps(obj).encode(), **headers)

    def _authorized(self) -> bool:
        expected = self.server.stub.api_key
        if expected is None:
            return True
        return self.headers.get("Authorization") == f"Bearer {expected}"

    # ------------------------------------------------------------------------------- routing
    def do_GET(self) -> None:
        """Batch status, file content and the stats endpoint."""
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        """Chat completions, file upload and batch creation."""
        self._dispatch("POST", self._read_body())

    def _dispatch(self, method: str, raw: bytes) -> None:
        stub = self.server.stub
        started = time.perf_counter()
        path = self.path.split("?", 1)[0].rstrip("/")
        authorized = self._authorized()
        record = StubRequest(method, path, None, "", 0, None, 200, started, started, authorized)
        if path != "/_stub/stats":
            stub._log(record)  # logged on arrival (a hanging request shows up at once)
        try:
            if path == "/_stub/stats":
                self._json(200, stub.stats())
                return
            if not authorized:
                record.status = 401
                self._json(
                    401,
                    {
                        "error": {
                            "message": "Incorrect API key provided.",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
                return
            if method == "POST" and path.endswith("/chat/completions"):
                self._chat(raw, record)
            elif not stub.batch_api and ("/files" in path or "/batches" in path):
                record.status = 400 if method == "POST" and path.endswith("/files") else 404
                message = "bad json" if record.status == 400 else f"no route {method} {path}"
                self._json(record.status, {"error": {"message": message}})
            elif method == "GET" and (path.endswith("/files") or path.endswith("/batches")):
                kind = "files" if path.endswith("/files") else "batches"
                with stub._lock:
                    ids = list(stub.files if kind == "files" else stub.batches)
                self._json(200, {"object": "list", "data": [{"id": i} for i in ids[-1:]]})
            elif method == "POST" and path.endswith("/files"):
                record.status = stub._upload_file(self, raw)
            elif method == "POST" and path.endswith("/batches"):
                record.body = json.loads(raw or b"{}")
                record.status = stub._create_batch(self, record.body)
            elif method == "GET" and "/batches/" in path:
                record.status = stub._get_batch(self, path.rsplit("/", 1)[1])
            elif method == "GET" and path.endswith("/content") and "/files/" in path:
                record.status = stub._file_content(self, path.split("/")[-2])
            else:
                record.status = 404
                self._json(404, {"error": {"message": f"no route {method} {path}"}})
        finally:
            record.finished = time.perf_counter()

    # ---------------------------------------------------------------------------------- chat
    def _chat(self, raw: bytes, record: StubRequest) -> None:
        stub = self.server.stub
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            record.status = 400
            self._json(400, {"error": {"message": "request body is not JSON"}})
            return
        record.body = body
        record.prompt = last_user_message(body)
        refused = stub._refused_structure(body)
        if refused is not None:
            record.status = 400
            self._json(
                400,
                {
                    "error": {
                        "message": f"{refused} is not supported by this server (stub)",
                        "type": "invalid_request_error",
                        "param": refused.split(" ")[0],
                    }
                },
            )
            return
        fault, record.attempt = stub._pick_fault(body, record.prompt)
        record.fault = fault.kind if fault else None
        if stub.latency_s > 0:
            time.sleep(stub.latency_s)
        if fault is not None and fault.kind == "rate_limit":
            record.status = 429
            self._json(
                429,
                {"error": {"message": "Rate limit reached (stub).", "type": "rate_limit"}},
                Retry_After=f"{fault.retry_after_s:g}",
            )
            return
        if fault is not None and fault.kind == "server_error":
            record.status = 500
            self._json(500, {"error": {"message": "Internal server error (stub)."}})
            return
        if fault is not None and fault.kind == "hang":
            stub._stopping.wait(fault.hang_s)
            record.status = 504
            self._json(504, {"error": {"message": "hung (stub)"}})
            return
        if fault is not None and fault.kind == "malformed":
            record.status = 200
            self._send(200, b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "mess')
            return
        self._json(200, stub._completion(body, fault))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    stub: StubServer


class StubServer:
    """An OpenAI-compatible chat server on 127.0.0.1 with latency and fault injection."""

    def __init__(
        self,
        answer_fn: Callable[[Mapping[str, Any]], str | StubReply] | None = None,
        *,
        latency_s: float = 0.0,
        faults: Sequence[FaultRule] = (),
        model: str = "stub-model",
        api_key: str | None = None,
        batch_polls: int = 1,
        batch_api: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        structured: Sequence[str] = STRUCTURED_KINDS,
        ignore_max_tokens: bool = False,
    ) -> None:
        self.answer_fn = answer_fn or default_answer
        self.ignore_max_tokens = bool(ignore_max_tokens)
        unknown = set(structured) - set(STRUCTURED_KINDS)
        if unknown:
            raise ValueError(f"unknown structured kinds {sorted(unknown)}; use {STRUCTURED_KINDS}")
        self.structured = tuple(structured)
        self.latency_s = float(latency_s)
        self.faults = list(faults)
        self.model = model
        self.api_key = api_key
        self.batch_polls = int(batch_polls)
        self.batch_api = bool(batch_api)
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._attempts: dict[str, int] = {}
        self._fault_uses: dict[tuple[int, str], int] = {}
        self.requests: list[StubRequest] = []
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> StubServer:
        """Bind and serve in a background thread."""
        self._httpd = _Server((self._host, self._port), _Handler)
        self._httpd.stub = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging handlers are released."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._httpd is None:
            raise RuntimeError("the stub server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, for ``openai.OpenAI(base_url=…)``."""
        return f"http://{self._host}:{self.port}/v1"

    def _refused_structure(self, body: Mapping[str, Any]) -> str | None:
        """What structured-output field of ``body`` this server refuses (``None``: none)."""
        fmt = body.get("response_format")
        if isinstance(fmt, Mapping) and fmt.get("type") not in self.structured:
            return f"response_format type {fmt.get('type')!r}"
        if "guided_json" in body and "guided_json" not in self.structured:
            return "guided_json"
        return None

    # ------------------------------------------------------------------------------- the log
    def _log(self, record: StubRequest) -> None:
        with self._lock:
            self.requests.append(record)

    def chat_requests(self) -> list[StubRequest]:
        """The chat completion requests received, in arrival order (retries included)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def prompts(self) -> list[str]:
        """The last user message of every chat completion request received."""
        return [r.prompt for r in self.chat_requests()]

    def reset_log(self) -> None:
        """Forget the request log and the per-body attempt counters."""
        with self._lock:
            self.requests.clear()
            self._attempts.clear()
            self._fault_uses.clear()

    def stats(self) -> dict[str, int]:
        """Counts of requests received (all and chat completions)."""
        with self._lock:
            n_chat = sum(r.path.endswith("/chat/completions") for r in self.requests)
            return {"n_requests": len(self.requests), "n_chat": n_chat}

    # -------------------------------------------------------------------------------- faults
    def _pick_fault(self, body: Mapping[str, Any], prompt: str) -> tuple[FaultRule | None, int]:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            attempt = self._attempts.get(digest, 0)
            self._attempts[digest] = attempt + 1
            for index, rule in enumerate(self.faults):
                if not rule.matches(body, prompt):
                    continue
                used = self._fault_uses.get((index, digest), 0)
                if rule.times is not None and used >= rule.times:
                    continue
                self._fault_uses[(index, digest)] = used + 1
                return rule, attempt
        return None, attempt

    # ---------------------------------------------------------------------------- answering
    def _reply(self, body: Mapping[str, Any]) -> StubReply:
        answer = self.answer_fn(body)
        return answer if isinstance(answer, StubReply) else StubReply(text=str(answer))

    def _completion(self, body: Mapping[str, Any], fault: FaultRule | None) -> dict[str, Any]:
        reply = self._reply(body)
        text, refusal, finish = reply.text, reply.refusal, reply.finish_reason
        kind = fault.kind if fault else None
        if kind == "truncated":
            text, finish = (text or "")[: max(1, len(text or "") // 2)], "length"
        elif kind == "refusal":
            text, refusal, finish = None, REFUSAL_TEXT, "stop"
        elif kind == "content_filter":
            text, finish = None, "content_filter"
        prompt_text = " ".join(
            str(m.get("content", "")) for m in body.get("messages") or [] if isinstance(m, Mapping)
        )
        prompt_tokens = reply.prompt_tokens or _count_tokens(prompt_text)
        completion_tokens = reply.completion_tokens or _count_tokens(text or refusal or "")
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if (
            max_tokens
            and not self.ignore_max_tokens
            and completion_tokens > int(max_tokens)
            and text is not None
        ):
            text, finish = text[: int(max_tokens) * 4], "length"
            completion_tokens = int(max_tokens)
        out: dict[str, Any] = {
            "id": f"chatcmpl-stub-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": refusal},
                    "finish_reason": finish,
                }
            ],
        }
        if kind != "no_usage":
            out["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        return out

    # ----------------------------------------------------------------------------- batch API
    def _upload_file(self, handler: _Handler, raw: bytes) -> int:
        content_type = handler.headers.get("Content-Type", "")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        content = b""
        filename = "upload.jsonl"
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True) or b""
                filename = part.get_filename() or filename
        file_id = f"file-stub-{next(self._ids)}"
        with self._lock:
            self.files[file_id] = content
        handler._json(
            200,
            {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": "batch",
                "status": "processed",
            },
        )
        return 200

    def _create_batch(self, handler: _Handler, body: Mapping[str, Any]) -> int:
        input_id = str(body.get("input_file_id"))
        if input_id not in self.files:
            handler._json(404, {"error": {"message": f"no file {input_id}"}})
            return 404
        batch_id = f"batch_stub_{next(self._ids)}"
        lines = [json.loads(x) for x in self.files[input_id].decode().splitlines() if x.strip()]
        outputs = []
        for line in lines:
            completion = self._completion(line.get("body") or {}, None)
            outputs.append(
                {
                    "id": f"batch_req_{next(self._ids)}",
                    "custom_id": line.get("custom_id"),
                    "response": {"status_code": 200, "request_id": "stub", "body": completion},
                    "error": None,
                }
            )
        output_id = f"file-stub-{next(self._ids)}"
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint", "/v1/chat/completions"),
            "input_file_id": input_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "created_at": int(time.time()),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "_polls": 0,
            "_output_file_id": output_id,
        }
        with self._lock:
            self.files[output_id] = "\n".join(json.dumps(o) for o in outputs).encode() + b"\n"
            self.batches[batch_id] = batch
        handler._json(200, self._public_batch(batch))
        return 200

    def _get_batch(self, handler: _Handler, batch_id: str) -> int:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is not None:
                batch["_polls"] += 1
                if batch["_polls"] > self.batch_polls:
                    total = batch["request_counts"]["total"]
                    batch["status"] = "completed"
                    batch["output_file_id"] = batch["_output_file_id"]
                    batch["request_counts"] = {"total": total, "completed": total, "failed": 0}
                else:
                    batch["status"] = "in_progress"
        if batch is None:
            handler._json(404, {"error": {"message": f"no batch {batch_id}"}})
            return 404
        handler._json(200, self._public_batch(batch))
        return 200

    @staticmethod
    def _public_batch(batch: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _file_content(self, handler: _Handler, file_id: str) -> int:
        with self._lock:
            content = self.files.get(file_id)
        if content is None:
            handler._json(404, {"error": {"message": f"no file {file_id}"}})
            return 404
        handler._send(200, content, content_type="application/octet-stream")
        return 200


class StubServerProcess:
    """A stub server in a child process (so that benchmarks do not share the client's GIL).

    ``with StubServerProcess(latency_s=0.2) as server: server.base_url; server.stats()``.
    The answer is :func:`default_answer`; faults are not available across processes.
    """

    def __init__(self, *, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> StubServerProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, "--latency", str(self.latency_s)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.base_url = self._proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self._proc.kill()
            raise RuntimeError("the stub server process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None

    def stats(self) -> dict[str, int]:
        """``/_stub/stats`` of the child server."""
        import urllib.request

        with urllib.request.urlopen(self.base_url.rsplit("/v1", 1)[0] + "/_stub/stats") as r:
            return dict(json.loads(r.read()))


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible stub server (127.0.0.1)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per chat request")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = StubServer(latency_s=args.latency, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        server.stop()


if __name__ == "__main__":
    _main()
