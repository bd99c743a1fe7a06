"""Project hooks: make a simulated teacher impossible to miss in logs and MLflow."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io.core import AbstractVersionedDataset

logger = logging.getLogger(__name__)

SIMULATED_WARNING = (
    "TEACHER IS SIMULATED: labels and rationales come from the bundled reference answers "
    "through a test double, not from an LLM. Accuracy and cost figures say nothing about a "
    "real teacher. Run with `--env openai` or `--env local_llm` for a real teacher."
)


class TeacherProvenanceHook:
    """Warn when the teacher is simulated and tag the MLflow run with the teacher's identity."""

    def __init__(self) -> None:
        self._teacher: Mapping[str, Any] | None = None
        self._tagged = False

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._tagged = False
        self._teacher = None
        uses_teacher = any(
            name == "params:teacher" or name.startswith("params:teacher.")
            for name in pipeline.inputs() | {i for n in pipeline.nodes for i in n.inputs}
        )
        if not uses_teacher or "params:teacher" not in catalog:
            return
        teacher = catalog.load("params:teacher")
        if isinstance(teacher, Mapping):
            self._teacher = teacher
            if teacher.get("backend") == "simulated":
                logger.warning(SIMULATED_WARNING)

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any]) -> None:
        # kedro-mlflow opens its run in before_pipeline_run; by the first node it is active.
        if self._tagged or self._teacher is None or mlflow.active_run() is None:
            return
        mlflow.set_tags(
            {
                "teacher_backend": str(self._teacher.get("backend")),
                "teacher_model": str(self._teacher.get("model")),
                "teacher_simulated": str(self._teacher.get("backend") == "simulated").lower(),
            }
        )
        self._tagged = True


class MlflowArtifactHook:
    """Log a dataset's file to the MLflow run right after it is saved.

    kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset, so reports and
    plots stay ordinary versioned catalog entries and opt in through their metadata::

        report:
          type: text.TextDataset
          versioned: true
          metadata:
            mlflow: {artifact_path: reports}
    """

    def __init__(self) -> None:
        self._catalog: Any = None

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._catalog is None or mlflow.active_run() is None:
            return
        dataset = self._catalog.get(dataset_name)
        metadata = getattr(dataset, "metadata", None) or {}
        options = metadata.get("mlflow") if isinstance(metadata, Mapping) else None
        if not isinstance(options, Mapping):
            return
        if isinstance(dataset, AbstractVersionedDataset):
            # The version this run just wrote (_get_save_path refuses an existing version).
            path = dataset._get_versioned_path(dataset.resolve_save_version())
        else:
            path = getattr(dataset, "_filepath", None)
        if path is None:
            logger.warning("cannot log %s to MLflow: its dataset has no file path", dataset_name)
            return
        mlflow.log_artifact(str(path), artifact_path=options.get("artifact_path"))
