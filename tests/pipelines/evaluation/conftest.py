"""Tiny fixtures for the evaluation tests: an NLI frame, a random tiny T5, a simulated teacher."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

TASK: dict[str, Any] = {
    "name": "nli",
    "kind": "classification",
    "description": "Does the premise entail the hypothesis?",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
    "verbalizers": {"entailment": ["yes"], "contradiction": ["no"]},
}
LABELS = TASK["labels"]


def make_examples(n_train: int = 6, n_test: int = 6) -> pd.DataFrame:
    """Rows with gold labels and reference rationales (the simulated teacher reads them)."""
    rows = []
    for split, n in (("train", n_train), ("valid", 3), ("test", n_test)):
        for i in range(n):
            label = LABELS[i % 3]
            rows.append(
                {
                    "id": f"{split}-{i:02d}",
                    "split": split,
                    "premise": f"A man number {i} walks a dog in the park.",
                    "hypothesis": f"Someone {i} is outside.",
                    "gold_label": label,
                    "reference_rationale": f"The premise says a man walks, so it is {label}.",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def student() -> Any:
    """A randomly initialised one-layer T5 with the file-free ByT5 tokenizer."""
    from zeroshot_distill.students import load_student

    bundle = load_student(
        {
            "architecture": {
                "d_model": 32,
                "d_kv": 8,
                "d_ff": 64,
                "num_layers": 1,
                "num_decoder_layers": 1,
                "num_heads": 2,
            }
        },
        seed=0,
    )
    bundle.info.update(best_step=40, n_train=6, n_train_with_rationale=4, n_valid=3)
    return bundle


@pytest.fixture
def teacher_params(tmp_path) -> dict[str, Any]:
    """The simulated teacher with a throw-away cache."""
    return {
        "backend": "simulated",
        "model": "simulated-teacher",
        "seed": 1,
        "cache": {"mode": "read_write", "path": str(tmp_path / "cache.sqlite")},
        "prices": {"simulated-teacher": {"input_per_1m": 0.15, "output_per_1m": 0.60}},
        "simulated": {"accuracy": 0.8, "labels": LABELS},
    }


EVALUATION: dict[str, Any] = {
    "split": "test",
    "max_rows": None,
    "batch_size": 4,
    "max_new_tokens": 4,
    "latency_samples": 2,
    "rationales": {"n": 2, "max_new_tokens": 6},
    "teacher_comparison": {"enabled": True, "max_rows": 4},
    "cost": {
        "student_hourly_usd": 0.10,
        "reference_price": {"model": "gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.6},
    },
}
