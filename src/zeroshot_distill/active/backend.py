"""The project's teacher and student behind the loop's :class:`ActiveBackend` protocol."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_distill.active.config import ActiveDistillParams
from zeroshot_distill.active.probe import StudentProbe
from zeroshot_distill.active.student_side import StudentSide
from zeroshot_distill.active.teacher_side import TeacherSide
from zeroshot_distill.annotation import select_template
from zeroshot_distill.tasks import TaskSpec


class ProjectBackend:
    """:class:`~zeroshot_distill.active.loop.ActiveBackend` from a teacher side (annotation,
    revision, cost bounds) and a student side (training, evaluation, probing, model I/O)."""

    def __init__(
        self, teacher: TeacherSide, student: StudentSide, config: ActiveDistillParams
    ) -> None:
        self.teacher = teacher
        self.student = student
        self.config = config
        self.simulated = teacher.simulated

    @classmethod
    def build(
        cls,
        *,
        examples: pd.DataFrame,
        best_prompt: Mapping[str, Any] | None,
        spec: TaskSpec,
        task: Mapping[str, Any],
        teacher: Mapping[str, Any],
        annotation: Mapping[str, Any],
        training: Mapping[str, Any],
        subsampling: Mapping[str, Any],
        config: ActiveDistillParams,
        seed: int,
    ) -> ProjectBackend:
        """Both sides from the project's parameters (the annotation template as the
        annotation pipeline would pick it: ``best_prompt`` when there is one)."""
        from zeroshot_distill.students import apply_student_preset

        prompt = select_template(examples, task, annotation, best_prompt, seed)
        teacher_side = TeacherSide(
            examples=examples,
            spec=spec,
            task=task,
            teacher=teacher,
            annotation=annotation,
            prompt=prompt,
            revision=config.revision,
            seed=seed,
            progress=config.progress,
        )
        student_side = StudentSide(
            spec=spec,
            task=task,
            # The named student first, so that active_distill.training overrides it too.
            training={**apply_student_preset(training), **config.training},
            subsampling=subsampling,
            valid=_labeled(examples, config.valid_split),
            scoring=config.scoring,
            eval_batch_size=config.eval_batch_size,
        )
        return cls(teacher_side, student_side, config)

    def fingerprint_payload(self) -> dict[str, Any]:
        """What of the teacher and student decides a round's outcome (for resume).

        Throughput, progress, cache and budget settings are left out: changing them must not
        start the rounds over.
        """
        return {
            "teacher": _without(self.teacher.teacher, _NOT_OUTCOME),
            "template": self.teacher.prompt.get("template"),
            "annotation": _without(self.teacher.annotation, _NOT_OUTCOME),
            "training": _without(self.student.training, _NOT_OUTCOME),
            "subsampling": self.student.subsampling,
        }

    # ---------------------------------------------------------------------------- teacher
    def annotate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Teacher annotations of ``rows``."""
        return self.teacher.annotate(rows)

    def annotation_bounds(self, rows: pd.DataFrame) -> list[float]:
        """Worst-case USD per annotation (``budget.max_cost_per_call_usd`` when set)."""
        return self._bounds(self.teacher.annotation_bounds, rows)

    def revise(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Teacher revisions of the student's rationales."""
        return self.teacher.revise(rows)

    def revision_bounds(self, rows: pd.DataFrame) -> list[float]:
        """Worst-case USD per revision."""
        return self._bounds(self.teacher.revision_bounds, rows)

    def _bounds(self, derive: Any, rows: pd.DataFrame) -> list[float]:
        fixed = self.config.budget.max_cost_per_call_usd
        return [float(fixed)] * len(rows) if fixed is not None else list(derive(rows))

    # ---------------------------------------------------------------------------- student
    def train(self, annotated: pd.DataFrame, init: Any | None, *, seed: int) -> Any:
        """A student trained on the annotated rows."""
        return self.student.train(annotated, init, seed=seed)

    def evaluate(self, student: Any, rows: pd.DataFrame) -> dict[str, float]:
        """Accuracy and friends against gold labels."""
        return self.student.evaluate(student, rows)

    def explain(self, student: Any, rows: pd.DataFrame) -> tuple[list[str], list[str | None]]:
        """The student's greedy rationale and label per row."""
        return self.student.explain(student, rows)

    def probe(self, student: Any) -> StudentProbe:
        """The student for the uncertainty scorers."""
        return self.student.probe(student)

    def save_student(self, student: Any, path: Path) -> None:
        """Write a round's student."""
        self.student.save(student, path)

    def load_student(self, path: Path) -> Any:
        """Read a round's student."""
        return self.student.load(path)

    def export_student(self, student: Any) -> Any:
        """The final student as the model-directory catalog entry saves it (a bundle)."""
        return student


_NOT_OUTCOME = frozenset(
    {
        "max_cost_usd",
        "cache",
        "concurrency",
        "requests_per_minute",
        "tokens_per_minute",
        "timeout_s",
        "max_retries",
        "malformed_retries",
        "credentials",
        "api_key_env",
        "progress",
        "progress_bar",
        "num_threads",
        "eval_batch_size",
    }
)


def _without(values: Mapping[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def _labeled(examples: pd.DataFrame, split: str) -> pd.DataFrame:
    rows = examples[examples["split"] == split]
    return rows[rows["gold_label"].notna()]
