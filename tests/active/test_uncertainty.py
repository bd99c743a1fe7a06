"""Uncertainty scorers: selection prefers what the student is unsure about."""

from __future__ import annotations

import numpy as np
import pytest

from tests.active.fakes import ScriptedProbe, make_examples, spec
from zeroshot_distill.active.config import ScoringConfig
from zeroshot_distill.active.uncertainty import (
    ScoringContext,
    available_scorers,
    get_scorer,
    max_inconsistency,
    needs_student,
    rank_scores,
    register_scorer,
    score_pool,
)

UNSURE = {"ex-003", "ex-011", "ex-017", "ex-025"}


@pytest.fixture
def rows() -> list[dict]:
    frame = make_examples(n_train=30, n_valid=0, n_test=0)
    return frame.to_dict(orient="records")


def _context(**scoring) -> ScoringContext:
    return ScoringContext(spec=spec(), config=ScoringConfig(**scoring), seed=7)


def test_registry_lists_the_strategies():
    assert {"explanation_consistency", "label_entropy", "combined", "random"} <= set(
        available_scorers()
    )
    assert not needs_student("random")
    assert needs_student("explanation_consistency")
    with pytest.raises(KeyError, match="unknown uncertainty scorer"):
        get_scorer("nope")


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register_scorer("random")(lambda probe, rows, ctx: None)


@pytest.mark.parametrize("strategy", ["explanation_consistency", "label_entropy", "combined"])
@pytest.mark.parametrize("vote", ["conditioned", "verbalized"])
def test_selection_prefers_the_examples_the_student_is_unsure_about(rows, strategy, vote):
    """Rationale samples disagree (and the label distribution is flat) on 4 of 30 ids: the
    top 4 of the ranking are exactly those ids, whatever the row order."""
    probe = ScriptedProbe(UNSURE)
    shuffled = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))]
    ranked = score_pool(strategy, probe, shuffled, _context(n_rationales=4, vote=vote))
    assert set(ranked["id"].head(len(UNSURE))) == UNSURE
    top = ranked.head(len(UNSURE))["score"].min()
    rest = ranked.iloc[len(UNSURE) :]["score"].max()
    assert top > rest


def test_explanation_consistency_is_one_minus_the_majority_share(rows):
    probe = ScriptedProbe(UNSURE, k_spread=2)  # votes a, b, a, b, a for K = 5
    scores = get_scorer("explanation_consistency")(probe, rows, _context(n_rationales=5))
    by_id = scores.set_index("id")
    assert by_id.loc["ex-003", "score"] == pytest.approx(1 - 3 / 5)
    assert by_id.loc["ex-003", "votes"] == "entailment|neutral|entailment|neutral|entailment"
    assert by_id.loc["ex-000", "score"] == 0.0
    assert by_id.loc["ex-000", "majority_label"] == "entailment"
    assert max_inconsistency(5, spec()) == pytest.approx(2 / 3)


def test_label_entropy_is_normalised_to_unit_range(rows):
    scores = get_scorer("label_entropy")(ScriptedProbe(UNSURE), rows, _context())
    assert scores["score"].between(0, 1).all()
    assert scores.set_index("id").loc["ex-011", "score"] > 0.99
    assert scores.set_index("id").loc["ex-001", "student_label"] == "entailment"


def test_random_is_seeded_and_needs_no_student(rows):
    first = score_pool("random", None, rows, _context())
    second = score_pool("random", None, rows, _context())
    assert first["id"].tolist() == second["id"].tolist()
    assert sorted(first["id"]) == sorted(r["id"] for r in rows)


def test_ties_are_not_broken_by_id_order():
    import pandas as pd

    scores = pd.DataFrame({"id": [f"x{i:02d}" for i in range(20)], "score": 0.0, "tiebreak": 0.0})
    ranked = rank_scores(scores, seed=3)
    assert ranked["id"].tolist() != sorted(ranked["id"])
    assert ranked["rank"].tolist() == list(range(20))


def test_scoring_config_rejects_a_template_without_the_rationale():
    with pytest.raises(ValueError, match="condition_template"):
        ScoringConfig(condition_template="{input}")
