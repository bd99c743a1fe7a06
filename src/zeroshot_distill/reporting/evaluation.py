"""The distillation report's evaluation parts, assembled from the evaluation stage's tables:
the summary (schema in :mod:`~zeroshot_distill.reporting.summary`), its figures, and the
report in Markdown and HTML. The evaluation pipeline's nodes only hand these tables in."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.optimization.objectives import Objective
from zeroshot_distill.reporting.cost import teacher_spend_by_stage
from zeroshot_distill.reporting.markdown import finite_or_none, markdown_to_html
from zeroshot_distill.reporting.metrics import baselines
from zeroshot_distill.reporting.opro import progression_figure
from zeroshot_distill.reporting.plain import plain
from zeroshot_distill.reporting.plots import (
    figure_png,
    plot_accuracy_comparison,
    plot_break_even,
    plot_confusion_matrix,
    plot_training_curve,
)
from zeroshot_distill.reporting.report import render_markdown_report
from zeroshot_distill.reporting.sections import ReportPlot
from zeroshot_distill.reporting.summary import (
    annotation_summary,
    break_even_summary,
    cost_summary,
    prediction_metrics,
)
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.tasks.values import is_blank
from zeroshot_distill.teachers.simulated_notice import is_simulated, report_title

logger = logging.getLogger(__name__)

# File names of the plots next to the report (the catalog's file names).
PLOT_FILES = {
    "accuracy_comparison": "accuracy_comparison.png",
    "confusion_matrix": "confusion_matrix.png",
    "training_curve": "training_curve.png",
    "opro_progression": "opro_progression.png",
    "break_even": "break_even.png",
}


# ------------------------------------------------------------------------------- the summary
def current_search(
    annotation_prompt: Mapping[str, Any],
    opro_history: pd.DataFrame | None,
    best_prompt: Mapping[str, Any] | None,
) -> tuple[pd.DataFrame | None, Mapping[str, Any] | None]:
    """The OPRO outputs if the annotation used their winning template, else ``(None, None)``.

    A leftover ``opro_history`` of an earlier run must not be billed to or shown for data
    annotated with another template.
    """
    if opro_history is None or annotation_prompt.get("source") != "best_prompt":
        return None, None
    template_id = annotation_prompt.get("template_id")
    if template_id is None or template_id not in set(opro_history["template_id"].astype(str)):
        logger.warning(
            "opro_history does not contain the annotation's template %s: it is from another "
            "run and is left out of the report",
            template_id,
        )
        return None, None
    if best_prompt is not None and str(best_prompt.get("template_id")) != str(template_id):
        best_prompt = None
    return opro_history, best_prompt


def split_sizes(examples: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Rows and rows with a gold label per split, train/valid/test first."""
    sizes = {}
    for split, rows in examples.groupby("split", sort=False):
        sizes[str(split)] = {
            "n": len(rows),
            "with_gold": int(sum(0 if is_blank(v) else 1 for v in rows["gold_label"])),
        }
    order = {"train": 0, "valid": 1, "test": 2}
    return dict(sorted(sizes.items(), key=lambda kv: order.get(kv[0], 3)))


def training_sizes(student: Mapping[str, Any]) -> dict[str, int]:
    """Training-set sizes the student's training summary recorded."""
    keys = ("n_train", "n_train_with_rationale", "n_valid")
    names = {"n_train": "train rows", "n_train_with_rationale": "with rationale"}
    names["n_valid"] = "validation rows"
    return {names[k]: int(student[k]) for k in keys if student.get(k) is not None}


def prompt_block(
    annotation_prompt: Mapping[str, Any], best_prompt: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The annotation template with its origin and, when OPRO chose it, its search scores."""
    block: dict[str, Any] = {
        "template": annotation_prompt.get("template"),
        "template_id": annotation_prompt.get("template_id"),
        "source": annotation_prompt.get("source"),
        "output_format": annotation_prompt.get("output_format"),
    }
    scores = dict(annotation_prompt.get("best_prompt_scores") or {})
    if best_prompt:
        for key in ("accuracy", "explanation_rate", "score", "step", "n_scored"):
            if key in best_prompt:
                scores[key] = best_prompt[key]
    block.update(scores)
    return block


def _any_true(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].fillna(False).astype(bool).any())


def _cost_block(
    spend: Mapping[str, Any],
    annotations: pd.DataFrame,
    teacher_answers: pd.DataFrame,
    speed: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Teacher spend and the projected cost of 1M predictions by teacher and student."""
    full_prompt_calls = (
        annotations[annotations["prompt_kind"] == "full"]
        if "prompt_kind" in annotations.columns
        else annotations
    )
    cost = dict(params.get("cost") or {})
    return cost_summary(
        spend,
        teacher_calls=full_prompt_calls if len(full_prompt_calls) else teacher_answers,
        teacher_price=tuple(teacher["price"]),
        teacher_model=teacher["model"],
        student_examples_per_s=float(speed.get("examples_per_s") or math.nan),
        student_hourly_usd=float(cost.get("student_hourly_usd", 0.10)),
        student_machine=str(speed.get("device") or "this machine"),
        reference_price=cost.get("reference_price"),
    )


def evaluation_summary(
    *,
    predictions: pd.DataFrame,
    student_profile: Mapping[str, Any],
    teacher_answers: pd.DataFrame,
    examples: pd.DataFrame,
    annotations: pd.DataFrame,
    annotation_prompt: Mapping[str, Any],
    opro_history: pd.DataFrame | None,
    best_prompt: Mapping[str, Any] | None,
    spec: TaskSpec,
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The evaluation summary, JSON-safe. ``teacher``: ``backend``, ``model`` and ``price``
    (USD per 1M input and output tokens). Stale OPRO outputs are ignored
    (:func:`current_search`)."""
    opro_history, best_prompt = current_search(annotation_prompt, opro_history, best_prompt)
    parts = prediction_metrics(predictions, spec.label_set)
    speed = dict(student_profile.get("speed") or {})
    student = {**(parts["student"] or {}), "speed": speed}
    spend = teacher_spend_by_stage(
        opro_history=opro_history,
        annotations=annotations,
        evaluation_calls=teacher_answers if len(teacher_answers) else None,
    )
    base = baselines(predictions["gold_label"].tolist(), spec.label_set, student.get("accuracy"))
    cost = _cost_block(spend, annotations, teacher_answers, speed, teacher, params)
    model = dict(student_profile.get("model") or {})
    summary = {
        "run": {
            "task": spec.name,
            "task_kind": spec.kind,
            "task_description": spec.description,
            "labels": spec.label_set,
            "teacher_backend": teacher["backend"],
            "teacher_model": teacher["model"],
            "teacher_simulated": is_simulated(teacher) or bool(_any_true(annotations, "simulated")),
            "split": str(params.get("split", "test")),
            "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
        "data": {
            "examples": split_sizes(examples),
            "annotations": len(annotations),
            "training_set": training_sizes(student_profile.get("model") or {}),
        },
        "student": student,
        "baselines": base,
        "student_model": model,
        "teacher": parts["teacher"],
        "student_on_teacher_rows": parts["student_on_teacher_rows"],
        "agreement": parts["agreement"],
        "annotation": annotation_summary(annotations, examples),
        "cost": cost,
        "break_even": break_even_summary(cost, model.get("wall_time_s"), base),
        "prompt": prompt_block(annotation_prompt, best_prompt),
    }
    return plain(summary)


# ------------------------------------------------------------------------------- the figures
def _best_step(history: pd.DataFrame) -> int | None:
    if history is None or history.empty or "valid_accuracy" not in history.columns:
        return None
    rows = history[["step", "valid_accuracy"]].dropna()
    if rows.empty:
        return None
    return int(rows.loc[rows["valid_accuracy"].idxmax(), "step"])


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _accuracy_bars(metrics: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    student = metrics.get("student") or {}
    teacher = metrics.get("teacher")
    paired = metrics.get("student_on_teacher_rows")
    values: dict[str, float] = {}
    notes: dict[str, str] = {}
    if teacher:
        values["teacher"] = _number(teacher.get("accuracy"))
        notes["teacher"] = f"n={teacher.get('n')}"
        values["student (same rows)"] = _number((paired or {}).get("accuracy"))
        notes["student (same rows)"] = f"n={(paired or {}).get('n')}"
    values["student (all test)"] = _number(student.get("accuracy"))
    notes["student (all test)"] = f"n={student.get('n')}"
    return values, notes


def _opro_png(history: pd.DataFrame, objective: Mapping[str, Any]) -> bytes:
    """The prompt-optimization progression (the OPRO stage's own figure) as PNG bytes."""
    import matplotlib.pyplot as plt

    settings = {k: v for k, v in objective.items() if k in Objective.model_fields}
    fig = progression_figure(history, Objective.from_params(settings))
    try:
        return figure_png(fig)
    finally:
        plt.close(fig)


def _note_figure(text: str) -> Figure:
    fig = Figure(figsize=(5, 2), dpi=110)
    fig.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def _confusion_figure(metrics: Mapping[str, Any]) -> Figure:
    run = metrics.get("run") or {}
    student = metrics.get("student") or {}
    confusion = student.get("confusion_matrix")
    if not confusion:
        return _note_figure("no confusion matrix: the task has no fixed label set")
    return plot_confusion_matrix(
        confusion["matrix"],
        confusion["labels"],
        confusion["predicted_labels"],
        title=f"Student on the {run.get('split', 'test')} split "
        f"(n={student.get('n')}, accuracy {100 * (student.get('accuracy') or 0):.1f}%)",
    )


def _accuracy_figure(metrics: Mapping[str, Any]) -> Figure:
    run = metrics.get("run") or {}
    values, notes = _accuracy_bars(metrics)
    base = metrics.get("baselines") or {}
    return plot_accuracy_comparison(
        values,
        notes=notes,
        references={
            f"majority class ({base.get('majority_label')})": base.get("majority"),
            "chance": base.get("chance"),
        }
        if base
        else None,
        title=f"Accuracy on the {run.get('split', 'test')} split",
        simulated=bool(run.get("teacher_simulated")),
    )


def _break_even_figure(metrics: Mapping[str, Any]) -> Figure | None:
    """Cumulative cost of teacher and student (``None`` for a student that did not beat
    its baseline, or whose cost per prediction is unknown: nothing to plot)."""
    block = metrics.get("break_even") or {}
    beats = (metrics.get("baselines") or {}).get("beats_majority")
    teacher = finite_or_none(block.get("teacher_usd_per_prediction"))
    student = finite_or_none(block.get("student_usd_per_prediction"))
    if beats is False or teacher is None or student is None:
        return None
    return plot_break_even(
        teacher,
        student,
        float(block.get("investment_usd") or 0.0),
        block.get("predictions"),
        simulated=bool((metrics.get("run") or {}).get("teacher_simulated")),
    )


def evaluation_figures(
    metrics: Mapping[str, Any],
    training_history: pd.DataFrame,
    opro_history: pd.DataFrame | None,
    best_prompt: Mapping[str, Any] | None,
    annotation_prompt: Mapping[str, Any],
) -> tuple[Figure, Figure, Figure, Figure, dict[str, bytes]]:
    """The confusion matrix, training curve, accuracy comparison and break-even figures,
    plus every figure the report shows as PNG bytes (those, the break-even only when there
    is a cost to plot, and the OPRO progression when the search made the annotation's
    template), keyed by the file name the report links to."""
    confusion_fig = _confusion_figure(metrics)
    best_step = (metrics.get("student_model") or {}).get("best_step")
    curve_fig = plot_training_curve(
        training_history,
        best_step=best_step if best_step is not None else _best_step(training_history),
        title="Student training: losses and validation accuracy",
    )
    accuracy_fig = _accuracy_figure(metrics)
    images = {
        PLOT_FILES["accuracy_comparison"]: figure_png(accuracy_fig),
        PLOT_FILES["confusion_matrix"]: figure_png(confusion_fig),
        PLOT_FILES["training_curve"]: figure_png(curve_fig),
    }
    break_even_fig = _break_even_figure(metrics)
    if break_even_fig is not None:
        images[PLOT_FILES["break_even"]] = figure_png(break_even_fig)
    else:
        break_even_fig = _note_figure("no break-even plot: the student replaces no teacher")
    opro_history, best_prompt = current_search(annotation_prompt, opro_history, best_prompt)
    if opro_history is not None and best_prompt is not None and best_prompt.get("objective"):
        images[PLOT_FILES["opro_progression"]] = _opro_png(opro_history, best_prompt["objective"])
    return confusion_fig, curve_fig, accuracy_fig, break_even_fig, images


# -------------------------------------------------------------------------------- the report
def _report_plots(plot_images: Mapping[str, bytes]) -> list[ReportPlot]:
    """The plots the report shows, in order, those that were drawn."""
    plots = [
        ReportPlot(
            PLOT_FILES["accuracy_comparison"],
            "Student vs teacher accuracy",
            "Teacher bar: the teacher on the compared test rows (evaluation.teacher_comparison);"
            " student bars: on those rows and on the whole split.",
        ),
        ReportPlot(
            PLOT_FILES["confusion_matrix"],
            "Confusion matrix (student)",
            "Rows: gold label; columns: the student's label, `(invalid)` when its output named"
            " none. Shading: share of the gold row.",
        ),
        ReportPlot(
            PLOT_FILES["training_curve"],
            "Training curve",
            "Label and rationale losses per logging step, validation accuracy per evaluation "
            "(model selection uses validation, never test).",
        ),
        ReportPlot(
            PLOT_FILES["break_even"],
            "Break-even: cumulative cost of teacher and student",
            "The teacher pays per prediction; the student starts at what the distillation "
            "cost (teacher spend of prompt optimization and annotation + training compute) "
            "and then pays its compute per prediction. Where the lines cross it has paid for "
            "itself.",
        ),
        ReportPlot(
            PLOT_FILES["opro_progression"],
            "Prompt optimization (OPRO)",
            "Every candidate template's score, the step mean and the best so far.",
        ),
    ]
    return [p for p in plots if p.file_name in plot_images]


def _reproduce_commands(metrics: Mapping[str, Any]) -> list[str]:
    inputs = ["student_model", "examples", "annotations", "annotation_prompt", "training_history"]
    if (metrics.get("prompt") or {}).get("source") == "best_prompt":
        inputs += ["opro_history", "best_prompt"]
    versions = ",".join(f"{name}:<VERSION>" for name in inputs)
    return [
        "# the whole chain again (new versions of everything)",
        "kedro run --pipelines distill",
        "# this evaluation again, on the datasets of run <VERSION>",
        f"kedro run --pipelines evaluation --load-versions {versions}",
    ]


def evaluation_report(
    metrics: Mapping[str, Any],
    plot_images: Mapping[str, bytes],
    rationales: Sequence[Mapping[str, Any]],
) -> tuple[str, str]:
    """The report as Markdown (plots linked by file name, resolved in the MLflow run's
    ``report/`` folder) and as self-contained HTML (plots embedded as ``data:`` URIs)."""
    run = metrics.get("run") or {}
    markdown = render_markdown_report(
        metrics,
        plots=_report_plots(plot_images),
        rationales=rationales,
        student=metrics.get("student_model"),
        reproduce=_reproduce_commands(metrics),
        generated_at=run.get("generated_at"),
    )
    title = report_title(
        f"Distillation report: {run.get('task', 'task')}", bool(run.get("teacher_simulated"))
    )
    return markdown, markdown_to_html(markdown, plot_images, title=title)
