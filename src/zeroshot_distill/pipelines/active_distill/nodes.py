"""Nodes of the active_distill pipeline; the logic lives in :mod:`zeroshot_distill.active`.

Rounds carry state (the annotated set, the spend, the last student), so one node runs the
whole loop: :func:`run_active_distillation`. It checkpoints every finished round through the
``active_distill_state`` handle (a killed run resumes there) and returns the per-round
tables, one versioned table each with ``strategy`` and ``round`` columns, which the other
nodes turn into the comparison, the curve, MLflow metrics and the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.active import (
    ActiveDistillError,
    ActiveDistillParams,
    ActiveLoop,
    accuracy_curve,
    equal_spend_metrics,
    equal_spend_table,
    fingerprint,
    render_report,
    round_metrics,
)
from zeroshot_distill.active.backend import ProjectBackend
from zeroshot_distill.pipelines.active_distill.datasets import RoundStoreRoot
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers.simulated_notice import ACTIVE_WARNING

logger = logging.getLogger(__name__)


def _split(examples: pd.DataFrame, name: str, *, labeled: bool) -> pd.DataFrame:
    rows = examples[examples["split"] == name]
    if labeled:
        rows = rows[rows["gold_label"].notna()]
        if rows.empty:
            raise ActiveDistillError(
                f"active_distill measures accuracy per round on the {name!r} split, which has "
                "no gold labels; label a few hundred rows or point "
                "active_distill.valid_split / test_split elsewhere"
            )
    return rows.reset_index(drop=True)


def run_active_distillation(
    examples: pd.DataFrame,
    best_prompt: Mapping[str, Any] | None,
    state: RoundStoreRoot,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    annotation: Mapping[str, Any],
    training: Mapping[str, Any],
    subsampling: Mapping[str, Any],
    params: Mapping[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """The round loop for every strategy (active arm and controls) from one seed set.

    Returns ``(selections, annotations, rounds, final_student)``: every scored pool row
    with its score, rank and whether it was selected; every annotation added (with
    ``strategy``/``round``); one row of metrics and cumulative spend per strategy and round;
    the active arm's last student. Finished rounds are restored from ``state``.
    """
    config = ActiveDistillParams.from_params(params)
    spec = TaskSpec.from_params(task)
    pool = _split(examples, config.pool_split, labeled=False)
    valid = _split(examples, config.valid_split, labeled=True)
    test = _split(examples, config.test_split, labeled=True)
    backend = ProjectBackend.build(
        examples=examples,
        best_prompt=best_prompt,
        spec=spec,
        task=task,
        teacher=teacher,
        annotation=annotation,
        training=training,
        subsampling=subsampling,
        config=config,
        seed=seed,
    )
    if backend.simulated:
        logger.warning(ACTIVE_WARNING)
    key = fingerprint(
        {
            "active": config.fingerprint_payload(),
            "task": dict(task),
            "backend": backend.fingerprint_payload(),
            "seed": int(seed),
            "pool": sorted(str(i) for i in pool["id"]),
        }
    )
    store = state.open(key)
    logger.info("active distillation state: %s", store.base)
    result = ActiveLoop(
        pool=pool,
        valid=valid,
        test=test,
        spec=spec,
        params=config,
        backend=backend,
        store=store,
        seed=seed,
    ).run()
    rounds = result.rounds.assign(simulated=result.simulated)
    final = result.arms[config.strategy].student
    return result.selections, result.annotations, rounds, backend.export_student(final)


def compare_at_equal_spend(rounds: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    """Each strategy's valid/test accuracy at the same cumulative teacher spend."""
    config = ActiveDistillParams.from_params(params)
    return equal_spend_table(rounds, config.strategies)


def plot_active_distill_curve(rounds: pd.DataFrame) -> Figure:
    """Test accuracy against cumulative teacher spend, one line per strategy."""
    return accuracy_curve(rounds, simulated=_simulated(rounds))


def active_distill_metrics(
    rounds: pd.DataFrame, comparison: pd.DataFrame, params: Mapping[str, Any]
) -> dict[str, Any]:
    """MLflow: per strategy and round (step = round) accuracy and cumulative spend, plus the
    comparison at the largest common spend (``equal_spend.*``) and, by number of teacher
    calls, ``equal_calls.*``."""
    config = ActiveDistillParams.from_params(params)
    metrics: dict[str, Any] = dict(round_metrics(rounds))
    metrics.update(equal_spend_metrics(comparison, config.strategies))
    by_calls = equal_spend_table(rounds, config.strategies, "cumulative_calls")
    metrics.update(equal_spend_metrics(by_calls, config.strategies, "equal_calls"))
    return metrics


def render_active_distill_report(
    rounds: pd.DataFrame,
    selections: pd.DataFrame,
    annotations: pd.DataFrame,
    params: Mapping[str, Any],
    teacher: Mapping[str, Any],
) -> str:
    """The Markdown report: the comparison at equal spend, the curve, rounds, settings."""
    config = ActiveDistillParams.from_params(params)
    settings = {
        "teacher": f"{teacher.get('backend')}:{teacher.get('model')}",
        "strategy": config.strategy,
        "compared with": ", ".join(config.compare_with) or "(none)",
        "seed set": config.seed_size,
        "rows per round (B)": config.batch_size,
        "rounds": config.n_rounds,
        "budget per arm": config.budget.model_dump(exclude_none=True) or "none",
        "rationales per row (K)": config.scoring.n_rationales,
        "vote": config.scoring.vote,
        "teacher revision": config.revision.enabled,
        "warm start": config.warm_start,
    }
    return render_report(
        rounds,
        selections,
        annotations,
        strategies=config.strategies,
        settings=settings,
        simulated=_simulated(rounds),
    )


def _simulated(rounds: pd.DataFrame) -> bool:
    return bool("simulated" in rounds.columns and rounds["simulated"].fillna(False).any())
