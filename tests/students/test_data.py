"""Tokenization checks, dynamic padding and the mixed multi-task batch."""

from __future__ import annotations

import pytest

from zeroshot_distill.students import (
    MultiTaskCollator,
    MultiTaskDataset,
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


def test_dataset_lengths_reflect_the_work_per_example(tiny_student):
    examples, _ = _encode(tiny_student.tokenizer, ["why", None, "a much longer rationale here"])
    dataset = MultiTaskDataset(examples)
    assert dataset.n_with_rationale == 2
    lengths = dataset.lengths
    assert lengths[2] > lengths[0] > lengths[1]
