"""LoRA students (``training.peft``): settings, wrapping, training only the adapters,
inference on the ``PeftModel``, saving/reloading/merging, and QLoRA's error path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import ByT5Tokenizer, Qwen2Config

from zeroshot_distill.students import (
    TrainingConfigError,
    generate_texts,
    label_log_probs,
    load_student,
    train_from_training_set,
)
from zeroshot_distill.students import adapters as adapters_module
from zeroshot_distill.students.adapters import (
    ADAPTER_CONFIG,
    BASE_DIR,
    AdapterError,
    PeftSettings,
    attach_adapters,
    is_adapter_model,
    merge_student,
    parameter_counts,
    resolve_target_modules,
    task_type,
)
from zeroshot_distill.students.export import main as export_main
from zeroshot_distill.students.model import StudentBundle, load_saved_student, save_student
from zeroshot_distill.students.trainer import KeepBestWeights, MultiTaskTrainer, TrainingConfig
from zeroshot_distill.tasks.spec import TaskSpec

from .conftest import LABELS, TINY_ARCHITECTURE, cue_rows

TASK = {
    "name": "nli",
    "kind": "classification",
    "description": "NLI",
    "input_fields": ["premise", "hypothesis"],
    "labels": LABELS,
}
PARAMS = {
    "student": {"architecture": TINY_ARCHITECTURE, "tokenizer": "byt5"},
    "alpha": 0.5,
    "learning_rate": 5e-3,
    "batch_size": 4,
    "num_epochs": 6,
    "eval_steps": 6,
    "logging_steps": 2,
    "early_stopping_patience": None,
    "max_rationale_length": 64,
    "precision": "fp32",
    "progress_bar": False,
}
LORA = {
    "r": 4,
    "lora_alpha": 8,
    "lora_dropout": 0.0,
    "target_modules": "all-linear",
    "modules_to_save": ["lm_head"],  # as the t5_tiny_lora preset: tied to the embeddings
}


def _training_set(spec: TaskSpec) -> pd.DataFrame:
    train = cue_rows(12, spec, prefix="train").assign(split="train")
    valid = cue_rows(9, spec, prefix="valid").assign(split="valid", rationale_target=None)
    return pd.concat([train, valid], ignore_index=True)


def _tiny_qwen2() -> StudentBundle:
    """A 1-layer decoder-only model built from a config (no part-A code needed)."""
    from transformers import AutoModelForCausalLM

    tokenizer = ByT5Tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    return StudentBundle(AutoModelForCausalLM.from_config(config), tokenizer, {"source": "x"})


def _valid_rows(spec: TaskSpec) -> pd.DataFrame:
    return cue_rows(9, spec, prefix="v")


# ---------------------------------------------------------------------------------- settings
def test_peft_defaults_to_full_fine_tuning():
    assert TrainingConfig.from_params(PARAMS).peft is None
    lora = TrainingConfig.from_params({**PARAMS, "peft": {}}).peft
    assert lora == PeftSettings() and lora.r == 8 and lora.target_modules == "auto"


@pytest.mark.parametrize(
    ("peft", "field"),
    [
        ({"r": 0}, "training.peft.r"),
        ({"quantization": "3bit"}, "training.peft.quantization"),
        ({"method": "prefix"}, "training.peft.method"),
        ({"lora_rank": 8}, "training.peft.lora_rank"),
        ({"lora_dropout": 1.5}, "training.peft.lora_dropout"),
    ],
)
def test_bad_peft_settings_name_the_field(peft, field):
    with pytest.raises(TrainingConfigError, match=field.replace(".", r"\.")):
        TrainingConfig.from_params({**PARAMS, "peft": peft})


@pytest.fixture
def no_training(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MultiTaskTrainer, "train", refuse)


def test_quantization_without_gpu_or_bitsandbytes_fails_before_training(
    no_training, nli_spec, monkeypatch, tmp_path
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(adapters_module.importlib.util, "find_spec", lambda name: None)
    save_student(load_student({"architecture": TINY_ARCHITECTURE}, seed=0), tmp_path / "base")
    params = {
        **PARAMS,
        "student": {"name_or_path": str(tmp_path / "base")},
        "peft": {"quantization": "4bit"},
    }
    with pytest.raises(TrainingConfigError) as err:
        train_from_training_set(_training_set(nli_spec), params, TASK)
    message = str(err.value)
    assert "training.peft.quantization='4bit'" in message
    assert "CUDA GPU" in message and "pip install bitsandbytes" in message
    assert "quantization: null" in message  # the way out


def test_quantization_of_a_random_init_student_is_refused(no_training, nli_spec):
    params = {**PARAMS, "peft": {"quantization": "8bit"}}
    with pytest.raises(TrainingConfigError, match=r"training\.student\.name_or_path"):
        train_from_training_set(_training_set(nli_spec), params, TASK)


# ---------------------------------------------------------------------------------- wrapping
def test_target_modules_and_task_type_follow_the_architecture(tiny_student):
    qwen = _tiny_qwen2()
    assert resolve_target_modules(tiny_student.model, "auto") == ["q", "v"]
    assert resolve_target_modules(qwen.model, "auto") == ["q_proj", "v_proj"]
    assert task_type(tiny_student.model) == "SEQ_2_SEQ_LM"
    assert task_type(qwen.model) == "CAUSAL_LM"
    unknown = torch.nn.Sequential(torch.nn.Linear(2, 2))
    unknown.config = type("Config", (), {"model_type": "no-such-model"})()
    assert resolve_target_modules(unknown, "auto") == "all-linear"
    assert resolve_target_modules(unknown, ["0"]) == ["0"]


def test_only_adapters_and_modules_to_save_train(tiny_student):
    total_before, trainable_before = parameter_counts(tiny_student.model)
    assert trainable_before == total_before
    attach_adapters(tiny_student, PeftSettings(r=2, modules_to_save=["lm_head"]))
    model = tiny_student.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or ".modules_to_save." in n for n in trainable)
    assert any(".modules_to_save." in n for n in trainable)
    total, n_trainable = parameter_counts(model)
    assert 0 < n_trainable < total
    info = tiny_student.info["peft"]
    assert info["target_modules"] == ["q", "v"] and info["task_type"] == "SEQ_2_SEQ_LM"
    assert info["base_model"] is None  # random init: saved with the student


def test_unknown_target_module_is_an_error_naming_the_field(tiny_student):
    with pytest.raises(AdapterError, match=r"training\.peft\.target_modules"):
        attach_adapters(tiny_student, PeftSettings(target_modules=["no_such_layer"]))


def test_inference_on_fresh_adapters_equals_the_base_model(tiny_student, nli_spec):
    # LoRA's B matrices start at zero: before training the PeftModel computes the base model.
    rows = _valid_rows(nli_spec)
    before = label_log_probs(tiny_student.model, tiny_student.tokenizer, nli_spec, rows)
    texts = generate_texts(
        tiny_student.model, tiny_student.tokenizer, ["abc", "a longer input"], 2,
        max_input_length=64, max_new_tokens=5,
    )  # fmt: skip
    attach_adapters(tiny_student, PeftSettings(r=2))
    after = label_log_probs(tiny_student.model, tiny_student.tokenizer, nli_spec, rows)
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert texts == generate_texts(
        tiny_student.model, tiny_student.tokenizer, ["abc", "a longer input"], 2,
        max_input_length=64, max_new_tokens=5,
    )  # fmt: skip


def test_keep_best_weights_copies_only_the_adapters(tiny_student):
    attach_adapters(tiny_student, PeftSettings(r=2))
    model = tiny_student.model
    keep = KeepBestWeights()

    class State:
        global_step = 1

    keep.on_evaluate(None, State, None, metrics={"eval_accuracy": 0.5}, model=model)
    assert keep._state and all("lora_" in k for k in keep._state)
    kept = {k: v.clone() for k, v in keep._state.items()}
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_" in name:
                parameter.add_(1.0)
    keep.restore(model)
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in kept.items())


# ---------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def lora_trained():
    spec = TaskSpec.from_params(TASK)
    torch.manual_seed(0)
    base = load_student({"architecture": TINY_ARCHITECTURE}, seed=1)
    frozen = {k: v.clone() for k, v in base.model.state_dict().items()}
    params = {**PARAMS, "peft": LORA}
    return spec, frozen, train_from_training_set(_training_set(spec), params, TASK, seed=1)


@pytest.mark.trains
def test_lora_training_changes_adapters_only_and_records_its_figures(lora_trained):
    _, frozen, result = lora_trained
    model = result.student.model
    assert is_adapter_model(model)
    base_state = adapters_module._base_state_dict(model.get_base_model())
    assert base_state.keys() == frozen.keys()
    assert all(torch.equal(base_state[k], frozen[k]) for k in frozen)  # same seed, untouched
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert any(p.abs().sum() > 0 for p in lora_b)  # trained away from their zero init
    info = result.student.info
    assert 0 < info["num_trainable_parameters"] < info["num_parameters"] / 2
    lm_head = model.get_base_model().lm_head
    assert not torch.equal(lm_head.modules_to_save["default"].weight, frozen["lm_head.weight"])
    assert info["peak_memory_mb"] >= 0 and info["peak_memory_kind"]
    assert info["peft"]["r"] == 4 and info["peft"]["merged"] is False
    train = result.history[result.history["kind"] == "train"]
    assert train["label_loss"].iloc[-1] < train["label_loss"].iloc[0]


@pytest.mark.trains
def test_saved_lora_student_reloads_with_identical_predictions(lora_trained, tmp_path):
    spec, _, result = lora_trained
    save_student(result.student, tmp_path / "student")
    assert (tmp_path / "student" / ADAPTER_CONFIG).exists()
    assert (tmp_path / "student" / BASE_DIR / "config.json").exists()  # random init: kept
    reloaded = load_saved_student(tmp_path / "student")
    assert is_adapter_model(reloaded.model)
    assert reloaded.info["peft"]["r"] == 4
    assert reloaded.info["peft"]["modules_to_save"] == ["lm_head"]
    rows = _valid_rows(spec)
    original = label_log_probs(result.student.model, result.student.tokenizer, spec, rows)
    np.testing.assert_array_equal(
        label_log_probs(reloaded.model, reloaded.tokenizer, spec, rows), original
    )
    inputs = ["predict: premise: A dog. hypothesis: no", "explain: premise: x hypothesis: y"]
    kwargs = {"max_input_length": 128, "max_new_tokens": 8}
    assert generate_texts(reloaded.model, reloaded.tokenizer, inputs, 2, **kwargs) == (
        generate_texts(result.student.model, result.student.tokenizer, inputs, 2, **kwargs)
    )

    # Merged for export: a plain model predicting the same (up to float rounding).
    export_main(["--student", str(tmp_path / "student"), "--output", str(tmp_path / "merged")])
    merged = load_saved_student(tmp_path / "merged")
    assert not is_adapter_model(merged.model)
    assert not (tmp_path / "merged" / ADAPTER_CONFIG).exists()
    assert merged.info["peft"]["merged"] is True
    np.testing.assert_allclose(
        label_log_probs(merged.model, merged.tokenizer, spec, rows), original, atol=1e-4
    )
    with pytest.raises(SystemExit, match="not empty"):
        export_main(["--student", str(tmp_path / "student"), "--output", str(tmp_path / "merged")])
    with pytest.raises(AdapterError, match="no adapters"):
        merge_student(tmp_path / "merged", tmp_path / "again")


@pytest.mark.trains
def test_merge_on_save_trains_adapters_and_returns_a_plain_model(nli_spec, tmp_path):
    params = {**PARAMS, "num_epochs": 2, "peft": {**LORA, "merge_on_save": True}}
    result = train_from_training_set(_training_set(nli_spec), params, TASK, seed=1)
    assert not is_adapter_model(result.student.model)
    assert result.student.info["peft"]["merged"] is True
    assert result.student.info["num_trainable_parameters"] < result.student.info["num_parameters"]
    save_student(result.student, tmp_path / "s")
    assert (tmp_path / "s" / "config.json").exists()
    assert not (tmp_path / "s" / ADAPTER_CONFIG).exists()


# ------------------------------------------------------------------------- saving, loading
def test_hub_base_is_referenced_not_copied(tiny_student, tmp_path):
    tiny_student.model.config._name_or_path = "some-org/tiny-t5"
    attach_adapters(tiny_student, PeftSettings(r=2))
    save_student(tiny_student, tmp_path / "s")
    assert not (tmp_path / "s" / BASE_DIR).exists()
    info = json.loads((tmp_path / "s" / "training_info.json").read_text())
    assert info["peft"]["base_model"] == "some-org/tiny-t5"


def test_local_base_directory_is_copied(tiny_student, tmp_path):
    save_student(tiny_student, tmp_path / "base")
    student = load_student({"name_or_path": str(tmp_path / "base")})
    attach_adapters(student, PeftSettings(r=2))
    assert student.info["peft"]["base_model"] is None  # a local path may vanish
    save_student(student, tmp_path / "s")
    assert (tmp_path / "s" / BASE_DIR / "config.json").exists()


def test_causal_lm_adapter_student_round_trip(tmp_path):
    student = _tiny_qwen2()
    attach_adapters(student, PeftSettings(r=2, lora_dropout=0.0))
    assert student.info["peft"]["task_type"] == "CAUSAL_LM"
    assert student.info["peft"]["target_modules"] == ["q_proj", "v_proj"]
    with torch.no_grad():  # non-zero adapters, so that the round trip has something to carry
        for name, parameter in student.model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    save_student(student, tmp_path / "s")
    reloaded = load_saved_student(tmp_path / "s")
    assert is_adapter_model(reloaded.model)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    student.model.eval()
    with torch.no_grad():
        expected = student.model(input_ids=ids).logits
        np.testing.assert_array_equal(reloaded.model(input_ids=ids).logits, expected)
        base = reloaded.model.get_base_model()
        with reloaded.model.disable_adapter():
            assert not torch.allclose(base(input_ids=ids).logits, expected)


def test_model_directory_dataset_versions_an_adapter_student(tiny_student, tmp_path):
    from zeroshot_distill.datasets import ModelDirectoryDataset

    attach_adapters(tiny_student, PeftSettings(r=2))
    dataset = ModelDirectoryDataset(filepath=str(tmp_path / "student_model"))
    dataset.save(tiny_student)
    assert dataset.exists()
    assert is_adapter_model(dataset.load().model)


def test_t5_tiny_lora_preset_is_valid_training_config():
    import yaml

    conf = Path(__file__).parents[2] / "conf" / "base"
    training = yaml.safe_load((conf / "parameters_training.yml").read_text())["training"]
    preset = yaml.safe_load((conf / "students" / "t5_tiny_lora.yml").read_text())
    assert list(preset) == ["_student_t5_tiny_lora"]
    config = TrainingConfig.from_params(
        {**training, "preset": {"name": "t5_tiny_lora", **preset["_student_t5_tiny_lora"]}}
    )
    assert config.peft is not None and config.peft.modules_to_save == ["lm_head"]
    assert config.student.architecture == training["student"]["architecture"]


def test_qlora_loads_the_base_quantized_on_the_gpu(tiny_student, tmp_path, monkeypatch):
    """The loading path where CUDA and bitsandbytes exist, with the loader recorded (this
    machine has neither: the quantized load itself is not exercised here)."""
    save_student(tiny_student, tmp_path / "base")
    calls = {}

    class Loader:
        @staticmethod
        def from_pretrained(name, **kwargs):
            calls.update(name=name, **kwargs)
            return tiny_student.model

    monkeypatch.setattr(adapters_module, "quantization_problems", lambda *args: [])
    monkeypatch.setattr(adapters_module, "_auto_class", lambda encoder_decoder: Loader)
    student = adapters_module.load_student_for_training(
        TrainingConfig.from_params(
            {**PARAMS, "student": {"name_or_path": str(tmp_path / "base"), "tokenizer": "byt5"}}
        ).student,
        PeftSettings(quantization="4bit"),
    )
    assert calls["name"] == str(tmp_path / "base") and calls["device_map"] == {"": 0}
    assert calls["quantization_config"].load_in_4bit
    assert type(student.tokenizer).__name__ == "ByT5Tokenizer"
