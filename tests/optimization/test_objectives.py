"""Objectives: scores, the total order, parameters, and the CommonsenseQA trap."""

from __future__ import annotations

import pytest

from zeroshot_distill.optimization import Objective, ObjectiveError

# (accuracy, explanation_rate) of CommonsenseQA-like templates in the reference run: the most
# accurate ones explained almost nothing (2-11 %), the useful ones explained almost everything.
CQA_TRAP = {
    "answer_only": (0.80, 0.02),
    "answer_mostly": (0.78, 0.11),
    "one_sentence_reason": (0.72, 0.93),
    "step_by_step": (0.69, 0.97),
}


def _winner(objective: Objective, candidates: dict[str, tuple[float, float]]) -> str:
    return max(candidates, key=lambda name: objective.rank_key(*candidates[name]))


def test_default_objective_escapes_the_commonsense_qa_trap() -> None:
    assert _winner(Objective(), CQA_TRAP) == "one_sentence_reason"
    # ...where plain accuracy falls in (so this test can tell the objectives apart).
    assert _winner(Objective(name="accuracy"), CQA_TRAP) == "answer_only"


def test_default_is_the_explanation_floor_at_80_percent() -> None:
    objective = Objective.from_params(None)
    assert objective.name == "accuracy_min_explanation_rate"
    assert objective.min_explanation_rate == pytest.approx(0.8)


def test_weighted_default_lambda_also_escapes_the_trap() -> None:
    assert _winner(Objective(name="weighted"), CQA_TRAP) == "one_sentence_reason"


def test_accuracy_objective_ignores_explanations() -> None:
    objective = Objective(name="accuracy")
    assert objective.score(0.6, 0.0) == pytest.approx(0.6)
    assert objective.score(0.6, 1.0) == pytest.approx(0.6)
    assert objective.feasible(0.0)


def test_weighted_is_accuracy_plus_lambda_times_rate_normalized() -> None:
    objective = Objective(name="weighted", explanation_weight=0.25)
    assert objective.score(0.6, 0.8) == pytest.approx((0.6 + 0.25 * 0.8) / 1.25)
    assert objective.score(1.0, 1.0) == pytest.approx(1.0)
    pairs = [(0.9, 0.1), (0.7, 0.95), (0.8, 0.5), (0.5, 1.0), (0.62, 0.6)]
    by_key = sorted(pairs, key=lambda p: objective.rank_key(*p))
    by_formula = sorted(pairs, key=lambda p: p[0] + 0.25 * p[1])
    assert by_key == by_formula


def test_floor_ranks_every_feasible_template_above_every_infeasible_one() -> None:
    objective = Objective(min_explanation_rate=0.8)
    feasible_low = (0.10, 0.85)
    infeasible_high = (1.00, 0.79)
    assert objective.rank_key(*feasible_low) > objective.rank_key(*infeasible_high)
    # feasible: accuracy decides, a higher explanation rate above the floor buys nothing
    assert objective.rank_key(0.7, 0.81) > objective.rank_key(0.69, 1.0)
    assert objective.score(0.7, 0.81) == pytest.approx(0.7)
    # infeasible: accuracy discounted by the shortfall
    assert objective.score(0.9, 0.4) == pytest.approx(0.9 * 0.4 / 0.8)
    assert objective.rank_key(0.6, 0.7) > objective.rank_key(0.9, 0.3)


def test_floor_boundary_counts_as_met() -> None:
    objective = Objective(min_explanation_rate=0.8)
    assert objective.feasible(40 / 50)
    assert not objective.feasible(39 / 50)


def test_ties_break_on_explanation_rate() -> None:
    objective = Objective(name="accuracy")
    assert objective.rank_key(0.7, 0.9) > objective.rank_key(0.7, 0.2)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "f1"}, "prompt_optimization.objective.name"),
        ({"min_explanation_rate": 1.5}, "prompt_optimization.objective.min_explanation_rate"),
        ({"name": "weighted", "explanation_weight": -1}, "objective.explanation_weight"),
        ({"lambda": 0.5}, "prompt_optimization.objective.lambda"),
    ],
)
def test_bad_objective_parameters_name_the_field(params: dict, field: str) -> None:
    with pytest.raises(ObjectiveError, match=field.replace(".", r"\.")):
        Objective.from_params(params)


def test_objective_from_a_bare_name_and_its_record() -> None:
    objective = Objective.from_params("weighted")
    assert objective.as_dict()["name"] == "weighted"
    assert "explanation_weight" in objective.as_dict()
    assert "min_explanation_rate" in Objective().as_dict()


def test_rates_outside_unit_interval_are_refused() -> None:
    with pytest.raises(ValueError, match="accuracy"):
        Objective().score(1.2, 0.5)
