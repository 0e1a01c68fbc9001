"""Projections of children looked after: a stock-and-flow simulation from the packaged
synthetic SSDA903 returns (with its fan chart and cost: a demonstration on synthetic data
that describe no authority) and its back-test against the returns that followed; a method
check of pooling rates across authorities on a simulated region (known rates); the South
East's children aged 10 and over as the DfE 2019 rate times the population projection
Evans (2020) printed (real data), and Nottinghamshire's growth to a cap and the cost of
its projected placement mix (arithmetic on the figures of Nottinghamshire County Council's
2014 commissioning plan)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats import costs, datasets, disclosure, plots, projection, ssda903
from lacstats.analysis import Analysis, Context

ANALYSIS = Analysis(
    name="projection",
    title="LAC projections: stock and flow, back-tests, rate x population, growth to a cap",
    summary="stock-and-flow projection from SSDA903 episodes (fan chart, cost), South East "
    "10+ rate x population, Nottinghamshire's growth to a cap",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    figures=("fan_chart", "backtest_pit", "pooling_check_pit"),
    paper="required",
    order=10,
    expected_seconds=20,  # on two cores; the longest analyses start first
)
MONTHS = 36
#: The day after the 2019-20 return: three full years of history behind it in fake903.
START = "2020-04-01"
RATE_YEAR = 2019  # DfE children looked after aged 10+ and ONS mid-2019 population
PROJECTION_YEAR = 2024  # the year of the printed population projection
INTERVAL = 0.9
RATE_CONFIDENCE = 0.95
#: The real-time back-tests of the packaged returns: every 1 April with a return behind it
#: and a year after it, scored 6 and 12 months ahead.
BACKTEST_ORIGINS = ("2018-04-01", "2019-04-01", "2020-04-01", "2021-04-01")
BACKTEST_HORIZONS = (6, 12)
#: The model and the fixed-rate model it replaced.
BACKTEST_MODELS = {
    "model": {},
    "fixed": {"drift": False, "groups": False, "revision": False},
}
#: The national test: each authority's 2018 and 2019 counts from the releases before.
NATIONAL_ORIGINS = ((2017, (1, 2)), (2018, (1,)))
NATIONAL_SERIES = (
    "lac_total",
    "foster",
    "placed_for_adoption",
    "with_parents",
    "other_community",
    "secure_homes_hostels",
    "other_residential",
    "residential_school",
    "other_placement",
)
#: The simulated region of the pooling check: 30 authorities of 5 to 25 children.
REGION_AUTHORITIES, REGION_SIZES = 30, (5, 25)


def run(ctx: Context) -> None:
    draws = 200 if ctx.fast else 1000
    data = ssda903.read(ssda903.fake903_path())
    cleaned = ssda903.clean(data)
    result = projection.stock_and_flow(
        cleaned, start=START, months=MONTHS, draws=draws, interval=INTERVAL, rng=ctx.seed
    )
    # month 0 is a real count of children: small placement types are pooled, and the
    # rates' event counts under 5 are suppressed with the rates they reveal
    ctx.table("stock_and_flow", result.publishable().round(2))
    ctx.table("exits_by_route", result.exits.round(2))
    ctx.table(
        "rates",
        disclosure.suppress_small_counts(
            result.rates.round(6), "events", dependent=("monthly_rate", "estimate")
        ),
    )
    units = costs.dorset_unit_costs()
    by_type = units[(units["provider"] == "") & (units["location"] == "")]
    cost = result.cost(by_type.set_index("placement_type")["weekly_cost"])
    ctx.table("projected_cost", cost.round(0))
    cost = cost[cost["placement_type"] == "All"]
    ctx.figure(
        "fan_chart",
        plots.fan_chart(result, title="Stock-and-flow projection, synthetic SSDA903 returns"),
    )
    total = result.stock[result.stock["placement_type"] == "All"].set_index("month")
    ctx.numbers(
        stock_start=(int(total.loc[0, "mean"]), "children looked after at the start"),
        stock_end_mean=(round(float(total.loc[MONTHS, "mean"]), 1), "children"),
        stock_end_low=(float(total.loc[MONTHS, "ci_low"]), "children, 5th percentile"),
        stock_end_high=(float(total.loc[MONTHS, "ci_high"]), "children, 95th percentile"),
        annual_cost_start=(int(cost["annual_cost"].iloc[0]), "GBP a year"),
        annual_cost_end=(int(cost["annual_cost"].iloc[-1]), "GBP a year"),
        start=(str(result.start.date()), "date"),
    )
    _backtests(ctx, data, draws)
    _national(ctx)

    published = ctx.study.published_figures()
    ctx.settings(
        months=(MONTHS, "months projected"),
        stock_interval=(INTERVAL, "share of simulations inside the interval"),
        draws=(draws, "simulations"),
        rate_year=(RATE_YEAR, "year of the observed rate"),
        projection_year=(PROJECTION_YEAR, "year of the population projection"),
        rate_confidence=(RATE_CONFIDENCE, "level of the rate's interval"),
    )
    if published is None or "population_projection_south_east" not in published:
        ctx.not_run(
            "the source documents' projections (South East aged 10+, Nottinghamshire)",
            "the study's published figures do not include them",
        )
        return
    frame = _south_east_population()
    by_authority = projection.rate_projection(
        frame[["authority", "children", "population"]],
        frame[["authority", "population_2020"]].rename(columns={"population_2020": "population"}),
        by="authority",
    ).merge(frame[["authority", "authority_type"]], on="authority")
    ctx.table("south_east_10_plus_by_authority", by_authority.round(2))
    one_year = by_authority[["children", "projected"]].sum()

    # the seed's 2024 projection by authority type (10-14 and 15-19); ages 15-17 are the
    # ONS mid-2019 share of the 15-19 band in the same authorities
    seed = published["population_projection_south_east"]
    areas = ("County", "Unitary")
    share = frame.groupby("authority_type")[["age_15_17", "age_15_19"]].sum()
    share = share["age_15_17"] / share["age_15_19"]

    def ten_to_17(year: int) -> list[float]:
        return [
            seed[f"{year}.10-14"][i] + share[area] * seed[f"{year}.15-19"][i]
            for i, area in enumerate(areas)
        ]

    lac = frame.groupby("authority_type")["children"].sum()
    observed = pd.DataFrame(
        {
            "area": areas,
            "children": [int(lac[a]) for a in areas],
            "population": ten_to_17(RATE_YEAR),
        }
    )
    target = pd.DataFrame({"area": areas, "population": ten_to_17(PROJECTION_YEAR)})
    rates = projection.rate_projection(observed, target, confidence=RATE_CONFIDENCE)
    region = rates[
        ["children", "projected", "projected_ci_low", "projected_ci_high", "change"]
    ].sum()
    ctx.table("south_east_10_plus_2024", rates.round(1).assign(level=rates["level"]))
    ctx.numbers(
        evidence="real_data",
        obtained="recomputed_from_public_data",
        south_east_10_plus_2019=(int(region["children"]), "children aged 10+, March 2019"),
        south_east_10_plus_2020_rate_held=(
            round(float(one_year["projected"])),
            "children aged 10+ at the 2019 rates and the mid-2020 ONS population",
        ),
        south_east_10_plus_2024=(round(float(region["projected"])), "children aged 10+"),
        south_east_10_plus_2024_low=(round(float(region["projected_ci_low"])), "children"),
        south_east_10_plus_2024_high=(round(float(region["projected_ci_high"])), "children"),
        south_east_10_plus_change=(round(float(region["change"])), "children"),
        share_15_17_of_15_19=(round(float(share.mean()), 4), "ONS mid-2019, South East"),
    )

    notts = published["nottinghamshire_unit_costs"]
    start = notts["children_december_2013"]
    growth = projection.growth_to_cap(
        start, per_month=notts["growth_per_month"], cap=notts["cap"], months=24
    )
    ctx.table("nottinghamshire_growth_to_cap", growth)
    ctx.settings(nottinghamshire_start_month=(notts["start_month"], "month of the start count"))
    months_to_cap = int(growth.loc[growth["children"] >= notts["cap"], "month"].min())
    mix_source = published["nottinghamshire_projection"]
    mix = pd.DataFrame(
        {year: values for year, values in mix_source.items() if year not in ("columns", "source")},
        index=mix_source["columns"],
    ).T
    mix_cost = projection.mix_cost(mix, notts["weekly"])
    ctx.table("nottinghamshire_mix_cost", mix_cost.round(0))
    ctx.numbers(
        evidence="real_data",
        obtained="arithmetic_on_published_inputs",
        nottinghamshire_start=(start, f"children looked after, {notts['start_month']}"),
        nottinghamshire_growth_per_month=(notts["growth_per_month"], "children a month"),
        nottinghamshire_cap=(notts["cap"], "children"),
        nottinghamshire_months_to_cap=(months_to_cap, "months from December 2013"),
        nottinghamshire_weekly_cost_2013_14=(int(mix_cost["weekly_cost"].iloc[0]), "GBP"),
        nottinghamshire_weekly_cost_2016_17=(int(mix_cost["weekly_cost"].iloc[-1]), "GBP"),
    )
    ctx.options.update(
        {
            "start": START,
            "months": MONTHS,
            "draws": draws,
            "rng": ctx.seed,
            "history_years": result.options["history_years"],
            "unit_costs": "Dorset cost calculator sample report, by type",
            "population": (
                "ONS mid-2019 and mid-2020 estimates; the 2024 projection Evans (2020) printed"
            ),
            "nottinghamshire_start": start,
        }
    )


def _south_east_population() -> pd.DataFrame:
    """DfE 2019 children looked after aged 10+ by South East authority, with the ONS
    mid-2019 and mid-2020 populations aged 10-17 (matched on the LA code, or on the name
    where the code changed: Buckinghamshire became a unitary authority in 2020)."""
    dfe = datasets.south_east_authorities(RATE_YEAR)[
        ["authority", "la_code", "authority_type", "lac_10_plus"]
    ].rename(columns={"lac_10_plus": "children"})
    ons19 = datasets.ons_population(RATE_YEAR, ages=(10, 17))
    ons19["age_15_17"] = ons19[["age_15", "age_16", "age_17"]].sum(axis=1)
    ons19["age_15_19"] = ons19[[f"age_{a}" for a in range(15, 20)]].sum(axis=1)
    ons20 = datasets.ons_population(2020, ages=(10, 17))
    frame = dfe.merge(
        ons19[["la_code", "population", "age_15_17", "age_15_19"]], on="la_code", how="left"
    )
    by_code = ons20.set_index("la_code")["population"]
    by_name = ons20.set_index("authority")["population"]
    frame["population_2020"] = (
        frame["la_code"].map(by_code).fillna(frame["authority"].map(by_name))
    )
    return frame


def _backtests(ctx, data, draws: int) -> None:
    """Real-time back-tests of the packaged returns: from each 1 April with a return
    behind it (BACKTEST_ORIGINS), with the returns then filed, scored 6 and 12 months ahead
    against the return covering each date; the model (drift, sibling groups, revisions)
    and the fixed-rate model it replaces, each with three years of history and with one.
    And pooling checked on a simulated region."""
    rows, frames = [], []
    for model, options in BACKTEST_MODELS.items():
        for years in (3, 1):
            tested = projection.backtest(
                data,
                origins=BACKTEST_ORIGINS,
                horizon_months=max(BACKTEST_HORIZONS),
                history_years=years,
                draws=min(draws, 300),
                pooling="none",
                rng=ctx.seed,
                **options,
            )
            table = tested.forecasts
            cells = table[table["month"].isin(BACKTEST_HORIZONS)]
            frames.append(cells.assign(model=model, history_years=years))
            for kind, part in (
                ("total", cells[cells["series"] == "total"]),
                ("cells", cells[cells["series"] != "age_band"]),
            ):
                rows.append({"model": model, "history_years": years, "kind": kind, **_cells(part)})
    scores = pd.DataFrame(rows)
    ctx.table("backtest_packaged_returns", pd.concat(frames, ignore_index=True).round(3))
    ctx.table("backtest_packaged_scores", scores.round(4))
    figures = {}
    for row in scores.itertuples(index=False):
        stem = f"backtest_{row.model}_{row.history_years}y_{row.kind}"
        figures[f"{stem}_coverage_90"] = (round(row.coverage_90, 3), "share of cells")
        figures[f"{stem}_coverage_50"] = (round(row.coverage_50, 3), "share of cells")
        figures[f"{stem}_mape"] = (round(row.mape, 3), "mean absolute percentage error")
        figures[f"{stem}_mean_pit"] = (round(row.mean_pit, 3), "")
        figures[f"{stem}_n"] = (int(row.forecasts), "cells")
    ctx.numbers(**figures)
    ctx.settings(
        backtest_first_origin=(BACKTEST_ORIGINS[0], "date"),
        backtest_last_origin=(BACKTEST_ORIGINS[-1], "date"),
        backtest_origins=(len(BACKTEST_ORIGINS), "origins"),
        backtest_short_horizon=(BACKTEST_HORIZONS[0], "months"),
        backtest_long_horizon=(BACKTEST_HORIZONS[-1], "months"),
    )

    # the method check: authorities that share rates (simulate_region), too small to
    # estimate their own well; synthetic, so the rates are known, never a finding
    low, high = REGION_SIZES
    sizes = np.random.default_rng(ctx.seed).integers(low, high, REGION_AUTHORITIES)
    extract = ssda903.simulate_region(
        {f"Authority {i:02d}": int(n) for i, n in enumerate(sizes)},
        years=tuple(range(2016, 2022)),
        rng=ctx.seed,
    )
    region = ssda903.from_frames(extract["header"], extract["episodes"])
    checked = projection.backtest(
        region,
        origin="2019-04-01",
        horizon_months=24,
        draws=min(draws, 200),
        pooling=("none", "partial", "complete"),
        rng=ctx.seed,
    )
    ctx.table("pooling_check_scores", checked.scores.round(4))
    ctx.table("pooling_check_pit", checked.pit.round(4))
    ctx.figure("pooling_check_pit", plots.pit_histogram(checked, title="Simulated region"))
    scores = checked.overall().set_index("pooling")
    for how in scores.index:
        ctx.numbers(
            **{
                f"pooling_check_{how}_mae": (round(float(scores.loc[how, "mae"]), 3), "children"),
                f"pooling_check_{how}_coverage_90": (
                    round(float(scores.loc[how, "coverage_90"]), 3),
                    "share of authority-months",
                ),
                f"pooling_check_{how}_coverage_50": (
                    round(float(scores.loc[how, "coverage_50"]), 3),
                    "share of authority-months",
                ),
            }
        )
    ctx.settings(pooling_check_authorities=(REGION_AUTHORITIES, "simulated authorities"))
    ctx.numbers(
        evidence="synthetic_check",
        obtained="generator_setting",
        pooling_check_children=(int(sizes.sum()), "children at a year end, simulated"),
    )


def _national(ctx) -> None:
    """Real data: each authority's children looked after at 31 March 2018 and 2019, in all
    and by placement type, forecast from the DfE releases of the years before (as first
    published) by the rate projection with year-to-year change, and scored against the
    releases of the target years."""
    panel = datasets.national_panel()
    frames = []
    for origin, horizons in NATIONAL_ORIGINS:
        fit = projection.rate_forecast(
            panel,
            NATIONAL_SERIES,
            origin_year=origin,
            horizons=horizons,
            population="population_under_18",
            rng=ctx.seed,
        )
        frames.append(fit.forecasts)
    table = pd.concat(frames, ignore_index=True)
    table["kind"] = np.where(table["series"] == "lac_total", "total", "placement type")
    rows = []
    for (kind, horizon), group in table.groupby(["kind", "horizon"], sort=True):
        rows.append({"kind": kind, "horizon_years": int(horizon), **_cells(group)})
    scores = pd.DataFrame(rows)
    ctx.table("national_rate_forecast_scores", scores.round(4))
    figures = {}
    for row in scores.itertuples(index=False):
        key = "total" if row.kind == "total" else "types"
        for name, value, unit in (
            ("coverage_90", row.coverage_90, "share of authorities (90% interval)"),
            ("coverage_50", row.coverage_50, "share of authorities (50% interval)"),
            ("mape", row.mape, "mean absolute percentage error"),
            ("forecasts", row.forecasts, "authority forecasts scored"),
        ):
            value = int(value) if name == "forecasts" else round(float(value), 3)
            figures[f"national_{key}_h{row.horizon_years}_{name}"] = (value, unit)
    ctx.numbers(evidence="real_data", obtained="recomputed_from_public_data", **figures)
    ctx.settings(
        national_level=(projection.LEVEL, "level of the forecast interval"),
        national_first_target=(2018, "year"),
        national_last_target=(2019, "year"),
    )


def _cells(rows: pd.DataFrame) -> dict:
    """The package's scores of forecast rows (projection.forecast_score), in the columns
    and order of this analysis's tables."""
    score = projection.forecast_score(rows)
    return {k: score[k] for k in ("forecasts", "coverage_90", "coverage_50", "mape", "mean_pit")}
