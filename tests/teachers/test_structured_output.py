"""Structured output: a strict JSON schema with the task's labels, sent as
``response_format`` or vLLM's ``guided_json``, stepping down to JSON mode and then free text
when the server refuses it, with every fallback counted (stub server over real HTTP)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.teachers.helpers import NLI_TASK, TEST_KEY, nli_answer, openai_config, spec
from zeroshot_distill.tasks.parsing import parse_answer
from zeroshot_distill.tasks.prompts import json_response_format
from zeroshot_distill.teachers import ChatRequest, build_teacher
from zeroshot_distill.testing.stub_server import StubServer

NLI = spec(NLI_TASK)
SCHEMA = json_response_format(NLI)


def _requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            key=f"r{i}",
            messages=[{"role": "user", "content": f"[r{i}] premise / hypothesis"}],
            response_format=SCHEMA,
        )
        for i in range(n)
    ]


def _guided_answer(body: Mapping[str, Any]) -> str:
    if "guided_json" in body:
        return json.dumps({"rationale": "Guided decoding kept to the schema.", "answer": "neutral"})
    return str(nli_answer(body))


def test_the_schema_constrains_the_answer_to_the_label_set() -> None:
    schema = SCHEMA["json_schema"]
    assert SCHEMA["type"] == "json_schema" and schema["strict"] is True
    props = schema["schema"]["properties"]
    assert props["answer"]["enum"] == ["entailment", "neutral", "contradiction"]
    assert schema["schema"]["additionalProperties"] is False


def test_a_server_with_structured_output_gets_the_schema(tmp_path: Path) -> None:
    with StubServer(nli_answer, api_key=TEST_KEY) as server:
        teacher = build_teacher(openai_config(server.base_url, tmp_path))
        results = teacher.complete(_requests(6), stage="a", progress=False)
        bodies = [r.body for r in server.chat_requests()]
    assert all(b["response_format"] == SCHEMA for b in bodies)
    assert not any(r.extra["structured_fallback"] for r in results)
    assert all(parse_answer(NLI, r.text).status == "ok" for r in results)


@pytest.mark.parametrize(("accepted", "level"), [(("json_object",), "json_object"), ((), "off")])
def test_refusing_servers_step_down_and_every_fallback_is_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, accepted: tuple[str, ...], level: str
) -> None:
    with StubServer(nli_answer, api_key=TEST_KEY, structured=accepted) as server:
        teacher = build_teacher(openai_config(server.base_url, tmp_path, concurrency=4))
        with caplog.at_level("WARNING"):
            results = teacher.complete(_requests(8), stage="a", progress=False)
        log = server.chat_requests()
    assert all(r.status == "ok" for r in results)
    assert all(r.extra["structured_output"] == level for r in results)
    assert all(r.extra["structured_fallback"] for r in results)
    assert all(parse_answer(NLI, r.text).label is not None for r in results)
    refused = [r for r in log if r.status == 400]
    assert 1 <= len(refused) <= 8  # the first refusal steps down for every later request
    assert any("refuses structured output" in r.getMessage() for r in caplog.records)


def test_guided_json_mode_for_vllm(tmp_path: Path) -> None:
    with StubServer(_guided_answer, api_key=TEST_KEY) as server:
        config = openai_config(server.base_url, tmp_path, structured_output_mode="guided_json")
        results = build_teacher(config).complete(_requests(3), stage="a", progress=False)
        bodies = [r.body for r in server.chat_requests()]
    assert all("response_format" not in b for b in bodies)
    assert all(b["guided_json"] == SCHEMA["json_schema"]["schema"] for b in bodies)
    assert all(parse_answer(NLI, r.text).label == "neutral" for r in results)


def test_structured_output_off_sends_no_format_and_counts_no_fallback(tmp_path: Path) -> None:
    with StubServer(nli_answer, api_key=TEST_KEY, structured=()) as server:
        config = openai_config(server.base_url, tmp_path, structured_output=False)
        results = build_teacher(config).complete(_requests(3), stage="a", progress=False)
        log = server.chat_requests()
    assert all(r.status == 200 and "response_format" not in r.body for r in log)
    assert not any(r.extra.get("structured_fallback") for r in results)
