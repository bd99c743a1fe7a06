"""Nodes of the predict pipeline: a trained student labels new data, chunk by chunk."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from zeroshot_distill.examples import (
    standardize_columns,
    validate_examples,
)
from zeroshot_distill.students import StudentBundle, generate_rationales, read_labels
from zeroshot_distill.students.data import as_records
from zeroshot_distill.students.onnx_export import OnnxStudent
from zeroshot_distill.tasks import TaskSpec

logger = logging.getLogger(__name__)

#: ``predict.runtime`` values: the PyTorch student, or its ONNX export (``export`` pipeline).
RUNTIMES = ("torch", "onnx")


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
    on_batch: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Label every row with the student; optionally explain.

    Labels are read as ``predict.label_decoding`` says (null: as the student was selected,
    ``score`` by default: the most likely label of the label set). Columns: ``id``, the
    input fields, ``student_output`` (generated text, or the chosen label's target text),
    ``student_label`` (normalised; null when a generated output names no label),
    ``student_confidence`` (the chosen label's probability, label scoring only),
    ``valid_output``, ``gold_label`` and ``correct`` (null where a row has no gold label),
    ``student_rationale`` if ``explain``. ``on_batch`` gets each finished batch's row count.
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
        on_batch=on_batch,
    )
    if readout.decoding == "generate" and on_batch is not None:
        on_batch(len(records))
    result = inputs.copy()
    result["student_output"] = readout.outputs
    result["student_label"] = pd.Series(readout.labels, dtype="object", index=result.index)
    if readout.probabilities is not None:
        result["student_confidence"] = readout.confidence
    result["valid_output"] = result["student_label"].notna()
    labeled = result["gold_label"].notna()
    result["correct"] = (result["student_label"] == result["gold_label"]).astype("boolean")
    result.loc[~labeled, "correct"] = pd.NA
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
    return result.drop(columns=["reference_rationale"])


def runtime_student(
    student: StudentBundle, student_onnx: Path | None, params: Mapping[str, Any]
) -> StudentBundle:
    """The student that ``predict.runtime`` names: the PyTorch one, or the ONNX export
    (``predict.onnx_variant``: fp32 | int8) in a bundle that reads labels by scoring."""
    runtime = str(params.get("runtime") or "torch")
    if runtime not in RUNTIMES:
        raise ValueError(f"`predict.runtime` must be one of {list(RUNTIMES)}, got {runtime!r}")
    if runtime == "torch":
        return student
    if params.get("explain", False):
        raise ValueError(
            "`predict.explain: true` generates rationales, which the ONNX export does not hold: "
            "set `predict.runtime: torch` (or `predict.explain: false`)"
        )
    if student_onnx is None:
        raise ValueError(
            "`predict.runtime: onnx` but no ONNX export of the student exists: run `kedro run "
            "--pipelines=export` first (or pick one with --load-versions student_onnx:<version>)"
        )
    onnx = OnnxStudent(
        student_onnx,
        variant=str(params.get("onnx_variant") or "fp32"),
        num_threads=params.get("num_threads"),
    )
    logger.info("predict: ONNX runtime, %s graph of %s", onnx.variant, student_onnx)
    return onnx.as_bundle()


def predict_in_chunks(
    student: StudentBundle,
    student_onnx: Path | None,
    inputs: Iterable[pd.DataFrame] | pd.DataFrame,
    task: Mapping[str, Any],
    data_processing: Mapping[str, Any],
    params: Mapping[str, Any],
) -> PredictionChunks:
    """The predictions of every input chunk, made lazily while the output is saved.

    ``inputs``: the rows in chunks (``TaskFileChunks`` of the ``prediction_inputs`` entry;
    a frame is one chunk). Each chunk is mapped and validated like training data, labelled
    in length-sorted batches (:func:`predict_new_examples`) and handed to the output
    dataset, which writes it as one partition before the next chunk is read: memory holds
    one chunk, whatever the file's size. A progress bar counts rows and rows/s.
    """
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))
    chunks = [inputs] if isinstance(inputs, pd.DataFrame) else inputs
    total = len(inputs) if isinstance(inputs, pd.DataFrame) else getattr(inputs, "total_rows", None)
    reader = runtime_student(student, student_onnx, params)
    spec = TaskSpec.from_params(task)
    id_column = data_processing.get("id_column") or "id"
    width = max(4, len(str(total or 0)))

    def predict_chunk(chunk: pd.DataFrame, on_batch: Callable[[int], None]) -> pd.DataFrame:
        if id_column not in chunk.columns:  # the whole file's row numbers, not the chunk's
            ids = [f"{spec.name}-{i + 1:0{width}d}" for i in chunk.index]
            chunk = chunk.assign(**{id_column: ids})
        rows = prepare_prediction_inputs(chunk, task, data_processing)
        return _uniform_columns(predict_new_examples(reader, rows, task, params, on_batch))

    return PredictionChunks(chunks, predict_chunk, total, bool(params.get("progress", True)))


class PredictionChunks:
    """Predicted chunks, made while iterated (once); counts what went by for the summary."""

    def __init__(
        self,
        chunks: Iterable[pd.DataFrame],
        predict_chunk: Callable[[pd.DataFrame, Callable[[int], None]], pd.DataFrame],
        total: int | None,
        progress: bool,
    ) -> None:
        self._chunks = chunks
        self._predict_chunk = predict_chunk
        self.total = total
        self._progress = progress
        self.rows = 0
        self.invalid = 0
        self.labeled = 0
        self.correct = 0
        self.seconds = 0.0
        self.head: pd.DataFrame | None = None

    def __iter__(self) -> Iterator[pd.DataFrame]:
        began = time.perf_counter()
        bar = tqdm(
            total=self.total,
            desc="predict",
            unit="rows",
            unit_scale=True,
            mininterval=1.0,
            disable=not self._progress,
        )
        try:
            for chunk in self._chunks:
                result = self._predict_chunk(chunk, bar.update)
                self._count(result)
                yield result
        finally:
            bar.close()
            self.seconds = time.perf_counter() - began
        logger.info(
            "predict: %d rows in %.1f s (%.1f rows/s), %d without a valid label",
            self.rows,
            self.seconds,
            self.rows_per_s,
            self.invalid,
        )

    @property
    def rows_per_s(self) -> float:
        """Rows labelled per second, reading and writing included."""
        return self.rows / self.seconds if self.seconds else 0.0

    def _count(self, result: pd.DataFrame) -> None:
        self.rows += len(result)
        self.invalid += int((~result["valid_output"].astype(bool)).sum())
        correct = result["correct"].dropna()
        self.labeled += len(correct)
        self.correct += int(correct.astype(bool).sum())
        if self.head is None:
            self.head = result.head(3)

    def summary_lines(self) -> list[str]:
        """The run summary's lines: rows, rows without a label, accuracy, speed, first rows."""
        first = f"{self.rows} rows labelled, {self.invalid} without a label"
        if self.labeled:
            first += f", accuracy {self.correct / self.labeled:.1%}"
        first += f" ({self.rows_per_s:,.0f} rows/s)"
        lines = [first]
        if self.head is not None and len(self.head):
            shown = [c for c in ("id", "student_label", "gold_label") if c in self.head]
            head = self.head[shown].astype(str)
            lines += ["  " + row for row in head.to_string(index=False).splitlines()]
        return lines


def _uniform_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas strings, so that every partition has the same Parquet schema
    (a chunk without any gold label would otherwise write a column of type null)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object and pd.api.types.infer_dtype(values) in ("string", "empty"):
            out[column] = values.astype("string")
    return out
