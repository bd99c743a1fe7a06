"""Credentials from Kedro config through the hook; the env var as the other source."""

from __future__ import annotations

from pathlib import Path
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


def test_url_credentials_and_secret_named_parameters_are_found_not_names_like_max_tokens() -> None:
    from zeroshot_distill.teachers.credentials import secret_parameters

    params = {
        "teacher": {
            "base_url": "http://user:K1@host/v1?key=K2&api-version=2024",
            "api_key_env": "OPENAI_API_KEY",
            "require_api_key": True,
            "credentials": "openai",
            "max_tokens": 256,
            "tokens_per_minute": None,
            "extra_body": {"token": "t0k3n"},
        },
        "note": "sk-proj-abcdefgh12345",
        "data_processing": {"column_mapping": {"key": "id", "token": "text"}},
        "data_url": "https://example.com/data.csv?version=3",
    }
    found = dict(secret_parameters(params))
    # a source column named `token` mapped to a field is a column name, yet refused: the
    # price of never logging a value named like a secret (rename it with the source)
    assert set(found) == {
        "teacher.base_url",
        "teacher.extra_body.token",
        "note",
        "data_processing.column_mapping.token",
    }
    assert "user:password@, ?key=" in found["teacher.base_url"]


def test_redact_removes_url_credentials_from_any_text() -> None:
    from zeroshot_distill.teachers.credentials import redact

    text = "GET http://me:K1@host:8/v1/chat?api_key=K2&sig=K3&model=m failed"
    assert redact(text) == "GET http://***@host:8/v1/chat?api_key=***&sig=***&model=m failed"


def test_a_secret_in_parameters_is_refused_while_they_are_read() -> None:
    from zeroshot_distill.settings import CONFIG_LOADER_ARGS, ProjectConfigLoader
    from zeroshot_distill.teachers.credentials import SecretParameterError

    conf = Path(__file__).parents[2] / "conf"
    loader = ProjectConfigLoader(
        str(conf),
        env="test",
        runtime_params={"teacher": {"api_key": "sk-Zz99mistake"}},
        **CONFIG_LOADER_ARGS,
    )
    with pytest.raises(SecretParameterError) as refused:
        loader["parameters"]
    message = str(refused.value)
    assert "teacher.api_key (--params)" in message and "credentials.yml" in message
    assert "sk-Zz99mistake" not in message
