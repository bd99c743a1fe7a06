"""Kedro hook of the teacher layer. Register it in ``settings.py``::

    from zeroshot_distill.teachers.hooks import TeacherRunHook
    HOOKS = (..., TeacherRunHook())

- ``after_context_created``: reads the credentials entry named by ``teacher.credentials``
  from Kedro's credentials config (``conf/local/credentials.yml``, read under every run env
  by ``settings.ProjectConfigLoader``) and
  registers its ``api_key`` in the in-process key store
  (:func:`zeroshot_distill.teachers.credentials.register_api_key`), where teachers built
  inside nodes find it. The key never becomes a parameter, so it never reaches the catalog,
  ``params:`` inputs, MLflow params or logs.
- ``before_pipeline_run``: a new run starts, so the run budget's spend counter
  (``teacher.max_cost_usd`` applies per run) is reset.

(MLflow tags ``teacher_backend`` / ``teacher_model`` / ``teacher_simulated`` come from the
project's ``TeacherProvenanceHook``.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from zeroshot_distill.teachers.credentials import register_api_key
from zeroshot_distill.teachers.ledger import run_budget

logger = logging.getLogger(__name__)


class TeacherRunHook:
    """API key from Kedro credentials; run budget reset at the start of a run."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Register the API key of the ``teacher.credentials`` entry, if there is one."""
        try:
            teacher = context.params.get("teacher") or {}
        except Exception:  # no parameters at all: nothing to do
            return
        entry = teacher.get("credentials") if isinstance(teacher, Mapping) else None
        if not entry:
            return
        try:
            credentials = context.config_loader["credentials"]
        except Exception:  # no credentials file is fine: the env var may hold the key
            return
        value = credentials.get(entry) if isinstance(credentials, Mapping) else None
        key = value.get("api_key") if isinstance(value, Mapping) else value
        if isinstance(key, str) and key.strip():
            register_api_key(str(entry), key.strip())
            logger.info("teacher API key taken from credentials entry %r", entry)

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """A new run: its budget starts at zero."""
        run_budget().reset()
