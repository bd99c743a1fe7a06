"""The ``openai_batch`` backend: JSONL upload, poll, download; the job id survives a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.teachers.helpers import nli_answer, openai_config
from zeroshot_distill.teachers import ChatRequest, TeacherFatalError, build_teacher
from zeroshot_distill.teachers.cache import ResponseCache
from zeroshot_distill.teachers.openai_batch import BatchPendingError
from zeroshot_distill.testing.stub_server import StubReply, StubServer


def requests_for(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(key=f"r{i}", messages=[{"role": "user", "content": f"[r{i}] item {i}"}])
        for i in range(n)
    ]


def answer(body: dict) -> StubReply:
    return StubReply(text=str(nli_answer(body)), prompt_tokens=100, completion_tokens=50)


def batch_config(base_url: str, tmp_path: Path, **batch: object) -> dict:
    return openai_config(
        base_url,
        tmp_path,
        backend="openai_batch",
        batch={"poll_interval_s": 0.02, **batch},
    )


def test_batch_answers_at_the_discount_and_caches(tmp_path: Path) -> None:
    with StubServer(answer, batch_polls=2) as server:
        teacher = build_teacher(batch_config(server.base_url, tmp_path))
        results = teacher.complete(requests_for(5), stage="annotation", progress=False)
        assert [r.status for r in results] == ["ok"] * 5
        # gpt-4o-mini: (100 * 0.15 + 50 * 0.60) / 1e6, half price in a batch
        assert results[0].cost_usd == pytest.approx((100 * 0.15 + 50 * 0.6) / 1e6 * 0.5)
        assert "Answer:" in results[0].text
        assert len(server.batches) == 1
        again = build_teacher(batch_config(server.base_url, tmp_path))
        assert all(r.cached for r in again.complete(requests_for(5), stage="a", progress=False))
        assert len(server.batches) == 1
    jobs = ResponseCache(tmp_path / "cache.sqlite").batch_jobs()
    assert [j.state for j in jobs] == ["collected"]


def test_a_crash_while_waiting_resumes_the_same_job(tmp_path: Path) -> None:
    with StubServer(answer, batch_polls=1000) as server:
        impatient = build_teacher(batch_config(server.base_url, tmp_path, max_wait_s=0.1))
        with pytest.raises(BatchPendingError, match="rerun the same command later") as err:
            impatient.complete(requests_for(4), stage="annotation", progress=False)
        (batch_id,) = server.batches
        assert batch_id in str(err.value)
        server.batch_polls = 0  # the job finishes at OpenAI meanwhile
        resumed = build_teacher(batch_config(server.base_url, tmp_path))
        results = resumed.complete(requests_for(4), stage="annotation", progress=False)
        assert len(server.batches) == 1  # no second job, nothing paid twice
        uploads = [r for r in server.requests if r.method == "POST" and r.path.endswith("/files")]
        assert len(uploads) == 1
    assert [r.status for r in results] == ["ok"] * 4
    assert {r.extra["batch_id"] for r in results} == {batch_id}


def test_a_server_without_the_batch_api_is_told_so_before_any_upload(tmp_path: Path) -> None:
    with StubServer(answer, batch_api=False) as server:
        teacher = build_teacher(batch_config(server.base_url, tmp_path))
        with pytest.raises(TeacherFatalError) as err:
            teacher.complete(requests_for(3), stage="annotation", progress=False)
        posted = [r for r in server.requests if r.method == "POST"]
        base_url = server.base_url
    message = str(err.value)
    assert "does not offer the Batch API" in message and "GET /files answered HTTP 404" in message
    assert "teacher.backend: openai" in message and base_url in message
    assert "bad json" not in message
    assert posted == []  # nothing uploaded
