"""The ``active_distill`` parameters, validated before the teacher is paid anything.

See ``conf/base/parameters_active_distill.yml`` for the documented defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class ActiveDistillError(ValueError):
    """The active distillation parameters or inputs are invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DEFAULT_CONDITION_TEMPLATE = "{input} rationale: {rationale}"

DEFAULT_REVISION_TEMPLATE = """\
{description}

{fields}

A student model answered "{student_label}" and explained:
"{student_rationale}"

Review the student's explanation. Point out nothing else: write a corrected explanation in \
one or two sentences, then finish with "So the answer is" followed by the correct answer."""


class BudgetConfig(_Strict):
    """What one strategy may spend on the teacher (either limit, both, or none).

    Spend is *nominal*: every teacher answer an arm uses is charged at its price even when the
    response cache made it free, so that arms compare at equal spend and a resumed run adds
    no spend for answers it had already paid.
    """

    max_cost_usd: float | None = Field(default=None, ge=0)
    max_calls: int | None = Field(default=None, ge=0)
    # A known upper bound for one request's USD. null: derived from the teacher's price
    # table, the prompt's length in bytes and the completion cap (max_tokens).
    max_cost_per_call_usd: float | None = Field(default=None, ge=0)


class ScoringConfig(_Strict):
    """How uncertainty is measured on the unannotated pool."""

    n_rationales: int = Field(default=4, ge=1, le=64)  # K rationales sampled per example
    temperature: float = Field(default=1.0, gt=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    max_rationale_tokens: int = Field(default=64, ge=1)
    max_label_tokens: int = Field(default=16, ge=1)  # numeric answers (greedy decode)
    # conditioned: the student predicts the label from input + one sampled rationale (the
    #   training set teaches it this with the teacher's rationales, see condition_training);
    # verbalized: the label each sampled rationale names itself ("so the answer is …").
    vote: Literal["conditioned", "verbalized"] = "conditioned"
    condition_template: str = DEFAULT_CONDITION_TEMPLATE
    # Add rationale-conditioned rows (input + teacher rationale -> label) to the training set
    # so that `vote: conditioned` asks the student something it was trained to answer.
    condition_training: bool = True
    weights: dict[str, float] = Field(
        default_factory=lambda: {"explanation_consistency": 0.5, "label_entropy": 0.5}
    )
    # Score at most this many pool rows per round (a seeded random subset); null: all.
    max_pool: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=32, ge=1)

    @model_validator(mode="after")
    def _check(self) -> ScoringConfig:
        if "{input}" not in self.condition_template or "{rationale}" not in (
            self.condition_template
        ):
            raise ValueError("condition_template needs both {input} and {rationale}")
        unknown = set(self.weights) - {"explanation_consistency", "label_entropy"}
        if unknown:
            raise ValueError(f"weights name unknown components {sorted(unknown)}")
        if any(w < 0 for w in self.weights.values()) or not sum(self.weights.values()) > 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return self


class RevisionConfig(_Strict):
    """ELAD's teacher revision: the teacher corrects the student's rationale for selected rows.

    Placeholders: ``{description}`` (the task), ``{fields}`` (the input fields, one per line),
    each input field by name, ``{student_label}``, ``{student_rationale}``.
    """

    enabled: bool = False
    template: str = DEFAULT_REVISION_TEMPLATE
    max_tokens: int | None = Field(default=None, ge=1)
    # The corrected label replaces the annotation's label too when it parses.
    use_revised_label: bool = False


class ActiveDistillParams(_Strict):
    """``params:active_distill``."""

    strategy: str = "explanation_consistency"
    compare_with: list[str] = Field(default_factory=lambda: ["random"])
    seed_size: int = Field(default=16, ge=1)
    batch_size: int = Field(default=16, ge=1)  # B: rows annotated per round
    n_rounds: int = Field(default=3, ge=0)  # selection rounds after the seed round
    pool_split: str = "train"
    valid_split: str = "valid"
    test_split: str = "test"
    # Train each round from the configured initial student (false) or continue the previous
    # round's student (true: faster, but rounds then differ in total training steps).
    warm_start: bool = False
    resume: bool = True
    keep_round_models: bool = False  # false: only the latest finished round's student is kept
    # Laid over params:training for every round's training (e.g. fewer epochs).
    training: dict[str, Any] = Field(default_factory=dict)
    eval_batch_size: int = Field(default=64, ge=1)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    revision: RevisionConfig = Field(default_factory=RevisionConfig)
    progress: bool = True

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        return _known(value)

    @field_validator("compare_with")
    @classmethod
    def _known_controls(cls, value: list[str]) -> list[str]:
        for name in value:
            _known(name)
        if len(set(value)) != len(value):
            raise ValueError(f"has duplicates: {value}")
        return value

    @model_validator(mode="after")
    def _check(self) -> ActiveDistillParams:
        if self.strategy in self.compare_with:
            raise ValueError(f"compare_with repeats the strategy {self.strategy!r}")
        return self

    @property
    def strategies(self) -> list[str]:
        """Every arm to run: the strategy first, then its controls."""
        return [self.strategy, *self.compare_with]

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> ActiveDistillParams:
        """Validate, naming the offending ``active_distill.<field>``."""
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise ActiveDistillError(
                f"params:active_distill must be a mapping, got {type(params).__name__}"
            )
        try:
            return cls.model_validate(dict(params))
        except ValidationError as err:
            problems = "; ".join(
                f"active_distill.{'.'.join(str(p) for p in e['loc']) or '(block)'}: {e['msg']}"
                for e in err.errors()
            )
            raise ActiveDistillError(f"invalid parameters: {problems}") from None

    def fingerprint_payload(self) -> dict[str, Any]:
        """What decides a round's outcome (for resume): everything but the stop rules.

        ``n_rounds`` and ``budget`` are left out on purpose: raising either continues a
        finished run instead of starting over. The strategies are left out because every arm
        has its own folder (adding a control reuses the seed round). The rest of the left-out
        keys change nothing in the results.
        """
        payload = self.model_dump()
        ignored = ("n_rounds", "budget", "strategy", "compare_with", "progress", "resume")
        for key in (*ignored, "keep_round_models", "eval_batch_size"):
            payload.pop(key, None)
        return payload


def _known(name: str) -> str:
    from zeroshot_distill.active.uncertainty import available_scorers

    known = available_scorers()
    if name not in known:
        raise ValueError(f"unknown selection strategy {name!r}; known: {known}")
    return name
