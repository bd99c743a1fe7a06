"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

from typing import Any

from kedro.config import OmegaConfigLoader

from zeroshot_distill.hooks import MlflowArtifactHook, TeacherProvenanceHook
from zeroshot_distill.teachers.hooks import TeacherRunHook

# kedro-mlflow registers its own hooks through its plugin entry point.
HOOKS = (TeacherRunHook(), TeacherProvenanceHook(), MlflowArtifactHook())


def _task_spec(name: str, *, _root_: Any) -> Any:
    """``${task_spec:nli}`` -> the spec under ``_task_nli`` (from conf/<env>/tasks/nli.yml)."""
    key = f"_task_{name}"
    if key not in _root_:
        known = sorted(k[len("_task_") :] for k in _root_ if str(k).startswith("_task_"))
        raise KeyError(f"unknown task {name!r}: no conf/<env>/tasks/{name}.yml; known: {known}")
    return _root_[key]


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        # Task specs live in conf/<env>/tasks/*.yml; each file holds one `_task_<name>` key
        # that parameters interpolate (keys starting with `_` are not themselves parameters).
        "parameters": ["parameters*", "parameters*/**", "**/parameters*", "tasks/*"],
    },
    # An environment may override one nested parameter without restating its siblings.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    "custom_resolvers": {"task_spec": _task_spec},
}
