"""Reading a label and a rationale out of a teacher's answer.

:func:`parse_answer` tries structured output first (a JSON object, fenced or bare) and falls
back to free text, in this order:

1. cut the text where it runs on into an invented next example (``\\n\\nPremise: …``,
   ``\\nQuestion: …``), as few-shot completions do;
2. find the answer *markers*: ``\\boxed{20}``, ``#### 42``, ``Final answer: (B)``,
   ``**Answer:** b``, ``Label: contradiction``, ``So the answer is (c) …``, ``The answer is
   42``. The *final* answer wins: the strongest kind of marker, the last one of that kind
   that names a label (``The answer must be a place … So the answer is (c)`` -> c);
3. with no marker: the sentence that states the answer: a conclusion ("Therefore, the
   claim is false.") first, else the first sentence when it carries an answer (answer
   first, reasons after), else the last one; numeric answers take the last result;
4. labels from a span or sentence: verbalizers anywhere in it (``The claim "…" is true.``),
   with quoted claims, enumerations ("true, false, or inconclusive") and negations ("not
   entailed") left out; options by letter (``(c)``, ``C)``, ``option 3``) or by their text,
   misspellings and plurals tolerated; numbers from arithmetic evaluated safely with
   :func:`evaluate_arithmetic` (``(12 / 6)``, ``\\frac{3}{4}``, ``<<9+11=20>>20``, ``$1,200``);
5. the rationale is the text around the answer: everything but the answer marker and the
   answer itself, cleaned of markers, whitespace and dangling connectives; shorter than
   ``min_rationale_words`` -> none.

Every answer gets a status: ``ok`` (label and, when expected, a rationale), ``no_label``,
``no_rationale`` (the teacher gave no reason: little text besides the answer),
``rationale_missed`` (plenty of other text, yet no rationale came out: the parser's fault,
not the teacher's), ``refused``, ``truncated`` (cut off before the answer; a completion cut
off *after* its answer is fine) or ``error`` (no text: the request failed).
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from zeroshot_distill.tasks.prompts import field_title
from zeroshot_distill.tasks.spec import CHOICE_LETTERS, TaskSpec, canonical_number

ParseStatus = Literal[
    "ok", "no_label", "no_rationale", "rationale_missed", "refused", "truncated", "error"
]
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
    r"^\W*(?:i['’]?m sorry|i am sorry|sorry,|i apologi[sz]e|as an ai\b|"
    r"i (?:can(?:no|['’])t|cannot|won['’]?t|am unable to|am not able to) "
    r"(?:help|assist|comply|provide|answer|do that|fulfil))",
    re.I,
)
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
    if status == "refused" or text is None:
        return ParsedAnswer(None, None, "refused")
    truncated = status == "truncated" or finish_reason == "length"

    if given_label is not None:
        if _REFUSAL.match(text):
            return ParsedAnswer(None, None, "refused")
        rationale = clean_rationale(_cut_run_on(text, spec, 0), min_rationale_words)
        if rationale is None:
            return ParsedAnswer(given_label, None, "truncated" if truncated else "no_rationale")
        return ParsedAnswer(given_label, rationale, "ok")

    parsed = _parse_json(spec, text, row, min_rationale_words)
    if parsed is None:
        parsed = _parse_free_text(spec, text, row, min_rationale_words)
    label, rationale, span = parsed
    if label is None and _REFUSAL.match(text):
        # "I'm sorry, I can't help with that" as ordinary text: no label, a refusal.
        return ParsedAnswer(None, None, "refused")
    if label is None:
        return ParsedAnswer(None, rationale, "truncated" if truncated else "no_label", span)
    if rationale is None and expect_rationale:
        return ParsedAnswer(label, None, _why_no_rationale(text, span, min_rationale_words), span)
    return ParsedAnswer(label, rationale, "ok", span)


def _why_no_rationale(text: str, span: str | None, min_words: int) -> ParseStatus:
    """``no_rationale`` when the teacher wrote (almost) nothing but the answer;
    ``rationale_missed`` when the answer holds enough other text that the parser should
    have found a reason in it (a parser problem, not a teacher problem)."""
    outside = len(text.split()) - len((span or "").split())
    return "rationale_missed" if outside >= max(min_words, 10) else "no_rationale"


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
    if rationale is None and label is not None:
        # Unknown keys ({"answer": …, "why": …}) or reasons written around the object.
        others = [str(v) for v in obj.values() if isinstance(v, str) and str(v) != span]
        around = re.sub(r"```(?:json)?|\{.*\}", " ", text, flags=re.S | re.I)
        for candidate in [*sorted(others, key=len, reverse=True), around]:
            rationale = clean_rationale(candidate, min_words)
            if rationale is not None:
                break
    return label, rationale, span


# ------------------------------------------------------------------------------ free text
# Marker strength: a final/boxed answer beats an "Answer:" line, which beats "the answer is".
_STRONG, _MEDIUM, _WEAK = 3, 2, 1
_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    # "\boxed{20}" (LaTeX), "#### 42" (GSM8K)
    (_STRONG, re.compile(r"\\boxed\s*\{(?P<span>(?:[^{}]|\{[^{}]*\})*)\}")),
    (_STRONG, re.compile(r"(?:^|\n)\s*####\s*(?P<span>[^\n]*)")),
    # "Final answer: (B) option", "**Final Answer:** 42", "The final label is neutral"
    (
        _STRONG,
        re.compile(
            r"\bfinal\s+(?:answer|label|verdict|prediction|classification|result)"
            r"[ \t*_\"']*(?:is|would be|=)?[ \t*_\"']*[:：-]?[ \t*_]*\n?[ \t]*(?P<span>[^\n]*)",
            re.I,
        ),
    ),
    # "Answer: neutral", "**Label:** contradiction", "- Prediction = B", "Conclusion: …",
    # JSON-ish '"answer": "b"' at the start of a line
    (
        _MEDIUM,
        re.compile(
            r"(?:^|\n|[{,])[ \t*#>_\"'-]*(?:the\s+)?(?:correct\s+|best\s+|predicted\s+)?"
            r"(?:answer|label|prediction|classification|verdict|conclusion|result|"
            r"relationship|correct option|correct choice|selected option)"
            r"[ \t*_\"']*(?:is)?[ \t*_\"']*[:：=][ \t*_]*\n?[ \t]*(?P<span>[^\n]*)",
            re.I,
        ),
    ),
    # "So the answer is (d) bank.", "Therefore, the correct option is: 42"
    (
        _MEDIUM,
        re.compile(
            r"\b(?:so|therefore|thus|hence|overall|consequently|in conclusion)\b,?\s+"
            r"(?:the\s+)?(?:final\s+|correct\s+|best\s+|right\s+|most\s+\w+\s+)?"
            r"(?:answer|option|choice|label)\s+(?:is|would be|will be|must be)\s*:?\s*"
            r"(?P<span>[^\n]*)",
            re.I,
        ),
    ),
    # "Therefore, B is the correct answer.", "(c) wooded area is the best option" (answer first)
    (
        _MEDIUM,
        re.compile(
            r"(?:^|(?<=[.!?\n]))\s*(?:(?:so|therefore|thus|hence|overall|clearly|"
            r"in conclusion),?\s+)?(?P<span>[^.!?\n]{1,60}?)\s+"
            r"(?:is|would be|seems to be|must be)\s+the\s+"
            r"(?:correct|right|best|final|most (?:likely|appropriate|suitable|plausible))\s+"
            r"(?:answer|option|choice|label)\b",
            re.I,
        ),
    ),
    # "The answer is 42", "The correct answer is (b)", "the relationship is neutral"
    (
        _WEAK,
        re.compile(
            r"\b(?:the\s+)?(?:correct\s+|best\s+|right\s+)?(?:answer|label|classification|"
            r"relationship|relation|verdict|conclusion)\s+(?:is|would be|must be|will be|=)\s*:?\s*"
            r"(?P<span>[^\n]*)",
            re.I,
        ),
    ),
]
# Where the answer itself ends inside a span; what follows is reasoning.
_SPAN_END = re.compile(
    r"(?<!\d)[.!?](?:\s|$)|\.(?=\s|$)|\n|\s(?:because|since|as|as it|given that)\s|"
    r",\s*(?:which|as|because|since)\s|\s[-–—]\s"
)
_REASON_IN_SENTENCE = re.compile(
    r"\b(?:because|since|as|given that|due to)\b|\(|\s[-–—]\s|:\s", re.I
)
_CONCLUSION = re.compile(
    r"^\W*(?:so|therefore|thus|hence|overall|consequently|in conclusion|in summary|"
    r"to conclude|to summarize|as a result|conclusion|ultimately)\b",
    re.I,
)
_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|(?<!\w)'[^'\n]{12,}'(?!\w)|‘[^’\n]*’")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n+")
# A label after these words is denied or only hypothetical ("not entailed", "cannot say
# whether the claim is true").
_NOT_ASSERTED = re.compile(
    r"\b(?:not|n't|cannot|never|no longer|neither|nor|without|whether|if)\W+(?:\w+\W+){0,4}$",
    re.I,
)
_ADVERB = re.compile(r"\b\w{2,}ly\b\s*", re.I)
_LIST_GLUE = re.compile(r"^[\s,/]*(?:,|/|or|and|nor)[\s,/]*(?:or|and)?[\s]*$", re.I)
_SHORT_ANSWER_WORDS = 12
_NUMBER_WORDS = re.compile(r"\d")
_BARE_LETTER = r"(?:^|(?<=[\s(\[*\"']))"


def _run_on_pattern(spec: TaskSpec) -> re.Pattern[str]:
    headers = {*_RUN_ON_HEADERS, *(field_title(f).lower() for f in spec.input_fields)}
    headers |= {f.replace("_", " ").lower() for f in spec.input_fields}
    names = "|".join(sorted((re.escape(h) for h in headers), key=len, reverse=True))
    return re.compile(rf"\n[ \t]*\n?[ \t]*(?:\d+[.)]\s*)?(?:{names})\s*\d*\s*[:：]", re.I)


def _cut_run_on(text: str, spec: TaskSpec, after: int) -> str:
    """Cut ``text`` where a new invented example starts (at or after position ``after``)."""
    match = _run_on_pattern(spec).search(text, after)
    return text[: match.start()] if match else text


@dataclass(frozen=True)
class _Span:
    start: int  # where the marker starts
    end: int  # where the answer itself ends (reasoning may follow on the same line)
    text: str
    strength: int


def _find_spans(text: str) -> list[_Span]:
    """Answer spans in text order (marker start, end of the answer proper, span text)."""
    found = []
    for strength, pattern in _MARKERS:
        for match in pattern.finditer(text):
            span = match.group("span")
            if not span.strip():
                continue
            offset = match.start("span")
            cut = _SPAN_END.search(span, 1)
            end = offset + (cut.start() + 1 if cut else len(span))
            if match.end("span") < match.end() or (
                strength == _STRONG and pattern.pattern.startswith(r"\\boxed")
            ):
                end = match.end()  # the marker follows the answer, or closes it (boxed)
            if strength < _STRONG and len(text[offset:end].split()) > _SHORT_ANSWER_WORDS:
                strength = 0  # "The answer must be a place where …": reasoning, not an answer
            found.append(_Span(match.start(), min(end, len(text)), span.strip(), strength))
    found.sort(key=lambda s: (s.start, -s.end))
    return found


def _parse_free_text(
    spec: TaskSpec, text: str, row: Mapping[str, Any] | None, min_words: int
) -> tuple[str | None, str | None, str | None]:
    spans = _find_spans(text)
    if spans:
        # Everything after the first answer line that starts a new example is run-on.
        text = _cut_run_on(text, spec, spans[0].end)
        spans = [s for s in spans if s.end <= len(text)]
    else:
        text = _cut_run_on(text, spec, 1)
    labelled = [(s, _label_from_span(spec, s.text, row)) for s in spans]
    labelled = [(s, label) for s, label in labelled if label is not None]
    if labelled:
        # The final answer: the strongest marker, the last one of that strength.
        top = max(s.strength for s, _ in labelled)
        span, label = [(s, lab) for s, lab in labelled if s.strength == top][-1]
        # Drop the chosen answer and short repeats of it ("Answer: b" twice), keep the rest.
        regions = [
            (s.start, s.end)
            for s, lab in labelled
            if s is span or (lab == label and len(text[s.start : s.end].split()) <= 6)
        ]
        rest = _remove_regions(text, regions)
        return label, clean_rationale(rest, min_words), span.text
    return _parse_unmarked(spec, text, row, min_words, spans[0].text if spans else None)


def _remove_regions(text: str, regions: list[tuple[int, int]]) -> str:
    """``text`` without the given (start, end) regions (they may overlap)."""
    kept, position = [], 0
    for start, end in sorted(regions):
        if start > position:
            kept.append(text[position:start])
        position = max(position, end)
    kept.append(text[position:])
    return "\n".join(part for part in kept if part.strip())


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets; quoted text never ends a sentence."""
    masked = _QUOTED.sub(lambda m: "Q" * len(m.group()), text)
    bounds, start = [], 0
    for match in _SENTENCE_BREAK.finditer(masked):
        if text[start : match.start()].strip():
            bounds.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        bounds.append((start, len(text)))
    return bounds


def _parse_unmarked(
    spec: TaskSpec,
    text: str,
    row: Mapping[str, Any] | None,
    min_words: int,
    first_span: str | None,
) -> tuple[str | None, str | None, str | None]:
    """No answer marker named a label: find the sentence that states the answer.

    A conclusion ("Therefore, the claim is false.") wins; else the first sentence when it
    carries an answer (answer first, reasons after), else the last one that does.
    """
    stripped = text.strip()
    if len(stripped.split()) <= 6 and "\n" not in stripped:
        label = _label_from_span(spec, stripped, row) or _label_in_sentence(spec, stripped, row)
        return label, None, stripped
    # Answer first: "False - there is no …", "Contradiction. The premise …"
    raw_lead = re.split(r"[.:;,!?\n]|\s[-–—]\s", stripped, maxsplit=1)[0]
    lead = raw_lead.strip(" *_#")
    # (a lone "Yes," / "No," answers the prompt's question, e.g. "can we determine …?")
    if len(lead.split()) <= 3 and len(lead) > 3:
        label = _label_from_span(spec, lead, row) if spec.kind != "numeric" else None
        if label is not None:
            rest = stripped[len(raw_lead) :].lstrip(" *_.:;,-–—!?\n")
            return label, clean_rationale(rest, min_words), lead
    bounds = _sentences(text)
    found = [(i, _label_in_sentence(spec, text[a:b], row)) for i, (a, b) in enumerate(bounds)]
    found = [(i, label) for i, label in found if label is not None]
    if not found:
        return None, clean_rationale(text, min_words), first_span
    conclusions = [(i, lab) for i, lab in found if _CONCLUSION.match(text[bounds[i][0] :])]
    if spec.kind == "numeric":  # the last result computed is the answer
        index, label = found[-1]
    elif conclusions:
        index, label = conclusions[-1]
    elif found[0][0] == 0:
        index, label = found[0]
    else:
        index, label = found[-1]
    start, end = bounds[index]
    sentence = text[start:end]
    words = len(_QUOTED.sub("Q", sentence).split())
    rest = text
    if words <= _SHORT_ANSWER_WORDS:
        # drop the answer sentence, but keep a reason it gives ("…, since …", "… (the …)")
        reason = _REASON_IN_SENTENCE.search(sentence)
        cut_end = start + reason.start() if reason else end
        rest = _remove_regions(text, [(start, cut_end)])
    return label, clean_rationale(rest, min_words), sentence.strip()


def _label_from_span(spec: TaskSpec, span: str, row: Mapping[str, Any] | None) -> str | None:
    """A label from an answer span: the first clause first ("No, because …" -> no)."""
    span = span.strip().strip("*_`\"'“”‘’[]{}").strip()
    if not span:
        return None
    if spec.kind == "numeric":
        return _number_in(span, first=True)
    first = re.split(r"(?<=[.!?])\s|\n", span, maxsplit=1)[0]
    if spec.kind == "multiple_choice" and len(set(re.findall(r"\(([a-z])\)", first.lower()))) >= 3:
        return None  # "(a) x, (b) y and (e) z": a list of options, not an answer
    candidates = []
    clause = re.split(r"[,;.!?\n]|\s[-–—]\s|\bbecause\b|\bsince\b", span, maxsplit=1)[0].strip()
    clause = clause.strip("*_`\"'“”‘’[]{}").strip()
    if clause:
        candidates.append(clause)
    candidates.append(span)
    for candidate in candidates:
        label = spec.normalize_label(candidate, row)
        if label is not None and spec.is_valid_label(label):
            return label
    return _label_in_sentence(spec, first, row)


def _label_in_sentence(spec: TaskSpec, sentence: str, row: Mapping[str, Any] | None) -> str | None:
    """The label a free sentence states, or ``None`` (none, or a list of several)."""
    if spec.kind == "numeric":
        # a computation states its result last ("10 - 3 = 7"); a plain clause its answer
        # first ("you can buy 4 packs with 104 dollars")
        if "=" in re.sub(r"<<[^<>]*>>", " ", sentence):
            return _number_in(sentence, first=False)
        # the main clause is the last one ("after 45 days of harvest, they will have 1080")
        clauses = [c for c in re.split(r",\s+(?!\d{3}\b)", sentence) if _NUMBER_WORDS.search(c)]
        return _number_in(clauses[-1], first=True) if clauses else None
    if spec.kind == "multiple_choice":
        return _choice_in_sentence(spec, sentence, row)
    return _class_in_sentence(spec, sentence)


# ------------------------------------------------------------------ classification labels
def _class_in_sentence(spec: TaskSpec, sentence: str) -> str | None:
    """The last label a sentence names, quoted claims, lists and negations left out.

    ``The claim "X is true" is false.`` -> false; ``whether it is true, false or
    inconclusive`` names no label; ``not entailed`` names none (unless "not …" is itself a
    verbalizer, e.g. "not true").
    """
    synonyms = _synonym_table(spec)
    masked = _QUOTED.sub(lambda m: _keep_short_label(m.group(), synonyms), sentence).lower()
    masked = _ADVERB.sub("", masked)  # "cannot conclusively determine" -> "cannot determine"
    hits: list[tuple[int, int, str]] = []
    taken = [False] * len(masked)
    # Interjections ("yes", "no") answer the question the prompt asked, not the task: in free
    # prose they are too common to count; answer spans read them (see _label_from_span).
    for phrase in sorted((p for p in synonyms if len(p) > 3), key=len, reverse=True):
        for match in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", masked):
            if any(taken[match.start() : match.end()]):
                continue
            for k in range(match.start(), match.end()):
                taken[k] = True
            hits.append((match.start(), match.end(), synonyms[phrase]))
    hits.sort()
    # Drop enumerations ("true, false, or inconclusive"): hits joined by commas / "or".
    listed: set[int] = set()
    for k in range(len(hits) - 1):
        if _LIST_GLUE.match(masked[hits[k][1] : hits[k + 1][0]]) and hits[k][2] != hits[k + 1][2]:
            listed |= {k, k + 1}
    kept = [
        hit
        for k, hit in enumerate(hits)
        if k not in listed and not _NOT_ASSERTED.search(_clause_before(masked, hit[0]))
    ]
    return kept[-1][2] if kept else None


def _clause_before(text: str, position: int) -> str:
    """Up to 50 characters before ``position``, within the same clause."""
    return re.split(r"[,;:()]|\s[-–—]\s", text[max(0, position - 50) : position])[-1]


def _keep_short_label(quoted: str, synonyms: Mapping[str, str]) -> str:
    inner = _WORDS_ONLY.sub(" ", quoted.lower()).strip()
    return quoted if inner in synonyms else " " * len(quoted)


_WORDS_ONLY = re.compile(r"[^\w\s-]")


def _synonym_table(spec: TaskSpec) -> dict[str, str]:
    table: dict[str, str] = {}
    for label in spec.labels or []:
        table[label.lower()] = label
        for phrase in spec.verbalizers.get(label, []):
            table[_WORDS_ONLY.sub(" ", phrase.lower()).strip()] = label
    return table


# ------------------------------------------------------------------- multiple-choice labels
_STOP = {"a", "an", "the", "to", "of", "in", "on", "at", "be", "is", "and", "or", "your", "their"}


def _stem(word: str) -> str:
    """A crude stem, enough to match option text: carving / carved / carve -> carv."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _tokens(text: str) -> list[tuple[int, str]]:
    """Lower-case word tokens with their offsets, crudely stemmed."""
    return [(m.start(), _stem(m.group())) for m in re.finditer(r"[a-z0-9']+", text.lower())]


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 5:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.85


def _option_positions(option: str, tokens: list[tuple[int, str]]) -> list[int]:
    """Where ``option`` is mentioned: its content words in order, at most one word between."""
    words = [w for _, w in _tokens(option) if w not in _STOP] or [w for _, w in _tokens(option)]
    if not words:
        return []
    positions = []
    for i, (offset, word) in enumerate(tokens):
        if not _similar(word, words[0]):
            continue
        j, ok = i, True
        for needed in words[1:]:
            nxt = next(
                (
                    k
                    for k in range(j + 1, min(j + 3, len(tokens)))
                    if _similar(tokens[k][1], needed)
                ),
                None,
            )
            if nxt is None:
                ok = False
                break
            j = nxt
        if ok:
            positions.append(offset)
    return positions


def _choice_in_sentence(spec: TaskSpec, sentence: str, row: Mapping[str, Any] | None) -> str | None:
    """The option a sentence picks: a letter ("(c)", "C)", "option 3") or an option's text.

    With several options named, the first one after the last "is / would be / :" wins
    ("… would be a classroom or a university" -> classroom), else the last one named.
    """
    letters = CHOICE_LETTERS[: spec.n_choices or 0]
    lowered = sentence.lower()
    marked = re.findall(rf"\(([{letters}])\)", lowered)
    marked += re.findall(rf"{_BARE_LETTER}([{letters.upper()}{letters}])\)", sentence)
    marked += [
        m.lower()
        # "B. bank", "**B**", a bare "C" - but not the article in "A garage is …"
        for m in re.findall(rf"(?:^|\*\*)([{letters.upper()}])(?:[.:)]|\*\*|\s*$)", sentence)
    ]
    for digit in re.findall(r"\b(?:option|choice|answer|number|no\.?)\s*#?\(?([1-9])\b", lowered):
        if int(digit) <= len(letters):
            marked.append(letters[int(digit) - 1])
    marked += [
        m.lower()
        for m in re.findall(rf"\b(?:option|choice)\s*\(?([{letters.upper()}])\b", sentence)
    ]
    if marked:
        picked = {m.lower() for m in marked}
        if len(picked) >= 3:  # "a) Michigan, d) New York, and e) City": a list, not an answer
            return None
        return picked.pop() if len(picked) == 1 else marked[-1].lower()
    if row is None or spec.choices_field not in row:
        return None
    choices = [str(c) for c in list(row[spec.choices_field])][: len(letters)]
    tokens = _tokens(sentence)
    # Where an option is part of a longer one named at the same place ("house" / "haunted
    # house"), the longer one counts.
    longest: dict[int, tuple[int, str]] = {}
    for i, choice in enumerate(choices):
        size = len(_tokens(choice))
        for pos in _option_positions(choice, tokens):
            if pos not in longest or size > longest[pos][0]:
                longest[pos] = (size, letters[i])
    mentions = sorted((pos, letter) for pos, (_, letter) in longest.items())
    named = {lab for _, lab in mentions}
    if not mentions or len(named) >= 3:  # none, or an enumeration of the options
        return None
    if len(named) == 1:
        return mentions[0][1]
    cue = None
    for match in re.finditer(r"\b(?:is|are|would be|will be|be|choose|pick|select)\b|:", lowered):
        cue = match.end()
    after = [m for m in mentions if cue is not None and m[0] >= cue]
    return after[0][1] if after else mentions[-1][1]


# -------------------------------------------------------------------------- numeric labels
_EXPRESSION = re.compile(
    r"(?<![\w.])[-−]?\(*\s*[-−]?\$?\d[\d,]*(?:\.\d+)?%?\s*\)*"
    r"(?:\s*[-+*/×x÷−^]\s*\(*\s*[-−]?\$?\d[\d,]*(?:\.\d+)?%?\s*\)*)*"
)
_FRACTION = re.compile(r"\\d?frac\{([^{}]+)\}\{([^{}]+)\}")


def _number_in(text: str, *, first: bool) -> str | None:
    """The number a span or sentence gives, expressions evaluated (``(12 / 6)`` -> 2).

    Calculator notes ``<<9+11=20>>`` are dropped, ``\\frac{a}{b}`` is read as a / b, thousands
    separators and currency signs are ignored; with ``first`` the first value in ``text``
    counts, else the last (the result of ``9 - 4 = 5``).
    """
    text = re.sub(r"<<[^<>]*>>", " ", text)
    text = _FRACTION.sub(r"(\1)/(\2)", text)
    text = text.replace("\\times", "*").replace("\\div", "/").replace("\\cdot", "*")
    text = re.sub(r"\\[()\[\]]|\\!|\\,", " ", text)
    values = []
    for match in _EXPRESSION.finditer(text):
        expression = match.group().strip()
        if not _NUMBER_WORDS.search(expression):
            continue
        value = evaluate_arithmetic(expression)
        if value is not None:
            values.append(value)
    if not values:
        return None
    if first:
        # "6 * 7 = 42" on an answer line: the result after the "=" wins
        segment = re.split(r"=", text, maxsplit=1)
        if len(segment) == 2 and _EXPRESSION.search(segment[0]):
            head = _number_in(segment[0], first=False)
            tail = _number_in(segment[1], first=True)
            return tail if tail is not None else head
    chosen = values[0] if first else values[-1]
    return canonical_number(_format_number(chosen))


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


_ALLOWED_BINOPS: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate_arithmetic(expression: str) -> float | None:
    """Evaluate ``+ - * / ^`` and parentheses over plain numbers, safely (``ast``, no ``eval``).

    ``"$1,200"`` -> 1200, ``"(12 / 6)"`` -> 2, ``"3 × 4"`` -> 12, ``"50%"`` -> 50; anything
    else (names, calls, huge powers, division by zero) -> ``None``.
    """
    cleaned = (
        expression.replace("$", "")
        .replace("%", "")
        .replace("×", "*")
        .replace("÷", "/")
        .replace("−", "-")
        .replace("^", "**")
    )
    cleaned = re.sub(r"(?<=\d)\s*x\s*(?=[\d(])", "*", cleaned)
    cleaned = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", cleaned)
    if "," in cleaned:
        return None
    try:
        tree = ast.parse(cleaned.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _ALLOWED_BINOPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 16 or abs(left) > 1e6):
                raise ValueError("power too large")
            return float(_ALLOWED_BINOPS[type(node.op)](left, right))
        raise ValueError(f"not arithmetic: {ast.dump(node)}")

    try:
        value = walk(tree)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    return value if math.isfinite(value) else None


def clean_rationale(text: str | None, min_words: int = DEFAULT_MIN_RATIONALE_WORDS) -> str | None:
    """Tidy a rationale: markers, markdown, whitespace, dangling "So,"; ``None`` if too short."""
    if text is None:
        return None
    cleaned = text.replace("**", "").replace("__", "")
    cleaned = re.sub(r"</?(?:think|thinking|reasoning|answer|rationale)>", " ", cleaned, flags=re.I)
    cleaned = re.sub(r"^[\s.,;:!?)\]-]+", "", cleaned)  # left over where the answer was cut
    cleaned = _LEADING_MARKER.sub("", cleaned.strip())
    cleaned = re.sub(r"^(?:because|since|as)\s+", "", cleaned, flags=re.I)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    cleaned = _TRAILING_CONNECTIVE.sub("", cleaned).strip(" ,;:-")
    if len(cleaned.split()) < max(min_words, 1):
        return None
    return cleaned
