"""conf/local is the one place for this machine's settings, read under every run env; keys
are never tracked, wherever under conf/ they land."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import MissingConfigException
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

from tests.project_copy import PROJECT_ROOT, copy_project
from zeroshot_distill.settings import CONFIG_LOADER_ARGS, ProjectConfigLoader
from zeroshot_distill.teachers import TeacherConfig, TeacherConfigError
from zeroshot_distill.teachers.credentials import resolve_api_key

LOCAL_KEY = "sk-local-Yy42fromLocalYml"


def _loader(project: Path, env: str | None) -> ProjectConfigLoader:
    return ProjectConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy with a key, a catalog override and one teacher parameter in conf/local."""
    project = copy_project(tmp_path / "project")
    local = project / "conf" / "local"
    (local / "credentials.yml").write_text(f"openai:\n  api_key: {LOCAL_KEY}\n")
    (local / "catalog.yml").write_text(
        "raw_examples:\n  type: pandas.JSONDataset\n"
        "  filepath: data/01_raw/my_rows.jsonl\n  load_args: {lines: true}\n"
    )
    (local / "parameters_teacher.yml").write_text(
        "teacher:\n  base_url: http://127.0.0.1:9/v1\n  concurrency: 3\n"
    )
    return project


@pytest.mark.parametrize("env", [None, "local", "openai", "local_server", "local_llm"])
def test_conf_local_is_layered_over_every_run_env(project: Path, env: str | None) -> None:
    loader = _loader(project, env)
    assert loader["credentials"]["openai"]["api_key"] == LOCAL_KEY
    assert loader["catalog"]["raw_examples"]["filepath"] == "data/01_raw/my_rows.jsonl"
    teacher = loader["parameters"]["teacher"]
    assert teacher["base_url"] == "http://127.0.0.1:9/v1"
    assert teacher["concurrency"] == 3
    # soft merge: the env's other teacher keys stay
    expected_model = {"openai": "gpt-4o-mini", "local_llm": "Qwen/Qwen2.5-1.5B-Instruct"}
    assert teacher["model"] == expected_model.get(env or "", teacher["model"])
    assert "prices" in teacher and "task" in loader["parameters"]


def test_runtime_params_still_win_over_conf_local(project: Path) -> None:
    loader = ProjectConfigLoader(
        str(project / "conf"),
        env="openai",
        runtime_params={"teacher": {"concurrency": 7}},
        **CONFIG_LOADER_ARGS,
    )
    teacher = loader["parameters"]["teacher"]
    assert teacher["concurrency"] == 7
    assert teacher["base_url"] == "http://127.0.0.1:9/v1"


def test_test_env_does_not_depend_on_the_machine(project: Path) -> None:
    loader = _loader(project, "test")
    assert loader["parameters"]["teacher"]["base_url"] is None
    assert "my_rows" not in loader["catalog"]["raw_examples"]["filepath"]


def test_no_credentials_anywhere_is_still_kedros_missing_config(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    with pytest.raises(MissingConfigException):
        _loader(project, "openai")["credentials"]


def test_key_in_conf_local_reaches_the_teacher_under_env_openai(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's route, through a real KedroSession and the project's hooks."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(project)
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="openai") as session:
        params = session.load_context().params
    config = TeacherConfig.from_params(params["teacher"])
    assert config.base_url == "http://127.0.0.1:9/v1"
    assert resolve_api_key(config) == LOCAL_KEY


def test_missing_key_error_names_the_documented_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZD_UNSET_KEY_VAR", raising=False)
    config = TeacherConfig.from_params(
        {
            "backend": "openai",
            "model": "m",
            "api_key_env": "ZD_UNSET_KEY_VAR",
            "prices": {"m": {"input_per_1m": 1, "output_per_1m": 1}},
        }
    )
    with pytest.raises(TeacherConfigError) as err:
        resolve_api_key(config)
    message = str(err.value)
    assert "conf/local/credentials.yml" in message and "ZD_UNSET_KEY_VAR" in message
    assert "every --env" in message
    # every hook the message or the docs name exists
    import zeroshot_distill.teachers.hooks as hooks

    for name in re.findall(r"\b\w+Hook\b", message):
        assert hasattr(hooks, name), name


@pytest.mark.parametrize(
    "path",
    [
        "conf/local/credentials.yml",
        "conf/openai/credentials.yml",
        "conf/base/credentials.yml",
        "conf/local_server/credentials_azure.yaml",
        "conf/some/new/env/credentials.json",
    ],
)
def test_every_credentials_file_under_conf_is_git_ignored(tmp_path: Path, path: str) -> None:
    """`git check-ignore` with the project's .gitignore in a scratch repository."""
    git = shutil.which("git")
    assert git, "git is needed to check the ignore rules"
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    shutil.copy2(PROJECT_ROOT / ".gitignore", tmp_path / ".gitignore")
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("openai: {api_key: sk-x}\n")
    result = subprocess.run(
        [git, "-C", str(tmp_path), "check-ignore", "-v", path], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{path} is not git-ignored: {result.stdout}{result.stderr}"


def test_tracked_config_stays_tracked(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    shutil.copy2(PROJECT_ROOT / ".gitignore", tmp_path / ".gitignore")
    for path in ("conf/openai/catalog.yml", "conf/local/README.md", "conf/base/mlflow.yml"):
        result = subprocess.run([git, "-C", str(tmp_path), "check-ignore", "-q", path])
        assert result.returncode == 1, f"{path} should not be ignored"


def test_local_server_preset_needs_no_key_has_no_rate_limit_and_costs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    project = copy_project(tmp_path / "project")
    params = ProjectConfigLoader(
        str(project / "conf"),
        env="local_server",
        runtime_params={"teacher": {"model": "qwen2.5:7b"}},
        **CONFIG_LOADER_ARGS,
    )["parameters"]
    config = TeacherConfig.from_params(params["teacher"])
    assert config.backend == "openai" and config.base_url
    assert config.requests_per_minute is None and config.tokens_per_minute is None
    assert resolve_api_key(config) == "not-needed"
    price = config.price()  # any model name the user serves
    assert (price.input_per_1m, price.output_per_1m) == (0, 0)
    # the catch-all never hides a missing entry of a paid model elsewhere
    with pytest.raises(TeacherConfigError, match="price table"):
        TeacherConfig.from_params({**params["teacher"], "prices": {}}).price()
    # kedro-mlflow logs every parameter under its flattened name: all valid MLflow names, so
    # it renames none of them (and warns about none)
    flattened = pd.json_normalize(params["teacher"], sep=".").columns
    names = [f"teacher.{name}" for name in flattened]
    assert "teacher.prices.any_model.input_per_1m" in names
    assert [n for n in names if mlflow_hook.sanitize_param_name(n) != n] == []


def test_task_and_own_task_spec_from_conf_local(project: Path) -> None:
    """A task spec defined in conf/local is seen by the base `task` interpolation."""
    local = project / "conf" / "local"
    (local / "tasks").mkdir()
    (local / "tasks" / "tickets.yml").write_text(
        "_task_tickets:\n  name: tickets\n  kind: classification\n"
        "  description: Route a support ticket.\n  input_fields: [text]\n"
        "  labels: [billing, bug, other]\n"
    )
    (local / "parameters.yml").write_text("task_name: tickets\n")
    for env in (None, "openai", "local_server"):
        params = _loader(project, env)["parameters"]
        assert params["task"]["labels"] == ["billing", "bug", "other"], env
    runtime = ProjectConfigLoader(
        str(project / "conf"),
        env="openai",
        runtime_params={"task_name": "commonsense_qa"},
        **CONFIG_LOADER_ARGS,
    )["parameters"]
    assert runtime["task"]["kind"] == "multiple_choice"
