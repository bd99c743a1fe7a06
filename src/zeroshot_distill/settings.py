"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import os
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from kedro_mlflow.config.resolvers import resolve_random_name
from omegaconf import OmegaConf

from zeroshot_distill.hooks import (
    EnvironmentToolsHook,
    MlflowArtifactHook,
    RunPresentationHook,
    TeacherProvenanceHook,
    TeacherSpendHook,
)
from zeroshot_distill.teachers.credentials import refuse_secret_parameters
from zeroshot_distill.teachers.hooks import TeacherRunHook
from zeroshot_distill.tracking_store import TrackingStoreHook

# kedro-mlflow registers its own hooks through its plugin entry point. Hooks run in reverse
# order of registration: RunPresentationHook first here, so its run summary prints last.
HOOKS = (
    RunPresentationHook(),
    TeacherRunHook(),
    TeacherProvenanceHook(),
    MlflowArtifactHook(),
    TeacherSpendHook(),
    EnvironmentToolsHook(),
    # Wraps kedro-mlflow's after_context_created: mlflow.db is created and migrated once,
    # under a file lock, however many runs start together (tracking_store.py).
    TrackingStoreHook(),
)


def _task_spec(name: str, *, _root_: Any) -> Any:
    """``${task_spec:nli}`` -> the spec under ``_task_nli`` (from conf/<env>/tasks/nli.yml)."""
    key = f"_task_{name}"
    if key not in _root_:
        known = sorted(k[len("_task_") :] for k in _root_ if str(k).startswith("_task_"))
        raise KeyError(f"unknown task {name!r}: no conf/<env>/tasks/{name}.yml; known: {known}")
    return _root_[key]


def _student_preset(name: str | None, *, _root_: Any) -> Any:
    """``${student_preset:${student_name}}`` -> ``{"name": name, **_student_<name>}`` (from
    conf/<env>/students/<name>.yml); ``None`` when no preset is named (``student_name: null``).

    Unknown names fail here, at configuration time, before any stage runs or spends.
    """
    if name is None or str(name).strip().lower() in ("", "null", "none"):
        return None
    key = f"_student_{name}"
    if key not in _root_:
        raise KeyError(
            f"unknown student preset {name!r} (student_name): no conf/<env>/students/{name}.yml "
            f"with a `{key}` key; known presets: {_known_presets(_root_)} (conf/base/students/, "
            "or add your own in conf/local/students/)"
        )
    return {"name": str(name), **_plain(_root_[key])}


def _student_presets(names: Any, *, _root_: Any) -> dict[str, Any]:
    """``${student_presets:${compare_students.students}}`` -> ``{name: preset}`` for a list."""
    if names is None:
        return {}
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"compare_students.students must be a list of student preset names, got {names!r}; "
            f"known presets: {_known_presets(_root_)}"
        )
    return {str(name): _student_preset(str(name), _root_=_root_) for name in names}


def _known_presets(root: Any) -> list[str]:
    return sorted(k[len("_student_") :] for k in root if str(k).startswith("_student_"))


def _runtime_over_presets(params: dict[str, Any], runtime: Any) -> dict[str, Any]:
    """``--params training.<key>=...`` wins over a named student's ``<key>`` too (a preset
    overrides ``training`` when training starts, after the merge): the key is dropped from
    every resolved preset, and ``training.student.*`` is merged into the preset's student."""
    overridden = (runtime or {}).get("training")
    if not isinstance(overridden, dict):
        return params
    presets = [(params.get("training") or {}).get("preset")]
    presets += list(((params.get("compare_students") or {}).get("presets") or {}).values())
    for preset in presets:
        if not isinstance(preset, dict):
            continue
        for key, value in overridden.items():
            if key == "preset":
                continue
            if key == "student" and isinstance(value, dict) and "student" in preset:
                preset["student"] = OmegaConf.to_container(
                    OmegaConf.merge(preset["student"], value), resolve=True
                )
            else:
                preset.pop(key, None)
    return params


def _plain(node: Any) -> Any:
    """A config node as plain dicts and lists (a preset is copied, not aliased)."""
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return dict(node) if isinstance(node, dict) else node


def current_run_env() -> str | None:
    """``KEDRO_ENV``, else the ``--env`` of the running ``kedro`` command (click's context;
    Kedro hands it to the session only after the pipelines are built, so pipelines whose
    nodes depend on a parameter file, like the experiments grid, read it here)."""
    env = os.environ.get("KEDRO_ENV")
    if env:
        return env
    import click

    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        value = ctx.params.get("env")
        if isinstance(value, str) and value:
            return value
        ctx = ctx.parent
    return None


# The one place for this machine's settings: keys (credentials.yml), catalog overrides
# (your own data) and parameters (your endpoint). Git-ignored; read by every environment.
LOCAL_ENV = "local"
# The test suite's environment must not depend on the machine it runs on.
ENVS_WITHOUT_LOCAL = ("test",)


class ProjectConfigLoader(OmegaConfigLoader):
    """OmegaConfigLoader that layers ``conf/local`` over every run environment.

    Kedro alone reads ``base`` + the run env: under ``--env openai`` the key in
    ``conf/local/credentials.yml`` and the catalog override in ``conf/local/catalog.yml``
    would be ignored. Here every env (but ``test``, see ``ENVS_WITHOUT_LOCAL``) reads
    ``base`` -> ``<env>`` -> ``local``: the later wins, with the merge strategy of the config
    key (parameters: soft, one nested key at a time); ``--params`` still win over all.
    Kedro has no multi-env inheritance (kedro-org/kedro discussion #3871), hence the subclass.

    It also registers a ``${project_root:}`` resolver (the folder that holds conf/): MLflow
    keeps a ``sqlite:///mlflow.db`` URI relative to the working directory, not the project,
    so a session opened from ``notebooks/`` would start a second, empty store. The tracking
    URI in mlflow.yml is anchored with this resolver instead.
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

    def __getitem__(self, key: str) -> dict[str, Any]:
        """``base`` + run env (Kedro), then ``conf/local`` merged on top."""
        if key == "parameters" and key not in self.data:
            return self._parameters()
        missing: MissingConfigException | None = None
        try:
            config = super().__getitem__(key)
        except MissingConfigException as err:
            # e.g. credentials: none in base or the env is fine when conf/local has them.
            config, missing = {}, err
        local = self._local_layer(key)
        if local is None:
            if missing is not None:
                raise missing
            return config
        local_path = self._get_conf_env_path(LOCAL_ENV)
        return self._merge_configs(config, local, key, local_path)  # type: ignore[no-any-return]

    def _parameters(self) -> dict[str, Any]:
        """All layers merged first, then resolved once (a soft merge, like Kedro's).

        Kedro resolves each env on its own, so ``task: ${task_spec:${task_name}}`` in base
        could not see a ``task_name`` or a task spec that conf/local adds. One resolution
        over the merged layers lets any layer (or ``--params``) pick or define the task.
        """
        self._register_runtime_params_resolver()
        run_env = self.env or self.default_run_env
        envs = [self.base_env] if run_env == self.base_env else [self.base_env, run_env]
        if self._applies_local(run_env) and Path(self._get_conf_env_path(LOCAL_ENV)).is_dir():
            envs.append(LOCAL_ENV)
        patterns = [*self.config_patterns["parameters"]]
        processed: set[Path] = set()
        layers = []
        for env in envs:
            files = self._read_dir_configs(
                self._get_conf_env_path(env), patterns, "parameters", processed
            )
            layers.extend(files.values())
        if not processed:
            raise MissingConfigException(
                f"No parameter files in {', '.join(envs)} matching {patterns}"
            )
        merged = OmegaConf.unsafe_merge(*layers, self.runtime_params)
        params = OmegaConf.to_container(merged, resolve=True)
        # Before any hook sees a parameter: kedro-mlflow logs them (and --params as the
        # `runtime_params` tag) as soon as the pipeline starts.
        refuse_secret_parameters(params, _plain(self.runtime_params or {}))  # type: ignore[arg-type]
        return _runtime_over_presets(params, self.runtime_params)  # type: ignore[arg-type]

    def _applies_local(self, run_env: str) -> bool:
        return (
            run_env not in (LOCAL_ENV, self.base_env, *ENVS_WITHOUT_LOCAL)
            and self._protocol == "file"
        )

    def _local_layer(self, key: str) -> dict[str, Any] | None:
        """The config of ``key`` in conf/local when the run env is another one, else None."""
        run_env = self.env or self.default_run_env
        if (
            key in self.data  # set explicitly on the loader, not read from files
            or key not in self.config_patterns
            or not self._applies_local(run_env)
        ):
            return None
        local_path = self._get_conf_env_path(LOCAL_ENV)
        if not Path(local_path).is_dir():
            return None
        configs = self._read_dir_configs(
            local_path,
            [*self.config_patterns[key]],
            key,
            set(),
            read_environment_variables=key == "credentials",
        )
        return self._merge_and_resolve(key, configs) if configs else None

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
        # Named students likewise: conf/<env>/students/<name>.yml holds `_student_<name>`.
        "parameters": [
            "parameters*",
            "parameters*/**",
            "**/parameters*",
            "tasks/*",
            "students/*",
        ],
        # kedro-mlflow's own pattern, declared here so that TrackingStoreHook can read the
        # tracking URI before kedro-mlflow's hook opens the store.
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
    },
    # An environment may override one nested parameter without restating its siblings.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    "custom_resolvers": {
        "task_spec": _task_spec,
        "student_preset": _student_preset,
        "student_presets": _student_presets,
    },
}
