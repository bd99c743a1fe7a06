"""Active vs random at equal teacher spend: the table, the curve, MLflow metrics, the report."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.reporting.markdown import fmt_num, fmt_pct, fmt_usd, markdown_table
from zeroshot_distill.reporting.plots import plot_metric_vs
from zeroshot_distill.tasks.values import is_blank
from zeroshot_distill.teachers.simulated_notice import REPORT_BANNER as SIMULATED_BANNER

_EPS = 1e-9


def spend_axis(rounds: pd.DataFrame) -> str:
    """``cumulative_usd`` when any answer cost money, else ``cumulative_calls`` (free teachers
    such as a local model or the simulated one are compared by calls)."""
    if "cumulative_usd" in rounds.columns and (rounds["cumulative_usd"].fillna(0) > 0).any():
        return "cumulative_usd"
    return "cumulative_calls"


def equal_spend_table(
    rounds: pd.DataFrame, strategies: Sequence[str], axis: str | None = None
) -> pd.DataFrame:
    """Each arm's accuracy at the same teacher spend.

    Spend levels are the cumulative spends at which any arm finished a round, up to the
    smallest final spend of all arms (beyond it one arm has no data). At each level an arm is
    represented by its last round that had spent no more than that: what a user with that
    budget would have. One row per level: ``spend``, per arm ``<arm>.round``,
    ``<arm>.valid_accuracy``, ``<arm>.test_accuracy``, and ``delta_test_accuracy`` (first
    arm minus the second) when there are two or more arms. ``axis``: ``cumulative_usd`` or
    ``cumulative_calls`` (default: :func:`spend_axis`).
    """
    axis = axis or spend_axis(rounds)
    arms = [s for s in strategies if s in set(rounds["strategy"])]
    if not arms:
        return pd.DataFrame(columns=["spend"])
    ceiling = min(rounds.loc[rounds["strategy"] == s, axis].max() for s in arms)
    levels = sorted({float(v) for v in rounds[axis] if float(v) <= ceiling + _EPS})
    out = []
    for level in levels:
        row: dict[str, Any] = {"spend": level}
        for arm in arms:
            mine = rounds[(rounds["strategy"] == arm) & (rounds[axis] <= level + _EPS)]
            last = mine.sort_values("round").iloc[-1] if not mine.empty else None
            row[f"{arm}.round"] = None if last is None else int(last["round"])
            for metric in ("valid_accuracy", "test_accuracy"):
                value = math.nan if last is None else float(last.get(metric, math.nan))
                row[f"{arm}.{metric}"] = value
        if len(arms) >= 2:
            row["delta_test_accuracy"] = (
                row[f"{arms[0]}.test_accuracy"] - row[f"{arms[1]}.test_accuracy"]
            )
        out.append(row)
    return pd.DataFrame(out)


def accuracy_curve(rounds: pd.DataFrame, *, simulated: bool) -> Figure:
    """Test accuracy against cumulative teacher spend, one line per strategy."""
    axis = spend_axis(rounds)
    label = "cumulative teacher USD" if axis == "cumulative_usd" else "cumulative teacher calls"
    title = "Active distillation: test accuracy vs teacher spend"
    if simulated:
        title += " (SIMULATED teacher)"
    return plot_metric_vs(
        rounds,
        x=axis,
        y="test_accuracy",
        group="strategy",
        xlabel=label,
        title=title,
        references=_baselines(rounds),
    )


def _baselines(rounds: pd.DataFrame) -> dict[str, float]:
    """The test split's majority-class and chance accuracies (the same in every round)."""
    refs = {}
    for name, column in (
        ("majority class", "test_majority_baseline"),
        ("chance", "test_chance_baseline"),
    ):
        if column in rounds.columns and rounds[column].notna().any():
            refs[name] = float(rounds[column].dropna().iloc[0])
    return refs


def _baseline_line(rounds: pd.DataFrame) -> list[str]:
    refs = _baselines(rounds)
    if "majority class" not in refs or "test_accuracy" not in rounds.columns:
        return []
    best = rounds["test_accuracy"].max()
    beat = bool(best > refs["majority class"])
    return [
        f"- **Baselines on the test split:** majority class {fmt_pct(refs['majority class'])}, "
        f"chance {fmt_pct(refs.get('chance'))}; the best student of any round reaches "
        f"{fmt_pct(best)}"
        + (
            "."
            if beat
            else ", **no better than always answering the majority class**: no student here "
            "learned the task, so the comparison between strategies is noise."
        )
    ]


def round_metrics(rounds: pd.DataFrame) -> dict[str, list[dict[str, float]]]:
    """MLflow metric histories, step = round: ``<strategy>.<metric>``."""
    names = (
        "valid_accuracy",
        "test_accuracy",
        "valid_macro_f1",
        "test_macro_f1",
        "cumulative_usd",
        "cumulative_calls",
        "paid_usd",
        "n_annotated",
    )
    out: dict[str, list[dict[str, float]]] = {}
    for strategy, arm in rounds.groupby("strategy", sort=False):
        for name in names:
            if name not in arm.columns:
                continue
            points = [
                {"step": int(r), "value": float(v)}
                for r, v in zip(arm["round"], arm[name], strict=True)
                if v is not None and not (isinstance(v, float) and math.isnan(v))
            ]
            if points:
                out[f"{strategy}.{name}"] = points
    return out


def equal_spend_metrics(
    table: pd.DataFrame, strategies: Sequence[str], name: str = "equal_spend"
) -> dict[str, Any]:
    """The comparison at the largest common spend (step 0), for MLflow: ``<name>.*``."""
    if table.empty or len(strategies) < 2:
        return {}
    last = table.iloc[-1]
    first, second = strategies[0], strategies[1]
    out = {
        f"{name}.spend": last["spend"],
        f"{name}.{first}.test_accuracy": last.get(f"{first}.test_accuracy"),
        f"{name}.{second}.test_accuracy": last.get(f"{second}.test_accuracy"),
        f"{name}.delta_test_accuracy": last.get("delta_test_accuracy"),
    }
    return {
        k: {"step": 0, "value": float(v)}
        for k, v in out.items()
        if v is not None and not math.isnan(float(v))
    }


# --------------------------------------------------------------------------------- markdown
def _spend(value: Any, axis: str) -> str:
    return fmt_usd(value) if axis == "cumulative_usd" else fmt_num(value, 0) + " calls"


def render_report(
    rounds: pd.DataFrame,
    selections: pd.DataFrame,
    annotations: pd.DataFrame,
    *,
    strategies: Sequence[str],
    settings: Mapping[str, Any],
    simulated: bool,
    plot_file: str = "active_distill_curve.png",
) -> str:
    """The Markdown report: verdict at equal spend, the curve, per-round tables, settings."""
    axis = spend_axis(rounds)
    table = equal_spend_table(rounds, strategies)
    lines = ["# Active distillation (ELAD): explanation-guided selection", ""]
    if simulated:
        lines += [SIMULATED_BANNER, ""]
    lines += _baseline_line(rounds)
    lines += _verdict(rounds, strategies, axis)
    lines += [
        "",
        f"![Test accuracy vs teacher spend]({plot_file})",
        "",
        "## Accuracy at equal teacher spend",
        "",
        "Each arm at the last round it finished within the spend in the first column.",
        "",
    ]
    header = ["spend"]
    for arm in strategies:
        header += [f"{arm} round", f"{arm} valid", f"{arm} test"]
    if "delta_test_accuracy" in table.columns:
        header.append("Δ test")
    body = []
    for _, row in table.iterrows():
        cells = [_spend(row["spend"], axis)]
        for arm in strategies:
            cells += [
                fmt_num(row.get(f"{arm}.round"), 0),
                fmt_pct(row.get(f"{arm}.valid_accuracy")),
                fmt_pct(row.get(f"{arm}.test_accuracy")),
            ]
        if "delta_test_accuracy" in table.columns:
            delta = row["delta_test_accuracy"]
            cells.append("n/a" if pd.isna(delta) else f"{100 * delta:+.1f} pt")
        body.append(cells)
    lines += [markdown_table(header, body), "", "## Rounds", ""]
    lines += [_rounds_table(rounds), ""]
    lines += _selections(selections, strategies)
    lines += _revisions(annotations)
    lines += ["## Settings", ""]
    lines += [f"- **{k}**: `{v}`" for k, v in settings.items()]
    lines += [
        "",
        "Spend is nominal: every teacher answer an arm used is charged at its price, even "
        "when the response cache served it (the seed round is shared by all arms and charged "
        "to each). Model selection inside each round uses the validation split; test "
        "accuracy is reported, never used.",
        "",
    ]
    return "\n".join(lines)


def _verdict(rounds: pd.DataFrame, strategies: Sequence[str], axis: str) -> list[str]:
    if len(strategies) < 2:
        return ["Only one strategy ran: no comparison."]
    lines = []
    axes = [axis] if axis == "cumulative_calls" else [axis, "cumulative_calls"]
    for which in axes:
        table = equal_spend_table(rounds, strategies, which)
        if table.empty or "delta_test_accuracy" not in table.columns:
            continue
        last = table.iloc[-1]
        first, second = strategies[0], strategies[1]
        delta = last["delta_test_accuracy"]
        word = "n/a" if pd.isna(delta) else ("ahead of" if delta > 0 else "not ahead of")
        what = "teacher spend" if which == "cumulative_usd" else "number of teacher calls"
        lines.append(
            f"- **At equal {what} ({_spend(last['spend'], which)})**, `{first}` reaches "
            f"{fmt_pct(last[f'{first}.test_accuracy'])} test accuracy and `{second}` "
            f"{fmt_pct(last[f'{second}.test_accuracy'])}: `{first}` is {word} `{second}` "
            f"({'n/a' if pd.isna(delta) else f'{100 * delta:+.1f} points'})."
        )
    return lines or ["No spend level was reached by every strategy: no comparison."]


def _rounds_table(rounds: pd.DataFrame) -> str:
    header = ["strategy", "round", "annotated", "added", "USD", "calls", "valid", "test", "stop"]
    body = [
        [
            r["strategy"],
            int(r["round"]),
            fmt_num(r.get("n_annotated"), 0),
            fmt_num(r.get("n_added"), 0),
            fmt_usd(r.get("cumulative_usd")),
            fmt_num(r.get("cumulative_calls"), 0),
            fmt_pct(r.get("valid_accuracy")),
            fmt_pct(r.get("test_accuracy")),
            "" if is_blank(r.get("stop_reason")) else r["stop_reason"],
        ]
        for _, r in rounds.iterrows()
    ]
    return markdown_table(header, body)


def _selections(selections: pd.DataFrame, strategies: Sequence[str]) -> list[str]:
    """Mean uncertainty of what each arm picked vs what it left, per round."""
    if selections.empty or "selected" not in selections.columns:
        return []
    chosen = selections[selections["round"] > 0]
    if chosen.empty:
        return []
    rows = []
    for (arm, round_), part in chosen.groupby(["strategy", "round"], sort=True):
        picked = part["selected"].astype(bool)
        tiebreak = part["tiebreak"] if "tiebreak" in part.columns else part["score"] * 0
        rows.append(
            [
                arm,
                int(round_),
                len(part),
                int(picked.sum()),
                fmt_num(part.loc[picked, "score"].mean(), 3),
                fmt_num(part.loc[~picked, "score"].mean(), 3),
                fmt_num(tiebreak[picked].mean(), 3),
                fmt_num(tiebreak[~picked].mean(), 3),
            ]
        )
    header = ["strategy", "round", "scored", "selected", "score sel.", "score left"]
    return [
        "## Selection",
        "",
        "Mean uncertainty (the arm's own scorer) of the rows it selected vs the rows it left; "
        "the tie-break orders equal scores (for explanation consistency: 1 − the top "
        "probability of the mean rationale-conditioned label distribution). An untrained "
        "student often gives K identical votes everywhere: then the tie-break decides.",
        "",
        markdown_table([*header, "tie-break sel.", "tie-break left"], rows),
        "",
    ]


def _revisions(annotations: pd.DataFrame) -> list[str]:
    if "revision_status" not in annotations.columns:
        return []
    counts = annotations["revision_status"].dropna().value_counts()
    if counts.empty:
        return []
    rows = [[status, int(n)] for status, n in counts.items()]
    return ["## Teacher revisions", "", markdown_table(["status", "rows"], rows), ""]
