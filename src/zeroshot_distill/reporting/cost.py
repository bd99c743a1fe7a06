"""Teacher spend per stage and the projected cost of a million predictions, teacher vs student.

Teacher figures come from the rows the teacher stages wrote (``annotations``, ``opro_history``,
the evaluation's teacher comparison): tokens and USD per call. A projection for 1M
predictions multiplies the mean tokens per call by the price per token. The student's figure
is compute time: 1M divided by its measured throughput on this machine, priced at an hourly
rate the user states (``evaluation.cost.student_hourly_usd``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

MILLION = 1_000_000


@dataclass(frozen=True)
class StageSpend:
    """What the teacher cost in one stage of the run.

    ``usd`` is the money spent on calls that were not answered from the cache;
    ``cached_calls`` were free this time and ``saved_usd`` is what they cost when an earlier
    run paid for them (where the table records it), so ``usd + saved_usd`` is what the
    stage's output cost to make.
    """

    stage: str
    calls: int
    cached_calls: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    saved_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def _column_sum(frame: pd.DataFrame, column: str, mask: pd.Series | None = None) -> float:
    if column not in frame.columns:
        return 0.0
    values = pd.to_numeric(frame[column], errors="coerce")
    if mask is not None:
        values = values[mask]
    return float(values.fillna(0).sum())


def _cached_mask(frame: pd.DataFrame) -> pd.Series:
    if "cached" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame["cached"].fillna(False).astype(bool)


def call_log_spend(stage: str, calls: pd.DataFrame) -> StageSpend:
    """Spend of a table with one row per teacher call (``annotations``, teacher comparison).

    Reads ``prompt_tokens``, ``completion_tokens``, ``cost_usd``, ``cached`` and
    ``saved_usd`` where present.
    """
    cached = _cached_mask(calls)
    return StageSpend(
        stage=stage,
        calls=len(calls),
        cached_calls=int(cached.sum()),
        prompt_tokens=int(_column_sum(calls, "prompt_tokens")),
        completion_tokens=int(_column_sum(calls, "completion_tokens")),
        usd=_column_sum(calls, "cost_usd", ~cached),
        saved_usd=_column_sum(calls, "saved_usd", cached),
    )


def opro_spend(history: pd.DataFrame, stage: str = "prompt_optimization") -> StageSpend:
    """Spend of an ``opro_history`` table: scoring calls plus the optimizer's proposals.

    One row per candidate template; ``n_scored``/``n_cached`` count its scoring calls and the
    ``optimizer_*`` columns (when present) the optimizer LLM's tokens and USD.
    """
    return StageSpend(
        stage=stage,
        calls=int(_column_sum(history, "n_scored")),
        cached_calls=int(_column_sum(history, "n_cached")),
        prompt_tokens=int(
            _column_sum(history, "prompt_tokens") + _column_sum(history, "optimizer_prompt_tokens")
        ),
        completion_tokens=int(
            _column_sum(history, "completion_tokens")
            + _column_sum(history, "optimizer_completion_tokens")
        ),
        usd=_column_sum(history, "cost_usd") + _column_sum(history, "optimizer_cost_usd"),
    )


def teacher_spend_by_stage(
    *,
    opro_history: pd.DataFrame | None = None,
    annotations: pd.DataFrame | None = None,
    evaluation_calls: pd.DataFrame | None = None,
) -> dict[str, StageSpend]:
    """Teacher spend per stage, in pipeline order; stages given as ``None`` are left out."""
    spend: dict[str, StageSpend] = {}
    if opro_history is not None:
        spend["prompt_optimization"] = opro_spend(opro_history)
    if annotations is not None:
        spend["annotation"] = call_log_spend("annotation", annotations)
    if evaluation_calls is not None:
        spend["evaluation"] = call_log_spend("evaluation", evaluation_calls)
    return spend


def total_spend(spend: Mapping[str, StageSpend]) -> float:
    """USD over all stages."""
    return float(sum(s.usd for s in spend.values()))


def mean_tokens_per_call(calls: pd.DataFrame) -> tuple[float, float]:
    """Mean prompt and completion tokens per teacher call, over calls that report tokens."""
    if calls.empty or "prompt_tokens" not in calls.columns:
        return math.nan, math.nan
    prompt = pd.to_numeric(calls["prompt_tokens"], errors="coerce")
    completion = pd.to_numeric(calls.get("completion_tokens"), errors="coerce")
    reported = prompt.fillna(0) > 0
    if not reported.any():
        return math.nan, math.nan
    return float(prompt[reported].mean()), float(completion[reported].fillna(0).mean())


def usd_per_million_calls(
    mean_prompt_tokens: float,
    mean_completion_tokens: float,
    input_usd_per_1m_tokens: float,
    output_usd_per_1m_tokens: float,
) -> float:
    """USD for 1M calls of the given mean size at per-1M-token prices.

    1M calls x tokens per call x (price / 1M tokens) = tokens per call x price.
    """
    return float(
        mean_prompt_tokens * input_usd_per_1m_tokens
        + mean_completion_tokens * output_usd_per_1m_tokens
    )


def student_usd_per_million(examples_per_s: float, hourly_usd: float) -> float:
    """USD of compute for 1M student predictions at ``examples_per_s`` on a ``hourly_usd`` machine.

    Assumes the machine is busy all the time it is paid for (no idle, no autoscaling slack),
    at the measured batch size and thread count; storage, network and serving overhead are
    not included.
    """
    if not examples_per_s or examples_per_s <= 0 or math.isnan(examples_per_s):
        return math.nan
    return float(MILLION / examples_per_s / 3600.0 * hourly_usd)


def hours_per_million(examples_per_s: float) -> float:
    """Machine hours for 1M predictions at ``examples_per_s``."""
    if not examples_per_s or examples_per_s <= 0 or math.isnan(examples_per_s):
        return math.nan
    return float(MILLION / examples_per_s / 3600.0)


# Stages whose teacher spend made the student (the evaluation's teacher comparison did not).
DISTILLATION_STAGES = ("prompt_optimization", "annotation")


@dataclass(frozen=True)
class BreakEven:
    """After how many predictions the student has paid for its distillation.

    The distillation cost (``investment_usd``) is the teacher spend of prompt optimization
    and annotation (``teacher_usd``, cached answers at what they cost when first paid for,
    see :func:`distillation_teacher_usd`)
    plus the training compute (``training_usd``). Every prediction the student makes instead
    of the teacher saves ``teacher_usd_per_prediction - student_usd_per_prediction``;
    ``predictions`` is the first count at which the savings cover the investment, ``None``
    with a ``reason`` when that never happens (the student is not cheaper, its cost is
    unknown, or it did not beat its baseline and so replaces nothing).
    """

    teacher_usd: float
    training_usd: float
    teacher_usd_per_prediction: float
    student_usd_per_prediction: float
    predictions: int | None
    reason: str | None = None

    @property
    def investment_usd(self) -> float:
        """What the distillation cost: teacher spend plus training compute."""
        return self.teacher_usd + self.training_usd

    @property
    def saving_per_prediction(self) -> float:
        """USD saved per prediction made by the student instead of the teacher."""
        return self.teacher_usd_per_prediction - self.student_usd_per_prediction

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (with the derived figures)."""
        return {
            **asdict(self),
            "investment_usd": self.investment_usd,
            "saving_per_prediction": self.saving_per_prediction,
        }


def distillation_teacher_usd(
    spend: Mapping[str, Mapping[str, Any]], price: Mapping[str, Any] | None = None
) -> float:
    """Teacher USD that made the training data (``DISTILLATION_STAGES``), including answers
    the response cache served: per stage the larger of what was paid plus what cached
    answers first cost (``usd + saved_usd``) and the stage's tokens at ``price``
    (``{input_per_1m, output_per_1m}``), since prompt optimization records no price for
    cached answers; a rerun therefore reports the same cost as the run that paid."""
    total = 0.0
    for stage in DISTILLATION_STAGES:
        block = spend.get(stage) or {}
        recorded = float(block.get("usd") or 0.0) + float(block.get("saved_usd") or 0.0)
        priced = (
            usd_per_million_calls(
                float(block.get("prompt_tokens") or 0),
                float(block.get("completion_tokens") or 0),
                float(price.get("input_per_1m") or 0.0),
                float(price.get("output_per_1m") or 0.0),
            )
            / MILLION
            if price
            else 0.0
        )
        total += max(recorded, priced)
    return total


def break_even(
    *,
    teacher_usd: float,
    training_hours: float,
    hourly_usd: float,
    teacher_usd_per_1m: float,
    student_usd_per_1m: float,
    beats_baseline: bool | None = True,
) -> BreakEven:
    """The :class:`BreakEven` of a distillation (see there); ``training_hours`` of the
    machine at ``hourly_usd`` (``evaluation.cost.student_hourly_usd``)."""
    training = training_hours * hourly_usd if math.isfinite(training_hours) else 0.0
    teacher_each = teacher_usd_per_1m / MILLION
    student_each = student_usd_per_1m / MILLION
    figures = {
        "teacher_usd": float(teacher_usd),
        "training_usd": float(training),
        "teacher_usd_per_prediction": float(teacher_each),
        "student_usd_per_prediction": float(student_each),
    }
    if beats_baseline is False:
        reason = (
            "the student did not beat its majority-class baseline, so it replaces no teacher "
            "answer and never pays for itself"
        )
        return BreakEven(**figures, predictions=None, reason=reason)
    if not (math.isfinite(teacher_each) and math.isfinite(student_each)):
        reason = "the cost per prediction of the teacher or the student is unknown"
        return BreakEven(**figures, predictions=None, reason=reason)
    saving = teacher_each - student_each
    if teacher_each == 0:
        reason = (
            "the teacher costs $0 per prediction at its configured price (a local or recorded "
            "teacher; set its price under teacher.prices), so no student is cheaper; the "
            "reference price shows what a paid API would cost"
        )
        return BreakEven(**figures, predictions=None, reason=reason)
    if saving <= 0:
        reason = (
            "the student is not cheaper per prediction than the teacher, so it never pays "
            "for itself"
        )
        return BreakEven(**figures, predictions=None, reason=reason)
    investment = figures["teacher_usd"] + figures["training_usd"]
    return BreakEven(**figures, predictions=max(1, math.ceil(investment / saving)))
