"""Prompt optimization: the OPRO search and the objectives it maximizes."""

from zeroshot_distill.optimization.config import PromptOptimizationParams
from zeroshot_distill.optimization.objectives import Objective, ObjectiveError
from zeroshot_distill.optimization.opro import (
    HISTORY_COLUMNS,
    Candidate,
    PromptOptimizationError,
    ScoringSet,
    SearchResult,
    SearchSettings,
    TaskIO,
    build_meta_prompt,
    extract_template,
    normalize_template,
    run_search,
)
from zeroshot_distill.optimization.report import (
    best_row,
    progression,
    progression_figure,
    search_metrics,
)

__all__ = [
    "HISTORY_COLUMNS",
    "Candidate",
    "Objective",
    "ObjectiveError",
    "PromptOptimizationError",
    "PromptOptimizationParams",
    "ScoringSet",
    "SearchResult",
    "SearchSettings",
    "TaskIO",
    "best_row",
    "build_meta_prompt",
    "extract_template",
    "normalize_template",
    "progression",
    "progression_figure",
    "run_search",
    "search_metrics",
]
