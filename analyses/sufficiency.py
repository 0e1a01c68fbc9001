"""Sufficiency: the South East's foster places (Ofsted 2018-19) as the project printed
them, the sufficiency table of every region from the same file, and Bath and North East
Somerset's sufficiency figures (seed 002) against the DfE releases of each year."""

from __future__ import annotations

import pandas as pd

from lacstats import datasets, findings

NAME = "sufficiency"
TITLE = "Foster places (Ofsted 2018-19); Bath and North East Somerset against the DfE"
BANES = "Bath and North East Somerset"
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
    rows.extend(_bath_ne_somerset(ctx, published["bath_ne_somerset"]))
    ctx.findings(pd.DataFrame(rows))
    ctx.options.update({"ofsted_year": 2019, "dfe_releases": [2015, 2016, 2017, 2018]})


def _bath_ne_somerset(ctx, seed: dict) -> list[dict]:
    """England's children looked after at 31 March as each year's DfE release first
    published them (the seed's figures), and the authority's own figures beside the
    DfE's: the seed's come from the authority, not the release, and differ."""
    rows, table = [], []
    for year in (2015, 2016, 2017, 2018):
        release = datasets.dfe_cla(year)
        at_march = release[release["measure"] == f"CLA_Mar{year}"].set_index("area")["value"]
        england = int(at_march["ENGLAND"])
        rows.append(
            findings.row(
                f"bath_ne_somerset.england_lac_31_march.{year}",
                f"DfE {year} release, CLA_Mar{year}, England",
                "children",
                seed["england_lac_31_march"][str(year)],
                england,
                seed["source"],
            )
        )
        table.append(
            {
                "year": year,
                "seed_authority": seed["lac_31_march"][str(year)],
                "dfe_authority": int(at_march[BANES]),
                "seed_england": seed["england_lac_31_march"][str(year)],
                "dfe_england": england,
            }
        )
    frame = pd.DataFrame(table)
    frame["authority_difference"] = frame["seed_authority"] - frame["dfe_authority"]
    ctx.table("bath_ne_somerset_lac", frame)
    release = datasets.dfe_cla(2018)
    banes = release[release["area"] == BANES].set_index("measure")["value"]
    ctx.numbers(
        banes_lac_2018_seed=(seed["lac_31_march"]["2018"], "children, the authority's figure"),
        banes_lac_2018_dfe=(int(banes["CLA_Mar2018"]), "children, DfE 2018 release"),
        banes_largest_difference=(
            int(frame["authority_difference"].abs().max()),
            "children, seed minus DfE, 2015-2018",
        ),
        banes_over_20_miles_dfe=(int(banes["CLA_GT20"]), "children placed over 20 miles"),
        banes_over_20_miles_dfe_percent=(int(banes["CLA_GT20_pc"]), "percent"),
        banes_at_a_distance_seed=(seed["placements_at_a_distance"], "placements"),
    )
    return rows
