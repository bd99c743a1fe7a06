"""OPRO prompt optimization: seed templates -> scored proposals -> ``best_prompt``."""

from zeroshot_distill.pipelines.prompt_optimization.pipeline import create_pipeline

__all__ = ["create_pipeline"]
