"""The experiments comparison: baselines in the table, the text and on honest axes."""

from __future__ import annotations

from zeroshot_distill.pipelines.experiments.nodes import compare_variants

TEACHER = {"backend": "openai", "model": "gpt-4o-mini"}


def _row(variant: str, rate: float, fraction: float, accuracy: float) -> dict:
    return {
        "variant": variant,
        "explanation_rate": rate,
        "train_fraction": fraction,
        "n_train": int(100 * fraction),
        "n_train_with_rationale": int(100 * fraction * rate),
        "n_test": 48,
        "accuracy": accuracy,
        "macro_f1": accuracy,
        "invalid_rate": 0.0,
        "majority_baseline": 0.396,
        "chance_baseline": 1 / 3,
        "beats_majority": accuracy > 0.396,
    }


def test_comparison_shows_the_baselines_and_anchors_the_axis():
    _, by_rate, by_size, markdown, _ = compare_variants(
        TEACHER, _row("a", 0.0, 1.0, 0.271), _row("b", 1.0, 1.0, 0.292), _row("c", 1.0, 0.5, 0.5)
    )
    assert "majority class 39.6%, chance 33.3%" in markdown
    assert "**1 of 3 variant(s) beat the majority class**" in markdown
    assert "| -12.5 pts |" in markdown  # 27.1% vs 39.6%
    for figure in (by_rate, by_size):
        ax = figure.axes[0]
        low, high = ax.get_ylim()
        assert low <= 0 and high >= 100  # 0-100%, not zoomed on a one-row difference
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "majority class" in legend and "chance" in legend


def test_no_variant_beating_the_majority_is_said_plainly():
    _, _, _, markdown, _ = compare_variants(
        TEACHER, _row("a", 0.0, 1.0, 0.27), _row("b", 1.0, 1.0, 0.29)
    )
    assert "0 of 2 variant(s) beat the majority class**: no student learned the task" in markdown
