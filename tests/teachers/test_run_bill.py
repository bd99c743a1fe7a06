"""The bill survives: a budget stop and a killed run leave their spend in MLflow.

Real ``kedro run`` processes in a copy of the project (simulated teacher, which is priced
like gpt-4o-mini), so the hooks, the response cache's spend book and MLflow's SQLite store
are exercised as a user meets them.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.project_copy import KEDRO, copy_project, kedro_env, mlflow_query

CACHE = "data/03_primary/teacher_cache.sqlite"


def _spend_rows(project: Path) -> list[tuple[str, str, float]]:
    if not (project / CACHE).exists():
        return []
    with sqlite3.connect(project / CACHE) as db:
        return db.execute("SELECT run_id, key, cost_usd FROM spend ORDER BY id").fetchall()


def _kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KEDRO), "run", *args],
        cwd=project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _metrics(project: Path, run_uuid: str) -> dict[str, float]:
    rows = mlflow_query(
        project, "select key, value from latest_metrics where run_uuid = ?", run_uuid
    )
    return dict(rows)


@pytest.mark.slow
def test_budget_stop_and_killed_run_keep_their_spend_in_mlflow(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")

    # 1. A budget stop: non-zero exit, and the spend is in MLflow all the same.
    stopped = _kedro(
        project,
        "--pipelines=data_processing,annotation",
        "--params=teacher.max_cost_usd=0.002",
    )
    assert stopped.returncode != 0
    assert "teacher budget reached" in stopped.stdout + stopped.stderr
    ((run_uuid, status),) = mlflow_query(
        project,
        "select run_uuid, status from runs where run_uuid in "
        "(select run_uuid from latest_metrics where key = 'teacher_spend.budget_stop')",
    )
    assert status == "FAILED"
    booked = _spend_rows(project)
    metrics = _metrics(project, run_uuid)
    assert metrics["teacher_spend.budget_stop"] == 1.0
    assert 0 < metrics["teacher_spend.run_usd"] <= 0.002
    assert metrics["teacher_spend.run_usd"] == pytest.approx(sum(c for _, _, c in booked))

    # 2. A run killed (SIGKILL) half-way: no hook runs, its MLflow run stays RUNNING.
    child = subprocess.Popen(
        [str(KEDRO), "run", "--pipelines=annotation", "--params=teacher.simulated.latency_s=0.1"],
        cwd=project,
        env=kedro_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while len(_spend_rows(project)) < len(booked) + 5 and time.monotonic() < deadline:
        assert child.poll() is None, "the run ended before it could be killed"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_rows = _spend_rows(project)[len(booked) :]
    assert len(killed_rows) >= 5
    killed_usd = sum(c for _, _, c in killed_rows)
    ((killed_uuid,),) = mlflow_query(project, "select run_uuid from runs where status = 'RUNNING'")

    # 3. The next run reports the lost spend, attributes it, and closes the stale run.
    rerun = _kedro(project, "--pipelines=annotation")
    output = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, output[-4000:]
    assert "an earlier run was interrupted" in output
    assert f"${killed_usd:.4f}" in " ".join(output.split())
    assert mlflow_query(project, "select status from runs where run_uuid = ?", killed_uuid) == [
        ("KILLED",)
    ]
    assert _metrics(project, killed_uuid)["teacher_spend.run_usd"] == pytest.approx(killed_usd)
    ((last_uuid,),) = mlflow_query(
        project, "select run_uuid from runs order by start_time desc limit 1"
    )
    assert _metrics(project, last_uuid)["teacher_spend.interrupted_runs_usd"] == pytest.approx(
        killed_usd
    )
    # Nothing that was answered (and paid) was paid for again.
    keys = [key for _, key, _ in _spend_rows(project)]
    assert len(keys) == len(set(keys))
