"""The MLflow tracking store (``mlflow.db``), created and migrated once, whoever starts first.

MLflow's SQLite store creates and migrates its schema the first time a process opens it,
without a lock: two ``kedro run``s started together on a fresh clone race in that migration
(``table _alembic_tmp_experiments already exists``) and can leave the database half-migrated,
so that every later run fails. :class:`TrackingStoreHook` wraps every ``after_context_created``
hook (kedro-mlflow's creates the store and the experiment there) in a file lock next to the
database (``mlflow.db.lock``); under it the store is repaired if an earlier crash left it
half-migrated, then created or migrated to MLflow's current schema. Runs that start together
wait for each other for that moment only, and the database is created once.

A half-migrated store holds ``_alembic_tmp_<table>`` tables: the copies that SQLite's batch
migrations build before they replace ``<table>``. When ``<table>`` still exists it holds every
row and the copy is dropped (after a backup, ``mlflow.db.bak-<time>``), then the migration
runs again. A copy whose original is gone is the only copy of its rows: the run stops and
says how to restore it, nothing is dropped.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from filelock import FileLock, Timeout
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 600.0
TMP_PREFIX = "_alembic_tmp_"


class TrackingStoreError(RuntimeError):
    """The MLflow store cannot be prepared; the message names the file and the fix."""


def sqlite_path(uri: str | None) -> Path | None:
    """The database file of a ``sqlite:///...`` tracking URI, else ``None`` (a server, files)."""
    prefix = "sqlite:///"
    if not uri or not uri.startswith(prefix):
        return None
    path = unquote(uri[len(prefix) :].split("?", 1)[0])
    return Path(path) if path and path != ":memory:" else None


def repair_half_migrated(db_path: Path) -> list[str]:
    """Drop the ``_alembic_tmp_*`` leftovers of an interrupted migration (their originals
    still hold every row), after a backup; returns the dropped tables.

    Raises :class:`TrackingStoreError` when a leftover's original table is gone (the
    leftover then is the only copy of its rows): nothing is changed, the message says how to
    restore it.
    """
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        leftovers = sorted(t for t in tables if t.startswith(TMP_PREFIX))
        if not leftovers:
            return []
        orphans = [t for t in leftovers if t[len(TMP_PREFIX) :] not in tables]
        if orphans:
            renames = "; ".join(
                f"ALTER TABLE {t} RENAME TO {t[len(TMP_PREFIX) :]}" for t in orphans
            )
            raise TrackingStoreError(
                f"{db_path} was left half-migrated by an interrupted MLflow migration, and "
                f"{', '.join(orphans)} now hold(s) the only copy of those rows. Back the file "
                f'up, then restore the table(s) with `sqlite3 {db_path} "{renames}"` and '
                "rerun (the migration then completes). Nothing was changed."
            )
        backup = db_path.with_name(f"{db_path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        with sqlite3.connect(backup) as copy:
            db.backup(copy)
        for table in leftovers:
            db.execute(f'DROP TABLE "{table}"')
    logger.warning(
        "%s was left half-migrated by an interrupted run (leftover %s): dropped the leftover "
        "copies (the original tables hold every row; backup in %s); the migration completes now",
        db_path,
        ", ".join(leftovers),
        backup.name,
    )
    return leftovers


def prepare_sqlite_store(uri: str, db_path: Path) -> None:
    """Repair ``db_path`` if needed, then create or migrate it to MLflow's current schema.

    Call it under :func:`store_lock`. MLflow's own store creation migrates an empty database
    only; a store whose schema is behind (an interrupted migration, an older MLflow) is
    upgraded here (backed up first by :func:`repair_half_migrated` when it was broken).
    """
    from mlflow.store.db import utils as db_utils
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    repair_half_migrated(db_path)
    store = SqlAlchemyStore(uri, default_artifact_root=str(db_path.parent / "mlartifacts"))
    try:
        if db_utils._get_schema_version(store.engine) != db_utils._get_latest_schema_revision():
            logger.warning("%s: migrating the MLflow schema to the current version", db_path)
            db_utils._upgrade_db(store.engine)
    finally:
        store.engine.dispose()


def store_lock(db_path: Path) -> FileLock:
    """The inter-process lock that guards creating and migrating ``db_path``."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(db_path) + ".lock", timeout=LOCK_TIMEOUT_S)


def configured_tracking_uri(context: Any) -> str | None:
    """``server.mlflow_tracking_uri`` of the project's ``mlflow.yml`` (``None`` without one)."""
    try:
        config = context.config_loader["mlflow"]
    except Exception:  # no mlflow.yml: kedro-mlflow uses its defaults, nothing to guard
        return None
    server = config.get("server") if isinstance(config, Mapping) else None
    uri = server.get("mlflow_tracking_uri") if isinstance(server, Mapping) else None
    return str(uri) if uri else None


class TrackingStoreHook:
    """Every ``after_context_created`` hook (kedro-mlflow's opens the store and creates the
    experiment) runs under the store's file lock, after the store is repaired and migrated."""

    @hook_impl(hookwrapper=True)
    def after_context_created(self, context: Any) -> Generator[None, Any, None]:
        uri = configured_tracking_uri(context)
        db_path = sqlite_path(uri)
        if uri is None or db_path is None:
            yield
            return
        # A relative sqlite path is relative to the working directory, for MLflow as here.
        lock = store_lock(db_path)
        try:
            lock.acquire()
        except Timeout as err:
            raise TrackingStoreError(
                f"waited {LOCK_TIMEOUT_S:.0f} s for {lock.lock_file}, held by another run "
                "that creates or migrates the MLflow store; if no other run is alive, delete "
                "that lock file and rerun"
            ) from err
        try:
            prepare_sqlite_store(uri, db_path)
            yield
        finally:
            lock.release()
