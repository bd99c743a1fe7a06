"""The training node: a StudentBundle, a history table and MLflow-shaped metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from zeroshot_distill.pipelines.training import create_pipeline
from zeroshot_distill.pipelines.training.nodes import train_student_model
from zeroshot_distill.students import StudentBundle, TrainingConfigError

pytestmark = pytest.mark.trains

TASK = {
    "name": "sentiment",
    "kind": "classification",
    "description": "Sentiment",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}
PARAMS = {
    "student": {
        "architecture": {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_heads": 4, "num_layers": 1}
    },
    "max_steps": 4,
    "num_threads": 1,
    "batch_size": 4,
    "eval_steps": 2,
    "logging_steps": 1,
    "max_rationale_length": 64,
    "progress_bar": False,
}


def _training_set() -> pd.DataFrame:
    rows = []
    for split, n in (("train", 8), ("valid", 4), ("test", 4)):
        for i in range(n):
            label = "positive" if i % 2 else "negative"
            text = f"{'great' if i % 2 else 'awful'} thing {i}"
            rows.append(
                {
                    "id": f"{split}{i}",
                    "split": split,
                    "text": text,
                    "input": f"text: {text}",
                    "label": label,
                    "label_target": label,
                    "rationale_target": f"it says {text.split()[0]}" if split == "train" else None,
                }
            )
    return pd.DataFrame(rows)


def test_node_returns_student_history_and_metrics():
    student, history, metrics = train_student_model(_training_set(), PARAMS, TASK, seed=3)
    assert isinstance(student, StudentBundle)
    assert student.info["final_step"] == 4 and student.info["n_train"] == 8
    assert set(history["kind"]) == {"train", "eval"}
    assert len(history[history["kind"] == "eval"]) == 2
    for name in ("label_loss", "rationale_loss", "loss", "valid_accuracy"):
        assert isinstance(metrics[name], list) and {"step", "value"} <= set(metrics[name][0])
    assert [m["step"] for m in metrics["label_loss"]] == [1, 2, 3, 4]
    for name in ("best_step", "best_valid_accuracy", "wall_time_s", "train_samples_per_s"):
        assert set(metrics[name]) == {"step", "value"}
    assert metrics["train_samples_per_s"]["value"] > 0


def test_node_rejects_bad_parameters_before_training():
    with pytest.raises(TrainingConfigError, match=r"training\.alpha"):
        train_student_model(_training_set(), {**PARAMS, "alpha": 2}, TASK, seed=0)
    with pytest.raises(TrainingConfigError, match=r"training\.bogus"):
        train_student_model(_training_set(), {**PARAMS, "bogus": 1}, TASK, seed=0)


def test_pipeline_wiring():
    pipeline = create_pipeline()
    assert [n.name for n in pipeline.nodes] == ["train_student_model"]
    assert pipeline.inputs() == {"training_set", "params:training", "params:task", "params:seed"}
    assert pipeline.outputs() == {"student_model", "training_history", "training_metrics"}
