"""Nodes of the evaluation pipeline: the student on the test split next to the teacher.

Thin wrappers: the metrics, cost, plots and report live in :mod:`zeroshot_distill.reporting`,
the student's decoding in :mod:`zeroshot_distill.students`, the teacher's calls in the
annotation stage's functions (same prompt, same parsing, same cache).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.annotation import (
    ANNOTATION_COLUMNS,
    annotate_examples,
    plan_annotation,
)
from zeroshot_distill.reporting import (
    ReportPlot,
    annotation_summary,
    baselines,
    cost_summary,
    figure_png,
    headline_metrics,
    markdown_to_html,
    plot_accuracy_comparison,
    plot_confusion_matrix,
    plot_training_curve,
    prediction_metrics,
    render_markdown_report,
    speed_stats,
    teacher_spend_by_stage,
)
from zeroshot_distill.reporting.metrics import is_missing
from zeroshot_distill.students import (
    LabelReadout,
    StudentBundle,
    generate_rationales,
    read_labels,
)
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers import TeacherConfig
from zeroshot_distill.teachers.simulated_notice import is_simulated, report_title

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = [
    "id",
    "gold_label",
    "student_output",
    "student_label",
    "valid_output",
    "correct",
    "teacher_label",
    "teacher_compared",
]
# Training summary keys of a saved student (StudentBundle.info) shown in the report.
_STUDENT_INFO_KEYS = (
    "alpha",
    "n_train",
    "n_train_with_rationale",
    "n_valid",
    "best_step",
    "best_valid_accuracy",
    "final_step",
    "epochs",
    "stopped_early",
    "wall_time_s",
    "train_samples_per_s",
    "bf16",
    "seed",
)
# File names of the plots next to the report (the catalog's file names).
PLOT_FILES = {
    "accuracy_comparison": "accuracy_comparison.png",
    "confusion_matrix": "confusion_matrix.png",
    "training_curve": "training_curve.png",
    "opro_progression": "opro_progression.png",
}


# ----------------------------------------------------------------------------------- helpers
def _spec(task: Mapping[str, Any]) -> TaskSpec:
    return TaskSpec.from_params(task)


def select_test_rows(
    examples: pd.DataFrame, spec: TaskSpec, params: Mapping[str, Any]
) -> pd.DataFrame:
    """Rows of ``evaluation.split`` with a valid gold label, sorted by id, capped at
    ``evaluation.max_rows``. Raises when there is nothing to evaluate on."""
    split = str(params.get("split", "test"))
    rows = examples[examples["split"] == split]
    labeled = rows[[spec.is_valid_label(v) for v in rows["gold_label"]]]
    if labeled.empty:
        raise ValueError(
            f"evaluation needs gold labels on the {split!r} split, but its {len(rows)} rows "
            "have none; evaluate on a labeled split (evaluation.split) or label some rows"
        )
    labeled = labeled.sort_values("id", kind="stable").reset_index(drop=True)
    cap = params.get("max_rows")
    return labeled.head(int(cap)) if cap else labeled


def _machine(model: Any) -> str:
    import torch

    device = getattr(model, "device", "cpu")
    if str(device).startswith("cpu"):
        return f"cpu ({torch.get_num_threads()} threads)"
    if str(device).startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def _plain(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


# ------------------------------------------------------------------------------------- nodes
def predict_test_split(
    student_model: StudentBundle,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Label the test split with the student (label scoring or label-only generation,
    ``evaluation.label_decoding``; batched) and time it.

    Returns the student's predictions (``id, gold_label, student_output, student_label,
    valid_output, correct``; outputs normalised to the task's labels, ``None`` when they
    name none) and a profile: throughput of the batched run (``batch_size``, length-sorted
    batches), p50/p95 latency of ``latency_samples`` single-example calls, both after a
    warm-up call, and the student's description (size, origin, training summary).
    """
    spec = _spec(task)
    rows = select_test_rows(examples, spec, params)
    records = rows.to_dict("records")
    batch_size = int(params.get("batch_size", 32))
    prefix = student_model.prefixes["predict"]
    max_input_length = int(student_model.info.get("max_input_length") or 512)

    decoding = student_model.label_decoding(params.get("label_decoding"))

    def decode(batch: Sequence[Mapping[str, Any]]) -> LabelReadout:
        return read_labels(
            student_model.model,
            student_model.tokenizer,
            spec,
            batch,
            batch_size,
            prefix=prefix,
            max_input_length=max_input_length,
            max_new_tokens=student_model.label_budget(params.get("max_new_tokens")),
            decoding=decoding,
        )

    decode(records[:1])  # warm-up: lazy initialisation, allocator
    began = time.perf_counter()
    readout = decode(records)
    total_s = time.perf_counter() - began
    single_seconds = []
    for record in records[: int(params.get("latency_samples", 16))]:
        began = time.perf_counter()
        decode([record])
        single_seconds.append(time.perf_counter() - began)
    outputs, labels = readout.outputs, readout.labels
    gold = [str(g) for g in rows["gold_label"]]
    predictions = pd.DataFrame(
        {
            "id": rows["id"].astype(str).tolist(),
            "gold_label": gold,
            "student_output": outputs,
            "student_label": pd.Series(labels, dtype="object"),
            "valid_output": [label is not None for label in labels],
            "correct": [label == g for label, g in zip(labels, gold, strict=True)],
        }
    )
    speed = speed_stats(
        len(records),
        [total_s],
        single_seconds,
        batch_size=batch_size,
        device=_machine(student_model.model),
    )
    logger.info(
        "student on %d %s rows (labels by %s): accuracy %.3f, %d invalid, %.1f examples/s, "
        "p50 %.1f ms",
        len(records),
        params.get("split", "test"),
        readout.decoding,
        float(predictions["correct"].mean()),
        int((~predictions["valid_output"]).sum()),
        speed.examples_per_s,
        speed.latency_p50_ms,
    )
    model = {**describe_student(student_model), "label_decoding": readout.decoding}
    return predictions, {"speed": speed.as_dict(), "model": model}


def describe_student(student: StudentBundle) -> dict[str, Any]:
    """The student for the report: origin, size, and its training summary where saved."""
    config = student.model.config
    described: dict[str, Any] = {
        "source": student.info.get("source") or getattr(config, "_name_or_path", "") or "?",
        "model_type": getattr(config, "model_type", type(student.model).__name__),
        "parameters": student.num_parameters,
        "d_model": getattr(config, "d_model", None),
        "layers (encoder/decoder)": (
            f"{getattr(config, 'num_layers', '?')}/{getattr(config, 'num_decoder_layers', '?')}"
        ),
        "tokenizer": type(student.tokenizer).__name__,
    }
    for key in _STUDENT_INFO_KEYS:
        if student.info.get(key) is not None:
            described[key] = student.info[key]
    return described


def ask_teacher_on_test(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    annotation_params: Mapping[str, Any],
    annotation_prompt: Mapping[str, Any],
    params: Mapping[str, Any],
) -> pd.DataFrame:
    """The teacher's answers on the first ``teacher_comparison.max_rows`` of the student's
    test rows, with the annotation stage's prompt, parsing and response cache.

    Off (an empty table) when ``evaluation.teacher_comparison.enabled`` is false. Spend
    counts against ``teacher.max_cost_usd``; a rerun is answered from the cache.
    """
    comparison = dict(params.get("teacher_comparison") or {})
    if not comparison.get("enabled", False):
        logger.info("teacher comparison disabled (evaluation.teacher_comparison.enabled)")
        return pd.DataFrame(columns=ANNOTATION_COLUMNS)
    test_rows = select_test_rows(examples, _spec(task), params)
    cap = comparison.get("max_rows")
    ids = test_rows["id"].astype(str).tolist()[: int(cap) if cap else None]
    rows = examples[examples["id"].astype(str).isin(set(ids))].copy()
    # The same requests as annotation's full prompt (so the cache can answer them), every
    # row with a rationale request, none rationalising its gold label.
    overrides = {
        "splits": [str(params.get("split", "test"))],
        "max_rows": None,
        "rationale_fraction": 1.0,
        "rationalize_labeled": False,
        "progress": bool(comparison.get("progress", False)),
    }
    plan_params = {**dict(annotation_params or {}), **overrides}
    plan = plan_annotation(rows, task, plan_params, annotation_prompt, seed=0)
    answers, _ = annotate_examples(
        plan, rows, task, teacher, plan_params, annotation_prompt, stage="evaluation"
    )
    logger.info(
        "teacher on %d test rows: %s",
        len(answers),
        ", ".join(f"{k}={v}" for k, v in answers["parse_status"].value_counts().items()),
    )
    return answers


def combine_predictions(
    student_predictions: pd.DataFrame, teacher_answers: pd.DataFrame
) -> pd.DataFrame:
    """The ``predictions`` table: the student's rows with the teacher's label where it was
    asked (``teacher_compared``; an answer that named no label stays ``None``)."""
    frame = student_predictions.copy()
    teacher = dict(
        zip(
            teacher_answers["id"].astype(str),
            teacher_answers["teacher_label"],
            strict=True,
        )
    )
    frame["teacher_compared"] = frame["id"].isin(set(teacher))
    frame["teacher_label"] = pd.Series(
        [None if is_missing(teacher.get(i)) else str(teacher[i]) for i in frame["id"]],
        dtype="object",
        index=frame.index,
    )
    return frame[PREDICTION_COLUMNS]


def explain_examples(
    student_model: StudentBundle,
    predictions: pd.DataFrame,
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Student rationales (``explain: `` prefix) for a few test rows, for the report.

    Takes ``rationales.n`` rows, wrong answers first (the ones a reader wants to inspect),
    in id order otherwise.
    """
    settings = dict(params.get("rationales") or {})
    n = int(settings.get("n", 5))
    if n <= 0 or predictions.empty:
        return []
    spec = _spec(task)
    picked = predictions.sort_values(["correct", "id"], kind="stable").head(n)
    by_id = {str(r["id"]): r for r in examples.to_dict("records")}
    records = [by_id[i] for i in picked["id"].astype(str)]
    texts = generate_rationales(
        student_model.model,
        student_model.tokenizer,
        spec,
        records,
        batch_size=int(params.get("batch_size", 32)),
        prefix=student_model.prefixes["explain"],
        max_input_length=int(student_model.info.get("max_input_length") or 512),
        max_new_tokens=int(settings.get("max_new_tokens", 96)),
    )
    return [
        {
            "id": str(p["id"]),
            "input": spec.student_input(record),
            "gold_label": p["gold_label"],
            "student_label": p["student_label"],
            "rationale": text,
        }
        for p, record, text in zip(picked.to_dict("records"), records, texts, strict=True)
    ]


def compute_metrics(
    predictions: pd.DataFrame,
    student_profile: Mapping[str, Any],
    teacher_answers: pd.DataFrame,
    examples: pd.DataFrame,
    annotations: pd.DataFrame,
    annotation_prompt: Mapping[str, Any],
    opro_history: pd.DataFrame | None,
    best_prompt: Mapping[str, Any] | None,
    task: Mapping[str, Any],
    teacher: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The evaluation summary (schema in :mod:`zeroshot_distill.reporting.summary`).

    Student and teacher metrics, agreement, annotation quality, data sizes, teacher spend per
    stage and the cost of 1M predictions. ``opro_history``/``best_prompt`` may be ``None``
    (prompt optimization skipped); they are ignored as stale when the annotation did not use
    that search's winning template.
    """
    spec = _spec(task)
    teacher_cfg = TeacherConfig.from_params(teacher)
    opro_history, best_prompt = _current_search(annotation_prompt, opro_history, best_prompt)
    parts = prediction_metrics(predictions, spec.label_set)
    speed = dict(student_profile.get("speed") or {})
    student = {**(parts["student"] or {}), "speed": speed}
    spend = teacher_spend_by_stage(
        opro_history=opro_history,
        annotations=annotations,
        evaluation_calls=teacher_answers if len(teacher_answers) else None,
    )
    full_prompt_calls = (
        annotations[annotations["prompt_kind"] == "full"]
        if "prompt_kind" in annotations.columns
        else annotations
    )
    cost = dict(params.get("cost") or {})
    price = teacher_cfg.price()
    summary = {
        "run": {
            "task": spec.name,
            "task_kind": spec.kind,
            "task_description": spec.description,
            "labels": spec.label_set,
            "teacher_backend": teacher_cfg.backend,
            "teacher_model": teacher_cfg.model,
            "teacher_simulated": is_simulated(teacher_cfg)
            or bool(_any_true(annotations, "simulated")),
            "split": str(params.get("split", "test")),
            "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
        "data": {
            "examples": _split_sizes(examples),
            "annotations": len(annotations),
            "training_set": _training_sizes(student_profile.get("model") or {}),
        },
        "student": student,
        "baselines": baselines(
            predictions["gold_label"].tolist(), spec.label_set, student.get("accuracy")
        ),
        "student_model": dict(student_profile.get("model") or {}),
        "teacher": parts["teacher"],
        "student_on_teacher_rows": parts["student_on_teacher_rows"],
        "agreement": parts["agreement"],
        "annotation": annotation_summary(annotations, examples),
        "cost": cost_summary(
            spend,
            teacher_calls=full_prompt_calls if len(full_prompt_calls) else teacher_answers,
            teacher_price=(price.input_per_1m, price.output_per_1m),
            teacher_model=teacher_cfg.model,
            student_examples_per_s=float(speed.get("examples_per_s") or math.nan),
            student_hourly_usd=float(cost.get("student_hourly_usd", 0.10)),
            student_machine=str(speed.get("device") or "this machine"),
            reference_price=cost.get("reference_price"),
        ),
        "prompt": _prompt_block(annotation_prompt, best_prompt),
    }
    return _plain(summary)


def metrics_for_mlflow(metrics: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """The summary's headline figures for ``MlflowMetricsHistoryDataset`` (prefix
    ``evaluation``): accuracies, macro-F1, invalid rate, agreement, speed, USD."""
    return {
        name: {"value": float(value), "step": 0}
        for name, value in headline_metrics(metrics).items()
    }


def plot_evaluation(
    metrics: Mapping[str, Any],
    training_history: pd.DataFrame,
    opro_history: pd.DataFrame | None,
    best_prompt: Mapping[str, Any] | None,
    annotation_prompt: Mapping[str, Any],
) -> tuple[Figure, Figure, Figure, dict[str, bytes]]:
    """The confusion matrix, training curve and accuracy comparison figures, plus every
    figure the report shows as PNG bytes (those three and the OPRO progression when the
    search ran), keyed by the file name the report links to."""
    run = metrics.get("run") or {}
    simulated = bool(run.get("teacher_simulated"))
    student = metrics.get("student") or {}
    confusion = student.get("confusion_matrix")
    if confusion:
        confusion_fig = plot_confusion_matrix(
            confusion["matrix"],
            confusion["labels"],
            confusion["predicted_labels"],
            title=f"Student on the {run.get('split', 'test')} split "
            f"(n={student.get('n')}, accuracy {100 * (student.get('accuracy') or 0):.1f}%)",
        )
    else:
        confusion_fig = _note_figure("no confusion matrix: the task has no fixed label set")
    best_step = (metrics.get("student_model") or {}).get("best_step")
    curve_fig = plot_training_curve(
        training_history,
        best_step=best_step if best_step is not None else _best_step(training_history),
        title="Student training: losses and validation accuracy",
    )
    values, notes = _accuracy_bars(metrics)
    base = metrics.get("baselines") or {}
    accuracy_fig = plot_accuracy_comparison(
        values,
        notes=notes,
        references={
            f"majority class ({base.get('majority_label')})": base.get("majority"),
            "chance": base.get("chance"),
        }
        if base
        else None,
        title=f"Accuracy on the {run.get('split', 'test')} split",
        simulated=simulated,
    )
    images = {
        PLOT_FILES["accuracy_comparison"]: figure_png(accuracy_fig),
        PLOT_FILES["confusion_matrix"]: figure_png(confusion_fig),
        PLOT_FILES["training_curve"]: figure_png(curve_fig),
    }
    opro_history, best_prompt = _current_search(annotation_prompt, opro_history, best_prompt)
    if opro_history is not None and best_prompt is not None and best_prompt.get("objective"):
        images[PLOT_FILES["opro_progression"]] = _opro_png(opro_history, best_prompt["objective"])
    return confusion_fig, curve_fig, accuracy_fig, images


def render_report(
    metrics: Mapping[str, Any],
    plot_images: Mapping[str, bytes],
    rationales: Sequence[Mapping[str, Any]],
) -> tuple[str, str]:
    """The report as Markdown (plots linked by file name, resolved in the MLflow run's
    ``report/`` folder) and as self-contained HTML (plots embedded as ``data:`` URIs)."""
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
    ]
    if PLOT_FILES["opro_progression"] in plot_images:
        plots.append(
            ReportPlot(
                PLOT_FILES["opro_progression"],
                "Prompt optimization (OPRO)",
                "Every candidate template's score, the step mean and the best so far.",
            )
        )
    plots = [p for p in plots if p.file_name in plot_images]
    run = metrics.get("run") or {}
    markdown = render_markdown_report(
        metrics,
        plots=plots,
        rationales=rationales,
        student=metrics.get("student_model"),
        reproduce=_reproduce_commands(metrics),
        generated_at=run.get("generated_at"),
    )
    title = report_title(
        f"Distillation report: {run.get('task', 'task')}", bool(run.get("teacher_simulated"))
    )
    return markdown, markdown_to_html(markdown, plot_images, title=title)


# --------------------------------------------------------------------------- private helpers
def _any_true(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].fillna(False).astype(bool).any())


def _split_sizes(examples: pd.DataFrame) -> dict[str, dict[str, int]]:
    sizes = {}
    for split, rows in examples.groupby("split", sort=False):
        sizes[str(split)] = {
            "n": len(rows),
            "with_gold": int(sum(0 if is_missing(v) else 1 for v in rows["gold_label"])),
        }
    order = {"train": 0, "valid": 1, "test": 2}
    return dict(sorted(sizes.items(), key=lambda kv: order.get(kv[0], 3)))


def _training_sizes(student: Mapping[str, Any]) -> dict[str, int]:
    """Training-set sizes the student's training summary recorded."""
    keys = ("n_train", "n_train_with_rationale", "n_valid")
    names = {"n_train": "train rows", "n_train_with_rationale": "with rationale"}
    names["n_valid"] = "validation rows"
    return {names[k]: int(student[k]) for k in keys if student.get(k) is not None}


def _current_search(
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


def _prompt_block(
    annotation_prompt: Mapping[str, Any], best_prompt: Mapping[str, Any] | None
) -> dict[str, Any]:
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

    from zeroshot_distill.optimization import Objective, progression_figure

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
