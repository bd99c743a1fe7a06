"""annotation: the zero-shot template + examples -> teacher labels and rationales."""

from zeroshot_distill.pipelines.annotation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
