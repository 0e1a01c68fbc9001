"""Sufficiency from real public data: the South East's foster places (Ofsted 2018-19)
against the figures the project printed (Evans 2020), the sufficiency table of every region
from the same file, England's children looked after against the DfE releases, and Bath and
North East Somerset's sufficiency statement (2018) against the DfE releases of each year,
including the comparisons that do not match, each with the reason."""

from __future__ import annotations

import pandas as pd

from lacstats import datasets, findings
from lacstats.analysis import Analysis, Context

ANALYSIS = Analysis(
    name="sufficiency",
    title="Foster places (Ofsted 2018-19); Bath and North East Somerset against the DfE",
    summary="South East foster places (Ofsted 2018-19) and every region; Bath and North East "
    "Somerset's figures against the DfE releases",
    evidence="real_data",
    obtained="recomputed_from_public_data",
    paper="required",
    order=7,
    # public data only: computed once for the study's region and published figures
    study_reads=("region", "published_figures"),
)
OFSTED_YEAR = 2019  # the 2018-19 fostering release
BANES_YEARS = (2015, 2016, 2017, 2018)
BANES = "Bath and North East Somerset"
PLACES = {
    "foster_places_approved": "Number of approved foster places",
    "foster_places_filled": "Number of filled places",
    "foster_places_vacant": "Number of vacant places",
    "foster_places_not_available": "Number of places not available",
}
REGIONS = (*datasets.REGIONS, "England")


def run(ctx: Context) -> None:
    published = ctx.study.published_figures()
    fostering = datasets.ofsted_fostering(OFSTED_YEAR)
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
    if ctx.study.region is not None:
        mine = wide.loc[ctx.study.region]
        ctx.numbers(
            **{f"study_region_{k}": (int(mine[k]), "places") for k in PLACES},
            study_region_not_available_percent=(
                float(mine["not_available_percent"]),
                "percent of approved places",
            ),
        )
    if published is None or "provision_south_east" not in published:
        ctx.not_run(
            "comparisons with the source documents' figures",
            "the study names no published figures to compare with",
        )
        return
    source = published["provision_south_east"]
    region = wide.loc["South East"]
    places = {key: int(region[key]) for key in PLACES}
    ctx.table("south_east_foster_places", pd.DataFrame([places]))
    words = {
        "foster_places_approved": "approved",
        "foster_places_filled": "filled",
        "foster_places_vacant": "vacant",
        "foster_places_not_available": "not available",
    }
    rows = [
        findings.row(
            f"provision_south_east.{key}",
            f"South East foster places {words[key]} (Ofsted fostering data 2018-19, local "
            "authority services)",
            "places",
            source[key],
            value,
            source["source"],
            obtained="recomputed_from_public_data",
        )
        for key, value in places.items()
    ]
    share = findings.percent_one_decimal(
        places["foster_places_not_available"], places["foster_places_approved"]
    )
    rows.append(
        findings.row(
            "provision_south_east.not_available_percent",
            "South East foster places not available, share of approved places (Ofsted "
            "fostering data 2018-19)",
            "percent (one decimal)",
            source["foster_places_not_available_percent_text"],
            share,
            source["source"],
            obtained="recomputed_from_public_data",
        )
    )
    england = published["england_lac"]
    release = datasets.dfe_cla(2019)
    march = release[release["measure"] == "CLA_Mar2019"].set_index("area")["value"]
    rows.append(
        findings.row(
            "england_lac.march_2019",
            "England's children looked after at 31 March 2019 (DfE 2019 release)",
            "children",
            england["march_2019"],
            int(march["ENGLAND"]),
            england["source"],
            obtained="recomputed_from_public_data",
        )
    )
    ctx.numbers(
        **{k: (v, "places") for k, v in places.items()},
        not_available_percent=(share, "percent of approved places"),
    )
    rows.extend(_bath_ne_somerset(ctx, published["bath_ne_somerset"]))
    ctx.findings(findings.frame(rows))
    ctx.options.update({"ofsted_year": OFSTED_YEAR, "dfe_releases": list(BANES_YEARS)})
    ctx.settings(
        banes_first_year=(BANES_YEARS[0], "first DfE release compared"),
        banes_last_year=(BANES_YEARS[-1], "last DfE release compared"),
    )


def _bath_ne_somerset(ctx, seed: dict) -> list[dict]:
    """England's children looked after at 31 March as each year's DfE release first
    published them (the statement's figures), and the authority's own figures beside the
    DfE's: the statement's come from the authority, not the release, and differ."""
    rows, table = [], []
    revised = datasets.dfe_cla(2018)
    revised = revised[revised["area"] == "ENGLAND"].set_index("measure")["value"]
    for year in sorted(int(y) for y in seed["england_lac_31_march"]):
        if year in BANES_YEARS:
            continue
        # a year before the packaged releases: only a later release's revised count
        value = int(revised[f"CLA_Mar{year}"])
        rows.append(
            findings.row(
                f"bath_ne_somerset.england_lac_31_march.{year}",
                f"England's children looked after at 31 March {year} (DfE 2018 release, revised)",
                "children",
                seed["england_lac_31_march"][str(year)],
                value,
                seed["source"],
                obtained="recomputed_from_public_data",
                explanation=(
                    f"The statement cites the count as first published; the packaged "
                    f"releases start in {BANES_YEARS[0]}, and the 2018 release revised "
                    f"March {year} to {value:,}."
                ),
            )
        )
    for year in BANES_YEARS:
        release = datasets.dfe_cla(year)
        at_march = release[release["measure"] == f"CLA_Mar{year}"].set_index("area")["value"]
        england = int(at_march["ENGLAND"])
        rows.append(
            findings.row(
                f"bath_ne_somerset.england_lac_31_march.{year}",
                f"England's children looked after at 31 March {year} (DfE {year} release)",
                "children",
                seed["england_lac_31_march"][str(year)],
                england,
                seed["source"],
                obtained="recomputed_from_public_data",
            )
        )
        own, dfe = seed["lac_31_march"][str(year)], int(at_march[BANES])
        rows.append(
            findings.row(
                f"bath_ne_somerset.lac_31_march.{year}",
                f"Bath and North East Somerset's children looked after at 31 March {year} "
                f"(DfE {year} release)",
                "children",
                own,
                dfe,
                seed["source"],
                obtained="recomputed_from_public_data",
                explanation=""
                if own == dfe
                else (
                    f"The statement gives {own}, not the DfE's {dfe}: its counts are the "
                    "council's own, and it does not say how they were taken."
                ),
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
    distance_rows = [
        (
            "placements_at_a_distance",
            "at a distance",
            seed["placements_at_a_distance"],
            int(banes["CLA_GT20"]),
            "placements / children",
        ),
        (
            "placements_at_a_distance_share_text",
            "at a distance, share",
            seed["placements_at_a_distance_share_text"],
            f"{int(banes['CLA_GT20_pc'])}%",
            "percent",
        ),
    ]
    for key, words, own, dfe, unit in distance_rows:
        rows.append(
            findings.row(
                f"bath_ne_somerset.{key}",
                f"Bath and North East Somerset, placed {words}: the statement's count against "
                "the DfE 2018 release's children placed more than 20 miles from home",
                unit,
                own,
                dfe,
                seed["source"],
                obtained="recomputed_from_public_data",
                explanation=(
                    "Not the same measure: the statement counts the placements the "
                    "independent sector made during the year outside the adjacent "
                    "authorities; the DfE counts the children looked after at 31 March "
                    "2018 placed more than 20 miles from home."
                ),
            )
        )
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
        banes_at_a_distance_seed_share=(
            seed["placements_at_a_distance_share_text"],
            "percent of placements made",
        ),
    )
    return rows
