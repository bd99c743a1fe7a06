"""prompt_optimization: OPRO search for the zero-shot template the annotation stage uses."""

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.prompt_optimization.nodes import (
    optimize_prompt,
    plot_opro_progression,
    select_best_prompt,
    select_scoring_examples,
    summarize_search,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Pick the scoring subset, search, choose the winner, plot and log the progression."""
    return Pipeline(
        [
            Node(
                select_scoring_examples,
                inputs=["examples", "params:task", "params:prompt_optimization", "params:seed"],
                outputs="opro_scoring_examples",
                name="select_scoring_examples",
            ),
            Node(
                optimize_prompt,
                inputs=[
                    "opro_scoring_examples",
                    "params:task",
                    "params:prompt_optimization",
                    "params:teacher",
                    "params:seed",
                ],
                outputs=["opro_history", "opro_search_summary"],
                name="optimize_prompt",
            ),
            Node(
                select_best_prompt,
                inputs=["opro_history", "params:prompt_optimization"],
                outputs="best_prompt",
                name="select_best_prompt",
            ),
            Node(
                plot_opro_progression,
                inputs=["opro_history", "params:prompt_optimization"],
                outputs="opro_progression_plot",
                name="plot_opro_progression",
            ),
            Node(
                summarize_search,
                inputs=["opro_history", "params:prompt_optimization", "opro_search_summary"],
                outputs="opro_metrics",
                name="summarize_prompt_search",
            ),
        ]
    )
