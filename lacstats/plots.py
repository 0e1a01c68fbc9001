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
    "cohort_sizes",
    "cost_by_risk_band",
    "design_totals",
    "fan_chart",
    "national_caterpillar",
    "need_profiles",
    "pit_histogram",
    "png",
    "posterior_predictive",
    "rank_histograms",
    "regional_sufficiency",
    "risk_cost_lines",
    "selection_bias",
    "setting_shares",
    "threshold_curves",
    "true_versus_estimated",
]

#: Colours used across the figures: the authority in focus, the others, interval lines.
PALETTE = {"focus": "#c44e52", "main": "#4c72b0", "others": "#bbbbbb", "interval": "#cccccc"}


def png(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, with no software or date stamp (same figure, same bytes).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from lacstats import plots
    >>> figure = Figure(figsize=(2, 2))
    >>> _ = figure.subplots().plot([0, 1], [0, 1])
    >>> data = plots.png(figure, dpi=50)
    >>> data[:8], data == plots.png(figure, dpi=50)
    (b'\\x89PNG\\r\\n\\x1a\\n', True)
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def setting_shares(shares: pd.DataFrame, *, label: str, other_label: str) -> Figure:
    """Horizontal bars of placement-setting shares: one authority beside the others.

    ``shares`` has one row per setting group and two columns (the authority's share and
    the others'); a missing share (suppressed) draws no bar.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> shares = pd.DataFrame({"Kent": [0.6, 0.3, 0.1], "rest of region": [0.7, 0.2, 0.1]}, index=["foster care", "children's homes", "other"])
    >>> figure = plots.setting_shares(shares, label="Kent", other_label="rest of region")
    >>> len(figure.axes)
    1
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
    effects: pd.DataFrame,
    *,
    highlight: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    with_n: bool = False,
) -> Figure:
    """Caterpillar plot of group effects on log cost, as percentage differences.

    ``effects`` has ``group``, ``mean``, ``ci_low`` and ``ci_high`` on the log scale (as
    :meth:`lacstats.hierarchical.HierarchicalResult.group_effects` gives them, with ``n``
    for ``with_n``); each is drawn as ``100 (exp(v) - 1)``. ``highlight`` names a group to
    draw in the focus colour.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> effects = pd.DataFrame({"group": ["Kent", "Medway", "Slough"], "mean": [0.05, -0.02, 0.10], "ci_low": [-0.05, -0.15, -0.04], "ci_high": [0.15, 0.11, 0.25]})
    >>> figure = plots.authority_effects(effects, highlight="Kent")
    >>> figure.axes[0].get_xlabel()
    'weekly cost versus the regional mean (%), same risk and setting'
    """
    ordered = effects.sort_values("mean")
    mean = _percent(ordered["mean"])
    fig = Figure(figsize=(6.5, 0.22 * len(ordered) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(ordered))
    ax.errorbar(
        mean,
        y,
        xerr=[mean - _percent(ordered["ci_low"]), _percent(ordered["ci_high"]) - mean],
        fmt="none",
        ecolor=PALETTE["interval"],
    )
    colours = [PALETTE["focus"] if g == highlight else PALETTE["main"] for g in ordered["group"]]
    ax.scatter(mean, y, c=colours, zorder=3, s=18)
    labels = (
        [f"{g} (n={n})" for g, n in zip(ordered["group"], ordered["n"], strict=True)]
        if with_n
        else list(ordered["group"])
    )
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel or "weekly cost versus the regional mean (%), same risk and setting")
    if title:
        ax.set_title(title)
    return fig


def fan_chart(projection: Any, *, title: str | None = None, largest: int = 4) -> Figure:
    """Children looked after projected month by month (mean and interval), in all and for
    the ``largest`` placement types, from a :class:`lacstats.projection.Projection`'s
    publishable stock table (the sum over its authorities).

    Examples
    --------
    >>> from lacstats import plots, projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> figure = plots.fan_chart(projection.stock_and_flow(cleaned, months=12, draws=100, rng=1))
    >>> len(figure.axes)
    2
    """
    table = projection.publishable()
    region = table["authority"].iloc[-1]
    table = table[table["authority"] == region]
    # constrained: a title over the two panels' own titles never overlaps them
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    total = table[table["placement_type"] == "All"]
    left.fill_between(
        total["month"],
        total["ci_low"],
        total["ci_high"],
        alpha=0.25,
        color=PALETTE["main"],
        label=f"{int(round(100 * projection.options.get('interval', 0.9)))}% interval",
    )
    left.plot(total["month"], total["mean"], color=PALETTE["main"], label="mean")
    left.set_title("Children looked after")
    left.set_xlabel(f"months from {projection.start.date()}")
    left.set_ylabel("children looked after")
    left.legend(frameon=False, fontsize=8)
    parts = table[table["placement_type"] != "All"]
    top = parts[parts["month"] == 0].sort_values("mean", ascending=False)["placement_type"]
    colours = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
    for name, colour in zip(top[:largest], colours, strict=False):
        line = parts[parts["placement_type"] == name]
        right.fill_between(line["month"], line["ci_low"], line["ci_high"], alpha=0.2, color=colour)
        right.plot(line["month"], line["mean"], color=colour, label=name)
    right.set_title(f"By placement type (largest {largest})")
    right.set_xlabel(f"months from {projection.start.date()}")
    right.set_ylabel("children in the placement type")
    right.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def pit_histogram(backtest: Any, *, title: str | None = None) -> Figure:
    """The PIT histogram of a :class:`lacstats.projection.Backtest`, one panel per
    pooling: flat when the projection's intervals are calibrated.

    Examples
    --------
    >>> from lacstats import plots, projection, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> tested = projection.backtest(data, origin="2021-04-01", horizon_months=6, history_years=1, draws=100, rng=1)
    >>> len(plots.pit_histogram(tested).axes)
    2
    """
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
    return fig


def _percent(values: Any) -> np.ndarray:
    """Effects on the log scale as percentage differences, 100 (exp(v) - 1)."""
    return 100 * (np.exp(np.asarray(values, dtype=float)) - 1)


def posterior_predictive(check: Any) -> Figure:
    """Histograms of the observed (log) response and of replicated data sets, from a
    :class:`lacstats.hierarchical.PosteriorPredictiveCheck`.

    Examples
    --------
    >>> from lacstats import plots, synthetic
    >>> from lacstats.hierarchical import HierarchicalModel
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=1000, tune=500, chains=4, rng=1, progress=False)
    >>> figure = plots.posterior_predictive(fit.ppc(cases, n_draws=100, keep=10, rng=1))
    >>> len(figure.axes) >= 1
    True
    """
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    bins = np.histogram_bin_edges(check.observed, bins=40)
    for rep in check.replicated:
        ax.hist(rep, bins=bins, histtype="step", color="#9ecae1", alpha=0.4, density=True)
    ax.hist(
        check.observed,
        bins=bins,
        histtype="step",
        color="black",
        lw=1.5,
        density=True,
        label="observed",
    )
    ax.set_xlabel(check.label)
    ax.set_title(
        f"Posterior predictive check (blue: {len(check.replicated)} replicated data sets)"
    )
    ax.legend(frameon=False)
    return fig


def true_versus_estimated(recovery: pd.DataFrame, *, level: float) -> Figure:
    """Method check: effects the generator set (``truth``) against their estimates
    (``mean``, ``ci_low``, ``ci_high``), all on the log scale, drawn as percentages; no
    group is named.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> recovery = pd.DataFrame({"truth": [-0.05, 0.0, 0.08], "mean": [-0.03, 0.01, 0.06], "ci_low": [-0.10, -0.06, -0.01], "ci_high": [0.04, 0.08, 0.13]})
    >>> figure = plots.true_versus_estimated(recovery, level=0.9)
    >>> len(figure.axes)
    1
    """
    truth, mean = _percent(recovery["truth"]), _percent(recovery["mean"])
    low, high = _percent(recovery["ci_low"]), _percent(recovery["ci_high"])
    fig = Figure(figsize=(4.8, 4.2))
    ax = fig.subplots()
    ax.errorbar(
        truth,
        mean,
        yerr=[mean - low, high - mean],
        fmt="o",
        color=PALETTE["main"],
        ecolor="#9ecae1",
        capsize=0,
    )
    lo, hi = min(low.min(), truth.min()), max(high.max(), truth.max())
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--")
    ax.set_xlabel("effect the generator set, %")
    ax.set_ylabel(f"estimated effect, % ({level:.0%} interval)")
    ax.set_title("Authority effects: true versus estimated (synthetic)", fontsize=10)
    return fig


def _pounds_log_axis(ax: Any) -> None:
    """A log y axis of weekly costs labelled as a reader writes them (£500, £1,000, £2,000,
    £5,000), not in powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"£{value:,.0f}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def cost_by_risk_band(cases: pd.DataFrame, *, high_cost: float, data: str) -> Figure:
    """Box plots of weekly cost (log scale) by band of risk score, without outliers (no
    single child is drawn), with the high-cost line.

    Examples
    --------
    >>> from lacstats import plots, synthetic
    >>> figure = plots.cost_by_risk_band(synthetic.complex_lac(rng=2019), high_cost=4800, data="the calibrated synthetic sample")
    >>> figure.axes[0].get_yscale()
    'log'
    """
    bands = pd.cut(
        cases["risk_score"].astype(float),
        [6, 12, 16, 20, 24, 35],
        labels=["7-12", "13-16", "17-20", "21-24", "25-35"],
    )
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    groups = [cases.loc[bands == b, "weekly_cost"].to_numpy() for b in bands.cat.categories]
    ax.boxplot(groups, tick_labels=list(bands.cat.categories), showfliers=False)
    _pounds_log_axis(ax)
    ax.axhline(high_cost, color="firebrick", lw=1, ls="--")
    ax.set_xlabel("risk score (sum of seven risk factors, 7-35)")
    ax.set_ylabel("weekly cost (£, log scale)")
    ax.set_title(f"Weekly cost by risk score band ({data})")
    return fig


def risk_cost_lines(lines: dict[str, dict[str, Any]]) -> Figure:
    """Weekly cost against risk score by setting group: binned means (``mids``,
    ``means``, ``sizes``: bins of at least five children) and a fitted line (``grid``,
    ``fitted``) per group.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import plots
    >>> lines = {"foster care": {"mids": [10, 15, 20], "means": [800, 900, 1000], "sizes": [40, 60, 30], "grid": np.linspace(7, 35, 5), "fitted": np.linspace(750, 1200, 5)}}
    >>> figure = plots.risk_cost_lines(lines)
    >>> figure.axes[0].get_yscale()
    'log'
    >>> figure.canvas.draw()
    >>> low, high = figure.axes[0].get_ylim()
    >>> [t.get_text() for t in figure.axes[0].get_yticklabels() if low <= t.get_position()[1] <= high]
    ['£1,000']
    """
    import matplotlib

    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    colours = matplotlib.colormaps["tab10"].colors
    for (label, line), colour in zip(lines.items(), colours, strict=False):
        ax.scatter(
            line["mids"],
            line["means"],
            color=colour,
            s=12 + np.asarray(line["sizes"]),
            alpha=0.6,
        )
        ax.plot(line["grid"], line["fitted"], color=colour, label=label)
    _pounds_log_axis(ax)
    ax.set_xlabel("risk score (sum of seven risk factors)")
    ax.set_ylabel("weekly cost (£, log scale)")
    ax.set_title("Weekly cost and risk score: binned means and fitted lines")
    ax.legend(frameon=False, fontsize=8)
    return fig


def need_profiles(profiles: pd.DataFrame, items: tuple[str, ...], *, method: str) -> Figure:
    """Heat map of each need profile's mean item scores (a ``NeedProfiles.profiles_``
    table: ``name``, ``share`` and ``mean_<item>``).

    Examples
    --------
    >>> from lacstats import plots, schema, synthetic
    >>> from lacstats.profiles import NeedProfiles
    >>> model = NeedProfiles(method="kmeans", n_profiles=3, n_init=5, rng=1).fit(synthetic.complex_lac(rng=2019))
    >>> figure = plots.need_profiles(model.profiles_, schema.NEED_ITEMS, method="k-means")
    >>> len(figure.axes) >= 1
    True
    """
    means = profiles[[f"mean_{i}" for i in items]].to_numpy()
    fig = Figure(figsize=(7, 0.6 * len(means) + 1.6))
    ax = fig.subplots()
    image = ax.imshow(means, cmap="viridis", vmin=1, vmax=5, aspect="auto")
    ax.set_xticks(
        range(len(items)),
        [i.replace("risk_", "").replace("_", " ") for i in items],
        rotation=40,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks(
        range(len(means)),
        [f"{n} ({s:.0%})" for n, s in zip(profiles["name"], profiles["share"], strict=True)],
        fontsize=8,
    )
    fig.colorbar(image, ax=ax, label="mean score (1-5)")
    ax.set_title(f"Need profiles ({method}): mean item scores")
    return fig


def cohort_sizes(summary: pd.DataFrame) -> Figure:
    """Each cohort's children and weekly cost (a ``cohorts.summarise`` table for all
    cases, indexed by cohort).

    Examples
    --------
    >>> from lacstats import cohorts, plots, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> summary = cohorts.summarise(cases, cohorts.assign(cases), by=None).set_index("cohort")
    >>> figure = plots.cohort_sizes(summary)
    >>> len(figure.axes)
    2
    """
    fig = Figure(figsize=(7, 3.6))
    left = fig.subplots()
    names = [n.replace("_", "\n") for n in summary.index]
    x = np.arange(len(names))
    left.bar(x - 0.2, summary["n"], width=0.4, color=PALETTE["main"], label="children")
    left.set_ylabel("children")
    right = left.twinx()
    right.bar(
        x + 0.2,
        summary["weekly_cost"] / 1000,
        width=0.4,
        color="#dd8452",
        label="weekly cost (£000)",
    )
    right.set_ylabel("weekly cost (£000)")
    left.set_xticks(x, names, fontsize=7)
    left.set_title("Commissioning cohorts: size and weekly cost")
    fig.legend(loc="upper right", frameon=False, fontsize=8)
    return fig


def selection_bias(summary: pd.DataFrame, labels: dict[str, str], *, reps: int) -> Figure:
    """Random versus most-expensive selection: bias of the regional estimate and the share
    of strata within the design's interval, per outcome (a ``selection_study`` summary).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> summary = pd.DataFrame({"method": ["random", "top_cost"], "outcome": ["far", "far"], "bias_points": [-0.2, 8.8], "strata_within_10": [0.95, 0.42]})
    >>> figure = plots.selection_bias(summary, {"far": "placed over 100 miles from home"}, reps=20)
    >>> len(figure.axes)
    2
    """
    import textwrap

    fig = Figure(figsize=(9, 3.6))
    axes = fig.subplots(1, 2)
    names = list(labels)
    x = np.arange(len(names))
    methods = {"random": "random selection", "top_cost": "most expensive first"}
    for offset, method, colour in ((-0.18, "random", "#4c72b0"), (0.18, "top_cost", "#dd8452")):
        part = summary[summary["method"] == method].set_index("outcome").reindex(names)
        axes[0].bar(
            x + offset, part["bias_points"], width=0.36, label=methods[method], color=colour
        )
        axes[1].bar(
            x + offset, part["strata_within_10"], width=0.36, label=methods[method], color=colour
        )
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set_ylabel("bias of regional estimate (points)")
    axes[1].axhline(0.95, color="black", lw=0.8, ls="--")
    axes[1].set_ylabel("authorities within the design's interval")
    for ax in axes:
        ax.set_xticks(x, [textwrap.fill(labels[n], 18) for n in names], fontsize=7)
    axes[0].legend(frameon=False)
    fig.suptitle(f"Most expensive placements first versus random selection ({reps} simulations)")
    return fig


def threshold_curves(thresholds: pd.DataFrame, *, high_cost: float, miles: float) -> Figure:
    """Cohort sizes as the high-cost and distance lines move (a
    ``threshold_sensitivity`` table), the study's lines dashed.

    Examples
    --------
    >>> from lacstats import plots, sensitivity, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> table = sensitivity.threshold_sensitivity(cases, high_cost=[4400, 4800, 5200], miles=[50, 100], n_jobs=1, progress=False)
    >>> figure = plots.threshold_curves(table, high_cost=4800, miles=100)
    >>> len(figure.axes)
    2
    """
    fig = Figure(figsize=(9.5, 3.6))
    axes = fig.subplots(1, 2)
    hc = thresholds[
        (thresholds["miles"] == miles) & (thresholds["output"] == "high_cost_residential_n")
    ]
    axes[0].plot(hc["high_cost"], hc["value"], marker="o")
    axes[0].axvline(high_cost, color="firebrick", ls="--", lw=1)
    axes[0].set_xlabel("high-cost line (GBP a week)")
    axes[0].set_ylabel("children in high-cost residential care")
    beyond = thresholds[
        (thresholds["high_cost"] == high_cost) & (thresholds["output"] == "keeping_local_n")
    ]
    axes[1].plot(beyond["miles"], beyond["value"], marker="o")
    axes[1].axvline(miles, color="firebrick", ls="--", lw=1)
    axes[1].set_xlabel("distance line (miles from home)")
    axes[1].set_ylabel("children placed beyond it")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Cohort sizes as the thresholds move (the study's lines dashed)")
    return fig


def design_totals(design: pd.DataFrame, *, strata: int, published: int | None = None) -> Figure:
    """Design totals by confidence and interval (a ``design_sensitivity`` table, CRS
    convention), with a published total if there is one.

    Examples
    --------
    >>> from lacstats import datasets, plots, sensitivity
    >>> frame = datasets.south_east_authorities(2017)
    >>> table = sensitivity.design_sensitivity(frame, confidence=[0.95], interval=[5, 10, 15], n_jobs=1, progress=False)
    >>> figure = plots.design_totals(table, strata=len(frame), published=1253)
    >>> figure.axes[0].get_xlabel()
    'interval (+/- percentage points)'
    """
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    levels = sorted(design["confidence"].unique())
    colours = ["#9ecae1", "#4c72b0", "#08306b", "#041a3d"]
    for conf, colour in zip(levels, colours, strict=False):
        part = design[(design["confidence"] == conf) & (design["output"] == "crs")]
        ax.plot(part["interval"], part["value"], marker="o", color=colour, label=f"{conf:.0%}")
    if published is not None:
        ax.axhline(published, color="firebrick", ls="--", lw=1, label=f"published {published:,}")
    ax.set_xlabel("interval (+/- percentage points)")
    ax.set_ylabel(f"total sample ({strata} authorities)")
    ax.set_yscale("log")
    ax.legend(frameon=False, title="confidence")
    ax.set_title("Design total by confidence and interval (CRS)")
    return fig


def rank_histograms(ranks: pd.DataFrame, *, draws: int, simulations: int) -> Figure:
    """Simulation-based calibration: one rank histogram per parameter (``parameter``,
    ``rank``), uniform if the sampler is calibrated.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> gen = np.random.default_rng(1)
    >>> ranks = pd.DataFrame({"parameter": np.repeat(["alpha", "beta"], 50), "rank": gen.integers(0, 101, 100)})
    >>> figure = plots.rank_histograms(ranks, draws=100, simulations=50)
    >>> len(figure.axes)
    2
    """
    names = list(dict.fromkeys(ranks["parameter"]))
    fig = Figure(figsize=(10, 2.6))
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    for ax, name in zip(axes, names, strict=True):
        ax.hist(
            ranks.loc[ranks["parameter"] == name, "rank"],
            bins=10,
            range=(0, draws + 1),
            color=PALETTE["main"],
        )
        ax.axhline(simulations / 10, color="black", ls="--", lw=0.8)
        ax.set_title(name)
    axes[0].set_ylabel("simulations")
    fig.suptitle("SBC rank histograms (uniform if calibrated)", y=1.04)
    return fig


def national_caterpillar(
    estimates: pd.DataFrame,
    *,
    national: float,
    xlabel: str,
    marked_label: str = "South East",
    extremes: int = 4,
) -> Figure:
    """Ranked dot plot of every authority's partial-pooling estimate and interval, readable
    at print size: the authorities are ranked, not named on the axis; the study's
    authorities (``marked``) and the ``extremes`` highest and lowest are labelled beside
    the panel, each label joined to its dot.

    ``estimates`` has ``authority``, ``estimate``, ``ci_low``, ``ci_high`` and ``marked``
    (bool: drawn in the focus colour and listed in the legend as ``marked_label``);
    ``national`` draws the national level as a vertical line. Sized for a page's width
    (6.5 inches) and saved as SVG by the analyses, so it stays sharp in print.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> estimates = pd.DataFrame({"authority": ["Kent", "Medway", "Leeds"], "estimate": [52.0, 61.0, 80.0], "ci_low": [49.0, 55.0, 75.0], "ci_high": [55.0, 67.0, 85.0], "marked": [True, True, False]})
    >>> figure = plots.national_caterpillar(estimates, national=65.0, xlabel="looked after per 10,000 children", extremes=1)
    >>> figure.axes[0].get_xlabel()
    'looked after per 10,000 children'
    >>> sorted(text.get_text() for text in figure.axes[0].texts)
    ['Kent', 'Leeds', 'Medway']
    """
    ordered = estimates.sort_values("estimate", ascending=True).reset_index(drop=True)
    n = len(ordered)
    y = np.arange(n)  # the highest estimate at the top
    marked = ordered["marked"].to_numpy(dtype=bool)
    labelled = marked.copy()
    labelled[:extremes] = True
    labelled[max(n - extremes, 0) :] = True
    fig = Figure(figsize=(6.5, min(3.9, 1.6 + 0.016 * n)))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.1, right=0.72, top=0.98, bottom=0.1)
    for mask, colour, label, size in (
        (~marked, PALETTE["main"], "other authorities", 5),
        (marked, PALETTE["focus"], marked_label, 12),
    ):
        ax.hlines(
            y[mask],
            ordered.loc[mask, "ci_low"],
            ordered.loc[mask, "ci_high"],
            color=colour,
            alpha=0.5,
            lw=0.7,
        )
        ax.scatter(
            ordered.loc[mask, "estimate"], y[mask], color=colour, s=size, zorder=3, label=label
        )
    ax.axvline(national, color="black", lw=0.9, label="national level")
    ax.set_ylim(-1, n)
    ranks = [*(r for r in (1, 25, 50, 75, 100, 125, 150) if r <= n - 10), n]
    ax.set_yticks([n - r for r in ranks], [str(r) for r in ranks])
    ax.set_ylabel("rank (1 = highest)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.set_xlabel(xlabel, fontsize=8.5)
    ax.grid(axis="x", color=PALETTE["interval"], lw=0.4)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    # labels in a column right of the panel, spread so that none overlaps another
    rows = np.flatnonzero(labelled)
    height = ax.get_position().height * fig.get_figheight() * 72  # points
    gap = 7.6 * (n + 1) / height  # one label's height in rows
    spots = _spread(y[rows].astype(float), gap, low=-1.0, high=float(n))
    right = ordered[["ci_high", "estimate"]].to_numpy().max()
    for row, spot in zip(rows, spots, strict=True):
        ax.annotate(
            ordered.loc[row, "authority"],
            xy=(ordered.loc[row, "ci_high"], y[row]),
            xycoords="data",
            xytext=(1.03, (spot + 1) / (n + 1)),
            textcoords="axes fraction",
            fontsize=6.8,
            va="center",
            color=PALETTE["focus"] if marked[row] else "black",
            arrowprops={"arrowstyle": "-", "color": PALETTE["others"], "lw": 0.5},
            annotation_clip=False,
        )
    ax.set_xlim(right=right + 0.02 * abs(right))
    return fig


def _spread(targets: np.ndarray, gap: float, *, low: float, high: float) -> np.ndarray:
    """Positions as near ``targets`` (ascending) as they can be, at least ``gap`` apart,
    within [low, high]."""
    spots = targets.copy()
    for i in range(1, len(spots)):
        spots[i] = max(spots[i], spots[i - 1] + gap)
    if len(spots):
        spots[-1] = min(spots[-1], high)
    for i in range(len(spots) - 2, -1, -1):
        spots[i] = min(spots[i], spots[i + 1] - gap)
    if len(spots) and spots[0] < low:  # more labels than fit: keep the order, squeeze
        spots = np.linspace(low, high, len(spots))
    return spots


def regional_sufficiency(table: pd.DataFrame, *, places: str, children: str, title: str) -> Figure:
    """Places beside children by region: ``table`` has ``region`` and the two count
    columns named by ``places`` and ``children``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import plots
    >>> table = pd.DataFrame({"region": ["South East", "London"], "places": [1200, 650], "children": [1500, 1900]})
    >>> figure = plots.regional_sufficiency(table, places="places", children="children", title="Places and children")
    >>> figure.axes[0].get_title()
    'Places and children'
    """
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
