"""Decoder-only (causal LM) students: loading, prompts, the masked loss, scoring, generation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from zeroshot_distill.students import (
    MultiTaskCollator,
    TaskPrefixes,
    accuracy,
    encode_examples,
    generate_texts,
    label_log_probs,
    load_student,
    predict_labels,
    train_student,
)
from zeroshot_distill.students.causal_lm import (
    MultiTaskCausalLM,
    PromptFormat,
    load_causal_student,
    prompt_ids,
)
from zeroshot_distill.students.data import encode_targets
from zeroshot_distill.students.inference import _encode
from zeroshot_distill.students.model import (
    StudentConfig,
    StudentLoadError,
    load_saved_student,
    resolve_family,
    save_student,
)
from zeroshot_distill.tasks.spec import TaskSpec

from .conftest import LABELS, cue_rows

QWEN2 = {
    "model_type": "qwen2",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
LLAMA = {**QWEN2, "model_type": "llama", "num_hidden_layers": 2}
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> "
    "{% endfor %}{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
WORDS = [
    "predict",
    "explain",
    ":",
    ".",
    ",",
    "a",
    "the",
    "A",
    "and",
    "cat",
    "dog",
    "man",
    "girl",
    "boy",
    "car",
    "tree",
    "sun",
    "yes",
    "maybe",
    "no",
    "entailment",
    "neutral",
    "contradiction",
    "cue",
    "is",
    "premise",
    "hypothesis",
    "Premise",
    "Hypothesis",
]


def word_tokenizer(*, chat: bool) -> PreTrainedTokenizerFast:
    """A word-level tokenizer built in memory: no pad token, and a chat template if ``chat``."""
    specials = ["<unk>", "<bos>", "<eos>", "<|user|>", "<|assistant|>", "<|end|>"]
    vocab = {token: i for i, token in enumerate([*specials, *dict.fromkeys(WORDS)])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", bos_token="<bos>", eos_token="<eos>"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": specials[3:]})
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


@pytest.fixture
def spec() -> TaskSpec:
    return TaskSpec(
        name="nli",
        kind="classification",
        description="NLI",
        input_fields=["premise", "hypothesis"],
        labels=LABELS,
    )


def _student_with(tokenizer: Any, architecture: dict[str, Any] = LLAMA) -> Any:
    """A causal student built around an in-memory tokenizer (load_student takes names only)."""
    import zeroshot_distill.students.causal_lm as causal_module

    original = causal_module.load_tokenizer
    causal_module.load_tokenizer = lambda _name: tokenizer
    try:
        return load_causal_student(StudentConfig(architecture=architecture), seed=0)
    finally:
        causal_module.load_tokenizer = original


# ------------------------------------------------------------------------------- loading
def test_architecture_with_a_causal_model_type_builds_a_causal_student():
    student = load_student({"architecture": QWEN2}, seed=0)
    assert student.family == "causal_lm" and student.info["family"] == "causal_lm"
    assert type(student.model).__name__ == "Qwen2ForCausalLM"
    assert student.model.config.vocab_size == len(student.tokenizer)  # byt5 by default
    assert student.tokenizer.pad_token_id != student.tokenizer.eos_token_id


def test_t5_architecture_stays_seq2seq_and_bad_families_fail_clearly():
    t5 = StudentConfig(architecture={"d_model": 16, "num_layers": 1, "num_heads": 2})
    assert resolve_family(t5) == "seq2seq"
    assert load_student(t5, seed=0).family == "seq2seq"
    with pytest.raises(StudentLoadError, match="model_type: vit"):
        resolve_family(StudentConfig(architecture={"model_type": "vit"}))
    with pytest.raises(StudentLoadError, match="does not fit"):
        resolve_family(StudentConfig(architecture=QWEN2, family="seq2seq"))
    with pytest.raises(StudentLoadError, match="must not set"):
        load_student({"architecture": {**QWEN2, "vocab_size": 10}})
    # T5 keys merged in from conf/base's architecture would be kept silently by the config.
    with pytest.raises(StudentLoadError, match=r"\['d_model', 'num_heads'\].*student_name"):
        load_student({"architecture": {**QWEN2, "d_model": 64, "num_heads": 4}})


def test_tokenizer_without_pad_token_pads_with_eos_and_keeps_its_vocabulary():
    tokenizer = word_tokenizer(chat=False)
    size = len(tokenizer)
    student = _student_with(tokenizer)
    assert student.tokenizer.pad_token_id == student.tokenizer.eos_token_id
    assert len(student.tokenizer) == size == student.model.config.vocab_size


def test_saved_causal_student_loads_as_causal_and_auto_detects_its_family(tmp_path, spec):
    student = load_student({"architecture": QWEN2}, seed=0)
    save_student(student, tmp_path / "s")
    again = load_saved_student(tmp_path / "s")
    assert again.family == "causal_lm" and again.info["family"] == "causal_lm"
    rows = cue_rows(4, spec)
    np.testing.assert_allclose(
        label_log_probs(again.model, again.tokenizer, spec, rows),
        label_log_probs(student.model, student.tokenizer, spec, rows),
        rtol=1e-5,
    )
    by_path = StudentConfig(name_or_path=str(tmp_path / "s"))
    assert resolve_family(by_path) == "causal_lm"
    assert load_student(by_path).family == "causal_lm"


# ------------------------------------------------------------------------------- prompts
def test_plain_prompt_is_text_and_newline_and_chat_prompt_uses_the_template():
    plain = load_student({"architecture": QWEN2}, seed=0).tokenizer  # byt5: no template
    fmt = PromptFormat.for_tokenizer(plain)
    assert fmt.head == () and plain.decode(list(fmt.tail)) == "\n"
    assert plain.decode(fmt.encode(["predict: a"])[0]) == "predict: a\n"

    chat = word_tokenizer(chat=True)
    ids = PromptFormat.for_tokenizer(chat).encode(["predict : a dog"])[0]
    assert chat.convert_ids_to_tokens(ids) == [
        "<bos>",
        "<|user|>",
        "predict",
        ":",
        "a",
        "dog",
        "<|end|>",
        "<|assistant|>",
    ]


def test_chat_template_none_drops_the_template():
    import zeroshot_distill.students.causal_lm as causal_module

    original = causal_module.load_tokenizer
    causal_module.load_tokenizer = lambda _name: word_tokenizer(chat=True)
    try:
        student = load_causal_student(
            StudentConfig(architecture=LLAMA, chat_template="none"), seed=0
        )
    finally:
        causal_module.load_tokenizer = original
    ids = PromptFormat.for_tokenizer(student.tokenizer).encode(["a dog"])[0]
    assert student.tokenizer.convert_ids_to_tokens(ids)[:2] == ["<bos>", "a"]


@pytest.mark.parametrize("chat", [False, True])
def test_training_and_inference_build_the_same_prompts_and_truncate_the_text_only(chat):
    tokenizer = _student_with(word_tokenizer(chat=chat)).tokenizer
    fmt = PromptFormat.for_tokenizer(tokenizer)
    text = "a dog and a cat and the sun and a tree and a car"
    limit = len(fmt.head) + len(fmt.tail) + 4
    examples, truncated = encode_examples(
        tokenizer,
        ["x"],
        [text],
        ["yes"],
        ["the cue is yes"],
        prefixes=TaskPrefixes(),
        max_input_length=limit,
        max_label_length=8,
        max_rationale_length=8,
        encode_inputs=fmt.encode,
        keep_tail=len(fmt.tail),
    )
    assert truncated == 1
    inference = _encode(tokenizer, ["predict: " + text], limit, causal=True)[0]
    assert (
        examples[0].predict_ids
        == inference
        == prompt_ids(tokenizer, ["predict: " + text], limit)[0]
    )
    assert len(inference) == limit
    assert tuple(inference[: len(fmt.head)]) == fmt.head
    assert tuple(inference[len(inference) - len(fmt.tail) :]) == fmt.tail
    with pytest.raises(ValueError, match="max_input_length"):
        prompt_ids(tokenizer, ["a"], len(fmt.head) + len(fmt.tail))


# ------------------------------------------------------------------------------ the loss
def _naive_target_logits(model: Any, prompt: list[int], target: list[int]) -> torch.Tensor:
    """Logits predicting each target token from one unpadded full forward."""
    ids = torch.tensor([prompt + target[:-1]])
    logits = model(input_ids=ids).logits[0]
    return logits[len(prompt) - 1 :]


def test_loss_is_on_target_tokens_only_and_rows_without_rationale_add_none():
    student = load_student({"architecture": QWEN2}, seed=0)
    model, tokenizer = student.model.eval(), student.tokenizer
    fmt = PromptFormat.for_tokenizer(tokenizer)
    examples, _ = encode_examples(
        tokenizer,
        ["a", "b", "c"],
        ["short", "a much longer input text", "mid input"],
        ["yes", "contradiction", "no"],
        ["because it says so", None, "cue"],
        prefixes=TaskPrefixes(),
        max_input_length=128,
        max_label_length=32,
        max_rationale_length=32,
        encode_inputs=fmt.encode,
        keep_tail=len(fmt.tail),
    )
    batch = MultiTaskCollator(tokenizer.pad_token_id, pad_left=True)(examples)
    assert batch["rationale_ids"].shape[0] == 2  # the row without a rationale has none
    alpha = 0.3
    with torch.no_grad():
        out = MultiTaskCausalLM(model, alpha, tokenizer.pad_token_id)(**batch)

        def naive(pairs: list[tuple[list[int], list[int]]]) -> torch.Tensor:
            logits = torch.cat([_naive_target_logits(model, p, t) for p, t in pairs])
            targets = torch.tensor([tok for _, t in pairs for tok in t])
            return torch.nn.functional.cross_entropy(logits, targets)

        label = naive([(e.predict_ids, e.label_ids) for e in examples])
        rationale = naive([(e.explain_ids, e.rationale_ids) for e in examples if e.explain_ids])
    assert out.label_loss.item() == pytest.approx(label.item(), rel=1e-4)
    assert out.rationale_loss.item() == pytest.approx(rationale.item(), rel=1e-4)
    assert out.loss.item() == pytest.approx(alpha * label.item() + (1 - alpha) * rationale.item())
    only_labels = MultiTaskCausalLM(model, 1.0, tokenizer.pad_token_id)(**batch)
    assert only_labels.rationale_loss is None


def test_left_padded_training_step_has_finite_gradients():
    student = load_student({"architecture": QWEN2}, seed=0)
    tokenizer = student.tokenizer
    fmt = PromptFormat.for_tokenizer(tokenizer)
    examples, _ = encode_examples(
        tokenizer,
        ["a", "b"],
        ["x", "a much longer input"],
        ["yes", "no"],
        ["r", "a longer rationale"],
        prefixes=TaskPrefixes(),
        max_input_length=64,
        max_label_length=16,
        max_rationale_length=32,
        encode_inputs=fmt.encode,
        keep_tail=len(fmt.tail),
    )
    batch = MultiTaskCollator(tokenizer.pad_token_id, pad_left=True)(examples)
    MultiTaskCausalLM(student.model.train(), 0.5, tokenizer.pad_token_id)(**batch).loss.backward()
    grads = [p.grad for p in student.model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


# ------------------------------------------------------------------------------ inference
@pytest.mark.parametrize("chat", [False, True])
def test_batched_label_scores_equal_one_row_scores_and_a_naive_forward(spec, chat):
    student = _student_with(word_tokenizer(chat=chat))
    model, tokenizer = student.model.eval(), student.tokenizer
    rows = cue_rows(7, spec)
    rows.loc[3, "premise"] = "A cat and a dog and a man and a girl and a boy and a car."
    batched = label_log_probs(model, tokenizer, spec, rows, batch_size=4)
    single = label_log_probs(model, tokenizer, spec, rows, batch_size=1)
    np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-4)
    targets = encode_targets(tokenizer, [spec.label_target(label, {}) for label in LABELS])
    with torch.no_grad():
        for i, row in enumerate(rows.to_dict("records")):
            prompt = prompt_ids(tokenizer, ["predict: " + spec.student_input(row)], 512)[0]
            for j, target in enumerate(targets):
                logp = torch.log_softmax(_naive_target_logits(model, prompt, target), -1)
                expected = float(logp[torch.arange(len(target)), torch.tensor(target)].sum())
                assert batched[i, j] == pytest.approx(expected, abs=1e-3)


def test_scoring_bounds_memory_by_splitting_rows(spec, monkeypatch):
    import zeroshot_distill.students.inference as inference

    student = load_student({"architecture": QWEN2}, seed=0)
    rows = cue_rows(5, spec)
    full = label_log_probs(student.model, student.tokenizer, spec, rows, batch_size=5)
    monkeypatch.setattr(inference, "_MAX_LOGITS", 1)  # one row per pass
    np.testing.assert_allclose(
        label_log_probs(student.model, student.tokenizer, spec, rows, batch_size=5),
        full,
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize("chat", [False, True])
def test_batched_generation_equals_one_row_greedy_decoding(chat):
    student = _student_with(word_tokenizer(chat=chat))
    model, tokenizer = student.model.eval(), student.tokenizer
    texts = ["predict: a dog", "explain: a cat and a dog and the sun", "predict: no"]
    batched = generate_texts(model, tokenizer, texts, 3, max_input_length=64, max_new_tokens=6)
    single = [
        generate_texts(model, tokenizer, [t], 1, max_input_length=64, max_new_tokens=6)[0]
        for t in texts
    ]
    assert batched == single
    eos = tokenizer.eos_token_id
    for text, out in zip(texts, batched, strict=True):  # the naive greedy loop, new tokens only
        ids = prompt_ids(tokenizer, [text], 64)[0]
        new: list[int] = []
        with torch.no_grad():
            for _ in range(6):
                token = int(model(input_ids=torch.tensor([ids + new])).logits[0, -1].argmax())
                if token == eos:
                    break
                new.append(token)
        assert out == tokenizer.decode(new, skip_special_tokens=True).strip()


# ------------------------------------------------------------------------------ training
@pytest.mark.trains
def test_tiny_causal_student_learns_the_cue_task(spec):
    train = cue_rows(30, spec, prefix="train")
    valid = cue_rows(12, spec, prefix="valid")
    params = {
        "student": {"architecture": {**QWEN2, "hidden_size": 64, "num_hidden_layers": 2}},
        "alpha": 0.5,
        "learning_rate": 3e-3,
        "batch_size": 6,
        "num_epochs": 30,
        "early_stopping_patience": None,
        "max_input_length": 128,
        "max_rationale_length": 64,
        "precision": "fp32",
        "progress_bar": False,
    }
    student = load_student(params["student"], seed=0)
    result = train_student(student, train, valid, spec, params, seed=0)
    assert result.student.info["family"] == "causal_lm"
    assert result.summary["best_valid_accuracy"] >= 0.75  # chance is 1/3
    assert result.history["rationale_loss"].notna().any()
    # Selection restored the best weights: labels read now score as well as at the best step.
    predicted = predict_labels(
        result.student.model, result.student.tokenizer, spec, valid, prefix="predict: "
    )
    assert accuracy(predicted, list(valid["label"])) == result.summary["best_valid_accuracy"]


def test_a_template_that_prints_a_date_sees_a_fixed_one():
    from transformers import ByT5Tokenizer

    tokenizer = ByT5Tokenizer()  # byte-level: every character of the date shows
    tokenizer.chat_template = (
        "{{ date_string | default(strftime_now('%d %b %Y %H:%M:%S.%f')) }} "
        "{{ messages[0]['content'] }} <|assistant|>"
    )
    first = PromptFormat.for_tokenizer(tokenizer)
    assert first == PromptFormat.for_tokenizer(tokenizer)  # no "today" in the prompt


def test_decoder_tiny_preset_is_a_valid_causal_student():
    from pathlib import Path

    import yaml

    from zeroshot_distill.students import TrainingConfig

    root = Path(__file__).resolve().parents[2] / "conf" / "base"
    (preset,) = yaml.safe_load((root / "students" / "decoder_tiny.yml").read_text()).values()
    training = yaml.safe_load((root / "parameters_training.yml").read_text())["training"]
    config = TrainingConfig.from_params({**training, "preset": {"name": "decoder_tiny", **preset}})
    student = load_student(config.student, seed=0)
    assert student.family == "causal_lm"
    assert 100_000 < student.num_parameters < 200_000
