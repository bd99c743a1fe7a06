"""The ``openai`` backend against a real HTTP stub server: faults, cache, resume, budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.teachers.helpers import NLI_LABELS, TEST_KEY, nli_answer, openai_config, row_id, spec
from zeroshot_distill.tasks.parsing import parse_answer
from zeroshot_distill.teachers import (
    BudgetExceededError,
    ChatRequest,
    TeacherConfigError,
    TeacherFatalError,
    build_teacher,
)
from zeroshot_distill.teachers.cache import ResponseCache
from zeroshot_distill.testing.stub_server import FaultRule, StubReply, StubServer

NLI = spec()


def requests_for(n: int, *, prefix: str = "") -> list[ChatRequest]:
    return [
        ChatRequest(
            key=f"r{i}",
            messages=[{"role": "user", "content": f"{prefix}[r{i}] Premise and hypothesis {i}."}],
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_every_fault_ends_in_a_label_or_an_explicit_status(tmp_path: Path, transport: str) -> None:
    def answer(body: dict) -> str | StubReply:
        rid = row_id(body)
        if rid == "r11":
            return "It is hard to say anything about this pair of sentences."
        if rid == "r12":
            return "Answer: neutral"
        return nli_answer(body)

    faults = [
        FaultRule("rate_limit", match="[r1]", retry_after_s=0.4),
        FaultRule("server_error", match="[r2]"),
        FaultRule("server_error", match="[r3]", times=None),
        FaultRule("hang", match="[r4]", hang_s=5),
        FaultRule("malformed", match="[r5]"),
        FaultRule("malformed", match="[r6]", times=None),
        FaultRule("truncated", match="[r7]"),
        FaultRule("refusal", match="[r8]"),
        FaultRule("content_filter", match="[r9]"),
        FaultRule("no_usage", match="[r10]"),
    ]
    expected = {
        "r0": "ok", "r1": "ok", "r2": "ok", "r3": "error", "r4": "ok", "r5": "ok",
        "r6": "error", "r7": "truncated", "r8": "refused", "r9": "refused", "r10": "ok",
        "r11": "no_label", "r12": "no_rationale",
    }  # fmt: skip
    with StubServer(answer, faults=faults) as server:
        config = openai_config(
            server.base_url,
            tmp_path,
            timeout_s=0.6,
            max_retries=2,
            malformed_retries=1,
            http_client=transport,
        )
        with build_teacher(config) as teacher:
            results = teacher.complete(requests_for(13), stage="test", progress=False)
        log = server.chat_requests()
    statuses = {}
    for result in results:
        parsed = parse_answer(
            NLI, result.text, status=result.status, finish_reason=result.extra.get("finish_reason")
        )
        statuses[result.key] = parsed.status
        if parsed.status == "ok":
            assert parsed.label == NLI_LABELS[int(result.key[1:]) % 3]
    assert statuses == expected
    by_key = {r.key: r for r in results}
    assert "HTTP 500" in by_key["r3"].error
    assert "malformed" in by_key["r6"].error
    assert by_key["r10"].extra.get("usage_estimated") is True
    # 429 honoured Retry-After: the retry came no sooner than 0.4 s after the refusal.
    r1 = [r for r in log if "[r1]" in r.prompt]
    assert [r.status for r in r1] == [429, 200]
    assert r1[1].started - r1[0].finished >= 0.35
    # r3 was tried 1 + max_retries times, r6 1 + malformed_retries times.
    assert sum("[r3]" in r.prompt for r in log) == 3
    assert sum("[r6]" in r.prompt for r in log) == 2


def test_rerun_sends_nothing_already_answered(tmp_path: Path) -> None:
    with StubServer(nli_answer, faults=[FaultRule("server_error", match="[r3]", times=None)]) as s:
        config = openai_config(s.base_url, tmp_path, max_retries=0)
        first = build_teacher(config).complete(requests_for(8), stage="a", progress=False)
        n_first = len(s.chat_requests())
        teacher = build_teacher(config)
        second = teacher.complete(requests_for(8), stage="a", progress=False)
        resent = s.prompts()[n_first:]
    assert n_first == 8
    assert [r.status for r in first].count("error") == 1
    # Only the failed row is asked again; the others come from the cache, for free.
    assert len(resent) == 1 and "[r3]" in resent[0]
    cached = [r for r in second if r.key != "r3"]
    assert all(r.cached and r.cost_usd == 0.0 for r in cached)
    assert teacher.spend()["stages"]["a"]["saved_usd"] == pytest.approx(
        sum(r.cost_usd for r in first if r.key != "r3")
    )


def test_identical_requests_are_sent_once_at_temperature_zero(tmp_path: Path) -> None:
    with StubServer(nli_answer) as server:
        teacher = build_teacher(openai_config(server.base_url, tmp_path))
        same = requests_for(1) * 3
        results = teacher.complete(same, stage="a", progress=False)
        assert len(server.chat_requests()) == 1
        sampled = [
            ChatRequest(key=f"s{i}", messages=same[0].messages, temperature=0.7) for i in range(3)
        ]
        teacher.complete(sampled, stage="b", progress=False)
        assert len(server.chat_requests()) == 4  # three distinct samples
        teacher.complete(sampled, stage="b", progress=False)
        assert len(server.chat_requests()) == 4  # and all three are cached
    assert [r.text for r in results] == [results[0].text] * 3


_CHILD = """
import json, sys
from zeroshot_distill.teachers import ChatRequest, build_teacher
config, n = json.loads(sys.argv[1]), int(sys.argv[2])
def message(i):
    return [{"role": "user", "content": f"[r{i}] Premise and hypothesis {i}."}]
requests = [ChatRequest(key=f"r{i}", messages=message(i)) for i in range(n)]
print("ready", flush=True)
build_teacher(config).complete(requests, stage="annotation", progress=False)
"""


def test_a_run_killed_half_way_resumes_with_only_the_missing_rows(tmp_path: Path) -> None:
    n = 40
    with StubServer(nli_answer, latency_s=0.05) as server:
        config = openai_config(server.base_url, tmp_path, concurrency=2)
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(config), str(n)],
            stdout=subprocess.PIPE,
            env={**os.environ, "ZD_TEST_API_KEY": TEST_KEY},
        )
        deadline = time.monotonic() + 30
        while len(server.chat_requests()) < n // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        child.kill()  # SIGKILL: no cleanup, no flush
        child.wait()
        time.sleep(0.1)  # in-flight handlers finish
        sent_before = {row_id(r.body) for r in server.chat_requests()}
        stored = len(ResponseCache(tmp_path / "cache.sqlite"))
        server.reset_log()
        results = build_teacher(config).complete(requests_for(n), stage="x", progress=False)
        resent = [row_id(r.body) for r in server.chat_requests()]
    assert n // 2 <= len(sent_before) < n
    assert 0 < stored < n
    # The resumed run sends exactly the rows without a stored answer, each once.
    assert len(resent) == n - stored == len(set(resent))
    assert len(set(resent) & sent_before) <= len(sent_before) - stored  # only unfinished ones
    assert all(r.status == "ok" for r in results)
    assert sum(r.cached for r in results) == stored


def test_budget_stops_before_crossing_and_resume_sends_the_rest(tmp_path: Path) -> None:
    def answer(body: dict) -> StubReply:
        return StubReply(text=str(nli_answer(body)), prompt_tokens=10, completion_tokens=10)

    prices = {"gpt-4o-mini": {"input_per_1m": 100.0, "output_per_1m": 100.0}}  # $0.002 a call
    with StubServer(answer) as server:
        config = openai_config(
            server.base_url, tmp_path, prices=prices, max_tokens=20, max_cost_usd=0.01
        )
        teacher = build_teacher(config)
        with pytest.raises(BudgetExceededError) as err:
            teacher.complete(requests_for(10), stage="annotation", progress=False)
        answered = len(server.chat_requests())
        spent = teacher.spend()["run_spent_usd"]
        message = str(err.value)
        assert 0 < answered < 10
        assert spent <= 0.01
        assert spent == pytest.approx(0.002 * answered)
        assert "max_cost_usd=$0.0100" in message and "stage 'annotation'" in message
        assert "To resume" in message and "teacher.max_cost_usd" in message
        assert sum(r is not None for r in err.value.results) == answered
        # More budget: only the missing rows are sent.
        more = build_teacher({**config, "max_cost_usd": 1.0})
        results = more.complete(requests_for(10), stage="annotation", progress=False)
        assert len(server.chat_requests()) == 10
    assert sum(r.cached for r in results) == answered


def test_zero_budget_refuses_at_once_but_serves_the_cache(tmp_path: Path) -> None:
    with StubServer(nli_answer) as server:
        config = openai_config(server.base_url, tmp_path)
        build_teacher(config).complete(requests_for(2), stage="a", progress=False)
        broke = build_teacher({**config, "max_cost_usd": 0.0})
        assert all(r.cached for r in broke.complete(requests_for(2), stage="a", progress=False))
        with pytest.raises(BudgetExceededError, match="2 distinct requests were not sent"):
            broke.complete(requests_for(4), stage="a", progress=False)
        assert len(server.chat_requests()) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_key_env": "ZD_NOT_SET_ANYWHERE"}, "needs an API key and none was found"),
        ({"model": "gpt-9-ultra"}, "'gpt-9-ultra' is not in the price table"),
        ({"max_cost_usd": -1}, "teacher.max_cost_usd: Value error, must be >= 0"),
        ({"max_cost_usd": 5, "max_tokens": None}, "needs max_tokens"),
        ({"backend": "openia"}, "teacher.backend"),
        ({"concurency": 3}, "teacher.concurency: Extra inputs are not permitted"),
        ({"cache": {"mode": "sometimes"}}, "teacher.cache.mode"),
    ],
)
def test_bad_configuration_fails_before_any_request(
    tmp_path: Path, overrides: dict, message: str
) -> None:
    with StubServer(nli_answer) as server:
        with pytest.raises(TeacherConfigError, match=message.replace("(", r"\(")):
            build_teacher(openai_config(server.base_url, tmp_path, **overrides))
        assert server.requests == []


def test_a_rejected_key_stops_the_run_without_leaking_it(tmp_path: Path) -> None:
    with StubServer(nli_answer, api_key="sk-the-right-one-000") as server:
        teacher = build_teacher(openai_config(server.base_url, tmp_path, max_retries=0))
        with pytest.raises(TeacherFatalError, match="HTTP 401") as err:
            teacher.complete(requests_for(20), stage="a", progress=False)
        assert TEST_KEY not in str(err.value)
        assert len(server.chat_requests()) < 20


def test_json_mode_and_bounded_concurrency(tmp_path: Path) -> None:
    with StubServer(nli_answer, latency_s=0.05) as server:
        config = openai_config(server.base_url, tmp_path, concurrency=3)
        requests = [
            ChatRequest(key=r.key, messages=r.messages, response_format={"type": "json_object"})
            for r in requests_for(12)
        ]
        results = build_teacher(config).complete(requests, stage="a", progress=False)
        log = server.chat_requests()
    assert all(r.body["response_format"] == {"type": "json_object"} for r in log)
    assert all(parse_answer(NLI, r.text).status == "ok" for r in results)
    events = sorted([(r.started, 1) for r in log] + [(r.finished, -1) for r in log])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak <= 3
    assert all(r.authorized for r in log)


def test_credentials_entry_wins_and_the_key_never_reaches_disk_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zeroshot_distill.teachers.credentials import register_api_key

    secret = "sk-cred-entry-7Yq2Lz9"
    monkeypatch.delenv("ZD_TEST_API_KEY")
    register_api_key("my_openai", secret)
    caplog.set_level("DEBUG")
    with StubServer(nli_answer, api_key=secret) as server:
        config = openai_config(server.base_url, tmp_path, credentials="my_openai")
        teacher = build_teacher(config)
        results = teacher.complete(requests_for(3), stage="a", progress=False)
        assert all(r.status == "ok" for r in results)
        assert all(r.authorized for r in server.chat_requests())
        teacher.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in caplog.text
    assert secret not in json.dumps(teacher.spend())
