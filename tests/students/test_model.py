"""Building and loading students: random tiny T5, saved directories, clear offline errors."""

from __future__ import annotations

import time

import pytest
import torch

from zeroshot_distill.students import StudentConfig, StudentLoadError, load_student
from zeroshot_distill.students.model import load_saved_student, save_student

from .conftest import TINY_ARCHITECTURE


def test_random_tiny_t5_uses_the_byte_tokenizer_and_is_seeded():
    a = load_student({"architecture": TINY_ARCHITECTURE}, seed=1)
    b = load_student({"architecture": TINY_ARCHITECTURE}, seed=1)
    assert type(a.tokenizer).__name__ == "ByT5Tokenizer"
    assert a.model.config.vocab_size == len(a.tokenizer)
    assert a.model.config.decoder_start_token_id == a.tokenizer.pad_token_id
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert a.prefixes == {"predict": "predict: ", "explain": "explain: "}


def test_saved_student_loads_back_with_its_info(tmp_path, tiny_student):
    tiny_student.info["prefixes"] = {"predict": "label: ", "explain": "why: "}
    save_student(tiny_student, tmp_path / "s")
    again = load_saved_student(tmp_path / "s")
    assert again.prefixes == {"predict": "label: ", "explain": "why: "}
    for p, q in zip(tiny_student.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(p, q)
    # A saved directory is also a valid `name_or_path`.
    by_path = load_student({"name_or_path": str(tmp_path / "s")})
    assert by_path.tokenizer("abc")["input_ids"] == tiny_student.tokenizer("abc")["input_ids"]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"name_or_path": None, "architecture": None},
        {"architecture": TINY_ARCHITECTURE, "unknown": 1},
    ],
)
def test_invalid_config_is_rejected(config):
    with pytest.raises(StudentLoadError, match="invalid student config"):
        StudentConfig.from_params(config)


def test_a_checkpoint_wins_over_the_demo_architecture():
    """conf/base builds a random T5 from `architecture`; a user who sets `name_or_path`
    and nothing else gets the checkpoint, not a config error."""
    config = StudentConfig.from_params(
        {"name_or_path": "t5-small", "architecture": TINY_ARCHITECTURE}
    )
    assert config.name_or_path == "t5-small" and config.architecture is None


def test_architecture_may_not_set_tokenizer_ids():
    with pytest.raises(StudentLoadError, match="vocab_size"):
        load_student({"architecture": {**TINY_ARCHITECTURE, "vocab_size": 10}})


def test_unknown_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(StudentLoadError, match=r"(?s)no-such-org/no-such-t5.*HF_HUB_OFFLINE=1"):
        load_student({"name_or_path": "no-such-org/no-such-t5"})
    assert time.perf_counter() - started < 10


def test_missing_local_directory_is_a_clear_error(tmp_path):
    with pytest.raises(StudentLoadError, match="does not exist"):
        load_student({"name_or_path": str(tmp_path / "nowhere")})
