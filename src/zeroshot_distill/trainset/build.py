"""Building the training set: from examples + annotations to the ``training_set`` contract.

1. :func:`build_label_pool` joins every example with its label (teacher or gold) and
   rationale and marks the rows that cannot be used (teacher label did not parse, not
   annotated, no gold label), with the reason.
2. :func:`subsample_training_set` keeps a ``train_fraction`` of the usable train rows, lets
   an ``explanation_rate`` of them keep a rationale (chosen by a selection strategy),
   optionally truncates rationales, and writes the ``training_set`` contract.
3. :func:`subsampling_metrics` reports the sizes for MLflow.

The valid split (model selection) is labeled by the same label source as train; the test
split keeps its gold labels for the evaluation and is never subsampled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zeroshot_distill.tasks.spec import TaskSpec, canonical_number
from zeroshot_distill.tasks.values import is_missing
from zeroshot_distill.trainset.selection import (
    get_selection_strategy,
    select_rationale_rows,
)

logger = logging.getLogger(__name__)

# Missing rationales above this share of the train rows make a shortfall a warning.
SHORTFALL_WARNING_SHARE = 0.1

Mode = Literal["standard_finetune", "standard_distill", "step_by_step"]
#: The label source each mode implies when ``label_source`` is not set.
MODE_LABEL_SOURCE = {
    "standard_finetune": "gold",
    "standard_distill": "teacher",
    "step_by_step": "teacher",
}
EXCLUSION_REASONS = ("not_annotated", "unparsed_label", "no_gold_label")
POOL_COLUMNS = ["id", "split", "label", "rationale", "rationale_words", "parse_status", "excluded"]
OWN_COLUMNS = {
    "id",
    "split",
    "input",
    "label",
    "label_target",
    "rationale_target",
    "rationale_words",
    "label_source",
}


class SubsamplingConfig(BaseModel):
    """The ``subsampling`` parameters (see ``conf/base/parameters_subsampling.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = "step_by_step"
    label_source: Literal["teacher", "gold"] | None = None
    rationale_source: Literal["teacher", "reference"] = "teacher"
    train_fraction: float = Field(1.0, gt=0.0, le=1.0)
    explanation_rate: float = Field(1.0, ge=0.0, le=1.0)
    selection: dict[str, Any] = Field(default_factory=lambda: {"strategy": "random"})
    truncate_rationale_words: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> SubsamplingConfig:
        implied = MODE_LABEL_SOURCE[self.mode]
        if self.label_source not in (None, implied) and self.mode != "step_by_step":
            raise ValueError(
                f"mode {self.mode} trains on {implied} labels, label_source says "
                f"{self.label_source}: use mode standard_finetune for gold labels, "
                "standard_distill for teacher labels"
            )
        get_selection_strategy(self.strategy)
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | SubsamplingConfig) -> SubsamplingConfig:
        """Validate the ``subsampling`` parameters; the error names each bad field."""
        if isinstance(params, SubsamplingConfig):
            return params
        try:
            return cls.model_validate(dict(params))
        except ValidationError as err:
            problems = "; ".join(
                f"subsampling.{'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}"
                for e in err.errors()
            )
            raise ValueError(f"invalid subsampling parameters: {problems}") from None

    @property
    def labels_from(self) -> str:
        """``teacher`` or ``gold``: where train and valid labels come from."""
        return self.label_source or MODE_LABEL_SOURCE[self.mode]

    @property
    def uses_rationales(self) -> bool:
        """Only ``step_by_step`` trains on rationales."""
        return self.mode == "step_by_step"

    @property
    def strategy(self) -> str:
        """The selection strategy's registered name."""
        return str(self.selection.get("strategy", "random"))

    @property
    def strategy_options(self) -> dict[str, Any]:
        """The selection options without ``strategy``."""
        return {k: v for k, v in self.selection.items() if k != "strategy"}


# ---------------------------------------------------------------------------------- steps
def build_label_pool(
    examples: pd.DataFrame,
    annotations: pd.DataFrame,
    task: Mapping[str, Any],
    subsampling: Mapping[str, Any],
) -> pd.DataFrame:
    """Every example with its label and rationale, and why it is unusable if it is.

    Train and valid rows take the label source's label (teacher: ``teacher_label``, which
    must be a valid label of the task; gold: ``gold_label``); test rows keep the gold label
    and are never excluded. ``excluded`` is null for usable rows, else one of
    ``not_annotated``, ``unparsed_label`` (the teacher's answer named no valid label; its
    ``parse_status`` is kept) or ``no_gold_label``.
    """
    cfg = SubsamplingConfig.from_params(subsampling)
    spec = TaskSpec.from_params(task)
    _require(examples, ["id", "split", "gold_label", *spec.input_fields], "examples")
    clash = sorted(OWN_COLUMNS & set(spec.input_fields))
    if clash:
        raise ValueError(f"task input fields {clash} clash with training_set columns")
    needs_teacher = cfg.labels_from == "teacher" or (
        cfg.uses_rationales and cfg.rationale_source == "teacher"
    )
    notes = _annotation_table(annotations, needs_teacher)
    pool = examples.copy()
    pool["id"] = pool["id"].astype(str)
    pool = pool.merge(notes, on="id", how="left", validate="one_to_one")
    labeled = [_label_row(row, spec, cfg.labels_from) for row in pool.to_dict("records")]
    labels, excluded = zip(*labeled, strict=True) if labeled else ((), ())
    pool["label"] = pd.Series(list(labels), index=pool.index, dtype=object)
    pool["excluded"] = pd.Series(list(excluded), index=pool.index, dtype=object)
    if cfg.rationale_source == "reference":
        _require(examples, ["reference_rationale"], "examples (rationale_source: reference)")
        raw_rationale = pool["reference_rationale"]
    else:
        raw_rationale = pool["rationale"]
    rationales = [_clean_text(r) for r in raw_rationale]
    pool["rationale"] = pd.Series(rationales, index=pool.index, dtype=object)
    pool["rationale_words"] = [len(r.split()) if r else 0 for r in rationales]
    pool["label_source"] = np.where(pool["split"] == "test", "gold", cfg.labels_from)
    _log_exclusions(pool)
    keep = [
        "id",
        "split",
        *spec.input_fields,
        *[c for c in POOL_COLUMNS if c not in {"id", "split"}],
    ]
    return pool[[*keep, "label_source"]].reset_index(drop=True)


def subsample_training_set(
    pool: pd.DataFrame,
    task: Mapping[str, Any],
    subsampling: Mapping[str, Any],
    seed: int,
    selection_scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pick the training set: a train fraction, the rationale rows, the valid and test rows.

    Args:
        pool: the output of :func:`build_label_pool`.
        task: the task spec parameters.
        subsampling: the ``subsampling`` parameters.
        seed: seeds the train fraction and the rationale selection.
        selection_scores: optional ``id``, ``selection_score`` table passed to the selection
            strategy (e.g. student uncertainty for active distillation).

    Returns:
        One row per kept example: ``id``, ``split``, ``input``, ``label``, ``label_target``,
        ``rationale_target`` (null: no rationale loss), ``rationale_words``, ``label_source``
        and the task's input fields (for evaluation and label normalisation).
    """
    cfg = SubsamplingConfig.from_params(subsampling)
    spec = TaskSpec.from_params(task)
    usable = pool[pool["excluded"].isna()]
    train = usable[usable["split"] == "train"]
    if train.empty:
        in_pool = pool[pool["split"] == "train"]
        reasons = in_pool["excluded"].value_counts().to_dict()
        raise ValueError(
            f"no usable train rows: {len(in_pool)} train rows in the pool, excluded: {reasons}. "
            "Check the annotation (parse_status) and subsampling.label_source."
        )
    n_train = max(1, round(cfg.train_fraction * len(train)))
    train = train.sample(n=n_train, random_state=seed).sort_values("id")
    keep_rationale = _rationale_ids(train, cfg, seed, selection_scores)
    parts = [train, usable[usable["split"] == "valid"], usable[usable["split"] == "test"]]
    return _training_rows(pd.concat(parts, ignore_index=True), keep_rationale, spec, cfg)


def subsampling_metrics(
    pool: pd.DataFrame, training_set: pd.DataFrame, subsampling: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """Sizes for MLflow: pool and kept rows per split, exclusions, the explanation rate."""
    cfg = SubsamplingConfig.from_params(subsampling)
    metrics: dict[str, float] = {}
    for split in ("train", "valid", "test"):
        in_pool = pool[pool["split"] == split]
        kept = training_set[training_set["split"] == split]
        metrics[f"{split}_pool_rows"] = len(in_pool)
        metrics[f"{split}_rows"] = len(kept)
        metrics[f"{split}_excluded_rows"] = int(in_pool["excluded"].notna().sum())
    for reason in EXCLUSION_REASONS:
        metrics[f"excluded_{reason}"] = int((pool["excluded"] == reason).sum())
    train = training_set[training_set["split"] == "train"]
    with_rationale = train["rationale_target"].notna()
    metrics["train_rationale_rows"] = int(with_rationale.sum())
    metrics["explanation_rate_requested"] = cfg.explanation_rate if cfg.uses_rationales else 0.0
    metrics["explanation_rate_achieved"] = float(with_rationale.mean()) if len(train) else 0.0
    metrics["train_fraction"] = cfg.train_fraction
    if with_rationale.any():
        metrics["rationale_words_mean"] = float(train.loc[with_rationale, "rationale_words"].mean())
    return {name: {"step": 0, "value": float(value)} for name, value in metrics.items()}


# ---------------------------------------------------------------------------------- helpers
def _rationale_ids(
    train: pd.DataFrame,
    cfg: SubsamplingConfig,
    seed: int,
    selection_scores: pd.DataFrame | None,
) -> set[str]:
    """Ids of the ``round(explanation_rate * len(train))`` rows that keep their rationale."""
    if not cfg.uses_rationales or cfg.explanation_rate == 0:
        return set()
    candidates = train[train["rationale_words"] > 0]
    if selection_scores is not None:
        scores = selection_scores[["id", "selection_score"]].astype({"id": str})
        candidates = candidates.merge(scores, on="id", how="left")
    wanted = round(cfg.explanation_rate * len(train))
    if wanted > len(candidates):
        # A few missing rationales (under 10% of the train rows) are normal; more is news.
        short = wanted - len(candidates) > SHORTFALL_WARNING_SHARE * len(train)
        logger.log(
            logging.WARNING if short else logging.INFO,
            "explanation_rate %.2f asks for %d rationales but only %d of %d train rows have "
            "one: keeping all %d, so the student trains with explanation rate %.2f "
            "(recorded as explanation_rate_achieved)",
            cfg.explanation_rate,
            wanted,
            len(candidates),
            len(train),
            len(candidates),
            len(candidates) / len(train) if len(train) else 0.0,
        )
    return set(select_rationale_rows(candidates, wanted, cfg.strategy, cfg.strategy_options, seed))


def _training_rows(
    rows: pd.DataFrame, keep_rationale: set[str], spec: TaskSpec, cfg: SubsamplingConfig
) -> pd.DataFrame:
    """The ``training_set`` columns for the chosen pool rows."""
    records = rows.to_dict("records")
    rationales = [
        _truncate_words(_clean_text(r["rationale"]), cfg.truncate_rationale_words)
        if str(r["id"]) in keep_rationale
        else None
        for r in records
    ]
    labels = [None if is_missing(r["label"]) else str(r["label"]) for r in records]
    targets = [
        None if label is None else spec.label_target(label, r)
        for label, r in zip(labels, records, strict=True)
    ]
    out = pd.DataFrame(
        {
            "id": rows["id"].astype(str),
            "split": rows["split"],
            "input": [spec.student_input(r) for r in records],
            "label": pd.Series(labels, dtype=object),
            "label_target": pd.Series(targets, dtype=object),
            "rationale_target": pd.Series(rationales, dtype=object),
            "rationale_words": [len(r.split()) if r else 0 for r in rationales],
            "label_source": rows["label_source"],
        }
    )
    for field in spec.input_fields:
        out[field] = rows[field].to_numpy()
    return out


def _label_row(
    row: Mapping[str, Any], spec: TaskSpec, labels_from: str
) -> tuple[str | None, str | None]:
    """One example's label and, when it cannot be used, why not."""
    source = "gold" if row["split"] == "test" else labels_from
    raw = row["gold_label"] if source == "gold" else row.get("teacher_label")
    label = _clean_label(spec, raw, row)
    if row["split"] == "test" or label is not None:
        return label, None
    if source == "gold":
        return None, "no_gold_label"
    if is_missing(row.get("annotated")):
        return None, "not_annotated"
    return None, "unparsed_label"


def _annotation_table(annotations: pd.DataFrame | None, needed: bool) -> pd.DataFrame:
    columns = ["id", "teacher_label", "rationale", "parse_status"]
    if annotations is None or annotations.empty:
        if needed:
            raise ValueError(
                "the annotations are empty but the configured mode/label_source needs the "
                "teacher's labels or rationales: run the annotation pipeline first"
            )
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*columns, "annotated"]})
    _require(annotations, columns, "annotations")
    notes = annotations[columns].copy()
    notes["id"] = notes["id"].astype(str)
    duplicated = notes["id"][notes["id"].duplicated()].unique()
    if len(duplicated):
        raise ValueError(f"annotations have duplicate ids, e.g. {list(duplicated[:5])}")
    notes["annotated"] = True
    return notes


def _clean_label(spec: TaskSpec, value: Any, row: Mapping[str, Any]) -> str | None:
    if not spec.is_valid_label(value):
        return None
    if spec.kind == "numeric":
        return canonical_number(str(value))
    return str(value)


def _clean_text(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = " ".join(str(value).split())
    return text or None


def _truncate_words(text: str | None, budget: int | None) -> str | None:
    if text is None or budget is None:
        return text
    words = text.split()
    return text if len(words) <= budget else " ".join(words[:budget])


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}")


def _log_exclusions(pool: pd.DataFrame) -> None:
    excluded = pool[pool["excluded"].notna()]
    if excluded.empty:
        return
    by = excluded.groupby(["split", "excluded"]).size()
    status = excluded["parse_status"].value_counts(dropna=False).to_dict()
    logger.warning(
        "excluded %d of %d train/valid rows: %s (teacher parse_status: %s)",
        len(excluded),
        int(pool["split"].isin(["train", "valid"]).sum()),
        ", ".join(f"{s}/{r}={n}" for (s, r), n in by.items()),
        status,
    )
