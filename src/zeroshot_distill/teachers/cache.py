"""A persistent SQLite response cache (and the Batch API job register).

One row per answered request, keyed by a SHA-256 of the backend, model, messages and
sampling parameters (:func:`cache_key`). The API key is never part of the key nor stored.
Answers are committed as they arrive, so a run killed half-way keeps everything it paid
for; the database runs in WAL mode with a busy timeout so that several processes (two
``kedro run`` at once) and threads can share it.

Modes: ``read_write`` (default), ``read_only`` (reads, never writes: e.g. a shared cache
on a read-only mount) and ``off`` (no file at all).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeroshot_distill.teachers.config import CacheMode

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT,
    status TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    latency_s REAL NOT NULL,
    extra TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_jobs (
    fingerprint TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    input_file_id TEXT NOT NULL,
    model TEXT NOT NULL,
    n_requests INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""
_CHUNK = 500  # SQLite host-parameter limit is 999 on old builds


def cache_key(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (backend, model, messages, sampling)."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    """A stored answer."""

    key: str
    text: str | None
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    extra: dict[str, Any]


@dataclass(frozen=True)
class BatchJob:
    """A submitted Batch API job, persisted so that a rerun resumes it."""

    fingerprint: str
    batch_id: str
    input_file_id: str
    model: str
    n_requests: int
    state: str


class ResponseCache:
    """SQLite-backed store of teacher answers. Thread-safe (one connection per thread)."""

    def __init__(self, path: str | Path, mode: CacheMode = "read_write") -> None:
        self.mode: CacheMode = mode
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if mode == "off":
            return
        if mode == "read_write":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.executescript(SCHEMA)
            conn.commit()

    # ------------------------------------------------------------------------- connections
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self.mode == "read_only":
                conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False
                )
            else:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this cache opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @property
    def readable(self) -> bool:
        """Whether lookups can hit (mode is not ``off`` and, read-only, the file exists)."""
        if self.mode == "off":
            return False
        return self.mode == "read_write" or self.path.exists()

    @property
    def writable(self) -> bool:
        """Whether answers are stored."""
        return self.mode == "read_write"

    # ------------------------------------------------------------------------------ answers
    def get_many(self, keys: Iterable[str]) -> dict[str, CachedResponse]:
        """The stored answers among ``keys`` (missing keys are absent from the result)."""
        if not self.readable:
            return {}
        unique = list(dict.fromkeys(keys))
        found: dict[str, CachedResponse] = {}
        conn = self._conn()
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT key, text, status, prompt_tokens, completion_tokens, cost_usd, "
                f"latency_s, extra FROM responses WHERE key IN ({marks})",
                chunk,
            ).fetchall()
            for row in rows:
                found[row[0]] = CachedResponse(
                    key=row[0],
                    text=row[1],
                    status=row[2],
                    prompt_tokens=int(row[3]),
                    completion_tokens=int(row[4]),
                    cost_usd=float(row[5]),
                    latency_s=float(row[6]),
                    extra=json.loads(row[7]),
                )
        return found

    def put_many(self, rows: Sequence[tuple[str, str, str, CachedResponse]]) -> None:
        """Store ``(key, backend, model, response)`` rows in one transaction."""
        if not self.writable or not rows:
            return
        now = time.time()
        conn = self._conn()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO responses (key, backend, model, text, status, "
                "prompt_tokens, completion_tokens, cost_usd, latency_s, extra, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        backend,
                        model,
                        r.text,
                        r.status,
                        r.prompt_tokens,
                        r.completion_tokens,
                        r.cost_usd,
                        r.latency_s,
                        json.dumps(r.extra, sort_keys=True),
                        now,
                    )
                    for key, backend, model, r in rows
                ],
            )

    def mean_completion_tokens(self, backend: str, model: str) -> tuple[float, int] | None:
        """Mean completion tokens and row count of stored ``ok`` answers of a model."""
        if not self.readable:
            return None
        row = (
            self._conn()
            .execute(
                "SELECT AVG(completion_tokens), COUNT(*) FROM responses "
                "WHERE backend = ? AND model = ? AND status = 'ok'",
                (backend, model),
            )
            .fetchone()
        )
        if not row or not row[1]:
            return None
        return float(row[0]), int(row[1])

    def __len__(self) -> int:
        if not self.readable:
            return 0
        return int(self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    # --------------------------------------------------------------------------- batch jobs
    def get_batch_job(self, fingerprint: str) -> BatchJob | None:
        """The unfinished job submitted for exactly this set of requests, if any."""
        if not self.readable:
            return None
        row = (
            self._conn()
            .execute(
                "SELECT fingerprint, batch_id, input_file_id, model, n_requests, state "
                "FROM batch_jobs WHERE fingerprint = ? AND state != 'collected'",
                (fingerprint,),
            )
            .fetchone()
        )
        return BatchJob(*row) if row else None

    def put_batch_job(self, job: BatchJob) -> None:
        """Record (or update) a submitted job; committed at once."""
        if not self.writable:
            return
        now = time.time()
        conn = self._conn()
        with conn:
            conn.execute(
                "INSERT INTO batch_jobs (fingerprint, batch_id, input_file_id, model, "
                "n_requests, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET batch_id = excluded.batch_id, "
                "input_file_id = excluded.input_file_id, state = excluded.state, "
                "updated_at = excluded.updated_at",
                (
                    job.fingerprint,
                    job.batch_id,
                    job.input_file_id,
                    job.model,
                    job.n_requests,
                    job.state,
                    now,
                    now,
                ),
            )

    def batch_jobs(self) -> list[BatchJob]:
        """Every recorded job, oldest first."""
        if not self.readable:
            return []
        rows = (
            self._conn()
            .execute(
                "SELECT fingerprint, batch_id, input_file_id, model, n_requests, state "
                "FROM batch_jobs ORDER BY created_at"
            )
            .fetchall()
        )
        return [BatchJob(*row) for row in rows]
