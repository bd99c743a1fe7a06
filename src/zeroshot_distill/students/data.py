"""Multi-task training data: one feature per example, collated into one mixed batch.

Every training example teaches the label (``predict: <input>`` -> label text); an example
that kept a rationale also teaches the rationale (``explain: <input>`` -> rationale). A
collated batch of ``n`` examples of which ``m`` have a rationale holds ``n + m`` encoder rows
(the ``n`` predict inputs first, then the ``m`` explain inputs, padded together: both inputs
of an example differ only by the prefix, so they have about the same length), ``n`` label
targets and ``m`` rationale targets, each padded only to its own longest row. An example
without a rationale costs no rationale compute at all (the reference code trained it on " ").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler
from transformers import PreTrainedTokenizerBase

#: Target positions with this value are ignored by the loss.
IGNORE_INDEX = -100


class TargetTooLongError(ValueError):
    """A label or rationale target does not fit the configured maximum length."""


@dataclass(frozen=True)
class TaskPrefixes:
    """Input prefixes that tell the student which task to do."""

    label: str = "predict: "
    rationale: str = "explain: "


@dataclass(frozen=True)
class EncodedExample:
    """One tokenized training example (rationale fields are ``None`` without a rationale)."""

    id: str
    predict_ids: list[int]
    label_ids: list[int]
    explain_ids: list[int] | None = None
    rationale_ids: list[int] | None = None


def encode_examples(
    tokenizer: PreTrainedTokenizerBase,
    ids: Sequence[str],
    inputs: Sequence[str],
    label_targets: Sequence[str],
    rationale_targets: Sequence[str | None],
    *,
    prefixes: TaskPrefixes,
    max_input_length: int,
    max_label_length: int,
    max_rationale_length: int,
    encode_inputs: Callable[[list[str]], list[list[int]]] | None = None,
    keep_tail: int = 1,
) -> tuple[list[EncodedExample], int]:
    """Tokenize examples for multi-task training.

    Inputs longer than ``max_input_length`` tokens are truncated, keeping their last
    ``keep_tail`` tokens (counted in the second return value); a target longer than its
    maximum is an error, raised before any training, because a truncated label or rationale
    teaches the student to stop mid-answer.

    ``encode_inputs`` turns prefixed input texts into token ids (default: the tokenizer with
    its special tokens; a causal LM student passes its prompt format).

    Returns:
        The encoded examples and the number of truncated inputs.

    Raises:
        TargetTooLongError: naming how many targets are too long and a few of their ids.
    """
    if not len(ids) == len(inputs) == len(label_targets) == len(rationale_targets):
        raise ValueError("ids, inputs, label_targets and rationale_targets differ in length")
    encode = encode_inputs or (lambda texts: _token_ids(tokenizer, texts))
    predict = encode([prefixes.label + text for text in inputs])
    labels = encode_targets(tokenizer, list(label_targets))
    _check_lengths(ids, labels, max_label_length, "label target", "max_label_length")
    has_rationale = [i for i, r in enumerate(rationale_targets) if r]
    explain = (
        encode([prefixes.rationale + inputs[i] for i in has_rationale]) if has_rationale else []
    )
    rationales = encode_targets(tokenizer, [str(rationale_targets[i]) for i in has_rationale])
    _check_lengths(
        [ids[i] for i in has_rationale],
        rationales,
        max_rationale_length,
        "rationale target",
        "max_rationale_length",
        hint=" (or set subsampling.truncate_rationale_words)",
    )
    truncated = sum(len(x) > max_input_length for x in predict)
    explained = dict(zip(has_rationale, zip(explain, rationales, strict=True), strict=True))
    examples = []
    for i, example_id in enumerate(ids):
        expl, rat = explained.get(i, (None, None))
        examples.append(
            EncodedExample(
                id=str(example_id),
                predict_ids=_truncate(predict[i], max_input_length, keep_tail),
                label_ids=labels[i],
                explain_ids=None if expl is None else _truncate(expl, max_input_length, keep_tail),
                rationale_ids=rat,
            )
        )
    return examples, truncated


def _token_ids(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(texts)["input_ids"]]


def encode_targets(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[list[int]]:
    """Target token ids: the text's tokens without special tokens, then end-of-sequence.

    The same for every tokenizer family: T5 adds only ``</s>`` anyway, while a BERT
    tokenizer would wrap the text in ``[CLS] … [SEP]`` (a target must not start with
    ``[CLS]``; its ``[SEP]`` is the end-of-sequence token) and a decoder-only tokenizer may
    add a beginning-of-sequence token and no end at all.
    """
    if not texts:
        return []
    end = end_of_sequence_id(tokenizer)
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [[*map(int, row), end] for row in ids]


def end_of_sequence_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The token that ends a target: ``eos_token_id``, else ``sep_token_id`` (BERT-like)."""
    for candidate in (tokenizer.eos_token_id, tokenizer.sep_token_id):
        if candidate is not None:
            return int(candidate)
    raise ValueError(
        f"tokenizer {type(tokenizer).__name__} has neither an eos nor a sep token: a student "
        "needs one to end its answers (set `training.student.tokenizer` to another tokenizer)"
    )


def _truncate(ids: list[int], max_length: int, keep_tail: int = 1) -> list[int]:
    """Cut to ``max_length`` tokens, keeping the final ``keep_tail`` tokens (the
    end-of-sequence token; a causal LM prompt's closing template)."""
    if len(ids) <= max_length:
        return ids
    return [*ids[: max_length - keep_tail], *ids[len(ids) - keep_tail :]]


def _check_lengths(
    ids: Sequence[str],
    token_ids: list[list[int]],
    max_length: int,
    what: str,
    option: str,
    hint: str = "",
) -> None:
    too_long = [(ids[i], len(t)) for i, t in enumerate(token_ids) if len(t) > max_length]
    if too_long:
        longest = max(n for _, n in too_long)
        shown = ", ".join(f"{i} ({n} tokens)" for i, n in too_long[:5])
        raise TargetTooLongError(
            f"{len(too_long)} {what}(s) exceed {option}={max_length} tokens (longest: {longest}), "
            f"e.g. {shown}. Raise training.{option}{hint}."
        )


class MultiTaskDataset(Dataset):
    """A list of :class:`EncodedExample` with per-example lengths for length grouping."""

    def __init__(self, examples: Sequence[EncodedExample]):
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> EncodedExample:
        return self.examples[index]

    @property
    def input_lengths(self) -> list[int]:
        """Tokens of each example's (predict) input."""
        return [len(e.predict_ids) for e in self.examples]

    @property
    def rationale_lengths(self) -> list[int]:
        """Tokens of each example's rationale target, 0 without one."""
        return [len(e.rationale_ids or []) for e in self.examples]

    @property
    def n_with_rationale(self) -> int:
        """Number of examples that carry a rationale target."""
        return sum(e.rationale_ids is not None for e in self.examples)


class MultiTaskLengthSampler(Sampler[int]):
    """Batches of similar input *and* rationale lengths, each with its share of rationales.

    Per epoch: shuffle; cut into megabatches of ``megabatch`` batches; sort each by input
    length (with ``jitter``: +-10 % noise, so that batches differ between epochs); cut that
    into chunks of ``chunk`` batches; in a chunk, the rows *with* a rationale are sorted by
    rationale length and dealt out in contiguous runs, one run per batch, and the rows
    without fill the rest. Every batch so keeps about the dataset's explanation rate (no
    batch of only label rows, which would shift the loss weighting), while both the encoder
    and the rationale decoder see little padding. Batches come in random order with the
    most expensive first (an out-of-memory error shows at step 1) and a short last batch
    last (the data loader cuts consecutive runs of ``batch_size`` indices).

    Data parallel (``num_replicas`` W > 1, one sampler per rank): every rank builds the same
    batch list from the same seed and epoch, the batch count is brought to a multiple of W
    by splitting batches in two (never by repeating rows), and rank ``r`` takes batches
    ``r, r + W, ...`` through :meth:`rank_batches` / :class:`RankBatchSampler`. Every example
    is so seen exactly once per epoch and all ranks take the same number of steps.
    """

    def __init__(
        self,
        input_lengths: Sequence[int],
        rationale_lengths: Sequence[int],
        batch_size: int,
        *,
        megabatch: int = 50,
        chunk: int = 4,
        jitter: float = 0.1,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        if len(input_lengths) != len(rationale_lengths):
            raise ValueError("input_lengths and rationale_lengths differ in length")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, num_replicas={num_replicas})")
        if len(input_lengths) < num_replicas:
            raise ValueError(
                f"{len(input_lengths)} training examples cannot be shared by {num_replicas} "
                "processes (each needs at least one): use fewer processes or more data"
            )
        if batch_size == 1 and len(input_lengths) % num_replicas:
            raise ValueError(
                f"batch_size 1 cannot share {len(input_lengths)} examples evenly among "
                f"{num_replicas} processes without repeating one: raise training.batch_size"
            )
        self.inputs = np.asarray(input_lengths, dtype=float)
        self.rationales = np.asarray(rationale_lengths, dtype=float)
        self.batch_size, self.megabatch, self.chunk = batch_size, megabatch, chunk
        self.jitter, self.seed, self.epoch = jitter, seed, 0
        self.num_replicas, self.rank = num_replicas, rank

    def __len__(self) -> int:
        return len(self.inputs)

    def set_epoch(self, epoch: int) -> None:
        """Called by the data loader each epoch (the sampler also counts by itself)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if self.num_replicas > 1:
            raise RuntimeError(
                "a data-parallel MultiTaskLengthSampler yields batches: iterate rank_batches() "
                "or wrap it in RankBatchSampler"
            )
        batches = self.batches()
        return iter([int(i) for b in batches for i in b])

    def num_batches(self) -> int:
        """Batches per epoch over all ranks: every run of ``batch_size`` rows but the last is
        full, then split up to a multiple of ``num_replicas``."""
        full_and_short = -(-len(self.inputs) // self.batch_size)
        return -(-full_and_short // self.num_replicas) * self.num_replicas

    def rank_batches(self) -> list[list[int]]:
        """This rank's batches of the next epoch: ``r, r + W, ...`` of :meth:`batches`."""
        batches = self.batches()
        return [[int(i) for i in b] for b in batches[self.rank :: self.num_replicas]]

    def batches(self) -> list[np.ndarray]:
        """The next epoch's batches for all ranks (advances the epoch counter)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        batches = self._epoch_batches(rng)
        while len(batches) % self.num_replicas:
            batches = _split_one(batches)
        return batches

    def _epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        batches: list[np.ndarray] = []
        for mega in _runs(rng.permutation(len(self.inputs)), self.megabatch * self.batch_size):
            mega = mega[np.argsort(self._noisy(self.inputs[mega], rng), kind="stable")]
            for rows in _runs(mega, self.chunk * self.batch_size):
                batches.extend(self._deal(rows, rng))
        full = [b for b in batches if len(b) == self.batch_size]
        short = [b for b in batches if len(b) < self.batch_size]
        order = rng.permutation(len(full))
        if len(full):
            costliest = max(range(len(full)), key=lambda i: self._cost(full[i]))
            order = [costliest, *[i for i in order if i != costliest]]
        return [*(full[i] for i in order), *short]

    def _deal(self, rows: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        sizes = [len(r) for r in _runs(rows, self.batch_size)]
        explained = rows[self.rationales[rows] > 0]
        explained = explained[np.argsort(self._noisy(self.rationales[explained], rng))]
        plain = rows[self.rationales[rows] == 0]
        # Batch i takes the explained rows up to floor(n_explained * its cumulative share):
        # never more than its size, and every batch gets about the same explanation rate.
        ends = [len(explained) * c // len(rows) for c in np.cumsum(sizes)]
        out, start, used = [], 0, 0
        for size, end in zip(sizes, ends, strict=True):
            share = explained[start:end]
            fill = size - len(share)
            out.append(np.concatenate([share, plain[used : used + fill]]).astype(int))
            start, used = end, used + fill
        return out

    def _noisy(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return values * (1.0 + rng.uniform(-self.jitter, self.jitter, len(values)))

    def _cost(self, batch: np.ndarray) -> float:
        n_r = int((self.rationales[batch] > 0).sum())
        return (len(batch) + n_r) * self.inputs[batch].max() + n_r * self.rationales[batch].max()


def _runs(values: np.ndarray, size: int) -> list[np.ndarray]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _split_one(batches: list[np.ndarray]) -> list[np.ndarray]:
    """Split the last of the largest batches in two, in place: alternate rows, so both
    halves keep its lengths and its share of rationales (rows within a batch are grouped)."""
    sizes = [len(b) for b in batches]
    largest = max(range(len(batches)), key=lambda i: (sizes[i], i))
    if sizes[largest] < 2:
        raise ValueError("no batch left to split: fewer examples than processes")
    rows = batches[largest]
    return [*batches[:largest], rows[0::2], rows[1::2], *batches[largest + 1 :]]


class RankBatchSampler(Sampler[list[int]]):
    """This rank's batches of a data-parallel :class:`MultiTaskLengthSampler`, as a batch
    sampler for ``DataLoader(batch_sampler=...)``. It already holds only this rank's share:
    the data loader must not shard it again (see ``MultiTaskTrainer.get_train_dataloader``).
    """

    def __init__(self, sampler: MultiTaskLengthSampler):
        self.sampler = sampler  # the attribute accelerate looks for to call set_epoch

    def __len__(self) -> int:
        return self.sampler.num_batches() // self.sampler.num_replicas

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.sampler.rank_batches())


@dataclass
class MultiTaskCollator:
    """Pad a list of examples into one multi-task batch (dynamic padding).

    The batch has ``input_ids``/``attention_mask`` (predict rows, then explain rows),
    ``label_ids`` (one per example) and, when any example has a rationale and
    ``use_rationales`` is on, ``rationale_ids`` (one per such example). Padded target
    positions are :data:`IGNORE_INDEX`. ``pad_left`` left-pads the inputs (causal LM
    students: every target then starts at the same column); the attention mask always
    comes from the lengths (a causal LM's pad token may be its end-of-sequence token).
    """

    pad_token_id: int
    use_rationales: bool = True
    pad_left: bool = False

    def __call__(self, examples: Sequence[EncodedExample]) -> dict[str, torch.Tensor]:
        explained = [
            e
            for e in examples
            if self.use_rationales and e.explain_ids is not None and e.rationale_ids is not None
        ]
        inputs = [e.predict_ids for e in examples] + [e.explain_ids or [] for e in explained]
        batch = {
            "input_ids": pad(inputs, self.pad_token_id, left=self.pad_left),
            "attention_mask": pad([[1] * len(x) for x in inputs], 0, left=self.pad_left),
            "label_ids": pad([e.label_ids for e in examples], IGNORE_INDEX),
        }
        if explained:
            batch["rationale_ids"] = pad([e.rationale_ids or [] for e in explained], IGNORE_INDEX)
        return batch


def pad(rows: Sequence[Sequence[int]], value: int, *, left: bool = False) -> torch.Tensor:
    """Right-pad (``left``: left-pad) integer rows to the longest one, as a ``long`` tensor."""
    width = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, row in enumerate(rows):
        if len(row):
            start = width - len(row) if left else 0
            out[i, start : start + len(row)] = torch.as_tensor(list(row), dtype=torch.long)
    return out


def encode_texts(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int
) -> list[list[int]]:
    """Input token ids with the tokenizer's special tokens; a text longer than
    ``max_length`` tokens keeps its first ``max_length - 1`` and its last (end) token."""
    if not texts:
        return []
    ids = tokenizer(list(texts))["input_ids"]
    return [list(x) if len(x) <= max_length else [*x[: max_length - 1], x[-1]] for x in ids]


def length_batches(encoded: Sequence[Sequence[int]], batch_size: int) -> Iterator[list[int]]:
    """Row indices in batches of ``batch_size``, longest rows first (little padding)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def as_records(rows: Any) -> list[dict[str, Any]]:
    """Rows as a list of dicts, from a DataFrame or any sequence of mappings."""
    if hasattr(rows, "to_dict"):
        return list(rows.to_dict("records"))
    return [dict(r) for r in rows]
