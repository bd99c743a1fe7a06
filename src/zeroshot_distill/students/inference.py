"""Batched inference with a trained student: labels, rationales and label scores.

All functions take task rows in the ``examples`` shape (the task's input fields; a
DataFrame or a sequence of mappings), build the student input with the task spec and the
task prefix, process the rows in length-sorted batches (little padding) and return results
in the original row order. Labels of tasks with a label set are read by *label scoring*
(rank classification: the most likely candidate wins); generation is greedy. Seq2seq and
causal LM students take the same calls (the latter's prompts, scoring and generation are in
:mod:`zeroshot_distill.students.causal_lm`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from zeroshot_distill.students import causal_lm
from zeroshot_distill.students.classifier import (
    classifier_log_probs,
    generate_rationales_with_decoder,
    is_sequence_classifier,
)
from zeroshot_distill.students.data import (
    IGNORE_INDEX,
    TaskPrefixes,
    as_records,
    encode_targets,
    encode_texts,
    length_batches,
    pad,
)
from zeroshot_distill.students.kv_cache import cache_argument, output_cache
from zeroshot_distill.tasks.spec import TaskSpec

_DEFAULT = TaskPrefixes()
#: Most logits (rows x candidates x target tokens x vocabulary) one scoring pass may hold.
_MAX_LOGITS = 2**26


#: How a student's label is read: ``score`` ranks every candidate label by its
#: log-likelihood (always a valid label, one batched pass); ``generate`` decodes freely and
#: parses the text. Numeric tasks have no candidates and always generate.
LABEL_DECODINGS = ("score", "generate")
LabelDecoding = Literal["score", "generate"]


@runtime_checkable
class CandidateScorer(Protocol):
    """A student that scores candidates but is no PyTorch model (an exported ONNX graph,
    :class:`~zeroshot_distill.students.onnx_export.OnnxStudent`): passed as ``model`` to
    the label-scoring functions, it replaces the model's forward passes."""

    causal: bool
    vocab_size: int

    def score_candidates(
        self,
        inputs: Sequence[Sequence[int]],
        targets: Sequence[Sequence[int]],
        n_candidates: int,
    ) -> np.ndarray:
        """Scores ``(len(inputs), n_candidates)`` of candidate ``j`` of row ``i`` at
        ``targets[i * n_candidates + j]``."""
        ...


#: Called with the number of rows of each finished batch (a progress bar's update).
BatchCallback = Callable[[int], None]


def resolve_label_decoding(decoding: str | None, spec: TaskSpec) -> LabelDecoding:
    """The decoding actually used for ``spec``: ``score`` (the default) needs a label set,
    so a numeric task generates; an unknown value is an error naming the parameter."""
    value = "score" if decoding is None else str(decoding)
    if value not in LABEL_DECODINGS:
        raise ValueError(
            f"label_decoding must be one of {list(LABEL_DECODINGS)}, got {decoding!r} "
            "(set `label_decoding: score` or `generate` in the parameters)"
        )
    if spec.label_set is None:
        return "generate"
    return "score" if value == "score" else "generate"


@dataclass(frozen=True)
class LabelReadout:
    """The student's labels for a list of rows, and how they were read.

    ``outputs``: the generated text per row (``generate``) or the winning candidate's
    target text (``score``); ``labels``: the task label (``None`` where a generated text
    names none; never with ``score``); ``probabilities``: ``(n_rows, n_labels)`` over
    ``spec.label_set`` with ``score``, else ``None``.
    """

    decoding: LabelDecoding
    outputs: list[str]
    labels: list[str | None]
    probabilities: np.ndarray | None = None

    @property
    def confidence(self) -> list[float | None]:
        """Probability of each row's chosen label (``None`` without scores)."""
        if self.probabilities is None:
            return [None] * len(self.labels)
        return [float(p.max()) for p in self.probabilities]

    def records(self, label_set: Sequence[str] | None) -> list[dict[str, Any]]:
        """One JSON-ready answer per row: ``label``, and with scores ``confidence`` (the
        chosen label's probability) and ``probabilities`` (``{label: probability}`` over
        ``label_set``); what a served student answers."""
        if self.probabilities is None or not label_set:
            return [{"label": label} for label in self.labels]
        return [
            {
                "label": label,
                "confidence": float(row.max()),
                "probabilities": {
                    str(name): float(p) for name, p in zip(label_set, row, strict=True)
                },
            }
            for label, row in zip(self.labels, self.probabilities, strict=True)
        ]


def read_labels(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: TaskSpec,
    rows: Any,
    batch_size: int = 64,
    *,
    prefix: str = _DEFAULT.label,
    max_input_length: int = 512,
    max_new_tokens: int = 32,
    decoding: str | None = "score",
    on_batch: BatchCallback | None = None,
) -> LabelReadout:
    """The student's label for each row, as :class:`LabelReadout`.

    With ``decoding="score"`` (the default for tasks with a label set) every candidate label
    is scored by :func:`label_log_probs` and the most likely one wins: every output is a
    label of ``spec.label_set``, with a probability per label. With ``"generate"`` (always
    for numeric tasks) the label is decoded greedily and mapped to the label set (a
    canonical number for numeric tasks), ``None`` where the text names no label.
    ``on_batch`` is called with each finished batch's row count (label scoring).
    """
    records = as_records(rows)
    mode = resolve_label_decoding(decoding, spec)
    if is_sequence_classifier(model):  # a head has nothing to generate: it scores
        mode = "score"
    if mode == "generate" and isinstance(model, CandidateScorer):
        raise ValueError(
            f"an exported (ONNX) student reads labels by label scoring only, but task "
            f"{spec.name!r} would be read by generation ("
            + ("a numeric task" if spec.label_set is None else "label_decoding: generate")
            + "): set `predict.runtime: torch`"
            + ("" if spec.label_set is None else " or `predict.label_decoding: score`")
        )
    if mode == "score":
        labels = spec.label_set or []
        probs = label_probabilities(
            model,
            tokenizer,
            spec,
            records,
            batch_size,
            prefix=prefix,
            max_input_length=max_input_length,
            on_batch=on_batch,
        )
        chosen = [labels[int(i)] for i in np.argmax(probs, axis=1)] if len(records) else []
        outputs = [spec.label_target(c, r) for c, r in zip(chosen, records, strict=True)]
        return LabelReadout(mode, outputs, list(chosen), probs)
    texts = generate_texts(
        model,
        tokenizer,
        [prefix + spec.student_input(r) for r in records],
        batch_size,
        max_input_length=max_input_length,
        max_new_tokens=max_new_tokens,
    )
    parsed = [spec.normalize_label(t, r) for t, r in zip(texts, records, strict=True)]
    return LabelReadout(mode, texts, parsed)


def predict_labels(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: TaskSpec,
    rows: Any,
    batch_size: int = 64,
    *,
    prefix: str = _DEFAULT.label,
    max_input_length: int = 512,
    max_new_tokens: int = 32,
    decoding: str | None = "score",
) -> list[str | None]:
    """The student's label for each row (:func:`read_labels` without the details):
    scored among the label set by default, generated for numeric tasks."""
    return read_labels(
        model,
        tokenizer,
        spec,
        rows,
        batch_size,
        prefix=prefix,
        max_input_length=max_input_length,
        max_new_tokens=max_new_tokens,
        decoding=decoding,
    ).labels


def label_probabilities(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: TaskSpec,
    rows: Any,
    batch_size: int = 64,
    *,
    prefix: str = _DEFAULT.label,
    max_input_length: int = 512,
    on_batch: BatchCallback | None = None,
) -> np.ndarray:
    """Probability of each candidate label per row (softmax of :func:`label_log_probs`
    over the candidates), ``(n_rows, n_labels)`` in the order of ``spec.label_set``."""
    scores = label_log_probs(
        model,
        tokenizer,
        spec,
        rows,
        batch_size,
        prefix=prefix,
        max_input_length=max_input_length,
        on_batch=on_batch,
    )
    if len(scores) == 0:
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def generate_rationales(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: TaskSpec,
    rows: Any,
    batch_size: int = 32,
    *,
    prefix: str = _DEFAULT.rationale,
    max_input_length: int = 512,
    max_new_tokens: int = 128,
    rationale_decoder: PreTrainedModel | None = None,
) -> list[str]:
    """Generate the student's rationale for each row (the ``explain:`` task); a classifier
    student writes it with its ``rationale_decoder`` (``StudentBundle.rationale_decoder``)."""
    records = as_records(rows)
    if is_sequence_classifier(model):
        if rationale_decoder is None:
            raise ValueError(
                "this classifier student has no rationale decoder (it was trained or saved "
                "without one), so it cannot explain: read its labels only"
            )
        return generate_rationales_with_decoder(
            model,
            rationale_decoder,
            tokenizer,
            [spec.student_input(r) for r in records],
            batch_size,
            max_input_length=max_input_length,
            max_new_tokens=max_new_tokens,
        )
    return generate_texts(
        model,
        tokenizer,
        [prefix + spec.student_input(r) for r in records],
        batch_size,
        max_input_length=max_input_length,
        max_new_tokens=max_new_tokens,
    )


@torch.inference_mode()
def generate_texts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    inputs: Sequence[str],
    batch_size: int,
    *,
    max_input_length: int,
    max_new_tokens: int,
) -> list[str]:
    """Greedy generation for raw input strings, batched by length, in input order."""
    was_training = model.training
    model.eval()
    causal = causal_lm.is_causal_lm(model)
    encoded = _encode(tokenizer, inputs, max_input_length, causal=causal)
    out: list[str] = [""] * len(inputs)
    try:
        for idx in length_batches(encoded, batch_size):
            if causal:
                texts = causal_lm.generate_batch(
                    model, tokenizer, [encoded[i] for i in idx], max_new_tokens
                )
                for i, text in zip(idx, texts, strict=True):
                    out[i] = text
                continue
            input_ids = pad([encoded[i] for i in idx], tokenizer.pad_token_id).to(model.device)
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=(input_ids != tokenizer.pad_token_id).long(),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
            )
            texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
            for i, text in zip(idx, texts, strict=True):
                out[i] = text.strip()
    finally:
        model.train(was_training)
    return out


@torch.inference_mode()
def label_log_probs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: TaskSpec,
    rows: Any,
    batch_size: int = 64,
    *,
    prefix: str = _DEFAULT.label,
    max_input_length: int = 512,
    on_batch: BatchCallback | None = None,
) -> np.ndarray:
    """Log-likelihood of every candidate label's target text after the input, per row.

    Returns an array ``(n_rows, n_labels)`` in the order of ``spec.label_set`` (letters for
    multiple choice, scored through each row's target for the letter, see
    :meth:`TaskSpec.label_target`): the sum of the target tokens' log-probabilities,
    end-of-sequence included, i.e. the log-probability of the whole target. The encoder
    (a causal LM: the prompt) runs once per row; all candidates of a batch go through the
    decoder together. Numeric tasks have no label set. ``model`` may also be a
    :class:`CandidateScorer` (an exported graph), which then scores the same batches.
    ``on_batch`` is called with each finished batch's row count.
    """
    labels = spec.label_set
    if labels is None:
        raise ValueError(f"task {spec.name!r} is numeric: label scores need a finite label set")
    records = as_records(rows)
    if is_sequence_classifier(model):  # the head's log-probabilities; no prefix
        return classifier_log_probs(
            model,
            tokenizer,
            [spec.student_input(r) for r in records],
            labels,
            batch_size,
            max_input_length,
        )
    n_labels = len(labels)
    scorer = model if isinstance(model, CandidateScorer) else None
    was_training = scorer is None and model.training
    if scorer is None:
        model.eval()
    causal = scorer.causal if scorer is not None else causal_lm.is_causal_lm(model)
    encoded = _encode(
        tokenizer,
        [prefix + spec.student_input(r) for r in records],
        max_input_length,
        causal=causal,
    )
    scores = np.zeros((len(records), n_labels), dtype=np.float64)
    # Classification targets are the same for every row: tokenize them once.
    shared = (
        None
        if spec.kind == "multiple_choice"
        else encode_targets(tokenizer, [spec.label_target(label, {}) for label in labels])
    )
    vocab = (
        scorer.vocab_size
        if scorer is not None
        else int(model.get_output_embeddings().weight.shape[0])
    )
    try:
        for batch in length_batches(encoded, batch_size):
            targets = (
                shared * len(batch)
                if shared is not None
                else encode_targets(
                    tokenizer,
                    [spec.label_target(label, records[i]) for i in batch for label in labels],
                )
            )
            # Rows per forward pass so that the logits stay under _MAX_LOGITS floats (a big
            # vocabulary times long option texts would otherwise need gigabytes).
            longest = max(len(t) for t in targets)
            rows = max(1, min(len(batch), _MAX_LOGITS // (n_labels * longest * vocab)))
            for start in range(0, len(batch), rows):
                idx = batch[start : start + rows]
                chunk = targets[start * n_labels : (start + rows) * n_labels]
                if scorer is not None:
                    scores[idx] = scorer.score_candidates(
                        [encoded[i] for i in idx], chunk, n_labels
                    )
                    continue
                if causal:
                    prompt_ids, prompt_mask = causal_lm.pad_prompts(
                        [encoded[i] for i in idx], tokenizer.pad_token_id
                    )
                    token_logp = causal_lm.target_log_probs(
                        model,
                        prompt_ids.to(model.device),
                        prompt_mask.to(model.device),
                        pad(chunk, IGNORE_INDEX).to(model.device),
                        n_labels,
                        tokenizer.pad_token_id,
                    )
                    scores[idx] = token_logp.sum(dim=1).view(len(idx), n_labels).cpu().numpy()
                    continue
                input_ids = pad([encoded[i] for i in idx], tokenizer.pad_token_id)
                token_logp = _target_log_probs(
                    model,
                    input_ids.to(model.device),
                    (input_ids != tokenizer.pad_token_id).to(model.device),
                    pad(chunk, IGNORE_INDEX).to(model.device),
                    n_labels,
                )
                scores[idx] = token_logp.sum(dim=1).view(len(idx), n_labels).cpu().numpy()
            if on_batch is not None:
                on_batch(len(batch))
    finally:
        if scorer is None:
            model.train(was_training)
    return scores


def _target_log_probs(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    target_ids: torch.Tensor,
    n_candidates: int,
) -> torch.Tensor:
    """Log-probability of each target token, ``(rows * n_candidates, target length)``, 0
    at padding; candidate ``j`` of row ``i`` is target row ``i * n_candidates + j``.

    The encoder and the first decoder step run once per row; their cache (the
    cross-attention keys and values over the input, the largest cost for short targets)
    is then repeated for the candidates, which go through the decoder together.
    """
    mask = mask.long()
    encoder_outputs = model.get_encoder()(input_ids=input_ids, attention_mask=mask)
    decoder_ids = model.prepare_decoder_input_ids_from_labels(labels=target_ids)
    first = model(
        encoder_outputs=encoder_outputs,
        attention_mask=mask,
        decoder_input_ids=decoder_ids[::n_candidates, :1],
        use_cache=True,
    )
    logits = [first.logits.float().repeat_interleave(n_candidates, 0)]
    if target_ids.shape[1] > 1:
        name = cache_argument(model)
        cache = output_cache(first)
        cache.batch_repeat_interleave(n_candidates)
        encoder_outputs.last_hidden_state = encoder_outputs.last_hidden_state.repeat_interleave(
            n_candidates, 0
        )
        rest = model(
            encoder_outputs=encoder_outputs,
            attention_mask=mask.repeat_interleave(n_candidates, 0),
            decoder_input_ids=decoder_ids[:, 1:],
            use_cache=True,
            **{name: cache},
        )
        logits.append(rest.logits.float())
    return -torch.nn.functional.cross_entropy(
        torch.cat(logits, dim=1).transpose(1, 2),
        target_ids,
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )


def _encode(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    *,
    causal: bool = False,
) -> list[list[int]]:
    if not texts:
        return []
    if causal:
        return causal_lm.prompt_ids(tokenizer, texts, max_length)
    return encode_texts(tokenizer, texts, max_length)


def accuracy(predicted: Sequence[str | None], gold: Sequence[Any]) -> float:
    """Share of rows whose predicted label equals the gold label (``None`` counts as wrong)."""
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold differ in length")
    if not gold:
        return 0.0
    hits = sum(p is not None and str(p) == str(g) for p, g in zip(predicted, gold, strict=True))
    return hits / len(gold)
