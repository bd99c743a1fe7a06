"""Active distillation (ELAD, Zhang et al. 2024): spend the teacher where the student is unsure.

Reusable without Kedro:

- :mod:`~zeroshot_distill.active.uncertainty`: uncertainty scorers behind a registry
  (``explanation_consistency``, ``label_entropy``, ``combined``, ``random``);
- :mod:`~zeroshot_distill.active.probe`: what scorers ask a student, for seq2seq models;
- :mod:`~zeroshot_distill.active.budget`: the per-arm ledger and the never-crossed budget;
- :mod:`~zeroshot_distill.active.store`: per-round checkpoints for resume;
- :mod:`~zeroshot_distill.active.loop`: the round loop over an :class:`ActiveBackend`;
- :mod:`~zeroshot_distill.active.teacher_side` / ``student_side`` / ``backend``: the
  project's teacher, annotation, trainer and evaluation behind that backend;
- :mod:`~zeroshot_distill.reporting.active`: comparison at equal spend, curve, report.
"""

from zeroshot_distill.active.budget import Budget, Ledger, affordable, spend_within_budget
from zeroshot_distill.active.config import ActiveDistillError, ActiveDistillParams
from zeroshot_distill.active.loop import (
    ActiveBackend,
    ActiveLoop,
    ActiveRunResult,
    choose_seed_set,
    fingerprint,
)
from zeroshot_distill.active.probe import Seq2SeqProbe, StudentProbe
from zeroshot_distill.active.store import RoundRecord, RoundStore
from zeroshot_distill.active.uncertainty import (
    ScoringContext,
    available_scorers,
    get_scorer,
    rank_scores,
    register_scorer,
    score_pool,
)
from zeroshot_distill.reporting.active import (
    accuracy_curve,
    equal_spend_metrics,
    equal_spend_table,
    render_report,
    round_metrics,
)

__all__ = [
    "ActiveBackend",
    "ActiveDistillError",
    "ActiveDistillParams",
    "ActiveLoop",
    "ActiveRunResult",
    "Budget",
    "Ledger",
    "RoundRecord",
    "RoundStore",
    "ScoringContext",
    "Seq2SeqProbe",
    "StudentProbe",
    "accuracy_curve",
    "affordable",
    "available_scorers",
    "choose_seed_set",
    "equal_spend_metrics",
    "equal_spend_table",
    "fingerprint",
    "get_scorer",
    "rank_scores",
    "register_scorer",
    "render_report",
    "round_metrics",
    "score_pool",
    "spend_within_budget",
]
