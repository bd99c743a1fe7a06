"""How a simulated teacher is shown: the one place for its banner, titles, log notices and
MLflow tag.

The ``simulated`` backend is a test double. Every output it touches says so, in words
decided here; reports, plots, hooks and pipelines ask this module instead of writing their
own "simulated" strings. Stdlib only, so any layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BACKEND = "simulated"
MLFLOW_TAG = "teacher_simulated"

REPORT_BANNER = (
    "⚠️ **SIMULATED TEACHER.** Every teacher figure in this report (teacher accuracy, "
    "agreement, annotation labels and rationales, prompt scores, token counts and USD) comes "
    "from a test double (backend `simulated`) that answers from the bundled reference labels "
    "and rationales. It says nothing about a real LLM; the student was trained on its output. "
    "Run with `--env openai` or `--env local_llm` for a real teacher."
)
REPORT_TITLE_SUFFIX = " (SIMULATED TEACHER)"
PLOT_TITLE_SUFFIX = " (SIMULATED teacher)"

RUN_WARNING = (
    "TEACHER IS SIMULATED: labels and rationales come from the bundled reference answers "
    "through a test double, not from an LLM. Accuracy and cost figures say nothing about a "
    "real teacher. Run with `--env openai` or `--env local_llm` for a real teacher."
)
BACKEND_WARNING = (
    "SIMULATED TEACHER (%s): answers come from the examples' reference labels and "
    "rationales through a test double, not from a language model. Every result is "
    "marked simulated=True."
)
ACTIVE_WARNING = (
    "active_distill: the teacher is SIMULATED (a test double answering from reference "
    "labels): accuracy-vs-spend curves say nothing about a real teacher"
)


def is_simulated(teacher: Mapping[str, Any] | Any | None) -> bool:
    """Whether ``teacher`` (the ``teacher`` parameters or a config with ``backend``) is the
    simulated test double."""
    if teacher is None:
        return False
    if isinstance(teacher, Mapping):
        return teacher.get("backend") == BACKEND
    backend = getattr(teacher, "backend", None)
    return backend == BACKEND


def mlflow_tag(simulated: bool) -> dict[str, str]:
    """The run tag that marks a simulated teacher's run in MLflow (``"true"`` / ``"false"``)."""
    return {MLFLOW_TAG: str(bool(simulated)).lower()}


def model_name(model: str) -> str:
    """The simulated backend's model name: it always says ``simulated``."""
    return model if BACKEND in model else f"{BACKEND}:{model}"


def report_title(title: str, simulated: bool) -> str:
    """A report's title, marked when the teacher was simulated."""
    return title + (REPORT_TITLE_SUFFIX if simulated else "")


def plot_title(title: str, simulated: bool) -> str:
    """A plot's (or log line's) title, marked when the teacher was simulated."""
    return title + (PLOT_TITLE_SUFFIX if simulated else "")


def banner_lines(simulated: bool) -> list[str]:
    """The Markdown banner (a block quote and a blank line) a report opens with, or nothing."""
    return [f"> {REPORT_BANNER}", ""] if simulated else []
