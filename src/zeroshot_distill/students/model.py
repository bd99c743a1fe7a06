"""Building and loading student models: a hub id, a local directory, or a random tiny model.

A student is a sequence-to-sequence model (T5 family) or a decoder-only causal language model
(Qwen2, Llama, SmolLM, Gemma, Phi; see :mod:`zeroshot_distill.students.causal_lm`) plus its
tokenizer, carried together as a :class:`StudentBundle` (that is also what the
``student_model`` catalog entry saves and loads). ``StudentConfig.family`` picks the family
(``auto``: from the checkpoint's config or ``architecture.model_type``).

Three sources, chosen by :class:`StudentConfig`:

- ``name_or_path: t5-small`` (or ``google/t5-v1_1-base``, ``google/flan-t5-base``, any
  seq2seq checkpoint): loaded with ``from_pretrained`` from the hub or its local cache;
- ``name_or_path: /path/to/dir``: a directory written by ``save_pretrained`` (e.g. an earlier
  ``student_model`` version);
- ``architecture: {d_model: 64, ...}``: a T5 with random weights built from a config, with
  the byte-level ByT5 tokenizer that needs no files. The offline default and the tests.

An *encoder student* (``family: encoder``, or ``auto`` for a bare BERT-like checkpoint or an
``architecture`` with an encoder ``model_type``) is an encoder under a decoder trained from
scratch, built by :mod:`zeroshot_distill.students.encoder_decoder`; at runtime it is a
seq2seq model like T5.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import transformers
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    ByT5Tokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
    T5ForConditionalGeneration,
)

logger = logging.getLogger(__name__)

#: Task prefixes of a student trained with the defaults.
DEFAULT_PREFIXES = {"predict": "predict: ", "explain": "explain: "}
#: File with the training summary next to the weights in a saved student directory.
INFO_FILE = "training_info.json"

#: ``tokenizer`` value that selects the byte-level ByT5 tokenizer (no download needed).
BYT5 = "byt5"


class StudentLoadError(RuntimeError):
    """A student model or its tokenizer cannot be built or loaded."""


@dataclass
class StudentBundle:
    """A seq2seq student model with its tokenizer and a small JSON-able training summary."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    info: dict[str, Any] = field(default_factory=dict)
    #: Classifier students only: the decoder that writes rationales (``None``: labels only).
    rationale_decoder: PreTrainedModel | None = None
    #: The folder it was loaded from (``load_saved_student``); ``None`` for a fresh model.
    directory: str | None = None

    @property
    def family(self) -> str:
        """The runtime code path: ``seq2seq`` (T5, encoder students), ``causal_lm`` or
        ``classifier`` (a classification head, see ``students/classifier.py``)."""
        if type(self.model).__name__.endswith("ForSequenceClassification"):
            return "classifier"
        return "seq2seq" if getattr(self.model.config, "is_encoder_decoder", False) else "causal_lm"

    @property
    def num_parameters(self) -> int:
        """Number of (unique) parameters of the model."""
        return int(self.model.num_parameters())

    def label_budget(self, override: int | None = None) -> int:
        """Tokens to generate for a label: ``override``, else the max label length it trained
        with (a fixed small default cuts multiple-choice option texts short)."""
        if override is not None:
            return int(override)
        return int(self.info.get("max_label_length") or 32)

    def label_decoding(self, override: str | None = None) -> str:
        """How to read labels: ``override``, else what the student was selected with
        (``score`` for students trained before the option existed: it is never worse)."""
        return str(override or self.info.get("label_decoding") or "score")

    @property
    def prefixes(self) -> dict[str, str]:
        """The task prefixes the student was trained with: ``{"predict": …, "explain": …}``."""
        return {**DEFAULT_PREFIXES, **dict(self.info.get("prefixes") or {})}


class StudentConfig(BaseModel):
    """Where the student comes from (``training.student`` in the parameters).

    ``name_or_path`` or ``architecture`` (the first wins when both are set):

    - ``name_or_path``: a hub id or a local ``save_pretrained`` directory;
    - ``architecture``: ``T5Config`` keyword arguments for a randomly initialised T5
      (``vocab_size`` and the special token ids are taken from the tokenizer), or for an
      encoder student the encoder's config with its ``model_type`` (``bert``, ...).

    ``family``: ``auto`` (from the checkpoint or ``architecture``), ``seq2seq``,
    ``causal_lm``, ``classifier`` (a head on an encoder, the default for bare encoders on a
    task with labels) or ``encoder`` (an encoder under a decoder that writes the label);
    ``decoder``: classifier and encoder students only, ``BertConfig`` arguments of the
    decoder trained from scratch.

    ``tokenizer``: ``byt5`` (the byte-level tokenizer, no files), a hub id or a directory;
    default: the model's own (``name_or_path``), or ``byt5`` for ``architecture``.

    ``family``: ``auto`` (default: seq2seq for encoder-decoder checkpoints and a T5
    ``architecture``, causal_lm for ``*ForCausalLM`` checkpoints and an ``architecture``
    whose ``model_type`` is a causal LM type such as ``qwen2`` or ``llama``) | ``seq2seq`` |
    ``causal_lm`` | ``encoder``.

    ``chat_template`` (causal LMs): ``auto`` = prompts go through the tokenizer's chat
    template when it has one; ``none`` = plain ``<prefix><input>\\n`` prompts (the template
    is dropped from the student's tokenizer, so that training and inference agree).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_or_path: str | None = None
    architecture: dict[str, Any] | None = None
    tokenizer: str | None = None
    family: Literal["auto", "seq2seq", "causal_lm", "classifier", "encoder"] = "auto"
    #: Encoder students only: BertConfig arguments of the decoder trained from scratch
    #: (``num_hidden_layers``, ``hidden_size``, ...); ``None``: a default sized like the encoder.
    decoder: dict[str, Any] | None = None
    chat_template: Literal["auto", "none"] = "auto"

    @model_validator(mode="before")
    @classmethod
    def _checkpoint_over_architecture(cls, data: Any) -> Any:
        """A checkpoint (``name_or_path``) wins over the random ``architecture`` (the
        demo's, in conf/base): pointing ``name_or_path`` at a model is all a user does."""
        if isinstance(data, Mapping) and data.get("name_or_path") and data.get("architecture"):
            logger.info(
                "training.student.name_or_path=%s: the random `architecture` is not used",
                data["name_or_path"],
            )
            return {**data, "architecture": None}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> StudentConfig:
        if self.name_or_path is None and self.architecture is None:
            raise ValueError(
                "set `name_or_path` (a hub id or local directory) or `architecture` "
                "(T5Config arguments for a random tiny model)"
            )
        if self.decoder is not None and self.family not in ("auto", "classifier", "encoder"):
            raise ValueError(_decoder_only_for_encoders(self.family))
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | StudentConfig) -> StudentConfig:
        """Validate the ``student`` parameters with an error that names the bad field."""
        if isinstance(params, StudentConfig):
            return params
        try:
            return cls.model_validate(dict(params))
        except ValidationError as err:
            raise StudentLoadError(f"invalid student config: {_pydantic_problems(err)}") from None

    @property
    def source(self) -> str:
        """A short human-readable description of where the weights come from."""
        return self.name_or_path or "random init (architecture)"


def load_student(
    config: Mapping[str, Any] | StudentConfig,
    seed: int | None = None,
    labels: list[str] | None = None,
) -> StudentBundle:
    """Build or load a student model and its tokenizer.

    Args:
        config: a :class:`StudentConfig` or its parameters mapping.
        seed: seeds the random initialisation of an ``architecture`` model.
        labels: the task's label set (``None``: numeric). A bare encoder becomes a
            classifier student over these labels (``family: auto``), or an encoder student
            without them.

    Raises:
        StudentLoadError: the config is invalid, or the model/tokenizer cannot be found
            (e.g. an unknown hub id while ``HF_HUB_OFFLINE=1``), with what to do about it.
    """
    cfg = StudentConfig.from_params(config)
    family = resolve_family(cfg, has_labels=bool(labels))
    if cfg.decoder is not None and family not in ("classifier", "encoder"):
        raise StudentLoadError(f"invalid student config: {_decoder_only_for_encoders(family)}")
    if family == "classifier":
        from zeroshot_distill.students.classifier import load_classifier_student

        return load_classifier_student(cfg, labels, seed)
    if family == "causal_lm":
        from zeroshot_distill.students.causal_lm import load_causal_student

        return load_causal_student(cfg, seed)
    if family == "encoder":
        from zeroshot_distill.students.encoder_decoder import load_encoder_student

        return load_encoder_student(cfg, seed)
    tokenizer = load_tokenizer(cfg.tokenizer or cfg.name_or_path or BYT5)
    if cfg.architecture is not None:
        model = _build_random_t5(cfg.architecture, tokenizer, seed)
    else:
        model = _from_pretrained(AutoModelForSeq2SeqLM, cfg.name_or_path or "", "model")
    if not getattr(model.config, "is_encoder_decoder", False):
        raise StudentLoadError(
            f"{cfg.source!r} is not an encoder-decoder (seq2seq) model; the student must be "
            "T5-like (t5-small, google/t5-v1_1-base, google/flan-t5-base, ...)"
        )
    from zeroshot_distill.students.encoder_decoder import encoder_student_info

    # encoder_student_info: a saved encoder student used again as name_or_path keeps its kind.
    info = {"source": cfg.source, "family": "seq2seq", **encoder_student_info(model)}
    return StudentBundle(model=model, tokenizer=tokenizer, info=info)


def resolve_family(config: StudentConfig, has_labels: bool = True) -> str:
    """The family of ``config``: its ``family``, or for ``auto`` what the checkpoint's
    config (``name_or_path``) or ``architecture.model_type`` says: for a bare encoder
    (BERT-like) ``classifier`` when the task has a label set (``has_labels``), else
    ``encoder``; ``causal_lm`` for a ``*ForCausalLM``, ``seq2seq`` for T5-like.

    Raises:
        StudentLoadError: the family cannot be told, or contradicts the ``architecture``.
    """
    from zeroshot_distill.students.causal_lm import is_causal_lm_config, is_causal_model_type
    from zeroshot_distill.students.encoder_decoder import ENCODER_MODEL_TYPES, is_bare_encoder

    if config.architecture is not None:
        model_type = config.architecture.get("model_type")
        if model_type in ENCODER_MODEL_TYPES:
            detected = "classifier" if has_labels else "encoder"
        elif model_type is not None and is_causal_model_type(str(model_type)):
            detected = "causal_lm"
        elif model_type in (None, "t5"):
            detected = "seq2seq"
        else:
            raise StudentLoadError(
                f"`architecture.model_type: {model_type}` is neither a causal LM type (e.g. "
                "qwen2, llama, gemma, phi3), an encoder type (e.g. bert, roberta, deberta-v2, "
                "modernbert) nor t5; leave it out for a T5"
            )
        encoders = {"classifier", "encoder"}
        if config.family not in ("auto", detected) and not {config.family, detected} <= encoders:
            raise StudentLoadError(
                f"`family: {config.family}` does not fit `architecture` (model_type "
                f"{model_type or 't5'} builds a {detected} model); {config.family} students "
                f"take model_type {_FAMILY_MODEL_TYPES[config.family]}"
            )
        return detected if config.family == "auto" else config.family
    if config.family != "auto":
        return config.family
    checkpoint = _from_pretrained(AutoConfig, config.name_or_path or "", "model")
    if getattr(checkpoint, "is_encoder_decoder", False):
        return "seq2seq"
    if is_bare_encoder(checkpoint):
        return "classifier" if has_labels else "encoder"
    if is_causal_lm_config(checkpoint):
        return "causal_lm"
    raise StudentLoadError(
        f"cannot tell the family of {config.name_or_path!r} (model_type "
        f"{getattr(checkpoint, 'model_type', None)!r}): set `training.student.family`"
    )


_FAMILY_MODEL_TYPES = {
    "classifier": "bert, roberta, deberta-v2, modernbert, ...",
    "encoder": "bert, roberta, deberta-v2, modernbert, ...",
    "causal_lm": "qwen2, llama, gemma, phi3, ...",
    "seq2seq": "t5 (or none)",
}


def _decoder_only_for_encoders(family: str) -> str:
    return (
        f"`training.student.decoder` is only for classifier and encoder students, but the "
        f"family is {family!r}: remove `decoder` or use a BERT-like encoder"
    )


def save_student(bundle: StudentBundle, directory: str | os.PathLike[str]) -> None:
    """Write model, tokenizer and :data:`INFO_FILE` into ``directory`` (created if needed);
    a model with LoRA adapters is written as adapters (+ its base, see ``adapters``)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    if hasattr(bundle.model, "peft_config"):  # LoRA adapters: see students/adapters.py
        from zeroshot_distill.students.adapters import save_adapter_student

        save_adapter_student(bundle, path)
    else:
        bundle.model.save_pretrained(path)
    if bundle.rationale_decoder is not None:  # classifier students: see students/classifier.py
        bundle.rationale_decoder.save_pretrained(path / "rationale_decoder")
    bundle.tokenizer.save_pretrained(path)
    (path / INFO_FILE).write_text(json.dumps(bundle.info, indent=2, sort_keys=True, default=str))


def load_saved_student(directory: str | os.PathLike[str]) -> StudentBundle:
    """Read a student written by :func:`save_student` (weights, tokenizer, training info)."""
    path = Path(directory)
    if not path.is_dir():
        raise StudentLoadError(f"student directory {str(path)!r} does not exist")
    if (path / "adapter_config.json").exists():  # base model + LoRA adapters
        from zeroshot_distill.students.adapters import load_adapter_student

        bundle = load_adapter_student(path)
        bundle.directory = str(path.resolve())
        return bundle
    checkpoint = _from_pretrained(AutoConfig, str(path), "model")
    architectures = getattr(checkpoint, "architectures", None) or []
    decoder = None
    if any(str(a).endswith("ForSequenceClassification") for a in architectures):
        from zeroshot_distill.students.classifier import load_rationale_decoder

        loader: Any = AutoModelForSequenceClassification
        decoder = load_rationale_decoder(path)
    elif getattr(checkpoint, "is_encoder_decoder", False):
        loader = AutoModelForSeq2SeqLM
    else:
        loader = AutoModelForCausalLM
    model = _from_pretrained(loader, str(path), "model")
    tokenizer = load_tokenizer(str(path))
    info_path = path / INFO_FILE
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    return StudentBundle(
        model=model,
        tokenizer=tokenizer,
        info=info,
        rationale_decoder=decoder,
        directory=str(path.resolve()),
    )


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    if name_or_path == BYT5:
        return ByT5Tokenizer()
    tokenizer = _from_pretrained(AutoTokenizer, name_or_path, "tokenizer")
    # transformers 5 picks the tokenizer class of the directory's *model* type (a Qwen2
    # tokenizer for a tiny qwen2 saved with ByT5, which then encodes everything to nothing);
    # the class the tokenizer was saved as wins.
    config_file = Path(name_or_path).expanduser() / "tokenizer_config.json"
    if config_file.is_file():
        saved = json.loads(config_file.read_text()).get("tokenizer_class")
        saved_class = getattr(transformers, str(saved), None) if saved else None
        if saved_class is not None and type(tokenizer).__name__ != saved:
            tokenizer = _from_pretrained(saved_class, name_or_path, "tokenizer")
    return tokenizer


def _build_random_t5(
    architecture: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase, seed: int | None
) -> T5ForConditionalGeneration:
    reserved = {"vocab_size", "pad_token_id", "eos_token_id", "decoder_start_token_id"}
    clash = sorted(reserved & set(architecture))
    if clash:
        raise StudentLoadError(f"`architecture` must not set {clash}: they come from the tokenizer")
    try:
        t5_config = T5Config(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
            **dict(architecture),
        )
    except (TypeError, ValueError) as err:
        raise StudentLoadError(
            f"invalid student `architecture` {dict(architecture)}: {err}"
        ) from err
    if seed is not None:
        torch.manual_seed(seed)
    return T5ForConditionalGeneration(t5_config)


def _from_pretrained(loader: Any, name_or_path: str, what: str, **kwargs: Any) -> Any:
    path = Path(name_or_path).expanduser()
    # A hub id is `name` or `org/name`; anything else that does not exist is a missing path.
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_like_path and not path.exists():
        raise StudentLoadError(f"student {what} directory {str(path)!r} does not exist")
    try:
        return loader.from_pretrained(str(path) if path.exists() else name_or_path, **kwargs)
    except (OSError, ValueError) as err:
        if path.exists():
            hint = (
                f"The directory exists but holds no loadable {what}: it must be a "
                "`save_pretrained` checkpoint (config.json and weights; tokenizer files)."
            )
        elif _hub_offline():
            hint = (
                "The Hugging Face hub is offline here (HF_HUB_OFFLINE=1) and the files are not "
                "in the local cache: download them where the hub is reachable (`hf download "
                f"{name_or_path}`) or set `training.student.name_or_path` to a local directory."
            )
        else:
            hint = (
                "Check the hub id (e.g. t5-small, google/flan-t5-base, bert-base-uncased) or "
                "the local directory (it must hold a `save_pretrained` checkpoint)."
            )
        raise StudentLoadError(
            f"cannot load student {what} {name_or_path!r}: {err}\n{hint}"
        ) from err


def _hub_offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _pydantic_problems(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}" for e in err.errors()
    )
