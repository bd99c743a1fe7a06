"""LoRA vs full fine-tuning of the same student: trainable parameters, optimizer state,
training speed and peak memory, measured in the same run.

Both sides train the same random-init T5 (ByT5 tokenizer) on the same synthetic NLI-style
data as ``training_throughput.py`` (e-SNLI-like lengths, teacher-like rationales), for the
same epochs, batch size, precision and seed, each in its own subprocess (clean memory
figures), one after the other:

- **full**: every parameter trains (``training.peft: null``);
- **lora**: ``training.peft: {r, lora_alpha, target_modules}`` (default: all linear layers,
  r = 8), the base frozen.

Figures per side: parameters, trainable parameters, AdamW state (two fp32 moments per
trainable parameter, computed from the count), samples/s of the training call (the
trainer's own figure, evaluation excluded), peak memory as the trainer records it
(``peak_memory_mb``: on CPU the growth of the process's peak resident memory during
training, on a GPU torch's peak allocation) and validation accuracy (label scoring). Then
the ratios LoRA / full.

    python benchmarks/lora_memory.py                     # ~6 min on a busy 2-core machine
    python benchmarks/lora_memory.py --d-model 512 --layers 6 --epochs 1   # t5-small shape

Accuracy on a *random-init* base is not what LoRA is for (it adapts a pretrained model);
it is printed to show that both runs trained, not to compare the methods.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).parent))

from training_throughput import TASK, make_rows


def architecture(args: argparse.Namespace) -> dict:
    heads = max(1, args.d_model // 64)
    return {
        "d_model": args.d_model,
        "d_ff": 4 * args.d_model,
        "d_kv": args.d_model // heads,
        "num_heads": heads,
        "num_layers": args.layers,
        "num_decoder_layers": args.layers,
        "dropout_rate": 0.0,
    }


def child(args: argparse.Namespace) -> None:
    """Train one side and print one JSON line with its figures."""
    import torch

    from zeroshot_distill.students import TrainingConfig, load_student, train_student
    from zeroshot_distill.tasks.spec import TaskSpec

    torch.set_num_threads(args.threads)
    spec = TaskSpec.from_params(TASK)
    train = make_rows(args.n_train, args.seed, args.explanation_rate)
    valid = make_rows(args.n_valid, args.seed + 1, 0.0)
    for row in train:
        row["input"] = spec.student_input(row)
    steps = args.epochs * -(-len(train) // args.batch_size)
    peft = None
    if args.side == "lora":
        peft = {"r": args.r, "lora_alpha": 2 * args.r, "lora_dropout": 0.0}
        peft["target_modules"] = args.target_modules
    config = TrainingConfig.from_params(
        {
            "student": {"architecture": architecture(args)},
            "alpha": 0.5,
            "learning_rate": args.lr_lora if peft else args.lr,
            "batch_size": args.batch_size,
            "num_epochs": args.epochs,
            "eval_steps": steps,  # evaluate once, at the end
            "early_stopping_patience": None,
            "max_input_length": 512,
            "max_rationale_length": 512,
            "precision": args.precision,
            "logging_steps": 50,
            "progress_bar": False,
            "peft": peft,
        }
    )
    student = load_student(config.student, seed=args.seed)
    result = train_student(student, train, valid, spec, config, seed=args.seed)
    info = result.student.info
    print(
        json.dumps(
            {
                "side": args.side,
                "parameters": info["num_parameters"],
                "trainable": info["num_trainable_parameters"],
                "optimizer_state_mb": 2 * 4 * info["num_trainable_parameters"] / 2**20,
                "samples_per_s": info["train_samples_per_s"],
                "peak_memory_mb": info["peak_memory_mb"],
                "peak_memory_kind": info["peak_memory_kind"],
                "valid_accuracy": info["best_valid_accuracy"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=240)
    parser.add_argument("--n-valid", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3, help="full fine-tuning")
    parser.add_argument("--lr-lora", type=float, default=3e-3)
    parser.add_argument("--r", type=int, default=8)
    parser.add_argument("--target-modules", default="all-linear", help="auto | all-linear")
    parser.add_argument("--explanation-rate", type=float, default=1.0)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--side", choices=["full", "lora"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args)
        return

    print(
        f"T5 {architecture(args)}; {args.n_train} train rows, {args.epochs} epochs, batch "
        f"{args.batch_size}, {args.precision}, {args.threads} thread(s); LoRA r={args.r} on "
        f"{args.target_modules}"
    )
    results = {}
    for side in ("full", "lora"):
        command = [sys.executable, __file__, *sys.argv[1:], "--side", side]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{side} failed:\n{done.stderr[-3000:]}")
        r = results[side] = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{side:>5}: {r['parameters']:>10,} parameters, {r['trainable']:>10,} trainable "
            f"({100 * r['trainable'] / r['parameters']:5.1f}%), AdamW state "
            f"{r['optimizer_state_mb']:7.2f} MB, {r['samples_per_s']:6.1f} samples/s, peak "
            f"memory {r['peak_memory_mb']:7.1f} MB ({r['peak_memory_kind']}), valid accuracy "
            f"{r['valid_accuracy']:.3f}"
        )
    full, lora = results["full"], results["lora"]
    print(
        "LoRA / full: trainable parameters "
        f"{lora['trainable'] / full['trainable']:.3f}x, optimizer state "
        f"{lora['optimizer_state_mb'] / full['optimizer_state_mb']:.3f}x, samples/s "
        f"{lora['samples_per_s'] / full['samples_per_s']:.2f}x, peak memory "
        f"{lora['peak_memory_mb'] / max(full['peak_memory_mb'], 1e-9):.2f}x"
    )


if __name__ == "__main__":
    main()
