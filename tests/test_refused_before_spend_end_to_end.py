"""Bad row ids and secrets in parameters stop `kedro run` before any teacher request, and the
secret reaches neither MLflow, the data, the artifacts nor the log.

Real processes: the kedro CLI in a copy of the project, the teacher an OpenAI-compatible stub
server over real HTTP (the count of chat requests it received is the spend).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.project_copy import KEDRO, copy_project, kedro_env
from zeroshot_distill.testing.stub_server import StubServer

USERINFO_SECRET = "Uu71userinfoSecret"
QUERY_SECRET = "Qq72querySecret"
PARAMS_SECRET = "sk-Pp73paramsSecret"


def local_server_project(tmp_path: Path, base_url: str) -> Path:
    """A project copy whose conf/local points the teacher at ``base_url`` (no key)."""
    project = copy_project(tmp_path / "project")
    (project / "conf/local/parameters.yml").write_text(
        yaml.safe_dump(
            {
                "teacher": {
                    "backend": "openai",
                    "model": "stub-model",
                    "base_url": base_url,
                    "require_api_key": False,
                    "credentials": None,
                    "prices": {"*": {"input_per_1m": 0, "output_per_1m": 0}},
                }
            }
        )
    )
    return project


def kedro(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KEDRO), "run", "--pipelines=data_processing,annotation", *args],
        cwd=project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def places_holding(project: Path, secret: str, output: str) -> list[str]:
    """Where ``secret`` was written: mlflow.db, files under mlartifacts/ or data/, the log."""
    found = ["log"] if secret in output else []
    files = [project / "mlflow.db"]
    for folder in ("mlartifacts", "data"):
        files += [p for p in (project / folder).rglob("*") if p.is_file()]
    found += [
        str(p.relative_to(project))
        for p in files
        if p.exists() and secret.encode() in p.read_bytes()
    ]
    return found


@pytest.mark.slow
def test_two_null_ids_stop_the_run_before_any_request_naming_both_rows(tmp_path: Path) -> None:
    """Before: 32 requests paid, then `InvalidIndexError` in summarize_annotations."""
    with StubServer() as server:
        project = local_server_project(tmp_path, server.base_url)
        raw = project / "data/01_raw/nli_sample.jsonl"
        rows = [json.loads(line) for line in raw.read_text().splitlines()][:40]
        rows[3]["id"] = None
        rows[7]["id"] = None
        raw.write_text("".join(json.dumps(r) + "\n" for r in rows))

        result = kedro(project)

        assert result.returncode != 0
        assert server.chat_requests() == []
    output = result.stdout + result.stderr
    assert "row 4 (id=" in output and "row 8 (id=" in output, output[-3000:]
    assert "missing id" in output and "unique id" in output


@pytest.mark.slow
@pytest.mark.parametrize("where", ["base_url", "params"])
def test_a_secret_in_parameters_is_refused_and_written_nowhere(tmp_path: Path, where: str) -> None:
    """Before: MLflow's params and `runtime_params` tag held the URL's credentials and a key
    passed with --params."""
    with StubServer() as server:
        args: list[str] = []
        if where == "base_url":
            host = server.base_url.replace("http://", f"http://user:{USERINFO_SECRET}@")
            project = local_server_project(tmp_path, f"{host}?key={QUERY_SECRET}")
        else:
            project = local_server_project(tmp_path, server.base_url)
            args = ["--params", f"teacher.api_key={PARAMS_SECRET}"]

        result = kedro(project, *args)

        assert result.returncode != 0
        assert server.chat_requests() == []
    output = result.stdout + result.stderr
    assert "must not hold secrets" in output and "credentials.yml" in output, output[-3000:]
    for secret in (USERINFO_SECRET, QUERY_SECRET, PARAMS_SECRET):
        assert places_holding(project, secret, output) == []
