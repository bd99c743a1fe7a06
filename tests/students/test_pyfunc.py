"""The student as an MLflow pyfunc model: logged to a run, loaded back, labels rows."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from zeroshot_distill.serving import latest_student_uri
from zeroshot_distill.students import StudentBundle
from zeroshot_distill.students.model import save_student
from zeroshot_distill.students.pyfunc import log_student_model
from zeroshot_distill.tasks.spec import TaskSpec

ROWS = pd.DataFrame(
    {
        "premise": ["A man sleeps on a bench.", "Two dogs run in a park."],
        "hypothesis": ["A man is awake.", "Animals are outside."],
    }
)


@pytest.mark.parametrize("adapters", [False, True], ids=["plain", "lora"])
def test_logged_student_loads_with_pyfunc_and_labels_rows(
    tmp_path: Path, tiny_student: StudentBundle, nli_spec: TaskSpec, adapters: bool
) -> None:
    if adapters:  # a LoRA student: adapters + base/ travel as the artifact
        from zeroshot_distill.students.adapters import PeftSettings, attach_adapters

        attach_adapters(tiny_student, PeftSettings(r=2))
    directory = tmp_path / "student"
    save_student(tiny_student, directory)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("t", artifact_location=str(tmp_path / "artifacts"))
    with mlflow.start_run(experiment_id=experiment) as run:
        logged = log_student_model(directory, nli_spec.model_dump(), ROWS.head(1))
    # What `make serve` serves without STUDENT=
    assert latest_student_uri() == f"models:/{logged.model_id}"

    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/student")
    answers = model.predict(ROWS)
    assert list(answers.columns) == ["label", "confidence", "probabilities"]
    assert len(answers) == len(ROWS)
    # Label scoring: always a label of the set, with a probability per label.
    assert set(answers["label"]) <= set(nli_spec.labels)
    for row in answers.to_dict("records"):
        assert set(row["probabilities"]) == set(nli_spec.labels)
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["confidence"] == pytest.approx(row["probabilities"][row["label"]])
    assert [c.name for c in model.metadata.get_input_schema().inputs] == ["premise", "hypothesis"]

    with pytest.raises(Exception, match="hypothesis"):
        model.predict(ROWS[["premise"]])


def test_an_onnx_logged_student_labels_rows_like_the_torch_one(
    tmp_path: Path, tiny_student: StudentBundle, nli_spec: TaskSpec
) -> None:
    from zeroshot_distill.students import predict_labels
    from zeroshot_distill.students.onnx_export import export_student

    export_student(tiny_student, quantize=False).save(tmp_path / "onnx")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("t", artifact_location=str(tmp_path / "artifacts"))
    with mlflow.start_run(experiment_id=experiment) as run:
        log_student_model(
            tmp_path / "onnx", nli_spec.model_dump(), ROWS.head(1), name="s", runtime="onnx"
        )
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/s")
    expected = predict_labels(tiny_student.model, tiny_student.tokenizer, nli_spec, ROWS)
    assert model.predict(ROWS)["label"].tolist() == expected
