"""Encoder students: a (tiny) encoder under a decoder trained from scratch, joined as an
``EncoderDecoderModel``, used everywhere a T5 student is (training, scoring, generation,
saving, the pipeline nodes), from a config or a local pretrained encoder directory."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import (
    AutoModelForSeq2SeqLM,
    BertConfig,
    BertForMaskedLM,
    BertTokenizerFast,
    EncoderDecoderModel,
)

from zeroshot_distill.pipelines.evaluation import nodes as evaluation_nodes
from zeroshot_distill.pipelines.predict.nodes import predict_new_examples
from zeroshot_distill.pipelines.training.nodes import train_student_model
from zeroshot_distill.students import (
    StudentConfig,
    StudentLoadError,
    TrainingConfigError,
    accuracy,
    generate_rationales,
    label_log_probs,
    load_student,
    predict_labels,
    train_from_training_set,
)
from zeroshot_distill.students.data import IGNORE_INDEX, encode_targets, pad
from zeroshot_distill.students.encoder_decoder import is_bare_encoder
from zeroshot_distill.students.inference import _target_log_probs
from zeroshot_distill.students.loss import MultiTaskSeq2Seq
from zeroshot_distill.students.model import load_saved_student, save_student
from zeroshot_distill.tasks.spec import TaskSpec

from .conftest import LABELS, TINY_ARCHITECTURE, cue_rows

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TINY_ENCODER = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
TINY_DECODER = {"num_hidden_layers": 1}
NLI_TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": LABELS,
}


@pytest.fixture
def encoder_student():
    """A tiny random BERT encoder (d 32, 1 layer) under a 1-layer decoder, ByT5 bytes."""
    return load_student({"architecture": TINY_ENCODER, "decoder": TINY_DECODER}, seed=0)


# ------------------------------------------------------------------------------- building
def test_a_bert_architecture_builds_an_encoder_decoder_student(encoder_student):
    model, tokenizer = encoder_student.model, encoder_student.tokenizer
    assert isinstance(model, EncoderDecoderModel)
    assert type(tokenizer).__name__ == "ByT5Tokenizer"  # the default for a random encoder
    assert model.config.decoder.is_decoder and model.config.decoder.add_cross_attention
    assert model.config.decoder.num_hidden_layers == 1
    assert model.config.decoder.vocab_size == len(tokenizer) == model.config.encoder.vocab_size
    # ByT5 has no cls/bos: the decoder starts from pad, and ends with eos (as targets do).
    for config in (model.config, model.generation_config):
        assert config.decoder_start_token_id == tokenizer.pad_token_id
        assert config.pad_token_id == tokenizer.pad_token_id
        assert config.eos_token_id == tokenizer.eos_token_id
    assert encoder_student.family == "seq2seq"
    assert encoder_student.info["student_kind"] == "encoder"
    assert encoder_student.info["family"] == "seq2seq"
    assert encoder_student.info["encoder"] == "random bert (architecture)"
    assert not hasattr(model, "enc_to_dec_proj")  # same width: no projection
    again = load_student({"architecture": TINY_ENCODER, "decoder": TINY_DECODER}, seed=0)
    for p, q in zip(model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_decoder_of_another_width_is_projected_and_the_default_follows_the_encoder():
    wide = load_student({"architecture": TINY_ENCODER, "decoder": {"hidden_size": 48}}, seed=0)
    assert wide.model.config.decoder.hidden_size == 48
    assert wide.model.enc_to_dec_proj.in_features == 32
    assert wide.model.enc_to_dec_proj.out_features == 48
    default = load_student({"architecture": TINY_ENCODER}, seed=0)
    decoder = default.model.config.decoder
    assert (decoder.hidden_size, decoder.num_attention_heads, decoder.intermediate_size) == (
        32,
        4,
        64,
    )
    assert decoder.num_hidden_layers == 2
    # Same width: the decoder's token embeddings start as a copy of the encoder's.
    assert torch.equal(
        default.model.decoder.get_input_embeddings().weight,
        default.model.encoder.get_input_embeddings().weight,
    )
    assert (
        default.model.decoder.get_input_embeddings().weight.data_ptr()
        != default.model.encoder.get_input_embeddings().weight.data_ptr()
    )


def test_explicit_family_encoder_is_the_same_as_auto():
    auto = load_student({"architecture": TINY_ENCODER}, seed=0)
    explicit = load_student({"architecture": TINY_ENCODER, "family": "encoder"}, seed=0)
    assert type(explicit.model) is type(auto.model)
    assert explicit.num_parameters == auto.num_parameters


@pytest.mark.parametrize(
    "config",
    [
        {"architecture": TINY_ARCHITECTURE, "decoder": TINY_DECODER},  # auto -> T5
        {"architecture": TINY_ARCHITECTURE, "family": "seq2seq", "decoder": TINY_DECODER},
        {"name_or_path": "t5-small", "family": "causal_lm", "decoder": TINY_DECODER},
    ],
)
def test_decoder_for_another_family_names_the_parameter(config):
    with pytest.raises(StudentLoadError, match=r"training\.student\.decoder"):
        load_student(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"architecture": {**TINY_ENCODER, "model_type": "gpt2"}, "family": "encoder"}, "bert"),
        ({"architecture": {**TINY_ENCODER, "vocab_size": 9}}, "vocab_size"),
        ({"architecture": TINY_ENCODER, "decoder": {"is_decoder": False}}, "is_decoder"),
        (
            {
                "architecture": TINY_ENCODER,
                "decoder": {"hidden_size": 30, "num_attention_heads": 4},
            },
            r"training\.student\.decoder",
        ),
        ({"architecture": TINY_ENCODER, "family": "bogus"}, "family"),
        ({"architecture": {**TINY_ENCODER, "d_model": 64}}, r"architecture.*\['d_model'\]"),
        ({"architecture": TINY_ENCODER, "decoder": {"hidden_sise": 8}}, "hidden_sise"),
    ],
)
def test_bad_encoder_settings_are_clear_errors(config, message):
    with pytest.raises(StudentLoadError, match=message):
        load_student(config)


@pytest.mark.parametrize(
    ("model_type", "extra"),
    [
        ("roberta", {}),
        ("deberta-v2", {}),
        ("modernbert", {}),
        ("electra", {"embedding_size": 16}),
        ("albert", {"embedding_size": 16}),
    ],
)
def test_other_encoder_families_score_and_train(model_type, extra, nli_spec):
    """RoBERTa, DeBERTa, ModernBERT, ELECTRA, ALBERT (factorised embeddings) build from a
    config, score labels batched as one row at a time, and pass gradients to both halves."""
    architecture = {**TINY_ENCODER, "model_type": model_type, **extra}
    if model_type == "modernbert":  # its config has no BERT-style dropout names
        del architecture["hidden_dropout_prob"], architecture["attention_probs_dropout_prob"]
    student = load_student({"architecture": architecture, "decoder": TINY_DECODER}, seed=0)
    assert student.info["encoder_model_type"] == model_type
    rows = cue_rows(4, nli_spec)
    model, tokenizer = student.model, student.tokenizer
    batched = label_log_probs(model, tokenizer, nli_spec, rows, 4)
    single = np.concatenate(
        [label_log_probs(model, tokenizer, nli_spec, [r], 1) for r in rows.to_dict("records")]
    )
    np.testing.assert_allclose(batched, single, atol=1e-4)
    inputs = tokenizer(["predict: a", "explain: a"], padding=True, return_tensors="pt")
    targets = pad(encode_targets(tokenizer, ["yes"]), IGNORE_INDEX)
    MultiTaskSeq2Seq(model, 0.5)(
        inputs.input_ids, inputs.attention_mask, targets, targets
    ).loss.backward()
    assert model.encoder.get_input_embeddings().weight.grad is not None
    assert model.decoder.get_output_embeddings().weight.grad is not None


def test_a_roberta_tokenizer_starts_at_bos_and_ends_at_eos(tmp_path):
    """A byte-level BPE tokenizer (vocabulary of single characters, no merges): decoding
    starts at <s> (its cls/bos), answers end at </s>, pad is <pad>; RoBERTa counts positions
    after the pad id, so 2 of its 512 position slots are never used."""
    from transformers import RobertaTokenizer

    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["\u0120", ".", ":"]
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {token: i for i, token in enumerate([*specials, *chars])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    RobertaTokenizer.from_pretrained(tmp_path).save_pretrained(tmp_path)
    architecture = {**TINY_ENCODER, "model_type": "roberta"}
    student = load_student({"architecture": architecture, "tokenizer": str(tmp_path)}, seed=0)
    tokenizer, config = student.tokenizer, student.model.generation_config
    assert (
        (config.decoder_start_token_id, config.eos_token_id, config.pad_token_id)
        == (
            tokenizer.bos_token_id,
            tokenizer.eos_token_id,
            tokenizer.pad_token_id,
        )
        == (0, 2, 1)
    )
    assert student.info["max_input_positions"] == 510
    assert encode_targets(tokenizer, ["a"])[0][-1] == 2


def test_bare_encoder_detection():
    assert is_bare_encoder(BertConfig())
    assert is_bare_encoder(BertConfig(architectures=["BertForMaskedLM"]))
    assert not is_bare_encoder(BertConfig(is_decoder=True))
    from transformers import GPT2Config, T5Config

    assert not is_bare_encoder(T5Config())
    assert not is_bare_encoder(GPT2Config(architectures=["GPT2LMHeadModel"]))


def test_config_keeps_family_and_decoder():
    cfg = StudentConfig.from_params({"architecture": TINY_ENCODER, "decoder": {"hidden_size": 8}})
    assert cfg.family == "auto" and cfg.decoder == {"hidden_size": 8}


def test_the_encoder_tiny_preset_is_a_valid_training_block():
    """conf/base/students/encoder_tiny.yml: one `_student_encoder_tiny` key whose `student`
    replaces `training.student` and whose other keys override `training`."""
    import yaml

    from zeroshot_distill.students import TrainingConfig

    preset = yaml.safe_load((PROJECT_ROOT / "conf/base/students/encoder_tiny.yml").read_text())
    assert list(preset) == ["_student_encoder_tiny"]
    block = preset["_student_encoder_tiny"]
    training = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_training.yml").read_text())
    config = TrainingConfig.from_params(
        {**training["training"], "preset": {"name": "encoder_tiny", **block}}
    )
    student = load_student(config.student, seed=0)
    assert isinstance(student.model, EncoderDecoderModel)
    assert student.info["student_kind"] == "encoder"
    assert student.model.config.encoder.hidden_size == 64


# -------------------------------------------------------------------- scoring, generation
def test_batched_label_scores_equal_one_row_scores(encoder_student, nli_spec):
    rows = cue_rows(7, nli_spec)
    batched = label_log_probs(encoder_student.model, encoder_student.tokenizer, nli_spec, rows, 4)
    single = np.concatenate(
        [
            label_log_probs(encoder_student.model, encoder_student.tokenizer, nli_spec, [r], 1)
            for r in rows.to_dict("records")
        ]
    )
    assert batched.shape == (7, 3)
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_the_cache_shortcut_equals_a_full_decoder_pass(encoder_student):
    """Label scoring runs the first decoder step once per row and repeats its cache for the
    candidates: for an EncoderDecoderModel (BERT decoder) that must equal a plain forward."""
    model, tokenizer = encoder_student.model.eval(), encoder_student.tokenizer
    inputs = tokenizer(
        ["predict: a cat on a mat", "predict: no"], padding=True, return_tensors="pt"
    )
    targets = pad(encode_targets(tokenizer, ["entailment", "no", "maybe"] * 2), IGNORE_INDEX)
    with torch.no_grad():
        fast = _target_log_probs(model, inputs.input_ids, inputs.attention_mask, targets, 3)
        full = model(
            input_ids=inputs.input_ids.repeat_interleave(3, 0),
            attention_mask=inputs.attention_mask.repeat_interleave(3, 0),
            decoder_input_ids=model.prepare_decoder_input_ids_from_labels(labels=targets),
        ).logits
    slow = -torch.nn.functional.cross_entropy(
        full.transpose(1, 2), targets, ignore_index=IGNORE_INDEX, reduction="none"
    )
    torch.testing.assert_close(fast, slow, atol=1e-4, rtol=1e-4)


def test_greedy_generation_follows_the_teacher_forced_argmax(encoder_student):
    model, tokenizer = encoder_student.model.eval(), encoder_student.tokenizer
    inputs = tokenizer(["explain: a dog runs"], return_tensors="pt")
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=4, do_sample=False, num_beams=1)
        assert int(generated[0, 0]) == model.config.decoder_start_token_id
        logits = model(**inputs, decoder_input_ids=generated[:, :-1]).logits
    assert logits.argmax(-1)[0].tolist() == generated[0, 1:].tolist()


# ------------------------------------------------------------------------------- training
def _cue_training_set(spec: TaskSpec) -> pd.DataFrame:
    train = cue_rows(24, spec, prefix="train")
    valid = cue_rows(12, spec, prefix="valid").assign(rationale_target=None)
    test = cue_rows(6, spec, prefix="test").assign(rationale_target=None)
    return pd.concat(
        [train.assign(split="train"), valid.assign(split="valid"), test.assign(split="test")],
        ignore_index=True,
    )


TRAIN_PARAMS = {
    # family: encoder (an encoder under a decoder that writes the label); `auto` makes a
    # bare encoder a classifier student on a task with labels (tests/students/test_classifier.py)
    "student": {
        "architecture": {**TINY_ENCODER, "hidden_size": 64, "intermediate_size": 128},
        "family": "encoder",
    },
    "alpha": 0.5,
    "learning_rate": 3e-3,
    "batch_size": 6,
    "num_epochs": 40,
    "eval_steps": 12,
    "logging_steps": 4,
    # Some seeds predict one label until step ~70 before the cue is picked up (measured over
    # seeds 0-5): early stopping would end those runs at chance.
    "early_stopping_patience": None,
    "max_rationale_length": 64,
    "precision": "fp32",
    "num_threads": 1,
    "progress_bar": False,
}


@pytest.fixture(scope="module")
def trained_encoder_student():
    """One training run of a tiny encoder student on cue rows, shared by the tests below."""
    spec = TaskSpec.from_params(NLI_TASK)
    training_set = _cue_training_set(spec)
    return spec, training_set, train_from_training_set(training_set, TRAIN_PARAMS, NLI_TASK, 0)


@pytest.mark.trains
def test_a_tiny_encoder_student_learns(trained_encoder_student):
    spec, training_set, result = trained_encoder_student
    student = result.student
    train = training_set[training_set["split"] == "train"]
    predicted = predict_labels(student.model, student.tokenizer, spec, train, batch_size=8)
    # Margins, not exact outcomes (AVX2 and AVX-512 train differently): chance is 1/3.
    assert accuracy(predicted, list(train["label"])) >= 0.75
    assert result.summary["best_valid_accuracy"] >= 0.75
    history = result.history[result.history["kind"] == "train"]
    assert history["rationale_loss"].notna().all()
    assert history["label_loss"].iloc[-1] < 0.5 * history["label_loss"].iloc[0]
    assert student.info["student_kind"] == "encoder" and student.info["family"] == "seq2seq"
    assert student.info["num_parameters"] == student.num_parameters
    rationales = generate_rationales(student.model, student.tokenizer, spec, train.head(2))
    assert len(rationales) == 2 and all(isinstance(r, str) for r in rationales)


@pytest.mark.trains
def test_saved_encoder_student_reloads_with_identical_predictions(
    trained_encoder_student, tmp_path
):
    spec, training_set, result = trained_encoder_student
    student = result.student
    save_student(student, tmp_path / "student")
    assert json.loads((tmp_path / "student" / "config.json").read_text())["model_type"] == (
        "encoder-decoder"
    )
    assert isinstance(
        AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "student"), EncoderDecoderModel
    )
    again = load_saved_student(tmp_path / "student")
    assert again.family == "seq2seq" and again.info["student_kind"] == "encoder"
    rows = training_set[training_set["split"] != "train"]
    before = label_log_probs(student.model, student.tokenizer, spec, rows, 8)
    after = label_log_probs(again.model, again.tokenizer, spec, rows, 8)
    np.testing.assert_allclose(after, before, atol=1e-5)
    generated = generate_rationales(student.model, student.tokenizer, spec, rows.head(3))
    assert generate_rationales(again.model, again.tokenizer, spec, rows.head(3)) == generated
    # A saved encoder student is a seq2seq checkpoint: usable as `name_or_path` again.
    by_path = load_student({"name_or_path": str(tmp_path / "student")})
    assert isinstance(by_path.model, EncoderDecoderModel) and by_path.family == "seq2seq"
    assert by_path.info["student_kind"] == "encoder"


@pytest.mark.trains
def test_nodes_train_evaluate_and_predict_with_an_encoder_student(trained_encoder_student):
    _, training_set, _ = trained_encoder_student
    params = {**TRAIN_PARAMS, "max_steps": 4, "eval_steps": 2, "logging_steps": 1}
    student, history, metrics = train_student_model(training_set, params, NLI_TASK, seed=1)
    assert student.info["final_step"] == 4 and student.info["student_kind"] == "encoder"
    assert set(history["kind"]) == {"train", "eval"} and "valid_accuracy" in metrics
    examples = training_set.rename(columns={"label": "gold_label"}).assign(reference_rationale=None)
    evaluation = {"split": "test", "batch_size": 4, "latency_samples": 1}
    predictions, profile = evaluation_nodes.predict_test_split(
        student, examples, NLI_TASK, evaluation
    )
    assert len(predictions) == 6 and predictions["valid_output"].all()
    assert profile["model"]["label_decoding"] == "score"
    assert profile["model"]["model_type"] == "encoder-decoder"
    assert profile["model"]["student_kind"] == "encoder"
    assert profile["model"]["layers (encoder/decoder)"] == "1/2"
    assert profile["model"]["d_model"] == 64
    new_rows = examples[examples["split"] == "test"].drop(columns=["split"])
    predicted = predict_new_examples(student, new_rows, NLI_TASK, {"batch_size": 4})
    assert predicted["valid_output"].all()
    assert set(predicted["student_label"]) <= set(LABELS)


# ------------------------------------------------------- a local pretrained encoder directory
def _wordpiece_vocab(path: Path, texts: list[str]) -> None:
    """A small WordPiece vocabulary: BERT's specials, the words of ``texts``, and every
    character alone and as a continuation piece (so that no word becomes [UNK])."""
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    chars = sorted({c for w in words for c in w})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = [*specials, *chars, *(f"##{c}" for c in chars), *(w for w in words if len(w) > 1)]
    path.write_text("\n".join(dict.fromkeys(vocab)) + "\n")


def _sentiment_rows() -> pd.DataFrame:
    lines = (PROJECT_ROOT / "data" / "01_raw" / "sentiment_sample.jsonl").read_text().splitlines()
    raw = [json.loads(line) for line in lines[:60]]
    rows = []
    for i, r in enumerate(raw):
        split = "train" if i < 40 else ("valid" if i < 50 else "test")
        rows.append(
            {
                "id": r["id"],
                "split": split,
                "text": r["text"],
                "input": f"text: {r['text']}",
                "label": r["label"],
                "label_target": r["label"],
                "rationale_target": r["explanation"] if split == "train" and i % 2 else None,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def local_encoder_dir(tmp_path_factory):
    """A tiny pretrained-like BERT (masked-LM head) with a real WordPiece tokenizer, written
    with ``save_pretrained`` the way a downloaded checkpoint looks on disk."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    rows = _sentiment_rows()
    _wordpiece_vocab(
        directory / "vocab.txt",
        [*rows["text"], *rows["rationale_target"].dropna(), "positive negative text predict"],
    )
    # transformers 5: BertTokenizerFast(vocab_file=...) silently keeps only the five special
    # tokens (everything else becomes [UNK]); from_pretrained on the directory reads it.
    tokenizer = BertTokenizerFast.from_pretrained(directory)
    assert len(tokenizer) > 100
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertForMaskedLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


SENTIMENT_TASK = {
    "name": "sentiment",
    "kind": "classification",
    "description": "Sentiment",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}


@pytest.mark.trains
def test_a_student_from_a_local_encoder_directory_trains_and_scores(local_encoder_dir):
    tokenizer = BertTokenizerFast.from_pretrained(local_encoder_dir)
    assert tokenizer.tokenize("Highly recommended.") == ["highly", "recommended", "."]
    params = {
        **TRAIN_PARAMS,
        "student": {
            "name_or_path": str(local_encoder_dir),
            "decoder": {"num_hidden_layers": 1},
            "family": "encoder",
        },
        "max_steps": 20,
        "eval_steps": 10,
        "max_input_length": 128,
    }
    training_set = _sentiment_rows()
    student, history, _ = train_student_model(training_set, params, SENTIMENT_TASK, seed=0)
    model, tok = student.model, student.tokenizer
    assert isinstance(model, EncoderDecoderModel)
    assert type(tok).__name__.startswith("BertTokenizer")  # the checkpoint's own
    assert student.info["encoder"] == str(local_encoder_dir)
    assert student.info["encoder_model_type"] == "bert"
    # BERT's [CLS] starts the decoder, its [SEP] ends every answer.
    assert model.generation_config.decoder_start_token_id == tok.cls_token_id
    assert model.generation_config.eos_token_id == tok.sep_token_id
    train_logs = history[history["kind"] == "train"]
    assert train_logs["label_loss"].iloc[-1] < train_logs["label_loss"].iloc[0]
    test = training_set[training_set["split"] == "test"]
    spec = TaskSpec.from_params(SENTIMENT_TASK)
    scores = label_log_probs(model, tok, spec, test, batch_size=4)
    assert scores.shape == (len(test), 2) and np.isfinite(scores).all()
    labels = predict_labels(model, tok, spec, test, batch_size=4)
    assert set(labels) <= {"positive", "negative"}


def test_lengths_beyond_the_position_embeddings_fail_before_training(local_encoder_dir):
    """The local BERT has 128 positions: a longer max_input_length would crash mid-run."""
    params = {
        **TRAIN_PARAMS,
        "student": {"name_or_path": str(local_encoder_dir), "decoder": {"num_hidden_layers": 1}},
        "max_input_length": 512,
    }
    with pytest.raises(TrainingConfigError, match=r"training\.max_input_length=512.*128"):
        train_student_model(_sentiment_rows(), params, SENTIMENT_TASK, seed=0)
    wide = {**params, "max_input_length": 128, "max_rationale_length": 600}
    with pytest.raises(TrainingConfigError, match=r"training\.max_rationale_length=600.*512"):
        train_student_model(_sentiment_rows(), wide, SENTIMENT_TASK, seed=0)


def test_missing_encoder_directory_is_a_clear_error(tmp_path):
    with pytest.raises(StudentLoadError, match="does not exist"):
        load_student({"name_or_path": str(tmp_path / "nowhere"), "family": "encoder"})
    with pytest.raises(StudentLoadError, match="does not exist"):
        load_student({"name_or_path": str(tmp_path / "nowhere")})  # auto


def test_a_directory_without_a_checkpoint_is_named_as_such(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(StudentLoadError, match="exists but holds no loadable"):
        load_student({"name_or_path": str(tmp_path)})


def test_encoder_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    for family in ("encoder", "auto"):
        with pytest.raises(
            StudentLoadError, match=r"(?s)no-such-org/no-such-bert.*HF_HUB_OFFLINE=1"
        ):
            load_student({"name_or_path": "no-such-org/no-such-bert", "family": family})
    assert time.perf_counter() - started < 10


def test_a_causal_lm_checkpoint_is_not_an_encoder(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=64)).save_pretrained(
        tmp_path / "gpt2"
    )
    with pytest.raises(StudentLoadError, match="not a bare encoder"):
        load_student(
            {"name_or_path": str(tmp_path / "gpt2"), "family": "encoder", "tokenizer": "byt5"}
        )
