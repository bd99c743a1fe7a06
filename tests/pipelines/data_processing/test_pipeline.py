"""The data_processing pipeline run by Kedro on the bundled sample, in a copy of the project."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.project_copy import copy_project, mlflow_query, run_kedro, versions

EXAMPLES = "data/02_intermediate/examples.parquet"


@pytest.mark.slow
def test_session_run_versions_examples_and_tracks_params_in_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)  # MLflow's sqlite:///mlflow.db is relative to the run's cwd
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_names=["data_processing"])

    (first,) = versions(project, EXAMPLES)
    examples = pd.read_parquet(project / EXAMPLES / first / "examples.parquet")
    sample_rows = sum(1 for _ in (project / "data/01_raw/nli_sample.jsonl").open())
    assert len(examples) == sample_rows
    assert set(examples["split"]) == {"train", "valid", "test"}
    assert examples["id"].is_unique

    runs = mlflow_query(project, "select run_uuid, status from runs")
    assert len(runs) == 1 and runs[0][1] == "FINISHED"
    params = dict(mlflow_query(project, "select key, value from params"))
    assert params["seed"] == "42"
    assert params["task.name"] == "nli"
    assert params["data_processing.on_invalid"] == "error"
    metrics = dict(mlflow_query(project, "select key, value from metrics"))
    assert metrics["data_processing.n_examples"] == sample_rows
    assert metrics["data_processing.n_rejected"] == 0

    # A second run through the CLI writes a second version next to the first.
    run_kedro(project, "run", "--pipelines=data_processing")
    assert len(versions(project, EXAMPLES)) == 2
    assert len(mlflow_query(project, "select run_uuid from runs")) == 2
    assert (project / EXAMPLES / first / "examples.parquet").exists()


@pytest.mark.slow
def test_malformed_input_file_names_the_bad_rows(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    raw = project / "data/01_raw/nli_sample.jsonl"
    rows = [json.loads(line) for line in raw.read_text().splitlines()]
    rows[4]["hypothesis"] = ""
    rows[9]["label"] = "probably"
    raw.write_text("".join(json.dumps(r) + "\n" for r in rows))

    with pytest.raises(AssertionError) as failure:
        run_kedro(project, "run", "--pipelines=data_processing")
    output = " ".join(str(failure.value).split())  # rich wraps long lines
    assert f"row 5 (id='{rows[4]['id']}'): field 'hypothesis': empty text" in output
    assert f"row 10 (id='{rows[9]['id']}'): field 'gold_label'" in output
    assert versions(project, EXAMPLES) == []

    # With on_invalid: drop, the same file runs; the two rows land in rejected_examples.
    run_kedro(
        project,
        "run",
        "--pipelines=data_processing",
        "--params",
        "data_processing.on_invalid=drop",
    )
    (version,) = versions(project, "data/02_intermediate/rejected_examples.parquet")
    rejected = pd.read_parquet(
        project
        / "data/02_intermediate/rejected_examples.parquet"
        / version
        / "rejected_examples.parquet"
    )
    assert sorted(rejected["id"]) == sorted([rows[4]["id"], rows[9]["id"]])
    metrics = dict(mlflow_query(project, "select key, value from metrics"))
    assert metrics["data_processing.n_rejected"] == 2
