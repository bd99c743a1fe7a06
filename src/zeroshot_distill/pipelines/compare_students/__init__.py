"""compare_students pipeline."""

from zeroshot_distill.pipelines.compare_students.pipeline import create_pipeline

__all__ = ["create_pipeline"]
