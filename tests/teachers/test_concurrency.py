"""Several processes on one response cache: each distinct request is paid for once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.teachers.helpers import TEST_KEY, nli_answer, openai_config, row_id
from tests.teachers.test_openai_backend import requests_for
from zeroshot_distill.teachers import build_teacher
from zeroshot_distill.teachers.cache import ResponseCache
from zeroshot_distill.testing.stub_server import StubServer

_RUN = """
import json, sys
from zeroshot_distill.teachers import ChatRequest, build_teacher
config, n = json.loads(sys.argv[1]), int(sys.argv[2])
def message(i):
    return [{"role": "user", "content": f"[r{i}] Premise and hypothesis {i}."}]
requests = [ChatRequest(key=f"r{i}", messages=message(i)) for i in range(n)]
with build_teacher(config) as teacher:
    results = teacher.complete(requests, stage="annotation", progress=False)
    spent = teacher.spend()["run_spent_usd"]
print(json.dumps({
    "ok": sum(r.status == "ok" for r in results),
    "cached": sum(r.cached for r in results),
    "spent": spent,
}))
"""


def test_two_concurrent_runs_pay_for_each_distinct_request_once(tmp_path: Path) -> None:
    n = 60
    with StubServer(nli_answer, latency_s=0.05) as server:
        config = openai_config(server.base_url, tmp_path, concurrency=4)
        env = {**os.environ, "ZD_TEST_API_KEY": TEST_KEY}
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _RUN, json.dumps(config), str(n)],
                stdout=subprocess.PIPE,
                env=env,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [json.loads(child.communicate(timeout=120)[0]) for child in children]
        sent = Counter(row_id(r.body) for r in server.chat_requests())
    assert all(child.returncode == 0 for child in children)
    assert len(sent) == n and max(sent.values()) == 1  # each prompt paid once
    assert all(out["ok"] == n for out in outputs)  # and both runs got every answer
    # What one run did not send it took from the cache (for free).
    assert sum(n - out["cached"] for out in outputs) == n
    total = sum(out["spent"] for out in outputs)
    with build_teacher(config) as teacher:
        teacher.complete(requests_for(1), stage="x", progress=False)  # cached: free
        assert teacher.spend()["run_spent_usd"] == 0.0
    assert total > 0


def test_a_claim_whose_holder_stopped_renewing_expires(tmp_path: Path) -> None:
    with StubServer(nli_answer) as server:
        config = openai_config(server.base_url, tmp_path)
        cache = ResponseCache(tmp_path / "cache.sqlite")
        with build_teacher(config) as teacher:  # the key of request r0, as the teacher makes it
            key = teacher._prepare_all(requests_for(1))[0].key
        # A holder (not a session of this host's book) that will never answer or renew.
        assert cache.claim([key], "elsewhere/ghost", 1.5, ["ok"]) == {key: "mine"}
        started = time.perf_counter()
        with build_teacher(config) as teacher:
            results = teacher.complete(requests_for(2), stage="a", progress=False)
        waited = time.perf_counter() - started
        cache.close()
        assert len(server.chat_requests()) == 2
    assert results[0].status == "ok" and not results[0].cached
    assert 1.0 <= waited < 10
