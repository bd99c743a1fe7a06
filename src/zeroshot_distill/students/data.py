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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset
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

    @property
    def cost(self) -> int:
        """Token count that drives the example's compute: used to group similar examples."""
        if self.explain_ids is None or self.rationale_ids is None:
            return len(self.predict_ids) + len(self.label_ids)
        return 2 * len(self.predict_ids) + len(self.label_ids) + len(self.rationale_ids)


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
) -> tuple[list[EncodedExample], int]:
    """Tokenize examples for multi-task training.

    Inputs longer than ``max_input_length`` tokens are truncated (counted in the second
    return value); a target longer than its maximum is an error, raised before any training,
    because a truncated label or rationale teaches the student to stop mid-answer.

    Returns:
        The encoded examples and the number of truncated inputs.

    Raises:
        TargetTooLongError: naming how many targets are too long and a few of their ids.
    """
    if not len(ids) == len(inputs) == len(label_targets) == len(rationale_targets):
        raise ValueError("ids, inputs, label_targets and rationale_targets differ in length")
    predict = _token_ids(tokenizer, [prefixes.label + text for text in inputs])
    labels = _token_ids(tokenizer, list(label_targets))
    _check_lengths(ids, labels, max_label_length, "label target", "max_label_length")
    has_rationale = [i for i, r in enumerate(rationale_targets) if r]
    explain = _token_ids(tokenizer, [prefixes.rationale + inputs[i] for i in has_rationale])
    rationales = _token_ids(tokenizer, [str(rationale_targets[i]) for i in has_rationale])
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
                predict_ids=_truncate(predict[i], max_input_length),
                label_ids=labels[i],
                explain_ids=None if expl is None else _truncate(expl, max_input_length),
                rationale_ids=rat,
            )
        )
    return examples, truncated


def _token_ids(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(texts)["input_ids"]]


def _truncate(ids: list[int], max_length: int) -> list[int]:
    """Cut to ``max_length`` tokens, keeping the final (end-of-sequence) token."""
    if len(ids) <= max_length:
        return ids
    return [*ids[: max_length - 1], ids[-1]]


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
    def lengths(self) -> list[int]:
        """Per-example compute cost in tokens (see :attr:`EncodedExample.cost`)."""
        return [e.cost for e in self.examples]

    @property
    def n_with_rationale(self) -> int:
        """Number of examples that carry a rationale target."""
        return sum(e.rationale_ids is not None for e in self.examples)


@dataclass
class MultiTaskCollator:
    """Pad a list of examples into one multi-task batch (dynamic padding).

    The batch has ``input_ids``/``attention_mask`` (predict rows, then explain rows),
    ``label_ids`` (one per example) and, when any example has a rationale and
    ``use_rationales`` is on, ``rationale_ids`` (one per such example). Padded target
    positions are :data:`IGNORE_INDEX`.
    """

    pad_token_id: int
    use_rationales: bool = True

    def __call__(self, examples: Sequence[EncodedExample]) -> dict[str, torch.Tensor]:
        explained = [
            e
            for e in examples
            if self.use_rationales and e.explain_ids is not None and e.rationale_ids is not None
        ]
        inputs = [e.predict_ids for e in examples] + [e.explain_ids or [] for e in explained]
        input_ids = pad(inputs, self.pad_token_id)
        batch = {
            "input_ids": input_ids,
            "attention_mask": (pad([[1] * len(x) for x in inputs], 0)),
            "label_ids": pad([e.label_ids for e in examples], IGNORE_INDEX),
        }
        if explained:
            batch["rationale_ids"] = pad([e.rationale_ids or [] for e in explained], IGNORE_INDEX)
        return batch


def pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """Right-pad integer rows to the longest one, as a ``long`` tensor."""
    width = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.as_tensor(list(row), dtype=torch.long)
    return out


def as_records(rows: Any) -> list[dict[str, Any]]:
    """Rows as a list of dicts, from a DataFrame or any sequence of mappings."""
    if hasattr(rows, "to_dict"):
        return list(rows.to_dict("records"))
    return [dict(r) for r in rows]
