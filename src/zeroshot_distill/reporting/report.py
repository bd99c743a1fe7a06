"""The distillation report: Markdown from an evaluation summary.

The report leads with the answer (student vs teacher accuracy, the break-even count, cost
per 1M predictions, speed), then the details (:mod:`~zeroshot_distill.reporting.sections`).
Plots are referenced by file name in the Markdown (they sit next to it in the MLflow run's
artifact folder) and embedded as ``data:`` URIs in the HTML copy
(:func:`~zeroshot_distill.reporting.markdown.markdown_to_html`), which therefore opens
anywhere on its own: from a versioned folder, the MLflow UI, an e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zeroshot_distill.reporting.markdown import (
    finite_or_none,
    fmt_num,
    fmt_pct,
    fmt_score,
    fmt_usd,
    inline_code,
    markdown_table,
)
from zeroshot_distill.reporting.sections import (
    ReportPlot,
    annotation_quality_section,
    per_class_section,
    plots_section,
    rationales_section,
    reproduce_section,
    student_section,
    task_data_section,
    teacher_prompt_section,
)
from zeroshot_distill.teachers.simulated_notice import REPORT_BANNER as SIMULATED_BANNER
from zeroshot_distill.teachers.simulated_notice import report_title


# ------------------------------------------------------------------------------- the answer
def beat_baselines(summary: Mapping[str, Any]) -> bool | None:
    """Whether the student beat the majority-class baseline (and so chance) on the test
    rows; ``None`` without baselines (numeric tasks)."""
    base = summary.get("baselines")
    if not base or "beats_majority" not in base:
        return None
    return bool(base["beats_majority"])


def verdict(summary: Mapping[str, Any]) -> str:
    """One line: did the student beat the majority-class and chance baselines?"""
    student = summary.get("student") or {}
    base = summary.get("baselines")
    accuracy = fmt_pct(student.get("accuracy"))
    beat = beat_baselines(summary)
    if beat is None:
        return (
            "No majority-class or chance baseline applies to this task (open answers without "
            "a label set, or no gold labels): judge the student by the teacher comparison below."
        )
    assert base is not None  # for the type checker: beat is None without baselines
    baselines = (
        f"majority-class baseline {fmt_pct(base['majority'])} (always "
        f"{inline_code(base['majority_label'])}) and chance {fmt_pct(base['chance'])}"
    )
    margin = 100 * float(base["margin_over_majority"])
    if beat:
        return (
            f"**The student beat the baselines:** {accuracy} test accuracy vs the {baselines}, "
            f"{margin:+.1f} points over the majority class."
        )
    against_chance = "but beat chance" if base.get("beats_chance") else "nor chance"
    return (
        f"**The student did NOT beat the majority-class baseline** ({against_chance}): "
        f"{accuracy} test accuracy vs the {baselines}. It has not learned the task from this "
        "training data; no cost comparison is given for a student that is not useful."
    )


def break_even_line(summary: Mapping[str, Any]) -> str | None:
    """One line for the report's first screen: after how many predictions the student has
    paid for its distillation, or plainly why it never does (``None`` without the figures)."""
    block = summary.get("break_even")
    if not block:
        return None
    teacher_1m = _per_million(block.get("teacher_usd_per_prediction"))
    student_1m = _per_million(block.get("student_usd_per_prediction"))
    if block.get("predictions") is None:
        return (
            f"**No break-even:** {block.get('reason') or 'the student never pays for itself'} "
            f"(teacher {fmt_usd(teacher_1m)} vs student {fmt_usd(student_1m)} per 1M "
            "predictions)."
        )
    minutes = finite_or_none(block.get("training_wall_s"))
    training = f"{minutes / 60:.1f} min of " if minutes is not None else ""
    return (
        f"**Break-even after {fmt_num(block['predictions'])} predictions:** the distillation "
        f"cost {fmt_usd(block.get('investment_usd'))} (teacher "
        f"{fmt_usd(block.get('teacher_usd'))} for prompt optimization and annotation + "
        f"{fmt_usd(block.get('training_usd'))} for {training}training compute), and every "
        f"prediction the student makes instead of the teacher saves "
        f"{fmt_usd(_per_million(block.get('saving_per_prediction')))} per 1M (teacher "
        f"{fmt_usd(teacher_1m)} vs student {fmt_usd(student_1m)})."
    )


def _per_million(value: Any) -> float | None:
    number = finite_or_none(value)
    return None if number is None else number * 1_000_000


def _accuracy_bullets(summary: Mapping[str, Any]) -> list[str]:
    """The student's accuracy, then the teacher's on the compared rows (or why it is absent)."""
    student = summary.get("student") or {}
    teacher = summary.get("teacher")
    paired = summary.get("student_on_teacher_rows")
    agree = summary.get("agreement")
    macro = student.get("macro_f1")
    bullets = [
        f"**Student accuracy {fmt_pct(student.get('accuracy'))}**"
        + (f" (macro-F1 {fmt_score(macro)})" if finite_or_none(macro) is not None else "")
        + f" on {fmt_num(student.get('n'))} test examples; {fmt_num(student.get('n_invalid'))}"
        f" output(s) ({fmt_pct(student.get('invalid_rate'))}) named no label."
    ]
    if teacher:
        agreement = (
            f"student and teacher agree on {fmt_pct(agree.get('rate'))} of the "
            f"{fmt_num(agree.get('n_compared'))} rows where both named a label"
            if agree and agree.get("n_compared")
            else "there is no row where both named a label to compare"
        )
        bullets.append(
            f"**Teacher accuracy {fmt_pct(teacher.get('accuracy'))}** on "
            f"{fmt_num(teacher.get('n'))} of those rows, where the student scores "
            f"{fmt_pct((paired or {}).get('accuracy'))}; {agreement}."
        )
    else:
        bullets.append(
            "Teacher not evaluated on the test split "
            "(`evaluation.teacher_comparison.enabled: false`)."
        )
    return bullets


def _cost_bullet(summary: Mapping[str, Any]) -> str:
    """Teacher vs student cost of 1M predictions, with the prices and tokens behind it."""
    cost = summary.get("cost") or {}
    run = summary.get("run") or {}
    price = cost.get("teacher_price") or {}
    tokens = (
        f"{fmt_num(cost.get('teacher_mean_prompt_tokens'), 0)} prompt + "
        f"{fmt_num(cost.get('teacher_mean_completion_tokens'), 0)} completion tokens per call"
    )
    cost_line = (
        f"**Cost per 1M predictions:** teacher "
        f"{fmt_usd(cost.get('teacher_usd_per_1m_predictions'))} "
        f"({inline_code(cost.get('teacher_model', run.get('teacher_model', '?')))} at "
        f"{fmt_usd(price.get('input_per_1m'))}/{fmt_usd(price.get('output_per_1m'))} per 1M "
        f"input/output tokens, {tokens})"
    )
    reference = _distinct_reference(cost)
    if reference:
        cost_line += (
            f"; at {inline_code(reference.get('model'))} list prices "
            f"{fmt_usd(reference.get('usd_per_1m_predictions'))}"
        )
    return cost_line + (
        f" vs **student {fmt_usd(cost.get('student_usd_per_1m_predictions'))}** "
        f"({fmt_num(cost.get('student_hours_per_1m_predictions'))} h of this machine at "
        f"{fmt_usd(cost.get('student_hourly_usd'))}/h)."
    )


def _speed_and_spend_bullets(summary: Mapping[str, Any]) -> list[str]:
    """The student's speed and the teacher's spend on the data behind this run."""
    cost = summary.get("cost") or {}
    speed = (summary.get("student") or {}).get("speed") or {}
    bullets = [
        f"**Student speed:** {fmt_num(speed.get('examples_per_s'))} examples/s at batch "
        f"{fmt_num(speed.get('batch_size'))}; single-request latency p50 "
        f"{fmt_num(speed.get('latency_p50_ms'))} ms, p95 {fmt_num(speed.get('latency_p95_ms'))}"
        f" ms, on {speed.get('device') or 'this machine'}."
    ]
    stages = cost.get("stages") or {}
    if stages:
        parts = ", ".join(
            f"{name.replace('_', ' ')} {fmt_usd(s.get('usd'))}" for name, s in stages.items()
        )
        bullets.append(
            f"**Teacher spend in the runs that made these data:** "
            f"{fmt_usd(cost.get('teacher_total_usd'))} ({parts})."
        )
    return bullets


def _headline_rows(summary: Mapping[str, Any], *, useful: bool) -> list[list[str]]:
    """Student vs teacher side by side: compared rows, all rows, baselines, cost."""
    student = summary.get("student") or {}
    teacher = summary.get("teacher")
    paired = summary.get("student_on_teacher_rows") or {}
    cost = summary.get("cost") or {}
    rows: list[list[str]] = []
    if teacher:
        rows += [
            [
                f"accuracy on the {fmt_num(teacher.get('n'))} compared rows",
                fmt_pct(paired.get("accuracy")),
                fmt_pct(teacher.get("accuracy")),
            ],
            [
                "macro-F1 on the compared rows",
                fmt_score(paired.get("macro_f1")),
                fmt_score(teacher.get("macro_f1")),
            ],
            [
                "answers that named no label",
                fmt_pct(paired.get("invalid_rate")),
                fmt_pct(teacher.get("invalid_rate")),
            ],
        ]
    rows.append(
        [
            f"accuracy on all {fmt_num(student.get('n'))} test rows",
            fmt_pct(student.get("accuracy")),
            "",
        ]
    )
    base = summary.get("baselines")
    if base:
        rows.append(
            [
                f"majority-class baseline (always {base['majority_label']}) / chance",
                f"{fmt_pct(base['majority'])} / {fmt_pct(base['chance'])}",
                "",
            ]
        )
    if useful:
        rows.append(
            [
                "USD per 1M predictions",
                fmt_usd(cost.get("student_usd_per_1m_predictions")),
                fmt_usd(cost.get("teacher_usd_per_1m_predictions")),
            ]
        )
    return rows


def _headline(summary: Mapping[str, Any]) -> list[str]:
    """The answer: accuracy, cost (only for a student that beat its baselines), speed and
    spend as bullets, then the student-vs-teacher table."""
    useful = beat_baselines(summary) is not False
    bullets = _accuracy_bullets(summary)
    if useful:
        bullets.append(_cost_bullet(summary))
    bullets += _speed_and_spend_bullets(summary)
    rows = _headline_rows(summary, useful=useful)
    return [*(f"- {b}" for b in bullets), "", markdown_table(["", "student", "teacher"], rows)]


def _distinct_reference(cost: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The reference price block, unless it is the configured price anyway."""
    reference = cost.get("reference")
    price = cost.get("teacher_price") or {}
    if not reference:
        return None
    same = reference.get("input_per_1m") == price.get("input_per_1m") and reference.get(
        "output_per_1m"
    ) == price.get("output_per_1m")
    return None if same else reference


def _spend_per_stage(cost: Mapping[str, Any]) -> list[str]:
    """Teacher calls, tokens, USD and cache savings per stage (nothing without stages)."""
    stages = cost.get("stages") or {}
    if not stages:
        return []
    rows = [
        [
            name.replace("_", " "),
            fmt_num(s.get("calls")),
            fmt_num(s.get("cached_calls")),
            fmt_num(s.get("prompt_tokens")),
            fmt_num(s.get("completion_tokens")),
            fmt_usd(s.get("usd")),
            fmt_usd(s.get("saved_usd")),
        ]
        for name, s in stages.items()
    ]
    saved = sum(finite_or_none(s.get("saved_usd")) or 0.0 for s in stages.values())
    rows.append(
        ["**total**", "", "", "", "", fmt_usd(cost.get("teacher_total_usd")), fmt_usd(saved)]
    )
    header = [
        "stage",
        "calls",
        "cached",
        "prompt tokens",
        "completion tokens",
        "USD",
        "saved by cache",
    ]
    return [
        "Teacher spend per stage: USD paid for calls in the runs that made these data; "
        "calls answered from the response cache cost nothing then (the last column is "
        "what they cost when first paid for):",
        "",
        markdown_table(header, rows),
        "",
    ]


def _projection_rows(cost: Mapping[str, Any], speed: Mapping[str, Any]) -> list[list[str]]:
    """Who pays what for 1M predictions: the teacher at its price (and at the reference
    list price where that differs) and the student on this machine."""
    price = cost.get("teacher_price") or {}
    projection = [
        [
            f"teacher {inline_code(cost.get('teacher_model', '?'))} (configured price)",
            f"{fmt_num(cost.get('teacher_mean_prompt_tokens'), 0)} + "
            f"{fmt_num(cost.get('teacher_mean_completion_tokens'), 0)} tokens/call at "
            f"{fmt_usd(price.get('input_per_1m'))} / {fmt_usd(price.get('output_per_1m'))} "
            "per 1M tokens",
            fmt_usd(cost.get("teacher_usd_per_1m_predictions")),
        ]
    ]
    reference = _distinct_reference(cost)
    if reference:
        projection.append(
            [
                f"teacher tokens at {inline_code(reference.get('model'))} list price",
                f"{fmt_usd(reference.get('input_per_1m'))} / "
                f"{fmt_usd(reference.get('output_per_1m'))} per 1M tokens",
                fmt_usd(reference.get("usd_per_1m_predictions")),
            ]
        )
    projection.append(
        [
            "student (this machine)",
            f"{fmt_num(speed.get('examples_per_s'))} examples/s → "
            f"{fmt_num(cost.get('student_hours_per_1m_predictions'))} h at "
            f"{fmt_usd(cost.get('student_hourly_usd'))}/h",
            fmt_usd(cost.get("student_usd_per_1m_predictions")),
        ]
    )
    return projection


def _speed_table(speed: Mapping[str, Any]) -> str:
    """The student's timing: rows timed, batch size, throughput, latency, device."""
    return markdown_table(
        ["student speed", "value"],
        [
            ["test examples timed", fmt_num(speed.get("n_examples"))],
            ["batch size", fmt_num(speed.get("batch_size"))],
            ["throughput", f"{fmt_num(speed.get('examples_per_s'))} examples/s"],
            [
                f"latency p50 / p95 ({fmt_num(speed.get('latency_n'))} single requests)",
                f"{fmt_num(speed.get('latency_p50_ms'))} / "
                f"{fmt_num(speed.get('latency_p95_ms'))} ms",
            ],
            ["device", speed.get("device") or "n/a"],
        ],
    )


def _cost_speed(summary: Mapping[str, Any]) -> list[str]:
    """The cost and speed section: spend per stage, the 1M-prediction projection, timing."""
    cost = summary.get("cost") or {}
    speed = (summary.get("student") or {}).get("speed") or {}
    return [
        "## Cost and speed",
        "",
        *_spend_per_stage(cost),
        "Projected cost of 1M predictions:",
        "",
        markdown_table(["who", "basis", "USD per 1M"], _projection_rows(cost, speed)),
        "",
        f"The student figure assumes {cost.get('student_assumption', 'n/a')}. The teacher "
        "figure is the mean tokens of the annotation calls (the same zero-shot prompt a "
        "deployment would send) at the price table's rate; it ignores caching, batch "
        "discounts and retries.",
        "",
        *_break_even_paragraph(summary),
        _speed_table(speed),
        "",
    ]


def _break_even_paragraph(summary: Mapping[str, Any]) -> list[str]:
    """The break-even line again with how it is computed (nothing without the figures)."""
    line = break_even_line(summary)
    if not line:
        return []
    return [
        line,
        "",
        "Break-even = (teacher spend of prompt optimization and annotation, cached answers at "
        "what they first cost + training wall time × `evaluation.cost.student_hourly_usd`) / "
        "(teacher − student cost per prediction); the evaluation's teacher comparison is not "
        "counted.",
        "",
    ]


# ----------------------------------------------------------------------------------- public
def render_markdown_report(
    summary: Mapping[str, Any],
    *,
    plots: Sequence[ReportPlot] = (),
    rationales: Sequence[Mapping[str, Any]] = (),
    student: Mapping[str, Any] | None = None,
    reproduce: Sequence[str] = (),
    generated_at: str | None = None,
    html_name: str | None = "report.html",
) -> str:
    """The report as Markdown (see :mod:`zeroshot_distill.reporting.summary` for ``summary``).

    ``plots`` are linked by file name; ``rationales`` are rows with ``id, input, gold_label,
    student_label, rationale``; ``student`` is a flat settings table; ``reproduce`` lists
    shell commands; ``html_name`` names the self-contained HTML copy in the intro.
    """
    run = summary.get("run") or {}
    simulated = bool(run.get("teacher_simulated"))
    title = f"# Distillation report: {run.get('task', 'task')}"
    beat = beat_baselines(summary)
    if beat is not None:
        title += (
            " — student beat the baselines" if beat else " — student did NOT beat the baselines"
        )
    title = report_title(title, simulated)
    intro = (
        "Student vs teacher on the held-out test split. Teacher "
        f"{inline_code(run.get('teacher_backend', '?'))} / "
        f"{inline_code(run.get('teacher_model', '?'))}"
    )
    if generated_at:
        intro += f"; generated {generated_at}"
    intro += "."
    if html_name:
        intro += f" A self-contained copy with the plots embedded: `{html_name}`."
    lines = [title, "", verdict(summary), ""]
    paid_off = break_even_line(summary)
    if paid_off:
        lines += [paid_off, ""]
    if simulated:
        lines += [f"> {SIMULATED_BANNER}", ""]
    lines += [intro, "", "## The answer", "", *_headline(summary), ""]
    lines += plots_section(plots) if plots else []
    lines += per_class_section(summary)
    lines += _cost_speed(summary)
    lines += task_data_section(summary)
    lines += annotation_quality_section(summary)
    lines += teacher_prompt_section(summary)
    lines += student_section(student)
    lines += rationales_section(rationales)
    lines += reproduce_section(reproduce)
    if simulated:
        lines += [f"> {SIMULATED_BANNER}", ""]
    return "\n".join(lines).rstrip() + "\n"
