"""Test-wide settings: offline, no telemetry, few threads (CI has 2 cores)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models run several times faster on 1 thread than 2 on a 2-core machine (measured).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.teachers.helpers import TEST_KEY
from zeroshot_distill.teachers.credentials import forget_api_keys
from zeroshot_distill.teachers.ledger import run_budget

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (holds conf/, data/, src/)."""
    return PROJECT_ROOT


@pytest.fixture(autouse=True)
def _isolated_mlflow_state() -> Iterator[None]:
    """Leave MLflow's process-wide fluent state as the test found it.

    An in-process Kedro session (kedro-mlflow) sets the tracking URI and the active
    experiment of the fluent API, and MLflow's (thread-local) active-run stack can still hold
    the session's FINISHED run. A later test would then log into another project's store or
    an experiment id that its store lacks. One `kedro run` per process, as on the CLI, never
    sees this. MLflow has no public reset, hence the private attributes.
    """
    import mlflow
    from mlflow.tracking import _tracking_service, fluent

    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    fluent._active_experiment_id = None
    _tracking_service.utils._tracking_uri = None
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        os.environ.pop(variable, None)


@pytest.fixture(autouse=True)
def _fresh_teacher_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh run budget and API-key store (process-wide teacher state) for every test."""
    run_budget().reset()
    forget_api_keys()
    monkeypatch.setenv("ZD_TEST_API_KEY", TEST_KEY)
    yield
    run_budget().reset()
    forget_api_keys()
