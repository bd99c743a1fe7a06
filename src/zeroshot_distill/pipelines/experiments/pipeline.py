"""experiments: the papers' sweeps over explanation rate and training-set size.

Every variant shares one annotation (the ``label_pool`` built from ``annotations``) and
trains its own student in a Kedro namespace ``experiments.<variant>``; its datasets and
MLflow metrics carry that prefix, e.g. ``experiments.er015_tf1000.accuracy``. Variant names
read ``er<explanation rate in %>_tf<train fraction in ‰>``. The grid is
``conf/base/parameters_experiments.yml`` (see :mod:`.grid`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.experiments.grid import (
    ExperimentsGridError,
    load_grid,
    variant_grid,
    variant_name,
)
from zeroshot_distill.pipelines.experiments.nodes import (
    compare_variants,
    evaluate_variant,
    variant_subsampling_params,
)
from zeroshot_distill.students import train_student_model
from zeroshot_distill.trainset import build_label_pool, subsample_training_set


def _bound(func: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``partial`` that keeps the function's name and docstring for Kedro and kedro-viz."""
    return update_wrapper(partial(func, **kwargs), func)


def _variant_pipeline(explanation_rate: float, train_fraction: float) -> Pipeline:
    name = variant_name(explanation_rate, train_fraction)
    values = {"explanation_rate": explanation_rate, "train_fraction": train_fraction}
    return Pipeline(
        [
            Node(
                _bound(variant_subsampling_params, **values),
                inputs="params:subsampling",
                outputs="subsampling_params",
                name="variant_subsampling_params",
            ),
            Node(
                subsample_training_set,
                inputs=["label_pool", "params:task", "subsampling_params", "params:seed"],
                outputs="training_set",
                name="subsample_training_set",
            ),
            Node(
                train_student_model,
                inputs=["training_set", "params:training", "params:task", "params:seed"],
                outputs=["student_model", "training_history", "training_metrics"],
                name="train_student_model",
            ),
            Node(
                _bound(evaluate_variant, variant=name, **values),
                inputs=[
                    "student_model",
                    "examples",
                    "training_set",
                    "params:task",
                    "params:evaluation",
                ],
                outputs=["result", "metrics"],
                name="evaluate_variant",
            ),
        ],
        namespace=f"experiments.{name}",
        inputs={"label_pool", "examples"},
        parameters={
            "params:subsampling",
            "params:task",
            "params:seed",
            "params:training",
            "params:evaluation",
        },
    )


def _check_names(grid: list[tuple[float, float]]) -> None:
    """Two values that round to one variant name would share its datasets."""
    seen: dict[str, tuple[float, float]] = {}
    for variant in grid:
        name = variant_name(*variant)
        if name in seen:
            raise ExperimentsGridError(
                f"experiments grid: {seen[name]} and {variant} (explanation rate, train "
                f"fraction) are both variant {name!r}; names keep whole percent / per mille: "
                "make the values in parameters_experiments.yml differ by more"
            )
        seen[name] = variant


def create_pipeline(
    explanation_rates: Iterable[float] | None = None,
    train_fractions: Iterable[float] | None = None,
    size_sweep_rates: Iterable[float] | None = None,
    **kwargs: object,
) -> Pipeline:
    """Shared label pool -> one namespaced student per variant -> comparison table and plots.

    The grid is the ``experiments`` parameters (``conf/base/parameters_experiments.yml``,
    read now: see :mod:`.grid`); an argument given here replaces that value.
    """
    configured = load_grid()
    grid = variant_grid(
        configured.explanation_rates if explanation_rates is None else explanation_rates,
        configured.train_fractions if train_fractions is None else train_fractions,
        configured.size_sweep_rates if size_sweep_rates is None else size_sweep_rates,
    )
    _check_names(grid)
    # One label pool from the one annotation, shared by every variant.
    shared = Pipeline(
        [
            Node(
                build_label_pool,
                inputs=["examples", "annotations", "params:task", "params:subsampling"],
                outputs="label_pool",
                name="build_label_pool",
                namespace="experiments",
            )
        ]
    )
    variants = sum((_variant_pipeline(rate, fraction) for rate, fraction in grid), Pipeline([]))
    compare = Pipeline(
        [
            Node(
                compare_variants,
                inputs=[
                    "params:teacher",
                    *(f"experiments.{variant_name(r, f)}.result" for r, f in grid),
                ],
                outputs=[
                    "experiments_comparison",
                    "experiments_accuracy_vs_explanation_rate_plot",
                    "experiments_accuracy_vs_train_size_plot",
                    "experiments_report",
                    "experiments_report_html",
                ],
                name="compare_variants",
                # Its inputs are the variants' `experiments.<variant>.result`: in the namespace,
                # Kedro reads the dots as namespacing rather than warning about them.
                namespace="experiments",
            )
        ]
    )
    return shared + variants + compare
