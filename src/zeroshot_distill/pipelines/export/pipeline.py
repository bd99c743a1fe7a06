"""export: the student's label scoring as an ONNX graph (fp32 and int8), versioned.

``kedro run --pipelines=export`` (``--load-versions=student_model:<version>`` for an older
student); ``predict`` and the MLflow model then use it with ``predict.runtime: onnx``.
"""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.export.nodes import export_student_onnx


def create_pipeline(**kwargs) -> Pipeline:
    """One node: trace, quantize, describe."""
    return Pipeline(
        [
            Node(
                export_student_onnx,
                inputs=["student_model", "params:task", "params:export"],
                outputs=["student_onnx", "export_metrics"],
                name="export_student_onnx",
            ),
        ]
    )
