"""SSDA903 as the field writes it: regional extracts of many authorities and years, tables
already in memory, and the full error report.

The extracts are written here, in the layouts other tools use: the regional pipelines'
one file per table with ``LA`` and ``YEAR`` columns and ISO dates
(``SSDA903_Episodes_merged.csv``; Social Finance's liia-tools, whose ``YEAR`` is the
collection's end year and whose file names write years as ``1920`` or ``2019-20``), and
one folder per authority. Rules are the DfE guide's and its validator's (check 178: only
T0-T4 and Z1 placements have no provider).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from lacstats import ssda903
from lacstats.errors import DataError
from lacstats.ssda903 import ReturnError

YEARS = (2018, 2019, 2020, 2021, 2022)
#: how each authority is labelled in the extract: a name, an ONS code, a name that matches
#: no English authority (a synthetic one)
LABELS = {"Bracknell Forest": "Bracknell Forest", "Slough": "E06000039", "Synthetic": "Synthetic"}


def _authority_returns(seed: int) -> dict[int, dict[str, pd.DataFrame]]:
    """Five years of one authority's returns, children numbered from 1001 so that the
    same identifiers appear in every authority."""
    returns = ssda903.simulate(years=YEARS, children=40, rng=seed)
    ids = pd.concat([t["header"]["CHILD"] for t in returns.values()]).unique()
    renumber = {old: str(1001 + i) for i, old in enumerate(sorted(ids))}
    for tables in returns.values():
        for frame in tables.values():
            frame["CHILD"] = frame["CHILD"].map(renumber)
    return returns


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """Each authority's own returns (one folder each, as the specification writes them)
    and the same data as a regional extract (LA and YEAR columns, ISO dates, ids as
    ``1001.0``)."""
    root = tmp_path_factory.mktemp("region")
    folders = root / "by_authority"
    extract = root / "extract"
    extract.mkdir()
    tables: dict[str, list[pd.DataFrame]] = {"header": [], "episodes": []}
    for seed, label in enumerate(LABELS.values(), start=1):
        returns = _authority_returns(seed)
        ssda903.write(returns, folders / label)
        for year, parts in returns.items():
            for table, frame in parts.items():
                frame = frame.copy()
                for column in ("DOB", "DECOM", "DEC"):
                    if column in frame:
                        frame[column] = pd.to_datetime(frame[column], format="%d/%m/%Y")
                frame["CHILD"] = frame["CHILD"].astype(float)  # written 1001.0
                tables[table].append(frame.assign(LA=label, YEAR=year))
    for table, frames in tables.items():
        pd.concat(frames, ignore_index=True).to_csv(
            extract / f"SSDA903_{table.title()}_merged.csv", index=False, date_format="%Y-%m-%d"
        )
    return folders, extract


def _sorted(cases: pd.DataFrame) -> pd.DataFrame:
    return cases.sort_values(["authority", "case_id"]).reset_index(drop=True)


def test_extract_reads_as_each_authority_alone(region):
    folders, extract = region
    data = ssda903.read(extract)
    assert data.files["date_format"].unique().tolist() == ["yyyy-mm-dd"]
    assert data.files["dated_by"].unique().tolist() == ["YEAR column, end year (its dates)"]
    assert data.years == list(YEARS)
    assert data.authority_names == ["Bracknell Forest", "Slough", "Synthetic"]
    matched = data.authorities.set_index("authority")
    assert matched.loc["Slough", "la_code"] == "E06000039"
    assert matched.loc["Slough", "label"] == "E06000039"
    assert not matched.loc["Synthetic", "matched"]
    assert not data.header["CHILD"].str.contains(".", regex=False).any()  # 1001.0 is 1001

    cleaned = ssda903.clean(data)
    cases = ssda903.case_table(cleaned, census_date="2021-03-31").cases
    alone = []
    for name, label in LABELS.items():
        own = ssda903.read(folders / label, authority=label)
        assert own.files["date_format"].unique().tolist() == ["dd/mm/yyyy"]
        assert own.authority_names == [name]
        alone.append(ssda903.case_table(own, census_date="2021-03-31").cases)
    expected = pd.concat(alone, ignore_index=True)
    pd.testing.assert_frame_equal(_sorted(cases), _sorted(expected))
    # the same identifiers in different authorities are different children
    assert cases["case_id"].duplicated().any()
    assert not cases.duplicated(["authority", "case_id"]).any()
    assert set(cases.groupby("authority")["la_code"].first().dropna()) == {
        "E06000036",
        "E06000039",
    }
    # one folder per authority reads the same
    by_folder = ssda903.case_table(ssda903.read(folders), census_date="2021-03-31").cases
    pd.testing.assert_frame_equal(_sorted(by_folder), _sorted(cases))
    # the ledger is kept by authority and year
    ledger = cleaned.ledger
    repeated = ledger[ledger["step"].str.startswith("episodes repeated")]
    assert set(repeated["authority"]) == set(data.authority_names)
    assert set(repeated["year"]) <= set(YEARS[:-1])
    assert (
        repeated["count"].sum()
        == cleaned.report.set_index("step")["count"].loc[
            "episodes repeated across or within returns, latest kept"
        ]
    )


def test_costs_and_children_counted_by_authority(region):
    from lacstats import costs

    _, extract = region
    cleaned = ssda903.clean(ssda903.read(extract))
    period = ("2020-04-01", "2021-03-31")
    episodes = ssda903.episode_table(cleaned, period=period)
    units = costs.dorset_unit_costs()
    table = costs.cost_table(episodes, unit_costs=units, by=("authority",), period=period)
    per_authority = table.iloc[:-1].set_index("authority")["children"]
    # children are counted within their authority: the total is their sum, although
    # identifiers repeat across authorities
    assert table.iloc[-1]["children"] == per_authority.sum()
    start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    within = episodes[(episodes["start"] <= end) & ~(episodes["end"] <= start)]
    assert within.groupby("authority")["CHILD"].nunique().sum() == per_authority.sum()
    assert within["CHILD"].nunique() < per_authority.sum()


def test_year_codes_in_file_names(tmp_path):
    # the regional pipelines' names: a collection's two years as 1920, 2019-20 or 201920
    assert ssda903.collection_year("SSDA903_1920_Episodes.csv") == (2020, "code")
    assert ssda903.collection_year("903 header 2122.csv") == (2022, "code")
    assert ssda903.collection_year("episodes_2019-20.csv") == (2020, "code")
    assert ssda903.collection_year("episodes_201920.csv") == (2020, "code")
    # a calendar year is read by year_from; 2021 is a year before it is a code
    assert ssda903.collection_year("2021-episodes.csv") == (2021, "year")
    assert ssda903.collection_year("episodes.csv") == (None, "none")
    returns = ssda903.simulate(years=(2020, 2022), children=20, rng=4)
    for year, code in ((2020, "1920"), (2022, "2122")):
        for table, frame in returns[year].items():
            frame.to_csv(tmp_path / f"SSDA903_{code}_{table}.csv", index=False)
    data = ssda903.read(tmp_path, year_from="start")  # a code ignores year_from
    assert data.years == [2020, 2022]
    assert set(data.files["dated_by"]) == {"file name (two-year code)"}


def test_tables_in_memory_with_parsed_dates_and_missing_values():
    # the crash of the issue: open episodes (DEC NaT) in frames with parsed dates
    folder = ssda903.fake903_path()
    header = pd.read_csv(folder / "2018-header.csv", dtype=str)
    episodes = pd.read_csv(folder / "2018-episodes.csv", dtype=str)
    written = header["CHILD"].tolist()
    for frame, columns in ((header, ("DOB", "MC_DOB")), (episodes, ("DECOM", "DEC"))):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column], format="%d/%m/%Y")
    assert episodes["DEC"].isna().any()
    header["CHILD"] = header["CHILD"].astype(float).astype("Int64")
    header["SEX"] = header["SEX"].astype(float)  # 1.0 and 2.0
    header["UPN"] = header["UPN"].astype(object).where(header["UPN"].notna(), None)
    episodes["CHILD"] = episodes["CHILD"].astype(float)
    episodes["PLACE"] = episodes["PLACE"].astype("string[pyarrow]")
    episodes["LS"] = episodes["LS"].astype("string[python]")
    episodes["REC"] = episodes["REC"].astype("string").where(episodes["REC"].notna(), pd.NA)
    cases = ssda903.case_table(header, episodes, census_date="31/03/2019").cases
    assert len(cases) == 234  # as from the CSV files (test_ssda903)
    data = ssda903.from_frames(header, episodes)
    assert data.files["date_format"].unique().tolist() == ["date cells"]
    assert data.header["CHILD"].tolist() == written
    assert set(data.header["SEX"]) == {"1", "2"}
    # a census date is never read month first
    with pytest.raises(DataError, match="census_date: no such day"):
        ssda903.case_table(header, episodes, census_date="03/31/2019")


HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
    "PL_POST,URN,PL_DISTANCE,PL_LOCATION\n"
)
#: one problem of each kind a return's rows can have, on purpose
BAD_HEADER = """\
    1,1,01/06/2005,WBRI,,,
    2,1,,WBRI,,,
    3,3,01/06/2005,WBRI,,,
    5,1,01/06/2005,WBRI,,,
    5,1,01/07/2006,WBRI,,,
    6,2,01/06/2018,WBRI,,,
    7,1,01/06/2030,WBRI,,,
    10,1,01/06/2007,WBRI,,,
    """
BAD_EPISODES = """\
    1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,12.5,IN
    10,01/05/2018,S,C2,N1,Q9,PR1,,,,,,,,
    10,2018-06-01,P,C2,N1,U4,PR1,,,,,,,,
    10,01/07/2018,P,C2,N1,U4,PR1,01/06/2018,X1,,,,,,
    10,01/08/2018,P,C2,N1,U4,PR1,,,,,,,far,IN
    10,01/09/2018,P,C2,N1,U4,,,,,,,,,
    10,01/10/2018,P,C2,N1,T1,,,,,,,,,
    10,01/01/2099,P,C2,N1,U4,PR1,,,,,,,,
    9,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,
    6,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,
    1,01/06/2018,P,C2,,U4,PR1,,,,,,,,
    """
BAD_UASC = "CHILD,SEX,DOB,DUC\n8,1,01/01/2004,01/01/2022\n1,1,01/06/2005,01/06/2023\n"
#: (rule, table, row, column) of every problem above
EXPECTED = {
    ("blank", "header", 2, "DOB"),
    ("code", "header", 3, "SEX"),
    ("header_conflict", "header", 4, "CHILD"),
    ("header_conflict", "header", 5, "CHILD"),
    ("dob_after_start", "header", 6, "DOB"),
    ("date_out_of_range", "header", 7, "DOB"),
    ("code", "episodes", 2, "PLACE"),
    ("date_format", "episodes", 3, "DECOM"),
    ("dec_before_decom", "episodes", 4, "DEC"),
    ("distance", "episodes", 5, "PL_DISTANCE"),
    ("provider_blank", "episodes", 6, "PLACE_PROVIDER"),
    ("date_out_of_range", "episodes", 8, "DECOM"),
    ("episode_without_header", "episodes", 9, "CHILD"),
    ("blank", "episodes", 11, "CIN"),
    ("uasc_without_header", "uasc", 1, "CHILD"),
}


@pytest.fixture
def bad_return(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "2019-header.csv").write_text(HEADER + textwrap.dedent(BAD_HEADER))
    (folder / "2019-episodes.csv").write_text(EPISODES + textwrap.dedent(BAD_EPISODES))
    (folder / "2019-uasc.csv").write_text(BAD_UASC)
    return folder


def test_every_problem_is_listed_at_once(bad_return):
    with pytest.raises(ReturnError) as err:
        ssda903.read(bad_return)
    problems = err.value.problems
    assert set(problems[["rule", "table", "row", "column"]].itertuples(index=False)) == EXPECTED
    message = str(err.value)
    assert message.startswith(f"{len(EXPECTED)} problem(s) in 14 place(s)")
    assert "column 'PLACE': 'Q9' is not a PLACE code; checked against the 2018-19 code list" in (
        message
    )
    # the first problem still describes itself
    assert (err.value.table, err.value.file, err.value.rows) == (
        "episodes",
        "2019-episodes.csv",
        [2],
    )
    # one DECOM typed as 2099 does not re-date the return: it is named instead
    dated = problems[problems["rule"] == "date_out_of_range"]
    assert set(dated["year"]) == {2019}
    assert "after the end of the collection year, 31/03/2019" in dated["message"].iloc[-1]
    assert set(problems["rule"]) <= set(ssda903.RULES)


def test_report_and_drop(bad_return):
    report = ssda903.read(bad_return, errors="report")
    found = report.errors
    assert set(found[["rule", "table", "row", "column"]].itertuples(index=False)) == EXPECTED
    assert len(report.episodes) == 11  # every row kept
    assert report.episodes["DECOM"].isna().sum() == 2  # the ISO date and 2099, not read
    with pytest.raises(DataError, match=r"15 problem\(s\) \(read with errors='report'\)"):
        ssda903.clean(report)

    dropped = ssda903.read(bad_return, errors="drop")
    assert set(dropped.errors["rule"]) == {r for r, *_ in EXPECTED}
    # children 2, 3, 5, 6 and 7 have a wrong header: every record of theirs goes
    assert sorted(dropped.header["CHILD"]) == ["1", "10"]
    # the episodes with problems and child 6's go; child 1's first and child 10's T1 stay
    assert dropped.episodes[["CHILD", "PLACE"]].values.tolist() == [["1", "U4"], ["10", "T1"]]
    assert dropped.uasc["CHILD"].tolist() == ["1"]
    ledger = dropped.ledger.set_index("step")["count"]
    assert ledger["header rows left out for problems (errors='drop')"] == 6
    assert ledger["episodes rows left out for problems (errors='drop')"] == 9
    assert ledger["uasc rows left out for problems (errors='drop')"] == 1
    assert set(dropped.ledger["year"]) == {2019}
    # the read's ledger travels with the cleaned return
    cleaned = ssda903.clean(dropped)
    steps = cleaned.report.set_index("step")["count"]
    assert steps["episodes rows left out for problems (errors='drop')"] == 9
    assert steps["episodes after cleaning"] == 2
    with pytest.raises(DataError, match="errors must be"):
        ssda903.read(bad_return, errors="ignore")


def _files(folder, **tables):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


GOOD_EPISODE = "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,\n"


@pytest.mark.parametrize(
    ("tables", "rule", "message"),
    [
        (
            {"2019-episodes.csv": "CHILD,DECOM,RNE\n1,01/05/2018,S\n"},
            "missing_column",
            "missing column(s) LS, CIN",
        ),
        (
            {"2019-episodes.csv": EPISODES + GOOD_EPISODE},
            "missing_table",
            "no Header table",
        ),
        (
            {
                "2019-header.csv": HEADER + "1,1,01/06/2005,WBRI,,,\n",
                "2019-header-copy.csv": HEADER + "1,1,01/06/2005,WBRI,,,\n",
                "2019-episodes.csv": EPISODES + GOOD_EPISODE,
            },
            "duplicate_table",
            "2018-19: more than one header table",
        ),
        (
            {"header.csv": HEADER + "1,1,01/06/2005,WBRI,,,\n", "episodes.csv": EPISODES},
            "undated",
            "cannot tell the collection year",
        ),
        (
            {
                "SSDA903_Header_merged.csv": "LA,YEAR,CHILD,SEX,DOB,ETHNIC\n"
                "Slough,2019,1,1,2005-06-01,WBRI\nSlough,twenty,2,1,2005-06-01,WBRI\n",
                "SSDA903_Episodes_merged.csv": "LA,YEAR,"
                + EPISODES
                + "Slough,2019,"
                + GOOD_EPISODE.replace("01/05/2018", "2018-05-01"),
            },
            "year",
            "not a collection year",
        ),
        (
            {
                "SSDA903_Header_merged.csv": "LA,YEAR,CHILD,SEX,DOB,ETHNIC\n"
                ",2019,1,1,2005-06-01,WBRI\n",
                "SSDA903_Episodes_merged.csv": "LA,YEAR," + EPISODES,
            },
            "blank",
            "no authority named",
        ),
    ],
)
def test_problems_with_whole_tables(tmp_path, tables, rule, message):
    folder = _files(tmp_path / "returns", **tables)
    with pytest.raises(ReturnError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        ssda903.read(folder)
    assert rule in set(err.value.problems["rule"])
    report = ssda903.read(folder, errors="report")
    assert rule in set(report.errors["rule"])


def test_a_return_with_no_episodes_keeps_its_neighbours_convention(tmp_path):
    returns = ssda903.simulate(years=(2019, 2020), children=20, rng=5)
    for year, tables in returns.items():
        for table, frame in tables.items():
            # file names give the first year of the collection, as fake903's do
            frame.to_csv(tmp_path / f"{year - 1}-{table}.csv", index=False)
    (tmp_path / "2019-episodes.csv").write_text(EPISODES)  # 2019-20: no episodes
    data = ssda903.read(tmp_path)
    dated = data.files.set_index("file")
    assert dated.loc["2018-episodes.csv", "year"] == 2019
    assert dated.loc["2019-header.csv", "year"] == 2020
    assert (
        dated.loc["2019-header.csv", "dated_by"] == "file name, as its neighbours' (no episodes)"
    )


def test_place_provider_blank_where_the_guide_allows_it(tmp_path):
    folder = _files(
        tmp_path,
        **{
            "2019-header.csv": HEADER + "1,1,01/06/2005,WBRI,,,\n",
            "2019-episodes.csv": EPISODES
            + "1,01/05/2018,S,C2,N1,U4,PR1,01/06/2018,X1,,,,,,\n"
            + "1,01/06/2018,P,C2,N1,T4,,01/07/2018,X1,,,,,,\n"
            + "1,01/07/2018,P,C2,N1,Z1,,,,,,,,,\n",
        },
    )
    cases = ssda903.case_table(ssda903.read(folder), census_date="2019-03-31").cases
    assert cases["placement_setting"].tolist() == ["other"]
    assert cases["provider"].tolist() == ["N/A"]


def test_return_and_cleaned_faces(region):
    _, extract = region
    data = ssda903.read(extract)
    assert "3 authorities, 5 year(s)" in data.summary()
    frame = data.to_frame()
    assert len(frame) == 3 * 5
    assert (frame["problems"] == 0).all()
    as_dict = data.to_dict()
    assert as_dict["authorities"] == ["Bracknell Forest", "Slough", "Synthetic"]
    assert as_dict["date_formats"] == ["yyyy-mm-dd"]
    cleaned = ssda903.clean(data)
    facts = cleaned.to_dict()
    assert facts["children"] == len(cleaned.children)
    assert isinstance(facts["steps"]["episodes after cleaning"], int)
    assert list(cleaned.to_frame().columns) == ["authority", "year", "step", "count"]
    result = ssda903.case_table(cleaned, census_date="2022-03-31")
    assert result.to_dict()["children"] == len(result.cases)
    assert result.to_frame()["children"].sum() == len(result.cases)
    assert np.isin(result.to_frame()["authority"], data.authority_names).all()
    with pytest.raises(DataError, match="name their authorities"):
        ssda903.case_table(cleaned, census_date="2022-03-31", authority="Kent")


#: the DfE's rules that flag rows of the bad return above, by (rule, table, row)
EXPECTED_DFE = {
    ("142", "episodes", 1),  # a later episode starts; this one has no DEC
    ("142", "episodes", 2),
    ("142", "episodes", 5),
    ("142", "episodes", 6),
    ("388", "episodes", 4),  # X1 but the next episode does not start on its DEC
    ("225", "episodes", 4),  # X1 then a change of placement with no reason recorded
    ("393", "header", 6),  # a girl looked after with MOTHER blank
    ("EPI", "header", 2),  # header records of children with no episodes
    ("EPI", "header", 3),
    ("EPI", "header", 4),
    ("EPI", "header", 5),
    ("EPI", "header", 7),
}


def test_cli_validate_writes_the_report_for_the_data_team(bad_return, tmp_path, capsys):
    from lacstats import cli

    report = tmp_path / "out" / "report.xlsx"
    assert cli.main(["ssda903", "validate", str(bad_return), "--out", str(report)]) == 1
    printed = capsys.readouterr().out
    problems = pd.read_excel(report, sheet_name="problems", dtype={"rule": str})
    assert f"{len(problems)} problem(s); report in" in printed
    own = problems[problems["rule"].isin(list(ssda903.RULES))]
    assert set(own[["rule", "table", "row", "column"]].itertuples(index=False)) == EXPECTED
    dfe = problems[~problems["rule"].isin(list(ssda903.RULES))]
    assert set(dfe[["rule", "table", "row"]].itertuples(index=False)) >= EXPECTED_DFE
    assert set(dfe["rule"]) <= set(ssda903.dfe.REGISTRY)
    by_rule = pd.read_excel(report, sheet_name="by rule", dtype={"rule": str})
    by_rule = by_rule.set_index("rule")["problems"]
    counted = problems["rule"].value_counts()
    assert by_rule[by_rule > 0].sort_index().to_dict() == counted.sort_index().to_dict()
    # every rule of the year read, lacstats' own and the DfE's, found or not
    assert set(by_rule.index) == set(ssda903.rule_table(2019)["code"])
    assert set(ssda903.RULES) < set(by_rule.index)
    assert set(problems.columns) >= {"table", "file", "year", "row", "column", "value", "rule"}
    # a clean return: exit 0; the report is never written over an input
    good = _files(
        tmp_path / "good",
        **{
            "2019-header.csv": HEADER + "1,1,01/06/2005,WBRI,,,\n",
            "2019-episodes.csv": EPISODES + "1,01/05/2018,S,C2,N1,U4,PR1,,,,AB1 2CD,EF3 4GH,,,\n",
        },
    )
    assert cli.main(["ssda903", "validate", str(good), "--out", str(report)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out
    inside = bad_return / "report.xlsx"
    assert cli.main(["ssda903", "validate", str(bad_return), "--out", str(inside)]) == 2
    assert "lies inside the input" in capsys.readouterr().err
    assert not inside.exists()


def test_cli_lists_the_rules(tmp_path, capsys):
    from lacstats import cli

    assert cli.main(["ssda903", "rules", "--year", "2018-19"]) == 0
    printed = capsys.readouterr().out
    table = ssda903.rule_table(2019)
    assert printed.startswith(f"{len(table)} rules in 2018-19:")
    assert " 148      DfE " in printed
    out = tmp_path / "rules.csv"
    assert cli.main(["ssda903", "rules", "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype={"code": str})
    assert set(written["code"]) == set(ssda903.rule_table()["code"])
    with pytest.raises(SystemExit) as stop:  # argparse's usage error
        cli.main(["ssda903", "rules", "--year", "twenty"])
    assert stop.value.code == 2
    assert "not a collection year: 'twenty'" in capsys.readouterr().err


def test_cli_tables_of_a_regional_extract(region, tmp_path, capsys):
    from lacstats import cli

    _, extract = region
    out = tmp_path / "tables"
    assert cli.main(["ssda903", str(extract), "--out", str(out), "--census", "31/03/2021"]) == 0
    assert "children looked after on 2021-03-31" in capsys.readouterr().out
    ledger = pd.read_csv(out / "cleaning_report.csv", dtype=str)
    assert set(ledger.columns) == {"authority", "year", "step", "count", "suppressed"}
    assert set(ledger["authority"].dropna()) == {"Bracknell Forest", "Slough", "Synthetic"}
    small = ledger["suppressed"] == "True"
    assert (ledger.loc[small, "count"] == "c").all()
    assert not pd.to_numeric(ledger.loc[~small, "count"]).between(1, 4).any()
    by_authority = pd.read_csv(out / "costs_by_authority.csv")
    assert set(by_authority["authority"]) >= {"Bracknell Forest", "Slough", "Synthetic"}
    settings = pd.read_csv(out / "cases_by_setting.csv")
    assert "authority" in settings.columns
