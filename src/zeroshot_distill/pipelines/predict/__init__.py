"""predict pipeline."""

from zeroshot_distill.pipelines.predict.pipeline import create_pipeline

__all__ = ["create_pipeline"]
