"""Deterministic generator of the bundled sample data in ``data/01_raw``.

The project ships small, self-made datasets so that every pipeline runs offline and without
third-party text. Each file is built from hand-written knowledge tables (YAML and CSV files
in ``tools/sample_data/tables/``) and templates with a seeded :class:`random.Random`, so two
runs with the same seed write identical bytes:

- ``nli_sample.jsonl``: natural language inference, e-SNLI style (premise, hypothesis, label,
  explanation), built from compositional scenes and label-specific transformations;
- ``cqa_sample.jsonl``: CommonsenseQA-style five-way multiple choice, from a knowledge table
  (every fact asked once: a student cannot learn facts it never saw);
- ``cqa_large_sample.jsonl``: the same knowledge table asked up to four ways (other wording,
  other distractors, other answer position): a multiple-choice set a student can learn;
- ``svamp_sample.jsonl``: SVAMP-like one- and two-step arithmetic word problems;
- ``sentiment_sample.jsonl``: short product and movie reviews (positive / negative), the
  default demo task (big enough that the tiny default student clearly beats the
  majority class).

Every row carries an ``explanation``: the reference rationale that the simulated teacher
returns. Regenerate with::

    python tools/sample_data/generate.py --out data/01_raw
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zeroshot_distill.tasks import CHOICE_LETTERS as TASK_CHOICE_LETTERS

DEFAULT_SEED = 20240611
"""Seed of the committed sample files."""

N_NLI = 240
N_CQA = 200
N_CQA_LARGE = 800
N_SVAMP = 150
N_SENTIMENT = 900

NLI_LABELS = ("entailment", "neutral", "contradiction")
SENTIMENT_LABELS = ("positive", "negative")
N_CHOICES = 5
CHOICE_LETTERS = TASK_CHOICE_LETTERS[:N_CHOICES]  # "abcde": the tasks' own letters

FILE_NAMES = {
    "nli": "nli_sample.jsonl",
    "cqa": "cqa_sample.jsonl",
    "cqa_large": "cqa_large_sample.jsonl",
    "svamp": "svamp_sample.jsonl",
    "sentiment": "sentiment_sample.jsonl",
}
"""Dataset key -> file name inside the output folder."""

NLI_EXPLANATION_WORDS = (10, 35)
NLI_LONG_EXPLANATION_WORDS = 25
CQA_EXPLANATION_WORDS = (8, 30)
SENTIMENT_EXPLANATION_WORDS = (8, 25)

Row = dict[str, Any]

TABLES = Path(__file__).resolve().parent / "tables"
"""The hand-written knowledge tables the generator draws from (YAML and CSV)."""


def _load_yaml(name: str) -> Any:
    """One table file of :data:`TABLES`."""
    return yaml.safe_load((TABLES / name).read_text(encoding="utf-8"))


def _tuples(value: Any) -> Any:
    """Lists (as YAML gives them) turned into tuples, recursively, inside dicts too."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


# =============================================================================== text helpers
def _cap(text: str) -> str:
    """Upper-case the first character only (``"the woman"`` -> ``"The woman"``)."""
    return text[:1].upper() + text[1:]


def _n_words(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


def _article(phrase: str) -> str:
    """``a`` or ``an`` for the phrase that follows."""
    word = phrase.lower()
    if word.startswith(("hour", "honest", "heir")):
        return "an"
    if word[:1] in "aeiou" and not word.startswith(("uni", "use", "one", "eu", "ur")):
        return "an"
    return "a"


def _with_article(phrase: str) -> str:
    """``"elderly man"`` -> ``"an elderly man"``."""
    return f"{_article(phrase)} {phrase}"


def _third_person(base: str) -> str:
    """Present simple, third person singular: ``"play a guitar"`` -> ``"plays a guitar"``."""
    verb, _, rest = base.partition(" ")
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        verb += "es"
    elif verb.endswith("y") and verb[-2:-1] not in ("a", "e", "i", "o", "u"):
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return f"{verb} {rest}".strip()


def _join(*parts: str) -> str:
    """Join non-empty parts with single spaces."""
    return " ".join(p for p in parts if p)


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    """Pick one option name with the given weights (weights <= 0 are skipped)."""
    names = [name for name, weight in options if weight > 0]
    weights = [weight for _, weight in options if weight > 0]
    return rng.choices(names, weights=weights, k=1)[0]


def _pick_explanation(
    rng: random.Random,
    short: Sequence[str],
    long: Sequence[str],
    bounds: tuple[int, int],
    long_threshold: int,
    long_p: float,
) -> str:
    """Pick an explanation within ``bounds`` words; a long one (> threshold) with ``long_p``."""
    lo, hi = bounds
    candidates = [c for c in [*short, *long] if lo <= _n_words(c) <= hi]
    if not candidates:
        raise ValueError(f"no explanation within {bounds} words among {[*short, *long]}")
    long_ones = [c for c in candidates if _n_words(c) > long_threshold]
    short_ones = [c for c in candidates if _n_words(c) <= long_threshold]
    pool = long_ones if (long_ones and rng.random() < long_p) or not short_ones else short_ones
    return rng.choice(pool)


# ======================================================================================== NLI
@dataclass(frozen=True)
class _Place:
    """Where a scene happens."""

    pp: str  # prepositional phrase used in premises: "on a busy street"
    short: str  # the same without detail: "on a street"
    np: str  # noun phrase for explanations: "a busy street"
    kind: str | None  # "out" (outdoors), "in" (indoors) or None (either)
    adults_only: bool = False


_PLACES: dict[str, _Place] = {
    key: _Place(**fields) for key, fields in _load_yaml("nli_places.yml").items()
}


@dataclass(frozen=True)
class _Action:
    """An activity with the knowledge needed to transform it per label.

    Strings may contain ``{pos}`` (her/his/their) and ``{pron}`` (she/he/they).
    """

    key: str
    ing: str  # "playing a guitar"
    base: str  # "play a guitar"
    places: tuple[str, ...]
    gen: tuple[tuple[str, str], ...]  # (entailed predicate, reason)
    alts: tuple[tuple[str, str], ...]  # (contradicting predicate, reason)
    conflicts: tuple[str, ...]  # keys of actions that cannot happen at the same time
    roles: tuple[tuple[str, str], ...]  # unverifiable identity (singular, plural)
    purposes: tuple[str, ...]  # unverifiable purpose phrases
    extras: tuple[tuple[str, str], ...]  # (more specific predicate, what the premise omits)
    plural_ok: bool = True
    children_ok: bool = True
    clothing_ok: bool = True


_ACTIONS: tuple[_Action, ...] = tuple(
    _Action(**_tuples(fields)) for fields in _load_yaml("nli_actions.yml")
)
_ACTION_BY_KEY = {a.key: a for a in _ACTIONS}


@dataclass(frozen=True)
class _Time:
    """An optional time or weather phrase of a premise."""

    phrase: str
    outdoor_only: bool
    opposites: tuple[str, ...]
    general: str


_TIMES: tuple[_Time, ...] = (
    _Time(
        "at night", False, ("in the middle of the day", "in bright morning sunshine"), "after dark"
    ),
    _Time("early in the morning", False, ("late at night", "in the evening"), "in the morning"),
    _Time("on a sunny afternoon", True, ("in the pouring rain", "late at night"), "during the day"),
    _Time(
        "in the pouring rain", True, ("under a clear, sunny sky", "on a dry day"), "in wet weather"
    ),
)

# (phrase, what the premise does not tell), added to a hypothesis to make it neutral
_NEUTRAL_TIMES: tuple[tuple[str, str, str], ...] = (
    ("on a Sunday afternoon", "which day of the week it is", "any"),
    ("for the first time", "whether this is the first time", "any"),
    ("after a long day at work", "what happened earlier in the day", "adult"),
    ("after school", "what happened earlier in the day", "child"),
    ("on {pos} birthday", "whether it is a birthday", "any"),
    ("on a public holiday", "whether it is a holiday", "any"),
)

# Purposes that only suit adults ("to get to work", "to teach their children …").
_ADULT_WORDS = ("work", "boss", "children")

# Roles that are not jobs: "works as a tourist" would be nonsense.
_NOT_JOBS = frozenset(
    {
        "a tourist", "a retired teacher", "a college student", "an art student",
        "a member of a school team", "a marathon runner", "a champion swimmer",
        "an experienced climber", "a chess champion", "a famous rock star",
    }
)  # fmt: skip

_EMOTIONS = ("nervous", "bored", "excited", "lonely", "proud", "tired", "happy", "sad")


@dataclass(frozen=True)
class _Cloth:
    """A piece of clothing or gear whose color can be contradicted."""

    item: str
    item_pl: str
    attach: str  # "in", "wearing", "with"
    gender: str | None = None


_CLOTHES: tuple[_Cloth, ...] = (
    _Cloth("jacket", "jackets", "in"),
    _Cloth("hat", "hats", "wearing"),
    _Cloth("shirt", "shirts", "in"),
    _Cloth("backpack", "backpacks", "with"),
    _Cloth("dress", "dresses", "in", "f"),
    _Cloth("sweater", "sweaters", "in"),
    _Cloth("cap", "caps", "wearing"),
    _Cloth("scarf", "scarves", "wearing"),
)
_COLORS = ("red", "blue", "green", "yellow", "black", "white", "orange", "purple", "gray")
_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}

# (singular, plural, gender, age)
_PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("woman", "women", "f", "adult"),
    ("man", "men", "m", "adult"),
    ("girl", "girls", "f", "child"),
    ("boy", "boys", "m", "child"),
)
# (plural noun, age) for "a group of ..."
_GROUPS: tuple[tuple[str, str], ...] = (
    ("children", "child"),
    ("teenagers", "teen"),
    ("friends", "adult"),
    ("students", "teen"),
)
_AGE_ADJECTIVES = {"adult": ("young", "elderly", "middle-aged"), "child": ("little", "young")}
_GENDER_SWAP = {"woman": "man", "man": "woman", "girl": "boy", "boy": "girl"}
_GENDER_SWAP_PL = {"women": "men", "men": "women", "girls": "boys", "boys": "girls"}
_GROWN = {"girl": "grown woman", "boy": "grown man"}


@dataclass(frozen=True)
class _Subject:
    """The people a scene is about, with every form the templates need."""

    full: str  # "a young woman in a red jacket"
    core: str  # "a woman" / "two men" / "children"
    definite: str  # "the woman" / "the two men" / "the children"
    general: str  # "a person" / "two people" / "people"
    noun: str  # "woman" / "men" / "children"
    plural: bool
    gender: str | None
    age: str
    adjective: str | None
    cloth: _Cloth | None
    color: str | None
    count: int | None  # None: singular or "a group of"

    @property
    def be(self) -> str:
        """``is`` or ``are``."""
        return "are" if self.plural else "is"

    @property
    def have(self) -> str:
        """``has`` or ``have``."""
        return "have" if self.plural else "has"

    @property
    def pron(self) -> str:
        """Subject pronoun: she / he / they."""
        return "they" if self.plural else ("she" if self.gender == "f" else "he")

    @property
    def pos(self) -> str:
        """Possessive: her / his / their."""
        return "their" if self.plural else ("her" if self.gender == "f" else "his")

    def attributes(self) -> list[str]:
        """Predicates for the detail the core form leaves out (``["young", "wearing …"]``)."""
        out = []
        if self.adjective:
            out.append(self.adjective)
        if self.cloth and self.color:
            if self.plural:
                out.append(f"wearing {self.color} {self.cloth.item_pl}")
            elif self.cloth.attach == "with":
                out.append(f"carrying {_with_article(self.color)} {self.cloth.item}")
            else:
                out.append(f"wearing {_with_article(self.color)} {self.cloth.item}")
        return out


def _cloth_phrase(cloth: _Cloth, color: str, plural: bool) -> str:
    """``"in a red jacket"`` / ``"wearing blue hats"``."""
    if plural:
        return f"{cloth.attach} {color} {cloth.item_pl}"
    return f"{cloth.attach} {_with_article(color)} {cloth.item}"


def _make_subject(rng: random.Random, action: _Action) -> _Subject:
    """A random subject that suits the action."""
    plural = action.plural_ok and rng.random() < 0.35
    people = [p for p in _PEOPLE if action.children_ok or p[3] == "adult"]
    cloth = color = None
    if action.clothing_ok and rng.random() < 0.5:
        color = rng.choice(_COLORS)
    if not plural:
        noun, _, gender, age = rng.choice(people)
        adjective = rng.choice([*_AGE_ADJECTIVES[age], None, None])
        if color:
            cloth = rng.choice([c for c in _CLOTHES if c.gender in (None, gender)])
        head = f"{adjective} {noun}" if adjective else noun
        full = _join(_with_article(head), _cloth_phrase(cloth, color, False) if cloth else "")
        return _Subject(
            full=full,
            core=_with_article(noun),
            definite=f"the {noun}",
            general=rng.choice(["a person", "someone"]),
            noun=noun,
            plural=False,
            gender=gender,
            age=age,
            adjective=adjective,
            cloth=cloth,
            color=color,
            count=None,
        )
    if color:
        cloth = rng.choice([c for c in _CLOTHES if c.gender is None])
    groups = [g for g in _GROUPS if action.children_ok or g[1] != "child"]
    if rng.random() < 0.3:
        noun, age = rng.choice(groups)
        full = _join("a group of", noun, _cloth_phrase(cloth, color, True) if cloth else "")
        return _Subject(
            full=full,
            core=noun,
            definite=f"the {noun}",
            general="people",
            noun=noun,
            plural=True,
            gender=None,
            age=age,
            adjective=None,
            cloth=cloth,
            color=color,
            count=None,
        )
    _, noun, gender, age = rng.choice(people)
    count = rng.choice([2, 2, 3, 4])
    word = _COUNT_WORDS[count]
    adjective = rng.choice([*_AGE_ADJECTIVES[age], None, None])
    if adjective == "middle-aged":
        adjective = None
    full = _join(word, adjective or "", noun, _cloth_phrase(cloth, color, True) if cloth else "")
    return _Subject(
        full=full,
        core=f"{word} {noun}",
        definite=f"the {word} {noun}",
        general=f"{word} people",
        noun=noun,
        plural=True,
        gender=gender,
        age=age,
        adjective=adjective,
        cloth=cloth,
        color=color,
        count=count,
    )


@dataclass(frozen=True)
class _Scene:
    """One premise: who does what, where and (optionally) when."""

    subject: _Subject
    action: _Action
    place: _Place
    time: _Time | None
    premise: str

    def fmt(self, text: str) -> str:
        """Fill ``{pos}`` / ``{pron}`` placeholders of action strings."""
        return text.format(pos=self.subject.pos, pron=self.subject.pron)

    @property
    def ing(self) -> str:
        """The activity, progressive form."""
        return self.fmt(self.action.ing)

    @property
    def base(self) -> str:
        """The activity, base form."""
        return self.fmt(self.action.base)

    def describe(self) -> str:
        """``"a young woman in a red jacket is playing a guitar on a busy street"``."""
        s = self.subject
        return _join(s.full, s.be, self.ing, self.place.pp, self.time.phrase if self.time else "")


def _make_scene(rng: random.Random, action: _Action) -> _Scene:
    """A random premise for the action."""
    subject = _make_subject(rng, action)
    place_keys = [
        k
        for k in action.places
        if not (_PLACES[k].adults_only and subject.age in ("child", "teen"))
    ]
    place = _PLACES[rng.choice(place_keys)]
    time = None
    if rng.random() < 0.35:
        times = [t for t in _TIMES if place.kind == "out" or not t.outdoor_only]
        time = rng.choice(times)
    s = subject
    verb3 = _third_person(action.base) if not s.plural else action.base
    when = time.phrase if time else ""
    shapes = ["progressive"] * 5 + ["fragment", "simple", "place_first"]
    if time:
        shapes.append("time_first")
    shape = rng.choice(shapes)
    ing = action.ing.format(pos=s.pos, pron=s.pron)
    if shape == "progressive":
        text = _join(_cap(s.full), s.be, ing, place.pp, when)
    elif shape == "fragment":
        text = _join(_cap(s.full), ing, place.pp, when)
    elif shape == "simple":
        text = _join(_cap(s.full), verb3.format(pos=s.pos, pron=s.pron), place.pp, when)
    elif shape == "place_first":
        text = _join(_cap(place.pp) + ",", s.full, s.be, ing, when)
    else:
        text = _join(_cap(when) + ",", s.full, s.be, ing, place.pp)
    return _Scene(subject, action, place, time, text + ".")


def _hypothesis(
    rng: random.Random,
    subj: str,
    plural: bool,
    pred: str,
    *,
    indefinite: bool,
    base: str | None = None,
) -> str:
    """A hypothesis sentence in one of several shapes (the same shapes for every label)."""
    be = "are" if plural else "is"
    shapes = ["be"] * 4
    if indefinite:
        shapes.append("there")
    if base:
        shapes.append("simple")
    shape = rng.choice(shapes)
    if shape == "there":
        return f"There {be} {subj} {pred}."
    if shape == "simple" and base:
        return f"{_cap(subj)} {base if plural else _third_person(base)}."
    return f"{_cap(subj)} {be} {pred}."


def _subject_ref(rng: random.Random, scene: _Scene, *, allow_full: bool = True) -> tuple[str, bool]:
    """How a hypothesis refers to the scene's subject: (phrase, is_indefinite)."""
    s = scene.subject
    options = [(s.core, True), (s.definite, False), (s.definite, False)]
    if allow_full and s.full != s.core:
        options.append((s.full, True))
    return rng.choice(options)


def _maybe_place(rng: random.Random, scene: _Scene, p: float = 0.45) -> str:
    """The place, in full or short form, or nothing."""
    if rng.random() >= p:
        return ""
    return rng.choice([scene.place.pp, scene.place.short])


def _long_forms(scene: _Scene, cores: Sequence[str]) -> list[str]:
    """Longer explanations: a sentence restating the premise, then the core reason."""
    desc = scene.describe()
    intros = (
        f"The premise says {desc}.",
        f"According to the premise, {desc}.",
        f"We are told that {desc}.",
    )
    return [f"{intro} {core}" for intro in intros for core in cores]


_Transform = Callable[[random.Random, _Scene], tuple[str, list[str]]]


# ----------------------------------------------------------------------------- entailment
def _e_subject_drop(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the same sentence without the subject's age or clothing."""
    s = sc.subject
    place = _maybe_place(rng, sc, 0.6)
    hyp = _hypothesis(
        rng, s.core, s.plural, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
    )
    attrs = " and ".join(s.attributes())
    cores = [
        f"{_cap(s.definite)} in the premise {s.be} {sc.ing}; the hypothesis only leaves out "
        f"that {s.pron} {s.be} {attrs}.",
        f"{_cap(s.full)} {s.be} still {s.core}, so it is true that {s.core} {s.be} {sc.ing}.",
    ]
    return hyp, cores


def _e_subject_general(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the subject generalised to a person / people."""
    s = sc.subject
    place = _maybe_place(rng, sc, 0.5)
    general = s.general
    be_general = "are" if s.plural else "is"
    hyp = _hypothesis(
        rng, general, s.plural, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
    )
    kind = "a person" if not s.plural else ("people" if s.count is None else general)
    core_be = "are" if s.plural else "is"
    cores = [
        f"{_cap(s.core)} {core_be} {kind}, so it is true that {general} {be_general} {sc.ing}.",
        f"Every {s.noun if not s.plural else s.noun.rstrip('s')} is a person, and the premise "
        f"says {s.definite} {s.be} {sc.ing}.",
    ]
    if s.plural:
        cores = cores[:1]
    return hyp, cores


def _e_action_general(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the activity generalised or paraphrased (guitar -> instrument)."""
    s = sc.subject
    pred, reason = rng.choice(sc.action.gen)
    pred, reason = sc.fmt(pred), sc.fmt(reason)
    place = _maybe_place(rng, sc, 0.4)
    ref, indefinite = _subject_ref(rng, sc)
    hyp = _hypothesis(rng, ref, s.plural, _join(pred, place), indefinite=indefinite)
    cores = [
        f"{_cap(reason)}, so {s.definite} {s.be} {pred}.",
        f"{_cap(s.definite)} {s.be} {sc.ing}, and {reason}, so {s.pron} {s.be} {pred}.",
    ]
    return hyp, cores


def _e_place_general(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the place generalised to outdoors / indoors."""
    s = sc.subject
    where = "outdoors" if sc.place.kind == "out" else "indoors"
    where = rng.choice([where, "outside" if sc.place.kind == "out" else "inside"])
    ref, indefinite = _subject_ref(rng, sc)
    if rng.random() < 0.6:
        pred = _join(sc.ing, where)
        hyp = _hypothesis(
            rng, ref, s.plural, pred, indefinite=indefinite, base=f"{sc.base} {where}"
        )
    else:
        pred = where
        hyp = f"{_cap(ref)} {s.be} {where}."
    cores = [
        f"{_cap(sc.place.np)} is {where}, so {s.definite} {s.be} {pred}.",
        f"Being {sc.place.pp} means being {where}, so {s.definite} {s.be} {pred}.",
    ]
    return hyp, cores


def _e_place_drop(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the place left out, or only the place kept."""
    s = sc.subject
    ref, indefinite = _subject_ref(rng, sc)
    if rng.random() < 0.5:
        pred = sc.ing
        hyp = _hypothesis(rng, ref, s.plural, pred, indefinite=indefinite, base=sc.base)
        cores = [
            f"If {sc.describe()}, then {s.pron} {s.be} {sc.ing}; the hypothesis just omits where.",
            f"{_cap(s.definite)} {s.be} {sc.ing} {sc.place.pp}, which already means "
            f"{s.pron} {s.be} {sc.ing}.",
        ]
    else:
        pred = sc.place.short
        hyp = f"{_cap(ref)} {s.be} {pred}."
        cores = [
            f"{_cap(s.definite)} {s.be} {sc.ing} {sc.place.pp}, so {s.pron} {s.be} certainly "
            f"{pred}.",
            f"Someone who is {sc.ing} {sc.place.pp} has to be {pred}.",
        ]
        if s.plural:
            cores = cores[:1]
    return hyp, cores


def _e_time_general(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: the time generalised (at night -> after dark)."""
    s = sc.subject
    assert sc.time is not None
    ref, indefinite = _subject_ref(rng, sc)
    pred = _join(sc.ing, sc.time.general)
    hyp = _hypothesis(
        rng, ref, s.plural, pred, indefinite=indefinite, base=f"{sc.base} {sc.time.general}"
    )
    cores = [
        f"Anything that happens {sc.time.phrase} happens {sc.time.general}, and {s.definite} "
        f"{s.be} {sc.ing}.",
        f"The premise places this {sc.time.phrase}, which is {sc.time.general}, so {s.pron} "
        f"{s.be} {pred}.",
    ]
    return hyp, cores


def _e_not_conflict(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: a negated incompatible activity (the woman is not swimming)."""
    s = sc.subject
    keys = list(sc.action.conflicts)
    if s.plural:
        keys = [k for k in keys if _ACTION_BY_KEY[k].plural_ok] or keys
    other = _ACTION_BY_KEY[rng.choice(keys)]
    ref, _ = _subject_ref(rng, sc, allow_full=False)
    if ref == s.core:
        ref = s.definite
    hyp = f"{_cap(ref)} {s.be} not {other.ing}."
    cores = [
        f"{_cap(s.definite)} {s.be} {sc.ing}, so {s.pron} cannot be {other.ing} at the same time.",
        f"Nobody can {sc.base} and {other.base} at once, so {s.definite} {s.be} not {other.ing}.",
    ]
    return hyp, cores


def _e_subject_count(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Entailment: several people are doing the activity."""
    s = sc.subject
    assert s.plural
    place = _maybe_place(rng, sc, 0.5)
    people = "people"
    hyp = rng.choice(
        [
            f"There are {people} {_join(sc.ing, place)}.",
            f"Some people are {_join(sc.ing, place)}.",
            f"More than one person is {_join(sc.ing, place)}.",
        ]
    )
    many = f"{s.core}" if s.count else f"a group of {s.noun}"
    cores = [
        f"{_cap(many)} means more than one person, and they are all {sc.ing}.",
        f"The premise describes {many} {sc.ing}, so several people are {sc.ing}.",
    ]
    return hyp, cores


# -------------------------------------------------------------------------------- neutral
def _n_purpose(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: an unverifiable purpose."""
    s = sc.subject
    purposes = list(sc.action.purposes)
    if s.age != "adult":
        purposes = [p for p in purposes if not any(w in p for w in _ADULT_WORDS)] or purposes
    purpose = sc.fmt(rng.choice(purposes))
    place = _maybe_place(rng, sc, 0.35)
    ref, indefinite = _subject_ref(rng, sc)
    hyp = _hypothesis(rng, ref, s.plural, _join(sc.ing, place, purpose), indefinite=indefinite)
    cores = [
        f"{_cap(sc.ing)} {sc.place.short} does not necessarily mean {s.pron} {s.be} doing it "
        f"{purpose}.",
        f"The premise does not say why {s.definite} {s.be} {sc.ing}, so it may or may not be "
        f"{purpose}.",
        f"There are many reasons for {sc.ing}; nothing shows that {s.definite} {s.be} doing it "
        f"{purpose}.",
    ]
    return hyp, cores


def _n_role(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: an unverifiable job or identity."""
    s = sc.subject
    singular, plural = rng.choice(sc.action.roles)
    role = plural if s.plural else singular
    ref = s.definite
    work = "work" if s.plural else "works"
    shapes = [f"{_cap(ref)} {s.be} {role}."]
    if singular not in _NOT_JOBS:
        shapes.append(f"{_cap(ref)} {work} as {role}.")
    hyp = rng.choice(shapes)
    cores = [
        f"Not every {s.noun} who is {sc.ing} is {role}."
        if not s.plural
        else f"Not all {s.noun} who are {sc.ing} are {role}.",
        f"The premise says nothing about who {s.definite} {s.be}, so {s.pron} may not be {role}.",
        f"{_cap(sc.ing)} does not make someone {singular}; the premise gives no information "
        f"about who {s.pron} {s.be}.",
    ]
    return hyp, cores


def _n_role_negated(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: a negated unverifiable identity."""
    s = sc.subject
    singular, plural = rng.choice(sc.action.roles)
    role = plural if s.plural else singular
    hyp = f"{_cap(s.definite)} {s.be} not {role}."
    cores = [
        f"The premise gives no clue about whether {s.definite} {s.be} {role} or not.",
        f"{_cap(s.definite)} may or may not be {role}; the premise says nothing about "
        f"{s.pos} background.",
    ]
    return hyp, cores


def _n_emotion(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: an unverifiable feeling."""
    s = sc.subject
    emotion = rng.choice(_EMOTIONS)
    ref = s.definite
    feel = "feel" if s.plural else "feels"
    hyp = rng.choice(
        [
            f"{_cap(ref)} {s.be} {emotion}.",
            f"{_cap(ref)} {feel} {emotion} while {sc.ing}.",
            f"{_cap(ref)} {s.be} {sc.ing} and {feel} {emotion}.",
        ]
    )
    cores = [
        f"The premise describes what {s.definite} {s.be} doing, not how {s.pron} "
        f"{feel}, so {s.pron} may not be {emotion}.",
        f"People can be {sc.ing} in any mood; nothing shows that {s.definite} {s.be} {emotion}.",
    ]
    return hyp, cores


def _n_extra(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: a more specific version of the activity."""
    s = sc.subject
    pred, unknown = rng.choice(sc.action.extras)
    pred = sc.fmt(pred)
    place = _maybe_place(rng, sc, 0.4)
    ref, indefinite = _subject_ref(rng, sc)
    hyp = _hypothesis(rng, ref, s.plural, _join(pred, place), indefinite=indefinite)
    cores = [
        f"The premise does not say {unknown}, so {s.definite} may or may not be {pred}.",
        f"We know {s.definite} {s.be} {sc.ing}, but not {unknown}.",
        f"Nothing in the premise tells us {unknown}, so the more specific claim cannot be checked.",
    ]
    return hyp, cores


def _n_time(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: an unverifiable day or occasion."""
    s = sc.subject
    group = "adult" if s.age == "adult" else "child"
    options = [t for t in _NEUTRAL_TIMES if t[2] in ("any", group)]
    phrase, unknown, _ = rng.choice(options)
    phrase = sc.fmt(phrase)
    ref, indefinite = _subject_ref(rng, sc)
    pred = _join(sc.ing, phrase)
    hyp = _hypothesis(rng, ref, s.plural, pred, indefinite=indefinite, base=f"{sc.base} {phrase}")
    cores = [
        f"The premise does not tell us {unknown}, so {s.definite} may or may not be {pred}.",
        f"{_cap(s.definite)} {s.be} {sc.ing}, but there is no information about {unknown}.",
    ]
    return hyp, cores


def _n_watchers(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Neutral: onlookers the premise does not mention."""
    s = sc.subject
    watcher = rng.choice(["A crowd is", "Several tourists are", "A friend is", "A neighbor is"])
    hyp = f"{watcher} watching {s.definite} {sc.base}."
    cores = [
        f"No one else is mentioned in the premise, so we cannot tell whether anyone is watching "
        f"{s.definite}.",
        f"The premise only describes {s.definite} {sc.ing}; it does not say who else is there.",
    ]
    return hyp, cores


# -------------------------------------------------------------------------- contradiction
def _c_conflict(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: an activity that cannot happen at the same time."""
    s = sc.subject
    keys = [
        k
        for k in sc.action.conflicts
        if _ACTION_BY_KEY[k].children_ok or s.age not in ("child", "teen")
    ]
    if s.plural:
        keys = [k for k in keys if _ACTION_BY_KEY[k].plural_ok] or keys
    other = _ACTION_BY_KEY[rng.choice(keys)]
    other_ing = other.ing.format(pos=s.pos, pron=s.pron)
    other_place = ""
    if rng.random() < 0.55:
        keys = [
            k for k in other.places if not (_PLACES[k].adults_only and s.age in ("child", "teen"))
        ]
        other_place = rng.choice([_PLACES[k].pp for k in keys])
    ref, indefinite = _subject_ref(rng, sc)
    other_base = other.base.format(pos=s.pos, pron=s.pron)
    hyp = _hypothesis(
        rng,
        ref,
        s.plural,
        _join(other_ing, other_place),
        indefinite=indefinite,
        base=_join(other_base, other_place),
    )
    person = "People" if s.plural else "A person"
    cores = [
        f"{_cap(s.definite)} cannot {sc.base} and {other_base} at the same time.",
        f"{person} who {s.be} {sc.ing} {'are' if s.plural else 'is'} not {other_ing} at that "
        f"same moment.",
        f"{_cap(s.pron)} {s.be} {sc.ing}, so {s.pron} cannot also be {other_ing}.",
    ]
    return hyp, cores


def _c_alternative(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: the same kind of activity with another object."""
    s = sc.subject
    pred, reason = rng.choice(sc.action.alts)
    place = _maybe_place(rng, sc, 0.4)
    ref, indefinite = _subject_ref(rng, sc)
    hyp = _hypothesis(rng, ref, s.plural, _join(pred, place), indefinite=indefinite)
    cores = [
        f"{_cap(reason)}, so {s.definite} cannot be {pred}.",
        f"{_cap(s.definite)} {s.be} {sc.ing}, not {pred}; {reason}.",
    ]
    return hyp, cores


def _other_place(rng: random.Random, sc: _Scene) -> _Place:
    """A different place where the same action is plausible (or any place as a fallback)."""
    keys = [k for k in sc.action.places if _PLACES[k] != sc.place]
    keys = [k for k in keys if _PLACES[k].short != sc.place.short] or keys
    if sc.subject.age in ("child", "teen"):
        keys = [k for k in keys if not _PLACES[k].adults_only] or keys
    if not keys:
        keys = [k for k in ("library", "kitchen", "office", "park", "beach") if k not in keys]
        keys = [k for k in keys if _PLACES[k] != sc.place]
    return _PLACES[rng.choice(keys)]


def _c_place(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: the same activity in another place."""
    s = sc.subject
    other = _other_place(rng, sc)
    ref, indefinite = _subject_ref(rng, sc)
    where = rng.choice([other.pp, other.short])
    hyp = _hypothesis(
        rng,
        ref,
        s.plural,
        _join(sc.ing, where),
        indefinite=indefinite,
        base=_join(sc.base, where),
    )
    cores = [
        f"{_cap(s.definite)} cannot be {sc.place.short} and {other.short} at the same time.",
        f"The premise puts {s.definite} {sc.place.pp}, which is a different place from {other.np}.",
    ]
    return hyp, cores


def _c_in_out(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: indoors instead of outdoors (or the reverse)."""
    s = sc.subject
    where = "indoors" if sc.place.kind == "out" else "outdoors"
    actual = "outdoors" if sc.place.kind == "out" else "indoors"
    ref, indefinite = _subject_ref(rng, sc)
    if rng.random() < 0.6:
        hyp = _hypothesis(
            rng,
            ref,
            s.plural,
            f"{sc.ing} {where}",
            indefinite=indefinite,
            base=f"{sc.base} {where}",
        )
    else:
        hyp = f"{_cap(ref)} {s.be} {where}."
    cores = [
        f"{_cap(sc.place.np)} is {actual}, so {s.definite} cannot be {sc.ing} {where}.",
        f"Being {sc.place.pp} means being {actual}, which rules out being {where}.",
    ]
    return hyp, cores


def _c_gender(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: a man instead of a woman (or the reverse)."""
    s = sc.subject
    if s.plural:
        other = _GENDER_SWAP_PL[s.noun]
        subj = f"{_COUNT_WORDS[s.count or 2]} {other}"
        description = f"{s.core}, and {s.noun} are not {other}"
    else:
        other = _GENDER_SWAP[s.noun]
        subj = _with_article(other)
        description = f"{s.core}, and {s.core} is not {subj}"
    place = _maybe_place(rng, sc, 0.5)
    hyp = _hypothesis(
        rng, subj, s.plural, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
    )
    cores = [
        f"The premise describes {description}.",
        f"The person {sc.ing} {sc.place.pp} is described as {s.core}, so it cannot be {subj}."
        if not s.plural
        else f"The people {sc.ing} {sc.place.pp} are {s.noun}, so they cannot be {other}.",
    ]
    return hyp, cores


def _c_age(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: an incompatible age."""
    s = sc.subject
    if s.age == "child" and not s.plural:
        subj = _with_article(_GROWN[s.noun])
        why = f"{_cap(s.core)} is a child, so {s.pron} cannot be {subj}."
    elif s.adjective == "young":
        subj = (
            f"{_COUNT_WORDS[s.count or 2]} elderly {s.noun}" if s.plural else f"an elderly {s.noun}"
        )
        why = f"The premise describes {s.pron if not s.plural else 'them'} as young, so "
        why += f"{s.pron} cannot be elderly."
    else:  # elderly
        subj = f"{_COUNT_WORDS[s.count or 2]} young {s.noun}" if s.plural else f"a young {s.noun}"
        why = f"The premise describes {'them' if s.plural else s.definite} as elderly, so "
        why += f"{s.pron} cannot be young."
    place = _maybe_place(rng, sc, 0.5)
    hyp = _hypothesis(
        rng, subj, s.plural, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
    )
    cores = [why, f"{_cap(s.full)} and {subj} cannot be the same people {sc.ing}."]
    if not s.plural:
        cores[1] = f"{_cap(s.full)} is not {subj}, so this is a different person."
    return hyp, cores


def _c_clothing(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: the same clothing in another color."""
    s = sc.subject
    assert s.cloth is not None and s.color is not None
    new_color = rng.choice([c for c in _COLORS if c != s.color])
    word = _COUNT_WORDS[s.count] if s.count else ""
    head = s.noun if not s.adjective else f"{s.adjective} {s.noun}"
    if s.plural:
        lead = word if s.count else "a group of"
        subj = _join(lead, head, _cloth_phrase(s.cloth, new_color, True))
    else:
        subj = _join(_with_article(head), _cloth_phrase(s.cloth, new_color, False))
    place = _maybe_place(rng, sc, 0.4)
    hyp = _hypothesis(
        rng, subj, s.plural, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
    )
    if s.plural:
        items = s.cloth.item_pl
        cores = [
            f"The {items} in the premise are {s.color}, not {new_color}, so the descriptions "
            f"do not match.",
            f"{_cap(s.definite)} {s.have} {s.color} {items}, so they cannot be wearing "
            f"{new_color} ones.",
        ]
    else:
        item = s.cloth.item
        cores = [
            f"The {item} in the premise is {s.color}, not {new_color}, so the descriptions do "
            f"not match.",
            f"{_cap(s.definite)} {s.have} {_with_article(s.color)} {item}, so {s.pron} cannot "
            f"have {_with_article(new_color)} one.",
        ]
    return hyp, cores


def _c_count(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: another number of people, or one person alone."""
    s = sc.subject
    assert s.plural
    place = _maybe_place(rng, sc, 0.4)
    if s.count and rng.random() < 0.6:
        new = rng.choice([n for n in (2, 3, 4) if n != s.count])
        subj = f"{_COUNT_WORDS[new]} {s.noun}"
        hyp = _hypothesis(
            rng, subj, True, _join(sc.ing, place), indefinite=True, base=_join(sc.base, place)
        )
        cores = [
            f"There are {_COUNT_WORDS[s.count]} {s.noun} in the premise, not "
            f"{_COUNT_WORDS[new]}, so the numbers do not match.",
            f"The premise counts {_COUNT_WORDS[s.count]} {s.noun} {sc.ing}, which contradicts "
            f"a count of {_COUNT_WORDS[new]}.",
        ]
        return hyp, cores
    singular = {"children": "child", "teenagers": "teenager", "friends": "person"}.get(
        s.noun, s.noun.rstrip("s") if s.noun not in ("men", "women") else s.noun[:-2] + "an"
    )
    subj = _with_article(singular)
    hyp = f"{_cap(subj)} is {_join(sc.ing, 'alone', place)}."
    many = s.core if s.count else f"a group of {s.noun}"
    cores = [
        f"The premise has {many} {sc.ing} together, so nobody is doing it alone.",
        f"{_cap(many)} means more than one person, so {subj} cannot be {sc.ing} alone.",
    ]
    return hyp, cores


def _c_time(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: an incompatible time or weather."""
    s = sc.subject
    assert sc.time is not None
    other = rng.choice(sc.time.opposites)
    ref, indefinite = _subject_ref(rng, sc)
    hyp = _hypothesis(
        rng, ref, s.plural, f"{sc.ing} {other}", indefinite=indefinite, base=f"{sc.base} {other}"
    )
    cores = [
        f"The premise says this happens {sc.time.phrase}, which cannot also be {other}.",
        f"{_cap(s.definite)} {s.be} {sc.ing} {sc.time.phrase}, so it cannot be happening {other}.",
    ]
    return hyp, cores


def _c_negation(rng: random.Random, sc: _Scene) -> tuple[str, list[str]]:
    """Contradiction: the premise denied."""
    s = sc.subject
    choice = rng.randrange(3)
    if choice == 0:
        hyp = f"Nobody is {sc.ing} {sc.place.short}."
    elif choice == 1:
        hyp = f"{_cap(s.definite)} {s.be} not {sc.ing}."
    else:
        hyp = f"There is no one {sc.place.short}."
    cores = [
        f"The premise clearly says {s.full} {s.be} {sc.ing} {sc.place.pp}, so the hypothesis "
        f"is false.",
        f"{_cap(s.definite)} {s.be} {sc.ing} {sc.place.pp}, which the hypothesis denies.",
    ]
    return hyp, cores


def _transforms(sc: _Scene, label: str) -> list[tuple[_Transform, float]]:
    """The transformations that apply to a scene for a label, with weights."""
    s = sc.subject
    a = sc.action
    if label == "entailment":
        return [
            (_e_subject_drop, 1.5 if s.attributes() else 0.0),
            (_e_subject_general, 1.0),
            (_e_action_general, 3.0),
            (_e_place_general, 1.2 if sc.place.kind else 0.0),
            (_e_place_drop, 1.2),
            (_e_time_general, 1.0 if sc.time else 0.0),
            (_e_not_conflict, 0.7),
            (_e_subject_count, 0.8 if s.plural else 0.0),
        ]
    if label == "neutral":
        return [
            (_n_purpose, 2.0),
            (_n_role, 2.0 if s.age == "adult" else 0.0),
            (_n_role_negated, 0.6 if s.age == "adult" else 0.0),
            (_n_emotion, 1.5),
            (_n_extra, 2.0),
            (_n_time, 1.3 if sc.time is None else 0.0),
            (_n_watchers, 0.8),
        ]
    aged = (s.age == "child" and not s.plural) or s.adjective in ("young", "elderly")
    return [
        (_c_conflict, 3.0),
        (_c_alternative, 1.5 if a.alts else 0.0),
        (_c_place, 1.5),
        (_c_in_out, 1.0 if sc.place.kind else 0.0),
        (_c_gender, 1.0 if s.gender and (s.count or not s.plural) else 0.0),
        (_c_age, 1.0 if aged else 0.0),
        (_c_clothing, 1.0 if s.cloth else 0.0),
        (_c_count, 1.2 if s.plural else 0.0),
        (_c_time, 1.0 if sc.time else 0.0),
        (_c_negation, 0.7),
    ]


def generate_nli(rng: random.Random, n: int = N_NLI) -> list[Row]:
    """``n`` NLI rows: ``n / 3`` premises, each with one hypothesis per label, shuffled."""
    if n % len(NLI_LABELS):
        raise ValueError(f"n must be a multiple of {len(NLI_LABELS)}, got {n}")
    rows: list[Row] = []
    seen_premises: set[str] = set()
    seen_hypotheses: set[str] = set()
    actions = list(_ACTIONS)
    order: list[_Action] = []
    while len(rows) < n:
        if not order:
            order = actions[:]
            rng.shuffle(order)
        action = order.pop()
        scene = _make_scene(rng, action)
        if scene.premise in seen_premises:
            continue
        triple: list[Row] = []
        for label in NLI_LABELS:
            options = _transforms(scene, label)
            name_to_fn = {fn.__name__: fn for fn, _ in options}
            for _attempt in range(20):
                fn = name_to_fn[_weighted(rng, [(fn.__name__, w) for fn, w in options])]
                hypothesis, cores = fn(rng, scene)
                if hypothesis in seen_hypotheses or hypothesis == scene.premise:
                    continue
                explanation = _pick_explanation(
                    rng,
                    cores,
                    _long_forms(scene, cores),
                    NLI_EXPLANATION_WORDS,
                    NLI_LONG_EXPLANATION_WORDS,
                    long_p=0.2,
                )
                triple.append(
                    {
                        "premise": scene.premise,
                        "hypothesis": hypothesis,
                        "label": label,
                        "explanation": explanation,
                    }
                )
                break
        if len(triple) != len(NLI_LABELS):
            continue
        seen_premises.add(scene.premise)
        seen_hypotheses.update(r["hypothesis"] for r in triple)
        rows.extend(triple)
    rng.shuffle(rows)
    return [{"id": f"nli-{i:04d}", **row} for i, row in enumerate(rows, start=1)]


# ======================================================================= commonsense QA
@dataclass(frozen=True)
class _Fact:
    """One row of the knowledge table: a concept, a relation and the answer it implies."""

    relation: str
    concept: str
    answer: str
    distractors: tuple[str, ...]  # plausible but wrong; four are sampled
    explanation: str


def _load_knowledge_table(name: str) -> tuple[_Fact, ...]:
    """Facts from a CSV of ``relation, concept, answer, "d1|d2|…", explanation`` rows."""
    with (TABLES / name).open(encoding="utf-8", newline="") as handle:
        return tuple(
            _Fact(
                row["relation"],
                row["concept"],
                row["answer"],
                tuple(d.strip() for d in row["distractors"].split("|")),
                row["explanation"],
            )
            for row in csv.DictReader(handle)
        )


# Question templates per relation; {c} is the concept, {name}/{pron} a person.
_CQA_TEMPLATES: dict[str, tuple[str, ...]] = {
    relation: tuple(templates) for relation, templates in _load_yaml("cqa_templates.yml").items()
}

KNOWLEDGE_TABLE: tuple[_Fact, ...] = _load_knowledge_table("knowledge_table.csv")
"""The commonsense knowledge the CQA sample is generated from."""

_NAMES: tuple[tuple[str, str], ...] = (
    ("Maria", "she"), ("James", "he"), ("Aisha", "she"), ("Tom", "he"), ("Lena", "she"),
    ("Carlos", "he"), ("Priya", "she"), ("Ben", "he"), ("Yuki", "she"), ("Omar", "he"),
    ("Sofia", "she"), ("Daniel", "he"), ("Grace", "she"), ("Leo", "he"), ("Nora", "she"),
    ("Sam", "he"), ("Hana", "she"), ("Mateo", "he"), ("Emma", "she"), ("Kofi", "he"),
)  # fmt: skip


def _is_they(text: str) -> bool:
    """Whether a phrase refers to a person as they / their / them."""
    return any(word in ("they", "their", "them") for word in text.split())


def generate_cqa(rng: random.Random, n: int = N_CQA) -> list[Row]:
    """``n`` five-way multiple-choice questions; the answer letter is spread evenly over a–e."""
    facts = list(KNOWLEDGE_TABLE)
    if len(facts) < n:
        raise ValueError(f"the knowledge table has {len(facts)} facts, fewer than {n}")
    rng.shuffle(facts)
    facts = facts[:n]
    letters = [i % len(CHOICE_LETTERS) for i in range(n)]
    rng.shuffle(letters)
    rows: list[Row] = []
    seen: set[str] = set()
    for i, (fact, answer_index) in enumerate(zip(facts, letters, strict=True), start=1):
        templates = list(_CQA_TEMPLATES[fact.relation])
        if _is_they(fact.concept) or _is_they(fact.answer):
            # "Tom decided to brush their teeth" reads badly: keep to impersonal templates
            templates = [t for t in templates if "{name}" not in t]
        rng.shuffle(templates)
        name, pron = rng.choice(_NAMES)
        plural = not fact.concept.startswith(("a ", "an ")) and fact.concept.endswith("s")
        is_ = "are" if plural else "is"
        question = next(
            q
            for q in (t.format(c=fact.concept, name=name, pron=pron, is_=is_) for t in templates)
            if q not in seen
        )
        question = _cap(question)
        seen.add(question)
        wrong = rng.sample(fact.distractors, 4)
        choices = [*wrong[:answer_index], fact.answer, *wrong[answer_index:]]
        rows.append(
            {
                "id": f"cqa-{i:04d}",
                "question": question,
                "choices": choices,
                "answer": CHOICE_LETTERS[answer_index],
                "explanation": fact.explanation,
            }
        )
    return rows


def generate_cqa_large(rng: random.Random, n: int = N_CQA_LARGE) -> list[Row]:
    """``n`` five-way questions over the knowledge table, each fact asked up to four times.

    Rounds over the shuffled facts; each round asks every fact once more with a template
    it was not asked with yet, four of its distractors drawn afresh and the answer at a
    random position (spread evenly over a–e per round). Rows are shuffled at the end, so a
    random split puts other wordings of most test facts into train.
    """
    facts = list(KNOWLEDGE_TABLE)
    if n > 4 * len(facts):
        raise ValueError(f"at most {4 * len(facts)} rows (4 per fact), got {n}")
    used: dict[int, set[str]] = {i: set() for i in range(len(facts))}
    rows: list[Row] = []
    while len(rows) < n:
        order = list(range(len(facts)))
        rng.shuffle(order)
        positions = [i % len(CHOICE_LETTERS) for i in range(len(order))]
        rng.shuffle(positions)
        for fact_index, answer_index in zip(order, positions, strict=True):
            if len(rows) == n:
                break
            fact = facts[fact_index]
            templates = [t for t in _CQA_TEMPLATES[fact.relation] if t not in used[fact_index]]
            if _is_they(fact.concept) or _is_they(fact.answer):
                templates = [t for t in templates if "{name}" not in t]
            if not templates:
                templates = list(_CQA_TEMPLATES[fact.relation])
            template = rng.choice(templates)
            used[fact_index].add(template)
            name, pron = rng.choice(_NAMES)
            plural = not fact.concept.startswith(("a ", "an ")) and fact.concept.endswith("s")
            question = _cap(
                template.format(c=fact.concept, name=name, pron=pron, is_="are" if plural else "is")
            )
            wrong = rng.sample(fact.distractors, 4)
            rows.append(
                {
                    "question": question,
                    "choices": [*wrong[:answer_index], fact.answer, *wrong[answer_index:]],
                    "answer": CHOICE_LETTERS[answer_index],
                    "explanation": fact.explanation,
                }
            )
    rng.shuffle(rows)
    return [{"id": f"cqal-{i:04d}", **row} for i, row in enumerate(rows, start=1)]


# ============================================================================= SVAMP-like
# (plural, singular) of countable things
_ITEMS: tuple[tuple[str, str], ...] = (
    ("apples", "apple"), ("marbles", "marble"), ("stickers", "sticker"), ("pencils", "pencil"),
    ("books", "book"), ("cookies", "cookie"), ("balloons", "balloon"),
    ("seashells", "seashell"), ("toy cars", "toy car"), ("baseball cards", "baseball card"),
    ("cupcakes", "cupcake"), ("flowers", "flower"), ("eggs", "egg"), ("crayons", "crayon"),
    ("candies", "candy"), ("stamps", "stamp"), ("oranges", "orange"), ("buttons", "button"),
)  # fmt: skip
# (plural, singular) of containers
_CONTAINERS: tuple[tuple[str, str], ...] = (
    ("boxes", "box"), ("bags", "bag"), ("baskets", "basket"), ("packs", "pack"),
    ("jars", "jar"), ("trays", "tray"), ("crates", "crate"),
)  # fmt: skip
_POSSESSIVE = {"she": "her", "he": "his"}


@dataclass(frozen=True)
class _Word:
    """Names and things a word problem talks about."""

    name: str
    pron: str
    other: str
    items: str
    item: str
    containers: str
    container: str

    @property
    def pos(self) -> str:
        """Possessive of the main person."""
        return _POSSESSIVE[self.pron]

    @property
    def Pron(self) -> str:
        """The pronoun with a capital letter, for sentence starts."""
        return _cap(self.pron)


_Problem = tuple[str, int, str]


def _p_add(r: random.Random, w: _Word) -> _Problem:
    """One step: a + b (more bought or found)."""
    a, b = r.randint(5, 40), r.randint(3, 30)
    verb = r.choice(["buys", "finds", "is given", "wins"])
    past = {"buys": "bought", "finds": "found", "is given": "was given", "wins": "won"}[verb]
    q = (
        f"{w.name} has {a} {w.items}. {w.Pron} {verb} {b} more {w.items}. "
        f"How many {w.items} does {w.name} have now?"
    )
    e = f"{w.name} had {a} {w.items} and {past} {b} more, so {w.pron} has {a} + {b} = {a + b}."
    return q, a + b, e


def _p_add_together(r: random.Random, w: _Word) -> _Problem:
    """One step: a + b (two people together)."""
    a, b = r.randint(5, 50), r.randint(5, 50)
    q = (
        f"{w.name} collected {a} {w.items} and {w.other} collected {b} {w.items}. "
        f"How many {w.items} did they collect altogether?"
    )
    e = f"Together they collected {a} + {b} = {a + b} {w.items}."
    return q, a + b, e


def _p_sub_give(r: random.Random, w: _Word) -> _Problem:
    """One step: a - b (some given away)."""
    a = r.randint(10, 60)
    b = r.randint(2, a - 2)
    q = (
        f"{w.name} had {a} {w.items}. {w.Pron} gave {b} of them to {w.other}. "
        f"How many {w.items} does {w.name} have left?"
    )
    e = f"{w.name} had {a} {w.items} and gave away {b}, so {w.pron} has {a} - {b} = {a - b} left."
    return q, a - b, e


def _p_sub_compare(r: random.Random, w: _Word) -> _Problem:
    """One step: a - b (how many more)."""
    a = r.randint(15, 70)
    b = r.randint(3, a - 3)
    q = (
        f"{w.name} has {a} {w.items} and {w.other} has {b} {w.items}. "
        f"How many more {w.items} does {w.name} have than {w.other}?"
    )
    e = f"{w.name} has {a} - {b} = {a - b} more {w.items} than {w.other}."
    return q, a - b, e


def _p_start_unknown(r: random.Random, w: _Word) -> _Problem:
    """One step: b + c (the starting amount)."""
    b, c = r.randint(3, 30), r.randint(2, 40)
    q = (
        f"{w.name} gave away {b} {w.items} and now has {c} {w.items} left. "
        f"How many {w.items} did {w.name} have at the start?"
    )
    e = f"Before giving away {b}, {w.name} had {c} + {b} = {b + c} {w.items}."
    return q, b + c, e


def _p_more_than(r: random.Random, w: _Word) -> _Problem:
    """One step: a + b (b more than someone)."""
    a, b = r.randint(5, 40), r.randint(2, 25)
    q = (
        f"{w.other} has {b} more {w.items} than {w.name}. If {w.name} has {a} {w.items}, "
        f"how many {w.items} does {w.other} have?"
    )
    e = f"{w.other} has {b} more than {w.name}'s {a}, so {w.other} has {a} + {b} = {a + b}."
    return q, a + b, e


def _p_fewer_than(r: random.Random, w: _Word) -> _Problem:
    """One step: a - b (b fewer than someone)."""
    a = r.randint(12, 60)
    b = r.randint(2, a - 2)
    q = (
        f"{w.name} has {a} {w.items}. {w.other} has {b} fewer {w.items} than {w.name}. "
        f"How many {w.items} does {w.other} have?"
    )
    e = f"{w.other} has {b} fewer than {a}, so {w.other} has {a} - {b} = {a - b} {w.items}."
    return q, a - b, e


def _p_mul_containers(r: random.Random, w: _Word) -> _Problem:
    """One step: a * b (containers of equal size)."""
    a, b = r.randint(2, 9), r.randint(3, 12)
    q = (
        f"There are {a} {w.containers} and each {w.container} holds {b} {w.items}. "
        f"How many {w.items} are there in total?"
    )
    e = f"{a} {w.containers} with {b} {w.items} each make {a} * {b} = {a * b} {w.items}."
    return q, a * b, e


def _p_mul_rate(r: random.Random, w: _Word) -> _Problem:
    """One step: a * b (a rate over days)."""
    a, b = r.randint(3, 15), r.randint(2, 9)
    q = f"{w.name} reads {a} pages every day. How many pages will {w.pron} read in {b} days?"
    e = f"Reading {a} pages a day for {b} days makes {a} * {b} = {a * b} pages."
    return q, a * b, e


def _p_div_share(r: random.Random, w: _Word) -> _Problem:
    """One step: a / b (shared equally)."""
    b, k = r.randint(2, 8), r.randint(2, 9)
    a = b * k
    q = (
        f"{w.name} has {a} {w.items} and shares them equally among {b} friends. "
        f"How many {w.items} does each friend get?"
    )
    e = f"Sharing {a} {w.items} equally among {b} friends gives {a} / {b} = {k} each."
    return q, k, e


def _p_div_groups(r: random.Random, w: _Word) -> _Problem:
    """One step: a / b (how many containers)."""
    b, k = r.randint(3, 10), r.randint(2, 9)
    a = b * k
    q = (
        f"{w.name} wants to pack {a} {w.items} into {w.containers} that hold {b} {w.items} "
        f"each. How many {w.containers} does {w.pron} need?"
    )
    e = f"{a} {w.items} in {w.containers} of {b} need {a} / {b} = {k} {w.containers}."
    return q, k, e


def _p_mul_price(r: random.Random, w: _Word) -> _Problem:
    """One step: a * b (price of several)."""
    a, b = r.randint(2, 9), r.randint(2, 8)
    q = f"One {w.item} costs {a} dollars. How much do {b} {w.items} cost?"
    e = f"{b} {w.items} at {a} dollars each cost {b} * {a} = {a * b} dollars."
    return q, a * b, e


def _p_add_sub(r: random.Random, w: _Word) -> _Problem:
    """Two steps: a + b - c."""
    a, b = r.randint(8, 40), r.randint(3, 20)
    c = r.randint(2, a + b - 2)
    q = (
        f"{w.name} had {a} {w.items}. {w.Pron} found {b} more and then lost {c}. "
        f"How many {w.items} does {w.name} have now?"
    )
    s1 = a + b
    e = f"{a} + {b} = {s1}, and after losing {c}, {w.pron} has {s1} - {c} = {s1 - c} {w.items}."
    return q, s1 - c, e


def _p_mul_sub(r: random.Random, w: _Word) -> _Problem:
    """Two steps: a * b - c."""
    a, b = r.randint(2, 8), r.randint(4, 12)
    c = r.randint(1, a * b - 1)
    q = (
        f"{w.name} bought {a} {w.containers} of {w.items} with {b} {w.items} in each "
        f"{w.container}. {w.Pron} gave {c} {w.items} to {w.other}. "
        f"How many {w.items} does {w.name} have now?"
    )
    s1 = a * b
    e = f"{w.name} bought {a} * {b} = {s1} {w.items}, then gave away {c}: {s1} - {c} = {s1 - c}."
    return q, s1 - c, e


def _p_add_div(r: random.Random, w: _Word) -> _Problem:
    """Two steps: (a + b) / c."""
    c, k = r.randint(2, 6), r.randint(2, 10)
    total = c * k
    a = r.randint(2, total - 2)
    b = total - a
    q = (
        f"{w.name} has {a} {w.items} and {w.other} has {b}. They put them together and share "
        f"them equally among {c} children. How many {w.items} does each child get?"
    )
    e = f"Together they have {a} + {b} = {total}, and {total} / {c} = {k} {w.items} per child."
    return q, k, e


def _p_mul_add(r: random.Random, w: _Word) -> _Problem:
    """Two steps: a * b + c."""
    a, b, c = r.randint(2, 7), r.randint(3, 10), r.randint(1, 9)
    q = (
        f"{w.name} has {a} {w.containers} with {b} {w.items} in each {w.container} and {c} "
        f"loose {w.items}. How many {w.items} does {w.pron} have in all?"
    )
    s1 = a * b
    e = f"The {w.containers} hold {a} * {b} = {s1} {w.items}, plus {c} loose: {s1} + {c} = "
    e += f"{s1 + c}."
    return q, s1 + c, e


def _p_sub_div(r: random.Random, w: _Word) -> _Problem:
    """Two steps: (a - b) / c."""
    c, k = r.randint(2, 6), r.randint(2, 8)
    b = r.randint(1, 9)
    a = c * k + b
    q = (
        f"{w.name} baked {a} cookies and ate {b} of them. {w.Pron} put the rest into {c} "
        f"bags with the same number in each bag. How many cookies are in each bag?"
    )
    e = f"{a} - {b} = {a - b} cookies are left, and {a - b} / {c} = {k} cookies go in each bag."
    return q, k, e


def _p_sub_sub(r: random.Random, w: _Word) -> _Problem:
    """Two steps: a - b - c."""
    a = r.randint(20, 60)
    b = r.randint(2, a // 2)
    c = r.randint(1, a - b - 1)
    vehicle, stop = r.choice([("bus", "stop"), ("train", "station"), ("ferry", "port")])
    q = (
        f"A {vehicle} had {a} passengers. At the first {stop} {b} passengers got off, and at "
        f"the second {stop} {c} more got off. How many passengers are still on the {vehicle}?"
    )
    s1 = a - b
    e = f"After the first {stop} {a} - {b} = {s1} remain, then {s1} - {c} = {s1 - c} are left."
    return q, s1 - c, e


def _p_irrelevant(r: random.Random, w: _Word) -> _Problem:
    """One step with an irrelevant number: a - b."""
    a = r.randint(10, 50)
    b = r.randint(2, a - 2)
    c = r.randint(2, 15)
    others = [it for it in _ITEMS if it[0] != w.items]
    other_items = r.choice(others)[0]
    q = (
        f"{w.name} had {a} {w.items}. {w.Pron} gave {b} {w.items} to {w.other} and bought "
        f"{c} {other_items}. How many {w.items} does {w.name} have left?"
    )
    e = f"The {c} {other_items} do not matter; {w.name} has {a} - {b} = {a - b} {w.items} left."
    return q, a - b, e


def _p_question_first(r: random.Random, w: _Word) -> _Problem:
    """One step, question first: a - b."""
    a = r.randint(10, 50)
    b = r.randint(2, a - 2)
    q = (
        f"How many {w.items} does {w.name} have left if {w.pron} had {a} {w.items} and gave "
        f"{b} to {w.other}?"
    )
    e = f"{w.name} started with {a} and gave away {b}, so {a} - {b} = {a - b} {w.items} are left."
    return q, a - b, e


def _p_change(r: random.Random, w: _Word) -> _Problem:
    """Two steps: bill - a * b (change)."""
    a, b = r.randint(2, 9), r.randint(2, 5)
    bill = 50 if a * b < 50 else 100
    q = (
        f"A ticket to the fair costs {a} dollars. {w.name} buys {b} tickets and pays with a "
        f"{bill}-dollar bill. How much change does {w.pron} get?"
    )
    s1 = a * b
    e = f"The tickets cost {b} * {a} = {s1} dollars, so the change is {bill} - {s1} = "
    e += f"{bill - s1} dollars."
    return q, bill - s1, e


def _p_times_as_many(r: random.Random, w: _Word) -> _Problem:
    """Two steps: a + k * a."""
    a, k = r.randint(3, 15), r.choice([2, 3, 4])
    times = {2: "twice", 3: "three times", 4: "four times"}[k]
    q = (
        f"{w.name} has {a} {w.items}. {w.other} has {times} as many {w.items} as {w.name}. "
        f"How many {w.items} do they have together?"
    )
    s1 = a * k
    e = f"{w.other} has {a} * {k} = {s1} {w.items}, so together they have {a} + {s1} = {a + s1}."
    return q, a + s1, e


_ONE_STEP: tuple[Callable[[random.Random, _Word], _Problem], ...] = (
    _p_add, _p_add_together, _p_sub_give, _p_sub_compare, _p_start_unknown, _p_more_than,
    _p_fewer_than, _p_mul_containers, _p_mul_rate, _p_div_share, _p_div_groups, _p_mul_price,
    _p_irrelevant, _p_question_first,
)  # fmt: skip
_TWO_STEP: tuple[Callable[[random.Random, _Word], _Problem], ...] = (
    _p_add_sub, _p_mul_sub, _p_add_div, _p_mul_add, _p_sub_div, _p_sub_sub, _p_change,
    _p_times_as_many,
)  # fmt: skip


def generate_svamp(rng: random.Random, n: int = N_SVAMP) -> list[Row]:
    """``n`` arithmetic word problems, about 60 % one-step and 40 % two-step."""
    rows: list[Row] = []
    seen: set[str] = set()
    templates = [*_ONE_STEP, *_TWO_STEP]
    weights = [1.0] * len(_ONE_STEP) + [1.2] * len(_TWO_STEP)
    while len(rows) < n:
        template = rng.choices(templates, weights=weights, k=1)[0]
        (name, pron), (other, _) = rng.sample(_NAMES, 2)
        items, item = rng.choice(_ITEMS)
        containers, container = rng.choice(_CONTAINERS)
        words = _Word(name, pron, other, items, item, containers, container)
        question, answer, explanation = template(rng, words)
        if question in seen or answer <= 0:
            continue
        seen.add(question)
        rows.append(
            {
                "id": f"svamp-{len(rows) + 1:04d}",
                "question": question,
                "answer": answer,
                "explanation": explanation,
            }
        )
    return rows


# ============================================================================== sentiment
@dataclass(frozen=True)
class _Aspect:
    """One thing a reviewer can praise or criticize."""

    name: str  # "sound quality"
    good: tuple[str, ...]
    bad: tuple[str, ...]


@dataclass(frozen=True)
class _Domain:
    """A kind of product (or a film / book) with its items, aspects and small asides."""

    kind: str  # "product" or "movie" or "book"
    it: str  # pronoun for the items: "it" or "them"
    items: tuple[str, ...]
    aspects: tuple[_Aspect, ...]
    minor_good: tuple[tuple[str, str], ...]  # (sentence, topic)
    minor_bad: tuple[tuple[str, str], ...]


_DOMAINS: tuple[_Domain, ...] = tuple(
    _Domain(
        **{**_tuples(fields), "aspects": tuple(_Aspect(**_tuples(a)) for a in fields["aspects"])}
    )
    for fields in _load_yaml("sentiment_domains.yml")
)

_OPENERS_GOOD = (
    "I love {item}.", "{Item} exceeded my expectations.", "Really happy with {item}.",
    "Five stars for {item}.", "{Item} is fantastic.", "I am so glad I picked {item}.",
)  # fmt: skip
_OPENERS_BAD = (
    "I regret choosing {item}.", "{Item} was a big disappointment.", "Skip {item}.",
    "One star for {item}.", "{Item} is awful.", "I wish I had never picked {item}.",
)  # fmt: skip
_CLOSERS_GOOD = {
    "product": ("Highly recommended.", "Worth every penny.", "I would buy {it} again.",
                "I have already recommended {it} to my friends."),
    "movie": ("Highly recommended.", "I would happily watch it again.", "Go and see it.",
              "One of the best films of the year."),
    "book": ("Highly recommended.", "I will read it again.", "I have already lent it to a "
             "friend.", "One of the best books I have read this year."),
}  # fmt: skip
_CLOSERS_BAD = {
    "product": ("Not recommended.", "I am sending {it} back.", "Save your money.",
                "A complete waste of money."),
    "movie": ("Not recommended.", "Two hours I will never get back.", "Save your money.",
              "I walked out before the end."),
    "book": ("Not recommended.", "I gave up halfway through.", "Save your money.",
             "I will not read anything else by this author."),
}  # fmt: skip


def _review(rng: random.Random, domain: _Domain, positive: bool) -> tuple[str, str]:
    """One review and its rationale."""
    item = rng.choice(domain.items)
    aspects = rng.sample(domain.aspects, rng.choice([1, 2, 2]))
    opener = rng.choice(_OPENERS_GOOD if positive else _OPENERS_BAD)
    sentences = [opener.format(item=item, Item=_cap(item))] if rng.random() < 0.8 else []
    for aspect in aspects:
        sentences.append(rng.choice(aspect.good if positive else aspect.bad))
    aside = None
    if rng.random() < 0.3:
        if positive:
            text, aside = rng.choice(domain.minor_bad)
            but = rng.choice(["that hardly matters", "I can live with that", "that is minor"])
            sentences.append(f"{text}, but {but}.")
        else:
            text, aside = rng.choice(domain.minor_good)
            but = rng.choice(["that does not make up for it", "that is not enough", "so what"])
            sentences.append(f"{text}, but {but}.")
    closers = _CLOSERS_GOOD if positive else _CLOSERS_BAD
    closed = rng.random() < 0.7 or len(sentences) < 2
    if closed:
        sentences.append(rng.choice(closers[domain.kind]).format(it=domain.it))
    text = " ".join(sentences)

    names = [a.name for a in aspects]
    topics = names[0] if len(names) == 1 else f"{names[0]} and the {names[1]}"
    label = "positive" if positive else "negative"
    if positive:
        options = [
            f"The reviewer praises the {topics}, so the overall opinion is positive.",
            f"The review is full of praise for the {topics}"
            + (" and recommends it." if closed else "."),
            f"Because the reviewer is pleased with the {topics}, the review is positive.",
        ]
        if aside:
            options = [
                f"Despite a small complaint about {aside}, the reviewer loves the {topics}.",
                f"The only criticism, about {aside}, is minor; the reviewer is happy with the "
                f"{topics}.",
            ]
    else:
        options = [
            f"The reviewer complains about the {topics}, so the overall opinion is negative.",
            f"The review criticizes the {topics}" + (" and advises against it." if closed else "."),
            f"Because the reviewer is unhappy with the {topics}, the review is {label}.",
        ]
        if aside:
            options = [
                f"Apart from liking {aside}, the reviewer is unhappy with the {topics}.",
                f"One kind word about {aside} does not outweigh the complaints about the {topics}.",
            ]
    lo, hi = SENTIMENT_EXPLANATION_WORDS
    options = [o for o in options if lo <= _n_words(o) <= hi]
    return text, rng.choice(options)


def generate_sentiment(rng: random.Random, n: int = N_SENTIMENT) -> list[Row]:
    """``n`` short reviews, half positive and half negative, in random order."""
    labels = [SENTIMENT_LABELS[i % 2] for i in range(n)]
    rng.shuffle(labels)
    rows: list[Row] = []
    seen: set[str] = set()
    for label in labels:
        while True:
            domain = rng.choice(_DOMAINS)
            text, explanation = _review(rng, domain, label == "positive")
            if text not in seen:
                break
        seen.add(text)
        rows.append(
            {
                "id": f"sent-{len(rows) + 1:04d}",
                "text": text,
                "label": label,
                "explanation": explanation,
            }
        )
    return rows


# ================================================================================= output
_GENERATORS: dict[str, Callable[[random.Random], list[Row]]] = {
    "nli": generate_nli,
    "cqa": generate_cqa,
    "cqa_large": generate_cqa_large,
    "svamp": generate_svamp,
    "sentiment": generate_sentiment,
}


def generate_all(seed: int = DEFAULT_SEED) -> dict[str, list[Row]]:
    """Every sample dataset; each draws from its own ``Random`` so they do not interact."""
    return {
        key: generator(random.Random(f"{seed}:{key}")) for key, generator in _GENERATORS.items()
    }


def to_jsonl(rows: Sequence[Row]) -> str:
    """JSON Lines text: one object per line, keys in row order, UTF-8, trailing newline."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_all(out_dir: str | Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write every sample file into ``out_dir`` (created if missing); return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for key, rows in generate_all(seed).items():
        path = out / FILE_NAMES[key]
        path.write_bytes(to_jsonl(rows).encode("utf-8"))
        paths[key] = path
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python tools/sample_data/generate.py --out data/01_raw``."""
    parser = argparse.ArgumentParser(
        prog="python tools/sample_data/generate.py",
        description="Write the bundled sample datasets (deterministic for a given seed).",
    )
    parser.add_argument("--out", default="data/01_raw", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="default: %(default)s")
    args = parser.parse_args(argv)
    for key, path in write_all(args.out, args.seed).items():
        n_rows = sum(1 for _ in path.open(encoding="utf-8"))
        print(f"{key:<10} {n_rows:>4} rows -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
