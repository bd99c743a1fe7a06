"""Data-parallel training from the node: one process vs ``training.launcher`` on CPU.

The same training node (:func:`zeroshot_distill.students.train_student_model`), data, tiny
T5 (the default demo student's size: d_model 64, 2+2 layers, ByT5 tokenizer), seed and
epochs, three ways:

- **in-process**: ``training.launcher: null`` (the baseline);
- **torchrun x1**: ``{nproc_per_node: 1}``: what launching alone costs;
- **torchrun xN**: ``{nproc_per_node: N}`` with gloo, one thread per process.

Printed per way: the node's wall time (process start, imports and reading back included),
the trainer's own training time and samples/s (examples seen by all ranks per second of
training, evaluations excluded), validation and test accuracy; then the ratios against
in-process. Every run trains all epochs (no early stopping) and checks that the ranks saw
each training example once per epoch. On a 2-core machine, N = 2 can at best double the
samples/s, and only when nothing else runs.

    python benchmarks/multiprocess_training.py                 # ~2-4 min on 2 CPU cores
    python benchmarks/multiprocess_training.py --n-train 640 --epochs 3 --nproc 2
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

TASK = {
    "name": "sentiment",
    "kind": "classification",
    "description": "Review sentiment",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}
THINGS = ["film", "meal", "hotel room", "phone", "concert", "novel", "bike", "laptop", "tour"]
GOOD = ["great", "wonderful", "excellent", "lovely", "superb"]
BAD = ["awful", "terrible", "dreadful", "poor", "disappointing"]
FILLER = ["honestly", "to be fair", "all in all", "as expected", "for the price", ""]


def training_set(n_train: int, n_eval: int, seed: int = 0) -> Any:
    """Synthetic reviews: the sentiment word decides the label; 30% keep a rationale."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for split, n in (("train", n_train), ("valid", n_eval), ("test", n_eval)):
        for i in range(n):
            positive = bool(rng.integers(2))
            word = str(rng.choice(GOOD if positive else BAD))
            text = (
                f"The {rng.choice(THINGS)} was {word}, {rng.choice(FILLER)} "
                f"and I would {'gladly' if positive else 'not'} go again."
            )
            label = "positive" if positive else "negative"
            keeps = split == "train" and rng.random() < 0.3
            rows.append(
                {
                    "id": f"{split}-{i}",
                    "split": split,
                    "text": text,
                    "input": f"review: {text}",
                    "label": label,
                    "label_target": label,
                    "rationale_target": f"The review calls it {word}." if keeps else None,
                }
            )
    return pd.DataFrame(rows)


def params(epochs: int, launcher: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "student": {
            "architecture": {
                "d_model": 64,
                "d_ff": 128,
                "d_kv": 16,
                "num_heads": 4,
                "num_layers": 2,
                "num_decoder_layers": 2,
                "dropout_rate": 0.0,
            },
            "tokenizer": "byt5",
        },
        "batch_size": 16,
        "num_epochs": epochs,
        "learning_rate": 3e-3,
        "warmup": 0.05,
        "early_stopping_patience": None,
        "precision": "fp32",
        "num_threads": 1,
        "max_rationale_length": 128,
        "progress_bar": False,
        "launcher": launcher,
    }


def run(frame: Any, epochs: int, launcher: dict[str, Any] | None) -> dict[str, Any]:
    from zeroshot_distill.students import accuracy, predict_labels, train_student_model
    from zeroshot_distill.tasks.spec import TaskSpec

    started = time.perf_counter()
    student, _, _ = train_student_model(frame, params(epochs, launcher), TASK, seed=42)
    node_wall = time.perf_counter() - started
    test = frame[frame["split"] == "test"].to_dict("records")
    predicted = predict_labels(
        student.model, student.tokenizer, TaskSpec.from_params(TASK), test, 64
    )
    info = student.info
    n_train = int((frame["split"] == "train").sum())
    if info["examples_seen"] != n_train * epochs:
        raise AssertionError(f"{info['examples_seen']} examples seen, not {n_train} x {epochs}")
    return {
        "node_wall_s": node_wall,
        "train_s": info["wall_time_s"] - info["eval_time_s"],
        "samples_per_s": info["train_samples_per_s"],
        "valid_accuracy": info["best_valid_accuracy"],
        "test_accuracy": accuracy(predicted, [r["label"] for r in test]),
        "world_size": info["world_size"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=480)
    parser.add_argument("--n-eval", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--nproc", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    frame = training_set(args.n_train, args.n_eval)
    ways = {
        "in-process": None,
        "torchrun x1": {"nproc_per_node": 1},
        f"torchrun x{args.nproc}": {"nproc_per_node": args.nproc, "backend": "gloo"},
    }
    print(
        f"{args.n_train} train rows, {args.epochs} epochs, batch 16 per process, "
        f"{os.cpu_count()} CPUs (os.cpu_count)"
    )
    results = {name: run(frame, args.epochs, launcher) for name, launcher in ways.items()}
    base = results["in-process"]
    header = f"{'':14}{'node wall s':>12}{'train s':>9}{'samples/s':>11}{'valid':>7}{'test':>7}"
    print(header + f"{'samples/s ratio':>17}{'node wall ratio':>17}")
    for name, r in results.items():
        print(
            f"{name:14}{r['node_wall_s']:12.1f}{r['train_s']:9.1f}{r['samples_per_s']:11.1f}"
            f"{r['valid_accuracy']:7.3f}{r['test_accuracy']:7.3f}"
            f"{r['samples_per_s'] / base['samples_per_s']:17.2f}"
            f"{r['node_wall_s'] / base['node_wall_s']:17.2f}"
        )


if __name__ == "__main__":
    main()
