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
    compare_students,
    data_processing,
    evaluation,
    experiments,
    export,
    predict,
    prompt_optimization,
    subsampling,
    training,
)

# The chain of `kedro run --pipelines=distill`, in order.
DISTILL_STAGES = (
    "data_processing",
    "prompt_optimization",
    "annotation",
    "subsampling",
    "training",
    "evaluation",
)


def as_stage(name: str, stage: Pipeline) -> Pipeline:
    """``stage``'s nodes in the namespace ``name`` and tagged ``name``.

    kedro-viz draws a namespace as one box that expands on click, so ``distill`` reads as
    its six stages. Only node names take the prefix (``annotation.estimate_annotation_cost``);
    dataset and parameter names stay as the catalog and ``--load-versions`` know them.
    Nodes that already carry a namespace (the experiments' variants) keep it.
    """
    if all(node.namespace for node in stage.nodes):
        return Pipeline(stage, tags=[name])
    return Pipeline(stage, namespace=name, prefix_datasets_with_namespace=False, tags=[name])


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    stages = {
        "data_processing": data_processing.create_pipeline(),
        "prompt_optimization": prompt_optimization.create_pipeline(),
        "annotation": annotation.create_pipeline(),
        "subsampling": subsampling.create_pipeline(),
        "training": training.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
        "experiments": experiments.create_pipeline(),
        "predict": predict.create_pipeline(),
        "export": export.create_pipeline(),
        "active_distill": active_distill.create_pipeline(),
        "compare_students": compare_students.create_pipeline(),
    }
    pipelines = {name: as_stage(name, stage) for name, stage in stages.items()}
    distill = sum((pipelines[name] for name in DISTILL_STAGES), Pipeline([]))
    pipelines["distill"] = distill
    pipelines["__default__"] = distill
    return pipelines
