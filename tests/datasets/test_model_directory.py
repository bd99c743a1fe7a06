"""The versioned model-directory dataset: save two versions, load the latest or a given one."""

from __future__ import annotations

import json

import pytest
import torch
from kedro.io import DatasetError, Version
from kedro.io.core import generate_timestamp

from zeroshot_distill.datasets import ModelDirectoryDataset
from zeroshot_distill.students import StudentBundle, load_student

ARCH = {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1}


def _bundle(seed: int, **info) -> StudentBundle:
    bundle = load_student({"architecture": ARCH}, seed=seed)
    bundle.info.update(info)
    return bundle


def _same_weights(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_two_versions_load_latest_and_a_given_one(tmp_path):
    filepath = str(tmp_path / "student_model")
    first, second = _bundle(1, run="first"), _bundle(2, run="second")
    v1, v2 = "2024-01-01T00.00.00.000Z", "2024-01-02T00.00.00.000Z"
    ModelDirectoryDataset(filepath=filepath, version=Version(None, v1)).save(first)
    ModelDirectoryDataset(filepath=filepath, version=Version(None, v2)).save(second)
    assert (tmp_path / "student_model" / v1 / "student_model" / "config.json").exists()

    latest = ModelDirectoryDataset(filepath=filepath, version=Version(None, None)).load()
    assert latest.info["run"] == "second" and _same_weights(latest.model, second.model)
    older = ModelDirectoryDataset(filepath=filepath, version=Version(v1, None)).load()
    assert older.info["run"] == "first" and _same_weights(older.model, first.model)
    assert older.tokenizer("abc")["input_ids"] == first.tokenizer("abc")["input_ids"]


def test_a_version_is_never_overwritten(tmp_path):
    version = Version(None, generate_timestamp())
    dataset = ModelDirectoryDataset(filepath=str(tmp_path / "m"), version=version)
    dataset.save(_bundle(1))
    with pytest.raises(DatasetError, match="must not exist"):
        ModelDirectoryDataset(filepath=str(tmp_path / "m"), version=version).save(_bundle(2))


def test_unversioned_save_load_exists_and_describe(tmp_path):
    dataset = ModelDirectoryDataset(filepath=str(tmp_path / "plain"))
    assert not dataset.exists()
    dataset.save(_bundle(3, best_valid_accuracy=0.5))
    assert dataset.exists()
    assert dataset.load().info["best_valid_accuracy"] == 0.5
    assert "plain" in str(dataset)


def test_preview_is_json_with_config_and_size(tmp_path):
    dataset = ModelDirectoryDataset(filepath=str(tmp_path / "m"), version=Version(None, None))
    dataset.save(_bundle(4, num_parameters=123))
    preview = ModelDirectoryDataset(
        filepath=str(tmp_path / "m"), version=Version(None, None)
    ).preview()
    data = json.loads(preview)
    assert data["model_type"] == "t5"
    assert data["config"]["d_model"] == 16
    assert data["size_mb"] > 0
    assert data["training_info"]["num_parameters"] == 123
    # kedro-viz picks the renderer from the return annotation's name.
    assert ModelDirectoryDataset.preview.__annotations__["return"] in ("JSONPreview", "str")


def test_saving_something_else_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="StudentBundle"):
        ModelDirectoryDataset(filepath=str(tmp_path / "m")).save({"model": None})


def test_loading_a_missing_version_is_an_error(tmp_path):
    with pytest.raises(DatasetError):
        ModelDirectoryDataset(filepath=str(tmp_path / "none"), version=Version(None, None)).load()
