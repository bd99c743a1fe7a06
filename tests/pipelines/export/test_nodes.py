"""The export node: an ONNX export with its sizes as metrics; numeric tasks refused."""

from __future__ import annotations

import pytest

from zeroshot_distill.pipelines.export.nodes import export_student_onnx
from zeroshot_distill.students import load_student
from zeroshot_distill.students.onnx_export import OnnxExportError

TINY = {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1}
NLI = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}


def test_export_returns_both_graphs_and_their_sizes():
    student = load_student({"architecture": TINY}, seed=0)
    export, metrics = export_student_onnx(student, NLI, {"quantize": True})
    assert export.int8 is not None and export.export_info["family"] == "seq2seq"
    assert set(metrics) == {"fp32_mb", "int8_mb"}
    assert metrics["fp32_mb"]["value"] == pytest.approx(len(export.fp32) / 1e6)


def test_a_numeric_task_is_refused_before_tracing():
    student = load_student({"architecture": TINY}, seed=0)
    svamp = {"name": "svamp", "kind": "numeric", "description": "math", "input_fields": ["q"]}
    with pytest.raises(OnnxExportError, match=r"numeric.*predict\.runtime: torch"):
        export_student_onnx(student, svamp, {})
