"""Label scoring of a decoder-only student: the prompt's key/value cache shared by the
candidates vs every candidate's prompt recomputed.

The same rows and candidates are scored twice, with the same batch size and threads:

- **cached** (the project's :func:`zeroshot_distill.students.label_log_probs`): each prompt
  runs once (logits only at its last position), its cache is repeated for the candidates,
  whose tokens then go through the model together;
- **naive** (the baseline, measured in the same run): ``prompt + candidate`` for every row x
  candidate in one padded forward pass with logits only at the target positions, i.e. the
  prompt recomputed once per candidate.

Both give the same scores (checked here). Each mode runs ``--repeats`` times after a warm-up;
the best run counts. The ratio printed is cached examples/s over naive examples/s: it grows
with the number of candidates and with the prompt's share of the sequence.

    python benchmarks/causal_label_scoring.py                    # ~1 min on 2 CPU cores
    python benchmarks/causal_label_scoring.py --task cqa --hidden 256 --layers 4
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    "sentiment": ("sentiment_sample.jsonl", "text_classification"),
    "nli": ("nli_sample.jsonl", "nli"),
    "cqa": ("cqa_sample.jsonl", "commonsense_qa"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="nli")
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import torch
    import yaml

    from zeroshot_distill.students import label_log_probs, load_student
    from zeroshot_distill.students.causal_lm import pad_prompts, prompt_ids, target_logits
    from zeroshot_distill.students.data import IGNORE_INDEX, encode_targets, pad
    from zeroshot_distill.tasks.spec import TaskSpec

    torch.set_num_threads(args.threads)
    raw_file, task_name = TASKS[args.task]
    (task,) = yaml.safe_load((ROOT / "conf/base/tasks" / f"{task_name}.yml").read_text()).values()
    spec = TaskSpec.from_params(task)
    rows = pd.read_json(ROOT / "data/01_raw" / raw_file, lines=True).head(args.rows)
    student = load_student(
        {
            "architecture": {
                "model_type": "qwen2",
                "hidden_size": args.hidden,
                "intermediate_size": 4 * args.hidden,
                "num_hidden_layers": args.layers,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "max_position_embeddings": 4096,
            }
        },
        seed=0,
    )
    model, tokenizer = student.model.eval(), student.tokenizer
    labels = spec.label_set or []
    records = rows.to_dict("records")

    def cached() -> np.ndarray:
        return label_log_probs(model, tokenizer, spec, records, args.batch_size)

    @torch.inference_mode()
    def naive() -> np.ndarray:
        prompts = prompt_ids(tokenizer, ["predict: " + spec.student_input(r) for r in records], 512)
        scores = np.zeros((len(records), len(labels)))
        for start in range(0, len(records), args.batch_size):
            idx = list(range(start, min(start + args.batch_size, len(records))))
            targets = encode_targets(
                tokenizer, [spec.label_target(label, records[i]) for i in idx for label in labels]
            )
            ids, mask = pad_prompts(
                [prompts[i] for i in idx for _ in labels], tokenizer.pad_token_id
            )
            target_ids = pad(targets, IGNORE_INDEX)
            logits = target_logits(model, ids, mask, target_ids, tokenizer.pad_token_id)
            logp = -torch.nn.functional.cross_entropy(
                logits.float().transpose(1, 2),
                target_ids,
                ignore_index=IGNORE_INDEX,
                reduction="none",
            )
            scores[idx] = logp.sum(1).view(len(idx), len(labels)).numpy()
        return scores

    def best_seconds(run) -> tuple[float, np.ndarray]:
        out = run()  # warm-up
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - began)
        return min(times), out

    cached_s, cached_scores = best_seconds(cached)
    naive_s, naive_scores = best_seconds(naive)
    np.testing.assert_allclose(cached_scores, naive_scores, rtol=1e-3, atol=1e-3)
    result = {
        "task": args.task,
        "rows": len(records),
        "candidates": len(labels),
        "parameters": student.num_parameters,
        "threads": args.threads,
        "cached_examples_per_s": round(len(records) / cached_s, 1),
        "naive_examples_per_s": round(len(records) / naive_s, 1),
        "ratio_cached_over_naive": round(naive_s / cached_s, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
