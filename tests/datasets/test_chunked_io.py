"""Chunked input (TaskFileChunks), partitioned versioned output, and the ONNX export folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DatasetError, Version

from zeroshot_distill.datasets import (
    InputFileError,
    OnnxStudentDataset,
    PartitionedParquetDataset,
    TaskFileDataset,
)


def _jsonl(path, n: int, bad_line: int | None = None) -> None:
    lines = [json.dumps({"id": f"r{i}", "text": f"row {i}"}) for i in range(n)]
    if bad_line is not None:
        lines[bad_line - 1] = '{"id": "broken", "text": '
    path.write_text("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n")


@pytest.mark.parametrize("file_format", ["jsonl", "parquet", "csv"])
def test_chunks_cover_the_file_in_order_with_its_row_numbers(tmp_path, file_format):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(10)], "text": [f"t{i}" for i in range(10)]})
    path = tmp_path / f"rows.{file_format}"
    if file_format == "jsonl":
        _jsonl(path, 10)
    elif file_format == "parquet":
        frame.to_parquet(path, row_group_size=3)
    else:
        frame.to_csv(path, index=False)
    chunks = TaskFileDataset(str(path), chunk_size=4).load()
    assert chunks.total_rows == 10 and len(chunks) == 3
    parts = list(chunks)
    assert [len(p) for p in parts] == [4, 4, 2]
    assert pd.concat(parts)["id"].tolist() == frame["id"].tolist()
    assert parts[1].index.tolist() == [4, 5, 6, 7]
    assert len(list(chunks)) == 3  # iterable again


def test_a_broken_jsonl_line_is_named_by_its_line_in_the_file(tmp_path):
    path = tmp_path / "rows.jsonl"
    _jsonl(path, 9, bad_line=8)  # line 9 of the file: one blank line comes before it
    chunks = TaskFileDataset(str(path), chunk_size=2).load()
    with pytest.raises(InputFileError, match=r"line 9, column \d+: not valid JSON"):
        list(chunks)
    with pytest.raises(InputFileError, match="chunk_size"):
        TaskFileDataset(str(path), chunk_size=0)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputFileError, match="empty"):
        list(TaskFileDataset(str(empty), chunk_size=2).load())


def test_partitions_are_saved_one_at_a_time_and_load_lazily(tmp_path):
    made = []

    def frames():
        for i in range(3):
            made.append(i)
            yield pd.DataFrame({"n": [i, i]})

    filepath = str(tmp_path / "out")
    PartitionedParquetDataset(filepath=filepath, version=Version(None, "v1")).save(frames())
    lazy = {"b": lambda: pd.DataFrame({"n": [9]}), "a": pd.DataFrame({"n": [8]})}
    PartitionedParquetDataset(filepath=filepath, version=Version(None, "v2")).save(lazy)
    first = PartitionedParquetDataset(filepath=filepath, version=Version("v1", None)).load()
    assert list(first) == ["part-00000", "part-00001", "part-00002"] and made == [0, 1, 2]
    assert first["part-00002"]()["n"].tolist() == [2, 2]
    latest = PartitionedParquetDataset(filepath=filepath, version=Version(None, None)).load()
    assert list(latest) == ["a", "b"]
    assert pd.read_parquet(tmp_path / "out" / "v1" / "out")["n"].tolist() == [0, 0, 1, 1, 2, 2]


def test_a_failed_save_leaves_no_half_written_version(tmp_path):
    def frames():
        yield pd.DataFrame({"n": [1]})
        raise RuntimeError("the model crashed")

    dataset = PartitionedParquetDataset(filepath=str(tmp_path / "out"), version=Version(None, "v1"))
    with pytest.raises(DatasetError, match="crashed"):
        dataset.save(frames())
    assert not (tmp_path / "out" / "v1").exists()
    with pytest.raises(DatasetError, match="not a DataFrame"):
        dataset.save({"a": [1, 2]})


def test_the_onnx_folder_loads_none_until_something_was_exported(tmp_path):
    from zeroshot_distill.students import load_student
    from zeroshot_distill.students.onnx_export import export_student

    filepath = str(tmp_path / "student_onnx")
    assert OnnxStudentDataset(filepath=filepath, version=Version(None, None)).load() is None
    student = load_student({"architecture": {"d_model": 16, "d_ff": 32, "num_layers": 1}})
    OnnxStudentDataset(filepath=filepath, version=Version(None, "v1")).save(
        export_student(student, quantize=False)
    )
    loaded = OnnxStudentDataset(filepath=filepath, version=Version(None, None)).load()
    assert loaded == tmp_path / "student_onnx" / "v1" / "student_onnx"
    assert (loaded / "model.onnx").is_file() and not (loaded / "model.int8.onnx").exists()
    with pytest.raises(DatasetError, match="OnnxExport"):
        OnnxStudentDataset(filepath=filepath, version=Version(None, "v2")).save("model")
