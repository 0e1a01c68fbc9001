"""Figures from results: the one module that draws.

Each function takes a result (a table or result object of the statistical modules) and
returns a :class:`matplotlib.figure.Figure`; it never chooses a backend, shows or saves a
figure. Figures are built with :class:`matplotlib.figure.Figure` directly, not through
``pyplot``, so they hold no global state, need no ``close`` and draw the same in a
notebook, a worker process or a headless run. :func:`png` renders one to bytes for the
self-contained pages of :mod:`lacstats.reporting`; the analyses save theirs through
:meth:`lacstats.reproduce.Context.figure`.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "authority_effects",
    "fan_chart",
    "national_caterpillar",
    "pit_histogram",
    "png",
    "regional_sufficiency",
    "setting_shares",
]

#: Colours used across the figures: the authority in focus, the others, interval lines.
PALETTE = {"focus": "#c44e52", "main": "#4c72b0", "others": "#bbbbbb", "interval": "#cccccc"}


def png(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, with no software or date stamp (same figure, same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def setting_shares(shares: pd.DataFrame, *, label: str, other_label: str) -> Figure:
    """Horizontal bars of placement-setting shares: one authority beside the others.

    ``shares`` has one row per setting group and two columns (the authority's share and
    the others'); a missing share (suppressed) draws no bar.
    """
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.subplots()
    y = np.arange(len(shares))
    ax.barh(y - 0.2, shares.iloc[:, 0], height=0.4, color=PALETTE["main"], label=label)
    ax.barh(y + 0.2, shares.iloc[:, 1], height=0.4, color=PALETTE["others"], label=other_label)
    ax.set_yticks(y, shares.index, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of sampled children (suppressed shares not shown)")
    ax.legend(frameon=False, fontsize=8)
    return fig


def authority_effects(
    effects: pd.DataFrame, *, highlight: str | None = None, xlabel: str | None = None
) -> Figure:
    """Caterpillar plot of group effects on log cost, as percentage differences.

    ``effects`` has ``group``, ``mean``, ``ci_low`` and ``ci_high`` on the log scale (as
    :meth:`lacstats.hierarchical.HierarchicalResult.group_effects` gives them); each is
    drawn as ``100 (exp(v) - 1)``. ``highlight`` names a group to draw in the focus colour.
    """
    ordered = effects.sort_values("mean")

    def pct(values: pd.Series) -> np.ndarray:
        return 100 * (np.exp(values.to_numpy(dtype=float)) - 1)

    mean = pct(ordered["mean"])
    fig = Figure(figsize=(6.5, 0.22 * len(ordered) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(ordered))
    ax.errorbar(
        mean,
        y,
        xerr=[mean - pct(ordered["ci_low"]), pct(ordered["ci_high"]) - mean],
        fmt="none",
        ecolor=PALETTE["interval"],
    )
    colours = [PALETTE["focus"] if g == highlight else PALETTE["main"] for g in ordered["group"]]
    ax.scatter(mean, y, c=colours, zorder=3, s=18)
    ax.set_yticks(y, ordered["group"], fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel or "weekly cost versus the regional mean (%), same risk and setting")
    return fig


def fan_chart(projection: Any, *, title: str | None = None, largest: int = 4) -> Figure:
    """Children looked after projected month by month (mean and interval), in all and for
    the ``largest`` placement types, from a :class:`lacstats.projection.Projection`'s
    publishable stock table (the sum over its authorities)."""
    table = projection.publishable()
    region = table["authority"].iloc[-1]
    table = table[table["authority"] == region]
    fig = Figure(figsize=(9, 3.6))
    left, right = fig.subplots(1, 2)
    total = table[table["placement_type"] == "All"]
    left.fill_between(
        total["month"],
        total["low"],
        total["high"],
        alpha=0.25,
        color=PALETTE["main"],
        label=f"{int(round(100 * projection.options.get('interval', 0.9)))}% interval",
    )
    left.plot(total["month"], total["mean"], color=PALETTE["main"], label="mean")
    left.set_title("Children looked after")
    left.set_xlabel(f"months from {projection.start.date()}")
    left.legend(frameon=False, fontsize=8)
    parts = table[table["placement_type"] != "All"]
    top = parts[parts["month"] == 0].sort_values("mean", ascending=False)["placement_type"]
    colours = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
    for name, colour in zip(top[:largest], colours, strict=False):
        line = parts[parts["placement_type"] == name]
        right.fill_between(line["month"], line["low"], line["high"], alpha=0.2, color=colour)
        right.plot(line["month"], line["mean"], color=colour, label=name)
    right.set_title(f"By placement type (largest {largest})")
    right.set_xlabel("months")
    right.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def pit_histogram(backtest: Any, *, title: str | None = None) -> Figure:
    """The PIT histogram of a :class:`lacstats.projection.Backtest`, one panel per
    pooling: flat when the projection's intervals are calibrated."""
    pit = backtest.pit
    poolings = list(dict.fromkeys(pit["pooling"]))
    fig = Figure(figsize=(3.2 * len(poolings) + 0.5, 3))
    axes = np.atleast_1d(fig.subplots(1, len(poolings), sharey=True))
    for ax, how in zip(axes, poolings, strict=True):
        rows = pit[pit["pooling"] == how]
        ax.bar(
            rows["bin_low"],
            rows["share"],
            width=rows["bin_high"] - rows["bin_low"],
            align="edge",
            color=PALETTE["main"],
            edgecolor="white",
        )
        ax.axhline(1 / len(rows), color="black", lw=0.8, ls="--")
        ax.set_title(f"pooling: {how}", fontsize=9)
        ax.set_xlabel("mid-PIT")
    axes[0].set_ylabel("share of authority-months")
    if title:
        fig.suptitle(title, fontsize=10)


def national_caterpillar(
    estimates: pd.DataFrame,
    *,
    national: float,
    xlabel: str,
    marked_label: str = "South East",
) -> Figure:
    """Caterpillar plot of every authority's partial-pooling estimate and interval.

    ``estimates`` has ``authority``, ``estimate``, ``ci_low``, ``ci_high`` and ``marked``
    (bool: drawn in the focus colour and listed in the legend as ``marked_label``);
    ``national`` draws the national level as a vertical line.
    """
    ordered = estimates.sort_values("estimate").reset_index(drop=True)
    fig = Figure(figsize=(6.5, 0.085 * len(ordered) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(ordered))
    marked = ordered["marked"].to_numpy(dtype=bool)
    for mask, colour, label in (
        (~marked, PALETTE["main"], "other authorities"),
        (marked, PALETTE["focus"], marked_label),
    ):
        ax.hlines(
            y[mask],
            ordered.loc[mask, "ci_low"],
            ordered.loc[mask, "ci_high"],
            color=colour,
            alpha=0.45,
            lw=0.8,
        )
        ax.scatter(
            ordered.loc[mask, "estimate"], y[mask], color=colour, s=6, zorder=3, label=label
        )
    ax.axvline(national, color="black", lw=0.8, label="national level")
    ax.set_yticks(y, ordered["authority"], fontsize=3.2)
    ax.set_ylim(-1, len(ordered))
    ax.set_xlabel(xlabel, fontsize=8)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return fig


def regional_sufficiency(table: pd.DataFrame, *, places: str, children: str, title: str) -> Figure:
    """Places beside children by region: ``table`` has ``region`` and the two count
    columns named by ``places`` and ``children``."""
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    y = np.arange(len(table))
    ax.barh(
        y - 0.2, table[places], height=0.4, color=PALETTE["main"], label=places.replace("_", " ")
    )
    ax.barh(
        y + 0.2,
        table[children],
        height=0.4,
        color=PALETTE["others"],
        label=children.replace("_", " "),
    )
    ax.set_yticks(y, table["region"], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=7)
    return fig
