"""Batched inference helpers: label normalisation through the task spec, row order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroshot_distill.students import accuracy, inference, predict_labels
from zeroshot_distill.tasks.spec import TaskSpec


def test_generated_multiple_choice_outputs_map_back_to_letters(monkeypatch, tiny_student):
    spec = TaskSpec(
        name="cqa",
        kind="multiple_choice",
        description="QA",
        input_fields=["question", "choices"],
        n_choices=3,
    )
    rows = [
        {
            "question": "Where do you mail a letter?",
            "choices": np.array(["post office", "zoo", "sea"]),
        },
        {"question": "What do you drink?", "choices": ["rock", "water", "sand"]},
        {"question": "Pick one", "choices": ["x", "y", "z"]},
    ]
    seen = {}

    def fake_generate(model, tokenizer, inputs, batch_size, **kwargs):
        seen["inputs"] = list(inputs)
        return ["post office", "Water.", "no idea"]

    monkeypatch.setattr(inference, "generate_texts", fake_generate)
    labels = predict_labels(
        tiny_student.model, tiny_student.tokenizer, spec, rows, prefix="p: ", decoding="generate"
    )
    assert labels == ["a", "b", None]
    assert (
        seen["inputs"][0]
        == "p: question: Where do you mail a letter? choices: (a) post office (b) zoo (c) sea"
    )
    assert accuracy(labels, ["a", "b", "c"]) == 2 / 3


class EchoModel:
    """Generates its input again: what comes back shows which row went where."""

    device = torch.device("cpu")
    training = False

    def eval(self) -> None:
        pass

    def train(self, mode: bool = True) -> None:
        pass

    def generate(self, input_ids, attention_mask, **kwargs):
        assert kwargs["do_sample"] is False and kwargs["num_beams"] == 1  # greedy
        return input_ids


def test_generation_returns_rows_in_their_order(tiny_student):
    texts = ["a", "a much longer input text here", "mid length", "tiny", "medium text"]
    out = inference.generate_texts(
        EchoModel(), tiny_student.tokenizer, texts, 2, max_input_length=64, max_new_tokens=3
    )
    assert out == texts


CQA = TaskSpec(
    name="cqa",
    kind="multiple_choice",
    description="QA",
    input_fields=["question", "choices"],
    n_choices=3,
)
CQA_ROWS = [
    {"question": "Where do you mail a letter?", "choices": ["post office", "zoo", "sea"]},
    {"question": "What do you drink?", "choices": ["rock", "water", "a very long sand dune"]},
]


def _reference_scores(student, spec, rows, prefix="predict: "):
    """One unbatched forward pass per (row, candidate): the definition of the score."""
    tok, model = student.tokenizer, student.model
    model.eval()
    out = np.zeros((len(rows), len(spec.label_set)))
    for i, row in enumerate(rows):
        ids = tok([prefix + spec.student_input(row)], return_tensors="pt").input_ids
        for j, label in enumerate(spec.label_set):
            target = tok([spec.label_target(label, row)], return_tensors="pt").input_ids
            with torch.no_grad():
                loss = model(input_ids=ids, labels=target).loss
            out[i, j] = -float(loss) * target.shape[1]
    return out


def test_label_scores_equal_the_unbatched_log_likelihood(tiny_student, nli_spec):
    rows = [
        {"premise": "A man sleeps.", "hypothesis": "Someone rests."},
        {"premise": "Two dogs run on a long sandy beach at noon.", "hypothesis": "Cats."},
        {"premise": "x", "hypothesis": "y"},
    ]
    for spec, data in ((nli_spec, rows), (CQA, CQA_ROWS)):
        batched = inference.label_log_probs(
            tiny_student.model, tiny_student.tokenizer, spec, data, batch_size=2
        )
        reference = _reference_scores(tiny_student, spec, data)
        np.testing.assert_allclose(batched, reference, rtol=1e-4, atol=1e-4)


def test_scored_labels_are_always_valid_with_probabilities(tiny_student, nli_spec):
    rows = [{"premise": f"A cat number {i}.", "hypothesis": "An animal."} for i in range(5)]
    readout = inference.read_labels(tiny_student.model, tiny_student.tokenizer, nli_spec, rows)
    assert readout.decoding == "score"
    assert all(label in nli_spec.label_set for label in readout.labels)
    assert readout.outputs == readout.labels
    assert readout.probabilities.shape == (5, 3)
    np.testing.assert_allclose(readout.probabilities.sum(axis=1), 1.0)
    best = [nli_spec.label_set[i] for i in readout.probabilities.argmax(axis=1)]
    assert best == readout.labels
    assert all(0.0 < c <= 1.0 for c in readout.confidence)


def test_multiple_choice_targets(tiny_student):
    row = CQA_ROWS[0]
    assert CQA.label_target("a", row) == "post office"
    letter = CQA.model_copy(update={"choice_target": "letter"})
    both = CQA.model_copy(update={"choice_target": "both"})
    assert letter.label_target("b", row) == "b"
    assert both.label_target("c", row) == "(c) sea"
    for spec in (CQA, letter, both):
        # Generated text in each target form maps back to the letter.
        assert spec.normalize_label(spec.label_target("b", row), row) == "b"
        labels = predict_labels(tiny_student.model, tiny_student.tokenizer, spec, CQA_ROWS)
        assert all(label in {"a", "b", "c"} for label in labels)


def test_numeric_tasks_generate_and_bad_decodings_are_refused(nli_spec):
    svamp = TaskSpec(name="svamp", kind="numeric", description="math", input_fields=["q"])
    assert inference.resolve_label_decoding("score", svamp) == "generate"
    assert inference.resolve_label_decoding(None, nli_spec) == "score"
    assert inference.resolve_label_decoding("generate", nli_spec) == "generate"
    with pytest.raises(ValueError, match="label_decoding must be one of"):
        inference.resolve_label_decoding("beam", nli_spec)


def test_scores_do_not_depend_on_how_rows_are_chunked(tiny_student, monkeypatch):
    rows = [
        {"question": f"q{i}?", "choices": ["post office", "zoo" * (i % 3 + 1), "sea"]}
        for i in range(7)
    ]
    whole = inference.label_log_probs(tiny_student.model, tiny_student.tokenizer, CQA, rows, 4)
    monkeypatch.setattr(inference, "_MAX_LOGITS", 1)  # one row per forward pass
    chunked = inference.label_log_probs(tiny_student.model, tiny_student.tokenizer, CQA, rows, 4)
    np.testing.assert_allclose(whole, chunked, rtol=1e-4, atol=1e-4)
