"""Train a student outside Kedro, e.g. on several GPUs with ``torchrun``.

Reads the same parameters a ``kedro run`` would (``conf/base`` + ``--env``), or a JSON
file with ``training``, ``task`` and ``seed`` (``--params-file``: what the training node
writes when ``training.launcher`` is set), and a ``training_set`` parquet file; trains with
:func:`train_from_training_set` and writes the student (``save_pretrained`` +
``training_info.json``), ``training_history.csv`` and ``training_summary.json`` from the
main process (rank 0) alone::

    python -m zeroshot_distill.students.train \\
        --training-set data/05_model_input/training_set.parquet/<version>/training_set.parquet \\
        --output data/06_models/manual_student

    # data parallel on 4 GPUs, no code change:
    torchrun --nproc_per_node=4 -m zeroshot_distill.students.train --env openai \\
        --training-set ... --output ...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any


def load_parameters(
    conf_source: Path, env: str | None, runtime_params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The project's parameters for ``env``, resolved like ``kedro run --env`` does."""
    from zeroshot_distill import settings

    loader = settings.CONFIG_LOADER_CLASS(
        str(conf_source),
        env=env,
        runtime_params=runtime_params or {},
        **settings.CONFIG_LOADER_ARGS,
    )
    return dict(loader["parameters"])


def parse_params(text: str) -> dict[str, Any]:
    """``"a.b=1,task_name=svamp"`` -> ``{"a": {"b": 1}, "task_name": "svamp"}`` (like kedro)."""
    import yaml

    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--params expects key=value pairs, got {item!r}")
        *parents, leaf = key.strip().split(".")
        node = params
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = yaml.safe_load(value)
    return params


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, train, save from the main process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--training-set", type=Path, required=True, help="a training_set parquet")
    parser.add_argument("--output", type=Path, required=True, help="directory for the student")
    parser.add_argument("--conf", type=Path, default=None, help="the project's conf/ (./conf)")
    parser.add_argument("--env", default=None, help="a Kedro run environment, e.g. openai")
    parser.add_argument(
        "--params", default=None, help="runtime parameters like kedro's, e.g. task_name=svamp"
    )
    parser.add_argument(
        "--params-file",
        type=Path,
        default=None,
        help="JSON with `training`, `task` and `seed` instead of --conf/--env/--params",
    )
    args = parser.parse_args(argv)
    if args.params_file is not None and (
        args.conf is not None or args.env is not None or args.params is not None
    ):
        parser.error("--params-file replaces --conf, --env and --params: give one or the other")
    _configure_logging(int(os.environ.get("RANK", "0")))

    import pandas as pd
    from accelerate import PartialState

    from zeroshot_distill.students.launcher import HISTORY_FILE, SUMMARY_FILE
    from zeroshot_distill.students.model import save_student
    from zeroshot_distill.students.trainer import train_from_training_set

    if args.params_file is not None:
        params = read_params_file(args.params_file)
    else:
        runtime = parse_params(args.params or "")
        params = load_parameters(args.conf or Path("conf"), args.env, runtime)
    result = train_from_training_set(
        pd.read_parquet(args.training_set),
        params["training"],
        params["task"],
        seed=int(params.get("seed", 42)),
    )
    if PartialState().is_main_process:
        save_student(result.student, args.output)
        result.history.to_csv(args.output / HISTORY_FILE, index=False)
        (args.output / SUMMARY_FILE).write_text(
            json.dumps(result.summary, indent=2, sort_keys=True, default=str)
        )
        logging.getLogger(__name__).info("student saved to %s: %s", args.output, result.summary)


def read_params_file(path: Path) -> dict[str, Any]:
    """``training``, ``task`` and ``seed`` from a JSON file, checked for their presence."""
    try:
        params = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"--params-file {path}: cannot read it as JSON: {err}") from err
    missing = [key for key in ("training", "task") if not isinstance(params.get(key), dict)]
    if missing:
        raise SystemExit(f"--params-file {path}: needs the mappings {missing}")
    return params


def _configure_logging(rank: int) -> None:
    """Rank 0 logs as usual; the other ranks only warnings and errors, marked with their rank
    (under a launcher all ranks share one output)."""
    if rank == 0:
        logging.basicConfig(level=logging.INFO)
    else:
        logging.basicConfig(
            level=logging.WARNING, format=f"[rank {rank}] %(levelname)s:%(name)s:%(message)s"
        )


if __name__ == "__main__":
    from torch.distributed.elastic.multiprocessing.errors import record

    # Under torchrun, a failing rank's exception (not just its exit code) reaches the
    # launcher's summary, the last lines the training node quotes.
    record(main)()
