"""The experiments grid comes from parameters_experiments.yml, read when pipelines are built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from zeroshot_distill.pipelines.experiments.grid import (
    EXPLANATION_RATES,
    SIZE_SWEEP_RATES,
    TRAIN_FRACTIONS,
    ExperimentsGrid,
    ExperimentsGridError,
    load_grid,
    variant_grid,
)
from zeroshot_distill.pipelines.experiments.pipeline import create_pipeline

ROOT = Path(__file__).resolve().parents[3]


def _project(tmp_path: Path) -> Path:
    """A copy of the project's conf/ and pyproject.toml (what load_grid reads)."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_shipped_file_holds_the_default_grid() -> None:
    shipped = yaml.safe_load((ROOT / "conf/base/parameters_experiments.yml").read_text())
    grid = ExperimentsGrid.from_params(shipped["experiments"])
    assert grid == ExperimentsGrid(EXPLANATION_RATES, TRAIN_FRACTIONS, SIZE_SWEEP_RATES)
    assert load_grid(ROOT, env="base") == grid
    assert len(variant_grid(*(getattr(grid, f) for f in grid.__dataclass_fields__))) == 13


def test_an_environment_overrides_the_grid(tmp_path: Path, monkeypatch) -> None:
    project = _project(tmp_path)
    (project / "conf/test/parameters_experiments.yml").write_text(
        "experiments:\n  explanation_rates: [0.3, 1.0]\n  size_sweep_rates: []\n"
    )
    grid = load_grid(project, env="test")
    assert grid.explanation_rates == (0.3, 1.0)
    assert grid.train_fractions == TRAIN_FRACTIONS  # not restated: kept from base
    assert load_grid(project, env="base").explanation_rates == EXPLANATION_RATES

    monkeypatch.chdir(project)
    monkeypatch.setenv("KEDRO_ENV", "test")
    names = {node.namespace for node in create_pipeline().nodes}
    assert names == {"experiments", "experiments.er030_tf1000", "experiments.er100_tf1000"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"explanation_rate": [0.5]}, "unknown key(s) experiments.explanation_rate"),
        ({"explanation_rates": 0.5}, "experiments.explanation_rates"),
        ({"explanation_rates": [0.5, 1.5]}, "got 1.5"),
        ({"train_fractions": [0.0, 1.0]}, "experiments.train_fractions"),
        ({"train_fractions": []}, "empty list"),
        ({"size_sweep_rates": ["half"]}, "got 'half'"),
    ],
)
def test_a_bad_grid_names_the_key_and_file(params: dict, message: str) -> None:
    with pytest.raises(ExperimentsGridError, match=r"parameters_experiments\.yml") as err:
        ExperimentsGrid.from_params(params)
    assert message in str(err.value)


def test_values_that_share_a_variant_name_are_refused() -> None:
    with pytest.raises(ExperimentsGridError, match="both variant 'er033_tf1000'"):
        create_pipeline(explanation_rates=[0.33, 0.331])
