"""The evaluation report: Markdown from an evaluation summary, and a self-contained HTML copy.

The report leads with the answer (student vs teacher accuracy, cost per 1M predictions,
speed), then the details. Plots are referenced by file name in the Markdown (they sit next
to it in the MLflow run's artifact folder) and embedded as ``data:`` URIs in the HTML, which
therefore opens anywhere on its own: from a versioned folder, the MLflow UI, an e-mail.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from zeroshot_distill.reporting.metrics import INVALID
from zeroshot_distill.reporting.plots import png_data_uri

SIMULATED_BANNER = (
    "⚠️ **SIMULATED TEACHER.** Every teacher figure in this report (teacher accuracy, "
    "agreement, annotation labels and rationales, prompt scores, token counts and USD) comes "
    "from a test double (backend `simulated`) that answers from the bundled reference labels "
    "and rationales. It says nothing about a real LLM; the student was trained on its output. "
    "Run with `--env openai` or `--env local_llm` for a real teacher."
)


@dataclass(frozen=True)
class ReportPlot:
    """A plot the report shows: its file name next to the report, a title and a caption."""

    file_name: str
    title: str
    caption: str = ""


# ------------------------------------------------------------------------------ formatting
def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def fmt_pct(value: Any, digits: int = 1) -> str:
    """``0.7234`` -> ``72.3%``; missing -> ``n/a``."""
    number = _finite(value)
    return "n/a" if number is None else f"{100 * number:.{digits}f}%"


def fmt_usd(value: Any) -> str:
    """Dollars with as many decimals as small amounts need; missing -> ``n/a``."""
    number = _finite(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "$0"
    if abs(number) < 0.01:
        return f"${number:.4f}"
    if abs(number) < 1000:
        return f"${number:,.2f}"
    return f"${number:,.0f}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """A count or measurement with thousands separators (whole numbers without decimals);
    missing -> ``n/a``."""
    number = _finite(value)
    if number is None:
        return "n/a"
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def fmt_score(value: Any) -> str:
    """A score in [0, 1] (F1, precision) with three decimals; missing -> ``n/a``."""
    number = _finite(value)
    return "n/a" if number is None else f"{number:.3f}"


def _label(value: Any) -> str:
    return "(no label)" if value is None else _code(value)


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _code(value: Any) -> str:
    """Inline code that survives backticks in the value."""
    text = " ".join(str(value).split())
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _fenced(text: str, info: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _shorten(text: Any, limit: int) -> str:
    flat = " ".join(("" if text is None else str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------------- sections
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
        f"{_code(base['majority_label'])}) and chance {fmt_pct(base['chance'])}"
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


def _headline(summary: Mapping[str, Any]) -> list[str]:
    student = summary.get("student") or {}
    teacher = summary.get("teacher")
    paired = summary.get("student_on_teacher_rows")
    agree = summary.get("agreement")
    cost = summary.get("cost") or {}
    speed = student.get("speed") or {}
    run = summary.get("run") or {}
    bullets = []
    macro = student.get("macro_f1")
    bullets.append(
        f"**Student accuracy {fmt_pct(student.get('accuracy'))}**"
        + (f" (macro-F1 {fmt_score(macro)})" if _finite(macro) is not None else "")
        + f" on {fmt_num(student.get('n'))} test examples; {fmt_num(student.get('n_invalid'))}"
        f" output(s) ({fmt_pct(student.get('invalid_rate'))}) named no label."
    )
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
    teacher_1m = cost.get("teacher_usd_per_1m_predictions")
    price = cost.get("teacher_price") or {}
    tokens = (
        f"{fmt_num(cost.get('teacher_mean_prompt_tokens'), 0)} prompt + "
        f"{fmt_num(cost.get('teacher_mean_completion_tokens'), 0)} completion tokens per call"
    )
    cost_line = (
        f"**Cost per 1M predictions:** teacher {fmt_usd(teacher_1m)} "
        f"({_code(cost.get('teacher_model', run.get('teacher_model', '?')))} at "
        f"{fmt_usd(price.get('input_per_1m'))}/{fmt_usd(price.get('output_per_1m'))} per 1M "
        f"input/output tokens, {tokens})"
    )
    reference = _distinct_reference(cost)
    if reference:
        cost_line += (
            f"; at {_code(reference.get('model'))} list prices "
            f"{fmt_usd(reference.get('usd_per_1m_predictions'))}"
        )
    cost_line += (
        f" vs **student {fmt_usd(cost.get('student_usd_per_1m_predictions'))}** "
        f"({fmt_num(cost.get('student_hours_per_1m_predictions'))} h of this machine at "
        f"{fmt_usd(cost.get('student_hourly_usd'))}/h)."
    )
    useful = beat_baselines(summary) is not False
    if useful:
        bullets.append(cost_line)
    bullets.append(
        f"**Student speed:** {fmt_num(speed.get('examples_per_s'))} examples/s at batch "
        f"{fmt_num(speed.get('batch_size'))}; single-request latency p50 "
        f"{fmt_num(speed.get('latency_p50_ms'))} ms, p95 {fmt_num(speed.get('latency_p95_ms'))}"
        f" ms, on {speed.get('device') or 'this machine'}."
    )
    stages = cost.get("stages") or {}
    if stages:
        parts = ", ".join(
            f"{name.replace('_', ' ')} {fmt_usd(s.get('usd'))}" for name, s in stages.items()
        )
        bullets.append(
            f"**Teacher spend in the runs that made these data:** "
            f"{fmt_usd(cost.get('teacher_total_usd'))} ({parts})."
        )
    lines = [f"- {b}" for b in bullets]

    rows: list[list[str]] = []
    if teacher:
        rows.append(
            [
                f"accuracy on the {fmt_num(teacher.get('n'))} compared rows",
                fmt_pct((paired or {}).get("accuracy")),
                fmt_pct(teacher.get("accuracy")),
            ]
        )
        rows.append(
            [
                "macro-F1 on the compared rows",
                fmt_score((paired or {}).get("macro_f1")),
                fmt_score(teacher.get("macro_f1")),
            ]
        )
        rows.append(
            [
                "answers that named no label",
                fmt_pct((paired or {}).get("invalid_rate")),
                fmt_pct(teacher.get("invalid_rate")),
            ]
        )
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
                fmt_usd(teacher_1m),
            ]
        )
    return [*lines, "", _table(["", "student", "teacher"], rows)]


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


def _plots(plots: Sequence[ReportPlot]) -> list[str]:
    lines = ["## Plots", ""]
    for plot in plots:
        lines += [f"### {plot.title}", "", f"![{plot.title}]({plot.file_name})", ""]
        if plot.caption:
            lines += [plot.caption, ""]
    return lines


def _per_class(summary: Mapping[str, Any]) -> list[str]:
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
            _code(label),
            fmt_score(m.get("precision")),
            fmt_score(m.get("recall")),
            fmt_score(m.get("f1")),
            fmt_num(m.get("support")),
        ]
        if teacher_pc:
            row.append(fmt_score((teacher_pc.get(label) or {}).get("f1")))
        rows.append(row)
    lines = ["## Per-class results (student, test split)", "", _table(header, rows), ""]
    confusion = student.get("confusion_matrix")
    if confusion:
        columns = list(confusion["predicted_labels"])
        matrix_rows = [
            [_code(label), *[fmt_num(v) for v in counts]]
            for label, counts in zip(confusion["labels"], confusion["matrix"], strict=True)
        ]
        lines += [
            "Confusion matrix (rows gold, columns the student's label; "
            f"{_code(INVALID)} = output that named no label):",
            "",
            _table(["gold \\ predicted", *columns], matrix_rows),
            "",
        ]
    return lines


def _cost_speed(summary: Mapping[str, Any]) -> list[str]:
    cost = summary.get("cost") or {}
    speed = (summary.get("student") or {}).get("speed") or {}
    lines = ["## Cost and speed", ""]
    stages = cost.get("stages") or {}
    if stages:
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
        saved = sum(_finite(s.get("saved_usd")) or 0.0 for s in stages.values())
        rows.append(
            ["**total**", "", "", "", "", fmt_usd(cost.get("teacher_total_usd")), fmt_usd(saved)]
        )
        lines += [
            "Teacher spend per stage: USD paid for calls in the runs that made these data; "
            "calls answered from the response cache cost nothing then (the last column is "
            "what they cost when first paid for):",
            "",
            _table(
                [
                    "stage",
                    "calls",
                    "cached",
                    "prompt tokens",
                    "completion tokens",
                    "USD",
                    "saved by cache",
                ],
                rows,
            ),
            "",
        ]
    price = cost.get("teacher_price") or {}
    projection = [
        [
            f"teacher {_code(cost.get('teacher_model', '?'))} (configured price)",
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
                f"teacher tokens at {_code(reference.get('model'))} list price",
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
    lines += [
        "Projected cost of 1M predictions:",
        "",
        _table(["who", "basis", "USD per 1M"], projection),
        "",
        f"The student figure assumes {cost.get('student_assumption', 'n/a')}. The teacher "
        "figure is the mean tokens of the annotation calls (the same zero-shot prompt a "
        "deployment would send) at the price table's rate; it ignores caching, batch "
        "discounts and retries.",
        "",
        _table(
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
        ),
        "",
    ]
    return lines


def _task_data(summary: Mapping[str, Any]) -> list[str]:
    run = summary.get("run") or {}
    data = summary.get("data") or {}
    lines = ["## Task and data", ""]
    labels = run.get("labels")
    lines.append(
        f"Task {_code(run.get('task', '?'))} ({run.get('task_kind', '?')}"
        + (f"; labels {', '.join(_code(x) for x in labels)}" if labels else "")
        + ")"
        + (f": {run['task_description'].strip()}" if run.get("task_description") else ".")
    )
    lines.append("")
    splits = data.get("examples") or {}
    if splits:
        lines += [
            _table(
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
            f"{_code(k)} {fmt_num(v)}" for k, v in (annotation.get("parse_status") or {}).items()
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
    counts = ", ".join(f"{_code(k)} {fmt_num(v)}" for k, v in sorted(quality["counts"].items()))
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
            lines += [f"Raw answer {i}:", "", _fenced(str(text)), ""]
    return lines


def _teacher_prompt(summary: Mapping[str, Any]) -> list[str]:
    run = summary.get("run") or {}
    prompt = summary.get("prompt")
    lines = [
        "## Teacher and prompt",
        "",
        f"Teacher: backend {_code(run.get('teacher_backend', '?'))}, model "
        f"{_code(run.get('teacher_model', '?'))}"
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
        _fenced(str(prompt.get("template", "")), "text"),
        "",
    ]
    if scores:
        rows = []
        for key, value in scores:
            shown = fmt_pct(value) if key in ("accuracy", "explanation_rate", "score") else value
            rows.append([key.replace("_", " "), shown])
        lines += [
            _table(["prompt optimization (on its scoring subset)", "value"], rows),
            "",
        ]
    elif source != "best_prompt":
        lines += ["Prompt optimization did not run for these data.", ""]
    lines += [f"Template id: {_code(prompt.get('template_id', '?'))}.", ""]
    return lines


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _shorten(value, 120)


def _student(student: Mapping[str, Any] | None) -> list[str]:
    if not student:
        return []
    rows = [
        [
            key.replace("_", " "),
            _setting(value),
        ]
        for key, value in student.items()
    ]
    return ["## Student", "", _table(["setting", "value"], rows), ""]


def _rationales(rationales: Sequence[Mapping[str, Any]]) -> list[str]:
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
            f"- {_code(row.get('id', '?'))}: gold {_label(row.get('gold_label'))}, student "
            f"{_label(row.get('student_label'))} {mark}",
            f"  - input: {_shorten(row.get('input'), 300)}",
            f"  - rationale: {_shorten(row.get('rationale'), 400) or '(empty)'}",
        ]
    return [*lines, ""]


def _reproduce(commands: Sequence[str]) -> list[str]:
    if not commands:
        return []
    return [
        "## Reproduce",
        "",
        _fenced("\n".join(commands), "bash"),
        "",
        "Every dataset a `kedro run` saves gets the same version (the run's timestamp); the "
        "MLflow run of this report records it as tag `run_id` and the exact command as tag "
        "`kedro_command`. List the versions of a dataset with "
        "`ls data/06_models/student_model/`.",
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
    if simulated:
        title += " (SIMULATED TEACHER)"
    intro = (
        "Student vs teacher on the held-out test split. Teacher "
        f"{_code(run.get('teacher_backend', '?'))} / {_code(run.get('teacher_model', '?'))}"
    )
    if generated_at:
        intro += f"; generated {generated_at}"
    intro += "."
    if html_name:
        intro += f" A self-contained copy with the plots embedded: `{html_name}`."
    lines = [title, "", verdict(summary), ""]
    if simulated:
        lines += [f"> {SIMULATED_BANNER}", ""]
    lines += [intro, "", "## The answer", "", *_headline(summary), ""]
    lines += _plots(plots) if plots else []
    lines += _per_class(summary)
    lines += _cost_speed(summary)
    lines += _task_data(summary)
    lines += annotation_quality_section(summary)
    lines += _teacher_prompt(summary)
    lines += _student(student)
    lines += _rationales(rationales)
    lines += _reproduce(reproduce)
    if simulated:
        lines += [f"> {SIMULATED_BANNER}", ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; }
blockquote { border: 3px solid #cf222e; background: #ffebe9; margin: 1em 0; padding: 0.2em 1em;
             font-size: 1.1em; }
"""


def markdown_to_html(markdown: str, images: Mapping[str, bytes], *, title: str) -> str:
    """A self-contained HTML page from the Markdown report.

    Raw HTML in the Markdown is escaped (templates and rationales are model output); image
    links whose target is a key of ``images`` get that PNG as a ``data:`` URI.
    """
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(markdown)
    for token in tokens:
        for child in token.children or []:
            if child.type == "image" and child.attrGet("src") in images:
                child.attrSet("src", png_data_uri(images[str(child.attrGet("src"))]))
    body = parser.renderer.render(tokens, parser.options, {})
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )
