"""A persistent SQLite response cache (and the Batch API job register).

One row per answered request, keyed by a SHA-256 of the backend, model, messages and
sampling parameters (:func:`cache_key`). The API key is never part of the key nor stored.
Answers are committed as they arrive, so a run killed half-way keeps everything it paid
for; the database runs in WAL mode with a busy timeout so that several processes (two
``kedro run`` at once) and threads can share it.

Modes: ``read_write`` (default), ``read_only`` (reads, never writes: e.g. a shared cache
on a read-only mount) and ``off`` (no file at all).

The same file holds what several processes need to agree on:

- ``inflight``: a claim (lease) on each request being sent. A process claims what it is
  about to send in one ``BEGIN IMMEDIATE`` transaction; another process that wants the same
  request waits for the answer instead of paying for it again. A lease that is not renewed
  (its holder crashed) expires after ``teacher.cache.lease_s`` and may be taken over.
- ``spend``: one row per paid answer, committed with the answer itself, tagged with the
  run and the teacher session that paid it; ``teacher_sessions``: one row per teacher in a
  process, closed when the teacher is. A session left open by a process that no longer
  exists was interrupted (kill -9, power loss): :meth:`ResponseCache.interrupted_sessions`
  finds it and its spend, so the next run can report it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

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
CREATE TABLE IF NOT EXISTS inflight (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS spend (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spend_by_session ON spend (session_id);
CREATE TABLE IF NOT EXISTS teacher_sessions (
    session_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    mlflow_run_id TEXT,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL
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
class SpendRow:
    """One paid answer, as the ``spend`` table books it."""

    run_id: str
    session_id: str
    stage: str
    key: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class InterruptedSession:
    """A teacher session whose process died before closing it, and what it paid."""

    session_id: str
    run_id: str
    mlflow_run_id: str | None
    pid: int
    started_at: float
    cost_usd: float
    n_paid: int
    stages: dict[str, float]


def pid_alive(pid: int) -> bool:
    """Whether a live process with this id exists on this machine (a zombie is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:  # Linux: a killed child its parent has not reaped yet is state Z
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class BatchJob:
    """A submitted Batch API job, persisted so that a rerun resumes it."""

    fingerprint: str
    batch_id: str
    input_file_id: str
    model: str
    n_requests: int
    state: str


def _is_locked(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) and "locked" in str(err)


@retry(
    retry=retry_if_exception(_is_locked),
    wait=wait_random(0.01, 0.2),
    stop=stop_after_delay(30),
    reraise=True,
)
def _enable_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, so that several processes share the cache. Switching a new database to
    WAL needs an exclusive lock that SQLite's busy timeout does not wait for: two runs
    opening a new cache at once race for it, so the loser retries."""
    conn.execute("PRAGMA journal_mode=WAL")


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
                _enable_wal(conn)
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

    def put_many(
        self,
        rows: Sequence[tuple[str, str, str, CachedResponse]],
        *,
        spend: Sequence[SpendRow] = (),
        release: Sequence[str] = (),
        owner: str | None = None,
    ) -> None:
        """Store ``(key, backend, model, response)`` rows, book ``spend`` and drop this
        ``owner``'s claims on ``release`` keys, all in one transaction."""
        if not self.writable or not (rows or spend or release):
            return
        now = time.time()
        conn = self._conn()
        with conn:
            if owner is not None and release:
                conn.executemany(
                    "DELETE FROM inflight WHERE key = ? AND owner = ?",
                    [(key, owner) for key in release],
                )
            conn.executemany(
                "INSERT INTO spend (run_id, session_id, stage, key, status, prompt_tokens, "
                "completion_tokens, cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.run_id,
                        r.session_id,
                        r.stage,
                        r.key,
                        r.status,
                        r.prompt_tokens,
                        r.completion_tokens,
                        r.cost_usd,
                        now,
                    )
                    for r in spend
                ],
            )
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

    def restatus(self, keys: Sequence[str], status: str, *, was: str = "ok") -> int:
        """Set ``status`` on the stored answers among ``keys`` whose status is ``was`` (a
        refusal the task's parser recognised in an answer the API called ``ok``); returns how
        many changed. What was paid stays booked."""
        if not self.writable or not keys:
            return 0
        conn = self._conn()
        with conn:
            cursor = conn.executemany(
                "UPDATE responses SET status = ? WHERE key = ? AND status = ?",
                [(status, key, was) for key in keys],
            )
        return int(cursor.rowcount or 0)

    # ------------------------------------------------------------------- claims (leases)
    def claim(
        self, keys: Sequence[str], owner: str, lease_s: float, final_statuses: Iterable[str]
    ) -> dict[str, str]:
        """Claim the requests ``keys`` for ``owner`` before sending them.

        Returns per key ``"mine"`` (claimed: send it), ``"busy"`` (another live claim: wait
        for its answer) or ``"answered"`` (a final answer arrived meanwhile: read it). One
        ``BEGIN IMMEDIATE`` transaction, so two processes never both get ``"mine"``.
        """
        if not self.writable:
            return dict.fromkeys(keys, "mine")
        final = tuple(final_statuses)
        now = time.time()
        out: dict[str, str] = {}
        gone: dict[str, bool] = {}
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for key in keys:
                row = conn.execute("SELECT status FROM responses WHERE key = ?", (key,)).fetchone()
                if row is not None and row[0] in final:
                    out[key] = "answered"
                    continue
                held = conn.execute(
                    "SELECT owner, expires_at FROM inflight WHERE key = ?", (key,)
                ).fetchone()
                if (
                    held is not None
                    and held[0] != owner
                    and held[1] > now
                    and not self._owner_gone(conn, held[0], gone)
                ):
                    out[key] = "busy"
                    continue
                conn.execute(
                    "INSERT OR REPLACE INTO inflight (key, owner, expires_at) VALUES (?, ?, ?)",
                    (key, owner, now + lease_s),
                )
                out[key] = "mine"
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return out

    def busy(self, keys: Sequence[str], owner: str) -> set[str]:
        """The keys among ``keys`` that another owner holds a live claim on."""
        if not self.writable or not keys:
            return set()
        now = time.time()
        found: set[str] = set()
        gone: dict[str, bool] = {}
        conn = self._conn()
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT key, owner FROM inflight WHERE key IN ({marks}) AND owner != ? "
                "AND expires_at > ?",
                [*chunk, owner, now],
            ).fetchall()
            found.update(key for key, holder in rows if not self._owner_gone(conn, holder, gone))
        return found

    @staticmethod
    def _owner_gone(conn: sqlite3.Connection, owner: str, memo: dict[str, bool]) -> bool:
        """Whether a claim's owner was a process of this host that no longer exists (killed):
        its claims need not wait for their lease to expire."""
        if owner not in memo:
            row = conn.execute(
                "SELECT host, pid FROM teacher_sessions WHERE session_id = ?", (owner,)
            ).fetchone()
            memo[owner] = bool(
                row is not None and row[0] == socket.gethostname() and not pid_alive(int(row[1]))
            )
        return memo[owner]

    def renew(self, owner: str, lease_s: float) -> None:
        """Extend every claim of ``owner`` (its heartbeat)."""
        if not self.writable:
            return
        conn = self._conn()
        with conn:
            conn.execute(
                "UPDATE inflight SET expires_at = ? WHERE owner = ?", (time.time() + lease_s, owner)
            )

    def release(self, owner: str, keys: Sequence[str] | None = None) -> None:
        """Drop ``owner``'s claims on ``keys`` (all of them when ``None``)."""
        if not self.writable:
            return
        conn = self._conn()
        with conn:
            if keys is None:
                conn.execute("DELETE FROM inflight WHERE owner = ?", (owner,))
            else:
                conn.executemany(
                    "DELETE FROM inflight WHERE key = ? AND owner = ?",
                    [(key, owner) for key in keys],
                )

    # ------------------------------------------------------------------ sessions and spend
    def open_session(self, session_id: str, run_id: str, mlflow_run_id: str | None) -> None:
        """Record a teacher session of this process (closed by :meth:`close_session`)."""
        if not self.writable:
            return
        conn = self._conn()
        with conn:
            conn.execute(
                "INSERT OR IGNORE INTO teacher_sessions (session_id, run_id, mlflow_run_id, "
                "host, pid, state, started_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
                (session_id, run_id, mlflow_run_id, socket.gethostname(), os.getpid(), time.time()),
            )

    def close_session(self, session_id: str) -> None:
        """The teacher closed normally (even after a budget stop or an error)."""
        if not self.writable:
            return
        conn = self._conn()
        with conn:
            conn.execute(
                "UPDATE teacher_sessions SET state = 'closed', ended_at = ? "
                "WHERE session_id = ? AND state = 'open'",
                (time.time(), session_id),
            )

    def run_spend(self, run_id: str) -> tuple[float, int]:
        """USD and paid answers booked for ``run_id``."""
        if not self.readable:
            return 0.0, 0
        row = (
            self._conn()
            .execute(
                "SELECT COALESCE(SUM(cost_usd), 0), COUNT(*) FROM spend WHERE run_id = ?",
                (run_id,),
            )
            .fetchone()
        )
        return float(row[0]), int(row[1])

    def interrupted_sessions(self, *, mark: bool = True) -> list[InterruptedSession]:
        """Sessions of this host left open by a process that is gone, with their spend;
        ``mark``: record them as ``interrupted`` so they are reported once."""
        if not self.writable:
            return []
        conn = self._conn()
        rows = conn.execute(
            "SELECT session_id, run_id, mlflow_run_id, pid, started_at FROM teacher_sessions "
            "WHERE state = 'open' AND host = ?",
            (socket.gethostname(),),
        ).fetchall()
        found = []
        for session_id, run_id, mlflow_run_id, pid, started_at in rows:
            if pid == os.getpid() or pid_alive(int(pid)):
                continue
            stages = dict(
                conn.execute(
                    "SELECT stage, SUM(cost_usd) FROM spend WHERE session_id = ? GROUP BY stage",
                    (session_id,),
                ).fetchall()
            )
            n_paid = conn.execute(
                "SELECT COUNT(*) FROM spend WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            found.append(
                InterruptedSession(
                    session_id=session_id,
                    run_id=run_id,
                    mlflow_run_id=mlflow_run_id,
                    pid=int(pid),
                    started_at=float(started_at),
                    cost_usd=float(sum(stages.values())),
                    n_paid=int(n_paid),
                    stages={str(k): float(v) for k, v in stages.items()},
                )
            )
        if mark and found:
            with conn:
                conn.executemany(
                    "UPDATE teacher_sessions SET state = 'interrupted' WHERE session_id = ?",
                    [(s.session_id,) for s in found],
                )
        return found

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
