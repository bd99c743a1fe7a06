"""ONNX export of a student's label scoring, and label scoring on the exported graph.

Label scoring (:func:`~zeroshot_distill.students.inference.label_log_probs`) needs one
number per (row, candidate label): the log-likelihood of the candidate's target tokens after
the row's input. The exported graph computes exactly that, so nothing of the model's
vocabulary-sized logits leaves the graph:

- inputs ``input_ids`` / ``attention_mask`` ``(rows, length)``: the encoder inputs (right
  padded) of a seq2seq student, the prompts (left padded) of a causal LM student;
- ``target_ids`` ``(candidates, T)``: every candidate's target tokens (end of sequence
  included), ``-100`` after its end;
- ``row_index`` ``(candidates,)``: the row each candidate belongs to;
- output ``scores`` ``(candidates,)``: the sum of the target tokens' log-probabilities.

A seq2seq student (T5, and encoder students: an ``EncoderDecoderModel``) runs its encoder
once per row inside the graph; the candidates share it through ``row_index``. A causal LM
student reads prompt and candidate as one sequence (positions from the mask, as in
training). Tokenising, length batching and candidate targets stay in Python, shared with the
PyTorch path. Exported with ``torch.onnx.export`` (TorchScript tracing; Hugging Face Optimum
does not install next to transformers 5), quantized to int8 with onnxruntime's
``quantize_dynamic`` (weights int8, activations quantized on the fly).
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from transformers.modeling_outputs import BaseModelOutput

from zeroshot_distill.students.data import IGNORE_INDEX, pad
from zeroshot_distill.students.model import (
    INFO_FILE,
    StudentBundle,
    load_tokenizer,
)

#: The exported graphs' files in an export directory, and its description.
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
EXPORT_INFO_FILE = "onnx_export.json"
#: The variants an export holds: ``fp32`` (the traced graph) and ``int8`` (dynamic
#: quantization of its weights).
VARIANTS = {"fp32": FP32_FILE, "int8": INT8_FILE}
OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "target_ids", "row_index")
_DYNAMIC_AXES = {
    "input_ids": {0: "rows", 1: "length"},
    "attention_mask": {0: "rows", 1: "length"},
    "target_ids": {0: "candidates", 1: "target_length"},
    "row_index": {0: "candidates"},
    "scores": {0: "candidates"},
}


class OnnxExportError(ValueError):
    """A student that cannot be exported, or an export that cannot be used as asked."""


def _target_scores(logits: torch.Tensor, target_ids: torch.Tensor) -> torch.Tensor:
    """Sum of the target tokens' log-probabilities per candidate (``-100``: no token)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    valid = target_ids != IGNORE_INDEX
    picked = log_probs.gather(2, target_ids.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * valid).sum(dim=1)


class Seq2SeqScorer(nn.Module):
    """The scoring graph of a seq2seq student: the encoder once per row, the decoder over
    every candidate (teacher forcing with the model's own decoder inputs)."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        target_ids: torch.Tensor,
        row_index: torch.Tensor,
    ) -> torch.Tensor:
        """``scores`` of each candidate; see the module docstring."""
        encoded = self.model.get_encoder()(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        decoder_ids = self.model.prepare_decoder_input_ids_from_labels(labels=target_ids)
        out = self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=encoded.index_select(0, row_index)),
            attention_mask=attention_mask.index_select(0, row_index),
            decoder_input_ids=decoder_ids,
            use_cache=False,
        )
        return _target_scores(out.logits, target_ids)


class CausalScorer(nn.Module):
    """The scoring graph of a causal LM student: left-padded prompt + candidate (without its
    last token) as one sequence, logits only at the candidate's positions."""

    def __init__(self, model: PreTrainedModel, pad_id: int):
        super().__init__()
        self.model = model
        self.pad_id = pad_id

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        target_ids: torch.Tensor,
        row_index: torch.Tensor,
    ) -> torch.Tensor:
        """``scores`` of each candidate; see the module docstring."""
        teacher = target_ids[:, :-1]
        ids = torch.cat(
            [
                input_ids.index_select(0, row_index),
                teacher.masked_fill(teacher == IGNORE_INDEX, self.pad_id),
            ],
            dim=1,
        )
        mask = torch.cat(
            [attention_mask.index_select(0, row_index), (teacher != IGNORE_INDEX).long()], dim=1
        )
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        logits = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False
        ).logits
        return _target_scores(logits[:, -target_ids.shape[1] :], target_ids)


@dataclass
class OnnxExport:
    """An exported student in memory: the graphs, the tokenizer and what describes them
    (what the ``student_onnx`` catalog entry saves)."""

    fp32: bytes
    int8: bytes | None
    tokenizer: PreTrainedTokenizerBase
    info: dict[str, Any] = field(default_factory=dict)
    export_info: dict[str, Any] = field(default_factory=dict)

    def save(self, directory: str | Path) -> None:
        """Write the graphs, tokenizer, training info and export description."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / FP32_FILE).write_bytes(self.fp32)
        if self.int8 is not None:
            (path / INT8_FILE).write_bytes(self.int8)
        self.tokenizer.save_pretrained(path)
        (path / INFO_FILE).write_text(json.dumps(self.info, indent=2, sort_keys=True, default=str))
        (path / EXPORT_INFO_FILE).write_text(json.dumps(self.export_info, indent=2, sort_keys=True))


def exportable_model(student: StudentBundle) -> PreTrainedModel:
    """The plain ``transformers`` model to trace: LoRA adapters merged into a copy of the
    base weights (the student itself is left as it is).

    Raises:
        OnnxExportError: a student quantized with bitsandbytes (QLoRA), which ONNX cannot
            express, or a model that is neither seq2seq nor a causal LM.
    """
    model = student.model
    if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
        raise OnnxExportError(
            "a student trained with `training.peft.quantization` (4/8-bit bitsandbytes "
            "weights) cannot be exported to ONNX: merge it into a full-precision model first "
            "(`python -m zeroshot_distill.students.export`) and export that, or keep "
            "`predict.runtime: torch`"
        )
    if hasattr(model, "peft_config"):
        model = copy.deepcopy(model).merge_and_unload()
    if student.family == "classifier":
        raise OnnxExportError(
            "classifier students are not exported by this pipeline yet: keep "
            "`predict.runtime: torch`, or export the saved student directory (an ordinary "
            "*ForSequenceClassification checkpoint) with Hugging Face Optimum: "
            "`optimum-cli export onnx --task text-classification --model <dir> <out>`"
        )
    if student.family not in ("seq2seq", "causal_lm"):
        raise OnnxExportError(
            f"student family {student.family!r} cannot be exported to ONNX (seq2seq and "
            "causal_lm can): set `training.student.family` to one of them, or keep "
            "`predict.runtime: torch`"
        )
    return model


def scoring_module(student: StudentBundle) -> nn.Module:
    """The label-scoring graph of ``student`` as a module to trace, in eval mode."""
    model = exportable_model(student)
    if student.family == "seq2seq":
        scorer: nn.Module = Seq2SeqScorer(model)
    else:
        scorer = CausalScorer(model, int(student.tokenizer.pad_token_id))
    return scorer.eval()


def _example_inputs(pad_id: int) -> tuple[torch.Tensor, ...]:
    """Two rows (one padded), two candidates each (one shorter): every branch a real batch
    takes, so that the trace records padding, masks and ``-100`` targets."""
    input_ids = torch.tensor([[5, 6, 7, 8], [5, 6, pad_id, pad_id]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    targets = torch.tensor([[9, 10, 1], [9, 1, IGNORE_INDEX]] * 2)
    return input_ids, mask, targets, torch.tensor([0, 0, 1, 1])


def export_student(
    student: StudentBundle, *, quantize: bool = True, opset: int = OPSET
) -> OnnxExport:
    """Trace ``student``'s label scoring to ONNX (and an int8 variant with ``quantize``).

    Raises:
        OnnxExportError: the student cannot be exported (see :func:`exportable_model`), or
            tracing failed (the message names the model type and the way out).
    """
    scorer = scoring_module(student)
    pad_id = int(student.tokenizer.pad_token_id or 0)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # TorchScript tracing warns about every Python branch on a tensor value
        # (transformers' mask helpers); the export is checked against PyTorch in the tests.
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                scorer,
                _example_inputs(pad_id),
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=list(_INPUTS),
                output_names=["scores"],
                dynamic_axes=_DYNAMIC_AXES,
            )
        except Exception as err:
            model_type = getattr(student.model.config, "model_type", "?")
            raise OnnxExportError(
                f"exporting the {student.family} student ({model_type}) to ONNX failed: "
                f"{type(err).__name__}: {err}. Keep `predict.runtime: torch` for this student."
            ) from err
    fp32 = buffer.getvalue()
    export_info = {
        "family": student.family,
        "model_type": getattr(student.model.config, "model_type", None),
        "vocab_size": int(student.model.get_output_embeddings().weight.shape[0]),
        "pad_token_id": pad_id,
        "opset": opset,
        "exporter": f"torch.onnx.export (TorchScript) torch {torch.__version__}",
        "inputs": list(_INPUTS),
        "outputs": ["scores"],
        "variants": ["fp32", "int8"] if quantize else ["fp32"],
        "num_parameters": student.num_parameters,
    }
    return OnnxExport(
        fp32=fp32,
        int8=quantize_int8(fp32) if quantize else None,
        tokenizer=student.tokenizer,
        info=dict(student.info),
        export_info=export_info,
    )


def quantize_int8(model: bytes) -> bytes:
    """``model`` with int8 weights (onnxruntime's ``quantize_dynamic``: MatMul weights as
    QInt8, activations quantized per call)."""
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, prepared, target = (Path(tmp, n) for n in ("in.onnx", "pre.onnx", INT8_FILE))
        source.write_bytes(model)
        # onnxruntime's recommended preparation: ONNX shape inference and graph optimisation
        # (its symbolic shape inference gives up on the causal graph).
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_dynamic(prepared, target, weight_type=QuantType.QInt8)
        return target.read_bytes()


class OnnxStudent:
    """An exported student loaded for label scoring with onnxruntime (one variant).

    Passed where the PyTorch model goes, it makes
    :func:`~zeroshot_distill.students.inference.label_log_probs` (and ``read_labels``,
    ``predict_labels``) score on the graph; generation is not exported.
    """

    def __init__(
        self,
        directory: str | Path,
        variant: str = "fp32",
        num_threads: int | None = None,
    ):
        import onnxruntime as ort

        path = Path(directory)
        if variant not in VARIANTS:
            raise OnnxExportError(
                f"`predict.onnx_variant` must be one of {sorted(VARIANTS)}, got {variant!r}"
            )
        graph = path / VARIANTS[variant]
        if not graph.is_file():
            raise OnnxExportError(
                f"no {variant} graph in the ONNX export {str(path)!r}: run `kedro run "
                "--pipelines=export` (with `export.quantize: true` for int8)"
            )
        self.directory = path
        self.variant = variant
        self.export_info: dict[str, Any] = json.loads((path / EXPORT_INFO_FILE).read_text())
        info_file = path / INFO_FILE
        self.info: dict[str, Any] = json.loads(info_file.read_text()) if info_file.exists() else {}
        self.tokenizer = load_tokenizer(str(path))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        threads = torch.get_num_threads() if num_threads is None else int(num_threads)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    @property
    def causal(self) -> bool:
        """Whether the exported student is a causal LM (prompts left padded)."""
        return self.export_info.get("family") == "causal_lm"

    @property
    def vocab_size(self) -> int:
        """Size of the output vocabulary (bounds the logits one call may hold)."""
        return int(self.export_info["vocab_size"])

    def score_candidates(
        self,
        inputs: Sequence[Sequence[int]],
        targets: Sequence[Sequence[int]],
        n_candidates: int,
    ) -> np.ndarray:
        """Scores ``(len(inputs), n_candidates)``: candidate ``j`` of row ``i`` is
        ``targets[i * n_candidates + j]``."""
        pad_id = int(self.export_info.get("pad_token_id") or 0)
        if self.causal:
            ids = pad(inputs, pad_id, left=True)
            mask = pad([[1] * len(r) for r in inputs], 0, left=True)
        else:
            ids = pad(inputs, pad_id)
            mask = pad([[1] * len(r) for r in inputs], 0)
        feeds = {
            "input_ids": ids.numpy(),
            "attention_mask": mask.numpy(),
            "target_ids": pad(targets, IGNORE_INDEX).numpy(),
            "row_index": np.repeat(np.arange(len(inputs), dtype=np.int64), n_candidates),
        }
        (scores,) = self.session.run(["scores"], feeds)
        return np.asarray(scores, dtype=np.float64).reshape(len(inputs), n_candidates)

    def as_bundle(self) -> StudentBundle:
        """This graph where a :class:`StudentBundle` goes (``predict``, the pyfunc model): its
        tokenizer, its training info (prefixes, label budget), labels read by scoring."""
        info = {**self.info, "label_decoding": "score"}
        return StudentBundle(model=self, tokenizer=self.tokenizer, info=info)  # type: ignore[arg-type]
