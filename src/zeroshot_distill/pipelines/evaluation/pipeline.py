"""evaluation: the student on the test split next to the teacher; metrics, plots, report."""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.evaluation.nodes import (
    ask_teacher_on_test,
    combine_predictions,
    complete_model_card,
    compute_metrics,
    explain_examples,
    metrics_for_mlflow,
    plot_evaluation,
    predict_test_split,
    render_report,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Predict and time the student, ask the teacher on the same rows, score, plot, report."""
    return Pipeline([*_prediction_nodes(), *_report_nodes()])


def _prediction_nodes() -> list[Node]:
    """The student and the teacher on the test rows, side by side, and a few rationales."""
    return [
        Node(
            predict_test_split,
            inputs=["student_model", "examples", "params:task", "params:evaluation"],
            outputs=["student_test_predictions", "student_profile"],
            name="predict_test_split",
        ),
        Node(
            ask_teacher_on_test,
            inputs=[
                "examples",
                "params:task",
                "params:teacher",
                "params:annotation",
                "annotation_prompt",
                "params:evaluation",
            ],
            outputs="teacher_test_annotations",
            name="ask_teacher_on_test",
        ),
        Node(
            combine_predictions,
            inputs=["student_test_predictions", "teacher_test_annotations"],
            outputs="predictions",
            name="combine_predictions",
        ),
        Node(
            explain_examples,
            inputs=[
                "student_model",
                "predictions",
                "examples",
                "params:task",
                "params:evaluation",
            ],
            outputs="student_rationales",
            name="explain_examples",
        ),
    ]


def _report_nodes() -> list[Node]:
    """Metrics (to MLflow as well), plots and the report from the predictions."""
    return [
        Node(
            compute_metrics,
            inputs=[
                "predictions",
                "student_profile",
                "teacher_test_annotations",
                "examples",
                "annotations",
                "annotation_prompt",
                "opro_history",
                "best_prompt",
                "params:task",
                "params:teacher",
                "params:evaluation",
            ],
            outputs="metrics",
            name="compute_evaluation_metrics",
        ),
        Node(
            metrics_for_mlflow,
            inputs="metrics",
            outputs="evaluation_metrics",
            name="log_evaluation_metrics",
        ),
        Node(
            plot_evaluation,
            inputs=[
                "metrics",
                "training_history",
                "opro_history",
                "best_prompt",
                "annotation_prompt",
            ],
            outputs=[
                "confusion_matrix_plot",
                "training_curve_plot",
                "accuracy_comparison_plot",
                "break_even_plot",
                "evaluation_plot_images",
            ],
            name="plot_evaluation",
        ),
        Node(
            complete_model_card,
            inputs=["metrics", "params:task", "params:evaluation"],
            outputs="student_model_card",
            name="complete_model_card",
        ),
        Node(
            render_report,
            inputs=["metrics", "evaluation_plot_images", "student_rationales"],
            outputs=["report", "report_html"],
            name="render_report",
        ),
    ]
