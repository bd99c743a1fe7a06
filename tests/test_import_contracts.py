"""The layers hold: the import-linter contracts in pyproject.toml pass on this source tree,
and each of them fails when its rule is broken (so a green run means something)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Runs import-linter the way `lint-imports` does (contracts read from ./pyproject.toml).
LINT = (
    "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """The contracts of ``root/pyproject.toml`` checked against ``root/src``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_source_keeps_every_import_contract() -> None:
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


# A module that breaks one rule, and the name of the contract that must catch it.
VIOLATIONS = {
    "library imports a pipeline": (
        "trainset/_violation.py",
        "from zeroshot_distill.pipelines.annotation import nodes\n",
        "Libraries never import pipelines (only the registry does) BROKEN",
    ),
    "pipeline imports another pipeline": (
        "pipelines/predict/_violation.py",
        "from zeroshot_distill.pipelines.data_processing import nodes\n",
        "A pipeline never imports another pipeline BROKEN",
    ),
    "teacher imports a student": (
        "teachers/_violation.py",
        "import zeroshot_distill.students\n",
        "Teachers and students never import each other BROKEN",
    ),
    "student imports a teacher": (
        "students/_violation.py",
        "from zeroshot_distill.teachers import base\n",
        "Teachers and students never import each other BROKEN",
    ),
    "library imports a layer above it": (
        "annotation/_violation.py",
        "from zeroshot_distill.active import loop\n",
        "Each layer imports only the layers below it (README, Development) BROKEN",
    ),
    "task imports a teacher": (
        "tasks/_violation.py",
        "from zeroshot_distill.teachers import ChatRequest\n",
        "A task never knows who answers it BROKEN",
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_contract_catches_its_violation(case: str, tmp_path: Path) -> None:
    relative, source, broken = VIOLATIONS[case]
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        PROJECT_ROOT / "src" / "zeroshot_distill",
        tmp_path / "src" / "zeroshot_distill",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "src" / "zeroshot_distill" / relative).write_text(source)
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout
