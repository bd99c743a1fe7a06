"""Nodes of the predict pipeline: a trained student labels new data."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from zeroshot_distill.examples import (
    standardize_columns,
    validate_examples,
)
from zeroshot_distill.students import StudentBundle, generate_rationales, read_labels
from zeroshot_distill.students.data import as_records
from zeroshot_distill.tasks import TaskSpec

logger = logging.getLogger(__name__)


def prepare_prediction_inputs(
    raw: pd.DataFrame, task: Mapping[str, Any], data_processing: Mapping[str, Any]
) -> pd.DataFrame:
    """Map and validate new rows exactly like training data; any bad row stops the run.

    Labels are optional here; when present they are kept so that accuracy can be reported.
    """
    standardized = standardize_columns(raw, task, data_processing)
    valid, _ = validate_examples(standardized, task, {**data_processing, "on_invalid": "error"})
    return valid.drop(columns=["split"])


def predict_new_examples(
    student: StudentBundle,
    inputs: pd.DataFrame,
    task: Mapping[str, Any],
    params: Mapping[str, Any],
) -> pd.DataFrame:
    """Label every row with the student; optionally explain.

    Labels are read as ``predict.label_decoding`` says (null: as the student was selected,
    ``score`` by default: the most likely label of the label set). Columns: ``id``, the
    input fields, ``student_output`` (generated text, or the chosen label's target text),
    ``student_label`` (normalised; null when a generated output names no label),
    ``student_confidence`` (the chosen label's probability, label scoring only),
    ``valid_output``, ``gold_label`` and ``correct`` when the input had labels,
    ``student_rationale`` if ``explain``.
    """
    spec = TaskSpec.from_params(task)
    records = as_records(inputs)
    batch_size = int(params.get("batch_size", 64))
    max_input_length = int(params.get("max_input_length", 512))
    readout = read_labels(
        student.model,
        student.tokenizer,
        spec,
        records,
        batch_size,
        prefix=student.prefixes["predict"],
        max_input_length=max_input_length,
        max_new_tokens=student.label_budget(params.get("max_new_tokens")),
        decoding=student.label_decoding(params.get("label_decoding")),
    )
    result = inputs.copy()
    result["student_output"] = readout.outputs
    result["student_label"] = pd.Series(readout.labels, dtype="object", index=result.index)
    if readout.probabilities is not None:
        result["student_confidence"] = readout.confidence
    result["valid_output"] = result["student_label"].notna()
    if result["gold_label"].notna().any():
        result["correct"] = result["student_label"] == result["gold_label"]
        labeled = result["gold_label"].notna()
        logger.info(
            "predict: accuracy %.3f on %d labeled rows",
            result.loc[labeled, "correct"].mean(),
            int(labeled.sum()),
        )
    if params.get("explain", False):
        result["student_rationale"] = generate_rationales(
            student.model,
            student.tokenizer,
            spec,
            records,
            batch_size,
            prefix=student.prefixes["explain"],
            max_input_length=max_input_length,
            rationale_decoder=student.rationale_decoder,
        )
    logger.info(
        "predict: %d rows, %d without a valid label",
        len(result),
        int((~result["valid_output"]).sum()),
    )
    return result.drop(columns=["reference_rationale"])
