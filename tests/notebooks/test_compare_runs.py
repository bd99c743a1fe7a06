"""The analysis notebook executes top to bottom against a real MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "compare_runs.ipynb"


def execute(tracking_uri: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, as for a user
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": workdir}}
    ).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(f"{k}: {v}" for k, v in output.get("data", {}).items())
    return "\n".join(texts)


@pytest.mark.slow
def test_notebook_tabulates_and_plots_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("zeroshot_distill")
    for name, accuracy, usd in (("cheap-run", 0.61, 0.02), ("rich-run", 0.74, 0.35)):
        with mlflow.start_run(run_name=name):
            mlflow.set_tags({"teacher_simulated": "false", "teacher_model": "gpt-4o-mini"})
            mlflow.log_metrics(
                {
                    "evaluation.student_accuracy": accuracy,
                    "evaluation.teacher_accuracy": 0.8,
                    "evaluation.teacher_usd_total": usd,
                }
            )
    with mlflow.start_run(run_name="sweep"):
        mlflow.log_metrics(
            {"experiments.er015_tf1000.accuracy": 0.55, "experiments.er100_tf1000.accuracy": 0.6}
        )
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///unused.db"))

    output = execute(uri, tmp_path, monkeypatch)

    assert "3 runs in experiment 'zeroshot_distill'" in output
    assert "cheap-run" in output and "rich-run" in output
    assert "image/png" in output or "<Figure" in output
    assert "er015_tf1000" in output and "er100_tf1000" in output


@pytest.mark.slow
def test_notebook_runs_on_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = execute(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, monkeypatch)
    assert "0 runs in experiment 'zeroshot_distill'" in output
