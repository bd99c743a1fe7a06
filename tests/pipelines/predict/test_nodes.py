"""The predict node: labels by label scoring (always valid, with a confidence) or generation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeroshot_distill.pipelines.predict.nodes import predict_new_examples
from zeroshot_distill.students import load_student

TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
TINY = {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1, "dropout_rate": 0.0}


def _inputs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "premise": ["A dog runs.", "Two men sit.", "It rains."],
            "hypothesis": ["An animal moves.", "Four men sit.", "The sun shines."],
            "gold_label": ["entailment", None, "contradiction"],
            "reference_rationale": [None, None, None],
        }
    )


def test_scored_predictions_are_valid_labels_with_a_confidence():
    student = load_student({"architecture": TINY}, seed=0)  # untrained: still valid labels
    result = predict_new_examples(student, _inputs(), TASK, {"batch_size": 2})
    assert result["valid_output"].all()
    assert set(result["student_label"]) <= set(TASK["labels"])
    assert result["student_confidence"].between(1 / 3, 1.0).all()  # the argmax of 3 labels
    assert "correct" in result.columns and "reference_rationale" not in result.columns


def test_generation_can_still_be_asked_for():
    student = load_student({"architecture": TINY}, seed=0)
    params = {"batch_size": 2, "label_decoding": "generate", "max_new_tokens": 4}
    result = predict_new_examples(student, _inputs(), TASK, params)
    assert "student_confidence" not in result.columns
    assert result["valid_output"].tolist() == result["student_label"].notna().tolist()


def test_a_decoder_only_student_predicts_and_explains():
    qwen2 = {
        "model_type": "qwen2",
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
    }
    student = load_student({"architecture": qwen2}, seed=0)
    scored = predict_new_examples(student, _inputs(), TASK, {"batch_size": 2, "explain": True})
    assert scored["valid_output"].all()
    assert scored["student_confidence"].between(1 / 3, 1.0).all()
    assert "student_rationale" in scored.columns
    params = {"batch_size": 2, "label_decoding": "generate", "max_new_tokens": 4}
    generated = predict_new_examples(student, _inputs(), TASK, params)
    assert generated["valid_output"].tolist() == generated["student_label"].notna().tolist()


# ------------------------------------------------------------------ at scale, and on ONNX
def _write_jsonl(path, n: int, *, with_ids: bool = True) -> None:
    import json

    premises = ["A dog runs.", "Two men sit on a long bench by the sea.", "It rains."]
    with path.open("w") as handle:
        for i in range(n):
            row = {"premise": premises[i % 3], "hypothesis": f"Row {i}."}
            if with_ids:
                row["id"] = f"r{i}"
            if i % 2:
                row["label"] = "neutral"
            handle.write(json.dumps(row) + "\n")


DATA_PROCESSING = {"column_mapping": {"label": "gold_label"}}


def _stream_into(tmp_path, student, onnx_dir, n, params, **read):
    from kedro.io import Version

    from zeroshot_distill.datasets import PartitionedParquetDataset, TaskFileDataset
    from zeroshot_distill.pipelines.predict.nodes import predict_in_chunks

    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "rows.jsonl"
    _write_jsonl(source, n, **read)
    chunks = TaskFileDataset(str(source), chunk_size=4).load()
    stream = predict_in_chunks(student, onnx_dir, chunks, TASK, DATA_PROCESSING, params)
    out = PartitionedParquetDataset(
        filepath=str(tmp_path / "new_predictions"), version=Version(None, "v1")
    )
    out.save(stream)
    return stream, pd.read_parquet(tmp_path / "new_predictions" / "v1" / "new_predictions")


def test_chunks_are_labelled_in_order_into_partitions(tmp_path):
    student = load_student({"architecture": TINY}, seed=0)
    params = {"batch_size": 3, "progress": False}
    stream, result = _stream_into(tmp_path, student, None, 10, params, with_ids=False)
    partitions = sorted((tmp_path / "new_predictions" / "v1" / "new_predictions").iterdir())
    assert [p.name for p in partitions] == [f"part-0000{i}.parquet" for i in range(3)]
    # The file's row numbers, not each chunk's: ids stay unique across chunks.
    assert result["id"].tolist() == [f"nli-{i:04d}" for i in range(1, 11)]
    assert result["valid_output"].all() and result["student_confidence"].notna().all()
    assert result["correct"].isna().sum() == 5  # the unlabeled rows
    assert stream.rows == 10 and stream.labeled == 5
    lines = stream.summary_lines()
    assert lines[0].startswith("10 rows labelled, 0 without a label, accuracy ")
    assert "rows/s" in lines[0] and "nli-0001" in lines[1] + lines[2]


def test_the_onnx_runtime_labels_like_torch(tmp_path):
    from zeroshot_distill.students.onnx_export import export_student

    student = load_student({"architecture": TINY}, seed=0)
    export_student(student, quantize=False).save(tmp_path / "onnx")
    params = {"batch_size": 4, "progress": False}
    _, by_torch = _stream_into(tmp_path / "a", student, None, 9, params)
    onnx_params = {**params, "runtime": "onnx"}
    _, by_onnx = _stream_into(tmp_path / "b", student, tmp_path / "onnx", 9, onnx_params)
    assert by_onnx["student_label"].tolist() == by_torch["student_label"].tolist()
    assert np.allclose(by_onnx["student_confidence"], by_torch["student_confidence"], atol=1e-4)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"runtime": "tensorrt"}, r"predict\.runtime"),
        ({"runtime": "onnx"}, r"--pipelines=export"),
        ({"runtime": "onnx", "explain": True}, r"predict\.explain"),
    ],
)
def test_runtime_problems_name_the_parameter_and_the_fix(params, message):
    from zeroshot_distill.pipelines.predict.nodes import runtime_student

    student = load_student({"architecture": TINY}, seed=0)
    with pytest.raises(ValueError, match=message):
        runtime_student(student, None, params)
