"""predict: a chosen student version labels new data.

``kedro run --pipelines=predict --load-versions=student_model:<version>
--params predict_file=my_rows.jsonl``
"""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.predict.nodes import (
    predict_new_examples,
    prepare_prediction_inputs,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Validate new rows like training data, then label them with the student."""
    return Pipeline(
        [
            Node(
                prepare_prediction_inputs,
                inputs=["prediction_inputs", "params:task", "params:data_processing"],
                outputs="prediction_examples",
                name="prepare_prediction_inputs",
            ),
            Node(
                predict_new_examples,
                inputs=["student_model", "prediction_examples", "params:task", "params:predict"],
                outputs="new_predictions",
                name="predict_new_examples",
            ),
        ]
    )
