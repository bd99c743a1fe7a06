"""Task specifications: input fields, answer type, label set and verbalizers.

A task spec is configuration (``conf/<env>/tasks/<name>.yml``), validated here so that a
typo fails at start-up with the offending field named, not after the teacher was paid.
"""

from __future__ import annotations

import math
import numbers
import re
import string
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zeroshot_distill.tasks.values import is_missing

CHOICE_LETTERS = string.ascii_lowercase
_NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
_WORD_CHARS = re.compile(r"[^\w\s-]")


class TaskSpecError(ValueError):
    """A task specification is invalid."""


class TaskSpec(BaseModel):
    """What a task looks like: fields, answers and how to read answers from free text.

    kinds:
      - ``classification``: one label out of ``labels`` (NLI, text classification);
      - ``multiple_choice``: the answer is one of ``n_choices`` options in the ``choices``
        field, stored as a letter (``a`` … ``e``); the student learns ``choice_target``:
        the option ``text`` (default), the ``letter``, or ``both`` (``(a) option text``);
      - ``numeric``: the answer is a number (arithmetic word problems).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Literal["classification", "multiple_choice", "numeric"]
    description: str = Field(min_length=1, description="One line that tells the teacher the task")
    input_fields: list[str] = Field(min_length=1)
    labels: list[str] | None = None
    verbalizers: dict[str, list[str]] = Field(default_factory=dict)
    n_choices: int | None = None
    choices_field: str = "choices"
    choice_target: Literal["text", "letter", "both"] = "text"
    numeric_tolerance: float = 1e-6

    @model_validator(mode="after")
    def _check_kind(self) -> TaskSpec:
        if len(set(self.input_fields)) != len(self.input_fields):
            raise ValueError(f"input_fields has duplicates: {self.input_fields}")
        if self.kind == "classification":
            if not self.labels or len(self.labels) < 2:
                raise ValueError("a classification task needs `labels` with at least two entries")
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"labels has duplicates: {self.labels}")
            unknown = set(self.verbalizers) - set(self.labels)
            if unknown:
                raise ValueError(f"verbalizers name labels not in `labels`: {sorted(unknown)}")
        elif self.kind == "multiple_choice":
            if not self.n_choices or not 2 <= self.n_choices <= len(CHOICE_LETTERS):
                raise ValueError("a multiple_choice task needs `n_choices` between 2 and 26")
            if self.choices_field not in self.input_fields:
                raise ValueError(
                    f"choices_field {self.choices_field!r} must be one of input_fields "
                    f"{self.input_fields}"
                )
            if self.labels is not None:
                raise ValueError("a multiple_choice task derives its labels from n_choices")
        elif self.labels is not None:
            raise ValueError("a numeric task has no `labels`")
        return self

    # ----------------------------------------------------------------------------- construction
    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TaskSpec:
        """Build from the ``task`` parameter, with an error that names the bad field."""
        try:
            return cls.model_validate(dict(params))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(spec)'}: {e['msg']}"
                for e in err.errors()
            )
            name = params.get("name", "?") if isinstance(params, Mapping) else "?"
            raise TaskSpecError(f"invalid task spec {name!r}: {problems}") from None

    # ------------------------------------------------------------------------------- label set
    @property
    def label_set(self) -> list[str] | None:
        """Allowed gold/teacher labels; ``None`` for numeric answers."""
        if self.kind == "classification":
            return list(self.labels or [])
        if self.kind == "multiple_choice":
            return list(CHOICE_LETTERS[: self.n_choices])
        return None

    @property
    def text_fields(self) -> list[str]:
        """Input fields that hold plain text (everything but the choices list)."""
        if self.kind == "multiple_choice":
            return [f for f in self.input_fields if f != self.choices_field]
        return list(self.input_fields)

    # -------------------------------------------------------------------------------- rendering
    def render_fields(self, row: Mapping[str, Any]) -> dict[str, str]:
        """Values for a prompt template's placeholders, one per input field.

        The choices list is rendered as ``(a) first (b) second …``.
        """
        values = {f: str(row[f]).strip() for f in self.text_fields}
        if self.kind == "multiple_choice":
            values[self.choices_field] = format_choices(row[self.choices_field])
        return values

    def student_input(self, row: Mapping[str, Any]) -> str:
        """The student's input text (without the task prefix), e.g. ``premise: … hypothesis: …``."""
        rendered = self.render_fields(row)
        return " ".join(f"{field}: {rendered[field]}" for field in self.input_fields)

    def label_target(self, label: str, row: Mapping[str, Any]) -> str:
        """What the student learns to generate (and is scored on) for a label: the label
        itself, or for multiple choice the ``choice_target`` form of the option."""
        if self.kind != "multiple_choice":
            return label
        if self.choice_target == "letter":
            return label
        if self.choice_target == "both":
            return f"({label}) {self.choice_text(label, row)}"
        return self.choice_text(label, row)

    def choice_text(self, label: str, row: Mapping[str, Any]) -> str:
        """The option text a multiple-choice letter stands for in ``row``."""
        return str(list(row[self.choices_field])[CHOICE_LETTERS.index(label)]).strip()

    # ---------------------------------------------------------------------------------- reading
    def is_valid_label(self, value: Any) -> bool:
        """Whether a stored gold/teacher label is well-formed for this task."""
        if is_missing(value):
            return False
        if self.kind == "numeric":
            return canonical_number(str(value)) is not None
        return str(value) in (self.label_set or [])

    def label_from_source(self, value: Any, choices: Any = None) -> str | None:
        """A gold label as a data source writes it, mapped to this task's label.

        - multiple choice: a letter (``c``, ``C``, ``(c)``, ``c)``), a 0-based index (``2``)
          or the text of one of the row's ``choices`` (CommonsenseQA's native form,
          ``"wooded area"``), case- and whitespace-insensitive;
        - classification: a label or one of its declared verbalizers, case- and
          whitespace-insensitive (``" Entailment "``, ``"entails"``);
        - numeric: the number in canonical form.

        ``None`` for a missing value; the stripped text as it is when it names no label or
        more than one (validation then reports the row with :meth:`label_problem`).
        """
        if value is None or isinstance(value, bool):
            return None if value is None else str(value)
        if isinstance(value, float):
            if math.isnan(value):
                return None
            if value.is_integer():
                value = int(value)
        text = " ".join(str(value).split())
        if not text:
            return None
        if self.kind == "numeric":
            return canonical_number(text) or text
        if self.kind == "classification":
            return self._synonyms().get(_WORD_CHARS.sub(" ", text.lower()).strip(), text)
        return self._choice_from_source(value, text, choices)

    def _choice_from_source(self, value: Any, text: str, choices: Any) -> str:
        letters = CHOICE_LETTERS[: self.n_choices]
        options = [" ".join(str(c).split()).lower() for c in _listed(choices)]
        candidates: set[str] = set()
        if isinstance(value, numbers.Integral):  # an integer column: positions, not option text
            value = int(value)
            return letters[value] if 0 <= value < len(letters) else text
        lowered = text.lower()
        letter = re.fullmatch(rf"\(?([{letters}])\)?[.)]?", lowered)
        if letter:  # letters are the stored form; an option reading "b" is no rival
            return letter.group(1)
        if lowered.isdigit() and int(lowered) < len(letters):
            candidates.add(letters[int(lowered)])
        candidates.update(letters[i] for i, o in enumerate(options[: len(letters)]) if o == lowered)
        # "3" with an option reading "3": index 3 or that option? Better unmatched than wrong.
        return candidates.pop() if len(candidates) == 1 else text

    def label_problem(self, value: Any, choices: Any = None) -> str:
        """Why ``value`` (what :meth:`label_from_source` kept) is no label, and the fix."""
        if self.kind == "multiple_choice":
            letters = CHOICE_LETTERS[: self.n_choices]
            listed = [str(c) for c in _listed(choices)]
            text = str(value).strip().lower()
            if text.isdigit() and text in (c.strip().lower() for c in listed):
                return (
                    f"answer {value!r} is ambiguous: the 0-based index {text} or the option "
                    f"that reads {value!r} in {listed}; map it with data_processing."
                    "label_mapping or give letters"
                )
            return (
                f"answer {value!r} is neither a letter {letters[0]}-{letters[-1]}, a 0-based "
                f"index 0-{len(letters) - 1} nor exactly one of this row's choices {listed}"
            )
        if self.kind == "classification":
            return (
                f"label {value!r} is not in the label set {self.labels} nor a declared "
                "verbalizer of one (add it to the task's `verbalizers` or map it with "
                "data_processing.label_mapping)"
            )
        return f"label {value!r} is not a number"

    def normalize_label(self, text: str | None, row: Mapping[str, Any] | None = None) -> str | None:
        """Map a short answer (a teacher's answer span or a student output) to a label.

        Returns ``None`` when the text names no label or names two different ones.
        """
        if text is None:
            return None
        text = str(text).strip()
        if not text:
            return None
        if self.kind == "numeric":
            return canonical_number(text)
        if self.kind == "multiple_choice":
            return self._normalize_choice(text, row)
        return self._normalize_class(text)

    def _normalize_class(self, text: str) -> str | None:
        cleaned = _WORD_CHARS.sub(" ", text.lower()).strip()
        synonyms = self._synonyms()
        if cleaned in synonyms:
            return synonyms[cleaned]
        # The first verbalizer found wins, but only if no other label is named as well:
        # "not entailment but contradiction" is ambiguous, better unparsed than wrong.
        found: list[tuple[int, str]] = []
        for phrase, label in synonyms.items():
            match = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", cleaned)
            if match:
                found.append((match.start(), label))
        labels = {label for _, label in found}
        return labels.pop() if len(labels) == 1 else None

    def _synonyms(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for label in self.labels or []:
            table[label.lower()] = label
            for phrase in self.verbalizers.get(label, []):
                table[_WORD_CHARS.sub(" ", phrase.lower()).strip()] = label
        return table

    def _normalize_choice(self, text: str, row: Mapping[str, Any] | None) -> str | None:
        letters = CHOICE_LETTERS[: self.n_choices]
        lowered = text.lower().strip()
        bracketed = re.findall(rf"\(([{letters}])\)", lowered)
        if len(set(bracketed)) == 1:
            return bracketed[0]
        bare = re.fullmatch(rf"([{letters}])[).:]?(?:\s.*)?", lowered, flags=re.S)
        if bare and len(lowered) <= 2:
            return bare.group(1)
        if row is not None and self.choices_field in row:
            choices = [str(c).lower().strip() for c in list(row[self.choices_field])]
            stripped = lowered.rstrip(".!").strip()
            for i, choice in enumerate(choices):
                if stripped == choice:
                    return letters[i]
            hits = {
                letters[i]
                for i, choice in enumerate(choices)
                if choice and re.search(rf"(?<!\w){re.escape(choice)}(?!\w)", lowered)
            }
            if len(hits) == 1:
                return hits.pop()
        if len(bracketed) == 0 and bare:
            return bare.group(1)
        return None


def _listed(choices: Any) -> list[Any]:
    """A choices cell as a list (``None`` or a scalar: no choices)."""
    if choices is None or isinstance(choices, (str, bytes)):
        return []
    try:
        return list(choices)
    except TypeError:
        return []


def format_choices(choices: Any) -> str:
    """``["x", "y"]`` -> ``"(a) x (b) y"``."""
    return " ".join(f"({CHOICE_LETTERS[i]}) {str(c).strip()}" for i, c in enumerate(list(choices)))


def canonical_number(text: str) -> str | None:
    """The last number in ``text`` as a canonical string (``"1,200.50"`` -> ``"1200.5"``)."""
    matches = _NUMBER.findall(str(text))
    if not matches:
        return None
    raw = matches[-1].replace(",", "").replace("$", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")
