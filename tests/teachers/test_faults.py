"""Teacher calls under faults: an unreachable endpoint, a failing one, non-final answers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.teachers.helpers import TEST_KEY, nli_answer, openai_config
from tests.teachers.test_openai_backend import requests_for
from zeroshot_distill.teachers import BudgetExceededError, TeacherFatalError, build_teacher
from zeroshot_distill.teachers.engine import suggest_budget
from zeroshot_distill.teachers.openai_backend import connection_failure, public_url
from zeroshot_distill.testing.stub_server import FaultRule, StubReply, StubServer


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_closed_port_stops_at_once_with_one_clear_message(tmp_path: Path, transport: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1?api-key={TEST_KEY}"
    config = openai_config(url, tmp_path, max_retries=5, timeout_s=60, http_client=transport)
    started = time.perf_counter()
    with build_teacher(config) as teacher, pytest.raises(TeacherFatalError) as err:
        teacher.complete(requests_for(20), stage="annotation", progress=False)
    elapsed = time.perf_counter() - started
    message = str(err.value)
    assert elapsed < 5  # not 20 x (5 retries with back-off), not a 60 s timeout
    assert "cannot be reached" in message and "timed out" not in message
    assert f"{public_url(url)}/models" in message  # how to check it
    assert TEST_KEY not in message and "api-key" not in message


def test_a_refused_connection_is_not_a_timeout() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed")
    wrapper = RuntimeError("Cannot connect to host")
    wrapper.__cause__ = refused
    assert connection_failure(wrapper) is refused
    assert connection_failure(TimeoutError("read timed out")) is None


def test_an_endpoint_that_fails_every_request_trips_the_breaker(tmp_path: Path) -> None:
    with StubServer(nli_answer, faults=[FaultRule("server_error", times=None)]) as server:
        config = openai_config(
            server.base_url, tmp_path, max_retries=0, concurrency=2, fail_fast_after=6
        )
        with build_teacher(config) as teacher, pytest.raises(TeacherFatalError) as err:
            teacher.complete(requests_for(40), stage="annotation", progress=False)
        sent = len(server.chat_requests())
        base_url = server.base_url
    assert 6 <= sent < 40
    message = str(err.value)
    assert "the first 6 requests all failed (6x http_500)" in message
    assert "see its log" in message and base_url in message


def test_a_small_call_that_fails_entirely_is_not_a_result(tmp_path: Path) -> None:
    with StubServer(nli_answer, faults=[FaultRule("malformed", times=None)]) as server:
        config = openai_config(server.base_url, tmp_path, max_retries=0, malformed_retries=0)
        with build_teacher(config) as teacher, pytest.raises(TeacherFatalError, match="malformed"):
            teacher.complete(requests_for(3), stage="annotation", progress=False)


def test_some_errors_after_a_success_do_not_stop_the_run(tmp_path: Path) -> None:
    faults = [FaultRule("server_error", match=f"[r{i}]", times=None) for i in range(1, 12)]
    with StubServer(nli_answer, faults=faults) as server:
        config = openai_config(server.base_url, tmp_path, max_retries=0, concurrency=1)
        with build_teacher(config) as teacher:
            results = teacher.complete(requests_for(14), stage="annotation", progress=False)
    assert [r.status for r in results].count("error") == 11


@pytest.mark.parametrize("kind", ["truncated", "refusal"])
def test_a_non_final_answer_is_kept_but_asked_again_on_rerun(tmp_path: Path, kind: str) -> None:
    with StubServer(nli_answer, faults=[FaultRule(kind, match="[r1]")]) as server:
        config = openai_config(server.base_url, tmp_path)
        with build_teacher(config) as teacher:
            first = teacher.complete(requests_for(4), stage="annotation", progress=False)
        with build_teacher(config) as teacher:
            second = teacher.complete(requests_for(4), stage="annotation", progress=False)
        asked = [r.prompt for r in server.chat_requests()]
        # The good answer replaced the non-final one: a third run sends nothing.
        with build_teacher(config) as teacher:
            third = teacher.complete(requests_for(4), stage="annotation", progress=False)
    assert first[1].status in {"truncated", "refused"}
    assert second[1].status == "ok" and not second[1].cached and second[1].cost_usd > 0
    assert sum("[r1]" in p for p in asked) == 2 and len(asked) == 5  # only r1 asked again
    assert all(r.cached for r in third)


def test_reuse_statuses_serves_a_truncated_answer_as_final(tmp_path: Path) -> None:
    with StubServer(nli_answer, faults=[FaultRule("truncated", match="[r1]")]) as server:
        cache = {"path": str(tmp_path / "cache.sqlite"), "reuse_statuses": ["ok", "truncated"]}
        config = openai_config(server.base_url, tmp_path, cache=cache)
        with build_teacher(config) as teacher:
            teacher.complete(requests_for(3), stage="a", progress=False)
        with build_teacher(config) as teacher:
            again = teacher.complete(requests_for(3), stage="a", progress=False)
            estimate = teacher.estimate(requests_for(3))
        assert len(server.chat_requests()) == 3
    assert again[1].status == "truncated" and again[1].cached
    assert estimate.n_to_send == 0


def test_budget_message_suggests_a_cap_that_fits(tmp_path: Path) -> None:
    def answer(body: dict) -> StubReply:
        return StubReply(text=str(nli_answer(body)), prompt_tokens=10, completion_tokens=10)

    prices = {"gpt-4o-mini": {"input_per_1m": 100.0, "output_per_1m": 100.0}}
    with StubServer(answer) as server:
        config = openai_config(
            server.base_url, tmp_path, prices=prices, max_tokens=20, max_cost_usd=0.0103
        )
        with build_teacher(config) as teacher, pytest.raises(BudgetExceededError) as err:
            teacher.complete(requests_for(10), stage="annotation", progress=False)
    message = str(err.value)
    suggested = float(message.split("teacher.max_cost_usd=")[-1].split("`")[0])
    unsent = err.value.n_unsent  # type: ignore[attr-defined]
    worst_each = (25 * 100.0 + 20 * 100.0) / 1e6  # a generous bound on one request
    assert 0.0103 < suggested < 0.0103 + unsent * worst_each + 0.01
    assert "1.0103" not in message


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_server_that_never_answers_stops_the_call_after_two_timeouts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, transport: str
) -> None:
    """It accepts every request and answers none. Before: each request waited retries x
    timeout and the breaker needed 10 of them (a 6-minute silence at timeout_s=20); now a
    log line names the endpoint and the requests waiting, and the call stops after
    2 x timeout_s of silence, naming the endpoint."""
    timeout_s = 1.0
    with StubServer(faults=[FaultRule("hang", times=None, hang_s=4)]) as server:
        url = server.base_url
        config = openai_config(
            url,
            tmp_path,
            timeout_s=timeout_s,
            max_retries=5,
            concurrency=4,
            http_client=transport,
        )
        started = time.perf_counter()
        with (
            caplog.at_level("WARNING"),
            build_teacher(config) as teacher,
            pytest.raises(TeacherFatalError) as stopped,
        ):
            teacher.complete(requests_for(8), stage="annotation", progress=False)
        elapsed = time.perf_counter() - started
    # before: 6 attempts x 1 s per request, twice (8 requests, 4 at a time): >= 12 s
    assert elapsed < 2 * timeout_s + 3.0, f"stopped after {elapsed:.1f} s"
    message = str(stopped.value)
    assert url in message and "answered none of the 4 request(s)" in message
    assert "on_silent_endpoint: wait" in message
    waiting = [r.getMessage() for r in caplog.records if "request(s) waiting" in r.getMessage()]
    assert waiting and url in waiting[0] and "4 request(s) waiting" in waiting[0]


def test_a_server_that_ignores_max_tokens_overshoots_the_cap_by_one_round_at_most(
    tmp_path: Path,
) -> None:
    """1,506 completion tokens against max_tokens=256 (before: all requests the worst case
    admitted were sent at once, 5x the cap). Admission now uses the completions seen and
    sends at most `concurrency` requests per round, so the overshoot is bounded by them."""

    def answer(body: dict) -> StubReply:
        return StubReply(text=str(nli_answer(body)), prompt_tokens=10, completion_tokens=1506)

    prices = {"gpt-4o-mini": {"input_per_1m": 100.0, "output_per_1m": 100.0}}
    cap, concurrency = 0.5, 4
    each = (10 + 1506) * 100.0 / 1e6  # what one answer really costs
    with StubServer(answer, ignore_max_tokens=True) as server:
        config = openai_config(
            server.base_url,
            tmp_path,
            prices=prices,
            max_tokens=256,
            max_cost_usd=cap,
            concurrency=concurrency,
        )
        with build_teacher(config) as teacher, pytest.raises(BudgetExceededError):
            teacher.complete(requests_for(40), stage="annotation", progress=False)
        spent = teacher.budget.spent_usd
        sent = len(server.chat_requests())
    assert spent == pytest.approx(sent * each)
    assert spent <= cap + concurrency * each, f"${spent:.3f} spent against a ${cap} cap"


@pytest.mark.parametrize(
    ("needed", "current", "expected"),
    [(0.013, 0.0103, 0.013), (0.0121, 0.0103, 0.013), (0.001, 0.0103, 0.012), (37.2, 5, 38)],
)
def test_suggested_budget_is_round_and_sufficient(
    needed: float, current: float, expected: float
) -> None:
    assert suggest_budget(needed, current) == pytest.approx(expected)


def test_a_server_that_goes_away_mid_run_stops_the_run(tmp_path: Path) -> None:
    server = StubServer(nli_answer).start()
    config = openai_config(server.base_url, tmp_path, max_retries=0, concurrency=2)
    with build_teacher(config) as teacher:
        first = teacher.complete(requests_for(3), stage="annotation", progress=False)
        server.stop()  # answers so far succeeded: only a streak of refusals can stop it now
        with pytest.raises(TeacherFatalError, match="10 requests in a row all failed"):
            teacher.complete(requests_for(40, prefix="later "), stage="annotation", progress=False)
    assert all(r.status == "ok" for r in first)
