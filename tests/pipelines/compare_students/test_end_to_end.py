"""`kedro run --pipelines=compare_students` on the bundled sentiment sample, as a user runs it,
and `--params student_name=...` choosing the student of a plain training run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.project_copy import copy_project, mlflow_query, run_kedro, versions

# The Makefile's RUN_PARAMS: the demo task, which the tiny students can learn.
DEMO = "task_name=text_classification,raw_file=sentiment_sample.jsonl"
# The bundled list of conf/base/parameters_compare_students.yml: every family, one with LoRA.
STUDENTS = ("t5_tiny", "encoder_tiny", "decoder_tiny", "decoder_tiny_lora")
FAMILIES = ("seq2seq", "encoder", "causal_lm", "causal_lm + lora")


def _latest(project: Path, relative: str) -> Path:
    version = versions(project, relative)[-1]
    return project / relative / version / Path(relative).name


@pytest.mark.slow
@pytest.mark.trains
def test_compare_students_one_row_per_student_on_one_training_set(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    result = run_kedro(
        project,
        "run",
        "--env=test",
        "--pipelines=data_processing,annotation,subsampling,compare_students",
        "--params",
        # A few steps per student (`--params training.*` wins over the presets): the
        # plumbing of four families, not their accuracy (the README has the full run's).
        f"{DEMO},training.max_steps=6",
    )
    output = result.stdout + result.stderr

    table = pd.read_csv(_latest(project, "data/08_reporting/compare_students.csv"))
    assert table["student"].tolist() == list(STUDENTS)
    assert table["family"].tolist() == list(FAMILIES)
    assert table["accuracy"].between(0, 1).all() and table["macro_f1"].between(0, 1).all()
    assert (table["valid_output_rate"] == 1.0).all()  # label scoring: always a label
    assert table["majority_baseline"].between(0.5, 1).all()
    assert (table["parameters"] > 100_000).all()
    assert table["parameters"].nunique() == len(STUDENTS)  # four different models
    full = table["student"] != "decoder_tiny_lora"
    assert (table.loc[full, "trainable_parameters"] == table.loc[full, "parameters"]).all()
    lora = table.loc[~full].iloc[0]
    assert 0 < lora["trainable_parameters"] < lora["parameters"]
    for column in ("training_time_s", "train_examples_per_s", "predictions_per_s"):
        assert (table[column] > 0).all(), column
    assert ((table["usd_per_million"] > 0) & (table["usd_per_million"] < 100)).all()
    # Both trained on the one training set: same rows, same rationales, same test rows.
    for column in ("n_train", "n_train_with_rationale", "n_test"):
        assert table[column].nunique() == 1, column
    assert len(versions(project, "data/05_model_input/training_set.parquet")) == 1

    # The presets reached the models: each saved student is of its preset's kind.
    saved_as = {
        "t5_tiny": ("config.json", "model_type", "t5"),
        "encoder_tiny": ("config.json", "model_type", "encoder-decoder"),
        "decoder_tiny": ("config.json", "model_type", "qwen2"),
        "decoder_tiny_lora": ("adapter_config.json", "peft_type", "LORA"),
    }
    for name, (file, key, value) in saved_as.items():
        model = project / f"data/06_models/compare_students/{name}/student_model"
        (version,) = versions(project, str(model.relative_to(project)))
        config = json.loads((model / version / "student_model" / file).read_text())
        assert config[key] == value, name

    report = _latest(project, "data/08_reporting/compare_students_report.md").read_text()
    assert "SIMULATED TEACHER" in report
    assert all(f"`{name}`" in report for name in STUDENTS)
    summary = result.stdout[result.stdout.rindex("Run summary: ") :]
    assert "4 students on one training set; best " in summary
    assert "compare_students_report.md" in summary

    (run,) = mlflow_query(project, "select run_uuid from runs")
    keys = {
        k for (k,) in mlflow_query(project, "select key from latest_metrics where run_uuid=?", *run)
    }
    for name in STUDENTS:
        assert {f"compare.{name}.accuracy", f"compare.{name}.predictions_per_s"} <= keys
        assert f"compare.{name}.training.valid_accuracy" in keys
    accuracy = dict(mlflow_query(project, "select key, value from latest_metrics"))
    assert math.isclose(accuracy["compare.t5_tiny.accuracy"], table.loc[0, "accuracy"])
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.trains
def test_student_name_picks_the_student_of_a_training_run(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    run_kedro(
        project,
        "run",
        "--env=test",
        "--pipelines=data_processing,annotation,subsampling",
        "--params",
        DEMO,
    )
    run_kedro(
        project,
        "run",
        "--env=test",
        "--pipelines=training",
        "--params",
        f"{DEMO},student_name=t5_tiny_wide,training.max_steps=2",
    )
    model = _latest(project, "data/06_models/student_model")
    assert json.loads((model / "config.json").read_text())["d_model"] == 96
