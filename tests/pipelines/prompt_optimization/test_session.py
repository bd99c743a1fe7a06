"""``kedro run`` of data_processing + prompt_optimization on the bundled sample (simulated
teacher), in a copy of the project: versioned outputs, MLflow metrics, a free rerun."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.project_copy import copy_project, mlflow_query, versions

HISTORY = "data/04_feature/opro_history.parquet"
BEST = "data/04_feature/best_prompt.json"
PLOT = "data/08_reporting/opro_progression.png"


def _run(project: Path) -> None:
    with KedroSession.create(
        project_path=project,
        runtime_params={"prompt_optimization": {"n_steps": 2, "progress": False}},
    ) as session:
        session.run(pipeline_names=["data_processing", "prompt_optimization"])
    while mlflow.active_run() is not None:  # see tests/conftest.py
        mlflow.end_run()


@pytest.mark.slow
def test_kedro_run_writes_versioned_outputs_and_mlflow_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)  # MLflow's sqlite:///mlflow.db is relative to the run's cwd
    bootstrap_project(project)
    _run(project)

    (version,) = versions(project, HISTORY)
    history = pd.read_parquet(project / HISTORY / version / "opro_history.parquet")
    assert set(history["step"]) == {0, 1, 2}
    assert history["simulated"].all()
    (best_version,) = versions(project, BEST)
    best = json.loads((project / BEST / best_version / "best_prompt.json").read_text())
    assert best["template"] in set(history["template"])
    assert best["objective"]["name"] == "accuracy_min_explanation_rate"
    assert (project / PLOT / versions(project, PLOT)[0] / "opro_progression.png").exists()

    metrics = mlflow_query(
        project, "select key, value, step from metrics where key like 'prompt_optimization.%'"
    )
    steps = sorted(s for k, _, s in metrics if k == "prompt_optimization.best_score")
    assert steps == [0, 1, 2]
    final = {k: v for k, v, _ in metrics}
    assert final["prompt_optimization.final_accuracy"] == pytest.approx(best["accuracy"])
    assert final["prompt_optimization.cost_usd"] > 0  # the simulated teacher has a price

    # the rerun answers everything from the response cache: the same winner for $0
    _run(project)
    assert len(versions(project, BEST)) == 2
    latest = json.loads(
        (project / BEST / versions(project, BEST)[-1] / "best_prompt.json").read_text()
    )
    assert latest["template"] == best["template"]
    costs = mlflow_query(
        project,
        "select m.value from metrics m join runs r on m.run_uuid = r.run_uuid "
        "where m.key = 'prompt_optimization.cost_usd' order by r.start_time",
    )
    assert [c for (c,) in costs][-1] == 0.0
