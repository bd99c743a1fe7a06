"""Uncertainty scorers: how unsure the student is about each unannotated example.

Every scorer maps (probe, rows, context) to a frame with one row per input row, in order:
``id``, ``score`` (higher = more uncertain = annotate first), ``tiebreak`` (orders equal
scores) and scorer-specific columns. Scorers live in a registry keyed by name
(:func:`register_scorer`, :func:`get_scorer`); the subsampling pipeline's uncertainty hook and
``active_distill.strategy`` pick them by that name.

Definitions (ELAD, Zhang et al. 2024, adapted to a seq2seq student):

``explanation_consistency``
    Sample K rationales from the student (``explain: ``, temperature, nucleus). Each rationale
    casts one vote for a label: with ``vote: conditioned`` the student's answer when the
    rationale is appended to its input (``predict: {input} rationale: {r}``, scored over the
    label set, argmax); with ``vote: verbalized`` the label the rationale itself names (read
    with the task's verbalizers; a rationale naming none casts an empty vote). The score is
    **1 − (votes of the most frequent label) / K**: 0 when all K lines of reasoning land on the
    same label, up to 1 − 1/min(K, #labels) when they scatter (empty votes never form a
    majority). Ties are ordered by 1 − max of the mean rationale-conditioned distribution (a
    soft version of the same quantity).

``label_entropy``
    The entropy of the student's ``predict: `` distribution over the label set, where each
    label's probability is its teacher-forced sequence likelihood renormalised over the set,
    divided by log(#labels) to lie in [0, 1]. Numeric answers have no finite set: there it is
    the mean per-token entropy of the greedy answer, divided by log(vocabulary size).

``combined``
    A weighted mean of the two above, each first brought to [0, 1] (consistency divided by its
    maximum 1 − 1/min(K, #labels)); weights from ``scoring.weights``.

``random``
    Seeded uniform scores: the control arm. Needs no student.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zeroshot_distill.active.probe import StudentProbe
from zeroshot_distill.tasks import TaskSpec


@dataclass(frozen=True)
class ScoringContext:
    """What a scorer may use besides the student: the task, the knobs and a seed."""

    spec: TaskSpec
    config: Any  # zeroshot_distill.active.config.ScoringConfig (kept loose: no import cycle)
    seed: int = 0


Scorer = Callable[[StudentProbe | None, Sequence[Mapping[str, Any]], ScoringContext], pd.DataFrame]
_SCORERS: dict[str, Scorer] = {}
_NEEDS_STUDENT: dict[str, bool] = {}


def register_scorer(name: str, *, needs_student: bool = True) -> Callable[[Scorer], Scorer]:
    """Decorator: make ``fn`` available as selection strategy ``name``."""

    def decorator(fn: Scorer) -> Scorer:
        if name in _SCORERS and _SCORERS[name] is not fn:
            raise ValueError(f"a scorer named {name!r} is already registered")
        _SCORERS[name] = fn
        _NEEDS_STUDENT[name] = needs_student
        return fn

    return decorator


def get_scorer(name: str) -> Scorer:
    """The scorer registered as ``name``."""
    try:
        return _SCORERS[name]
    except KeyError:
        known = available_scorers()
        raise KeyError(f"unknown uncertainty scorer {name!r}; known: {known}") from None


def needs_student(name: str) -> bool:
    """Whether scorer ``name`` asks the student anything (``random`` does not)."""
    get_scorer(name)
    return _NEEDS_STUDENT[name]


def available_scorers() -> list[str]:
    """Registered scorer names, sorted."""
    return sorted(_SCORERS)


# ----------------------------------------------------------------------------------- helpers
def _candidates(spec: TaskSpec, row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(labels, the texts the student generates for them) for one row."""
    labels = spec.label_set or []
    return labels, [spec.label_target(label, row) for label in labels]


def _softmax(logps: np.ndarray) -> np.ndarray:
    shifted = np.exp(logps - np.max(logps))
    return shifted / shifted.sum()


def _normalized_entropy(probs: np.ndarray) -> float:
    if len(probs) < 2:
        return 0.0
    nz = probs[probs > 0]
    return float(-(nz * np.log(nz)).sum() / math.log(len(probs)))


def _require(probe: StudentProbe | None, name: str) -> StudentProbe:
    if probe is None:
        raise ValueError(f"scorer {name!r} needs a student probe")
    return probe


def _frame(rows: Sequence[Mapping[str, Any]], **columns: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"id": [str(r["id"]) for r in rows]})
    for name, values in columns.items():
        frame[name] = list(values)
    return frame


def max_inconsistency(k: int, spec: TaskSpec) -> float:
    """The largest explanation-consistency score K votes can reach for this task."""
    n_labels = len(spec.label_set) if spec.label_set else k
    spread = min(k, n_labels)
    return 1.0 - 1.0 / spread if spread > 1 else 1.0


# ----------------------------------------------------------------------------------- scorers
@register_scorer("label_entropy")
def label_entropy(
    probe: StudentProbe | None, rows: Sequence[Mapping[str, Any]], ctx: ScoringContext
) -> pd.DataFrame:
    """Normalised entropy of the student's label distribution (see module docstring)."""
    probe = _require(probe, "label_entropy")
    spec = ctx.spec
    inputs = [spec.student_input(r) for r in rows]
    if spec.label_set is None:
        answers, entropies = probe.greedy_answers(
            inputs, max_new_tokens=ctx.config.max_label_tokens
        )
        predicted = [spec.normalize_label(a, r) for a, r in zip(answers, rows, strict=True)]
        return _frame(
            rows,
            score=entropies,
            tiebreak=entropies,
            student_label=predicted,
            label_confidence=[math.nan] * len(rows),
        )
    pairs = [_candidates(spec, r) for r in rows]
    logps = probe.answer_logprobs(inputs, [texts for _, texts in pairs])
    scores, predicted, confidence = [], [], []
    for (labels, _), lp in zip(pairs, logps, strict=True):
        probs = _softmax(np.asarray(lp, dtype=float))
        scores.append(_normalized_entropy(probs))
        predicted.append(labels[int(np.argmax(probs))])
        confidence.append(float(np.max(probs)))
    return _frame(
        rows, score=scores, tiebreak=scores, student_label=predicted, label_confidence=confidence
    )


@register_scorer("explanation_consistency")
def explanation_consistency(
    probe: StudentProbe | None, rows: Sequence[Mapping[str, Any]], ctx: ScoringContext
) -> pd.DataFrame:
    """1 − majority share of K rationale votes (see module docstring)."""
    probe = _require(probe, "explanation_consistency")
    spec, config = ctx.spec, ctx.config
    k = int(config.n_rationales)
    inputs = [spec.student_input(r) for r in rows]
    samples = probe.sample_rationales(
        inputs,
        k,
        temperature=config.temperature,
        top_p=config.top_p,
        max_new_tokens=config.max_rationale_tokens,
        seed=ctx.seed,
    )
    votes, soft = _votes(probe, rows, inputs, samples, ctx)
    scores, majority, tiebreak = [], [], []
    for row_votes, mean_probs in zip(votes, soft, strict=True):
        counts = Counter(v for v in row_votes if v is not None)
        label, top = counts.most_common(1)[0] if counts else (None, 0)
        scores.append(1.0 - top / k)
        majority.append(label)
        tiebreak.append(0.0 if mean_probs is None else 1.0 - float(np.max(mean_probs)))
    return _frame(
        rows,
        score=scores,
        tiebreak=tiebreak,
        majority_label=majority,
        votes=["|".join("" if v is None else str(v) for v in vs) for vs in votes],
        rationale_sample=[s[0] if s else "" for s in samples],
    )


def _votes(
    probe: StudentProbe,
    rows: Sequence[Mapping[str, Any]],
    inputs: Sequence[str],
    samples: Sequence[Sequence[str]],
    ctx: ScoringContext,
) -> tuple[list[list[str | None]], list[np.ndarray | None]]:
    """One label vote per sampled rationale, and the mean conditioned distribution per row."""
    spec, config = ctx.spec, ctx.config
    if config.vote == "verbalized":
        votes = [
            [spec.normalize_label(r, row) for r in rats]
            for row, rats in zip(rows, samples, strict=True)
        ]
        return votes, [None] * len(rows)
    conditioned = [
        config.condition_template.format(input=x, rationale=r)
        for x, rats in zip(inputs, samples, strict=True)
        for r in rats
    ]
    owners = [i for i, rats in enumerate(samples) for _ in rats]
    votes: list[list[str | None]] = [[] for _ in rows]
    soft: list[list[np.ndarray]] = [[] for _ in rows]
    if spec.label_set is None:
        answers, _ = probe.greedy_answers(conditioned, max_new_tokens=config.max_label_tokens)
        for i, answer in zip(owners, answers, strict=True):
            votes[i].append(spec.normalize_label(answer, rows[i]))
        return votes, [None] * len(rows)
    pairs = [_candidates(spec, rows[i]) for i in owners]
    logps = probe.answer_logprobs(conditioned, [texts for _, texts in pairs])
    for i, (labels, _), lp in zip(owners, pairs, logps, strict=True):
        probs = _softmax(np.asarray(lp, dtype=float))
        votes[i].append(labels[int(np.argmax(probs))])
        soft[i].append(probs)
    return votes, [np.mean(p, axis=0) if p else None for p in soft]


@register_scorer("combined")
def combined(
    probe: StudentProbe | None, rows: Sequence[Mapping[str, Any]], ctx: ScoringContext
) -> pd.DataFrame:
    """Weighted mean of normalised explanation consistency and label entropy."""
    weights = {
        "explanation_consistency": 0.0,
        "label_entropy": 0.0,
        **dict(ctx.config.weights),
    }
    total = sum(weights.values())
    frame = _frame(rows)
    score = np.zeros(len(rows))
    tiebreak = np.zeros(len(rows))
    if weights["explanation_consistency"] > 0:
        parts = explanation_consistency(probe, rows, ctx)
        top = max_inconsistency(int(ctx.config.n_rationales), ctx.spec)
        consistency = parts["score"].to_numpy(dtype=float) / top
        score += weights["explanation_consistency"] * consistency
        frame["explanation_consistency"] = consistency
        for column in ("majority_label", "votes", "rationale_sample"):
            frame[column] = parts[column].to_numpy()
    if weights["label_entropy"] > 0:
        parts = label_entropy(probe, rows, ctx)
        entropy = parts["score"].to_numpy(dtype=float)
        score += weights["label_entropy"] * entropy
        tiebreak = entropy
        frame["label_entropy"] = entropy
        frame["student_label"] = parts["student_label"].to_numpy()
    frame["score"] = score / total
    frame["tiebreak"] = tiebreak
    return frame


@register_scorer("random", needs_student=False)
def random_scores(
    probe: StudentProbe | None, rows: Sequence[Mapping[str, Any]], ctx: ScoringContext
) -> pd.DataFrame:
    """Seeded uniform scores (the control)."""
    rng = np.random.default_rng(int(ctx.seed))
    return _frame(rows, score=rng.random(len(rows)), tiebreak=np.zeros(len(rows)))


# --------------------------------------------------------------------------------- selection
def rank_scores(scores: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Most uncertain first: by ``score``, then ``tiebreak``, then a seeded shuffle.

    The shuffle (not id order) makes equal scores fall in no systematic order. Adds ``rank``
    (0 = annotate first).
    """
    rng = np.random.default_rng(int(seed))
    ordered = scores.assign(_shuffle=rng.random(len(scores))).sort_values(
        ["score", "tiebreak", "_shuffle"], ascending=[False, False, True], kind="stable"
    )
    ordered = ordered.drop(columns="_shuffle").reset_index(drop=True)
    ordered["rank"] = np.arange(len(ordered))
    return ordered


def score_pool(
    name: str,
    probe: StudentProbe | None,
    rows: Sequence[Mapping[str, Any]],
    ctx: ScoringContext,
) -> pd.DataFrame:
    """Score ``rows`` with scorer ``name`` and rank them (see :func:`rank_scores`)."""
    if not rows:
        return pd.DataFrame(columns=["id", "score", "tiebreak", "rank"])
    scores = get_scorer(name)(probe, rows, ctx)
    if len(scores) != len(rows):
        raise RuntimeError(f"scorer {name!r} returned {len(scores)} scores for {len(rows)} rows")
    return rank_scores(scores, seed=ctx.seed)
