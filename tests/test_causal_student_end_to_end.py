"""End to end with a decoder-only student: `kedro run` trains a tiny Qwen2 from a config,
evaluates it with label scoring, logs it to MLflow, and `predict` labels new rows with it.

The student comes from an explicit `training.student` block written into the copy's
`conf/base` (parameters merge key by key, so a `conf/local` block would inherit the base's T5
keys); the run is kept to a few training steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from tests.project_copy import copy_project, mlflow_query, run_kedro, versions

SENTIMENT = "task_name=text_classification,raw_file=sentiment_sample.jsonl"
STUDENT = {
    "architecture": {
        "model_type": "qwen2",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    },
    "tokenizer": "byt5",
}


@pytest.mark.slow
@pytest.mark.trains
def test_distill_with_a_causal_student_then_predict(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    base = yaml.safe_load((project / "conf/base/parameters_training.yml").read_text())
    training = {**base["training"], "student": STUDENT, "num_epochs": 1, "max_steps": 6}
    training.update(eval_steps=3, logging_steps=2, progress_bar=False)
    (project / "conf/base/parameters_training.yml").write_text(
        yaml.safe_dump({"training": training})
    )
    result = run_kedro(project, "run", "--pipelines=distill", "--params", SENTIMENT)
    summary = result.stdout[result.stdout.rindex("Run summary: distill") :]
    assert "qwen2-random-d32" in summary
    assert "student accuracy" in summary

    (student_version,) = versions(project, "data/06_models/student_model")
    saved = project / "data/06_models/student_model" / student_version / "student_model"
    info = json.loads((saved / "training_info.json").read_text())
    assert info["family"] == "causal_lm" and info["final_step"] == 6
    assert json.loads((saved / "config.json").read_text())["model_type"] == "qwen2"

    metrics = dict(mlflow_query(project, "select key, value from latest_metrics"))
    assert 0.0 <= metrics["evaluation.student_accuracy"] <= 1.0
    ((model_id,),) = mlflow_query(project, "select model_id from logged_models")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_id}")
    answers = pyfunc.predict(pd.DataFrame({"text": ["Great book.", "It broke."]}))
    assert set(answers["label"]) <= {"positive", "negative"}

    result = run_kedro(
        project,
        "run",
        "--pipelines=predict",
        "--params",
        f"{SENTIMENT},predict_file=sentiment_sample.jsonl",
        f"--load-versions=student_model:{student_version}",
    )
    (predictions_version,) = versions(project, "data/07_model_output/new_predictions")
    predictions = pd.read_parquet(  # one Parquet partition per input chunk
        project / "data/07_model_output/new_predictions" / predictions_version / "new_predictions"
    )
    assert len(predictions) > 0 and predictions["valid_output"].all()
    assert predictions["student_label"].isin(["positive", "negative"]).all()
