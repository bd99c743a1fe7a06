"""Nodes of the experiments sweep: one student per (explanation rate, train fraction)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.reporting import baselines, classification_metrics, fmt_pct, plot_metric_vs
from zeroshot_distill.students import StudentBundle, predict_labels
from zeroshot_distill.tasks import TaskSpec

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
    train = training_set[training_set["split"] == "train"]
    result = {
        "variant": variant,
        "explanation_rate": explanation_rate,
        "train_fraction": train_fraction,
        "n_train": len(train),
        "n_train_with_rationale": int(train["rationale_target"].notna().sum()),
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
        for key in ("accuracy", "macro_f1", "invalid_rate", "n_train", "n_train_with_rationale")
        if pd.notna(result[key])
    }
    return result, mlflow_metrics


def compare_variants(*results: Mapping[str, Any]) -> tuple[pd.DataFrame, Figure, Figure, str]:
    """The comparison table and the papers' two figures, plus a Markdown summary.

    Figures: accuracy vs explanation rate (at the full training set) and accuracy vs train
    size (one line per explanation rate swept there), on a 0-100% axis with the
    majority-class and chance baselines of the test split drawn in.
    """
    table = pd.DataFrame(list(results)).sort_values(["train_fraction", "explanation_rate"])
    table = table.reset_index(drop=True)
    references = _baseline_references(table)
    full = table[table["train_fraction"] == table["train_fraction"].max()]
    by_rate = plot_metric_vs(
        full,
        "explanation_rate",
        "accuracy",
        xlabel="explanation rate (share of training rows with a rationale)",
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
    lines = [
        "# Experiments: explanation rate and training-set size",
        "",
        "One annotation, one student per variant, accuracy on the test split.",
        "",
        _baseline_summary(table),
        "",
        "| variant | explanation rate | train fraction | train rows | with rationale "
        "| accuracy | vs majority | macro-F1 | invalid |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table.itertuples(index=False):
        margin = 100 * (row.accuracy - row.majority_baseline)
        lines.append(
            f"| {row.variant} | {row.explanation_rate:.2f} | {row.train_fraction:.3f} "
            f"| {row.n_train} | {row.n_train_with_rationale} | {fmt_pct(row.accuracy)} "
            f"| {'n/a' if pd.isna(margin) else f'{margin:+.1f} pts'} "
            f"| {fmt_pct(row.macro_f1)} | {fmt_pct(row.invalid_rate)} |"
        )
    lines += [
        "",
        "![accuracy vs explanation rate](experiments_accuracy_vs_explanation_rate.png)",
        "![accuracy vs train size](experiments_accuracy_vs_train_size.png)",
        "",
    ]
    return table, by_rate, by_size, "\n".join(lines)


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
