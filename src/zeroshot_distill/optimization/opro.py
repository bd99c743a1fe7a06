"""OPRO prompt search (Yang et al. 2023, "Large Language Models as Optimizers").

An *optimizer* LLM reads a meta-prompt with the best templates so far (ascending by score),
a few task exemplars and the instruction to write a better template; a *scorer* (the teacher,
temperature 0) answers a fixed, seeded subset of labeled training examples with each new
template; the answers are parsed and scored by an :class:`~.objectives.Objective`.

Everything here is pure given the two teachers: the same inputs send the same requests in
the same order, so with the teachers' response cache a killed or repeated search replays
from the cache and pays only for what it never got.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from zeroshot_distill.optimization.objectives import Objective
from zeroshot_distill.tasks import TaskSpec, canonical_number
from zeroshot_distill.tasks.parse_quality import (
    DEFAULT_ALARM_SHARE,
    ParseQuality,
    alarm_message,
    assess_parse_quality,
)
from zeroshot_distill.tasks.prompts import gives_label_away
from zeroshot_distill.teachers import provide_references
from zeroshot_distill.teachers.base import (
    BudgetExceededError,
    ChatRequest,
    ChatResult,
    Teacher,
)

logger = logging.getLogger(__name__)

OPTIMIZER_STAGE = "prompt_optimization.optimizer"
SCORER_STAGE = "prompt_optimization.scorer"

_ASKS_FOR_JSON = re.compile(r"\bJSON\b")
_PRT_BLOCK = re.compile(r"<PRT>(.*?)</PRT>", flags=re.S | re.I)
_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")

# Statuses of a history row.
SCORED = "scored"
REJECTED = "rejected"
UNSCORED = "unscored"  # valid, but the budget ran out before it was scored

HISTORY_COLUMNS = [
    "step",
    "template_id",
    "template",
    "origin",
    "status",
    "reason",
    "accuracy",
    "explanation_rate",
    "score",
    "meets_objective",
    "n_scored",
    "n_correct",
    "n_explained",
    "n_failed",
    "n_cached",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "optimizer_prompt_tokens",
    "optimizer_completion_tokens",
    "optimizer_cost_usd",
    "simulated",
    "n_no_label",
    "n_no_rationale",
    "n_rationale_missed",
]


class PromptOptimizationError(ValueError):
    """The search cannot start: bad parameters, templates or scoring data (nothing was paid)."""


# ------------------------------------------------------------------------------ the candidates
@dataclass
class Candidate:
    """One template proposed at one step: a seed (step 0) or an optimizer proposal."""

    step: int
    template_id: str
    template: str | None
    origin: str
    status: str = UNSCORED
    reason: str | None = None
    accuracy: float = math.nan
    explanation_rate: float = math.nan
    score: float = math.nan
    meets_objective: bool | None = None
    n_scored: int = 0
    n_correct: int = 0
    n_explained: int = 0
    n_failed: int = 0
    n_cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    optimizer_prompt_tokens: int = 0
    optimizer_completion_tokens: int = 0
    optimizer_cost_usd: float = 0.0
    simulated: bool = False
    # Why answers lacked a label / a rationale: the teacher gave none, or the parser missed it.
    n_no_label: int = 0
    n_no_rationale: int = 0
    n_rationale_missed: int = 0

    @property
    def scored(self) -> bool:
        return self.status == SCORED


def normalize_template(template: str) -> str:
    """Duplicate key: lower case, punctuation dropped, whitespace collapsed."""
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", template.lower())).strip()


def extract_template(text: str | None) -> str | None:
    """The template inside the last non-empty ``<PRT>…</PRT>`` block of an answer, if any."""
    if not text:
        return None
    blocks = [b.strip() for b in _PRT_BLOCK.findall(text)]
    blocks = [b for b in blocks if b]
    return blocks[-1] if blocks else None


def template_problem(
    template: str,
    spec: TaskSpec,
    validate: Callable[[str, TaskSpec], None],
    *,
    max_chars: int,
) -> str | None:
    """Why a template cannot be scored (``None`` if it can)."""
    if len(template) > max_chars:
        return f"too_long: {len(template)} characters > max_template_chars={max_chars}"
    try:
        validate(template, spec)
    except (ValueError, KeyError, IndexError) as err:
        return f"invalid_placeholders: {err}"
    given = gives_label_away(template, spec)
    if given is not None:
        return (
            f"gives_label_away: the template names the label {given!r} and asks why; a "
            "rationalization prompt says nothing about the teacher's accuracy"
        )
    return None


# ----------------------------------------------------------------------------- the meta-prompt
def format_exemplar(spec: TaskSpec, row: Mapping[str, Any]) -> str:
    """An exemplar for the meta-prompt: the input fields and the gold answer."""
    fields = spec.render_fields(row)
    lines = [f"{name}: {fields[name]}" for name in spec.input_fields]
    gold = str(row["gold_label"])
    if spec.kind == "multiple_choice":
        gold = f"({gold}) {spec.choice_text(gold, row)}"
    lines.append(f"correct answer: {gold}")
    return "\n".join(lines)


def meta_prompt_entries(
    scored: Sequence[Candidate], objective: Objective, top_k: int
) -> list[tuple[Candidate, int]]:
    """The best ``top_k`` scored templates, ascending (best last), with the integer shown.

    The integer is ``round(100 * score)``, capped by the next entry's so that the list reads
    ascending even where the objective ranks a template with a higher raw score lower (below
    the explanation-rate floor).
    """
    ranked = sorted(
        (c for c in scored if c.scored),
        key=lambda c: objective.rank_key(c.accuracy, c.explanation_rate),
    )[-top_k:]
    shown: list[int] = [round(100 * c.score) for c in ranked]
    for i in range(len(shown) - 2, -1, -1):
        shown[i] = min(shown[i], shown[i + 1])
    return list(zip(ranked, shown, strict=True))


def build_meta_prompt(
    spec: TaskSpec,
    scored: Sequence[Candidate],
    exemplars: Sequence[Mapping[str, Any]],
    objective: Objective,
    *,
    top_k: int,
    proposal: int,
    n_proposals: int,
) -> list[dict[str, str]]:
    """Chat messages asking the optimizer for one new template.

    ``proposal`` (1-based) makes the ``n_proposals`` requests of a step distinct, so that a
    response cache keyed by the messages returns ``n_proposals`` different samples.
    """
    placeholders = ", ".join("{" + f + "}" for f in spec.input_fields)
    parts = [
        "Your task is to write a zero-shot prompt template for a large language model that "
        f"solves this task: {spec.description.strip()}",
        "The template is the complete prompt the model receives for one example. It must "
        f"contain each of these placeholders, written exactly like this: {placeholders}. "
        "They are replaced by the example's fields. It must contain no other text in curly "
        "braces.",
        objective.score_explanation(),
        "Below are previous templates with their scores from 0 to 100, in ascending order of "
        "score: the best template comes last.",
    ]
    blocks = []
    for cand, shown in meta_prompt_entries(scored, objective, top_k):
        block = f"<PRT>{cand.template}</PRT>\nscore: {shown}"
        if not objective.feasible(cand.explanation_rate):
            block += (
                f" (explains only {cand.explanation_rate:.0%} of its answers, "
                f"needs at least {objective.min_explanation_rate:.0%})"
            )
        blocks.append(block)
    parts.append("\n\n".join(blocks))
    if exemplars:
        parts.append("Below are examples of the task with their correct answers.")
        parts.append(
            "\n\n".join(
                f"Example {i}:\n{format_exemplar(spec, row)}" for i, row in enumerate(exemplars, 1)
            )
        )
    parts.append(
        "Write a new template that is different from all the templates above and that "
        "reaches a higher score than all of them. Write only the new template, enclosed in "
        "the same PRT tags as the templates above."
        f" (This is proposal {proposal} of {n_proposals} for this round: be original.)"
    )
    return [
        {
            "role": "system",
            "content": "You are an expert prompt engineer who writes zero-shot prompts.",
        },
        {"role": "user", "content": "\n\n".join(parts)},
    ]


# ------------------------------------------------------------------------------------ scoring
@dataclass
class ScoringSet:
    """The fixed scoring subset and the pool the meta-prompt's exemplars come from."""

    rows: list[dict[str, Any]]
    exemplar_pool: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.rows:
            raise PromptOptimizationError("the scoring subset is empty: nothing to score with")
        if not self.exemplar_pool:
            self.exemplar_pool = list(self.rows)


def _gold(spec: TaskSpec, value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if spec.kind == "numeric":
        return canonical_number(str(value))
    return str(value)


@dataclass
class TaskIO:
    """How templates meet the task: validation, rendering and answer parsing.

    Defaults come from :mod:`zeroshot_distill.tasks.prompts` and
    :mod:`zeroshot_distill.tasks.parsing`; tests may swap them.
    """

    validate: Callable[[str, TaskSpec], None]
    render: Callable[[str, TaskSpec, Mapping[str, Any]], list[dict[str, str]]]
    # (label, explained) or (label, explained, parse status)
    parse: Callable[[TaskSpec, ChatResult, Mapping[str, Any]], tuple[Any, ...]]
    # The structured-output format a template's answers are requested in (None: free text)
    response_format: Callable[[str, TaskSpec], Mapping[str, Any] | None] | None = None

    @classmethod
    def default(cls) -> TaskIO:
        """Use the project's prompt templates and answer parser."""
        from zeroshot_distill.tasks.parsing import parse_answer
        from zeroshot_distill.tasks.prompts import (
            json_response_format,
            render_prompt,
            validate_template,
        )

        def validate(template: str, spec: TaskSpec) -> None:
            validate_template(template, spec)

        def render(template: str, spec: TaskSpec, row: Mapping[str, Any]) -> list[dict[str, str]]:
            return [dict(m) for m in render_prompt(template, spec, row)]

        def parse(
            spec: TaskSpec, result: ChatResult, row: Mapping[str, Any]
        ) -> tuple[str | None, bool, str]:
            parsed = parse_answer(
                spec,
                result.text,
                row,
                status=result.status,
                finish_reason=(result.extra or {}).get("finish_reason"),
            )
            explained = parsed.status == "ok" and bool((parsed.rationale or "").strip())
            return parsed.label, explained, parsed.status

        def response_format(template: str, spec: TaskSpec) -> Mapping[str, Any] | None:
            # A template in the JSON style is scored with the strict schema it will be
            # annotated with, so OPRO can search templates of either style.
            return json_response_format(spec) if _ASKS_FOR_JSON.search(template) else None

        return cls(validate=validate, render=render, parse=parse, response_format=response_format)


def score_templates(
    candidates: Sequence[Candidate],
    scoring: ScoringSet,
    spec: TaskSpec,
    scorer: Teacher,
    objective: Objective,
    task_io: TaskIO,
    *,
    temperature: float,
    max_tokens: int | None,
    progress: bool = False,
    alarm_share: float = DEFAULT_ALARM_SHARE,
) -> ParseQuality | None:
    """Score every candidate on the whole scoring subset, in one batch, and fill its fields.

    Returns the parse quality of the whole batch (``None`` for an empty batch). Raises
    :class:`BudgetExceededError` from the scorer untouched; what was answered before is in
    the teacher's cache.
    """
    if not candidates:
        return None
    formats = {
        cand.template_id: (
            task_io.response_format(str(cand.template), spec) if task_io.response_format else None
        )
        for cand in candidates
    }
    requests = [
        ChatRequest(
            key=f"{cand.template_id}/{row['id']}",
            messages=task_io.render(str(cand.template), spec, row),
            temperature=temperature,
            max_tokens=max_tokens,
            response_format=formats[cand.template_id],
        )
        for cand in candidates
        for row in scoring.rows
    ]
    # A simulated scorer answers from the scoring rows; any other scorer ignores this.
    rows = [row for _ in candidates for row in scoring.rows]
    references = {request.key: row for request, row in zip(requests, rows, strict=True)}
    provide_references(scorer, references, labels=spec.labels)
    results = scorer.complete(requests, stage=SCORER_STAGE, progress=progress)
    if len(results) != len(requests):
        raise RuntimeError(f"scorer answered {len(results)} of {len(requests)} requests")
    n = len(scoring.rows)
    statuses: list[str] = []
    refused: list[ChatResult] = []
    for i, cand in enumerate(candidates):
        chunk = results[i * n : (i + 1) * n]
        for row, result in zip(scoring.rows, chunk, strict=True):
            label, explained, *rest = task_io.parse(spec, result, row)
            status = str(rest[0]) if rest else ("ok" if explained else "no_rationale")
            if label is None and not rest:
                status = "no_label"
            statuses.append(status)
            if status == "refused":
                refused.append(result)
            cand.n_no_label += int(status == "no_label")
            cand.n_no_rationale += int(status == "no_rationale")
            cand.n_rationale_missed += int(status == "rationale_missed")
            cand.n_correct += int(label is not None and label == _gold(spec, row["gold_label"]))
            cand.n_explained += int(explained)
            cand.n_failed += int(result.status != "ok")
            cand.n_cached += int(result.cached)
            cand.prompt_tokens += int(result.prompt_tokens)
            cand.completion_tokens += int(result.completion_tokens)
            cand.cost_usd += float(result.cost_usd)
            cand.simulated = cand.simulated or bool(result.simulated)
        cand.n_scored = n
        cand.accuracy = cand.n_correct / n
        cand.explanation_rate = cand.n_explained / n
        cand.score = objective.score(cand.accuracy, cand.explanation_rate)
        cand.meets_objective = objective.feasible(cand.explanation_rate)
        cand.status = SCORED
    if refused:  # plain-text refusals: asked again next run (teacher.cache.reuse_statuses)
        scorer.mark_refused(refused)
    return assess_parse_quality(statuses, [r.text for r in results], alarm_share=alarm_share)


# ------------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class SearchSettings:
    """Knobs of the search loop (validated by the pipeline's parameters model)."""

    n_steps: int = 10
    n_candidates: int = 8
    top_k: int = 15
    patience: int | None = None
    n_exemplars: int = 3
    optimizer_temperature: float = 1.0
    optimizer_max_tokens: int | None = 512
    scorer_temperature: float = 0.0
    scorer_max_tokens: int | None = None
    max_template_chars: int = 2000
    seed: int = 0
    progress: bool = True
    alarm_share: float = DEFAULT_ALARM_SHARE


@dataclass
class SearchResult:
    """Every candidate in proposal order, and why the search stopped."""

    candidates: list[Candidate]
    stop_reason: str
    steps_run: int

    def history(self) -> pd.DataFrame:
        """One row per candidate (rejected ones included), columns :data:`HISTORY_COLUMNS`."""
        return history_frame(self.candidates)


def history_frame(candidates: Sequence[Candidate]) -> pd.DataFrame:
    """Candidates as the ``opro_history`` table."""
    frame = pd.DataFrame([asdict(c) for c in candidates], columns=HISTORY_COLUMNS)
    frame["meets_objective"] = frame["meets_objective"].astype("boolean")
    frame["template"] = frame["template"].astype("string")
    frame["reason"] = frame["reason"].astype("string")
    return frame


def best_candidate(candidates: Sequence[Candidate], objective: Objective) -> Candidate | None:
    """The objective's argmax over scored candidates; ties go to the earliest proposal."""
    best: Candidate | None = None
    for cand in candidates:
        if not cand.scored:
            continue
        if best is None or objective.rank_key(
            cand.accuracy, cand.explanation_rate
        ) > objective.rank_key(best.accuracy, best.explanation_rate):
            best = cand
    return best


def pick_exemplars(pool: Sequence[Mapping[str, Any]], k: int, seed: int, step: int) -> list:
    """``k`` exemplars for a step's meta-prompt, deterministic in (seed, step)."""
    if k <= 0 or not pool:
        return []
    rng = np.random.default_rng([seed, step])
    idx = sorted(rng.choice(len(pool), size=min(k, len(pool)), replace=False).tolist())
    return [pool[i] for i in idx]


def _propose(
    step: int,
    scored: Sequence[Candidate],
    scoring: ScoringSet,
    spec: TaskSpec,
    optimizer: Teacher,
    objective: Objective,
    settings: SearchSettings,
) -> list[Candidate]:
    exemplars = pick_exemplars(scoring.exemplar_pool, settings.n_exemplars, settings.seed, step)
    requests = [
        ChatRequest(
            key=f"opro/step{step}/proposal{i}",
            messages=build_meta_prompt(
                spec,
                scored,
                exemplars,
                objective,
                top_k=settings.top_k,
                proposal=i,
                n_proposals=settings.n_candidates,
            ),
            temperature=settings.optimizer_temperature,
            max_tokens=settings.optimizer_max_tokens,
        )
        for i in range(1, settings.n_candidates + 1)
    ]
    results = optimizer.complete(requests, stage=OPTIMIZER_STAGE, progress=False)
    proposals = []
    for i, result in enumerate(results, 1):
        cand = Candidate(
            step=step,
            template_id=f"s{step}-c{i}",
            template=extract_template(result.text),
            origin="optimizer",
            optimizer_prompt_tokens=int(result.prompt_tokens),
            optimizer_completion_tokens=int(result.completion_tokens),
            optimizer_cost_usd=float(result.cost_usd),
            simulated=bool(result.simulated),
        )
        if result.status != "ok" and cand.template is None:
            cand.status, cand.reason = REJECTED, f"optimizer_{result.status}: {result.error}"
        elif cand.template is None:
            cand.status, cand.reason = REJECTED, "no_template: no <PRT>…</PRT> block in answer"
        proposals.append(cand)
    return proposals


def _screen(
    proposals: Sequence[Candidate],
    seen: dict[str, str],
    spec: TaskSpec,
    task_io: TaskIO,
    settings: SearchSettings,
) -> list[Candidate]:
    """Reject invalid and duplicate proposals in place; return the ones to score."""
    keep = []
    for cand in proposals:
        if cand.status == REJECTED:
            continue
        template = str(cand.template)
        problem = template_problem(
            template, spec, task_io.validate, max_chars=settings.max_template_chars
        )
        if problem:
            cand.status, cand.reason = REJECTED, problem
            continue
        key = normalize_template(template)
        if key in seen:
            cand.status, cand.reason = REJECTED, f"duplicate: same as {seen[key]}"
            continue
        seen[key] = cand.template_id
        keep.append(cand)
    return keep


def run_search(
    seeds: Sequence[str],
    scoring: ScoringSet,
    spec: TaskSpec,
    optimizer: Teacher,
    scorer: Teacher,
    objective: Objective,
    settings: SearchSettings,
    task_io: TaskIO | None = None,
) -> SearchResult:
    """Score the seed templates (step 0), then run up to ``n_steps`` OPRO steps.

    Stops early after ``patience`` steps without a better best template, or when a teacher
    raises :class:`BudgetExceededError` (with a warning; the best so far is kept and the
    candidates that were not scored are recorded as ``unscored``).
    """
    task_io = task_io or TaskIO.default()
    seen: dict[str, str] = {}
    candidates, to_score = _seed_candidates(seeds, seen, spec, task_io, settings)
    score = functools.partial(
        _score_step,
        scoring=scoring,
        spec=spec,
        scorer=scorer,
        objective=objective,
        task_io=task_io,
        settings=settings,
    )
    try:
        score(to_score, 0)
    except BudgetExceededError as err:
        return _stopped_by_budget(candidates, err, steps_run=0)
    best = best_candidate(candidates, objective)
    steps_without_gain = 0
    stop_reason = "n_steps"
    steps_run = 0
    bar = tqdm(
        range(1, settings.n_steps + 1),
        desc="OPRO",
        unit="step",
        disable=not settings.progress,
    )
    for step in bar:
        scored = [c for c in candidates if c.scored]
        try:
            proposals = _propose(step, scored, scoring, spec, optimizer, objective, settings)
        except BudgetExceededError as err:
            bar.close()
            return _stopped_by_budget(candidates, err, steps_run=steps_run)
        candidates.extend(proposals)
        batch = _screen(proposals, seen, spec, task_io, settings)
        try:
            score(batch, step)
        except BudgetExceededError as err:
            bar.close()
            return _stopped_by_budget(candidates, err, steps_run=step)
        steps_run = step
        new_best = best_candidate(candidates, objective)
        improved = _better(new_best, best, objective)
        best = new_best
        steps_without_gain = 0 if improved else steps_without_gain + 1
        _report_step(bar, step, proposals, batch, best, candidates)
        if settings.patience is not None and steps_without_gain >= settings.patience:
            stop_reason = "patience"
            logger.info(
                "OPRO stops: no better template in %d step(s) (patience)", steps_without_gain
            )
            break
    bar.close()
    return SearchResult(candidates=candidates, stop_reason=stop_reason, steps_run=steps_run)


def _seed_candidates(
    seeds: Sequence[str],
    seen: dict[str, str],
    spec: TaskSpec,
    task_io: TaskIO,
    settings: SearchSettings,
) -> tuple[list[Candidate], list[Candidate]]:
    """Step 0: the seed templates as candidates (all of them) and those to score; an invalid
    seed is a configuration error."""
    seed_candidates = [
        Candidate(step=0, template_id=f"s0-c{i}", template=t, origin="seed")
        for i, t in enumerate(seeds, 1)
    ]
    to_score = _screen(seed_candidates, seen, spec, task_io, settings)
    bad = [c for c in seed_candidates if c.status == REJECTED]
    if bad:
        raise PromptOptimizationError(
            "prompt_optimization.seed_templates: "
            + "; ".join(f"seed {c.template_id} ({c.template!r}): {c.reason}" for c in bad)
        )
    return list(seed_candidates), to_score


def _score_step(
    batch: Sequence[Candidate],
    step: int,
    *,
    scoring: ScoringSet,
    spec: TaskSpec,
    scorer: Teacher,
    objective: Objective,
    task_io: TaskIO,
    settings: SearchSettings,
) -> None:
    """Score one step's candidates; a parse alarm when too many answers went unread."""
    quality = score_templates(
        batch,
        scoring,
        spec,
        scorer,
        objective,
        task_io,
        temperature=settings.scorer_temperature,
        max_tokens=settings.scorer_max_tokens,
        alarm_share=settings.alarm_share,
    )
    if quality is not None and quality.alarm:
        logger.warning(alarm_message(quality, f"OPRO step {step}"))


def _better(new: Candidate | None, old: Candidate | None, objective: Objective) -> bool:
    """Whether ``new`` ranks strictly above ``old`` under the objective."""
    return (
        new is not None
        and old is not None
        and objective.rank_key(new.accuracy, new.explanation_rate)
        > objective.rank_key(old.accuracy, old.explanation_rate)
    )


def _report_step(
    bar: Any,
    step: int,
    proposals: Sequence[Candidate],
    batch: Sequence[Candidate],
    best: Candidate | None,
    candidates: Sequence[Candidate],
) -> None:
    """One log line and the progress bar's figures after a step."""
    step_scores = [c.score for c in batch]
    logger.info(
        "OPRO step %d: %d proposed, %d scored, step mean %s, best %.3f (%s)",
        step,
        len(proposals),
        len(batch),
        f"{np.mean(step_scores):.3f}" if step_scores else "n/a",
        best.score if best else math.nan,
        best.template_id if best else "-",
    )
    bar.set_postfix(
        best=f"{best.score:.3f}" if best else "-",
        usd=f"{sum(c.cost_usd + c.optimizer_cost_usd for c in candidates):.4f}",
    )


def _stopped_by_budget(
    candidates: list[Candidate], err: BudgetExceededError, *, steps_run: int
) -> SearchResult:
    for cand in candidates:
        if cand.status == UNSCORED and cand.reason is None:
            cand.reason = "budget_exceeded"
    logger.warning(
        "OPRO stopped at the budget after %d step(s); keeping the best template so far. "
        "Everything paid for is cached: raise the budget and rerun to continue. (%s)",
        steps_run,
        err,
    )
    return SearchResult(candidates=candidates, stop_reason="budget", steps_run=steps_run)
