"""experiments: the papers' sweeps over explanation rate and training-set size.

Every variant shares one annotation (the ``label_pool`` built from ``annotations``) and
trains its own student in a Kedro namespace ``experiments.<variant>``; its datasets and
MLflow metrics carry that prefix, e.g. ``experiments.er015_tf1000.accuracy``. Variant names
read ``er<explanation rate in %>_tf<train fraction in ‰>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.experiments.nodes import (
    compare_variants,
    evaluate_variant,
    train_student_model,
    variant_subsampling_params,
)
from zeroshot_distill.trainset import build_label_pool, subsample_training_set

# Vöge et al. 2024 (explanation rate) and Hsieh et al. 2023 (training-set size).
EXPLANATION_RATES = (0.0, 0.15, 0.33, 0.5, 0.66, 0.85, 1.0)
TRAIN_FRACTIONS = (0.125, 0.25, 0.5, 1.0)
# The size sweep compares label-only distillation with full step-by-step distillation.
SIZE_SWEEP_RATES = (0.0, 1.0)


def variant_name(explanation_rate: float, train_fraction: float) -> str:
    """``(0.15, 1.0)`` -> ``er015_tf1000``."""
    return f"er{round(explanation_rate * 100):03d}_tf{round(train_fraction * 1000):04d}"


def variant_grid(
    explanation_rates: Iterable[float] = EXPLANATION_RATES,
    train_fractions: Iterable[float] = TRAIN_FRACTIONS,
    size_sweep_rates: Iterable[float] = SIZE_SWEEP_RATES,
) -> list[tuple[float, float]]:
    """Rates at the full training set, plus every fraction for the size-sweep rates."""
    fractions = sorted(set(train_fractions))
    full = max(fractions)
    grid = {(rate, full) for rate in explanation_rates}
    grid |= {(rate, fraction) for rate in size_sweep_rates for fraction in fractions}
    return sorted(grid, key=lambda v: (v[1], v[0]))


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


def create_pipeline(
    explanation_rates: Iterable[float] = EXPLANATION_RATES,
    train_fractions: Iterable[float] = TRAIN_FRACTIONS,
    size_sweep_rates: Iterable[float] = SIZE_SWEEP_RATES,
    **kwargs: object,
) -> Pipeline:
    """Shared label pool -> one namespaced student per variant -> comparison table and plots."""
    grid = variant_grid(explanation_rates, train_fractions, size_sweep_rates)
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
