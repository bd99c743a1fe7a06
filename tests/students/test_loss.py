"""The masked multi-task loss and the one-forward training view of the student."""

from __future__ import annotations

import pytest
import torch

from zeroshot_distill.students import (
    MultiTaskCollator,
    MultiTaskSeq2Seq,
    TaskPrefixes,
    encode_examples,
    multitask_loss,
)


def _batch(student, rationales):
    examples, _ = encode_examples(
        student.tokenizer,
        ["a", "b", "c"],
        ["premise: x y z", "premise: a longer input text", "p"],
        ["entailment", "neutral", "contradiction"],
        rationales,
        prefixes=TaskPrefixes(),
        max_input_length=64,
        max_label_length=32,
        max_rationale_length=64,
    )
    return MultiTaskCollator(pad_token_id=student.tokenizer.pad_token_id)(examples)


def _reference_losses(model, batch):
    """Hsieh's reference: one full forward per task, each with the model's own loss."""
    n = batch["label_ids"].shape[0]
    label = model(
        input_ids=batch["input_ids"][:n],
        attention_mask=batch["attention_mask"][:n],
        labels=batch["label_ids"],
    ).loss
    rationale = model(
        input_ids=batch["input_ids"][n:],
        attention_mask=batch["attention_mask"][n:],
        labels=batch["rationale_ids"],
    ).loss
    return label, rationale


def test_batch_without_rationales_gives_exactly_the_label_loss(tiny_student):
    tiny_student.model.eval()
    batch = _batch(tiny_student, [None, None, None])
    assert "rationale_ids" not in batch
    out = MultiTaskSeq2Seq(tiny_student.model, alpha=0.5)(**batch)
    plain = tiny_student.model(
        **{k: batch[k] for k in ("input_ids", "attention_mask")}, labels=batch["label_ids"]
    ).loss
    assert out.rationale_loss is None
    assert torch.equal(out.loss, out.label_loss)
    torch.testing.assert_close(out.loss, plain, rtol=0, atol=1e-6)


def test_mixed_batch_matches_two_reference_passes(tiny_student):
    tiny_student.model.eval()
    batch = _batch(tiny_student, ["because x", None, "since the input is short"])
    assert batch["rationale_ids"].shape[0] == 2  # only rows that have a rationale
    out = MultiTaskSeq2Seq(tiny_student.model, alpha=0.3)(**batch)
    label, rationale = _reference_losses(tiny_student.model, batch)
    torch.testing.assert_close(out.label_loss, label, rtol=0, atol=1e-5)
    torch.testing.assert_close(out.rationale_loss, rationale, rtol=0, atol=1e-5)
    torch.testing.assert_close(out.loss, 0.3 * label + 0.7 * rationale, rtol=0, atol=1e-5)


def test_alpha_one_ignores_rationales(tiny_student):
    tiny_student.model.eval()
    with_rationales = _batch(tiny_student, ["because x", "a reason", "since y"])
    without = _batch(tiny_student, [None, None, None])
    view = MultiTaskSeq2Seq(tiny_student.model, alpha=1.0)
    out = view(**with_rationales)
    assert out.rationale_loss is None
    torch.testing.assert_close(out.loss, view(**without).loss, rtol=0, atol=1e-6)
    # ... and no gradient reaches the model through the rationales.
    out.loss.backward()
    grads = [p.grad.clone() for p in tiny_student.model.parameters() if p.grad is not None]
    tiny_student.model.zero_grad()
    view(**without).loss.backward()
    again = [p.grad for p in tiny_student.model.parameters() if p.grad is not None]
    for a, b in zip(grads, again, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_rationale_loss_ignores_padding_of_other_rows():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 3], [4, -100, -100]])
    out = multitask_loss(logits, targets, logits, targets, alpha=0.0)
    manual = torch.nn.functional.cross_entropy(
        torch.cat([logits[0], logits[1, :1]]), torch.tensor([1, 2, 3, 4])
    )
    torch.testing.assert_close(out.loss, manual)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_outside_unit_interval_is_rejected(tiny_student, alpha):
    with pytest.raises(ValueError, match="alpha"):
        MultiTaskSeq2Seq(tiny_student.model, alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        multitask_loss(torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long), None, None, alpha)
