"""The subsampling pipeline: examples + annotations -> the versioned ``training_set``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.subsampling.nodes import (
    build_label_pool,
    subsample_training_set,
    subsampling_metrics,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Label pool, then the training set, then its sizes for MLflow."""
    return Pipeline(
        [
            Node(
                build_label_pool,
                inputs=["examples", "annotations", "params:task", "params:subsampling"],
                outputs="label_pool",
                name="build_label_pool",
            ),
            Node(
                subsample_training_set,
                inputs=["label_pool", "params:task", "params:subsampling", "params:seed"],
                outputs="training_set",
                name="subsample_training_set",
            ),
            Node(
                subsampling_metrics,
                inputs=["label_pool", "training_set", "params:subsampling"],
                outputs="subsampling_metrics",
                name="report_subsampling_metrics",
            ),
        ]
    )
