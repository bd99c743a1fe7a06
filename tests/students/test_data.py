"""Tokenization checks, dynamic padding and the mixed multi-task batch."""

from __future__ import annotations

import numpy as np
import pytest

from zeroshot_distill.students import (
    MultiTaskCollator,
    MultiTaskDataset,
    MultiTaskLengthSampler,
    RankBatchSampler,
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


@pytest.mark.parametrize(
    ("n", "batch", "world"), [(403, 16, 2), (403, 16, 3), (37, 8, 4), (5, 4, 2)]
)
def test_length_sampler_splits_each_epoch_among_ranks_once_each(n, batch, world):
    rng = np.random.default_rng(1)
    inputs = rng.integers(20, 300, n)
    rationales = np.where(rng.random(n) < 0.3, rng.integers(20, 250, n), 0)
    ranks = [
        RankBatchSampler(
            MultiTaskLengthSampler(inputs, rationales, batch, seed=3, num_replicas=world, rank=rank)
        )
        for rank in range(world)
    ]
    for epoch in range(2):
        per_rank = [list(r) for r in ranks]
        counts = {len(batches) for batches in per_rank}
        assert counts == {len(ranks[0])}  # the same number of steps on every rank
        seen = [i for batches in per_rank for b in batches for i in b]
        assert sorted(seen) == list(range(n)), epoch  # every example once, none repeated
        assert max(len(b) for batches in per_rank for b in batches) <= batch
        assert min(len(b) for batches in per_rank for b in batches) >= 1
    # the ranks' union is the one-process epoch, split where the count needed it
    single = MultiTaskLengthSampler(inputs, rationales, batch, seed=3)
    assert sorted(single) == list(range(n))


def test_length_sampler_follows_the_epoch_the_data_loader_sets():
    sampler = MultiTaskLengthSampler([5] * 20, [0] * 20, 4, seed=0, num_replicas=2, rank=1)
    batches = RankBatchSampler(sampler)
    first = list(batches)
    sampler.set_epoch(0)
    assert list(batches) == first
    assert list(batches) != first


def test_length_sampler_refuses_what_cannot_be_shared_without_repeats():
    with pytest.raises(ValueError, match="cannot be shared by 3 processes"):
        MultiTaskLengthSampler([5, 5], [0, 0], 4, num_replicas=3, rank=0)
    with pytest.raises(ValueError, match=r"raise training\.batch_size"):
        MultiTaskLengthSampler([5] * 5, [0] * 5, 1, num_replicas=2, rank=0)
    with pytest.raises(RuntimeError, match="rank_batches"):
        list(MultiTaskLengthSampler([5] * 4, [0] * 4, 2, num_replicas=2, rank=0))
