"""Label scoring vs label generation: examples/s of the same student on the same rows.

For each bundled sample task with a label set (sentiment: 2 labels, NLI: 3, CQA: 5 options)
the project's default student (``conf/base/parameters_training.yml``: a tiny T5 with random
weights and the byte-level tokenizer; ``--architecture t5-small`` for a t5-small-sized one)
reads the labels of the same rows twice, both through the project's own
:func:`zeroshot_distill.students.read_labels`, with the same batch size and thread count:

- **score**: every candidate label is scored by its log-likelihood after ``predict: ...``
  (encoder once per row, all candidates through the decoder in one batched pass), argmax;
- **generate**: greedy decoding, parsed into a label, with two budgets. A random model
  never emits end-of-sequence, so generation runs the whole budget:

  - *budget*: the pipelines' budget before label scoring, the student's
    ``max_label_length`` (64 here): what an untrained or undecided student costs, e.g. at
    the early validation evaluations during training;
  - *tight*: the longest candidate's tokens + end of sequence, the fewest steps that let
    every label be generated: what a well-trained student costs for the longest label in
    a batch (the best case for generation).

Each mode runs ``--repeats`` times after a warm-up; the best run counts (least disturbed by
other processes). The ratio printed is score examples/s over generate examples/s.

    python benchmarks/label_scoring.py                       # ~1 min on 2 CPU cores
    python benchmarks/label_scoring.py --architecture t5-small --rows 128
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {
    "text_classification": ("sentiment_sample.jsonl", "_task_text_classification"),
    "nli": ("nli_sample.jsonl", "_task_nli"),
    "commonsense_qa": ("cqa_sample.jsonl", "_task_commonsense_qa"),
}
T5_SMALL = {
    "d_model": 512,
    "d_ff": 2048,
    "d_kv": 64,
    "num_heads": 8,
    "num_layers": 6,
    "num_decoder_layers": 6,
    "dropout_rate": 0.0,
}


def _task_spec(name: str) -> Any:
    import yaml

    from zeroshot_distill.tasks.spec import TaskSpec

    _, key = SAMPLES[name]
    params = yaml.safe_load((ROOT / "conf/base/tasks" / f"{name}.yml").read_text())[key]
    return TaskSpec.from_params(params)


def _rows(name: str, n: int) -> list[dict[str, Any]]:
    file_name, _ = SAMPLES[name]
    lines = (ROOT / "data/01_raw" / file_name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:n]]


def _best_rate(fn: Any, n_rows: int, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return n_rows / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=96, help="rows per task (default 96)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--architecture", choices=["default", "t5-small"], default="default")
    args = parser.parse_args()

    import torch
    import yaml

    from zeroshot_distill.students import load_student, read_labels

    torch.set_num_threads(args.threads)
    training = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    student_cfg = dict(training["training"]["student"])
    if args.architecture == "t5-small":
        student_cfg["architecture"] = T5_SMALL
    student = load_student(student_cfg, seed=0)
    print(
        f"student: {args.architecture} ({student.num_parameters / 1e6:.2f}M parameters), "
        f"{args.threads} thread(s), batch size {args.batch_size}, best of {args.repeats}"
    )
    budget = int(training["training"]["max_label_length"])
    print(f"{'task':<20} {'labels':>6} {'rows':>5} {'score ex/s':>11} "
          f"{'gen ex/s (budget ' + str(budget) + ')':>24} {'ratio':>6} "
          f"{'gen ex/s (tight)':>18} {'tight':>6} {'ratio':>6}")  # fmt: skip
    for name in SAMPLES:
        spec = _task_spec(name)
        rows = _rows(name, args.rows)
        tight = 1 + max(
            len(student.tokenizer(spec.label_target(label, r))["input_ids"])
            for r in rows
            for label in spec.label_set or []
        )

        def run(
            decoding: str, steps: int = budget, rows: list[dict[str, Any]] = rows, spec: Any = spec
        ) -> Any:
            return read_labels(
                student.model,
                student.tokenizer,
                spec,
                rows,
                args.batch_size,
                max_new_tokens=steps,
                decoding=decoding,
            )

        score = _best_rate(lambda: run("score"), len(rows), args.repeats)
        generate = _best_rate(lambda: run("generate"), len(rows), args.repeats)
        generate_tight = _best_rate(
            lambda steps=tight: run("generate", steps), len(rows), args.repeats
        )
        print(
            f"{name:<20} {len(spec.label_set or []):>6} {len(rows):>5} {score:>11.1f} "
            f"{generate:>24.1f} {score / generate:>5.1f}x "
            f"{generate_tight:>18.1f} {tight:>6} {score / generate_tight:>5.1f}x"
        )


if __name__ == "__main__":
    main()
