"""Figures for reports: confusion matrix, training curve, bar comparisons, metric-vs-x lines,
the break-even of a distillation.

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot`` (no global
figure registry, no GUI backend), ready for ``matplotlib.MatplotlibDataset`` or
:func:`figure_png`.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_DPI = 110


def _suffix(simulated: bool) -> str:
    return " (SIMULATED teacher)" if simulated else ""


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    column_labels: Sequence[str] | None = None,
    *,
    title: str = "Confusion matrix",
) -> Figure:
    """Counts with row-normalised shading; rows are gold labels, columns predictions.

    ``column_labels`` defaults to ``row_labels``; pass one more (e.g. ``(invalid)``) for
    outputs that named no label.
    """
    counts = np.asarray(matrix, dtype=float)
    column_labels = list(column_labels if column_labels is not None else row_labels)
    if counts.shape != (len(row_labels), len(column_labels)):
        raise ValueError(
            f"matrix shape {counts.shape} does not match {len(row_labels)} row and "
            f"{len(column_labels)} column labels"
        )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    size = 1.2 + 0.9 * max(len(column_labels), 2)
    # Constrained layout and a figure-wide title: an axes title is centred over the matrix
    # alone, and a long one ran into the colour bar.
    fig = Figure(figsize=(size + 1.2, size), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(
                j,
                i,
                f"{int(counts[i, j])}\n{100 * shares[i, j]:.0f}%",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shares[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(column_labels)), labels=column_labels, rotation=30, ha="right")
    ax.set_yticks(range(len(row_labels)), labels=list(row_labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.suptitle(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
    return fig


def plot_training_curve(
    history: pd.DataFrame,
    *,
    step_column: str = "step",
    loss_columns: Sequence[str] = ("label_loss", "rationale_loss"),
    accuracy_column: str = "valid_accuracy",
    best_step: int | None = None,
    title: str = "Student training",
) -> Figure:
    """Losses per logging step (left axis) and validation accuracy per evaluation (right axis).

    Rows may carry only some of the columns (a logging row has losses, an evaluation row
    accuracy): each series is drawn from the rows where it is present. Missing columns are
    skipped; an empty history gives a figure that says so.
    """
    fig = Figure(figsize=(7, 4.2), dpi=_DPI)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(step_column.replace("_", " "))
    if history is None or history.empty or step_column not in history.columns:
        ax.text(0.5, 0.5, "no training history", ha="center", va="center", transform=ax.transAxes)
        return fig
    handles = []
    for column in loss_columns:
        if column not in history.columns:
            continue
        rows = history[[step_column, column]].dropna()
        if rows.empty:
            continue
        (line,) = ax.plot(rows[step_column], rows[column], label=column.replace("_", " "))
        handles.append(line)
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if accuracy_column in history.columns:
        rows = history[[step_column, accuracy_column]].dropna()
        if not rows.empty:
            acc_ax = ax.twinx()
            (line,) = acc_ax.plot(
                rows[step_column],
                100 * rows[accuracy_column],
                color="tab:green",
                marker="o",
                ms=4,
                label=accuracy_column.replace("_", " ") + " (%)",
            )
            acc_ax.set_ylabel("accuracy (%)")
            acc_ax.set_ylim(-2, 102)
            handles.append(line)
    if best_step is not None:
        handles.append(ax.axvline(best_step, color="0.4", ls="--", lw=1, label="best checkpoint"))
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
        )
    fig.tight_layout()
    return fig


def plot_accuracy_comparison(
    values: Mapping[str, float],
    *,
    title: str = "Test accuracy",
    ylabel: str = "accuracy (%)",
    simulated: bool = False,
    notes: Mapping[str, str] | None = None,
    references: Mapping[str, float] | None = None,
) -> Figure:
    """Bars of accuracies in [0, 1] shown in percent, e.g. ``{"student": .8, "teacher": .9}``.

    NaN values (a model that was not evaluated) are drawn as an empty slot marked "n/a".
    ``notes`` adds a second line under a bar's name (e.g. ``"n=50"``). ``references``
    draws labelled horizontal lines, e.g. the baselines ``{"majority class": .4}``. The
    axis always runs from 0 to 100%.
    """
    names = list(values)
    heights = [float(values[n]) for n in names]
    fig = Figure(figsize=(1.6 + 1.4 * max(len(names), 2), 4), dpi=_DPI)
    ax = fig.add_subplot()
    colors = [f"C{i}" for i in range(len(names))]
    drawn = [0.0 if math.isnan(h) else 100 * h for h in heights]
    bars = ax.bar(range(len(names)), drawn, color=colors, width=0.6)
    for bar, height in zip(bars, heights, strict=True):
        text = "n/a" if math.isnan(height) else f"{100 * height:.1f}"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1.5, text, ha="center")
    labels = [n if not notes or n not in notes else f"{n}\n{notes[n]}" for n in names]
    ax.set_xticks(range(len(names)), labels=labels)
    drawn_refs = _reference_lines(ax, references, 100.0)
    if drawn_refs:
        ax.legend(fontsize=8, loc="upper right")
    ax.set_ylim(0, 110)
    ax.set_ylabel(ylabel)
    ax.set_title(title + _suffix(simulated), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_break_even(
    teacher_usd_per_prediction: float,
    student_usd_per_prediction: float,
    investment_usd: float,
    break_even: int | None,
    *,
    title: str = "Cumulative cost: teacher vs distilled student",
    simulated: bool = False,
) -> Figure:
    """Cumulative USD against the number of predictions: the teacher answering every one,
    and the student starting at its distillation cost (``investment_usd``). The lines cross
    at ``break_even`` (marked); without one the axis runs to 1M predictions."""
    fig = Figure(figsize=(7, 4.2), dpi=_DPI)
    ax = fig.add_subplot()
    end = 2.5 * break_even if break_even else 1_000_000
    counts = np.linspace(0, end, 200)
    ax.plot(counts, teacher_usd_per_prediction * counts, label="teacher: every prediction paid")
    ax.plot(
        counts,
        investment_usd + student_usd_per_prediction * counts,
        label=f"student: distillation ${investment_usd:,.4g} + compute per prediction",
    )
    if break_even:
        cost = teacher_usd_per_prediction * break_even
        ax.plot([break_even], [cost], "o", color="black")
        ax.annotate(
            f"break-even: {break_even:,} predictions",
            (break_even, cost),
            textcoords="offset points",
            xytext=(8, -14),
            fontsize=9,
        )
    else:
        ax.text(
            0.98,
            0.04,
            "no break-even: the student never pays for itself",
            transform=ax.transAxes,
            ha="right",
            fontsize=9,
        )
    ax.set_xlabel("predictions")
    ax.set_ylabel("cumulative cost (USD)")
    ax.ticklabel_format(axis="x", style="plain")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:,.0f}")
    ax.set_xlim(0, end)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title + _suffix(simulated), fontsize=10)
    fig.tight_layout()
    return fig


def plot_metric_vs(
    frame: pd.DataFrame,
    x: str,
    y: str,
    group: str | None = None,
    *,
    references: Mapping[str, float] | None = None,
    percent: bool = True,
    y_range: tuple[float, float] | None = (0.0, 1.0),
    log_x: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """``y`` against ``x``, one line per value of ``group`` (e.g. accuracy vs explanation rate,
    one line per train fraction: the papers' figures).

    Rows with the same ``(group, x)`` are averaged (e.g. several seeds) and the min–max range
    is shaded. ``references`` draws horizontal lines, e.g. ``{"teacher": 0.9}`` or the
    baselines. ``percent`` shows y in [0, 1] as percent. ``y_range`` (in y's units) anchors
    the axis, by default the whole ``[0, 1]``: a zoomed axis makes noise look like a trend.
    ``None`` lets matplotlib fit the data.
    """
    missing = [c for c in (x, y, group) if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(f"frame has no column(s) {missing}; columns: {list(frame.columns)}")
    scale = 100.0 if percent else 1.0
    fig = Figure(figsize=(7, 4.2), dpi=_DPI)
    ax = fig.add_subplot()
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for key, rows in groups:
        stats = rows.groupby(x, sort=True)[y].agg(["mean", "min", "max"]).reset_index()
        label = None if key is None else f"{group} = {key}"
        (line,) = ax.plot(stats[x], scale * stats["mean"], marker="o", ms=4, label=label)
        if (stats["max"] > stats["min"]).any():
            ax.fill_between(
                stats[x],
                scale * stats["min"],
                scale * stats["max"],
                color=line.get_color(),
                alpha=0.15,
            )
    _reference_lines(ax, references, scale)
    if y_range is not None:
        low, high = y_range
        pad = 0.02 * (high - low)
        ax.set_ylim(scale * (low - pad), scale * (high + pad))
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel or x.replace("_", " "))
    ax.set_ylabel(ylabel or (y.replace("_", " ") + (" (%)" if percent else "")))
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if group is not None or references:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _reference_lines(ax: Any, references: Mapping[str, float] | None, scale: float) -> int:
    """Dashed horizontal lines with legend labels; returns how many were drawn."""
    drawn = 0
    for i, (name, value) in enumerate((references or {}).items()):
        if value is None or math.isnan(float(value)):
            continue
        ax.axhline(scale * float(value), color=f"C{7 + i % 3}", ls="--", lw=1, label=name)
        drawn += 1
    return drawn


def figure_png(fig: Figure, *, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes (in memory, no file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, bbox_inches="tight")
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,…`` for embedding a PNG in HTML or Markdown."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
