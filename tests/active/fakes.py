"""Test doubles for the active-distillation loop: a scripted student probe and a backend.

The fake backend's teacher has its own cache (a set of answered ids) and counts what it was
*paid* for, so tests can prove that a budget holds and that a resumed run re-pays nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from zeroshot_distill.tasks import TaskSpec

NLI = {
    "name": "nli",
    "kind": "classification",
    "description": "Decide whether the premise entails the hypothesis.",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
LABELS = NLI["labels"]


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: on a shared 2-core runner a busy-waiting second thread made the
    tiny model's decoding ~10x slower (measured). Import this fixture to use it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_examples(n_train: int = 40, n_valid: int = 6, n_test: int = 6) -> pd.DataFrame:
    """Examples in the project's contract (ids ``ex-000`` …)."""
    rows = []
    for i in range(n_train + n_valid + n_test):
        split = "train" if i < n_train else ("valid" if i < n_train + n_valid else "test")
        label = LABELS[i % 3]
        rows.append(
            {
                "id": f"ex-{i:03d}",
                "split": split,
                "premise": f"premise number {i}",
                "hypothesis": f"hypothesis {i}",
                "gold_label": label,
                "reference_rationale": f"the premise {i} supports {label}",
            }
        )
    return pd.DataFrame(rows)


class ScriptedProbe:
    """A student whose reasoning is scripted per example id (read from the input text).

    Ids in ``unsure`` get rationales that disagree (votes spread over the labels) and a flat
    label distribution; every other id gets K identical rationales and a peaked distribution.
    """

    def __init__(self, unsure: set[str], k_spread: int = 3) -> None:
        self.unsure = unsure
        self.k_spread = k_spread
        self.calls: list[str] = []

    @staticmethod
    def _number(text: str) -> int:
        return int(text.split("premise number ")[1].split()[0])

    def _unsure(self, text: str) -> bool:
        return f"ex-{self._number(text):03d}" in self.unsure

    def sample_rationales(
        self,
        inputs: Sequence[str],
        k: int,
        *,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        seed: int,
    ) -> list[list[str]]:
        self.calls.append("sample")
        out = []
        for text in inputs:
            if self._unsure(text):
                out.append([f"so the answer is {LABELS[j % self.k_spread]}" for j in range(k)])
            else:
                out.append(["so the answer is entailment"] * k)
        return out

    def answer_logprobs(
        self, inputs: Sequence[str], candidates: Sequence[Sequence[str]]
    ) -> list[np.ndarray]:
        self.calls.append("logprobs")
        out = []
        for text, cands in zip(inputs, candidates, strict=True):
            if " rationale: " in text:  # conditioned on a sampled rationale: follow it
                said = text.rsplit("so the answer is ", 1)[1]
                out.append(np.array([0.0 if c == said else -4.0 for c in cands]))
            elif self._unsure(text):
                out.append(np.array([-1.1, -1.0, -1.2]))
            else:
                out.append(np.array([-0.05, -5.0, -6.0]))
        return out

    def greedy_answers(
        self, inputs: Sequence[str], *, max_new_tokens: int
    ) -> tuple[list[str], np.ndarray]:
        raise AssertionError("not used for classification")


class FakeBackend:
    """Teacher, trainer and evaluation stand-ins for :class:`ActiveLoop`.

    Each annotation costs ``cost`` USD (its bound is ``bound``); cached answers cost 0 and
    report their price as ``saved_usd``, as the teacher does.
    """

    simulated = True

    def __init__(
        self,
        *,
        cost: float = 0.01,
        bound: float = 0.012,
        unsure: set[str] | None = None,
        fail_train_at: int | None = None,
    ) -> None:
        self.cost = cost
        self.bound = bound
        self.cache: set[str] = set()
        self.paid: list[str] = []
        self.requested: list[str] = []
        self.trained: list[int] = []
        self.unsure = unsure or set()
        self.fail_train_at = fail_train_at
        self.revised: list[str] = []

    # teacher
    def annotate(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = []
        for row in rows.to_dict(orient="records"):
            rid = str(row["id"])
            self.requested.append(rid)
            cached = rid in self.cache
            if not cached:
                self.paid.append(rid)
                self.cache.add(rid)
            out.append(
                {
                    "id": rid,
                    "split": row["split"],
                    "teacher_label": row["gold_label"],
                    "rationale": row["reference_rationale"],
                    "parse_status": "ok",
                    "cost_usd": 0.0 if cached else self.cost,
                    "saved_usd": self.cost if cached else 0.0,
                    "cached": cached,
                    "simulated": True,
                }
            )
        return pd.DataFrame(out)

    def annotation_bounds(self, rows: pd.DataFrame) -> list[float]:
        return [self.bound] * len(rows)

    def explain(self, student: Any, rows: pd.DataFrame) -> tuple[list[str], list[str | None]]:
        return ["student thinks so"] * len(rows), ["neutral"] * len(rows)

    def revise(self, rows: pd.DataFrame) -> pd.DataFrame:
        self.revised.extend(str(i) for i in rows["id"])
        return pd.DataFrame(
            {
                "id": rows["id"].astype(str),
                "revised_label": rows["gold_label"],
                "revised_rationale": [f"corrected: {r}" for r in rows["student_rationale"]],
                "revision_status": "ok",
                "cost_usd": self.cost,
                "cached": False,
            }
        )

    def revision_bounds(self, rows: pd.DataFrame) -> list[float]:
        return [self.bound] * len(rows)

    # student
    def train(self, annotated: pd.DataFrame, init: Any | None, *, seed: int) -> dict[str, Any]:
        n = len(annotated)
        if self.fail_train_at is not None and len(self.trained) == self.fail_train_at:
            raise RuntimeError("killed")
        self.trained.append(n)
        return {"ids": sorted(annotated["id"].astype(str)), "n": n}

    def evaluate(self, student: Mapping[str, Any], rows: pd.DataFrame) -> dict[str, float]:
        return {"accuracy": min(1.0, student["n"] / 50), "n": float(len(rows))}

    def probe(self, student: Any) -> ScriptedProbe:
        return ScriptedProbe(self.unsure)

    def save_student(self, student: Any, path: Path) -> None:
        path.mkdir(parents=True)
        (path / "student.json").write_text(json.dumps(student))

    def load_student(self, path: Path) -> Any:
        return json.loads((path / "student.json").read_text())


def spec() -> TaskSpec:
    """The NLI task spec used by these tests."""
    return TaskSpec.from_params(NLI)
