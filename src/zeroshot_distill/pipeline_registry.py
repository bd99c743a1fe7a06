"""Named pipelines: each stage alone, ``distill`` chaining them, ``__default__`` = distill."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The chain of `kedro run --pipeline=distill`, in order. Stages that have not landed yet are
# skipped so that the chain always runs what exists.
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
    pipelines = find_pipelines(raise_errors=True)
    distill = sum((pipelines[name] for name in DISTILL_STAGES if name in pipelines), Pipeline([]))
    pipelines["distill"] = distill
    pipelines["__default__"] = distill
    return pipelines
