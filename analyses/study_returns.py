"""The study's own SSDA903 returns: the costs of the last collection year, the children
looked after at its 31 March and a projection from the day after, per authority and
pooled across the study's authorities, with a back-test of the projection against the
return that followed its origin (real data: the consortium's own, kind c).

A study names its returns in its file (``[ssda903] path = "returns/"``: a folder of one
authority's files, a regional extract with ``LA`` and ``YEAR`` columns, or a list of
them); they are read and checked once, before any analysis starts. Without them this
analysis does not run, and says that the SSDA903 sections of the run (the cost calculator
and the projections) demonstrate the packaged synthetic returns, which describe no
authority. Every published table is an aggregate with counts of 1 to 4 suppressed."""

from __future__ import annotations

import pandas as pd

from lacstats import plots, projection, publication, ssda903
from lacstats.analysis import RETURNS, Analysis, Context

ANALYSIS = Analysis(
    name="study_returns",
    title="The study's own SSDA903 returns: costs, children looked after at 31 March and "
    "projections, per authority and pooled, with a back-test",
    summary="the study's own SSDA903 returns (`[ssda903] path` in its study file): costs of "
    "the last year, children looked after at its 31 March and a stock-and-flow projection, "
    "per authority and pooled, with a back-test",
    evidence="real_data",
    obtained="recomputed_from_rows",
    reads=(RETURNS,),
    figures=("fan_chart",),
    paper="optional",
    order=12,
    expected_seconds=10,
)
MONTHS = 24
INTERVAL = 0.9
BACKTEST_MONTHS = 12
#: The unit costs (publication.cost_tables' default).
UNIT_COSTS = "Dorset County Council (2017), cost calculator sample report, Table 4"


def run(ctx: Context) -> None:
    data = ctx.returns()
    if data is None:
        ctx.skip(
            "the study names no SSDA903 returns of its own ([ssda903] path in the study "
            "file): the SSDA903 sections (the cost calculator, the projections) demonstrate "
            "the packaged synthetic returns, which describe no authority"
        )
    draws = 200 if ctx.fast else 1000
    cleaned = ssda903.clean(data)
    last = max(data.years)
    period = (ssda903.year_start(last), ssda903.year_end(last))
    census = period[1]
    # costs of the last collection year, pooled and per authority: the tables
    # `lacstats ssda903 --out` publishes, made by the same function (one rounding, one
    # suppression)
    tables = publication.cost_tables(data, cleaned=cleaned, census=census, period=period)
    for name, table in tables.tables().items():
        ctx.table(name, table)
    pooled = tables.costs_by_type

    # the children looked after at the year's 31 March, by authority and setting: the
    # cost tables' cases_by_setting (one table, so one suppression of each count)
    settings = tables.cases_by_setting
    authorities = settings["authority"].nunique() if "authority" in settings else 1

    # the projection from the day after, authorities pooled towards the study's rates
    start = census + pd.Timedelta(days=1)
    result = projection.stock_and_flow(
        cleaned, start=start, months=MONTHS, draws=draws, interval=INTERVAL, rng=ctx.seed
    )
    ctx.table("stock_and_flow", result.publishable().round(2))
    ctx.figure(
        "fan_chart",
        plots.fan_chart(result, title=f"Stock-and-flow projection, {ctx.study.title}"),
    )
    stock = result.stock
    total = stock[stock["placement_type"] == "All"]
    label = projection.REGION if (total["authority"] == projection.REGION).any() else None
    region = total[total["authority"] == (label or total["authority"].iloc[0])]
    region = region.set_index("month")
    overall = pooled.iloc[-1]
    ctx.numbers(
        returns=(len(data.years), "collection years"),
        first_year=(min(data.years), "collection year (end)"),
        last_year=(last, "collection year (end)"),
        authorities=(int(authorities), "authorities with children at 31 March"),
        children_at_census=(tables.children, f"children looked after on {census.date()}"),
        total_cost=(int(round(overall["total"])), f"GBP, year ending {census.date()}"),
        average_weekly=(int(round(overall["average_weekly"])), "GBP a week"),
        stock_start=(int(region.loc[0, "mean"]), "children at the start, all authorities"),
        stock_end_mean=(round(float(region.loc[MONTHS, "mean"]), 1), "children"),
    )
    _backtest(ctx, data, last, draws)
    ctx.settings(
        census_date=(str(census.date()), "date"),
        period_start=(str(period[0].date()), "date"),
        period_end=(str(period[1].date()), "date"),
        projection_start=(str(start.date()), "date"),
        months=(MONTHS, "months projected"),
        interval=(INTERVAL, "share of simulations inside the interval"),
        draws=(draws, "simulations"),
        backtest_months=(BACKTEST_MONTHS, "months"),
    )
    ctx.options.update(
        {
            "returns": ctx.study.returns_source,
            "period": [str(p.date()) for p in period],
            "census_date": str(census.date()),
            "unit_costs": UNIT_COSTS,
            "months": MONTHS,
            "draws": draws,
            "rng": ctx.seed,
            "continues": list(cleaned.continues),
        }
    )


def _backtest(ctx: Context, data, last: int, draws: int) -> None:
    """The projection from the start of the last collection year, with only the returns
    then filed, scored against that year's return: each authority alone and pooled."""
    if len(data.years) < 2:
        ctx.not_run("back-test", "the returns cover one collection year: nothing to test on")
        return
    origin = ssda903.year_start(last)
    tested = projection.backtest(
        data,
        origin=origin,
        horizon_months=BACKTEST_MONTHS,
        history_years=min(3, len(data.years) - 1),
        draws=min(draws, 200),
        pooling=("none", "partial"),
        rng=ctx.seed,
    )
    scores = tested.overall()
    ctx.table("backtest_scores", scores.round(4))
    for row in scores.itertuples():
        ctx.numbers(
            **{
                f"backtest_{row.pooling}_coverage_90": (
                    round(float(row.coverage_90), 3),
                    "share of months",
                ),
                f"backtest_{row.pooling}_mae": (round(float(row.mae), 2), "children"),
            }
        )
    ctx.settings(backtest_origin=(str(pd.Timestamp(origin).date()), "date"))
