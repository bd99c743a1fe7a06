"""Which training rows keep their rationale: a registry of selection strategies.

A strategy gets the candidate rows (train rows that have a usable rationale), how many of
them keep it, a seeded random generator and its options (``subsampling.selection`` minus
``strategy``), and returns the ids of the chosen rows. Candidate columns: ``id``, the task's
input fields, ``label``, ``rationale``, ``rationale_words`` and, when the caller passes
scores (e.g. student uncertainty in active distillation), ``selection_score``.

Add one with the decorator; it is then selectable by name in the parameters::

    from zeroshot_distill.trainset import register_selection_strategy

    @register_selection_strategy("most_uncertain")
    def most_uncertain(candidates, n, rng, options):
        return candidates.nlargest(n, "selection_score")["id"].tolist()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

SelectionStrategy = Callable[[pd.DataFrame, int, np.random.Generator, Mapping[str, Any]], Sequence]

SELECTION_STRATEGIES: dict[str, SelectionStrategy] = {}


def register_selection_strategy(
    name: str, *, replace: bool = False
) -> Callable[[SelectionStrategy], SelectionStrategy]:
    """Register ``fn`` under ``name`` (an error if taken, unless ``replace``)."""

    def decorator(fn: SelectionStrategy) -> SelectionStrategy:
        if name in SELECTION_STRATEGIES and not replace:
            raise ValueError(f"selection strategy {name!r} is already registered")
        SELECTION_STRATEGIES[name] = fn
        return fn

    return decorator


def get_selection_strategy(name: str) -> SelectionStrategy:
    """The strategy registered as ``name``, with the known names in the error."""
    try:
        return SELECTION_STRATEGIES[name]
    except KeyError:
        known = sorted(SELECTION_STRATEGIES)
        raise ValueError(
            f"unknown subsampling.selection.strategy {name!r}; known: {known}"
        ) from None


def select_rationale_rows(
    candidates: pd.DataFrame,
    n: int,
    strategy: str,
    options: Mapping[str, Any],
    seed: int,
) -> list[str]:
    """Run ``strategy`` and check its answer: exactly ``n`` distinct candidate ids."""
    if n <= 0 or candidates.empty:
        return []
    n = min(n, len(candidates))
    chosen = [str(i) for i in get_selection_strategy(strategy)(candidates, n, _rng(seed), options)]
    known = set(candidates["id"].astype(str))
    if len(chosen) != n or len(set(chosen)) != n or not set(chosen) <= known:
        raise ValueError(
            f"selection strategy {strategy!r} must return {n} distinct candidate ids, "
            f"returned {len(chosen)} ({len(set(chosen) - known)} unknown)"
        )
    return chosen


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@register_selection_strategy("random")
def random_selection(
    candidates: pd.DataFrame, n: int, rng: np.random.Generator, options: Mapping[str, Any]
) -> list[str]:
    """``n`` candidates uniformly at random (seeded)."""
    ids = candidates["id"].astype(str).to_numpy()
    return list(rng.choice(ids, size=n, replace=False))


@register_selection_strategy("length_window")
def length_window_selection(
    candidates: pd.DataFrame, n: int, rng: np.random.Generator, options: Mapping[str, Any]
) -> list[str]:
    """Prefer rationales of ``min_words``..``max_words`` words (default 20..40).

    Rows inside the window come first (in random order); if the window holds fewer than
    ``n``, the rest are the rows closest to it (ties broken at random).
    """
    low, high = int(options.get("min_words", 20)), int(options.get("max_words", 40))
    if low > high:
        raise ValueError(f"selection min_words ({low}) > max_words ({high})")
    words = candidates["rationale_words"].to_numpy(dtype=float)
    distance = np.where(words < low, low - words, np.where(words > high, words - high, 0.0))
    tiebreak = rng.random(len(candidates))
    order = np.lexsort((tiebreak, distance))
    return list(candidates["id"].astype(str).to_numpy()[order[:n]])


@register_selection_strategy("top_score")
def top_score_selection(
    candidates: pd.DataFrame, n: int, rng: np.random.Generator, options: Mapping[str, Any]
) -> list[str]:
    """The ``n`` candidates with the highest ``selection_score`` (e.g. student uncertainty).

    Needs scores passed to :func:`subsample_training_set`; ties are broken at random.
    """
    if "selection_score" not in candidates.columns:
        raise ValueError("selection strategy 'top_score' needs a `selection_score` column")
    scores = candidates["selection_score"].to_numpy(dtype=float)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    order = np.lexsort((rng.random(len(candidates)), -scores))
    return list(candidates["id"].astype(str).to_numpy()[order[:n]])
