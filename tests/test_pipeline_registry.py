"""The registry: every stage in its own namespace (kedro-viz boxes), dataset names unchanged,
no warnings while building, and layers kedro-viz can order (no circular dependency)."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_viz.services.layers import sort_layers

from zeroshot_distill.pipeline_registry import DISTILL_STAGES, register_pipelines
from zeroshot_distill.pipelines import annotation, data_processing
from zeroshot_distill.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

STAGES = (
    *DISTILL_STAGES,
    "experiments",
    "predict",
    "export",
    "active_distill",
    "compare_students",
)


@pytest.fixture(scope="module")
def pipelines() -> dict[str, Pipeline]:
    return register_pipelines()


def test_every_stage_is_one_namespace_and_tag(pipelines: dict[str, Pipeline]) -> None:
    for stage in STAGES:
        nodes = pipelines[stage].nodes
        assert {n.namespace.split(".")[0] for n in nodes if n.namespace} == {stage}, stage
        assert all(n.namespace for n in nodes), stage
        assert all(stage in n.tags for n in nodes), stage
    assert {n.namespace for n in pipelines["distill"].nodes} == set(DISTILL_STAGES)


def test_dataset_names_stay_as_the_catalog_knows_them(pipelines: dict[str, Pipeline]) -> None:
    plain = annotation.create_pipeline() + data_processing.create_pipeline()
    namespaced = pipelines["annotation"] + pipelines["data_processing"]
    assert namespaced.datasets() == plain.datasets()
    assert {"student_model", "training_set", "report"} <= pipelines["distill"].datasets()


def test_the_dry_run_node_answers_to_its_namespaced_name(pipelines: dict[str, Pipeline]) -> None:
    dry_run = pipelines["annotation"].to_nodes("annotation.estimate_annotation_cost")
    assert "annotation.annotate_examples" not in {n.name for n in dry_run.nodes}
    assert "annotation_cost_estimate" in dry_run.all_outputs()


def test_building_the_pipelines_warns_about_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kedro warns once per process about dotted dataset names: reset its flag first.
    monkeypatch.setattr(Node, "__dotted_dataset_name_warned__", False, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        register_pipelines()
    assert [str(w.message) for w in caught] == []


def _layers(project_root: Path) -> dict[str, str | None]:
    loader = CONFIG_LOADER_CLASS(str(project_root / "conf"), env="base", **CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(loader["catalog"])
    layers = {}
    for name in (
        register_pipelines()["experiments"].datasets()
        | register_pipelines()["__default__"].datasets()
        | register_pipelines()["active_distill"].datasets()
    ):
        dataset = catalog.get(name) if not name.startswith("params:") else None
        metadata = getattr(dataset, "metadata", None) or {}
        layers[name] = (metadata.get("kedro-viz") or {}).get("layer")
    return layers


def test_kedro_viz_can_order_the_layers(pipelines: dict[str, Pipeline], project_root: Path) -> None:
    layers = _layers(project_root)
    for name in ("__default__", "annotation", "experiments", "active_distill", "predict"):
        pipeline = pipelines[name]
        # kedro-viz's graph: datasets and nodes, edges input -> node -> output.
        graph = {n.name: SimpleNamespace(layer=None) for n in pipeline.nodes}
        graph |= {d: SimpleNamespace(layer=layers.get(d)) for d in pipeline.datasets()}
        children: dict[str, set[str]] = {key: set() for key in graph}
        for n in pipeline.nodes:
            for i in n.inputs:
                children[i].add(n.name)
            children[n.name] |= set(n.outputs)
        order = sort_layers(graph, children)
        used = {layers.get(d) for d in pipeline.datasets()} - {None}
        assert set(order) == used, f"{name}: kedro-viz found circular layers"
