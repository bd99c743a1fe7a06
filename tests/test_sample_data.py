"""The bundled sample data: deterministic, committed as generated, and well-formed."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

# The generator lives outside the installed package (tools/sample_data/): load it by path.
_GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "sample_data" / "generate.py"
_spec = importlib.util.spec_from_file_location("sample_data_generate", _GENERATOR)
assert _spec is not None and _spec.loader is not None
sd = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sd  # dataclasses resolve their module while the file executes
_spec.loader.exec_module(sd)


FIELDS = {
    "nli": ("id", "premise", "hypothesis", "label", "explanation"),
    "cqa": ("id", "question", "choices", "answer", "explanation"),
    "cqa_large": ("id", "question", "choices", "answer", "explanation"),
    "svamp": ("id", "question", "answer", "explanation"),
    "sentiment": ("id", "text", "label", "explanation"),
}
COUNTS = {
    "nli": sd.N_NLI,
    "cqa": sd.N_CQA,
    "cqa_large": sd.N_CQA_LARGE,
    "svamp": sd.N_SVAMP,
    "sentiment": sd.N_SENTIMENT,
}
ID_PREFIX = {
    "nli": "nli-",
    "cqa": "cqa-",
    "cqa_large": "cqal-",
    "svamp": "svamp-",
    "sentiment": "sent-",
}


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh generation with the default seed."""
    return sd.write_all(tmp_path_factory.mktemp("sample_a"))


@pytest.fixture(scope="module")
def rows(generated: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    """The fresh generation, parsed."""
    return {key: _read(path) for key, path in generated.items()}


def _words(text: str) -> int:
    return len(text.split())


# ------------------------------------------------------------------------------ determinism
def test_two_runs_write_identical_bytes(generated: dict[str, Path], tmp_path: Path) -> None:
    again = sd.write_all(tmp_path)
    assert set(again) == set(sd.FILE_NAMES)
    for key, path in generated.items():
        assert path.read_bytes() == again[key].read_bytes(), key


def test_another_seed_gives_other_data(generated: dict[str, Path], tmp_path: Path) -> None:
    other = sd.write_all(tmp_path, seed=sd.DEFAULT_SEED + 1)
    assert all(generated[k].read_bytes() != other[k].read_bytes() for k in generated)


@pytest.mark.parametrize("key", sorted(sd.FILE_NAMES))
def test_committed_files_equal_a_fresh_generation(
    key: str, generated: dict[str, Path], project_root: Path
) -> None:
    committed = project_root / "data" / "01_raw" / sd.FILE_NAMES[key]
    assert committed.is_file(), f"{committed} is missing: run python tools/sample_data/generate.py"
    assert committed.read_bytes() == generated[key].read_bytes(), (
        f"{committed} differs from the generator's output; regenerate it with "
        "`python tools/sample_data/generate.py --out data/01_raw`"
    )


def test_cli_writes_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sd.main(["--out", str(tmp_path / "raw")]) == 0
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(sd.FILE_NAMES.values())
    assert "240 rows" in capsys.readouterr().out


# ------------------------------------------------------------------------------- structure
@pytest.mark.parametrize("key", sorted(sd.FILE_NAMES))
def test_counts_fields_and_ids(key: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows[key]
    assert len(data) == COUNTS[key]
    ids = [r["id"] for r in data]
    assert len(set(ids)) == len(ids)
    assert ids == [f"{ID_PREFIX[key]}{i:04d}" for i in range(1, len(data) + 1)]
    for row in data:
        assert tuple(row) == FIELDS[key], row
        for field, value in row.items():
            if isinstance(value, str):
                assert value.strip(), (row["id"], field)
            elif isinstance(value, list):
                assert value and all(isinstance(v, str) and v.strip() for v in value), row["id"]
            else:
                assert isinstance(value, int) and not isinstance(value, bool), (row["id"], field)


def test_nli_balance_uniqueness_and_explanations(rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows["nli"]
    assert Counter(r["label"] for r in data) == {label: 80 for label in sd.NLI_LABELS}
    pairs = [(r["premise"], r["hypothesis"]) for r in data]
    assert len(set(pairs)) == len(pairs)
    assert all(r["premise"] != r["hypothesis"] for r in data)
    lo, hi = sd.NLI_EXPLANATION_WORDS
    lengths = [_words(r["explanation"]) for r in data]
    assert all(lo <= n <= hi for n in lengths), (min(lengths), max(lengths))
    long_ones = sum(n > sd.NLI_LONG_EXPLANATION_WORDS for n in lengths)
    assert 0 < long_ones < len(data) / 2  # varied length, a minority above 25 words
    # contradictions are not simply negated hypotheses
    negated = sum(" not " in f" {r['hypothesis']} " for r in data if r["label"] == "contradiction")
    assert negated < 0.25 * 80


def test_cqa_choices_answers_and_explanations(rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows["cqa"]
    questions = [r["question"] for r in data]
    assert len(set(questions)) == len(questions)
    assert Counter(r["answer"] for r in data) == {letter: 40 for letter in sd.CHOICE_LETTERS}
    lo, hi = sd.CQA_EXPLANATION_WORDS
    for row in data:
        assert len(row["choices"]) == 5 and len(set(row["choices"])) == 5, row["id"]
        assert row["answer"] in sd.CHOICE_LETTERS, row["id"]
        assert lo <= _words(row["explanation"]) <= hi, row["id"]
        assert row["question"].endswith("?"), row["id"]


def test_large_cqa_asks_each_fact_in_several_ways(rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows["cqa_large"]
    assert len({(r["question"], *r["choices"]) for r in data}) == len(data)
    assert len({r["question"] for r in data}) > len(data) * 3 // 4
    letters = [r["answer"] for r in data]
    assert all(80 <= letters.count(x) <= 240 for x in "abcde")
    for row in data:
        answer = row["choices"][sd.CHOICE_LETTERS.index(row["answer"])]
        assert len(set(row["choices"])) == 5
        assert any(f.answer == answer for f in sd.KNOWLEDGE_TABLE)
    repeated = len(data) - len({r["explanation"] for r in data})
    assert repeated > len(data) // 2  # most facts come back with other wording


def test_cqa_knowledge_table_is_consistent() -> None:
    for fact in sd.KNOWLEDGE_TABLE:
        assert len(set(fact.distractors)) >= 4, fact
        assert fact.answer not in fact.distractors, fact
        lo, hi = sd.CQA_EXPLANATION_WORDS
        assert lo <= _words(fact.explanation) <= hi, fact


def test_svamp_answers_are_shown_in_explanations(rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows["svamp"]
    questions = [r["question"] for r in data]
    assert len(set(questions)) == len(questions)
    for row in data:
        assert isinstance(row["answer"], int) and row["answer"] > 0, row["id"]
        assert f"= {row['answer']}" in row["explanation"], row["id"]
        assert row["question"].endswith("?"), row["id"]
    two_step = sum(row["explanation"].count(" = ") >= 2 for row in data)
    assert 0.2 * len(data) < two_step < 0.8 * len(data)


def test_svamp_explanations_compute_correctly(rows: dict[str, list[dict[str, Any]]]) -> None:
    step = re.compile(r"(\d+) ([-+*/]) (\d+) = (\d+)")
    ops = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }
    for row in rows["svamp"]:
        steps = step.findall(row["explanation"])
        assert steps, row["id"]
        for a, op, b, result in steps:
            assert ops[op](int(a), int(b)) == int(result), (row["id"], a, op, b, result)
        assert int(steps[-1][3]) == row["answer"], row["id"]


def test_sentiment_balance_and_explanations(rows: dict[str, list[dict[str, Any]]]) -> None:
    data = rows["sentiment"]
    half = sd.N_SENTIMENT // 2
    assert Counter(r["label"] for r in data) == {"positive": half, "negative": half}
    texts = [r["text"] for r in data]
    assert len(set(texts)) == len(texts)
    lo, hi = sd.SENTIMENT_EXPLANATION_WORDS
    assert all(lo <= _words(r["explanation"]) <= hi for r in data)


def test_raw_readme_describes_every_file(project_root: Path) -> None:
    readme = (project_root / "data" / "01_raw" / "README.md").read_text(encoding="utf-8")
    for name in sd.FILE_NAMES.values():
        assert name in readme
    assert "python tools/sample_data/generate.py" in readme
