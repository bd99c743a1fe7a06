"""Project hooks that need no Kedro session."""

from __future__ import annotations

import os
import sys

import pytest

from zeroshot_distill.hooks import prepend_interpreter_bin


def test_the_environments_tools_are_found_without_activating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `.venv/bin/kedro mlflow ui` starts `mlflow` from PATH; an unactivated shell lacks it.
    monkeypatch.setenv("PATH", "/usr/bin")
    prepend_interpreter_bin()
    prepend_interpreter_bin()
    assert os.environ["PATH"] == os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin"])
