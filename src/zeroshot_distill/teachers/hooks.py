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
  (``teacher.max_cost_usd`` applies per run) is reset, under the Kedro run id (the key of
  the spend booked in the cache). Teacher sessions that a killed process left open in the
  response cache are reported with what they paid (once), and kept on the run budget
  (``run_budget().interrupted``) for the MLflow hook to attribute.

(MLflow tags ``teacher_backend`` / ``teacher_model`` / ``teacher_simulated`` come from the
project's ``TeacherProvenanceHook``.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from zeroshot_distill.teachers.cache import InterruptedSession, ResponseCache
from zeroshot_distill.teachers.config import CacheConfig
from zeroshot_distill.teachers.credentials import register_api_key
from zeroshot_distill.teachers.ledger import run_budget

logger = logging.getLogger(__name__)


class TeacherRunHook:
    """API key from Kedro credentials; run budget reset at the start of a run."""

    def __init__(self) -> None:
        self._teacher: Mapping[str, Any] | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Register the API key of the ``teacher.credentials`` entry, if there is one."""
        try:
            teacher = context.params.get("teacher") or {}
        except Exception:  # no parameters at all: nothing to do
            return
        self._teacher = teacher if isinstance(teacher, Mapping) else None
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
        """A new run: its budget starts at zero; report what interrupted runs spent."""
        run_id = run_params.get("run_id") if isinstance(run_params, Mapping) else None
        budget = run_budget()
        budget.reset(str(run_id) if run_id else None)
        budget.interrupted = find_interrupted_sessions(self._teacher)


def find_interrupted_sessions(teacher: Mapping[str, Any] | None) -> list[InterruptedSession]:
    """Open sessions of dead processes in the response cache of ``teacher`` (logged once)."""
    if not teacher:
        return []
    try:
        cache_config = CacheConfig.model_validate(dict(teacher.get("cache") or {}))
    except Exception:  # invalid teacher parameters are reported when a teacher is built
        return []
    if cache_config.mode != "read_write" or not Path(cache_config.path).exists():
        return []
    cache = ResponseCache(cache_config.path, cache_config.mode)
    try:
        found = cache.interrupted_sessions()
    finally:
        cache.close()
    for session in found:
        logger.warning(
            "an earlier run was interrupted (Kedro run %s, pid %d, started %s): it paid $%.4f "
            "for %d teacher answers%s, all kept in the response cache (not paid again). "
            "Its MLflow run, if any, gets this spend as teacher_spend.run_usd.",
            session.run_id,
            session.pid,
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(session.started_at)),
            session.cost_usd,
            session.n_paid,
            "".join(f", {stage} ${usd:.4f}" for stage, usd in sorted(session.stages.items())),
        )
    return found
