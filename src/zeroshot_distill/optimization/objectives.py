"""What prompt optimization maximizes: label accuracy and the explanation rate.

Three objectives, chosen by ``prompt_optimization.objective.name``:

- ``accuracy``: the share of scoring examples answered correctly. Blind to explanations.
- ``accuracy_min_explanation_rate`` (the default): accuracy, but only among templates whose
  answers carry a usable rationale at least ``min_explanation_rate`` of the time. Templates
  below the floor rank after *every* template that meets it (lexicographic order), and among
  themselves by a shortfall-discounted accuracy ``accuracy * explanation_rate / floor``.
- ``weighted``: ``accuracy + λ * explanation_rate`` (``λ`` = ``explanation_weight``),
  reported divided by ``1 + λ`` so the score stays in [0, 1] (same ranking).

Why the default is the floor and not plain accuracy: in the reference run (Vöge et al. 2024)
the most accurate CommonsenseQA templates explained only 2–11 % of their answers, so plain
accuracy picks a prompt that produces almost no rationales for distillation and the authors
had to choose by hand. A floor of 0.8 keeps enough rationales for the subsampling stage (the
paper keeps ~30 % and a length window drops more) and, above the floor, lets accuracy alone
decide: extra explanations are worth nothing once there are enough of them, while a wrong
label is always harmful. ``weighted`` trades the two linearly, which can buy a few points of
explanation rate with accuracy; it is there for users who want that trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ObjectiveName = Literal["accuracy", "accuracy_min_explanation_rate", "weighted"]
RankKey = tuple[int, float, float]


class ObjectiveError(ValueError):
    """The ``prompt_optimization.objective`` parameters are invalid."""


class Objective(BaseModel):
    """A scalar score and a total order over (accuracy, explanation rate) pairs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ObjectiveName = "accuracy_min_explanation_rate"
    min_explanation_rate: float = Field(default=0.8, ge=0.0, le=1.0)
    explanation_weight: float = Field(default=0.5, ge=0.0)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | str | None) -> Objective:
        """Build from ``prompt_optimization.objective`` (a mapping, a bare name or ``None``)."""
        if params is None:
            return cls()
        if isinstance(params, str):
            params = {"name": params}
        try:
            return cls.model_validate(dict(params))
        except ValidationError as err:
            problems = "; ".join(
                f"prompt_optimization.objective.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in err.errors()
            )
            raise ObjectiveError(f"invalid objective: {problems}") from None
        except (TypeError, ValueError):
            raise ObjectiveError(
                f"prompt_optimization.objective must be a mapping or a name, got {params!r}"
            ) from None

    # ----------------------------------------------------------------------------- evaluation
    def feasible(self, explanation_rate: float) -> bool:
        """Whether a template meets the objective's constraint (always true without one)."""
        if self.name != "accuracy_min_explanation_rate":
            return True
        # A tiny tolerance: 40/50 explained must count as 0.8 despite float rounding.
        return explanation_rate >= self.min_explanation_rate - 1e-9

    def score(self, accuracy: float, explanation_rate: float) -> float:
        """The objective's scalar in [0, 1] (shown to the optimizer as an integer 0–100)."""
        _check_rate("accuracy", accuracy)
        _check_rate("explanation_rate", explanation_rate)
        if self.name == "accuracy":
            return float(accuracy)
        if self.name == "weighted":
            lam = self.explanation_weight
            return float((accuracy + lam * explanation_rate) / (1.0 + lam))
        if self.feasible(explanation_rate):
            return float(accuracy)
        return float(accuracy * explanation_rate / self.min_explanation_rate)

    def rank_key(self, accuracy: float, explanation_rate: float) -> RankKey:
        """Sort key, larger is better: feasibility first, then score, then explanation rate."""
        return (
            int(self.feasible(explanation_rate)),
            round(self.score(accuracy, explanation_rate), 12),
            round(float(explanation_rate), 12),
        )

    def describe(self) -> str:
        """One sentence for logs, the meta-prompt and ``best_prompt``."""
        if self.name == "accuracy":
            return "accuracy"
        if self.name == "weighted":
            lam = self.explanation_weight
            return f"(accuracy + {lam:g} * explanation_rate) / {1 + lam:g}"
        return (
            f"accuracy, among templates that explain at least "
            f"{self.min_explanation_rate:.0%} of their answers"
        )

    def score_explanation(self) -> str:
        """How the score is computed, in words for the optimizer LLM."""
        if self.name == "accuracy":
            return "A template's score is the percentage of examples it answers correctly."
        if self.name == "weighted":
            lam = self.explanation_weight
            return (
                "A template's score combines the percentage of examples it answers correctly "
                f"with the percentage of answers that explain their reasoning (weight {lam:g}), "
                "so the best templates answer correctly and explain why."
            )
        return (
            "A template's score is the percentage of examples it answers correctly. Templates "
            f"whose answers explain their reasoning less than {self.min_explanation_rate:.0%} "
            "of the time are penalized and rank below every template that explains enough, "
            "so the best templates answer correctly and explain why."
        )

    def as_dict(self) -> dict[str, Any]:
        """Parameters plus the description, as stored in ``best_prompt['objective']``."""
        data: dict[str, Any] = {"name": self.name}
        if self.name == "accuracy_min_explanation_rate":
            data["min_explanation_rate"] = self.min_explanation_rate
        if self.name == "weighted":
            data["explanation_weight"] = self.explanation_weight
        data["description"] = self.describe()
        return data


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
