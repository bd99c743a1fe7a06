"""Named students: conf/<env>/students/<name>.yml selected by `student_name`, applied when
the training parameters are validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.project_copy import PROJECT_ROOT, copy_project
from zeroshot_distill.settings import CONFIG_LOADER_ARGS, ProjectConfigLoader
from zeroshot_distill.students import (
    TrainingConfig,
    TrainingConfigError,
    apply_student_preset,
)


def _parameters(project: Path, env: str | None = None, **runtime: object) -> dict:
    loader = ProjectConfigLoader(
        str(project / "conf"), env=env, runtime_params=runtime, **CONFIG_LOADER_ARGS
    )
    return loader["parameters"]


def test_no_student_name_leaves_training_as_written() -> None:
    params = _parameters(PROJECT_ROOT, env="test")
    assert params["student_name"] is None and params["training"]["preset"] is None
    written = {k: v for k, v in params["training"].items() if k != "preset"}
    assert apply_student_preset(params["training"]) == written


def test_t5_tiny_is_the_default_student() -> None:
    params = _parameters(PROJECT_ROOT, env="base")
    named = _parameters(PROJECT_ROOT, env="base", student_name="t5_tiny")
    assert TrainingConfig.from_params(named["training"]) == TrainingConfig.from_params(
        params["training"]
    )


def test_student_name_selects_a_preset_everywhere_training_is_read() -> None:
    params = _parameters(PROJECT_ROOT, env="test", student_name="t5_tiny_wide")
    preset = params["training"]["preset"]
    assert preset["name"] == "t5_tiny_wide"
    config = TrainingConfig.from_params(params["training"])
    assert config.student.architecture is not None
    assert config.student.architecture["d_model"] == 96
    assert config.learning_rate == pytest.approx(preset["learning_rate"])
    # keys the preset does not set keep the run's values (conf/test's max_steps etc.)
    assert config.max_steps == params["training"]["max_steps"]


def test_unknown_student_name_lists_the_known_presets_and_where_they_live() -> None:
    with pytest.raises(Exception, match="unknown student preset 'nope'") as error:
        _parameters(PROJECT_ROOT, env="test", student_name="nope")
    message = str(error.value)
    assert "students/nope.yml" in message
    assert "t5_tiny" in message and "t5_tiny_wide" in message


def test_the_preset_student_replaces_the_student_whole() -> None:
    training = {
        "student": {"name_or_path": "google/flan-t5-base", "tokenizer": "google/flan-t5-base"},
        "learning_rate": 1e-4,
        "num_epochs": 3,
        "preset": {
            "name": "tiny",
            "student": {"architecture": {"d_model": 32, "num_layers": 1}},
            "learning_rate": 5e-3,
        },
    }
    config = TrainingConfig.from_params(training)
    # Merged key by key, name_or_path and architecture would both be set (an error).
    assert config.student.name_or_path is None and config.student.tokenizer is None
    assert config.student.architecture == {"d_model": 32, "num_layers": 1}
    assert config.learning_rate == pytest.approx(5e-3)  # overridden by the preset
    assert config.num_epochs == 3  # kept from training


def test_a_bad_preset_key_is_named_with_its_file() -> None:
    training = {
        "student": {"architecture": {"d_model": 32}},
        "preset": {"name": "broken", "student": {"architecture": {"d_model": 32}}, "alpha": 2},
    }
    with pytest.raises(TrainingConfigError, match=r"training\.alpha") as error:
        TrainingConfig.from_params(training)
    assert "conf/<env>/students/broken.yml" in str(error.value)
    assert "_student_broken.alpha" in str(error.value)
    unknown = {**training, "preset": {"name": "broken", "learning_rte": 0.1}}
    with pytest.raises(TrainingConfigError, match=r"students/broken\.yml"):
        TrainingConfig.from_params(unknown)
    # A bad key of training itself is not blamed on the preset.
    with pytest.raises(TrainingConfigError) as error:
        TrainingConfig.from_params({**training, "preset": None, "alpha": 3})
    assert "students/" not in str(error.value)


def test_a_user_preset_in_conf_local(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "conf" / "local" / "students").mkdir(parents=True)
    (project / "conf" / "local" / "students" / "mine.yml").write_text(
        "_student_mine:\n  student:\n    name_or_path: /models/my-t5\n  num_epochs: 2\n"
    )
    params = _parameters(project, env="openai", student_name="mine")
    config = TrainingConfig.from_params(params["training"])
    assert config.student.name_or_path == "/models/my-t5" and config.student.architecture is None
    assert config.num_epochs == 2


def test_params_on_the_command_line_win_over_the_preset() -> None:
    params = _parameters(
        PROJECT_ROOT,
        env="test",
        student_name="t5_tiny_wide",
        training={"learning_rate": 0.01, "student": {"architecture": {"d_model": 128}}},
    )
    config = TrainingConfig.from_params(params["training"])
    assert config.learning_rate == pytest.approx(0.01)  # not the preset's learning rate
    assert config.student.architecture is not None
    assert config.student.architecture["d_model"] == 128
    assert config.student.architecture["num_layers"] == 1  # the rest of the preset's student


def test_every_bundled_preset_is_a_valid_training_block_named_in_parameters_yml() -> None:
    """Pretrained presets load by hub id (not here: offline); their parameters validate."""
    names = sorted(p.stem for p in (PROJECT_ROOT / "conf/base/students").glob("*.yml"))
    listed = (PROJECT_ROOT / "conf/base/parameters.yml").read_text()
    assert {"minilm_l6", "smollm2_135m_lora", "flan_t5_base"} <= set(names)
    for name in names:
        assert name in listed, f"conf/base/parameters.yml does not name the preset {name}"
        params = _parameters(PROJECT_ROOT, env="base", student_name=name)
        config = TrainingConfig.from_params(params["training"])
        pretrained = config.student.name_or_path is not None
        assert pretrained == (config.student.architecture is None), name
