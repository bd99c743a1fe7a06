"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

from kedro.config import OmegaConfigLoader

from zeroshot_distill.hooks import SimulatedTeacherWarningHook

# kedro-mlflow registers its own hooks through its plugin entry point.
HOOKS = (SimulatedTeacherWarningHook(),)

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
}
