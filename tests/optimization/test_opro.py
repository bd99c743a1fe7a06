"""OPRO core: extraction, dedup, meta-prompt, and the search loop with in-process teachers.

The teachers here are plain Python doubles of the :class:`Teacher` protocol and the task I/O
is a minimal ``str.format`` one, so these tests pin the loop's logic independently of the
prompt/parsing modules; the HTTP tests in ``tests/pipelines/prompt_optimization`` run the
same loop through the real ``openai`` backend and the project's parser.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from zeroshot_distill.optimization import (
    Candidate,
    Objective,
    PromptOptimizationError,
    PromptOptimizationParams,
    ScoringSet,
    SearchSettings,
    TaskIO,
    build_meta_prompt,
    extract_template,
    normalize_template,
    run_search,
)
from zeroshot_distill.optimization.opro import meta_prompt_entries
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers.base import BudgetExceededError, ChatRequest, ChatResult

SPEC = TaskSpec.from_params(
    {
        "name": "toy",
        "kind": "classification",
        "description": "Decide whether the text is positive or negative.",
        "input_fields": ["text"],
        "labels": ["positive", "negative"],
    }
)
N = 10
ROWS = [
    {"id": f"ex{i}", "text": f"example {i}", "gold_label": "positive" if i % 2 else "negative"}
    for i in range(N)
]
GOLD = {r["text"]: r["gold_label"] for r in ROWS}
_MARK = re.compile(r"\[acc=(\d+) expl=(\d+)\]")


def _validate(template: str, spec: TaskSpec) -> None:
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if names != set(spec.input_fields):
        raise ValueError(f"placeholders {sorted(names)} != {spec.input_fields}")


def _render(template: str, spec: TaskSpec, row: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"role": "user", "content": template.format(**spec.render_fields(row))}]


def _parse(spec: TaskSpec, result: ChatResult, row: Mapping[str, Any]) -> tuple[str | None, bool]:
    text = result.text or ""
    match = re.search(r"Answer: (\w+)", text)
    return (match.group(1) if match else None), text.startswith("Because")


TOY_IO = TaskIO(validate=_validate, render=_render, parse=_parse)


def toy_answer(prompt: str) -> str:
    """Scorer: example i is right iff i < acc and explained iff i < expl (from the marker)."""
    acc, expl = (int(x) for x in _MARK.search(prompt).groups())  # type: ignore[union-attr]
    i = int(re.search(r"example (\d+)", prompt).group(1))  # type: ignore[union-attr]
    gold = GOLD[f"example {i}"]
    label = gold if i < acc else ("negative" if gold == "positive" else "positive")
    reason = "Because the words say so.\n" if i < expl else ""
    return f"{reason}Answer: {label}"


class FakeTeacher:
    """In-process teacher: answers with a function of the last user message."""

    backend = "fake"
    model = "fake-1"
    simulated = False

    def __init__(self, answer: Any, *, budget_calls: int | None = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, list[ChatRequest]]] = []
        self.budget_calls = budget_calls

    def complete(
        self, requests: Sequence[ChatRequest], *, stage: str, progress: bool = True
    ) -> list[ChatResult]:
        if self.budget_calls is not None and len(self.calls) >= self.budget_calls:
            raise BudgetExceededError("fake budget spent")
        self.calls.append((stage, list(requests)))
        return [
            ChatResult(
                key=r.key,
                text=self.answer(r.messages[-1]["content"]),
                status="ok",
                model=self.model,
                prompt_tokens=7,
                completion_tokens=3,
                cost_usd=0.001,
            )
            for r in requests
        ]

    def mark_refused(self, results: Sequence[ChatResult]) -> int:
        self.refused = [*getattr(self, "refused", []), *results]
        return len(results)

    def spend(self) -> Mapping[str, Any]:
        return {}

    def prompts(self) -> list[str]:
        return [r.messages[-1]["content"] for _, reqs in self.calls for r in reqs]


def scripted_optimizer(script: dict[tuple[int, int], str]) -> FakeTeacher:
    """Optimizer: the template for (step, proposal); step = 1 + highest gen shown."""

    def answer(prompt: str) -> str:
        gens = [int(g) for g in re.findall(r"\[gen=(\d+)\]", prompt)]
        step = max(gens) + 1
        proposal = int(re.search(r"proposal (\d+) of", prompt).group(1))  # type: ignore[union-attr]
        return f"Here it is: <PRT>{script[(step, proposal)]}</PRT>"

    return FakeTeacher(answer)


SEEDS = [
    "[gen=0] [acc=5 expl=9] Text: {text} Explain, then answer.",
    "[gen=0] [acc=7 expl=1] Text: {text} Answer only.",
    "[gen=0] [acc=3 expl=10] {text} Think step by step.",
]
SCRIPT = {
    (1, 1): "[gen=1] [acc=6 expl=9] Text: {text} Give a reason.",
    (1, 2): "[gen=1] [acc=9 expl=9] Text without placeholder.",  # invalid: no {text}
    (1, 3): "[GEN=0]  [acc=5 expl=9] text: {text} -- explain, then ANSWER!",  # dup of seed 1
    (1, 4): "[gen=1] [acc=10 expl=1] {text} Just the label.",  # accurate, explains nothing
    (2, 1): "[gen=2] [acc=8 expl=8] Text: {text} One sentence why, then the label.",
    (2, 2): "[gen=2] [acc=9 expl=9] {text} {label}",  # invalid: unknown placeholder
    (2, 3): "[gen=1] [acc=6 expl=9] Text: {text} Give a reason.",  # dup of an earlier one
    (2, 4): "[gen=2] [acc=8 expl=8]   Text: {text} one sentence why; then the label",  # dup 2.1
}


def _search(
    objective: Objective | None = None, **settings: Any
) -> tuple[Any, FakeTeacher, FakeTeacher]:
    optimizer = scripted_optimizer(SCRIPT)
    scorer = FakeTeacher(toy_answer)
    defaults: dict[str, Any] = {"n_steps": 2, "n_candidates": 4, "top_k": 4, "progress": False}
    result = run_search(
        SEEDS,
        ScoringSet(rows=ROWS),
        SPEC,
        optimizer,
        scorer,
        objective or Objective(),
        SearchSettings(**{**defaults, **settings}),
        TOY_IO,
    )
    return result, optimizer, scorer


# --------------------------------------------------------------------------- small functions
def test_extract_template_takes_the_last_nonempty_block() -> None:
    assert extract_template("x <PRT> a {t} </PRT> y <prt>b {t}</prt>") == "b {t}"
    assert extract_template("<PRT>a</PRT><PRT>  </PRT>") == "a"
    assert extract_template("no tags at all") is None
    assert extract_template("<PRT>unterminated") is None
    assert extract_template(None) is None


def test_normalize_template_ignores_case_whitespace_and_punctuation() -> None:
    a = normalize_template("Text: {text}\n  Explain, then answer.")
    assert a == normalize_template("text {TEXT} -- explain then   ANSWER!")
    assert a != normalize_template("Text: {text} Explain, then answer briefly.")


def _cand(i: int, acc: float, expl: float, objective: Objective) -> Candidate:
    return Candidate(
        step=0,
        template_id=f"t{i}",
        template=f"template {i} {{text}}",
        origin="seed",
        status="scored",
        accuracy=acc,
        explanation_rate=expl,
        score=objective.score(acc, expl),
    )


def test_meta_prompt_shows_top_k_ascending_with_integer_scores() -> None:
    objective = Objective()
    pool = [
        _cand(1, 0.50, 0.90, objective),
        _cand(2, 0.95, 0.10, objective),  # infeasible: raw accuracy high, ranks low
        _cand(3, 0.70, 0.85, objective),
        _cand(4, 0.30, 0.95, objective),
        _cand(5, 0.60, 0.80, objective),
    ]
    entries = meta_prompt_entries(pool, objective, top_k=3)
    assert [c.template_id for c, _ in entries] == ["t1", "t5", "t3"]
    assert [shown for _, shown in entries] == [50, 60, 70]
    messages = build_meta_prompt(
        SPEC, pool, ROWS[:2], objective, top_k=3, proposal=2, n_proposals=8
    )
    text = messages[-1]["content"]
    blocks = re.findall(r"<PRT>(.*?)</PRT>\nscore: (\d+)", text)
    assert [b[0] for b in blocks] == ["template 1 {text}", "template 5 {text}", "template 3 {text}"]
    assert [int(b[1]) for b in blocks] == [50, 60, 70]
    assert "template 2" not in text and "template 4" not in text
    assert "example 0" in text and "correct answer: negative" in text
    assert "correct answer: positive" in text
    assert "different from all the templates above" in text
    assert "higher score" in text and "PRT tags" in text
    assert "{text}" in text  # the required placeholder is named
    other = build_meta_prompt(SPEC, pool, ROWS[:2], objective, top_k=3, proposal=3, n_proposals=8)
    assert other != messages  # distinct requests for each proposal (cache key differs)


def test_meta_prompt_keeps_displayed_scores_ascending_across_the_floor() -> None:
    objective = Objective(min_explanation_rate=0.8)
    pool = [_cand(1, 1.0, 0.7, objective), _cand(2, 0.4, 0.9, objective)]
    entries = meta_prompt_entries(pool, objective, top_k=15)
    assert [c.template_id for c, _ in entries] == ["t1", "t2"]  # infeasible first (worse)
    shown = [s for _, s in entries]
    assert shown == sorted(shown) and shown[-1] == 40
    text = build_meta_prompt(SPEC, pool, [], objective, top_k=15, proposal=1, n_proposals=1)[-1][
        "content"
    ]
    assert "explains only 70% of its answers, needs at least 80%" in text


# -------------------------------------------------------------------------------- the search
def test_search_rejects_invalid_and_duplicate_candidates_without_scoring_them() -> None:
    result, _, scorer = _search()
    history = result.history()
    assert len(history) == len(SEEDS) + 2 * 4  # seeds + steps x candidates
    by_id = history.set_index("template_id")
    rejected = by_id[by_id["status"] == "rejected"]
    assert sorted(rejected.index) == ["s1-c2", "s1-c3", "s2-c2", "s2-c3", "s2-c4"]
    assert rejected.loc["s1-c2", "reason"].startswith("invalid_placeholders")
    assert rejected.loc["s2-c2", "reason"].startswith("invalid_placeholders")
    assert rejected.loc["s1-c3", "reason"] == "duplicate: same as s0-c1"
    assert rejected.loc["s2-c3", "reason"] == "duplicate: same as s1-c1"
    assert rejected.loc["s2-c4", "reason"] == "duplicate: same as s2-c1"
    assert (rejected["n_scored"] == 0).all() and rejected["accuracy"].isna().all()
    # the scorer saw exactly the 6 accepted templates x 10 examples, none of the rejected
    scored_prompts = scorer.prompts()
    assert len(scored_prompts) == 6 * N
    assert not any("without placeholder" in p or "{label}" in p for p in scored_prompts)
    assert not any(p.startswith("[GEN=0]") for p in scored_prompts)
    scored = by_id[by_id["status"] == "scored"]
    assert scored.loc["s2-c1", "accuracy"] == pytest.approx(0.8)
    assert scored.loc["s2-c1", "explanation_rate"] == pytest.approx(0.8)
    assert scored.loc["s1-c4", "accuracy"] == pytest.approx(1.0)
    assert scored["prompt_tokens"].eq(7 * N).all() and scored["cost_usd"].gt(0).all()
    assert history["optimizer_cost_usd"].gt(0).sum() == 8


def test_search_feeds_the_optimizer_top_k_ascending() -> None:
    result, optimizer, _ = _search(top_k=4)
    objective = Objective()
    step2 = [p for p in optimizer.prompts() if "proposal 1 of" in p][1]
    shown = re.findall(r"<PRT>(.*?)</PRT>\nscore: (\d+)", step2)
    history = result.history()
    before = history[(history["step"] < 2) & (history["status"] == "scored")]
    expected = sorted(
        before.itertuples(), key=lambda r: objective.rank_key(r.accuracy, r.explanation_rate)
    )[-4:]
    assert [t for t, _ in shown] == [r.template for r in expected]
    assert [int(s) for _, s in shown] == sorted(int(s) for _, s in shown)


@pytest.mark.parametrize(
    ("objective", "winner"),
    [
        (Objective(), "s2-c1"),  # 0.8 accuracy at 0.8 explanation rate
        (Objective(name="accuracy"), "s1-c4"),  # 1.0 accuracy, explains 10%
        (Objective(name="weighted", explanation_weight=1.0), "s2-c1"),  # (0.8 + 0.8) / 2
        # (0.3 + 3 * 1.0) / 4 ties s1-c1's (0.6 + 3 * 0.9) / 4; the higher rate wins the tie
        (Objective(name="weighted", explanation_weight=3.0), "s0-c3"),
    ],
)
def test_winner_is_the_objectives_argmax(objective: Objective, winner: str) -> None:
    from zeroshot_distill.reporting.opro import best_row

    result, _, _ = _search(objective)
    history = result.history()
    best = best_row(history, objective)
    scored = history[history["status"] == "scored"]
    top = max(
        objective.rank_key(a, e)
        for a, e in zip(scored.accuracy, scored.explanation_rate, strict=True)
    )
    assert objective.rank_key(best["accuracy"], best["explanation_rate"]) == top
    assert best["template_id"] == winner


def test_patience_stops_the_search() -> None:
    script = {
        (s, p): f"[gen={s}] [acc=1 expl=1] {{text}} variant {s}.{p}"
        for s in range(1, 9)
        for p in range(1, 3)
    }
    optimizer = scripted_optimizer(script)
    result = run_search(
        SEEDS,
        ScoringSet(rows=ROWS),
        SPEC,
        optimizer,
        FakeTeacher(toy_answer),
        Objective(),
        SearchSettings(n_steps=8, n_candidates=2, patience=2, progress=False),
        TOY_IO,
    )
    assert result.stop_reason == "patience"
    assert result.steps_run == 2
    assert result.history()["step"].max() == 2


def test_budget_stops_cleanly_and_keeps_what_was_scored(caplog: pytest.LogCaptureFixture) -> None:
    optimizer = scripted_optimizer(SCRIPT)
    scorer = FakeTeacher(toy_answer, budget_calls=2)  # seeds, step 1; step 2 is over budget
    with caplog.at_level("WARNING"):
        result = run_search(
            SEEDS,
            ScoringSet(rows=ROWS),
            SPEC,
            optimizer,
            scorer,
            Objective(),
            SearchSettings(n_steps=5, n_candidates=4, progress=False),
            TOY_IO,
        )
    assert result.stop_reason == "budget"
    history = result.history()
    unscored = history[history["status"] == "unscored"]
    assert list(unscored["template_id"]) == ["s2-c1"]
    assert (unscored["reason"] == "budget_exceeded").all()
    assert (history["status"] == "scored").sum() == 5
    assert "budget" in caplog.text


def test_invalid_seed_fails_before_any_call() -> None:
    optimizer, scorer = FakeTeacher(toy_answer), FakeTeacher(toy_answer)
    with pytest.raises(PromptOptimizationError, match=r"seed_templates.*s0-c2.*invalid"):
        run_search(
            [SEEDS[0], "no placeholder here"],
            ScoringSet(rows=ROWS),
            SPEC,
            optimizer,
            scorer,
            Objective(),
            SearchSettings(progress=False),
            TOY_IO,
        )
    assert optimizer.calls == [] and scorer.calls == []


# ---------------------------------------------------------------------------- parameters
def test_parameters_name_the_bad_field_and_layer_teachers() -> None:
    with pytest.raises(PromptOptimizationError, match=r"prompt_optimization\.n_candidates"):
        PromptOptimizationParams.from_params({"n_candidates": 0})
    with pytest.raises(PromptOptimizationError, match=r"prompt_optimization\.n_stepz"):
        PromptOptimizationParams.from_params({"n_stepz": 3})
    with pytest.raises(PromptOptimizationError, match=r"objective\.min_explanation_rate"):
        PromptOptimizationParams.from_params({"objective": {"min_explanation_rate": 2}})
    params = PromptOptimizationParams.from_params(
        {"optimizer": {"model": "big", "simulated": {"accuracy": 0.5}}}
    )
    teacher = {"backend": "simulated", "model": "small", "simulated": {"labels": ["a", "b"]}}
    optimizer, scorer = params.teacher_configs(teacher)
    assert scorer == teacher
    assert optimizer["model"] == "big" and optimizer["backend"] == "simulated"
    assert optimizer["simulated"] == {"labels": ["a", "b"], "accuracy": 0.5}
    alone = PromptOptimizationParams.from_params(
        {"scorer": {"inherit": False, "backend": "simulated", "model": "x"}}
    )
    assert alone.teacher_configs(teacher)[1] == {"backend": "simulated", "model": "x"}
    with pytest.raises(PromptOptimizationError, match="params:teacher"):
        PromptOptimizationParams.from_params({}).teacher_configs(None)


def test_seed_templates_by_name_then_kind() -> None:
    params = PromptOptimizationParams.from_params(
        {"seed_templates": {"toy": ["a {text}"], "classification": ["b {text}"]}}
    )
    assert params.seeds_for(SPEC) == ["a {text}"]
    by_kind = PromptOptimizationParams.from_params(
        {"seed_templates": {"classification": ["b {text}"]}}
    )
    assert by_kind.seeds_for(SPEC) == ["b {text}"]
    with pytest.raises(PromptOptimizationError, match=r"no templates for task 'toy'"):
        PromptOptimizationParams.from_params({"seed_templates": {"nli": ["x"]}}).seeds_for(SPEC)


def test_parse_alarm_after_a_step_tells_the_parser_from_the_teacher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A parser that reports rationale_missed: the step warns, the history counts it."""

    def parse(spec: TaskSpec, result: ChatResult, row: Mapping[str, Any]) -> tuple[Any, ...]:
        label, explained = _parse(spec, result, row)
        return label, explained, "ok" if explained else "rationale_missed"

    io = TaskIO(validate=_validate, render=_render, parse=parse)
    with caplog.at_level("WARNING"):
        result = run_search(
            SEEDS,
            ScoringSet(rows=ROWS),
            SPEC,
            scripted_optimizer(SCRIPT),
            FakeTeacher(toy_answer),
            Objective(),
            SearchSettings(n_steps=0, progress=False, alarm_share=0.1),
            io,
        )
    warnings = [r.getMessage() for r in caplog.records if "PARSE ALARM" in r.getMessage()]
    assert len(warnings) == 1 and "OPRO step 0" in warnings[0]
    assert "parser missed rationale" in warnings[0]
    history = result.history()
    assert history["n_rationale_missed"].tolist() == [1, 9, 0]
    assert history["n_no_rationale"].sum() == 0


def test_default_parser_statuses_reach_the_history() -> None:
    result, _, _ = _search(n_steps=0)
    history = result.history()
    # the toy parser returns (label, explained): unexplained answers count as no_rationale
    assert history["n_no_rationale"].tolist() == [1, 9, 0]
    assert history["n_no_label"].sum() == 0


def test_a_rationalization_template_is_rejected() -> None:
    from zeroshot_distill.optimization.opro import template_problem

    nli = TaskSpec.from_params(
        {
            "name": "nli",
            "kind": "classification",
            "description": "NLI",
            "input_fields": ["premise", "hypothesis"],
            "labels": ["entailment", "neutral", "contradiction"],
        }
    )
    reason = template_problem(
        "{premise} Why is the hypothesis '{hypothesis}' an 'entailment'?",
        nli,
        lambda t, s: None,
        max_chars=500,
    )
    assert reason is not None and reason.startswith("gives_label_away")


def test_json_style_templates_are_scored_with_the_schema() -> None:
    seen: list[Any] = []

    class Recorder(FakeTeacher):
        def complete(
            self, requests: Sequence[ChatRequest], *, stage: str, progress: bool = True
        ) -> list[ChatResult]:
            seen.extend(r.response_format for r in requests)
            return super().complete(requests, stage=stage, progress=progress)

    io = TaskIO.default()
    io = TaskIO(
        validate=_validate, render=_render, parse=_parse, response_format=io.response_format
    )
    seeds = [SEEDS[0], SEEDS[1] + ' Reply with a JSON object: {{"rationale": "…", "answer": "…"}}']
    run_search(
        seeds,
        ScoringSet(rows=ROWS),
        SPEC,
        scripted_optimizer(SCRIPT),
        Recorder(toy_answer),
        Objective(),
        SearchSettings(n_steps=0, progress=False),
        io,
    )
    plain, structured = seen[:N], seen[N:]
    assert all(f is None for f in plain)
    assert all(f["type"] == "json_schema" for f in structured)
    enum = structured[0]["json_schema"]["schema"]["properties"]["answer"]["enum"]
    assert enum == ["positive", "negative"]


def test_parse_shares_per_step_reach_the_mlflow_metrics() -> None:
    from zeroshot_distill.reporting.opro import search_metrics

    result, _, _ = _search(n_steps=1)
    metrics = search_metrics(result.history(), Objective(), alarm_share=0.1)
    steps = {m["step"]: m["value"] for m in metrics["no_rationale_share"]}
    assert steps[0] == pytest.approx(10 / 30)  # seeds explain 9 + 1 + 10 of 30 answers
    assert {m["step"]: m["value"] for m in metrics["parse_alarm"]}[0] == 1.0
    assert all(m["value"] == 0.0 for m in metrics["no_label_share"])
