"""Custom Kedro datasets of the project."""

from zeroshot_distill.datasets.hf_task_dataset import HuggingFaceTaskDataset
from zeroshot_distill.datasets.model_directory import ModelDirectoryDataset
from zeroshot_distill.datasets.optional import OptionalJSONDataset, OptionalParquetDataset
from zeroshot_distill.datasets.student_card import StudentCardDataset
from zeroshot_distill.datasets.task_file import InputFileError, TaskFileDataset

__all__ = [
    "HuggingFaceTaskDataset",
    "InputFileError",
    "ModelDirectoryDataset",
    "OptionalJSONDataset",
    "OptionalParquetDataset",
    "StudentCardDataset",
    "TaskFileDataset",
]
