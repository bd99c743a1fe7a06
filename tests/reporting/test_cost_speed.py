"""Cost and speed arithmetic against hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zeroshot_distill.reporting import (
    call_log_spend,
    cost_summary,
    mean_tokens_per_call,
    opro_spend,
    speed_stats,
    student_usd_per_million,
    teacher_spend_by_stage,
    timed_batches,
    total_spend,
    usd_per_million_calls,
)
from zeroshot_distill.reporting.cost import break_even
from zeroshot_distill.reporting.report import break_even_line
from zeroshot_distill.reporting.summary import break_even_summary, headline_metrics

ANNOTATIONS = pd.DataFrame(
    {
        "id": ["1", "2", "3"],
        "prompt_tokens": [100, 200, 150],
        "completion_tokens": [10, 20, 15],
        "cost_usd": [0.001, 0.002, 0.0],
        "saved_usd": [0.0, 0.0, 0.0015],
        "cached": [False, False, True],
    }
)
OPRO = pd.DataFrame(
    {
        "n_scored": [10, 10],
        "n_cached": [0, 5],
        "prompt_tokens": [1000, 900],
        "completion_tokens": [100, 90],
        "cost_usd": [0.01, 0.02],
        "optimizer_prompt_tokens": [50, 50],
        "optimizer_completion_tokens": [5, 5],
        "optimizer_cost_usd": [0.001, 0.002],
    }
)


def test_stage_spend() -> None:
    spend = call_log_spend("annotation", ANNOTATIONS)
    assert (spend.calls, spend.cached_calls, spend.prompt_tokens, spend.completion_tokens) == (
        3,
        1,
        450,
        45,
    )
    assert spend.usd == pytest.approx(0.003)
    assert spend.saved_usd == pytest.approx(0.0015)
    opro = opro_spend(OPRO)
    assert (opro.calls, opro.cached_calls, opro.prompt_tokens) == (20, 5, 2000)
    assert opro.usd == pytest.approx(0.033)
    stages = teacher_spend_by_stage(opro_history=OPRO, annotations=ANNOTATIONS)
    assert list(stages) == ["prompt_optimization", "annotation"]
    assert total_spend(stages) == pytest.approx(0.036)


def test_projection_per_million() -> None:
    assert mean_tokens_per_call(ANNOTATIONS) == pytest.approx((150.0, 15.0))
    # 1M calls x (150 x 0.15 + 15 x 0.60) / 1M = 31.5 USD.
    assert usd_per_million_calls(150, 15, 0.15, 0.60) == pytest.approx(31.5)
    # 1M / 100 per s = 10,000 s = 2.78 h at 0.36 USD/h = 1 USD.
    assert student_usd_per_million(100.0, 0.36) == pytest.approx(1.0)
    assert math.isnan(student_usd_per_million(0.0, 0.36))


def test_cost_summary_states_the_student_assumption() -> None:
    summary = cost_summary(
        teacher_spend_by_stage(annotations=ANNOTATIONS),
        teacher_calls=ANNOTATIONS,
        teacher_price=(0.15, 0.60),
        teacher_model="gpt-4o-mini",
        student_examples_per_s=100.0,
        student_hourly_usd=0.36,
        student_machine="cpu (2 threads)",
        reference_price={"model": "ref", "input_per_1m": 1.0, "output_per_1m": 2.0},
    )
    assert summary["teacher_usd_per_1m_predictions"] == pytest.approx(31.5)
    assert summary["reference"]["usd_per_1m_predictions"] == pytest.approx(180.0)
    assert summary["student_usd_per_1m_predictions"] == pytest.approx(1.0)
    assert "fully busy" in summary["student_assumption"]
    assert "cpu (2 threads)" in summary["student_assumption"]


def test_speed() -> None:
    outputs, seconds = timed_batches(lambda batch: [x * 2 for x in batch], list(range(7)), 3)
    assert outputs == [0, 2, 4, 6, 8, 10, 12] and len(seconds) == 3
    stats = speed_stats(10, [0.5, 0.5], [0.01, 0.02, 0.03, 0.04], batch_size=5, device="cpu")
    assert stats.examples_per_s == pytest.approx(10.0)
    assert stats.latency_p50_ms == pytest.approx(25.0)
    assert stats.latency_p95_ms == pytest.approx(38.5)  # linear interpolation
    with pytest.raises(ValueError, match="outputs"):
        timed_batches(lambda batch: batch[:1], [1, 2], 2)


def test_break_even_counts_predictions_until_the_student_has_paid_for_itself() -> None:
    paid = break_even(
        teacher_usd=0.07,
        training_hours=0.5,  # $0.05 at $0.10/h
        hourly_usd=0.10,
        teacher_usd_per_1m=40.0,
        student_usd_per_1m=2.0,
    )
    assert paid.investment_usd == pytest.approx(0.12)
    assert paid.saving_per_prediction == pytest.approx(38e-6)
    assert paid.predictions == math.ceil(0.12 / 38e-6)  # 3,158
    # one prediction fewer and the student has not yet caught up
    assert paid.investment_usd > (paid.predictions - 1) * paid.saving_per_prediction
    assert paid.investment_usd <= paid.predictions * paid.saving_per_prediction


@pytest.mark.parametrize(
    ("teacher_1m", "beats", "reason"),
    [
        (0.0, True, "costs $0 per prediction at its configured price"),  # a free local teacher
        (2.0, True, "not cheaper"),  # as expensive as the student
        (40.0, False, "did not beat its majority-class baseline"),
        (math.nan, True, "unknown"),
    ],
)
def test_break_even_says_plainly_when_the_student_never_pays_off(
    teacher_1m: float, beats: bool, reason: str
) -> None:
    never = break_even(
        teacher_usd=0.07,
        training_hours=0.5,
        hourly_usd=0.10,
        teacher_usd_per_1m=teacher_1m,
        student_usd_per_1m=2.0,
        beats_baseline=beats,
    )
    assert never.predictions is None
    assert reason in never.reason


def test_break_even_in_the_summary_report_and_mlflow() -> None:
    cost = {
        "stages": {
            "prompt_optimization": {"usd": 0.04, "saved_usd": 0.0},
            "annotation": {"usd": 0.02, "saved_usd": 0.01},  # cached answers first cost $0.01
            "evaluation": {"usd": 0.5, "saved_usd": 0.0},  # not part of the distillation
        },
        "student_hourly_usd": 0.10,
        "teacher_usd_per_1m_predictions": 40.0,
        "student_usd_per_1m_predictions": 2.0,
    }
    block = break_even_summary(cost, 1800.0, {"beats_majority": True})
    assert block["teacher_usd"] == pytest.approx(0.07)
    # a rerun served from the cache: prompt optimization records no price for cached
    # answers, so its tokens are priced; the distillation costs what it did the first time
    rerun = {
        **cost,
        "teacher_price": {"input_per_1m": 0.15, "output_per_1m": 0.60},
        "stages": {
            "prompt_optimization": {"usd": 0.0, "prompt_tokens": 100_000, "completion_tokens": 0},
            "annotation": {"usd": 0.0, "saved_usd": 0.03},
        },
    }
    assert break_even_summary(rerun, 1800.0, {})["teacher_usd"] == pytest.approx(0.015 + 0.03)
    assert block["training_usd"] == pytest.approx(0.05)
    assert block["predictions"] == math.ceil(0.12 / 38e-6)
    summary = {"break_even": block, "baselines": {"beats_majority": True}}
    assert headline_metrics(summary)["break_even_predictions"] == block["predictions"]
    line = break_even_line(summary)
    assert line.startswith(f"**Break-even after {block['predictions']:,} predictions:**")
    assert "30.0 min of training compute" in line

    useless = break_even_summary(cost, 1800.0, {"beats_majority": False})
    assert "break_even_predictions" not in headline_metrics({"break_even": useless})
    assert break_even_line({"break_even": useless}).startswith("**No break-even:** the student")
