"""evaluation: student vs teacher on the test split, cost and speed, plots and a report."""

from zeroshot_distill.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
