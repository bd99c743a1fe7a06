"""The prompt_optimization pipeline against real teachers.

- over real HTTP: a local OpenAI-compatible stub server plays both optimizer and scorer
  through the project's ``openai`` backend, response cache and answer parser;
- offline: the ``simulated`` backend, the Kedro pipeline run by a ``SequentialRunner`` on
  an in-memory catalog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from zeroshot_distill.optimization import HISTORY_COLUMNS, Objective, PromptOptimizationError
from zeroshot_distill.pipelines.prompt_optimization import create_pipeline
from zeroshot_distill.pipelines.prompt_optimization.nodes import (
    optimize_prompt,
    plot_opro_progression,
    select_best_prompt,
    select_scoring_examples,
    summarize_search,
)
from zeroshot_distill.testing.stub_server import StubServer, last_user_message

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
TOY_TASK = {
    "name": "toy_sentiment",
    "kind": "classification",
    "description": "Decide whether the text is positive or negative.",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}
N_TRAIN = 10
_MARK = re.compile(r"\[acc=(\d+) expl=(\d+)\]")
_EXAMPLE = re.compile(r"toy example (\d+) ")


def toy_examples() -> pd.DataFrame:
    """10 labeled train rows (the scoring set), unlabeled train rows, labeled valid/test."""
    rows = []
    for i in range(N_TRAIN):
        rows.append(("train", i, "positive" if i % 2 else "negative"))
    rows += [("train", 100 + i, None) for i in range(4)]  # unlabeled: never scored
    rows += [("valid", 200 + i, "positive") for i in range(3)]
    rows += [("test", 300 + i, "negative") for i in range(3)]
    return pd.DataFrame(
        {
            "id": [f"toy-{n:03d}" for _, n, _ in rows],
            "split": [s for s, _, _ in rows],
            "text": [f"toy example {n} reads well." for _, n, _ in rows],
            "gold_label": pd.array([g for _, _, g in rows], dtype="string"),
            "reference_rationale": [None] * len(rows),
        }
    )


GOLD = {f"toy example {i} ": ("positive" if i % 2 else "negative") for i in range(N_TRAIN)}

# Templates carry markers the stub server reads: [gen=s] (the step that proposed it) and
# [acc=a expl=e]: example i (0..9) is answered right iff i < a and explained iff i < e.
SEEDS = [
    "[gen=0] [acc=5 expl=9] Text: {text}\nExplain why, then answer.",
    "[gen=0] [acc=7 expl=1] Text: {text}\nGive the label.",
    "[gen=0] [acc=3 expl=10] {text}\nThink step by step.",
]
SCRIPT = {
    (1, 1): "[gen=1] [acc=6 expl=9] Text: {text}\nGive a reason, then the label.",
    (1, 2): "[gen=1] [acc=9 expl=9] A template that forgot its placeholder.",
    (1, 3): "[GEN=0]  [acc=5 expl=9] text: {text} -- explain why; then ANSWER!",  # = seed 1
    (1, 4): "[gen=1] [acc=10 expl=1] {text}\nThe label only.",  # the accuracy trap
    (2, 1): "[gen=2] [acc=8 expl=8] Text: {text}\nOne sentence why, then the label.",
    (2, 2): "[gen=2] [acc=9 expl=9] {text} {label}",  # unknown placeholder
    (2, 3): "[gen=1] [acc=6 expl=9] Text: {text}\nGive a reason, then the label.",  # = s1-c1
    (2, 4): "[gen=2] [acc=8 expl=8]  text {text} one sentence why then the label",  # = s2-c1
}
REJECTED = {"s1-c2", "s1-c3", "s2-c2", "s2-c3", "s2-c4"}


def stub_answer(body: Mapping[str, Any]) -> str:
    """Optimizer when the prompt holds <PRT> blocks, scorer otherwise."""
    prompt = last_user_message(body)
    if "<PRT>" in prompt:
        step = 1 + max(int(g) for g in re.findall(r"\[gen=(\d+)\]", prompt))
        proposal = int(re.search(r"proposal (\d+) of", prompt).group(1))  # type: ignore[union-attr]
        return f"Sure. <PRT>{SCRIPT[(step, proposal)]}</PRT>"
    acc, expl = (int(x) for x in _MARK.search(prompt).groups())  # type: ignore[union-attr]
    i = int(_EXAMPLE.search(prompt).group(1))  # type: ignore[union-attr]
    gold = GOLD[f"toy example {i} "]
    label = gold if i < acc else ("negative" if gold == "positive" else "positive")
    if i < expl:
        return f"The words of the text point that way clearly.\nAnswer: {label}"
    return f"Answer: {label}"


def http_teacher(server: StubServer, cache: Path) -> dict[str, Any]:
    return {
        "backend": "openai",
        "model": "stub-model",
        "base_url": server.base_url,
        "require_api_key": False,
        "api_key_env": None,
        "concurrency": 8,
        "max_retries": 1,
        "timeout_s": 10,
        "max_tokens": 200,
        "prices": {"stub-model": {"input_per_1m": 1.0, "output_per_1m": 4.0}},
        "cache": {"path": str(cache)},
    }


def opro_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_steps": 2,
        "n_candidates": 4,
        "top_k": 4,
        "patience": None,
        "n_score_examples": N_TRAIN,
        "n_exemplars": 2,
        "progress": False,
        "seed_templates": {"toy_sentiment": SEEDS},
    }
    params.update(overrides)
    return params


def run_nodes(
    examples: pd.DataFrame, params: dict[str, Any], teacher: dict[str, Any]
) -> dict[str, Any]:
    """The pipeline's nodes in order (as the pipeline wires them)."""
    scoring = select_scoring_examples(examples, TOY_TASK, params, 42)
    history, summary = optimize_prompt(scoring, TOY_TASK, params, teacher, 42)
    best = select_best_prompt(history, params)
    return {
        "scoring": scoring,
        "history": history,
        "summary": summary,
        "best": best,
        "plot": plot_opro_progression(history, params),
        "metrics": summarize_search(history, params, summary),
    }


def _shown_blocks(prompt: str) -> list[tuple[str, int]]:
    return [(t, int(s)) for t, s in re.findall(r"<PRT>(.*?)</PRT>\nscore: (\d+)", prompt, re.S)]


@pytest.fixture
def server() -> Any:
    with StubServer(answer_fn=stub_answer) as stub:
        yield stub


# ------------------------------------------------------------------------------- over HTTP
def test_search_over_http_rejects_ranks_and_replays_from_cache(
    server: StubServer, tmp_path: Path
) -> None:
    teacher = http_teacher(server, tmp_path / "cache.sqlite")
    params = opro_params()
    out = run_nodes(toy_examples(), params, teacher)
    history = out["history"]

    # the scoring set: every labeled train row, nothing else
    assert sorted(out["scoring"]["id"]) == [f"toy-{i:03d}" for i in range(N_TRAIN)]

    # steps x candidates rows (+ the seeds at step 0), rejected ones included
    assert list(history.columns) == HISTORY_COLUMNS
    assert len(history) == len(SEEDS) + 2 * 4
    assert history.groupby("step").size().to_dict() == {0: 3, 1: 4, 2: 4}
    by_id = history.set_index("template_id")
    assert set(by_id.index[by_id["status"] == "rejected"]) == REJECTED
    assert by_id.loc["s1-c2", "reason"].startswith("invalid_placeholders")
    assert "missing {text}" in by_id.loc["s1-c2", "reason"]
    assert "unknown {label}" in by_id.loc["s2-c2", "reason"]
    assert by_id.loc["s1-c3", "reason"] == "duplicate: same as s0-c1"
    assert by_id.loc["s2-c3", "reason"] == "duplicate: same as s1-c1"
    assert by_id.loc["s2-c4", "reason"] == "duplicate: same as s2-c1"
    rejected = by_id.loc[sorted(REJECTED)]
    assert (rejected["n_scored"] == 0).all() and rejected["accuracy"].isna().all()
    assert (rejected["cost_usd"] == 0).all()

    # what the server saw: 8 optimizer requests, 6 accepted templates x 10 examples
    prompts = server.prompts()
    optimizer_prompts = [p for p in prompts if "<PRT>" in p]
    scorer_prompts = [p for p in prompts if "<PRT>" not in p]
    assert len(optimizer_prompts) == 8
    assert len(scorer_prompts) == 6 * N_TRAIN
    assert not any("forgot its placeholder" in p or "{label}" in p for p in scorer_prompts)
    assert not any("[GEN=0]" in p or "then ANSWER!" in p for p in scorer_prompts)
    assert not any("toy example 10" in p for p in scorer_prompts)  # unlabeled rows

    # scores computed by the project's parser from the HTTP answers
    scored = by_id[by_id["status"] == "scored"]
    assert scored["n_scored"].eq(N_TRAIN).all()
    assert scored.loc["s1-c4", "accuracy"] == pytest.approx(1.0)
    assert scored.loc["s1-c4", "explanation_rate"] == pytest.approx(0.1)
    assert scored.loc["s2-c1", "accuracy"] == pytest.approx(0.8)
    assert scored.loc["s2-c1", "explanation_rate"] == pytest.approx(0.8)
    assert scored["cost_usd"].gt(0).all() and scored["prompt_tokens"].gt(0).all()

    # the meta-prompt of step 2: the best top_k=4 of steps 0-1, ascending, integer scores
    objective = Objective()
    step2 = [p for p in optimizer_prompts if "[gen=1]" in p]
    assert len(step2) == 4
    before = history[(history["step"] <= 1) & (history["status"] == "scored")]
    ranked = sorted(
        before.itertuples(), key=lambda r: objective.rank_key(r.accuracy, r.explanation_rate)
    )
    for prompt in step2:
        shown = _shown_blocks(prompt)
        assert [t for t, _ in shown] == [r.template for r in ranked[-4:]]
        assert [s for _, s in shown] == sorted(s for _, s in shown)
        assert all(0 <= s <= 100 for _, s in shown)
        assert "correct answer: " in prompt and "{text}" in prompt
    assert ranked[0].template not in step2[0]  # the 5th best is cut by top_k

    # the winner is the default objective's argmax: accurate AND explaining
    best = out["best"]
    feasible = scored[scored["explanation_rate"] >= 0.8]
    assert best["template_id"] == feasible["accuracy"].idxmax() == "s2-c1"
    assert best["template"] == SCRIPT[(2, 1)]
    assert best["step"] == 2 and best["objective"]["name"] == "accuracy_min_explanation_rate"
    assert set(best) >= {
        "template",
        "template_id",
        "accuracy",
        "explanation_rate",
        "score",
        "objective",
        "step",
    }
    assert best["simulated"] is False
    assert isinstance(out["plot"], Figure)
    metrics = out["metrics"]
    assert [m["step"] for m in metrics["best_score"]] == [0, 1, 2]
    assert metrics["final_accuracy"]["value"] == pytest.approx(0.8)
    assert metrics["cost_usd"]["value"] > 0 and metrics["n_rejected"]["value"] == 5

    # a rerun with the same cache costs nothing: zero new requests, same history
    server.reset_log()
    again = run_nodes(toy_examples(), params, teacher)
    assert server.chat_requests() == []
    assert again["history"]["cost_usd"].sum() == 0
    assert again["history"]["optimizer_cost_usd"].sum() == 0
    replayed = again["history"]
    assert (replayed.loc[replayed["status"] == "scored", "n_cached"] == N_TRAIN).all()
    pd.testing.assert_frame_equal(
        replayed[["template_id", "template", "status", "accuracy", "explanation_rate"]],
        history[["template_id", "template", "status", "accuracy", "explanation_rate"]],
    )
    assert again["best"]["template"] == best["template"]


def test_accuracy_objective_over_http_picks_the_trap(server: StubServer, tmp_path: Path) -> None:
    """Same search, plain accuracy: the label-only template wins (the trap the default avoids)."""
    teacher = http_teacher(server, tmp_path / "cache.sqlite")
    out = run_nodes(toy_examples(), opro_params(objective={"name": "accuracy"}), teacher)
    assert out["best"]["template_id"] == "s1-c4"
    assert out["best"]["explanation_rate"] == pytest.approx(0.1)


def test_no_gold_labels_is_a_clear_error_before_any_request(
    server: StubServer, tmp_path: Path
) -> None:
    examples = toy_examples()
    examples.loc[examples["split"] == "train", "gold_label"] = pd.NA
    catalog = _memory_catalog(
        examples, opro_params(), http_teacher(server, tmp_path / "cache.sqlite")
    )
    with pytest.raises(PromptOptimizationError, match=r"'train' split has none.*score_split"):
        SequentialRunner().run(create_pipeline(), catalog)
    assert server.chat_requests() == []


# ---------------------------------------------------------------------------------- offline
NLI_TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "Decide whether the premise entails the hypothesis, contradicts it, or neither.",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
NLI_SEEDS = [
    "Premise: {premise}\nHypothesis: {hypothesis}\nExplain your reasoning in one sentence, "
    'then finish with "Answer:" and entailment, neutral or contradiction.',
    "Premise: {premise}\nHypothesis: {hypothesis}\nAnswer only with the label.",
    "{premise}\nQuestion: is it true that {hypothesis}? Think step by step.",
]


def nli_examples(n: int = 60) -> pd.DataFrame:
    labels = NLI_TASK["labels"]
    return pd.DataFrame(
        {
            "id": [f"nli-{i:03d}" for i in range(n)],
            "split": ["train" if i < 40 else ("valid" if i < 50 else "test") for i in range(n)],
            "premise": [f"A person number {i} walks a dog in the park." for i in range(n)],
            "hypothesis": [f"Someone {i} is outside with an animal." for i in range(n)],
            "gold_label": pd.array([labels[i % 3] for i in range(n)], dtype="string"),
            "reference_rationale": [
                f"Walking a dog in a park means person {i} is outside with an animal."
                for i in range(n)
            ],
        }
    )


def _memory_catalog(
    examples: pd.DataFrame,
    params: dict[str, Any],
    teacher: dict[str, Any],
    task: dict[str, Any] = TOY_TASK,
) -> DataCatalog:
    return DataCatalog(
        datasets={
            "examples": MemoryDataset(examples),
            "params:task": MemoryDataset(task),
            "params:prompt_optimization": MemoryDataset(params),
            "params:teacher": MemoryDataset(teacher),
            "params:seed": MemoryDataset(42),
            "opro_metrics": MemoryDataset(),
            "best_prompt": MemoryDataset(),
            "opro_history": MemoryDataset(),
            "opro_progression_plot": MemoryDataset(),
        }
    )


def project_catalog(tmp_path: Path, inputs: dict[str, Any]) -> DataCatalog:
    """The real catalog entries of conf/base/catalog_prompt_optimization.yml, under tmp_path
    (MLflow metrics swapped for memory), plus the given inputs as memory datasets."""
    config = yaml.safe_load((CONF / "catalog_prompt_optimization.yml").read_text())
    for name, entry in config.items():
        if "filepath" in entry:
            entry["filepath"] = str(tmp_path / entry["filepath"])
        else:
            config[name] = {"type": "kedro.io.MemoryDataset"}
    catalog = DataCatalog.from_config(config)
    for name, value in inputs.items():
        catalog[name] = MemoryDataset(value)
    return catalog


def test_simulated_pipeline_runs_end_to_end_offline(tmp_path: Path) -> None:
    teacher = {
        "backend": "simulated",
        "model": "simulated-teacher",
        "cache": {"path": str(tmp_path / "cache.sqlite")},
        "simulated": {"labels": NLI_TASK["labels"], "accuracy": 0.8, "explanation_rate": 0.7},
    }
    params = {
        "n_steps": 4,
        "n_candidates": 6,
        "n_score_examples": 30,
        "patience": None,
        "progress": False,
        "seed_templates": {"nli": NLI_SEEDS},
    }
    catalog = project_catalog(
        tmp_path,
        {
            "examples": nli_examples(),
            "params:task": NLI_TASK,
            "params:prompt_optimization": params,
            "params:teacher": teacher,
            "params:seed": 42,
        },
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)

    history = catalog.load("opro_history")
    assert len(history) == 3 + 4 * 6
    assert history["simulated"].all()
    assert (history["status"] == "scored").sum() >= 3 + 4  # the simulator mostly proposes new
    scored = history[history["status"] == "scored"]
    assert scored["n_scored"].eq(30).all()
    assert history.loc[history["status"] != "scored", "reason"].notna().all()

    best = catalog.load("best_prompt")
    objective = Objective()
    top = max(
        objective.rank_key(a, e)
        for a, e in zip(scored["accuracy"], scored["explanation_rate"], strict=True)
    )
    assert objective.rank_key(best["accuracy"], best["explanation_rate"]) == top
    if (scored["explanation_rate"] >= 0.8).any():  # explaining templates exist: one must win
        assert best["explanation_rate"] >= 0.8
    assert best["simulated"] is True
    assert "{premise}" in best["template"] and "{hypothesis}" in best["template"]

    (png,) = (tmp_path / "data/08_reporting/opro_progression.png").glob("*/opro_progression.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (saved,) = (tmp_path / "data/04_feature/opro_history.parquet").glob("*/*.parquet")
    assert len(pd.read_parquet(saved)) == len(history)  # versioned parquet round trip
    figure = plot_opro_progression(history, params)
    assert "SIMULATED" in figure.axes[0].get_title()
    metrics = outputs["opro_metrics"].load()
    best_curve = [m["value"] for m in metrics["best_score"]]
    assert [m["step"] for m in metrics["best_score"]] == [0, 1, 2, 3, 4]
    assert best_curve == sorted(best_curve) or _monotone_by_rank(history, objective)
    assert metrics["final_score"]["value"] == pytest.approx(best["score"])
    assert metrics["cost_usd"]["value"] == 0.0  # the simulated teacher is free


def _monotone_by_rank(history: pd.DataFrame, objective: Objective) -> bool:
    """The best-so-far can dip in raw score only when it crosses the explanation floor."""
    from zeroshot_distill.reporting.opro import progression

    table = progression(history, objective)
    keys = [
        objective.rank_key(a, e)
        for a, e in zip(table["best_accuracy"], table["best_explanation_rate"], strict=True)
    ]
    return keys == sorted(keys)


def test_budget_stop_keeps_the_best_and_a_rerun_resumes_without_repaying(
    server: StubServer, tmp_path: Path
) -> None:
    from zeroshot_distill.teachers.ledger import run_budget

    cache = tmp_path / "cache.sqlite"
    params = opro_params()
    run_budget().reset()  # the run budget is process-wide (one kedro run = one process)
    try:
        stopped = run_nodes(
            toy_examples(), params, {**http_teacher(server, cache), "max_cost_usd": 0.006}
        )
    finally:
        run_budget().reset()
    assert stopped["summary"]["stop_reason"] == "budget"
    first = stopped["history"]
    assert (first["status"] == "scored").sum() >= 1  # the seeds at least
    assert len(first) == len(SEEDS)  # it stopped inside step 1's optimizer call
    assert stopped["best"]["template_id"] in set(
        first.loc[first["status"] == "scored", "template_id"]
    )
    paid = {
        (json.dumps(r.body["messages"]), r.body.get("temperature")) for r in server.chat_requests()
    }

    server.reset_log()
    resumed = run_nodes(toy_examples(), params, http_teacher(server, cache))
    resent = [
        r
        for r in server.chat_requests()
        if (json.dumps(r.body["messages"]), r.body.get("temperature")) in paid
    ]
    assert resent == []  # nothing answered before is paid again
    # the budget cut step 1's proposals part-way: only the missing ones are asked for again
    step1 = [p for p in server.prompts() if "<PRT>" in p and "[gen=1]" not in p]
    assert 1 <= len(step1) < 4
    assert len(server.chat_requests()) > 0
    history = resumed["history"]
    assert len(history) == len(SEEDS) + 2 * 4
    assert resumed["best"]["template_id"] == "s2-c1"  # same result as an uninterrupted run
