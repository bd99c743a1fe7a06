"""Raw task rows in, validated and split ``examples`` out (the examples contract).

The data_processing pipeline prepares training data with these functions and the predict
pipeline prepares new rows with the same ones, so both read data identically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from zeroshot_distill.tasks import TaskSpec
from zeroshot_distill.tasks.values import is_missing
from zeroshot_distill.teachers.prompt_guard import (
    ON_OVERSIZE,
    max_prompt_tokens,
    row_prompt_tokens,
    truncate_to_fit,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "validation": "valid",
    "dev": "valid",
    "val": "valid",
    "test": "test",
}
# Rows named in an error message; more would drown the message.
_MAX_ROWS_IN_ERROR = 5


class ExampleValidationError(ValueError):
    """Input rows break the task's contract; the message names the rows and the field."""


def standardize_columns(
    raw: pd.DataFrame, task: Mapping[str, Any], params: Mapping[str, Any]
) -> pd.DataFrame:
    """Rename source columns to the examples schema and normalise ids, splits and labels.

    Applies ``column_mapping`` (source -> field) and ``label_mapping`` (raw value -> label),
    takes ids from ``id_column`` (a missing, NaN or blank one becomes ``None``, which
    :func:`validate_examples` refuses), or, when the source has no such column, makes them
    from each row's content (:func:`content_ids`), and maps split names such as
    ``validation``/``dev`` to ``valid``. Rows keep their order; nothing is dropped here.
    """
    spec = TaskSpec.from_params(task)
    mapping = dict(params.get("column_mapping") or {})
    targets = [t for s, t in mapping.items() if s in raw.columns]
    clashes = sorted({t for t in targets if targets.count(t) > 1})
    if clashes:
        raise ExampleValidationError(
            f"data_processing.column_mapping maps several source columns onto {clashes}"
        )
    df = raw.rename(columns={s: t for s, t in mapping.items() if s in raw.columns}).copy()

    missing = [f for f in spec.input_fields if f not in df.columns]
    if missing:
        raise ExampleValidationError(
            f"source has no column for task field(s) {missing} of task {spec.name!r}; "
            f"columns present: {sorted(map(str, raw.columns))}. Map them with "
            "data_processing.column_mapping (source_column: field)."
        )

    id_column = params.get("id_column") or "id"
    if id_column in df.columns:
        df["id"] = [_source_id(v) for v in df[id_column]]
    else:
        df["id"] = content_ids(df, spec)
        logger.info(
            "data_processing: the source has no id column %r (data_processing.id_column): "
            "each row's id is made from a hash of its content (%s), stable across runs",
            id_column,
            ", ".join(spec.input_fields),
        )

    df["split"] = [_normalise_split(v) for v in df["split"]] if "split" in df.columns else None

    if spec.kind == "multiple_choice":
        df[spec.choices_field] = [_as_list(v) for v in df[spec.choices_field]]
    label_mapping = {str(k): str(v) for k, v in (params.get("label_mapping") or {}).items()}
    if "gold_label" not in df.columns:
        df["gold_label"] = None
    choices = df[spec.choices_field] if spec.kind == "multiple_choice" else [None] * len(df)
    df["gold_label"] = [
        _normalise_label(v, spec, label_mapping, c)
        for v, c in zip(df["gold_label"], choices, strict=True)
    ]
    if "reference_rationale" not in df.columns:
        df["reference_rationale"] = None
    df["reference_rationale"] = [
        None if is_missing(v) else str(v).strip() or None for v in df["reference_rationale"]
    ]

    columns = ["id", "split", *spec.input_fields, "gold_label", "reference_rationale"]
    return df[columns].reset_index(drop=True)


def content_ids(df: pd.DataFrame, spec: TaskSpec) -> list[str]:
    """``<task>-<12 hex digits>`` from a hash of each row's input fields and gold label.

    The same row gets the same id in every run, whatever its position or the rows around it
    (a reordered or appended file keeps its ids, so cached answers still join their rows);
    identical rows get ``-2``, ``-3``, ... after the first, in file order.
    """
    columns = [c for c in (*spec.input_fields, "gold_label") if c in df.columns]
    seen: dict[str, int] = {}
    ids = []
    for record in df[columns].to_dict("records"):
        content = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
        digest = hashlib.sha256(content.encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
        ids.append(f"{spec.name}-{digest}{suffix}")
    return ids


def validate_examples(
    examples: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
    teacher: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row against the task; raise naming the first bad rows, or set them aside.

    Checks: a missing (null, NaN, blank) or duplicate id, a missing required field, empty
    text, a nested value (dict or list) where text is expected, a gold label outside the
    label set, a wrong number of choices. With ``on_invalid: error`` (default) the first
    offending rows are named (row number, id, field, reason); with ``on_invalid: drop`` they
    are returned as ``rejected_examples`` with a ``reason`` column. No row vanishes silently.

    Then, given the ``teacher`` parameters, the prompt-size guard (before any teacher call):
    a row whose prompt would exceed ``teacher.max_prompt_tokens`` is, by ``on_oversize``, an
    error naming it (default), dropped to ``rejected_examples`` or truncated to fit.
    """
    spec = TaskSpec.from_params(task)
    on_invalid = params.get("on_invalid", "error")
    if on_invalid not in {"error", "drop"}:
        raise ValueError(
            f"data_processing.on_invalid must be 'error' or 'drop', got {on_invalid!r}"
        )
    on_oversize = params.get("on_oversize", "error")
    if on_oversize not in ON_OVERSIZE:
        raise ValueError(
            f"data_processing.on_oversize must be one of {list(ON_OVERSIZE)}, got {on_oversize!r}"
        )

    problems = _row_problems(examples, spec)
    if problems and on_invalid == "error":
        message = _describe_problems(examples, problems)
        if _every_label_invalid(examples, problems):
            message = _NO_LABEL_MATCHES + message
        raise ExampleValidationError(message)
    examples = examples.copy()
    # No teacher block (predict: only the student reads the rows): no prompt to guard.
    limit = None if teacher is None else max_prompt_tokens(teacher)
    if limit is not None:
        _guard_prompt_sizes(examples, spec, limit, on_oversize, problems)
    return _set_aside(examples, problems, list(spec.text_fields))


def _row_problems(examples: pd.DataFrame, spec: TaskSpec) -> dict[int, tuple[str, str]]:
    """Row position -> (field, reason) of its first problem against the task's contract."""
    problems: dict[int, tuple[str, str]] = {}

    def flag(position: int, field: str, reason: str) -> None:
        problems.setdefault(position, (field, reason))

    for position, row in enumerate(examples.itertuples(index=False)):
        record = row._asdict()
        if _source_id(record["id"]) is None:
            flag(position, "id", f"missing id (null, NaN or blank): {_ID_FIX}")
        for field in spec.text_fields:
            value = record[field]
            if isinstance(value, (Mapping, list, tuple, np.ndarray)):
                flag(position, field, _nested_reason(value))
            elif is_missing(value):
                flag(position, field, "missing value")
            elif not str(value).strip():
                flag(position, field, "empty text")
        if spec.kind == "multiple_choice":
            choices = record[spec.choices_field]
            if choices is None:
                flag(position, spec.choices_field, "missing value")
            elif len(choices) != spec.n_choices:
                flag(
                    position,
                    spec.choices_field,
                    f"{len(choices)} choices, the task needs {spec.n_choices}",
                )
            elif any(not str(c).strip() for c in choices):
                flag(position, spec.choices_field, "empty choice text")
        label = record["gold_label"]
        if not is_missing(label) and not spec.is_valid_label(label):
            choices = record.get(spec.choices_field) if spec.kind == "multiple_choice" else None
            flag(position, "gold_label", spec.label_problem(label, choices))

    first_row: dict[str, int] = {}
    for position, value in enumerate(examples["id"]):
        key = _source_id(value)
        if key is None:
            continue
        if key in first_row:
            flag(
                position,
                "id",
                f"duplicate id {key!r} (also row {first_row[key] + 1}): {_ID_FIX}",
            )
        else:
            first_row[key] = position
    return problems


_ID_FIX = (
    "give every row a unique id in the source's id column (data_processing.id_column), or "
    "remove that column to have ids made from each row's content"
)


def _source_id(value: Any) -> str | None:
    """An id as text; ``None`` for a missing (null, NaN) or blank one."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if text.strip() else None


def _nested_reason(value: Any) -> str:
    kind = "a dict" if isinstance(value, Mapping) else "a list"
    return (
        f"{kind} where text is expected ({str(value)[:60]!r}): flatten it into one string in "
        "the source, or map the column that holds the text with data_processing.column_mapping"
    )


def _guard_prompt_sizes(
    examples: pd.DataFrame,
    spec: TaskSpec,
    limit: int,
    on_oversize: str,
    problems: dict[int, tuple[str, str]],
) -> None:
    """Rows whose prompt exceeds ``limit``: raise (``error``), truncate ``examples`` in
    place (``truncate``) or add them to ``problems`` (``drop``)."""
    oversize = _oversize_rows(examples, spec, limit, skip=problems)
    if oversize and on_oversize == "error":
        raise ExampleValidationError(_describe_oversize(examples, oversize, limit))
    if oversize and on_oversize == "truncate":
        for position in oversize:
            fitted = truncate_to_fit(spec, examples.iloc[position].to_dict(), limit)
            for field in spec.text_fields:
                examples.iat[position, examples.columns.get_loc(field)] = fitted[field]
        logger.warning(
            "data_processing: %d row(s) truncated to fit teacher.max_prompt_tokens=%s "
            "(on_oversize=truncate): %s",
            len(oversize),
            limit,
            ", ".join(repr(examples["id"].iat[p]) for p in list(oversize)[:_MAX_ROWS_IN_ERROR]),
        )
    if oversize and on_oversize == "drop":
        for position, tokens in oversize.items():
            problems.setdefault(
                position,
                (_longest_field(examples, spec, position), _oversize_reason(tokens, limit)),
            )


def _set_aside(
    examples: pd.DataFrame, problems: Mapping[int, tuple[str, str]], text_fields: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The valid rows, and the rejected ones with ``row_number``, ``field`` and ``reason``."""
    bad = sorted(problems)
    rejected = examples.iloc[bad].copy()
    _nested_as_json(rejected, text_fields)
    rejected["row_number"] = [p + 1 for p in bad]
    rejected["field"] = [problems[p][0] for p in bad]
    rejected["reason"] = [problems[p][1] for p in bad]
    if bad:
        logger.warning(
            "data_processing: %d of %d rows rejected (on_invalid=drop); see rejected_examples. %s",
            len(bad),
            len(examples),
            _describe_problems(examples, problems),
        )
    valid = examples.drop(index=examples.index[bad]).reset_index(drop=True)
    return valid, rejected.reset_index(drop=True)


def _nested_as_json(frame: pd.DataFrame, fields: list[str]) -> None:
    """Nested values (refused) in text ``fields`` as JSON text, so that the rejected rows
    save to parquet as the rest of their column does."""
    for field in fields:
        if field in frame.columns:
            frame[field] = [
                json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, default=str)
                if isinstance(v, (Mapping, list, tuple, np.ndarray))
                else v
                for v in frame[field]
            ]


def split_examples(examples: pd.DataFrame, params: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """Assign train/valid/test deterministically, cap split sizes, optionally drop train labels.

    Rows whose source named a split keep it. The rest are shuffled with ``seed`` and carved
    into test and valid by ``splits.test_fraction`` / ``splits.valid_fraction`` — but a split
    the source already provides is not carved again (a source with train+test but no
    validation gets a validation set carved out of train).
    """
    splits_cfg = dict(params.get("splits") or {})
    valid_fraction = float(splits_cfg.get("valid_fraction", 0.15))
    test_fraction = float(splits_cfg.get("test_fraction", 0.2))
    for name, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"data_processing.splits.{name} must be in [0, 1), got {value}")
    if valid_fraction + test_fraction >= 1.0:
        raise ValueError(
            "data_processing.splits.valid_fraction + test_fraction must leave rows for train, "
            f"got {valid_fraction} + {test_fraction}"
        )

    df = examples.copy()
    rng = np.random.default_rng(seed)
    present = set(df["split"].dropna())
    # Rows without a split, plus the source's train rows when valid must be carved from them.
    carve_test = "test" not in present
    carve_valid = "valid" not in present
    pool_mask = df["split"].isna() | ((df["split"] == "train") & (carve_valid or carve_test))
    pool = df.index[pool_mask].to_numpy()
    pool = pool[rng.permutation(len(pool))]
    n_test = round(len(pool) * test_fraction) if carve_test else 0
    n_valid = round(len(pool) * valid_fraction) if carve_valid else 0
    df.loc[pool[:n_test], "split"] = "test"
    df.loc[pool[n_test : n_test + n_valid], "split"] = "valid"
    df.loc[pool[n_test + n_valid :], "split"] = "train"

    caps = dict(splits_cfg.get("max_rows") or {})
    unknown = sorted(set(caps) - set(SPLITS))
    if unknown:
        raise ValueError(f"data_processing.splits.max_rows has unknown splits {unknown}")
    keep = []
    for split in SPLITS:
        rows = df.index[df["split"] == split].to_numpy()
        cap = caps.get(split)
        if cap is not None and len(rows) > int(cap):
            if int(cap) < 0:
                raise ValueError(f"data_processing.splits.max_rows.{split} must be >= 0")
            rows = np.sort(rng.choice(rows, size=int(cap), replace=False))
        keep.extend(rows.tolist())
    df = df.loc[sorted(keep)]

    if params.get("unlabeled_train", False):
        df.loc[df["split"] == "train", "gold_label"] = None
    order = {name: i for i, name in enumerate(SPLITS)}
    df = df.sort_values("split", key=lambda s: s.map(order), kind="stable")
    return df.reset_index(drop=True)


def summarize_examples(
    examples: pd.DataFrame, rejected: pd.DataFrame
) -> dict[str, list[dict[str, float]]]:
    """Counts per split, labeled rows and rejected rows, for MLflow."""
    metrics: dict[str, float] = {
        "n_examples": float(len(examples)),
        "n_rejected": float(len(rejected)),
        "n_labeled": float(examples["gold_label"].notna().sum()),
        "n_with_reference_rationale": float(examples["reference_rationale"].notna().sum()),
    }
    for split in SPLITS:
        metrics[f"n_{split}"] = float((examples["split"] == split).sum())
    logger.info("examples: %s", ", ".join(f"{k}={int(v)}" for k, v in metrics.items()))
    return {name: [{"value": value, "step": 0}] for name, value in metrics.items()}


# --------------------------------------------------------------------------------- helpers


def _normalise_split(value: Any) -> str | None:
    if is_missing(value):
        return None
    split = _SPLIT_ALIASES.get(str(value).strip().lower())
    if split is None:
        raise ExampleValidationError(
            f"unknown split value {value!r}; use one of {sorted(_SPLIT_ALIASES)}"
        )
    return split


def _normalise_label(
    value: Any, spec: TaskSpec, label_mapping: Mapping[str, str], choices: Any = None
) -> str | None:
    """``label_mapping`` first (exact source value), then the task's own reading of it."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    mapped = label_mapping.get(str(value).strip())
    return spec.label_from_source(value if mapped is None else mapped, choices)


def _as_list(value: Any) -> list[str] | None:
    """Choices as a list: lists/arrays as they are, JSON or ``a|b|c`` strings from CSV."""
    if not isinstance(value, (list, tuple, np.ndarray)) and is_missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return [text]
        else:
            value = [part.strip() for part in text.split("|")]
    return [str(v) for v in list(value)]


def _oversize_rows(
    examples: pd.DataFrame, spec: TaskSpec, limit: int, skip: Mapping[int, Any]
) -> dict[int, int]:
    """Positions of rows (not already rejected) whose prompt estimate exceeds ``limit``."""
    found = {}
    for position, record in enumerate(examples.to_dict("records")):
        if position not in skip:
            tokens = row_prompt_tokens(spec, record)
            if tokens > limit:
                found[position] = tokens
    return found


def _longest_field(examples: pd.DataFrame, spec: TaskSpec, position: int) -> str:
    return max(spec.text_fields, key=lambda f: len(str(examples[f].iat[position])))


def _oversize_reason(tokens: int, limit: int | None) -> str:
    return f"prompt of ~{tokens:,} tokens exceeds teacher.max_prompt_tokens={limit:,}"


def _describe_oversize(
    examples: pd.DataFrame, oversize: Mapping[int, int], limit: int | None
) -> str:
    positions = sorted(oversize, key=lambda p: -oversize[p])
    shown = [
        f"row {p + 1} (id={examples['id'].iat[p]!r}): ~{oversize[p]:,} tokens"
        for p in positions[:_MAX_ROWS_IN_ERROR]
    ]
    more = f"; and {len(positions) - len(shown)} more" if len(positions) > len(shown) else ""
    return (
        f"{len(positions)} row(s) would send a prompt above teacher.max_prompt_tokens="
        f"{limit:,} (nothing was sent): " + "; ".join(shown) + more + ". Fix the source, "
        "set data_processing.on_oversize: drop (to rejected_examples) or truncate, or raise "
        "teacher.max_prompt_tokens (up to your model's context window)."
    )


_NO_LABEL_MATCHES = (
    "No gold label of the source matches the task's labels, so on_invalid: drop would drop "
    "every labeled row. Map the source's values with data_processing.label_mapping "
    "({source value: label}), check data_processing.column_mapping (which column is the "
    "label), or pick the task that fits the data (--params task_name=...). "
)


def _every_label_invalid(examples: pd.DataFrame, problems: Mapping[int, tuple[str, str]]) -> bool:
    labeled = int(examples["gold_label"].notna().sum())
    bad = sum(1 for field, _ in problems.values() if field == "gold_label")
    return labeled > 1 and bad == labeled


def _describe_problems(examples: pd.DataFrame, problems: Mapping[int, tuple[str, str]]) -> str:
    positions = sorted(problems)
    shown = positions[:_MAX_ROWS_IN_ERROR]
    lines = [
        f"row {p + 1} (id={_source_id(examples['id'].iat[p])!r}): field {problems[p][0]!r}: "
        f"{problems[p][1]}"
        for p in shown
    ]
    more = f"; and {len(positions) - len(shown)} more rows" if len(positions) > len(shown) else ""
    return (
        f"{len(positions)} invalid input row(s): "
        + "; ".join(lines)
        + more
        + ". Fix the source or set data_processing.on_invalid: drop to set them aside in "
        "rejected_examples."
    )
