"""active_distill: ELAD-style active distillation under a teacher budget, vs random selection."""

from zeroshot_distill.pipelines.active_distill.pipeline import create_pipeline

__all__ = ["create_pipeline"]
