"""Nodes of the experiments sweep: one student per (explanation rate, train fraction)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.reporting import (
    baselines,
    classification_metrics,
    figure_png,
    fmt_pct,
    markdown_to_html,
    plot_metric_vs,
)
from zeroshot_distill.students import (
    StudentBundle,
    predict_labels,
)
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers.simulated_notice import banner_lines, is_simulated, report_title

logger = logging.getLogger(__name__)


def variant_subsampling_params(
    subsampling: Mapping[str, Any], *, explanation_rate: float, train_fraction: float
) -> dict[str, Any]:
    """The shared subsampling parameters with this variant's rate and fraction."""
    return {
        **dict(subsampling),
        "mode": "step_by_step",
        "explanation_rate": explanation_rate,
        "train_fraction": train_fraction,
    }


def evaluate_variant(
    student: StudentBundle,
    examples: pd.DataFrame,
    training_set: pd.DataFrame,
    task: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    *,
    variant: str,
    explanation_rate: float,
    train_fraction: float,
) -> tuple[dict[str, Any], dict[str, list[dict[str, float]]]]:
    """Test accuracy of one variant's student (labels read as in evaluation) and its data sizes.

    Returns a result row for the comparison table and the variant's MLflow metrics (the
    catalog gives each variant its own metric prefix, e.g. ``experiments.er015_tf1000.``).
    """
    spec = TaskSpec.from_params(task)
    split = evaluation.get("split", "test")
    rows = examples[(examples["split"] == split) & examples["gold_label"].notna()]
    if rows.empty:
        raise ValueError(f"experiments: no labeled rows in the {split!r} split to evaluate on")
    predicted = predict_labels(
        student.model,
        student.tokenizer,
        spec,
        rows,
        int(evaluation.get("batch_size", 32)),
        prefix=student.prefixes["predict"],
        max_new_tokens=student.label_budget(evaluation.get("max_new_tokens")),
        decoding=student.label_decoding(evaluation.get("label_decoding")),
    )
    metrics = classification_metrics(list(rows["gold_label"]), predicted, spec.label_set)
    base = baselines(list(rows["gold_label"]), spec.label_set, metrics["accuracy"]) or {}
    # Subsampling already warned when this variant got fewer rationales than it asked for.
    n_train, n_explained, achieved = _rationale_counts(training_set)
    result = {
        "variant": variant,
        "explanation_rate": explanation_rate,
        "explanation_rate_achieved": achieved,
        "train_fraction": train_fraction,
        "n_train": n_train,
        "n_train_with_rationale": n_explained,
        "n_test": int(metrics["n"]),
        "accuracy": float(metrics["accuracy"]),
        "macro_f1": float(metrics.get("macro_f1", float("nan"))),
        "invalid_rate": float(metrics["invalid_rate"]),
        "majority_baseline": float(base.get("majority", float("nan"))),
        "chance_baseline": float(base.get("chance", float("nan"))),
        "beats_majority": base.get("beats_majority"),
    }
    logger.info(
        "experiments %s: explanation rate %.2f, train fraction %.3f -> accuracy %s "
        "(majority-class baseline %s)",
        variant,
        explanation_rate,
        train_fraction,
        fmt_pct(result["accuracy"]),
        fmt_pct(result["majority_baseline"]),
    )
    mlflow_metrics = {
        key: [{"value": float(result[key]), "step": 0}]
        for key in (
            "accuracy",
            "macro_f1",
            "invalid_rate",
            "n_train",
            "n_train_with_rationale",
            "explanation_rate_achieved",
        )
        if pd.notna(result[key])
    }
    return result, mlflow_metrics


def _rationale_counts(training_set: pd.DataFrame) -> tuple[int, int, float]:
    """Train rows, those with a rationale, and the explanation rate actually achieved."""
    train = training_set[training_set["split"] == "train"]
    n_explained = int(train["rationale_target"].notna().sum())
    return len(train), n_explained, n_explained / len(train) if len(train) else 0.0


# File names of the sweep's figures (as the catalog saves them): the Markdown links them by
# name (they sit next to it in the MLflow run's `experiments/` folder); the HTML embeds them.
PLOT_FILES = (
    "experiments_accuracy_vs_explanation_rate.png",
    "experiments_accuracy_vs_train_size.png",
)


def compare_variants(
    teacher: Mapping[str, Any], *results: Mapping[str, Any]
) -> tuple[pd.DataFrame, Figure, Figure, str, str]:
    """The comparison table and the papers' two figures, plus the report as Markdown and as
    self-contained HTML (figures embedded, readable from its versioned folder).

    Figures: accuracy vs the explanation rate each student actually trained with (at the
    full training set) and accuracy vs train size (one line per requested explanation rate
    swept there). ``explanation_rate`` is the requested rate, ``explanation_rate_achieved``
    the share of train rows that had a rationale. Both plots use a 0-100% axis with the
    majority-class and chance baselines of the test split drawn in.
    ``teacher`` (params:teacher) marks a simulated teacher's report with the main
    report's banner.
    """
    table = pd.DataFrame(list(results))
    if "explanation_rate_achieved" not in table.columns:
        table["explanation_rate_achieved"] = table["explanation_rate"]
    table = table.sort_values(["train_fraction", "explanation_rate"]).reset_index(drop=True)
    references = _baseline_references(table)
    full = table[table["train_fraction"] == table["train_fraction"].max()]
    by_rate = plot_metric_vs(
        full,
        "explanation_rate_achieved",
        "accuracy",
        xlabel="explanation rate achieved (share of training rows with a rationale)",
        ylabel="student test accuracy (%)",
        title="Accuracy vs explanation rate (full training set)",
        references=references,
    )
    size_rates = table.groupby("explanation_rate")["train_fraction"].nunique()
    swept = table[table["explanation_rate"].isin(size_rates[size_rates > 1].index)]
    by_size = plot_metric_vs(
        swept if not swept.empty else table,
        "train_fraction",
        "accuracy",
        group="explanation_rate",
        log_x=True,
        xlabel="share of the training set used",
        ylabel="student test accuracy (%)",
        title="Accuracy vs training-set size",
        references=references,
    )
    simulated = is_simulated(teacher)
    title = "# Experiments: explanation rate and training-set size"
    lines = [
        report_title(title, simulated),
        "",
        *banner_lines(simulated),
        "One annotation, one student per variant, accuracy on the test split. Teacher "
        f"`{teacher.get('backend')}` / `{teacher.get('model')}`. A self-contained copy with the "
        "plots embedded: `experiments_report.html`.",
        "",
        _baseline_summary(table),
        "",
        "| variant | explanation rate requested | achieved | train fraction | train rows "
        "| with rationale | accuracy | vs majority | macro-F1 | invalid |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table.itertuples(index=False):
        short = " (fewer rationales exist)" if _short_of(row) else ""
        margin = 100 * (row.accuracy - getattr(row, "majority_baseline", float("nan")))
        lines.append(
            f"| {row.variant} | {row.explanation_rate:.2f} "
            f"| {row.explanation_rate_achieved:.2f}{short} | {row.train_fraction:.3f} "
            f"| {row.n_train} | {row.n_train_with_rationale} | {fmt_pct(row.accuracy)} "
            f"| {'n/a' if pd.isna(margin) else f'{margin:+.1f} pts'} "
            f"| {fmt_pct(row.macro_f1)} | {fmt_pct(row.invalid_rate)} |"
        )
    lines += [
        "",
        f"![accuracy vs explanation rate]({PLOT_FILES[0]})",
        f"![accuracy vs train size]({PLOT_FILES[1]})",
        "",
        *banner_lines(simulated),
    ]
    markdown = "\n".join(lines)
    images = dict(zip(PLOT_FILES, (figure_png(by_rate), figure_png(by_size)), strict=True))
    html = markdown_to_html(markdown, images, title=title.lstrip("# "))
    return table, by_rate, by_size, markdown, html


def _short_of(row: Any) -> bool:
    """Whether a variant trained with visibly fewer rationales than it asked for."""
    n = max(int(row.n_train), 1)
    return bool(row.explanation_rate_achieved < row.explanation_rate - 0.5 / n - 1e-9)


def _baseline_references(table: pd.DataFrame) -> dict[str, float]:
    """The test split's baselines (the same for every variant) as plot reference lines."""
    if table.empty or "majority_baseline" not in table.columns:
        return {}
    first = table.iloc[0]
    return {"majority class": first["majority_baseline"], "chance": first["chance_baseline"]}


def _baseline_summary(table: pd.DataFrame) -> str:
    """One line: the baselines and how many variants beat the majority class."""
    refs = _baseline_references(table)
    if not refs or pd.isna(refs["majority class"]):
        return "No majority-class or chance baseline applies to this task (no label set)."
    beat = int(table["accuracy"].gt(refs["majority class"]).sum())
    return (
        f"Baselines on the test split: majority class {fmt_pct(refs['majority class'])}, "
        f"chance {fmt_pct(refs['chance'])}. **{beat} of {len(table)} variant(s) beat the "
        "majority class**" + ("." if beat else ": no student learned the task here.")
    )
