"""The multi-task objective of distilling step-by-step, with rationales masked per example.

``loss = alpha * L_label + (1 - alpha) * L_rationale`` where each term is the token-mean
cross-entropy over its own targets (as in Hsieh et al.'s two ``model(...).loss`` calls), and
``L_rationale`` runs only over the examples that *have* a rationale. A batch without any
rationale gives exactly ``L_label``; ``alpha = 1`` ignores rationales altogether.

:class:`MultiTaskSeq2Seq` is the training-time forward: one encoder pass over the stacked
predict and explain inputs, then one decoder pass per task, each padded only to its own
targets. It is a single ``nn.Module`` call, so DistributedDataParallel (``torchrun`` /
``accelerate launch``) sees one forward per step and synchronises gradients as usual.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

from zeroshot_distill.students.data import IGNORE_INDEX


class MultiTaskLoss(NamedTuple):
    """The combined loss and its two parts (``rationale_loss`` is ``None`` when not computed)."""

    loss: torch.Tensor
    label_loss: torch.Tensor
    rationale_loss: torch.Tensor | None


def token_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the target tokens that are not :data:`IGNORE_INDEX`."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        targets.reshape(-1),
        ignore_index=IGNORE_INDEX,
    )


def multitask_loss(
    label_logits: torch.Tensor,
    label_ids: torch.Tensor,
    rationale_logits: torch.Tensor | None,
    rationale_ids: torch.Tensor | None,
    alpha: float,
) -> MultiTaskLoss:
    """Combine the label and rationale losses.

    Args:
        label_logits: ``(n, T_label, vocab)`` for the ``n`` examples of the batch.
        label_ids: ``(n, T_label)`` label targets, padded with :data:`IGNORE_INDEX`.
        rationale_logits: ``(m, T_rationale, vocab)`` for the ``m`` examples with a
            rationale, or ``None`` when the batch has none.
        rationale_ids: ``(m, T_rationale)`` or ``None``.
        alpha: weight of the label loss, in ``[0, 1]``.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    label_loss = token_cross_entropy(label_logits, label_ids)
    if rationale_logits is None or rationale_ids is None or alpha == 1.0:
        return MultiTaskLoss(label_loss, label_loss, None)
    rationale_loss = token_cross_entropy(rationale_logits, rationale_ids)
    return MultiTaskLoss(
        alpha * label_loss + (1.0 - alpha) * rationale_loss, label_loss, rationale_loss
    )


class MultiTaskSeq2Seq(nn.Module):
    """Training view of a seq2seq student: a batch from ``MultiTaskCollator`` in, losses out.

    It holds the student (``self.model``) and adds no parameters of its own; the student is
    saved and used for inference as it is.
    """

    def __init__(self, model: PreTrainedModel, alpha: float):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.model = model
        self.alpha = alpha

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        label_ids: torch.Tensor,
        rationale_ids: torch.Tensor | None = None,
    ) -> MultiTaskLoss:
        """Encode all rows once, decode labels and rationales separately, combine losses."""
        n = label_ids.shape[0]
        if rationale_ids is not None and self.alpha == 1.0:
            # alpha = 1 ignores rationales: do not even encode the explain rows.
            input_ids, attention_mask, rationale_ids = input_ids[:n], attention_mask[:n], None
        hidden = self.model.get_encoder()(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        label_logits = self._decode(hidden[:n], attention_mask[:n], label_ids)
        rationale_logits = None
        if rationale_ids is not None:
            rationale_logits = self._decode(hidden[n:], attention_mask[n:], rationale_ids)
        return multitask_loss(label_logits, label_ids, rationale_logits, rationale_ids, self.alpha)

    def _decode(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        decoder_input_ids = self.model.prepare_decoder_input_ids_from_labels(labels=targets)
        out = self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=hidden),
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            use_cache=False,
        )
        return out.logits
