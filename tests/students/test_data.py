"""Tokenization checks, dynamic padding and the mixed multi-task batch."""

from __future__ import annotations

import numpy as np
import pytest

from zeroshot_distill.students import (
    MultiTaskCollator,
    MultiTaskDataset,
    MultiTaskLengthSampler,
    TargetTooLongError,
    TaskPrefixes,
    encode_examples,
)


def _encode(tokenizer, rationales, **limits):
    kwargs = {"max_input_length": 64, "max_label_length": 16, "max_rationale_length": 32}
    kwargs.update(limits)
    return encode_examples(
        tokenizer,
        [f"id{i}" for i in range(len(rationales))],
        ["premise: short", "premise: a somewhat longer input", "premise: mid size"][
            : len(rationales)
        ],
        ["entailment", "neutral", "contradiction"][: len(rationales)],
        rationales,
        prefixes=TaskPrefixes(label="P: ", rationale="E: "),
        **kwargs,
    )


def test_collator_pads_each_part_to_its_own_longest_row(tiny_student):
    tok = tiny_student.tokenizer
    examples, truncated = _encode(tok, ["why", None, "a longer rationale"])
    assert truncated == 0
    assert examples[0].predict_ids == tok("P: premise: short")["input_ids"]
    assert examples[0].explain_ids == tok("E: premise: short")["input_ids"]
    assert examples[1].explain_ids is None and examples[1].rationale_ids is None
    batch = MultiTaskCollator(pad_token_id=tok.pad_token_id)(examples)
    # 3 predict rows, then the 2 explain rows of the examples with a rationale.
    assert batch["input_ids"].shape[0] == 5
    assert batch["label_ids"].shape == (3, len(tok("contradiction")["input_ids"]))
    assert batch["rationale_ids"].shape == (2, len(tok("a longer rationale")["input_ids"]))
    assert (batch["attention_mask"].sum(1) == (batch["input_ids"] != tok.pad_token_id).sum(1)).all()
    assert (batch["label_ids"][0] == -100).sum() == len("contradiction") - len("entailment")


def test_collator_drops_rationales_when_told(tiny_student):
    examples, _ = _encode(tiny_student.tokenizer, ["why", None, "because"])
    batch = MultiTaskCollator(pad_token_id=0, use_rationales=False)(examples)
    assert "rationale_ids" not in batch
    assert batch["input_ids"].shape[0] == 3


def test_long_inputs_are_truncated_and_counted(tiny_student):
    examples, truncated = _encode(tiny_student.tokenizer, ["why", None, None], max_input_length=12)
    assert truncated == 3
    assert all(len(e.predict_ids) == 12 for e in examples)
    assert all(e.predict_ids[-1] == tiny_student.tokenizer.eos_token_id for e in examples)


@pytest.mark.parametrize(
    ("limits", "what"),
    [({"max_label_length": 8}, "label target"), ({"max_rationale_length": 5}, "rationale target")],
)
def test_too_long_targets_are_an_error(tiny_student, limits, what):
    with pytest.raises(TargetTooLongError, match=what):
        _encode(tiny_student.tokenizer, ["a reason that is long", None, None], **limits)


def test_dataset_lengths_for_grouping(tiny_student):
    examples, _ = _encode(tiny_student.tokenizer, ["why", None, "a much longer rationale here"])
    dataset = MultiTaskDataset(examples)
    assert dataset.n_with_rationale == 2
    assert dataset.rationale_lengths == [4, 0, 29]  # bytes + end of sequence
    assert dataset.input_lengths == [len(e.predict_ids) for e in examples]


def test_length_sampler_groups_lengths_and_keeps_the_rationale_share():
    rng = np.random.default_rng(0)
    n, batch = 403, 16
    inputs = rng.integers(20, 300, n)
    rationales = np.where(rng.random(n) < 0.3, rng.integers(20, 250, n), 0)
    sampler = MultiTaskLengthSampler(inputs, rationales, batch, seed=3)

    def padding_efficiency(order):
        runs = [np.asarray(order[i : i + batch]) for i in range(0, n, batch)]
        return sum(inputs[r].sum() for r in runs) / sum(len(r) * inputs[r].max() for r in runs)

    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(n))
    assert first != second  # a new grouping every epoch
    sampler.set_epoch(0)
    assert list(sampler) == first  # ... reproducible from seed and epoch
    runs = [np.asarray(first[i : i + batch]) for i in range(0, n, batch)]
    assert [len(r) for r in runs[:-1]] == [batch] * (len(runs) - 1)  # short batch last
    shares = [(rationales[r] > 0).mean() for r in runs[:-1]]
    assert min(shares) >= 0.1 and max(shares) <= 0.5  # no label-only or rationale-only batch
    assert padding_efficiency(first) > 0.8 > 0.65 > padding_efficiency(rng.permutation(n))
