"""``simulated`` backend: an offline, deterministic stand-in for a teacher LLM.

NOT A MODEL. It exists for the offline demo and the tests; everything it returns is marked
``simulated=True``, its model name says so, and it logs a warning when built.

Two roles, told apart by the request:

* **Annotator / scorer** (a reference row for the request): it answers from the row's
  ``gold_label`` and ``reference_rationale``. Whether the label is right and whether a
  rationale comes with it are seeded coin flips per example with probabilities
  ``teacher.simulated.accuracy`` / ``explanation_rate``, moved *plausibly and
  deterministically* by the template's wording, so that prompt optimization has something
  to optimise offline: asking to explain / justify / reason raises the explanation rate,
  asking for the label only lowers it, "step by step" / "carefully" help accuracy a
  little, and a hash of the template gives a small fixed accuracy offset. The template is
  recovered from the prompt by blanking out the example's own field values. The answer
  follows the requested format loosely: JSON when ``response_format`` or the prompt asks
  for JSON, else ``"<rationale>\\nAnswer: <label>"`` or ``"<rationale> So the answer is
  <label>."``. Without a reference label it says it cannot determine the answer.
  The rows come from the code that has them, keyed by request key, through
  :func:`zeroshot_distill.teachers.provide_references`; real backends never see them.
* **Optimizer** (no reference row; the prompt contains ``<PRT>…</PRT>`` templates, as the OPRO
  meta-prompt does): it returns one new template in ``<PRT>…</PRT>``, recombining and
  mutating the instruction sentences of the templates shown and keeping their
  ``{placeholders}``. At temperature > 0 successive calls differ (a seeded counter);
  rarely (``optimizer_fault_rate``) it returns a duplicate or drops a placeholder, so the
  optimizer's rejection paths get exercised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from zeroshot_distill.tasks.spec import CHOICE_LETTERS, canonical_number
from zeroshot_distill.tasks.values import is_missing
from zeroshot_distill.teachers.base import ChatRequest, ChatResult
from zeroshot_distill.teachers.config import TeacherConfig
from zeroshot_distill.teachers.engine import PreparedRequest, Sink
from zeroshot_distill.teachers.ledger import estimate_prompt_tokens, estimate_tokens
from zeroshot_distill.teachers.simulated_notice import BACKEND_WARNING, model_name

logger = logging.getLogger(__name__)
_WARNED = threading.Event()

CANNOT_DETERMINE = "I cannot determine the answer from the information given."
_PRT = re.compile(r"<PRT>(.*?)</PRT>", re.S)
_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[ \t]+|\n+")
EXPLAIN_WORDS = (
    "explain",
    "explanation",
    "justify",
    "justification",
    "reason",
    "rationale",
    "why",
    "because",
)
LABEL_ONLY_WORDS = (
    "label only",
    "only the label",
    "only the answer",
    "just the answer",
    "answer only",
    "no explanation",
    "without explanation",
    "do not explain",
)
CAREFUL_WORDS = ("step by step", "carefully", "think", "consider")
OPTIMIZER_PHRASES = (
    "Explain your reasoning in one or two sentences before answering.",
    "Think step by step.",
    "Justify your answer briefly.",
    "Read both texts carefully.",
    "Give a short explanation, then the answer.",
    "Consider what the first text implies about the second.",
    "Be concise.",
    "State the key fact that decides the answer.",
    "Answer with the label that fits best.",
    "Why is this the answer? Say so in one sentence.",
)
_FILLER = (
    "This follows from what the text states",
    "The wording of the input supports this reading",
    "Nothing in the input points the other way",
)


def _unit(*parts: Any) -> float:
    """A deterministic number in [0, 1) from ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, str):
        return []
    try:
        return list(value)
    except TypeError:
        return []


class SimulatedBackend:
    """Deterministic answers from reference labels/rationales; a mock optimizer."""

    name = "simulated"
    simulated = True

    def __init__(self, config: TeacherConfig) -> None:
        self.config = config
        self.settings = config.simulated
        self.model = model_name(config.model)
        # The task's label set (wrong answers are drawn from it): teacher.simulated.labels,
        # replaced by the labels provide_references passes with the rows.
        self.labels = list(self.settings.labels or [])
        self.seed = config.seed if config.seed is not None else 0
        self._optimizer_calls = 0
        self._lock = threading.Lock()
        self._references: dict[str, Mapping[str, Any]] = {}
        if not _WARNED.is_set():
            _WARNED.set()
            logger.warning(BACKEND_WARNING, self.model)

    # ------------------------------------------------------------------------ references
    def add_references(
        self,
        references: Mapping[str, Mapping[str, Any]],
        labels: Sequence[str] | None = None,
    ) -> None:
        """Rows to answer from, by request key; ``labels``: the task's label set (wrong
        answers are drawn from it)."""
        with self._lock:
            self._references.update(references)
            if labels:
                self.labels = [str(label) for label in labels]

    def reference(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """The row this request is answered from, or None (an optimizer request)."""
        return self._references.get(request.key)

    # ------------------------------------------------------------------------ backend API
    def cache_material(self, request: ChatRequest) -> Mapping[str, Any] | None:
        """The answer depends on the settings and the example's references: key on them."""
        material: dict[str, Any] = {
            "settings": self.settings.model_dump(mode="json"),
            "labels": self.labels,
            "seed": self.seed,
        }
        example = self.reference(request)
        if example is not None:
            material["example"] = {
                "id": str(example.get("id", request.key)),
                "gold": None
                if is_missing(example.get("gold_label"))
                else str(example["gold_label"]),
                "reference": None
                if is_missing(example.get("reference_rationale"))
                else str(example["reference_rationale"]),
            }
        return material

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, str]]) -> int | None:
        """Estimated like an API would count them."""
        return estimate_prompt_tokens(messages)

    def close(self) -> None:
        """Nothing to release."""

    def run(self, items: Sequence[PreparedRequest], sink: Sink) -> None:
        """Answer each item at once (plus ``latency_s`` if configured)."""
        for item in items:
            started = time.perf_counter()
            if self.settings.latency_s:
                time.sleep(self.settings.latency_s)
            text = self.answer(item)
            sink(
                item,
                ChatResult(
                    key=item.request.key,
                    text=text,
                    status="ok",
                    model=self.model,
                    prompt_tokens=estimate_prompt_tokens(item.messages),
                    completion_tokens=estimate_tokens(text),
                    latency_s=time.perf_counter() - started,
                    simulated=True,
                    extra={"finish_reason": "stop"},
                ),
            )

    # ---------------------------------------------------------------------------- answers
    def answer(self, item: PreparedRequest) -> str:
        """The simulated completion text for one request."""
        prompt = "\n".join(m["content"] for m in item.messages)
        example = self.reference(item.request)
        if example is not None:
            return self._annotate(item, prompt, example)
        if "<PRT>" in prompt:
            return self._optimize(item, prompt)
        return CANNOT_DETERMINE

    def template_effects(self, prompt: str, example: Mapping[str, Any]) -> tuple[float, float]:
        """(accuracy, explanation rate) this prompt's template earns, deterministically."""
        skeleton = self._skeleton(prompt, example)
        lowered = skeleton.lower()
        k = self.settings.template_sensitivity
        explain = any(w in lowered for w in EXPLAIN_WORDS)
        label_only = any(w in lowered for w in LABEL_ONLY_WORDS)
        careful = sum(w in lowered for w in CAREFUL_WORDS)
        accuracy = self.settings.accuracy + k * (
            0.06 * (_unit("template", skeleton) - 0.5) + 0.015 * min(careful, 2)
        )
        rate = self.settings.explanation_rate
        if explain:
            rate += k * 0.2
        if label_only:  # an explicit "answer only" wins over any request to explain
            rate = rate * max(0.0, 1.0 - k * 0.9)
        rate += k * 0.04 * (_unit("template-rate", skeleton) - 0.5)
        return min(max(accuracy, 0.0), 1.0), min(max(rate, 0.0), 1.0)

    @staticmethod
    def _skeleton(prompt: str, example: Mapping[str, Any]) -> str:
        """The prompt with the example's own values blanked: roughly the template."""
        values: list[str] = []
        for name, value in example.items():
            if name in ("gold_label", "reference_rationale", "id", "split"):
                continue
            if isinstance(value, str):
                values.append(value.strip())
            else:
                values.extend(str(v).strip() for v in _as_list(value))
        skeleton = prompt
        for value in sorted((v for v in values if len(v) >= 2), key=len, reverse=True):
            skeleton = skeleton.replace(value, "{}")
        return re.sub(r"\s+", " ", skeleton).strip()

    def _annotate(self, item: PreparedRequest, prompt: str, example: Mapping[str, Any]) -> str:
        gold = example.get("gold_label")
        wants_json = bool(item.response_format) or "json" in prompt.lower()
        if is_missing(gold):
            if wants_json:
                return json.dumps({"rationale": CANNOT_DETERMINE, "answer": "unknown"})
            return CANNOT_DETERMINE
        gold = str(gold)
        row_id = str(example.get("id", item.request.key))
        accuracy, rate = self.template_effects(prompt, example)
        correct = _unit(self.seed, "label", row_id) < accuracy
        label = gold if correct else self._wrong_label(gold, row_id, example)
        explain = _unit(self.seed, "explain", row_id) < rate
        rationale = self._rationale(example, row_id) if explain else ""
        shown = self._show_label(label, example)
        if wants_json:
            body: dict[str, str] = {"answer": shown}
            if rationale:
                body = {"rationale": rationale, "answer": shown}
            return json.dumps(body)
        if not rationale:
            return f"Answer: {shown}" if "answer:" in prompt.lower() else f"{shown}"
        if "answer:" in prompt.lower():
            return f"{rationale}\nAnswer: {shown}"
        return f"{rationale} So the answer is {shown}."

    def _wrong_label(self, gold: str, row_id: str, example: Mapping[str, Any]) -> str:
        pick = _unit(self.seed, "wrong", row_id)
        others = [label for label in self.labels if label != gold]
        if others:
            return others[int(pick * len(others))]
        if len(gold) == 1 and gold in CHOICE_LETTERS:
            n = len(_as_list(example.get("choices"))) or 5
            letters = [c for c in CHOICE_LETTERS[:n] if c != gold]
            return letters[int(pick * len(letters))]
        number = canonical_number(gold)
        if number is not None:
            return canonical_number(str(float(number) + 1 + int(pick * 9))) or gold
        return "unknown"  # no label set to pick from: an answer that parses to no label

    @staticmethod
    def _show_label(label: str, example: Mapping[str, Any]) -> str:
        choices = _as_list(example.get("choices"))
        if len(label) == 1 and label in CHOICE_LETTERS and choices:
            index = CHOICE_LETTERS.index(label)
            if index < len(choices):
                return f"({label}) {str(choices[index]).strip()}"
        return label

    def _rationale(self, example: Mapping[str, Any], row_id: str) -> str:
        """Whole sentences (reference first, then sentences about the input) of about
        ``rationale_words`` words."""
        low, high = self.settings.rationale_words
        target = low + int(_unit(self.seed, "length", row_id) * (high - low + 1))
        reference = example.get("reference_rationale")
        sentences = [] if is_missing(reference) else [str(reference).strip()]
        for name, value in example.items():
            if name in ("id", "split", "gold_label", "reference_rationale"):
                continue
            if isinstance(value, str) and value.strip():
                text = value.strip().rstrip(".")
                sentences.append(
                    f"The {name.replace('_', ' ')} says that {text[:1].lower()}{text[1:]}"
                )
        start = int(_unit(self.seed, "filler", row_id) * len(_FILLER))
        sentences.extend(_FILLER[(start + i) % len(_FILLER)] for i in range(len(_FILLER)))
        words: list[str] = []
        for sentence in sentences:
            if len(words) >= target:
                break
            sentence = sentence.strip()
            words.extend(
                (sentence if sentence.endswith((".", "!", "?")) else sentence + ".").split()
            )
        text = " ".join(words[:high]).rstrip(",;:")
        return text if text.endswith((".", "!", "?")) else text + "."

    # -------------------------------------------------------------------------- optimizer
    def _optimize(self, item: PreparedRequest, prompt: str) -> str:
        templates = [t.strip() for t in _PRT.findall(prompt) if _PLACEHOLDER.search(t)]
        with self._lock:
            self._optimizer_calls += 1
            counter = self._optimizer_calls if item.temperature > 0 else 0
        rng = _Rng(self.seed, "optimizer", hashlib.sha256(prompt.encode()).hexdigest(), counter)
        if not templates:
            fields = list(dict.fromkeys(_PLACEHOLDER.findall(prompt))) or ["input"]
            lines = [rng.choice(OPTIMIZER_PHRASES)] + [f"{f}: {{{f}}}" for f in fields]
            return "<PRT>" + "\n".join(lines) + "</PRT>"
        fault = rng.random()
        rate = self.settings.optimizer_fault_rate
        if fault < rate / 2:
            return f"<PRT>{rng.choice(templates)}</PRT>"  # a duplicate
        weights = [i + 1 for i in range(len(templates))]  # OPRO lists the best last
        base = rng.weighted_choice(templates, weights)
        other = rng.choice(templates)
        candidate = self._mutate(base, other, rng)
        if fault < rate:  # lose a placeholder
            fields = _PLACEHOLDER.findall(candidate)
            if fields:
                candidate = candidate.replace("{" + rng.choice(fields) + "}", "", 1)
        return f"<PRT>{candidate}</PRT>"

    @staticmethod
    def _mutate(base: str, other: str, rng: _Rng) -> str:
        """Recombine / add / drop instruction sentences; sentences with placeholders stay."""
        parts = [p for p in _SENTENCE_SPLIT.split(base) if p.strip()]
        fixed = [i for i, p in enumerate(parts) if _PLACEHOLDER.search(p)]
        free = [i for i in range(len(parts)) if i not in fixed]
        donors = [
            p for p in _SENTENCE_SPLIT.split(other) if p.strip() and not _PLACEHOLDER.search(p)
        ]
        for _ in range(1 + int(rng.random() * 2)):
            op = rng.random()
            if op < 0.4:  # add a phrase
                phrase = rng.choice(OPTIMIZER_PHRASES)
                if phrase not in parts:
                    if rng.random() < 0.5:
                        parts.append(phrase)
                    else:
                        parts.insert(0, phrase)
            elif op < 0.65 and donors:  # crossover: borrow an instruction
                donor = rng.choice(donors)
                if free:
                    parts[rng.choice(free)] = donor
                elif donor not in parts:
                    parts.insert(0, donor)
            elif op < 0.85 and len(free) > 1:  # drop an instruction
                drop = rng.choice(free)
                parts = [p for i, p in enumerate(parts) if i != drop]
            else:  # replace an instruction by a phrase
                phrase = rng.choice(OPTIMIZER_PHRASES)
                if free:
                    parts[rng.choice(free)] = phrase
                elif phrase not in parts:
                    parts.append(phrase)
            fixed = [i for i, p in enumerate(parts) if _PLACEHOLDER.search(p)]
            free = [i for i in range(len(parts)) if i not in fixed]
        return "\n".join(parts)


class _Rng:
    """A tiny deterministic generator over SHA-256 (stable across Python versions)."""

    def __init__(self, *seed: Any) -> None:
        self._seed = seed
        self._n = 0

    def random(self) -> float:
        self._n += 1
        return _unit(*self._seed, self._n)

    def choice(self, items: Sequence[Any]) -> Any:
        return items[int(self.random() * len(items))]

    def weighted_choice(self, items: Sequence[Any], weights: Sequence[float]) -> Any:
        target = self.random() * sum(weights)
        for item, weight in zip(items, weights, strict=True):
            target -= weight
            if target < 0:
                return item
        return items[-1]
