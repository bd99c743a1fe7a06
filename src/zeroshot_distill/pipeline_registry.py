"""Named pipelines: each stage alone, ``distill`` chaining them, ``__default__`` = distill.

Pipelines are listed explicitly rather than discovered: ``kedro run --pipelines distill``
makes Kedro's discovery look for a ``pipelines/distill`` package, and an import error in a
stage should fail loudly instead of silently dropping that stage.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from zeroshot_distill.pipelines import (
    active_distill,
    annotation,
    data_processing,
    evaluation,
    experiments,
    predict,
    prompt_optimization,
    subsampling,
    training,
)

# The chain of `kedro run --pipeline=distill`, in order.
DISTILL_STAGES = (
    "data_processing",
    "prompt_optimization",
    "annotation",
    "subsampling",
    "training",
    "evaluation",
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    pipelines: dict[str, Pipeline] = {
        "data_processing": data_processing.create_pipeline(),
        "prompt_optimization": prompt_optimization.create_pipeline(),
        "annotation": annotation.create_pipeline(),
        "subsampling": subsampling.create_pipeline(),
        "training": training.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
        "experiments": experiments.create_pipeline(),
        "predict": predict.create_pipeline(),
        "active_distill": active_distill.create_pipeline(),
    }
    distill = sum((pipelines[name] for name in DISTILL_STAGES), Pipeline([]))
    pipelines["distill"] = distill
    pipelines["__default__"] = distill
    return pipelines
