"""Packaged public data: DfE SFR50 2017 and the South East frame."""

from __future__ import annotations

import pytest

from lacstats import datasets
from lacstats.errors import DataError


def test_dfe_2017_long_form_flags_suppression():
    long = datasets.dfe_cla(2017)
    assert set(long.columns) == {
        "level",
        "la_code",
        "area",
        "measure",
        "value",
        "suppressed",
        "status",
    }
    # SFR50_CLA2017.csv: Bracknell Forest's UASC count is printed "x"
    cell = long[(long["area"] == "Bracknell Forest") & (long["measure"] == "CLA_UASC")]
    assert cell["suppressed"].item()
    assert cell["value"].isna().item()
    # SFR50_CLA2017.csv: England 72,670 looked after at 31 March 2017 (rounded to 10)
    eng = long[(long["level"] == "NATIONAL") & (long["measure"] == "CLA_Mar2017")]
    assert eng["value"].item() == 72670
    # 151 LA rows: the Isles of Scilly are not in the file
    assert long["level"].value_counts()["LA"] == 151 * long["measure"].nunique()


@pytest.mark.parametrize("year", [2015, 2016, 2017, 2018, 2019])
def test_every_packaged_year_reads(year):
    wide = datasets.dfe_cla(year, form="wide")
    assert (wide["level"] == "LA").sum() >= 150


def test_unknown_year():
    with pytest.raises(DataError, match="no DfE children looked after file for 2031"):
        datasets.dfe_cla(2031)


def test_south_east_2017():
    se = datasets.south_east_authorities(2017)
    assert len(se) == 19
    counties = sorted(se.loc[se["authority_type"] == "County", "authority"])
    assert counties == [
        "Buckinghamshire",
        "East Sussex",
        "Hampshire",
        "Kent",
        "Oxfordshire",
        "Surrey",
        "West Sussex",
    ]
    # SFR50_CLA2017.csv: Hampshire 606 aged 10-15 and 294 aged 16+; Kent 749 and 707
    hants = se.set_index("authority").loc["Hampshire"]
    assert (hants["lac_10_15"], hants["lac_16_over"], hants["lac_10_plus"]) == (606, 294, 900)
    assert se.set_index("authority").loc["Kent", "lac_10_plus"] == 1456
    assert se["lac_10_plus"].sum() == 6557
    assert (se["la_code"].str[:3] == "E10").sum() == 7


def test_english_authorities_have_types():
    la = datasets.english_authorities()
    assert {"Kent", "Hampshire", "Bath and North East Somerset"} <= set(la["authority"])
    assert set(la["authority_type"]) == {"County", "Unitary"}


def test_published_findings_is_a_copy():
    figures = datasets.published_findings()
    assert figures["sample"]["cases"] == 1253
    figures["sample"]["cases"] = 0
    assert datasets.published_findings()["sample"]["cases"] == 1253
    assert "Open Government Licence" in datasets.ATTRIBUTION


def test_ons_population_by_single_year_of_age():
    # ONS MYE2 mid-2019 (Crown copyright): each authority's single years of age add up to
    # its published total; Hartlepool had 1,006 children aged 0
    ons = datasets.ons_population(2019)
    ages = [c for c in ons.columns if c.startswith("age_")]
    assert len(ages) == 91
    assert (ons[ages].sum(axis=1) == ons["total"]).all()
    hartlepool = ons.set_index("authority").loc["Hartlepool"]
    assert hartlepool["age_0"] == 1006
    teens = datasets.ons_population(2020, ages=(10, 17)).set_index("authority")
    assert teens.loc["Buckinghamshire", "population"] == 58076  # a unitary from 2020
    with pytest.raises(DataError, match="ages must be"):
        datasets.ons_population(2019, ages=(17, 10))
    with pytest.raises(DataError, match="packaged years"):
        datasets.ons_population(2018)


def test_authority_frame_maps_every_release_to_one_set_of_names():
    # cells read from the raw release files (SFR50_CLA2017.csv, CLA2019_DfE_underlying.csv)
    f17 = datasets.authority_frame(2017).set_index("authority")
    raw17 = datasets.dfe_cla(2017, form="wide").set_index("area")
    for tidy, dfe in [("lac_10_15", "CLA_10to15"), ("foster", "CLA_Fost"), ("uasc", "CLA_UASC")]:
        assert f17.loc["Kent", tidy] == raw17.loc["Kent", dfe]
    assert f17.loc["Kent", "placed_inside_boundary"] == raw17.loc["Kent", "CLA_InBound"]
    assert f17.loc["Kent", "lac_total"] == raw17.loc["Kent", "CLA_Mar2017"]
    f15 = datasets.authority_frame(2015).set_index("authority")
    raw15 = datasets.dfe_cla(2015, form="wide").set_index("area")
    assert f15.loc["Kent", "placed_outside_boundary"] == raw15.loc["Kent", "CLA_Outbound"]
    assert "inside_within_20_miles" not in f15  # distance bands are published from 2017
    f19 = datasets.authority_frame(2019).set_index("authority")
    raw19 = datasets.dfe_cla(2019, form="wide").set_index("area")
    assert f19.loc["Kent", "uasc"] == raw19.loc["Kent", "CLA_UASC2019"]
    assert f19.loc["Blackpool", "provider_private"] == raw19.loc["Blackpool", "CLA_Priv"]
    assert f19.loc["Blackpool", "placed_inside_boundary"] == raw19.loc["Blackpool", "CLA_InLA"]
    # a suppressed cell is missing, never zero
    long = datasets.dfe_cla(2019)
    hidden = long[(long["level"] == "LA") & long["suppressed"] & (long["measure"] == "CLA_Ores")]
    assert len(hidden) > 0
    assert f19.loc[hidden["area"], "other_residential"].isna().all()
    # every authority has a region; regions hold the published numbers of authorities
    assert f19["region"].notna().all()
    assert f19["region"].value_counts()["South East"] == 19
    assert len(f19) == 152


def test_authorities_regions_and_short_codes():
    table = datasets.authorities()
    ids = table.drop_duplicates("short")
    assert len(ids) == 152  # one code per authority, shared across renames and recodes
    assert set(table.loc[table["authority"].isin(["Bedford", "Bedford Borough"]), "short"]) == {
        "BED"
    }
    assert datasets.short_code("Kent") == "KEN"
    with pytest.raises(DataError, match="unknown authority 'Gondor'"):
        datasets.short_code("Gondor")
    assert datasets.region_of("Yorkshire and the Humber") == "Yorkshire and The Humber"
    with pytest.raises(DataError, match="unknown region"):
        datasets.region_of("Wessex")
