"""compare_students: several named students trained on the SAME ``training_set``, one table.

Each student of ``compare_students.students`` (a preset in ``conf/<env>/students/``) trains
in its own namespace ``compare_students.<name>`` with the library's training node and the
preset applied, and is evaluated on the test split; its datasets and MLflow metrics carry
that name (``compare.<name>.accuracy``). One node joins the rows into
``compare_students_table`` and its report. The list is read when the pipeline is built
(see :mod:`.students_list`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from zeroshot_distill.pipelines.compare_students.nodes import (
    compare_students,
    evaluate_compared_student,
    student_training_params,
)
from zeroshot_distill.pipelines.compare_students.students_list import (
    check_students,
    load_students,
)
from zeroshot_distill.students import train_student_model


def _bound(func: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``partial`` that keeps the function's name and docstring for Kedro and kedro-viz."""
    return update_wrapper(partial(func, **kwargs), func)


def _student_pipeline(name: str) -> Pipeline:
    return Pipeline(
        [
            Node(
                _bound(student_training_params, student=name),
                inputs=["params:training", "params:compare_students"],
                outputs="training_params",
                name="student_training_params",
            ),
            Node(
                train_student_model,
                inputs=["training_set", "training_params", "params:task", "params:seed"],
                outputs=["student_model", "training_history", "training_metrics"],
                name="train_student_model",
            ),
            Node(
                _bound(evaluate_compared_student, student=name),
                inputs=[
                    "student_model",
                    "examples",
                    "training_set",
                    "params:task",
                    "params:evaluation",
                ],
                outputs=["result", "metrics"],
                name="evaluate_student",
            ),
        ],
        namespace=f"compare_students.{name}",
        inputs={"training_set", "examples"},
        parameters={
            "params:training",
            "params:compare_students",
            "params:task",
            "params:seed",
            "params:evaluation",
        },
    )


def create_pipeline(students: Iterable[str] | None = None, **kwargs: object) -> Pipeline:
    """One namespaced training + evaluation per student, then the comparison table.

    ``students``: the preset names (default: ``compare_students.students`` from
    ``conf/<env>/parameters_compare_students.yml``, read now).
    """
    names = load_students() if students is None else check_students(students, (), "arguments")
    per_student = sum((_student_pipeline(name) for name in names), Pipeline([]))
    table = Pipeline(
        [
            Node(
                compare_students,
                inputs=[
                    "params:task",
                    "params:teacher",
                    "params:evaluation",
                    *(f"compare_students.{name}.result" for name in names),
                ],
                outputs=[
                    "compare_students_table",
                    "compare_students_report",
                    "compare_students_report_html",
                ],
                name="compare_students",
                namespace="compare_students",
            )
        ]
    )
    return per_student + table
