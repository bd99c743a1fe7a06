"""Decoder-only (causal LM) students: loading, prompts, the training forward, scoring, generation.

A causal LM student (Qwen2, Llama, SmolLM, Gemma, Phi by hub id or local directory, or a tiny
one built from ``architecture: {model_type: qwen2, ...}``) learns the same two tasks as a T5
student. The user turn is ``<prefix><input>`` (``predict: …`` / ``explain: …``); it goes
through the tokenizer's chat template when the tokenizer has one (with the generation prompt,
so the answer is the assistant turn), else the prompt is ``<prefix><input>\\n`` after the
beginning-of-sequence token. The target follows the prompt: its tokens plus end-of-sequence
(:func:`~zeroshot_distill.students.data.encode_targets`), the only positions with a loss.

One :class:`PromptFormat` builds the prompt ids for training, label scoring and generation,
so the three cannot drift apart. Batches put the left-padded prompts first and the
right-padded targets after them, so every target starts at the same column and logits are
computed only at target positions (``logits_to_keep``).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
)
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
)

from zeroshot_distill.students.data import IGNORE_INDEX, end_of_sequence_id, pad
from zeroshot_distill.students.kv_cache import cache_argument, output_cache
from zeroshot_distill.students.loss import MultiTaskLoss, multitask_loss
from zeroshot_distill.students.model import (
    BYT5,
    StudentBundle,
    StudentConfig,
    StudentLoadError,
    _from_pretrained,
    load_tokenizer,
)

#: Stands for the user text while the chat template is rendered once per tokenizer.
_CONTENT = "\x00ZSD-CONTENT\x00"
#: The date a chat template that prints one sees (Llama 3.x's default).
_TEMPLATE_DATE = "26 Jul 2024"


def is_causal_model_type(model_type: str) -> bool:
    """Whether ``model_type`` (``qwen2``, ``llama``, ...) is a decoder-only causal LM (not a
    seq2seq model, and not an encoder such as BERT that merely has a causal LM head)."""
    return (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def is_causal_lm_config(config: PretrainedConfig) -> bool:
    """Whether a checkpoint's config describes a decoder-only causal LM."""
    if getattr(config, "is_encoder_decoder", False):
        return False
    architectures = getattr(config, "architectures", None) or []
    if any(str(a).endswith("ForCausalLM") for a in architectures):
        return True
    return is_causal_model_type(str(getattr(config, "model_type", "")))


def is_causal_lm(model: PreTrainedModel) -> bool:
    """Whether ``model`` is used as a causal LM student (not an encoder-decoder; a model
    without a config is taken for a seq2seq one)."""
    config = getattr(model, "config", None)
    return config is not None and not getattr(config, "is_encoder_decoder", False)


# ------------------------------------------------------------------------------- loading
def load_causal_student(config: StudentConfig, seed: int | None = None) -> StudentBundle:
    """Build (``architecture``) or load (``name_or_path``) a causal LM student.

    A tokenizer without a pad token pads with its end-of-sequence token (the vocabulary is
    unchanged; attention masks come from lengths, never from the pad id). With
    ``chat_template: none`` the tokenizer's chat template is dropped, so that every later
    prompt (also after saving and loading) is the plain one.
    """
    tokenizer = load_tokenizer(config.tokenizer or config.name_or_path or BYT5)
    eos = end_of_sequence_id(tokenizer)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(eos)
    if config.chat_template == "none":
        tokenizer.chat_template = None
    if config.architecture is not None:
        model = _build_random_causal_lm(config.architecture, tokenizer, seed)
    else:
        model = _from_pretrained(AutoModelForCausalLM, config.name_or_path or "", "model")
        if not is_causal_lm_config(model.config):
            raise StudentLoadError(f"{config.source!r} is not a decoder-only causal LM")
        embeddings = int(model.get_input_embeddings().weight.shape[0])
        if len(tokenizer) > embeddings:
            raise StudentLoadError(
                f"tokenizer {config.tokenizer!r} has {len(tokenizer)} tokens but the model "
                f"{config.source!r} only {embeddings} embeddings: use the model's own tokenizer"
            )
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    PromptFormat.for_tokenizer(tokenizer)  # a template that hides the user text fails here
    return StudentBundle(
        model=model, tokenizer=tokenizer, info={"source": config.source, "family": "causal_lm"}
    )


def _build_random_causal_lm(
    architecture: dict[str, Any], tokenizer: PreTrainedTokenizerBase, seed: int | None
) -> PreTrainedModel:
    reserved = {"vocab_size", "pad_token_id", "eos_token_id", "bos_token_id"}
    clash = sorted(reserved & set(architecture))
    if clash:
        raise StudentLoadError(f"`architecture` must not set {clash}: they come from the tokenizer")
    arguments = dict(architecture)
    model_type = str(arguments.pop("model_type"))
    try:
        defaults = AutoConfig.for_model(model_type)
    except (TypeError, ValueError, KeyError) as err:
        raise StudentLoadError(f"invalid student `architecture.model_type`: {err}") from err
    known = set(defaults.to_dict()) | set(inspect.signature(type(defaults).__init__).parameters)
    # A config class keeps unknown keyword arguments silently: T5 keys (d_model, num_heads,
    # ...) merged in from conf/base's T5 `architecture` would build a model nobody asked for.
    unknown = sorted((set(arguments) & set(T5Config().to_dict())) - known)
    if unknown:
        raise StudentLoadError(
            f"`architecture` sets {unknown}, which a {model_type} config does not have (it "
            f"knows e.g. hidden_size, intermediate_size, num_hidden_layers, "
            "num_attention_heads). Parameters of conf/<env> are merged key by key over "
            "conf/base's, so conf/base's T5 `architecture` keys come along: choose a named "
            "student (`--params student_name=decoder_tiny`) or edit conf/base"
        )
    try:
        model_config = AutoConfig.for_model(
            model_type,
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=end_of_sequence_id(tokenizer),
            bos_token_id=tokenizer.bos_token_id,
            **arguments,
        )
    except (TypeError, ValueError, KeyError) as err:
        raise StudentLoadError(f"invalid student `architecture` {architecture}: {err}") from err
    if seed is not None:
        torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(model_config)


# ------------------------------------------------------------------------------- prompts
@dataclass(frozen=True)
class PromptFormat:
    """How a user text becomes prompt token ids: ``head + text + tail``.

    With a chat template, ``head`` and ``tail`` are the template rendered around the user
    turn (``tail`` ends with the assistant's generation prompt); without one, ``head`` is the
    beginning-of-sequence token (if the tokenizer has one) and ``tail`` a newline. A prompt
    longer than the limit loses the end of its *text*; head and tail stay whole.
    """

    tokenizer: PreTrainedTokenizerBase
    head: tuple[int, ...]
    tail: tuple[int, ...]

    @classmethod
    def for_tokenizer(cls, tokenizer: PreTrainedTokenizerBase) -> PromptFormat:
        """The format of ``tokenizer`` (its chat template when it has one)."""
        if getattr(tokenizer, "chat_template", None):
            rendered = tokenizer.apply_chat_template(
                [{"role": "user", "content": _CONTENT}],
                tokenize=False,
                add_generation_prompt=True,
                # Llama 3.x templates print today's date unless given one: a fixed date keeps
                # the prompt of training and of every later inference the same.
                date_string=_TEMPLATE_DATE,
            )
            if not isinstance(rendered, str) or rendered.count(_CONTENT) != 1:
                raise StudentLoadError(
                    "the tokenizer's chat template does not show the user message once: set "
                    "`training.student.chat_template: none` for plain prompts"
                )
            head_text, tail_text = rendered.split(_CONTENT)
            return cls(
                tokenizer, _plain_ids(tokenizer, head_text), _plain_ids(tokenizer, tail_text)
            )
        bos = tokenizer.bos_token_id
        head = () if bos is None else (int(bos),)
        return cls(tokenizer, head, _plain_ids(tokenizer, "\n"))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Prompt ids of each user text, not truncated."""
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [[*self.head, *map(int, row), *self.tail] for row in ids]

    def prompt_ids(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        """Prompt ids of each user text, cut to ``max_length`` tokens (the text's end goes)."""
        if max_length <= len(self.head) + len(self.tail):
            raise ValueError(
                f"training.max_input_length={max_length} leaves no room for the input: the prompt "
                f"template alone takes {len(self.head) + len(self.tail)} tokens"
            )
        keep = len(self.tail)
        return [
            ids if len(ids) <= max_length else [*ids[: max_length - keep], *ids[len(ids) - keep :]]
            for ids in self.encode(texts)
        ]


def _plain_ids(tokenizer: PreTrainedTokenizerBase, text: str) -> tuple[int, ...]:
    if not text:
        return ()
    return tuple(int(i) for i in tokenizer(text, add_special_tokens=False)["input_ids"])


def prompt_ids(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int
) -> list[list[int]]:
    """Prompt ids of user texts (``<prefix><input>``) for a causal LM student."""
    return PromptFormat.for_tokenizer(tokenizer).prompt_ids(texts, max_length)


def pad_prompts(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded prompt ids and their attention mask (from the lengths)."""
    return pad(rows, pad_id, left=True), pad([[1] * len(r) for r in rows], 0, left=True)


# ------------------------------------------------------------------------------ training
def target_logits(
    model: PreTrainedModel,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    target_ids: torch.Tensor,
    pad_id: int = 0,
) -> torch.Tensor:
    """Logits that predict each target token, ``(rows, T, vocab)``.

    ``prompt_ids``/``prompt_mask``: left-padded prompts; ``target_ids``: right-padded targets
    (:data:`IGNORE_INDEX` after each row's end). One forward pass over prompt + target
    (without the target's last token); positions follow each row's real tokens, and only the
    ``T`` target positions get logits.
    """
    prompt_ids, prompt_mask = _drop_empty_columns(prompt_ids, prompt_mask)
    width = target_ids.shape[1]
    teacher = target_ids[:, :-1]
    input_ids = torch.cat([prompt_ids, teacher.masked_fill(teacher == IGNORE_INDEX, pad_id)], 1)
    mask = torch.cat([prompt_mask.long(), (teacher != IGNORE_INDEX).long()], 1)
    logits = _forward(model, input_ids, mask, _positions(mask), width).logits
    return logits[:, -width:]


def _drop_empty_columns(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop leading columns that are padding in every row (predict rows padded together
    with the longer explain rows)."""
    used = mask.any(dim=0).nonzero()
    start = int(used[0]) if len(used) else 0
    return ids[:, start:], mask[:, start:]


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.long().cumsum(1) - 1).clamp(min=0)


def _forward(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    keep: int,
    **kwargs: Any,
) -> Any:
    """The model's forward with logits only for the last ``keep`` positions."""
    if _accepts(model, "logits_to_keep"):
        kwargs["logits_to_keep"] = keep
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        **kwargs,
    )
    return out


def _accepts(model: Any, argument: str) -> bool:
    forward = getattr(model, "forward", None)
    try:
        parameters = inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return False
    return argument in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


class MultiTaskCausalLM(nn.Module):
    """Training view of a causal LM student: a batch from ``MultiTaskCollator(pad_left=True)``
    in, losses out.

    The ``n`` predict prompts (then the ``m`` explain prompts) are followed by their label
    (rationale) targets; one model pass per task, each padded only to its own targets, all
    inside one ``forward`` call (DistributedDataParallel sees one forward per step). It adds
    no parameters: the student is saved and used as it is.
    """

    def __init__(self, model: PreTrainedModel, alpha: float, pad_token_id: int = 0):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.model = model
        self.alpha = alpha
        self.pad_token_id = pad_token_id

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        label_ids: torch.Tensor,
        rationale_ids: torch.Tensor | None = None,
    ) -> MultiTaskLoss:
        """Label logits over the predict rows, rationale logits over the explain rows."""
        n = label_ids.shape[0]
        if self.alpha == 1.0:
            rationale_ids = None
        label_logits = target_logits(
            self.model, input_ids[:n], attention_mask[:n], label_ids, self.pad_token_id
        )
        rationale_logits = None
        if rationale_ids is not None:
            rationale_logits = target_logits(
                self.model, input_ids[n:], attention_mask[n:], rationale_ids, self.pad_token_id
            )
        return multitask_loss(label_logits, label_ids, rationale_logits, rationale_ids, self.alpha)


# ----------------------------------------------------------------------------- inference
def target_log_probs(
    model: PreTrainedModel,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    target_ids: torch.Tensor,
    n_candidates: int,
    pad_id: int = 0,
) -> torch.Tensor:
    """Log-probability of each target token, ``(rows * n_candidates, T)``, 0 at padding;
    candidate ``j`` of row ``i`` is target row ``i * n_candidates + j``.

    The prompts run once per row (logits only at their last position, which predicts each
    candidate's first token); their key/value cache is then repeated for the candidates,
    whose remaining tokens go through the model together.
    """
    prompt_ids, prompt_mask = _drop_empty_columns(prompt_ids, prompt_mask.long())
    first = _forward(model, prompt_ids, prompt_mask, _positions(prompt_mask), 1, use_cache=True)
    logits = [first.logits[:, -1:].float().repeat_interleave(n_candidates, 0)]
    if target_ids.shape[1] > 1:
        name = cache_argument(model)
        cache = output_cache(first)
        cache.batch_repeat_interleave(n_candidates)
        teacher = target_ids[:, :-1]
        lengths = prompt_mask.sum(1).repeat_interleave(n_candidates, 0)
        steps = torch.arange(teacher.shape[1], device=teacher.device)
        rest = _forward(
            model,
            teacher.masked_fill(teacher == IGNORE_INDEX, pad_id),
            torch.cat(
                [
                    prompt_mask.repeat_interleave(n_candidates, 0),
                    (teacher != IGNORE_INDEX).long(),
                ],
                1,
            ),
            lengths[:, None] + steps[None, :],
            teacher.shape[1],
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


def generate_batch(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    max_new_tokens: int,
    **sampling: Any,
) -> list[str]:
    """Greedy (or, with ``sampling``, sampled) continuations of prompt ids: left-padded,
    stopped at end-of-sequence, only the new tokens decoded."""
    input_ids, mask = pad_prompts(prompts, tokenizer.pad_token_id)
    options: dict[str, Any] = {"do_sample": False, "num_beams": 1, **sampling}
    generated = model.generate(
        input_ids=input_ids.to(model.device),
        attention_mask=mask.to(model.device),
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=end_of_sequence_id(tokenizer),
        **options,
    )
    new = generated[:, input_ids.shape[1] :]
    return [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
