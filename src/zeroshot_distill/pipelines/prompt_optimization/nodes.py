"""Nodes of the prompt_optimization pipeline (OPRO); the logic lives in
:mod:`zeroshot_distill.optimization`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.optimization import (
    PromptOptimizationError,
    PromptOptimizationParams,
    ScoringSet,
    TaskIO,
    run_search,
)
from zeroshot_distill.reporting import plain, plain_records
from zeroshot_distill.reporting.opro import best_row, progression_figure, search_metrics
from zeroshot_distill.tasks import TaskSpec

logger = logging.getLogger(__name__)


def select_scoring_examples(
    examples: pd.DataFrame, task: Mapping[str, Any], params: Mapping[str, Any], seed: int
) -> pd.DataFrame:
    """The fixed scoring subset: ``n_score_examples`` labeled rows of ``score_split``.

    Drawn with ``seed`` from the rows sorted by id, so it does not depend on row order and a
    rerun scores the same rows (and hits the cache). Fails before any teacher call when the
    split has no gold labels, or when the parameters or seed templates are invalid.
    """
    spec = TaskSpec.from_params(task)
    config = PromptOptimizationParams.from_params(params)
    config.seeds_for(spec)  # fail now, not after the teacher was built
    needed = ["id", "split", "gold_label", *spec.input_fields]
    missing = [c for c in needed if c not in examples.columns]
    if missing:
        raise PromptOptimizationError(f"`examples` lacks column(s) {missing}")
    in_split = examples[examples["split"] == config.score_split]
    labeled = in_split[in_split["gold_label"].notna()]
    labeled = labeled[[spec.is_valid_label(v) for v in labeled["gold_label"]]]
    if labeled.empty:
        raise PromptOptimizationError(
            f"prompt optimization scores templates against gold labels, but the "
            f"{config.score_split!r} split has none ({len(in_split)} rows, 0 with a valid "
            f"gold_label). Label a small subset (~{config.n_score_examples} rows), set "
            f"data_processing.unlabeled_train: false, or point "
            f"prompt_optimization.score_split at a labeled split."
        )
    if len(labeled) < config.n_score_examples:
        logger.warning(
            "prompt_optimization.n_score_examples=%d but only %d labeled %r rows: scoring "
            "on all of them",
            config.n_score_examples,
            len(labeled),
            config.score_split,
        )
    labeled = labeled.sort_values("id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(int(seed))
    n = min(config.n_score_examples, len(labeled))
    picked = np.sort(rng.choice(len(labeled), size=n, replace=False))
    return labeled.iloc[picked].reset_index(drop=True)


def optimize_prompt(
    scoring_examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    teacher: Mapping[str, Any] | None,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the OPRO search; return the history (one row per candidate) and a run summary.

    The optimizer and scorer teachers are built from ``params:teacher`` with
    ``prompt_optimization.optimizer`` / ``.scorer`` laid over it.
    """
    from zeroshot_distill.teachers import build_teacher

    spec = TaskSpec.from_params(task)
    config = PromptOptimizationParams.from_params(params)
    seeds = config.seeds_for(spec)
    optimizer_config, scorer_config = config.teacher_configs(teacher)
    scorer = build_teacher(scorer_config)
    optimizer = scorer if optimizer_config == scorer_config else build_teacher(optimizer_config)
    scoring = ScoringSet(rows=plain_records(scoring_examples))
    logger.info(
        "OPRO: %d seed(s), up to %d step(s) x %d candidate(s), %d scoring examples, "
        "objective %s; optimizer %s/%s, scorer %s/%s",
        len(seeds),
        config.n_steps,
        config.n_candidates,
        len(scoring.rows),
        config.objective.describe(),
        optimizer.backend,
        optimizer.model,
        scorer.backend,
        scorer.model,
    )
    try:
        result = run_search(
            seeds,
            scoring,
            spec,
            optimizer,
            scorer,
            config.objective,
            config.search_settings(seed),
            TaskIO.default(),
        )
        spend = {"scorer": plain(scorer.spend())}
        if optimizer is not scorer:
            spend["optimizer"] = plain(optimizer.spend())
    finally:
        for client in {id(t): t for t in (optimizer, scorer)}.values():
            close = getattr(client, "close", None)
            if callable(close):
                close()
    summary = {
        "stop_reason": result.stop_reason,
        "steps_run": result.steps_run,
        "optimizer": {"backend": optimizer.backend, "model": optimizer.model},
        "scorer": {"backend": scorer.backend, "model": scorer.model},
        "spend": spend,
    }
    logger.info("OPRO stopped (%s) after %d step(s)", result.stop_reason, result.steps_run)
    return result.history(), summary


def select_best_prompt(history: pd.DataFrame, params: Mapping[str, Any]) -> dict[str, Any]:
    """The winning template (the objective's argmax) with its scores, for annotation."""
    objective = PromptOptimizationParams.from_params(params).objective
    best = best_row(history, objective)
    prompt = {
        "template": str(best["template"]),
        "template_id": str(best["template_id"]),
        "accuracy": float(best["accuracy"]),
        "explanation_rate": float(best["explanation_rate"]),
        "score": float(best["score"]),
        "objective": objective.as_dict(),
        "step": int(best["step"]),
        "n_scored": int(best["n_scored"]),
        "simulated": bool(history["simulated"].any()),
    }
    if not objective.feasible(prompt["explanation_rate"]):
        logger.warning(
            "no template met the explanation-rate floor %.0f%%; the best one explains %.0f%% "
            "of its answers. %s",
            100 * objective.min_explanation_rate,
            100 * prompt["explanation_rate"],
            explanation_advice(best),
        )
    logger.info(
        "best prompt %s (step %d): accuracy %.3f, explanation rate %.3f, score %.3f",
        prompt["template_id"],
        prompt["step"],
        prompt["accuracy"],
        prompt["explanation_rate"],
        prompt["score"],
    )
    return prompt


def explanation_advice(best: Mapping[str, Any]) -> str:
    """Why the best template's answers lack rationales, and what helps: the parse statuses
    tell a teacher that gave no reason from a parser that missed the one it gave."""
    missed = int(best.get("n_rationale_missed", 0) or 0)
    none_given = int(best.get("n_no_rationale", 0) or 0)
    no_label = int(best.get("n_no_label", 0) or 0)
    if missed and missed >= none_given:
        return (
            f"In {missed} of its answers the teacher wrote enough text for a reason but the "
            "parser found none (parse status rationale_missed): this is a parser problem, not "
            "a prompt problem, so more steps will not help; check the raw answers."
        )
    if no_label > none_given:
        return (
            f"{no_label} answers had no label the parser recognises: ask for the answer in a "
            "fixed form or add the teacher's words to the task's verbalizers."
        )
    return "The teacher answered without reasons: seed templates that ask for a reason."


def plot_opro_progression(history: pd.DataFrame, params: Mapping[str, Any]) -> Figure:
    """Best-so-far and mean score per step (the paper's "OPRO progression" figure)."""
    objective = PromptOptimizationParams.from_params(params).objective
    return progression_figure(history, objective)


def summarize_search(
    history: pd.DataFrame, params: Mapping[str, Any], summary: Mapping[str, Any]
) -> dict[str, Any]:
    """MLflow metrics: per-step best/mean score and the search's final scores and cost."""
    config = PromptOptimizationParams.from_params(params)
    return search_metrics(history, config.objective, summary, config.alarm_share)
