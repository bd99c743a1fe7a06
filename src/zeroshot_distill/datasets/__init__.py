"""Custom Kedro datasets of the project."""

from zeroshot_distill.datasets.hf_task_dataset import HuggingFaceTaskDataset
from zeroshot_distill.datasets.model_directory import ModelDirectoryDataset
from zeroshot_distill.datasets.onnx_student import OnnxStudentDataset
from zeroshot_distill.datasets.optional import OptionalJSONDataset, OptionalParquetDataset
from zeroshot_distill.datasets.partitioned_parquet import PartitionedParquetDataset
from zeroshot_distill.datasets.student_card import StudentCardDataset
from zeroshot_distill.datasets.task_file import InputFileError, TaskFileChunks, TaskFileDataset

__all__ = [
    "HuggingFaceTaskDataset",
    "InputFileError",
    "ModelDirectoryDataset",
    "OnnxStudentDataset",
    "OptionalJSONDataset",
    "OptionalParquetDataset",
    "PartitionedParquetDataset",
    "StudentCardDataset",
    "TaskFileChunks",
    "TaskFileDataset",
]
