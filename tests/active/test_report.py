"""Comparison at equal spend, MLflow metric histories and the Markdown report."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from zeroshot_distill.reporting.active import (
    accuracy_curve,
    equal_spend_metrics,
    equal_spend_table,
    render_report,
    round_metrics,
    spend_axis,
)

ARMS = ["explanation_consistency", "random"]


def _rounds() -> pd.DataFrame:
    rows = []
    for arm, accs, spends in (
        ("explanation_consistency", [0.4, 0.55, 0.7], [0.10, 0.20, 0.30]),
        ("random", [0.4, 0.45, 0.5, 0.6], [0.10, 0.21, 0.29, 0.40]),
    ):
        for r, (acc, usd) in enumerate(zip(accs, spends, strict=True)):
            rows.append(
                {
                    "strategy": arm,
                    "round": r,
                    "valid_accuracy": acc - 0.05,
                    "test_accuracy": acc,
                    "cumulative_usd": usd,
                    "cumulative_calls": 10 * (r + 1),
                    "n_annotated": 10 * (r + 1),
                    "n_added": 10,
                    "stop_reason": None,
                }
            )
    return pd.DataFrame(rows)


def test_equal_spend_takes_each_arms_last_round_within_the_spend():
    table = equal_spend_table(_rounds(), ARMS)
    # levels up to the smaller final spend (0.30); random's 0.40 round is beyond it
    assert table["spend"].tolist() == pytest.approx([0.10, 0.20, 0.21, 0.29, 0.30])
    last = table.iloc[-1]
    assert last["explanation_consistency.test_accuracy"] == pytest.approx(0.7)
    assert last["random.test_accuracy"] == pytest.approx(0.5)  # its round 2 (0.29)
    assert last["delta_test_accuracy"] == pytest.approx(0.2)
    at_020 = table[table["spend"].round(2) == 0.20].iloc[0]
    assert at_020["random.round"] == 0  # random's round 1 cost 0.21 > 0.20


def test_free_teachers_are_compared_by_calls():
    rounds = _rounds().assign(cumulative_usd=0.0)
    assert spend_axis(rounds) == "cumulative_calls"
    assert spend_axis(_rounds()) == "cumulative_usd"


def test_metrics_are_histories_with_round_steps():
    metrics = round_metrics(_rounds())
    history = metrics["random.test_accuracy"]
    assert [p["step"] for p in history] == [0, 1, 2, 3]
    assert metrics["explanation_consistency.cumulative_usd"][-1]["value"] == pytest.approx(0.3)
    summary = equal_spend_metrics(equal_spend_table(_rounds(), ARMS), ARMS)
    assert summary["equal_spend.delta_test_accuracy"]["value"] == pytest.approx(0.2)
    assert all(not math.isnan(v["value"]) for v in summary.values())


def test_report_states_the_verdict_and_flags_a_simulated_teacher():
    rounds = _rounds()
    selections = pd.DataFrame(
        {
            "strategy": ["random", "random"],
            "round": [1, 1],
            "id": ["a", "b"],
            "score": [0.9, 0.1],
            "selected": [True, False],
        }
    )
    text = render_report(
        rounds,
        selections,
        pd.DataFrame({"id": []}),
        strategies=ARMS,
        settings={"B": 10},
        simulated=True,
    )
    assert "SIMULATED TEACHER" in text
    assert "At equal teacher spend ($0.30)" in text
    assert "At equal number of teacher calls (30 calls)" in text
    assert "+20.0 points" in text
    assert "active_distill_curve.png" in text
    assert "| random | 1 | 2 | 1 | 0.900 | 0.100 |" in text


def test_curve_is_a_figure():
    fig = accuracy_curve(_rounds(), simulated=True)
    assert isinstance(fig, Figure)
    assert "SIMULATED" in fig.axes[0].get_title()
