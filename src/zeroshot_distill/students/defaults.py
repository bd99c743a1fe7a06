"""Training settings that depend on the student: what ``auto`` means.

A tiny model built from an ``architecture`` (random weights) wants a high learning rate,
many epochs and one CPU thread; a pretrained checkpoint wants a small learning rate for
what it learned, a larger one for the parameters it did not have (a classification head, a
decoder from scratch), few epochs and every thread. ``training.learning_rate``,
``new_learning_rate``, ``num_epochs``, ``num_threads`` and ``precision`` take ``auto`` (the
default in ``conf/base/parameters_training.yml``), resolved here once the student is
loaded; a number always wins. The values were measured on 2 CPU cores (README, "Students
that learn real tasks").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

#: What ``auto`` becomes for a random ``architecture`` (the offline demo and tests).
RANDOM_INIT: dict[str, Any] = {
    "learning_rate": 3e-3,
    "num_epochs": 12,
    # One thread: on a busy 2-core machine two threads of a tiny model wait for each other
    # (9-16 samples/s against 57-62 with one).
    "num_threads": 1,
    # bf16 autocast slows a tiny model down on CPU (57 vs 62 samples/s).
    "precision": "fp32",
}

#: Learning rate of a pretrained checkpoint's own weights, by family (full fine-tuning).
PRETRAINED_LEARNING_RATE = {
    "classifier": 5e-5,  # run_glue's range for BERT-like encoders
    "encoder": 5e-5,
    "seq2seq": 3e-4,  # T5 fine-tuning with AdamW
    "causal_lm": 2e-5,
}
#: LoRA adapters start at zero and are few: they want a larger rate (peft's examples).
ADAPTER_LEARNING_RATE = 2e-4
#: Parameters the checkpoint did not have (a classification head, a decoder from scratch).
NEW_PARAMETERS_LEARNING_RATE = 1e-3
#: Epochs over the training set for a pretrained student, by family: a decoder-only LM
#: of 100M+ parameters runs at 1-3 samples/s on 2 CPU cores, so one epoch of ~1,500
#: examples is what fits in about 15 minutes.
PRETRAINED_EPOCHS = {"classifier": 3, "encoder": 3, "seq2seq": 3, "causal_lm": 1}


def free_cores() -> int:
    """CPU threads for a pretrained student: the cores other processes leave free.

    torch's default (one thread per core) is right on a quiet machine and ruinous on a busy
    one: OpenMP threads wait for each other whenever one is descheduled. SmolLM2-135M with
    LoRA on 2 cores at a load average of 7 trained at 0.18 samples/s with 2 threads and 0.50
    with 1 (benchmarks/pretrained_training_speed.py). The 1-minute load average, less this
    process's own share (about 1 while it loads the model), tells how many cores are taken.
    """
    cores = os.cpu_count() or 1
    try:
        others = os.getloadavg()[0] - 1.0
    except OSError:  # no load average on this platform
        return cores
    return max(1, min(cores, cores - round(max(0.0, others))))


@dataclass(frozen=True)
class ResolvedSettings:
    """The ``auto`` settings with their values, and why (for the log and the run record)."""

    values: dict[str, Any]
    reason: str


def resolve_auto_settings(
    given: dict[str, Any], *, pretrained: bool, family: str, adapters: bool
) -> ResolvedSettings:
    """The concrete value of each of ``given``'s ``auto`` settings.

    Args:
        given: ``learning_rate``, ``new_learning_rate``, ``num_epochs``, ``num_threads``,
            ``precision`` as configured (numbers stay as they are).
        pretrained: the student comes from a checkpoint (``name_or_path``), not an
            ``architecture``.
        family: ``classifier``, ``encoder``, ``seq2seq`` or ``causal_lm``.
        adapters: LoRA adapters are trained (``training.peft``).
    """
    if pretrained:
        learning_rate = (
            ADAPTER_LEARNING_RATE if adapters else PRETRAINED_LEARNING_RATE.get(family, 5e-5)
        )
        defaults: dict[str, Any] = {
            "learning_rate": learning_rate,
            "num_epochs": PRETRAINED_EPOCHS.get(family, 3),
            "num_threads": free_cores(),
            "precision": "auto",  # bf16 where the hardware has it
        }
        reason = f"pretrained {family} checkpoint" + (" with LoRA adapters" if adapters else "")
    else:
        defaults = dict(RANDOM_INIT)
        reason = "random init (architecture)"
    values = {k: (defaults.get(k) if v == "auto" else v) for k, v in given.items()}
    if given.get("new_learning_rate") == "auto":
        # A random model has no pretrained weights to protect: one rate for everything.
        values["new_learning_rate"] = (
            max(NEW_PARAMETERS_LEARNING_RATE, values["learning_rate"])
            if pretrained
            else values["learning_rate"]
        )
    elif given.get("new_learning_rate") is None:
        values["new_learning_rate"] = values["learning_rate"]
    return ResolvedSettings(values=values, reason=reason)
