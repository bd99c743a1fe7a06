"""Batched inference helpers: label normalisation through the task spec, row order."""

from __future__ import annotations

import numpy as np
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
