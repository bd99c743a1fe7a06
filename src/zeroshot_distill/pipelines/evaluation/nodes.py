"""Nodes of the evaluation pipeline: the student on the test split next to the teacher.

Thin wrappers: the metrics, cost, plots and report live in :mod:`zeroshot_distill.reporting`,
the student's decoding in :mod:`zeroshot_distill.students`, the teacher's calls in the
annotation stage's functions (same prompt, same parsing, same cache).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zeroshot_distill.annotation import (
    ANNOTATION_COLUMNS,
    annotate_examples,
    plan_annotation,
)
from zeroshot_distill.reporting import device_name, headline_metrics, timed_reading
from zeroshot_distill.reporting.evaluation import (
    evaluation_figures,
    evaluation_report,
    evaluation_summary,
)
from zeroshot_distill.reporting.model_card import StudentCard, student_model_card
from zeroshot_distill.reporting.student_footprint import student_footprint
from zeroshot_distill.students import (
    LabelReadout,
    StudentBundle,
    generate_rationales,
    read_labels,
)
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.tasks.values import is_blank
from zeroshot_distill.teachers import TeacherConfig

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
    "student_kind",
    "encoder",
    "decoder_layers",
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

    readout, speed = timed_reading(
        decode,
        records,
        latency_samples=int(params.get("latency_samples", 16)),
        batch_size=batch_size,
        device=device_name(student_model.model),
    )
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
        "family": student.family,
        "parameters": student.num_parameters,
        "d_model": getattr(config, "d_model", None)
        or _encoder_width(config)
        or getattr(config, "hidden_size", None),
        "layers (encoder/decoder)": _layer_counts(config),
        "tokenizer": type(student.tokenizer).__name__,
    }
    if student.directory:  # where its model card goes
        described["directory"] = student.directory
    described.update(student_footprint(student.info, student.num_parameters))
    for key in _STUDENT_INFO_KEYS:
        if student.info.get(key) is not None:
            described[key] = student.info[key]
    return described


def _encoder_width(config: Any) -> int | None:
    """Hidden size of an encoder student's encoder (``EncoderDecoderConfig.encoder``)."""
    return getattr(getattr(config, "encoder", None), "hidden_size", None)


def _layer_counts(config: Any) -> str:
    """``encoder/decoder`` layers: T5's ``num_layers``, an encoder student's two configs, or
    a decoder-only student's ``0/num_hidden_layers``."""
    encoder, decoder = getattr(config, "encoder", None), getattr(config, "decoder", None)
    if encoder is not None and decoder is not None:
        return f"{encoder.num_hidden_layers}/{decoder.num_hidden_layers}"
    if not getattr(config, "is_encoder_decoder", False):
        return f"0/{getattr(config, 'num_hidden_layers', '?')}"
    return f"{getattr(config, 'num_layers', '?')}/{getattr(config, 'num_decoder_layers', '?')}"


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
        [None if is_blank(teacher.get(i)) else str(teacher[i]) for i in frame["id"]],
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
        rationale_decoder=student_model.rationale_decoder,
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
    teacher_cfg = TeacherConfig.from_params(teacher)
    price = teacher_cfg.price()
    return evaluation_summary(
        predictions=predictions,
        student_profile=student_profile,
        teacher_answers=teacher_answers,
        examples=examples,
        annotations=annotations,
        annotation_prompt=annotation_prompt,
        opro_history=opro_history,
        best_prompt=best_prompt,
        spec=_spec(task),
        teacher={
            "backend": teacher_cfg.backend,
            "model": teacher_cfg.model,
            "price": (price.input_per_1m, price.output_per_1m),
        },
        params=params,
    )


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
) -> tuple[Figure, Figure, Figure, Figure, dict[str, bytes]]:
    """The confusion matrix, training curve, accuracy comparison and break-even figures,
    plus every figure the report shows as PNG bytes (those and the OPRO progression when
    the search ran), keyed by the file name the report links to."""
    return evaluation_figures(
        metrics, training_history, opro_history, best_prompt, annotation_prompt
    )


def render_report(
    metrics: Mapping[str, Any],
    plot_images: Mapping[str, bytes],
    rationales: Sequence[Mapping[str, Any]],
) -> tuple[str, str]:
    """The report as Markdown (plots linked by file name, resolved in the MLflow run's
    ``report/`` folder) and as self-contained HTML (plots embedded as ``data:`` URIs)."""
    return evaluation_report(metrics, plot_images, rationales)


def complete_model_card(
    metrics: Mapping[str, Any], task: Mapping[str, Any], params: Mapping[str, Any]
) -> StudentCard:
    """The evaluated student's model card, completed with the evaluation (teacher, labels,
    accuracy vs teacher and baselines, break-even), for the student's own folder (recorded
    in ``metrics.student_model.directory`` when it was loaded), and the
    ``evaluation.model_card.push_to_hub`` settings (off by default)."""
    settings = dict(params.get("model_card") or {})
    student = dict(metrics.get("student_model") or {})
    directory = student.get("directory")
    text = student_model_card(
        student,
        evaluation=metrics,
        task=task,
        directory=directory,
        license=settings.get("license"),
    )
    return StudentCard(directory, text, dict(settings.get("push_to_hub") or {}))
