"""Every table of the SSDA903 return is read: Header, Episodes and UASC, which the cases,
costs and projections use, and AD1, placed for adoption, previous permanence, OC2, OC3,
reviews, missing and social worker episodes, which are read, typed and validated.

References: the DfE guide to the SSDA903 return (the tables and their columns; the XML
upload's groups ``AREVIEW``, ``AMISSING``, ``AD_PLACED``, ``PERMANENCE``, ``OC2``) and the
Social Finance synthetic returns (``fake903``), whose folders hold the other tables and,
in some copies, a 1-byte ``ad1`` file.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from lacstats import ssda903
from lacstats.errors import DataError
from lacstats.ssda903 import ReturnError

OTHER_TABLES = {
    "reviews": "CHILD,DOB,REVIEW,REVIEW_CODE\n{c},{d},11/08/2017,PN1\n{c},{d},02/02/2018,PN5\n",
    "missing": "CHILD,DOB,MISSING,MIS_START,MIS_END\n{c},{d},M,26/02/2018,11/03/2018\n",
    "oc2": (
        "CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
        "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED\n"
        "{c},{d},12,,0,1,1,1,1,0,,\n"
    ),
    "oc3": "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n{c},{d},YES,F2,S1\n",
    "previous_permanence": "CHILD,DOB,PREV_PERM,LA_PERM,DATE_PERM\n{c},{d},P1,,zz/06/2015\n",
    "placed_for_adoption": (
        "CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED\n{c},{d},01/09/2017,,\n"
    ),
    "sw_episodes": "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n{c},{d},SW1,01/05/2017,,\n",
}


def _one_year(folder):
    """fake903's 2017 files (the 2017-18 return), the other tables for its first child,
    and a 1-byte AD1 file, as some copies of fake903 have."""
    folder.mkdir()
    for table in ("header", "episodes", "uasc"):
        shutil.copy(ssda903.fake903_path() / f"2017-{table}.csv", folder)
    first = pd.read_csv(folder / "2017-header.csv", dtype=str).iloc[0]
    for table, text in OTHER_TABLES.items():
        (folder / f"2017-{table}.csv").write_text(text.format(c=first["CHILD"], d=first["DOB"]))
    (folder / "2017-ad1.csv").write_text("\n")
    return folder, first


def test_every_table_is_read_and_an_empty_file_is_noted(tmp_path):
    folder, first = _one_year(tmp_path / "returns")
    data = ssda903.read(folder)  # the 1-byte ad1 file is not fatal
    assert data.empty == ("2017-ad1.csv",)
    assert data.skipped == ()
    rows = {t: len(data.table(t)) for t in OTHER_TABLES}
    assert rows == {
        "reviews": 2,
        "missing": 1,
        "oc2": 1,
        "oc3": 1,
        "previous_permanence": 1,
        "placed_for_adoption": 1,
        "sw_episodes": 1,
    }
    assert len(data.table("ad1")) == 0
    assert list(data.table("ad1").columns[:3]) == ["CHILD", "DOB", "DATE_INT"]
    reviews = data.table("reviews")
    assert reviews["REVIEW"].tolist() == [pd.Timestamp("2017-08-11"), pd.Timestamp("2018-02-02")]
    assert set(reviews["YEAR"]) == {2018}  # dated with the episodes of its return
    assert (reviews["CHILD"] == first["CHILD"]).all()
    # a partly unknown date of permanence stays as written
    assert data.table("previous_permanence")["DATE_PERM"].tolist() == ["zz/06/2015"]
    assert data.to_dict()["rows"]["reviews"] == 2
    assert "other tables: placed_for_adoption, previous_permanence, oc2, oc3" in data.summary()
    assert "1 empty file(s) noted" in data.summary()
    assert set(data.to_frame().columns) >= {"header_rows", "episodes_rows", "reviews_rows"}
    # the cases do not change with the other tables
    alone = ssda903.read([folder / f"2017-{t}.csv" for t in ("header", "episodes", "uasc")])
    pd.testing.assert_frame_equal(
        ssda903.case_table(data, census_date="2018-03-31").cases,
        ssda903.case_table(alone, census_date="2018-03-31").cases,
    )
    with pytest.raises(DataError, match="no table 'reveiws'"):
        data.table("reveiws")


def test_a_bad_cell_of_another_table_is_a_problem(tmp_path):
    folder, _ = _one_year(tmp_path / "returns")
    (folder / "2017-reviews.csv").write_text(
        "CHILD,DOB,REVIEW,REVIEW_CODE\n1,01/01/2010,31/02/2018,PN1\n"
    )
    with pytest.raises(ReturnError, match="not a date in the format dd/mm/yyyy") as err:
        ssda903.read(folder)
    assert (err.value.table, err.value.column, err.value.rows) == ("reviews", "REVIEW", [1])


def test_a_return_without_episodes_is_a_problem(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(ssda903.fake903_path() / "2017-header.csv", folder)
    (folder / "2017-episodes.csv").write_text("")  # an empty Episodes file: noted
    with pytest.raises(ReturnError, match="no Episodes table") as err:
        ssda903.read(folder, year=2018)
    assert set(err.value.problems["rule"]) == {"missing_table"}
    report = ssda903.read(folder, year=2018, errors="report")
    assert report.empty == ("2017-episodes.csv",)


def test_tables_named_by_their_columns_or_the_field_s_names(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    for table in ("header", "episodes"):
        shutil.copy(
            ssda903.fake903_path() / f"2017-{table}.csv", folder / f"SSDA903_2017_{table}.csv"
        )
    header = pd.read_csv(folder / "SSDA903_2017_header.csv", dtype=str).iloc[0]
    # the validator's names (SWEpisodes, PlacedAdoption, PrevPerm) and a file named for nothing
    names = {
        "sw_episodes": "SSDA903_2017_SWEpisodes.csv",
        "placed_for_adoption": "SSDA903_2017_PlacedAdoption.csv",
        "previous_permanence": "SSDA903_2017_PrevPerm.csv",
        "oc3": "SSDA903_2017_table7.csv",
    }
    for table, name in names.items():
        text = OTHER_TABLES[table].format(c=header["CHILD"], d=header["DOB"])
        (folder / name).write_text(text)
    data = ssda903.read(folder)
    for table in names:
        assert len(data.table(table)) == 1, table
    assert len(data.table("episodes")) > 0


def test_xml_groups_are_the_other_tables(tmp_path):
    xml = """<Message><Children>
      <CHILD><HEADER><CHILDID>7</CHILDID><SEX>1</SEX><DOB>2008-06-01</DOB><ETHNIC>WBRI</ETHNIC>
        <UASC>0</UASC><DATE_INT>2017-06-01</DATE_INT><DATE_MATCH>2017-07-01</DATE_MATCH>
        <FOSTER_CARE>0</FOSTER_CARE><NB_ADOPTR>1</NB_ADOPTR><SEX_ADOPTR>M1</SEX_ADOPTR>
        <LS_ADOPTR>L0</LS_ADOPTR>
        <AREVIEW><REVIEW>2017-08-11</REVIEW><REVIEW_CODE>PN1</REVIEW_CODE></AREVIEW>
        <AREVIEW><REVIEW>2018-02-02</REVIEW><REVIEW_CODE>PN4</REVIEW_CODE></AREVIEW>
        <AMISSING><MISSING>M</MISSING><MIS_START>2017-09-01</MIS_START></AMISSING>
        <PERMANENCE><PREV_PERM>Z1</PREV_PERM></PERMANENCE>
        <AD_PLACED><DATE_PLACED>2017-09-01</DATE_PLACED></AD_PLACED>
      </HEADER>
      <EPISODES><EPISODE><DECOM>2017-05-01</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN>
        <PL>U4</PL><PLACE_PROVIDER>PR1</PLACE_PROVIDER><DEC></DEC><REC></REC></EPISODE>
      </EPISODES></CHILD>
    </Children></Message>"""
    path = tmp_path / "2018-return.xml"
    path.write_text(xml)
    data = ssda903.read(path, year=2018)
    assert data.table("reviews")["REVIEW_CODE"].tolist() == ["PN1", "PN4"]
    assert data.table("reviews")["DOB"].tolist() == [pd.Timestamp("2008-06-01")] * 2
    assert data.table("missing")["MIS_START"].tolist() == [pd.Timestamp("2017-09-01")]
    assert data.table("previous_permanence")["PREV_PERM"].tolist() == ["Z1"]
    assert data.table("placed_for_adoption")["CHILD"].tolist() == ["7"]
    assert data.table("ad1")[["NB_ADOPTR", "SEX_ADOPTR"]].values.tolist() == [["1", "M1"]]
    assert len(data.table("oc3")) == 0
    assert len(data.episodes) == 1
