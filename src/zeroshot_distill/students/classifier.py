"""Classifier students: a classification head on an encoder, the rationale an auxiliary task.

The student a practitioner picks for a label task (transformers' ``run_glue.py``): the
label comes from a sequence-classification head on a pretrained encoder (BERT, RoBERTa,
DeBERTa-v3, ModernBERT, MiniLM; a hub id or a local directory) or, for tests and demos, on a
tiny random one built from an ``architecture`` with a ``model_type``. Distilling
step-by-step's rationale task stays, as an auxiliary objective: a small decoder trained from
scratch (BERT architecture with cross-attention, ``training.student.decoder``) writes the
teacher's rationale from the same encoder states. One encoder pass per example feeds both::

    loss = alpha * CE(head logits, label) + (1 - alpha) * CE(decoder logits, rationale tokens)

the rationale term only over the examples that kept a rationale.

Why not the ``encoder`` family (encoder under a decoder that also writes the label): there the
label depends on the input only once the random cross-attention has learned to read the
encoder; on real e-SNLI answers it collapsed to one label while the label loss still fell
(the label target's end token is trivially predictable). A head reads the pretrained
features from the first step (README, "Students that learn real tasks").

Saved student directory: the classifier itself (``AutoModelForSequenceClassification``
loads it; ``id2label`` is the task's label set, so any transformers tool can serve it) plus
:data:`DECODER_DIR` with the rationale decoder, used only to explain.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    BertLMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from zeroshot_distill.students.data import (
    IGNORE_INDEX,
    EncodedExample,
    TaskPrefixes,
    encode_examples,
    encode_texts,
    end_of_sequence_id,
    length_batches,
    pad,
)
from zeroshot_distill.students.encoder_decoder import (
    ENCODER_MODEL_TYPES,
    _build_decoder,
    _input_position_limit,
    _refuse_unknown_keys,
    _start_from_encoder_embeddings,
    is_bare_encoder,
)
from zeroshot_distill.students.loss import MultiTaskLoss, multitask_loss
from zeroshot_distill.students.model import (
    BYT5,
    StudentBundle,
    StudentConfig,
    StudentLoadError,
    _from_pretrained,
    load_tokenizer,
)

logger = logging.getLogger(__name__)

#: Sub-directory of a saved classifier student that holds its rationale decoder.
DECODER_DIR = "rationale_decoder"


def is_sequence_classifier(model: Any) -> bool:
    """Whether ``model`` is a transformers ``*ForSequenceClassification`` model."""
    return type(model).__name__.endswith("ForSequenceClassification")


def load_classifier_student(
    cfg: StudentConfig, labels: Sequence[str] | None, seed: int | None = None
) -> StudentBundle:
    """Build a classifier student: the encoder with a new head over ``labels``, and a
    rationale decoder from scratch (``cfg.decoder``, default 2 layers as wide as the encoder).

    ``info["new_parameters"]`` names the parameters the checkpoint did not have (the head,
    the decoder): they take ``training.new_learning_rate``.

    Raises:
        StudentLoadError: no label set (a numeric task), a checkpoint that is not a bare
            encoder, a missing directory or an offline hub id, or an invalid ``decoder``.
    """
    if not labels:
        raise StudentLoadError(
            "a classifier student needs the task's label set, and none was given (numeric "
            "tasks have none; active_distill trains students that write labels as text): "
            "set `training.student.family: encoder` (the label is generated) or pick a T5 "
            "or decoder-only student"
        )
    tokenizer = load_tokenizer(cfg.tokenizer or cfg.name_or_path or BYT5)
    head = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.architecture is not None:
        model = _build_random_classifier(cfg.architecture, tokenizer, head)
        source, new_names = f"random {model.config.model_type} (architecture)", None
    else:
        name = cfg.name_or_path or ""
        checkpoint = _from_pretrained(AutoConfig, name, "model")
        if not is_bare_encoder(checkpoint):
            raise StudentLoadError(
                f"{name!r} is not a bare encoder (model_type {checkpoint.model_type!r}): "
                "`training.student.family: classifier` needs a BERT-like checkpoint (BERT, "
                "RoBERTa, DeBERTa-v3, ModernBERT, MiniLM)"
            )
        model, loading = _from_pretrained(
            AutoModelForSequenceClassification, name, "model", output_loading_info=True, **head
        )
        source, new_names = name, set(loading.get("missing_keys") or ())
        logger.info(
            "classifier student: %s (%s) with a new %d-label head and a rationale decoder "
            "trained from scratch; transformers' load report lists the new head as MISSING and "
            "the checkpoint's own head (e.g. cls.*) as UNEXPECTED: expected",
            name,
            checkpoint.model_type,
            len(labels),
        )
    decoder = build_rationale_decoder(cfg.decoder, model, tokenizer)
    info = {
        "source": cfg.source,
        "family": "classifier",
        "student_kind": "classifier",
        "encoder": source,
        "encoder_model_type": model.config.model_type,
        "labels": list(labels),
        "decoder_layers": decoder.config.num_hidden_layers,
        "max_input_positions": _input_position_limit(model.config),
        "max_target_positions": decoder.config.max_position_embeddings,
    }
    names = {n for n, _ in model.named_parameters()}
    info["new_parameters"] = sorted(names if new_names is None else names & new_names)
    return StudentBundle(model=model, tokenizer=tokenizer, info=info, rationale_decoder=decoder)


def _build_random_classifier(
    architecture: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase, head: dict[str, Any]
) -> PreTrainedModel:
    settings = dict(architecture)
    model_type = settings.pop("model_type", None)
    if model_type not in ENCODER_MODEL_TYPES:
        raise StudentLoadError(
            f"`training.student.architecture.model_type` must be one of "
            f"{sorted(ENCODER_MODEL_TYPES)} for a classifier student, got {model_type!r}"
        )
    config_class = type(AutoConfig.for_model(model_type))
    _refuse_unknown_keys(config_class, settings, "training.student.architecture")
    try:
        config = AutoConfig.for_model(
            model_type,
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            **settings,
            **head,
        )
        return AutoModelForSequenceClassification.from_config(config)
    except (TypeError, ValueError) as err:
        raise StudentLoadError(
            f"invalid `training.student.architecture` {dict(architecture)}: {err}"
        ) from err


def build_rationale_decoder(
    settings: Mapping[str, Any] | None,
    encoder: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
) -> BertLMHeadModel:
    """The rationale decoder: a BERT decoder with cross-attention over the encoder's states
    (as wide as the encoder: its cross-attention reads them without a projection), its
    embeddings started from the encoder's."""
    width = encoder.config.hidden_size
    if settings and int(settings.get("hidden_size", width)) != width:
        raise StudentLoadError(
            f"`training.student.decoder.hidden_size` must equal the encoder's hidden size "
            f"({width}) for a classifier student: leave it out"
        )
    decoder = _build_decoder(settings, encoder, tokenizer)
    _start_from_encoder_embeddings(decoder, encoder, len(tokenizer))
    decoder.config.decoder_start_token_id = decoder_start_id(tokenizer)
    return decoder


def decoder_start_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The token a rationale starts from: cls, else bos, else pad."""
    for token in (tokenizer.cls_token_id, tokenizer.bos_token_id, tokenizer.pad_token_id):
        if token is not None:
            return int(token)
    raise StudentLoadError(
        f"tokenizer {type(tokenizer).__name__} has no cls, bos or pad token to start a "
        "rationale from: set `training.student.tokenizer` to another tokenizer"
    )


def load_rationale_decoder(directory: Path) -> BertLMHeadModel | None:
    """The rationale decoder saved next to a classifier student, ``None`` without one."""
    path = directory / DECODER_DIR
    if not (path / "config.json").is_file():
        return None
    return _from_pretrained(BertLMHeadModel, str(path), "rationale decoder")


# ----------------------------------------------------------------------------- training
def encode_classifier_examples(
    tokenizer: PreTrainedTokenizerBase,
    records: Sequence[Mapping[str, Any]],
    rationales: Sequence[str | None],
    labels: Sequence[str],
    *,
    max_input_length: int,
    max_rationale_length: int,
) -> tuple[list[EncodedExample], int]:
    """Training rows as :class:`EncodedExample`: the plain input (no task prefix: the head
    is the task), ``label_ids = [class index]`` and the rationale target where there is one.

    Raises:
        ValueError: a row's ``label`` is not in ``labels``, naming the row.
    """
    index = {label: i for i, label in enumerate(labels)}
    unknown = [(r["id"], r["label"]) for r in records if str(r["label"]) not in index]
    if unknown:
        shown = ", ".join(f"{i} ({label!r})" for i, label in unknown[:5])
        raise ValueError(
            f"{len(unknown)} training row(s) have a label outside the task's labels "
            f"{list(labels)}: {shown}"
        )
    examples, truncated = encode_examples(
        tokenizer,
        [str(r["id"]) for r in records],
        [str(r["input"]) for r in records],
        [str(r["label"]) for r in records],
        list(rationales),
        prefixes=TaskPrefixes(label="", rationale=""),
        max_input_length=max_input_length,
        max_label_length=10**6,  # the label is a class index, its text is never a target
        max_rationale_length=max_rationale_length,
    )
    return [
        replace(e, label_ids=[index[str(r["label"])]], explain_ids=None)
        for e, r in zip(examples, records, strict=True)
    ], truncated


@dataclass
class ClassifierCollator:
    """Pad classifier examples into one batch: ``input_ids``/``attention_mask`` (one row per
    example), ``label_ids`` ``(n, 1)`` class indices and, when some example has a rationale
    and ``use_rationales`` is on, ``rationale_rows`` (their rows) and ``rationale_ids``."""

    pad_token_id: int
    use_rationales: bool = True

    def __call__(self, examples: Sequence[EncodedExample]) -> dict[str, torch.Tensor]:
        inputs = [e.predict_ids for e in examples]
        batch = {
            "input_ids": pad(inputs, self.pad_token_id),
            "attention_mask": pad([[1] * len(x) for x in inputs], 0),
            "label_ids": pad([e.label_ids for e in examples], IGNORE_INDEX),
        }
        rows = [i for i, e in enumerate(examples) if e.rationale_ids is not None]
        if self.use_rationales and rows:
            batch["rationale_rows"] = torch.tensor(rows, dtype=torch.long)
            batch["rationale_ids"] = pad(
                [examples[i].rationale_ids or [] for i in rows], IGNORE_INDEX
            )
        return batch


class MultiTaskClassifier(nn.Module):
    """Training view of a classifier student: one encoder pass, the head's label loss and
    the decoder's rationale loss, combined by :func:`multitask_loss`.

    ``self.model`` is the classifier (what validation reads labels with), ``self.decoder``
    the rationale decoder; both are trained, and both are what the student saves.
    """

    def __init__(self, model: PreTrainedModel, decoder: BertLMHeadModel, alpha: float):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.model, self.decoder, self.alpha = model, decoder, alpha

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        label_ids: torch.Tensor,
        rationale_rows: torch.Tensor | None = None,
        rationale_ids: torch.Tensor | None = None,
    ) -> MultiTaskLoss:
        """The label loss from the head, the rationale loss from the decoder."""
        explain = rationale_ids is not None and rationale_rows is not None and self.alpha < 1.0
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=explain
        )
        rationale_logits = None
        if explain:
            assert rationale_rows is not None and rationale_ids is not None
            rationale_logits = self.decoder(
                input_ids=shift_right(rationale_ids, self.decoder.config.decoder_start_token_id),
                encoder_hidden_states=out.hidden_states[-1][rationale_rows],
                encoder_attention_mask=attention_mask[rationale_rows],
                use_cache=False,
            ).logits
        return multitask_loss(
            out.logits[:, None, :],
            label_ids,
            rationale_logits,
            rationale_ids if explain else None,
            self.alpha,
        )


def shift_right(targets: torch.Tensor, start_id: int) -> torch.Tensor:
    """Decoder inputs for teacher forcing: the start token, then the targets but the last
    (ignored positions become the start token too; the causal mask never lets an earlier
    position see them)."""
    shifted = torch.full_like(targets, start_id)
    shifted[:, 1:] = targets[:, :-1]
    return shifted.masked_fill(shifted == IGNORE_INDEX, start_id)


# ----------------------------------------------------------------------------- inference
@torch.inference_mode()
def classifier_log_probs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    inputs: Sequence[str],
    labels: Sequence[str],
    batch_size: int,
    max_input_length: int,
) -> np.ndarray:
    """Log-probabilities ``(n_rows, n_labels)`` of the head, columns in ``labels`` order.

    Raises:
        ValueError: the student's head was trained for other labels than ``labels``.
    """
    trained = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
    if sorted(trained) != sorted(labels):
        raise ValueError(
            f"this classifier student was trained for the labels {trained}, but the task has "
            f"{list(labels)}: use the task it was trained on, or train a student for this one"
        )
    columns = [trained.index(label) for label in labels]
    was_training = model.training
    model.eval()
    encoded = encode_texts(tokenizer, inputs, max_input_length)
    out = np.zeros((len(inputs), len(labels)), dtype=np.float64)
    try:
        for idx in length_batches(encoded, batch_size):
            ids = pad([encoded[i] for i in idx], tokenizer.pad_token_id)
            mask = pad([[1] * len(encoded[i]) for i in idx], 0)
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device))
            logp = torch.log_softmax(logits.logits.float(), dim=-1)[:, columns]
            out[idx] = logp.cpu().numpy()
    finally:
        model.train(was_training)
    return out


@torch.inference_mode()
def generate_rationales_with_decoder(
    model: PreTrainedModel,
    decoder: BertLMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    inputs: Sequence[str],
    batch_size: int,
    *,
    max_input_length: int,
    max_new_tokens: int,
) -> list[str]:
    """Greedy rationales of a classifier student's decoder, batched by length, in order.

    No key/value cache: the decoder is small and rationales are short, so re-running the
    prefix costs less than the code a cache would take."""
    was_training = model.training, decoder.training
    model.eval()
    decoder.eval()
    encoded = encode_texts(tokenizer, inputs, max_input_length)
    end = end_of_sequence_id(tokenizer)
    start = int(decoder.config.decoder_start_token_id)
    out = [""] * len(inputs)
    try:
        for idx in length_batches(encoded, batch_size):
            ids = pad([encoded[i] for i in idx], tokenizer.pad_token_id).to(model.device)
            mask = pad([[1] * len(encoded[i]) for i in idx], 0).to(model.device)
            hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            states = hidden.hidden_states[-1]
            tokens = torch.full((len(idx), 1), start, dtype=torch.long, device=model.device)
            done = torch.zeros(len(idx), dtype=torch.bool, device=model.device)
            for _ in range(max_new_tokens):
                logits = decoder(
                    input_ids=tokens,
                    encoder_hidden_states=states,
                    encoder_attention_mask=mask,
                    use_cache=False,
                ).logits[:, -1]
                step = logits.argmax(-1).masked_fill(done, end)
                tokens = torch.cat([tokens, step[:, None]], dim=1)
                done |= step == end
                if bool(done.all()):
                    break
            texts = tokenizer.batch_decode(tokens[:, 1:], skip_special_tokens=True)
            for i, text in zip(idx, texts, strict=True):
                out[i] = text.strip()
    finally:
        model.train(was_training[0])
        decoder.train(was_training[1])
    return out
