"""Deterministic generator of the bundled sample data in ``data/01_raw``.

The project ships small, self-made datasets so that every pipeline runs offline and without
third-party text. Each file is built from hand-written knowledge tables and templates with a
seeded :class:`random.Random`, so two runs with the same seed write identical bytes:

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

    python -m zeroshot_distill.sample_data --out data/01_raw
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20240611
"""Seed of the committed sample files."""

N_NLI = 240
N_CQA = 200
N_CQA_LARGE = 800
N_SVAMP = 150
N_SENTIMENT = 900

NLI_LABELS = ("entailment", "neutral", "contradiction")
SENTIMENT_LABELS = ("positive", "negative")
CHOICE_LETTERS = "abcde"

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
    "street": _Place("on a busy street", "on a street", "a busy street", "out"),
    "park": _Place("in a city park", "in a park", "a city park", "out"),
    "beach": _Place("on a sandy beach", "on a beach", "a sandy beach", "out"),
    "field": _Place("on a grassy field", "on a field", "a grassy field", "out"),
    "trail": _Place("on a mountain trail", "on a trail", "a mountain trail", "out"),
    "lake": _Place("in a calm lake", "in a lake", "a calm lake", "out"),
    "ocean": _Place("in the open ocean", "in the ocean", "the open ocean", "out"),
    "pool": _Place("in an indoor pool", "in a pool", "an indoor pool", "in"),
    "pier": _Place("on a wooden pier", "on a pier", "a wooden pier", "out"),
    "river": _Place("on the bank of a river", "by a river", "the bank of a river", "out"),
    "pond": _Place("beside a duck pond", "beside a pond", "a duck pond", "out"),
    "garden": _Place("in a small garden", "in a garden", "a small garden", "out"),
    "yard": _Place("in a front yard", "in a yard", "a front yard", "out"),
    "market": _Place("at an outdoor market", "at a market", "an outdoor market", "out"),
    "bus_stop": _Place("at a crowded bus stop", "at a bus stop", "a crowded bus stop", "out"),
    "cliff": _Place("on a steep cliff", "on a cliff", "a steep cliff", "out"),
    "kitchen": _Place("in a small kitchen", "in a kitchen", "a small kitchen", "in"),
    "rkitchen": _Place(
        "in a restaurant kitchen", "in a kitchen", "a restaurant kitchen", "in", adults_only=True
    ),
    "living_room": _Place("in a cozy living room", "in a living room", "a cozy living room", "in"),
    "library": _Place("in a quiet library", "in a library", "a quiet library", "in"),
    "cafe": _Place("in a crowded cafe", "in a cafe", "a crowded cafe", "in"),
    "classroom": _Place("in a bright classroom", "in a classroom", "a bright classroom", "in"),
    "office": _Place("in a busy office", "in an office", "a busy office", "in", adults_only=True),
    "train": _Place("on a crowded train", "on a train", "a crowded train", None),
    "stage": _Place("on a brightly lit stage", "on a stage", "a brightly lit stage", None),
    "gym": _Place("in a large gym", "in a gym", "a large gym", "in"),
    "garage": _Place("in a messy garage", "in a garage", "a messy garage", "in"),
    "studio": _Place("in an art studio", "in a studio", "an art studio", "in"),
    "restaurant": _Place(
        "in a crowded restaurant", "in a restaurant", "a crowded restaurant", "in"
    ),
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


_ACTIONS: tuple[_Action, ...] = (
    _Action(
        "guitar",
        "playing a guitar",
        "play a guitar",
        ("street", "park", "stage", "living_room", "beach"),
        gen=(
            ("playing an instrument", "a guitar is a musical instrument"),
            ("making music", "playing a guitar produces music"),
            ("holding a guitar", "nobody can play a guitar without holding it"),
        ),
        alts=(
            ("playing a violin", "the instrument in the premise is a guitar, not a violin"),
            ("playing the drums", "a guitar and a set of drums are different instruments"),
        ),
        conflicts=("swim", "bike", "cook", "read", "horse"),
        roles=(
            ("a professional musician", "professional musicians"),
            ("a famous rock star", "famous rock stars"),
        ),
        purposes=("to earn some money", "to practice for a concert"),
        extras=(("playing a sad love song on a guitar", "which song is being played"),),
        plural_ok=False,
    ),
    _Action(
        "bike",
        "riding a bicycle",
        "ride a bicycle",
        ("street", "park", "trail", "beach"),
        gen=(
            ("riding a bike", "a bicycle and a bike are the same thing"),
            ("cycling", "riding a bicycle is what cycling means"),
            ("on a bicycle", "anyone riding a bicycle has to be sitting on it"),
        ),
        alts=(("riding a motorcycle", "a bicycle is pedalled, while a motorcycle has an engine"),),
        conflicts=("swim", "read", "cook", "dishes", "laptop", "knit"),
        roles=(
            ("a bike messenger", "bike messengers"),
            ("a professional cyclist", "professional cyclists"),
        ),
        purposes=("to get to work on time", "to train for a race"),
        extras=(("riding a brand-new bicycle", "whether the bicycle is new"),),
        plural_ok=False,
    ),
    _Action(
        "cook",
        "cooking pasta",
        "cook pasta",
        ("kitchen", "rkitchen"),
        gen=(
            ("preparing food", "cooking pasta is one way of preparing food"),
            ("making a meal", "cooking pasta is a way of making a meal"),
        ),
        alts=(
            ("baking a cake", "cooking pasta is a different task from baking a cake"),
            ("grilling steaks", "pasta and steak are different foods"),
        ),
        conflicts=("bike", "swim", "soccer", "jog", "horse"),
        roles=(("a trained chef", "trained chefs"),),
        purposes=("for a family dinner", "to impress {pos} guests"),
        extras=(("cooking pasta with fresh tomatoes", "which ingredients are being used"),),
    ),
    _Action(
        "read",
        "reading a book",
        "read a book",
        ("library", "park", "cafe", "train", "living_room", "beach"),
        gen=(
            ("reading", "anyone reading a book is reading"),
            ("looking at a book", "reading a book means looking at its pages"),
        ),
        alts=(("reading a newspaper", "a book and a newspaper are different things to read"),),
        conflicts=("soccer", "swim", "jog", "dance", "bike", "climb"),
        roles=(
            ("a college student", "college students"),
            ("a famous author", "famous authors"),
        ),
        purposes=("to study for an exam", "to pass the time"),
        extras=(
            ("reading a mystery novel", "what kind of book it is"),
            ("reading a book about history", "what the book is about"),
        ),
        plural_ok=False,
    ),
    _Action(
        "soccer",
        "playing soccer",
        "play soccer",
        ("field", "park", "beach", "street"),
        gen=(
            ("playing a sport", "soccer is a sport"),
            ("playing a game with a ball", "soccer is a game played with a ball"),
        ),
        alts=(
            ("playing basketball", "soccer and basketball are different sports"),
            ("playing tennis", "soccer and tennis are two different games"),
        ),
        conflicts=("read", "swim", "laptop", "cook", "knit", "piano"),
        roles=(
            ("a professional athlete", "professional athletes"),
            ("a member of a school team", "members of a school team"),
        ),
        purposes=("to win a trophy", "to get some exercise"),
        extras=(("playing soccer in a championship game", "how important the game is"),),
        clothing_ok=True,
    ),
    _Action(
        "dog",
        "walking a dog",
        "walk a dog",
        ("park", "street", "beach", "trail"),
        gen=(
            ("walking an animal", "a dog is an animal"),
            ("out with a pet", "a dog is a pet, and walking it means being out with it"),
        ),
        alts=(("walking a goat", "the animal in the premise is a dog, not a goat"),),
        conflicts=("swim", "cook", "read", "knit", "piano"),
        roles=(("a professional dog walker", "professional dog walkers"),),
        purposes=("to get some fresh air", "before going to work"),
        extras=(
            ("walking a large brown dog", "what the dog looks like"),
            ("walking a neighbor's dog", "whose dog it is"),
        ),
    ),
    _Action(
        "swim",
        "swimming",
        "swim",
        ("lake", "pool", "ocean"),
        gen=(
            ("in the water", "someone who is swimming has to be in the water"),
            ("getting wet", "nobody can swim without getting wet"),
        ),
        alts=(),
        conflicts=("read", "laptop", "cook", "bike", "guitar", "knit"),
        roles=(("a lifeguard", "lifeguards"), ("a champion swimmer", "champion swimmers")),
        purposes=("to cool off", "to train for a race"),
        extras=(("swimming as fast as {pron} can", "how fast the swimming is"),),
        clothing_ok=False,
    ),
    _Action(
        "paint",
        "painting a picture",
        "paint a picture",
        ("park", "living_room", "studio", "beach"),
        gen=(
            ("making art", "painting a picture is a way of making art"),
            ("painting", "anyone painting a picture is painting"),
            ("using paint", "a picture cannot be painted without paint"),
        ),
        alts=(("painting a fence", "a picture is not a fence"),),
        conflicts=("swim", "soccer", "jog", "bike"),
        roles=(
            ("a professional artist", "professional artists"),
            ("an art student", "art students"),
        ),
        purposes=("to sell at a market", "as a gift for a friend"),
        extras=(("painting a picture of the sea", "what the picture shows"),),
        plural_ok=False,
    ),
    _Action(
        "lunch",
        "eating lunch",
        "eat lunch",
        ("park", "cafe", "office", "kitchen", "restaurant"),
        gen=(
            ("eating", "anyone eating lunch is eating"),
            ("having a meal", "lunch is a meal"),
        ),
        alts=(("eating breakfast", "lunch and breakfast are different meals"),),
        conflicts=("swim", "jog", "sing", "dance", "climb"),
        roles=(("an office worker", "office workers"), ("a tourist", "tourists")),
        purposes=("during a short break from work", "to celebrate a birthday"),
        extras=(("eating a ham sandwich for lunch", "what the lunch is"),),
    ),
    _Action(
        "bus",
        "waiting for a bus",
        "wait for a bus",
        ("bus_stop", "street"),
        gen=(
            ("waiting", "anyone waiting for a bus is waiting"),
            ("waiting for public transport", "a bus is a kind of public transport"),
        ),
        alts=(("waiting for a taxi", "a bus and a taxi are different things to wait for"),),
        conflicts=("swim", "cook", "bike", "horse", "dishes"),
        roles=(("a tourist", "tourists"), ("a nurse", "nurses")),
        purposes=("to get to work", "to go to the airport"),
        extras=(("waiting for the last bus of the day", "which bus it is"),),
    ),
    _Action(
        "climb",
        "climbing a rock wall",
        "climb a rock wall",
        ("gym", "cliff"),
        gen=(
            ("climbing", "anyone climbing a rock wall is climbing"),
            ("off the ground", "climbing a wall lifts a person off the ground"),
        ),
        alts=(("climbing a tree", "a rock wall is not a tree"),),
        conflicts=("swim", "read", "cook", "lunch", "laptop"),
        roles=(("an experienced climber", "experienced climbers"),),
        purposes=("to prepare for a mountain trip", "to get stronger"),
        extras=(("climbing a rock wall without a rope", "whether a rope is being used"),),
    ),
    _Action(
        "fruit",
        "selling fruit",
        "sell fruit",
        ("market", "street"),
        gen=(
            ("selling food", "fruit is a kind of food"),
            ("selling something", "fruit is something that can be sold"),
        ),
        alts=(("selling clothes", "fruit is food, not clothing"),),
        conflicts=("swim", "soccer", "jog", "climb"),
        roles=(("a farmer", "farmers"),),
        purposes=("to support {pos} family", "to raise money for a school trip"),
        extras=(("selling fresh apples", "which fruit is being sold"),),
        children_ok=False,
    ),
    _Action(
        "photo",
        "taking a photograph",
        "take a photograph",
        ("park", "beach", "street", "trail"),
        gen=(
            ("taking a picture", "a photograph is a picture"),
            ("using a camera", "photographs are taken with a camera"),
        ),
        alts=(("drawing a picture", "taking a photograph is not the same as drawing"),),
        conflicts=("swim", "cook", "knit", "dishes"),
        roles=(
            ("a tourist", "tourists"),
            ("a professional photographer", "professional photographers"),
        ),
        purposes=("to post online", "for a newspaper story"),
        extras=(("taking a photograph of the sunset", "what the photograph shows"),),
        plural_ok=False,
    ),
    _Action(
        "fish",
        "fishing",
        "fish",
        ("pier", "river"),
        gen=(("trying to catch fish", "fishing means trying to catch fish"),),
        alts=(),
        conflicts=("cook", "laptop", "dance", "soccer"),
        roles=(("a professional angler", "professional anglers"),),
        purposes=("to catch dinner for {pos} family", "to relax after a hard week"),
        extras=(("fishing for trout", "what kind of fish is being caught"),),
    ),
    _Action(
        "sandcastle",
        "building a sandcastle",
        "build a sandcastle",
        ("beach",),
        gen=(
            ("building something", "a sandcastle is something that has to be built"),
            ("playing in the sand", "a sandcastle is made of sand"),
        ),
        alts=(("building a snowman", "a sandcastle is made of sand, not snow"),),
        conflicts=("laptop", "cook", "read", "bike"),
        roles=(("an architect", "architects"),),
        purposes=("to win a contest", "to pass the afternoon"),
        extras=(("building a huge sandcastle", "how big the sandcastle is"),),
        clothing_ok=False,
    ),
    _Action(
        "laptop",
        "typing on a laptop",
        "type on a laptop",
        ("office", "cafe", "library", "train"),
        gen=(
            ("using a computer", "a laptop is a computer"),
            ("typing", "anyone typing on a laptop is typing"),
        ),
        alts=(("writing with a pen", "typing on a laptop is not writing with a pen"),),
        conflicts=("swim", "soccer", "jog", "dance", "climb"),
        roles=(("a writer", "writers"), ("a software engineer", "software engineers")),
        purposes=("to finish a report", "to send an email to {pos} boss"),
        extras=(("typing a long email on a laptop", "what is being typed"),),
        plural_ok=False,
        children_ok=False,
    ),
    _Action(
        "jog",
        "jogging",
        "jog",
        ("park", "beach", "street", "trail"),
        gen=(
            ("running", "jogging is a slow kind of running"),
            ("exercising", "jogging is a form of exercise"),
            ("moving", "nobody can jog while standing still"),
        ),
        alts=(("walking slowly", "jogging is faster than walking slowly"),),
        conflicts=("read", "laptop", "cook", "knit", "fish"),
        roles=(("a marathon runner", "marathon runners"),),
        purposes=("to lose weight", "to train for a marathon"),
        extras=(("jogging while wearing headphones", "whether headphones are being worn"),),
    ),
    _Action(
        "sing",
        "singing into a microphone",
        "sing into a microphone",
        ("stage", "restaurant", "living_room"),
        gen=(
            ("singing", "anyone singing into a microphone is singing"),
            ("using a microphone", "singing into a microphone means using one"),
        ),
        alts=(("playing a trumpet", "nobody can sing and blow a trumpet at once"),),
        conflicts=("swim", "lunch", "read", "laptop"),
        roles=(("a famous pop singer", "famous pop singers"),),
        purposes=("to win a talent show", "to entertain the guests"),
        extras=(("singing a love song into a microphone", "which song is being sung"),),
        plural_ok=False,
    ),
    _Action(
        "dance",
        "dancing",
        "dance",
        ("stage", "street", "living_room", "beach"),
        gen=(("moving", "dancing involves moving the whole body"),),
        alts=(),
        conflicts=("read", "laptop", "knit", "fish", "swim"),
        roles=(("a professional dancer", "professional dancers"),),
        purposes=("to celebrate a birthday", "to practice for a show"),
        extras=(("dancing to {pos} favorite song", "what music is playing"),),
    ),
    _Action(
        "dishes",
        "washing dishes",
        "wash dishes",
        ("kitchen", "rkitchen"),
        gen=(
            ("cleaning", "washing dishes is a kind of cleaning"),
            ("doing a chore", "washing dishes is a household chore"),
        ),
        alts=(("drying clothes", "dishes and clothes are different things"),),
        conflicts=("bike", "swim", "soccer", "jog"),
        roles=(("a restaurant employee", "restaurant employees"),),
        purposes=("after a big family dinner", "to help {pos} parents"),
        extras=(("washing a huge pile of dishes", "how many dishes there are"),),
    ),
    _Action(
        "horse",
        "riding a horse",
        "ride a horse",
        ("field", "beach", "trail"),
        gen=(
            ("riding an animal", "a horse is an animal"),
            ("on a horse", "riding a horse means sitting on its back"),
        ),
        alts=(("riding a camel", "a horse and a camel are different animals"),),
        conflicts=("swim", "laptop", "cook", "dog"),
        roles=(("a professional jockey", "professional jockeys"), ("a farmer", "farmers")),
        purposes=("to check on {pos} cattle", "to practice for a competition"),
        extras=(("riding a white horse", "what color the horse is"),),
        plural_ok=False,
    ),
    _Action(
        "coffee",
        "drinking coffee",
        "drink coffee",
        ("cafe", "office", "kitchen", "train"),
        gen=(
            ("having a drink", "coffee is a drink"),
            ("drinking something", "coffee is something to drink"),
        ),
        alts=(("drinking orange juice", "coffee is not orange juice"),),
        conflicts=("swim", "jog", "sing", "climb"),
        roles=(("a night-shift nurse", "night-shift nurses"),),
        purposes=("to stay awake", "while waiting for a friend"),
        extras=(("drinking coffee without sugar", "how the coffee is made"),),
        children_ok=False,
    ),
    _Action(
        "rake",
        "raking leaves",
        "rake leaves",
        ("garden", "park", "yard"),
        gen=(
            ("doing yard work", "raking leaves is yard work"),
            ("cleaning up leaves", "raking leaves gathers them up"),
        ),
        alts=(("shoveling snow", "raking leaves is a different job from shoveling snow"),),
        conflicts=("swim", "laptop", "cook", "read"),
        roles=(("a gardener", "gardeners"),),
        purposes=("to earn some pocket money", "to help an elderly neighbor"),
        extras=(("raking wet leaves", "whether the leaves are wet"),),
    ),
    _Action(
        "plant",
        "planting flowers",
        "plant flowers",
        ("garden", "park", "yard"),
        gen=(
            ("gardening", "planting flowers is gardening"),
            ("working with plants", "flowers are plants"),
        ),
        alts=(("planting trees", "flowers and trees are different plants"),),
        conflicts=("swim", "laptop", "sing", "bike"),
        roles=(("a professional gardener", "professional gardeners"),),
        purposes=("as a surprise for a neighbor", "to attract bees"),
        extras=(("planting red tulips", "which flowers are being planted"),),
    ),
    _Action(
        "car",
        "repairing a car",
        "repair a car",
        ("garage", "street"),
        gen=(
            ("fixing a car", "repairing a car means fixing it"),
            ("working on a vehicle", "a car is a vehicle"),
        ),
        alts=(("repairing a bicycle", "a car is not a bicycle"),),
        conflicts=("swim", "read", "dance", "jog"),
        roles=(("a mechanic", "mechanics"),),
        purposes=("before a long road trip", "to save money on repairs"),
        extras=(("repairing an old car", "how old the car is"),),
        children_ok=False,
    ),
    _Action(
        "chess",
        "playing chess",
        "play chess",
        ("park", "cafe", "living_room", "library"),
        gen=(
            ("playing a game", "chess is a game"),
            ("playing a board game", "chess is played on a board"),
        ),
        alts=(("playing cards", "chess is a board game, not a card game"),),
        conflicts=("swim", "jog", "soccer", "dance"),
        roles=(("a chess champion", "chess champions"),),
        purposes=("to pass the time", "to practice for a tournament"),
        extras=(("playing a very close game of chess", "how close the game is"),),
    ),
    _Action(
        "box",
        "carrying a heavy box",
        "carry a heavy box",
        ("street", "office", "garage"),
        gen=(
            ("carrying something", "a box is something"),
            ("holding a box", "carrying a box means holding it"),
        ),
        alts=(("carrying a suitcase", "a box is not a suitcase"),),
        conflicts=("swim", "laptop", "knit", "bike"),
        roles=(("a delivery driver", "delivery drivers"),),
        purposes=("to help a friend move house", "to clear out the garage"),
        extras=(("carrying a heavy box full of books", "what is inside the box"),),
    ),
    _Action(
        "ducks",
        "feeding ducks",
        "feed ducks",
        ("pond", "park"),
        gen=(
            ("feeding birds", "ducks are birds"),
            ("feeding animals", "ducks are animals"),
        ),
        alts=(("feeding pigeons", "ducks and pigeons are different birds"),),
        conflicts=("swim", "laptop", "cook", "soccer"),
        roles=(("a retired teacher", "retired teachers"),),
        purposes=("to teach {pos} children about birds", "to pass the morning"),
        extras=(("feeding ducks with old bread", "what the ducks are being fed"),),
    ),
    _Action(
        "piano",
        "playing the piano",
        "play the piano",
        ("stage", "living_room", "restaurant"),
        gen=(
            ("playing an instrument", "a piano is a musical instrument"),
            ("making music", "playing the piano produces music"),
        ),
        alts=(("playing a trumpet", "a piano and a trumpet are different instruments"),),
        conflicts=("jog", "swim", "bike", "dog"),
        roles=(("a concert pianist", "concert pianists"),),
        purposes=("to practice for a recital", "to entertain {pos} family"),
        extras=(("playing a classical piece on the piano", "what music is being played"),),
        plural_ok=False,
    ),
    _Action(
        "knit",
        "knitting a scarf",
        "knit a scarf",
        ("living_room", "cafe", "train", "park"),
        gen=(
            ("making a scarf", "knitting a scarf is a way of making one"),
            ("making clothing", "a scarf is a piece of clothing"),
        ),
        alts=(("knitting a sweater", "a scarf is not a sweater"),),
        conflicts=("swim", "soccer", "jog", "climb"),
        roles=(("a fashion designer", "fashion designers"),),
        purposes=("as a gift for a friend", "to sell at a craft fair"),
        extras=(("knitting a long red scarf", "what color the scarf is"),),
        plural_ok=False,
    ),
    _Action(
        "chalk",
        "writing on a chalkboard",
        "write on a chalkboard",
        ("classroom",),
        gen=(
            ("writing", "anyone writing on a chalkboard is writing"),
            ("using chalk", "people write on a chalkboard with chalk"),
        ),
        alts=(("erasing a whiteboard", "a chalkboard is not a whiteboard"),),
        conflicts=("swim", "jog", "soccer", "bike"),
        roles=(("a math teacher", "math teachers"),),
        purposes=("to explain a difficult problem", "to prepare for a lesson"),
        extras=(("writing a long equation on a chalkboard", "what is being written"),),
        plural_ok=False,
    ),
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


def _facts(relation: str, rows: Sequence[tuple[str, str, str, str]]) -> list[_Fact]:
    """Rows of ``(concept, answer, "d1|d2|…", explanation)`` for one relation."""
    return [
        _Fact(relation, concept, answer, tuple(d.strip() for d in wrong.split("|")), why)
        for concept, answer, wrong, why in rows
    ]


# Question templates per relation; {c} is the concept, {name}/{pron} a person.
_CQA_TEMPLATES: dict[str, tuple[str, ...]] = {
    "location": (
        "Where would you most likely find {c}?",
        "Where {is_} {c} usually kept?",
        "If you were looking for {c}, where would you look first?",
        "In which place would you expect to see {c}?",
    ),
    "habitat": (
        "Where would you most likely find {c}?",
        "In which place would you expect to see {c}?",
        "Where are you most likely to come across {c}?",
    ),
    "goal_place": (
        "Where would you go to {c}?",
        "If you wanted to {c}, where would you go?",
        "{name} wants to {c}. Where should {pron} go?",
    ),
    "used_for": (
        "What would you use {c} for?",
        "What do people usually use {c} for?",
        "What is the main purpose of {c}?",
    ),
    "feeling": (
        "How would someone probably feel after {c}?",
        "How would most people feel after {c}?",
        "After {c}, how is a person likely to feel?",
    ),
    "effect": (
        "What is likely to happen if you {c}?",
        "If you {c}, what will probably happen?",
        "What is a likely result if you {c}?",
    ),
    "works_at": (
        "Where does {c} usually work?",
        "Where would you expect to find {c} at work?",
        "In which place would you most likely meet {c} doing their job?",
    ),
    "tool": (
        "Which tool would {c} most likely use?",
        "What does {c} need to do their job?",
        "What would you expect {c} to work with?",
    ),
    "requires": (
        "What do you need before you can {c}?",
        "What must you have in order to {c}?",
        "To {c}, what do you need first?",
    ),
    "motive": (
        "Why would someone {c}?",
        "What is the most likely reason a person would {c}?",
        "{name} decided to {c}. Why did {pron} probably do it?",
    ),
}

_LOCATION = _facts(
    "location",
    [
        (
            "a toothbrush",
            "bathroom",
            "kitchen|garage|office|attic|car",
            "A toothbrush is kept in the bathroom, where people brush their teeth at the sink.",
        ),
        (
            "fresh milk",
            "refrigerator",
            "oven|bookshelf|dishwasher|closet|mailbox",
            "Fresh milk spoils quickly, so it is kept cold in the refrigerator.",
        ),
        (
            "a lawn mower",
            "garage",
            "bedroom|kitchen|bathroom|living room|office",
            "A lawn mower is a large outdoor machine, so it is usually stored in the garage.",
        ),
        (
            "a pillow",
            "bed",
            "refrigerator|bathtub|oven|garage|mailbox",
            "Pillows are placed on a bed so that people can rest their heads while they sleep.",
        ),
        (
            "a stethoscope",
            "hospital",
            "bakery|library|post office|bank|gas station",
            "Doctors and nurses use stethoscopes to listen to patients' hearts, so they are found "
            "in hospitals.",
        ),
        (
            "a shopping cart",
            "supermarket",
            "library|hospital|school|church|bank",
            "Shoppers push shopping carts around a supermarket to carry their groceries.",
        ),
        (
            "a chalkboard",
            "classroom",
            "kitchen|bathroom|garage|swimming pool|barn",
            "Teachers write lessons on chalkboards that hang on the walls of classrooms.",
        ),
        (
            "a cow",
            "farm",
            "office|apartment|library|shopping mall|airport",
            "Cows are farm animals raised for milk and meat, so they live on farms.",
        ),
        (
            "a whale",
            "ocean",
            "lake|river|swimming pool|pond|aquarium gift shop",
            "Whales are huge sea animals, and only the ocean has enough room for them.",
        ),
        (
            "a cactus",
            "desert",
            "ocean|swamp|lake|glacier|rice field",
            "A cactus stores water in its thick stem, which lets it survive in the dry desert.",
        ),
        (
            "a spare tire",
            "car trunk",
            "kitchen drawer|bathroom cabinet|bookshelf|mailbox|bedroom",
            "Drivers keep a spare tire in the car trunk in case one of their tires goes flat.",
        ),
        (
            "a winter coat",
            "closet",
            "kitchen cabinet|bookshelf|bathtub|dishwasher|toolbox",
            "A coat is clothing, so it hangs in a closet until someone needs to wear it.",
        ),
        (
            "a hammer",
            "toolbox",
            "jewelry box|pencil case|refrigerator|lunch box|medicine cabinet",
            "A hammer is a tool, and tools are stored together in a toolbox.",
        ),
        (
            "a seashell",
            "beach",
            "forest|desert|mountain top|city street|library",
            "Seashells wash up from the sea onto the sand, so people find them on beaches.",
        ),
        (
            "a squirrel",
            "tree",
            "river|desert|ocean|cave|beach",
            "Squirrels live in trees, where they build nests and store nuts.",
        ),
        (
            "an airplane",
            "airport",
            "train station|harbor|bus stop|parking garage|garden",
            "Airplanes take off and land on the runways of an airport.",
        ),
        (
            "dirty clothes",
            "laundry basket",
            "refrigerator|bookshelf|mailbox|oven|cupboard",
            "Dirty clothes are collected in a laundry basket until they are washed.",
        ),
        (
            "a bar of soap",
            "bathroom sink",
            "bookshelf|refrigerator|garage|oven|desk drawer",
            "A bar of soap is kept by the bathroom sink so that people can wash their hands.",
        ),
        (
            "an oven",
            "kitchen",
            "bedroom|bathroom|garage|closet|attic",
            "An oven is used to bake and cook food, so it is installed in the kitchen.",
        ),
        (
            "a bed",
            "bedroom",
            "kitchen|bathroom|garage|dining room|laundry room",
            "A bed is where people sleep, so it is kept in the bedroom.",
        ),
        (
            "a wild monkey",
            "jungle",
            "desert|ocean|arctic|city library|glacier",
            "Monkeys climb through the trees of the jungle, where they find fruit to eat.",
        ),
        (
            "a penguin",
            "Antarctica",
            "Sahara desert|rainforest|farm|city park|savanna",
            "Penguins are birds adapted to icy water, and many of them live in cold Antarctica.",
        ),
        (
            "a bookmark",
            "book",
            "refrigerator|shoe|oven|flower pot|sink",
            "A bookmark is placed between the pages of a book to mark where the reader stopped.",
        ),
        (
            "spare coins",
            "piggy bank",
            "refrigerator|flower pot|bathtub|bookshelf|shoe",
            "Children save their coins in a piggy bank until they have enough to spend.",
        ),
        (
            "ice cubes",
            "freezer",
            "oven|cupboard|toaster|microwave|drawer",
            "Ice cubes melt at room temperature, so they are kept frozen in the freezer.",
        ),
        (
            "a box of cereal",
            "kitchen cupboard",
            "bathroom cabinet|garage|bedroom closet|mailbox|toolbox",
            "A box of cereal is dry food, so it is kept in a kitchen cupboard.",
        ),
        (
            "a swing",
            "playground",
            "library|kitchen|office|hospital|bank",
            "Children play on swings, and playgrounds are built with swings and slides for them.",
        ),
        (
            "a pet goldfish",
            "fish bowl",
            "bird cage|dog house|shoebox|drawer|hamster wheel",
            "A goldfish needs water to breathe, so it is kept in a fish bowl or tank.",
        ),
        (
            "a painting by a famous artist",
            "museum",
            "bakery|hardware store|gas station|gym|post office",
            "Famous paintings are valuable art, and museums display them for visitors.",
        ),
        (
            "a dinosaur skeleton",
            "natural history museum",
            "zoo|aquarium|farm|pet store|circus",
            "Dinosaurs died out long ago, so their skeletons are shown in natural history museums.",
        ),
        (
            "a microscope",
            "laboratory",
            "kitchen|bakery|garage|beach|barn",
            "Scientists use microscopes to look at tiny things, so microscopes are found in "
            "laboratories.",
        ),
        (
            "a tent",
            "campsite",
            "office|hospital|library|bank|classroom",
            "People sleep in tents when they go camping, so tents are set up at campsites.",
        ),
        (
            "a bird's nest",
            "tree branch",
            "ocean floor|refrigerator|basement|river bed|desert sand",
            "Many birds build their nests high on tree branches to keep their eggs safe.",
        ),
        (
            "a cash register",
            "store",
            "bedroom|forest|swimming pool|farm field|cave",
            "Stores use cash registers to take payments from their customers.",
        ),
        (
            "a stapler",
            "office desk",
            "bathtub|refrigerator|flower bed|dog house|oven",
            "A stapler holds papers together, so it is kept on an office desk with other supplies.",
        ),
        (
            "a fire truck",
            "fire station",
            "police station|bakery|school|library|hotel",
            "Fire trucks wait at the fire station so firefighters can leave quickly when called.",
        ),
    ],
)

# Animals, plants and things seen out in the world: "where is it kept" would be odd.
_HABITAT_CONCEPTS = frozenset(
    {
        "a whale", "a cactus", "a seashell", "a squirrel", "an airplane", "a wild monkey",
        "a penguin", "a bird's nest", "a dinosaur skeleton", "a painting by a famous artist",
    }
)  # fmt: skip
_LOCATION = [
    replace(f, relation="habitat") if f.concept in _HABITAT_CONCEPTS else f for f in _LOCATION
]

_GOAL_PLACE = _facts(
    "goal_place",
    [
        (
            "borrow a book",
            "library",
            "bookstore|bakery|museum|bank|gym",
            "A library lends books for free, so you can borrow one and return it later.",
        ),
        (
            "mail a letter",
            "post office",
            "library|bank|bakery|fire station|museum",
            "A post office accepts letters and packages and sends them to their addresses.",
        ),
        (
            "buy fresh bread",
            "bakery",
            "pharmacy|hardware store|library|post office|gas station",
            "A bakery bakes fresh bread every day and sells it to customers.",
        ),
        (
            "get a broken arm treated",
            "hospital",
            "pharmacy|school|bank|police station|library",
            "Doctors at a hospital can X-ray a broken arm and put it in a cast.",
        ),
        (
            "fill a prescription",
            "pharmacy",
            "bakery|bank|post office|hardware store|library",
            "A pharmacy is where prescriptions are filled and medicine is handed out.",
        ),
        (
            "buy nails and a saw",
            "hardware store",
            "bakery|pharmacy|bookstore|jewelry store|florist",
            "Hardware stores sell tools and building supplies such as nails and saws.",
        ),
        (
            "deposit money into an account",
            "bank",
            "library|post office|bakery|museum|hospital",
            "A bank keeps people's money safe and lets them deposit it into an account.",
        ),
        (
            "catch a flight",
            "airport",
            "train station|bus stop|harbor|subway station|taxi stand",
            "Planes take off from airports, so travelers go there to catch their flights.",
        ),
        (
            "see lions and giraffes",
            "zoo",
            "aquarium|farm|pet store|museum|bakery",
            "A zoo keeps wild animals such as lions and giraffes for visitors to see.",
        ),
        (
            "watch a new film on a big screen",
            "movie theater",
            "library|museum|stadium|concert hall|bookstore",
            "A movie theater shows new films on a huge screen to an audience.",
        ),
        (
            "fill up a car with fuel",
            "gas station",
            "car wash|parking lot|bank|library|post office",
            "Gas stations have pumps that sell fuel for cars.",
        ),
        (
            "watch a professional football match",
            "stadium",
            "library|hospital|museum|post office|church",
            "Professional football matches are played in large stadiums with seats for fans.",
        ),
        (
            "see sharks and jellyfish",
            "aquarium",
            "farm|pet store|museum|circus|bakery",
            "An aquarium has large water tanks where visitors can watch sharks and jellyfish.",
        ),
        (
            "buy a bunch of fresh flowers",
            "florist",
            "bakery|hardware store|pharmacy|bank|butcher",
            "A florist sells fresh flowers and arranges them into bouquets.",
        ),
        (
            "report a stolen bicycle",
            "police station",
            "fire station|post office|library|hospital|bakery",
            "The police deal with crimes, so a stolen bicycle is reported at a police station.",
        ),
        (
            "swim laps",
            "swimming pool",
            "bathtub|library|parking lot|bakery|sauna",
            "A swimming pool is long and deep enough to swim laps in.",
        ),
        (
            "lift weights",
            "gym",
            "library|bakery|bank|church|museum",
            "Gyms have weights and exercise machines for people who want to get stronger.",
        ),
        (
            "get a haircut",
            "hair salon",
            "bakery|pharmacy|bank|dentist's office|car wash",
            "Hairdressers at a hair salon cut and style people's hair.",
        ),
        (
            "board a train",
            "train station",
            "airport|harbor|gas station|parking lot|post office",
            "Trains stop at train stations, where passengers get on and off.",
        ),
        (
            "buy a week's groceries",
            "supermarket",
            "library|hardware store|post office|bank|museum",
            "A supermarket sells food and other groceries for people to take home.",
        ),
        (
            "have a rotten tooth pulled",
            "dentist's office",
            "hair salon|pharmacy|bakery|gym|bank",
            "A dentist takes care of teeth and pulls out teeth that are badly damaged.",
        ),
        (
            "learn to read and write",
            "school",
            "hospital|bank|farm|prison|factory",
            "Children go to school, where teachers help them learn to read and write.",
        ),
        (
            "attend a religious service",
            "church",
            "bank|stadium|factory|gym|airport",
            "Religious services are held in places of worship such as a church.",
        ),
        (
            "see paintings and sculptures",
            "art museum",
            "bakery|hardware store|stadium|gas station|hospital",
            "Art museums display paintings and sculptures for the public to see.",
        ),
        (
            "get a puppy vaccinated",
            "veterinarian",
            "dentist|children's doctor|pet groomer|bakery|bank",
            "A veterinarian is an animal doctor who can give a puppy its vaccinations.",
        ),
        (
            "go downhill skiing",
            "snowy mountain",
            "beach|desert|swimming pool|city park|tropical island",
            "Skiing needs snow and slopes, which are found on snowy mountains.",
        ),
        (
            "pick ripe apples",
            "orchard",
            "desert|beach|parking lot|library|ocean",
            "Apple trees are grown in orchards, where people can pick the ripe apples.",
        ),
        (
            "stay overnight in a strange city",
            "hotel",
            "library|office|bank|museum|stadium",
            "Hotels rent rooms to travelers who need a place to sleep for the night.",
        ),
        (
            "see a play performed by actors",
            "theater",
            "hospital|library|zoo|bank|supermarket",
            "Actors perform plays on a stage in a theater while an audience watches.",
        ),
        (
            "eat a meal cooked by a chef",
            "restaurant",
            "library|hardware store|bank|gym|post office",
            "Restaurants have chefs who cook the meals that customers order and eat there.",
        ),
        (
            "wash a big pile of dirty clothes",
            "laundromat",
            "bakery|car wash|library|bank|pharmacy",
            "A laundromat has washing machines that people can use to clean their clothes.",
        ),
        (
            "buy a gold necklace",
            "jewelry store",
            "hardware store|bakery|pharmacy|bookstore|gas station",
            "A jewelry store sells necklaces, rings and other jewelry.",
        ),
    ],
)

_USED_FOR = _facts(
    "used_for",
    [
        (
            "scissors",
            "cutting paper",
            "writing letters|gluing pictures|measuring length|erasing mistakes|stapling pages",
            "Scissors have two sharp blades that close together to cut paper.",
        ),
        (
            "a refrigerator",
            "keeping food cold",
            "cooking food|washing dishes|heating water|toasting bread|drying clothes",
            "A refrigerator keeps food cold so that it stays fresh for longer.",
        ),
        (
            "an umbrella",
            "staying dry in the rain",
            "seeing in the dark|carrying groceries"
            "|cooling food|hearing better|keeping warm in the snow",
            "An umbrella blocks falling rain, which keeps the person holding it dry.",
        ),
        (
            "a thermometer",
            "measuring temperature",
            "measuring weight|telling time|measuring distance|cooling a room|measuring speed",
            "A thermometer shows how hot or cold something is by measuring its temperature.",
        ),
        (
            "a broom",
            "sweeping the floor",
            "washing windows|painting walls|cutting grass|drying dishes|hanging pictures",
            "A broom has stiff bristles that push dust and dirt off the floor.",
        ),
        (
            "a key",
            "opening a lock",
            "turning on lights|cutting rope|tightening screws|writing notes|measuring rooms",
            "A key fits inside a lock and turns it so that a door can be opened.",
        ),
        (
            "a ladder",
            "reaching high places",
            "digging holes|carrying water|lifting heavy boxes|measuring height|crossing rivers",
            "A ladder has steps that let people climb up and reach high places safely.",
        ),
        (
            "a microwave",
            "heating food quickly",
            "keeping food frozen|washing dishes|grinding coffee|chopping vegetables|drying clothes",
            "A microwave oven warms up food in just a few minutes.",
        ),
        (
            "a map",
            "finding the way",
            "telling the time|measuring temperature|keeping warm|taking photos|lighting a room",
            "A map shows roads and places, which helps people find their way.",
        ),
        (
            "a sponge",
            "soaking up spills",
            "cutting bread|stirring soup|opening cans|sweeping floors|hammering nails",
            "A sponge is full of tiny holes that soak up liquid, so it cleans up spills.",
        ),
        (
            "a calculator",
            "doing arithmetic",
            "writing essays|drawing pictures|taking photos|playing music|checking the weather",
            "A calculator adds, subtracts, multiplies and divides numbers quickly.",
        ),
        (
            "a shovel",
            "digging holes",
            "sweeping floors|cutting bread|hammering nails|painting fences|raking leaves",
            "A shovel has a wide blade for lifting soil, which makes it good for digging holes.",
        ),
        (
            "sunscreen",
            "protecting skin from sunburn",
            "cleaning teeth|drying hair|keeping bugs away|healing cuts|washing hands",
            "Sunscreen blocks the sun's harmful rays so that the skin does not burn.",
        ),
        (
            "a wallet",
            "carrying money",
            "carrying groceries|storing food|keeping time|holding water|carrying books",
            "A wallet is a small pocket-sized case for holding money and cards.",
        ),
        (
            "glue",
            "sticking things together",
            "cutting paper|cleaning surfaces|erasing pencil marks|drawing lines|measuring angles",
            "Glue is sticky, and when it dries it holds two things firmly together.",
        ),
        (
            "a kettle",
            "boiling water",
            "freezing water|washing vegetables|slicing bread|storing leftovers|frying eggs",
            "A kettle heats water until it boils, ready for making tea or coffee.",
        ),
        (
            "a helmet",
            "protecting the head",
            "keeping hands warm|carrying water|seeing at night|holding a phone|protecting the feet",
            "A helmet is a hard hat that protects the head if the wearer falls or is hit.",
        ),
        (
            "a needle and thread",
            "sewing clothes",
            "cooking dinner|painting walls|writing letters|fixing bicycles|cutting hair",
            "A needle pulls thread through fabric, which is how clothes are sewn and mended.",
        ),
        (
            "a vacuum cleaner",
            "cleaning carpets",
            "washing windows|drying clothes|mowing lawns|cooking rice|cooling rooms",
            "A vacuum cleaner sucks dust and dirt out of carpets and rugs.",
        ),
        (
            "a telescope",
            "looking at the stars",
            "listening to music|measuring weight|looking at germs|cooking food|writing notes",
            "A telescope makes faraway objects look bigger, so people use it to look at stars.",
        ),
        (
            "an alarm clock",
            "waking up on time",
            "cooking breakfast|measuring temperature"
            "|cleaning the room|locking the door|falling asleep faster",
            "An alarm clock rings at a set time to wake a sleeping person.",
        ),
        (
            "a blanket",
            "keeping warm in bed",
            "cleaning windows|carrying groceries|cooling down|wiping the floor|drying dishes",
            "A blanket traps body heat, so it keeps a person warm while they sleep.",
        ),
        (
            "a garden hose",
            "watering plants",
            "sweeping leaves|cutting grass|planting seeds|lighting a grill|digging holes",
            "A garden hose carries water from a tap, which makes it easy to water plants.",
        ),
        (
            "a camera",
            "taking photographs",
            "recording temperatures|sending letters"
            "|measuring distances|heating food|weighing objects",
            "A camera captures light through its lens to take photographs.",
        ),
        (
            "a saw",
            "cutting wood",
            "hammering nails|painting wood|gluing wood|measuring wood|sanding wood",
            "A saw has a row of sharp teeth that cut through wood.",
        ),
        (
            "a wheelbarrow",
            "moving heavy loads",
            "cutting grass|watering plants|digging holes|storing tools|trimming hedges",
            "A wheelbarrow has a wheel and handles that make heavy loads easy to push.",
        ),
        (
            "a life jacket",
            "staying afloat in water",
            "climbing mountains|carrying luggage"
            "|staying dry in the rain|running faster|keeping cool in summer",
            "A life jacket is filled with material that floats, so it keeps a person above water.",
        ),
        (
            "a stapler",
            "attaching papers together",
            "punching holes|cutting paper|erasing ink|sharpening pencils|folding letters",
            "A stapler pushes a small metal staple through sheets of paper to hold them together.",
        ),
        (
            "a compass",
            "finding north",
            "telling time|measuring temperature|measuring rainfall|weighing objects|counting steps",
            "A compass needle always points north, which helps travelers know which way to go.",
        ),
        (
            "an oven mitt",
            "holding hot pans",
            "washing dishes|chopping onions"
            "|keeping hands warm in the snow|catching baseballs|cleaning windows",
            "An oven mitt is thick and padded, so it protects the hands when holding hot pans.",
        ),
        (
            "a ruler",
            "measuring length",
            "measuring weight|telling time|cutting paper|measuring temperature|erasing lines",
            "A ruler is marked in centimeters or inches to measure how long something is.",
        ),
    ],
)

_FEELING = _facts(
    "feeling",
    [
        (
            "winning a race",
            "proud",
            "ashamed|bored|guilty|jealous|sleepy",
            "Winning a race is an achievement, and people feel proud when they succeed.",
        ),
        (
            "losing a beloved pet",
            "sad",
            "excited|proud|amused|relieved|bored",
            "Losing a pet means losing a companion, which makes people feel sad.",
        ),
        (
            "hearing a loud noise in the dark",
            "scared",
            "bored|proud|sleepy|grateful|hungry",
            "A sudden loud noise in the dark could mean danger, so it frightens people.",
        ),
        (
            "receiving a thoughtful gift",
            "grateful",
            "angry|bored|guilty|jealous|tired",
            "A thoughtful gift shows that someone cares, so people feel grateful to the giver.",
        ),
        (
            "running a marathon",
            "exhausted",
            "energetic|refreshed|bored|jealous|lonely",
            "Running a marathon uses enormous energy, so runners feel exhausted afterwards.",
        ),
        (
            "finishing a difficult exam",
            "relieved",
            "bored|jealous|guilty|lonely|furious",
            "Once a difficult exam is over the stress is gone, so people feel relieved.",
        ),
        (
            "tripping in front of classmates",
            "embarrassed",
            "proud|relaxed|grateful|bored|hungry",
            "Falling in front of others is awkward, which makes people feel embarrassed.",
        ),
        (
            "being stuck in a traffic jam for hours",
            "frustrated",
            "joyful|proud|grateful|relaxed|amused",
            "Being stuck in traffic wastes time and cannot be helped, which is frustrating.",
        ),
        (
            "moving to a new city alone",
            "lonely",
            "guilty|full|proud|amused|jealous",
            "Moving somewhere new without friends or family nearby often makes people lonely.",
        ),
        (
            "breaking a friend's phone",
            "guilty",
            "proud|relaxed|amused|grateful|bored",
            "Breaking something that belongs to a friend is a mistake that makes people feel "
            "guilty.",
        ),
        (
            "watching a funny comedy",
            "amused",
            "sad|angry|scared|guilty|lonely",
            "A funny comedy makes people laugh, so they feel amused while watching it.",
        ),
        (
            "sleeping for ten hours",
            "rested",
            "exhausted|sleepy|stressed|worried|sore",
            "A long night's sleep lets the body recover, so people wake up feeling rested.",
        ),
        (
            "skipping lunch",
            "hungry",
            "full|proud|relaxed|jealous|cold",
            "Skipping lunch means going a long time without food, so people feel hungry.",
        ),
        (
            "seeing a friend win the prize you wanted",
            "jealous",
            "guilty|scared|relaxed|bored|sleepy",
            "Wanting the prize a friend won can make a person feel jealous of them.",
        ),
        (
            "getting a surprise birthday party",
            "happy",
            "angry|bored|guilty|lonely|ashamed",
            "A surprise birthday party shows that friends care, which makes people happy.",
        ),
        (
            "waiting in a long, slow line",
            "impatient",
            "excited|proud|grateful|frightened|joyful",
            "Waiting a long time in a slow line makes people restless and impatient.",
        ),
        (
            "being yelled at unfairly",
            "angry",
            "grateful|proud|amused|relaxed|sleepy",
            "Being yelled at for no good reason feels unfair, which makes people angry.",
        ),
        (
            "giving a speech to a large crowd for the first time",
            "nervous",
            "sleepy|bored|hungry|guilty|lonely",
            "Speaking to a big crowd for the first time is stressful, so people feel nervous.",
        ),
        (
            "drinking cold water after a long hike",
            "refreshed",
            "thirsty|angry|sad|guilty|jealous",
            "Cold water replaces what the body lost on a long hike, so it feels refreshing.",
        ),
        (
            "getting a bad grade despite studying hard",
            "disappointed",
            "proud|relieved|amused|grateful|bored",
            "Working hard and still getting a bad grade falls short of "
            "one's hopes, which is disappointing.",
        ),
        (
            "riding a roller coaster",
            "thrilled",
            "bored|sleepy|guilty|lonely|ashamed",
            "Roller coasters are fast and full of drops, which gives riders a thrilling rush.",
        ),
        (
            "getting lost in a strange city",
            "confused",
            "proud|relaxed|grateful|bored|sleepy",
            "Being lost in an unfamiliar city means not knowing where to go, which is confusing.",
        ),
        (
            "hearing a favorite song on the radio",
            "cheerful",
            "angry|scared|guilty|ashamed|bored",
            "Hearing a song you love is a pleasant surprise that puts people in a cheerful mood.",
        ),
        (
            "missing the last bus home",
            "worried",
            "proud|amused|grateful|relaxed|jealous",
            "Missing the last bus leaves no easy way home, which makes people worried.",
        ),
        (
            "being praised by a teacher",
            "proud",
            "ashamed|angry|guilty|lonely|scared",
            "Praise from a teacher shows that the student did well, so the student feels proud.",
        ),
    ],
)

_EFFECT = _facts(
    "effect",
    [
        (
            "leave ice cream in the sun",
            "it will melt",
            "it will freeze solid"
            "|it will get harder|it will get colder|it will stay the same|it will grow bigger",
            "Heat from the sun warms ice cream above freezing, so it melts.",
        ),
        (
            "forget to water a plant for weeks",
            "it will wilt",
            "it will grow faster"
            "|it will bloom more|it will turn blue|it will produce fruit|it will stay green",
            "Plants need water to stay firm and alive, so a plant left dry for weeks wilts.",
        ),
        (
            "drop a glass on a stone floor",
            "it will break",
            "it will bounce|it will melt|it will grow|it will float|it will bend",
            "Glass is brittle, so hitting a hard stone floor usually shatters it.",
        ),
        (
            "stay up all night",
            "you will feel tired the next day",
            "you will feel rested"
            "|you will have more energy|you will think more clearly|you will look refreshed"
            "|you will need less sleep",
            "Skipping a whole night of sleep leaves the body without rest, so you feel tired.",
        ),
        (
            "eat far too much candy",
            "you may get a stomach ache",
            "your teeth will get stronger"
            "|you will grow taller|you will lose weight|you will see better at night"
            "|you will feel calmer",
            "Eating lots of sugary candy at once can upset your stomach and cause an ache.",
        ),
        (
            "touch a hot stove",
            "you will burn your hand",
            "your hand will freeze"
            "|your hand will get wet|your hand will turn blue|your hand will feel cold"
            "|your hand will get stronger",
            "A hot stove is much hotter than skin can stand, so touching it burns your hand.",
        ),
        (
            "leave bread out for two weeks",
            "it will get moldy",
            "it will get fresher"
            "|it will turn into flour|it will rise more|it will become softer|it will melt",
            "Bread left out for weeks gives mold plenty of time to grow on it.",
        ),
        (
            "put a metal spoon in a microwave",
            "sparks may fly",
            "the spoon will get colder"
            "|the food will freeze|the spoon will turn to plastic|the spoon will shrink"
            "|the microwave will clean itself",
            "Metal reflects microwaves, which can cause sparks inside a microwave oven.",
        ),
        (
            "run outside in the rain without a coat",
            "you will get wet",
            "you will stay dry"
            "|you will get a sunburn|you will feel warmer|you will get thirsty"
            "|your clothes will get cleaner",
            "Rain falls on anyone outside without cover, so running in it without a coat gets "
            "you wet.",
        ),
        (
            "plant a seed and water it",
            "it will sprout",
            "it will turn into a rock"
            "|it will float away|it will dissolve|it will shrink|it will melt",
            "A seed that gets water and soil starts to grow, so it sprouts into a small plant.",
        ),
        (
            "exercise every day",
            "you will get fitter",
            "you will get weaker"
            "|your muscles will shrink|you will get out of shape|your heart will get weaker"
            "|you will lose your balance",
            "Regular exercise trains the muscles and the heart, which makes people fitter.",
        ),
        (
            "mix blue paint with yellow paint",
            "you get green paint",
            "you get red paint"
            "|you get purple paint|you get orange paint|you get black paint|you get white paint",
            "Blue and yellow paint combine to make green, which is why painters mix them.",
        ),
        (
            "heat water to 100 degrees Celsius",
            "it will boil",
            "it will freeze"
            "|it will turn to ice|it will get thicker|it will turn green|it will become colder",
            "Water boils at 100 degrees Celsius at sea level and turns into steam.",
        ),
        (
            "put a cup of water in the freezer overnight",
            "it will turn to ice",
            "it will boil"
            "|it will evaporate|it will turn to steam|it will get warmer|it will turn to juice",
            "A freezer is colder than the freezing point of water, so the water turns to ice.",
        ),
        (
            "leave a car's lights on all night",
            "the battery may die",
            "the tires will inflate"
            "|the engine will get stronger|the battery will charge|the car will get cleaner"
            "|the fuel tank will fill up",
            "Car lights draw power from the battery, and leaving them on all night can drain it.",
        ),
        (
            "tell a lie and get caught",
            "people will trust you less",
            "people will trust you more"
            "|you will get a prize|everyone will praise you|you will be promoted"
            "|people will believe you more",
            "When someone is caught lying, others have reason to doubt what they say in the "
            "future.",
        ),
        (
            "leave a window open during a storm",
            "the floor may get wet",
            "the room will get drier"
            "|the house will get warmer|the rain will stop|the lights will get brighter"
            "|the window will clean itself",
            "Rain blows in through an open window during a storm and soaks the floor.",
        ),
        (
            "study hard for a test",
            "you will probably do well",
            "you will probably fail"
            "|you will forget everything|you will get a lower score|the test will be cancelled"
            "|you will not need to attend",
            "Studying helps you remember the material, so you are more likely to do well on the "
            "test.",
        ),
        (
            "pour oil on water",
            "the oil will float",
            "the oil will sink"
            "|the water will turn into oil|the water will freeze|the oil will catch fire"
            "|the oil will dissolve",
            "Oil is lighter than water and does not mix with it, so it floats on top.",
        ),
        (
            "feed a dog far too much food",
            "it will gain weight",
            "it will lose weight"
            "|it will get faster|it will learn tricks|it will shrink|it will sleep less",
            "Eating more food than the body needs makes a dog gain weight over time.",
        ),
        (
            "blow too much air into a balloon",
            "it will pop",
            "it will shrink"
            "|it will turn into water|it will get heavier|it will change color|it will sink",
            "A balloon can only stretch so far, and too much air makes the rubber burst.",
        ),
        (
            "wear shoes that are too small",
            "your feet will hurt",
            "your feet will feel "
            "comfortable|you will run faster|your feet will grow|your shoes will last longer"
            "|you will be taller",
            "Shoes that are too small squeeze the feet, which makes them sore and painful.",
        ),
        (
            "leave milk out of the fridge for a day",
            "it will go sour",
            "it will freeze"
            "|it will become fresher|it will turn into water|it will taste sweeter"
            "|it will turn into cheese",
            "Warm temperatures let bacteria grow in milk, so it turns sour.",
        ),
        (
            "shout in a quiet library",
            "people will be annoyed",
            "the books will fall"
            "|everyone will clap|the lights will turn on|the library will close"
            "|people will thank you",
            "Libraries are quiet places for reading, so shouting disturbs and annoys the people "
            "there.",
        ),
        (
            "leave a steel bicycle outside in the rain for months",
            "it will rust",
            "it will get shinier|it will grow bigger|it will get lighter|it will repair itself"
            "|it will turn into wood",
            "Water makes steel rust, so a bicycle left in the rain for months gets rusty.",
        ),
        (
            "sit in strong sun all day without sunscreen",
            "you will get sunburned",
            "your skin will get paler|you will feel colder|you will catch a cold"
            "|your skin will get stronger|you will feel less thirsty",
            "Without sunscreen, hours of strong sunlight damage the skin and cause a sunburn.",
        ),
        (
            "practice the piano every day",
            "you will play better",
            "you will forget how to play"
            "|your fingers will get slower|you will play worse|you will read music less well"
            "|the piano will get smaller",
            "Regular practice trains the fingers and the mind, so playing gets better over time.",
        ),
    ],
)

_WORKS_AT = _facts(
    "works_at",
    [
        (
            "a chef",
            "restaurant",
            "library|hospital|bank|post office|airport",
            "A chef cooks meals for customers in the kitchen of a restaurant.",
        ),
        (
            "a nurse",
            "hospital",
            "bank|bakery|library|airport|factory",
            "Nurses care for sick and injured patients, most of whom are treated in hospitals.",
        ),
        (
            "a librarian",
            "library",
            "bakery|hospital|gym|bank|stadium",
            "A librarian helps people find and borrow books, which are kept in a library.",
        ),
        (
            "an airline pilot",
            "cockpit",
            "train|bus|taxi|tractor|submarine",
            "A pilot flies an airplane from the cockpit at the front of the plane.",
        ),
        (
            "a farmer",
            "farm",
            "office building|bank|library|shopping mall|airport",
            "A farmer grows crops and raises animals on a farm.",
        ),
        (
            "a teacher",
            "school",
            "hospital|bank|farm|factory|bakery",
            "Teachers give lessons to students, and most lessons happen at a school.",
        ),
        (
            "a lifeguard",
            "swimming pool",
            "library|office|bakery|movie theater|museum",
            "A lifeguard watches swimmers to keep them safe, so they work at swimming pools.",
        ),
        (
            "a judge",
            "courtroom",
            "hospital|kitchen|gym|farm|stadium",
            "A judge listens to cases and makes legal decisions in a courtroom.",
        ),
        (
            "a firefighter",
            "fire station",
            "police station|hospital|bakery|bank|library",
            "Firefighters wait at the fire station with their trucks until they are called to a "
            "fire.",
        ),
        (
            "a car mechanic",
            "auto repair shop",
            "bakery|hospital|bank|library|hair salon",
            "A mechanic fixes cars, so they work in an auto repair shop.",
        ),
        (
            "a cashier",
            "checkout counter",
            "kitchen|classroom|operating room|cockpit|barn",
            "A cashier takes payments from shoppers at the checkout counter of a store.",
        ),
        (
            "a zookeeper",
            "zoo",
            "hospital|library|bank|office|bakery",
            "A zookeeper feeds and looks after the animals kept at a zoo.",
        ),
        (
            "a scientist",
            "laboratory",
            "bakery|stadium|hair salon|gas station|movie theater",
            "Scientists run experiments with special equipment, which is kept in laboratories.",
        ),
        (
            "a baker",
            "bakery",
            "bank|library|pharmacy|garage|airport",
            "A baker bakes bread and cakes in the ovens of a bakery.",
        ),
        (
            "an astronaut",
            "space station",
            "submarine|airport|train station|ocean|desert",
            "Astronauts travel beyond the Earth's atmosphere and work on board a space station.",
        ),
        (
            "a coal miner",
            "underground mine",
            "ocean|office|library|bakery|airport",
            "Miners dig coal out of the ground, so they work in underground mines.",
        ),
        (
            "a sailor",
            "ship",
            "airplane|train|truck|bicycle|tractor",
            "Sailors work on ships, steering and caring for them as they travel over water.",
        ),
    ],
)

_TOOL = _facts(
    "tool",
    [
        (
            "a carpenter",
            "hammer",
            "stethoscope|whisk|microscope|scalpel|telescope",
            "A carpenter builds things out of wood and uses a hammer to drive in nails.",
        ),
        (
            "a doctor",
            "stethoscope",
            "hammer|whisk|paintbrush|fishing rod|shovel",
            "Doctors use a stethoscope to listen to a patient's heart and lungs.",
        ),
        (
            "a house painter",
            "paintbrush",
            "hammer|stethoscope|whisk|wrench|shovel",
            "A house painter spreads paint on walls with a paintbrush or a roller.",
        ),
        (
            "a chef",
            "kitchen knife",
            "wrench|stethoscope|shovel|paintbrush|screwdriver",
            "Chefs chop and slice ingredients all day, so a sharp kitchen knife is their key tool.",
        ),
        (
            "a gardener",
            "watering can",
            "stethoscope|whisk|microscope|calculator|screwdriver",
            "A gardener waters plants with a watering can to keep them healthy.",
        ),
        (
            "a plumber",
            "wrench",
            "paintbrush|whisk|stethoscope|telescope|rolling pin",
            "Plumbers tighten and loosen pipes and fittings with a wrench.",
        ),
        (
            "a news photographer",
            "camera",
            "microscope|hammer|whisk|stethoscope|shovel",
            "A news photographer takes pictures of events with a camera.",
        ),
        (
            "a hairdresser",
            "scissors",
            "hammer|stethoscope|wrench|shovel|rolling pin",
            "Hairdressers cut and trim their customers' hair with a pair of sharp scissors.",
        ),
        (
            "a biologist studying cells",
            "microscope",
            "telescope|hammer|whisk|shovel|paintbrush",
            "Cells are far too small to see, so a biologist needs a microscope to study them.",
        ),
        (
            "an astronomer",
            "telescope",
            "microscope|stethoscope|hammer|whisk|shovel",
            "Astronomers study stars and planets, which are very far away, so they use telescopes.",
        ),
        (
            "a pastry baker",
            "rolling pin",
            "wrench|stethoscope|hammer|screwdriver|telescope",
            "A baker flattens dough with a rolling pin to make pies and pastry.",
        ),
        (
            "a fisherman",
            "fishing net",
            "hammer|stethoscope|paintbrush|rolling pin|telescope",
            "A fisherman catches fish with a net or a rod.",
        ),
        (
            "a firefighter",
            "fire hose",
            "rolling pin|paintbrush|stethoscope|fishing rod|microscope",
            "Firefighters put out fires by spraying water through a long fire hose.",
        ),
        (
            "a violinist",
            "bow",
            "hammer|whisk|wrench|shovel|drumstick",
            "A violinist draws a bow across the strings of the violin to make sound.",
        ),
        (
            "an electrician",
            "screwdriver",
            "rolling pin|stethoscope|whisk|fishing net|paintbrush",
            "Electricians open switches and sockets with a screwdriver to fix wiring.",
        ),
        (
            "a wheat farmer",
            "tractor",
            "submarine|microscope|stethoscope|rolling pin|telescope",
            "Farmers use tractors to plow fields and pull heavy farm machines.",
        ),
    ],
)

_REQUIRES = _facts(
    "requires",
    [
        (
            "drive a car on public roads",
            "a driver's license",
            "a passport|a library card|a fishing rod|a cookbook|a diploma",
            "By law, you need a driver's license before you are allowed to drive a car.",
        ),
        (
            "travel to another country",
            "a passport",
            "a library card|a gym membership|a receipt|a bicycle|a cookbook",
            "Most countries require travelers to show a passport when they cross the border.",
        ),
        (
            "bake a cake",
            "an oven",
            "a freezer|a toaster|a dishwasher|a kettle|a vacuum cleaner",
            "A cake must be baked in the dry heat of an oven.",
        ),
        (
            "borrow books from a library",
            "a library card",
            "a passport|a credit card|a driver's license|a concert ticket|a bank account",
            "Libraries lend books to their members, who show a library card when borrowing.",
        ),
        (
            "light a campfire",
            "a match",
            "a bucket of water|an umbrella|a snowball|a wet towel|a fan",
            "A campfire needs a flame to start, and a match gives that flame.",
        ),
        (
            "see in a pitch-dark room",
            "a flashlight",
            "sunglasses|earplugs|a blanket|a map|a pillow",
            "A flashlight lights up the dark so that you can see.",
        ),
        (
            "grow tomatoes",
            "sunlight",
            "darkness|snow|a freezer|salt water|silence",
            "Tomato plants make their food from sunlight, so they need plenty of it to grow.",
        ),
        (
            "play a game of tennis",
            "a racket",
            "a baseball bat|a golf club|a hockey stick|a fishing rod|a snowboard",
            "Tennis players hit the ball over the net with a racket.",
        ),
        (
            "write a letter by hand",
            "a pen",
            "a stamp|a ruler|a hammer|a towel|a spoon",
            "Writing a letter by hand means putting words on paper, which you do with a pen.",
        ),
        (
            "go scuba diving",
            "an air tank",
            "a parachute|a snowboard|an umbrella|a bicycle helmet|skis",
            "Under water there is no air to breathe, so divers carry an air tank.",
        ),
        (
            "buy a new television",
            "money",
            "a library card|a passport|a ladder|a recipe|a map",
            "Stores sell televisions for a price, so you need money to buy one.",
        ),
        (
            "get into a locked house",
            "a key",
            "a map|a ticket|a receipt|a recipe|a towel",
            "A locked door only opens with the right key.",
        ),
        (
            "cross a wide, deep river",
            "a boat",
            "a bicycle|skis|a tent|roller skates|a kite",
            "A wide, deep river cannot be walked across, so you need a boat to cross it.",
        ),
        (
            "catch a fish",
            "a fishing rod",
            "a tennis racket|a hammer|a paintbrush|a broom|a pillow",
            "A fishing rod and line let you hook a fish and pull it out of the water.",
        ),
        (
            "sew a button back on a shirt",
            "a needle and thread",
            "a hammer|a paintbrush|a spoon|a ruler|a flashlight",
            "A button is sewn on by pulling thread through it with a needle.",
        ),
        (
            "take a picture of a sunset",
            "a camera",
            "a microscope|a radio|a calculator|a thermometer|a compass",
            "A camera records an image, so you need one to take a picture of a sunset.",
        ),
    ],
)

_MOTIVE = _facts(
    "motive",
    [
        (
            "put on a warm coat",
            "to stay warm",
            "to cool down|to go swimming|to look taller|to dry off|to sleep better",
            "People put on warm coats when it is cold outside so that their bodies stay warm.",
        ),
        (
            "set an alarm clock",
            "to wake up on time",
            "to fall asleep faster|to cook breakfast"
            "|to cool the room|to check the weather|to find a lost phone",
            "An alarm clock rings at a chosen time, which helps people wake up when they need to.",
        ),
        (
            "drink a big glass of water",
            "to quench their thirst",
            "to get hungrier"
            "|to grow taller|to dry their mouth|to feel sleepy|to warm up their hands",
            "Drinking water replaces lost fluids, which is how people quench their thirst.",
        ),
        (
            "go to see a doctor",
            "they feel sick",
            "they feel bored|they are hungry"
            "|they want a haircut|they need groceries|they lost their keys",
            "People visit a doctor when they feel sick so that the doctor can find what is wrong.",
        ),
        (
            "buy candles and balloons",
            "to throw a party",
            "to go camping|to fix a car|to study for a test|to paint a house|to plant a garden",
            "Candles and balloons are decorations that people buy when they plan a party.",
        ),
        (
            "wear sunglasses",
            "to protect their eyes from bright sun",
            "to see better in the dark"
            "|to keep their ears warm|to read small print|to hear better|to stay dry",
            "Sunglasses block bright sunlight, which protects the eyes on sunny days.",
        ),
        (
            "save some money every month",
            "to afford something expensive later",
            "to spend it all today|to make prices lower|to have less money|to lose it"
            "|to pay more for things",
            "Saving a little each month builds up enough money to "
            "afford something expensive later.",
        ),
        (
            "open a window on a hot day",
            "to let in cool air",
            "to make the room hotter"
            "|to keep out the breeze|to save money on heating|to dry the floor|to block the light",
            "On a hot day, an open window lets a breeze in and cools the room.",
        ),
        (
            "apologize to a friend",
            "to make up after a mistake",
            "to start an argument"
            "|to show they are angry|to win a game|to borrow money|to end the friendship",
            "Apologizing shows someone is sorry, which helps repair a friendship after a mistake.",
        ),
        (
            "water a garden",
            "to keep the plants alive",
            "to make the soil dry"
            "|to keep birds away|to cool the house|to clean the fence|to kill the flowers",
            "Plants need water to live and grow, so gardeners water them regularly.",
        ),
        (
            "turn on a lamp",
            "to see in the dark",
            "to cool the room|to make noise"
            "|to save electricity|to wake the neighbors|to warm their food",
            "A lamp gives off light, which makes it possible to see when it is dark.",
        ),
        (
            "wash their hands before eating",
            "to remove germs",
            "to make their hands dirty"
            "|to warm their hands|to make food taste better|to grow stronger nails"
            "|to dry their skin",
            "Washing hands with soap removes germs that could get into food and cause illness.",
        ),
        (
            "go to bed early",
            "to get enough sleep",
            "to stay awake longer|to eat more"
            "|to watch more television|to miss the morning|to exercise more",
            "Going to bed early gives the body more time to sleep before the next day.",
        ),
        (
            "ask a stranger for directions",
            "they are lost",
            "they know the way|they are hungry|they are sleepy|they want to sing|they are cold",
            "People ask for directions when they do not know how to get where they are going.",
        ),
        (
            "brush their teeth twice a day",
            "to keep their teeth healthy",
            "to make their teeth yellow|to feel hungry|to fall asleep|to grow taller"
            "|to warm their mouth",
            "Brushing removes food and plaque, which keeps teeth clean and healthy.",
        ),
        (
            "go to the gym three times a week",
            "to get fit",
            "to gain weight|to read books|to buy food|to mail letters|to get a haircut",
            "Gyms have equipment for exercise, and regular exercise makes people fitter.",
        ),
    ],
)

KNOWLEDGE_TABLE: tuple[_Fact, ...] = (
    *_LOCATION,
    *_GOAL_PLACE,
    *_USED_FOR,
    *_FEELING,
    *_EFFECT,
    *_WORKS_AT,
    *_TOOL,
    *_REQUIRES,
    *_MOTIVE,
)
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


def _aspect(name: str, good: str, bad: str) -> _Aspect:
    """Aspect from ``"sentence | sentence"`` strings."""
    return _Aspect(
        name, tuple(g.strip() for g in good.split("|")), tuple(b.strip() for b in bad.split("|"))
    )


_DOMAINS: tuple[_Domain, ...] = (
    _Domain(
        "product",
        "them",
        ("these wireless headphones", "these noise-cancelling headphones", "these earbuds"),
        (
            _aspect(
                "sound quality",
                "The sound is rich and clear.|The bass is deep without drowning out the vocals.",
                "The sound is thin and tinny.|Music sounds muffled, as if it were under water.",
            ),
            _aspect(
                "comfort",
                "They stay comfortable even after hours of wear.|They are light "
                "and I forget I am wearing them.",
                "They hurt my ears after twenty minutes.|They press so hard that I get a headache.",
            ),
            _aspect(
                "battery life",
                "The battery easily lasts a whole week.|One charge gets me "
                "through several long flights.",
                "The battery dies after two hours.|They need charging every single day.",
            ),
            _aspect(
                "build quality",
                "They feel solid and well made.|The hinges are sturdy and the case is strong.",
                "The plastic feels cheap and a hinge already "
                "cracked.|One side stopped working after a month.",
            ),
        ),
        (("The carrying case is handy", "the case"), ("They arrived quickly", "the delivery")),
        (("The case is a little bulky", "the case"), ("They are a bit pricey", "the price")),
    ),
    _Domain(
        "product",
        "it",
        ("this coffee maker", "this espresso machine", "this drip coffee machine"),
        (
            _aspect(
                "coffee",
                "It makes smooth, delicious coffee.|The coffee comes out hot and full of flavor.",
                "The coffee tastes burnt and bitter.|The coffee is always lukewarm and weak.",
            ),
            _aspect(
                "speed",
                "It brews a full pot in a few minutes.|It is ready before I have "
                "finished getting dressed.",
                "It takes forever to brew a single cup.|I wait ten minutes for one small mug.",
            ),
            _aspect(
                "cleaning",
                "Cleaning it takes less than a minute.|All the parts go "
                "straight into the dishwasher.",
                "Cleaning it is a messy chore.|Old coffee grounds get stuck in every corner.",
            ),
            _aspect(
                "reliability",
                "It has worked perfectly every morning for a year.|It has never let me down.",
                "It started leaking after three weeks.|It randomly switches itself off.",
            ),
        ),
        (("It looks nice on the counter", "the design"), ("The price was fair", "the price")),
        (("It is a bit loud", "the noise"), ("The manual is confusing", "the manual")),
    ),
    _Domain(
        "product",
        "them",
        ("these running shoes", "these hiking boots", "these sneakers"),
        (
            _aspect(
                "comfort",
                "They feel comfortable from the very first run.|The cushioning "
                "is soft and supportive.",
                "They gave me blisters on day one.|The soles are hard and my feet ache.",
            ),
            _aspect(
                "grip",
                "The grip is excellent, even on wet paths.|I never slip, even on muddy trails.",
                "I keep slipping on wet pavement.|The grip is useless on anything but dry ground.",
            ),
            _aspect(
                "durability",
                "They still look new after hundreds of miles.|The stitching has held up perfectly.",
                "The soles wore through in two months.|The stitching came apart after a few weeks.",
            ),
            _aspect(
                "fit",
                "The size is exactly right.|They fit snugly without squeezing my toes.",
                "They run a full size too small.|They are so narrow that my toes go numb.",
            ),
        ),
        (("The colors are nice", "the colors"), ("They were on sale", "the price")),
        (("The laces are a bit short", "the laces"), ("They are slightly heavy", "the weight")),
    ),
    _Domain(
        "product",
        "it",
        ("this phone", "this smartphone", "this budget phone"),
        (
            _aspect(
                "battery",
                "The battery lasts two full days.|I never worry about charging it.",
                "The battery barely makes it to lunchtime.|It drains even when I am not using it.",
            ),
            _aspect(
                "camera",
                "The camera takes sharp, bright photos.|Night photos come out clear and detailed.",
                "The photos are blurry and dull.|The camera "
                "struggles in anything but bright light.",
            ),
            _aspect(
                "speed",
                "Apps open instantly.|It never lags, even with many apps open.",
                "It freezes several times a day.|Every app takes ages to open.",
            ),
            _aspect(
                "screen",
                "The screen is bright and easy to read outside.|The display is crisp and colorful.",
                "The screen is dim and hard to read outside.|The screen scratched within a week.",
            ),
        ),
        (("The box includes a case", "the case"), ("The setup was quick", "the setup")),
        (("It is a little heavy", "the weight"), ("The speaker is a bit quiet", "the speaker")),
    ),
    _Domain(
        "product",
        "it",
        ("this backpack", "this travel backpack", "this school backpack"),
        (
            _aspect(
                "space",
                "There is plenty of room for a laptop and lunch.|The pockets "
                "keep everything organized.",
                "It is too small for a laptop.|The pockets are tiny and useless.",
            ),
            _aspect(
                "straps",
                "The padded straps make heavy loads feel light.|It sits "
                "comfortably on my back all day.",
                "The straps dig into my shoulders.|It hurts my back after a short walk.",
            ),
            _aspect(
                "zippers",
                "The zippers glide smoothly.|The zippers are strong and never catch.",
                "A zipper broke in the first week.|The zippers constantly jam.",
            ),
            _aspect(
                "waterproofing",
                "My things stayed dry in a heavy storm.|Rain simply rolls off the fabric.",
                "Everything inside got soaked in light rain.|Water seeps through the seams.",
            ),
        ),
        (("The color is lovely", "the color"), ("It was cheap", "the price")),
        (("The side pocket is small", "the side pocket"), ("It smells odd at first", "the smell")),
    ),
    _Domain(
        "product",
        "it",
        ("this vacuum cleaner", "this cordless vacuum", "this robot vacuum"),
        (
            _aspect(
                "suction",
                "It picks up every crumb and pet hair.|The suction is "
                "strong on carpets and floors.",
                "It leaves dirt behind on the carpet."
                "|The suction is so weak it barely picks up dust.",
            ),
            _aspect(
                "battery",
                "The battery lasts long enough for the whole house.|It runs "
                "for an hour on one charge.",
                "The battery dies before I finish one "
                "room.|It needs charging after fifteen minutes.",
            ),
            _aspect(
                "noise level",
                "It is quiet enough to use while the baby sleeps.|It is much "
                "quieter than my old one.",
                "It is so loud that the dog hides.|The noise is unbearable.",
            ),
            _aspect(
                "ease of use",
                "Emptying the bin is quick and clean.|It is light and easy to carry upstairs.",
                "Emptying it spills dust everywhere.|It is heavy and awkward to move around.",
            ),
        ),
        (("The attachments are handy", "the attachments"), ("It charges quickly", "charging")),
        (("The cord is a bit short", "the cord"), ("It is a little pricey", "the price")),
    ),
    _Domain(
        "movie",
        "it",
        ("this movie", "this thriller", "this comedy", "this animated film", "this drama"),
        (
            _aspect(
                "acting",
                "The acting is superb.|The lead actor gives a moving, honest performance.",
                "The acting is stiff and unconvincing.|Even the famous lead seems bored.",
            ),
            _aspect(
                "story",
                "The story is gripping from start to finish.|The plot kept me "
                "guessing until the very end.",
                "The story makes no sense.|The plot is predictable and full of holes.",
            ),
            _aspect(
                "soundtrack",
                "The soundtrack is beautiful.|The music fits every scene perfectly.",
                "The music is loud and annoying.|The soundtrack drowns out the dialogue.",
            ),
            _aspect(
                "pacing",
                "It never drags for a moment.|Two hours flew by.",
                "It drags on for far too long.|I checked my watch every ten minutes.",
            ),
            _aspect(
                "ending",
                "The ending is clever and satisfying.|The final scene left me "
                "in tears, in a good way.",
                "The ending is rushed and silly.|The ending ruins everything that came before.",
            ),
        ),
        (("The costumes are nice", "the costumes"), ("The opening scene is fun", "the opening")),
        (("A few jokes fall flat", "the jokes"), ("The middle is a bit slow", "the pacing")),
    ),
    _Domain(
        "book",
        "it",
        ("this novel", "this mystery novel", "this memoir", "this fantasy book"),
        (
            _aspect(
                "characters",
                "The characters feel like real people.|I cared about every character.",
                "The characters are flat and forgettable.|I did not care what happened to anyone.",
            ),
            _aspect(
                "plot",
                "The plot is full of clever twists.|I could not put it down.",
                "The plot goes nowhere.|Nothing happens for two hundred pages.",
            ),
            _aspect(
                "writing",
                "The writing is elegant and vivid.|Every sentence is a pleasure to read.",
                "The writing is clumsy and repetitive.|The prose is dull and full of cliches.",
            ),
            _aspect(
                "ending",
                "The ending ties everything together.|The last chapter is perfect.",
                "The ending is abrupt and confusing.|The last chapter feels unfinished.",
            ),
        ),
        (
            ("The cover is beautiful", "the cover"),
            ("The first chapter is promising", "the first chapter"),
        ),
        (
            ("It starts a little slowly", "the opening"),
            ("Some chapters are long", "the chapter length"),
        ),
    ),
    _Domain(
        "product",
        "it",
        ("this video game", "this puzzle game", "this racing game"),
        (
            _aspect(
                "graphics",
                "The graphics are stunning.|Every level looks gorgeous.",
                "The graphics look twenty years old.|The textures are blurry and ugly.",
            ),
            _aspect(
                "controls",
                "The controls are smooth and responsive.|It is easy to learn and hard to put down.",
                "The controls are clumsy and slow.|I "
                "keep losing because the buttons do not respond.",
            ),
            _aspect(
                "content",
                "There are hours and hours of things to do.|New levels keep it fresh.",
                "I finished everything in one evening.|There is almost nothing to do.",
            ),
            _aspect(
                "stability",
                "It runs without a single crash.|I have not seen one bug.",
                "It crashes every half hour.|It is full of bugs and glitches.",
            ),
        ),
        (("The music is catchy", "the music"), ("The menus look nice", "the menus")),
        (
            ("The loading screens are a bit long", "loading"),
            ("The tutorial is slow", "the tutorial"),
        ),
    ),
    _Domain(
        "product",
        "it",
        ("this blender", "this kitchen blender", "this smoothie blender"),
        (
            _aspect(
                "power",
                "It crushes ice in seconds.|Smoothies come out silky smooth.",
                "It cannot even crush ice.|Smoothies come out full of chunks.",
            ),
            _aspect(
                "cleaning",
                "A quick rinse is all it needs.|The jar is dishwasher safe and easy to clean.",
                "Food gets stuck under the "
                "blades.|Cleaning it takes longer than making the smoothie.",
            ),
            _aspect(
                "lid",
                "The lid seals tightly.|Nothing ever leaks out.",
                "The lid leaks every time.|Juice sprays out from under the lid.",
            ),
            _aspect(
                "motor",
                "The motor has never struggled.|It still runs like new after months.",
                "The motor burned out after a month.|It smells of burning plastic.",
            ),
        ),
        (("It looks stylish", "the look"), ("It fits under my cupboards", "the size")),
        (("It is rather loud", "the noise"), ("The cord is short", "the cord")),
    ),
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
    """Command line: ``python -m zeroshot_distill.sample_data --out data/01_raw``."""
    parser = argparse.ArgumentParser(
        prog="python -m zeroshot_distill.sample_data",
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
