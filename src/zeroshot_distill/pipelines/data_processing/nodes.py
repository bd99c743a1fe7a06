"""Nodes of the data_processing pipeline: raw rows in, validated and split ``examples`` out.

Thin wrappers: the examples contract lives in :mod:`zeroshot_distill.examples` (the predict
pipeline prepares new rows with it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill import examples as contract
from zeroshot_distill.examples import ExampleValidationError

__all__ = [
    "ExampleValidationError",
    "split_examples",
    "standardize_columns",
    "summarize_examples",
    "validate_examples",
]


def standardize_columns(
    raw: pd.DataFrame, task: Mapping[str, Any], params: Mapping[str, Any]
) -> pd.DataFrame:
    """Rename source columns to the examples schema and normalise ids, splits and labels."""
    return contract.standardize_columns(raw, task, params)


def validate_examples(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    teacher: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row against the task and the teacher's prompt-size limit; raise naming
    the first bad rows, or set them aside as ``rejected_examples`` (``on_invalid: drop``)."""
    return contract.validate_examples(examples, task, params, teacher)


def split_examples(examples: pd.DataFrame, params: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """Assign train/valid/test deterministically, cap split sizes, optionally drop train
    labels."""
    return contract.split_examples(examples, params, seed)


def summarize_examples(
    examples: pd.DataFrame, rejected: pd.DataFrame
) -> dict[str, list[dict[str, float]]]:
    """Counts per split, labeled rows and rejected rows, for MLflow."""
    return contract.summarize_examples(examples, rejected)
