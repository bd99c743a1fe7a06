"""Answer parsing: structured output, free text, run-on cutting, statuses.

The first block uses verbatim PaLM 540B few-shot chain-of-thought completions from the
e-SNLI data of "Distilling Step-by-Step!" (Hsieh et al. 2023): real, messy teacher output
that runs on into invented extra examples.
"""

from __future__ import annotations

import pytest

from tests.teachers.helpers import CQA_TASK, NLI_TASK, SVAMP_TASK, spec
from zeroshot_distill.tasks.parsing import (
    PARSE_STATUSES,
    _why_no_rationale,
    clean_rationale,
    evaluate_arithmetic,
    parse_answer,
)

NLI = spec(NLI_TASK)
CQA = spec(CQA_TASK)
SVAMP = spec(SVAMP_TASK)
CQA_ROW = {
    "question": "Where do you keep money?",
    "choices": ["sock", "bank", "tree", "car", "sky"],
}

PALM = [
    (
        "The church choir singing to the masses does not necessarily mean that the church has "
        "cracks in the ceiling.\nAnswer: neutral\n\nPremise: This church choir sings to the "
        "masses as they sing joyous songs from the book at a church.\nHypothesis: The church "
        "choir sings to the masses.\nReasonings",
        "neutral",
        "The church choir singing to the masses does not necessarily mean that the church has "
        "cracks in the ceiling.",
    ),
    (
        "The men could have caught no fish.\nAnswer: neutral\n\nPremise: Island native "
        "fishermen reeling in their nets after a long day's work.\nHypothesis: The men are "
        "reeling in their nets.\nReasonings: The men are reeling in their nets.\nAnswer: "
        "entailment\n\n",
        "neutral",
        "The men could have caught no fish.",
    ),
    (
        "There are no motorcycles in the picture.\nAnswer: contradiction\n\nPremise: A crowded "
        "city street with lots of pedestrians.\nHypothesis: There are a lot of people on this "
        "road.\nReasonings: Pedestrians are people.\nAnswer: entailment\n\nPremise: A crowded "
        "city street ",
        "contradiction",
        "There are no motorcycles in the picture.",
    ),
    (
        "A man with no shirt on is still a man. Performing with a baton is still doing things "
        "with a baton.\nAnswer: entailment\n\nPremise: A man with no shirt on is performing "
        "with a baton.\nHypothesis: A man is performing with a baton.\nReasonings: A man",
        "entailment",
        "A man with no shirt on is still a man. Performing with a baton is still doing things "
        "with a baton.",
    ),
    (
        "The wind is propelling the ship, not the cruisers.\nAnswer: neutral\n\nPremise: The "
        "wind propels a sailing ship on a group of cruisers.\nHypothesis: The wind propels a "
        "sailing ship.\nReasonings: The wind is propelling the ship, not the cruisers.\n"
        "Answer: entailment",
        "neutral",
        "The wind is propelling the ship, not the cruisers.",
    ),
    (
        "A boy is a human.\nAnswer: entailment\n\nPremise: A boy plays his trumpet during a "
        "performance with his band.\nHypothesis: A boy plays his trumpet during a performance "
        "with his band.\nReasonings: The premise and hypothesis are the same.\nAnswer: "
        "entailment\n\n",
        "entailment",
        "A boy is a human.",
    ),
]


@pytest.mark.parametrize(("text", "label", "rationale"), PALM)
def test_real_palm_outputs_give_the_first_answer_and_cut_the_run_on(
    text: str, label: str, rationale: str
) -> None:
    parsed = parse_answer(NLI, text, finish_reason="length")
    assert parsed.status == "ok"
    assert parsed.label == label
    assert parsed.rationale == rationale
    assert "Premise" not in parsed.rationale


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The premise says so.\nAnswer: true", "entailment"),
        ("Nothing tells us either way.\nAnswer: Inconclusive.", "neutral"),
        ("The man cannot sleep and sing at once. So the answer is false.", "contradiction"),
        ("Answer: **Neutral**", "neutral"),
        ("The premise implies it, so the final answer is: Entailment", "entailment"),
        ("It is about the same man. The answer is yes, it follows.", "entailment"),
        ("Answer: No, the hypothesis does not follow from the premise", "contradiction"),
    ],
)
def test_verbalizers_in_the_answer_span(text: str, label: str) -> None:
    assert parse_answer(NLI, text, expect_rationale=False).label == label


def test_yes_no_are_never_read_from_the_rationale() -> None:
    text = (
        "No one in the premise is said to be happy, and yes, the man plays guitar. "
        "There is no evidence either way about his mood."
    )
    parsed = parse_answer(NLI, text)
    assert parsed.label is None
    assert parsed.status == "no_label"
    # …but the span wins even when the rationale is full of them.
    parsed = parse_answer(NLI, text + "\nAnswer: neutral")
    assert (parsed.label, parsed.status) == ("neutral", "ok")


def test_an_unmarked_answer_names_the_label_in_its_last_sentence() -> None:
    parsed = parse_answer(
        NLI,
        "The man is asleep in the premise but singing in the hypothesis. This is a contradiction.",
    )
    assert parsed.label == "contradiction"
    assert parsed.rationale.startswith("The man is asleep")
    assert parse_answer(NLI, "neutral").label == "neutral"
    assert parse_answer(NLI, "Entailment.", expect_rationale=False).status == "ok"


def test_ambiguous_span_is_no_label() -> None:
    parsed = parse_answer(NLI, "Both could be right.\nAnswer: entailment or contradiction")
    assert (parsed.label, parsed.status) == (None, "no_label")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Money is kept safe in a bank. So the answer is (b) bank.", "b"),
        ("People keep money in banks.\nAnswer: (B)", "b"),
        ("Banks hold deposits. So the answer is bank.", "b"),
        ("Answer: b", "b"),
        (
            "A bank is where money is stored. The answer is (b).\n\nQuestion: Where do birds "
            "live?\nAnswer choices: (a) nest\nThe answer is (a).",
            "b",
        ),
    ],
)
def test_multiple_choice(text: str, label: str) -> None:
    assert parse_answer(CQA, text, CQA_ROW, expect_rationale=False).label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("He had 5 and ate 2, so 5 - 2 = 3 are left. The answer is 3.", "3"),
        ("Each box has 12 so 4 boxes hold 48.\n#### 48", "48"),
        ("She pays $1,200.50 in total. So the answer is $1,200.50.", "1200.5"),
        (
            "3 + 4 = 7 apples. The answer is 7.\n\nQuestion: Tom has 9 pens and loses 2. How "
            "many are left?\nThe answer is 7.",
            "7",
        ),
        ("There were 10 birds and 3 flew away, so 10 - 3 = 7 birds remain.", "7"),
        ('{"rationale": "12 * 4 = 48 eggs in four boxes.", "answer": 48}', "48"),
    ],
)
def test_numeric(text: str, label: str) -> None:
    parsed = parse_answer(SVAMP, text)
    assert parsed.label == label
    assert parsed.status == "ok"


def test_run_on_question_is_cut_from_a_numeric_rationale() -> None:
    parsed = parse_answer(
        SVAMP, "3 + 4 = 7 apples. The answer is 7.\n\nQuestion: Tom has 9 pens.\nThe answer is 7."
    )
    assert "Tom" not in (parsed.rationale or "")


@pytest.mark.parametrize(
    "text",
    [
        '{"rationale": "The man plays a guitar, which is music.", "answer": "entailment"}',
        '```json\n{"explanation": "The man plays a guitar, which is music.", "label": '
        '"Entailment"}\n```',
        'Here you go: {"reasoning": "The man plays a guitar, which is music.", '
        '"answer": "true"} Hope that helps.',
    ],
)
def test_structured_json(text: str) -> None:
    parsed = parse_answer(NLI, text)
    assert (parsed.label, parsed.status) == ("entailment", "ok")
    assert parsed.rationale == "The man plays a guitar, which is music."


def test_truncated_before_the_answer_vs_after_it() -> None:
    cut = parse_answer(NLI, '{"rationale": "The man plays a gui', status="truncated")
    assert (cut.label, cut.status) == (None, "truncated")
    cut = parse_answer(NLI, "The man plays a guitar on a stage, so", finish_reason="length")
    assert cut.status == "truncated"
    fine = parse_answer(
        NLI, "The man plays music here.\nAnswer: entailment\n\nPremise: A dog", status="truncated"
    )
    assert (fine.label, fine.status) == ("entailment", "ok")


@pytest.mark.parametrize(
    ("text", "status", "expected"),
    [
        (None, "error", "error"),
        (None, "ok", "error"),
        ("I'm sorry, but I can't help with that request.", "ok", "refused"),
        ("I cannot assist with this.", "ok", "refused"),
        (None, "refused", "refused"),
        ("Some text", "refused", "refused"),
    ],
)
def test_error_and_refusal_statuses(text: str | None, status: str, expected: str) -> None:
    parsed = parse_answer(NLI, text, status=status)
    assert parsed.status == expected
    assert parsed.label is None


def test_rationale_minimum_and_answer_first_explanations() -> None:
    short = parse_answer(NLI, "Yes.\nAnswer: entailment")
    assert (short.label, short.rationale, short.status) == ("entailment", None, "no_rationale")
    after = parse_answer(
        NLI, "Answer: contradiction\nExplanation: A sleeping man cannot be singing on a stage."
    )
    assert after.status == "ok"
    assert after.rationale == "A sleeping man cannot be singing on a stage."
    longer = parse_answer(NLI, "Yes it does.\nAnswer: entailment", min_rationale_words=5)
    assert longer.status == "no_rationale"


def test_a_bold_answer_first_keeps_the_whole_reason() -> None:
    parsed = parse_answer(NLI, "**Contradiction.** A man cannot play guitar on stage while asleep.")
    assert parsed.label == "contradiction"
    assert parsed.rationale == "A man cannot play guitar on stage while asleep."


def test_label_only_and_rationalize_modes() -> None:
    assert parse_answer(NLI, "Answer: neutral", expect_rationale=False).status == "ok"
    given = parse_answer(
        NLI, "Playing a guitar on a stage is making music.", given_label="entailment"
    )
    assert (given.label, given.status) == ("entailment", "ok")
    assert parse_answer(NLI, "Ok.", given_label="neutral").status == "no_rationale"


def test_reasoning_tags_of_local_models() -> None:
    parsed = parse_answer(
        CQA, "<think>People keep savings in banks.</think>\nThe answer is B.", CQA_ROW
    )
    assert (parsed.label, parsed.rationale) == ("b", "People keep savings in banks.")


def test_clean_rationale() -> None:
    assert clean_rationale("Reasonings: **The man**   plays\n guitar. So,") == (
        "The man plays guitar."
    )
    assert clean_rationale("Let's think step by step. The man sings loudly. Therefore") == (
        "The man sings loudly."
    )
    assert clean_rationale("Too short", 3) is None
    assert clean_rationale(None) is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Each child gets 12 / 6 cookies. The answer is (12 / 6).", "2"),
        ("9 + 11 = <<9+11=20>>20 pages. Answer: \\boxed{20}.", "20"),
        ("The total is 1,250 dollars.\n**Final Answer:** $1,250", "1250"),
        ("It fell 8 degrees from 5, 5 - 8 = -3.\nAnswer: -3 degrees", "-3"),
        ("She ate three quarters.\nThe final answer is \\frac{3}{4}.", "0.75"),
        ("He has 3/4 of a pizza left.\nAnswer: 3/4", "0.75"),
        ("So the answer is $\\boxed{7}$.", "7"),
        ("The answer is 6 * 7 = 42 apples.", "42"),
        ("Answer: 45\n\nCheck: 45 + 103 = 148.", "45"),
        ("Final answer: 2^3", "8"),
    ],
)
def test_numeric_expressions_units_and_notation(text: str, label: str) -> None:
    assert parse_answer(SVAMP, text, expect_rationale=False).label == label


@pytest.mark.parametrize(
    ("expression", "value"),
    [("(12 / 6)", 2.0), ("$1,200", 1200.0), ("3 × 4", 12.0), ("-(2 + 3)", -5.0), ("2^10", 1024.0)],
)
def test_evaluate_arithmetic(expression: str, value: float) -> None:
    assert evaluate_arithmetic(expression) == value


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "1 / 0", "9 ** 9 ** 9", "abs(-3)", "x + 1", "1, 2", "[1][0]", ""],
)
def test_evaluate_arithmetic_refuses_everything_else(expression: str) -> None:
    assert evaluate_arithmetic(expression) is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ('The claim "Sam lived in Northern California" is true.', "entailment"),
        ('The claim "it is true that he sleeps" is false.', "contradiction"),
        ("We cannot say whether the claim is true, false, or inconclusive.", None),
        ("Based on the premise, it is inconclusive whether he is a doctor.", "neutral"),
        ("The hypothesis is not entailed by the premise, it is simply inconclusive.", "neutral"),
        ("Yes, we can determine it: the claim is false.", "contradiction"),
        ("False - the premise says the opposite about the shop.", "contradiction"),
    ],
)
def test_verbalizers_wherever_the_answer_puts_them(text: str, label: str | None) -> None:
    assert parse_answer(NLI, text, expect_rationale=False).label == label


def test_the_final_answer_wins_over_an_earlier_mention() -> None:
    parsed = parse_answer(
        CQA,
        "The answer must be somewhere safe, like a bank vault.\nThe answer is (b) bank.",
        CQA_ROW,
    )
    assert parsed.label == "b"
    assert parsed.rationale == "The answer must be somewhere safe, like a bank vault."


def test_teacher_gave_no_reason_vs_parser_missed_it() -> None:
    assert parse_answer(NLI, "Answer: neutral").status == "no_rationale"
    # JSON with the reason under an unknown key, or around the object: still found.
    parsed = parse_answer(NLI, '{"answer": "neutral", "why": "Nothing says if he is tall."}')
    assert (parsed.status, parsed.rationale) == ("ok", "Nothing says if he is tall.")
    parsed = parse_answer(NLI, 'Nothing says if he is tall.\n```json\n{"label": "neutral"}\n```')
    assert (parsed.status, parsed.rationale) == ("ok", "Nothing says if he is tall.")
    # Plenty of text besides the answer, yet no rationale: the parser's fault.
    assert _why_no_rationale("Answer: neutral\n" + "word " * 40, "neutral", 3) == (
        "rationale_missed"
    )
    assert _why_no_rationale("Yes.\nAnswer: neutral", "neutral", 3) == "no_rationale"
    assert "rationale_missed" in PARSE_STATUSES


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("A bank is where people keep their money safe.", "b"),  # "A" is an article
        ("The options are sock, bank, tree or car; I cannot tell which.", None),  # a list
        ("The correct answer is: (a) sock, (b) bank and (e) sky.", None),
        ("Therefore, B is the correct answer.", "b"),
    ],
)
def test_multiple_choice_articles_and_enumerations(text: str, label: str | None) -> None:
    assert parse_answer(CQA, text, CQA_ROW, expect_rationale=False).label == label
