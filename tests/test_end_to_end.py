"""End to end: the commands a user runs, in a temporary copy of the project, offline.

`kedro run --pipelines=distill` with the default configuration (simulated teacher, tiny
student), then `predict` with `--load-versions`, `kedro viz build`, and the experiments sweep.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from tests.project_copy import copy_project, mlflow_query, run_kedro, versions
from zeroshot_distill.pipeline_registry import register_pipelines
from zeroshot_distill.pipelines.experiments.pipeline import variant_grid, variant_name
from zeroshot_distill.settings import CONFIG_LOADER_ARGS


def versioned_entries(project: Path, env: str = "local") -> dict[str, str]:
    """Versioned catalog entries (name -> filepath) as the run resolves them."""
    loader = OmegaConfigLoader(
        str(project / "conf"),
        env=env,
        base_env="base",
        default_run_env="local",
        config_patterns=CONFIG_LOADER_ARGS["config_patterns"],
        custom_resolvers=CONFIG_LOADER_ARGS["custom_resolvers"],
    )
    return {
        name: entry["filepath"]
        for name, entry in loader["catalog"].items()
        if isinstance(entry, dict) and entry.get("versioned") and "{" not in name
    }


# The one warning a default run may print besides the SIMULATED notices: kedro-mlflow's own
# KedroPipelineModel, on plugin import, has no type hints (MLflow 3 warns; not this project's).
THIRD_PARTY_WARNINGS = ("Add type hints to the `predict`",)


def warning_records(output: str) -> list[str]:
    """The first line of every WARNING log record (rich's console log, one record a line)."""
    return [line.split("WARNING", 1)[1] for line in output.splitlines() if " WARNING " in line]


@pytest.mark.slow
@pytest.mark.trains
def test_distill_default_run_then_predict_and_viz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide enough that rich puts each log record's message start on its first line.
    monkeypatch.setenv("COLUMNS", "400")
    project = copy_project(tmp_path / "project")
    result = run_kedro(project, "run", "--pipelines=distill")
    output = result.stdout + result.stderr
    assert "TEACHER IS SIMULATED" in output
    unexpected = [
        record
        for record in warning_records(output)
        if "SIMULATED" not in record and not any(w in record for w in THIRD_PARTY_WARNINGS)
    ]
    assert unexpected == []

    # The run ends with its summary: student vs teacher vs baseline, and where the report is.
    summary = result.stdout[result.stdout.rindex("Run summary: distill · er 1") :]
    for line in ("student accuracy", "teacher accuracy", "baseline accuracy", "report: "):
        assert line in summary
    report_path = summary.split("  report: ", 1)[1].splitlines()[0]
    assert Path(report_path).is_file() and report_path.endswith("report.md")

    # A new version of every intermediate dataset the chain produces.
    produced = register_pipelines()["distill"].all_outputs()
    entries = {k: v for k, v in versioned_entries(project).items() if k in produced}
    assert {"examples", "annotations", "training_set", "student_model", "report"} <= set(entries)
    missing = [name for name, path in entries.items() if len(versions(project, path)) != 1]
    assert missing == []

    # One finished MLflow run with accuracy, cost, provenance and the report artifact.
    ((run_id, status, artifact_uri),) = mlflow_query(
        project, "select run_uuid, status, artifact_uri from runs"
    )
    assert status == "FINISHED"
    metrics = dict(mlflow_query(project, "select key, value from latest_metrics"))
    assert 0.0 <= metrics["evaluation.student_accuracy"] <= 1.0
    assert 0.0 <= metrics["evaluation.teacher_accuracy"] <= 1.0
    assert metrics["evaluation.teacher_usd_total"] > 0
    assert metrics["annotation.cost_usd"] > 0
    tags = dict(mlflow_query(project, "select key, value from tags where run_uuid=?", run_id))
    assert tags["teacher_simulated"] == "true"
    # Runs compare at a glance: a name that says what differs, readable tags, headline figures.
    assert tags["mlflow.runName"].startswith("distill · er 1 · tf 1 · nli · simulated-teacher → ")
    assert tags["runner"] == "SequentialRunner"
    headline = {k: v for k, v in metrics.items() if k.startswith("headline.")}
    assert headline["headline.student_accuracy"] == metrics["evaluation.student_accuracy"]
    assert 0.0 < headline["headline.baseline_accuracy"] <= 1.0
    assert {"headline.teacher_accuracy", "headline.explanation_rate"} <= set(headline)
    # The student is a logged MLflow model that pyfunc loads.
    ((model_id,),) = mlflow_query(project, "select model_id from logged_models")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    student = mlflow.pyfunc.load_model(f"models:/{model_id}")
    answer = student.predict(pd.DataFrame({"premise": ["A dog runs."], "hypothesis": ["A dog."]}))
    assert len(answer) == 1 and set(answer["probabilities"][0]) == {
        "entailment",
        "neutral",
        "contradiction",
    }
    artifacts = Path(artifact_uri.removeprefix("file://"))
    report = (artifacts / "report.md").read_text()
    assert "SIMULATED TEACHER" in report
    assert (artifacts / "confusion_matrix.png").stat().st_size > 0

    # The student version just trained labels new rows.
    (student_version,) = versions(project, entries["student_model"])
    # Its folder holds a model card that the evaluation completed.
    card = project / entries["student_model"] / student_version / "student_model" / "README.md"
    assert "simulated teacher — a test double" in card.read_text()
    assert "## Evaluation" in card.read_text() and "Not evaluated yet" not in card.read_text()
    assert "break-even" in report.lower()
    result = run_kedro(
        project, "run", "--pipelines=predict", f"--load-versions=student_model:{student_version}"
    )
    assert "240 rows labelled" in result.stdout[result.stdout.rindex("Run summary: predict") :]
    (predictions_version,) = versions(project, "data/07_model_output/new_predictions")
    predictions = pd.read_parquet(  # one Parquet partition per input chunk
        project / "data/07_model_output/new_predictions" / predictions_version / "new_predictions"
    )
    assert len(predictions) == 240
    assert (
        predictions["student_label"].dropna().isin(["entailment", "neutral", "contradiction"]).all()
    )

    # The export's ONNX graph labels the same rows as the PyTorch student.
    run_kedro(project, "run", "--pipelines=export")
    (onnx_version,) = versions(project, "data/06_models/student_onnx")
    exported = project / "data/06_models/student_onnx" / onnx_version / "student_onnx"
    assert (exported / "model.onnx").is_file() and (exported / "model.int8.onnx").is_file()
    result = run_kedro(project, "run", "--pipelines=predict", "--params", "predict.runtime=onnx")
    assert "240 rows labelled" in result.stdout[result.stdout.rindex("Run summary: predict") :]
    onnx_version = versions(project, "data/07_model_output/new_predictions")[-1]
    by_onnx = pd.read_parquet(
        project / "data/07_model_output/new_predictions" / onnx_version / "new_predictions"
    )
    agreement = (by_onnx["student_label"] == predictions["student_label"]).mean()
    assert agreement >= 0.99

    # kedro-viz builds a static site of every pipeline.
    result = run_kedro(project, "viz", "build", "--include-previews")
    assert (project / "build" / "api" / "main").exists()
    assert "circular dependency" not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.trains
def test_experiments_sweep_shares_one_annotation(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    run_kedro(project, "run", "--env=test", "--pipelines=data_processing,annotation")
    result = run_kedro(project, "run", "--env=test", "--pipelines=experiments")
    assert "experiments: variant 13/13" in result.stdout + result.stderr

    # The sweep annotated nothing itself: every variant trained from the one annotation.
    assert len(versions(project, "data/03_primary/annotations.parquet")) == 1
    (comparison_version,) = versions(project, "data/08_reporting/experiments_comparison.parquet")
    comparison = pd.read_parquet(
        project
        / "data/08_reporting/experiments_comparison.parquet"
        / comparison_version
        / "experiments_comparison.parquet"
    )
    grid = variant_grid()
    assert len(comparison) == len(grid) == 13
    assert set(comparison["variant"]) == {variant_name(r, f) for r, f in grid}
    full = comparison[comparison["train_fraction"] == 1.0].sort_values("explanation_rate")
    # More rationales kept as the explanation rate rises, on the same training rows.
    assert full["n_train_with_rationale"].is_monotonic_increasing
    assert full["n_train"].nunique() == 1

    runs = mlflow_query(project, "select run_uuid, name from runs")
    (sweep_run,) = [run for run, name in runs if name.startswith("experiments · ")]
    keys = {
        k
        for (k,) in mlflow_query(
            project, "select key from latest_metrics where run_uuid=?", sweep_run
        )
    }
    assert {f"experiments.{variant_name(r, f)}.accuracy" for r, f in grid} <= keys

    # The report says its teacher was simulated; the HTML copy carries its plots.
    (html_version,) = versions(project, "data/08_reporting/experiments_report.html")
    html = (
        (project / "data/08_reporting/experiments_report.html" / html_version)
        .joinpath("experiments_report.html")
        .read_text()
    )
    assert "SIMULATED TEACHER" in html
    assert html.count('src="data:image/png;base64,') == 2
