"""Nodes of the export pipeline: the trained student as an ONNX label-scoring graph."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from zeroshot_distill.students import StudentBundle
from zeroshot_distill.students.onnx_export import OnnxExport, OnnxExportError, export_student
from zeroshot_distill.tasks import TaskSpec

logger = logging.getLogger(__name__)


def export_student_onnx(
    student: StudentBundle, task: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[OnnxExport, dict[str, Any]]:
    """Export ``student``'s label scoring to ONNX, with an int8 variant if
    ``export.quantize``; return the export and its sizes (MB) as metrics.

    The graph reads labels by label scoring, so a numeric task (whose answers are
    generated) is refused before anything is traced.
    """
    spec = TaskSpec.from_params(task)
    if spec.label_set is None:
        raise OnnxExportError(
            f"task {spec.name!r} is numeric: its answers are generated, and the ONNX export "
            "holds label scoring only. Keep `predict.runtime: torch` for this task."
        )
    export = export_student(
        student,
        quantize=bool(params.get("quantize", True)),
        opset=int(params.get("opset", 17)),
    )
    sizes = {"fp32_mb": len(export.fp32) / 1e6}
    if export.int8 is not None:
        sizes["int8_mb"] = len(export.int8) / 1e6
    logger.info(
        "export: %s student (%s parameters) as ONNX: %s",
        student.family,
        f"{student.num_parameters:,}",
        ", ".join(f"{k.removesuffix('_mb')} {v:.2f} MB" for k, v in sizes.items()),
    )
    metrics = {name: {"value": float(value), "step": 0} for name, value in sizes.items()}
    return export, metrics
