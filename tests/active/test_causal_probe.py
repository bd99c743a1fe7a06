"""The causal LM probe on a tiny random Qwen2: log-likelihoods, sampling, greedy entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.active.fakes import one_torch_thread  # noqa: F401  (a fixture)
from zeroshot_distill.active.probe import CausalProbe, StudentProbe
from zeroshot_distill.students import generate_texts, load_student
from zeroshot_distill.students.causal_lm import prompt_ids
from zeroshot_distill.students.data import encode_targets

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QWEN2 = {
    "model_type": "qwen2",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


@pytest.fixture(scope="module")
def probe() -> CausalProbe:
    student = load_student({"architecture": QWEN2}, seed=0)
    return CausalProbe(student.model, student.tokenizer, batch_size=2)


def test_it_is_a_student_probe(probe):
    assert isinstance(probe, StudentProbe)


def test_answer_logprobs_equal_a_naive_full_forward(probe):
    inputs = ["premise: a dog runs hypothesis: an animal moves", "x", "premise: y"]
    candidates = [["entailment", "neutral", "contradiction"], ["yes", "no"], ["maybe", "so"]]
    scores = probe.answer_logprobs(inputs, candidates)
    assert [len(s) for s in scores] == [3, 2, 2]
    tok, model = probe.tokenizer, probe.model
    for text, cands, got in zip(inputs, candidates, scores, strict=True):
        prompt = prompt_ids(tok, ["predict: " + text], 512)[0]
        for target, value in zip(encode_targets(tok, cands), got, strict=True):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([prompt + target[:-1]])).logits[0]
            logp = torch.log_softmax(logits[len(prompt) - 1 :], -1)
            expected = logp[torch.arange(len(target)), torch.tensor(target)].sum().item()
            assert value == pytest.approx(expected, abs=1e-3)


def test_sampling_is_reproducible_by_seed_and_leaves_global_rng_alone(probe):
    state = torch.random.get_rng_state()
    first = probe.sample_rationales(
        ["a", "b", "c"], 3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5
    )
    assert torch.equal(state, torch.random.get_rng_state())
    second = probe.sample_rationales(
        ["a", "b", "c"], 3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5
    )
    assert first == second
    assert [len(s) for s in first] == [3, 3, 3]


def test_greedy_answers_are_the_students_generation_with_normalised_entropy(probe):
    inputs = ["q: 1+1", "q: 2+2 and more"]
    answers, entropy = probe.greedy_answers(inputs, max_new_tokens=4)
    expected = generate_texts(
        probe.model,
        probe.tokenizer,
        ["predict: " + x for x in inputs],
        2,
        max_input_length=512,
        max_new_tokens=4,
    )
    assert answers == expected
    assert np.all((entropy >= 0) & (entropy <= 1))
