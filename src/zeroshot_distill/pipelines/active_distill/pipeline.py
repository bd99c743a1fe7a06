"""active_distill: the round loop (one node: rounds carry state), then comparison and report."""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.active_distill.nodes import (
    active_distill_metrics,
    compare_at_equal_spend,
    plot_active_distill_curve,
    render_active_distill_report,
    run_active_distillation,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Run every arm's rounds (resumable), compare at equal spend, plot, log, report."""
    return Pipeline(
        [
            Node(
                run_active_distillation,
                inputs=[
                    "examples",
                    "best_prompt",
                    "active_distill_state",
                    "params:task",
                    "params:teacher",
                    "params:annotation",
                    "params:training",
                    "params:subsampling",
                    "params:active_distill",
                    "params:seed",
                ],
                outputs=[
                    "active_distill_selections",
                    "active_distill_annotations",
                    "active_distill_rounds",
                    "active_distill_student_model",
                ],
                name="run_active_distillation",
            ),
            Node(
                compare_at_equal_spend,
                inputs=["active_distill_rounds", "params:active_distill"],
                outputs="active_distill_comparison",
                name="compare_active_distill_at_equal_spend",
            ),
            Node(
                plot_active_distill_curve,
                inputs="active_distill_rounds",
                outputs="active_distill_curve",
                name="plot_active_distill_curve",
            ),
            Node(
                active_distill_metrics,
                inputs=[
                    "active_distill_rounds",
                    "active_distill_comparison",
                    "params:active_distill",
                ],
                outputs="active_distill_metrics",
                name="log_active_distill_metrics",
            ),
            Node(
                render_active_distill_report,
                inputs=[
                    "active_distill_rounds",
                    "active_distill_selections",
                    "active_distill_annotations",
                    "params:active_distill",
                    "params:teacher",
                ],
                outputs="active_distill_report",
                name="render_active_distill_report",
            ),
        ]
    )
