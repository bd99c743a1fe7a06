"""The experiments sweep's grid: defaults here, the values in ``parameters_experiments.yml``.

Kedro builds pipelines before it loads parameters, and the grid decides which nodes and
datasets exist, so ``create_pipeline`` reads the ``experiments`` parameter files itself
when the pipelines are built. The run environment comes from
``KEDRO_ENV`` or the ``--env`` of the ``kedro`` command being run; ``--params`` cannot change
the grid (the pipeline has its shape by then): edit the file instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeroshot_distill.settings import current_run_env

GRID_FILE = "conf/base/parameters_experiments.yml"

# Vöge et al. 2024 (explanation rate) and Hsieh et al. 2023 (training-set size). The same
# values are in GRID_FILE; these apply where no project configuration can be read.
EXPLANATION_RATES = (0.0, 0.15, 0.33, 0.5, 0.66, 0.85, 1.0)
TRAIN_FRACTIONS = (0.125, 0.25, 0.5, 1.0)
# The size sweep compares label-only distillation with full step-by-step distillation.
SIZE_SWEEP_RATES = (0.0, 1.0)


class ExperimentsGridError(ValueError):
    """The ``experiments`` parameters do not describe a grid."""


@dataclass(frozen=True)
class ExperimentsGrid:
    """Explanation rates at the full training set, and the size sweep's rates x fractions."""

    explanation_rates: tuple[float, ...] = EXPLANATION_RATES
    train_fractions: tuple[float, ...] = TRAIN_FRACTIONS
    size_sweep_rates: tuple[float, ...] = SIZE_SWEEP_RATES

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any] | None, source: str = GRID_FILE
    ) -> ExperimentsGrid:
        """Validate the ``experiments`` parameter block (read from ``source``, named in
        errors); missing keys keep their defaults."""
        params = dict(params or {})
        unknown = sorted(set(params) - {"explanation_rates", "train_fractions", "size_sweep_rates"})
        if unknown:
            raise ExperimentsGridError(
                f"unknown key(s) experiments.{', experiments.'.join(unknown)} in {source}; "
                "known: explanation_rates, train_fractions, size_sweep_rates"
            )
        defaults = cls()
        return cls(
            explanation_rates=_shares(params, "explanation_rates", defaults, source, zero_ok=True),
            train_fractions=_shares(params, "train_fractions", defaults, source, zero_ok=False),
            size_sweep_rates=_shares(params, "size_sweep_rates", defaults, source, zero_ok=True),
        )


def _shares(
    params: Mapping[str, Any],
    key: str,
    defaults: ExperimentsGrid,
    source: str,
    *,
    zero_ok: bool,
) -> tuple[float, ...]:
    if key not in params:
        return tuple(getattr(defaults, key))
    values = params[key]
    low = "0" if zero_ok else "0 (excluded)"
    problem = f"experiments.{key} in {source} must be a list of numbers from {low} to 1"
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ExperimentsGridError(f"{problem}, got {values!r}")
    out: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExperimentsGridError(f"{problem}, got {value!r}")
        if not (0 <= value <= 1) or (value == 0 and not zero_ok):
            raise ExperimentsGridError(f"{problem}, got {value!r}")
        out.append(float(value))
    if key != "size_sweep_rates" and not out:
        raise ExperimentsGridError(f"{problem}, got an empty list")
    return tuple(out)


def load_grid(project_path: Path | None = None, env: str | None = None) -> ExperimentsGrid:
    """The ``experiments`` block of ``conf/base/parameters_experiments*.yml``, with the run
    env's (``conf/local`` when none) laid over it key by key.

    Only those files are read: the rest of the parameters (interpolations, task specs) is
    the session's business. Outside a Kedro project (no ``pyproject.toml`` with
    ``[tool.kedro]`` above the working directory) the defaults above apply.
    """
    from kedro.config import MissingConfigException, OmegaConfigLoader
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    project_path = project_path or find_kedro_project(Path.cwd())
    if project_path is None:
        return ExperimentsGrid()
    conf_source = Path(project_path) / settings.CONF_SOURCE
    if not conf_source.is_dir():
        return ExperimentsGrid()
    env = env or current_run_env() or "local"
    with warnings.catch_warnings():
        # Kedro's loader still calls OmegaConf's deprecated resolver API: not ours to fix,
        # and the session's own loader says so once anyway.
        warnings.filterwarnings("ignore", message="register_new_resolver", category=UserWarning)
        loader = OmegaConfigLoader(
            conf_source=str(conf_source),
            env=env,
            base_env="base",
            default_run_env="local",
            config_patterns={"experiments_grid": ["parameters_experiments*"]},
            merge_strategy={"experiments_grid": "soft"},
        )
        try:
            params = loader["experiments_grid"]
        except MissingConfigException:
            return ExperimentsGrid()
    layers = "conf/base" if env == "base" else f"conf/base or conf/{env}"
    source = f"{layers}/parameters_experiments.yml"
    return ExperimentsGrid.from_params(params.get("experiments"), source)


def variant_name(explanation_rate: float, train_fraction: float) -> str:
    """``(0.15, 1.0)`` -> ``er015_tf1000``."""
    return f"er{round(explanation_rate * 100):03d}_tf{round(train_fraction * 1000):04d}"


def variant_grid(
    explanation_rates: Iterable[float] = EXPLANATION_RATES,
    train_fractions: Iterable[float] = TRAIN_FRACTIONS,
    size_sweep_rates: Iterable[float] = SIZE_SWEEP_RATES,
) -> list[tuple[float, float]]:
    """Rates at the full training set, plus every fraction for the size-sweep rates."""
    fractions = sorted(set(train_fractions))
    full = max(fractions)
    grid = {(rate, full) for rate in explanation_rates}
    grid |= {(rate, fraction) for rate in size_sweep_rates for fraction in fractions}
    return sorted(grid, key=lambda v: (v[1], v[0]))
