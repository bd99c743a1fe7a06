"""The analysis notebook executes top to bottom against a real MLflow store."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from mlflow import MlflowClient
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
    # An explicit client: the fluent API's global state (active experiment, tracking URI)
    # would leak into later tests.
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("zeroshot_distill")
    runs = {
        "cheap-run": {"evaluation.student_accuracy": 0.61, "evaluation.teacher_usd_total": 0.02},
        "rich-run": {"evaluation.student_accuracy": 0.74, "evaluation.teacher_usd_total": 0.35},
        "sweep": {
            "experiments.er015_tf1000.accuracy": 0.55,
            "experiments.er100_tf1000.accuracy": 0.6,
        },
    }
    for name, metrics in runs.items():
        run = client.create_run(experiment, run_name=name)
        if name != "sweep":
            client.set_tag(run.info.run_id, "teacher_simulated", "false")
            client.log_metric(run.info.run_id, "evaluation.teacher_accuracy", 0.8)
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)

    output = execute(uri, tmp_path, monkeypatch)

    assert "3 runs in experiment 'zeroshot_distill'" in output
    assert "cheap-run" in output and "rich-run" in output
    assert "image/png" in output or "<Figure" in output
    assert "er015_tf1000" in output and "er100_tf1000" in output


@pytest.mark.slow
def test_notebook_runs_on_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = execute(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, monkeypatch)
    assert "0 runs in experiment 'zeroshot_distill'" in output
