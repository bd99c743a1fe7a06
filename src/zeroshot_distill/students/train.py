"""Train a student outside Kedro, e.g. on several GPUs with ``torchrun``.

Reads the same parameters a ``kedro run`` would (``conf/base`` + ``--env``) and a
``training_set`` parquet file, trains with :func:`train_from_training_set` and writes the
student (``save_pretrained`` + ``training_info.json``) and its history from the main process::

    python -m zeroshot_distill.students.train \\
        --training-set data/05_model_input/training_set.parquet/<version>/training_set.parquet \\
        --output data/06_models/manual_student

    # data parallel on 4 GPUs, no code change:
    torchrun --nproc_per_node=4 -m zeroshot_distill.students.train --env openai \\
        --training-set ... --output ...
"""

from __future__ import annotations

import argparse
import logging
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
    parser.add_argument("--conf", type=Path, default=Path("conf"), help="the project's conf/")
    parser.add_argument("--env", default=None, help="a Kedro run environment, e.g. openai")
    parser.add_argument(
        "--params", default="", help="runtime parameters like kedro's, e.g. task_name=svamp"
    )
    args = parser.parse_args(argv)
    runtime = parse_params(args.params)
    logging.basicConfig(level=logging.INFO)

    import pandas as pd
    from accelerate import PartialState

    from zeroshot_distill.students.model import save_student
    from zeroshot_distill.students.trainer import train_from_training_set

    params = load_parameters(args.conf, args.env, runtime)
    result = train_from_training_set(
        pd.read_parquet(args.training_set),
        params["training"],
        params["task"],
        seed=int(params.get("seed", 42)),
    )
    if PartialState().is_main_process:
        save_student(result.student, args.output)
        result.history.to_csv(args.output / "training_history.csv", index=False)
        logging.getLogger(__name__).info("student saved to %s: %s", args.output, result.summary)


if __name__ == "__main__":
    main()
