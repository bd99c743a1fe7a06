"""The predict pipeline's rows/s against the examples/s the evaluation report measures.

Same process, same student, same threads, measured alternately (``--repeats`` rounds, best
of each) so that the load of a shared machine hits both alike:

- **report**: the evaluation's protocol (``reporting.speed.timed_reading``: one batched
  pass of label scoring over the test split at ``evaluation.batch_size`` after a warm-up),
  the "examples/s" of the report;
- **predict**: the predict node as ``kedro run --pipelines=predict`` runs it: a JSONL file of
  ``--rows`` rows (the sentiment sample repeated) read in chunks, validated, labelled in
  length-sorted batches and written as Parquet partitions, for ``predict.runtime`` torch
  and onnx (fp32 and int8; the export is made here).

The ratio printed is predict rows/s over the report's examples/s.

    python benchmarks/predict_throughput.py            # after `make run`; ~3 min on 2 cores
    python benchmarks/predict_throughput.py --rows 5000 --repeats 3
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


def latest(pattern: str) -> Path:
    """The newest Kedro version matching ``pattern``; run `make run` first if none."""
    found = sorted(ROOT.glob(pattern))
    if not found:
        raise SystemExit(f"nothing matches {pattern}: run `make run` first")
    return found[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's default")
    args = parser.parse_args()

    import pandas as pd
    import torch
    import yaml
    from kedro.io import Version

    from zeroshot_distill.datasets import PartitionedParquetDataset, TaskFileDataset
    from zeroshot_distill.pipelines.predict.nodes import predict_in_chunks
    from zeroshot_distill.reporting.speed import timed_reading
    from zeroshot_distill.students import read_labels
    from zeroshot_distill.students.model import load_saved_student
    from zeroshot_distill.students.onnx_export import export_student
    from zeroshot_distill.tasks.spec import TaskSpec

    if args.threads:
        torch.set_num_threads(args.threads)
    conf = ROOT / "conf/base"
    (task,) = yaml.safe_load((conf / "tasks/text_classification.yml").read_text()).values()
    predict_params = yaml.safe_load((conf / "parameters_predict.yml").read_text())["predict"]
    processing = yaml.safe_load((conf / "parameters_data_processing.yml").read_text())
    processing = processing["data_processing"]
    eval_batch = yaml.safe_load((conf / "parameters_evaluation.yml").read_text())["evaluation"][
        "batch_size"
    ]
    chunk_size = yaml.safe_load((conf / "catalog_predict.yml").read_text())["prediction_inputs"][
        "chunk_size"
    ]
    spec = TaskSpec.from_params(task)
    student_dir = latest("data/06_models/student_model/*/student_model")
    student = load_saved_student(student_dir)
    examples = pd.read_parquet(latest("data/02_intermediate/examples.parquet/*/examples.parquet"))
    test = examples[examples["split"] == "test"].to_dict("records")
    raw = pd.read_json(ROOT / "data/01_raw/sentiment_sample.jsonl", lines=True)

    def report_rate() -> float:
        def read(rows):
            return read_labels(
                student.model,
                student.tokenizer,
                spec,
                rows,
                eval_batch,
                prefix=student.prefixes["predict"],
            )

        _, speed = timed_reading(read, test, latency_samples=0, batch_size=eval_batch, device="")
        return speed.examples_per_s

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "rows.jsonl")
        repeated = raw.iloc[[i % len(raw) for i in range(args.rows)]].copy()
        repeated["id"] = [f"r{i}" for i in range(args.rows)]
        repeated.to_json(source, orient="records", lines=True)
        export_student(student).save(Path(tmp, "onnx"))
        runs = {
            "predict torch": {"runtime": "torch"},
            "predict onnx fp32": {"runtime": "onnx", "onnx_variant": "fp32"},
            "predict onnx int8": {"runtime": "onnx", "onnx_variant": "int8"},
        }

        def predict_rate(name: str, round_: int) -> float:
            params = {**predict_params, **runs[name], "progress": False}
            chunks = TaskFileDataset(str(source), chunk_size=chunk_size).load()
            began = time.perf_counter()
            stream = predict_in_chunks(student, Path(tmp, "onnx"), chunks, task, processing, params)
            out = Path(tmp, f"out-{name.replace(' ', '-')}")
            PartitionedParquetDataset(filepath=str(out), version=Version(None, str(round_))).save(
                stream
            )
            return stream.rows / (time.perf_counter() - began)

        best: dict[str, float] = {}
        for round_ in range(args.repeats):
            for name, rate in [("report", report_rate())] + [
                (name, predict_rate(name, round_)) for name in runs
            ]:
                best[name] = max(best.get(name, 0.0), rate)

    report = best["report"]
    print(
        f"student {student_dir.relative_to(ROOT)}; {len(test)} test rows (report protocol, "
        f"batch {eval_batch}); predict {args.rows} rows (batch {predict_params['batch_size']}, "
        f"chunks of {chunk_size}); {torch.get_num_threads()} threads; best of {args.repeats}"
    )
    print("| reading | rows/s | × report |")
    print("|---|---:|---:|")
    for name, rate in best.items():
        print(f"| {name} | {rate:,.1f} | {rate / report:.2f}× |")
    print(json.dumps({name: round(rate, 1) for name, rate in best.items()}))


if __name__ == "__main__":
    main()
