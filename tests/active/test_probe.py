"""The seq2seq probe on a tiny random T5: log-likelihoods, sampling, greedy entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

from tests.active.fakes import one_torch_thread  # noqa: F401  (a fixture)
from zeroshot_distill.active.probe import Seq2SeqProbe, StudentProbe

# One torch thread for every test here (see the fixture).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def probe() -> Seq2SeqProbe:
    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_ff=64,
        d_kv=8,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = T5ForConditionalGeneration(config)
    return Seq2SeqProbe(model, tokenizer, batch_size=3)


def test_it_is_a_student_probe(probe):
    assert isinstance(probe, StudentProbe)


def test_answer_logprobs_equal_the_models_own_sequence_loss(probe):
    inputs = ["premise: a dog runs hypothesis: an animal moves", "premise: x hypothesis: y"]
    candidates = [["entailment", "neutral", "contradiction"], ["yes", "no"]]
    scores = probe.answer_logprobs(inputs, candidates)
    assert [len(s) for s in scores] == [3, 2]
    tok, model = probe.tokenizer, probe.model
    for text, cands, got in zip(inputs, candidates, scores, strict=True):
        for cand, value in zip(cands, got, strict=True):
            enc = tok(["predict: " + text], return_tensors="pt")
            labels = tok([cand], return_tensors="pt")["input_ids"]
            with torch.no_grad():
                loss = model(**enc, labels=labels).loss  # mean over tokens
            assert value == pytest.approx(-loss.item() * labels.shape[1], rel=1e-4)


def test_sampling_is_reproducible_by_seed_and_leaves_global_rng_alone(probe):
    state = torch.random.get_rng_state()
    first = probe.sample_rationales(
        ["a", "b"], 3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5
    )
    assert torch.equal(state, torch.random.get_rng_state())
    second = probe.sample_rationales(
        ["a", "b"], 3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5
    )
    assert first == second
    assert [len(s) for s in first] == [3, 3]


def test_greedy_answers_report_normalised_entropy(probe):
    answers, entropy = probe.greedy_answers(["q: 1+1", "q: 2+2"], max_new_tokens=4)
    assert len(answers) == 2
    assert np.all((entropy >= 0) & (entropy <= 1))
