"""The experiments comparison: requested and achieved explanation rates side by side."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from zeroshot_distill.pipelines.experiments.nodes import compare_variants

TEACHER = {"backend": "openai", "model": "gpt-4o-mini"}


def _result(rate: float, achieved: float, fraction: float = 1.0) -> dict[str, float | str]:
    return {
        "variant": f"er{int(rate * 100):03d}_tf{int(fraction * 1000):04d}",
        "explanation_rate": rate,
        "explanation_rate_achieved": achieved,
        "train_fraction": fraction,
        "n_train": 100,
        "n_train_with_rationale": int(achieved * 100),
        "n_test": 50,
        "accuracy": 0.5 + rate / 10,
        "macro_f1": 0.5,
        "invalid_rate": 0.0,
    }


def test_table_and_plot_use_the_achieved_rate() -> None:
    results = [_result(0.15, 0.15), _result(0.5, 0.2), _result(1.0, 0.2)]
    table, by_rate, by_size, markdown, _ = compare_variants(TEACHER, *results)
    try:
        assert table["explanation_rate_achieved"].tolist() == pytest.approx([0.15, 0.2, 0.2])
        assert "| 0.50 | 0.20 (fewer rationales exist) |" in markdown
        assert "| 0.15 | 0.15 |" in markdown
        xs = sorted(
            {round(float(x), 2) for line in by_rate.axes[0].lines for x in line.get_xdata()}
        )
        assert xs == [0.15, 0.2]  # the plot never shows the requested 0.5 / 1.0
        assert "achieved" in by_rate.axes[0].get_xlabel()
    finally:
        plt.close(by_rate)
        plt.close(by_size)


def test_results_without_the_achieved_column_still_render() -> None:
    old = _result(0.3, 0.3)
    del old["explanation_rate_achieved"]
    table, by_rate, by_size, _, _ = compare_variants(TEACHER, old)
    plt.close(by_rate)
    plt.close(by_size)
    assert table["explanation_rate_achieved"].tolist() == [0.3]
