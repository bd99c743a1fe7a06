"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro_mlflow.config.resolvers import resolve_random_name
from omegaconf import OmegaConf

from zeroshot_distill.hooks import (
    EnvironmentToolsHook,
    MlflowArtifactHook,
    RunPresentationHook,
    TeacherProvenanceHook,
)
from zeroshot_distill.teachers.hooks import TeacherRunHook

# kedro-mlflow registers its own hooks through its plugin entry point. Hooks run in reverse
# order of registration: RunPresentationHook first here, so its run summary prints last.
HOOKS = (
    RunPresentationHook(),
    TeacherRunHook(),
    TeacherProvenanceHook(),
    MlflowArtifactHook(),
    EnvironmentToolsHook(),
)


def _task_spec(name: str, *, _root_: Any) -> Any:
    """``${task_spec:nli}`` -> the spec under ``_task_nli`` (from conf/<env>/tasks/nli.yml)."""
    key = f"_task_{name}"
    if key not in _root_:
        known = sorted(k[len("_task_") :] for k in _root_ if str(k).startswith("_task_"))
        raise KeyError(f"unknown task {name!r}: no conf/<env>/tasks/{name}.yml; known: {known}")
    return _root_[key]


class ProjectConfigLoader(OmegaConfigLoader):
    """OmegaConfigLoader with a ``${project_root:}`` resolver (the folder that holds conf/).

    MLflow keeps a ``sqlite:///mlflow.db`` URI relative to the working directory, not the
    project: a session opened from ``notebooks/`` would start a second, empty store. The
    tracking URI in mlflow.yml is anchored with this resolver instead.
    """

    def __init__(self, conf_source: str, *args: Any, **kwargs: Any) -> None:
        root = Path(conf_source).resolve().parent.as_posix()
        # Kedro registers custom resolvers only once per process; a second project opened in
        # the same process (notebooks, tests) must not inherit the first one's root.
        OmegaConf.register_resolver("project_root", lambda: root, replace=True)
        # OmegaConf 2.4 deprecates register_new_resolver, which Kedro 1.7 and kedro-mlflow
        # still call (one warning per call): their resolvers are registered here with the
        # current API (kedro-mlflow skips one that exists) and in the overrides below.
        OmegaConf.register_resolver(
            "km.random_name", resolve_random_name, replace=True, use_cache=True
        )
        super().__init__(conf_source, *args, **kwargs)

    @staticmethod
    def _register_new_resolvers(resolvers: dict[str, Any]) -> None:
        for name, resolver in resolvers.items():
            if not OmegaConf.has_resolver(name):
                OmegaConf.register_resolver(name, resolver)

    def _register_globals_resolver(self) -> None:
        OmegaConf.register_resolver("globals", self._get_globals_value, replace=True)

    def _register_runtime_params_resolver(self) -> None:
        OmegaConf.register_resolver("runtime_params", self._get_runtime_value, replace=True)


CONFIG_LOADER_CLASS = ProjectConfigLoader
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
