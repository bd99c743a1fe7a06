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
