"""Helpers for end-to-end tests: a throw-away copy of the project and the kedro CLI in it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.executable).with_name("kedro")


def copy_project(destination: Path) -> Path:
    """Copy what a run needs (config, bundled raw data, project metadata) into ``destination``.

    The package itself is imported from the installed (editable) source, as after
    ``make install``. ``conf/local`` starts empty, as in a fresh clone.
    """
    destination.mkdir(parents=True, exist_ok=True)
    # Kedro wants a source folder inside the project; the package itself is imported from
    # the installed (editable) checkout, so an empty folder will do.
    (destination / "src").mkdir()
    for name in ("pyproject.toml", ".telemetry", "README.md"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy2(PROJECT_ROOT / name, destination / name)
    shutil.copytree(
        PROJECT_ROOT / "conf",
        destination / "conf",
        ignore=lambda d, names: [n for n in names if Path(d).name == "local" and n != ".gitkeep"],
    )
    for layer in sorted((PROJECT_ROOT / "data").iterdir()):
        target = destination / "data" / layer.name
        if layer.name == "01_raw":
            shutil.copytree(layer, target)
        else:
            target.mkdir(parents=True, exist_ok=True)
    return destination


def kedro_env() -> dict[str, str]:
    """The environment for a kedro subprocess: offline, no telemetry, few threads."""
    env = dict(os.environ)
    env.update(
        {
            "KEDRO_DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        }
    )
    return env


def run_kedro(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``kedro <args>`` in ``project``; fail with its output if it fails."""
    result = subprocess.run(
        [str(KEDRO), *args],
        cwd=project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} failed ({result.returncode}):\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def versions(project: Path, relative: str) -> list[str]:
    """Timestamped version folders of a versioned dataset, oldest first."""
    folder = project / relative
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def mlflow_query(project: Path, sql: str, *params: object) -> list[tuple]:
    """Run a read-only query against the project's MLflow SQLite store."""
    with sqlite3.connect(project / "mlflow.db") as db:
        return db.execute(sql, params).fetchall()
