"""The model card of a saved student: ``README.md`` in the Hugging Face model-card format.

YAML front matter (``huggingface_hub.ModelCardData``: licence where known, base model,
library, pipeline tag, tags, and the test accuracy as ``model-index``) and a body that says
what the student does, who taught it, on how much data, how good it is next to the teacher
and the baselines, and how to load and serve it.

The card is written twice: by the ``student_model`` dataset when training saves the student
(:func:`student_model_card` with the training summary alone: task, sizes, explanation rate)
and by the evaluation, which completes it with the teacher, the labels and the accuracies
(:func:`student_model_card` with the evaluation summary).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from zeroshot_distill.reporting.markdown import (
    finite_or_none,
    fmt_num,
    fmt_pct,
    inline_code,
    markdown_table,
)

CARD_FILE = "README.md"
_PIPELINE_TAGS = {
    "seq2seq": "text2text-generation",
    "causal_lm": "text-generation",
    "classifier": "text-classification",
}
_SIMULATED = "simulated teacher — a test double"


@dataclass(frozen=True)
class StudentCard:
    """A card for the saved student in ``directory`` (``None``: the student's folder is not
    known, nothing is written), and where to push that folder when asked
    (``evaluation.model_card.push_to_hub``)."""

    directory: str | None
    text: str
    push_to_hub: Mapping[str, Any] = field(default_factory=dict)


def _is_hub_id(source: Any) -> bool:
    """``google/flan-t5-base`` yes; a random-init student or a local folder no."""
    text = str(source or "")
    return text.count("/") == 1 and not text.startswith((".", "/", "~")) and not Path(text).exists()


def _explanation_rate(info: Mapping[str, Any]) -> float | None:
    n_train = finite_or_none(info.get("n_train"))
    kept = finite_or_none(info.get("n_train_with_rationale"))
    return kept / n_train if n_train and kept is not None else None


def card_metadata(
    info: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None = None,
    license: str | None = None,
) -> ModelCardData:
    """The front matter: licence, base model, library, pipeline tag, tags, test accuracy."""
    run = (evaluation or {}).get("run") or {}
    student = (evaluation or {}).get("student") or {}
    task = run.get("task") or info.get("task") or "task"
    tags = ["zeroshot-distill", "distillation", "distilling-step-by-step", str(task)]
    if run.get("task_kind"):
        tags.append(str(run["task_kind"]))
    if run.get("teacher_simulated"):
        tags.append("simulated-teacher")
    accuracy = finite_or_none(student.get("accuracy"))
    results = (
        [
            EvalResult(
                task_type="text-classification" if run.get("labels") else "text-generation",
                dataset_type=str(task),
                dataset_name=f"{task} ({run.get('split', 'test')} split)",
                dataset_split=str(run.get("split", "test")),
                metric_type="accuracy",
                metric_value=round(accuracy, 4),
            )
        ]
        if accuracy is not None
        else None
    )
    source = info.get("source")
    return ModelCardData(
        license=license or None,
        base_model=str(source) if _is_hub_id(source) else None,
        library_name="transformers",
        pipeline_tag=_PIPELINE_TAGS.get(str(info.get("family")), "text2text-generation"),
        tags=tags,
        metrics=["accuracy"],
        model_name=f"{task} student distilled with zeroshot-distill",
        eval_results=results,
    )


def _training_section(info: Mapping[str, Any]) -> list[str]:
    rate = _explanation_rate(info)
    rows = [
        ["base model", inline_code(info.get("source") or "random initialisation")],
        ["family", info.get("family") or "?"],
        ["parameters", fmt_num(info.get("num_parameters") or info.get("parameters"))],
        ["training rows", fmt_num(info.get("n_train"))],
        ["of them with a teacher rationale", fmt_num(info.get("n_train_with_rationale"))],
        ["explanation rate", fmt_pct(rate)],
        ["validation rows (model selection)", fmt_num(info.get("n_valid"))],
        ["loss weight of the label (alpha)", fmt_num(info.get("alpha"), 2)],
        ["best validation accuracy", fmt_pct(info.get("best_valid_accuracy"))],
        ["training time", f"{fmt_num(finite_or_none(info.get('wall_time_s')), 0)} s"],
    ]
    return ["## Training", "", markdown_table(["", ""], rows), ""]


def _evaluation_section(evaluation: Mapping[str, Any] | None) -> list[str]:
    if not evaluation:
        return [
            "## Evaluation",
            "",
            "Not evaluated yet: the evaluation stage (`kedro run --pipelines evaluation`) "
            "completes this card with the test accuracy next to the teacher and the baselines.",
            "",
        ]
    run = evaluation.get("run") or {}
    student = evaluation.get("student") or {}
    teacher = evaluation.get("teacher") or {}
    paired = evaluation.get("student_on_teacher_rows") or {}
    base = evaluation.get("baselines") or {}
    rows = [
        [f"student, all {fmt_num(student.get('n'))} test rows", fmt_pct(student.get("accuracy"))]
    ]
    if teacher:
        rows += [
            [
                f"student, the {fmt_num(teacher.get('n'))} rows the teacher answered",
                fmt_pct(paired.get("accuracy")),
            ],
            [f"teacher ({run.get('teacher_model')}), same rows", fmt_pct(teacher.get("accuracy"))],
        ]
    if base:
        rows += [
            [
                f"majority-class baseline (always `{base.get('majority_label')}`)",
                fmt_pct(base.get("majority")),
            ],
            ["chance", fmt_pct(base.get("chance"))],
        ]
    lines = [
        "## Evaluation",
        "",
        f"Accuracy on the held-out {run.get('split', 'test')} split "
        f"(evaluated {run.get('generated_at', '')}):",
        "",
        markdown_table(["", "accuracy"], rows),
        "",
    ]
    if base:
        lines += [
            "The student **beat** the majority-class baseline."
            if base.get("beats_majority")
            else "The student did **NOT** beat the majority-class baseline: it has not learned "
            "the task from this data and should not be used.",
            "",
        ]
    paid_off = evaluation.get("break_even") or {}
    if paid_off.get("predictions") is not None:
        lines += [
            f"It pays for its distillation after {fmt_num(paid_off['predictions'])} "
            "predictions (see the run's report).",
            "",
        ]
    return lines


def _usage_section(directory: str | None, task: Mapping[str, Any] | None) -> list[str]:
    fields = list((task or {}).get("input_fields") or ["text"])
    request = json.dumps({"dataframe_records": [dict.fromkeys(fields, "...")]})
    folder = directory or "<this folder>"
    return [
        "## How to use",
        "",
        "With the zeroshot-distill project installed:",
        "",
        "```python",
        "from zeroshot_distill.students.model import load_saved_student",
        "",
        f'student = load_saved_student("{folder}")  # model, tokenizer, training info',
        "```",
        "",
        "Labels with probabilities over HTTP (MLflow's scoring server, port 5001):",
        "",
        "```bash",
        f"make serve STUDENT={folder}",
        "curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\",
        f"  -d '{request}'",
        "```",
        "",
        "`kedro run --pipelines=predict` labels a whole file with it.",
        "",
    ]


def student_model_card(
    info: Mapping[str, Any],
    *,
    evaluation: Mapping[str, Any] | None = None,
    task: Mapping[str, Any] | None = None,
    directory: str | None = None,
    license: str | None = None,
) -> str:
    """The card's text. ``info``: the student's training summary (``training_info.json``);
    (or the evaluation's description of the student, ``metrics.student_model``, which holds
    the same keys); ``evaluation``: the evaluation summary (``metrics``) once there is one;
    ``task``: the task
    parameters (input fields for the usage example); ``license``: the student's licence."""
    run = (evaluation or {}).get("run") or {}
    name = run.get("task") or info.get("task") or "task"
    labels = run.get("labels") or (task or {}).get("labels")
    description = run.get("task_description") or (task or {}).get("description")
    teacher = run.get("teacher_model")
    simulated = bool(run.get("teacher_simulated"))
    lines = [
        f"# {name} student (zeroshot-distill)",
        "",
        "A small student distilled from a teacher LLM with zeroshot-distill: the teacher "
        "labelled and explained the training data with an optimized zero-shot prompt, and "
        "the student learned labels and rationales at once (distilling step-by-step).",
        "",
    ]
    if simulated:
        lines += [
            f"> **The teacher was simulated ({_SIMULATED})**: its labels and rationales came "
            "from the bundled reference answers. This student says nothing about a real "
            "LLM teacher.",
            "",
        ]
    lines += ["## Task", "", f"`{name}`" + (f": {description.strip()}" if description else "")]
    if labels:
        lines += ["", "Labels: " + ", ".join(inline_code(label) for label in labels) + "."]
    lines += [""]
    lines += [
        "## Teacher",
        "",
        (
            f"{inline_code(teacher)} (backend {inline_code(run.get('teacher_backend'))})"
            + (f" — {_SIMULATED}" if simulated else "")
            if teacher
            else "Recorded by the evaluation stage (not run on this student yet)."
        ),
        "",
    ]
    lines += _training_section(info)
    lines += _evaluation_section(evaluation)
    lines += _usage_section(directory, task)
    metadata = card_metadata(info, evaluation, license)
    return str(ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n".join(lines)))
