"""Studies as data: the seed study, any region's, and the errors a study file can hold."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from lacstats import cli, cohorts, datasets, sampling, study, synthetic
from lacstats.errors import DataError

NORTH_WEST = """
[study]
name = "north_west"
title = "North West complex needs study"

[authorities]
region = "north west"

[frame]
year = 2019
population = "lac_10_plus"

[design]
convention = "crs"
confidence = 0.95
interval = 10
"""


def test_the_seed_study_is_the_south_east_project():
    seed = study.south_east()
    assert seed.name == "south_east"
    assert seed.region == "South East"
    assert set(seed.authorities) == set(datasets.SOUTH_EAST)
    assert (seed.frame_year, seed.population, seed.convention) == (2017, "lac_10_plus", "crs")
    # the same design as the South East frame gives directly: 1,268 before the 15 missing
    direct = sampling.design(datasets.south_east_authorities(2017))
    assert seed.design().total == direct.total == 1268
    assert seed.published_figures()["sample"]["cases"] == 1253
    assert seed.cases is None  # the packaged synthetic sample
    assert seed.thresholds.high_cost == 4800
    assert "19 authorities of the South East" in seed.summary()


def test_a_region_study_from_toml(tmp_path):
    path = tmp_path / "nw.toml"
    path.write_text(NORTH_WEST, encoding="utf-8")
    nw = study.load(path)
    assert nw.region == "North West"
    frame = datasets.authority_frame(2019)
    expected = sorted(frame.loc[frame["region"] == "North West", "authority"])
    assert list(nw.authorities) == expected
    assert len(expected) == 23
    plan = nw.design()
    assert len(plan.table) == 23
    assert (
        plan.table["population"].sum()
        == frame.set_index("authority").loc[expected, "lac_10_plus"].sum()
    )
    assert nw.published is None
    assert nw.published_figures() is None
    assert nw.to_dict()["authorities"] == expected


def test_authorities_by_name_or_ons_code_and_relative_paths(tmp_path):
    (tmp_path / "data").mkdir()
    cases = tmp_path / "data" / "cases.csv"
    cases.write_text("case_id\n", encoding="utf-8")
    text = """
    [study]
    name = "pair"
    [authorities]
    list = ["kent", "E10000030"]   # Surrey by its ONS code
    [cases]
    path = "data/cases.csv"
    """
    (tmp_path / "pair.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    pair = study.load(tmp_path / "pair.toml")
    assert pair.authorities == ("Kent", "Surrey")
    assert pair.region is None
    assert pair.cases == cases


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("confidence = 0.95", "confidance = 0.95"), "unknown key design.confidance"),
        (('region = "north west"', 'region = "Narnia"'), "unknown region 'Narnia'"),
        (
            ('region = "north west"', 'list = ["Kent", "Gondor"]'),
            "authorities.list = 'Gondor': not an English authority",
        ),
        (("year = 2019", "year = 2021"), "frame.year = 2021"),
        (('population = "lac_10_plus"', 'population = "lac_11"'), "frame.population"),
        (("[frame]", "[frames]"), "unknown table \\[frames\\]"),
        (("interval = 10", 'interval = "ten"'), "design.interval = 'ten': expected int or float"),
        (('convention = "crs"', 'convention = "guess"'), "design.convention = 'guess'"),
    ],
)
def test_study_errors_name_the_key_and_value(tmp_path, change, message):
    old, new = change
    path = tmp_path / "bad.toml"
    path.write_text(NORTH_WEST.replace(old, new), encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        study.load(path)
    assert str(path) in str(err.value)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataError, match="no study file"):
        study.load(tmp_path / "absent.toml")
    (tmp_path / "folder.csv").mkdir()
    text = NORTH_WEST + '\n[cases]\npath = "folder.csv"\n'
    with pytest.raises(DataError, match=r"cases\.path = 'folder\.csv': not a file"):
        study.loads(text, source=tmp_path / "s.toml")
    text = NORTH_WEST + '\n[published]\nfigures = "nowhere.toml"\n'
    with pytest.raises(DataError, match=r"published\.figures"):
        study.loads(text, source=tmp_path / "s.toml")


def test_thresholds_drive_the_cohort_rules():
    seed = study.south_east()
    cases = synthetic.complex_lac()
    default = cohorts.assign(cases, **seed.thresholds.cohort_overrides())
    assert default.equals(cohorts.assign(cases))  # the seed's thresholds are the defaults
    stricter = study.Thresholds(high_cost=6000, far_miles=50)
    flags = cohorts.assign(cases, **stricter.cohort_overrides())
    assert flags["high_cost_residential"].sum() == 37  # published: 37 at £6,000 or more
    assert flags["keeping_local"].sum() > default["keeping_local"].sum()


def test_design_command_for_a_region_a_list_and_a_study(tmp_path, capsys):
    assert cli.main(["design", "--region", "North West", "--year", "2019"]) == 0
    out = capsys.readouterr().out
    assert "23 strata" in out
    listed = tmp_path / "las.txt"
    listed.write_text("# two authorities\nKent\nE10000030\n", encoding="utf-8")
    assert cli.main(["design", "--authorities", str(listed)]) == 0
    assert "2 strata" in capsys.readouterr().out
    path = tmp_path / "nw.toml"
    path.write_text(NORTH_WEST, encoding="utf-8")
    assert cli.main(["design", "--study", str(path), "--out", str(tmp_path / "d.csv")]) == 0
    assert (tmp_path / "d.csv").read_text().count("\n") == 24
    assert cli.main(["design", "--region", "Narnia"]) == 2
    assert "unknown region 'Narnia'" in capsys.readouterr().err


def test_a_synthetic_sample_for_any_study(tmp_path):
    path = tmp_path / "nw.toml"
    path.write_text(NORTH_WEST, encoding="utf-8")
    nw = study.load(path)
    cases = synthetic.sample(nw, rng=5)
    plan = nw.design().table.set_index("stratum")["n"]
    assert cases.groupby("authority").size().to_dict() == plan.to_dict()
    assert cases["case_id"].is_unique
    assert cases.loc[cases["authority"] == "Blackpool", "case_id"].iloc[0] == "BLA-001"
    assert cases["age"].between(10, 17).all()
    assert (cases.loc[cases["placement_setting"] == "semi_independent", "age"] >= 16).all()
    # foster care in proportion to the region's DfE placement counts (adoption left out)
    frame = nw.frame()
    placed = frame[list(synthetic._DFE_SETTINGS)].sum()
    foster_share = placed["foster"] / placed.sum()
    observed = cases["placement_setting"].str.startswith("foster").mean()
    assert observed == pytest.approx(foster_share, abs=3 * (0.25 / len(cases)) ** 0.5)
    # distance bands in proportion too: over 20 miles among known distances
    over = frame[["inside_over_20_miles", "outside_over_20_miles"]].sum().sum()
    known = over + frame[["inside_within_20_miles", "outside_within_20_miles"]].sum().sum()
    share_far = (cases["distance_miles"] > 20).sum() / cases["distance_miles"].notna().sum()
    assert share_far == pytest.approx(over / known, abs=0.05)
    pd.testing.assert_frame_equal(cases, synthetic.sample(nw, rng=5))
    assert not synthetic.sample(nw, rng=6).equals(cases)


def test_a_study_names_its_own_ssda903_returns(tmp_path):
    text = NORTH_WEST + '\n[ssda903]\npath = ["returns/2023", "returns/2024"]\n'
    nw = study.loads(text, source=tmp_path / "nw.toml")
    assert nw.ssda903 == (tmp_path / "returns/2023", tmp_path / "returns/2024")
    assert nw.returns_source == "the study's own SSDA903 returns (2023, 2024)"
    assert study.loads(NORTH_WEST).returns_source.startswith(
        "the packaged synthetic SSDA903 returns (fake903"
    )
    with pytest.raises(DataError, match=r"ssda903\.path = 3: expected str or list"):
        study.loads(NORTH_WEST + "\n[ssda903]\npath = 3\n")
    with pytest.raises(DataError, match=r"unknown key ssda903\.folder"):
        study.loads(NORTH_WEST + '\n[ssda903]\nfolder = "x"\n')
