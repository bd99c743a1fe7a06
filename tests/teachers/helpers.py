"""Shared test helpers: task specs, small example tables, teacher configs, a stub answerer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.testing.stub_server import StubReply, last_user_message

# A fake API key the tests hand to teachers (env var ZD_TEST_API_KEY, set for every test in
# tests/conftest.py) and then look for on disk and in logs, where it must never appear.
TEST_KEY = "sk-test-Zq81SECRETkey4477"

NLI_LABELS = ["entailment", "neutral", "contradiction"]
NLI_TASK: dict[str, Any] = {
    "name": "nli",
    "kind": "classification",
    "description": "Natural language inference: entailment, neutral or contradiction.",
    "input_fields": ["premise", "hypothesis"],
    "labels": NLI_LABELS,
    "verbalizers": {
        "entailment": ["entails", "true", "yes"],
        "neutral": ["inconclusive", "maybe", "it is not possible to tell"],
        "contradiction": ["contradicts", "false", "no"],
    },
}
CQA_TASK: dict[str, Any] = {
    "name": "commonsense_qa",
    "kind": "multiple_choice",
    "description": "Pick the answer choice that best answers the question.",
    "input_fields": ["question", "choices"],
    "choices_field": "choices",
    "n_choices": 5,
}
SVAMP_TASK: dict[str, Any] = {
    "name": "svamp",
    "kind": "numeric",
    "description": "Compute the number that answers the question.",
    "input_fields": ["question"],
}
PRICES = {"gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.60}}
_ROW = re.compile(r"\[(r\d+)\]")


def spec(task: Mapping[str, Any] = NLI_TASK) -> TaskSpec:
    """A validated task spec."""
    return TaskSpec.from_params(task)


def nli_examples(n: int, *, splits: tuple[str, ...] = ("train", "valid")) -> pd.DataFrame:
    """``n`` NLI rows; each premise carries its id as ``[r<i>]`` for the stub to read."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": f"r{i}",
                "split": splits[i % len(splits)],
                "premise": f"[r{i}] A man is playing a guitar on a stage in front of people.",
                "hypothesis": f"Someone is making music number {i}.",
                "gold_label": NLI_LABELS[i % 3],
                "reference_rationale": "Playing a guitar on a stage is making music.",
            }
        )
    return pd.DataFrame(rows)


def row_id(body: Mapping[str, Any]) -> str | None:
    """The ``[r<i>]`` marker of a request, if any."""
    match = _ROW.search(last_user_message(body))
    return match.group(1) if match else None


def nli_answer(body: Mapping[str, Any]) -> str | StubReply:
    """A well-behaved teacher: rationale then ``Answer: <gold of row i>`` (JSON if asked)."""
    rid = row_id(body) or "r0"
    label = NLI_LABELS[int(rid[1:]) % 3]
    rationale = f"The premise of {rid} describes a man playing a guitar, which is music."
    if body.get("response_format"):
        import json

        return json.dumps({"rationale": rationale, "answer": label})
    return f"{rationale}\nAnswer: {label}"


def openai_config(base_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """An ``openai`` teacher block pointing at a stub server, cache under ``tmp_path``."""
    config: dict[str, Any] = {
        "backend": "openai",
        "model": "gpt-4o-mini",
        "base_url": base_url,
        "api_key_env": "ZD_TEST_API_KEY",
        "credentials": None,
        "timeout_s": 5.0,
        "max_retries": 2,
        "concurrency": 8,
        "max_tokens": 64,
        "prices": PRICES,
        "cache": {"mode": "read_write", "path": str(tmp_path / "cache.sqlite")},
    }
    config.update(overrides)
    return config


def simulated_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A ``simulated`` teacher block, cache under ``tmp_path``."""
    config: dict[str, Any] = {
        "backend": "simulated",
        "model": "simulated-teacher",
        "seed": 7,
        "prices": {"simulated-teacher": {"input_per_1m": 0.15, "output_per_1m": 0.60}},
        "cache": {"mode": "read_write", "path": str(tmp_path / "cache.sqlite")},
        "simulated": {"labels": NLI_LABELS},
    }
    config.update(overrides)
    return config
