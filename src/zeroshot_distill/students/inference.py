"""Batched inference with a trained student: labels, rationales and label scores.

All functions take task rows in the ``examples`` shape (the task's input fields; a
DataFrame or a sequence of mappings), build the student input with the task spec and the
task prefix, process the rows in length-sorted batches (little padding) and return results
in the original row order. Decoding is greedy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from zeroshot_distill.students.data import IGNORE_INDEX, TaskPrefixes, as_records, pad
from zeroshot_distill.tasks.spec import TaskSpec

_DEFAULT = TaskPrefixes()


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
) -> list[str | None]:
    """Generate the label for each row and map it to the task's label set.

    Returns one label per row (a label of ``spec.label_set``, a canonical number for numeric
    tasks), or ``None`` where the generated text names no label.
    """
    records = as_records(rows)
    texts = generate_texts(
        model,
        tokenizer,
        [prefix + spec.student_input(r) for r in records],
        batch_size,
        max_input_length=max_input_length,
        max_new_tokens=max_new_tokens,
    )
    return [spec.normalize_label(t, r) for t, r in zip(texts, records, strict=True)]


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
) -> list[str]:
    """Generate the student's rationale for each row (the ``explain:`` task)."""
    records = as_records(rows)
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
    encoded = _encode(tokenizer, inputs, max_input_length)
    out: list[str] = [""] * len(inputs)
    try:
        for idx in _length_batches(encoded, batch_size):
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
) -> np.ndarray:
    """Log-probability of every candidate label's target text, per row (for uncertainty).

    Returns an array ``(n_rows, n_labels)`` in the order of ``spec.label_set`` (letters for
    multiple choice, scored through each row's option texts). Entropy or margin of
    ``softmax`` over a row gives an uncertainty score. Numeric tasks have no label set.
    """
    labels = spec.label_set
    if labels is None:
        raise ValueError(f"task {spec.name!r} is numeric: label scores need a finite label set")
    records = as_records(rows)
    was_training = model.training
    model.eval()
    encoded = _encode(
        tokenizer, [prefix + spec.student_input(r) for r in records], max_input_length
    )
    scores = np.zeros((len(records), len(labels)), dtype=np.float64)
    try:
        for idx in _length_batches(encoded, batch_size):
            input_ids = pad([encoded[i] for i in idx], tokenizer.pad_token_id).to(model.device)
            mask = (input_ids != tokenizer.pad_token_id).long()
            hidden = model.get_encoder()(input_ids=input_ids, attention_mask=mask)
            for j, label in enumerate(labels):
                targets = _encode(
                    tokenizer, [spec.label_target(label, records[i]) for i in idx], None
                )
                target_ids = pad(targets, IGNORE_INDEX).to(model.device)
                logits = model(
                    encoder_outputs=hidden,
                    attention_mask=mask,
                    decoder_input_ids=model.prepare_decoder_input_ids_from_labels(
                        labels=target_ids
                    ),
                    use_cache=False,
                ).logits
                logp = torch.log_softmax(logits.float(), dim=-1)
                keep = target_ids != IGNORE_INDEX
                picked = logp.gather(-1, target_ids.clamp_min(0).unsqueeze(-1)).squeeze(-1)
                scores[idx, j] = (picked * keep).sum(dim=1).cpu().numpy()
    finally:
        model.train(was_training)
    return scores


def _encode(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int | None
) -> list[list[int]]:
    if not texts:
        return []
    ids = tokenizer(list(texts))["input_ids"]
    if max_length is None:
        return [list(x) for x in ids]
    return [list(x) if len(x) <= max_length else [*x[: max_length - 1], x[-1]] for x in ids]


def _length_batches(encoded: Sequence[Sequence[int]], batch_size: int) -> Iterator[list[int]]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def accuracy(predicted: Sequence[str | None], gold: Sequence[Any]) -> float:
    """Share of rows whose predicted label equals the gold label (``None`` counts as wrong)."""
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold differ in length")
    if not gold:
        return 0.0
    hits = sum(p is not None and str(p) == str(g) for p, g in zip(predicted, gold, strict=True))
    return hits / len(gold)
