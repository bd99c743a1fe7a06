"""Project hooks: make a simulated teacher impossible to miss in logs and MLflow."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

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
