"""Credentials from Kedro config through the hook; the env var as the other source."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from zeroshot_distill.teachers import TeacherConfig, TeacherConfigError
from zeroshot_distill.teachers.credentials import resolve_api_key
from zeroshot_distill.teachers.hooks import TeacherRunHook
from zeroshot_distill.teachers.ledger import run_budget

CONFIG = {
    "backend": "openai",
    "model": "gpt-4o-mini",
    "api_key_env": "ZD_UNSET_KEY_VAR",
    "credentials": "openai",
    "prices": {"gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.6}},
}


def context(credentials: dict) -> SimpleNamespace:
    return SimpleNamespace(params={"teacher": CONFIG}, config_loader={"credentials": credentials})


def test_hook_registers_the_credentials_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZD_UNSET_KEY_VAR", raising=False)
    config = TeacherConfig.from_params(CONFIG)
    with pytest.raises(TeacherConfigError, match=r"conf/local/credentials\.yml"):
        resolve_api_key(config)
    TeacherRunHook().after_context_created(context({"openai": {"api_key": "sk-from-yml-123"}}))
    assert resolve_api_key(config) == "sk-from-yml-123"


def test_env_var_and_keyless_local_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZD_UNSET_KEY_VAR", "sk-from-env-456")
    assert resolve_api_key(TeacherConfig.from_params(CONFIG)) == "sk-from-env-456"
    monkeypatch.delenv("ZD_UNSET_KEY_VAR")
    local = TeacherConfig.from_params({**CONFIG, "require_api_key": False})
    assert resolve_api_key(local) == "not-needed"
    TeacherRunHook().after_context_created(context({}))  # no entry: nothing happens


def test_hook_resets_the_run_budget() -> None:
    run_budget().add(1.5)
    TeacherRunHook().before_pipeline_run({}, None, None)
    assert run_budget().spent_usd == 0.0
