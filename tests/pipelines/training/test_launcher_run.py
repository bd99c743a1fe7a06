"""`kedro run --pipelines=training` with `training.launcher`: two CPU ranks, one pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.project_copy import copy_project, run_kedro, versions


@pytest.mark.slow
@pytest.mark.trains
def test_training_pipeline_trains_in_two_processes_and_goes_on(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    run_kedro(project, "run", "--env=test", "--pipelines=data_processing,annotation,subsampling")
    result = run_kedro(
        project,
        "run",
        "--env=test",
        "--pipelines=training",
        "--params=training.launcher.nproc_per_node=2,training.launcher.backend=gloo",
    )
    output = result.stdout + result.stderr  # rich wraps its log lines: look for words
    assert "launching:" in output and "--nproc_per_node=2" in output  # the command is logged
    assert "accuracy" in output  # the child's rank-0 log reaches the node's log
    assert "[rank0]" in output  # torch's own rank prefix survives rich's markup

    (version,) = versions(project, "data/06_models/student_model")
    student = project / "data/06_models/student_model" / version / "student_model"
    info = json.loads((student / "training_info.json").read_text())
    assert info["world_size"] == 2
    training_set = pd.read_parquet(
        next((project / "data/05_model_input").glob("training_set.parquet/*/training_set.parquet"))
    )
    train = training_set[training_set["split"] == "train"]
    n_train = int((train["label_target"].fillna("").astype(str) != "").sum())
    assert info["n_train"] == n_train
    assert info["examples_seen"] == n_train * 2  # conf/test: 2 epochs, no early stopping
    (history_version,) = versions(project, "data/08_reporting/training_history.csv")
    assert history_version == version  # one session: the same version as the student
