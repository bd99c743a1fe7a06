"""What a user sees of a run: its MLflow name, its headline figures, its closing summary.

Pure functions over the run's parameters and the evaluation summary (``metrics``, see
:mod:`zeroshot_distill.reporting.summary`); the project hooks call them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from zeroshot_distill.reporting.markdown import fmt_pct, fmt_usd

# The project's pipelines in the order they run (the distill chain first): a run's name and
# its `pipeline` tag list the stages in this order, whatever order `--pipelines` gave.
PIPELINE_ORDER = (
    "data_processing",
    "prompt_optimization",
    "annotation",
    "subsampling",
    "training",
    "evaluation",
    "predict",
    "experiments",
    "active_distill",
    "compare_students",
)
# Pipelines whose run trains one student from params:subsampling (rate and fraction apply).
_SINGLE_STUDENT = {"distill", "__default__", "subsampling", "training"}
# Pipelines whose results hang on the teacher (they ask it, or train on its fresh
# annotation), so its model belongs in the name.
_USES_TEACHER = {
    "distill",
    "__default__",
    "prompt_optimization",
    "annotation",
    "evaluation",
    "active_distill",
    "experiments",
}


def run_trains_one_student(pipeline_names: Sequence[str]) -> bool:
    """Whether the run trains one student from ``params:subsampling``."""
    return any(name in _SINGLE_STUDENT for name in pipeline_names)


def canonical_pipelines(pipeline_names: Sequence[str]) -> list[str]:
    """The pipeline names in :data:`PIPELINE_ORDER` (unknown names last, alphabetically),
    without duplicates: the same ``--pipelines`` always gives the same run name."""
    known = {name: i for i, name in enumerate(PIPELINE_ORDER)}
    unique = dict.fromkeys(n for n in pipeline_names if n)
    return sorted(unique, key=lambda n: (known.get(n, len(known)), n))


def _get(params: Mapping[str, Any], dotted: str) -> Any:
    value: Any = params
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def student_name(training: Mapping[str, Any] | None) -> str:
    """``google/flan-t5-base`` -> ``flan-t5-base``; a random-init model -> ``t5-random-d64``
    (a decoder-only one: ``qwen2-random-d64``)."""
    student = (training or {}).get("student") or {}
    name = student.get("name_or_path")
    if name:
        return str(name).rstrip("/").rsplit("/", 1)[-1]
    architecture = student.get("architecture") or {}
    kind = architecture.get("model_type") or "t5"
    width = architecture.get("d_model") or architecture.get("hidden_size")
    return f"{kind}-random-d{width}" if width else f"{kind}-random"


def teacher_name(teacher: Mapping[str, Any] | None) -> str:
    """The teacher's model, marked when it is the simulated test double."""
    teacher = teacher or {}
    model = str(teacher.get("model") or teacher.get("backend") or "teacher")
    if teacher.get("backend") == "simulated" and "simulated" not in model.lower():
        return f"{model} (SIMULATED)"
    return model


def run_name(pipeline_names: Sequence[str], params: Mapping[str, Any]) -> str:
    """A name that tells runs apart in MLflow's list: what differs between them, in the
    order of how often it does (the list's column cuts long names short).

    ``distill · er 0.3 · tf 1 · nli · gpt-4o-mini → t5-v1_1-base``; stages in pipeline order
    (:func:`canonical_pipelines`); pipelines that do not train from ``params:subsampling``
    leave out the rate and fraction, a mode other than ``step_by_step`` is named instead of
    the rate (no row keeps a rationale), those whose results do not hang on the teacher
    leave out the teacher.
    """
    names = canonical_pipelines(pipeline_names) or ["__default__"]
    parts = ["+".join("distill" if n == "__default__" else n for n in names)]
    if run_trains_one_student(names):
        rate = _number(_get(params, "subsampling.explanation_rate"))
        mode = _get(params, "subsampling.mode")
        if mode and mode != "step_by_step":
            # Standard fine-tuning / distillation keep no rationale: no rate to name.
            parts.append(str(mode))
            rate = None
        fraction = _number(_get(params, "subsampling.train_fraction"))
        if rate is not None:
            parts.append(f"er {rate:g}")
        if fraction is not None:
            parts.append(f"tf {fraction:g}")
    task = _get(params, "task.name")
    if task:
        parts.append(str(task))
    teaches = any(n in _USES_TEACHER for n in names)
    trains = any(
        n in _SINGLE_STUDENT | {"experiments", "active_distill", "compare_students"} for n in names
    )
    student = _students_label(names, params)
    if teaches and trains:
        parts.append(f"{teacher_name(params.get('teacher'))} → {student}")
    elif teaches:
        parts.append(teacher_name(params.get("teacher")))
    elif trains or "predict" in names:
        parts.append(student)
    return " · ".join(parts)


def _students_label(names: Sequence[str], params: Mapping[str, Any]) -> str:
    """The student of the run: ``a vs b`` for the students a comparison trains, the preset
    of a named student (``student_name``), else :func:`student_name`."""
    compared = _get(params, "compare_students.students")
    if "compare_students" in names and isinstance(compared, (list, tuple)) and compared:
        return " vs ".join(str(name) for name in compared)
    preset = _get(params, "training.preset")
    if isinstance(preset, Mapping) and preset.get("name"):
        return str(preset["name"])
    return student_name(params.get("training"))


def headline_figures(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The few figures that compare runs at a glance, under stable names.

    ``student_accuracy``, ``teacher_accuracy``, ``baseline_accuracy`` (majority class of the
    test split, from the evaluation's ``baselines``), ``teacher_usd`` (the run's teacher
    spend), ``explanation_rate`` (share of training rows that kept a rationale),
    ``break_even_predictions`` (after how many predictions the student has paid for its
    distillation; absent when it never does). Missing figures are left out.
    """
    student = metrics.get("student") or {}
    trained = metrics.get("student_model") or {}
    n_train = _number(trained.get("n_train"))
    with_rationale = _number(trained.get("n_train_with_rationale"))
    candidates = {
        "student_accuracy": _number(student.get("accuracy")),
        "teacher_accuracy": _number((metrics.get("teacher") or {}).get("accuracy")),
        "baseline_accuracy": _number((metrics.get("baselines") or {}).get("majority")),
        "teacher_usd": _number((metrics.get("cost") or {}).get("teacher_total_usd")),
        "explanation_rate": (
            with_rationale / n_train if n_train and with_rationale is not None else None
        ),
        "break_even_predictions": _number((metrics.get("break_even") or {}).get("predictions")),
    }
    return {name: value for name, value in candidates.items() if value is not None}


def evaluation_summary_lines(metrics: Mapping[str, Any]) -> list[str]:
    """Student vs teacher vs baseline, spend, explanation rate: the closing lines of a run."""
    figures = headline_figures(metrics)
    run = metrics.get("run") or {}
    student = metrics.get("student") or {}
    teacher = metrics.get("teacher") or {}
    split = run.get("split", "test")
    lines = [
        f"student accuracy   {fmt_pct(figures.get('student_accuracy'))} on {student.get('n')} "
        f"{split} rows",
    ]
    if "teacher_accuracy" in figures:
        simulated = " (SIMULATED teacher)" if run.get("teacher_simulated") else ""
        lines.append(
            f"teacher accuracy   {fmt_pct(figures['teacher_accuracy'])} on {teacher.get('n')} "
            f"of them, {run.get('teacher_model')}{simulated}"
        )
    if "baseline_accuracy" in figures:
        base = metrics.get("baselines") or {}
        verdict = "beaten" if base.get("beats_majority") else "NOT beaten by the student"
        lines.append(
            f"baseline accuracy  {fmt_pct(figures['baseline_accuracy'])} (always the most "
            f"frequent label; chance {fmt_pct(_number(base.get('chance')))}): {verdict}"
        )
    if "teacher_usd" in figures:
        lines.append(f"teacher spend      {fmt_usd(figures['teacher_usd'])} this run")
    if "explanation_rate" in figures:
        lines.append(
            f"explanation rate   {fmt_pct(figures['explanation_rate'])} of training rows "
            "kept a rationale"
        )
    paid_off = metrics.get("break_even") or {}
    if "break_even_predictions" in figures:
        lines.append(
            f"break-even         after {figures['break_even_predictions']:,.0f} predictions "
            f"(distillation {fmt_usd(paid_off.get('investment_usd'))})"
        )
    elif paid_off:
        lines.append(f"break-even         never: {paid_off.get('reason')}")
    return lines


def active_distill_summary_lines(metrics: Mapping[str, Any]) -> list[str]:
    """The arms' test accuracy at the largest common teacher spend (``equal_spend.*``)."""

    def value(entry: Any) -> float | None:
        return _number(entry.get("value") if isinstance(entry, Mapping) else entry)

    arms = [
        f"{key.split('.')[1]} {fmt_pct(value(entry))}"
        for key, entry in metrics.items()
        if key.startswith("equal_spend.") and key.endswith(".test_accuracy")
    ]
    if not arms:
        return []
    spend = value(metrics.get("equal_spend.spend"))
    return [f"test accuracy at equal teacher spend ({fmt_usd(spend)}): " + " vs ".join(arms)]


def compare_students_summary_lines(table: pd.DataFrame) -> list[str]:
    """The best student of a ``compare_students`` table, and who did not beat the baseline."""
    if table.empty or table["accuracy"].isna().all():
        return []
    best = table.loc[table["accuracy"].idxmax()]
    lines = [
        f"{len(table)} students on one training set; best {best['student']} "
        f"({best['family']}): accuracy {fmt_pct(best['accuracy'])}, "
        f"{_number(best.get('predictions_per_s')) or 0:,.1f} predictions/s, "
        f"{fmt_usd(best.get('usd_per_million'))} per 1M predictions"
    ]
    beats = table.get("beats_majority")
    if beats is not None:
        losers = [
            str(name)
            for name, beat in zip(table["student"], beats, strict=True)
            if beat is not None and not pd.isna(beat) and not bool(beat)
        ]
        if losers:
            lines.append(f"NOT beating the majority-class baseline: {', '.join(losers)}")
    return lines


def predictions_summary_lines(predictions: pd.DataFrame, n_rows: int = 3) -> list[str]:
    """How many rows were labelled, how many without a valid label, and the first few."""
    lines = [f"{len(predictions)} rows labelled"]
    if "valid_output" in predictions:
        lines[0] += f", {int((~predictions['valid_output'].astype(bool)).sum())} without a label"
    if "correct" in predictions and predictions["correct"].notna().any():
        lines[0] += f", accuracy {fmt_pct(predictions['correct'].dropna().astype(float).mean())}"
    shown = [c for c in ("id", "student_label", "gold_label") if c in predictions]
    if shown and len(predictions):
        head = predictions[shown].head(n_rows).astype(str)
        lines += ["  " + row for row in head.to_string(index=False).splitlines()]
    return lines


def summary_block(title: str, lines: Sequence[str], files: Mapping[str, str]) -> str:
    """A framed block of plain text: the title, the lines, then ``label: path`` per file."""
    body = [f"  {line}" for line in lines]
    body += [f"  {label}: {path}" for label, path in files.items()]
    rule = "=" * max(len(title), *(len(line) for line in body), 20)
    return "\n".join([rule, title, *body, rule])
