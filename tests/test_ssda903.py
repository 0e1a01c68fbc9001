"""The SSDA903 reader, cleaner and case derivation.

References: the DfE guide to the SSDA903 return (column names, dd/mm/yyyy dates, the code
lists and the year each code was added or retired, PL_DISTANCE 999.9 for an unknown or
non-English postcode) and the synthetic returns of Social Finance Ltd (``fake903``).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from lacstats import costs, outputs, ssda903
from lacstats.errors import DataError
from lacstats.ssda903 import ReturnError

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
    "PL_POST,URN,PL_DISTANCE,PL_LOCATION\n"
)


def write_return(folder, year, header_rows, episode_rows, *, uasc_rows=None):
    """One year's return as the specification's CSVs, ``<end year>-<table>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{year}-header.csv").write_text(HEADER + textwrap.dedent(header_rows))
    (folder / f"{year}-episodes.csv").write_text(EPISODES + textwrap.dedent(episode_rows))
    if uasc_rows is not None:
        (folder / f"{year}-uasc.csv").write_text("CHILD,SEX,DOB,DUC\n" + uasc_rows)
    return folder


def one_child(tmp_path, place="U4", provider="PR1", year=2019, dec="", rne="S", **kw):
    sex = "M" if year >= 2025 else "1"  # SEX is M, F or U from 2024-25
    return write_return(
        tmp_path,
        year,
        f"1,{sex},01/06/2005,WBRI,,,\n",
        f"1,01/05/{year - 1},{rne},C2,N1,{place},{provider},{dec},,,,,,12.5,IN\n",
        **kw,
    )


# ---------------------------------------------------------------------------- fake903


@pytest.fixture(scope="module")
def fake():
    return ssda903.read(ssda903.fake903_path())


def test_reads_the_synthetic_returns(fake):
    # five returns, 2017-18 to 2021-22, dated from their latest DECOM
    assert fake.years == [2018, 2019, 2020, 2021, 2022]
    assert len(fake.header) == 819 + 572 + 362 + 226 + 144
    assert fake.episodes["PLACE"].notna().all()
    assert fake.episodes["DECOM"].dtype.kind == "M"
    # the file name's year is the first year of the collection in fake903
    dated = ssda903.read(ssda903.fake903_path(), year_from="start")
    assert dated.years == fake.years


def test_census_count_equals_open_episodes_of_that_return(tmp_path):
    # DfE's "looked after at 31 March": children with an episode open at the year end
    folder = ssda903.fake903_path()
    one_year = ssda903.read([folder / "2018-header.csv", folder / "2018-episodes.csv"])
    raw = pd.read_csv(folder / "2018-episodes.csv", dtype=str)
    cases = ssda903.case_table(one_year, census_date="2019-03-31").cases
    assert len(cases) == raw.loc[raw["DEC"].isna(), "CHILD"].nunique() == 234
    assert cases["case_id"].is_unique


def test_cleaning_leaves_consistent_episodes(fake):
    cleaned = ssda903.clean(fake)
    episodes = cleaned.episodes
    assert not episodes.duplicated(["CHILD", "DECOM"]).any()
    assert (episodes["DEC"].isna() | (episodes["DEC"] >= episodes["DECOM"])).all()
    following = episodes["CHILD"].eq(episodes["CHILD"].shift(-1))
    assert (episodes["DEC"][following] <= episodes["DECOM"].shift(-1)[following]).all()
    # only the final return leaves episodes open
    assert set(episodes.loc[episodes["DEC"].isna(), "YEAR"]) <= {2022}
    report = cleaned.report.set_index("step")["count"]
    assert report["episodes repeated across or within returns, latest kept"] > 0
    assert report["episodes after cleaning"] == len(episodes)
    assert cleaned.placements["episodes"].sum() == len(episodes)


def test_cases_from_the_synthetic_returns(fake):
    cases = ssda903.case_table(fake, census_date="2020-03-31").cases
    assert len(cases) > 100
    assert (cases["age"] < 18).all()
    assert cases["months_in_placement"].ge(0).all()
    first = cases["placement_number"] == 1
    assert cases.loc[first, "previous_setting"].isna().all()
    assert cases.loc[~first, "previous_setting"].notna().all()
    assert set(cases["placement_setting"]) <= set(
        ssda903.placement_settings()["placement_setting"]
    )
    # fake903 has no PL_DISTANCE column: distance is missing and says so
    assert (cases["distance_status"] == "not recorded").all()
    # the UASC table's children on the census date
    uasc = ssda903.clean(fake).children
    assert cases["uasc"].sum() <= uasc["ever_uasc"].sum()


def test_cases_priced_with_unit_costs(fake):
    units = costs.nottinghamshire_unit_costs(by_setting=True)
    with pytest.raises(DataError, match="no unit cost for this placement_setting"):
        ssda903.case_table(fake, census_date="2020-03-31", unit_costs=units)
    result = ssda903.case_table(fake, census_date="2020-03-31", unit_costs=units, unpriced="drop")
    cases = result.cases
    # the children left out are counted in the result, not hidden in DataFrame.attrs
    assert result.n_unpriced > 0
    assert not cases.attrs
    assert len(cases) + result.n_unpriced == len(
        ssda903.case_table(fake, census_date="2020-03-31").cases
    )
    assert set(result.unpriced.columns) == {"authority", "placement_setting", "children"}
    in_house = cases["placement_setting"] == "foster_in_house"
    assert (cases.loc[in_house, "weekly_cost"] == 465).all()  # seed 004, internal fostering
    assert str(cases["placement_setting"].dtype) == "category"  # validated by the schema


# ---------------------------------------------------------------------------- mapping


@pytest.mark.parametrize(
    ("place", "provider", "setting", "kind"),
    [
        ("K2", "PR1", "residential_la_own", "Residential"),
        ("K2", "PR2", "residential_other_la", "Residential"),
        ("K2", "PR4", "residential_private", "Residential"),
        ("U4", "PR4", "foster_ifa", "Foster care"),
        ("U6", "PR1", "foster_in_house", "Foster care"),
        ("U1", "PR1", "foster_kinship", "Kinship care"),
        ("K1", "PR1", "secure_unit", "Secure"),
        ("H5", "PR4", "semi_independent", "Semi-Independence"),
        ("P1", "PR0", "with_parents", "Placed with parents"),
        ("S1", "PR5", "residential_school", "Residential+Education"),
    ],
)
def test_setting_mapping(tmp_path, place, provider, setting, kind):
    data = ssda903.read(one_child(tmp_path, place=place, provider=provider))
    case = ssda903.case_table(data, census_date="2019-03-31").cases.iloc[0]
    assert case["placement_setting"] == setting
    assert case["placement_type"] == kind


def test_every_placement_code_has_a_setting():
    places = set(ssda903.code_lists()["PLACE"])
    assert places <= set(ssda903.placement_settings()["PLACE"])


def test_need_groups_follow_dorsets_numbering():
    # seed 001: 00 None, 01 Disabilities only, 02 EBD only, 03 UASC only, 04 Offender
    # only, 09 EBD+Offender, 10 UASC+Offender
    groups = ssda903.need_group(
        [0, 1, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 1, 0],
        [0, 0, 0, 1, 0, 0, 1],
        [0, 0, 0, 0, 1, 1, 1],
    )
    assert groups.tolist() == [
        "00: None",
        "01: Disabilities only",
        "02: EBD only",
        "03: UASC only",
        "04: Offender only",
        "09: EBD+Offender",
        "10: UASC+Offender",
    ]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("year", "place", "message"),
    [
        (2024, "K3", "'K3' is valid from 2024-25; checked against the 2023-24 code list"),
        (2026, "H5", "'H5' was retired after 2024-25; checked against the 2025-26 code list"),
        (2026, "P2", "'P2' was retired after 2024-25"),
        (2026, "Z1", "'Z1' was retired after 2024-25"),
        (2025, "Z11", "'Z11' is valid from 2025-26"),
        (2019, "Q9", "'Q9' is not a PLACE code"),
    ],
)
def test_code_lists_by_year(tmp_path, year, place, message):
    with pytest.raises(ReturnError, match=message) as err:
        ssda903.read(one_child(tmp_path, place=place, year=year))
    assert err.value.table == "episodes"
    assert err.value.column == "PLACE"
    assert err.value.rows == [1]
    assert err.value.values == [place]


def test_sex_codes_by_year(tmp_path):
    # 1 and 2 to 2023-24; M, F and U from 2024-25 (the DfE's validator, rule 101)
    with pytest.raises(ReturnError, match="'1' was retired after 2023-24") as err:
        ssda903.read(write_return(tmp_path / "a", 2025, "1,1,01/06/2005,WBRI,,,\n", ""), year=2025)
    assert err.value.column == "SEX"
    with pytest.raises(ReturnError, match="'M' is valid from 2024-25"):
        ssda903.read(write_return(tmp_path / "b", 2024, "1,M,01/06/2005,WBRI,,,\n", ""), year=2024)
    header = "1,M,01/06/2015,WBRI,,,\n2,F,01/06/2016,WBRI,1,,\n"
    episodes = "1,01/05/2024,S,C2,N1,U4,PR1,,,,,,,,\n2,01/05/2024,S,C2,N1,U4,PR1,,,,,,,,\n"
    data = ssda903.read(write_return(tmp_path / "c", 2025, header, episodes))
    cases = ssda903.case_table(data, census_date="2025-03-31").cases
    assert cases["sex"].tolist() == ["male", "female"]


def test_new_codes_are_accepted_in_their_year(tmp_path):
    assert len(ssda903.read(one_child(tmp_path / "a", place="K3", year=2025)).episodes) == 1
    assert len(ssda903.read(one_child(tmp_path / "b", place="Z12", year=2026)).episodes) == 1
    assert len(ssda903.read(one_child(tmp_path / "c", place="H5", year=2025)).episodes) == 1


def test_errors_name_table_file_row_column_and_value(tmp_path):
    # the file's dates are dd/mm/yyyy (two of three): the ISO one is the odd one out
    folder = write_return(
        tmp_path,
        2019,
        "1,1,01/06/2005,WBRI,,,\n",
        "1,01/05/2018,S,C2,N1,U4,PR1,01/06/2018,X1,,,,,,\n1,2018-06-01,P,C2,N1,U4,PR1,,,,,,,,\n",
    )
    with pytest.raises(
        ReturnError,
        match=r"episodes table 2019-episodes.csv \(2018-19\), "
        r"column 'DECOM': not a date in the format dd/mm/yyyy",
    ) as err:
        ssda903.read(folder)
    assert (err.value.table, err.value.file, err.value.rows, err.value.values) == (
        "episodes",
        "2019-episodes.csv",
        [2],
        ["2018-06-01"],
    )


@pytest.mark.parametrize(
    ("header", "episode", "column", "message"),
    [
        ("1,3,01/06/2005,WBRI,,,\n", None, "SEX", "'3' is not a SEX code"),
        ("1,1,,WBRI,,,\n", None, "DOB", "blank, but the specification requires a value"),
        # a year no datetime holds (pandas: 1678-2261): a bad date, not an overflow
        ("1,1,27/03/2999,WBRI,,,\n", None, "DOB", "not a date in the format dd/mm/yyyy"),
        (None, "1,01/05/2018,S,C2,N1,U4,PR1,01/01/1066,E13,,,,,,\n", "DEC", "not a date in"),
        ("1,1,01/06/2005,XXXX,,,\n", None, "ETHNIC", "not a ETHNIC code"),
        (None, "1,01/05/2018,S,Z9,N1,U4,PR1,,,,,,,,\n", "LS", "'Z9' is not a LS code"),
        (None, "1,01/05/2018,S,C2,N9,U4,PR1,,,,,,,,\n", "CIN", "'N9' is not a CIN code"),
        (None, "1,01/05/2018,S,C2,N1,U4,PR9,,,,,,,,\n", "PLACE_PROVIDER", "'PR9'"),
        (None, "1,01/05/2018,S,C2,N1,U4,PR1,01/06/2018,E99,,,,,,\n", "REC", "'E99'"),
        (None, "1,01/05/2018,Q,C2,N1,U4,PR1,,,,,,,,\n", "RNE", "'Q' is not a RNE code"),
        (None, "1,01/05/2018,S,C2,N1,U4,PR1,01/04/2018,E13,,,,,,\n", "DEC", "before DECOM"),
        (
            None,
            "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,far,\n",
            "PL_DISTANCE",
            "not a distance: a number of miles from 0 to 999.9",
        ),
        (
            None,
            "2,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,\n",
            "CHILD",
            "no record in the header table of any year",
        ),
        (None, "1,01/05/2018,S,C2,,U4,PR1,,,,,,,,\n", "CIN", "blank"),
        (
            None,
            "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,THERE\n",
            "PL_LOCATION",
            "'THERE' is not a PL_LOCATION code",
        ),
    ],
)
def test_every_cell_error(tmp_path, header, episode, column, message):
    folder = write_return(
        tmp_path,
        2019,
        header or "1,1,01/06/2005,WBRI,,,\n",
        episode or "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,\n",
    )
    with pytest.raises(ReturnError, match=message) as err:
        ssda903.read(folder)
    assert err.value.column == column
    assert err.value.rows == [1]


def test_missing_column_and_file_errors(tmp_path):
    (tmp_path / "2019-episodes.csv").write_text("CHILD,DECOM,RNE\n1,01/05/2018,S\n")
    with pytest.raises(ReturnError, match=r"missing column.*LS") as err:
        ssda903.read(tmp_path)
    assert err.value.column == "LS"
    with pytest.raises(ReturnError, match="no such file"):
        ssda903.read([tmp_path / "nope.csv"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReturnError, match="no CSV, XLSX or XML"):
        ssda903.read(empty)
    (empty / "2019-notes.csv").write_text("NOTE,BY\n")
    with pytest.raises(ReturnError, match="no table of the SSDA903 return found"):
        ssda903.read(empty)
    # a reviews table lacking a column is a table of the return: its column is missing
    (empty / "2019-reviews.csv").write_text("CHILD,DOB,REVIEW\n")
    with pytest.raises(ReturnError, match=r"missing column.*REVIEW_CODE"):
        ssda903.read(empty)
    (tmp_path / "bad.xml").write_text("<CHILD><CHILDID>1</CHILD>")
    with pytest.raises(ReturnError, match="not well-formed XML"):
        ssda903.read(tmp_path / "bad.xml")


def test_two_header_tables_for_one_year(tmp_path):
    folder = one_child(tmp_path)
    (folder / "2019-header-copy.csv").write_text(HEADER + "1,1,01/06/2005,WBRI,,,\n")
    with pytest.raises(ReturnError, match="more than one header table"):
        ssda903.read(folder)


def test_argument_errors(tmp_path):
    data = ssda903.read(one_child(tmp_path))
    with pytest.raises(DataError, match="outside the returns read"):
        ssda903.case_table(data, census_date="2021-03-31")
    with pytest.raises(DataError, match="census_date: not a date"):
        ssda903.case_table(data, census_date="soon")
    with pytest.raises(DataError, match="year_from"):
        ssda903.read(tmp_path, year_from="middle")
    with pytest.raises(DataError, match="unpriced"):
        ssda903.case_table(data, census_date="2019-03-31", unpriced="ignore")


# ---------------------------------------------------------------------------- cleaning


def test_cleaning_steps(tmp_path):
    header = "1,1,01/06/2005,WBRI,,,\n2,2,10/01/2001,WBRI,,,\n3,1,01/01/2010,WBRI,,,\n"
    # child 1: L (legal status only) and B (same carer) continue the placement, T does not;
    # an exact duplicate row; an overlap. Child 2 turns 18 on 10/01/2019. Child 3 is open
    # at the end of 2018-19 and absent from 2019-20: stale.
    year1 = """\
        1,01/05/2018,S,C1,N1,U6,PR1,01/06/2018,X1,,,,,,
        1,01/06/2018,L,C2,N1,U6,PR1,01/07/2018,X1,,,,,,
        1,01/07/2018,B,C2,N1,U4,PR1,01/09/2018,X1,,,,,,
        1,01/07/2018,B,C2,N1,U4,PR1,01/09/2018,X1,,,,,,
        1,01/09/2018,T,C2,N1,K2,PR4,15/10/2018,X1,,,,,,
        1,10/10/2018,P,C2,N1,U4,PR4,,,,,,,,
        2,01/05/2018,S,V2,N1,H5,PR4,,,,,,,,
        3,01/02/2019,S,V2,N1,U6,PR1,,,,,,,,
        """
    year2 = """\
        1,10/10/2018,P,C2,N1,U4,PR4,,,,,,,,
        """
    write_return(tmp_path, 2019, header, year1)
    write_return(tmp_path, 2020, "1,1,01/06/2005,WBRI,,,\n", year2)
    with pytest.raises(ReturnError, match="both look like the 2018-19 return"):
        ssda903.read(tmp_path)  # the 2019-20 file's only episode started in 2018-19
    data = ssda903.read(tmp_path, year_from="end")
    cleaned = ssda903.clean(data)
    report = cleaned.report.set_index("step")["count"]
    assert report["exact duplicate rows dropped"] == 1
    assert report["episodes repeated across or within returns, latest kept"] == 1
    # the K2 episode overlaps the next, whose copy comes from the later return
    assert report[ssda903._cleaning.STEPS["RULE_4"]] == 1
    steps = ssda903._cleaning.STEPS
    assert report[steps["RULE_2"]] == 2  # children 2 and 3, absent from 2019-20
    assert report["episodes running past age 18, closed on the birthday"] == 1
    one = cleaned.placements[cleaned.placements["CHILD"] == "1"]
    # S+L+B are one placement; T and P start new ones
    assert one["episodes"].tolist() == [3, 1, 1]
    assert one["PLACE"].tolist() == ["U4", "K2", "U4"]
    assert one["end"].iloc[1] == pd.Timestamp("2018-10-10")  # overlap truncated
    episodes = cleaned.episodes.set_index("CHILD")
    assert episodes.loc["2", "DEC"] == pd.Timestamp("2019-01-10")  # 18th birthday
    assert episodes.loc["2", "episode_source"] == "RULE_2 | AGE"
    # stale: closed the day after the 31 March its return reports it open on
    assert episodes.loc["3", "DEC"] == pd.Timestamp("2019-04-01")
    assert episodes.loc["3", "episode_source"] == "RULE_2"
    cases = ssda903.case_table(cleaned, census_date="2019-03-31").cases.set_index("case_id")
    assert cases.index.tolist() == ["1", "3"]
    assert cases.loc["1", "placement_number"] == 3
    assert cases.loc["1", "previous_setting"] == "residential_private"
    # T as a continuation when the analyst asks for the reading
    merged = ssda903.clean(data, continues=("L", "T", "U"))
    assert merged.placements[merged.placements["CHILD"] == "1"]["episodes"].tolist() == [2, 2, 1]


def test_dec_after_the_year_end_is_left_to_the_next_return(tmp_path):
    data = ssda903.read(one_child(tmp_path, dec="02/04/2019"))
    cleaned = ssda903.clean(data)
    report = cleaned.report.set_index("step")["count"]
    assert report["DEC after the collection year end, blanked"] == 1
    assert cleaned.episodes["DEC"].isna().all()


def test_distance_status(tmp_path):
    header = "1,1,01/06/2005,WBRI,,,\n2,1,01/06/2006,WBRI,,,\n3,2,01/06/2004,WBRI,,,\n"
    episodes = """\
        1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,12.5,IN
        2,01/05/2018,S,C2,N1,U4,PR4,,,,,,,999.9,OUT
        3,01/05/2018,S,V2,N1,H5,PR4,,,,,,,,OUT
        """
    uasc = "3,2,01/06/2004,01/06/2022\n"
    data = ssda903.read(write_return(tmp_path, 2019, header, episodes, uasc_rows=uasc))
    cases = ssda903.case_table(data, census_date="2019-03-31").cases.set_index("case_id")
    assert cases["distance_status"].tolist() == ["known", "unknown", "blank"]
    assert cases.loc["1", "distance_miles"] == 12.5
    assert cases[["distance_miles"]].iloc[1:].isna().all().item()
    assert cases["in_authority"].tolist() == [True, False, False]
    assert cases["uasc"].tolist() == [False, False, True]
    # the distance cohort leaves out both kinds of missing distance and counts them
    from lacstats import cohorts

    priced = ssda903.case_table(
        data, census_date="2019-03-31", unit_costs=costs.dorset_unit_costs()
    ).cases
    summary = cohorts.summarise(priced, cohorts.assign(priced, keeping_local={"miles": 10}))
    local = summary[(summary["cohort"] == "keeping_local") & (summary["group"] == "All")]
    assert local["n"].item() == 1
    assert local["unknown"].item() == 2


# ---------------------------------------------------------------------------- formats


def _fake_year(year="2018"):
    folder = ssda903.fake903_path()
    return ssda903.read([folder / f"{year}-header.csv", folder / f"{year}-episodes.csv"])


def _same(left: ssda903.Return, right: ssda903.Return):
    # every column, empty ones too: a column lost in one format must fail
    for table in ("header", "episodes"):
        a = getattr(left, table).drop(columns=["_file", "_row"]).reset_index(drop=True)
        b = getattr(right, table).drop(columns=["_file", "_row"]).reset_index(drop=True)
        assert list(a.columns) == list(b.columns), table
        pd.testing.assert_frame_equal(a, b)


def test_xlsx_return_with_date_cells(tmp_path):
    folder = ssda903.fake903_path()
    path = tmp_path / "2018-return.xlsx"
    with pd.ExcelWriter(path) as writer:
        for table in ("header", "episodes"):
            frame = pd.read_csv(folder / f"2018-{table}.csv", dtype=str)
            for column in ("DOB", "MC_DOB", "DECOM", "DEC"):
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column], format="%d/%m/%Y")
            frame.to_excel(writer, sheet_name=table, index=False)
    _same(ssda903.read(path), _fake_year())


def test_xml_return(tmp_path):
    folder = ssda903.fake903_path()
    header = pd.read_csv(folder / "2018-header.csv", dtype=str)
    episodes = pd.read_csv(folder / "2018-episodes.csv", dtype=str)

    def iso(text):
        return (
            "" if pd.isna(text) else pd.to_datetime(text, format="%d/%m/%Y").strftime("%Y-%m-%d")
        )

    parts = ["<Message><Children>"]
    for _, child in header.iterrows():
        parts.append(
            f"<CHILD><HEADER><CHILDID>{child['CHILD']}</CHILDID>"
            f"<SEX>{child['SEX']}</SEX><DOB>{iso(child['DOB'])}</DOB>"
            f"<ETHNIC>{child['ETHNIC']}</ETHNIC></HEADER><EPISODES>"
        )
        for _, e in episodes[episodes["CHILD"] == child["CHILD"]].iterrows():
            fields = "".join(
                f"<{'PL' if k == 'PLACE' else k}>"
                f"{iso(v) if k in ('DECOM', 'DEC') else ('' if pd.isna(v) else v)}"
                f"</{'PL' if k == 'PLACE' else k}>"
                for k, v in e.items()
                if k != "CHILD"
            )
            parts.append(f"<EPISODE>{fields}</EPISODE>")
        parts.append("</EPISODES></CHILD>")
    parts.append("</Children></Message>")
    path = tmp_path / "2018-return.xml"
    path.write_text("".join(parts))
    from_xml = ssda903.read(path)
    expected = _fake_year()
    a = from_xml.episodes.sort_values(["CHILD", "DECOM"]).reset_index(drop=True)
    b = expected.episodes.sort_values(["CHILD", "DECOM"]).reset_index(drop=True)
    for column in ("CHILD", "DECOM", "DEC", "PLACE", "PLACE_PROVIDER", "RNE", "LS", "REC"):
        pd.testing.assert_series_equal(a[column], b[column], check_dtype=False)
    assert len(from_xml.header) == len(expected.header)


def test_simulated_returns_round_trip_deterministically(tmp_path):
    first = ssda903.simulate(years=(2019, 2020), children=60, rng=3)
    again = ssda903.simulate(years=(2019, 2020), children=60, rng=3)
    for year in first:
        pd.testing.assert_frame_equal(first[year]["episodes"], again[year]["episodes"])
    ssda903.write(first, tmp_path)
    data = ssda903.read(tmp_path)
    assert data.years == [2019, 2020]
    cases = ssda903.case_table(data, census_date="2020-03-31").cases
    assert 30 < len(cases) < 120
    assert np.isin(cases["distance_status"], ["known"]).all()


def test_tables_in_memory_from_another_tool():
    # to_cases(header, episodes, ...): the signature, for returns already loaded
    folder = ssda903.fake903_path()
    header = pd.read_csv(folder / "2018-header.csv", dtype=str)
    episodes = pd.read_csv(folder / "2018-episodes.csv", dtype=str)
    episodes["DECOM"] = pd.to_datetime(episodes["DECOM"], format="%d/%m/%Y")  # datetimes too
    cases = ssda903.case_table(header, episodes, census_date="2019-03-31").cases
    assert len(cases) == 234
    with pytest.raises(DataError, match="needs the episodes table"):
        ssda903.case_table(header, census_date="2019-03-31")
    with pytest.raises(ReturnError, match="missing column") as err:
        ssda903.case_table(header, episodes.drop(columns=["PLACE"]), census_date="2019-03-31")
    assert err.value.table == "episodes"
    bad = episodes.copy()
    bad.loc[3, "PLACE"] = "Q9"
    with pytest.raises(ReturnError, match="'Q9' is not a PLACE code") as err:
        ssda903.case_table(header, bad, census_date="2019-03-31")
    assert err.value.rows == [4]


def test_cli_writes_only_aggregate_tables(tmp_path, capsys):
    from lacstats import cli

    out = tmp_path / "tables"
    code = cli.main(
        [
            "ssda903",
            str(ssda903.fake903_path()),
            "--out",
            str(out),
            "--census",
            "2020-03-31",
            "--project",
            "6",
            "--draws",
            "50",
        ]
    )
    assert code == 0
    assert "214 children looked after on 2020-03-31" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir() if p.name != outputs.MARKER)
    assert names == [
        "cases_by_setting.csv",
        "cleaning_report.csv",
        "costs_by_age.csv",
        "costs_by_need.csv",
        "costs_by_type.csv",
        "files.csv",
        "projection.csv",
    ]
    children = set(pd.read_csv(ssda903.fake903_path() / "2019-header.csv", dtype=str)["CHILD"])
    for path in out.iterdir():
        text = path.read_text()
        assert not any(f",{child}," in text or text.startswith(f"{child},") for child in children)
    # a bad return writes nothing and says why
    before = sorted(p.name for p in out.iterdir())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "2019-episodes.csv").write_text("CHILD,DECOM\n1,01/01/2019\n")
    assert cli.main(["ssda903", str(bad), "--out", str(out)]) == 2
    assert "missing column" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_date_of_birth_typed_as_1900_is_out_of_range(tmp_path):
    # no child of a return is over 25 at the start of its collection year (the DfE's rule
    # 351 in csc-validator-be-903): lacstats' own reading stops on it, naming the cell,
    # rather than cleaning every episode away as past the 18th birthday
    folder = write_return(
        tmp_path, 2019, "1,1,01/01/1900,WBRI,,,\n", "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,\n"
    )
    with pytest.raises(
        ReturnError, match=r"column 'DOB': before 01/04/1993: the child would be over 25"
    ) as err:
        ssda903.read(folder)
    assert (err.value.file, err.value.rows, err.value.values) == (
        "2019-header.csv",
        [1],
        ["1900-01-01"],
    )
    found = ssda903.read(folder, errors="report", rules="all").errors
    assert set(found.loc[found["column"] == "DOB", "rule"]) == {"date_out_of_range", "351"}
    # 25 at the start of the year is in range (a care leaver's return runs to 25)
    ok = write_return(
        tmp_path / "ok", 2019, "1,1,01/04/1993,WBRI,,,\n", "1,01/05/2018,S,C2,N1,U4,PR1,,,,,,,,\n"
    )
    assert not (ssda903.read(ok, errors="report").errors["rule"] == "date_out_of_range").any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ssda903.read(123), r"argument 'path' must be a file's path .* got int"),
        (lambda: ssda903.read([]), r"no files given"),
        (lambda: ssda903.read([ssda903.fake903_path(), None]), r"argument 'path' .* got NoneType"),
    ],
)
def test_read_refuses_what_is_not_a_path(call, message):
    with pytest.raises(DataError, match=message):
        call()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"leaving_age": -1}, r"'leaving_age' must be a whole number of years from 16 to 25.*-1"),
        ({"leaving_age": 18.5}, r"'leaving_age' .* got 18.5"),
        ({"leaving_age": True}, r"'leaving_age' .* got True"),
        ({"continues": "P"}, r"'continues' must be a list of RNE codes"),
    ],
)
def test_clean_refuses_impossible_options(fake, options, message):
    with pytest.raises(DataError, match=message):
        ssda903.clean(fake, **options)
    assert ssda903.clean(fake, leaving_age=21).summary() != ssda903.clean(fake).summary()


def test_to_cases_is_deprecated_for_case_table(fake):
    # one case-table function (#34): to_cases gives case_table's table, with a warning
    with pytest.warns(FutureWarning, match=r"use ssda903.case_table\(\.\.\.\)\.cases"):
        old = ssda903.to_cases(fake, census_date="2020-03-31")
    assert old.equals(ssda903.case_table(fake, census_date="2020-03-31").cases)


def test_reading_a_return_leaves_cleaning_cases_and_simulation_unimported():
    # ssda903 imports cleaning, the case table and the simulator on first use (the names
    # listed by module in _LAZY, which must be each module's __all__), so that reading
    # and validating a return starts without them
    import importlib
    import subprocess
    import sys

    for module, names in ssda903._LAZY.items():
        assert set(names) == set(importlib.import_module(f"lacstats.ssda903.{module}").__all__)
    lazy = [f"lacstats.ssda903.{module}" for module in ssda903._LAZY]
    code = (
        "import sys; from lacstats import ssda903; "
        "ssda903.read(ssda903.fake903_path(), errors='report'); "
        f"print([m for m in {lazy!r} if m in sys.modules])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    assert ssda903.clean is importlib.import_module("lacstats.ssda903._cleaning").clean
