"""The annotation contract: the ``annotation`` parameters, the ``annotations`` columns and
the seeded helpers every annotation step shares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zeroshot_distill.tasks.parse_quality import DEFAULT_ALARM_SHARE
from zeroshot_distill.tasks.parsing import DEFAULT_MIN_RATIONALE_WORDS

SPLITS = ("train", "valid", "test")
ANNOTATION_COLUMNS = [
    "id",
    "split",
    "teacher_label",
    "rationale",
    "raw_response",
    "parse_status",
    "prompt_kind",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "saved_usd",
    "latency_s",
    "cached",
    "model",
    "simulated",
    "error",
    "template_id",
]
#: Columns of the annotation plan (one row per example to annotate).
PLAN_COLUMNS = [
    "id",
    "split",
    "prompt_kind",
    "messages",
    "max_tokens",
    "response_format",
    "given_label",
]
PromptKind = Literal["full", "label_only", "rationalize"]


class AnnotationError(ValueError):
    """Invalid annotation parameters or inputs (raised before any teacher request)."""


class AnnotationParams(BaseModel):
    """The ``annotation`` parameter block (see ``parameters_annotation.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_source: Literal["auto", "best_prompt", "configured"] = "auto"
    template: str | None = None
    style: Literal["zero_shot", "few_shot_cot"] = "zero_shot"
    output_format: Literal["text", "json"] = "text"
    system_prompt: str | None = None
    few_shot_k: int = Field(default=3, ge=1, le=16)
    splits: list[Literal["train", "valid", "test"]] = Field(
        default_factory=lambda: ["train", "valid"]
    )
    max_rows: int | None = Field(default=None, ge=1)
    rationale_fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    label_only_max_tokens: int = Field(default=16, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    rationalize_labeled: bool = False
    min_rationale_words: int = Field(default=DEFAULT_MIN_RATIONALE_WORDS, ge=0)
    # Warn loudly (log, MLflow, report) above this share of no_label / no-rationale answers.
    alarm_share: float = Field(default=DEFAULT_ALARM_SHARE, ge=0.0, le=1.0)
    progress: bool = True

    @field_validator("splits")
    @classmethod
    def _splits(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one split to annotate")
        return list(dict.fromkeys(value))

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> AnnotationParams:
        """Validate ``params:annotation``; the error names each bad key."""
        try:
            return cls.model_validate(dict(params or {}))
        except ValidationError as err:
            problems = "; ".join(
                f"annotation.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise AnnotationError(f"invalid annotation parameters: {problems}") from None


def template_id(template: str) -> str:
    """A short stable id of a template text (``t`` + 10 hex digits of its SHA-256)."""
    return "t" + hashlib.sha256(template.encode("utf-8")).hexdigest()[:10]


def seeded_unit(*parts: Any) -> float:
    """A deterministic number in [0, 1) from ``parts`` (seeded choices without an RNG)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
