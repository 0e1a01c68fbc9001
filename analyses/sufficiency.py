"""Sufficiency and costs: South East foster places (Ofsted), Dorset's in-house fostering
savings, Nottinghamshire's growth-to-cap and the cost of its projected placement mix."""

from __future__ import annotations

import pandas as pd

from lacstats import costs, datasets, findings, projection

NAME = "sufficiency"
TITLE = "Foster places in the South East, Dorset savings, Nottinghamshire projections"
PLACES = {
    "foster_places_approved": "Number of approved foster places",
    "foster_places_filled": "Number of filled places",
    "foster_places_vacant": "Number of vacant places",
    "foster_places_not_available": "Number of places not available",
}


def run(ctx) -> None:
    published = datasets.published_findings()
    rows = []

    fostering = datasets.ofsted_fostering(2019)
    region = fostering[fostering["area"] == "South East"].set_index("measure")["value"]
    places = {key: int(region[measure]) for key, measure in PLACES.items()}
    ctx.table("south_east_foster_places", pd.DataFrame([places]))
    source = published["provision_south_east"]
    for key, value in places.items():
        rows.append(
            _row(
                f"provision_south_east.{key}",
                "Ofsted 2018-19, South East column",
                "places",
                source[key],
                value,
                source["source"],
            )
        )
    share = findings.percent_one_decimal(
        places["foster_places_not_available"], places["foster_places_approved"]
    )
    rows.append(
        _row(
            "provision_south_east.not_available_percent",
            "not available / approved",
            "percent (one decimal)",
            "18.4%",
            share,
            source["source"],
        )
    )
    ctx.numbers(
        **{k: (v, "places") for k, v in places.items()},
        not_available_percent=(share, "percent of approved places"),
    )

    dorset = published["dorset_in_house_fostering"]
    table = pd.DataFrame(
        dorset["rows"],
        columns=[
            "change",
            "children",
            "weekly_cost",
            "new_weekly_cost",
            "weekly_saving",
            "annual_saving",
        ],
    )
    result = costs.savings(table, weeks=dorset["weeks_per_year"]).to_frame()
    ctx.table("dorset_in_house_fostering", result)
    for i, row in result.iterrows():
        for field in ("weekly_saving", "annual_saving"):
            rows.append(
                _row(
                    f"dorset_in_house_fostering.row{i + 1}.{field}",
                    f"{row['change']}: weekly cost minus in-house cost"
                    + (" x 52" if field == "annual_saving" else ""),
                    "GBP",
                    int(table.loc[i, field]),
                    int(round(row[field])),
                    dorset["source"],
                )
            )
    ctx.numbers(dorset_full_year_avoided=(int(result["annual_saving"].sum()), "GBP a year"))

    notts = published["nottinghamshire_unit_costs"]
    growth = projection.growth_to_cap(
        885, per_month=notts["growth_per_month"], cap=notts["cap"], months=24
    )
    ctx.table("nottinghamshire_growth_to_cap", growth)
    months_to_cap = int(growth.loc[growth["children"] >= notts["cap"], "month"].min())
    ctx.numbers(nottinghamshire_months_to_cap=(months_to_cap, "months from 885 (Dec 2013)"))
    mix = pd.DataFrame(
        {
            year: values
            for year, values in published["nottinghamshire_projection"].items()
            if year != "columns" and year != "source"
        },
        index=published["nottinghamshire_projection"]["columns"],
    ).T
    unit = {
        "internal_fostering": notts["weekly"]["internal_fostering"],
        "external_fostering": notts["weekly"]["external_fostering"],
        "internal_residential": notts["weekly"]["internal_residential"],
        "external_residential": notts["weekly"]["external_residential"],
    }
    cost = projection.mix_cost(mix, unit)
    ctx.table("nottinghamshire_mix_cost", cost.round(0))
    ctx.numbers(
        nottinghamshire_weekly_cost_2013_14=(int(cost["weekly_cost"].iloc[0]), "GBP"),
        nottinghamshire_weekly_cost_2016_17=(int(cost["weekly_cost"].iloc[-1]), "GBP"),
    )
    ctx.findings(pd.DataFrame(rows))
    ctx.options.update(
        {
            "ofsted_year": 2019,
            "dorset_weeks": dorset["weeks_per_year"],
            "nottinghamshire_start": 885,
        }
    )


def _row(key, definition, unit, published, reproduced, source):
    return {
        "finding": key,
        "definition": definition,
        "unit": unit,
        "published": published,
        "reproduced": reproduced,
        "rule": "exact",
        "match": published == reproduced,
        "source": source,
    }
