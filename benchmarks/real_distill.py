"""Does a student learn a real task? The project's own pipelines on real teacher answers.

Given a student checkpoint directory (e.g. from ``../shared/tools/pretrained_models.sh``)
and real teacher answers (``../shared/data/esnli_palm``: PaLM 540B few-shot chain of thought
on e-SNLI, with gold; or ``gpt35_zeroshot/cqa_train.jsonl.gz``: gpt-3.5 zero-shot on
CommonsenseQA, with gold), this:

1. writes the rows (a seeded train / valid / test split) as the raw file of a throw-away
   copy of the project;
2. serves the real answers from a local OpenAI-compatible stub server (real HTTP on
   127.0.0.1; each prompt is answered with the recorded answer of the example it shows);
3. runs ``kedro run --env local_server --pipelines=data_processing,annotation`` once (the
   teacher labels and explains train and valid; the parser reads the real answers);
4. for each variant and seed runs ``subsampling,training,evaluation`` with
   ``training.student.name_or_path=<the checkpoint>`` and nothing else about the student
   (its ``auto`` settings), and reads ``metrics.json``:

   - ``step_by_step_1.0``: teacher labels + every rationale (Hsieh et al.);
   - ``step_by_step_0.3``: teacher labels + 30% of the rationales (Vöge et al.);
   - ``standard``: teacher labels only (``subsampling.mode=standard_distill``).

Prints test accuracy on GOLD next to the teacher (on the same test rows, through the same
parser) and the majority class, with training time and samples/s, and the verdicts: does
step-by-step beat standard distillation, what does rate 0.3 keep. Student labels and
rationales never see a gold label; model selection uses the teacher-labelled valid split.

    python benchmarks/real_distill.py MODEL_DIR [--task esnli|cqa] [--train 1500]
        [--valid 300] [--test 1965] [--seeds 0 1] [--variants ...] [--split-seed 0]
        [--params training.num_epochs=2,...] [--conf-local lora.yml] [--work DIR]
        [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.executable).with_name("kedro")
ESNLI_LABELS = ["entailment", "neutral", "contradiction"]
VARIANTS = {
    "step_by_step_1.0": "subsampling.mode=step_by_step,subsampling.explanation_rate=1.0",
    "step_by_step_0.3": "subsampling.mode=step_by_step,subsampling.explanation_rate=0.3",
    "standard": "subsampling.mode=standard_distill",
}

sys.path.insert(0, str(ROOT / "src"))
from zeroshot_distill.testing.stub_server import StubServer, last_user_message  # noqa: E402


# ----------------------------------------------------------------------------- real answers
def esnli_rows(data: Path) -> list[dict[str, Any]]:
    """e-SNLI test rows with gold and PaLM's raw chain-of-thought answer."""
    folder = data / "esnli_palm"
    gold = [json.loads(line) for line in (folder / "esnli_test.json").read_text().splitlines()]
    answers = json.loads((folder / "test_CoT_0.json").read_text())
    answers += json.loads((folder / "test_CoT_1.json").read_text())
    rows, seen = [], set()
    for i, (g, answer) in enumerate(zip(gold, answers, strict=True)):
        key = (g["premise"].strip(), g["hypothesis"].strip())
        if key in seen or not all(key):
            continue  # a duplicate pair could not be told apart in the prompt
        seen.add(key)
        rows.append(
            {
                "id": f"esnli-{i:05d}",
                "premise": key[0],
                "hypothesis": key[1],
                "label": ESNLI_LABELS[int(g["label"])],
                "_answer": answer,
                "_keys": key,
            }
        )
    return rows


def cqa_rows(data: Path) -> list[dict[str, Any]]:
    """CommonsenseQA rows with gold and one gpt-3.5 zero-shot template's raw answers (the
    template that answered the most questions, lowest id on ties)."""
    with gzip.open(data / "gpt35_zeroshot" / "cqa_train.jsonl.gz", "rt") as f:
        records = [json.loads(line) for line in f]
    counts: dict[int, int] = {}
    for r in records:
        counts[r["template_id"]] = counts.get(r["template_id"], 0) + 1
    template = min(counts, key=lambda t: (-counts[t], t))
    rows = []
    for i, r in enumerate(x for x in records if x["template_id"] == template):
        fields = r["fields"]
        rows.append(
            {
                "id": f"cqa-{i:04d}",
                "question": fields["question"].strip(),
                "choices": [fields[f"choice_{c}"] for c in "abcde"],
                "answer": r["gold"],
                "_answer": r["response"],
                "_keys": (fields["question"].strip(),),
            }
        )
    return rows


class Replay:
    """Answers a chat request with the recorded answer of the example its prompt shows."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.unknown = 0
        self._by_prompt: dict[str, str] = {}

    def __call__(self, body: Mapping[str, Any]) -> str:
        prompt = last_user_message(body)
        if prompt not in self._by_prompt:
            hits = [r for r in self.rows if all(k in prompt for k in r["_keys"])]
            # The longest match: a hypothesis can be a substring of another row's.
            best = max(hits, key=lambda r: sum(len(k) for k in r["_keys"]), default=None)
            if best is None:
                self.unknown += 1
            self._by_prompt[prompt] = best["_answer"] if best else "I cannot tell."
        return self._by_prompt[prompt]


# ----------------------------------------------------------------------------- the project
def project_copy(work: Path, raw: list[dict[str, Any]], task: str) -> Path:
    """A throw-away project: conf (no conf/local), empty data layers, the raw rows."""
    if work.exists():
        shutil.rmtree(work)
    (work / "src").mkdir(parents=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, work / name)
    shutil.copytree(ROOT / "conf", work / "conf", ignore=shutil.ignore_patterns("local"))
    (work / "conf" / "local").mkdir()
    for layer in (ROOT / "data").iterdir():
        (work / "data" / layer.name).mkdir(parents=True, exist_ok=True)
    with (work / "data" / "01_raw" / f"{task}_real.jsonl").open("w") as f:
        for row in raw:
            f.write(json.dumps({k: v for k, v in row.items() if not k.startswith("_")}) + "\n")
    return work


def kedro(work: Path, params: str, pipelines: str, log: Path) -> float:
    """``kedro run`` in ``work``; its output goes to ``log``. Returns the wall time."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [str(KEDRO), "run", "--env", "local_server", f"--pipelines={pipelines}"]
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)} --params {params}\n")
        out.flush()
        done = subprocess.run(
            [*command, "--params", params], cwd=work, env=env, stdout=out, stderr=out, check=False
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise SystemExit(f"kedro run failed ({done.returncode}); last lines of {log}:\n{tail}")
    return time.perf_counter() - started


def latest_metrics(work: Path) -> dict[str, Any]:
    folder = work / "data" / "08_reporting" / "metrics.json"
    newest = sorted(p for p in folder.iterdir() if p.is_dir())[-1]
    return json.loads((newest / "metrics.json").read_text())


def split(rows: list[dict[str, Any]], sizes: dict[str, int], seed: int) -> list[dict[str, Any]]:
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    out, start = [], 0
    for name, n in sizes.items():
        for i in order[start : start + n]:
            out.append({**rows[i], "split": name})
        start += n
    if start > len(rows):
        raise SystemExit(f"asked for {start} rows, the source has {len(rows)}")
    return out


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, help="a save_pretrained student checkpoint")
    parser.add_argument("--task", choices=["esnli", "cqa"], default="esnli")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--train", type=int, default=1500)
    parser.add_argument("--valid", type=int, default=300)
    parser.add_argument("--test", type=int, default=1965)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--params", default="", help="more --params for every training run")
    parser.add_argument(
        "--conf-local",
        type=Path,
        help="a parameters YAML for the copy's conf/local (e.g. training.peft for LoRA)",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/real_distill"))
    args = parser.parse_args(argv)
    model_dir = args.model_dir.resolve()
    if not (model_dir / "config.json").is_file():
        raise SystemExit(f"{model_dir} holds no config.json: pass a save_pretrained directory")

    rows = esnli_rows(args.data) if args.task == "esnli" else cqa_rows(args.data)
    raw = split(
        rows, {"train": args.train, "valid": args.valid, "test": args.test}, args.split_seed
    )
    task_name = "nli" if args.task == "esnli" else "commonsense_qa"
    work = project_copy(args.work, raw, args.task)
    if args.conf_local:
        shutil.copy2(args.conf_local, work / "conf" / "local" / "parameters_benchmark.yml")
    log = work / "benchmark.log"
    replay = Replay(raw)
    results = []
    with StubServer(answer_fn=replay) as server:
        base = (
            f"task_name={task_name},raw_file={args.task}_real.jsonl,"
            f"teacher.base_url={server.base_url},teacher.model=recorded-teacher,"
            "subsampling.label_source=teacher,evaluation.teacher_comparison.max_rows=100000,"
            "data_processing.splits.valid_fraction=0,data_processing.splits.test_fraction=0"
        )
        seconds = kedro(work, base, "data_processing,annotation", log)
        print(
            f"{args.task}: {args.train} train / {args.valid} valid / {args.test} test rows "
            f"(split seed {args.split_seed}); annotation replayed in {seconds:.0f} s "
            f"({replay.unknown} prompts matched no example)",
            flush=True,
        )
        for variant in args.variants:
            for seed in args.seeds:
                params = (
                    f"{base},{VARIANTS[variant]},seed={seed},"
                    f"training.student.name_or_path={model_dir}"
                    + (f",{args.params}" if args.params else "")
                )
                seconds = kedro(work, params, "subsampling,training,evaluation", log)
                m = latest_metrics(work)
                model = m.get("student_model") or {}
                results.append(
                    {
                        "variant": variant,
                        "seed": seed,
                        "student": m["student"]["accuracy"],
                        "teacher": (m.get("teacher") or {}).get("accuracy"),
                        "majority": m["baselines"]["majority"],
                        "train_s": model.get("wall_time_s"),
                        "samples_s": model.get("train_samples_per_s"),
                        "run_s": seconds,
                        "with_rationale": model.get("n_train_with_rationale"),
                        "family": model.get("family"),
                    }
                )
                print(_row(results[-1]), flush=True)
    print()
    print(_table(results, model_dir.name))
    print()
    for line in _verdicts(results):
        print(line)


def _row(r: Mapping[str, Any]) -> str:
    return (
        f"{r['variant']:>17} seed {r['seed']}: student {r['student']:.1%} "
        f"(teacher {_pct(r['teacher'])}, majority {r['majority']:.1%}), "
        f"training {r['train_s'] or 0:.0f} s at {r['samples_s'] or 0:.1f} samples/s, "
        f"{r['with_rationale']} rationales, family {r['family']}"
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _table(results: list[dict[str, Any]], model: str) -> str:
    lines = [
        f"| {model} | seed | test accuracy (gold) | teacher | majority | training | samples/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['seed']} | {r['student']:.1%} | {_pct(r['teacher'])} | "
            f"{r['majority']:.1%} | {r['train_s'] or 0:.0f} s | {r['samples_s'] or 0:.1f} |"
        )
    return "\n".join(lines)


def _verdicts(results: list[dict[str, Any]]) -> list[str]:
    mean = {
        v: sum(r["student"] for r in results if r["variant"] == v)
        / max(1, sum(r["variant"] == v for r in results))
        for v in {r["variant"] for r in results}
    }
    lines = ["mean over seeds: " + ", ".join(f"{v} {a:.1%}" for v, a in sorted(mean.items()))]
    if "standard" in mean and "step_by_step_1.0" in mean:
        gap = mean["step_by_step_1.0"] - mean["standard"]
        verdict = "beats" if gap > 0 else "does NOT beat"
        lines.append(
            f"step-by-step (rate 1.0) {verdict} standard distillation: {gap * 100:+.1f} points"
        )
    if {"standard", "step_by_step_1.0", "step_by_step_0.3"} <= set(mean):
        gain = mean["step_by_step_1.0"] - mean["standard"]
        kept = mean["step_by_step_0.3"] - mean["standard"]
        share = f"{kept / gain:.0%} of the gain" if gain > 0 else "no gain to keep"
        lines.append(f"rate 0.3: {kept * 100:+.1f} points over standard ({share})")
    return lines


if __name__ == "__main__":
    main()
