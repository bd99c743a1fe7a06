"""The ``prompt_optimization`` parameters, validated up front (before anything is paid)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zeroshot_distill.optimization.objectives import Objective, ObjectiveError
from zeroshot_distill.optimization.opro import PromptOptimizationError, SearchSettings
from zeroshot_distill.tasks import TaskSpec


class PromptOptimizationParams(BaseModel):
    """``params:prompt_optimization`` (see ``conf/base/parameters_prompt_optimization.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_steps: int = Field(default=10, ge=0)
    n_candidates: int = Field(default=8, ge=1)
    top_k: int = Field(default=15, ge=1)
    patience: int | None = Field(default=None, ge=1)
    n_score_examples: int = Field(default=50, ge=1)
    score_split: str = "train"
    n_exemplars: int = Field(default=3, ge=0)
    optimizer_temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    optimizer_max_tokens: int | None = Field(default=512, ge=1)
    scorer_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    scorer_max_tokens: int | None = Field(default=None, ge=1)
    max_template_chars: int = Field(default=2000, ge=10)
    objective: Objective = Field(default_factory=Objective)
    seed_templates: dict[str, list[str]] | list[str] = Field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    scorer: dict[str, Any] | None = None
    progress: bool = True
    # Warn (PARSE ALARM) after a step whose answers lack a label / rationale above this share.
    alarm_share: float = Field(default=0.1, ge=0.0, le=1.0)

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, value: Any) -> Objective:
        if isinstance(value, Objective):
            return value
        return Objective.from_params(value)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PromptOptimizationParams:
        """Validate, naming the offending ``prompt_optimization.<field>``."""
        if not isinstance(params, Mapping):
            raise PromptOptimizationError(
                f"params:prompt_optimization must be a mapping, got {type(params).__name__}"
            )
        try:
            return cls.model_validate(dict(params))
        except ObjectiveError as err:
            raise PromptOptimizationError(str(err)) from None
        except ValidationError as err:
            problems = "; ".join(
                f"prompt_optimization.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in err.errors()
            )
            raise PromptOptimizationError(f"invalid parameters: {problems}") from None

    def search_settings(self, seed: int) -> SearchSettings:
        """The loop's knobs."""
        return SearchSettings(
            n_steps=self.n_steps,
            n_candidates=self.n_candidates,
            top_k=self.top_k,
            patience=self.patience,
            n_exemplars=self.n_exemplars,
            optimizer_temperature=self.optimizer_temperature,
            optimizer_max_tokens=self.optimizer_max_tokens,
            scorer_temperature=self.scorer_temperature,
            scorer_max_tokens=self.scorer_max_tokens,
            max_template_chars=self.max_template_chars,
            seed=int(seed),
            progress=self.progress,
            alarm_share=self.alarm_share,
        )

    def seeds_for(self, spec: TaskSpec) -> list[str]:
        """Seed templates for a task: by task name, then by task kind.

        A plain list applies to any task. Raises if there are none (OPRO needs a start).
        """
        if isinstance(self.seed_templates, list):
            seeds, where = self.seed_templates, "prompt_optimization.seed_templates"
        elif spec.name in self.seed_templates:
            seeds = self.seed_templates[spec.name]
            where = f"prompt_optimization.seed_templates.{spec.name}"
        elif spec.kind in self.seed_templates:
            seeds = self.seed_templates[spec.kind]
            where = f"prompt_optimization.seed_templates.{spec.kind}"
        else:
            raise PromptOptimizationError(
                f"prompt_optimization.seed_templates has no templates for task {spec.name!r} "
                f"(kind {spec.kind!r}); keys present: {sorted(self.seed_templates)}. Add at "
                f"least one template using the placeholders "
                f"{['{' + f + '}' for f in spec.input_fields]}."
            )
        if not seeds:
            raise PromptOptimizationError(f"{where} is empty: OPRO needs at least one seed")
        return list(seeds)

    def teacher_configs(
        self, teacher: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(optimizer, scorer) teacher configs.

        The scorer is ``params:teacher`` with the keys of ``prompt_optimization.scorer``
        laid over it (nested blocks such as ``simulated`` merge key by key); the optimizer
        likewise with ``prompt_optimization.optimizer``. A key ``inherit: false`` in either
        block uses that block alone, not laid over the teacher."""
        base = dict(teacher or {})
        return _layer(base, self.optimizer, "optimizer"), _layer(base, self.scorer, "scorer")


def _layer(base: dict[str, Any], override: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    override = dict(override or {})
    inherit = override.pop("inherit", True)
    config = _deep_merge(base, override) if inherit else override
    if not config.get("backend"):
        raise PromptOptimizationError(
            f"no teacher for the prompt_optimization {name}: set params:teacher (the shared "
            f"teacher block) or prompt_optimization.{name} with at least a `backend`"
        )
    return config


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
