"""Annotation throughput against a local OpenAI-compatible stub server with fixed latency.

Runs the annotation library (plan -> teacher through cache and ledger -> parsing) over
synthetic NLI rows with the ``openai`` backend, the stub server in a child process:

1. N rows (default 2,000) at concurrency C (default 32), latency L (default 200 ms):
   achieved req/s vs the ideal C / L (after a short, unmeasured warm-up that imports the
   client and opens the connections);
2. a sequential run (concurrency 1) on a slice, to compare against;
3. the same N rows again: every answer comes from the response cache (rows/s);
4. peak RSS of this process;
5. with ``--big``: a 50,000-row run in a fresh process (lower latency keeps it short) and
   its peak RSS.

Targets: >= 0.9x ideal, >= 25x sequential, cached rerun >= 2,000 rows/s, 50k rows < 1.5 GB.

    .venv/bin/python benchmarks/annotation_throughput.py [--rows 2000] [--big]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_distill import annotation
from zeroshot_distill.teachers.ledger import run_budget
from zeroshot_distill.testing.stub_server import StubServerProcess

TASK: dict[str, Any] = {
    "name": "nli",
    "kind": "classification",
    "description": "Natural language inference.",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
KEY_ENV = "ZD_BENCH_KEY"


def examples(n: int, offset: int = 0) -> pd.DataFrame:
    """``n`` synthetic NLI rows, all in the train split."""
    return pd.DataFrame(
        {
            "id": [f"b{offset + i}" for i in range(n)],
            "split": "train",
            "premise": [f"Row {offset + i}: a man plays a guitar on a stage." for i in range(n)],
            "hypothesis": [f"Someone makes music ({offset + i})." for i in range(n)],
            "gold_label": "entailment",
            "reference_rationale": None,
        }
    )


def teacher(base_url: str, cache: Path, concurrency: int) -> dict[str, Any]:
    """An ``openai`` teacher block against the stub."""
    return {
        "backend": "openai",
        "model": "gpt-4o-mini",
        "base_url": base_url,
        "api_key_env": KEY_ENV,
        "credentials": None,
        "concurrency": concurrency,
        "timeout_s": 30,
        "max_retries": 2,
        "max_tokens": 64,
        "prices": {"gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.60}},
        "cache": {"mode": "read_write", "path": str(cache)},
    }


def annotate(rows: pd.DataFrame, config: dict[str, Any]) -> tuple[float, pd.DataFrame]:
    """Plan + annotate ``rows``; seconds taken by the teacher-and-parse step."""
    params = {"progress": False, "splits": ["train"]}
    prompt = annotation.select_template(rows, TASK, params, None, 0)
    plan = annotation.plan_annotation(rows, TASK, params, prompt, 0)
    run_budget().reset()
    started = time.perf_counter()
    annotations, _ = annotation.annotate_examples(plan, rows, TASK, config, params, prompt)
    return time.perf_counter() - started, annotations


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux: ru_maxrss is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_run(rows: int, latency: float, concurrency: int) -> dict[str, float]:
    """The 50k-row run (called in a fresh process by ``--big``)."""
    with tempfile.TemporaryDirectory() as tmp, StubServerProcess(latency_s=latency) as server:
        config = teacher(server.base_url, Path(tmp) / "cache.sqlite", concurrency)
        seconds, annotations = annotate(examples(rows), config)
        assert len(annotations) == rows
        return {"rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential-rows", type=int, default=40)
    parser.add_argument("--big", action="store_true", help="also run 50,000 rows")
    parser.add_argument("--big-rows", type=int, default=50_000)
    parser.add_argument("--big-latency", type=float, default=0.02)
    parser.add_argument("--big-concurrency", type=int, default=64)
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "sk-bench-not-a-real-key")
    logging.basicConfig(level=logging.WARNING)

    if args._worker:
        print(json.dumps(big_run(args.big_rows, args.big_latency, args.big_concurrency)))
        return

    ideal = args.concurrency / args.latency
    with tempfile.TemporaryDirectory() as tmp, StubServerProcess(latency_s=args.latency) as server:
        cache = Path(tmp) / "cache.sqlite"
        # Warm-up (imports, server threads), not measured: 2 rounds of distinct rows.
        warm = 2 * args.concurrency
        annotate(
            examples(warm, offset=2 * 10**6),
            teacher(server.base_url, Path(tmp) / "warm.sqlite", args.concurrency),
        )
        seconds, annotations = annotate(
            examples(args.rows), teacher(server.base_url, cache, args.concurrency)
        )
        achieved = args.rows / seconds
        sent = server.stats()["n_chat"] - warm

        seq_seconds, _ = annotate(
            examples(args.sequential_rows, offset=10**6),
            teacher(server.base_url, Path(tmp) / "seq.sqlite", 1),
        )
        sequential = args.sequential_rows / seq_seconds

        cached_seconds, again = annotate(
            examples(args.rows), teacher(server.base_url, cache, args.concurrency)
        )
        resent = server.stats()["n_chat"] - warm - sent - args.sequential_rows
        cached_rate = args.rows / cached_seconds

    print(
        f"rows: {args.rows}, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
    )
    print(
        f"achieved: {achieved:.1f} req/s  ideal: {ideal:.1f} req/s  "
        f"ratio: {achieved / ideal:.2f}x (target >= 0.9x)"
    )
    print(
        f"sequential: {sequential:.2f} req/s  speed-up: {achieved / sequential:.1f}x "
        "(target >= 25x)"
    )
    print(
        f"cached rerun: {cached_rate:.0f} rows/s, {int(again['cached'].sum())}/{args.rows} "
        f"from cache, {resent} re-sent (target >= 2000 rows/s, 0 re-sent)"
    )
    print(f"statuses: {annotations['parse_status'].value_counts().to_dict()}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")

    if args.big:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--_worker",
                "--big-rows",
                str(args.big_rows),
                "--big-latency",
                str(args.big_latency),
                "--big-concurrency",
                str(args.big_concurrency),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        big = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{big['rows']:,} rows ({args.big_latency * 1000:.0f} ms latency, concurrency "
            f"{args.big_concurrency}): {big['seconds']:.0f} s, "
            f"{big['rows'] / big['seconds']:.0f} rows/s, peak RSS {big['peak_rss_mb']:.0f} MB "
            "(target < 1536 MB)"
        )


if __name__ == "__main__":
    main()
