"""Project hooks."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class SimulatedTeacherWarningHook:
    """Say loudly, before any node runs, when the configured teacher is a test double."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        try:
            teacher = catalog.load("params:teacher")
        except Exception:  # noqa: BLE001 - pipelines without a teacher have nothing to say
            return
        if isinstance(teacher, dict) and teacher.get("backend") == "simulated":
            logger.warning(
                "TEACHER IS SIMULATED: labels and rationales come from the bundled reference "
                "answers through a test double, not from an LLM. Results say nothing about a "
                "real teacher. Use `--env openai` (or local_llm) for a real run."
            )
