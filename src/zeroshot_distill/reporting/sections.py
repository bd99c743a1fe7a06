"""The detail sections of the distillation report (each returns Markdown lines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zeroshot_distill.reporting.markdown import (
    fenced_block,
    fmt_num,
    fmt_pct,
    fmt_score,
    inline_code,
    label_text,
    markdown_table,
    shorten,
)
from zeroshot_distill.reporting.metrics import INVALID


@dataclass(frozen=True)
class ReportPlot:
    """A plot the report shows: its file name next to the report, a title and a caption."""

    file_name: str
    title: str
    caption: str = ""


def plots_section(plots: Sequence[ReportPlot]) -> list[str]:
    lines = ["## Plots", ""]
    for plot in plots:
        lines += [f"### {plot.title}", "", f"![{plot.title}]({plot.file_name})", ""]
        if plot.caption:
            lines += [plot.caption, ""]
    return lines


def per_class_section(summary: Mapping[str, Any]) -> list[str]:
    student = summary.get("student") or {}
    per_class = student.get("per_class") or {}
    if not per_class:
        return []
    teacher_pc = (summary.get("teacher") or {}).get("per_class") or {}
    header = ["label", "precision", "recall", "F1", "support"]
    if teacher_pc:
        header.append("teacher F1 (compared rows)")
    rows = []
    for label, m in per_class.items():
        row = [
            inline_code(label),
            fmt_score(m.get("precision")),
            fmt_score(m.get("recall")),
            fmt_score(m.get("f1")),
            fmt_num(m.get("support")),
        ]
        if teacher_pc:
            row.append(fmt_score((teacher_pc.get(label) or {}).get("f1")))
        rows.append(row)
    lines = ["## Per-class results (student, test split)", "", markdown_table(header, rows), ""]
    confusion = student.get("confusion_matrix")
    if confusion:
        columns = list(confusion["predicted_labels"])
        matrix_rows = [
            [inline_code(label), *[fmt_num(v) for v in counts]]
            for label, counts in zip(confusion["labels"], confusion["matrix"], strict=True)
        ]
        lines += [
            "Confusion matrix (rows gold, columns the student's label; "
            f"{inline_code(INVALID)} = output that named no label):",
            "",
            markdown_table(["gold \\ predicted", *columns], matrix_rows),
            "",
        ]
    return lines


def task_data_section(summary: Mapping[str, Any]) -> list[str]:
    run = summary.get("run") or {}
    data = summary.get("data") or {}
    lines = ["## Task and data", ""]
    labels = run.get("labels")
    lines.append(
        f"Task {inline_code(run.get('task', '?'))} ({run.get('task_kind', '?')}"
        + (f"; labels {', '.join(inline_code(x) for x in labels)}" if labels else "")
        + ")"
        + (f": {run['task_description'].strip()}" if run.get("task_description") else ".")
    )
    lines.append("")
    splits = data.get("examples") or {}
    if splits:
        lines += [
            markdown_table(
                ["split", "examples", "with gold label"],
                [
                    [name, fmt_num(s.get("n")), fmt_num(s.get("with_gold"))]
                    for name, s in splits.items()
                ],
            ),
            "",
        ]
    training = data.get("training_set")
    if training:
        lines += [
            "Student training set: "
            + ", ".join(f"{k.replace('_', ' ')} {fmt_num(v)}" for k, v in training.items())
            + ".",
            "",
        ]
    annotation = summary.get("annotation")
    if annotation:
        statuses = ", ".join(
            f"{inline_code(k)} {fmt_num(v)}"
            for k, v in (annotation.get("parse_status") or {}).items()
        )
        line = (
            f"Teacher annotations: {fmt_num(annotation.get('n'))} rows"
            + (f" (parse status: {statuses})" if statuses else "")
            + f"; {fmt_pct(annotation.get('explanation_rate'))} carry a rationale"
        )
        if annotation.get("n_with_gold"):
            line += (
                f"; teacher labels match gold on {fmt_pct(annotation.get('accuracy_vs_gold'))}"
                f" of the {fmt_num(annotation.get('n_with_gold'))} annotated rows with a gold "
                "label"
            )
        lines += [line + ".", ""]
    return lines


def annotation_quality_section(summary: Mapping[str, Any]) -> list[str]:
    """How well the teacher's answers were read: parse-status counts and, above the alarm
    share, a warning with its likely cause (teacher gave no reason / parser missed it) and
    three raw answers."""
    quality = (summary.get("annotation") or {}).get("parse_quality") or {}
    if not quality or not quality.get("n"):
        return []
    counts = ", ".join(
        f"{inline_code(k)} {fmt_num(v)}" for k, v in sorted(quality["counts"].items())
    )
    lines = [
        "## Annotation quality",
        "",
        f"{fmt_num(quality['n'])} teacher answers: {counts}. No label: "
        f"{fmt_pct(quality.get('no_label_share'))}; no rationale where one was asked for: "
        f"{fmt_pct(quality.get('no_rationale_share'))} (alarm above "
        f"{fmt_pct(quality.get('alarm_share'))}).",
        "",
    ]
    if quality.get("alarm"):
        cause = str(quality.get("cause", "")).replace("_", " ")
        lines += [f"> **PARSE ALARM**: {cause}. {quality.get('advice', '')}.", ""]
        for i, text in enumerate(quality.get("examples") or [], 1):
            lines += [f"Raw answer {i}:", "", fenced_block(str(text)), ""]
    return lines


def teacher_prompt_section(summary: Mapping[str, Any]) -> list[str]:
    run = summary.get("run") or {}
    prompt = summary.get("prompt")
    lines = [
        "## Teacher and prompt",
        "",
        f"Teacher: backend {inline_code(run.get('teacher_backend', '?'))}, model "
        f"{inline_code(run.get('teacher_model', '?'))}"
        + (" — **simulated (test double)**." if run.get("teacher_simulated") else "."),
        "",
    ]
    if not prompt:
        return lines
    scores = [
        (key, prompt.get(key))
        for key in ("accuracy", "explanation_rate", "score", "step", "n_scored")
        if prompt.get(key) is not None
    ]
    source = prompt.get("source")
    origin = {
        "best_prompt": "chosen by prompt optimization (OPRO)",
        "configured": "configured in `annotation.template`",
        "default": "the task kind's default",
        "few_shot_cot": "a few-shot chain-of-thought baseline",
    }.get(str(source), f"from {source}" if source else "")
    lines += [
        f"The template the teacher annotated with ({origin}"
        + (f", output format {prompt['output_format']}" if prompt.get("output_format") else "")
        + "; the teacher comparison on the test split uses it too):",
        "",
        fenced_block(str(prompt.get("template", "")), "text"),
        "",
    ]
    if scores:
        rows = []
        for key, value in scores:
            shown = fmt_pct(value) if key in ("accuracy", "explanation_rate", "score") else value
            rows.append([key.replace("_", " "), shown])
        lines += [
            markdown_table(["prompt optimization (on its scoring subset)", "value"], rows),
            "",
        ]
    elif source != "best_prompt":
        lines += ["Prompt optimization did not run for these data.", ""]
    lines += [f"Template id: {inline_code(prompt.get('template_id', '?'))}.", ""]
    return lines


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return shorten(value, 120)


def student_section(student: Mapping[str, Any] | None) -> list[str]:
    if not student:
        return []
    rows = [
        [
            key.replace("_", " "),
            _setting(value),
        ]
        for key, value in student.items()
    ]
    return ["## Student", "", markdown_table(["setting", "value"], rows), ""]


def rationales_section(rationales: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rationales:
        return []
    lines = [
        "## Student rationales (`explain: ` prefix)",
        "",
        "A few test examples with the label the student predicts and the rationale it writes,"
        " for inspection (rationales are not scored).",
        "",
    ]
    for row in rationales:
        mark = "✓" if row.get("student_label") == row.get("gold_label") else "✗"
        lines += [
            f"- {inline_code(row.get('id', '?'))}: gold {label_text(row.get('gold_label'))}, "
            f"student "
            f"{label_text(row.get('student_label'))} {mark}",
            f"  - input: {shorten(row.get('input'), 300)}",
            f"  - rationale: {shorten(row.get('rationale'), 400) or '(empty)'}",
        ]
    return [*lines, ""]


def reproduce_section(commands: Sequence[str]) -> list[str]:
    if not commands:
        return []
    return [
        "## Reproduce",
        "",
        fenced_block("\n".join(commands), "bash"),
        "",
        "Every dataset a `kedro run` saves gets the same version (the run's timestamp); the "
        "MLflow run of this report records it as tag `run_id` and the exact command as tag "
        "`kedro_command`. List the versions of a dataset with "
        "`ls data/06_models/student_model/`.",
        "",
    ]
