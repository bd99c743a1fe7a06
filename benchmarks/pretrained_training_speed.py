"""Training speed of a pretrained 20-150M-parameter student on CPU: the project's trainer
against a plain ``transformers`` Trainer loop of the same model, in the same run.

Rows: e-SNLI premises and hypotheses with PaLM's real rationales (``../shared/data``) when
present, else synthetic NLI rows of the same lengths. Each side trains ``--steps`` steps of
``--batch-size`` examples in its own subprocess (clean thread settings), one after the
other, and reports training examples per second of the training call:

- ``plain``: ``Trainer`` on the labels alone (a decoder-only LM: prompt + label as one
  sequence, loss on the label; an encoder: ``*ForSequenceClassification``), LoRA through
  peft when ``--lora``: the loop a user would write first;
- ``project 1 thread``: ``train_student`` labels only with ``num_threads: 1`` (the demo's
  setting that a pretrained student used to inherit from conf/base);
- ``project labels``: ``train_student`` labels only (``alpha: 1``), ``auto`` settings;
- ``project step-by-step``: labels and every rationale (``alpha: 0.5``), ``auto`` settings;
- ``project step-by-step bf16``: the same under bf16 autocast.

    python benchmarks/pretrained_training_speed.py MODEL_DIR [--lora] [--steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["entailment", "neutral", "contradiction"]
TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": LABELS,
}
LORA = {"method": "lora", "r": 16, "lora_alpha": 32, "target_modules": "all-linear"}
SIDES = {
    "plain": {},
    "project 1 thread": {"alpha": 1.0, "num_threads": 1},
    "project labels": {"alpha": 1.0},
    "project step-by-step": {"alpha": 0.5},
    "project step-by-step bf16": {"alpha": 0.5, "precision": "bf16"},
}


def rows(n: int, data: Path) -> list[dict[str, Any]]:
    """``n`` NLI rows with a teacher label and rationale (real when the data is there)."""
    import re

    folder = data / "esnli_palm"
    out: list[dict[str, Any]] = []
    if (folder / "esnli_test.json").is_file():
        gold = [json.loads(x) for x in (folder / "esnli_test.json").read_text().splitlines()]
        answers = json.loads((folder / "test_CoT_0.json").read_text())
        for i, (g, a) in enumerate(zip(gold, answers, strict=False)):
            m = re.search(r"Answer:\s*(entailment|neutral|contradiction)", a)
            if m:
                out.append(
                    {
                        "id": f"r{i}",
                        "premise": g["premise"],
                        "hypothesis": g["hypothesis"],
                        "label": m.group(1),
                        "rationale_target": a.split("\nAnswer:")[0].strip(),
                    }
                )
            if len(out) == n:
                return out
    words = ["a", "man", "woman", "child", "dog", "is", "walking", "running", "in", "the"]
    words += ["park", "near", "a", "lake", "with", "friends"]
    for i in range(n - len(out)):
        out.append(
            {
                "id": f"s{i}",
                "premise": " ".join(words[(i + k) % len(words)] for k in range(14 + i % 20)),
                "hypothesis": " ".join(words[(i * 3 + k) % len(words)] for k in range(7)),
                "label": LABELS[i % 3],
                "rationale_target": " ".join(words[k % len(words)] for k in range(12 + i % 18)),
            }
        )
    return out


def run_project(args: argparse.Namespace, side: dict[str, Any]) -> float:
    from zeroshot_distill.students import TrainingConfig, train_student
    from zeroshot_distill.students.adapters import load_student_for_training
    from zeroshot_distill.tasks.spec import TaskSpec

    spec = TaskSpec.from_params(TASK)
    train = rows(args.steps * args.batch_size, args.data)
    for r in train:
        r["input"], r["label_target"] = spec.student_input(r), r["label"]
    config = TrainingConfig.from_params(
        {
            "student": {"name_or_path": str(args.model_dir)},
            "max_steps": args.steps,
            "batch_size": args.batch_size,
            "early_stopping_patience": None,
            "max_rationale_length": 512,
            "progress_bar": False,
            "peft": LORA if args.lora else None,
            **side,
        }
    )
    student = load_student_for_training(config.student, config.peft, seed=0, labels=LABELS)
    result = train_student(student, train, train[:4], spec, config, seed=0)
    return float(result.summary["train_samples_per_s"])


def run_plain(args: argparse.Namespace) -> float:
    """The first loop a user writes: Trainer, labels only, default settings."""
    import tempfile

    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from zeroshot_distill.students.data import pad

    train = rows(args.steps * args.batch_size, args.data)
    tok = AutoTokenizer.from_pretrained(args.model_dir)
    config = json.loads((args.model_dir / "config.json").read_text())
    causal = any(a.endswith("ForCausalLM") for a in config.get("architectures") or [])
    text = [f"premise: {r['premise']} hypothesis: {r['hypothesis']}" for r in train]
    if causal:
        model = AutoModelForCausalLM.from_pretrained(args.model_dir)
        features = []
        for t, r in zip(text, train, strict=True):
            prompt = tok.apply_chat_template(
                [{"role": "user", "content": "predict: " + t}],
                tokenize=True,
                add_generation_prompt=True,
            )
            prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
            target = tok(r["label"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            features.append({"input_ids": prompt + target, "labels": [-100] * len(prompt) + target})

        def collate(batch: list[dict]) -> dict:
            ids = pad([f["input_ids"] for f in batch], tok.pad_token_id or 0)
            return {
                "input_ids": ids,
                "attention_mask": pad([[1] * len(f["input_ids"]) for f in batch], 0),
                "labels": pad([f["labels"] for f in batch], -100),
            }
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            args.model_dir, num_labels=len(LABELS)
        )
        enc = tok(text)
        features = [
            {"input_ids": i, "attention_mask": m, "labels": LABELS.index(r["label"])}
            for i, m, r in zip(enc["input_ids"], enc["attention_mask"], train, strict=True)
        ]
        collate = DataCollatorWithPadding(tok)
    if args.lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"),
        )
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                output_dir=scratch,
                use_cpu=not torch.cuda.is_available(),
                per_device_train_batch_size=args.batch_size,
                max_steps=args.steps,
                learning_rate=2e-4 if args.lora else 5e-5,
                save_strategy="no",
                report_to="none",
                disable_tqdm=True,
                remove_unused_columns=False,
            ),
            train_dataset=features,
            data_collator=collate,
        )
        started = time.perf_counter()
        trainer.train()
        return args.steps * args.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--lora", action="store_true", help="LoRA r 16 on all linear layers")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sides", nargs="+", choices=list(SIDES), default=list(SIDES))
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.model_dir = args.model_dir.resolve()
    if args.side:  # child process: one side, one JSON line
        rate = run_plain(args) if args.side == "plain" else run_project(args, SIDES[args.side])
        print(json.dumps({"samples_per_s": rate}))
        return
    results: dict[str, float] = {}
    for side in args.sides:
        command = [sys.executable, __file__, str(args.model_dir), "--side", side]
        command += ["--steps", str(args.steps), "--batch-size", str(args.batch_size)]
        command += ["--data", str(args.data)] + (["--lora"] if args.lora else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
        if done.returncode != 0 or not lines:
            raise SystemExit(f"side {side!r} failed:\n{done.stderr[-3000:]}")
        results[side] = json.loads(lines[-1])["samples_per_s"]
        print(f"{side:>28}: {results[side]:6.2f} samples/s", flush=True)
    plain = results.get("plain")
    print()
    print(f"| {args.model_dir.name}{' + LoRA' if args.lora else ''} | samples/s | vs plain |")
    print("|---|---:|---:|")
    for side, rate in results.items():
        ratio = f"{rate / plain:.2f}x" if plain else "n/a"
        print(f"| {side} | {rate:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
