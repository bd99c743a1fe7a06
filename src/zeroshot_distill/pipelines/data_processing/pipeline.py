"""data_processing: raw task data -> validated, split, versioned ``examples``."""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.data_processing.nodes import (
    split_examples,
    standardize_columns,
    summarize_examples,
    validate_examples,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Standardize columns, validate rows, split deterministically, report counts."""
    return Pipeline(
        [
            Node(
                standardize_columns,
                inputs=["raw_examples", "params:task", "params:data_processing"],
                outputs="standardized_examples",
                name="standardize_columns",
            ),
            Node(
                validate_examples,
                inputs=[
                    "standardized_examples",
                    "params:task",
                    "params:data_processing",
                    "params:teacher",
                ],
                outputs=["validated_examples", "rejected_examples"],
                name="validate_examples",
            ),
            Node(
                split_examples,
                inputs=["validated_examples", "params:data_processing", "params:seed"],
                outputs="examples",
                name="split_examples",
            ),
            Node(
                summarize_examples,
                inputs=["examples", "rejected_examples"],
                outputs="data_processing_metrics",
                name="summarize_examples",
            ),
        ]
    )
