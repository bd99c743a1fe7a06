"""Parser accuracy on real teacher answers, next to a plain-regex baseline measured here.

Reads the shared sets of real answers when present (default ``../shared/data`` relative to
the repository, or the path given): ``gpt35_zeroshot/*.jsonl.gz`` (gpt-3.5-turbo zero-shot,
hundreds of prompt templates) and ``esnli_palm/`` (PaLM 540B few-shot chain of thought).
Prints, per task and per template: rows, parse rate (a label came out), rationale rate (a
rationale came out; "if given": among the answers that hold more than the answer itself,
i.e. leaving out parse status ``no_rationale``), accuracy against gold where the source has
gold, and the same accuracy for a plain ~20-line regex (:func:`plain_label`).
Rationalization templates (the prompt gives the label away) are flagged and left out of the
task totals.

Targets: accuracy >= the plain baseline on every task; rationale rate ("if given") >= 95%
on every template that asks for a reason (decided from its prompt text by
:func:`zeroshot_distill.tasks.prompts.asks_for_reason`).

    python benchmarks/parser_accuracy.py [DATA_DIR] [--templates] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from zeroshot_distill.tasks.parsing import ParsedAnswer, parse_answer
from zeroshot_distill.tasks.prompts import asks_for_reason, gives_label_away
from zeroshot_distill.tasks.spec import CHOICE_LETTERS, TaskSpec, canonical_number

ROOT = Path(__file__).resolve().parents[1]
TASK_FILES = {"cqa": "commonsense_qa", "svamp": "svamp", "anli1": "nli", "esnli": "nli"}
ESNLI_LABELS = ["entailment", "neutral", "contradiction"]
RATIONALE_TARGET = 0.95


def load_spec(name: str) -> TaskSpec:
    """The project's own task spec from ``conf/base/tasks/<name>.yml``."""
    conf = yaml.safe_load((ROOT / "conf/base/tasks" / f"{name}.yml").read_text())
    return TaskSpec.from_params(next(iter(conf.values())))


# ------------------------------------------------------------------------ plain baseline
def plain_label(spec: TaskSpec, text: str, row: Mapping[str, Any]) -> str | None:
    """What a plain regex reads: the last label word, option or number in the answer."""
    lowered = text.lower()
    if spec.kind == "numeric":
        return canonical_number(text)
    if spec.kind == "multiple_choice":
        letters = re.findall(r"\(([a-e])\)", lowered)
        if letters:
            return letters[-1]
        choices = [str(c).lower() for c in row.get("choices", [])]
        positions = [(lowered.rfind(c), i) for i, c in enumerate(choices) if c and c in lowered]
        return CHOICE_LETTERS[max(positions)[1]] if positions else None
    words = {label: [label, *spec.verbalizers.get(label, [])] for label in spec.labels or []}
    best: tuple[int, str | None] = (-1, None)
    for label, phrases in words.items():
        for phrase in phrases:
            for match in re.finditer(rf"\b{re.escape(phrase)}\b", lowered):
                best = max(best, (match.start(), label), key=lambda item: item[0])
    return best[1]


# --------------------------------------------------------------------------- the sources
def gpt35_rows(data: Path) -> Iterator[dict[str, Any]]:
    """One dict per gpt-3.5 answer: task, template, prompt, row, response, gold."""
    for path in sorted((data / "gpt35_zeroshot").glob("*_train.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                fields = record["fields"]
                row = dict(fields)
                if record["task"] == "cqa":
                    row["choices"] = [fields[f"choice_{x}"] for x in "abcde"]
                gold = record["gold"]
                if gold is not None and record["task"] == "svamp":
                    gold = canonical_number(str(gold))
                yield {
                    "source": "gpt35",
                    "task": record["task"],
                    "template": str(record["template_id"]),
                    "prompt": record["prompt"].replace("\\n", "\n"),
                    "row": row,
                    "response": record["response"],
                    "gold": gold,
                }


def palm_rows(data: Path) -> Iterator[dict[str, Any]]:
    """e-SNLI test answers of PaLM (few-shot CoT) with gold labels."""
    folder = data / "esnli_palm"
    if not folder.is_dir():
        return
    answers: list[str] = []
    for name in ("test_CoT_0.json", "test_CoT_1.json"):
        answers += json.loads((folder / name).read_text())
    with (folder / "esnli_test.json").open() as handle:
        for line, answer in zip(handle, answers, strict=False):
            example = json.loads(line)
            yield {
                "source": "palm",
                "task": "esnli_palm",
                "template": "few-shot CoT",
                "prompt": "Reasonings:",  # the few-shot prompt asks for reasonings
                "row": {"premise": example["premise"], "hypothesis": example["hypothesis"]},
                "response": answer,
                "gold": ESNLI_LABELS[int(example["label"])],
            }


# ------------------------------------------------------------------------------- scoring
class Tally:
    """Counts for one group of answers."""

    def __init__(self) -> None:
        self.rows = self.labelled = self.rationales = self.gold = self.reasonless = 0
        self.correct = self.plain_correct = 0
        self.asks_reason = False
        self.rationalize = False

    def add(self, parsed: ParsedAnswer, plain: str | None, gold: Any) -> None:
        """Count one answer."""
        parsed_label, rationale = parsed.label, parsed.rationale
        self.rows += 1
        # the teacher wrote (almost) nothing but its answer: no reason to find
        self.reasonless += parsed.status == "no_rationale"
        self.labelled += parsed_label is not None
        self.rationales += rationale is not None
        if gold is not None:
            self.gold += 1
            self.correct += parsed_label == gold
            self.plain_correct += plain == gold

    def cells(self) -> list[str]:
        def pct(num: int, den: int) -> str:
            return f"{100 * num / den:5.1f}" if den else "    -"

        return [
            f"{self.rows:6d}",
            pct(self.labelled, self.rows),
            pct(self.rationales, self.rows),
            pct(self.rationales, self.rows - self.reasonless),
            pct(self.correct, self.gold),
            pct(self.plain_correct, self.gold),
            "yes" if self.asks_reason else "no",
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--templates", action="store_true", help="print every template's row")
    parser.add_argument("--limit", type=int, default=0, help="rows per source (0: all)")
    parser.add_argument(
        "--write-fixtures",
        metavar="FILE",
        help="write a small stratified excerpt (JSON lines) for tests/fixtures and stop",
    )
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not (data / "gpt35_zeroshot").is_dir() and not (data / "esnli_palm").is_dir():
        print(f"no shared answer sets under {data}: nothing to measure", file=sys.stderr)
        return 2
    if args.write_fixtures:
        n = write_fixtures(data, Path(args.write_fixtures))
        print(f"wrote {n} rows to {args.write_fixtures}")
        return 0
    specs = {task: load_spec(name) for task, name in TASK_FILES.items()}
    specs["esnli_palm"] = specs["esnli"]
    per_task: dict[str, Tally] = defaultdict(Tally)
    per_template: dict[tuple[str, str], Tally] = defaultdict(Tally)
    reason_templates: dict[str, Tally] = defaultdict(Tally)
    flagged: list[str] = []
    for source in (gpt35_rows(data), palm_rows(data)):
        for n, item in enumerate(source):
            if args.limit and n >= args.limit:
                break
            spec = specs[item["task"]]
            key = (item["task"], item["template"])
            tally = per_template[key]
            tally.asks_reason = asks_for_reason(_template_text(item))
            tally.rationalize = gives_label_away(item["prompt"], spec) is not None
            parsed = parse_answer(spec, item["response"], item["row"])
            plain = plain_label(spec, item["response"], item["row"])
            tally.add(parsed, plain, item["gold"])
            if tally.rationalize:
                if key not in flagged:
                    flagged.append(f"{key[0]} template {key[1]}")
                continue
            per_task[item["task"]].add(parsed, plain, item["gold"])
            if tally.asks_reason:
                reason_templates[item["task"]].add(parsed, plain, item["gold"])

    row_format = "| {:<26} | {} | {:>6} | {:>9} | {:>9} | {:>8} | {:>8} | {:>6} |"
    header = "| {:<26} | {:>6} | {:>6} | {:>9} | {:>9} | {:>8} | {:>8} | {:>6} |".format(
        "task / template",
        "rows",
        "parsed",
        "rationale",
        "if given",
        "accuracy",
        "plain re",
        "reason",
    )
    rule = "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"
    print(header)
    print(rule)
    ok = True
    for task, tally in per_task.items():
        cells = tally.cells()
        print(row_format.format(task, *cells))
        if tally.gold and tally.correct < tally.plain_correct:
            ok = False
        reasons = reason_templates.get(task)
        if reasons and reasons.rows:
            cells = reasons.cells()
            cells[-1] = "yes"
            label = f"{task} (asks reason)"
            print(row_format.format(label, *cells))
    below = [
        (key, t)
        for key, t in per_template.items()
        if t.asks_reason
        and not t.rationalize
        and t.rationales < RATIONALE_TARGET * (t.rows - t.reasonless)
    ]
    worse = [(key, t) for key, t in per_template.items() if t.gold and t.correct < t.plain_correct]
    if args.templates:
        print()
        print(header)
        print(rule)
        for (task, template), tally in sorted(per_template.items()):
            label = f"{task} {template}" + (" (R)" if tally.rationalize else "")
            print(row_format.format(label, *tally.cells()))
    n_reason = sum(t.asks_reason and not t.rationalize for t in per_template.values())
    print(
        f"\ntemplates: {len(per_template)}, asking for a reason: {n_reason}, below "
        f"{RATIONALE_TARGET:.0%} rationale rate: {len(below)}; templates with accuracy below "
        f"the plain regex: {len(worse)}"
    )
    for (task, template), tally in sorted(below, key=lambda kv: kv[1].rationales / kv[1].rows):
        print(
            f"  rationale below target: {task} {template}: {tally.rationales} of "
            f"{tally.rows - tally.reasonless} answers that give a reason"
        )
    for (task, template), tally in worse:
        print(
            f"  below plain regex: {task} {template}: {tally.correct} vs {tally.plain_correct}"
            f" of {tally.gold}"
        )
    if flagged:
        print("rationalization templates (label in the prompt), left out of totals:", flagged)
    ok = ok and not below
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


FIXTURE_ROWS = {"cqa": 48, "svamp": 36, "anli1": 48, "esnli": 48, "esnli_palm": 36}


def write_fixtures(data: Path, path: Path, seed: int = 10) -> int:
    """A stratified excerpt: per task, one row from each of many templates (seeded)."""
    import random

    rng = random.Random(seed)
    by_task: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for item in [*gpt35_rows(data), *palm_rows(data)]:
        by_task[item["task"]][item["template"]].append(item)
    chosen: list[dict[str, Any]] = []
    for task, templates in sorted(by_task.items()):
        want = FIXTURE_ROWS.get(task, 0)
        names = sorted(templates)
        rng.shuffle(names)
        picked: list[dict[str, Any]] = []
        while len(picked) < want and any(templates[n] for n in names):
            for name in names:
                if templates[name] and len(picked) < want:
                    rows = templates[name]
                    picked.append(rows.pop(rng.randrange(len(rows))))
        chosen += picked
    with path.open("w", encoding="utf-8") as handle:
        for item in chosen:
            record = {
                "task": item["task"],
                "template": item["template"],
                "asks_reason": asks_for_reason(_template_text(item)),
                "prompt": item["prompt"],
                "row": item["row"],
                "response": item["response"],
                "gold": item["gold"],
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(chosen)


def _template_text(item: Mapping[str, Any]) -> str:
    """The prompt without the example's own text (a question may say "why")."""
    prompt = item["prompt"]
    for value in item["row"].values():
        if isinstance(value, str) and value.strip():
            prompt = prompt.replace(value.strip(), " ")
    return prompt


if __name__ == "__main__":
    raise SystemExit(main())
