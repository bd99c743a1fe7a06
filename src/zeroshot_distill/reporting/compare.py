"""One comparison of several students trained on the same training set (``compare_students``).

Each student is read on the same labeled test rows, timed the way the evaluation times a
student (a warm-up call, then one batched pass for throughput and single-example calls for
latency), and priced at ``evaluation.cost.student_hourly_usd``. The rows go into one table:
accuracy, macro-F1, valid-output rate, the margin over the majority-class baseline,
parameters (all and trainable), training time and speed, predictions/s, USD per 1M
predictions and peak memory where training recorded it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from zeroshot_distill.reporting.cost import student_usd_per_million
from zeroshot_distill.reporting.markdown import (
    fmt_num,
    fmt_pct,
    fmt_usd,
    markdown_table,
    markdown_to_html,
)
from zeroshot_distill.reporting.metrics import baselines, classification_metrics
from zeroshot_distill.reporting.speed import device_name, timed_reading
from zeroshot_distill.students import StudentBundle, read_labels
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.teachers.simulated_notice import banner_lines, report_title

#: The comparison table's columns, in order (``compare_students_table``).
COMPARISON_COLUMNS = (
    "student",
    "family",
    "model_type",
    "accuracy",
    "macro_f1",
    "valid_output_rate",
    "majority_baseline",
    "vs_majority",
    "beats_majority",
    "parameters",
    "trainable_parameters",
    "training_time_s",
    "train_examples_per_s",
    "predictions_per_s",
    "latency_p50_ms",
    "usd_per_million",
    "peak_memory_mb",
    "peak_memory_kind",
    "n_train",
    "n_train_with_rationale",
    "n_test",
    "best_valid_accuracy",
    "label_decoding",
    "device",
)
#: Per-student figures logged to MLflow as ``compare.<student>.<name>``.
MLFLOW_FIGURES = (
    "accuracy",
    "macro_f1",
    "valid_output_rate",
    "vs_majority",
    "parameters",
    "trainable_parameters",
    "training_time_s",
    "train_examples_per_s",
    "predictions_per_s",
    "latency_p50_ms",
    "usd_per_million",
    "peak_memory_mb",
)


def student_family(student: StudentBundle) -> str:
    """``seq2seq`` / ``causal_lm`` / ``encoder``, with ``+ lora`` for an adapter student.

    What training recorded (``student_kind`` names an encoder student, whose runtime
    ``family`` is seq2seq), else what the model is (an encoder-decoder is ``seq2seq``,
    anything else ``causal_lm``).
    """
    info = student.info
    family = info.get("student_kind") or info.get("family") or getattr(student, "family", None)
    if not family:
        encoder_decoder = getattr(student.model.config, "is_encoder_decoder", False)
        family = "seq2seq" if encoder_decoder else "causal_lm"
    peft = info.get("peft")
    if isinstance(peft, Mapping) and peft.get("method"):
        return f"{family} + {peft['method']}"
    return str(family)


def select_labeled_rows(
    examples: pd.DataFrame, spec: TaskSpec, evaluation: Mapping[str, Any]
) -> pd.DataFrame:
    """The rows the evaluation scores: ``evaluation.split`` with a valid gold label, sorted
    by id, capped at ``evaluation.max_rows``. Raises when there is nothing to score."""
    split = str(evaluation.get("split", "test"))
    rows = examples[examples["split"] == split]
    labeled = rows[[spec.is_valid_label(v) for v in rows["gold_label"]]]
    if labeled.empty:
        raise ValueError(
            f"compare_students needs gold labels on the {split!r} split (evaluation.split), "
            f"but its {len(rows)} rows have none"
        )
    labeled = labeled.sort_values("id", kind="stable").reset_index(drop=True)
    cap = evaluation.get("max_rows")
    return labeled.head(int(cap)) if cap else labeled


def evaluate_student(
    name: str,
    student: StudentBundle,
    rows: pd.DataFrame,
    spec: TaskSpec,
    evaluation: Mapping[str, Any],
    training_set: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """One row of the comparison: ``student`` (preset ``name``) on the labeled ``rows``.

    Labels are read as the evaluation reads them (``evaluation.label_decoding``, else how
    the student was selected); predictions/s and latency come from the same protocol as
    the evaluation's (warm-up, one batched pass of ``evaluation.batch_size``,
    ``latency_samples`` single calls) and USD per 1M predictions from
    ``evaluation.cost.student_hourly_usd``.
    """
    records = rows.to_dict("records")
    batch_size = int(evaluation.get("batch_size", 32))
    decoding = student.label_decoding(evaluation.get("label_decoding"))

    def decode(batch: Sequence[Mapping[str, Any]]) -> Any:
        return read_labels(
            student.model,
            student.tokenizer,
            spec,
            batch,
            batch_size,
            prefix=student.prefixes["predict"],
            max_input_length=int(student.info.get("max_input_length") or 512),
            max_new_tokens=student.label_budget(evaluation.get("max_new_tokens")),
            decoding=decoding,
        )

    readout, speed = timed_reading(
        decode,
        records,
        latency_samples=int(evaluation.get("latency_samples", 16)),
        batch_size=batch_size,
        device=device_name(student.model),
    )
    gold = [str(g) for g in rows["gold_label"]]
    metrics = classification_metrics(gold, readout.labels, spec.label_set)
    base = baselines(gold, spec.label_set, metrics["accuracy"]) or {}
    hourly = float(((evaluation.get("cost") or {}).get("student_hourly_usd")) or 0.0)
    info = student.info
    n_parameters = int(info.get("num_parameters") or student.num_parameters)
    majority = _number(base.get("majority"))
    accuracy = float(metrics["accuracy"])
    n_train, n_explained = _train_counts(training_set, info)
    return {
        "student": name,
        "family": student_family(student),
        "model_type": str(getattr(student.model.config, "model_type", "?")),
        "accuracy": accuracy,
        "macro_f1": _number(metrics.get("macro_f1")),
        "valid_output_rate": 1.0 - float(metrics["invalid_rate"]),
        "majority_baseline": majority,
        "vs_majority": accuracy - majority,  # NaN without a baseline
        "beats_majority": base.get("beats_majority"),
        "parameters": n_parameters,
        "trainable_parameters": int(info.get("num_trainable_parameters") or n_parameters),
        "training_time_s": _number(info.get("wall_time_s")),
        "train_examples_per_s": _number(info.get("train_samples_per_s")),
        "predictions_per_s": float(speed.examples_per_s),
        "latency_p50_ms": float(speed.latency_p50_ms),
        "usd_per_million": student_usd_per_million(speed.examples_per_s, hourly),
        "peak_memory_mb": _number(info.get("peak_memory_mb")),
        "peak_memory_kind": info.get("peak_memory_kind"),
        "n_train": n_train,
        "n_train_with_rationale": n_explained,
        "n_test": int(metrics["n"]),
        "best_valid_accuracy": _number(info.get("best_valid_accuracy")),
        "label_decoding": readout.decoding,
        "device": speed.device,
    }


def mlflow_figures(result: Mapping[str, Any]) -> dict[str, list[dict[str, float]]]:
    """The row's figures for ``MlflowMetricsHistoryDataset`` (the catalog prefixes them
    ``compare.<student>.``); missing figures are left out."""
    return {
        key: [{"value": _number(result.get(key)), "step": 0}]
        for key in MLFLOW_FIGURES
        if not math.isnan(_number(result.get(key)))
    }


def comparison_table(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The students' rows in the order they were configured, with every column."""
    names = [r["student"] for r in results]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"compare_students: students listed twice: {duplicates}")
    return pd.DataFrame(list(results)).reindex(columns=list(COMPARISON_COLUMNS))


def best_student(table: pd.DataFrame) -> Mapping[str, Any] | None:
    """The row with the highest test accuracy (ties: the first configured); ``None`` when
    the table is empty."""
    if table.empty or table["accuracy"].isna().all():
        return None
    return table.loc[table["accuracy"].idxmax()].to_dict()


def comparison_report(
    table: pd.DataFrame,
    *,
    task: str,
    teacher: Mapping[str, Any],
    simulated: bool,
    hourly_usd: float | None,
) -> tuple[str, str]:
    """The comparison as Markdown and as self-contained HTML.

    Students that did not beat the majority-class baseline are marked; a simulated teacher's
    labels put the simulated-teacher banner at the top and bottom.
    """
    title = "# Student comparison"
    best = best_student(table)
    first = table.iloc[0] if len(table) else None
    lines = [
        report_title(title, simulated),
        "",
        *banner_lines(simulated),
        f"Task `{task}`. Every student trained on the same `training_set` "
        f"({fmt_num(first['n_train'] if first is not None else None)} train rows, "
        f"{fmt_num(first['n_train_with_rationale'] if first is not None else None)} with a "
        f"rationale; teacher `{teacher.get('backend')}` / `{teacher.get('model')}`) and was "
        f"read on the same {fmt_num(first['n_test'] if first is not None else None)} test rows.",
        "",
        _baseline_line(table),
        "",
        markdown_table(
            [
                "student",
                "family",
                "accuracy",
                "macro-F1",
                "valid outputs",
                "vs majority",
                "parameters",
                "trainable",
                "training time",
                "train ex/s",
                "predictions/s",
                "USD / 1M predictions",
                "peak memory",
            ],
            [_table_row(row) for row in table.to_dict("records")],
        ),
        "",
        "✗ = did not beat the majority-class baseline (always answering the most frequent "
        "test label): that student learned nothing usable here.",
        "",
        f"Predictions/s: one batched pass on `{first['device'] if first is not None else '?'}` "
        "after a warm-up call, as in the evaluation. USD per 1M predictions: compute only, at "
        f"{fmt_usd(hourly_usd)} per machine hour (`evaluation.cost.student_hourly_usd`), the "
        "machine fully busy.",
    ]
    kinds = sorted({str(k) for k in table.get("peak_memory_kind", pd.Series()).dropna()})
    if kinds:
        lines += [
            "",
            f"Peak memory: as training recorded it ({', '.join(f'`{k}`' for k in kinds)}). "
            "On CPU that is the growth of the process's resident memory during training: "
            "students trained after the first in one run reuse memory the process already "
            "holds, so their figures are understated; compare them from separate runs.",
        ]
    if best is not None:
        lines += [
            "",
            f"**Best: `{best['student']}`** ({best['family']}), accuracy "
            f"{fmt_pct(best['accuracy'])}.",
        ]
    lines += ["", *banner_lines(simulated)]
    markdown = "\n".join(lines).rstrip() + "\n"
    return markdown, markdown_to_html(markdown, {}, title=title.lstrip("# "))


def _table_row(row: Mapping[str, Any]) -> list[str]:
    margin = _number(row.get("vs_majority"))
    mark = " ✗" if did_not_beat_majority(row.get("beats_majority")) else ""
    return [
        f"`{row['student']}`{mark}",
        str(row.get("family")),
        fmt_pct(row.get("accuracy")),
        fmt_pct(row.get("macro_f1")),
        fmt_pct(row.get("valid_output_rate")),
        "n/a" if math.isnan(margin) else f"{100 * margin:+.1f} pts",
        fmt_num(row.get("parameters")),
        fmt_num(row.get("trainable_parameters")),
        _seconds(row.get("training_time_s")),
        fmt_num(row.get("train_examples_per_s")),
        fmt_num(row.get("predictions_per_s")),
        fmt_usd(row.get("usd_per_million")),
        _megabytes(row.get("peak_memory_mb")),
    ]


def did_not_beat_majority(beats_majority: Any) -> bool:
    """Whether a row's ``beats_majority`` says no (``None``/NaN: no baseline applies)."""
    if beats_majority is None or (isinstance(beats_majority, float) and math.isnan(beats_majority)):
        return False
    return not bool(beats_majority)


def _baseline_line(table: pd.DataFrame) -> str:
    if table.empty or table["majority_baseline"].isna().all():
        return "No majority-class baseline applies to this task (no label set)."
    majority = float(table["majority_baseline"].iloc[0])
    beat = int(table["accuracy"].gt(majority).sum())
    return (
        f"Majority-class baseline on the test split: {fmt_pct(majority)}. **{beat} of "
        f"{len(table)} student(s) beat it**" + ("." if beat else ": none learned the task here.")
    )


def _train_counts(
    training_set: pd.DataFrame | None, info: Mapping[str, Any]
) -> tuple[int | None, int | None]:
    if training_set is not None and "split" in training_set:
        train = training_set[training_set["split"] == "train"]
        return len(train), int(train["rationale_target"].notna().sum())
    n, explained = info.get("n_train"), info.get("n_train_with_rationale")
    return (int(n) if n is not None else None, int(explained) if explained is not None else None)


def _number(value: Any) -> float:
    """A float; NaN when missing or not a number."""
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _seconds(value: Any) -> str:
    number = _number(value)
    return "n/a" if math.isnan(number) else f"{number:,.1f} s"


def _megabytes(value: Any) -> str:
    number = _number(value)
    return "n/a" if math.isnan(number) else f"{number:,.0f} MB"
