"""``transformers`` backend: an in-process chat model, no server and no key.

``teacher.model`` is a hub id or a local directory with a causal LM and its tokenizer.
Prompts go through the tokenizer's chat template (a plain ``role: content`` layout when it
has none), are generated in length-sorted batches of ``teacher.transformers.batch_size``
with left padding, and token counts come from the tokenizer itself. The model is loaded
on the first request that misses the cache, so a fully cached rerun never loads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from zeroshot_distill.teachers.base import ChatRequest, ChatResult
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.engine import PreparedRequest, Sink

logger = logging.getLogger(__name__)


class TransformersBackend:
    """Batched generation with a local Hugging Face causal LM."""

    name = "transformers"
    simulated = False

    def __init__(self, config: TeacherConfig) -> None:
        self.config = config
        self.model = config.model
        self.settings = config.transformers
        self._tokenizer: Any = None
        self._model: Any = None
        self._device: Any = None

    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """The tokenizer override changes the prompt the model sees."""
        return {"tokenizer": self.settings.tokenizer} if self.settings.tokenizer else None

    # ------------------------------------------------------------------------------ loading
    def tokenizer(self) -> Any:
        """The tokenizer (loaded on first use), left-padding, with a pad token."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(
                self.settings.tokenizer or self.model,
                trust_remote_code=self.settings.trust_remote_code,
            )
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
        return self._tokenizer

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM

        device = self.settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype: Any = self.settings.dtype
        if dtype != "auto":
            dtype = getattr(torch, dtype)
        logger.info("loading teacher model %s on %s", self.model, device)
        model = AutoModelForCausalLM.from_pretrained(
            self.model, dtype=dtype, trust_remote_code=self.settings.trust_remote_code
        )
        self._model = model.to(device).eval()
        self._device = device

    def close(self) -> None:
        """Drop the model."""
        self._model = None
        self._tokenizer = None

    # ----------------------------------------------------------------------------- prompts
    def render(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The chat-templated prompt text."""
        tokenizer = self.tokenizer()
        if getattr(tokenizer, "chat_template", None):
            return str(
                tokenizer.apply_chat_template(
                    [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
                )
            )
        lines = [f"{m['role']}: {m['content']}" for m in messages]
        return "\n".join([*lines, "assistant:"])

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, str]]) -> int | None:
        """Exact prompt tokens from the local tokenizer."""
        return len(self.tokenizer()(self.render(messages), add_special_tokens=False)["input_ids"])

    # ---------------------------------------------------------------------------- generate
    def run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        """Generate in batches of requests that share sampling parameters."""
        if not items:
            return
        self._load()
        tokenizer = self.tokenizer()
        texts = {item.key: self.render(item.messages) for item in items}

        def params(item: PreparedRequest) -> tuple[float, int, float]:
            return (item.temperature, item.max_tokens or 256, item.top_p or 1.0)

        ordered = sorted(items, key=lambda it: (params(it), len(texts[it.key])))
        for (temperature, max_tokens, top_p), group in groupby(ordered, key=params):
            group_items = list(group)
            size = self.settings.batch_size
            for start in range(0, len(group_items), size):
                batch = group_items[start : start + size]
                for item, result in zip(
                    batch,
                    self._generate(batch, texts, tokenizer, temperature, max_tokens, top_p),
                    strict=True,
                ):
                    sink(item, result)

    def _generate(
        self,
        batch: Sequence[PreparedRequest],
        texts: Mapping[str, str],
        tokenizer: Any,
        temperature: float,
        max_tokens: int,
        top_p: float,
    ) -> list[ChatResult]:
        import torch

        started = time.perf_counter()
        encoded = tokenizer(
            [texts[item.key] for item in batch],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        ).to(self._device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
        if temperature > 0:
            seed = batch[0].seed if batch[0].seed is not None else 0
            torch.manual_seed(seed)
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False)
        with torch.inference_mode():
            output = self._model.generate(**encoded, **kwargs)
        width = encoded["input_ids"].shape[1]
        latency = (time.perf_counter() - started) / len(batch)
        results = []
        for row, item in enumerate(batch):
            new = output[row, width:].tolist()
            finish = "length"
            if tokenizer.eos_token_id in new:
                new = new[: new.index(tokenizer.eos_token_id) + 1]
                finish = "stop"
            elif tokenizer.pad_token_id in new:  # finished early in a padded batch
                new = new[: new.index(tokenizer.pad_token_id)]
                finish = "stop"
            text = tokenizer.decode(new, skip_special_tokens=True).strip()
            results.append(
                ChatResult(
                    key=item.request.key,
                    text=text,
                    status="truncated" if finish == "length" else "ok",
                    model=self.model,
                    prompt_tokens=int(encoded["attention_mask"][row].sum()),
                    completion_tokens=len(new),
                    latency_s=latency,
                    extra={"finish_reason": finish},
                )
            )
        return results
