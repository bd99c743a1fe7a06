"""Reading a label and a rationale out of a teacher's answer.

:func:`parse_answer` tries structured output first (a JSON object, fenced or bare) and falls
back to free text, in this order:

1. cut the text where it runs on into an invented next example (``\\n\\nPremise: …``,
   ``\\nQuestion: …``), as few-shot completions do;
2. find the *answer span*: ``Answer: neutral``, ``So the answer is (d) …``, ``The answer
   is 42``, ``#### 42``; the first span that names a label wins;
3. map the span to a label with the task's verbalizers (``true`` / ``false`` /
   ``inconclusive`` → entailment / contradiction / neutral). Verbalizers such as
   ``yes`` / ``no`` are matched *only inside the answer span*, never across the rationale;
4. with no marker at all: a short reply is itself the span; otherwise only an exact label
   name (classification), a bracketed letter (multiple choice) or the last number (numeric)
   in the last sentence counts;
5. the rationale is the text before the answer (or an ``Explanation:`` after it), cleaned of
   markers, whitespace and dangling connectives; shorter than ``min_rationale_words`` → none.

Every answer gets a status: ``ok`` (label and, when expected, a rationale), ``no_label``,
``no_rationale``, ``refused``, ``truncated`` (cut off before the answer; a completion cut
off *after* its answer is fine) or ``error`` (no text: the request failed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from zeroshot_distill.tasks.prompts import field_title
from zeroshot_distill.tasks.spec import TaskSpec, canonical_number

ParseStatus = Literal["ok", "no_label", "no_rationale", "refused", "truncated", "error"]
PARSE_STATUSES: tuple[str, ...] = ParseStatus.__args__  # type: ignore[attr-defined]
DEFAULT_MIN_RATIONALE_WORDS = 3

_LABEL_KEYS = ("answer", "label", "final_answer", "prediction", "output", "result")
_RATIONALE_KEYS = (
    "rationale",
    "explanation",
    "reasoning",
    "reason",
    "justification",
    "thoughts",
    "thought",
    "analysis",
)
_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry,|i apologi[sz]e|as an ai\b|"
    r"i (?:can(?:no|')t|cannot|won'?t|am unable to|am not able to) "
    r"(?:help|assist|comply|provide|answer|do that|fulfil))",
    re.I,
)
_MARKERS = [
    # "Answer: neutral", "**Final answer:** (b)" at the start of a line
    re.compile(
        r"(?:^|\n)[ \t*#>-]*(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|label|prediction)"
        r"[ \t*]*(?:is)?[ \t*]*[:：][ \t*]*(?P<span>[^\n]*)",
        re.I,
    ),
    # "So the answer is (d) bank.", "Therefore, the final answer is: 42"
    re.compile(
        r"\b(?:so|therefore|thus|hence|overall|consequently)\b,?\s+(?:the\s+)?"
        r"(?:final\s+|correct\s+|best\s+|right\s+)?answer\s+(?:is|would be|must be|will be)"
        r"\s*:?\s*(?P<span>[^\n]*)",
        re.I,
    ),
    # "The answer is 42", "The correct answer is (b)"
    re.compile(
        r"\b(?:the\s+)?(?:final\s+|correct\s+|best\s+|right\s+)?answer\s+"
        r"(?:is|would be|must be|will be)\s*:?\s*(?P<span>[^\n]*)",
        re.I,
    ),
    # "#### 42" (GSM8K style)
    re.compile(r"(?:^|\n)\s*####\s*(?P<span>[^\n]*)"),
    # "The relationship is neutral", "Label = entailment"
    re.compile(
        r"\b(?:relationship|relation|classification|verdict)\s+(?:is|=|:)\s*(?P<span>[^\n]*)",
        re.I,
    ),
]
_RUN_ON_HEADERS = (
    "premise",
    "hypothesis",
    "question",
    "q",
    "context",
    "input",
    "text",
    "sentence",
    "passage",
    "example",
    "problem",
    "options",
    "answer choices",
    "choices",
    "reasonings",
)
_LEADING_MARKER = re.compile(
    r"^(?:\s*(?:[*#>-]+\s*)?(?:reasonings?|rationale|explanation|reason|justification|"
    r"thoughts?|analysis|let'?s think step by step|step-by-step(?: reasoning)?|a)\s*[:：.]\s*)+",
    re.I,
)
_TRAILING_CONNECTIVE = re.compile(
    r"[\s,;:]*(?:\b(?:so|therefore|thus|hence|consequently|overall|in conclusion)\b[\s,]*)+$",
    re.I,
)
_AFTER_ANSWER_RATIONALE = re.compile(
    r"^\s*(?:[.\n]\s*)*(?:explanation|rationale|reasoning|reason|because)\b\s*[:：,]?\s*",
    re.I,
)


@dataclass(frozen=True)
class ParsedAnswer:
    """A label (or ``None``), a rationale (or ``None``) and how parsing went."""

    label: str | None
    rationale: str | None
    status: ParseStatus
    answer_span: str | None = None


def parse_answer(
    spec: TaskSpec,
    text: str | None,
    row: Mapping[str, Any] | None = None,
    *,
    status: str = "ok",
    finish_reason: str | None = None,
    expect_rationale: bool = True,
    given_label: str | None = None,
    min_rationale_words: int = DEFAULT_MIN_RATIONALE_WORDS,
) -> ParsedAnswer:
    """Parse one teacher answer (see the module docstring).

    Args:
        spec: the task (label set, verbalizers, kind).
        text: the raw completion (``None`` when the request failed).
        row: the example (its choices help multiple-choice answers given as option text).
        status: the teacher result's status (``ok``, ``truncated``, ``refused``, ``error``).
        finish_reason: the API's finish reason (``length`` means truncated).
        expect_rationale: ``False`` for label-only prompts (no rationale is not a failure).
        given_label: the label the prompt gave (rationalize template): the whole answer is
            the rationale and the label is this one.
        min_rationale_words: shorter rationales count as none.
    """
    if status == "error" or (text is None and status != "refused"):
        return ParsedAnswer(None, None, "error")
    if status == "refused" or text is None or _REFUSAL.match(text):
        return ParsedAnswer(None, None, "refused")
    truncated = status == "truncated" or finish_reason == "length"

    if given_label is not None:
        rationale = clean_rationale(_cut_run_on(text, spec, 0), min_rationale_words)
        if rationale is None:
            return ParsedAnswer(given_label, None, "truncated" if truncated else "no_rationale")
        return ParsedAnswer(given_label, rationale, "ok")

    parsed = _parse_json(spec, text, row, min_rationale_words)
    if parsed is None:
        parsed = _parse_free_text(spec, text, row, min_rationale_words)
    label, rationale, span = parsed
    if label is None:
        return ParsedAnswer(None, rationale, "truncated" if truncated else "no_label", span)
    if rationale is None and expect_rationale:
        return ParsedAnswer(label, None, "no_rationale", span)
    return ParsedAnswer(label, rationale, "ok", span)


# ----------------------------------------------------------------------------------- JSON
def _json_object(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", stripped, re.S | re.I)
    candidates = [fence.group(1)] if fence else []
    start = stripped.find("{")
    if start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(stripped)):
            char = stripped[i]
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    candidates.append(stripped[start : i + 1])
                    break
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _parse_json(
    spec: TaskSpec, text: str, row: Mapping[str, Any] | None, min_words: int
) -> tuple[str | None, str | None, str | None] | None:
    obj = _json_object(text)
    if obj is None:
        return None
    lowered = {str(k).lower(): v for k, v in obj.items()}
    raw_label = next((lowered[k] for k in _LABEL_KEYS if k in lowered), None)
    raw_rationale = next((lowered[k] for k in _RATIONALE_KEYS if k in lowered), None)
    if raw_label is None and raw_rationale is None:
        return None
    if isinstance(raw_rationale, list):
        raw_rationale = " ".join(str(x) for x in raw_rationale)
    span = None if raw_label is None else str(raw_label)
    label = _label_from_span(spec, span, row) if span is not None else None
    rationale = clean_rationale(str(raw_rationale), min_words) if raw_rationale else None
    return label, rationale, span


# ------------------------------------------------------------------------------ free text
def _run_on_pattern(spec: TaskSpec) -> re.Pattern[str]:
    headers = {*_RUN_ON_HEADERS, *(field_title(f).lower() for f in spec.input_fields)}
    headers |= {f.replace("_", " ").lower() for f in spec.input_fields}
    names = "|".join(sorted((re.escape(h) for h in headers), key=len, reverse=True))
    return re.compile(rf"\n[ \t]*\n?[ \t]*(?:\d+[.)]\s*)?(?:{names})\s*\d*\s*[:：]", re.I)


def _cut_run_on(text: str, spec: TaskSpec, after: int) -> str:
    """Cut ``text`` where a new invented example starts (at or after position ``after``)."""
    match = _run_on_pattern(spec).search(text, after)
    return text[: match.start()] if match else text


def _find_spans(text: str) -> list[tuple[int, int, str]]:
    """Answer spans as (marker start, span end, span text), in text order."""
    found = []
    for pattern in _MARKERS:
        for match in pattern.finditer(text):
            span = match.group("span").strip()
            if span:
                found.append((match.start(), match.end(), span))
    found.sort(key=lambda item: (item[0], -item[1]))
    return found


def _parse_free_text(
    spec: TaskSpec, text: str, row: Mapping[str, Any] | None, min_words: int
) -> tuple[str | None, str | None, str | None]:
    spans = _find_spans(text)
    if spans:
        # Everything after the first answer line that starts a new example is run-on.
        text = _cut_run_on(text, spec, spans[0][1])
        spans = [s for s in spans if s[1] <= len(text)]
    else:
        text = _cut_run_on(text, spec, 1)
    first_span: str | None = None
    for start, end, span in spans:
        first_span = first_span or span
        label = _label_from_span(spec, span, row)
        if label is None:
            continue
        rationale = clean_rationale(text[:start], min_words)
        if rationale is None:  # "Answer: x. Explanation: …" / "Answer: x\nBecause …"
            after = _AFTER_ANSWER_RATIONALE.match(text[end:])
            if after:
                rationale = clean_rationale(text[end + after.end() :], min_words)
        return label, rationale, span
    if spans:
        return None, clean_rationale(text[: spans[0][0]], min_words), first_span
    return _parse_unmarked(spec, text, row, min_words)


def _parse_unmarked(
    spec: TaskSpec, text: str, row: Mapping[str, Any] | None, min_words: int
) -> tuple[str | None, str | None, str | None]:
    stripped = text.strip()
    if len(stripped.split()) <= 6 and "\n" not in stripped:
        return _label_from_span(spec, stripped, row), None, stripped
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", stripped) if s.strip()]
    last = sentences[-1] if sentences else stripped
    label: str | None = None
    if spec.kind == "classification":
        lowered = last.lower()
        named = {
            lab for lab in spec.labels or [] if re.search(rf"\b{re.escape(lab.lower())}\b", lowered)
        }
        label = named.pop() if len(named) == 1 else None
    elif spec.kind == "multiple_choice":
        letters = set(re.findall(rf"\(([{spec.label_set and ''.join(spec.label_set)}])\)", last))
        label = letters.pop() if len(letters) == 1 else None
    else:
        label = canonical_number(last)
    body = " ".join(sentences[:-1]) if label and len(last.split()) <= 8 else stripped
    return label, clean_rationale(body, min_words), last if label else None


def _label_from_span(spec: TaskSpec, span: str, row: Mapping[str, Any] | None) -> str | None:
    """A label from an answer span: the first clause first ("No, because …" -> no)."""
    span = span.strip().strip("*_`\"'“”‘’[]").strip()
    if not span:
        return None
    if spec.kind == "numeric":
        first = re.split(r"(?<!\d)[.;](?!\d)|\.(?=\s|$)", span, maxsplit=1)[0]
        return canonical_number(first) or canonical_number(span)
    candidates = []
    clause = re.split(r"[,;.!?\n]|\s[-–—]\s|\bbecause\b|\bsince\b", span, maxsplit=1)[0].strip()
    if clause:
        candidates.append(clause)
    candidates.append(span)
    for candidate in candidates:
        label = spec.normalize_label(candidate, row)
        if label is not None and spec.is_valid_label(label):
            return label
    return None


def clean_rationale(text: str | None, min_words: int = DEFAULT_MIN_RATIONALE_WORDS) -> str | None:
    """Tidy a rationale: markers, markdown, whitespace, dangling "So,"; ``None`` if too short."""
    if text is None:
        return None
    cleaned = text.replace("**", "").replace("__", "")
    cleaned = _LEADING_MARKER.sub("", cleaned.strip())
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    cleaned = _TRAILING_CONNECTIVE.sub("", cleaned).strip(" ,;:-")
    if len(cleaned.split()) < max(min_words, 1):
        return None
    return cleaned
