"""Parameter-efficient training of a student with ``peft`` (LoRA, and QLoRA on a GPU).

``training.peft`` (null = full fine-tuning) selects it::

    peft:
      method: lora
      r: 8
      lora_alpha: 16
      lora_dropout: 0.05
      target_modules: auto      # peft's default for the architecture, else all-linear
      modules_to_save: []       # modules trained in full next to the adapters
      quantization: null        # 4bit | 8bit: QLoRA (needs CUDA and bitsandbytes)
      merge_on_save: false      # true: the saved student is the merged plain model

The adapters are attached by :func:`attach_adapters` before training (only the adapter and
``modules_to_save`` parameters train); the student then *is* a ``PeftModel``, which label
scoring, generation and the multi-task loss use as they use the plain model.

Saved student directory (:func:`save_adapter_student`, called by ``save_student``)::

    adapter_config.json  adapter_model.safetensors   # PeftModel.save_pretrained
    tokenizer files, training_info.json                # as for every student
    base/                                              # the frozen base model, unless it
                                                       # is a hub id (then referenced)

:func:`load_adapter_student` restores base + adapter; :func:`merge_student` (and
``python -m zeroshot_distill.students.export``) writes the merged plain model for export.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from zeroshot_distill.students.model import (
    INFO_FILE,
    StudentBundle,
    StudentConfig,
    StudentLoadError,
    load_student,
    load_tokenizer,
)

logger = logging.getLogger(__name__)

#: The file ``PeftModel.save_pretrained`` writes; its presence marks an adapter student.
ADAPTER_CONFIG = "adapter_config.json"
#: Sub-directory of an adapter student holding its base model (when not a hub id).
BASE_DIR = "base"


class AdapterError(ValueError):
    """The ``training.peft`` settings cannot be used here (the message names the field)."""


class PeftSettings(BaseModel):
    """``training.peft``: LoRA adapters instead of full fine-tuning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["lora"] = "lora"
    r: int = Field(8, ge=1)
    lora_alpha: float = Field(16.0, gt=0)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: Literal["auto", "all-linear"] | list[str] = "auto"
    modules_to_save: list[str] = Field(default_factory=list)
    quantization: Literal["4bit", "8bit"] | None = None
    merge_on_save: bool = False


# ------------------------------------------------------------------------------ the checks
def quantization_problems(settings: PeftSettings | None, student: StudentConfig) -> list[str]:
    """Why ``settings.quantization`` cannot run here (empty: it can, or it is off)."""
    if settings is None or settings.quantization is None:
        return []
    problems = []
    if student.name_or_path is None:
        problems.append(
            "it needs a pretrained student (training.student.name_or_path): a random-init "
            "`architecture` has no weights worth quantizing"
        )
    if not torch.cuda.is_available():
        problems.append("bitsandbytes quantization needs a CUDA GPU (torch sees none)")
    if importlib.util.find_spec("bitsandbytes") is None:
        problems.append("the bitsandbytes package is not installed (`pip install bitsandbytes`)")
    return problems


def check_peft_settings(settings: PeftSettings | None, student: StudentConfig) -> None:
    """Raise :class:`AdapterError` before any training when the settings cannot run here."""
    problems = quantization_problems(settings, student)
    if problems:
        raise AdapterError(
            f"training.peft.quantization={settings.quantization if settings else None!r} "
            f"cannot be used: {'; '.join(problems)}. Set training.peft.quantization: null to "
            "train LoRA adapters on the unquantized model."
        )


# ----------------------------------------------------------------------- loading, wrapping
def load_student_for_training(
    student: StudentConfig,
    settings: PeftSettings | None,
    seed: int | None = None,
    labels: list[str] | None = None,
) -> StudentBundle:
    """The student to train: :func:`load_student` (``labels``: the task's label set), or
    the quantized base for QLoRA."""
    if settings is None or settings.quantization is None:
        return load_student(student, seed=seed, labels=labels)
    check_peft_settings(settings, student)
    from transformers import AutoConfig, BitsAndBytesConfig

    name = str(student.name_or_path)
    quantization = (
        BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        if settings.quantization == "4bit"
        else BitsAndBytesConfig(load_in_8bit=True)
    )
    loader = _auto_class(bool(getattr(AutoConfig.from_pretrained(name), "is_encoder_decoder", 0)))
    model = loader.from_pretrained(name, quantization_config=quantization, device_map={"": 0})
    tokenizer = load_tokenizer(student.tokenizer or name)
    return StudentBundle(model=model, tokenizer=tokenizer, info={"source": student.source})


def is_adapter_model(model: Any) -> bool:
    """Whether ``model`` is a ``PeftModel`` (a base model with adapters)."""
    from peft import PeftModel

    return isinstance(model, PeftModel)


def task_type(model: nn.Module) -> str:
    """``SEQ_2_SEQ_LM`` for encoder-decoder models (T5, encoder students), else
    ``CAUSAL_LM``."""
    config = getattr(model, "config", None)
    return "SEQ_2_SEQ_LM" if getattr(config, "is_encoder_decoder", False) else "CAUSAL_LM"


def resolve_target_modules(model: nn.Module, target: str | list[str]) -> list[str] | str:
    """``auto``: peft's default modules for the architecture (T5: q, v; Qwen2/Llama:
    q_proj, v_proj; ...), ``all-linear`` for architectures peft has no default for."""
    if target != "auto":
        return list(target) if isinstance(target, list) else target
    from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as defaults

    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type in defaults:
        return list(defaults[model_type])
    return "all-linear"


def attach_adapters(student: StudentBundle, settings: PeftSettings) -> StudentBundle:
    """Wrap ``student.model`` with LoRA adapters (in place; returns ``student``).

    Only the adapter and ``modules_to_save`` parameters train afterwards. A student that
    already carries adapters (a warm start) keeps them and trains them further.
    """
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    model = student.model
    if is_adapter_model(model):
        _make_adapters_trainable(model)
        return student
    base_reference = _base_reference(model)
    if settings.quantization is not None:
        model = prepare_model_for_kbit_training(model)
    targets = resolve_target_modules(model, settings.target_modules)
    config = LoraConfig(
        task_type=task_type(model),
        r=settings.r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=targets,
        modules_to_save=list(settings.modules_to_save) or None,
    )
    try:
        with _quiet_peft():
            student.model = get_peft_model(model, config)
    except ValueError as err:
        raise AdapterError(
            f"training.peft.target_modules={settings.target_modules!r} (resolved {targets!r}) "
            f"does not fit {type(model).__name__}: {err}"
        ) from err
    student.info["peft"] = {
        **settings.model_dump(),
        "target_modules": targets,
        "task_type": config.task_type,
        "base_model": base_reference,
        "merged": False,
    }
    return student


def finish_adapters(student: StudentBundle, settings: PeftSettings | None) -> StudentBundle:
    """After training: with ``merge_on_save`` the adapters are merged into the base, so the
    student (and what is saved and versioned) is a plain model."""
    if settings is not None and settings.merge_on_save and is_adapter_model(student.model):
        return merge_adapters(student)
    return student


def merge_adapters(student: StudentBundle) -> StudentBundle:
    """Merge the adapters into the base weights (``merge_and_unload``), in place."""
    with _quiet_peft():
        student.model = student.model.merge_and_unload()
    peft_info = dict(student.info.get("peft") or {})
    student.info["peft"] = {**peft_info, "merged": True}
    return student


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """``(all parameters, trainable parameters)``, shared (tied) weights counted once and
    4-bit packed weights at their real size (peft's count)."""
    if is_adapter_model(model):
        trainable, total = model.get_nb_trainable_parameters()
        return int(total), int(trainable)
    unique = {id(p): p for p in model.parameters()}.values()
    return sum(p.numel() for p in unique), sum(p.numel() for p in unique if p.requires_grad)


def _make_adapters_trainable(model: nn.Module) -> None:
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("lora_" in name or ".modules_to_save." in name)


def _base_reference(model: nn.Module) -> str | None:
    """The hub id the base can be re-loaded from, or ``None`` when it must be saved with
    the student (random init, or a local directory that may be moved or deleted)."""
    name = str(getattr(getattr(model, "config", None), "_name_or_path", "") or "")
    if not name or name.startswith((".", "/", "~")) or name.count("/") > 1:
        return None
    return None if Path(name).expanduser().exists() else name


# ------------------------------------------------------------------------- saving, loading
def save_adapter_student(student: StudentBundle, directory: str | os.PathLike[str]) -> None:
    """Write the adapters (``PeftModel.save_pretrained``) and, unless the base is a hub id,
    the frozen base model into ``directory/base``. Tokenizer and info: ``save_student``."""
    path = Path(directory)
    model = student.model
    with _quiet_peft():
        model.save_pretrained(path)
    peft_info = dict(student.info.get("peft") or {})
    if peft_info.get("base_model"):
        return
    base = model.get_base_model()
    base.save_pretrained(path / BASE_DIR, state_dict=_base_state_dict(base))


def _base_state_dict(base: nn.Module) -> dict[str, torch.Tensor]:
    """The base model's own weights out of a model with adapters injected: LoRA and
    trained ``modules_to_save`` copies dropped, wrapped layers under their original names."""
    state = {}
    for key, tensor in base.state_dict().items():
        if "lora_" in key or ".modules_to_save." in key:
            continue
        state[key.replace(".base_layer.", ".").replace(".original_module.", ".")] = tensor
    return state


def load_adapter_student(directory: str | os.PathLike[str]) -> StudentBundle:
    """Read a student written with adapters: its base (``base/`` or the hub id it
    references, unquantized), the adapters on top, tokenizer and training info."""
    from peft import PeftModel

    path = Path(directory)
    adapter_config = json.loads((path / ADAPTER_CONFIG).read_text())
    info_path = path / INFO_FILE
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    base_dir = path / BASE_DIR
    base_name = (
        str(base_dir)
        if base_dir.is_dir()
        else (info.get("peft") or {}).get("base_model")
        or adapter_config.get("base_model_name_or_path")
    )
    if not base_name:
        raise StudentLoadError(
            f"adapter student {str(path)!r} has no {BASE_DIR}/ directory and names no base "
            "model: copy the base model's save_pretrained directory there"
        )
    loader = _auto_class(adapter_config.get("task_type") == "SEQ_2_SEQ_LM")
    try:
        base = loader.from_pretrained(base_name)
        with _quiet_peft():
            model = PeftModel.from_pretrained(base, str(path))
        tokenizer = load_tokenizer(str(path))
    except (OSError, ValueError) as err:
        raise StudentLoadError(
            f"cannot load the adapter student in {str(path)!r} (base {base_name!r}): {err}"
        ) from err
    model.eval()
    return StudentBundle(model=model, tokenizer=tokenizer, info=info)


def merge_student(
    directory: str | os.PathLike[str], output: str | os.PathLike[str]
) -> StudentBundle:
    """Load the adapter student in ``directory``, merge its adapters and save the plain
    model into ``output`` (for export: no ``peft`` needed to load it)."""
    from zeroshot_distill.students.model import load_saved_student, save_student

    student = load_saved_student(directory)
    if not is_adapter_model(student.model):
        raise AdapterError(f"{str(directory)!r} holds no adapters: it is a plain model already")
    merge_adapters(student)
    save_student(student, output)
    return student


@contextmanager
def _quiet_peft() -> Iterator[None]:
    """Two peft warnings a user can do nothing about: it reads transformers' deprecated
    ``is_gradient_checkpointing``; and a tied output layer in ``modules_to_save`` (T5's
    lm_head) "can complicate merging": the trained copy is untied from the input
    embeddings on purpose, and merging unties them in the config (merged == unmerged
    predictions, tested)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        warnings.filterwarnings("ignore", message=".*tie_word_embeddings=True.*ensure_weight")
        yield


def _auto_class(encoder_decoder: bool) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
