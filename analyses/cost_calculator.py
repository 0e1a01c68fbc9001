"""The cost calculator (Dorset County Council 2017, appendix): Table 4's totals checked
against its own rows (arithmetic on published inputs: the table is the report's test data,
not Dorset's), and the same tables, by placement type, provider and location and by need
group and age, on the packaged synthetic SSDA903 returns priced with the table's unit costs
(a demonstration on synthetic data that describe no authority)."""

from __future__ import annotations

import pandas as pd

from lacstats import costs, findings, publication, ssda903
from lacstats.analysis import Analysis, Context

ANALYSIS = Analysis(
    name="cost_calculator",
    title="Cost calculator: Dorset's sample report and the synthetic SSDA903 returns",
    summary="Dorset's cost calculator report recomputed; costs by type, provider, location, "
    "need and age from SSDA903 returns",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    paper="required",
    order=8,
)
PERIOD = ("2019-04-01", "2020-03-31")
CENSUS = "2020-03-31"
#: Table 4 prints each row's weeks to one decimal: 32 rows' rounding allows this much.
WEEKS_TOLERANCE = 0.15


def run(ctx: Context) -> None:
    published = ctx.study.published_figures()
    if published is None or "dorset_cost_calculator_sample" not in published:
        ctx.skip("the study's published figures do not include Dorset's cost calculator report")
    sample = published["dorset_cost_calculator_sample"]
    rows = pd.DataFrame(
        sample["rows"],
        columns=["placement_type", "provider", "location", "total", "weeks", "average"],
    )
    total = int(rows["total"].sum())
    weeks = round(float(rows["weeks"].sum()), 1)
    average = int(round(total / sample["all_types_weeks"]))
    groups = pd.DataFrame(sample["age_needs_groups"], columns=["group", "children", "total"])
    checks = [
        ("all_types_total", "sum of the rows' totals", "GBP", sample["all_types_total"], total),
        (
            "all_types_mean_weekly",
            "total / time in weeks",
            "GBP a week",
            sample["all_types_mean_weekly"],
            average,
        ),
        (
            "age_needs_children",
            "sum of the need groups' children",
            "children",
            sample["age_needs_children"],
            int(groups["children"].sum()),
        ),
        (
            "age_needs_total",
            "sum of the need groups' totals",
            "GBP",
            sample["age_needs_total"],
            int(groups["total"].sum()),
        ),
    ]
    found = [
        findings.row(
            f"dorset_cost_calculator_sample.{key}",
            f"Cost calculator sample report (Table 4): {definition}",
            unit,
            printed,
            value,
            sample["source"],
            obtained="arithmetic_on_published_inputs",
        )
        for key, definition, unit, printed, value in checks
    ]
    found.append(
        findings.row(
            "dorset_cost_calculator_sample.all_types_weeks",
            "Cost calculator sample report (Table 4): sum of the rows' weeks",
            "weeks",
            sample["all_types_weeks"],
            weeks,
            sample["source"],
            obtained="arithmetic_on_published_inputs",
            rule=f"within {WEEKS_TOLERANCE} weeks",
            match=abs(weeks - sample["all_types_weeks"]) <= WEEKS_TOLERANCE,
            explanation=(
                f"Each of the {len(rows)} rows prints its weeks to one decimal, so their sum "
                f"may differ from the printed total by up to {WEEKS_TOLERANCE} weeks here."
            ),
        )
    )
    rows["recomputed_average"] = (rows["total"] / rows["weeks"]).round(0)
    ctx.table("dorset_table4", rows)
    ctx.findings(findings.frame(found))

    units = costs.dorset_unit_costs()
    ctx.table("unit_costs", units.round(2))
    data = ssda903.read(ssda903.fake903_path())
    cleaned = ssda903.clean(data)
    # the tables `lacstats ssda903 --out` publishes, made by the same function
    tables = publication.cost_tables(
        data, cleaned=cleaned, unit_costs=units, census=CENSUS, period=PERIOD
    )
    for name, table in tables.tables().items():
        ctx.table(name, table)
    overall = tables.costs_by_type.iloc[-1]  # all placement types: never suppressed
    ctx.numbers(
        returns=(len(data.years), "collection years"),
        children_at_census=(tables.children, "children looked after on 31 March 2020"),
        total_cost=(int(round(overall["total"])), "GBP, 2019-20"),
        total_weeks=(round(float(overall["weeks"]), 1), "weeks, 2019-20"),
        average_weekly=(int(round(overall["average_weekly"])), "GBP a week"),
        repeated_episodes=(
            int(
                cleaned.report.set_index("step")["count"][
                    "episodes repeated across or within returns, latest kept"
                ]
            ),
            "episodes repeated across returns",
        ),
    )
    ctx.numbers(
        evidence="real_data",
        obtained="arithmetic_on_published_inputs",
        dorset_all_types_total=(total, "GBP"),
        dorset_all_types_mean_weekly=(average, "GBP a week"),
    )
    ctx.settings(
        census_year=(pd.Timestamp(CENSUS).year, "year of the census date"),
        period_start=(PERIOD[0], "date"),
        period_end=(PERIOD[1], "date"),
    )
    ctx.options.update(
        {
            "period": list(PERIOD),
            "census_date": CENSUS,
            "unit_costs": "Dorset County Council (2017), cost calculator sample report, Table 4",
            "continues": list(cleaned.continues),
            "returns": "lacstats/datasets/data/ssda903/fake903 (Social Finance, synthetic)",
        }
    )
