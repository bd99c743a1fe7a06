"""Multi-task training of a student on top of the ``transformers`` Trainer.

What the Trainer machinery gives: the optimisation loop, mixed precision (bf16 autocast on
CPU or GPU), gradient accumulation, warm-up and LR schedule, seeds, a progress bar, the
early-stopping callback, and multi-GPU data parallelism through ``accelerate`` (launch the
same code with ``torchrun`` or ``accelerate launch``).

What this module adds, in one small subclass:

- ``compute_loss``: the masked multi-task loss of :class:`MultiTaskSeq2Seq`, with the label
  and rationale losses kept apart for logging;
- ``evaluate``: validation *label accuracy* (label scoring, or greedy generation normalised
  with the task spec, as ``label_decoding`` says) instead of a loss; it drives model
  selection and early stopping, never the test split;
- a length-grouped sampler (:class:`MultiTaskLengthSampler`) that groups by input *and*
  rationale length while keeping each batch's share of rationales;
- the best weights are kept in memory at each new best validation accuracy and restored at
  the end (no checkpoint files to write and read back);
- data parallelism (``torchrun`` / ``accelerate launch``, or ``training.launcher`` from the
  node, see :mod:`~zeroshot_distill.students.launcher`): each rank takes its own share of the
  length-grouped batches (every example once per epoch), rank 0 evaluates and every rank
  follows its result, so all ranks select and stop together.

Reading order: :func:`train_from_training_set` (the entry point) -> :func:`train_student`
-> :class:`MultiTaskTrainer`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import torch
from accelerate.data_loader import BatchSamplerShard
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
)
from torch.utils.data import DataLoader
from transformers import (
    EarlyStoppingCallback,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from zeroshot_distill.students.adapters import (
    AdapterError,
    PeftSettings,
    attach_adapters,
    check_peft_settings,
    finish_adapters,
    is_adapter_model,
    load_student_for_training,
    parameter_counts,
)
from zeroshot_distill.students.causal_lm import MultiTaskCausalLM, PromptFormat
from zeroshot_distill.students.classifier import (
    ClassifierCollator,
    MultiTaskClassifier,
    encode_classifier_examples,
)
from zeroshot_distill.students.data import (
    MultiTaskCollator,
    MultiTaskDataset,
    MultiTaskLengthSampler,
    RankBatchSampler,
    TaskPrefixes,
    as_records,
    encode_examples,
)
from zeroshot_distill.students.defaults import resolve_auto_settings
from zeroshot_distill.students.inference import accuracy, predict_labels
from zeroshot_distill.students.launcher import LauncherConfig, train_in_child_processes
from zeroshot_distill.students.loss import MultiTaskSeq2Seq
from zeroshot_distill.students.memory import PeakMemory
from zeroshot_distill.students.model import StudentBundle, StudentConfig
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.tasks.values import is_missing

logger = logging.getLogger(__name__)


class TrainingConfigError(ValueError):
    """The training parameters or the training data cannot be used."""


class TrainingConfig(BaseModel):
    """The ``training`` parameters (see ``conf/base/parameters_training.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    student: StudentConfig
    alpha: float = Field(0.5, ge=0.0, le=1.0)
    label_prefix: str = "predict: "
    rationale_prefix: str = "explain: "
    max_input_length: int = Field(512, ge=8)
    max_label_length: int = Field(32, ge=1)
    max_rationale_length: int = Field(256, ge=1)
    # "auto": resolved once the student is loaded (students/defaults.py); a number wins.
    num_epochs: PositiveFloat | Literal["auto"] = "auto"
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: PositiveFloat | Literal["auto"] = "auto"
    # Parameters the checkpoint did not have (classification head, decoder from scratch);
    # null: learning_rate for every parameter.
    new_learning_rate: PositiveFloat | Literal["auto"] | None = "auto"
    weight_decay: float = Field(0.0, ge=0)
    warmup: float = Field(0.0, ge=0, description="steps (>= 1) or a ratio of all steps (< 1)")
    lr_scheduler: str = "linear"
    optimizer: str = "adamw_torch"
    max_grad_norm: float = Field(1.0, gt=0)
    eval_steps: int | None = Field(None, ge=1, description="None: evaluate after every epoch")
    logging_steps: int = Field(10, ge=1)
    early_stopping_patience: int | None = Field(3, ge=1)
    early_stopping_threshold: float = Field(0.0, ge=0)
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    group_by_length: bool = True
    num_threads: PositiveInt | Literal["auto"] | None = "auto"
    generation_max_new_tokens: int | None = Field(None, ge=1)
    label_decoding: Literal["score", "generate"] = "score"
    progress_bar: bool = True
    launcher: LauncherConfig | None = None
    peft: PeftSettings | None = None  # null: full fine-tuning; see students/adapters.py

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | TrainingConfig) -> TrainingConfig:
        """Validate the ``training`` parameters, with its named student applied (see
        :func:`apply_student_preset`); the error names each bad field, and the preset's
        file when the field came from there."""
        if isinstance(params, TrainingConfig):
            return params
        values = apply_student_preset(params)
        preset = (params.get("preset") or {}) if isinstance(params, Mapping) else {}
        from_preset = set(preset) - {"name"}
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            problems = "; ".join(
                _problem(e["loc"], e["msg"], preset.get("name"), from_preset) for e in err.errors()
            )
            raise TrainingConfigError(f"invalid training parameters: {problems}") from None

    @property
    def prefixes(self) -> TaskPrefixes:
        """The task prefixes as one object."""
        return TaskPrefixes(label=self.label_prefix, rationale=self.rationale_prefix)

    @property
    def new_tokens(self) -> int:
        """How many tokens label generation may produce."""
        return self.generation_max_new_tokens or self.max_label_length


def apply_student_preset(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``training`` parameters with their named student applied, without ``preset``.

    ``training.preset`` is what ``${student_preset:${student_name}}`` resolved to: ``None``
    (no ``student_name``: ``training`` as written), or ``{"name": ..., **_student_<name>}``
    from ``conf/<env>/students/<name>.yml``. The preset's ``student`` replaces
    ``training.student`` whole (a T5 ``architecture`` must not leak into a hub checkpoint);
    its other keys override the same keys of ``training``.
    """
    values = dict(params)
    preset = values.pop("preset", None)
    if preset is None:
        return values
    if not isinstance(preset, Mapping):
        raise TrainingConfigError(
            f"training.preset must be a student preset (set the top-level `student_name`, "
            f"see conf/base/students/), got {preset!r}"
        )
    overrides = {k: v for k, v in preset.items() if k != "name"}
    return {**values, **overrides}


def _problem(loc: tuple[Any, ...], message: str, preset: str | None, from_preset: set[str]) -> str:
    """One validation problem as ``training.<field>: <message>``, naming the preset file
    when the field came from the named student."""
    field = ".".join(str(p) for p in loc)
    if preset and loc and loc[0] in from_preset:
        return (
            f"training.{field}: {message} (from student preset {preset!r}: "
            f"_student_{preset}.{field} in conf/<env>/students/{preset}.yml)"
        )
    return f"training.{field}: {message}"


@dataclass
class TrainingResult:
    """What training returns: the (best) student, the history and a summary."""

    student: StudentBundle
    history: pd.DataFrame
    summary: dict[str, Any]


# ------------------------------------------------------------------------------ entry point
def train_from_training_set(
    training_set: pd.DataFrame,
    params: Mapping[str, Any] | TrainingConfig,
    task: Mapping[str, Any] | TaskSpec,
    seed: int = 42,
) -> TrainingResult:
    """Train a student on the ``training_set`` contract (train rows) selected on valid rows.

    Every check runs before training starts: parameters, non-empty train and valid splits,
    the model (offline errors), target lengths. The ``test`` split is never read.
    """
    config = TrainingConfig.from_params(params)
    spec = task if isinstance(task, TaskSpec) else TaskSpec.from_params(task)
    train_rows, valid_rows = split_training_set(training_set)
    try:
        check_peft_settings(config.peft, config.student)
    except AdapterError as err:
        raise TrainingConfigError(str(err)) from None
    student = load_student_for_training(
        config.student, config.peft, seed=seed, labels=spec.label_set
    )
    if student.family == "classifier" and config.peft is not None:
        raise TrainingConfigError(
            "training.peft (LoRA) is not supported for classifier students: an encoder is "
            "small enough to fine-tune in full; set training.peft: null"
        )
    return train_student(student, train_rows, valid_rows, spec, config, seed=seed)


def train_student_model(
    training_set: pd.DataFrame,
    training: Mapping[str, Any],
    task: Mapping[str, Any],
    seed: int,
) -> tuple[StudentBundle, pd.DataFrame, dict[str, Any]]:
    """Train the student on the train split, select it on the valid split (never test).

    The node of the training pipeline and of each experiments variant. Parameters, data,
    model source and target lengths are all checked before the first training step. Returns
    the best student (by validation label accuracy), the training history (one row per
    logging step and per evaluation) and the MLflow metrics (label and rationale losses per
    step, validation accuracy per evaluation, best step, wall time, samples/s).

    With ``training.launcher`` set, training runs in child processes under ``torchrun`` or
    ``accelerate launch`` (:mod:`~zeroshot_distill.students.launcher`) and this returns what
    their rank 0 saved; parameters, task and splits are checked here first.
    """
    config = TrainingConfig.from_params(training)
    if config.launcher is None:
        result = train_from_training_set(training_set, config, task, seed=seed)
        return result.student, result.history, summary_metrics(result.history, result.summary)
    TaskSpec.from_params(task)
    split_training_set(training_set)
    student, history, summary = train_in_child_processes(
        training_set, training, task, seed, config.launcher
    )
    return student, history, summary_metrics(history, summary)


def split_training_set(training_set: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train rows (with targets) and the valid rows (with labels); test is dropped."""
    required = {"id", "split", "input", "label", "label_target", "rationale_target"}
    missing = sorted(required - set(training_set.columns))
    if missing:
        raise TrainingConfigError(f"training_set lacks columns {missing}")
    train = training_set[training_set["split"] == "train"]
    train = train[train["label_target"].notna() & (train["label_target"].astype(str) != "")]
    valid = training_set[(training_set["split"] == "valid") & training_set["label"].notna()]
    if train.empty:
        raise TrainingConfigError(
            "the training set has no train rows with a label target after filtering: check "
            "the annotation (parse_status), subsampling.train_fraction and label_source"
        )
    if valid.empty:
        raise TrainingConfigError(
            "the training set has no labeled valid rows: model selection needs the valid "
            "split (labeled by the same label source as train)"
        )
    return train.reset_index(drop=True), valid.reset_index(drop=True)


def train_student(
    student: StudentBundle,
    train_rows: Any,
    valid_rows: Any,
    spec: TaskSpec,
    params: Mapping[str, Any] | TrainingConfig,
    seed: int = 42,
) -> TrainingResult:
    """Train ``student`` multi-task on ``train_rows``, select it on ``valid_rows``.

    Args:
        student: the model and tokenizer to train (trained in place; the best weights by
            validation accuracy are restored at the end).
        train_rows: rows with ``id``, ``input`` (without prefix), ``label``,
            ``label_target`` and ``rationale_target`` (null: no rationale loss for that row).
        valid_rows: rows with the task's input fields and ``label`` (what the student's
            normalised label prediction is compared with).
        spec: the task (input rendering, label normalisation).
        params: the training parameters; their ``auto`` values are resolved for this
            student (:mod:`~zeroshot_distill.students.defaults`) and logged.
        seed: seeds the data order, dropout and (through :func:`load_student`) the init.
    """
    config = resolve_training_config(TrainingConfig.from_params(params), student)
    train_records, valid_records = as_records(train_rows), as_records(valid_rows)
    if not train_records:
        raise TrainingConfigError("no training rows")
    if not valid_records:
        raise TrainingConfigError("no validation rows: model selection needs the valid split")
    _check_position_limits(student, config)
    dataset, truncated = _encode_training_rows(student, train_records, config, spec)
    set_seed(seed)
    if config.peft is not None or is_adapter_model(student.model):
        attach_adapters(student, config.peft or PeftSettings())
    student.info.setdefault("peft", None)
    num_parameters, num_trainable = parameter_counts(student.model)
    if student.rationale_decoder is not None:
        num_parameters += int(student.rationale_decoder.num_parameters())
        num_trainable += int(student.rationale_decoder.num_parameters())
    previous_threads = torch.get_num_threads()
    if config.num_threads:
        torch.set_num_threads(int(config.num_threads))
    try:
        with tempfile.TemporaryDirectory(prefix="student-trainer-") as scratch:
            trainer = MultiTaskTrainer(
                model=_training_view(student, config.alpha),
                args=_training_arguments(config, scratch, seed),
                train_dataset=dataset,
                eval_dataset=valid_records,
                data_collator=_collator(student, config),
                processing_class=student.tokenizer,
                spec=spec,
                config=config,
                new_parameters=new_parameters(student),
            )
            with PeakMemory() as memory:
                summary = trainer.train_and_select()
    finally:
        torch.set_num_threads(previous_threads)
    summary.update(
        n_train=len(dataset),
        n_train_with_rationale=dataset.n_with_rationale,
        n_valid=len(valid_records),
        n_truncated_inputs=truncated,
        seed=seed,
        num_parameters=num_parameters,
        num_trainable_parameters=num_trainable,
        peak_memory_mb=memory.peak_mb,
        peak_memory_kind=memory.kind,
        learning_rate=config.learning_rate,
        new_learning_rate=config.new_learning_rate,
        num_epochs=config.num_epochs,
    )
    finish_adapters(student, config.peft)
    student.info.pop("new_parameters", None)  # names for the optimizer, not a record
    student.info.update(
        task=spec.name,
        family=student.family,
        alpha=config.alpha,
        prefixes={"predict": config.label_prefix, "explain": config.rationale_prefix},
        max_input_length=config.max_input_length,
        max_label_length=config.max_label_length,
        max_rationale_length=config.max_rationale_length,
        label_decoding=config.label_decoding,
        **summary,
    )
    return TrainingResult(student=student, history=trainer.history(), summary=summary)


def resolve_training_config(config: TrainingConfig, student: StudentBundle) -> TrainingConfig:
    """``config`` with its ``auto`` settings made concrete for ``student`` (logged once)."""
    keys = ("learning_rate", "new_learning_rate", "num_epochs", "num_threads", "precision")
    given = {k: getattr(config, k) for k in keys}
    resolved = resolve_auto_settings(
        given,
        pretrained=config.student.architecture is None,
        family=student.family if student.family != "seq2seq" else _seq2seq_kind(student),
        adapters=config.peft is not None or is_adapter_model(student.model),
    )
    chosen = {k: v for k, v in resolved.values.items() if given[k] == "auto"}
    if chosen:
        logger.info(
            "training settings for a %s: %s (set them in training.* to override)",
            resolved.reason,
            ", ".join(f"{k}={v}" for k, v in chosen.items()),
        )
    return config.model_copy(update=resolved.values)


def _seq2seq_kind(student: StudentBundle) -> str:
    """``encoder`` for an encoder student (an encoder under a new decoder), else ``seq2seq``."""
    return "encoder" if student.info.get("student_kind") == "encoder" else "seq2seq"


def new_parameters(student: StudentBundle) -> list[torch.nn.Parameter]:
    """Parameters the checkpoint did not have (``info["new_parameters"]``, the rationale
    decoder): they take ``training.new_learning_rate``."""
    names = set(student.info.get("new_parameters") or ())
    params = [p for n, p in student.model.named_parameters() if n in names]
    if student.rationale_decoder is not None:
        params.extend(student.rationale_decoder.parameters())
    return params


def _training_view(student: StudentBundle, alpha: float) -> torch.nn.Module:
    """The module the Trainer optimises: the student wrapped with its multi-task loss."""
    if student.family == "classifier":
        if student.rationale_decoder is None:
            raise TrainingConfigError(
                "this classifier student has no rationale decoder to train (it was saved "
                "without one): start from the encoder checkpoint instead"
            )
        return MultiTaskClassifier(student.model, student.rationale_decoder, alpha)
    if student.family == "causal_lm":
        return MultiTaskCausalLM(student.model, alpha, student.tokenizer.pad_token_id)
    return MultiTaskSeq2Seq(student.model, alpha)


def _collator(student: StudentBundle, config: TrainingConfig) -> Any:
    pad_id = student.tokenizer.pad_token_id
    if student.family == "classifier":
        return ClassifierCollator(pad_token_id=pad_id, use_rationales=config.alpha < 1.0)
    return MultiTaskCollator(
        pad_token_id=pad_id,
        use_rationales=config.alpha < 1.0,
        pad_left=student.family == "causal_lm",
    )


def _check_position_limits(student: StudentBundle, config: TrainingConfig) -> None:
    """Lengths beyond a model's absolute position embeddings (``max_input_positions`` /
    ``max_target_positions`` in ``student.info``, e.g. 512 for BERT) fail mid-training with
    an index error: refuse them before the first step, naming the parameter."""
    limits = {
        "max_input_length": student.info.get("max_input_positions"),
        "max_label_length": student.info.get("max_target_positions"),
        "max_rationale_length": student.info.get("max_target_positions"),
    }
    for option, limit in limits.items():
        if limit is not None and getattr(config, option) > int(limit):
            raise TrainingConfigError(
                f"training.{option}={getattr(config, option)} exceeds the {limit} positions "
                f"the student ({student.info.get('source')}) can take: lower it to {limit}"
            )


def _encode_training_rows(
    student: StudentBundle,
    train_records: list[dict[str, Any]],
    config: TrainingConfig,
    spec: TaskSpec,
) -> tuple[MultiTaskDataset, int]:
    """The training rows tokenized with both prefixes, and how many inputs were truncated
    (logged: a long input loses its end silently otherwise). A causal LM's inputs are its
    prompts (:class:`PromptFormat`: chat template or plain); a classifier's are the plain
    inputs with the class index as label."""
    if student.family == "classifier":
        try:
            examples, truncated = encode_classifier_examples(
                student.tokenizer,
                train_records,
                [_text_or_none(r.get("rationale_target")) for r in train_records],
                spec.label_set or [],
                max_input_length=config.max_input_length,
                max_rationale_length=config.max_rationale_length,
            )
        except ValueError as err:
            raise TrainingConfigError(str(err)) from None
        _log_truncated(truncated, len(examples), config.max_input_length)
        return MultiTaskDataset(examples), truncated
    prompts = (
        PromptFormat.for_tokenizer(student.tokenizer) if student.family == "causal_lm" else None
    )
    if prompts is not None:
        prompts.prompt_ids([], config.max_input_length)  # fails when the template fills it
    examples, truncated = encode_examples(
        student.tokenizer,
        [str(r["id"]) for r in train_records],
        [str(r["input"]) for r in train_records],
        [str(r["label_target"]) for r in train_records],
        [_text_or_none(r.get("rationale_target")) for r in train_records],
        prefixes=config.prefixes,
        max_input_length=config.max_input_length,
        max_label_length=config.max_label_length,
        max_rationale_length=config.max_rationale_length,
        **({"encode_inputs": prompts.encode, "keep_tail": len(prompts.tail)} if prompts else {}),
    )
    _log_truncated(truncated, len(examples), config.max_input_length)
    return MultiTaskDataset(examples), truncated


def _log_truncated(truncated: int, total: int, max_input_length: int) -> None:
    if truncated:
        logger.warning(
            "%d of %d training inputs are longer than max_input_length=%d tokens and were "
            "truncated",
            truncated,
            total,
            max_input_length,
        )


def _text_or_none(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _training_arguments(config: TrainingConfig, output_dir: str, seed: int) -> TrainingArguments:
    on_cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=output_dir,
        use_cpu=not on_cuda,
        bf16=_use_bf16(config.precision, on_cuda),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps or -1,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup,
        lr_scheduler_type=config.lr_scheduler,
        optim=config.optimizer,
        max_grad_norm=config.max_grad_norm,
        eval_strategy="steps" if config.eval_steps else "epoch",
        eval_steps=config.eval_steps,
        logging_strategy="steps",
        logging_steps=config.logging_steps,
        save_strategy="no",
        metric_for_best_model="accuracy",
        greater_is_better=True,
        seed=seed,
        data_seed=seed,
        remove_unused_columns=False,
        report_to="none",
        disable_tqdm=not config.progress_bar,
        dataloader_pin_memory=on_cuda,
        **_distributed_arguments(config.launcher),
    )


def _distributed_arguments(launcher: LauncherConfig | None) -> dict[str, Any]:
    """Process group settings of ``training.launcher`` (used only under several processes)."""
    if launcher is None:
        return {}
    arguments: dict[str, Any] = {}
    if launcher.ddp_backend is not None:
        arguments["ddp_backend"] = launcher.ddp_backend
    if launcher.timeout_s is not None:
        arguments["ddp_timeout"] = max(1, round(launcher.timeout_s))
    return arguments


def _use_bf16(precision: str, on_cuda: bool) -> bool:
    if precision == "fp32":
        return False
    if on_cuda:
        supported = torch.cuda.is_bf16_supported()
    else:
        probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
        amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
        supported = bool((probe and probe()) or (amx and amx()))
    if precision == "bf16" and not supported:
        logger.warning("precision=bf16 without native bf16 support here: expect it to be slow")
        return True
    return supported


# ---------------------------------------------------------------------------------- trainer
class MultiTaskTrainer(Trainer):
    """A ``Trainer`` for :class:`MultiTaskSeq2Seq` that selects on validation accuracy."""

    def __init__(
        self,
        *args: Any,
        spec: TaskSpec,
        config: TrainingConfig,
        new_parameters: list[torch.nn.Parameter] | None = None,
        **kwargs: Any,
    ):
        self.spec = spec
        self.config = config
        self._new_parameter_ids = {id(p) for p in new_parameters or ()}
        self.keep_best = KeepBestWeights()
        callbacks = [self.keep_best]
        if config.early_stopping_patience:
            callbacks.append(
                _EarlyStopping(
                    early_stopping_patience=config.early_stopping_patience,
                    early_stopping_threshold=config.early_stopping_threshold,
                )
            )
        super().__init__(*args, callbacks=callbacks, **kwargs)
        self.remove_callback(PrinterCallback)  # without a progress bar: log, do not print
        if self.args.n_gpu > 1:
            raise TrainingConfigError(
                "several GPUs in one process (nn.DataParallel) are not supported: launch with "
                "`torchrun --nproc_per_node=N` or `accelerate launch` for data parallelism"
            )
        self._since_log = {"label": 0.0, "rationale": 0.0, "batches": 0, "rationale_batches": 0}
        self._examples_seen = 0
        self._eval_seconds = 0.0

    # ---- two learning rates: the checkpoint's own weights and the new ones
    def create_optimizer(self, model: Any = None) -> Any:
        """The Trainer's optimizer, with ``training.new_learning_rate`` for the parameters
        the checkpoint did not have (a head, a decoder from scratch): a rate that trains
        them in a few hundred steps would wreck the pretrained weights (the encoder
        student collapsed to one label with a single rate of 3e-4)."""
        new_rate = self.config.new_learning_rate
        if self.optimizer is not None or not self._new_parameter_ids:
            return super().create_optimizer()
        if new_rate is None or new_rate == self.args.learning_rate:
            return super().create_optimizer()
        decay = set(self.get_decay_parameter_names(self.model))
        groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
        for name, param in self.model.named_parameters():
            if param.requires_grad:
                key = (id(param) in self._new_parameter_ids, name in decay)
                groups.setdefault(key, []).append(param)
        optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args, self.model)
        kwargs.pop("lr", None)
        self.optimizer = optimizer_cls(
            [
                {
                    "params": params,
                    "lr": float(new_rate) if is_new else self.args.learning_rate,
                    "weight_decay": self.args.weight_decay if decays else 0.0,
                }
                for (is_new, decays), params in sorted(groups.items())
            ],
            **kwargs,
        )
        return self.optimizer

    # ---- the loss: one forward of the wrapper, parts kept for the log
    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        out = model(**inputs)
        if model.training:
            self._since_log["label"] += float(out.label_loss.detach())
            self._since_log["batches"] += 1
            if out.rationale_loss is not None:
                self._since_log["rationale"] += float(out.rationale_loss.detach())
                self._since_log["rationale_batches"] += 1
            self._examples_seen += int(inputs["label_ids"].shape[0])
        return (out.loss, out) if return_outputs else out.loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add the mean label and rationale losses since the last log to the train logs."""
        if "loss" in logs and self._since_log["batches"]:
            parts = self._since_log
            logs["label_loss"] = parts["label"] / parts["batches"]
            if parts["rationale_batches"]:
                logs["rationale_loss"] = parts["rationale"] / parts["rationale_batches"]
            self._since_log = dict.fromkeys(parts, 0)
        super().log(logs, start_time)

    # ---- evaluation: validation label accuracy
    def evaluate(
        self,
        eval_dataset: Any = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> dict[str, float]:
        """Read labels for the validation rows; accuracy against their ``label``.

        Under several processes rank 0 evaluates the whole valid split and the others take
        its figures (they wait meanwhile): model selection and early stopping then decide
        the same on every rank, and the evaluation costs one process, not all.
        """
        started = time.perf_counter()
        metrics: dict[str, float] | None = None
        if self.args.process_index == 0:
            metrics = self._valid_metrics(eval_dataset, metric_key_prefix)
        if self.args.world_size > 1:
            shared = [metrics]
            torch.distributed.broadcast_object_list(shared, src=0)
            metrics = shared[0]
        assert metrics is not None
        self._eval_seconds += time.perf_counter() - started
        logger.info(
            "step %d: valid accuracy %.3f (unparsed %.3f)",
            self.state.global_step,
            metrics[f"{metric_key_prefix}_accuracy"],
            metrics[f"{metric_key_prefix}_unparsed_rate"],
        )
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics=metrics
        )
        return metrics

    def _valid_metrics(self, eval_dataset: Any, metric_key_prefix: str) -> dict[str, float]:
        rows = self.eval_dataset if eval_dataset is None else as_records(eval_dataset)
        student = self.accelerator.unwrap_model(self.model).model
        predicted = predict_labels(
            student,
            self.processing_class,
            self.spec,
            rows,
            self.args.per_device_eval_batch_size,
            prefix=self.config.label_prefix,
            max_input_length=self.config.max_input_length,
            max_new_tokens=self.config.new_tokens,
            decoding=self.config.label_decoding,
        )
        return {
            f"{metric_key_prefix}_accuracy": accuracy(predicted, [r["label"] for r in rows]),
            f"{metric_key_prefix}_unparsed_rate": sum(p is None for p in predicted) / len(rows),
        }

    # ---- length grouping over input and rationale lengths
    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        distributed = self.args.world_size > 1
        if not isinstance(dataset, MultiTaskDataset) or not (
            self.config.group_by_length or distributed
        ):
            return super()._get_train_sampler(train_dataset)
        input_lengths, rationale_lengths = dataset.input_lengths, dataset.rationale_lengths
        if self.config.alpha == 1.0:  # rationales are not trained: group by input only
            rationale_lengths = [0] * len(dataset)
        if not self.config.group_by_length:  # data parallel, ungrouped: random batches that
            input_lengths = [0] * len(dataset)  # still keep their share of rationales
            rationale_lengths = [int(n > 0) for n in rationale_lengths]
        return MultiTaskLengthSampler(
            input_lengths,
            rationale_lengths,
            self.args.train_batch_size,
            seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
            num_replicas=self.args.world_size,
            rank=self.args.process_index,
        )

    def get_train_dataloader(self) -> DataLoader:
        """Under several processes: this rank's share of the length-grouped batches.

        ``accelerator.prepare`` would shard the batches a second time and, to even out the
        last step, repeat examples; the sampler has already given each rank its share of an
        epoch with equal batch counts, so the shard wrapper is made a pass-through (as the
        ``Trainer`` itself does for its rank-aware ``BatchRebalanceSampler``).
        """
        sampler = self._get_train_sampler()
        if not isinstance(sampler, MultiTaskLengthSampler) or sampler.num_replicas == 1:
            return super().get_train_dataloader()
        batches = RankBatchSampler(sampler)
        loader = DataLoader(
            self.train_dataset,
            batch_sampler=batches,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )
        prepared = self.accelerator.prepare(loader)
        shard = getattr(prepared, "batch_sampler", None)
        if isinstance(shard, BatchSamplerShard) and shard.batch_sampler is batches:
            shard.num_processes, shard.process_index = 1, 0
        return prepared

    # ---- the run
    def train_and_select(self) -> dict[str, Any]:
        """Train, evaluate once more if the last step was not evaluated, restore the best."""
        started = time.perf_counter()
        self.train()
        if self.keep_best.last_step != self.state.global_step:
            self.evaluate()
        wall = time.perf_counter() - started
        self.keep_best.restore(self.model)
        train_seconds = max(wall - self._eval_seconds, 1e-9)
        examples_seen = self._examples_seen
        if self.args.world_size > 1:  # every rank's own examples, summed
            total = torch.tensor(examples_seen, device=self.args.device)
            examples_seen = int(self.accelerator.reduce(total, reduction="sum").item())
        return {
            "best_step": self.keep_best.best_step,
            "best_valid_accuracy": self.keep_best.best,
            "final_step": self.state.global_step,
            "epochs": float(self.state.epoch or 0.0),
            "stopped_early": self.state.global_step < self.state.max_steps,
            "wall_time_s": wall,
            "eval_time_s": self._eval_seconds,
            "train_samples_per_s": examples_seen / train_seconds,
            "examples_seen": examples_seen,
            "world_size": self.args.world_size,
            "bf16": bool(self.args.bf16),
        }

    def history(self) -> pd.DataFrame:
        """The log history as a table: one row per train log and per evaluation."""
        rows = []
        for entry in self.state.log_history:
            if "loss" in entry:
                kind = "train"
            elif "eval_accuracy" in entry:
                kind = "eval"
            else:
                continue
            rows.append({"kind": kind, **entry})
        columns = [
            "kind",
            "step",
            "epoch",
            "loss",
            "label_loss",
            "rationale_loss",
            "learning_rate",
            "grad_norm",
            "eval_accuracy",
            "eval_unparsed_rate",
        ]
        history = pd.DataFrame(rows).reindex(columns=columns)
        return history.rename(
            columns={"eval_accuracy": "valid_accuracy", "eval_unparsed_rate": "valid_unparsed_rate"}
        )


class _EarlyStopping(EarlyStoppingCallback):
    """``EarlyStoppingCallback`` minus its warning about ``load_best_model_at_end``: the
    best weights are restored by :class:`KeepBestWeights` instead."""

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        return None


class KeepBestWeights(TrainerCallback):
    """Keep a CPU copy of the weights at the best validation accuracy seen so far.

    Only what training changes is copied: the trainable parameters (all of them in full
    fine-tuning, the adapters with LoRA) and the buffers; frozen weights stay as they are.
    """

    def __init__(self) -> None:
        self.best: float | None = None
        self.best_step: int | None = None
        self.last_step: int | None = None
        self._state: dict[str, torch.Tensor] | None = None

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any):
        self.last_step = state.global_step
        value = (metrics or {}).get("eval_accuracy")
        model = kwargs.get("model")
        if value is None or model is None:
            return
        if self.best is None or value > self.best:
            self.best, self.best_step = float(value), state.global_step
            self._state = {
                k: v.detach().to("cpu", copy=True) for k, v in _changing_state(model).items()
            }

    def restore(self, model: torch.nn.Module) -> None:
        """Load the kept weights into ``model`` (no-op when nothing was kept)."""
        if self._state is not None:
            unexpected = model.load_state_dict(self._state, strict=False).unexpected_keys
            if unexpected:
                raise RuntimeError(f"kept weights do not fit the model: {unexpected[:5]}")


def _changing_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The entries of ``model.state_dict()`` that training can change: trainable
    parameters (under every name a tied weight has) and buffers."""
    changing = {id(p) for p in model.parameters() if p.requires_grad}
    changing |= {id(b) for b in model.buffers()}
    state = model.state_dict(keep_vars=True)
    return {k: v for k, v in state.items() if id(v) in changing}


def summary_metrics(history: pd.DataFrame, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics in ``MlflowMetricsHistoryDataset`` form: per-step series plus scalars."""
    metrics: dict[str, Any] = {}
    train = history[history["kind"] == "train"]
    for column in ("loss", "label_loss", "rationale_loss", "learning_rate"):
        series = [
            {"step": int(s), "value": float(v)}
            for s, v in zip(train["step"], train[column], strict=True)
            if pd.notna(v)
        ]
        if series:
            metrics[column] = series
    evals = history[history["kind"] == "eval"]
    series = [
        {"step": int(s), "value": float(v)}
        for s, v in zip(evals["step"], evals["valid_accuracy"], strict=True)
        if pd.notna(v)
    ]
    if series:
        metrics["valid_accuracy"] = series
    final_step = int(summary.get("final_step") or 0)
    for key in (
        "best_step",
        "best_valid_accuracy",
        "wall_time_s",
        "train_samples_per_s",
        "n_train",
        "n_train_with_rationale",
        "n_valid",
        "num_parameters",
        "num_trainable_parameters",
        "peak_memory_mb",
    ):
        value = summary.get(key)
        if value is not None:
            metrics[key] = {"step": final_step, "value": float(value)}
    return metrics
