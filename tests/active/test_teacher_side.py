"""Annotation and revision through the real (simulated) teacher: bounds hold, cache is free."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.active.fakes import NLI, make_examples, spec
from zeroshot_distill.active.budget import Budget, Ledger, nominal_costs, spend_within_budget
from zeroshot_distill.active.config import ActiveDistillError, RevisionConfig
from zeroshot_distill.active.teacher_side import TeacherSide, check_revision_template
from zeroshot_distill.annotation import select_template


def _teacher(tmp_path) -> dict:
    return {
        "backend": "simulated",
        "model": "simulated-teacher",
        "max_tokens": 128,
        "seed": 0,
        "cache": {"path": str(tmp_path / "cache.sqlite")},
        "simulated": {"labels": NLI["labels"], "accuracy": 1.0, "explanation_rate": 1.0},
        "prices": {"simulated-teacher": {"input_per_1m": 0.15, "output_per_1m": 0.60}},
    }


def _side(tmp_path, examples: pd.DataFrame, **revision) -> TeacherSide:
    annotation = {"progress": False, "min_rationale_words": 3}
    prompt = select_template(examples, NLI, annotation, None, 0)
    return TeacherSide(
        examples=examples,
        spec=spec(),
        task=NLI,
        teacher=_teacher(tmp_path),
        annotation=annotation,
        prompt=prompt,
        revision=RevisionConfig(**revision),
        seed=0,
        progress=False,
    )


def test_annotation_costs_stay_under_their_bounds_and_the_cache_is_free(tmp_path):
    examples = make_examples(n_train=12, n_valid=0, n_test=0)
    side = _side(tmp_path, examples)
    rows = examples.head(6)
    bounds = side.annotation_bounds(rows)
    first = side.annotate(rows)
    assert (first["parse_status"] == "ok").all()
    assert first["teacher_label"].tolist() == rows["gold_label"].tolist()
    assert all(0 < c <= b for c, b in zip(first["cost_usd"], bounds, strict=True))
    again = side.annotate(rows)
    assert again["cached"].all() and (again["cost_usd"] == 0).all()
    assert nominal_costs(again) == pytest.approx(nominal_costs(first))
    assert side.simulated


def test_a_usd_budget_running_out_mid_batch_is_never_crossed(tmp_path):
    examples = make_examples(n_train=40, n_valid=0, n_test=0)
    side = _side(tmp_path, examples)
    one = max(side.annotation_bounds(examples))
    budget = Budget(max_cost_usd=4.5 * one)
    ledger = Ledger()
    result = spend_within_budget(examples, side.annotate, side.annotation_bounds, budget, ledger)
    assert ledger.usd <= budget.max_cost_usd
    assert result.exhausted
    assert 4 <= result.n_answered < 40  # shrank, but used more than the worst case allowed
    assert ledger.paid_usd == pytest.approx(ledger.usd)


def test_revision_parses_the_teachers_corrected_rationale(tmp_path):
    examples = make_examples(n_train=4, n_valid=0, n_test=0)
    side = _side(tmp_path, examples, enabled=True, max_tokens=96)
    rows = examples.assign(student_rationale="the man is a dog", student_label="neutral")
    bounds = side.revision_bounds(rows)
    revised = side.revise(rows)
    assert (revised["revision_status"] == "ok").all()
    assert revised["revised_label"].tolist() == examples["gold_label"].tolist()
    assert revised["revised_rationale"].notna().all()
    assert all(c <= b for c, b in zip(revised["cost_usd"], bounds, strict=True))
    assert "the man is a dog" in side._revision_messages(rows.iloc[0].to_dict())[-1]["content"]


def test_a_revision_template_with_unknown_placeholders_fails_before_any_call():
    with pytest.raises(ActiveDistillError, match="unknown placeholder"):
        check_revision_template("{premise} {student_rationale} {oops}", spec())
    with pytest.raises(ActiveDistillError, match="student_rationale"):
        check_revision_template("{premise}", spec())
