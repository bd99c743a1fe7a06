"""The predict node: labels by label scoring (always valid, with a confidence) or generation."""

from __future__ import annotations

import pandas as pd

from zeroshot_distill.pipelines.predict.nodes import predict_new_examples
from zeroshot_distill.students import load_student

TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": ["entailment", "neutral", "contradiction"],
}
TINY = {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1, "dropout_rate": 0.0}


def _inputs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "premise": ["A dog runs.", "Two men sit.", "It rains."],
            "hypothesis": ["An animal moves.", "Four men sit.", "The sun shines."],
            "gold_label": ["entailment", None, "contradiction"],
            "reference_rationale": [None, None, None],
        }
    )


def test_scored_predictions_are_valid_labels_with_a_confidence():
    student = load_student({"architecture": TINY}, seed=0)  # untrained: still valid labels
    result = predict_new_examples(student, _inputs(), TASK, {"batch_size": 2})
    assert result["valid_output"].all()
    assert set(result["student_label"]) <= set(TASK["labels"])
    assert result["student_confidence"].between(1 / 3, 1.0).all()  # the argmax of 3 labels
    assert "correct" in result.columns and "reference_rationale" not in result.columns


def test_generation_can_still_be_asked_for():
    student = load_student({"architecture": TINY}, seed=0)
    params = {"batch_size": 2, "label_decoding": "generate", "max_new_tokens": 4}
    result = predict_new_examples(student, _inputs(), TASK, params)
    assert "student_confidence" not in result.columns
    assert result["valid_output"].tolist() == result["student_label"].notna().tolist()


def test_a_decoder_only_student_predicts_and_explains():
    qwen2 = {
        "model_type": "qwen2",
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
    }
    student = load_student({"architecture": qwen2}, seed=0)
    scored = predict_new_examples(student, _inputs(), TASK, {"batch_size": 2, "explain": True})
    assert scored["valid_output"].all()
    assert scored["student_confidence"].between(1 / 3, 1.0).all()
    assert "student_rationale" in scored.columns
    params = {"batch_size": 2, "label_decoding": "generate", "max_new_tokens": 4}
    generated = predict_new_examples(student, _inputs(), TASK, params)
    assert generated["valid_output"].tolist() == generated["student_label"].notna().tolist()
