"""The shipped configuration: parameters validate, every task has usable seed templates,
the catalog entries are versioned with kedro-viz metadata, metrics reach MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zeroshot_distill.optimization import Objective, PromptOptimizationParams
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.tasks.prompts import validate_template

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
TASKS = sorted(p.stem for p in (CONF / "tasks").glob("*.yml"))


def _params() -> dict:
    return yaml.safe_load((CONF / "parameters_prompt_optimization.yml").read_text())[
        "prompt_optimization"
    ]


def _spec(name: str) -> TaskSpec:
    data = yaml.safe_load((CONF / "tasks" / f"{name}.yml").read_text())
    return TaskSpec.from_params(data[f"_task_{name}"])


def test_base_parameters_validate_with_an_explanation_aware_default() -> None:
    params = PromptOptimizationParams.from_params(_params())
    assert params.objective == Objective(
        name="accuracy_min_explanation_rate", min_explanation_rate=0.8
    )
    assert params.top_k == 15 and params.n_candidates == 8
    assert params.optimizer_temperature == pytest.approx(1.0)
    assert params.scorer_temperature == 0.0
    assert params.optimizer is None and params.scorer is None  # = params:teacher


@pytest.mark.parametrize("task", TASKS)
def test_every_bundled_task_has_three_valid_distinct_seeds(task: str) -> None:
    spec = _spec(task)
    seeds = PromptOptimizationParams.from_params(_params()).seeds_for(spec)
    assert len(seeds) >= 3
    assert len(set(seeds)) == len(seeds)
    for seed in seeds:
        validate_template(seed, spec)
    lowered = [s.lower() for s in seeds]
    assert any("one sentence" in s or "one or two sentences" in s for s in lowered)
    assert any("explain" not in s and "step by step" not in s for s in lowered)  # label only


def test_catalog_entries_are_versioned_with_viz_metadata() -> None:
    catalog = yaml.safe_load((CONF / "catalog_prompt_optimization.yml").read_text())
    assert set(catalog) == {
        "opro_history",
        "best_prompt",
        "opro_progression_plot",
        "opro_metrics",
    }
    for name in ("opro_history", "best_prompt", "opro_progression_plot"):
        entry = catalog[name]
        assert entry["versioned"] is True, name
        assert {"layer", "preview_args"} <= set(entry["metadata"]["kedro-viz"]), name
    # Drawn before the primary annotations it is used for (kedro-viz orders layers).
    assert catalog["best_prompt"]["metadata"]["kedro-viz"]["layer"] == "intermediate"
    assert catalog["opro_progression_plot"]["filepath"].startswith("data/08_reporting/")
    assert catalog["opro_progression_plot"]["type"] == "matplotlib.MatplotlibDataset"
    metrics = catalog["opro_metrics"]
    assert metrics["type"] == "kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset"
    assert metrics["prefix"] == "prompt_optimization"


def test_metrics_are_logged_to_mlflow_with_the_prefix(tmp_path: Path) -> None:
    import mlflow
    import pandas as pd
    from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset
    from mlflow.tracking import MlflowClient

    from zeroshot_distill.reporting.opro import search_metrics

    history = pd.DataFrame(
        {
            "step": [0, 0, 1, 1],
            "template_id": ["s0-c1", "s0-c2", "s1-c1", "s1-c2"],
            "status": ["scored", "scored", "scored", "rejected"],
            "accuracy": [0.5, 0.9, 0.7, None],
            "explanation_rate": [0.9, 0.1, 0.85, None],
            "score": [0.5, 0.1125, 0.7, None],
            "prompt_tokens": [100, 100, 100, 0],
            "completion_tokens": [10, 10, 10, 0],
            "cost_usd": [0.01, 0.01, 0.01, 0.0],
            "optimizer_prompt_tokens": [0, 0, 50, 50],
            "optimizer_completion_tokens": [0, 0, 5, 5],
            "optimizer_cost_usd": [0.0, 0.0, 0.002, 0.002],
            "simulated": [False] * 4,
        }
    )
    metrics = search_metrics(history, Objective(), {"stop_reason": "n_steps"})
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run() as run:
            MlflowMetricsHistoryDataset(prefix="prompt_optimization").save(metrics)
        client = MlflowClient()
        best = client.get_metric_history(run.info.run_id, "prompt_optimization.best_score")
        mean = client.get_metric_history(run.info.run_id, "prompt_optimization.mean_score")
        logged = client.get_run(run.info.run_id).data.metrics
    finally:
        mlflow.set_tracking_uri(previous)
    assert [(m.step, m.value) for m in sorted(best, key=lambda m: m.step)] == [(0, 0.5), (1, 0.7)]
    assert sorted(m.step for m in mean) == [0, 1]
    assert logged["prompt_optimization.final_accuracy"] == pytest.approx(0.7)
    assert logged["prompt_optimization.final_explanation_rate"] == pytest.approx(0.85)
    assert logged["prompt_optimization.cost_usd"] == pytest.approx(0.034)
    assert logged["prompt_optimization.prompt_tokens"] == 400
    assert logged["prompt_optimization.n_rejected"] == 1


def test_explanation_advice_follows_the_parse_statuses() -> None:
    from zeroshot_distill.pipelines.prompt_optimization.nodes import explanation_advice

    parser = explanation_advice({"n_rationale_missed": 30, "n_no_rationale": 2, "n_no_label": 0})
    assert "parser problem" in parser and "more steps will not help" in parser
    teacher = explanation_advice({"n_rationale_missed": 1, "n_no_rationale": 30, "n_no_label": 0})
    assert "ask for a reason" in teacher
    labels = explanation_advice({"n_rationale_missed": 0, "n_no_rationale": 1, "n_no_label": 9})
    assert "verbalizers" in labels
