"""Training: the multi-task (label + rationale) student."""

from zeroshot_distill.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
