"""Response cache (modes, keys, concurrency), cost ledger, dry-run estimate, redaction."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.teachers.helpers import nli_answer, openai_config
from zeroshot_distill.teachers import ChatRequest, build_teacher
from zeroshot_distill.teachers.cache import CachedResponse, ResponseCache
from zeroshot_distill.teachers.credentials import redact, register_api_key
from zeroshot_distill.testing.stub_server import StubServer


def request(i: int, **kw: object) -> ChatRequest:
    return ChatRequest(key=f"r{i}", messages=[{"role": "user", "content": f"[r{i}] q"}], **kw)


def test_cache_key_covers_model_messages_and_sampling_but_not_the_row_key(
    tmp_path: Path,
) -> None:
    with StubServer(nli_answer) as server:
        config = openai_config(server.base_url, tmp_path)
        teacher = build_teacher(config)
        teacher.complete([request(0)], stage="a", progress=False)
        renamed = ChatRequest(key="other-id", messages=request(0).messages)
        assert teacher.complete([renamed], stage="a", progress=False)[0].cached
        for variant in (
            request(0, max_tokens=9),
            request(0, temperature=0.5),
            request(0, response_format={"type": "json_object"}),
            request(0, seed=3),
        ):
            assert not teacher.complete([variant], stage="a", progress=False)[0].cached
        other_model = build_teacher(
            {
                **config,
                "model": "gpt-4o",
                "prices": {"gpt-4o": {"input_per_1m": 1, "output_per_1m": 1}},
            }
        )
        assert not other_model.complete([request(0)], stage="a", progress=False)[0].cached
        assert len(server.chat_requests()) == 6


def test_read_only_and_off_modes(tmp_path: Path) -> None:
    with StubServer(nli_answer) as server:
        config = openai_config(server.base_url, tmp_path)
        build_teacher(config).complete([request(0)], stage="a", progress=False)
        read_only = build_teacher({**config, "cache": {**config["cache"], "mode": "read_only"}})
        results = read_only.complete([request(0), request(1)], stage="a", progress=False)
        assert [r.cached for r in results] == [True, False]
        assert len(ResponseCache(tmp_path / "cache.sqlite")) == 1  # read_only wrote nothing
        off = build_teacher({**config, "cache": {"mode": "off", "path": str(tmp_path / "x.db")}})
        assert not off.complete([request(0)], stage="a", progress=False)[0].cached
        assert not (tmp_path / "x.db").exists()
        missing = build_teacher(
            {**config, "cache": {"mode": "read_only", "path": str(tmp_path / "none.db")}}
        )
        assert not missing.complete([request(0)], stage="a", progress=False)[0].cached


def test_cache_is_safe_with_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    caches = [ResponseCache(path) for _ in range(2)]  # two "processes"
    errors: list[BaseException] = []

    def write(cache: ResponseCache, worker: int) -> None:
        try:
            for i in range(100):
                key = f"w{worker}-{i}"
                response = CachedResponse(key, "text", "ok", 1, 1, 0.0, 0.0, {})
                cache.put_many([(key, "openai", "m", response)])
                assert key in cache.get_many([key])
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=write, args=(caches[w % 2], w)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ResponseCache(path)) == 400


def test_ledger_per_stage_and_dry_run_estimate(tmp_path: Path) -> None:
    with StubServer(nli_answer) as server:
        teacher = build_teacher(openai_config(server.base_url, tmp_path))
        estimate = teacher.estimate([request(i) for i in range(4)])
        assert server.requests == []  # a dry run sends nothing
        assert estimate.n_to_send == 4 and estimate.usd_max >= estimate.usd_expected > 0
        teacher.complete([request(0), request(1)], stage="prompt_optimization", progress=False)
        teacher.complete([request(i) for i in range(4)], stage="annotation", progress=False)
        spend = teacher.spend()
        opt, ann = spend["stages"]["prompt_optimization"], spend["stages"]["annotation"]
        assert (opt["sent"], ann["sent"], ann["cache_hits"]) == (2, 2, 2)
        assert ann["saved_usd"] == pytest.approx(opt["cost_usd"])
        assert spend["total"]["cost_usd"] == pytest.approx(opt["cost_usd"] + ann["cost_usd"])
        assert spend["run_spent_usd"] == pytest.approx(spend["total"]["cost_usd"])
        later = teacher.estimate([request(i) for i in range(6)])
        assert (later.n_cached, later.n_to_send) == (4, 2)
        assert later.usd_saved_by_cache == pytest.approx(spend["total"]["cost_usd"])


def test_redact_removes_registered_and_key_shaped_secrets() -> None:
    register_api_key("openai", "abc-very-secret-123")
    text = "key abc-very-secret-123 and sk-proj-AAAAbbbbCCCC1234 and sk-abc***xyz9"
    cleaned = redact(text, "sk-proj-AAAAbbbbCCCC1234")
    assert "abc-very-secret-123" not in cleaned and "AAAAbbbb" not in cleaned
    assert "xyz9" not in cleaned
