"""Teacher LLMs behind one small interface, with a response cache, cost ledger and budget.

``build_teacher(params["teacher"])`` returns a :class:`Teacher`::

    teacher = build_teacher(teacher_params)
    provide_references(teacher, {request_key: row}, labels=spec.labels)  # simulated only
    results = teacher.complete(requests, stage="annotation")    # list[ChatResult], in order
    teacher.spend()          # per-stage tokens / USD / cache hits / USD saved
    teacher.estimate(requests)   # dry run: tokens and USD, nothing sent (CachedTeacher)
    teacher.close()

Backends (``teacher.backend``): ``openai``, ``openai_batch``, ``transformers``,
``simulated``. Everything that can be checked is checked here, before any request:
unknown keys, an unknown model in the price table of a paid backend, a negative budget,
a budget without ``max_tokens``, a missing API key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from zeroshot_distill.teachers.base import (
    BudgetExceededError,
    ChatRequest,
    ChatResult,
    ResultStatus,
    Teacher,
)
from zeroshot_distill.teachers.cache import ResponseCache
from zeroshot_distill.teachers.config import TeacherConfig, TeacherConfigError
from zeroshot_distill.teachers.credentials import resolve_api_key
from zeroshot_distill.teachers.engine import Backend, CachedTeacher, TeacherFatalError
from zeroshot_distill.teachers.ledger import CostEstimate, RunBudget, run_budget

logger = logging.getLogger(__name__)

__all__ = [
    "BudgetExceededError",
    "CachedTeacher",
    "ChatRequest",
    "ChatResult",
    "CostEstimate",
    "ResultStatus",
    "RunBudget",
    "Teacher",
    "TeacherConfig",
    "TeacherConfigError",
    "TeacherFatalError",
    "build_teacher",
    "provide_references",
    "run_budget",
]


def build_teacher(
    config: Mapping[str, Any],
    *,
    budget: RunBudget | None = None,
) -> CachedTeacher:
    """Build the teacher described by the ``teacher`` parameters.

    Args:
        config: the whole ``teacher`` parameter block (see ``parameters_teacher.yml``).
        budget: the spend counter ``max_cost_usd`` applies to; defaults to the process-wide
            run budget shared by every teacher of this ``kedro run``.

    Raises:
        TeacherConfigError: invalid parameters or missing credentials (nothing was sent).
    """
    cfg = TeacherConfig.from_params(config)
    if cfg.max_cost_usd is not None and cfg.max_tokens is None:
        raise TeacherConfigError(
            "teacher.max_cost_usd is set but teacher.max_tokens is null: the budget needs "
            "max_tokens to bound what one request can cost"
        )
    api_key = resolve_api_key(cfg)
    cache = ResponseCache(cfg.cache.path, cfg.cache.mode)
    backend: Backend
    if cfg.backend == "openai":
        from zeroshot_distill.teachers.openai_backend import OpenAIBackend

        backend = OpenAIBackend(cfg, api_key)
    elif cfg.backend == "openai_batch":
        from zeroshot_distill.teachers.openai_batch import OpenAIBatchBackend

        backend = OpenAIBatchBackend(cfg, api_key, cache)
    elif cfg.backend == "transformers":
        from zeroshot_distill.teachers.transformers_backend import TransformersBackend

        backend = TransformersBackend(cfg)
    else:
        from zeroshot_distill.teachers.simulated import SimulatedBackend

        backend = SimulatedBackend(cfg)
    logger.info(
        "teacher: %s:%s, cache %s (%s), budget %s",
        backend.name,
        backend.model,
        cfg.cache.path,
        cfg.cache.mode,
        "none" if cfg.max_cost_usd is None else f"${cfg.max_cost_usd:g}",
    )
    return CachedTeacher(cfg, backend, cache, budget if budget is not None else run_budget())


def provide_references(
    teacher: Any,
    references: Mapping[str, Mapping[str, Any]],
    *,
    labels: Sequence[str] | None = None,
) -> bool:
    """Hand a simulated teacher the rows it answers from, keyed by request key.

    Only the ``simulated`` backend (a test double) answers from reference labels and
    rationales; for every other teacher this does nothing, so the code that has the rows
    calls it unconditionally before ``complete()`` (requests carry only what is sent).
    Returns whether the teacher took them.
    """
    from zeroshot_distill.teachers.simulated import SimulatedBackend

    backend = getattr(teacher, "backend_impl", teacher)
    if not isinstance(backend, SimulatedBackend):
        return False
    backend.add_references(references, labels)
    return True
