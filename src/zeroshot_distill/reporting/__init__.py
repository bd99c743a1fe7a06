"""Reusable reporting: metrics, speed, cost, plots and the Markdown/HTML report.

Pure functions without Kedro, shared by the evaluation pipeline, the experiments sweep and
active distillation.
"""

from zeroshot_distill.reporting.cost import (
    StageSpend,
    call_log_spend,
    hours_per_million,
    mean_tokens_per_call,
    opro_spend,
    student_usd_per_million,
    teacher_spend_by_stage,
    total_spend,
    usd_per_million_calls,
)
from zeroshot_distill.reporting.markdown import (
    fmt_num,
    fmt_pct,
    fmt_score,
    fmt_usd,
    markdown_table,
    markdown_to_html,
)
from zeroshot_distill.reporting.metrics import (
    INVALID,
    Agreement,
    agreement,
    baselines,
    classification_metrics,
    count_invalid,
    invalid_rate,
)
from zeroshot_distill.reporting.plain import plain, plain_records
from zeroshot_distill.reporting.plots import (
    figure_png,
    plot_accuracy_comparison,
    plot_confusion_matrix,
    plot_metric_vs,
    plot_training_curve,
    png_data_uri,
)
from zeroshot_distill.reporting.report import SIMULATED_BANNER, render_markdown_report
from zeroshot_distill.reporting.sections import ReportPlot
from zeroshot_distill.reporting.speed import (
    SpeedStats,
    device_name,
    speed_stats,
    timed_batches,
    timed_reading,
)
from zeroshot_distill.reporting.summary import (
    annotation_summary,
    cost_summary,
    headline_metrics,
    prediction_metrics,
)

__all__ = [
    "INVALID",
    "SIMULATED_BANNER",
    "Agreement",
    "ReportPlot",
    "SpeedStats",
    "StageSpend",
    "agreement",
    "annotation_summary",
    "baselines",
    "call_log_spend",
    "classification_metrics",
    "cost_summary",
    "count_invalid",
    "device_name",
    "figure_png",
    "fmt_num",
    "fmt_pct",
    "fmt_score",
    "fmt_usd",
    "headline_metrics",
    "hours_per_million",
    "invalid_rate",
    "markdown_table",
    "markdown_to_html",
    "mean_tokens_per_call",
    "opro_spend",
    "plain",
    "plain_records",
    "plot_accuracy_comparison",
    "plot_confusion_matrix",
    "plot_metric_vs",
    "plot_training_curve",
    "png_data_uri",
    "prediction_metrics",
    "render_markdown_report",
    "speed_stats",
    "student_usd_per_million",
    "teacher_spend_by_stage",
    "timed_batches",
    "timed_reading",
    "total_spend",
    "usd_per_million_calls",
]
