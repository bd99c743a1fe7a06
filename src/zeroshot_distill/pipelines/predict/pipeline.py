"""predict: a chosen student version labels new data.

``kedro run --pipelines=predict --load-versions=student_model:<version>
--params predict_file=my_rows.jsonl`` (``predict.runtime=onnx``: the export's graph).
"""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.predict.nodes import predict_in_chunks


def create_pipeline(**kwargs) -> Pipeline:
    """Read the rows chunk by chunk, validate each like training data, label it with the
    student (PyTorch or its ONNX export) and write it as one output partition."""
    return Pipeline(
        [
            Node(
                predict_in_chunks,
                inputs=[
                    "student_model",
                    "student_onnx",
                    "prediction_inputs",
                    "params:task",
                    "params:data_processing",
                    "params:predict",
                ],
                outputs="new_predictions",
                name="predict_new_examples",
            ),
        ]
    )
