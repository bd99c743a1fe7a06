"""mlflow.db is created and migrated once, under a lock, however many runs start together; a
store an interrupted migration left half-migrated is repaired without losing a run."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import mlflow
import pytest
import sqlalchemy

from tests.project_copy import KEDRO, copy_project, kedro_env, mlflow_query
from zeroshot_distill.tracking_store import (
    TrackingStoreError,
    prepare_sqlite_store,
    sqlite_path,
)

RUN_ID = "0123456789abcdef0123456789abcdef"


def half_migrated_store(db_path: Path) -> str:
    """A store as the first migration leaves it when its process dies half-way: MLflow's
    initial tables with an earlier run in them, no schema version, and the migration's
    ``_alembic_tmp_metrics`` copy left behind."""
    from mlflow.store.tracking.dbmodels.initial_models import Base

    uri = f"sqlite:///{db_path}"
    engine = sqlalchemy.create_engine(uri)
    Base.metadata.create_all(engine)
    engine.dispose()
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) "
            "VALUES (1, 'zeroshot_distill', 'mlartifacts', 'active')"
        )
        db.execute(
            "INSERT INTO runs (run_uuid, name, user_id, source_type, status, start_time, "
            "lifecycle_stage, experiment_id, artifact_uri) "
            "VALUES (?, 'earlier', 'me', 'LOCAL', 'FINISHED', 1, 'active', 1, 'a')",
            (RUN_ID,),
        )
        db.execute("INSERT INTO metrics VALUES ('accuracy', 0.5, 1, ?)", (RUN_ID,))
        db.execute("CREATE TABLE _alembic_tmp_metrics AS SELECT * FROM metrics")
    return uri


def test_mlflow_alone_fails_on_a_half_migrated_store(tmp_path: Path) -> None:
    """The failure this module exists for (every later run failed until mlflow.db was
    deleted, with every earlier run's record)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = half_migrated_store(tmp_path / "mlflow.db")
    with pytest.raises(Exception, match="_alembic_tmp_metrics already exists"):
        SqlAlchemyStore(uri, str(tmp_path / "mlartifacts"))


def test_a_half_migrated_store_is_repaired_and_keeps_its_runs(tmp_path: Path) -> None:
    db_path = tmp_path / "mlflow.db"
    uri = half_migrated_store(db_path)

    prepare_sqlite_store(uri, db_path)

    with sqlite3.connect(db_path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not [t for t in tables if t.startswith("_alembic_tmp_")]
    assert list(tmp_path.glob("mlflow.db.bak-*")), "no backup made before the repair"
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.get_run(RUN_ID)
    assert run.info.run_name == "earlier"
    assert run.data.metrics == {"accuracy": 0.5}


def test_a_leftover_without_its_original_is_named_not_dropped(tmp_path: Path) -> None:
    db_path = tmp_path / "mlflow.db"
    uri = half_migrated_store(db_path)
    with sqlite3.connect(db_path) as db:
        db.execute("DROP TABLE metrics")

    with pytest.raises(TrackingStoreError, match="ALTER TABLE _alembic_tmp_metrics RENAME"):
        prepare_sqlite_store(uri, db_path)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM _alembic_tmp_metrics").fetchone() == (1,)


def test_sqlite_path_reads_relative_and_absolute_uris() -> None:
    assert sqlite_path("sqlite:///mlflow.db") == Path("mlflow.db")
    assert sqlite_path("sqlite:////abs/dir/mlflow.db") == Path("/abs/dir/mlflow.db")
    assert sqlite_path("http://127.0.0.1:5000") is None
    assert sqlite_path(None) is None


@pytest.mark.slow
@pytest.mark.parametrize("n_runs", [2, 4])
def test_runs_started_together_on_a_fresh_project_all_succeed(tmp_path: Path, n_runs: int) -> None:
    """Several `kedro run`s at once on a project without mlflow.db: all exit 0, the store is
    created once and holds every run (before the lock: 1 of 2 failed in 4 of 4 tries)."""
    project = copy_project(tmp_path / "project")
    runs = [
        subprocess.Popen(
            [str(KEDRO), "run", "--pipelines=data_processing"],
            cwd=project,
            env=kedro_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(n_runs)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
    assert mlflow_query(project, "SELECT count(*) FROM runs") == [(n_runs,)]
    assert not mlflow_query(
        project, "SELECT name FROM sqlite_master WHERE name LIKE '\\_alembic\\_tmp%' ESCAPE '\\'"
    )
