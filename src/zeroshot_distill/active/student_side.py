"""The student's part of active distillation: train, evaluate, explain, probe, save, load.

Everything is the project's own machinery: the training set is built by the subsampling
pipeline's :func:`build_label_pool` and :func:`subsample_training_set` (same labels, same
rationale selection, same contract), the student is trained by
:func:`zeroshot_distill.students.train_student` (validation-selected), decoded by
:func:`predict_labels` / :func:`generate_rationales` and scored by
:func:`zeroshot_distill.reporting.classification_metrics`. This module adds only what active
distillation needs on top:

- the *validation* labels are the gold labels (the teacher budget goes to the train pool; the
  per-round accuracy needs a labeled valid split anyway);
- with ``scoring.condition_training`` each train row that has a rationale also appears as
  ``{input} rationale: {rationale}`` -> label (no rationale loss), so that the student has
  been taught the rationale-conditioned question that ``vote: conditioned`` asks it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_distill.active.config import ScoringConfig
from zeroshot_distill.active.probe import CausalProbe, Seq2SeqProbe, StudentProbe
from zeroshot_distill.reporting import baselines, classification_metrics
from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.trainset import build_label_pool, subsample_training_set

CONDITIONED_SUFFIX = "#conditioned"


class StudentSide:
    """Student operations for the active loop (see the module docstring)."""

    def __init__(
        self,
        *,
        spec: TaskSpec,
        task: Mapping[str, Any],
        training: Mapping[str, Any],
        subsampling: Mapping[str, Any],
        valid: pd.DataFrame,
        scoring: ScoringConfig,
        eval_batch_size: int = 64,
    ) -> None:
        from zeroshot_distill.students import TrainingConfig

        self.spec = spec
        self.task = dict(task)
        self.training = dict(training)
        self.config = TrainingConfig.from_params(self.training)  # fail before any teacher call
        # The loop decides which rows are annotated: keep all of them.
        self.subsampling = {**dict(subsampling), "train_fraction": 1.0}
        self.valid = valid.assign(id=valid["id"].astype(str)).reset_index(drop=True)
        self.scoring = scoring
        self.eval_batch_size = int(eval_batch_size)

    # ------------------------------------------------------------------------------ training
    def training_set(self, annotated: pd.DataFrame, *, seed: int) -> pd.DataFrame:
        """The ``training_set`` contract for the annotated rows plus the gold-labeled valid
        split, with the rationale-conditioned rows when configured."""
        fields = ["id", "split", "gold_label", *self.spec.input_fields]
        if "reference_rationale" in annotated.columns:
            fields.append("reference_rationale")
        train = annotated.assign(id=annotated["id"].astype(str), split="train")
        valid = self.valid.assign(split="valid")
        examples = pd.concat(
            [train[fields], valid[[c for c in fields if c in valid.columns]]],
            ignore_index=True,
        )
        notes = pd.concat(
            [
                train[["id", "teacher_label", "rationale", "parse_status"]],
                pd.DataFrame(
                    {
                        "id": valid["id"],
                        "teacher_label": valid["gold_label"],
                        "rationale": None,
                        "parse_status": "ok",
                    }
                ),
            ],
            ignore_index=True,
        )
        pool = build_label_pool(examples, notes, self.task, self.subsampling)
        rows = subsample_training_set(pool, self.task, self.subsampling, seed)
        if self.scoring.condition_training:
            rows = pd.concat([rows, self._conditioned_rows(rows)], ignore_index=True)
        return rows

    def _conditioned_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        source = rows[(rows["split"] == "train") & rows["rationale_target"].notna()]
        template = self.scoring.condition_template
        return source.assign(
            id=source["id"].astype(str) + CONDITIONED_SUFFIX,
            input=[
                template.format(input=i, rationale=r)
                for i, r in zip(source["input"], source["rationale_target"], strict=True)
            ],
            rationale_target=None,
            rationale_words=0,
        )

    def train(self, annotated: pd.DataFrame, init: Any | None, *, seed: int) -> Any:
        """A student trained on ``annotated`` (example fields + teacher label/rationale),
        from ``init`` (a copy of it: warm start) or from the configured initial student."""
        from zeroshot_distill.students import load_student, train_student
        from zeroshot_distill.students.trainer import split_training_set

        train_rows, valid_rows = split_training_set(self.training_set(annotated, seed=seed))
        student = (
            copy.deepcopy(init) if init is not None else load_student(self.config.student, seed)
        )
        result = train_student(student, train_rows, valid_rows, self.spec, self.config, seed=seed)
        return result.student

    # ---------------------------------------------------------------------------- inference
    def _predict(self, student: Any, rows: pd.DataFrame) -> list[str | None]:
        from zeroshot_distill.students import predict_labels

        return predict_labels(
            student.model,
            student.tokenizer,
            self.spec,
            rows,
            self.eval_batch_size,
            prefix=student.prefixes["predict"],
            max_input_length=self.config.max_input_length,
            max_new_tokens=self.config.new_tokens,
            decoding=self.config.label_decoding,
        )

    def evaluate(self, student: Any, rows: pd.DataFrame) -> dict[str, float]:
        """Accuracy, macro-F1 and invalid rate of the student's labels against gold, with
        the rows' majority-class and chance baselines (NaN without a label set)."""
        gold = rows["gold_label"].tolist()
        scores = classification_metrics(gold, self._predict(student, rows), self.spec.label_set)
        base = baselines(gold, self.spec.label_set) or {}
        macro_f1 = scores["macro_f1"]
        return {
            "accuracy": float(scores["accuracy"]),
            "macro_f1": float("nan") if macro_f1 is None else float(macro_f1),
            "invalid_rate": float(scores["invalid_rate"]),
            "n": float(scores["n"]),
            "majority_baseline": float(base.get("majority", float("nan"))),
            "chance_baseline": float(base.get("chance", float("nan"))),
        }

    def explain(self, student: Any, rows: pd.DataFrame) -> tuple[list[str], list[str | None]]:
        """Greedy rationale and label per row (what the teacher revises)."""
        from zeroshot_distill.students import generate_rationales

        rationales = generate_rationales(
            student.model,
            student.tokenizer,
            self.spec,
            rows,
            self.eval_batch_size,
            prefix=student.prefixes["explain"],
            max_input_length=self.config.max_input_length,
            max_new_tokens=self.config.max_rationale_length,
        )
        return rationales, self._predict(student, rows)

    def probe(self, student: Any) -> StudentProbe:
        """A :class:`Seq2SeqProbe` (a causal LM student: :class:`CausalProbe`) on the
        student's model, tokenizer and prefixes."""
        probe = CausalProbe if student.family == "causal_lm" else Seq2SeqProbe
        return probe(
            student.model,
            student.tokenizer,
            predict_prefix=student.prefixes["predict"],
            explain_prefix=student.prefixes["explain"],
            max_input_length=self.config.max_input_length,
            batch_size=self.scoring.batch_size,
        )

    # ------------------------------------------------------------------------------ storage
    def save(self, student: Any, path: Path) -> None:
        """Write the student to a new folder (``save_pretrained`` + training info)."""
        from zeroshot_distill.students.model import save_student

        save_student(student, path)

    def load(self, path: Path) -> Any:
        """Read a student written by :meth:`save`."""
        from zeroshot_distill.students.model import load_saved_student

        return load_saved_student(path)
