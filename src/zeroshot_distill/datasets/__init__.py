"""Custom Kedro datasets of the project."""

from zeroshot_distill.datasets.hf_task_dataset import HuggingFaceTaskDataset

__all__ = ["HuggingFaceTaskDataset"]
