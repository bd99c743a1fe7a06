"""``make serve``: which student is served, and a served tiny student over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.project_copy import PROJECT_ROOT
from zeroshot_distill.serving import NoStudentError, resolve_model, serve_command
from zeroshot_distill.students import StudentBundle
from zeroshot_distill.students.model import save_student
from zeroshot_distill.tasks.spec import TaskSpec


def test_student_names_resolve_to_what_mlflow_serves(tmp_path: Path) -> None:
    run_id = "0123456789abcdef0123456789abcdef"
    assert resolve_model(run_id) == f"runs:/{run_id}/student"
    assert resolve_model(f"m-{run_id}") == f"models:/m-{run_id}"
    assert resolve_model("models:/m-1") == "models:/m-1"
    mlflow_model = tmp_path / "mlflow_model"
    mlflow_model.mkdir()
    (mlflow_model / "MLmodel").write_text("flavors: {}\n")
    assert resolve_model(str(mlflow_model)) == str(mlflow_model.resolve())
    student = tmp_path / "student"
    student.mkdir()
    (student / "config.json").write_text("{}")
    (student / "training_info.json").write_text("{}")
    assert resolve_model(str(student)) == student.resolve()
    for wrong in ("no-such-thing", str(tmp_path)):
        with pytest.raises(NoStudentError):
            resolve_model(wrong)


def test_the_scoring_server_runs_with_this_interpreter() -> None:
    command = serve_command("models:/m-1", host="127.0.0.1", port=5001)
    assert command[:3] == [sys.executable, "-m", "mlflow"]
    assert command[command.index("--env-manager") + 1] == "local"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_served_student_answers_labels_and_probabilities_over_http(
    tmp_path: Path, tiny_student: StudentBundle, nli_spec: TaskSpec
) -> None:
    """A saved student folder served the way `make serve STUDENT=<folder>` does, with the
    virtual environment's bin/ NOT on PATH (MLflow starts `uvicorn` by name)."""
    tiny_student.info["task"] = "nli"  # the folder names its task; the project's conf has it
    directory = tmp_path / "student_model"
    save_student(tiny_student, directory)
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != bin_dir
        ),
        "PYTHONPATH": str(PROJECT_ROOT / "src"),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zeroshot_distill.serving",
            "--student",
            str(directory),
            "--project-dir",
            str(PROJECT_ROOT),
            "--tracking-uri",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
            "--port",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server's workers go with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, server.stdout.read().decode()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(1)
        rows = [
            {"premise": "A man sleeps on a bench.", "hypothesis": "A man is awake."},
            {"premise": "Two dogs run in a park.", "hypothesis": "Animals are outside."},
        ]
        answer = _post(f"{base}/invocations", {"dataframe_records": rows})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    predictions = answer["predictions"]
    assert len(predictions) == len(rows)
    for prediction in predictions:
        assert prediction["label"] in nli_spec.labels
        assert set(prediction["probabilities"]) == set(nli_spec.labels)
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert prediction["confidence"] == pytest.approx(
            prediction["probabilities"][prediction["label"]]
        )
