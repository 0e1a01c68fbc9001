"""Projections of children looked after: a stock-and-flow simulation from the packaged
synthetic SSDA903 returns (with its fan chart and cost: a demonstration on synthetic data
that describe no authority), the South East's children aged 10 and over as the DfE 2019
rate times the population projection Evans (2020) printed (real data), and
Nottinghamshire's growth to a cap and the cost of its projected placement mix (arithmetic
on the figures of Nottinghamshire County Council's 2014 commissioning plan)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from lacstats import costs, datasets, disclosure, projection, ssda903

NAME = "projection"
TITLE = "LAC projections: stock and flow, rate x population, growth to a cap"
EXPECTED_SECONDS = 5  # on two cores; the longest analyses start first
MONTHS = 36
#: The day after the 2019-20 return: three full years of history behind it in fake903.
START = "2020-04-01"
EVIDENCE = "synthetic_check"
OBTAINED = "recomputed_from_rows"
RATE_YEAR = 2019  # DfE children looked after aged 10+ and ONS mid-2019 population
PROJECTION_YEAR = 2024  # the year of the printed population projection
INTERVAL = 0.9
RATE_CONFIDENCE = 0.95


def run(ctx) -> None:
    draws = 200 if ctx.fast else 1000
    cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
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
            result.rates.round(6), "events", dependent=("monthly_rate",)
        ),
    )
    units = costs.dorset_unit_costs()
    by_type = units[(units["provider"] == "") & (units["location"] == "")]
    cost = result.cost(by_type.set_index("placement_type")["weekly_cost"])
    ctx.table("projected_cost", cost.round(0))
    cost = cost[cost["placement_type"] == "All"]
    _fan_chart(ctx, result)
    total = result.stock[result.stock["placement_type"] == "All"].set_index("month")
    ctx.numbers(
        stock_start=(int(total.loc[0, "mean"]), "children looked after at the start"),
        stock_end_mean=(round(float(total.loc[MONTHS, "mean"]), 1), "children"),
        stock_end_low=(float(total.loc[MONTHS, "low"]), "children, 5th percentile"),
        stock_end_high=(float(total.loc[MONTHS, "high"]), "children, 95th percentile"),
        annual_cost_start=(int(cost["annual_cost"].iloc[0]), "GBP a year"),
        annual_cost_end=(int(cost["annual_cost"].iloc[-1]), "GBP a year"),
        start=(str(result.start.date()), "date"),
    )

    published = datasets.published_findings()
    ctx.settings(
        months=(MONTHS, "months projected"),
        stock_interval=(INTERVAL, "share of simulations inside the interval"),
        draws=(draws, "simulations"),
        rate_year=(RATE_YEAR, "year of the observed rate"),
        projection_year=(PROJECTION_YEAR, "year of the population projection"),
        rate_confidence=(RATE_CONFIDENCE, "level of the rate's interval"),
    )
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
    region = rates[["children", "projected", "projected_low", "projected_high", "change"]].sum()
    ctx.table("south_east_10_plus_2024", rates.round(1))
    ctx.numbers(
        evidence="real_data",
        obtained="recomputed_from_public_data",
        south_east_10_plus_2019=(int(region["children"]), "children aged 10+, March 2019"),
        south_east_10_plus_2020_rate_held=(
            round(float(one_year["projected"])),
            "children aged 10+ at the 2019 rates and the mid-2020 ONS population",
        ),
        south_east_10_plus_2024=(round(float(region["projected"])), "children aged 10+"),
        south_east_10_plus_2024_low=(round(float(region["projected_low"])), "children"),
        south_east_10_plus_2024_high=(round(float(region["projected_high"])), "children"),
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


def _fan_chart(ctx, result) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    total = result.stock[result.stock["placement_type"] == "All"]
    axes[0].fill_between(
        total["month"],
        total["low"],
        total["high"],
        alpha=0.25,
        color="tab:blue",
        label="90% interval",
    )
    axes[0].plot(total["month"], total["mean"], color="tab:blue", label="mean")
    axes[0].set_title("Children looked after")
    axes[0].set_xlabel(f"months from {result.start.date()}")
    axes[0].legend(frameon=False, fontsize=8)
    parts = result.stock[result.stock["placement_type"] != "All"]
    largest = parts[parts["month"] == 0].sort_values("mean", ascending=False)["placement_type"][:4]
    for name, colour in zip(largest, plt.cm.tab10.colors, strict=False):
        line = parts[parts["placement_type"] == name]
        axes[1].fill_between(line["month"], line["low"], line["high"], alpha=0.2, color=colour)
        axes[1].plot(line["month"], line["mean"], color=colour, label=name)
    axes[1].set_title("By placement type (largest four)")
    axes[1].set_xlabel("months")
    axes[1].legend(frameon=False, fontsize=8)
    fig.suptitle("Stock-and-flow projection, synthetic SSDA903 returns", fontsize=10)
    ctx.figure("fan_chart", fig)
    plt.close(fig)
