"""The ``examples`` contract: standardize raw rows, validate them against the task (and the
teacher's prompt-size limit), split them, count them."""

from zeroshot_distill.examples.prepare import (
    SPLITS,
    ExampleValidationError,
    split_examples,
    standardize_columns,
    summarize_examples,
    validate_examples,
)

__all__ = [
    "SPLITS",
    "ExampleValidationError",
    "split_examples",
    "standardize_columns",
    "summarize_examples",
    "validate_examples",
]
