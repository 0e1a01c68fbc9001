"""The publishable tables of SSDA903 returns are made one way: the command line
(``lacstats ssda903 RETURNS --out``) and the ``cost_calculator`` analysis publish the
same frames for the same returns, from :func:`lacstats.publication.cost_tables`."""

from __future__ import annotations

import io
from functools import cache

import pandas as pd
import pytest

from lacstats import costs, outputs, publication, reproduce, ssda903
from lacstats.errors import DataError

#: The cost_calculator analysis's census and costing period (analyses/cost_calculator.py).
CENSUS = "2020-03-31"
PERIOD = ("2019-04-01", "2020-03-31")


@cache
def _fake903():
    data = ssda903.read(ssda903.fake903_path())
    return data, ssda903.clean(data)


@cache
def _tables() -> publication.CostTables:
    data, cleaned = _fake903()
    return publication.cost_tables(data, cleaned=cleaned, census=CENSUS, period=PERIOD)


@cache
def _region():
    extract = ssda903.simulate_region({"Kent": 120, "Medway": 40}, years=[2023, 2024], rng=1)
    return ssda903.from_frames(extract["header"], extract["episodes"])


def test_the_command_line_and_the_analysis_publish_the_same_frames(tmp_path, capsys):
    from lacstats import cli

    tables = tmp_path / "tables"
    argv = ["ssda903", str(ssda903.fake903_path()), "--out", str(tables), "--census", CENSUS]
    assert cli.main([*argv, "--period", *PERIOD]) == 0
    assert "214 children looked after on 2020-03-31" in capsys.readouterr().out
    reproduce.run_all(tmp_path / "results", fast=True, only=["cost_calculator"], jobs=1)
    analysis = tmp_path / "results" / "cost_calculator"

    written = {p.stem for p in tables.iterdir() if p.name != outputs.MARKER}
    expected = set(_tables().tables())
    assert written == expected
    assert expected == set(publication.TABLES) - {"costs_by_authority"}  # one authority
    assert expected <= {p.stem for p in analysis.glob("*.csv")}
    for name in sorted(expected):
        by_cli = pd.read_csv(tables / f"{name}.csv", dtype=str, keep_default_na=False)
        by_analysis = pd.read_csv(analysis / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(by_cli, by_analysis, obj=name)
    # and they are the library's frames
    by_type = pd.read_csv(tables / "costs_by_type.csv", dtype=str, keep_default_na=False)
    assert by_type["children"].tolist() == _tables().costs_by_type["children"].astype(str).tolist()


def test_cost_tables_round_and_suppress_one_way():
    cleaned = _fake903()[1]
    units = costs.dorset_unit_costs()
    raw = costs.cost_table(
        ssda903.episode_table(cleaned, period=PERIOD), unit_costs=units, period=PERIOD
    )
    published = _tables().costs_by_type
    assert published.columns.tolist() == [*raw.columns, "suppressed"]
    # the children counts of 1-4 are hidden with every column that would reveal them
    small = raw["children"].between(1, 4).to_numpy()
    assert small.sum() == 6
    assert published["suppressed"].tolist() == small.tolist()
    for column in ("children", *publication.COST_DEPENDENT):
        assert (published.loc[small, column] == "c").all(), column
    # weeks to a tenth, money to the pound; the total row is never suppressed
    kept = ~small
    assert published.loc[kept, "weeks"].tolist() == raw.loc[kept, "weeks"].round(1).tolist()
    assert published.loc[kept, "total"].tolist() == raw.loc[kept, "total"].round(0).tolist()
    last = published.iloc[-1]
    assert last["placement_type"] == costs.ALL_TYPES
    assert (last["children"], last["total"], last["weeks"]) == (350, 15853803.0, 14261.6)
    assert last["average_weekly"] == 1112.0  # 15,853,803 / 14,261.6 weeks


def test_cost_tables_of_the_packaged_returns():
    tables = _tables()
    assert tables.children == 214
    assert tables.census == pd.Timestamp(CENSUS)
    assert tables.period == (pd.Timestamp(PERIOD[0]), pd.Timestamp(PERIOD[1]))
    assert tables.costs_by_authority is None
    settings = tables.cases_by_setting
    assert settings.columns.tolist() == [
        "placement_setting",
        "children",
        "mean_months",
        "suppressed",
    ]
    shown = pd.to_numeric(settings["children"], errors="coerce")
    assert shown.sum() == 214 - 2  # the two children in residential schools are hidden
    assert settings.set_index("placement_setting").loc["residential_school", "mean_months"] == "c"
    ledger = tables.cleaning_report
    assert ledger.columns.tolist() == ["authority", "year", "step", "count", "suppressed"]
    counts = pd.to_numeric(ledger["count"], errors="coerce")
    assert not counts.between(1, 4).any()
    assert (ledger.loc[ledger["suppressed"], "count"] == "c").all()
    rows = _fake903()[0].files["rows"]
    assert tables.files["rows"].tolist() == rows.where(~rows.between(1, 4), "c").tolist()
    assert tables.files.loc[tables.files["suppressed"], "file"].tolist() == ["2021-uasc.csv"]
    # the age table's rows are the ages at the start of the period's episodes
    assert tables.costs_by_age["age"].tolist()[:3] == [9, 10, 11]


def test_default_census_and_period_are_the_last_year_covered():
    tables = publication.cost_tables(_region())
    assert tables.census == pd.Timestamp("2024-03-31")
    assert tables.period == (pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31"))


def test_several_authorities_are_published_by_authority():
    tables = publication.cost_tables(_region(), census="31/03/2024")
    assert list(tables.tables()) == list(publication.TABLES)
    by_authority = tables.costs_by_authority
    assert set(by_authority["authority"]) == {"Kent", "Medway", costs.ALL_TYPES}
    small = pd.to_numeric(by_authority["children"], errors="coerce").between(1, 4)
    assert not small.any()
    assert by_authority["suppressed"].any()
    assert tables.cases_by_setting.columns[0] == "authority"
    assert set(tables.cases_by_setting["authority"]) == {"Kent", "Medway"}
    # counted within their authority: identifiers repeat across authorities
    assert tables.children == 157


def test_the_cli_tables_of_several_authorities(tmp_path, capsys):
    from lacstats import cli

    extract = ssda903.simulate_region({"Kent": 120, "Medway": 40}, years=[2023, 2024], rng=1)
    folder = tmp_path / "extract"
    folder.mkdir()
    for table, frame in extract.items():
        frame.to_csv(folder / f"SSDA903_{table.title()}_merged.csv", index=False)
    out = tmp_path / "tables"
    assert cli.main(["ssda903", str(folder), "--out", str(out)]) == 0
    capsys.readouterr()
    written = sorted(p.stem for p in out.iterdir() if p.name != outputs.MARKER)
    assert written == sorted(publication.TABLES)
    library = publication.cost_tables(ssda903.read(folder))
    for name, frame in library.tables().items():
        by_cli = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        expected = pd.read_csv(
            io.StringIO(frame.to_csv(index=False)), dtype=str, keep_default_na=False
        )
        pd.testing.assert_frame_equal(by_cli, expected, obj=name)


def test_bad_arguments_are_errors_before_any_work():
    data, cleaned = _fake903()
    with pytest.raises(DataError, match="returns as read"):
        publication.cost_tables(cleaned)
    with pytest.raises(DataError, match="cleaned must be"):
        publication.cost_tables(data, cleaned=data)
    with pytest.raises(DataError, match=r"period ends \(2019-04-01\) before it starts"):
        publication.cost_tables(data, period=("2020-03-31", "2019-04-01"))
    with pytest.raises(DataError, match="period needs"):
        publication.cost_tables(data, period=("2020-03-31",))
    with pytest.raises(DataError, match="census date: no such day"):
        publication.cost_tables(data, census="03/31/2020")
