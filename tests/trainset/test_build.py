"""Subsampling: label sources, exclusions, train fraction, explanation rate, selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeroshot_distill.trainset import (
    SubsamplingConfig,
    build_label_pool,
    subsample_training_set,
    subsampling_metrics,
)
from zeroshot_distill.trainset.selection import (
    SELECTION_STRATEGIES,
    register_selection_strategy,
)

TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
LABELS = TASK["labels"]


def _examples(n_train: int = 40, n_valid: int = 10, n_test: int = 10) -> pd.DataFrame:
    rows = []
    for split, n in (("train", n_train), ("valid", n_valid), ("test", n_test)):
        for i in range(n):
            rows.append(
                {
                    "id": f"{split}-{i:03d}",
                    "split": split,
                    "premise": f"A person number {i} walks.",
                    "hypothesis": f"Someone walks {i}.",
                    "gold_label": LABELS[i % 3],
                    "reference_rationale": f"Reference reason {i}.",
                }
            )
    return pd.DataFrame(rows)


def _annotations(examples: pd.DataFrame) -> pd.DataFrame:
    """Teacher answers for train and valid: the label shifted by one (so teacher != gold),
    a rationale of (i % 50) + 1 words; every 10th train answer did not parse."""
    rows = []
    for r in examples[examples["split"] != "test"].itertuples():
        i = int(r.id.split("-")[1])
        unparsed = r.split == "train" and i % 10 == 9
        rows.append(
            {
                "id": r.id,
                "split": r.split,
                "teacher_label": None if unparsed else LABELS[(i + 1) % 3],
                "rationale": None if unparsed else " ".join(["word"] * ((i % 50) + 1)),
                "parse_status": "no_label" if unparsed else "ok",
                "raw_response": "...",
            }
        )
    return pd.DataFrame(rows)


def _run(params: dict, examples=None, annotations=None, seed: int = 7, scores=None):
    examples = _examples() if examples is None else examples
    annotations = _annotations(examples) if annotations is None else annotations
    pool = build_label_pool(examples, annotations, TASK, params)
    training_set = subsample_training_set(pool, TASK, params, seed, selection_scores=scores)
    return pool, training_set


def test_unparsed_teacher_labels_are_excluded_and_counted():
    pool, training_set = _run({"mode": "standard_distill"})
    excluded = pool[pool["excluded"].notna()]
    assert set(excluded["excluded"]) == {"unparsed_label"}
    assert len(excluded) == 4 and set(excluded["parse_status"]) == {"no_label"}
    assert not set(excluded["id"]) & set(training_set["id"])
    metrics = subsampling_metrics(pool, training_set, {"mode": "standard_distill"})
    assert metrics["excluded_unparsed_label"]["value"] == 4
    assert metrics["train_rows"]["value"] == 36
    assert metrics["train_excluded_rows"]["value"] == 4


def test_valid_uses_the_teacher_labels_and_test_keeps_gold():
    _, training_set = _run({"mode": "step_by_step"})
    by_split = {s: g.set_index("id") for s, g in training_set.groupby("split")}
    assert by_split["valid"].loc["valid-000", "label"] == LABELS[1]  # teacher, not gold
    assert by_split["test"].loc["test-000", "label"] == LABELS[0]  # gold
    assert (by_split["train"]["label_source"] == "teacher").all()
    assert (by_split["test"]["label_source"] == "gold").all()
    assert by_split["valid"]["rationale_target"].isna().all()
    assert by_split["test"]["rationale_target"].isna().all()
    assert by_split["train"].loc["train-000", "input"] == (
        "premise: A person number 0 walks. hypothesis: Someone walks 0."
    )


def test_not_annotated_rows_are_excluded():
    examples = _examples()
    annotations = _annotations(examples).iloc[5:]  # the first five train rows were not sent
    pool, _ = _run({"mode": "standard_distill"}, examples, annotations)
    assert (pool["excluded"] == "not_annotated").sum() == 5


@pytest.mark.parametrize(("rate", "expected"), [(0.0, 0), (0.3, 11), (0.5, 18), (1.0, 36)])
def test_explanation_rate_keeps_the_right_count(rate, expected):
    _, training_set = _run({"mode": "step_by_step", "explanation_rate": rate})
    train = training_set[training_set["split"] == "train"]
    assert len(train) == 36
    assert train["rationale_target"].notna().sum() == expected  # round(rate * 36)


def test_train_fraction_is_seeded_and_applies_to_usable_rows():
    params = {"mode": "step_by_step", "train_fraction": 0.25, "explanation_rate": 0.5}
    _, a = _run(params, seed=1)
    _, b = _run(params, seed=1)
    _, c = _run(params, seed=2)
    train_a = a[a["split"] == "train"]
    assert len(train_a) == 9  # round(0.25 * 36)
    assert train_a["rationale_target"].notna().sum() == 4  # round(0.5 * 9)
    assert list(train_a["id"]) == list(b[b["split"] == "train"]["id"])
    assert list(train_a["id"]) != list(c[c["split"] == "train"]["id"])
    assert (a["split"] == "valid").sum() == 10 and (a["split"] == "test").sum() == 10


def test_standard_finetune_uses_gold_and_no_rationales():
    examples = _examples()
    pool, training_set = _run({"mode": "standard_finetune"}, examples, annotations=pd.DataFrame())
    assert pool["excluded"].isna().all()
    train = training_set[training_set["split"] == "train"]
    assert len(train) == 40 and train["rationale_target"].isna().all()
    gold = examples.set_index("id")["gold_label"]
    assert (training_set["label"].to_numpy() == gold.loc[training_set["id"]].to_numpy()).all()


def test_length_window_prefers_rationales_in_the_window():
    params = {
        "explanation_rate": 0.25,
        "selection": {"strategy": "length_window", "min_words": 20, "max_words": 25},
    }
    _, training_set = _run(params)
    kept = training_set[training_set["rationale_target"].notna()]
    assert len(kept) == 9
    words = kept["rationale_words"]
    # The window holds train rows 20..24 (row 19 did not parse); the other 4 are the
    # closest outside it: 19 and 26 words (1 away), 18 and 27 (2 away).
    assert sorted(words) == [18, 19, 21, 22, 23, 24, 25, 26, 27]


def test_rationales_can_be_truncated_to_a_word_budget():
    _, training_set = _run({"truncate_rationale_words": 5})
    kept = training_set[training_set["rationale_target"].notna()]
    assert kept["rationale_words"].max() == 5
    assert kept["rationale_target"].map(lambda t: len(t.split())).max() == 5


def test_registered_strategies_are_selectable_and_see_scores():
    seen = {}

    @register_selection_strategy("first_ids_for_test", replace=True)
    def first_ids(candidates, n, rng, options):
        seen["columns"] = set(candidates.columns)
        seen["options"] = dict(options)
        return sorted(candidates["id"])[:n]

    try:
        scores = pd.DataFrame({"id": [f"train-{i:03d}" for i in range(40)], "selection_score": 1.0})
        params = {"explanation_rate": 0.1, "selection": {"strategy": "first_ids_for_test", "k": 1}}
        _, training_set = _run(params, scores=scores)
    finally:
        SELECTION_STRATEGIES.pop("first_ids_for_test")
    kept = training_set[training_set["rationale_target"].notna()]["id"]
    assert list(kept) == ["train-000", "train-001", "train-002", "train-003"]
    assert "selection_score" in seen["columns"] and seen["options"] == {"k": 1}


def test_top_score_selection_takes_the_highest_scores():
    scores = pd.DataFrame(
        {"id": [f"train-{i:03d}" for i in range(40)], "selection_score": np.arange(40.0)}
    )
    params = {"explanation_rate": 0.1, "selection": {"strategy": "top_score"}}
    _, training_set = _run(params, scores=scores)
    kept = set(training_set[training_set["rationale_target"].notna()]["id"])
    assert kept == {"train-038", "train-037", "train-036", "train-035"}  # 039 did not parse


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"explanation_rate": 1.2}, "explanation_rate"),
        ({"explanation_rate": -0.1}, "explanation_rate"),
        ({"train_fraction": 0.0}, "train_fraction"),
        ({"mode": "standard_finetune", "label_source": "teacher"}, "standard_distill"),
        ({"selection": {"strategy": "nope"}}, "unknown subsampling.selection.strategy"),
        ({"typo": 1}, "typo"),
    ],
)
def test_bad_parameters_are_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        SubsamplingConfig.from_params(params)


def test_teacher_modes_need_annotations():
    with pytest.raises(ValueError, match="annotation pipeline"):
        build_label_pool(_examples(), pd.DataFrame(), TASK, {"mode": "standard_distill"})


def test_no_usable_train_rows_is_a_clear_error():
    examples = _examples()
    annotations = _annotations(examples).assign(teacher_label=None, parse_status="refused")
    with pytest.raises(ValueError, match=r"no usable train rows.*unparsed_label"):
        _run({"mode": "standard_distill"}, examples, annotations)


def test_asking_for_more_rationales_than_exist_warns_and_records_the_achieved_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    examples = _examples()
    annotations = _annotations(examples)
    train_ids = annotations["split"] == "train"
    # only 6 train answers keep a rationale
    annotations.loc[train_ids & (annotations.index % 6 != 0), "rationale"] = None
    params = {"mode": "step_by_step", "explanation_rate": 1.0}
    pool = build_label_pool(examples, annotations, TASK, params)
    with caplog.at_level("WARNING"):
        training = subsample_training_set(pool, TASK, params, seed=0)
    metrics = {k: v["value"] for k, v in subsampling_metrics(pool, training, params).items()}
    train = training[training["split"] == "train"]
    achieved = train["rationale_target"].notna().mean()
    assert 0 < achieved < 0.3
    assert metrics["explanation_rate_requested"] == 1.0
    assert metrics["explanation_rate_achieved"] == pytest.approx(achieved)
    warning = next(r.getMessage() for r in caplog.records if "asks for" in r.getMessage())
    assert f"explanation rate {achieved:.2f}" in warning


def test_a_few_missing_rationales_are_logged_not_warned(caplog: pytest.LogCaptureFixture) -> None:
    examples = _examples()
    annotations = _annotations(examples)
    train_rows = annotations.index[annotations["split"] == "train"]
    annotations.loc[train_rows[:1], "rationale"] = None  # one missing: well under 10%
    params = {"mode": "step_by_step", "explanation_rate": 1.0}
    pool = build_label_pool(examples, annotations, TASK, params)
    with caplog.at_level("INFO"):
        subsample_training_set(pool, TASK, params, seed=0)
    shortfall = [r for r in caplog.records if "asks for" in r.getMessage()]
    assert [r.levelname for r in shortfall] == ["INFO"]
