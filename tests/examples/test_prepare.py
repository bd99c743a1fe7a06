"""Unit tests of the examples contract (the data_processing and predict pipelines use it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from zeroshot_distill.datasets.hf_task_dataset import HuggingFaceTaskDataset
from zeroshot_distill.examples import (
    ExampleValidationError,
    split_examples,
    standardize_columns,
    summarize_examples,
    validate_examples,
)

NLI = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
CQA = {
    "name": "cqa",
    "kind": "multiple_choice",
    "description": "QA",
    "input_fields": ["question", "choices"],
    "n_choices": 5,
}
PARAMS = {
    "column_mapping": {"label": "gold_label", "explanation": "reference_rationale"},
    "label_mapping": {},
    "id_column": "id",
    "splits": {"valid_fraction": 0.2, "test_fraction": 0.2, "max_rows": {}},
    "unlabeled_train": False,
    "on_invalid": "error",
}


def nli_rows(n: int = 50) -> pd.DataFrame:
    labels = ["entailment", "neutral", "contradiction"]
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "premise": [f"A person number {i} walks." for i in range(n)],
            "hypothesis": [f"Someone {i} moves." for i in range(n)],
            "label": [labels[i % 3] for i in range(n)],
            "explanation": [f"Walking is moving ({i})." for i in range(n)],
        }
    )


def prepared(raw: pd.DataFrame, task: dict = NLI, **overrides: object) -> pd.DataFrame:
    return standardize_columns(raw, task, {**PARAMS, **overrides})


def test_column_mapping_renames_source_columns_to_task_fields() -> None:
    raw = pd.DataFrame(
        {
            "sentence1": ["A dog runs."],
            "sentence2": ["An animal moves."],
            "gold": [0],
            "why": ["A dog is an animal."],
        }
    )
    params = {
        **PARAMS,
        "column_mapping": {
            "sentence1": "premise",
            "sentence2": "hypothesis",
            "gold": "gold_label",
            "why": "reference_rationale",
        },
        "label_mapping": {0: "entailment", 1: "neutral", 2: "contradiction"},
    }
    out = standardize_columns(raw, NLI, params)
    assert list(out.columns) == [
        "id",
        "split",
        "premise",
        "hypothesis",
        "gold_label",
        "reference_rationale",
    ]
    assert out.loc[0, "premise"] == "A dog runs."
    assert out.loc[0, "gold_label"] == "entailment"
    assert out.loc[0, "reference_rationale"] == "A dog is an animal."
    # generated from the row's content: the source has no id column
    assert out.loc[0, "id"].startswith("nli-") and len(out.loc[0, "id"]) == len("nli-") + 12


def test_missing_task_column_names_the_field_and_the_fix() -> None:
    raw = nli_rows(3).drop(columns=["hypothesis"])
    with pytest.raises(ExampleValidationError, match=r"\['hypothesis'\].*column_mapping"):
        prepared(raw)


def test_invalid_rows_are_named_by_row_number_id_and_field() -> None:
    raw = nli_rows(10)
    raw.loc[3, "hypothesis"] = "   "
    raw.loc[6, "label"] = "maybe"
    raw.loc[8, "id"] = "r1"
    with pytest.raises(ExampleValidationError) as err:
        validate_examples(prepared(raw), NLI, PARAMS)
    message = str(err.value)
    assert "3 invalid input row(s)" in message
    assert "row 4 (id='r3'): field 'hypothesis': empty text" in message
    assert "row 7 (id='r6'): field 'gold_label'" in message and "'maybe'" in message
    assert "row 9 (id='r1'): field 'id': duplicate id 'r1'" in message


def test_drop_mode_sets_rows_aside_with_reasons_and_keeps_the_rest() -> None:
    raw = nli_rows(10)
    raw.loc[2, "premise"] = None
    raw.loc[5, "label"] = "yes"
    valid, rejected = validate_examples(prepared(raw), NLI, {**PARAMS, "on_invalid": "drop"})
    assert len(valid) == 8
    assert list(rejected["id"]) == ["r2", "r5"]
    assert list(rejected["row_number"]) == [3, 6]
    assert list(rejected["field"]) == ["premise", "gold_label"]
    assert rejected.loc[0, "reason"] == "missing value"
    assert len(valid) + len(rejected) == len(raw)  # no row disappears silently


def test_wrong_number_of_choices_is_rejected() -> None:
    raw = pd.DataFrame(
        {
            "id": ["q1", "q2"],
            "question": ["Where is bread kept?", "What barks?"],
            "choices": [["kitchen", "sky", "sea", "car", "moon"], ["dog", "cat", "cow"]],
            "label": ["a", "a"],
        }
    )
    with pytest.raises(ExampleValidationError, match=r"row 2 \(id='q2'\): field 'choices': 3"):
        validate_examples(prepared(raw, CQA), CQA, PARAMS)


def test_choices_from_csv_strings_are_parsed() -> None:
    raw = pd.DataFrame(
        {
            "question": ["Where is bread kept?", "What barks?"],
            "choices": ['["kitchen", "sky", "sea", "car", "moon"]', "dog|cat|cow|bird|fish"],
            "label": ["A", "a"],
        }
    )
    out = prepared(raw, CQA)
    assert out.loc[0, "choices"] == ["kitchen", "sky", "sea", "car", "moon"]
    assert out.loc[1, "choices"][4] == "fish"
    assert list(out["gold_label"]) == ["a", "a"]


def test_splits_are_deterministic_for_a_seed_and_differ_across_seeds() -> None:
    valid, _ = validate_examples(prepared(nli_rows(100)), NLI, PARAMS)
    first = split_examples(valid, PARAMS, seed=7)
    again = split_examples(valid, PARAMS, seed=7)
    other = split_examples(valid, PARAMS, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not first[["id", "split"]].equals(other[["id", "split"]])
    assert first["split"].value_counts().to_dict() == {"train": 60, "valid": 20, "test": 20}


def test_source_splits_are_kept_and_valid_is_carved_from_train() -> None:
    raw = nli_rows(40)
    raw["split"] = ["test"] * 10 + ["train"] * 30
    valid, _ = validate_examples(prepared(raw), NLI, PARAMS)
    out = split_examples(valid, PARAMS, seed=0)
    counts = out["split"].value_counts().to_dict()
    assert counts == {"test": 10, "train": 24, "valid": 6}
    assert set(out.loc[out["split"] == "test", "id"]) == {f"r{i}" for i in range(10)}


def test_caps_and_unlabeled_train() -> None:
    valid, _ = validate_examples(prepared(nli_rows(100)), NLI, PARAMS)
    params = {
        **PARAMS,
        "splits": {**PARAMS["splits"], "max_rows": {"train": 10, "test": 5}},
        "unlabeled_train": True,
    }
    out = split_examples(valid, params, seed=1)
    assert out["split"].value_counts().to_dict() == {"train": 10, "valid": 20, "test": 5}
    assert out.loc[out["split"] == "train", "gold_label"].isna().all()
    assert out.loc[out["split"] != "train", "gold_label"].notna().all()


def test_bad_split_fractions_name_the_parameter() -> None:
    valid, _ = validate_examples(prepared(nli_rows(10)), NLI, PARAMS)
    params = {**PARAMS, "splits": {"valid_fraction": 0.6, "test_fraction": 0.5}}
    with pytest.raises(ValueError, match="valid_fraction \\+ test_fraction"):
        split_examples(valid, params, seed=0)


def test_summary_counts_splits_and_rejections() -> None:
    valid, rejected = validate_examples(
        prepared(nli_rows(20)), NLI, {**PARAMS, "on_invalid": "drop"}
    )
    metrics = summarize_examples(split_examples(valid, PARAMS, seed=0), rejected)
    assert metrics["n_examples"] == [{"value": 20.0, "step": 0}]
    assert metrics["n_rejected"][0]["value"] == 0.0
    total = sum(metrics[f"n_{s}"][0]["value"] for s in ("train", "valid", "test"))
    assert total == 20.0


def test_hub_presets_reshape_to_the_raw_schema() -> None:
    anli = HuggingFaceTaskDataset(
        dataset_name="facebook/anli", preset="anli", splits={"train": "train_r1"}
    )
    frame = pd.DataFrame(
        {"uid": ["u1"], "premise": ["p"], "hypothesis": ["h"], "label": [2], "reason": ["r"]}
    )
    out = anli.reshape(frame, "train")
    assert out.to_dict("records") == [
        {
            "id": "u1",
            "premise": "p",
            "hypothesis": "h",
            "label": "contradiction",
            "explanation": "r",
            "split": "train",
        }
    ]
    cqa = HuggingFaceTaskDataset(
        dataset_name="tau/commonsense_qa", preset="commonsense_qa", splits={"test": "test"}
    )
    frame = pd.DataFrame(
        {
            "id": ["c1"],
            "question": ["q?"],
            "choices": [{"label": list("ABCDE"), "text": list("vwxyz")}],
            "answerKey": [""],
        }
    )
    row = cqa.reshape(frame, "test").iloc[0]
    assert row["choices"] == list("vwxyz") and row["label"] is None


CQA_CHOICES = [
    ["forest", "wooded area", "city park", "backyard", "zoo"],
    ["ocean", "lake", "desert", "river", "pond"],
    ["1", "2", "3", "4", "5"],
]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["wooded area", "Desert ", "3"], ["b", "c", None]),  # "3": text (c) or index 3 (d)
        (["B", "(c)", "e)"], ["b", "c", "e"]),
        ([1, 2, 4], ["b", "c", "e"]),  # integer column: 0-based positions
        (["WOODED   area", "desert", "d."], ["b", "c", "d"]),
    ],
)
def test_multiple_choice_answers_as_letter_index_or_option_text(
    answers: list, expected: list
) -> None:
    raw = pd.DataFrame(
        {
            "id": ["q1", "q2", "q3"],
            "question": ["Where are trees?", "Where is sand?", "Which number?"],
            "choices": CQA_CHOICES,
            "answer": answers,
        }
    )
    out = prepared(raw, CQA, column_mapping={"answer": "gold_label"})
    labels = [label if label in {"a", "b", "c", "d", "e"} else None for label in out["gold_label"]]
    assert labels == expected


def test_unmatched_answer_names_the_row_and_its_choices() -> None:
    raw = pd.DataFrame(
        {
            "id": ["q1", "q2"],
            "question": ["Where are trees?", "Where is sand?"],
            "choices": CQA_CHOICES[:2],
            "answer": ["wooded area", "the moon"],
        }
    )
    with pytest.raises(ExampleValidationError) as err:
        validate_examples(prepared(raw, CQA, column_mapping={"answer": "gold_label"}), CQA, PARAMS)
    message = str(err.value)
    assert "row 2 (id='q2'): field 'gold_label': answer 'the moon'" in message
    assert "'desert'" in message and "letter a-e" in message
    assert "would drop every labeled row" not in message  # one row matched


def test_no_label_matching_at_all_advises_label_mapping_not_drop() -> None:
    raw = nli_rows(6)
    raw["label"] = ["E", "N", "C", "E", "N", "C"]
    with pytest.raises(ExampleValidationError) as err:
        validate_examples(prepared(raw), NLI, PARAMS)
    message = str(err.value)
    assert message.startswith("No gold label of the source matches")
    assert "label_mapping" in message and "would drop every labeled row" in message
    mapped = prepared(raw, label_mapping={"E": "entailment", "N": "neutral", "C": "contradiction"})
    valid, rejected = validate_examples(mapped, NLI, PARAMS)
    assert len(valid) == 6 and rejected.empty


def test_classification_labels_ignore_case_whitespace_and_use_verbalizers() -> None:
    task = {**NLI, "verbalizers": {"entailment": ["entails"], "contradiction": ["contradicts"]}}
    raw = nli_rows(5)
    raw["label"] = [" Entailment", "NEUTRAL ", "entails", "Contradicts.", "neutral"]
    out = prepared(raw, task)
    assert list(out["gold_label"]) == [
        "entailment",
        "neutral",
        "entailment",
        "contradiction",
        "neutral",
    ]


def _with_a_huge_row() -> pd.DataFrame:
    raw = nli_rows(8)
    raw.loc[5, "premise"] = "word " * 200_000  # 1 MB: ~250,000 prompt tokens
    return raw


def test_a_1mb_row_is_stopped_before_any_teacher_call() -> None:
    with pytest.raises(ExampleValidationError) as err:
        validate_examples(prepared(_with_a_huge_row()), NLI, PARAMS, {"max_prompt_tokens": 8000})
    message = str(err.value)
    assert "row 6 (id='r5'): ~250," in message
    assert "teacher.max_prompt_tokens=8,000" in message and "on_oversize" in message
    # the default limit applies when the teacher block does not set one
    with pytest.raises(ExampleValidationError, match="max_prompt_tokens=8,000"):
        validate_examples(prepared(_with_a_huge_row()), NLI, PARAMS, {})


def test_oversize_rows_dropped_with_the_reason_or_truncated_to_fit() -> None:
    teacher = {"max_prompt_tokens": 8000}
    valid, rejected = validate_examples(
        prepared(_with_a_huge_row()), NLI, {**PARAMS, "on_oversize": "drop"}, teacher
    )
    assert list(rejected["id"]) == ["r5"] and len(valid) == 7
    assert rejected.loc[0, "field"] == "premise"
    assert "exceeds teacher.max_prompt_tokens=8,000" in rejected.loc[0, "reason"]

    valid, rejected = validate_examples(
        prepared(_with_a_huge_row()), NLI, {**PARAMS, "on_oversize": "truncate"}, teacher
    )
    assert rejected.empty and len(valid) == 8
    premise = valid.loc[valid["id"] == "r5", "premise"].iat[0]
    assert premise.endswith("[...truncated]") and 20_000 < len(premise) < 32_000
    assert valid.loc[valid["id"] == "r4", "premise"].iat[0] == "A person number 4 walks."

    # no limit: the row passes (the user's choice)
    valid, _ = validate_examples(
        prepared(_with_a_huge_row()), NLI, PARAMS, {"max_prompt_tokens": None}
    )
    assert len(valid) == 8


def test_no_teacher_no_prompt_guard() -> None:
    """predict validates rows only the student reads: no teacher prompt, no size limit."""
    valid, rejected = validate_examples(prepared(_with_a_huge_row()), NLI, PARAMS)
    assert len(valid) == 8 and rejected.empty


@pytest.mark.parametrize("bad_id", [None, float("nan"), "", "   "])
def test_missing_null_nan_or_blank_ids_are_refused_naming_every_row(bad_id: object) -> None:
    raw = nli_rows(10).astype({"id": object})
    raw.loc[3, "id"] = bad_id
    raw.loc[7, "id"] = bad_id
    examples = prepared(raw)
    with pytest.raises(ExampleValidationError) as refused:
        validate_examples(examples, NLI, PARAMS)
    message = str(refused.value)
    assert "2 invalid input row(s)" in message
    assert "row 4 (id=" in message and "row 8 (id=" in message
    assert "missing id" in message and "unique id" in message


def test_duplicate_ids_name_both_rows_and_the_fix() -> None:
    raw = nli_rows(10)
    raw.loc[6, "id"] = "r2"
    with pytest.raises(ExampleValidationError, match=r"row 7 \(id='r2'\).*also row 3.*unique id"):
        validate_examples(prepared(raw), NLI, PARAMS)


def test_ids_without_an_id_column_come_from_the_content_and_stay_stable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = nli_rows(6).drop(columns=["id"])
    raw.loc[5, ["premise", "hypothesis", "label"]] = raw.loc[0, ["premise", "hypothesis", "label"]]
    with caplog.at_level("INFO"):
        ids = list(prepared(raw)["id"])
    assert "no id column" in caplog.text and "hash of its content" in caplog.text
    assert ids[5] == ids[0] + "-2"  # identical rows: unique, still deterministic
    reordered = list(prepared(raw.iloc[::-1].reset_index(drop=True))["id"])
    assert reordered[::-1][1:5] == ids[1:5] and set(reordered) == set(ids)
    validate_examples(prepared(raw), NLI, PARAMS)  # unique: nothing to refuse


@pytest.mark.parametrize("nested", [{"text": "A man."}, ["A man.", "A dog."]])
def test_a_nested_value_in_a_text_field_is_refused_with_row_id_field_and_fix(
    nested: object, tmp_path: Path
) -> None:
    raw = nli_rows(5).astype({"premise": object})
    raw.at[2, "premise"] = nested
    with pytest.raises(
        ExampleValidationError,
        match=r"row 3 \(id='r2'\): field 'premise': a (dict|list) where text is expected.*flatten",
    ):
        validate_examples(prepared(raw), NLI, PARAMS)
    valid, rejected = validate_examples(prepared(raw), NLI, {**PARAMS, "on_invalid": "drop"})
    assert len(valid) == 4 and list(rejected["id"]) == ["r2"]
    rejected.to_parquet(tmp_path / "rejected.parquet")  # the nested value is kept as JSON
    assert "A man." in pd.read_parquet(tmp_path / "rejected.parquet").at[0, "premise"]


def test_rows_without_a_label_next_to_labelled_ones_are_valid() -> None:
    # pandas 3 reads the missing labels of a partly labelled file as NaN, not None.
    raw = pd.DataFrame(
        {
            "id": ["a", "b"],
            "premise": ["A dog runs.", "It rains."],
            "hypothesis": ["An animal moves.", "It is dry."],
            "label": [None, "contradiction"],
        }
    )
    standardized = standardize_columns(raw, NLI, PARAMS)
    valid, rejected = validate_examples(standardized, NLI, PARAMS)
    assert len(valid) == 2 and rejected.empty
    assert valid["gold_label"].isna().tolist() == [True, False]
