"""Parse alarms: shares, the threshold, the cause (teacher gave no reason vs parser missed it)."""

from __future__ import annotations

import pandas as pd
import pytest

from zeroshot_distill.tasks.parse_quality import (
    advice,
    alarm_message,
    annotations_parse_quality,
    assess_parse_quality,
)


def test_no_alarm_at_or_below_the_share() -> None:
    statuses = ["ok"] * 9 + ["no_label"]
    quality = assess_parse_quality(statuses, ["x"] * 10)
    assert not quality.alarm and quality.cause == ""
    assert quality.metrics()["parse_alarm"] == 0.0
    assert advice(quality) == ""


def test_no_label_alarm_with_three_raw_answers() -> None:
    statuses = ["no_label"] * 5 + ["ok"] * 5
    raw = [f"answer {i} names nothing" for i in range(10)]
    quality = assess_parse_quality(statuses, raw)
    assert quality.alarm and quality.cause == "no_label"
    assert quality.examples == ["answer 0 names nothing", "answer 1 names nothing",
                                "answer 2 names nothing"]  # fmt: skip
    message = alarm_message(quality, "annotation")
    assert "PARSE ALARM (annotation)" in message and "no_label=5" in message
    assert "raw answer 3: answer 2" in message
    assert quality.metrics()["no_label_share"] == 0.5


@pytest.mark.parametrize(
    ("missing", "cause", "words"),
    [
        ("no_rationale", "teacher_gave_no_reason", "ask for one"),
        ("rationale_missed", "parser_missed_rationale", "parser problem"),
    ],
)
def test_the_cause_of_missing_rationales(missing: str, cause: str, words: str) -> None:
    quality = assess_parse_quality([missing] * 3 + ["ok"] * 7, ["raw"] * 10, alarm_share=0.2)
    assert quality.cause == cause
    assert words in advice(quality)


def test_label_only_rows_need_no_rationale_and_the_share_is_checked() -> None:
    quality = assess_parse_quality(
        ["no_rationale"] * 5 + ["ok"] * 5, ["x"] * 10, rationale_expected=[False] * 5 + [True] * 5
    )
    assert not quality.alarm and quality.no_rationale_share == 0.0
    with pytest.raises(ValueError, match="alarm_share"):
        assess_parse_quality([], [], alarm_share=1.5)


def test_annotations_table_leaves_out_rationalize_rows() -> None:
    table = pd.DataFrame(
        {
            "parse_status": ["no_rationale", "no_rationale", "ok", "ok"],
            "raw_response": ["a", None, "c", "d"],
            "prompt_kind": ["rationalize", "label_only", "full", "full"],
        }
    )
    quality = annotations_parse_quality(table)
    assert quality.n == 3 and not quality.alarm
