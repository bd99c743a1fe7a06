"""Merge a LoRA student's adapters into its base model for export.

A student trained with ``training.peft`` is saved as adapters (+ its base model). Serving
tools that expect a plain ``save_pretrained`` model (vLLM, TGI, ONNX export, ...) get one
with::

    python -m zeroshot_distill.students.export \\
        --student data/06_models/student_model/<version>/student_model \\
        --output data/06_models/student_merged

The output loads with ``load_saved_student`` (and ``from_pretrained``) without ``peft``
and predicts what the adapter student predicts (up to float rounding).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, merge, save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--student", type=Path, required=True, help="an adapter student dir")
    parser.add_argument("--output", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.output.exists() and any(args.output.iterdir()):
        raise SystemExit(f"--output {str(args.output)!r} is not empty: choose a new directory")

    from zeroshot_distill.students.adapters import AdapterError, merge_student
    from zeroshot_distill.students.model import StudentLoadError

    try:
        student = merge_student(args.student, args.output)
    except (AdapterError, StudentLoadError) as err:
        raise SystemExit(str(err)) from None
    logging.getLogger(__name__).info(
        "merged student (%s parameters) written to %s",
        f"{student.num_parameters:,}",
        args.output,
    )


if __name__ == "__main__":
    main()
