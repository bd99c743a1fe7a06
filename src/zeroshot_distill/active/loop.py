"""The active-distillation round loop (ELAD), independent of Kedro and of the model library.

Round 0 annotates a seeded random seed set and trains the first student; it is shared by
every arm. Each later round of an arm scores the unannotated pool with the arm's strategy,
annotates the top ``batch_size`` rows within the budget, optionally lets the teacher revise
the student's rationale for them, retrains on everything annotated so far and evaluates on
the validation and test splits. An arm stops after ``n_rounds`` rounds, when the budget cannot
pay for another request, or when the pool is empty.

Everything a round produced is saved to a :class:`~zeroshot_distill.active.store.RoundStore`
before the next round starts; a rerun restores the finished rounds (their annotations, their
spend, the last student) and continues with the next one.

The loop talks to the outside world only through an :class:`ActiveBackend` (teacher,
trainer, evaluation, model I/O), so tests drive it with fakes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from zeroshot_distill.active.budget import (
    Budget,
    Ledger,
    can_afford_another,
    spend_within_budget,
)
from zeroshot_distill.active.config import ActiveDistillError, ActiveDistillParams
from zeroshot_distill.active.probe import StudentProbe
from zeroshot_distill.active.store import SEED_ARM, RoundRecord, RoundStore
from zeroshot_distill.active.uncertainty import ScoringContext, needs_student, score_pool
from zeroshot_distill.tasks import TaskSpec

logger = logging.getLogger(__name__)


class ActiveBackend(Protocol):
    """Teacher, trainer and evaluation as the loop needs them."""

    simulated: bool

    def annotate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Teacher annotations of ``rows`` (one row each, in order; the annotations contract
        plus ``cost_usd`` = the answer's price even when cached, and ``cached``)."""
        ...

    def annotation_bounds(self, rows: pd.DataFrame) -> Sequence[float]:
        """Worst-case USD of annotating each row."""
        ...

    def explain(self, student: Any, rows: pd.DataFrame) -> tuple[list[str], list[str | None]]:
        """The student's greedy rationale and label for each row (shown to the reviser)."""
        ...

    def revise(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Teacher review of ``student_rationale``/``student_label`` in ``rows``: columns
        ``id, revised_label, revised_rationale, revision_status, cost_usd, cached``."""
        ...

    def revision_bounds(self, rows: pd.DataFrame) -> Sequence[float]:
        """Worst-case USD of each revision request."""
        ...

    def train(self, annotated: pd.DataFrame, init: Any | None, *, seed: int) -> Any:
        """A student trained on the annotated rows (example fields + ``teacher_label``,
        ``rationale``); from ``init`` when given (warm start), else from the configured
        initial student."""
        ...

    def evaluate(self, student: Any, rows: pd.DataFrame) -> dict[str, float]:
        """``accuracy``, ``macro_f1``, ``invalid_rate``, ``n`` against ``gold_label``."""
        ...

    def probe(self, student: Any) -> StudentProbe:
        """The student as the uncertainty scorers query it."""
        ...

    def save_student(self, student: Any, path: Path) -> None:
        """Write the student (model and tokenizer) to a new folder."""
        ...

    def load_student(self, path: Path) -> Any:
        """Read a student written by :meth:`save_student`."""
        ...


@dataclass
class ArmResult:
    """One strategy's rounds, its final student and why it stopped."""

    arm: str
    records: list[RoundRecord]
    student: Any
    stop_reason: str
    resumed_from: int | None = None


@dataclass
class ActiveRunResult:
    """All arms of a run, as tables (one row per arm × round, selection or annotation)."""

    arms: dict[str, ArmResult]
    seed_ids: list[str]
    simulated: bool
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    selections: pd.DataFrame = field(default_factory=pd.DataFrame)
    annotations: pd.DataFrame = field(default_factory=pd.DataFrame)


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A short stable hash of the configuration that decides the rounds' outcomes."""
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def choose_seed_set(pool: pd.DataFrame, size: int, seed: int) -> list[str]:
    """A seeded random sample of pool ids (independent of row order)."""
    ids = sorted(str(i) for i in pool["id"])
    rng = np.random.default_rng(int(seed))
    picked = rng.choice(len(ids), size=min(size, len(ids)), replace=False)
    return [ids[i] for i in sorted(picked)]


class ActiveLoop:
    """Runs the seed round and every arm; see the module docstring."""

    def __init__(
        self,
        *,
        pool: pd.DataFrame,
        valid: pd.DataFrame,
        test: pd.DataFrame,
        spec: TaskSpec,
        params: ActiveDistillParams,
        backend: ActiveBackend,
        store: RoundStore,
        seed: int,
        on_round_end: Callable[[RoundRecord], None] | None = None,
    ) -> None:
        if pool.empty:
            raise ActiveDistillError(f"the {params.pool_split!r} pool has no rows")
        if pool["id"].astype(str).duplicated().any():
            raise ActiveDistillError("the pool has duplicate ids")
        self.pool = pool.assign(id=pool["id"].astype(str)).reset_index(drop=True)
        self.valid = valid
        self.test = test
        self.spec = spec
        self.params = params
        self.backend = backend
        self.store = store
        self.seed = int(seed)
        self.budget = Budget(params.budget.max_cost_usd, params.budget.max_calls)
        self.on_round_end = on_round_end

    # ----------------------------------------------------------------------------------- run
    def run(self) -> ActiveRunResult:
        """Every arm, resuming finished rounds from the store."""
        if not self.params.resume:
            self.store.clear()
        seed_ids = choose_seed_set(self.pool, self.params.seed_size, self.seed)
        seed_record, seed_student = self._seed_round(seed_ids)
        arms = {
            name: self._run_arm(name, seed_record, seed_student) for name in self.params.strategies
        }
        result = ActiveRunResult(arms=arms, seed_ids=seed_ids, simulated=self.backend.simulated)
        result.rounds, result.selections, result.annotations = _tables(arms)
        return result

    # ---------------------------------------------------------------------------- seed round
    def _seed_round(self, seed_ids: list[str]) -> tuple[RoundRecord, Any]:
        if 0 in self.store.finished_rounds(SEED_ARM):
            record = self.store.load_round(SEED_ARM, 0)
            if sorted(record.selections["id"].astype(str)) != sorted(seed_ids):
                raise ActiveDistillError(
                    "the stored seed round was drawn from a different pool; delete "
                    f"{self.store.base} or set active_distill.resume: false"
                )
            path = self.store.student_path(SEED_ARM, 0)
            if path is not None:
                logger.info("active distillation: seed round restored from %s", path.parent)
                return record, self.backend.load_student(path)
            logger.warning("the seed round's student was not kept; retraining it")
        rows = self.pool[self.pool["id"].isin(seed_ids)].sort_values("id").reset_index(drop=True)
        selections = pd.DataFrame(
            {"id": rows["id"], "score": np.nan, "tiebreak": np.nan, "rank": np.arange(len(rows))}
        )
        ledger = Ledger()
        started = time.perf_counter()
        annotations, exhausted, reason = self._annotate(rows, ledger)
        if annotations.empty:
            raise ActiveDistillError(
                f"the budget ({_budget_text(self.budget)}) does not pay for a single seed "
                "annotation; raise active_distill.budget"
            )
        record, student = self._train_and_record(
            SEED_ARM, 0, selections, annotations, ledger, None, started
        )
        record.info.update(self._hint_info(reason if exhausted else None))
        self.store.save_round(record, lambda p: self.backend.save_student(student, p))
        self._announce(record)
        return record, student

    # ---------------------------------------------------------------------------------- arms
    def _run_arm(self, arm: str, seed_record: RoundRecord, seed_student: Any) -> ArmResult:
        records = [seed_record]
        student = seed_student
        finished = self.store.finished_rounds(arm)
        resumed_from = None
        if finished:
            records += [self.store.load_round(arm, k) for k in finished]
            resumed_from = finished[-1]
            path = self.store.student_path(arm, finished[-1])
            student = None if path is None else self.backend.load_student(path)
            logger.info(
                "active distillation, arm %s: resuming after round %d (%s spent)",
                arm,
                finished[-1],
                _spend_text(records[-1].ledger),
            )
        ledger = Ledger.from_dict(records[-1].ledger)
        annotated = pd.concat([r.annotations for r in records], ignore_index=True)
        round_ = records[-1].round
        while True:
            reason = self._stop_reason(round_, ledger, annotated) or self._hint(records[-1])
            if reason is not None:
                break
            if student is None:  # resumed, but the last student was pruned
                student = self._retrain(annotated, round_)
            record, student, reason = self._active_round(
                arm, round_ + 1, student, annotated, ledger
            )
            if record is None:  # nothing could be paid for: no new round
                break
            round_ = record.round
            records.append(record)
            annotated = pd.concat([annotated, record.annotations], ignore_index=True)
        if student is None:
            student = self._retrain(annotated, round_)
        self.store.set_arm_status(
            arm, {"stop_reason": reason, "last_round": round_, "ledger": ledger.as_dict()}
        )
        logger.info(
            "active distillation, arm %s: stopped after round %d (%s); %s spent",
            arm,
            round_,
            reason,
            _spend_text(ledger.as_dict()),
        )
        return ArmResult(arm, records, student, reason, resumed_from)

    def _hint_info(self, reason: str | None) -> dict[str, Any]:
        """Remember that the budget ran out in this round, and under which budget."""
        return {
            "stop_hint": reason,
            "budget": [self.budget.max_cost_usd, self.budget.max_calls],
        }

    def _hint(self, record: RoundRecord) -> str | None:
        """A stored "budget ran out" that still holds: same budget (raising it continues)."""
        if record.info.get("stop_hint") != "budget":
            return None
        same = list(record.info.get("budget") or []) == [
            self.budget.max_cost_usd,
            self.budget.max_calls,
        ]
        return "budget" if same else None

    def _stop_reason(self, round_: int, ledger: Ledger, annotated: pd.DataFrame) -> str | None:
        if round_ >= self.params.n_rounds:
            return "n_rounds"
        if not can_afford_another(self.budget, ledger):
            return "budget"
        if not (~self.pool["id"].isin(annotated["id"].astype(str))).any():
            return "pool_exhausted"
        return None

    def _active_round(
        self, arm: str, round_: int, student: Any, annotated: pd.DataFrame, ledger: Ledger
    ) -> tuple[RoundRecord | None, Any, str | None]:
        """Score, select, annotate (and revise), retrain, evaluate, save.

        Returns ``(None, student, reason)`` when the budget paid for no annotation at all.
        """
        started = time.perf_counter()
        remaining = self.pool[~self.pool["id"].isin(annotated["id"].astype(str))]
        round_seed = self.seed * 1000 + round_
        cap = self.params.scoring.max_pool
        if cap is not None and len(remaining) > cap:
            remaining = remaining.sample(n=cap, random_state=round_seed)
        remaining = remaining.sort_values("id").reset_index(drop=True)
        probe = self.backend.probe(student) if needs_student(arm) else None
        context = ScoringContext(spec=self.spec, config=self.params.scoring, seed=round_seed)
        ranked = score_pool(arm, probe, remaining.to_dict(orient="records"), context)
        score_s = time.perf_counter() - started
        ranked["selected"] = ranked["rank"] < self.params.batch_size
        chosen_ids = ranked.loc[ranked["selected"], "id"].tolist()
        rows = remaining.set_index("id").loc[chosen_ids].reset_index()
        annotations, exhausted, reason = self._annotate(rows, ledger)
        if self.params.revision.enabled and not annotations.empty and not exhausted:
            annotations, exhausted, reason = self._revise(student, rows, annotations, ledger)
        if annotations.empty:
            return None, student, reason or "budget"
        ranked["selected"] = ranked["id"].isin(set(annotations["id"].astype(str)))
        record, new_student = self._train_and_record(
            arm,
            round_,
            ranked,
            annotations,
            ledger,
            student if self.params.warm_start else None,
            started,
            prior=annotated,
        )
        record.info.update(
            score_s=round(score_s, 3),
            n_scored=len(ranked),
            **self._hint_info(reason if exhausted else None),
        )
        self.store.save_round(record, lambda p: self.backend.save_student(new_student, p))
        if not self.params.keep_round_models:
            self.store.prune_students(arm, keep_round=round_)
        self._announce(record)
        return record, new_student, None

    # ------------------------------------------------------------------------- teacher calls
    def _annotate(
        self, rows: pd.DataFrame, ledger: Ledger
    ) -> tuple[pd.DataFrame, bool, str | None]:
        """Annotate within the budget; (annotations, budget exhausted, stop reason)."""
        try:
            guarded = spend_within_budget(
                rows, self.backend.annotate, self.backend.annotation_bounds, self.budget, ledger
            )
        except Exception as err:
            if type(err).__name__ != "BudgetExceededError":
                raise
            logger.warning("the teacher's own budget stopped annotation: %s", err)
            return pd.DataFrame(columns=["id"]), True, "teacher_budget"
        if guarded.n_answered < guarded.n_requested:
            logger.warning(
                "budget (%s): annotated %d of %d selected rows; %s spent",
                _budget_text(self.budget),
                guarded.n_answered,
                guarded.n_requested,
                _spend_text(ledger.as_dict()),
            )
        answers = guarded.answers
        if guarded.n_answered == 0:
            answers = pd.DataFrame(columns=["id"])
        return answers, guarded.exhausted, "budget" if guarded.exhausted else None

    def _revise(
        self, student: Any, rows: pd.DataFrame, annotations: pd.DataFrame, ledger: Ledger
    ) -> tuple[pd.DataFrame, bool, str | None]:
        """Teacher revision of the student's rationales for the annotated rows (ELAD)."""
        ids = annotations["id"].astype(str).tolist()
        targets = rows.set_index("id").loc[ids].reset_index()
        rationales, labels = self.backend.explain(student, targets)
        targets = targets.assign(student_rationale=rationales, student_label=labels)
        try:
            guarded = spend_within_budget(
                targets, self.backend.revise, self.backend.revision_bounds, self.budget, ledger
            )
        except Exception as err:
            if type(err).__name__ != "BudgetExceededError":
                raise
            logger.warning("the teacher's own budget stopped revision: %s", err)
            return annotations.assign(revision_status="not_revised"), True, "teacher_budget"
        return (
            merge_revisions(annotations, targets, guarded.answers, self.params),
            guarded.exhausted,
            "budget" if guarded.exhausted else None,
        )

    # ------------------------------------------------------------------------------ training
    def _annotated_rows(self, annotations: pd.DataFrame) -> pd.DataFrame:
        """Example fields joined with the annotations (the trainer's input)."""
        keep = [c for c in annotations.columns if c not in self.pool.columns or c == "id"]
        return self.pool.merge(annotations[keep].assign(id=annotations["id"].astype(str)), on="id")

    def _retrain(self, annotated: pd.DataFrame, round_: int) -> Any:
        logger.info("retraining the student of round %d (it was not kept)", round_)
        return self.backend.train(self._annotated_rows(annotated), None, seed=self.seed + round_)

    def _train_and_record(
        self,
        arm: str,
        round_: int,
        selections: pd.DataFrame,
        annotations: pd.DataFrame,
        ledger: Ledger,
        init: Any | None,
        started: float,
        prior: pd.DataFrame | None = None,
    ) -> tuple[RoundRecord, Any]:
        annotations = annotations.assign(arm=arm, round=round_)
        everything = annotations if prior is None else pd.concat([prior, annotations])
        train_started = time.perf_counter()
        student = self.backend.train(
            self._annotated_rows(everything), init, seed=self.seed + round_
        )
        train_s = time.perf_counter() - train_started
        metrics: dict[str, Any] = {"n_annotated": len(everything), "n_added": len(annotations)}
        for split, rows in (("valid", self.valid), ("test", self.test)):
            scores = self.backend.evaluate(student, rows)
            for key, value in scores.items():
                metrics[f"{split}_{key}"] = value
        record = RoundRecord(
            arm=arm,
            round=round_,
            selections=selections.assign(arm=arm, round=round_),
            annotations=annotations,
            metrics=metrics,
            ledger=ledger.as_dict(),
            info={"train_s": round(train_s, 3), "round_s": round(time.perf_counter() - started, 3)},
        )
        return record, student

    def _announce(self, record: RoundRecord) -> None:
        logger.info(
            # No square brackets: Kedro's rich log handler reads `[random]` as markup.
            "active distillation, arm %s, round %d/%d: %d annotated (+%d), valid acc %.3f, "
            "test acc %.3f, %s spent%s",
            record.arm,
            record.round,
            self.params.n_rounds,
            record.metrics.get("n_annotated", 0),
            record.metrics.get("n_added", 0),
            record.metrics.get("valid_accuracy", float("nan")),
            record.metrics.get("test_accuracy", float("nan")),
            _spend_text(record.ledger),
            " (SIMULATED teacher)" if self.backend.simulated else "",
        )
        if self.on_round_end is not None:
            self.on_round_end(record)


def merge_revisions(
    annotations: pd.DataFrame,
    targets: pd.DataFrame,
    revisions: pd.DataFrame,
    params: ActiveDistillParams,
) -> pd.DataFrame:
    """Lay the teacher's corrected rationales (and labels, if configured) over annotations.

    The annotation's own rationale is kept in ``annotated_rationale``; rows whose revision
    did not parse (or was not paid for) keep it as their rationale.
    """
    out = annotations.copy()
    out["id"] = out["id"].astype(str)
    out["annotated_rationale"] = out.get("rationale")
    student = targets.set_index(targets["id"].astype(str))
    out["student_rationale"] = out["id"].map(student["student_rationale"])
    out["student_label"] = out["id"].map(student["student_label"])
    out["revision_status"] = "not_revised"
    out["revision_cost_usd"] = 0.0
    if revisions is None or revisions.empty:
        return out
    rev = revisions.assign(id=revisions["id"].astype(str)).set_index("id")
    has = out["id"].isin(rev.index)
    out.loc[has, "revision_status"] = out.loc[has, "id"].map(rev["revision_status"])
    out.loc[has, "revision_cost_usd"] = out.loc[has, "id"].map(rev["cost_usd"]).astype(float)
    good = has & out["id"].map(rev["revised_rationale"]).notna()
    out.loc[good, "rationale"] = out.loc[good, "id"].map(rev["revised_rationale"])
    if params.revision.use_revised_label:
        labeled = has & out["id"].map(rev["revised_label"]).notna()
        out.loc[labeled, "teacher_label"] = out.loc[labeled, "id"].map(rev["revised_label"])
    return out


# ------------------------------------------------------------------------------------ tables
def _tables(arms: Mapping[str, ArmResult]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(rounds, selections, annotations) over every arm; the seed round appears per arm."""
    rounds, selections, annotations = [], [], []
    for name, arm in arms.items():
        for record in arm.records:
            ledger = record.ledger
            rounds.append(
                {
                    "strategy": name,
                    "round": record.round,
                    **record.metrics,
                    "cumulative_usd": float(ledger.get("usd", 0.0)),
                    "cumulative_calls": int(ledger.get("calls", 0)),
                    "paid_usd": float(ledger.get("paid_usd", 0.0)),
                    "train_s": record.info.get("train_s"),
                    "score_s": record.info.get("score_s"),
                    "stop_reason": arm.stop_reason if record is arm.records[-1] else None,
                }
            )
            selections.append(record.selections.assign(strategy=name, round=record.round))
            annotations.append(record.annotations.assign(strategy=name, round=record.round))
    drop = ["arm"]
    return (
        pd.DataFrame(rounds),
        pd.concat(selections, ignore_index=True).drop(columns=drop, errors="ignore"),
        pd.concat(annotations, ignore_index=True).drop(columns=drop, errors="ignore"),
    )


def _budget_text(budget: Budget) -> str:
    parts = []
    if budget.max_cost_usd is not None:
        parts.append(f"${budget.max_cost_usd:.4f}")
    if budget.max_calls is not None:
        parts.append(f"{budget.max_calls} calls")
    return " / ".join(parts) or "unlimited"


def _spend_text(ledger: Mapping[str, Any]) -> str:
    return f"${float(ledger.get('usd', 0.0)):.4f} in {int(ledger.get('calls', 0))} calls"
