"""The active_distill pipeline end to end, offline: simulated teacher, tiny T5, in-memory catalog.

The parameters are the project's own ``conf/base`` (so the test also checks that they
validate), shrunk to test size: 6 seed rows, B = 6, 2 rounds, K = 2, two optimizer steps per
training, rationales cut to 10 words: five trainings (the shared seed round, then 2 arms x 2
rounds).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from tests.active.fakes import one_torch_thread  # noqa: F401  (a fixture)
from zeroshot_distill import settings
from zeroshot_distill.pipelines.active_distill import create_pipeline
from zeroshot_distill.pipelines.active_distill.datasets import RoundStoreDataset, RoundStoreRoot
from zeroshot_distill.students import StudentBundle

CONF = Path(__file__).resolve().parents[3] / "conf"
RAW = Path(__file__).resolve().parents[3] / "data" / "01_raw" / "nli_sample.jsonl"
OUTPUTS = (
    "active_distill_selections",
    "active_distill_annotations",
    "active_distill_rounds",
    "active_distill_student_model",
    "active_distill_comparison",
    "active_distill_curve",
    "active_distill_metrics",
    "active_distill_report",
)


@pytest.fixture(scope="module")
def base_params() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loader = OmegaConfigLoader(
            str(CONF), **{**settings.CONFIG_LOADER_ARGS, "default_run_env": "base"}
        )
        return dict(loader["parameters"])


# One torch thread for every test here (see the fixture).
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.trains]


class KeptDataset(MemoryDataset):
    """A memory dataset the runner does not release, so the test can read it afterwards."""

    def _release(self) -> None:
        pass


@pytest.fixture(scope="module")
def examples() -> pd.DataFrame:
    raw = pd.read_json(RAW, lines=True).head(46)
    frame = raw.rename(columns={"label": "gold_label", "explanation": "reference_rationale"})
    frame["split"] = ["train"] * 30 + ["valid"] * 8 + ["test"] * 8
    return frame


def _params(base: dict[str, Any], tmp_path: Path, **active: Any) -> dict[str, Any]:
    teacher = {**base["teacher"], "cache": {"mode": "read_write", "path": str(tmp_path / "c.db")}}
    ad = {
        **base["active_distill"],
        "seed_size": 6,
        "batch_size": 6,
        "n_rounds": 2,
        "progress": False,
        "scoring": {
            **base["active_distill"]["scoring"],
            "n_rationales": 2,
            "max_rationale_tokens": 16,
        },
        "training": {
            **base["active_distill"]["training"],
            "max_steps": 2,
            "batch_size": 8,
            "num_threads": 1,
            "early_stopping_patience": None,
        },
        **active,
    }
    return {
        "task": base["task"],
        "teacher": teacher,
        "annotation": {**base["annotation"], "progress": False},
        "training": base["training"],
        "subsampling": {**base["subsampling"], "truncate_rationale_words": 10},
        "active_distill": ad,
        "seed": base["seed"],
    }


def _run(examples: pd.DataFrame, params: dict[str, Any], state: Path) -> DataCatalog:
    datasets: dict[str, Any] = {
        "examples": MemoryDataset(examples),
        "best_prompt": MemoryDataset(None),
        "active_distill_state": RoundStoreDataset(path=str(state)),
        **{f"params:{k}": MemoryDataset(v) for k, v in params.items()},
        **{name: KeptDataset() for name in OUTPUTS},
    }
    catalog = DataCatalog(datasets=datasets)
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_pipeline_runs_end_to_end_offline_and_a_rerun_resumes_for_free(
    base_params, examples, tmp_path
):
    params = _params(base_params, tmp_path)
    catalog = _run(examples, params, tmp_path / "state")

    rounds = catalog.load("active_distill_rounds")
    assert set(rounds["strategy"]) == {"explanation_consistency", "random"}
    for _, arm in rounds.groupby("strategy"):
        assert arm["round"].tolist() == [0, 1, 2]
        assert arm["n_annotated"].tolist() == [6, 12, 18]
        assert arm["cumulative_usd"].is_monotonic_increasing
        assert arm["test_accuracy"].between(0, 1).all()
    assert rounds["simulated"].all()

    selections = catalog.load("active_distill_selections")
    picked = selections[selections["selected"].astype(bool) & (selections["round"] > 0)]
    assert picked.groupby(["strategy", "round"]).size().eq(6).all()
    active = selections[selections["strategy"] == "explanation_consistency"]
    assert {"votes", "majority_label", "score"} <= set(active.columns)

    annotations = catalog.load("active_distill_annotations")
    assert annotations["simulated"].all()
    # no row annotated twice within an arm
    assert not annotations.duplicated(["strategy", "id"]).any()

    assert isinstance(catalog.load("active_distill_student_model"), StudentBundle)
    assert isinstance(catalog.load("active_distill_curve"), Figure)
    comparison = catalog.load("active_distill_comparison")
    assert "delta_test_accuracy" in comparison.columns
    metrics = catalog.load("active_distill_metrics")
    steps = [p["step"] for p in metrics["explanation_consistency.cumulative_usd"]]
    assert steps == [0, 1, 2]
    report = catalog.load("active_distill_report")
    assert "SIMULATED TEACHER" in report and "At equal teacher spend" in report

    # A rerun restores every round from the state: the teacher answers nothing new.
    again = _run(examples, params, tmp_path / "state")
    rerun = again.load("active_distill_rounds")
    pd.testing.assert_frame_equal(
        rerun[["strategy", "round", "cumulative_usd", "test_accuracy"]],
        rounds[["strategy", "round", "cumulative_usd", "test_accuracy"]],
    )
    assert rerun["paid_usd"].max() == pytest.approx(rounds["paid_usd"].max())


def test_round_store_dataset_preview_lists_finished_rounds(tmp_path):
    dataset = RoundStoreDataset(path=str(tmp_path / "state"))
    root = dataset.load()
    assert isinstance(root, RoundStoreRoot)
    (tmp_path / "state" / "abc" / "seed" / "round_000").mkdir(parents=True)
    (tmp_path / "state" / "abc" / "seed" / "round_000" / "state.json").write_text("{}")
    assert '"seed": [0]' in dataset.preview()


def test_every_dataset_of_the_pipeline_is_in_the_catalog(base_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loader = OmegaConfigLoader(
            str(CONF), **{**settings.CONFIG_LOADER_ARGS, "default_run_env": "base"}
        )
        catalog = loader["catalog"]
    pipeline = create_pipeline()
    names = {d for d in pipeline.datasets() if not d.startswith("params:")}
    assert names - set(catalog) == set()
    for name in OUTPUTS:
        if name != "active_distill_metrics":
            assert catalog[name].get("versioned") is True, name
        assert "layer" in catalog[name]["metadata"]["kedro-viz"], name
    assert catalog["active_distill_report"]["metadata"]["mlflow"]["artifact_path"] == "reports"
    assert catalog["active_distill_metrics"]["prefix"] == "active_distill"
    assert {p.split(":", 1)[1] for p in pipeline.inputs() if p.startswith("params:")} <= set(
        base_params
    )


class Killed(RuntimeError):
    """Stands for the process being killed mid-round."""


def test_a_killed_pipeline_resumes_after_its_last_finished_round(
    base_params, examples, tmp_path, monkeypatch
):
    """Killed while training the control arm's first round: the rerun trains only the
    control arm's rounds and sends the teacher only rows no finished round had asked for."""
    import sqlite3

    from zeroshot_distill.active.student_side import StudentSide

    params = _params(base_params, tmp_path)
    real_train = StudentSide.train
    calls: list[int] = []

    def dies_at_the_fourth_training(self, annotated, init, *, seed):
        calls.append(len(annotated))
        if len(calls) == 4:  # seed, active r1, active r2, [random r1]
            raise Killed("killed")
        return real_train(self, annotated, init, seed=seed)

    monkeypatch.setattr(StudentSide, "train", dies_at_the_fourth_training)
    with pytest.raises(Killed):
        _run(examples, params, tmp_path / "state")
    with sqlite3.connect(tmp_path / "c.db") as db:
        asked_before = {row[0] for row in db.execute("SELECT key FROM responses")}

    calls.clear()
    monkeypatch.setattr(
        StudentSide,
        "train",
        lambda self, a, i, *, seed: calls.append(len(a)) or real_train(self, a, i, seed=seed),
    )
    catalog = _run(examples, params, tmp_path / "state")
    assert calls == [12, 18]  # random rounds 1 and 2 only
    rounds = catalog.load("active_distill_rounds")
    assert rounds.groupby("strategy")["round"].max().eq(2).all()
    with sqlite3.connect(tmp_path / "c.db") as db:
        asked_after = {row[0] for row in db.execute("SELECT key FROM responses")}
    new = asked_after - asked_before
    assert len(new) <= 6  # at most random round 2's batch; round 1's answers were cached


def test_teacher_revision_trains_on_the_corrected_rationales(base_params, examples, tmp_path):
    params = _params(
        base_params,
        tmp_path,
        compare_with=[],
        n_rounds=1,
        revision={"enabled": True, "max_tokens": 96},
    )
    catalog = _run(examples, params, tmp_path / "state")
    annotations = catalog.load("active_distill_annotations")
    revised = annotations[annotations["round"] == 1]
    assert len(revised) == 6
    assert revised["student_rationale"].notna().all()  # what the teacher was shown
    assert (revised["revision_status"] == "ok").all()
    # (the simulated teacher revises to the reference rationale, as it annotated: equal text)
    assert revised["rationale"].notna().all()
    assert "annotated_rationale" in revised.columns
    rounds = catalog.load("active_distill_rounds").set_index("round")
    assert rounds.loc[1, "cumulative_calls"] == 6 + 6 + 6  # seed, annotations, revisions
    assert "Teacher revisions" in catalog.load("active_distill_report")


def test_pipeline_runs_with_a_decoder_only_student(base_params, examples, tmp_path):
    params = _params(base_params, tmp_path, n_rounds=1)
    student = {
        "architecture": {
            "model_type": "qwen2",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
        },
        "tokenizer": "byt5",
    }
    params["training"] = {**params["training"], "student": student}
    catalog = _run(examples, params, tmp_path / "state")
    rounds = catalog.load("active_distill_rounds")
    assert rounds["test_accuracy"].between(0, 1).all()
    assert set(rounds["round"]) == {0, 1}
    assert catalog.load("active_distill_student_model").family == "causal_lm"
