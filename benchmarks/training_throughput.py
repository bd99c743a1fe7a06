"""Training throughput: the project's multi-task trainer vs the reference design.

Both train the same tiny-but-not-trivial T5 (random init, ByT5 tokenizer) on the same
synthetic NLI-style data, whose lengths spread like e-SNLI with teacher rationales
(premises of 5-45 words, rationales of 8-45 words), for the same number of epochs with the
same optimiser, learning rate, batch size, precision and seed:

- **project**: ``zeroshot_distill.students.train_student``: one encoder pass over the stacked
  ``predict:``/``explain:`` inputs, one decoder pass per task padded to its own targets, no
  compute for rows without a rationale, length-grouped batches;
- **reference**: mirrors Hsieh et al.'s ``TaskPrefixTrainer``: a collator that pads the
  predict and explain features separately, two full ``model(**inputs)`` forward passes per
  batch, random batches, missing rationales trained as " ".

Each side runs in its own subprocess (clean peak RSS); by default both run at the same time
with one thread each, so that a shared, busy machine slows both alike (``--sequential`` to
run one after the other). Samples/s counts training examples (each carries both tasks) per
second of the whole training call (tokenizing, trainer set-up and training), by wall clock
and by CPU time of the process. Both final models are then evaluated on the same
validation rows with the same greedy label decoding.

    python benchmarks/training_throughput.py              # ~3-5 min on 2 CPU cores
    python benchmarks/training_throughput.py --explanation-rate 0.3 --n-train 400
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

LABELS = ["entailment", "neutral", "contradiction"]
ARCHITECTURE = {
    "d_model": 128,
    "d_ff": 512,
    "d_kv": 32,
    "num_heads": 4,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "dropout_rate": 0.0,
}
TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": LABELS,
}
PEOPLE = ["A man", "A woman", "Two children", "An old man", "A young girl", "A group of people"]
ACTS = ["is walking", "is sitting", "is running", "is reading a book", "is cooking dinner"]
PLACES = ["in a park", "on a busy street", "near the lake", "inside a small cafe", "at the beach"]
DETAILS = [
    "wearing a red jacket",
    "with a black dog",
    "while it rains",
    "next to a blue car",
    "holding an umbrella",
    "under a large tree",
    "during the late afternoon",
    "with some friends",
]
# The label follows from the hypothesis' final clause: learnable, but it has to be read.
CLAUSES = {
    "entailment": ["and that is true", "as the premise says"],
    "neutral": ["for some unknown reason", "maybe for work"],
    "contradiction": ["which is not the case", "but nobody is there"],
}
FILLER = [
    "the",
    "scene",
    "shows",
    "people",
    "and",
    "things",
    "in",
    "a",
    "plain",
    "and",
    "ordinary",
    "way",
]


def make_rows(n: int, seed: int, explanation_rate: float) -> list[dict[str, Any]]:
    """``n`` examples with e-SNLI-like length spread and teacher-like rationales."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = LABELS[int(rng.integers(3))]
        n_details = int(np.clip(rng.lognormal(0.5, 0.8), 0, 6))
        premise = " ".join(
            [
                str(rng.choice(PEOPLE)),
                str(rng.choice(ACTS)),
                str(rng.choice(PLACES)),
                *rng.choice(DETAILS, size=n_details, replace=True).tolist(),
            ]
        )
        clause = str(rng.choice(CLAUSES[label]))
        hypothesis = f"{rng.choice(PEOPLE)} {rng.choice(ACTS)} {clause}."
        n_words = int(np.clip(rng.lognormal(np.log(20), 0.4), 8, 45))
        rationale = " ".join(
            [
                f"The hypothesis says {clause}, so the answer is {label}.",
                *rng.choice(FILLER, size=max(0, n_words - 12)).tolist(),
            ]
        )
        rows.append(
            {
                "id": f"b{i:05d}",
                "premise": premise + ".",
                "hypothesis": hypothesis,
                "label": label,
                "label_target": label,
                "rationale_target": rationale if rng.random() < explanation_rate else None,
            }
        )
    return rows


# ----------------------------------------------------------------------------- the two sides
def run_project(args: argparse.Namespace, train: list[dict], valid: list[dict]) -> dict:
    """The project's trainer; it evaluates once, at the end, on a handful of rows (no
    selection advantage, next to no evaluation time in the measurement)."""
    from zeroshot_distill.students import TrainingConfig, load_student, train_student
    from zeroshot_distill.tasks.spec import TaskSpec

    spec = TaskSpec.from_params(TASK)
    for row in train:
        row["input"] = spec.student_input(row)
    steps = args.epochs * -(-len(train) // args.batch_size)
    config = TrainingConfig.from_params(
        {
            "student": {"architecture": ARCHITECTURE},
            "alpha": 0.5,
            "learning_rate": args.lr,
            "batch_size": args.batch_size,
            "num_epochs": args.epochs,
            "eval_steps": steps,  # evaluate at the end only, like the reference run
            "early_stopping_patience": None,
            "max_input_length": 512,
            "max_rationale_length": 512,
            "precision": args.precision,
            "logging_steps": 50,
            "progress_bar": False,
        }
    )
    student = load_student(config.student, seed=args.seed)
    result = train_student(student, train, valid[:8], spec, config, seed=args.seed)
    return {"model": result.student}


def run_reference(args: argparse.Namespace, train: list[dict], valid: list[dict]) -> dict:
    """Hsieh et al.'s design on the current transformers API (see the module docstring)."""
    import tempfile

    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from zeroshot_distill.students import load_student
    from zeroshot_distill.students.trainer import _use_bf16
    from zeroshot_distill.tasks.spec import TaskSpec

    spec = TaskSpec.from_params(TASK)
    student = load_student({"architecture": ARCHITECTURE}, seed=args.seed)
    tok = student.tokenizer
    features = []
    for row in train:
        text = spec.student_input(row)
        pred = tok("predict: " + text, max_length=512, truncation=True)
        expl = tok("explain: " + text, max_length=512, truncation=True)
        features.append(
            {
                "input_ids": pred["input_ids"],
                "attention_mask": pred["attention_mask"],
                "labels": tok(row["label_target"], max_length=256, truncation=True)["input_ids"],
                "expl_input_ids": expl["input_ids"],
                "expl_attention_mask": expl["attention_mask"],
                # The reference has a rationale for every row; a missing one becomes " ".
                "aux_labels": tok(row["rationale_target"] or " ", max_length=512, truncation=True)[
                    "input_ids"
                ],
            }
        )
    pad = DataCollatorForSeq2Seq(tok)

    def collate(batch: list[dict]) -> dict:
        pred = [{k: f[k] for k in ("input_ids", "attention_mask", "labels")} for f in batch]
        expl = [
            {
                "input_ids": f["expl_input_ids"],
                "attention_mask": f["expl_attention_mask"],
                "labels": f["aux_labels"],
            }
            for f in batch
        ]
        return {"pred": pad(pred), "expl": pad(expl)}

    class TaskPrefixTrainer(Seq2SeqTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            pred_outputs = model(**inputs["pred"])
            expl_outputs = model(**inputs["expl"])
            loss = 0.5 * pred_outputs.loss + 0.5 * expl_outputs.loss
            return (loss, pred_outputs) if return_outputs else loss

    with tempfile.TemporaryDirectory() as scratch:
        import torch

        on_cuda = torch.cuda.is_available()
        training_args = Seq2SeqTrainingArguments(
            output_dir=scratch,
            use_cpu=not on_cuda,
            bf16=_use_bf16(args.precision, on_cuda),
            remove_unused_columns=False,
            per_device_train_batch_size=args.batch_size,
            num_train_epochs=args.epochs,
            learning_rate=args.lr,
            seed=args.seed,
            data_seed=args.seed,
            save_strategy="no",
            eval_strategy="no",
            logging_steps=50,
            report_to="none",
            disable_tqdm=True,
            dataloader_pin_memory=on_cuda,
        )
        trainer = TaskPrefixTrainer(
            model=student.model,
            args=training_args,
            train_dataset=features,
            data_collator=collate,
            processing_class=tok,
        )
        trainer.train()
    return {"model": student}


def child(args: argparse.Namespace) -> None:
    """Run one side and print one JSON line with its figures."""
    import torch

    from zeroshot_distill.students import accuracy, predict_labels
    from zeroshot_distill.tasks.spec import TaskSpec

    torch.set_num_threads(args.threads)
    train = make_rows(args.n_train, args.seed, args.explanation_rate)
    valid = make_rows(args.n_valid, args.seed + 1, 0.0)
    run = run_project if args.side == "project" else run_reference
    wall, cpu = time.perf_counter(), time.process_time()
    student = run(args, train, valid)["model"]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    samples = len(train) * args.epochs
    spec = TaskSpec.from_params(TASK)
    predicted = predict_labels(student.model, student.tokenizer, spec, valid, batch_size=64)
    print(
        json.dumps(
            {
                "side": args.side,
                "samples_per_s": samples / wall,
                "samples_per_cpu_s": samples / cpu,
                "train_s": wall,
                "valid_accuracy": accuracy(predicted, [r["label"] for r in valid]),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_sides(commands: dict[str, list[str]], sequential: bool) -> dict[str, tuple]:
    """Run each side's command (at the same time unless ``sequential``): exit code, output."""
    import tempfile
    from contextlib import ExitStack
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        procs = {}
        for side, command in commands.items():
            out = stack.enter_context(open(Path(scratch) / f"{side}.out", "w"))
            err = stack.enter_context(open(Path(scratch) / f"{side}.err", "w"))
            procs[side] = subprocess.Popen(command, stdout=out, stderr=err)
            if sequential:
                procs[side].wait()
        codes = {side: proc.wait() for side, proc in procs.items()}
        return {
            side: (
                code,
                (Path(scratch) / f"{side}.out").read_text(),
                (Path(scratch) / f"{side}.err").read_text(),
            )
            for side, code in codes.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=320)
    parser.add_argument("--n-valid", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--explanation-rate", type=float, default=1.0)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sequential", action="store_true", help="run the sides one by one")
    parser.add_argument("--side", choices=["project", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args)
        return

    import numpy as np

    lengths = [
        (
            len(f"premise: {r['premise']} hypothesis: {r['hypothesis']}"),
            len(r["rationale_target"] or ""),
        )
        for r in make_rows(args.n_train, args.seed, args.explanation_rate)
    ]
    inputs, rationales = np.array(lengths).T
    print(
        f"data: {args.n_train} train / {args.n_valid} valid rows; input chars p10/p50/p90 "
        f"{np.percentile(inputs, [10, 50, 90]).astype(int).tolist()}, rationale chars "
        f"{np.percentile(rationales[rationales > 0], [10, 50, 90]).astype(int).tolist()}; "
        f"explanation rate {args.explanation_rate}; {args.epochs} epochs, batch "
        f"{args.batch_size}, precision {args.precision}, {args.threads} threads"
    )
    commands = {
        side: [sys.executable, __file__, *sys.argv[1:], "--side", side]
        for side in ("reference", "project")
    }
    outputs = run_sides(commands, sequential=args.sequential)
    results = {}
    for side, (code, stdout, stderr) in outputs.items():
        if code:
            raise SystemExit(f"{side} failed:\n{stderr[-3000:]}")
        results[side] = json.loads(stdout.strip().splitlines()[-1])
        r = results[side]
        print(
            f"{side:>9}: {r['samples_per_s']:6.1f} samples/s ({r['samples_per_cpu_s']:6.1f} per "
            f"CPU-s)  train {r['train_s']:6.1f} s  peak RSS {r['peak_rss_mb']:6.0f} MB  valid "
            f"accuracy {r['valid_accuracy']:.3f}"
        )
    project, reference = results["project"], results["reference"]
    ratio = project["samples_per_s"] / reference["samples_per_s"]
    cpu_ratio = project["samples_per_cpu_s"] / reference["samples_per_cpu_s"]
    delta = project["valid_accuracy"] - reference["valid_accuracy"]
    print(
        f"speed-up (samples/s ratio): {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU; "
        f"valid accuracy difference {delta:+.3f}"
    )


if __name__ == "__main__":
    main()
