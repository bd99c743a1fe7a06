"""annotation: template -> plan -> (dry-run estimate) -> teacher answers -> metrics.

Dry run (no teacher call): ``kedro run --pipelines annotation --to-nodes
annotation.estimate_annotation_cost`` (the registry puts each stage's nodes in a namespace).
"""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.annotation.nodes import (
    annotate_and_keep_in_memory,
    estimate_annotation_cost,
    plan_annotation,
    select_template,
    summarize_annotations,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Pick and validate the template, plan the rows, estimate, annotate, report."""
    return Pipeline(
        [
            Node(
                select_template,
                inputs=[
                    "examples",
                    "params:task",
                    "params:annotation",
                    "best_prompt",
                    "params:seed",
                ],
                outputs="annotation_prompt",
                name="select_annotation_template",
            ),
            Node(
                plan_annotation,
                inputs=[
                    "examples",
                    "params:task",
                    "params:annotation",
                    "annotation_prompt",
                    "params:seed",
                ],
                outputs="annotation_plan",
                name="plan_annotation",
            ),
            Node(
                estimate_annotation_cost,
                inputs=[
                    "annotation_plan",
                    "examples",
                    "params:task",
                    "params:teacher",
                    "params:annotation",
                ],
                outputs="annotation_cost_estimate",
                name="estimate_annotation_cost",
            ),
            Node(
                annotate_and_keep_in_memory,
                inputs=[
                    "annotation_plan",
                    "examples",
                    "params:task",
                    "params:teacher",
                    "params:annotation",
                    "annotation_prompt",
                    "annotation_cost_estimate",
                ],
                # The summary reads this run's table from memory: loading `annotations`
                # back would read the latest version on disk, maybe a concurrent run's.
                outputs=["annotations", "annotation_run_stats", "annotations_of_this_run"],
                name="annotate_examples",
            ),
            Node(
                summarize_annotations,
                inputs=["annotations_of_this_run", "examples", "annotation_run_stats"],
                outputs="annotation_metrics",
                name="summarize_annotations",
            ),
        ]
    )
