"""Custom Kedro datasets of the project."""

from zeroshot_distill.datasets.hf_task_dataset import HuggingFaceTaskDataset
from zeroshot_distill.datasets.model_directory import ModelDirectoryDataset
from zeroshot_distill.datasets.optional import OptionalJSONDataset, OptionalParquetDataset

__all__ = [
    "HuggingFaceTaskDataset",
    "ModelDirectoryDataset",
    "OptionalJSONDataset",
    "OptionalParquetDataset",
]
