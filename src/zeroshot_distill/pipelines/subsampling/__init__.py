"""Subsampling: the training set with a train fraction and an explanation rate."""

from zeroshot_distill.pipelines.subsampling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
