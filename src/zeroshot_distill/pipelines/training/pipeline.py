"""The training pipeline: ``training_set`` -> the versioned ``student_model``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.training.nodes import train_student_model


def create_pipeline(**kwargs: object) -> Pipeline:
    """One node: multi-task training with model selection on the valid split."""
    return Pipeline(
        [
            Node(
                train_student_model,
                inputs=["training_set", "params:training", "params:task", "params:seed"],
                outputs=["student_model", "training_history", "training_metrics"],
                name="train_student_model",
            ),
        ]
    )
