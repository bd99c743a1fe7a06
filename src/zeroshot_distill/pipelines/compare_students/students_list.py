"""The students of ``compare_students``: read from the parameter files when the pipelines are
built, because the list decides which nodes and datasets exist (as the experiments grid).

``compare_students.students`` is read from ``conf/base/parameters_compare_students*.yml``,
then the run environment's (``KEDRO_ENV`` or ``--env``; ``conf/local`` when none) laid over
it. ``--params`` cannot change it: edit the file. Each name must be a preset in
``conf/<env>/students/<name>.yml`` (checked here, so a typo fails before anything runs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from zeroshot_distill.settings import ENVS_WITHOUT_LOCAL, LOCAL_ENV, current_run_env

PARAMETERS_FILE = "conf/base/parameters_compare_students.yml"
DEFAULT_STUDENTS = ("t5_tiny", "encoder_tiny", "decoder_tiny", "decoder_tiny_lora")
# Names become Kedro namespaces and dataset names, e.g. compare_students.t5_tiny.student_model.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class CompareStudentsError(ValueError):
    """``compare_students.students`` does not name a usable list of student presets."""


def _project_conf() -> Path | None:
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    project = find_kedro_project(Path.cwd())
    if project is None:
        return None
    conf = Path(project) / settings.CONF_SOURCE
    return conf if conf.is_dir() else None


def _layers(conf: Path, env: str) -> list[Path]:
    envs = ["base"] if env == "base" else ["base", env]
    return [conf / e for e in envs if (conf / e).is_dir()]


def load_students(conf: Path | None = None, env: str | None = None) -> tuple[str, ...]:
    """The configured student presets, checked (see the module docstring). Outside a Kedro
    project the defaults apply."""
    conf = conf or _project_conf()
    if conf is None:
        return DEFAULT_STUDENTS
    env = env or current_run_env() or "local"
    students: Any = None
    source = PARAMETERS_FILE
    for layer in _layers(conf, env):
        for path in sorted(layer.glob("parameters_compare_students*.yml")):
            block = (yaml.safe_load(path.read_text()) or {}).get("compare_students") or {}
            if "students" in block:
                students, source = block["students"], str(path.relative_to(conf.parent))
    if students is None:
        return DEFAULT_STUDENTS
    return check_students(students, known_presets(conf, env), source)


def known_presets(conf: Path, env: str) -> set[str]:
    """The preset names defined in ``conf/{base,<env>}/students/*.yml`` (plus ``conf/local``
    for envs that read it)."""
    layers = _layers(conf, env)
    if env not in ("base", LOCAL_ENV, *ENVS_WITHOUT_LOCAL) and (conf / LOCAL_ENV).is_dir():
        layers.append(conf / LOCAL_ENV)
    names: set[str] = set()
    for layer in layers:
        for path in layer.glob("students/*.yml"):
            for key in yaml.safe_load(path.read_text()) or {}:
                if str(key).startswith("_student_"):
                    names.add(str(key)[len("_student_") :])
    return names


def check_students(students: Any, known: Iterable[str], source: str) -> tuple[str, ...]:
    """``students`` as a tuple of distinct, known preset names; else an error naming
    ``source``, the bad entry and the known presets."""
    known = sorted(known)
    where = f"compare_students.students in {source}"
    if isinstance(students, str) or not isinstance(students, Iterable):
        raise CompareStudentsError(
            f"{where} must be a list of student preset names, got {students!r}; known: {known}"
        )
    names = [str(s) for s in students]
    if not names:
        raise CompareStudentsError(f"{where} is empty: list at least one preset; known: {known}")
    for name in names:
        if not _NAME.match(name):
            raise CompareStudentsError(
                f"{where}: {name!r} is not a usable name (letters, digits, underscores; it "
                "becomes a Kedro namespace)"
            )
        if known and name not in known:
            raise CompareStudentsError(
                f"{where}: unknown student preset {name!r}; known: {known} (each is "
                f"conf/<env>/students/<name>.yml with a `_student_<name>` key)"
            )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CompareStudentsError(f"{where} lists {duplicates} more than once")
    return tuple(names)
