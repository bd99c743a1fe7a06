"""Prompt optimization: the OPRO search and the objectives it maximizes.

Its history table, progression figure and MLflow metrics: :mod:`zeroshot_distill.reporting.opro`.
"""

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
    "build_meta_prompt",
    "extract_template",
    "normalize_template",
    "run_search",
]
