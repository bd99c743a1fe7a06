"""The round loop with a fake backend: rounds, budget, resume after a kill, revision."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.active.fakes import FakeBackend, make_examples, spec
from zeroshot_distill.active.config import ActiveDistillError, ActiveDistillParams
from zeroshot_distill.active.loop import ActiveLoop, choose_seed_set
from zeroshot_distill.active.store import RoundStore

UNSURE = {f"ex-{i:03d}" for i in (2, 5, 8, 13, 21, 22, 30, 31, 33)}


def _loop(
    tmp_path,
    backend: FakeBackend,
    *,
    on_round_end=None,
    **overrides: Any,
) -> ActiveLoop:
    examples = make_examples()
    params = ActiveDistillParams.from_params(
        {"seed_size": 6, "batch_size": 4, "n_rounds": 3, "progress": False, **overrides}
    )
    return ActiveLoop(
        pool=examples[examples["split"] == "train"],
        valid=examples[examples["split"] == "valid"],
        test=examples[examples["split"] == "test"],
        spec=spec(),
        params=params,
        backend=backend,
        store=RoundStore(tmp_path / "state", "fp"),
        seed=1,
        on_round_end=on_round_end,
    )


def test_rounds_select_the_unsure_examples_and_both_arms_share_the_seed(tmp_path):
    backend = FakeBackend(unsure=UNSURE)
    result = _loop(tmp_path, backend).run()
    rounds = result.rounds
    assert set(rounds["strategy"]) == {"explanation_consistency", "random"}
    active = rounds[rounds["strategy"] == "explanation_consistency"]
    assert active["round"].tolist() == [0, 1, 2, 3]
    assert active["n_annotated"].tolist() == [6, 10, 14, 18]
    selected = result.selections
    picked = selected[(selected["strategy"] == "explanation_consistency") & selected["selected"]]
    first_rounds = picked[picked["round"].isin([1, 2])]["id"]
    assert set(first_rounds) <= UNSURE - set(result.seed_ids)
    # the seed round was paid once: the random arm got its seed answers from the cache
    seed = set(result.seed_ids)
    assert sum(1 for i in backend.paid if i in seed) == len(seed)
    # both arms are charged the seed's nominal price
    assert rounds[rounds["round"] == 0]["cumulative_usd"].nunique() == 1
    assert result.simulated


@pytest.mark.parametrize(
    ("budget", "limit"),
    [
        ({"max_cost_usd": 0.135}, ("cumulative_usd", 0.135)),
        ({"max_calls": 13}, ("cumulative_calls", 13)),
        ({"max_cost_usd": 0.25, "max_calls": 11}, ("cumulative_calls", 11)),
    ],
)
def test_the_budget_is_never_exceeded_and_runs_out_mid_batch(tmp_path, budget, limit):
    backend = FakeBackend(cost=0.01, bound=0.012, unsure=UNSURE)
    result = _loop(tmp_path, backend, budget=budget, n_rounds=10).run()
    column, value = limit
    for _, arm in result.rounds.groupby("strategy"):
        assert arm[column].max() <= value + 1e-12
        assert arm["stop_reason"].iloc[-1] == "budget"
        # the last round got fewer than B = 4 rows: the batch shrank to fit
        assert arm["n_added"].iloc[-1] < 4 or arm["n_annotated"].iloc[-1] == 6
    if "max_calls" in budget:
        # the whole call budget is used, exactly
        assert result.rounds.groupby("strategy")["cumulative_calls"].max().eq(value).all()


def test_a_budget_too_small_for_the_seed_set_fails_clearly(tmp_path):
    with pytest.raises(ActiveDistillError, match="single seed annotation"):
        _loop(tmp_path, FakeBackend(), budget={"max_calls": 0}).run()


def test_a_killed_run_resumes_from_the_last_finished_round_without_paying_again(tmp_path):
    class Killed(RuntimeError):
        pass

    def kill_after_round_two(record) -> None:
        if record.arm == "explanation_consistency" and record.round == 2:
            raise Killed

    backend = FakeBackend(unsure=UNSURE)
    with pytest.raises(Killed):
        _loop(tmp_path, backend, on_round_end=kill_after_round_two).run()
    paid_before = list(backend.paid)
    trained_before = len(backend.trained)
    assert trained_before == 3  # seed, rounds 1 and 2

    # A new process: same teacher cache (the fake keeps it), fresh bookkeeping.
    backend.paid, backend.requested, backend.trained = [], [], []
    started: list[tuple[str, int]] = []
    result = _loop(tmp_path, backend, on_round_end=lambda r: started.append((r.arm, r.round))).run()
    # the rerun starts at round 3 of the killed arm, then runs the control arm
    assert started[0] == ("explanation_consistency", 3)
    assert ("explanation_consistency", 1) not in started
    assert ("seed", 0) not in started
    # nothing restored was re-requested from the teacher, let alone paid
    restored = set(paid_before)
    assert not restored & set(backend.paid)
    assert not {i for i in backend.requested if i in restored and i not in result.seed_ids} - set(
        result.annotations.query("strategy == 'random'")["id"]
    )
    # the restored rounds carry their spend; the ledger continues from it
    active = result.rounds[result.rounds["strategy"] == "explanation_consistency"]
    assert active["round"].tolist() == [0, 1, 2, 3]
    assert active["cumulative_calls"].tolist() == [6, 10, 14, 18]
    assert result.arms["explanation_consistency"].resumed_from == 2


def test_a_finished_run_reruns_for_free_and_raising_n_rounds_continues(tmp_path):
    backend = FakeBackend(unsure=UNSURE)
    _loop(tmp_path, backend, n_rounds=2).run()
    backend.paid, backend.trained = [], []
    again = _loop(tmp_path, backend, n_rounds=2).run()
    assert backend.paid == [] and backend.trained == []
    assert again.rounds.groupby("strategy")["round"].max().eq(2).all()
    more = _loop(tmp_path, backend, n_rounds=3).run()
    assert more.rounds.groupby("strategy")["round"].max().eq(3).all()
    assert len(backend.trained) == 2  # one new round per arm


def test_resume_false_starts_over(tmp_path):
    backend = FakeBackend(unsure=UNSURE)
    _loop(tmp_path, backend, n_rounds=1).run()
    backend.trained = []
    _loop(tmp_path, backend, n_rounds=1, resume=False).run()
    assert len(backend.trained) == 3  # seed + one round per arm


def test_revision_replaces_the_rationale_and_is_charged(tmp_path):
    backend = FakeBackend(unsure=UNSURE)
    result = _loop(tmp_path, backend, n_rounds=1, compare_with=[], revision={"enabled": True}).run()
    added = result.annotations[result.annotations["round"] == 1]
    assert (added["revision_status"] == "ok").all()
    assert added["rationale"].str.startswith("corrected: ").all()
    assert added["annotated_rationale"].notna().all()
    assert len(backend.revised) == 4
    rounds = result.rounds.set_index("round")
    assert rounds.loc[1, "cumulative_calls"] == 6 + 4 + 4


def test_seed_set_is_seeded_and_order_free():
    pool = make_examples()
    pool = pool[pool["split"] == "train"]
    first = choose_seed_set(pool, 5, seed=3)
    second = choose_seed_set(pool.sample(frac=1, random_state=0), 5, seed=3)
    assert first == second and len(first) == 5


def test_invalid_parameters_name_the_field():
    with pytest.raises(ActiveDistillError, match=r"active_distill\.strategy"):
        ActiveDistillParams.from_params({"strategy": "nope"})
    with pytest.raises(ActiveDistillError, match="batch_size"):
        ActiveDistillParams.from_params({"batch_size": 0})


def test_tables_have_one_row_per_arm_and_round(tmp_path):
    result = _loop(tmp_path, FakeBackend(unsure=UNSURE), n_rounds=1).run()
    assert isinstance(result.rounds, pd.DataFrame)
    assert len(result.rounds) == 4
    assert {"valid_accuracy", "test_accuracy", "cumulative_usd", "cumulative_calls"} <= set(
        result.rounds.columns
    )


def test_the_teachers_own_budget_stops_an_arm_cleanly(tmp_path):
    """teacher.max_cost_usd (the whole run's cap) raises inside the teacher: the arm stops
    with what it had, the other arm still runs (its answers may come from the cache)."""
    from zeroshot_distill.teachers import BudgetExceededError

    backend = FakeBackend(unsure=UNSURE)
    real = backend.annotate

    def capped(rows):
        if len(backend.paid) >= 10 and not set(rows["id"]) <= backend.cache:
            raise BudgetExceededError("teacher budget reached")
        return real(rows)

    backend.annotate = capped
    result = _loop(tmp_path, backend).run()
    assert result.arms["explanation_consistency"].stop_reason == "teacher_budget"
    assert backend.paid and len(backend.paid) <= 10
