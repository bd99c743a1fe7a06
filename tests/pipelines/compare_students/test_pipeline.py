"""compare_students wiring: one namespace per configured student on the shared training set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.project_copy import PROJECT_ROOT, copy_project
from zeroshot_distill.pipelines.compare_students import create_pipeline
from zeroshot_distill.pipelines.compare_students.students_list import (
    CompareStudentsError,
    check_students,
    known_presets,
    load_students,
)


def test_one_namespace_per_student_sharing_training_set_and_examples() -> None:
    pipeline = create_pipeline(students=["t5_tiny", "t5_tiny_wide"])
    assert pipeline.inputs() == {
        "training_set",
        "examples",
        "params:training",
        "params:compare_students",
        "params:task",
        "params:seed",
        "params:evaluation",
        "params:teacher",
    }
    outputs = pipeline.all_outputs()
    for name in ("t5_tiny", "t5_tiny_wide"):
        assert f"compare_students.{name}.student_model" in outputs
        assert f"compare_students.{name}.metrics" in outputs
    assert {"compare_students_table", "compare_students_report"} <= outputs


def test_the_configured_students_are_known_presets() -> None:
    conf = PROJECT_ROOT / "conf"
    students = load_students(conf, "base")
    assert students == ("t5_tiny", "encoder_tiny", "decoder_tiny", "decoder_tiny_lora")
    assert set(students) | {"t5_tiny_wide", "t5_tiny_lora"} <= known_presets(conf, "base")


def test_an_env_file_overrides_the_list_and_a_typo_fails_at_build_time(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    conf = project / "conf"
    (conf / "local" / "parameters_compare_students.yml").write_text(
        "compare_students:\n  students: [t5_tiny]\n"
    )
    assert load_students(conf, "local") == ("t5_tiny",)
    (conf / "local" / "parameters_compare_students.yml").write_text(
        "compare_students:\n  students: [t5_tiny, t5_tiyn]\n"
    )
    with pytest.raises(CompareStudentsError, match="unknown student preset 't5_tiyn'") as error:
        load_students(conf, "local")
    assert "parameters_compare_students.yml" in str(error.value)


@pytest.mark.parametrize(
    ("students", "problem"),
    [
        ("t5_tiny", "must be a list"),
        ([], "empty"),
        (["a.b"], "not a usable name"),
        (["a", "a"], "more than once"),
    ],
)
def test_bad_lists_are_refused(students: object, problem: str) -> None:
    with pytest.raises(CompareStudentsError, match=problem):
        check_students(students, (), "the file")
