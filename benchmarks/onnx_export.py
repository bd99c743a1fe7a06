"""ONNX export of the student vs PyTorch: size, latency, throughput, label agreement.

Two students, each measured against its own PyTorch model in the same process, with the
same rows, batch size and threads:

- **demo**: the latest ``student_model`` of this project (``make run``), or ``--student DIR``;
- **t5-small-sized**: a random T5 built from a config (d_model 512, 6+6 layers, 8 heads,
  d_ff 2048, ByT5 tokenizer: ~60M parameters with the byte vocabulary), ``--skip-large``
  leaves it out.

Rows: the test split of the latest ``examples`` (``make run``'s sentiment task), read by
label scoring as ``evaluation`` does. For each runtime (PyTorch, ONNX fp32, ONNX int8):
size on disk (safetensors vs ``.onnx``), single-row latency p50/p95 (``--latency-rows``
calls after a warm-up), batch throughput (all rows, ``--batch-size``; best of
``--repeats``), label agreement with PyTorch and accuracy against the gold labels. Ratios
are ONNX over PyTorch (throughput: higher is better; latency and size: lower is better).

    python benchmarks/onnx_export.py                     # ~5 min on 2 busy CPU cores
    python benchmarks/onnx_export.py --skip-large --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
T5_SMALL = {
    "d_model": 512,
    "d_ff": 2048,
    "d_kv": 64,
    "num_heads": 8,
    "num_layers": 6,
    "num_decoder_layers": 6,
    "dropout_rate": 0.0,
}


def latest(pattern: str) -> Path | None:
    """The newest Kedro version matching ``pattern`` under the project root."""
    found = sorted(ROOT.glob(pattern))
    return found[-1] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path, default=None, help="a saved student directory")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--latency-rows", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's default")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import torch
    import yaml

    from zeroshot_distill.students import load_student, read_labels
    from zeroshot_distill.students.model import load_saved_student, save_student
    from zeroshot_distill.students.onnx_export import (
        FP32_FILE,
        INT8_FILE,
        OnnxStudent,
        export_student,
    )
    from zeroshot_distill.tasks.spec import TaskSpec

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    (task,) = yaml.safe_load(
        (ROOT / "conf/base/tasks/text_classification.yml").read_text()
    ).values()
    spec = TaskSpec.from_params(task)
    examples_file = latest("data/02_intermediate/examples.parquet/*/examples.parquet")
    if examples_file is not None:
        examples = pd.read_parquet(examples_file)
        rows = examples[examples["split"] == "test"].reset_index(drop=True)
        source = f"test split of {examples_file.relative_to(ROOT)}"
    else:  # no `make run` yet: the bundled sample's last rows
        rows = pd.read_json(ROOT / "data/01_raw/sentiment_sample.jsonl", lines=True).tail(180)
        rows = rows.rename(columns={"label": "gold_label"}).reset_index(drop=True)
        source = "last 180 rows of data/01_raw/sentiment_sample.jsonl"
    records = rows.to_dict("records")
    gold = rows["gold_label"].astype(str).tolist()

    students = []
    demo_dir = args.student or latest("data/06_models/student_model/*/student_model")
    if demo_dir is not None:
        students.append(("demo", load_saved_student(demo_dir)))
    if not args.skip_large:
        students.append(("t5-small-sized", load_student({"architecture": T5_SMALL}, seed=0)))

    def timed(read, rows_: list) -> tuple[float, list]:
        read(rows_[:1])  # warm-up
        best, labels = float("inf"), []
        for _ in range(args.repeats):
            began = time.perf_counter()
            labels = read(rows_)
            best = min(best, time.perf_counter() - began)
        return len(rows_) / best, labels

    def latency(read, rows_: list) -> tuple[float, float]:
        read(rows_[:1])
        seconds = []
        for row in rows_[: args.latency_rows]:
            began = time.perf_counter()
            read([row])
            seconds.append(time.perf_counter() - began)
        ms = np.asarray(seconds) * 1000
        return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))

    def dir_mb(path: Path, names: tuple[str, ...]) -> float:
        return sum((path / n).stat().st_size for n in names if (path / n).exists()) / 1e6

    results = []
    for name, student in students:
        with tempfile.TemporaryDirectory() as tmp:
            torch_dir, onnx_dir = Path(tmp, "torch"), Path(tmp, "onnx")
            save_student(student, torch_dir)
            began = time.perf_counter()
            export_student(student).save(onnx_dir)
            export_s = time.perf_counter() - began
            prefix = student.prefixes["predict"]
            runtimes = {
                "torch": (student.model.eval(), student.tokenizer),
                "onnx fp32": (OnnxStudent(onnx_dir, "fp32", threads),) * 2,
                "onnx int8": (OnnxStudent(onnx_dir, "int8", threads),) * 2,
            }
            sizes = {
                "torch": dir_mb(torch_dir, ("model.safetensors",)),
                "onnx fp32": dir_mb(onnx_dir, (FP32_FILE,)),
                "onnx int8": dir_mb(onnx_dir, (INT8_FILE,)),
            }
            measured = {}
            for runtime, (model, tokenizer) in runtimes.items():
                tokenizer = student.tokenizer if runtime == "torch" else model.tokenizer

                def read(rows_, model=model, tokenizer=tokenizer, prefix=prefix):
                    return read_labels(
                        model, tokenizer, spec, rows_, args.batch_size, prefix=prefix
                    ).labels

                rate, labels = timed(read, records)
                p50, p95 = latency(read, records)
                measured[runtime] = {"rate": rate, "labels": labels, "p50": p50, "p95": p95}
            base = measured["torch"]

            def share_equal(a: list, b: list) -> float:
                return float(np.mean([x == y for x, y in zip(a, b, strict=True)]))

            base_accuracy = share_equal(base["labels"], gold)
            for runtime, m in measured.items():
                agree = share_equal(m["labels"], base["labels"])
                accuracy = share_equal(m["labels"], gold)
                results.append(
                    {
                        "student": name,
                        "parameters": student.num_parameters,
                        "runtime": runtime,
                        "size_mb": round(sizes[runtime], 2),
                        "size_ratio": round(sizes[runtime] / sizes["torch"], 2),
                        "latency_p50_ms": round(m["p50"], 1),
                        "latency_p95_ms": round(m["p95"], 1),
                        "p50_ratio": round(m["p50"] / base["p50"], 2),
                        "rows_per_s": round(m["rate"], 1),
                        "throughput_ratio": round(m["rate"] / base["rate"], 2),
                        "agreement_with_torch": round(agree, 4),
                        "accuracy": round(accuracy, 4),
                        "accuracy_delta_pts": round(100 * (accuracy - base_accuracy), 2),
                        "export_s": round(export_s, 1),
                    }
                )
    print(f"rows: {len(records)} ({source}); batch {args.batch_size}; {threads} threads")
    header = (
        "| student | runtime | size MB (×) | p50 / p95 ms (p50 ×) | rows/s (×) | agreement |"
        " accuracy (Δ pts) |"
    )
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['student']} | {r['runtime']} | {r['size_mb']} ({r['size_ratio']}×) | "
            f"{r['latency_p50_ms']} / {r['latency_p95_ms']} ({r['p50_ratio']}×) | "
            f"{r['rows_per_s']} ({r['throughput_ratio']}×) | "
            f"{r['agreement_with_torch']:.1%} | {r['accuracy']:.1%} "
            f"({r['accuracy_delta_pts']:+.1f}) |"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
