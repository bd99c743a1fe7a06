"""Nodes of the training pipeline: the multi-task student from the training set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.students import StudentBundle, summary_metrics, train_from_training_set


def train_student_model(
    training_set: pd.DataFrame,
    training: Mapping[str, Any],
    task: Mapping[str, Any],
    seed: int,
) -> tuple[StudentBundle, pd.DataFrame, dict[str, Any]]:
    """Train the student on the train split, select it on the valid split (never test).

    Parameters, data, model source and target lengths are all checked before the first
    training step. Returns the best student (by validation label accuracy), the training
    history (one row per logging step and per evaluation) and the MLflow metrics (label and
    rationale losses per step, validation accuracy per evaluation, best step, wall time,
    samples/s).
    """
    result = train_from_training_set(training_set, training, task, seed=seed)
    return result.student, result.history, summary_metrics(result.history, result.summary)
