"""Plots render to PNG; the report leads with the answer and names a simulated teacher."""

from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from zeroshot_distill.reporting import (
    SIMULATED_BANNER,
    ReportPlot,
    classification_metrics,
    figure_png,
    markdown_to_html,
    plot_accuracy_comparison,
    plot_confusion_matrix,
    plot_metric_vs,
    plot_training_curve,
    render_markdown_report,
)

PNG_MAGIC = b"\x89PNG"


def test_plots_render() -> None:
    m = classification_metrics(["a", "b", "b"], ["a", None, "b"], ["a", "b"])
    cm = m["confusion_matrix"]
    history = pd.DataFrame(
        {
            "step": [1, 2, 2, 3, 4, 4],
            "label_loss": [2.0, 1.5, None, 1.0, 0.8, None],
            "rationale_loss": [3.0, 2.5, None, 2.0, 1.9, None],
            "valid_accuracy": [None, None, 0.4, None, None, 0.6],
        }
    )
    sweep = pd.DataFrame(
        {
            "explanation_rate": [0.0, 0.5, 1.0, 0.0, 0.5, 1.0],
            "train_fraction": [0.5, 0.5, 0.5, 1.0, 1.0, 1.0],
            "accuracy": [0.5, 0.6, 0.62, 0.6, 0.7, 0.71],
        }
    )
    figures = [
        plot_confusion_matrix(cm["matrix"], cm["labels"], cm["predicted_labels"]),
        plot_training_curve(history, best_step=4),
        plot_training_curve(pd.DataFrame()),
        plot_accuracy_comparison({"student": 0.7, "teacher": float("nan")}, simulated=True),
        plot_metric_vs(
            sweep, "explanation_rate", "accuracy", "train_fraction", references={"teacher": 0.8}
        ),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        assert figure_png(fig).startswith(PNG_MAGIC)
    # Both losses and the accuracy line are drawn (accuracy on a twin axis).
    curve = figures[1]
    assert len(curve.axes[0].lines) == 3 and len(curve.axes[1].lines) == 1


def test_confusion_matrix_title_clears_the_colour_bar() -> None:
    """The report's long title is drawn whole, above the colour bar, inside the figure."""
    title = "Student on the test split (n=180, accuracy 78.3%)"
    fig = plot_confusion_matrix(
        [[80, 13, 0], [26, 61, 0]],
        ["positive", "negative"],
        ["positive", "negative", "(invalid)"],
        title=title,
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # lays the figure out
    renderer = canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_text() == title]
    assert len(texts) == 1
    box = texts[0].get_window_extent(renderer)
    colour_bar = fig.axes[1].get_window_extent(renderer)
    assert box.y0 >= colour_bar.y1 or box.x1 <= colour_bar.x0, "title overlaps the colour bar"
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, "title cut at the figure's edge"


def _summary(simulated: bool) -> dict:
    student = classification_metrics(["a", "b", "b", "a"], ["a", "b", None, "b"], ["a", "b"])
    student["speed"] = {"examples_per_s": 120.0, "batch_size": 32, "latency_p50_ms": 8.0}
    return {
        "run": {
            "task": "nli",
            "task_kind": "classification",
            "labels": ["a", "b"],
            "teacher_backend": "simulated" if simulated else "openai",
            "teacher_model": "gpt-4o-mini",
            "teacher_simulated": simulated,
        },
        "student": student,
        "teacher": classification_metrics(["a", "b"], ["a", "b"], ["a", "b"]),
        "student_on_teacher_rows": classification_metrics(["a", "b"], ["a", "b"], ["a", "b"]),
        "agreement": {"rate": 1.0, "n_compared": 2},
        "cost": {
            "teacher_usd_per_1m_predictions": 31.5,
            "student_usd_per_1m_predictions": 0.23,
            "stages": {"annotation": {"usd": 0.5, "calls": 10}},
            "teacher_total_usd": 0.5,
        },
        "prompt": {"template": "Premise: {premise} | Hypothesis: {hypothesis}", "score": 0.9},
    }


def test_report_leads_with_the_answer_and_embeds_plots() -> None:
    md = render_markdown_report(
        _summary(simulated=False),
        plots=[ReportPlot("confusion_matrix.png", "Confusion matrix")],
        rationales=[{"id": "x1", "gold_label": "a", "student_label": "a", "rationale": "r"}],
        reproduce=["kedro run --pipelines distill"],
    )
    assert "SIMULATED" not in md
    answer = md.index("## The answer")
    assert answer < md.index("Student accuracy 50.0%") < md.index("## Plots")
    assert "Teacher accuracy 100.0%" in md and "$31.50" in md
    assert "![Confusion matrix](confusion_matrix.png)" in md
    # The template's pipe is inside a code block, not breaking a table.
    assert "Premise: {premise} | Hypothesis" in md
    page = markdown_to_html(md, {"confusion_matrix.png": PNG_MAGIC + b"..."}, title="r")
    assert 'src="data:image/png;base64,' in page and "confusion_matrix.png" not in page
    assert "<table>" in page


def test_report_names_a_simulated_teacher_loudly() -> None:
    md = render_markdown_report(_summary(simulated=True))
    assert md.splitlines()[0].endswith("(SIMULATED TEACHER)")
    assert md.count(SIMULATED_BANNER) == 2  # top and bottom
    page = markdown_to_html(md, {}, title="r")
    assert "SIMULATED TEACHER" in page and "<blockquote>" in page


def test_annotation_quality_section_raises_the_alarm_with_raw_answers() -> None:
    from zeroshot_distill.reporting.summary import annotation_summary

    annotations = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(10)],
            "teacher_label": ["neutral"] * 10,
            "rationale": [None] * 8 + ["a reason here"] * 2,
            "raw_response": [f"long answer {i} " + "word " * 20 for i in range(10)],
            "parse_status": ["rationale_missed"] * 8 + ["ok"] * 2,
            "prompt_kind": ["full"] * 10,
        }
    )
    summary = _summary(simulated=False)
    summary["annotation"] = annotation_summary(annotations)
    md = render_markdown_report(summary)
    section = md.split("## Annotation quality", 1)[1]
    assert "PARSE ALARM" in section and "parser missed rationale" in section
    assert section.count("Raw answer ") == 3 and "long answer 0" in section
    clean = annotations.assign(parse_status="ok", rationale="a reason here")
    summary["annotation"] = annotation_summary(clean)
    md = render_markdown_report(summary)
    assert "## Annotation quality" in md and "PARSE ALARM" not in md
