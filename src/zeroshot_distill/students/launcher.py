"""Training in child processes: ``torchrun`` or ``accelerate launch`` from inside a node.

``kedro run`` under ``torchrun`` would run the whole pipeline once per rank. Instead, with
``training.launcher`` set, the training node stays one process and starts the training
entry point (:mod:`zeroshot_distill.students.train`) as a child under the launcher:

1. the node's ``training_set`` goes to a temporary parquet file and the resolved
   parameters (``training``, ``task``, ``seed``: no credentials) to a temporary JSON file;
2. ``python -m torch.distributed.run --nproc_per_node N -m zeroshot_distill.students.train
   --training-set … --params-file … --output …`` (or ``accelerate launch --config_file …``)
   runs with this interpreter; its output streams into this process's log (rank 0 as it
   is, the other ranks prefixed ``[rank r]``);
3. rank 0 alone writes the student, ``training_history.csv`` and ``training_summary.json``
   into the output directory, which this process reads back; a failed child raises
   :class:`LaunchError` with its exit code, the last lines it wrote to stderr and the
   command. The temporary files are deleted either way.

The launcher setting travels to the child with the other ``training`` parameters: the
child reads ``backend`` and ``timeout_s`` from it for its process group and never launches
anything itself (only :func:`~zeroshot_distill.students.train_student_model` does).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from zeroshot_distill.students.adapters import ADAPTER_CONFIG
from zeroshot_distill.students.model import StudentBundle, load_saved_student

logger = logging.getLogger(__name__)

#: The module the child processes run.
TRAIN_MODULE = "zeroshot_distill.students.train"
#: Files rank 0 writes next to the student in the output directory.
HISTORY_FILE = "training_history.csv"
SUMMARY_FILE = "training_summary.json"
#: Lines of the child's stderr quoted when it fails, and searched for the exception.
STDERR_TAIL_LINES = 25
STDERR_SCAN_LINES = 400
#: The level of a child's log line (the other ranks' lines start with ``[rank r] ``).
_LEVEL_PREFIX = re.compile(r"^(?:\[rank \d+\] )?(CRITICAL|ERROR|WARNING):")
#: An exception line of a traceback (torchrun prefixes ranks' lines with ``[rankN]:``).
_EXCEPTION_LINE = re.compile(
    r"^\s*(?:\[(?:rank|default)\d+\]:\s*)?((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*"
    r"(?:Error|Exception|Interrupt)): (.+)$"
)


class LaunchError(RuntimeError):
    """The training child processes failed, or the launcher cannot start them."""


class LauncherConfig(BaseModel):
    """``training.launcher``: how to start the training processes (null: in this process).

    Exactly one of

    - ``nproc_per_node``: processes on this machine under ``torchrun``
      (``torch.distributed.run``), with ``backend`` (``auto``: nccl on GPUs, else gloo),
      ``master_port`` (null: a free port) and
    - ``accelerate_config``: an ``accelerate launch --config_file`` YAML (``accelerate
      config`` writes one), which then decides processes, machines and precision.

    ``timeout_s`` (both): how long a rank waits for the others in a collective before it
    fails (the process group's timeout; torch's default is 30 min). A hung rank then ends
    the run instead of blocking it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    nproc_per_node: int | None = Field(None, ge=1)
    backend: Literal["auto", "gloo", "nccl"] = "auto"
    master_port: int | None = Field(None, ge=1, le=65535)
    timeout_s: float | None = Field(None, gt=0)
    accelerate_config: str | None = None

    @model_validator(mode="after")
    def _one_launcher(self) -> LauncherConfig:
        if (self.nproc_per_node is None) == (self.accelerate_config is None):
            raise ValueError(
                "set exactly one of `nproc_per_node` (torchrun on this machine, e.g. "
                "{nproc_per_node: 4}) and `accelerate_config` (a YAML for accelerate launch)"
            )
        if self.accelerate_config is not None and (
            self.backend != "auto" or self.master_port is not None
        ):
            raise ValueError(
                "`backend` and `master_port` go with `nproc_per_node`; with "
                "`accelerate_config` they belong in that file"
            )
        return self

    @property
    def ddp_backend(self) -> str | None:
        """The process group backend for ``TrainingArguments`` (None: accelerate's choice)."""
        return None if self.backend == "auto" else self.backend

    def command(self, train_args: list[str]) -> list[str]:
        """The child's command line: this interpreter, the launcher, the training module."""
        if self.accelerate_config is not None:
            launcher = ["-m", "accelerate.commands.launch", "--config_file"]
            launcher.append(str(Path(self.accelerate_config).expanduser()))
        else:
            launcher = ["-m", "torch.distributed.run", f"--nproc_per_node={self.nproc_per_node}"]
            if self.master_port is None:
                launcher.append("--standalone")  # one machine, a free port
            else:
                launcher += ["--nnodes=1", "--master_addr=127.0.0.1"]
                launcher.append(f"--master_port={self.master_port}")
        return [sys.executable, *launcher, "-m", TRAIN_MODULE, *train_args]

    def check_startable(self) -> None:
        """Fail before any work when the launch cannot work here."""
        if self.accelerate_config is not None:
            path = Path(self.accelerate_config).expanduser()
            if not path.is_file():
                raise LaunchError(
                    f"training.launcher.accelerate_config: {str(path)!r} does not exist "
                    f"(relative paths start at {os.getcwd()}); write one with `accelerate "
                    "config --config_file <path>` or use training.launcher.nproc_per_node"
                )
        if self.nproc_per_node is None:
            return
        available = torch.cuda.device_count()
        if self.backend == "nccl" and available < self.nproc_per_node:
            raise LaunchError(
                f"training.launcher.backend: nccl needs one GPU per process, but "
                f"nproc_per_node={self.nproc_per_node} and {available} GPU(s) are visible "
                "(set backend: gloo for CPU processes, or fewer processes)"
            )
        if 0 < available < self.nproc_per_node:  # rank r trains on GPU r
            raise LaunchError(
                f"training.launcher.nproc_per_node={self.nproc_per_node} but {available} GPU(s) "
                "are visible: each process takes its own GPU (set nproc_per_node to at most "
                f"{available}, or CUDA_VISIBLE_DEVICES='' to train on the CPU)"
            )


def train_in_child_processes(
    training_set: pd.DataFrame,
    training: Mapping[str, Any],
    task: Mapping[str, Any],
    seed: int,
    launcher: LauncherConfig,
) -> tuple[StudentBundle, pd.DataFrame, dict[str, Any]]:
    """Train under ``launcher`` in child processes; return the student rank 0 saved, its
    history and its summary (what :func:`~zeroshot_distill.students.train_from_training_set`
    returns in process)."""
    launcher.check_startable()
    # The child's progress bar would arrive here as one log line per refresh: it logs its
    # evaluations instead.
    params = {"training": {**dict(training), "progress_bar": False}, "task": dict(task)}
    params["seed"] = int(seed)
    with tempfile.TemporaryDirectory(prefix="student-launch-") as scratch:
        folder = Path(scratch)
        training_set.to_parquet(folder / "training_set.parquet", index=False)
        (folder / "params.json").write_text(json.dumps(params, default=str))
        output = folder / "student"
        command = launcher.command(
            [
                "--training-set",
                str(folder / "training_set.parquet"),
                "--params-file",
                str(folder / "params.json"),
                "--output",
                str(output),
            ]
        )
        started = time.perf_counter()
        run_streaming(command)
        elapsed = time.perf_counter() - started
        # An adapter (LoRA) student is saved as its adapter config, a plain one as its config.
        weights = ADAPTER_CONFIG if (output / ADAPTER_CONFIG).exists() else "config.json"
        missing = [
            name for name in (weights, HISTORY_FILE, SUMMARY_FILE) if not (output / name).exists()
        ]
        if missing:
            raise LaunchError(
                f"the training processes exited without error but rank 0 wrote no {missing} "
                f"to {output}\ncommand: {shlex.join(command)}"
            )
        student = load_saved_student(output)
        _materialize(student)  # the weights must not point into the folder deleted next
        history = pd.read_csv(output / HISTORY_FILE)
        summary = json.loads((output / SUMMARY_FILE).read_text())
    summary["launch_wall_time_s"] = elapsed
    student.info["launch_wall_time_s"] = elapsed
    return student, history, summary


def run_streaming(command: list[str], env: Mapping[str, str] | None = None) -> None:
    """Run ``command``, logging its stdout and stderr line by line as they come.

    Raises:
        LaunchError: with the exit code, the last lines of stderr and the command.
    """
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    logger.info("launching: %s", shlex.join(command))
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_SCAN_LINES)
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=child_env,
    ) as child:
        readers = [
            threading.Thread(target=_relay, args=(child.stdout, None), daemon=True),
            threading.Thread(target=_relay, args=(child.stderr, tail), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            returncode = child.wait()
        except BaseException:  # interrupted here: do not leave the ranks running
            child.terminate()
            child.wait()
            raise
        for reader in readers:
            reader.join()
    if returncode != 0:
        lines = list(tail)
        quoted = "\n".join(f"  | {line}" for line in lines[-STDERR_TAIL_LINES:])
        raise LaunchError(
            f"the training processes failed with exit code {returncode}"
            f"{_reason(lines)}; the last lines of their stderr:\n"
            f"{quoted or '  (nothing on stderr)'}\ncommand: {shlex.join(command)}"
        )


def _reason(lines: list[str]) -> str:
    """``: <the last exception a rank raised>``, or nothing when stderr shows none."""
    for line in reversed(lines):
        found = _EXCEPTION_LINE.match(line)
        if found and found.group(1).rsplit(".", 1)[-1] != "ChildFailedError":
            return f": {found.group(1).rsplit('.', 1)[-1]}: {found.group(2).strip()}"
    return ""


def _relay(stream: IO[str] | None, tail: collections.deque[str] | None) -> None:
    """Log each line of ``stream`` (rank 0's as they are; the others carry ``[rank r]``)."""
    if stream is None:
        return
    for raw in stream:
        line = raw.rstrip()
        if not line:
            continue
        if tail is not None:
            tail.append(line)
        # No rich markup: "[rank1]:" would read as a style tag and vanish from the log.
        logger.log(_level(line), "%s", line, extra={"markup": False})


def _level(line: str) -> int:
    """The level a child's log line carries (``WARNING:name:...``), else INFO."""
    found = _LEVEL_PREFIX.match(line)
    return int(getattr(logging, found.group(1))) if found else logging.INFO


def _materialize(student: StudentBundle) -> None:
    """Give every weight its own memory: safetensors may map the file, which is deleted
    when the node returns (harmless on Linux, not on every system)."""
    with torch.no_grad():
        for tensor in [*student.model.parameters(), *student.model.buffers()]:
            tensor.data = tensor.data.clone()
