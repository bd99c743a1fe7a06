"""End to end, as the README tells a user with their own data, endpoint and key.

The conf/local files and the commands are taken from the README's section "Your own data,
your own endpoint, your key" (placeholders replaced by the test's key, the stub server's
URL), so the test fails when the documented route breaks. The data are 40 CommonsenseQA
rows whose answers are the option text (CQA's native form); the endpoint is the project's
OpenAI-compatible stub server over real HTTP, answering with recorded gpt-3.5-turbo
answers to those questions (tests/fixtures/own_data_cqa_teacher.json). Nothing tracked in
the project copy is edited.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.project_copy import PROJECT_ROOT, copy_project, run_kedro, versions
from zeroshot_distill.testing.stub_server import StubServer, last_user_message

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-own-Qq93endToEndKey5521"
OWN_SECTION = "### Your own data, your own endpoint, your key"
SERVER_SECTION = "### vLLM, Ollama, llama.cpp, LM Studio (your own server)"
ANNOTATIONS = "data/03_primary/annotations.parquet"
EXAMPLES = "data/02_intermediate/examples.parquet"
ESTIMATE = "data/08_reporting/annotation_cost_estimate.json"


def readme_section(title: str) -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    assert title in text, f"README lost its section {title!r}"
    body = text.split(title, 1)[1]
    return body.split("\n### ", 1)[0].split("\n## ", 1)[0]


def documented_files(section: str) -> dict[str, str]:
    """``conf/local/<file>`` -> its YAML, from "`conf/local/x.yml`:" + a yaml block."""
    found = re.findall(r"`(conf/local/[\w./]+)`:\s*\n\s*```yaml\n(.*?)```", section, re.S)
    return dict(found)


def documented_commands(section: str) -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("kedro ")]


def recorded_teacher(body: dict[str, Any]) -> str:
    """Test double: the recorded gpt-3.5-turbo answer to the question in the prompt, closed
    with the answer line the project's prompt asks for ("Answer: (<letter>)")."""
    prompt = last_user_message(body)
    for question, recorded in RECORDED.items():
        if question.strip() in prompt:
            return f"{recorded['response'].strip()}\nAnswer: ({recorded_letter(question)})"
    return "I cannot tell."


def recorded_letter(question: str) -> str:
    """The one option letter the recorded answer names ("... c) oils ...")."""
    (letter,) = set(re.findall(r"(?:^|\s|\()([a-e])\)\s", RECORDED[question]["response"]))
    return letter


RECORDED: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "own_data_cqa_teacher.json").read_text()
)


def latest(project: Path, relative: str) -> Path:
    (version, *_) = versions(project, relative)[::-1]
    return project / relative / version / Path(relative).name


def no_key_anywhere(project: Path, *texts: str) -> None:
    for text in texts:
        assert KEY not in text
    for path in project.rglob("*"):
        if path.is_file() and "conf" not in path.relative_to(project).parts:
            assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_own_data_own_endpoint_key_in_conf_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    section = readme_section(OWN_SECTION)
    files = documented_files(section)
    assert set(files) >= {
        "conf/local/credentials.yml",
        "conf/local/catalog.yml",
        "conf/local/parameters.yml",
    }
    commands = documented_commands(section)
    assert len(commands) == 2 and all("--env" in " ".join(c) for c in commands)
    dry_run, annotate = commands
    assert "--to-nodes=annotation.estimate_annotation_cost" in dry_run

    project = copy_project(tmp_path / "project")
    raw_file = yaml.safe_load(files["conf/local/catalog.yml"])["raw_examples"]["filepath"]
    (project / raw_file).write_bytes((FIXTURES / "own_data_cqa.jsonl").read_bytes())
    rows = [json.loads(line) for line in (FIXTURES / "own_data_cqa.jsonl").open()]

    with StubServer(recorded_teacher, api_key=KEY, model="gpt-4o-mini") as server:
        for name, content in files.items():
            assert "sk-..." in content or name != "conf/local/credentials.yml"
            content = content.replace("sk-...", KEY)
            content = re.sub(r"base_url: \S+", f"base_url: {server.base_url}", content)
            (project / name).write_text(content)

        run_kedro(project, *dry_run)
        assert server.chat_requests() == [], "the dry run sent requests"
        estimate = json.loads(latest(project, ESTIMATE).read_text())
        assert estimate["n_to_send"] > 0 and len(estimate["largest_prompts"]) == 5

        result = run_kedro(project, *annotate)
        requests = server.chat_requests()

    # Every request reached the endpoint with the key from conf/local/credentials.yml.
    assert requests and all(r.authorized and r.status == 200 for r in requests)

    # The native CQA answers ("wooded area", any case or spacing) became the right letters.
    examples = pd.read_parquet(latest(project, EXAMPLES))
    letters = {
        r["id"]: "abcde"[[c.lower() for c in r["choices"]].index(r["answer"].strip().lower())]
        for r in rows
    }
    assert len(examples) == len(rows)
    assert dict(zip(examples["id"], examples["gold_label"], strict=True)) == letters

    annotations = pd.read_parquet(latest(project, ANNOTATIONS))
    annotated = examples[examples["split"].isin(["train", "valid"])]
    assert sorted(annotations["id"]) == sorted(annotated["id"])
    assert len(requests) == len(annotations)
    assert not annotations["simulated"].any()
    by_id = {r["id"]: recorded_letter(r["question"]) for r in rows}
    assert dict(zip(annotations["id"], annotations["teacher_label"], strict=True)) == {
        i: by_id[i] for i in annotations["id"]
    }
    assert (annotations["parse_status"] == "ok").mean() >= 0.9
    no_key_anywhere(project, result.stdout, result.stderr)


@pytest.mark.slow
def test_local_server_preset_needs_no_key_and_no_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (command, *_) = documented_commands(readme_section(SERVER_SECTION))
    assert command[:2] == ["run", "--env"] and command[2] == "local_server"

    project = copy_project(tmp_path / "project")
    own = documented_files(readme_section(OWN_SECTION))
    (project / "conf/local/catalog.yml").write_text(own["conf/local/catalog.yml"])
    (project / "conf/local/parameters.yml").write_text(
        re.sub(r"teacher:\n(  .*\n?)+", "", own["conf/local/parameters.yml"])
    )
    raw_file = yaml.safe_load(own["conf/local/catalog.yml"])["raw_examples"]["filepath"]
    (project / raw_file).write_bytes((FIXTURES / "own_data_cqa.jsonl").read_bytes())

    with StubServer(recorded_teacher, model="served-model") as server:
        args = [re.sub(r"http://localhost:\d+/v1", server.base_url, a) for a in command]
        assert any(server.base_url in a for a in args), "the README command names no base_url"
        run_kedro(project, *args, "--pipelines=data_processing,annotation")
        requests = server.chat_requests()

    assert requests and all(r.status == 200 for r in requests)
    annotations = pd.read_parquet(latest(project, ANNOTATIONS))
    assert len(annotations) == len(requests)
    assert annotations["cost_usd"].sum() == 0.0
