"""Alarms instead of silence: how many teacher answers the parser could not read, and why.

After annotation and after each prompt-optimization step, :func:`assess_parse_quality`
counts the parse statuses; when the share of ``no_label`` answers, or of answers without a
rationale where one was asked for, exceeds ``alarm_share`` (default 10%), the result is an
*alarm*: :func:`alarm_message` says so loudly, with the status counts, three raw answers
and the likely cause, which the log, MLflow metrics and the report all show.

Two causes are told apart: ``no_rationale`` (the teacher wrote little besides its answer:
change the prompt so that it asks for a reason) and ``rationale_missed`` (the answer holds
plenty of other text, yet no rationale came out: the parser failed, a prompt change will
not help).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from zeroshot_distill.tasks.values import is_missing

DEFAULT_ALARM_SHARE = 0.10
_EXAMPLES = 3
_EXAMPLE_CHARS = 300


@dataclass(frozen=True)
class ParseQuality:
    """Status counts of one batch of parsed answers and whether they call for an alarm."""

    n: int
    counts: dict[str, int]
    no_label_share: float
    no_rationale_share: float
    alarm_share: float
    cause: str  # "" | "no_label" | "teacher_gave_no_reason" | "parser_missed_rationale"
    examples: list[str] = field(default_factory=list)

    @property
    def alarm(self) -> bool:
        """Whether more than ``alarm_share`` of the answers lack a label or a rationale."""
        return bool(self.cause)

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Plain floats for MLflow: the two shares, the alarm flag, the parser-missed share."""
        missed = self.counts.get("rationale_missed", 0) / self.n if self.n else 0.0
        return {
            f"{prefix}parse_alarm": float(self.alarm),
            f"{prefix}no_label_share": self.no_label_share,
            f"{prefix}no_rationale_share": self.no_rationale_share,
            f"{prefix}rationale_missed_share": missed,
        }

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (for run statistics and the report)."""
        return {
            "n": self.n,
            "counts": dict(self.counts),
            "no_label_share": self.no_label_share,
            "no_rationale_share": self.no_rationale_share,
            "alarm_share": self.alarm_share,
            "alarm": self.alarm,
            "cause": self.cause,
            "examples": list(self.examples),
        }


def assess_parse_quality(
    statuses: Sequence[str],
    raw_answers: Sequence[str | None],
    *,
    rationale_expected: Iterable[bool] | None = None,
    alarm_share: float = DEFAULT_ALARM_SHARE,
) -> ParseQuality:
    """Count statuses; decide the alarm and its likely cause.

    ``rationale_expected`` marks the answers whose prompt asked for a reason (label-only
    rows lacking one are fine); by default every answer.
    """
    if not 0 <= alarm_share <= 1:
        raise ValueError(f"alarm_share must be between 0 and 1, got {alarm_share}")
    n = len(statuses)
    expected = list(rationale_expected) if rationale_expected is not None else [True] * n
    counts = dict(Counter(str(s) for s in statuses))
    no_label = counts.get("no_label", 0)
    lacking = [
        i
        for i, status in enumerate(statuses)
        if expected[i] and status in ("no_rationale", "rationale_missed")
    ]
    asked = sum(expected)
    no_label_share = no_label / n if n else 0.0
    no_rationale_share = len(lacking) / asked if asked else 0.0
    cause = ""
    if n and no_label_share > alarm_share:
        cause = "no_label"
    elif asked and no_rationale_share > alarm_share:
        missed = sum(statuses[i] == "rationale_missed" for i in lacking)
        cause = (
            "parser_missed_rationale" if missed * 2 >= len(lacking) else "teacher_gave_no_reason"
        )
    wanted = {
        "no_label": ("no_label",),
        "parser_missed_rationale": ("rationale_missed",),
        "teacher_gave_no_reason": ("no_rationale",),
    }.get(cause, ())
    examples = [
        _shorten(raw_answers[i])
        for i, status in enumerate(statuses)
        if status in wanted and raw_answers[i] is not None
    ][:_EXAMPLES]
    return ParseQuality(n, counts, no_label_share, no_rationale_share, alarm_share, cause, examples)


def _shorten(text: str | None) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _EXAMPLE_CHARS else flat[: _EXAMPLE_CHARS - 1] + "…"


def advice(quality: ParseQuality) -> str:
    """What to do about an alarm (empty without one)."""
    if quality.cause == "no_label":
        return (
            "the teacher's answers name no label the parser recognises: make the template ask "
            "for the answer in a fixed form (e.g. 'Answer: <label>'), or add the words the "
            "teacher uses to the task's verbalizers (conf/base/tasks/<task>.yml)"
        )
    if quality.cause == "parser_missed_rationale":
        return (
            "the teacher did write reasons but the parser found none in them: this is a "
            "parser problem (report it with the raw answers below), not a prompt problem"
        )
    if quality.cause == "teacher_gave_no_reason":
        return (
            "the teacher answered without a reason: use templates that ask for one "
            "('explain briefly, then give the answer')"
        )
    return ""


def alarm_message(quality: ParseQuality, where: str) -> str:
    """The loud warning for the log: shares, status counts, cause, advice, three answers."""
    counts = ", ".join(f"{k}={v}" for k, v in sorted(quality.counts.items()))
    lines = [
        f"PARSE ALARM ({where}): {quality.no_label_share:.0%} of {quality.n} answers have no "
        f"label and {quality.no_rationale_share:.0%} of those asked for a reason have none "
        f"(alarm above {quality.alarm_share:.0%}); status counts: {counts}.",
        f"Likely cause: {quality.cause.replace('_', ' ')}: {advice(quality)}.",
    ]
    lines += [f"  raw answer {i + 1}: {text}" for i, text in enumerate(quality.examples)]
    return "\n".join(lines)


def annotations_parse_quality(
    annotations: pd.DataFrame, alarm_share: float = DEFAULT_ALARM_SHARE
) -> ParseQuality:
    """:func:`assess_parse_quality` of an ``annotations`` table (columns ``parse_status``,
    ``raw_response``, ``prompt_kind``); rows whose label the prompt gave (``rationalize``)
    are left out, label-only rows need no rationale."""
    kinds = (
        annotations["prompt_kind"].astype(str)
        if "prompt_kind" in annotations.columns
        else pd.Series(["full"] * len(annotations), index=annotations.index, dtype=object)
    )
    keep = kinds != "rationalize"
    rows = annotations[keep]
    raw = rows["raw_response"] if "raw_response" in rows.columns else [None] * len(rows)
    return assess_parse_quality(
        rows["parse_status"].astype(str).tolist(),
        [None if is_missing(v) else str(v) for v in raw],
        rationale_expected=(kinds[keep] != "label_only").tolist(),
        alarm_share=alarm_share,
    )
