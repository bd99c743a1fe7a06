"""Nodes of the subsampling pipeline: from examples + annotations to the training set.

Thin wrappers: the label pool, the subsampling and the selection strategies live in
:mod:`zeroshot_distill.trainset` (the experiments and active_distill pipelines use them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill import trainset


def build_label_pool(
    examples: pd.DataFrame,
    annotations: pd.DataFrame,
    task: Mapping[str, Any],
    subsampling: Mapping[str, Any],
) -> pd.DataFrame:
    """Every example with its label and rationale, and why it is unusable if it is
    (``excluded``: ``not_annotated``, ``unparsed_label`` or ``no_gold_label``)."""
    return trainset.build_label_pool(examples, annotations, task, subsampling)


def subsample_training_set(
    pool: pd.DataFrame,
    task: Mapping[str, Any],
    subsampling: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """The ``training_set``: a seeded train fraction whose explanation-rate share keeps its
    rationale (by the configured selection strategy), plus the valid and test rows."""
    return trainset.subsample_training_set(pool, task, subsampling, seed)


def subsampling_metrics(
    pool: pd.DataFrame, training_set: pd.DataFrame, subsampling: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """Sizes for MLflow: pool and kept rows per split, exclusions, the explanation rate."""
    return trainset.subsampling_metrics(pool, training_set, subsampling)
