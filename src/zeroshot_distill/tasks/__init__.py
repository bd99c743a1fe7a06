"""Task specifications and answer parsing, shared by every pipeline."""

from zeroshot_distill.tasks.spec import (
    CHOICE_LETTERS,
    TaskSpec,
    TaskSpecError,
    canonical_number,
    format_choices,
)

__all__ = ["CHOICE_LETTERS", "TaskSpec", "TaskSpecError", "canonical_number", "format_choices"]
