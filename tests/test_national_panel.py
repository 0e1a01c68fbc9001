"""The national panel (datasets.national_panel): DfE releases 2015-2019, one row per
authority and year, checked cell by cell against the raw files read independently."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from lacstats import datasets
from lacstats.errors import DataError

FILES = {
    2015: "SFR34_CLA2015.csv",
    2016: "SFR41_CLA2016.csv",
    2017: "SFR50_CLA2017.csv",
    2018: "CLA2018_DfE_underlying.csv",
    2019: "CLA2019_DfE_underlying.csv",
}


def raw_cell(year: int, area: str, column: str, level: str = "LA") -> str:
    """The cell as printed in the release (csv module, not the package's reader); the area
    by name in any capitals, at the release's ``geog_l`` level (LA, REGION, NATIONAL)."""
    path = resources.files("lacstats.datasets") / "data" / FILES[year]
    with path.open("r", encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            row = {k.strip(): v for k, v in row.items()}
            if row["geog_n"].strip().upper() == area.upper() and row["geog_l"].strip() == level:
                return row[column].strip()
    raise AssertionError(f"{area} not in {FILES[year]}")


@pytest.fixture(scope="module")
def panel():
    return datasets.national_panel()


def test_rows_per_year_and_identity(panel):
    assert panel.groupby("year").size().to_dict() == dict.fromkeys(range(2015, 2020), 152)
    assert panel["la_number"].nunique() == 152
    assert not panel.duplicated(["year", "la_number"]).any()
    assert panel["region"].notna().all()
    assert panel.groupby("region")["la_number"].nunique()["South East"] == 19


def test_code_changes_and_renaming_keep_one_id(panel):
    gateshead = panel[panel["la_number"] == "390"].set_index("year")
    assert gateshead["authority"].unique().tolist() == ["Gateshead"]
    assert gateshead.loc[2017, "la_code"] == "E08000020"
    assert gateshead.loc[2018, "la_code"] == "E08000037"
    northumberland = panel[panel["la_number"] == "929"].set_index("year")
    assert northumberland.loc[[2017, 2018], "la_code"].tolist() == ["E06000048", "E06000057"]
    bedford = panel[panel["la_number"] == "822"].set_index("year")
    assert bedford["authority"].unique().tolist() == ["Bedford Borough"]
    assert bedford.loc[2018, "authority_published"] == "Bedford"
    assert bedford.loc[2019, "authority_published"] == "Bedford Borough"


def test_dorset_reorganisation_keeps_the_three_old_authorities(panel):
    # the 2019 release counts at 31 March 2019, the day before BCP and the new Dorset
    names = set(panel.loc[panel["year"] == 2019, "authority"])
    assert {"Bournemouth", "Poole", "Dorset"} <= names
    assert not any("Christchurch" in name for name in names)
    dorset = panel[(panel["authority"] == "Dorset") & (panel["year"] == 2019)].iloc[0]
    assert dorset["la_code"] == "E10000009"
    # CLA2019_DfE_underlying.csv: Dorset 416 looked after at 31 March 2019
    assert dorset["lac_total"] == 416


def test_isles_of_scilly_from_the_2019_series(panel):
    scilly = panel[panel["authority"] == "Isles of Scilly"].set_index("year")
    assert scilly["lac_total"].tolist() == [0] * 5
    assert scilly["published_in"].tolist() == [2019] * 5
    # CLA2019_DfE_underlying.csv: populations 388, 386, 382, 365, 368 for 2015-2019
    assert scilly["population_under_18"].tolist() == [388, 386, 382, 365, 368]
    assert scilly.loc[2016, "foster"] is pd.NA


CELLS = [  # (year, area as printed, DfE column, panel column)
    (2015, "Kent", "CLA_Mar2015", "lac_total"),
    (2015, "Rutland", "CLA_U1", "lac_under_1"),
    (2015, "Westminster", "CLA_Priv", "provider_private"),
    (2016, "Kent", "CLA_16over", "lac_16_over"),
    (2016, "Gateshead", "CLA_Mar2016", "lac_total"),
    (2016, "Bournemouth", "CLA_InBound", "placed_inside_boundary"),
    (2017, "Hampshire", "CLA_InLA_GT20", "inside_over_20_miles"),
    (2017, "Bracknell Forest", "CLA_UASC", "uasc"),
    (2018, "Gateshead", "CLA_GT20", "over_20_miles"),
    (2018, "Kent", "CLA_UASC2018", "uasc"),
    (2019, "Bedford Borough", "CLA_Fost", "foster"),
    (2019, "Poole", "CLA_Priv", "provider_private"),
    (2019, "Westminster", "CLA_Secure", "secure_homes_hostels"),
    (2019, "Rutland", "CLA_Ores", "other_residential"),
]


@pytest.mark.parametrize(("year", "area", "dfe", "column"), CELLS)
def test_cells_match_the_raw_files(panel, year, area, dfe, column):
    row = panel[(panel["year"] == year) & (panel["authority_published"] == area)].iloc[0]
    text = raw_cell(year, area, dfe)
    if text in ("x", "c"):
        assert row[column] is pd.NA
        assert row[f"{column}_suppressed"]
    else:
        assert row[column] == int(text.replace(",", ""))
        assert not row[f"{column}_suppressed"]


def test_some_raw_cells_by_value(panel):
    # the numbers as printed: Kent 1,870 at 31 March 2015 (SFR34_CLA2015.csv); Rutland's
    # under-1 count "x" (suppressed), never zero
    get = panel.set_index(["year", "authority"])
    assert get.loc[(2015, "Kent"), "lac_total"] == 1870
    assert get.loc[(2015, "Rutland"), "lac_under_1"] is pd.NA
    assert get.loc[(2015, "Rutland"), "lac_under_1_suppressed"]


def test_suppressed_cells_are_missing_never_zero(panel):
    flags = [c for c in panel.columns if c.endswith("_suppressed")]
    for flag in flags:
        column = flag.removesuffix("_suppressed")
        assert panel.loc[panel[flag], column].isna().all(), column
    assert panel["provider_other_la_suppressed"].sum() > 100
    # a sum with a suppressed part is missing and flagged (2017: inside + outside)
    hidden = panel[(panel["year"] == 2017) & panel["inside_over_20_miles_suppressed"]]
    assert len(hidden) > 0
    assert hidden["over_20_miles"].isna().all()
    assert hidden["over_20_miles_suppressed"].all()


def test_distance_bands_from_2017_only(panel):
    early = panel[panel["year"] < 2017]
    assert early["over_20_miles"].isna().all()
    assert not early["over_20_miles_suppressed"].any()
    known = panel.dropna(subset=["within_20_miles", "over_20_miles"])
    assert (known["distance_known"] == known["within_20_miles"] + known["over_20_miles"]).all()


def test_rates_recomputed_match_the_published_rates(panel):
    # DfE's rate per 10,000 = count / ONS population under 18 * 10,000, rounded
    rows = panel.dropna(subset=["lac_rate_published"])
    assert len(rows) == 755  # the Isles of Scilly's rate is not published ('.')
    rate = rows["lac_total_revised"].astype(float) / rows["population_under_18"] * 1e4
    assert np.array_equal(np.round(rate), rows["lac_rate_published"].astype(float))


def test_population_near_the_packaged_ons_mid_2019(panel):
    # the 2019 rate divides by ONS mid-2018; the packaged ONS mid-2019 file (ages 0-17)
    # is within 3% for every authority whose boundaries did not change in April 2019, but
    # the two smallest (City of London 1,453 and the Isles of Scilly 368: within 12%)
    ons = datasets.ons_population(2019, ages=(0, 17)).set_index("la_code")["population"]
    rows = panel[(panel["year"] == 2019) & panel["la_code"].isin(ons.index)]
    assert len(rows) == 149  # 152 less Bournemouth, Poole and old Dorset
    ratio = rows["la_code"].map(ons) / rows["population_under_18"].astype(float)
    large = rows["population_under_18"] > 5_000
    assert large.sum() == 147
    assert ratio[large].between(0.97, 1.03).all()
    assert ratio[~large].between(0.88, 1.12).all()
    assert ratio.median() == pytest.approx(1.006, abs=0.002)


def test_years_outside_the_releases_refused():
    with pytest.raises(DataError, match="the panel covers 2015-2019"):
        datasets.national_panel(years=[2014, 2015])
    assert datasets.national_panel(years=[2018])["year"].unique().tolist() == [2018]


@pytest.mark.parametrize("year", sorted(FILES))
def test_inner_and_outer_london_totals_are_the_sums_of_their_boroughs(panel, year):
    # the releases print Inner and Outer London totals (rounded to the nearest 10); their
    # boroughs are the statistical definition (datasets.INNER_LONDON), not the statutory one
    rows = panel[(panel["year"] == year) & (panel["region"] == "London")]
    assert len(rows) == 33
    assert set(rows["authority"]) >= datasets.INNER_LONDON
    inner = rows["authority"].isin(datasets.INNER_LONDON)
    column = f"CLA_Mar{year}"
    published = {
        half: float(raw_cell(year, half, column, level="REGION").replace(",", ""))
        for half in ("Inner London", "Outer London")
    }
    assert abs(rows.loc[inner, "lac_total"].sum() - published["Inner London"]) <= 5
    assert abs(rows.loc[~inner, "lac_total"].sum() - published["Outer London"]) <= 5
    # the London Government Act 1963's inner London (Greenwich in, Haringey and Newham out)
    statutory = (datasets.INNER_LONDON - {"Haringey", "Newham"}) | {"Greenwich"}
    other = rows["authority"].isin(statutory)
    assert abs(rows.loc[other, "lac_total"].sum() - published["Inner London"]) > 100
