"""A trained student as an MLflow ``pyfunc`` model: rows in, labels and probabilities out.

The project's hook logs it with every run that trains a student, so the MLflow Models view
lists it and ``mlflow.pyfunc.load_model("runs:/<run id>/student").predict(df)`` labels new
rows the way ``kedro run --pipelines=predict`` does (label-only decoding)::

    df = pd.DataFrame({"premise": ["A man sleeps."], "hypothesis": ["A man is awake."]})
    model.predict(df)
    # -> DataFrame: label "contradiction", confidence 0.91,
    #    probabilities {"entailment": 0.03, "neutral": 0.06, "contradiction": 0.91}

``label`` is ``None`` where a generated output names no label; ``confidence`` and
``probabilities`` come with label scoring (tasks with a label set), not with generation.
``make serve`` serves it over HTTP (:mod:`zeroshot_distill.serving`).

Logged with ``runtime="onnx"`` (the ``export`` pipeline's run logs ``student_onnx``), it
scores labels on the exported ONNX graph with onnxruntime instead of PyTorch.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.schema import Array, Map

import zeroshot_distill
from zeroshot_distill.students.inference import read_labels
from zeroshot_distill.students.model import StudentBundle, load_saved_student
from zeroshot_distill.tasks import TaskSpec

#: Artifact key of the saved student directory inside the MLflow model.
STUDENT_ARTIFACT = "student_model"
#: Artifact key of the ONNX export directory (``runtime: onnx``).
ONNX_ARTIFACT = "student_onnx"
#: What the model answers per row (see the module docstring).
OUTPUT_COLUMNS = ["label", "confidence", "probabilities"]


class StudentPyfunc(PythonModel):
    """Labels a DataFrame holding the task's input fields with a saved student."""

    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config or {}
        self._bundle: StudentBundle
        if config.get("runtime") == "onnx":
            from zeroshot_distill.students.onnx_export import OnnxStudent

            variant = config.get("onnx_variant", "fp32")
            self._bundle = OnnxStudent(context.artifacts[ONNX_ARTIFACT], variant).as_bundle()
        else:
            self._bundle = load_saved_student(context.artifacts[STUDENT_ARTIFACT])
        self._spec = TaskSpec.from_params(config["task"])
        self._batch_size = int(config.get("batch_size", 32))

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        missing = [f for f in self._spec.input_fields if f not in frame.columns]
        if missing:
            raise ValueError(
                f"the student needs the columns {list(self._spec.input_fields)}; "
                f"missing {missing} (got {list(frame.columns)})"
            )
        readout = read_labels(
            self._bundle.model,
            self._bundle.tokenizer,
            self._spec,
            frame,
            self._batch_size,
            prefix=self._bundle.prefixes["predict"],
            max_new_tokens=self._bundle.label_budget(),
            decoding=self._bundle.label_decoding(),
        )
        return pd.DataFrame(readout.records(self._spec.label_set), columns=OUTPUT_COLUMNS)


def log_student_model(
    directory: str | Path,
    task: Mapping[str, Any],
    input_example: pd.DataFrame,
    *,
    name: str = "student",
    runtime: str = "torch",
) -> Any:
    """Log the saved student in ``directory`` to the active MLflow run as ``name``.

    ``input_example``: a few rows with the task's input fields; MLflow stores them with the
    model and checks that the logged model answers them. ``runtime="onnx"``: ``directory``
    is an ONNX export (``student_onnx``), scored with onnxruntime.
    """
    return mlflow.pyfunc.log_model(
        name=name, **_model_arguments(directory, task, input_example, runtime)
    )


def save_student_model(
    directory: str | Path, task: Mapping[str, Any], input_example: pd.DataFrame, path: str | Path
) -> None:
    """The same MLflow model as :func:`log_student_model`, written to ``path`` (no run):
    serves a student directory that was never logged (``make serve STUDENT=<directory>``)."""
    mlflow.pyfunc.save_model(path=str(path), **_model_arguments(directory, task, input_example))


def _model_arguments(
    directory: str | Path,
    task: Mapping[str, Any],
    input_example: pd.DataFrame,
    runtime: str = "torch",
) -> dict[str, Any]:
    """What logging and saving the pyfunc model share: code, artifact, signature, example."""
    spec = TaskSpec.from_params(task)
    columns = [
        ColSpec(Array(DataType.string), field)
        if field == spec.choices_field
        else ColSpec(DataType.string, field)
        for field in spec.input_fields
    ]
    outputs = Schema(
        [
            ColSpec(DataType.string, "label", required=False),
            ColSpec(DataType.double, "confidence", required=False),
            ColSpec(Map(DataType.double), "probabilities", required=False),
        ]
    )
    signature = ModelSignature(inputs=Schema(columns), outputs=outputs)
    # Explicit requirements: inferring them loads the model once more in a subprocess.
    packages = ("mlflow", "torch", "transformers", "peft", "pandas")
    if runtime == "onnx":
        packages = (*packages, "onnxruntime")
    requirements = [f"{package}=={version(package)}" for package in packages]
    artifact = ONNX_ARTIFACT if runtime == "onnx" else STUDENT_ARTIFACT
    return {
        # A "model from code" file rather than a pickled object.
        "python_model": str(Path(__file__).with_name("pyfunc_entry.py")),
        "signature": signature,
        "input_example": pd.DataFrame(input_example)[list(spec.input_fields)],
        "artifacts": {artifact: str(directory)},
        "model_config": {"task": dict(task), "runtime": runtime},
        # The package travels with the model, so loading needs no installed project.
        "code_paths": [str(Path(zeroshot_distill.__file__).parent)],
        "pip_requirements": requirements,
    }
