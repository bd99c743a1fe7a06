"""What the uncertainty scorers ask of a student, and its implementations for seq2seq and
decoder-only (causal LM) students.

A :class:`StudentProbe` answers three questions about raw student inputs (without task
prefix): sample ``k`` rationales with temperature (``explain: ``), give the log-likelihood of
each candidate answer (``predict: ``, teacher-forced, summed over the answer's tokens), and
decode an answer greedily with its mean per-token entropy (numeric answers, which have no
finite candidate set). Tests substitute a fake probe with scripted answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class StudentProbe(Protocol):
    """The student questions the uncertainty scorers need."""

    def sample_rationales(
        self,
        inputs: Sequence[str],
        k: int,
        *,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        seed: int,
    ) -> list[list[str]]:
        """``k`` sampled rationales per input (``explain: `` task)."""
        ...

    def answer_logprobs(
        self, inputs: Sequence[str], candidates: Sequence[Sequence[str]]
    ) -> list[np.ndarray]:
        """Per input, the log-likelihood of each of its candidate answers (``predict: ``)."""
        ...

    def greedy_answers(
        self, inputs: Sequence[str], *, max_new_tokens: int
    ) -> tuple[list[str], np.ndarray]:
        """Greedy ``predict: `` answers and their mean per-token entropy, normalised to [0, 1]."""
        ...


class _ProbeBase:
    """A student model and tokenizer with its task prefixes, probed in batches."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        predict_prefix: str = "predict: ",
        explain_prefix: str = "explain: ",
        max_input_length: int = 512,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.predict_prefix = predict_prefix
        self.explain_prefix = explain_prefix
        self.max_input_length = max_input_length
        self.batch_size = batch_size

    def _batches(self, n: int) -> list[slice]:
        return [slice(i, min(i + self.batch_size, n)) for i in range(0, n, self.batch_size)]


class Seq2SeqProbe(_ProbeBase):
    """:class:`StudentProbe` for a Hugging Face encoder-decoder (T5 family) and its tokenizer."""

    # ------------------------------------------------------------------------------ helpers
    def _encode(self, texts: Sequence[str]) -> Any:
        encoded = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_input_length,
            return_tensors="pt",
        )
        return encoded.to(self.model.device)

    # ------------------------------------------------------------------------------ queries
    def sample_rationales(
        self,
        inputs: Sequence[str],
        k: int,
        *,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        seed: int,
    ) -> list[list[str]]:
        """``k`` rationales per input by nucleus sampling, reproducible by ``seed``."""
        import torch

        self.model.eval()
        out: list[list[str]] = []
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(int(seed))
            for part in self._batches(len(inputs)):
                texts = [self.explain_prefix + x for x in inputs[part]]
                generated = self.model.generate(
                    **self._encode(texts),
                    do_sample=True,
                    temperature=float(temperature),
                    top_p=float(top_p),
                    num_return_sequences=int(k),
                    max_new_tokens=int(max_new_tokens),
                )
                decoded = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
                out.extend(
                    [d.strip() for d in decoded[i * k : (i + 1) * k]] for i in range(len(texts))
                )
        return out

    def answer_logprobs(
        self, inputs: Sequence[str], candidates: Sequence[Sequence[str]]
    ) -> list[np.ndarray]:
        """Teacher-forced log p(candidate | ``predict: `` input), summed over tokens and EOS.

        The encoder runs once per input; its states are repeated for each candidate.
        """
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        from zeroshot_distill.students.data import IGNORE_INDEX, encode_targets, pad

        if len(inputs) != len(candidates):
            raise ValueError(f"{len(inputs)} inputs but {len(candidates)} candidate lists")
        self.model.eval()
        encoder = self.model.get_encoder()
        out: list[np.ndarray] = []
        with torch.no_grad():
            for part in self._batches(len(inputs)):
                texts = [self.predict_prefix + x for x in inputs[part]]
                cands = [list(c) for c in candidates[part]]
                encoded = self._encode(texts)
                states = encoder(
                    input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]
                ).last_hidden_state
                owner = torch.tensor(
                    [i for i, c in enumerate(cands) for _ in c], device=states.device
                )
                flat = [c for cs in cands for c in cs]
                # The targets as the student trained on them (no [CLS] for a BERT tokenizer).
                labels = pad(encode_targets(self.tokenizer, flat), IGNORE_INDEX).to(states.device)
                logits = self.model(
                    encoder_outputs=BaseModelOutput(last_hidden_state=states[owner]),
                    attention_mask=encoded["attention_mask"][owner],
                    decoder_input_ids=self.model.prepare_decoder_input_ids_from_labels(
                        labels=labels
                    ),
                ).logits
                logp = torch.log_softmax(logits.float(), dim=-1)
                picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                totals = (picked * (labels != IGNORE_INDEX)).sum(-1).cpu().numpy()
                start = 0
                for c in cands:
                    out.append(totals[start : start + len(c)].astype(float))
                    start += len(c)
        return out

    def greedy_answers(
        self, inputs: Sequence[str], *, max_new_tokens: int
    ) -> tuple[list[str], np.ndarray]:
        """Greedy answers and their mean token entropy / log(vocabulary size), up to EOS."""
        import torch

        self.model.eval()
        answers: list[str] = []
        entropies: list[float] = []
        eos = self.tokenizer.eos_token_id
        with torch.no_grad():
            for part in self._batches(len(inputs)):
                texts = [self.predict_prefix + x for x in inputs[part]]
                result = self.model.generate(
                    **self._encode(texts),
                    do_sample=False,
                    max_new_tokens=int(max_new_tokens),
                    output_scores=True,
                    return_dict_in_generate=True,
                )
                scores = torch.stack(result.scores, dim=1).float()  # batch, steps, vocab
                logp = torch.log_softmax(scores, dim=-1)
                step_entropy = -(logp.exp() * logp).sum(-1) / float(np.log(scores.shape[-1]))
                tokens = result.sequences[:, -scores.shape[1] :]
                # Count steps up to and including the first EOS.
                after_eos = (tokens == eos).long().cumsum(-1) - (tokens == eos).long()
                mask = (after_eos == 0).float()
                mean = (step_entropy * mask).sum(-1) / mask.sum(-1).clamp(min=1)
                entropies.extend(float(v) for v in mean.cpu())
                answers.extend(
                    s.strip()
                    for s in self.tokenizer.batch_decode(result.sequences, skip_special_tokens=True)
                )
        return answers, np.asarray(entropies, dtype=float)


class CausalProbe(_ProbeBase):
    """:class:`StudentProbe` for a decoder-only (causal LM) student: its prompts, scoring and
    generation are those of :mod:`zeroshot_distill.students.causal_lm`."""

    def _prompts(self, prefix: str, inputs: Sequence[str]) -> list[list[int]]:
        from zeroshot_distill.students.causal_lm import prompt_ids

        return prompt_ids(self.tokenizer, [prefix + x for x in inputs], self.max_input_length)

    def sample_rationales(
        self,
        inputs: Sequence[str],
        k: int,
        *,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        seed: int,
    ) -> list[list[str]]:
        """``k`` rationales per input by nucleus sampling, reproducible by ``seed``."""
        import torch

        from zeroshot_distill.students.causal_lm import generate_batch

        self.model.eval()
        prompts = self._prompts(self.explain_prefix, inputs)
        out: list[list[str]] = []
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(int(seed))
            for part in self._batches(len(prompts)):
                texts = generate_batch(
                    self.model,
                    self.tokenizer,
                    prompts[part],
                    int(max_new_tokens),
                    do_sample=True,
                    temperature=float(temperature),
                    top_p=float(top_p),
                    num_return_sequences=int(k),
                )
                out.extend(texts[i * k : (i + 1) * k] for i in range(len(prompts[part])))
        return out

    def answer_logprobs(
        self, inputs: Sequence[str], candidates: Sequence[Sequence[str]]
    ) -> list[np.ndarray]:
        """Teacher-forced log p(candidate | ``predict: `` prompt), summed over tokens and EOS;
        rows with the same number of candidates are scored together."""
        import torch

        from zeroshot_distill.students.causal_lm import pad_prompts, target_log_probs
        from zeroshot_distill.students.data import IGNORE_INDEX, encode_targets, pad

        if len(inputs) != len(candidates):
            raise ValueError(f"{len(inputs)} inputs but {len(candidates)} candidate lists")
        self.model.eval()
        prompts = self._prompts(self.predict_prefix, inputs)
        out: list[np.ndarray] = [np.zeros(0)] * len(inputs)
        by_count: dict[int, list[int]] = {}
        for i, c in enumerate(candidates):
            by_count.setdefault(len(c), []).append(i)
        device = self.model.device
        with torch.no_grad():
            for count, rows in by_count.items():
                if count == 0:
                    continue
                for start in range(0, len(rows), self.batch_size):
                    idx = rows[start : start + self.batch_size]
                    ids, mask = pad_prompts([prompts[i] for i in idx], self.tokenizer.pad_token_id)
                    targets = encode_targets(
                        self.tokenizer, [str(c) for i in idx for c in candidates[i]]
                    )
                    logp = target_log_probs(
                        self.model,
                        ids.to(device),
                        mask.to(device),
                        pad(targets, IGNORE_INDEX).to(device),
                        count,
                        self.tokenizer.pad_token_id,
                    )
                    totals = logp.sum(1).view(len(idx), count).cpu().numpy().astype(float)
                    for row, i in enumerate(idx):
                        out[i] = totals[row]
        return out

    def greedy_answers(
        self, inputs: Sequence[str], *, max_new_tokens: int
    ) -> tuple[list[str], np.ndarray]:
        """Greedy answers and their mean token entropy / log(vocabulary size), up to EOS."""
        import torch

        from zeroshot_distill.students.causal_lm import pad_prompts
        from zeroshot_distill.students.data import end_of_sequence_id

        self.model.eval()
        prompts = self._prompts(self.predict_prefix, inputs)
        eos = end_of_sequence_id(self.tokenizer)
        answers: list[str] = []
        entropies: list[float] = []
        with torch.no_grad():
            for part in self._batches(len(prompts)):
                ids, mask = pad_prompts(prompts[part], self.tokenizer.pad_token_id)
                result = self.model.generate(
                    input_ids=ids.to(self.model.device),
                    attention_mask=mask.to(self.model.device),
                    do_sample=False,
                    max_new_tokens=int(max_new_tokens),
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=eos,
                    output_scores=True,
                    return_dict_in_generate=True,
                )
                scores = torch.stack(result.scores, dim=1).float()  # batch, steps, vocab
                logp = torch.log_softmax(scores, dim=-1)
                step_entropy = -(logp.exp() * logp).sum(-1) / float(np.log(scores.shape[-1]))
                tokens = result.sequences[:, ids.shape[1] :]
                after_eos = (tokens == eos).long().cumsum(-1) - (tokens == eos).long()
                step_mask = (after_eos == 0).float()
                mean = (step_entropy * step_mask).sum(-1) / step_mask.sum(-1).clamp(min=1)
                entropies.extend(float(v) for v in mean.cpu())
                answers.extend(
                    s.strip() for s in self.tokenizer.batch_decode(tokens, skip_special_tokens=True)
                )
        return answers, np.asarray(entropies, dtype=float)
