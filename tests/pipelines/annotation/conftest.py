"""Fixtures of the teacher tests: a fresh run budget and key store, a test API key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeroshot_distill.teachers.credentials import forget_api_keys
from zeroshot_distill.teachers.ledger import run_budget

TEST_KEY = "sk-test-Zq81SECRETkey4477"


@pytest.fixture(autouse=True)
def _fresh_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_budget().reset()
    forget_api_keys()
    monkeypatch.setenv("ZD_TEST_API_KEY", TEST_KEY)
    yield
    run_budget().reset()
    forget_api_keys()
