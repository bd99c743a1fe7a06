"""Prompt templates: validation, rendering, default styles, few-shot and label-only variants."""

from __future__ import annotations

import pytest

from tests.teachers.helpers import CQA_TASK, NLI_TASK, SVAMP_TASK, spec
from zeroshot_distill.tasks.prompts import (
    STYLES,
    TemplateError,
    default_template,
    few_shot_cot_template,
    json_variant,
    label_only_variant,
    placeholders,
    render_prompt,
    validate_template,
)

NLI = spec(NLI_TASK)
CQA = spec(CQA_TASK)
ROW = {"id": "r1", "premise": "A man plays {loud} music.", "hypothesis": "A man sings."}
CQA_ROW = {"id": "q1", "question": "Where is money kept?", "choices": ["sock", "bank", "tree"]}


@pytest.mark.parametrize(
    ("template", "fragments"),
    [
        ("Premise: {premise}", ["missing {hypothesis}"]),
        ("{premise} {hypothesis} {context}", ["unknown {context}"]),
        ("{premise} {label}", ["missing {hypothesis}", "unknown {label}"]),
        ("{premise} {hypothesis} {}", ["positional"]),
        ("{premise} {hypothesis} {premise!r}", ["conversion"]),
        ('{premise} {hypothesis} reply {"answer": 1}', ["unknown", "{{ and }}"]),
        ("{premise} {hypothesis} }", ["not a valid format string"]),
        ("   ", ["empty"]),
    ],
)
def test_bad_templates_are_named(template: str, fragments: list[str]) -> None:
    with pytest.raises(TemplateError) as err:
        validate_template(template, NLI)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_valid_template_and_extra_placeholders() -> None:
    assert validate_template("{hypothesis} / {premise}", NLI) == ["hypothesis", "premise"]
    validate_template("{premise} {hypothesis} is {label}", NLI, extra=("label",))
    assert placeholders('{{"a": 1}} {premise}') == ["premise"]


@pytest.mark.parametrize("task", [NLI_TASK, CQA_TASK, SVAMP_TASK])
@pytest.mark.parametrize("style", STYLES)
def test_default_templates_fit_their_task(task: dict, style: str) -> None:
    task_spec = spec(task)
    extra = ("label",) if style == "rationalize" else ()
    validate_template(default_template(task_spec, style), task_spec, extra=extra)


def test_render_prompt_fills_fields_and_keeps_braces_in_values() -> None:
    messages = render_prompt(default_template(NLI), NLI, ROW, system="Be brief.")
    assert messages[0] == {"role": "system", "content": "Be brief."}
    content = messages[1]["content"]
    assert "Premise: A man plays {loud} music." in content
    assert "Answer: <entailment | neutral | contradiction>" in content
    json_prompt = render_prompt(default_template(NLI, "json"), NLI, ROW)[0]["content"]
    assert '{"rationale": "<your explanation>", "answer": ' in json_prompt
    assert json_prompt.rstrip().endswith('"}.')


def test_multiple_choice_rendering_and_rationalize_label() -> None:
    content = render_prompt(default_template(CQA, "rationalize"), CQA, CQA_ROW, label="b")
    text = content[0]["content"]
    assert "(a) sock (b) bank (c) tree" in text
    assert "The correct answer is: (b) bank" in text


def test_render_prompt_names_a_missing_field() -> None:
    with pytest.raises(TemplateError, match=r"row 'r9' has no input field 'hypothesis'"):
        render_prompt(default_template(NLI), NLI, {"id": "r9", "premise": "x"})


def test_few_shot_cot_template_bakes_exemplars_in() -> None:
    exemplars = [
        {
            "id": f"e{i}",
            "premise": f"Exemplar premise {i} with {{braces}}.",
            "hypothesis": f"Exemplar hypothesis {i}.",
            "gold_label": "neutral",
            "reference_rationale": f"Reason {i}.",
        }
        for i in range(4)
    ]
    template = few_shot_cot_template(NLI, exemplars, k=2)
    assert validate_template(template, NLI) == ["premise", "hypothesis"]
    content = render_prompt(template, NLI, ROW)[0]["content"]
    assert content.count("Explanation:") == 3
    assert "Exemplar premise 1 with {braces}." in content
    assert "Exemplar premise 2" not in content
    assert content.endswith("Hypothesis: A man sings.\nExplanation:")
    with pytest.raises(TemplateError, match="has no reference_rationale"):
        few_shot_cot_template(NLI, [{**exemplars[0], "reference_rationale": None}])


def test_label_only_variant_drops_requests_to_explain() -> None:
    template = (
        '{premise}\n\nQuestion: Is it true that "{hypothesis}"? Let\'s think step by step, '
        "then answer.\nExplain your reasoning first."
    )
    variant = label_only_variant(template, NLI)
    validate_template(variant, NLI)
    assert "step by step" not in variant
    assert "Explain" not in variant
    assert "with no explanation" in variant
    assert "<entailment | neutral | contradiction>" in variant
    assert json_variant(template, NLI).count("{{") == 1


@pytest.mark.parametrize(
    ("prompt", "asks"),
    [
        ("Premise: {premise}\nHypothesis: {hypothesis}\nExplain briefly, then answer.", True),
        ("Is the claim true, false or inconclusive? Provide a brief justification.", True),
        ("{question}\n\nGo step by step, but clearly state your final answer.", True),
        ("Why does the hypothesis follow? {premise} {hypothesis}", True),
        ("Is the claim true, false, or inconclusive? Answer without an explanation.", False),
        ("{question}\n\nAnswer with one sentence.", False),
        ("Reply with the label only, no reasoning.", False),
    ],
)
def test_asks_for_reason(prompt: str, asks: bool) -> None:
    from zeroshot_distill.tasks.prompts import asks_for_reason

    assert asks_for_reason(prompt) is asks


@pytest.mark.parametrize(
    ("prompt", "label"),
    [
        ("Premise: {premise}\nWhy is the hypothesis 'entailment'? {hypothesis}", "entailment"),
        ('Explain why the claim "{hypothesis}" is "false".', "contradiction"),
        ("Why is it entailment, neutral or contradiction? {premise} {hypothesis}", None),
        ('Is it "true", "false" or "inconclusive"? Explain why. {premise}', None),
        ("Label the pair 'entailment' if it follows. {premise} {hypothesis}", None),
    ],
)
def test_gives_label_away(prompt: str, label: str | None) -> None:
    from zeroshot_distill.tasks.prompts import gives_label_away

    assert gives_label_away(prompt, NLI) == label
    assert gives_label_away(prompt, CQA) is None
