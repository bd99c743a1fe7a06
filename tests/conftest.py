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

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (holds conf/, data/, src/)."""
    return PROJECT_ROOT


@pytest.fixture(autouse=True)
def _no_mlflow_run_left_active() -> Iterator[None]:
    """End any MLflow run a test left on the fluent API's stack.

    kedro-mlflow marks its run FINISHED at the end of a session, but MLflow's (thread-local)
    active-run stack can still hold it; a second in-process session would then log into the
    first project's run. One `kedro run` per process, as on the CLI, never sees this.
    """
    yield
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()
