"""Encoder students: a pretrained encoder under a small decoder trained from scratch.

The encoder is any bare encoder checkpoint (BERT, RoBERTa, DeBERTa-v3, ModernBERT, MiniLM;
a hub id or a local ``save_pretrained`` directory) or a tiny random one built from an
``architecture`` with a ``model_type`` (tests and demos). The decoder is a BERT-architecture
decoder (``is_decoder=True, add_cross_attention=True``) with random weights over the
tokenizer's vocabulary. Both are joined as transformers' :class:`EncoderDecoderModel` (with
its ``enc_to_dec_proj`` when the hidden sizes differ), so at runtime the student is a
seq2seq model like T5: the same multi-task training, label scoring and generation, and a
saved student loads back with ``AutoModelForSeq2SeqLM`` (model type ``encoder-decoder``).

Why a decoder at all, not a classification head: the rationale task (``explain: ...`` ->
text) trains the shared encoder as Hsieh et al. intend, and label scoring reads labels
for any task with a label set the same way for every student family.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch
from transformers import (
    CONFIG_MAPPING,
    AutoConfig,
    AutoModel,
    BertConfig,
    BertLMHeadModel,
    EncoderDecoderModel,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from zeroshot_distill.students.data import end_of_sequence_id
from zeroshot_distill.students.model import (
    BYT5,
    StudentBundle,
    StudentConfig,
    StudentLoadError,
    _from_pretrained,
    load_tokenizer,
)

logger = logging.getLogger(__name__)

#: ``model_type`` values of bare encoders (``family: auto`` makes them encoder students).
ENCODER_MODEL_TYPES = frozenset(
    {
        "albert",
        "bert",
        "camembert",
        "deberta",
        "deberta-v2",
        "distilbert",
        "electra",
        "modernbert",
        "mpnet",
        "neobert",
        "roberta",
        "xlm-roberta",
    }
)
#: Head classes of encoder checkpoints (``BertForMaskedLM``, ``ElectraForPreTraining``, ...).
_ENCODER_HEADS = ("ForMaskedLM", "ForPreTraining")
#: Decoder settings that come from the tokenizer or the design, never from the parameters.
_RESERVED_DECODER_KEYS = frozenset(
    {
        "vocab_size",
        "is_decoder",
        "add_cross_attention",
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
        "decoder_start_token_id",
    }
)
_RESERVED_ENCODER_KEYS = frozenset({"vocab_size", "pad_token_id", "bos_token_id", "eos_token_id"})
#: Layers of the default decoder (``decoder: null``): small next to any pretrained encoder.
DEFAULT_DECODER_LAYERS = 2


def is_bare_encoder(config: PretrainedConfig) -> bool:
    """Whether a checkpoint's config is a bare encoder (BERT-like), not a seq2seq or causal
    LM: not encoder-decoder, and a known encoder ``model_type`` or a masked-LM /
    pre-training head class."""
    if getattr(config, "is_encoder_decoder", False) or getattr(config, "is_decoder", False):
        return False
    if getattr(config, "model_type", None) in ENCODER_MODEL_TYPES:
        return True
    architectures = getattr(config, "architectures", None) or []
    return any(str(a).endswith(_ENCODER_HEADS) for a in architectures)


def load_encoder_student(cfg: StudentConfig, seed: int | None = None) -> StudentBundle:
    """Build an encoder student: the encoder (pretrained or a random ``architecture``), a
    decoder from scratch (``cfg.decoder``, or a default sized like the encoder), joined.

    Raises:
        StudentLoadError: a missing directory, a hub id while offline, an ``architecture``
            or ``decoder`` that transformers refuses, or a tokenizer without an end token.
    """
    tokenizer = load_tokenizer(cfg.tokenizer or cfg.name_or_path or BYT5)
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.architecture is not None:
        encoder = _build_random_encoder(cfg.architecture, tokenizer)
        encoder_source = f"random {encoder.config.model_type} (architecture)"
    else:
        name = cfg.name_or_path or ""
        encoder = _from_pretrained(AutoModel, name, "encoder")
        if not is_bare_encoder(encoder.config):
            raise StudentLoadError(
                f"{name!r} is not a bare encoder (model_type {encoder.config.model_type!r}): "
                "`training.student.family: encoder` needs a BERT-like checkpoint (BERT, "
                "RoBERTa, DeBERTa-v3, ModernBERT, MiniLM)"
            )
        encoder_source = name
        logger.info(
            "encoder student: %s (%s) under a decoder trained from scratch; transformers' "
            "load report may list the checkpoint's own head (e.g. cls.*) as UNEXPECTED and a "
            "pooler as MISSING: expected, the decoder replaces the head and the pooler is "
            "unused",
            name,
            encoder.config.model_type,
        )
    decoder = _build_decoder(cfg.decoder, encoder, tokenizer)
    _start_from_encoder_embeddings(decoder, encoder, len(tokenizer))
    model = EncoderDecoderModel(encoder=encoder, decoder=decoder)
    _set_special_tokens(model, tokenizer)
    info = {
        "source": cfg.source,
        "family": "seq2seq",
        "student_kind": "encoder",
        "encoder": encoder_source,
        "encoder_model_type": encoder.config.model_type,
        "decoder_layers": decoder.config.num_hidden_layers,
        "decoder_hidden_size": decoder.config.hidden_size,
        "max_input_positions": _input_position_limit(encoder.config),
        "max_target_positions": decoder.config.max_position_embeddings,
        # Everything but a pretrained encoder is new: it takes training.new_learning_rate.
        "new_parameters": [
            n
            for n, _ in model.named_parameters()
            if cfg.architecture is not None or not n.startswith("encoder.")
        ],
    }
    return StudentBundle(model=model, tokenizer=tokenizer, info=info)


def encoder_student_info(model: PreTrainedModel) -> dict[str, Any]:
    """``student_kind``/``encoder_model_type`` for a loaded :class:`EncoderDecoderModel`
    (e.g. a saved encoder student used as ``name_or_path``), empty for other models."""
    if not isinstance(model, EncoderDecoderModel):
        return {}
    return {
        "family": "seq2seq",
        "student_kind": "encoder",
        "encoder_model_type": model.config.encoder.model_type,
        "max_input_positions": _input_position_limit(model.config.encoder),
        "max_target_positions": model.config.decoder.max_position_embeddings,
    }


def _input_position_limit(config: PretrainedConfig) -> int | None:
    """Longest input (tokens) the encoder's absolute position embeddings cover; ``None``
    where positions are relative only (DeBERTa-v3). RoBERTa-like models start counting
    positions after the pad id, so two of their slots are never used."""
    if getattr(config, "position_biased_input", True) is False:
        return None
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None:
        return None
    if config.model_type in {"roberta", "xlm-roberta", "camembert"}:
        return int(limit) - int(config.pad_token_id or 0) - 1
    return int(limit)


def _build_random_encoder(
    architecture: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase
) -> PreTrainedModel:
    settings = dict(architecture)
    model_type = settings.pop("model_type", None)
    if model_type not in ENCODER_MODEL_TYPES:
        raise StudentLoadError(
            f"`training.student.architecture.model_type` must be one of "
            f"{sorted(ENCODER_MODEL_TYPES)} for an encoder student, got {model_type!r}"
        )
    clash = sorted(_RESERVED_ENCODER_KEYS & set(settings))
    if clash:
        raise StudentLoadError(
            f"`training.student.architecture` must not set {clash}: they come from the tokenizer"
        )
    _refuse_unknown_keys(CONFIG_MAPPING[model_type], settings, "training.student.architecture")
    try:
        config = AutoConfig.for_model(
            model_type, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **settings
        )
        return AutoModel.from_config(config)
    except (TypeError, ValueError) as err:
        raise StudentLoadError(
            f"invalid `training.student.architecture` {dict(architecture)}: {err}"
        ) from err


def _build_decoder(
    settings: Mapping[str, Any] | None,
    encoder: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
) -> BertLMHeadModel:
    """A BERT decoder with cross-attention; unset sizes follow the encoder's."""
    given = dict(settings or {})
    clash = sorted(_RESERVED_DECODER_KEYS & set(given))
    if clash:
        raise StudentLoadError(
            f"`training.student.decoder` must not set {clash}: they come from the tokenizer"
        )
    _refuse_unknown_keys(BertConfig, given, "training.student.decoder")
    enc = encoder.config
    hidden = int(given.pop("hidden_size", enc.hidden_size))
    heads = given.pop("num_attention_heads", None)
    if heads is None:
        encoder_heads = int(getattr(enc, "num_attention_heads", 0) or 0)
        heads = encoder_heads if encoder_heads and hidden % encoder_heads == 0 else 1
    intermediate = given.pop("intermediate_size", None)
    if intermediate is None:
        same_width = hidden == enc.hidden_size and getattr(enc, "intermediate_size", None)
        intermediate = int(enc.intermediate_size) if same_width else 4 * hidden
    dropout = getattr(enc, "hidden_dropout_prob", 0.1)
    try:
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            num_attention_heads=int(heads),
            intermediate_size=int(intermediate),
            num_hidden_layers=int(given.pop("num_hidden_layers", DEFAULT_DECODER_LAYERS)),
            hidden_dropout_prob=given.pop("hidden_dropout_prob", dropout),
            attention_probs_dropout_prob=given.pop(
                "attention_probs_dropout_prob", getattr(enc, "attention_probs_dropout_prob", 0.1)
            ),
            is_decoder=True,
            add_cross_attention=True,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=end_of_sequence_id(tokenizer),
            **given,
        )
        return BertLMHeadModel(config)
    except (TypeError, ValueError) as err:
        raise StudentLoadError(f"invalid `training.student.decoder` {settings}: {err}") from err


def _refuse_unknown_keys(
    config_class: type[PretrainedConfig], settings: Mapping[str, Any], where: str
) -> None:
    """A typo (``hidden_sise``) or a key of another model (T5's ``d_model``) would be kept
    silently by the config class and change nothing: refuse it by name instead."""
    known = set(config_class().to_dict()) | set(getattr(config_class, "attribute_map", {}))
    unknown = sorted(set(settings) - known)
    if unknown:
        raise StudentLoadError(
            f"`{where}` has keys that {config_class.__name__} does not know: {unknown} "
            f"(its keys are the arguments of transformers' {config_class.__name__})"
        )


@torch.no_grad()
def _start_from_encoder_embeddings(
    decoder: BertLMHeadModel, encoder: PreTrainedModel, vocab: int
) -> None:
    """Copy (not tie) the encoder's token embeddings into the decoder where they have the
    same width (not ALBERT's or ELECTRA's factorised ones of another size): a pretrained
    encoder's embeddings are a better start for the decoder's input and (tied) output
    layer than random ones; the two are trained apart from here on."""
    source = encoder.get_input_embeddings().weight
    target = decoder.get_input_embeddings().weight
    if source.shape[1] != target.shape[1]:
        return
    rows = min(vocab, source.shape[0], target.shape[0])
    target[:rows].copy_(source[:rows])


def _set_special_tokens(model: EncoderDecoderModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Decoder start = cls/bos (else pad); end = eos (else sep), as targets are encoded."""
    start = next(
        (
            int(t)
            for t in (tokenizer.cls_token_id, tokenizer.bos_token_id, tokenizer.pad_token_id)
            if t is not None
        ),
        None,
    )
    if tokenizer.pad_token_id is None or start is None:
        raise StudentLoadError(
            f"tokenizer {type(tokenizer).__name__} has no pad token: an encoder student needs "
            "one (set `training.student.tokenizer` to another tokenizer)"
        )
    end = end_of_sequence_id(tokenizer)
    for config in (model.config, model.generation_config):
        config.decoder_start_token_id = start
        config.pad_token_id = int(tokenizer.pad_token_id)
        config.eos_token_id = end
    model.config.vocab_size = model.config.decoder.vocab_size
