"""Serve a trained student over HTTP with MLflow's scoring server: ``make serve``.

::

    python -m zeroshot_distill.serving                      # the latest run's student, port 5001
    python -m zeroshot_distill.serving --student <run id>   # or a model id, a models:/ or
                                                            # runs:/ URI, an MLflow model
                                                            # folder or a saved student folder
    curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
         -d '{"dataframe_records": [{"text": "Great value, works perfectly."}]}'

It runs ``mlflow models serve -m <model> --env-manager local`` with this interpreter. That
command starts its server by the *name* ``uvicorn``, found on ``PATH``: without the virtual
environment's ``bin/`` there (not activated, ``.venv/bin/mlflow`` called by its path) the
server dies with exit code 127. So the environment's ``bin/`` goes first on the server's
``PATH`` here (:func:`prepend_interpreter_bin`, which
:class:`~zeroshot_distill.hooks.EnvironmentToolsHook` applies to ``kedro mlflow ui`` too).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5001
DEFAULT_HOST = "127.0.0.1"
#: The name the project's hook logs each trained student under (``runs:/<run id>/student``).
MODEL_NAME = "student"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


class NoStudentError(LookupError):
    """Nothing to serve: no logged student, or ``--student`` names none."""


def prepend_interpreter_bin() -> None:
    """``.venv/bin`` (the folder of ``sys.executable``) first on ``PATH``, if not there:
    tools started by name (``uvicorn``, ``mlflow``) then come from this environment."""
    bin_dir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bin_dir and bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir


def default_tracking_uri(project_dir: str | Path = ".") -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the project's ``sqlite:///<project>/mlflow.db``
    (``conf/base/mlflow.yml``)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{Path(project_dir).resolve() / 'mlflow.db'}"
    )


def latest_student_uri() -> str:
    """``models:/<id>`` of the most recently logged student in any experiment of the
    current tracking store."""
    experiments = [e.experiment_id for e in mlflow.search_experiments()]
    models = (
        mlflow.search_logged_models(
            experiment_ids=experiments,
            filter_string=f"name = '{MODEL_NAME}'",
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=1,
            output_format="list",
        )
        if experiments
        else []
    )
    if not models:
        raise NoStudentError(
            f"no student logged in {mlflow.get_tracking_uri()}: run `make run` first, or name "
            "one with STUDENT=<run id or path>"
        )
    return f"models:/{models[0].model_id}"


def is_student_directory(path: Path) -> bool:
    """A folder written by ``save_student`` (the ``student_model`` dataset's versions)."""
    return (path / "training_info.json").is_file() and any(
        (path / name).is_file() for name in ("config.json", "adapter_config.json")
    )


def resolve_model(student: str | None) -> str | Path:
    """What to serve: an MLflow model URI, or a student directory still to be wrapped.

    ``None``: the latest logged student; a run id: ``runs:/<id>/student``; a logged model id
    (``m-…``): ``models:/<id>``; a URI (``runs:/``, ``models:/``, ``file:``): as given; a folder
    with an ``MLmodel`` file: that MLflow model; a saved student folder: the folder (see
    :func:`wrap_student_directory`).
    """
    if student is None or not str(student).strip():
        return latest_student_uri()
    text = str(student).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / "MLmodel").is_file():
            return str(path.resolve())
        if is_student_directory(path):
            return path.resolve()
        raise NoStudentError(
            f"{text} is neither an MLflow model (no MLmodel file) nor a saved student "
            "(no training_info.json with config.json or adapter_config.json)"
        )
    if _RUN_ID.match(text):
        return f"runs:/{text}/{MODEL_NAME}"
    if _MODEL_ID.match(text):
        return f"models:/{text}"
    if ":/" in text:
        return text
    raise NoStudentError(f"STUDENT={text!r} is no run id, model id, model URI or existing folder")


def placeholder_example(task: Mapping[str, Any]) -> pd.DataFrame:
    """One row with the task's input fields (their names as text; two options for a
    multiple-choice field), for MLflow's input example."""
    choices = task.get("choices_field")
    fields = list(task.get("input_fields") or [])
    return pd.DataFrame([{f: ["a", "b"] if f == choices else f for f in fields}])


def task_of_student(directory: Path, project_dir: Path, env: str | None) -> dict[str, Any]:
    """The task parameters of the task a saved student was trained on (its
    ``training_info.json`` names it), read with the project's configuration."""
    from zeroshot_distill.settings import CONFIG_LOADER_ARGS, ProjectConfigLoader

    info = json.loads((directory / "training_info.json").read_text())
    name = info.get("task")
    if not name:
        raise NoStudentError(f"{directory}/training_info.json names no task")
    loader = ProjectConfigLoader(
        str(project_dir / "conf"),
        env=env,
        runtime_params={"task_name": name},
        **CONFIG_LOADER_ARGS,
    )
    return dict(loader["parameters"]["task"])


def wrap_student_directory(directory: Path, task: Mapping[str, Any], into: Path) -> str:
    """The saved student as an MLflow pyfunc model in ``into`` (what a run logs); its path."""
    from zeroshot_distill.students.pyfunc import save_student_model

    target = into / "model"
    save_student_model(directory, task, placeholder_example(task), target)
    return str(target)


def serve_command(model_uri: str, *, host: str, port: int) -> list[str]:
    """``mlflow models serve`` with this interpreter and the local environment."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        host,
        "--port",
        str(port),
    ]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m zeroshot_distill.serving",
        description="Serve a trained student over HTTP (MLflow scoring server).",
    )
    parser.add_argument(
        "--student",
        default=os.environ.get("STUDENT") or None,
        help="run id, logged model id, models:/ or runs:/ URI, MLflow model folder or saved "
        "student folder (default: the latest logged student)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--project-dir", default=".", type=Path)
    parser.add_argument("--env", default=None, help="Kedro env for a student folder's task")
    parser.add_argument("--tracking-uri", default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Resolve the student and replace this process with MLflow's scoring server."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _arguments(argv)
    tracking_uri = args.tracking_uri or default_tracking_uri(args.project_dir)
    mlflow.set_tracking_uri(tracking_uri)
    try:
        model = resolve_model(args.student)
        if isinstance(model, Path):
            task = task_of_student(model, args.project_dir.resolve(), args.env)
            model = wrap_student_directory(model, task, Path(tempfile.mkdtemp(prefix="student-")))
    except NoStudentError as error:
        sys.exit(f"make serve: {error}")
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    prepend_interpreter_bin()  # the scoring server starts `uvicorn` by name
    logger.info(
        "serving %s on http://%s:%d/invocations (health: /ping)", model, args.host, args.port
    )
    command = serve_command(str(model), host=args.host, port=args.port)
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
