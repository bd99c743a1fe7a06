"""Reading an ``opro_history`` table: the winner, the progression, the search's metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.optimization.objectives import Objective
from zeroshot_distill.optimization.opro import SCORED, PromptOptimizationError
from zeroshot_distill.tasks.parse_quality import DEFAULT_ALARM_SHARE
from zeroshot_distill.teachers.simulated_notice import plot_title


def scored_rows(history: pd.DataFrame) -> pd.DataFrame:
    """Rows of templates that were scored."""
    return history[history["status"] == SCORED]


def best_row(history: pd.DataFrame, objective: Objective) -> pd.Series:
    """The objective's argmax among scored rows; ties go to the earliest row."""
    scored = scored_rows(history)
    if scored.empty:
        raise PromptOptimizationError(
            "no template was scored (the budget ran out before the seeds were scored?): "
            "there is no best prompt. Raise the teacher's max_cost_usd and rerun; answers "
            "already paid for come from the cache."
        )
    keys = [
        objective.rank_key(float(a), float(e))
        for a, e in zip(scored["accuracy"], scored["explanation_rate"], strict=True)
    ]
    top = max(range(len(keys)), key=lambda i: (keys[i], -i))
    return scored.iloc[top]


def progression(history: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """Per step: the best score so far (by the objective's ranking) and the step's mean.

    Columns ``step, best_score, best_accuracy, best_explanation_rate, mean_score, n_scored,
    n_rejected``; the mean is NaN for a step whose proposals were all rejected.
    """
    rows = []
    best: tuple[Any, ...] | None = None
    best_vals = (math.nan, math.nan, math.nan)
    for step, group in history.groupby("step", sort=True):
        scored = scored_rows(group)
        for acc, rate, score in zip(
            scored["accuracy"], scored["explanation_rate"], scored["score"], strict=True
        ):
            key = objective.rank_key(float(acc), float(rate))
            if best is None or key > best:
                best, best_vals = key, (float(score), float(acc), float(rate))
        rows.append(
            {
                "step": int(step),
                "best_score": best_vals[0],
                "best_accuracy": best_vals[1],
                "best_explanation_rate": best_vals[2],
                "mean_score": float(scored["score"].mean()) if len(scored) else math.nan,
                "n_scored": len(scored),
                "n_rejected": int((group["status"] != SCORED).sum()),
            }
        )
    return pd.DataFrame(rows)


def progression_figure(history: pd.DataFrame, objective: Objective) -> Figure:
    """The "OPRO progression" figure: every candidate's score, the step mean, the best so far."""
    table = progression(history, objective)
    scored = scored_rows(history)
    # A bare Figure (no pyplot): no GUI backend, no global figure registry to leak into.
    fig = Figure(figsize=(7, 4.2), dpi=110)
    ax = fig.subplots()
    meets = [objective.feasible(float(r)) for r in scored["explanation_rate"]]
    below = scored[[not m for m in meets]]
    ok = scored[meets]
    ax.scatter(ok["step"], 100 * ok["score"], s=14, color="0.65", label="candidate", zorder=1)
    if len(below):
        ax.scatter(
            below["step"],
            100 * below["score"],
            s=18,
            marker="x",
            color="tab:red",
            label="candidate below the explanation-rate floor",
            zorder=1,
        )
    ax.plot(table["step"], 100 * table["mean_score"], marker="o", ms=4, label="step mean", zorder=2)
    ax.plot(
        table["step"],
        100 * table["best_score"],
        marker="s",
        ms=4,
        drawstyle="steps-post",
        label="best so far",
        zorder=3,
    )
    ax.set_xlabel("OPRO step (0 = seed templates)")
    ax.set_ylabel("score (0–100)")
    low = float(100 * scored["score"].min()) if len(scored) else 0.0
    ax.set_ylim(max(0.0, math.floor(low / 10) * 10 - 5), 101)  # zoom on the scores found
    ax.set_xticks(table["step"].tolist())
    simulated = bool(history["simulated"].any()) if "simulated" in history else False
    title = plot_title("OPRO progression", simulated)
    ax.set_title(f"{title}\nobjective: {objective.describe()}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def parse_share_history(
    history: pd.DataFrame, alarm_share: float = DEFAULT_ALARM_SHARE
) -> dict[str, list[dict[str, float]]]:
    """Per step: the share of scored answers without a label, without a rationale (teacher
    gave none / parser missed it) and whether that raised a PARSE ALARM."""
    if "n_no_label" not in history.columns:
        return {}
    scored = history[history["status"] == SCORED]
    out: dict[str, list[dict[str, float]]] = {
        "no_label_share": [],
        "no_rationale_share": [],
        "rationale_missed_share": [],
        "parse_alarm": [],
    }
    for step, rows in scored.groupby("step"):
        n = float(rows["n_scored"].sum())
        if not n:
            continue
        no_label = float(rows["n_no_label"].sum()) / n
        lacking = float(rows["n_no_rationale"].sum() + rows["n_rationale_missed"].sum()) / n
        out["no_label_share"].append({"step": int(step), "value": no_label})
        out["no_rationale_share"].append({"step": int(step), "value": lacking})
        out["rationale_missed_share"].append(
            {"step": int(step), "value": float(rows["n_rationale_missed"].sum()) / n}
        )
        alarm = float(no_label > alarm_share or lacking > alarm_share)
        out["parse_alarm"].append({"step": int(step), "value": alarm})
    return out


def search_metrics(
    history: pd.DataFrame,
    objective: Objective,
    summary: Mapping[str, Any] | None = None,
    alarm_share: float = DEFAULT_ALARM_SHARE,
) -> dict[str, Any]:
    """Metrics for ``MlflowMetricsHistoryDataset``: per-step histories and final values."""
    table = progression(history, objective)
    best = best_row(history, objective)
    metrics: dict[str, Any] = {
        "best_score": [
            {"step": int(s), "value": float(v)}
            for s, v in zip(table["step"], table["best_score"], strict=True)
            if not math.isnan(v)
        ],
        "mean_score": [
            {"step": int(s), "value": float(v)}
            for s, v in zip(table["step"], table["mean_score"], strict=True)
            if not math.isnan(v)
        ],
    }
    metrics.update(parse_share_history(history, alarm_share))
    prompt_tokens = int(history["prompt_tokens"].sum() + history["optimizer_prompt_tokens"].sum())
    completion_tokens = int(
        history["completion_tokens"].sum() + history["optimizer_completion_tokens"].sum()
    )
    finals = {
        "final_score": float(best["score"]),
        "final_accuracy": float(best["accuracy"]),
        "final_explanation_rate": float(best["explanation_rate"]),
        "best_step": int(best["step"]),
        "steps_run": int(history["step"].max()),
        "n_candidates": len(history),
        "n_scored": int((history["status"] == SCORED).sum()),
        "n_rejected": int((history["status"] == "rejected").sum()),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "scorer_cost_usd": float(history["cost_usd"].sum()),
        "optimizer_cost_usd": float(history["optimizer_cost_usd"].sum()),
        "cost_usd": float(history["cost_usd"].sum() + history["optimizer_cost_usd"].sum()),
    }
    if summary:
        finals["stopped_by_budget"] = float(summary.get("stop_reason") == "budget")
        finals["stopped_by_patience"] = float(summary.get("stop_reason") == "patience")
    for name, value in finals.items():
        metrics[name] = {"step": 0, "value": float(value)}
    return metrics
