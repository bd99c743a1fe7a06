"""Tests of task specs: validation errors name fields, labels are read robustly."""

from __future__ import annotations

import pytest
import yaml

from zeroshot_distill.tasks import TaskSpec, TaskSpecError, canonical_number


@pytest.fixture(scope="module")
def specs(project_root) -> dict[str, TaskSpec]:
    out = {}
    for path in sorted((project_root / "conf" / "base" / "tasks").glob("*.yml")):
        ((key, params),) = yaml.safe_load(path.read_text()).items()
        assert key == f"_task_{path.stem}"
        out[path.stem] = TaskSpec.from_params(params)
    return out


def test_bundled_task_specs_are_valid(specs: dict[str, TaskSpec]) -> None:
    assert set(specs) == {"nli", "commonsense_qa", "svamp", "text_classification"}
    assert specs["nli"].label_set == ["entailment", "neutral", "contradiction"]
    assert specs["commonsense_qa"].label_set == list("abcde")
    assert specs["svamp"].label_set is None


def test_invalid_spec_names_the_field() -> None:
    with pytest.raises(TaskSpecError, match="labels"):
        TaskSpec.from_params(
            {"name": "x", "kind": "classification", "description": "d", "input_fields": ["t"]}
        )
    with pytest.raises(TaskSpecError, match="kind"):
        TaskSpec.from_params(
            {"name": "x", "kind": "regression", "description": "d", "input_fields": ["t"]}
        )


def test_classification_verbalizers(specs: dict[str, TaskSpec]) -> None:
    nli = specs["nli"]
    assert nli.normalize_label("Entailment.") == "entailment"
    assert nli.normalize_label("true") == "entailment"
    assert nli.normalize_label("It is not possible to tell") == "neutral"
    assert nli.normalize_label("contradiction") == "contradiction"
    # Two labels named: ambiguous, better unparsed than wrong.
    assert nli.normalize_label("neutral or contradiction") is None
    assert nli.normalize_label("purple") is None


def test_multiple_choice_reading(specs: dict[str, TaskSpec]) -> None:
    cqa = specs["commonsense_qa"]
    row = {"question": "q", "choices": ["kitchen", "sky", "sea", "car", "moon"]}
    assert cqa.normalize_label("(c)", row) == "c"
    assert cqa.normalize_label("(d) car", row) == "d"
    assert cqa.normalize_label("kitchen", row) == "a"
    assert cqa.normalize_label("B", row) == "b"
    assert cqa.student_input(row) == (
        "question: q choices: (a) kitchen (b) sky (c) sea (d) car (e) moon"
    )
    assert cqa.label_target("e", row) == "moon"


def test_numbers_are_canonical() -> None:
    assert canonical_number("So the answer is 1,200.50 dollars") == "1200.5"
    assert canonical_number("-3") == "-3"
    assert canonical_number("12.0") == "12"
    assert canonical_number("none") is None


def test_label_from_source_reads_multiple_choice_and_class_labels() -> None:
    cqa = TaskSpec.from_params(
        {
            "name": "cqa",
            "kind": "multiple_choice",
            "description": "QA",
            "input_fields": ["question", "choices"],
            "n_choices": 3,
        }
    )
    choices = ["wooded area", "b", "lake"]
    assert cqa.label_from_source("Wooded Area", choices) == "a"
    assert cqa.label_from_source("(C)", choices) == "c"
    assert cqa.label_from_source(2, choices) == "c"
    assert cqa.label_from_source("b", choices) == "b"  # letter b and option text (b) agree
    assert cqa.label_from_source("a", ["x", "a", "y"]) == "a"  # a letter is a letter
    assert cqa.label_from_source("1", ["x", "y", "z"]) == "b"  # 0-based index
    assert cqa.label_from_source("1", ["2", "1", "0"]) == "b"  # index and text agree
    assert cqa.label_from_source("1", ["1", "2", "3"]) == "1"  # index (b) or text (a)?
    assert "ambiguous" in cqa.label_problem("1", ["1", "2", "3"])
    assert cqa.label_from_source(7, choices) == "7"
    assert cqa.label_from_source(None, choices) is None
    assert "choices ['wooded area', 'b', 'lake']" in cqa.label_problem("moon", choices)
