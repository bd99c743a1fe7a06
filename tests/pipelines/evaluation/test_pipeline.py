"""The evaluation pipeline's wiring, its catalog entries, and a run through real datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from zeroshot_distill.annotation import (
    annotate_examples,
    plan_annotation,
    select_template,
)
from zeroshot_distill.pipelines.evaluation import create_pipeline

from .conftest import EVALUATION, TASK, make_examples
from .test_nodes import HISTORY

# Intermediates that live in memory within one run.
MEMORY = {"student_test_predictions", "student_profile", "student_rationales"}
MEMORY |= {"evaluation_plot_images"}
REPORT_ARTIFACTS = {
    "report",
    "report_html",
    "metrics",
    "confusion_matrix_plot",
    "training_curve_plot",
    "accuracy_comparison_plot",
    "break_even_plot",
}


def _catalog_config(project_root: Path) -> dict[str, Any]:
    return yaml.safe_load((project_root / "conf/base/catalog_evaluation.yml").read_text())


def test_pipeline_inputs_and_outputs() -> None:
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "student_model",
        "examples",
        "annotations",
        "annotation_prompt",
        "training_history",
        "opro_history",
        "best_prompt",
        "params:task",
        "params:teacher",
        "params:annotation",
        "params:evaluation",
    }
    assert pipeline.all_outputs() >= REPORT_ARTIFACTS | {"predictions", "evaluation_metrics"}


def test_catalog_entries(project_root: Path) -> None:
    config = _catalog_config(project_root)
    persisted = create_pipeline().all_outputs() - MEMORY
    assert persisted == set(config)
    for name, entry in config.items():
        if name == "evaluation_metrics":
            assert entry["prefix"] == "evaluation"
            continue
        if name == "student_model_card":  # written into the evaluated student's own version
            assert entry["type"] == "zeroshot_distill.datasets.StudentCardDataset"
            continue
        assert entry["versioned"] is True, name
        assert entry["metadata"]["kedro-viz"]["layer"] in {"model_output", "reporting"}
    for name in REPORT_ARTIFACTS:
        # the run's root: the Markdown's image links resolve next to it in MLflow, and the
        # compare view lists root files only
        assert config[name]["metadata"]["mlflow"]["artifact_path"] is None, name


def test_pipeline_runs_through_the_catalog(project_root, tmp_path, student, teacher_params) -> None:
    config = _catalog_config(project_root)
    for entry in config.values():
        if "filepath" in entry:
            entry["filepath"] = str(tmp_path / entry["filepath"])
    del config["evaluation_metrics"]  # MLflow: replaced by memory below
    catalog = DataCatalog.from_config(config, save_version="2026-01-01T00.00.00.000Z")

    examples = make_examples()
    annotation_params = {"splits": ["train", "valid"], "progress": False}
    prompt = select_template(examples, TASK, annotation_params, None, 0)
    plan = plan_annotation(examples, TASK, annotation_params, prompt, 0)
    annotations, _ = annotate_examples(
        plan, examples, TASK, teacher_params, annotation_params, prompt
    )
    inputs: dict[str, Any] = {
        "student_model": student,
        "examples": examples,
        "annotations": annotations,
        "annotation_prompt": prompt,
        "training_history": HISTORY,
        "opro_history": None,  # prompt optimization skipped
        "best_prompt": None,
        "params:task": TASK,
        "params:teacher": teacher_params,
        "params:annotation": annotation_params,
        "params:evaluation": EVALUATION,
        "evaluation_metrics": None,
    }
    for name, value in inputs.items():
        catalog[name] = MemoryDataset(value)

    SequentialRunner().run(create_pipeline(), catalog)

    folder = "2026-01-01T00.00.00.000Z"
    report = tmp_path / f"data/08_reporting/report.md/{folder}/report.md"
    html = tmp_path / f"data/08_reporting/report.html/{folder}/report.html"
    assert "SIMULATED TEACHER" in report.read_text()
    assert html.read_text().count("data:image/png;base64,") == 3
    for plot in ("confusion_matrix", "training_curve", "accuracy_comparison", "break_even"):
        png = tmp_path / f"data/08_reporting/{plot}.png/{folder}/{plot}.png"
        assert png.read_bytes().startswith(b"\x89PNG")
    predictions = pd.read_parquet(
        tmp_path / f"data/07_model_output/predictions.parquet/{folder}/predictions.parquet"
    )
    assert len(predictions) == 6 and predictions["teacher_compared"].sum() == 4
    assert catalog.load("evaluation_metrics")["student_accuracy"]["step"] == 0
