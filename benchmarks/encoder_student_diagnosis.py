"""Why a pretrained encoder under a random decoder (``family: encoder``) does not learn a
real task: loss parts, gradient norms per parameter group and what the label scorer sees.

Trains the ``encoder`` family (e.g. MiniLM-L6 under a 2-layer BERT decoder from scratch) on
real e-SNLI rows labelled and explained by PaLM (``../shared/data/esnli_palm``; the label is
the answer's first ``Answer: <label>``, the rationale the text before it) with a plain AdamW
loop, and every ``--every`` steps prints: label and rationale loss, validation accuracy on
gold, how many validation rows the scorer gives each label, how much the label probabilities
vary across rows, and the gradient norm of each parameter group (pretrained encoder, the new
decoder's cross-attention, self-attention/FFN, embeddings/LM head). ``--encoder-lr`` and
``--new-lr`` set the two groups' learning rates (one rate: the same value twice).

    python benchmarks/encoder_student_diagnosis.py MODEL_DIR [--steps 90] [--every 15]
        [--encoder-lr 3e-4] [--new-lr 3e-4]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from zeroshot_distill.students.data import MultiTaskCollator, TaskPrefixes, encode_examples
from zeroshot_distill.students.inference import label_probabilities
from zeroshot_distill.students.loss import MultiTaskSeq2Seq
from zeroshot_distill.students.model import StudentConfig, load_student
from zeroshot_distill.tasks.spec import TaskSpec

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["entailment", "neutral", "contradiction"]


def esnli(data: Path) -> list[dict]:
    folder = data / "esnli_palm"
    gold = [json.loads(x) for x in (folder / "esnli_test.json").read_text().splitlines()]
    answers = json.loads((folder / "test_CoT_0.json").read_text())
    answers += json.loads((folder / "test_CoT_1.json").read_text())
    out = []
    for i, (g, a) in enumerate(zip(gold, answers, strict=True)):
        m = re.search(r"Answer:\s*(entailment|neutral|contradiction)", a)
        if m:
            out.append(
                {
                    "id": f"esnli-{i}",
                    "premise": g["premise"],
                    "hypothesis": g["hypothesis"],
                    "gold": LABELS[g["label"]],
                    "teacher": m.group(1),
                    "rationale": a.split("\nAnswer:")[0].strip(),
                }
            )
    return out


def group(name: str) -> str:
    if name.startswith("encoder."):
        return "encoder (pretrained)"
    if "crossattention" in name:
        return "cross-attention (new)"
    if "embeddings" in name or name.startswith("decoder.cls."):
        return "embeddings/LM head (new)"
    return "self-attn/FFN (new)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=90)
    parser.add_argument("--every", type=int, default=15)
    parser.add_argument("--encoder-lr", type=float, default=3e-4)
    parser.add_argument("--new-lr", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    nli = yaml.safe_load((ROOT / "conf/base/tasks/nli.yml").read_text())["_task_nli"]
    spec = TaskSpec.from_params(nli)
    rows = esnli(args.data)
    random.Random(0).shuffle(rows)
    train, valid = rows[:1500], rows[1500:1700]
    student = load_student(StudentConfig(name_or_path=args.model_dir, family="encoder"), seed=0)
    examples, _ = encode_examples(
        student.tokenizer,
        [r["id"] for r in train],
        [spec.student_input(r) for r in train],
        [r["teacher"] for r in train],
        [r["rationale"] for r in train],
        prefixes=TaskPrefixes(),
        max_input_length=128,
        max_label_length=8,
        max_rationale_length=96,
    )
    collate = MultiTaskCollator(pad_token_id=student.tokenizer.pad_token_id)
    view = MultiTaskSeq2Seq(student.model, 0.5)
    named = list(student.model.named_parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for n, p in named if n.startswith("encoder.")], "lr": args.encoder_lr},
            {"params": [p for n, p in named if not n.startswith("encoder.")], "lr": args.new_lr},
        ]
    )
    print(f"learning rates: encoder {args.encoder_lr}, new {args.new_lr}", flush=True)
    order, started = list(range(len(examples))), time.perf_counter()
    rng = random.Random(0)
    for step in range(1, args.steps + 1):
        if (step - 1) % (len(examples) // 16) == 0:
            rng.shuffle(order)
        batch = collate([examples[order[(step * 16 + k) % len(order)]] for k in range(16)])
        out = view(**batch)
        optimizer.zero_grad()
        out.loss.backward()
        norms: dict[str, float] = {}
        for name, param in named:
            if param.grad is not None:
                norms[group(name)] = norms.get(group(name), 0.0) + float(param.grad.norm() ** 2)
        torch.nn.utils.clip_grad_norm_(student.model.parameters(), 1.0)
        optimizer.step()
        if step == 1 or step % args.every == 0:
            probs = label_probabilities(
                student.model, student.tokenizer, spec, valid, 32, max_input_length=128
            )
            predicted = probs.argmax(1)
            acc = float(
                np.mean([LABELS[p] == r["gold"] for p, r in zip(predicted, valid, strict=True)])
            )
            grads = ", ".join(f"{k} {v**0.5:.3f}" for k, v in sorted(norms.items()))
            print(
                f"step {step:3d}: label loss {float(out.label_loss):.3f}, rationale loss "
                f"{float(out.rationale_loss):.3f} | valid acc {acc:.3f}, predicted per label "
                f"{np.bincount(predicted, minlength=3).tolist()}, spread of label "
                f"probabilities across rows {float(probs.std(axis=0).mean()):.4f} | grad norms: "
                f"{grads} | {time.perf_counter() - started:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
