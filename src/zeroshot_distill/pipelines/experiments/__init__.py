"""experiments pipeline."""

from zeroshot_distill.pipelines.experiments.pipeline import create_pipeline

__all__ = ["create_pipeline"]
