"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zeroshot_distill.reporting import INVALID, agreement, classification_metrics, count_invalid

GOLD = ["a", "a", "b", "b", "c", "c", None]
PRED = ["a", "b", "b", None, "c", "a", "c"]


def test_classification_metrics_by_hand() -> None:
    m = classification_metrics(GOLD, PRED, ["a", "b", "c"])
    # The last row has no gold label: left out.
    assert (m["n"], m["n_unlabeled"], m["n_correct"], m["n_invalid"]) == (6, 1, 3, 1)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["invalid_rate"] == pytest.approx(1 / 6)
    # a: predicted at rows 0 (right) and 5 (wrong); gold at 0, 1 -> P 1/2, R 1/2.
    assert m["per_class"]["a"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    # c: predicted only at row 4 (right); gold at 4, 5 -> P 1, R 1/2, F1 2/3.
    assert m["per_class"]["c"]["precision"] == pytest.approx(1.0)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    # The invalid answer (gold b) lowers b's recall and is no class of its own.
    assert m["per_class"]["b"]["recall"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((0.5 + 0.5 + 2 / 3) / 3)
    cm = m["confusion_matrix"]
    assert cm["labels"] == ["a", "b", "c"]
    assert cm["predicted_labels"] == ["a", "b", "c", INVALID]
    assert cm["matrix"] == [[1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 1, 0]]


def test_classification_metrics_treats_nan_and_blank_as_invalid() -> None:
    m = classification_metrics(["a", "b", "a"], [np.nan, "  ", "a"], ["a", "b"])
    assert m["n_invalid"] == 2
    assert m["accuracy"] == pytest.approx(1 / 3)


def test_numeric_task_has_accuracy_only() -> None:
    m = classification_metrics(["3", "4.5"], ["3", None], None)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["macro_f1"] is None and m["per_class"] == {} and m["confusion_matrix"] is None


def test_empty_and_mismatched_inputs() -> None:
    assert math.isnan(classification_metrics([], [], ["a"])["accuracy"])
    with pytest.raises(ValueError, match="rows"):
        classification_metrics(["a"], [], ["a"])


def test_agreement_counts_only_rows_where_both_answered() -> None:
    a = agreement(["a", None, "b", "c"], ["a", "b", None, "a"])
    assert (a.n_rows, a.n_compared, a.n_agree) == (4, 2, 1)
    assert a.rate == pytest.approx(0.5)
    assert math.isnan(agreement([None], ["a"]).rate)


def test_count_invalid() -> None:
    assert count_invalid(["a", None, "", float("nan"), "b"]) == 3


def test_baselines_majority_class_and_chance():
    from zeroshot_distill.reporting import baselines

    gold = ["a", "b", "b", "b", None]
    base = baselines(gold, ["a", "b", "c"], accuracy=0.9)
    assert base["majority_label"] == "b" and base["n"] == 4
    assert base["majority"] == pytest.approx(0.75)
    assert base["chance"] == pytest.approx(1 / 3)
    assert base["beats_majority"] and base["beats_chance"]
    assert base["margin_over_majority"] == pytest.approx(0.15)
    worse = baselines(gold, ["a", "b", "c"], accuracy=0.5)
    assert not worse["beats_majority"] and worse["beats_chance"]
    assert baselines(["3", "4"], None, accuracy=1.0) is None  # numeric: no label set
    assert "beats_majority" not in baselines(gold, ["a", "b", "c"])
