"""Classification metrics, invalid outputs and agreement between two labelers.

Pure functions over plain sequences, shared by the evaluation pipeline, the experiments
sweep and active distillation. A prediction is a label string or ``None`` ("invalid": the
model's output named no label); invalid predictions count as wrong, never as a class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from zeroshot_distill.tasks.values import is_blank

#: Column name of the confusion matrix for outputs that named no label.
INVALID = "(invalid)"


def _labels(values: Sequence[Any]) -> list[str | None]:
    return [None if is_blank(v) else str(v) for v in values]


def count_invalid(predicted: Sequence[Any]) -> int:
    """How many predictions are invalid (``None``, NaN or blank)."""
    return sum(1 for v in predicted if is_blank(v))


def invalid_rate(predicted: Sequence[Any]) -> float:
    """Share of invalid predictions; NaN for an empty sequence."""
    return count_invalid(predicted) / len(predicted) if len(predicted) else math.nan


def classification_metrics(
    gold: Sequence[Any], predicted: Sequence[Any], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.

    Rows without a gold label are left out (counted as ``n_unlabeled``). Invalid predictions
    are wrong answers: they lower accuracy and the recall of their gold class, and appear in
    the confusion matrix's extra :data:`INVALID` column. ``labels`` is the task's label set;
    ``None`` (numeric answers) gives accuracy and the invalid rate only, as per-class figures
    over open-ended numbers mean nothing.

    Returns a JSON-ready dict: ``n, n_unlabeled, n_correct, n_invalid, invalid_rate,
    accuracy, macro_f1, per_class {label: {precision, recall, f1, support}},
    confusion_matrix {labels, predicted_labels, matrix}`` (rows gold, columns predicted).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} rows but predicted has {len(predicted)}")
    pairs = [(g, p) for g, p in zip(_labels(gold), _labels(predicted), strict=True) if g]
    y_true = [g for g, _ in pairs]
    y_pred = [p if p is not None else INVALID for _, p in pairs]
    n = len(pairs)
    n_correct = sum(1 for g, p in zip(y_true, y_pred, strict=True) if g == p)
    n_invalid = sum(1 for p in y_pred if p == INVALID)
    result: dict[str, Any] = {
        "n": n,
        "n_unlabeled": len(gold) - n,
        "n_correct": n_correct,
        "n_invalid": n_invalid,
        "invalid_rate": n_invalid / n if n else math.nan,
        "accuracy": n_correct / n if n else math.nan,
        "macro_f1": None,
        "per_class": {},
        "confusion_matrix": None,
    }
    if labels is None or n == 0:
        return result
    labels = [str(label) for label in labels]
    result["macro_f1"] = float(
        f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    )
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    result["per_class"] = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    columns = [*labels, INVALID]
    matrix = confusion_matrix(y_true, y_pred, labels=columns)[: len(labels)]
    result["confusion_matrix"] = {
        "labels": labels,
        "predicted_labels": columns,
        "matrix": np.asarray(matrix, dtype=int).tolist(),
    }
    return result


@dataclass(frozen=True)
class Agreement:
    """How often two labelers (e.g. student and teacher) give the same label.

    ``rate`` is over the ``n_compared`` rows where both gave a valid label; ``n_rows`` counts
    every row offered, so ``n_rows - n_compared`` rows had an invalid answer on either side.
    """

    n_rows: int
    n_compared: int
    n_agree: int
    rate: float

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def agreement(first: Sequence[Any], second: Sequence[Any]) -> Agreement:
    """Agreement of two label sequences over rows where both are valid labels."""
    if len(first) != len(second):
        raise ValueError(f"first has {len(first)} rows but second has {len(second)}")
    both = [(a, b) for a, b in zip(_labels(first), _labels(second), strict=True) if a and b]
    n_agree = sum(1 for a, b in both if a == b)
    return Agreement(
        n_rows=len(first),
        n_compared=len(both),
        n_agree=n_agree,
        rate=n_agree / len(both) if both else math.nan,
    )


def baselines(
    gold: Sequence[Any], labels: Sequence[str] | None, accuracy: float | None = None
) -> dict[str, Any] | None:
    """The accuracies a student must beat to have learned anything, on the same rows.

    - ``majority``: always answering the most frequent gold label of these rows (the best
      constant answer in hindsight, so the strictest trivial baseline);
    - ``chance``: guessing uniformly among the ``labels`` (``1 / len(labels)``).

    With ``accuracy`` (the student's), also ``beats_majority``, ``beats_chance`` and
    ``margin_over_majority`` (in accuracy points, 0.1 = 10 points). ``None`` for tasks
    without a label set (open numeric answers have no meaningful constant answer).
    """
    if labels is None:
        return None
    values = [g for g in _labels(gold) if g]
    if not values:
        return None
    counts = {label: values.count(label) for label in dict.fromkeys([*labels, *values])}
    majority_label = max(counts, key=lambda label: counts[label])
    result: dict[str, Any] = {
        "n": len(values),
        "majority_label": majority_label,
        "majority": counts[majority_label] / len(values),
        "chance": 1.0 / len(labels) if len(labels) else math.nan,
    }
    if accuracy is not None and not math.isnan(float(accuracy)):
        result["beats_majority"] = bool(float(accuracy) > result["majority"])
        result["beats_chance"] = bool(float(accuracy) > result["chance"])
        result["margin_over_majority"] = float(accuracy) - result["majority"]
    return result
