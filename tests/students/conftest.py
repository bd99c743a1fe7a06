"""Fixtures for the student tests: a tiny T5 with the byte-level tokenizer, an NLI spec."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import torch

from zeroshot_distill.students import StudentBundle, load_student
from zeroshot_distill.tasks.spec import TaskSpec


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models train fastest on one thread (and leave the other core to the rest)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


TINY_ARCHITECTURE = {
    "d_model": 32,
    "d_ff": 64,
    "d_kv": 8,
    "num_heads": 4,
    "num_layers": 1,
    "num_decoder_layers": 1,
    "dropout_rate": 0.0,
}
LABELS = ["entailment", "neutral", "contradiction"]
CUES = {"entailment": "yes", "neutral": "maybe", "contradiction": "no"}


@pytest.fixture
def nli_spec() -> TaskSpec:
    """The three-way NLI task."""
    return TaskSpec(
        name="nli",
        kind="classification",
        description="NLI",
        input_fields=["premise", "hypothesis"],
        labels=LABELS,
    )


@pytest.fixture
def tiny_student() -> StudentBundle:
    """A 1+1-layer T5 (d_model 32) with random weights and the ByT5 tokenizer."""
    return load_student({"architecture": TINY_ARCHITECTURE}, seed=0)


def cue_rows(n: int, spec: TaskSpec, *, prefix: str = "t", flip: bool = False) -> pd.DataFrame:
    """``n`` NLI rows whose label is given away by a cue word at the end of the hypothesis.

    ``flip`` rotates every label by one (the same inputs, deliberately "wrong" labels).
    """
    nouns = ["cat", "dog", "man", "girl", "boy", "car", "tree", "sun"]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        cue_label = LABELS[i % 3]
        label = LABELS[(i + 1) % 3] if flip else cue_label
        row = {
            "id": f"{prefix}{i:02d}",
            "premise": f"A {nouns[i % 8]} and a {nouns[(i * 3 + 1) % 8]}.",
            "hypothesis": CUES[cue_label],
            "label": label,
        }
        row["input"] = spec.student_input(row)
        row["label_target"] = label
        row["rationale_target"] = f"the cue is {CUES[cue_label]}" if i % 2 else None
        rows.append(row)
    return pd.DataFrame(rows)
