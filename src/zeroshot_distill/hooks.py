"""Project hooks: a simulated teacher impossible to miss in logs and MLflow, files logged to
MLflow, the teacher's bill in MLflow when a run stops early or was killed, and what a user
sees of a run (its name, headline figures, closing summary)."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import mlflow
import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.io.core import AbstractVersionedDataset

from zeroshot_distill.reporting.markdown import fmt_pct
from zeroshot_distill.reporting.run_summary import (
    active_distill_summary_lines,
    canonical_pipelines,
    compare_students_summary_lines,
    evaluation_summary_lines,
    headline_figures,
    predictions_summary_lines,
    run_name,
    run_trains_one_student,
    student_name,
    summary_block,
    teacher_name,
)
from zeroshot_distill.serving import prepend_interpreter_bin
from zeroshot_distill.students.pyfunc import log_student_model
from zeroshot_distill.teachers import BudgetExceededError, run_budget
from zeroshot_distill.teachers.cache import InterruptedSession, pid_alive
from zeroshot_distill.teachers.simulated_notice import RUN_WARNING, is_simulated, mlflow_tag

logger = logging.getLogger(__name__)


class TeacherProvenanceHook:
    """Warn when the teacher is simulated and tag the MLflow run with the teacher's identity."""

    def __init__(self) -> None:
        self._teacher: Mapping[str, Any] | None = None
        self._tagged = False

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._tagged = False
        self._teacher = None
        uses_teacher = any(
            name == "params:teacher" or name.startswith("params:teacher.")
            for name in pipeline.inputs() | {i for n in pipeline.nodes for i in n.inputs}
        )
        if not uses_teacher or "params:teacher" not in catalog:
            return
        teacher = catalog.load("params:teacher")
        if isinstance(teacher, Mapping):
            self._teacher = teacher
            if is_simulated(teacher):
                logger.warning(RUN_WARNING)

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any]) -> None:
        # kedro-mlflow opens its run in before_pipeline_run; by the first node it is active.
        if self._tagged or self._teacher is None or mlflow.active_run() is None:
            return
        mlflow.set_tags(
            {
                "teacher_backend": str(self._teacher.get("backend")),
                "teacher_model": str(self._teacher.get("model")),
                **mlflow_tag(is_simulated(self._teacher)),
            }
        )
        self._tagged = True


class MlflowArtifactHook:
    """Log a dataset's file to the MLflow run right after it is saved.

    kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset, so reports and
    plots stay ordinary versioned catalog entries and opt in through their metadata::

        report:
          type: text.TextDataset
          versioned: true
          metadata:
            mlflow: {artifact_path: reports}
    """

    def __init__(self) -> None:
        self._catalog: Any = None

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._catalog is None or mlflow.active_run() is None:
            return
        dataset = self._catalog.get(dataset_name)
        metadata = getattr(dataset, "metadata", None) or {}
        options = metadata.get("mlflow") if isinstance(metadata, Mapping) else None
        if not isinstance(options, Mapping):
            return
        path = saved_path(dataset)
        if path is None:
            logger.warning("cannot log %s to MLflow: its dataset has no file path", dataset_name)
            return
        mlflow.log_artifact(str(path), artifact_path=options.get("artifact_path"))


class TeacherSpendHook:
    """The teacher's bill in MLflow, even when a run does not end normally.

    - At the first node (kedro-mlflow's run is active): tag the run with this process
      (``process.host``/``process.pid``), mark this project's MLflow runs that are still
      ``RUNNING`` but whose process is gone as ``KILLED``, and log what interrupted runs paid
      (found in the response cache by ``TeacherRunHook``) into their own MLflow runs and, as
      ``teacher_spend.interrupted_runs_usd``, into this one.
    - When the run ends, normally or not (a budget stop, a fatal teacher error): log its
      spend, ``teacher_spend.run_usd`` / ``paid_requests`` / ``<stage>_usd`` and, after a
      budget stop, ``teacher_spend.budget_stop``. kedro-mlflow may have closed the run by
      then, so these go through the client to the run id noted at the first node.
    """

    def __init__(self) -> None:
        self._mlflow_run_id: str | None = None

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        self._mlflow_run_id = None

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any]) -> None:
        active = mlflow.active_run()
        if self._mlflow_run_id is not None or active is None:
            return
        self._mlflow_run_id = active.info.run_id
        run_budget().mlflow_run_id = active.info.run_id
        mlflow.set_tags({PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()})
        try:
            mark_stale_runs_killed(active.info.experiment_id, active.info.run_id)
            log_interrupted_spend(run_budget().interrupted, active.info.run_id)
        except Exception as err:  # bookkeeping must never fail a run
            logger.warning("could not record interrupted runs in MLflow: %s", err)

    @hook_impl
    def after_pipeline_run(
        self, run_params: Any, run_result: Any, pipeline: Any, catalog: Any
    ) -> None:
        self._log_spend(error=None)

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: Any, pipeline: Any, catalog: Any
    ) -> None:
        self._log_spend(error=error)

    def _log_spend(self, error: Exception | None) -> None:
        totals = run_budget().totals()
        if self._mlflow_run_id is None or (not totals["paid_requests"] and error is None):
            return
        metrics = {
            "teacher_spend.run_usd": float(totals["spent_usd"]),
            "teacher_spend.paid_requests": float(totals["paid_requests"]),
        }
        for stage, spent in totals["stages"].items():
            metrics[f"teacher_spend.{stage}_usd"] = float(spent)
        if isinstance(error, BudgetExceededError):
            metrics["teacher_spend.budget_stop"] = 1.0
            cap = getattr(error, "max_cost_usd", None)
            if cap is not None:
                metrics["teacher_spend.max_cost_usd"] = float(cap)
        try:
            client = mlflow.MlflowClient()
            for key, value in metrics.items():
                client.log_metric(self._mlflow_run_id, key, value)
        except Exception as err:  # the error that stopped the run matters more
            logger.warning("could not log the teacher's spend to MLflow: %s", err)


PID_TAG = "process.pid"
HOST_TAG = "process.host"


def mark_stale_runs_killed(experiment_id: str, current_run_id: str) -> list[str]:
    """Set ``KILLED`` on runs of the experiment left ``RUNNING`` by a process of this host
    that no longer exists (kill -9, a crash); returns their ids."""
    client = mlflow.MlflowClient()
    host = socket.gethostname()
    stale = []
    for run in client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=200
    ):
        tags = run.data.tags
        if run.info.run_id == current_run_id or tags.get(HOST_TAG) != host:
            continue
        pid = tags.get(PID_TAG, "")
        if pid.isdigit() and not pid_alive(int(pid)):
            reason = f"process {pid} gone; seen by a later run"
            client.set_tag(run.info.run_id, "end_reason", reason)
            client.set_terminated(run.info.run_id, status="KILLED")
            stale.append(run.info.run_id)
    if stale:
        logger.warning("marked %d stale MLflow run(s) KILLED: %s", len(stale), ", ".join(stale))
    return stale


def log_interrupted_spend(sessions: Sequence[InterruptedSession], current_run_id: str) -> None:
    """Attribute what interrupted runs paid: to their own MLflow runs and to this one."""
    if not sessions:
        return
    client = mlflow.MlflowClient()
    per_run: dict[str, float] = {}
    for session in sessions:
        if session.mlflow_run_id:
            per_run[session.mlflow_run_id] = per_run.get(session.mlflow_run_id, 0.0) + (
                session.cost_usd
            )
    for run_id, spent in per_run.items():
        try:
            client.log_metric(run_id, "teacher_spend.run_usd", spent)
            client.set_tag(run_id, "teacher_spend.interrupted", "true")
            if client.get_run(run_id).info.status == "RUNNING":
                client.set_terminated(run_id, status="KILLED")
        except Exception as err:  # its run may live in another store
            logger.warning("could not attribute spend to MLflow run %s: %s", run_id, err)
    client.log_metric(
        current_run_id,
        "teacher_spend.interrupted_runs_usd",
        float(sum(s.cost_usd for s in sessions)),
    )
    client.set_tag(
        current_run_id,
        "teacher_spend.interrupted_runs",
        ",".join(sorted({s.run_id for s in sessions})),
    )


class EnvironmentToolsHook:
    """Put the running interpreter's ``bin`` folder first on ``PATH``.

    Plugins start tools by name: ``kedro mlflow ui`` runs ``mlflow`` from ``PATH``, which
    fails when kedro is started as ``.venv/bin/kedro`` without activating the environment.
    """

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        prepend_interpreter_bin()


def saved_path(dataset: Any) -> str | None:
    """The file a dataset just wrote: this run's version of a versioned one."""
    if isinstance(dataset, AbstractVersionedDataset):
        # The version this run just wrote (_get_save_path refuses an existing version).
        return str(dataset._get_versioned_path(dataset.resolve_save_version()))
    path = getattr(dataset, "_filepath", None)
    return None if path is None else str(path)


# Files the closing summary points to, by dataset name.
SUMMARY_FILES = {
    "report": "report",
    "report_html": "report (HTML)",
    "experiments_report": "report",
    "experiments_report_html": "report (HTML)",
    "active_distill_report": "report",
    "compare_students_report": "report",
    "compare_students_report_html": "report (HTML)",
    "compare_students_table": "table",
    "new_predictions": "predictions",
    "student_model": "student",
    "student_onnx": "ONNX student",
}
_VARIANT = re.compile(r"^experiments\.er(\d+)_tf(\d+)$")
_OBJECT_REPR = re.compile(r"^<(?:[\w.]+\.)?(\w+) object at 0x[0-9a-fA-F]+>$")


def runner_name(runner: Any) -> str:
    """``<kedro.runner.SequentialRunner object at 0x7f…>`` or the object -> ``SequentialRunner``."""
    if not isinstance(runner, str):
        return type(runner).__name__
    match = _OBJECT_REPR.match(runner)
    return match.group(1) if match else runner


class RunPresentationHook:
    """What a user sees of a run: its MLflow name, tags, headline figures and logged student,
    a progress line per experiments variant, and a summary block printed last.

    MLflow names (stable, for the compare view): the run name says what differs (pipeline,
    task, teacher, student, explanation rate, train fraction, see
    :func:`~zeroshot_distill.reporting.run_summary.run_name`); ``headline.*`` params and
    metrics (:func:`~zeroshot_distill.reporting.run_summary.headline_figures`); the trained
    student as the pyfunc model ``student``.
    """

    def __init__(self) -> None:
        self._catalog: Any = None
        self._reset()

    def _reset(self) -> None:
        self._pipelines: list[str] = []
        self._params: Mapping[str, Any] = {}
        self._name = ""
        self._runner = ""
        self._presented = False
        self._lines: list[str] = []
        self._files: dict[str, str] = {}
        self._variants: list[str] = []
        self._variants_started = 0

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._reset()
        names = run_params.get("pipeline_names") or run_params.get("pipeline_name")
        given = [names] if isinstance(names, str) else list(names or ["__default__"])
        self._pipelines = canonical_pipelines(given)
        params = catalog.load("parameters") if "parameters" in catalog else {}
        self._params = params if isinstance(params, Mapping) else {}
        self._name = run_name(self._pipelines, self._params)
        self._runner = runner_name(run_params.get("runner"))
        self._variants = sorted(
            {n.namespace for n in pipeline.nodes if n.namespace and _VARIANT.match(n.namespace)}
        )
        self._present_in_mlflow()

    def _present_in_mlflow(self) -> None:
        # kedro-mlflow opens its run in its own before_pipeline_run (called before this one);
        # before_node_run retries in case it was not.
        if self._presented or mlflow.active_run() is None:
            return
        # MLflow 3 UIs without the GenAI / Model training switch pick an experiment's pages
        # (GenAI traces or training runs) by this tag.
        mlflow.set_experiment_tag("mlflow.experimentKind", "custom_model_development")
        mlflow.set_tags(
            {
                "mlflow.runName": self._name,
                # kedro-mlflow tags the runner object's repr (`<... object at 0x...>`).
                "runner": self._runner,
                "pipeline": "+".join(self._pipelines),
            }
        )
        params = self._params
        headline = {
            "task": (params.get("task") or {}).get("name"),
            "teacher": teacher_name(params.get("teacher")),
            "student": student_name(params.get("training")),
        }
        if run_trains_one_student(self._pipelines):
            subsampling = params.get("subsampling") or {}
            mode = subsampling.get("mode") or "step_by_step"
            headline["subsampling_mode"] = mode
            if mode == "step_by_step":  # the other modes keep no rationale at all
                headline["explanation_rate"] = subsampling.get("explanation_rate")
            headline["train_fraction"] = subsampling.get("train_fraction")
        mlflow.log_params({f"headline.{k}": v for k, v in headline.items() if v is not None})
        self._presented = True

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any]) -> None:
        self._present_in_mlflow()
        if node.namespace in self._variants and node.name.endswith(".train_student_model"):
            rate, fraction = _VARIANT.match(node.namespace).groups()  # type: ignore[union-attr]
            self._variants_started += 1
            logger.info(
                "experiments: variant %d/%d %s (explanation rate %d%%, train fraction %g): "
                "training",
                self._variants_started,
                len(self._variants),
                node.namespace.split(".", 1)[1],
                int(rate),
                int(fraction) / 1000,
            )

    @hook_impl
    def after_node_run(self, node: Any, catalog: Any, outputs: dict[str, Any]) -> None:
        metrics = outputs.get("metrics")
        if isinstance(metrics, Mapping) and "student" in metrics:
            figures = headline_figures(metrics)
            if mlflow.active_run() is not None and figures:
                mlflow.log_metrics({f"headline.{k}": v for k, v in figures.items()})
            self._lines += evaluation_summary_lines(metrics)
        comparison = outputs.get("experiments_comparison")
        if isinstance(comparison, pd.DataFrame) and not comparison.empty:
            best = comparison.loc[comparison["accuracy"].idxmax()]
            self._lines.append(
                f"{len(comparison)} variants; best {best['variant']}: accuracy "
                f"{fmt_pct(best['accuracy'])}"
            )
        students = outputs.get("compare_students_table")
        if isinstance(students, pd.DataFrame) and not students.empty:
            self._lines += compare_students_summary_lines(students)
        active = outputs.get("active_distill_metrics")
        if isinstance(active, Mapping):
            self._lines += active_distill_summary_lines(active)
        predictions = outputs.get("new_predictions")
        if isinstance(predictions, pd.DataFrame):
            self._lines += predictions_summary_lines(predictions)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if dataset_name not in SUMMARY_FILES or self._catalog is None:
            return
        path = saved_path(self._catalog.get(dataset_name))
        if path is None:
            return
        self._files[SUMMARY_FILES[dataset_name]] = path
        # predict's chunked output is counted while it is saved: its figures exist only now.
        summary_lines = getattr(data, "summary_lines", None)
        if dataset_name == "new_predictions" and callable(summary_lines):
            self._lines += summary_lines()
        if dataset_name == "student_model" and mlflow.active_run() is not None:
            self._log_student(path)
        if dataset_name == "student_onnx" and mlflow.active_run() is not None:
            self._log_student(path, runtime="onnx")

    def _log_student(self, path: str, runtime: str = "torch") -> None:
        task = self._params.get("task")
        if not isinstance(task, Mapping):
            return
        name = "student_onnx" if runtime == "onnx" else "student"
        log_student_model(path, task, self._input_example(task), name=name, runtime=runtime)

    def _input_example(self, task: Mapping[str, Any]) -> pd.DataFrame:
        """Two test rows of ``examples`` for the logged model; placeholders without them."""
        fields = list(task.get("input_fields") or [])
        try:
            examples = self._catalog.load("examples")
            rows = examples[examples["split"] == "test"].head(2)
            if len(rows) and set(fields) <= set(rows.columns):
                return rows[fields]
        except Exception as error:  # a stage run alone may have no examples: fine
            logger.debug("no examples for the logged student's input example: %s", error)
        choices = task.get("choices_field")
        return pd.DataFrame([{f: ["a", "b"] if f == choices else f for f in fields}])

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        # Registered first (settings.HOOKS), so called last, after kedro-mlflow's hook too.
        if not self._lines and not self._files:
            return
        print("\n" + summary_block(f"Run summary: {self._name}", self._lines, self._files))
