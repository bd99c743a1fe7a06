"""Prompt templates: named placeholders, validation, rendering, the default set per task kind.

A template is a ``str.format`` string whose placeholders are exactly the task's input
fields (``{premise}``, ``{hypothesis}`` | ``{question}``, ``{choices}`` | ``{text}``), plus
``{label}`` for the "rationalize this label" template. Literal braces are doubled
(``{{"answer": …}}``). :func:`validate_template` checks that before anything is sent.

Styles (``default_template(spec, style)``):

- ``zero_shot``: the task, the input, "explain briefly, then ``Answer: <label>``" (the
  zero-shot chain-of-thought prompt the paper's OPRO starts from);
- ``json``: the same, answered as ``{"rationale": …, "answer": …}``; pair it with the strict
  JSON schema of :func:`json_response_format` (the answer limited to the task's labels), or
  with plain JSON mode (:data:`JSON_RESPONSE_FORMAT`) where a server has no schemas;
- ``label_only``: the answer alone (fewer completion tokens, for rows that need no
  rationale); :func:`label_only_variant` turns any template, e.g. an optimized one, into this;
- ``rationalize``: the correct label is given (``{label}``), the teacher only explains it.

:func:`few_shot_cot_template` builds the few-shot chain-of-thought baseline: ``k`` worked
exemplars (input, reference rationale, answer) before the query, baked into a template with
the same placeholders.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zeroshot_distill.tasks.spec import CHOICE_LETTERS, TaskSpec

STYLES = ("zero_shot", "json", "label_only", "rationalize")
LABEL_PLACEHOLDER = "label"
JSON_RESPONSE_FORMAT: dict[str, str] = {"type": "json_object"}
LABEL_ONLY_INSTRUCTION = (
    'Reply with the answer only, on one line as "Answer: <answer>", with no explanation.'
)
_EXPLAIN_REQUEST = re.compile(
    r"\b(explain|explanation|justify|justification|reasoning|rationale|step[- ]by[- ]step|"
    r"think|why)\b",
    re.I,
)
_REASON_REQUEST = re.compile(
    r"\b(?:explain|explanation|explian|justify|justification|reasoning|reasonings|rationale|"
    r"reason|reasons|step[- ]by[- ]step|think step|why|because|show your work|"
    r"walk (?:me )?through)\b",
    re.I,
)
_NO_REASON_REQUEST = re.compile(
    r"\b(?:without|no|not|don'?t|do not|never|skip(?:ping)?)\W+(?:\w+\W+){0,3}?"
    r"(?:explain|explanation|explanations|justification|justify|reasoning|reasons?)\b",
    re.I,
)
SYSTEM_PROMPT = "You are a careful annotator. Follow the requested answer format exactly."


class TemplateError(ValueError):
    """A prompt template does not fit the task (missing or unknown placeholders)."""


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def field_title(name: str) -> str:
    """``"hypothesis"`` -> ``"Hypothesis"``; ``"choices"`` -> ``"Answer choices"``."""
    if name == "choices":
        return "Answer choices"
    return name.replace("_", " ").strip().capitalize()


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template`` in order of first use.

    Raises :class:`TemplateError` for a malformed format string (a lone brace), a
    positional ``{}`` or a placeholder with a conversion / format spec.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise TemplateError(
            f"template is not a valid format string ({err}); write literal braces as {{{{ and }}}}"
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise TemplateError(
                "template has a positional placeholder '{}'; use the field names, e.g. "
                "{premise}, or write a literal brace as {{ and }}"
            )
        if not name.isidentifier():
            shown = "{" + name + (f":{spec}" if spec else "") + "}"
            raise TemplateError(
                f"template has an unknown placeholder {shown}: placeholders are field names "
                "such as {premise}; write literal braces (e.g. JSON) as {{ and }}"
            )
        if spec or conversion:
            raise TemplateError(
                f"placeholder {{{name}}} has a conversion or format spec; use a bare {{{name}}}"
            )
        if name not in names:
            names.append(name)
    return names


def validate_template(template: str, spec: TaskSpec, extra: Iterable[str] = ()) -> list[str]:
    """Check that ``template`` uses every input field of ``spec`` and nothing else.

    ``extra`` names further required placeholders (``("label",)`` for the rationalize
    template). Returns the placeholders. Raises :class:`TemplateError` naming what is
    missing and what is unknown.
    """
    if not isinstance(template, str) or not template.strip():
        raise TemplateError("template is empty")
    found = placeholders(template)
    allowed = [*spec.input_fields, *extra]
    missing = [name for name in allowed if name not in found]
    unknown = [name for name in found if name not in allowed]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("missing " + ", ".join("{" + n + "}" for n in missing))
        if unknown:
            problems.append("unknown " + ", ".join("{" + n + "}" for n in unknown))
        raise TemplateError(
            f"template does not fit task {spec.name!r}: {'; '.join(problems)}. Allowed "
            f"placeholders: {', '.join('{' + n + '}' for n in allowed)} (literal braces: "
            "{{ and }})."
        )
    return found


def render_label(spec: TaskSpec, label: str, row: Mapping[str, Any]) -> str:
    """How a label is shown in a prompt: ``(b) option text`` for multiple choice."""
    if spec.kind == "multiple_choice" and label in CHOICE_LETTERS:
        choices = list(row[spec.choices_field])
        index = CHOICE_LETTERS.index(label)
        if index < len(choices):
            return f"({label}) {str(choices[index]).strip()}"
    return str(label)


def render_prompt(
    template: str,
    spec: TaskSpec,
    row: Mapping[str, Any],
    *,
    label: str | None = None,
    system: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages for one row: an optional system message and the filled template.

    ``label`` fills ``{label}`` (the rationalize template). A missing input field raises a
    :class:`TemplateError` that names the row and the field.
    """
    values: dict[str, str]
    try:
        values = spec.render_fields(row)
    except KeyError as err:
        raise TemplateError(
            f"row {row.get('id', '?')!r} has no input field {err.args[0]!r} for task {spec.name!r}"
        ) from None
    if label is not None:
        values[LABEL_PLACEHOLDER] = render_label(spec, label, row)
    try:
        content = template.format_map(values)
    except KeyError as err:
        raise TemplateError(
            f"template placeholder {{{err.args[0]}}} has no value for row "
            f"{row.get('id', '?')!r}; validate the template with validate_template()"
        ) from None
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": content})
    return messages


# ------------------------------------------------------------------------------- defaults
def _answer_hint(spec: TaskSpec) -> str:
    if spec.kind == "classification":
        return "<" + " | ".join(spec.labels or []) + ">"
    if spec.kind == "multiple_choice":
        return "(<letter>)"
    return "<number>"


def _input_block(spec: TaskSpec) -> str:
    return "\n".join(f"{field_title(f)}: {{{f}}}" for f in spec.input_fields)


def _label_line(spec: TaskSpec) -> str:
    if spec.kind == "classification":
        return f"Possible answers: {', '.join(spec.labels or [])}.\n"
    return ""


def default_template(spec: TaskSpec, style: str = "zero_shot") -> str:
    """The default template of a style for this task (see the module docstring)."""
    if style not in STYLES:
        raise TemplateError(f"unknown template style {style!r}; use one of {STYLES}")
    head = f"{_escape(spec.description.strip())}\n\n{_input_block(spec)}\n\n{_label_line(spec)}"
    hint = _answer_hint(spec)
    if style == "zero_shot":
        return (
            head + "Explain your reasoning in one or two sentences, then give the answer on "
            f'its own line as "Answer: {hint}".'
        )
    if style == "json":
        return json_variant(
            head + "Explain your reasoning in one or two sentences, then give the answer.", spec
        )
    if style == "label_only":
        return head + label_only_instruction(spec)
    return (
        head + "The correct answer is: {label}\n"
        "Explain in one or two sentences why this answer is correct. Reply with the "
        "explanation only."
    )


def asks_for_reason(prompt: str) -> bool:
    """Whether a prompt (template or filled) asks the teacher to give a reason.

    Decided from the wording: "explain", "justify", "why", "step by step", "reasoning" …
    """
    text = _NO_REASON_REQUEST.sub(" ", prompt.replace("\\n", "\n"))
    return bool(_REASON_REQUEST.search(text))


def gives_label_away(prompt: str, spec: TaskSpec) -> str | None:
    """The label a rationalization prompt hands the teacher, or ``None``.

    A prompt that quotes exactly one label (or one of its verbalizers) and asks *why* it
    holds ("Why is the hypothesis 'entailment' …") is a rationalization prompt: its answers
    explain a given label and say nothing about the teacher's accuracy.
    """
    if spec.kind != "classification" or not re.search(r"\bwhy\b", prompt, re.I):
        return None
    quoted = {
        m.group(2).strip().lower()
        for m in re.finditer(r"(['\"‘“])([^'\"’”\n]{1,40})(['\"’”])", prompt)
    }
    named = {spec.normalize_label(q) for q in quoted if q} - {None}
    mentioned_all = all(
        re.search(rf"\b{re.escape(label)}\b", prompt, re.I) for label in spec.labels or []
    )
    if len(named) == 1 and not mentioned_all:
        return named.pop()
    return None


def label_only_instruction(spec: TaskSpec | None = None) -> str:
    """The label-only instruction, naming the task's answer format when ``spec`` is given."""
    if spec is None:
        return LABEL_ONLY_INSTRUCTION
    return LABEL_ONLY_INSTRUCTION.replace("<answer>", _answer_hint(spec))


def label_only_variant(template: str, spec: TaskSpec | None = None) -> str:
    """A template asking for the label alone (same placeholders), e.g. from an optimized one.

    Sentences that ask for an explanation (and hold no placeholder) are dropped, then the
    label-only instruction is appended.
    """
    lines = []
    for line in template.splitlines():
        sentences = re.split(r"(?<=[.!?])\s+", line)
        kept = [s for s in sentences if "{" in s or not _EXPLAIN_REQUEST.search(s)]
        if kept or not line.strip():
            lines.append(" ".join(kept))
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip()
    return body + "\n\n" + label_only_instruction(spec)


def json_response_format(spec: TaskSpec) -> dict[str, Any]:
    """A strict JSON-schema ``response_format`` for :func:`json_variant` answers.

    ``{"rationale": <string>, "answer": <one of the task's labels>}`` (a number for numeric
    tasks): servers that honour it (OpenAI structured outputs, vLLM, Ollama) can only
    answer with a valid label. Teachers send it as ``response_format`` or, for vLLM's
    guided decoding, as ``guided_json`` (``teacher.structured_output_mode``).
    """
    answer: dict[str, Any] = (
        {"type": "number"}
        if spec.kind == "numeric"
        else {"type": "string", "enum": list(spec.label_set or [])}
    )
    return {
        "type": "json_schema",
        "json_schema": {
            "name": f"{spec.name}_annotation",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"rationale": {"type": "string"}, "answer": answer},
                "required": ["rationale", "answer"],
                "additionalProperties": False,
            },
        },
    }


def json_variant(template: str, spec: TaskSpec) -> str:
    """A template asking for a JSON ``{"rationale", "answer"}`` reply (same placeholders)."""
    return (
        template.rstrip()
        + "\n\nReply with a JSON object only: "
        + '{{"rationale": "<your explanation>", "answer": "'
        + _answer_hint(spec)
        + '"}}.'
    )


def few_shot_cot_template(
    spec: TaskSpec,
    exemplars: Sequence[Mapping[str, Any]],
    *,
    k: int | None = None,
) -> str:
    """A few-shot chain-of-thought template: ``k`` worked exemplars, then the query.

    Each exemplar needs its input fields, ``gold_label`` and ``reference_rationale``; they
    are baked into the text (braces escaped), so the result has the task's placeholders
    only and validates like any other template.
    """
    chosen = list(exemplars)[: k if k is not None else len(exemplars)]
    if not chosen:
        raise TemplateError("few_shot_cot_template needs at least one exemplar")
    blocks = [_escape(spec.description.strip()) + "\n" + _escape(_label_line(spec)).rstrip()]
    for i, row in enumerate(chosen):
        for needed in ("gold_label", "reference_rationale"):
            value = row.get(needed)
            if value is None or (isinstance(value, float) and value != value):
                raise TemplateError(f"few-shot exemplar {row.get('id', i)!r} has no {needed}")
        fields = spec.render_fields(row)
        lines = [f"{field_title(f)}: {_escape(fields[f])}" for f in spec.input_fields]
        lines.append(f"Explanation: {_escape(str(row['reference_rationale']).strip())}")
        lines.append(f"Answer: {_escape(render_label(spec, str(row['gold_label']), row))}")
        blocks.append("\n".join(lines))
    query = _input_block(spec) + "\nExplanation:"
    return "\n\n".join([*blocks, query])
