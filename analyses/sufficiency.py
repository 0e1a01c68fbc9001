"""Sufficiency: the South East's foster places (Ofsted 2018-19) as the project printed
them, and the sufficiency table of every region from the same file."""

from __future__ import annotations

import pandas as pd

from lacstats import datasets, findings

NAME = "sufficiency"
TITLE = "Foster places in the South East and every region (Ofsted 2018-19)"
PLACES = {
    "foster_places_approved": "Number of approved foster places",
    "foster_places_filled": "Number of filled places",
    "foster_places_vacant": "Number of vacant places",
    "foster_places_not_available": "Number of places not available",
}
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "England",
)


def run(ctx) -> None:
    published = datasets.published_findings()
    source = published["provision_south_east"]
    fostering = datasets.ofsted_fostering(2019)
    wide = (
        fostering[fostering["measure"].isin(PLACES.values()) & fostering["area"].isin(REGIONS)]
        .pivot_table(index="area", columns="measure", values="value", aggfunc="first")
        .rename(columns={v: k for k, v in PLACES.items()})[list(PLACES)]
        .reindex(REGIONS)
    )
    wide["filled_percent"] = (
        100 * wide["foster_places_filled"] / wide["foster_places_approved"]
    ).round(1)
    wide["not_available_percent"] = (
        100 * wide["foster_places_not_available"] / wide["foster_places_approved"]
    ).round(1)
    # regions: LA fostering services; England: all sectors (the file's own convention)
    ctx.table("foster_places_by_region", wide.reset_index())
    region = wide.loc["South East"]
    places = {key: int(region[key]) for key in PLACES}
    ctx.table("south_east_foster_places", pd.DataFrame([places]))
    rows = [
        findings.row(
            f"provision_south_east.{key}",
            "Ofsted 2018-19, South East column",
            "places",
            source[key],
            value,
            source["source"],
        )
        for key, value in places.items()
    ]
    share = findings.percent_one_decimal(
        places["foster_places_not_available"], places["foster_places_approved"]
    )
    rows.append(
        findings.row(
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
    ctx.findings(pd.DataFrame(rows))
    ctx.options.update({"ofsted_year": 2019})
