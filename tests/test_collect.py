"""Collection workbooks (lacstats.collect): template, merge, status, and the commands."""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lacstats import cli, collect, schema, study, synthetic
from lacstats.errors import DataError
from lacstats.io import read_table

AUTHORITIES = ["Slough", "Windsor and Maidenhead", "Wokingham"]
STUDY_TOML = f"""
[study]
name = "berks"
title = "East Berkshire complex needs study"

[authorities]
list = {AUTHORITIES!r}

[frame]
year = 2017

[design]
selection = "a simple random sample of looked-after children aged 10 and over"
""".replace("'", '"')


@pytest.fixture(scope="module")
def berks(tmp_path_factory) -> study.Study:
    path = tmp_path_factory.mktemp("study") / "berks.toml"
    path.write_text(STUDY_TOML, encoding="utf-8")
    return study.load(path)


@pytest.fixture(scope="module")
def templates(berks) -> collect.Templates:
    return collect.template(berks, return_to="data.manager@example.org", deadline="31/01/2026")


@pytest.fixture(scope="module")
def original(berks) -> pd.DataFrame:
    return synthetic.sample(berks, rng=17)


def _cell_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return value.item() if isinstance(value, np.generic) else value


def _filled(data: bytes, rows: pd.DataFrame) -> openpyxl.Workbook:
    """A template workbook filled in as an authority would, from a case table."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Cases"]
    names = [c.value for c in sheet[2]]
    for r in range(3, sheet.max_row + 1):
        case = sheet.cell(r, 1).value
        if case not in rows.index:
            continue
        for j, name in enumerate(names, start=1):
            if name not in collect.PREFILLED:
                sheet.cell(r, j).value = _cell_value(rows.loc[case, name])
    return book


@pytest.fixture(scope="module")
def returns(tmp_path_factory, templates, original) -> Path:
    """The filled-in returns of every authority, in one folder."""
    folder = tmp_path_factory.mktemp("returns")
    files = templates.table.set_index("authority")["file"]
    for authority, name in files.items():
        rows = original[original["authority"] == authority].set_index("case_id")
        _filled(templates.workbooks[name], rows).save(folder / name)
    return folder


def _copy(returns: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "returns"
    shutil.copytree(returns, folder)
    return folder


# --- the template -----------------------------------------------------------------------


def test_template_one_workbook_per_authority_with_the_design_rows(berks, templates):
    plan = berks.design().table.set_index("stratum")
    assert templates.table["authority"].tolist() == AUTHORITIES
    assert templates.table["rows"].tolist() == [int(plan.loc[a, "n"]) for a in AUTHORITIES]
    # CRS design (95%, +/-10) of the DfE 2017 frame: Slough 132 -> 56, Windsor 78 -> 43,
    # Wokingham 64 -> 39 (the seed study's design table gives the same)
    assert templates.table["rows"].tolist() == [56, 43, 39]
    assert sorted(templates.workbooks) == [
        "berks_Slough.xlsx",
        "berks_Windsor_and_Maidenhead.xlsx",
        "berks_Wokingham.xlsx",
    ]


def test_template_cases_sheet_headers_ids_and_formats(templates):
    book = openpyxl.load_workbook(io.BytesIO(templates.workbooks["berks_Slough.xlsx"]))
    assert book.sheetnames == ["Cases", "Instructions", "Codes"]
    sheet = book["Cases"]
    headers = [c.value for c in sheet[1]]
    names = [c.value for c in sheet[2]]
    assert names == [c.name for c in schema.COLUMNS]
    assert headers[names.index("weekly_cost")] == "Weekly cost (£)"
    assert headers[names.index("distance_miles")] == "Distance from home (miles)"
    assert headers[names.index("risk_cse")] == "Child sexual exploitation (1-5)"
    assert sheet.max_row == 2 + 56
    ids = [sheet.cell(r, 1).value for r in range(3, 59)]
    assert ids[0] == "SLO-001"
    assert ids[-1] == "SLO-056"
    assert len(set(ids)) == 56
    assert {sheet.cell(r, 2).value for r in range(3, 59)} == {"Slough"}
    assert {sheet.cell(r, 3).value for r in range(3, 59)} == {"Unitary"}
    cost = names.index("weekly_cost") + 1
    assert sheet.cell(3, cost).number_format == '"£"#,##0.00'
    # protected: headers and ids locked, the cells to fill unlocked
    assert sheet.protection.sheet
    assert sheet.cell(3, 1).protection.locked
    assert sheet.cell(1, cost).protection.locked
    assert not sheet.cell(3, cost).protection.locked
    assert book["Codes"].protection.sheet


def _validations(sheet) -> dict[str, object]:
    names = [c.value for c in sheet[2]]
    out = {}
    for rule in sheet.data_validations.dataValidation:
        for bounds in rule.sqref.ranges:
            out[names[bounds.min_col - 1]] = (rule, str(bounds))
    return out


def test_template_validation_on_every_column_to_fill(templates):
    book = openpyxl.load_workbook(io.BytesIO(templates.workbooks["berks_Wokingham.xlsx"]))
    rules = _validations(book["Cases"])
    to_fill = [c.name for c in schema.COLUMNS if c.name not in ("case_id", "authority")]
    assert sorted(rules) == sorted(to_fill)
    codes = book["Codes"]

    def listed(formula: str) -> list[str]:
        _, cells = formula.split("!")
        return [c.value for (c,) in codes[cells.replace("$", "")]]

    for name, (rule, cells) in rules.items():
        assert cells == f"{cells[0]}3:{cells[0]}41"  # the 39 case rows
        assert rule.showInputMessage
        assert rule.prompt
        assert rule.promptTitle
        assert rule.showErrorMessage
        assert rule.errorStyle == "stop"
        assert len(rule.prompt) <= 255
        assert len(rule.promptTitle) <= 32
        assert len(rule.error) <= 225
        assert len(rule.errorTitle) <= 32
        column = next(c for c in schema.COLUMNS if c.name == name)
        if column.kind == "code":
            assert rule.type == "list"
            assert listed(rule.formula1) == list(column.codes)
        elif column.kind == "bool":
            assert rule.type == "list"
            assert listed(rule.formula1) == ["yes", "no"]
        elif column.kind == "score":
            assert (rule.type, rule.formula1, rule.formula2) == ("whole", "1", "5")
        elif column.kind in ("money", "float"):
            assert rule.type == "decimal"
            assert rule.formula1 == "0"
            assert float(rule.formula2) == column.maximum
        elif name == "age":
            # the study's frame counts children looked after aged 10 and over (under 18)
            assert rule.type == "whole"
            assert (float(rule.formula1), float(rule.formula2)) == (10, 17)
            assert "from 10 to 17" in rule.prompt
        else:
            assert rule.type == "whole"
            assert (float(rule.formula1), float(rule.formula2)) == (
                column.minimum,
                column.maximum,
            )
    assert "Unitary" in listed(rules["authority_type"][0].formula1)


def test_template_instructions_say_what_to_sample_and_where_to_send(berks, templates):
    book = openpyxl.load_workbook(io.BytesIO(templates.workbooks["berks_Slough.xlsx"]))
    text = {row[0]: row[1] for row in book["Instructions"].iter_rows(values_only=True)}
    assert berks.selection in text["What to send"]
    assert "aged 10 and over at 31 March 2017" in text["Sampling frame"]
    assert "132 in Slough" in text["Sampling frame"]  # DfE 2017, lac_10_plus
    assert text["Sample size"].startswith("56 children of 132")
    assert "SLO-001 to SLO-056" in text["Sample size"]
    assert "never send it" in text["Pseudonymisation"]
    assert "data.manager@example.org by 31 January 2026" in text["Returning"]
    assert text["Column: Weekly cost (£)"].startswith("weekly_cost: ")


def test_template_bytes_depend_only_on_the_arguments(berks, templates):
    again = collect.template(
        berks, authorities=["Slough"], return_to="data.manager@example.org", deadline="2026-01-31"
    )
    assert again.workbooks["berks_Slough.xlsx"] == templates.workbooks["berks_Slough.xlsx"]


def test_template_refuses_an_authority_outside_the_study(berks):
    with pytest.raises(DataError, match="not an authority of the study 'berks': Kent"):
        collect.template(berks, authorities=["Kent"])
    with pytest.raises(DataError, match="deadline: not a date"):
        collect.template(berks, deadline="next week")


# --- merge: the round trip --------------------------------------------------------------


def test_round_trip_merged_table_equals_the_sample(berks, returns, original):
    merged = collect.merge([returns], study=berks)
    assert merged.issues.empty
    assert merged.returns["rows_valid"].tolist() == [56, 43, 39]
    assert list(merged.cases.columns) == [*(c.name for c in schema.COLUMNS), "risk_score"]
    pd.testing.assert_frame_equal(
        merged.cases.reset_index(drop=True),
        original.reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )
    pd.testing.assert_frame_equal(
        schema.validate(merged.cases, authorities=AUTHORITIES), merged.cases
    )


def test_round_trip_status_compares_the_margin_with_the_target_exactly(berks, returns):
    result = collect.status(collect.merge([returns], study=berks))
    table = result.to_frame().set_index("authority")
    assert table["required"].tolist() == table["valid"].tolist() == [56, 43, 39]
    assert table["returned"].tolist() == [56, 43, 39]
    # z sqrt(p q / n) sqrt((N - n) / (N - 1)) at 95%, p = 0.5, Slough N = 132, n = 56:
    # 100 * 1.959964 * sqrt(0.25 / 56) * sqrt(76 / 131) = 9.97459...
    assert table.loc["Slough", "margin_of_error"] == pytest.approx(9.97459, abs=1e-5)
    assert table.loc["Wokingham", "population"] == 64
    # Windsor and Maidenhead (N = 78): the CRS design's 43.29 rounds to 43 cases, whose
    # margin is 100 * 1.959964 * sqrt(0.25 / 43) * sqrt(35 / 77) = 10.0756...: every row
    # returned, and still not the +/-10 the design promised
    assert table.loc["Windsor and Maidenhead", "margin_of_error"] == pytest.approx(
        10.07564, abs=1e-5
    )
    assert table["target_met"].tolist() == [True, False, True]
    assert not result.complete
    assert "10.08       False" in result.summary()
    assert "±10.08" in result.to_html()


def test_spare_rows_are_not_returns_and_status_shows_the_shortfall(
    berks, templates, original, tmp_path
):
    folder = tmp_path / "returns"
    folder.mkdir()
    name = "berks_Slough.xlsx"
    rows = original[original["authority"] == "Slough"].set_index("case_id").iloc[:30]
    _filled(templates.workbooks[name], rows).save(folder / name)
    with pytest.raises(collect.ReturnsError, match=r"2 of the study's 3 authorities sent no"):
        collect.merge([folder], study=berks)
    merged = collect.merge([folder], study=berks, allow_missing=True)
    assert merged.missing == ("Windsor and Maidenhead", "Wokingham")
    assert len(merged.cases) == 30
    assert merged.issues.empty
    table = collect.status(merged).to_frame().set_index("authority")
    assert table.loc["Slough", ["required", "returned", "valid"]].tolist() == [56, 30, 30]
    assert not table.loc["Slough", "target_met"]
    # 100 * 1.959964 * sqrt(0.25 / 30) * sqrt(102 / 131) = 15.78781...
    assert table.loc["Slough", "margin_of_error"] == pytest.approx(15.78781, abs=1e-5)
    assert table.loc["Wokingham", "returned"] == 0
    assert math.isnan(table.loc["Wokingham", "margin_of_error"])


def test_a_plain_case_table_merges_without_the_template(berks, original, tmp_path):
    """CSV and XLSX files with the case table's columns, not from the template."""
    slough = original[original["authority"] == "Slough"]
    slough.to_csv(tmp_path / "slough.csv", index=False)
    other = original[original["authority"] != "Slough"].drop(columns="risk_score")
    other = other.rename(columns={"weekly_cost": "Weekly cost (£)"})  # a human header
    parts = {a: part for a, part in other.groupby("authority", observed=True)}
    for authority, part in parts.items():
        part.to_excel(tmp_path / f"{authority}.xlsx", index=False, sheet_name="Data")
    merged = collect.merge(sorted(tmp_path.iterdir()), study=berks)
    assert merged.issues.empty
    assert set(merged.returns["layout"]) == {"plain"}
    pd.testing.assert_frame_equal(
        merged.cases.sort_values("case_id").reset_index(drop=True),
        original.sort_values("case_id").reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )


def test_a_template_saved_as_utf8_csv_still_merges(berks, returns, original, tmp_path):
    folder = _copy(returns, tmp_path)
    book = openpyxl.load_workbook(folder / "berks_Slough.xlsx")
    with open(folder / "berks_Slough.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["" if c is None else c for c in row]
                for row in book["Cases"].iter_rows(values_only=True)
            ]
        )
    (folder / "berks_Slough.xlsx").unlink()
    merged = collect.merge([folder], study=berks)
    assert merged.issues.empty
    assert len(merged.cases) == len(original)
    assert merged.returns.set_index("authority").loc["Slough", "layout"] == "template"


# --- merge: damaged returns, one per rule ----------------------------------------------


def _book(folder: Path, name: str = "berks_Slough.xlsx"):
    return openpyxl.load_workbook(folder / name)


def _setting_typed_in(folder):
    book = _book(folder)
    book["Cases"]["G5"] = "Residential home"
    book.save(folder / "berks_Slough.xlsx")


def _cost_in_words(folder):
    book = _book(folder)
    book["Cases"]["I6"] = "four thousand"
    book.save(folder / "berks_Slough.xlsx")


def _score_of_six(folder):
    book = _book(folder)
    book["Cases"]["Q7"] = 6
    book.save(folder / "berks_Slough.xlsx")


def _required_cell_blank(folder):
    book = _book(folder)
    book["Cases"]["G8"] = None
    book.save(folder / "berks_Slough.xlsx")


def _extra_sheet(folder):
    book = _book(folder)
    notes = book.create_sheet("Notes")
    notes["A1"], notes["B1"] = "case", "note"
    notes["A2"], notes["B2"] = "SLO-004", "lives with her aunt"
    book.save(folder / "berks_Slough.xlsx")


def _renamed_column(folder):
    book = _book(folder)
    book["Cases"]["J2"] = "distance"
    book.save(folder / "berks_Slough.xlsx")


def _rows_deleted(folder):
    book = _book(folder)
    book["Cases"].delete_rows(10, 2)  # SLO-008 and SLO-009
    book.save(folder / "berks_Slough.xlsx")


def _duplicate_case_id(folder):
    book = _book(folder, "berks_Wokingham.xlsx")
    book["Cases"]["A4"] = "SLO-001"  # a Slough id typed into Wokingham's return
    book.save(folder / "berks_Wokingham.xlsx")


def _saved_as_csv(folder):
    """Excel's "CSV (Comma delimited)": Windows-1252 text, costs as displayed."""
    book = _book(folder)
    rows = [
        ["" if c is None else c for c in row] for row in book["Cases"].iter_rows(values_only=True)
    ]
    for row in rows[2:]:
        if row[8] != "":
            row[8] = f"£{float(row[8]):,.2f}"
    with open(folder / "berks_Slough.csv", "w", encoding="cp1252", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (folder / "berks_Slough.xlsx").unlink()


DAMAGES = {
    "a typed-in setting not on the list": (
        _setting_typed_in,
        [("Slough", "G5", "placement_setting", "Residential home", "unknown code; allowed:")],
    ),
    "a cost in words": (
        _cost_in_words,
        [("Slough", "I6", "weekly_cost", "four thousand", "not an amount of money")],
    ),
    "a score of 6": (_score_of_six, [("Slough", "Q7", "risk_violence", "6", "score outside 1-5")]),
    "a missing required cell": (
        _required_cell_blank,
        [("Slough", "G8", "placement_setting", "", "a required cell is blank")],
    ),
    "an extra sheet": (
        _extra_sheet,
        [("Slough", "A1:B2", "", "Notes", "an extra sheet: a return has the sheets Cases")],
    ),
    "a renamed column": (
        _renamed_column,
        [
            (
                "Slough",
                "J2",
                "distance",
                "distance",
                "renamed column: the template's column here is 'distance_miles'",
            )
        ],
    ),
    "rows deleted": (
        _rows_deleted,
        [
            ("Slough", "A10", "case_id", "SLO-008", "row deleted: case id SLO-008"),
            ("Slough", "A11", "case_id", "SLO-009", "row deleted: case id SLO-009"),
        ],
    ),
    "a duplicate case id": (
        _duplicate_case_id,
        [
            ("Wokingham", "A4", "case_id", "SLO-001", "not a case id of this study: "),
            ("Wokingham", "A4", "case_id", "WOK-002", "row deleted: case id WOK-002"),
            ("Wokingham", "A4", "case_id", "SLO-001", "duplicate case id: also in berks_Slough"),
        ],
    ),
    "a workbook saved as CSV": (
        _saved_as_csv,
        [("Slough", "line 1", "", "", "not UTF-8 text (byte 0xa3; Latin-1 or Windows-1252?)")],
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_return_every_problem_listed_with_its_cell(
    berks, returns, tmp_path, capsys, damage
):
    spoil, expected = DAMAGES[damage]
    folder = _copy(returns, tmp_path)
    spoil(folder)
    # the command, --errors raise (the default): the issues list written, no case table
    out = tmp_path / "cases.parquet"
    command = ["collect", "merge", str(folder), "--study", str(berks.source), "--out", str(out)]
    assert cli.main(command) == 2
    assert not out.exists()
    message = capsys.readouterr().err
    assert message.startswith(f"lacstats: error: {len(expected)} problem(s) in the returns")
    issues = pd.read_csv(
        tmp_path / "cases_issues" / "issues.csv", dtype=str, keep_default_na=False
    )
    got = issues[["authority", "cell", "column", "value", "rule"]].to_numpy().tolist()
    assert len(got) == len(expected)
    for (authority, cell, column, value, rule), row in zip(expected, got, strict=True):
        assert row[:4] == [authority, cell, column, value]
        assert rule in row[4]
    assert set(issues["file"]) <= {p.name for p in folder.iterdir()}
    # the list to send back to the authority
    (sheet,) = read_table(tmp_path / "cases_issues" / f"berks_{expected[0][0]}_issues.xlsx")
    assert sheet.frame["cell"].tolist() == [e[1] for e in expected]


def test_every_problem_at_once_across_returns(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    for damage in ("a cost in words", "a score of 6", "a duplicate case id"):
        DAMAGES[damage][0](folder)
    with pytest.raises(collect.ReturnsError) as caught:
        collect.merge([folder], study=berks)
    issues = caught.value.merged.issues
    assert issues["cell"].tolist() == ["I6", "Q7", "A4", "A4", "A4"]
    assert issues["authority"].tolist() == ["Slough"] * 2 + ["Wokingham"] * 3


def test_errors_drop_merges_the_valid_rows_and_lists_the_rest(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    _cost_in_words(folder)
    _score_of_six(folder)
    merged = collect.merge([folder], study=berks, errors="drop")
    assert len(merged.cases) == 56 + 43 + 39 - 2
    assert not merged.cases["case_id"].isin(["SLO-004", "SLO-005"]).any()  # rows 6 and 7
    assert merged.issues["effect"].tolist() == ["row not merged"] * 2
    table = collect.status(merged).to_frame().set_index("authority")
    assert table.loc["Slough", ["returned", "valid", "problems"]].tolist() == [56, 54, 2]
    assert not table.loc["Slough", "target_met"]
    assert table.loc["Wokingham", "target_met"]


def test_a_return_for_an_authority_outside_the_study(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    book = _book(folder)
    for r in range(3, book["Cases"].max_row + 1):
        book["Cases"].cell(r, 2).value = "Reading"
    book.save(folder / "berks_Slough.xlsx")
    merged = collect.merge([folder], study=berks, errors="drop", allow_missing=True)
    assert merged.missing == ("Slough",)  # no return names it
    issue = merged.issues.iloc[0]
    assert len(merged.issues) == 1
    assert (issue["authority"], issue["cell"], issue["effect"]) == (
        "Reading",
        "B3",
        "file not merged",
    )
    assert "Reading is not one of the 3 authorities of the study 'berks'" in issue["rule"]
    assert "Slough" not in set(merged.cases["authority"].astype(str))


def test_two_returns_for_one_authority(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    shutil.copy(folder / "berks_Wokingham.xlsx", folder / "wokingham_v2.xlsx")
    merged = collect.merge([folder], study=berks, errors="drop")
    assert merged.issues["file"].tolist() == ["berks_Wokingham.xlsx", "wokingham_v2.xlsx"]
    assert merged.issues["rule"].str.startswith("two returns for Wokingham").all()
    assert "Wokingham" not in set(merged.cases["authority"].astype(str))


def test_rows_of_another_authority_or_type(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    book = _book(folder)
    book["Cases"]["C5"] = "County"
    book["Cases"]["B6"] = "Wokingham"
    book.save(folder / "berks_Slough.xlsx")
    with pytest.raises(collect.ReturnsError) as caught:
        collect.merge([folder], study=berks)
    issues = caught.value.merged.issues
    assert issues["cell"].tolist() == ["C5", "B6"]
    assert issues["rule"].tolist() == [
        "Slough is a Unitary authority in the DfE data",
        "another authority's row in Slough's return: one return per authority",
    ]


def test_free_text_columns_are_refused_and_never_merged(berks, original, tmp_path):
    table = original[original["authority"] == "Slough"].assign(child_name="x", notes="y")
    table.to_csv(tmp_path / "slough.csv", index=False)
    with pytest.raises(collect.ReturnsError) as caught:
        collect.merge([tmp_path / "slough.csv"], study=berks, allow_missing=True)
    issues = caught.value.merged.issues
    assert issues["column"].tolist() == ["child_name", "notes"]
    assert issues["cell"].tolist() == ["AA1", "AB1"]
    assert issues["rule"].str.startswith("not a case-table column").all()
    merged = collect.merge(
        [tmp_path / "slough.csv"], study=berks, errors="drop", allow_missing=True
    )
    assert len(merged.cases) == 56
    assert "child_name" not in merged.cases
    assert "notes" not in merged.cases


def test_case_ids_must_be_the_studys_pseudonyms(berks, original, tmp_path):
    table = original[original["authority"] == "Wokingham"].copy()
    table["case_id"] = table["case_id"].astype(object)
    table.iloc[0, 0] = "Jane Smith"
    table.to_csv(tmp_path / "wokingham.csv", index=False)
    with pytest.raises(collect.ReturnsError) as caught:
        collect.merge([tmp_path / "wokingham.csv"], study=berks, allow_missing=True)
    (issue,) = caught.value.merged.issues.to_dict(orient="records")
    assert (issue["cell"], issue["value"]) == ("A2", "Jane Smith")
    assert "Wokingham's are WOK- and a number (WOK-001)" in issue["rule"]


def test_an_unreadable_file_is_listed_not_fatal(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    (folder / "berks_Slough.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (folder / "~$berks_Slough.xlsx").write_bytes(b"Excel's lock file: skipped")
    merged = collect.merge([folder], study=berks, errors="drop")
    (issue,) = merged.issues.to_dict(orient="records")
    assert issue["authority"] == "Slough"  # from the template's file name
    assert issue["effect"] == "file not merged"
    assert "damaged" in issue["rule"]
    assert len(merged.cases) == 43 + 39


def test_merge_argument_errors(berks, returns):
    with pytest.raises(DataError, match="errors must be 'raise' or 'drop'"):
        collect.merge([returns], study=berks, errors="ignore")


# --- outputs and the commands ----------------------------------------------------------


def test_issues_lists_and_merged_table_are_deterministic(berks, returns, tmp_path):
    folder = _copy(returns, tmp_path)
    _cost_in_words(folder)
    merged = collect.merge([folder], study=berks, errors="drop")
    first = merged.write_issues(tmp_path / "a")
    second = merged.write_issues(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    merged.write_cases(tmp_path / "a.parquet")
    merged.write_cases(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    with pytest.raises(DataError, match=r"parquet or \.csv"):
        merged.write_cases(tmp_path / "cases.xlsx")


def test_status_page_is_self_contained(berks, returns):
    page = collect.status(collect.merge([returns], study=berks)).to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert page.endswith("</html>\n")
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"(src|href)=['\"]?https?://", page)
    assert page.count("<tr>") == 1 + len(AUTHORITIES)
    assert "East Berkshire complex needs study: collection status" in page


def test_cli_template_merge_status(berks, returns, tmp_path, capsys):
    toml = str(berks.source)
    assert cli.main(["collect", "template", "--study", toml, "--out", str(tmp_path / "t")]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        ".lacstats-output",
        "berks_Slough.xlsx",
        "berks_Windsor_and_Maidenhead.xlsx",
        "berks_Wokingham.xlsx",
        "templates.csv",
    ]
    out = tmp_path / "cases.csv"
    assert cli.main(["collect", "merge", str(returns), "--study", toml, "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 138
    assert pd.read_csv(tmp_path / "cases_issues" / "issues.csv").empty
    status = tmp_path / "status"
    assert (
        cli.main(["collect", "status", str(returns), "--study", toml, "--out", str(status)]) == 0
    )
    table = pd.read_csv(status / "status.csv")
    assert table["target_met"].tolist() == [True, False, True]  # 10.08 does not meet 10
    assert (status / "status.html").is_file()
    assert "2 of 3 authorities have met their design target" in capsys.readouterr().out


def test_cli_user_errors_are_one_line_before_any_work(berks, returns, tmp_path, capsys):
    toml = str(berks.source)
    # the output would replace an input
    code = cli.main(["collect", "merge", str(returns), "--study", toml, "--out", str(returns)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("lacstats: error: ")
    assert err.count("\n") == 1
    # a case table in a format merge does not write
    assert cli.main(["collect", "merge", str(returns), "--out", str(tmp_path / "c.xlsx")]) == 2
    assert "write the case table as .parquet or .csv" in capsys.readouterr().err
    # a template folder that would replace the study file's folder
    folder = str(berks.source.parent)
    code = cli.main(["collect", "template", "--study", toml, "--out", folder])
    assert code == 2
    assert "contains the input" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["collect", "merge", str(tmp_path / "missing.xlsx"), "--out", "x.parquet"])
    assert stop.value.code == 2
    assert "no such file or folder" in capsys.readouterr().err


# --- LibreOffice ------------------------------------------------------------------------


def test_template_opens_in_headless_libreoffice(templates, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice is not installed (.ci/run installs libreoffice-calc as root): no "
            "check that the template opens in it"
        )
    name = "berks_Wokingham.xlsx"
    (tmp_path / name).write_bytes(templates.workbooks[name])
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    # the Cases sheet as UTF-8 CSV, and the workbook saved again as XLSX by LibreOffice
    for target, folder in (("csv:Text - txt - csv (StarCalc):44,34,76", "csv"), ("xlsx", "xlsx")):
        subprocess.run(
            [
                soffice,
                profile,
                "--headless",
                "--norestore",
                "--convert-to",
                target,
                "--outdir",
                str(tmp_path / folder),
                str(tmp_path / name),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    with open(tmp_path / "csv" / "berks_Wokingham.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][8] == "Weekly cost (£)"
    assert rows[1] == [c.name for c in schema.COLUMNS]
    assert [r[0] for r in rows[2:]] == [f"WOK-{i:03d}" for i in range(1, 40)]
    # LibreOffice read every validation list and rule: it writes them back
    again = openpyxl.load_workbook(tmp_path / "xlsx" / "berks_Wokingham.xlsx")
    rules = _validations(again["Cases"])
    assert len(rules) == len(schema.COLUMNS) - 2
    assert rules["placement_setting"][0].type == "list"
    assert rules["placement_setting"][0].formula1 == "Codes!$C$2:$C$13"
    assert (rules["risk_cse"][0].formula1, rules["risk_cse"][0].formula2) == ("1", "5")
    assert again["Codes"].protection.sheet
    assert again["Cases"].protection.sheet


# --- collection as analysts meet it ----------------------------------------------------------


def test_merge_refuses_an_age_outside_the_frame(berks, returns, tmp_path):
    # the frame counts children looked after aged 10 and over (DfE lac_10_plus): 10 to 17
    folder = _copy(returns, tmp_path)
    book = _book(folder)
    ages = [c.value for c in book["Cases"][2]].index("age") + 1
    book["Cases"].cell(3, ages).value = 9
    book["Cases"].cell(4, ages).value = 18
    book.save(folder / "berks_Slough.xlsx")
    with pytest.raises(collect.ReturnsError) as caught:
        collect.merge([folder], study=berks)
    issues = caught.value.merged.issues
    assert issues["cell"].tolist() == ["D3", "D4"]
    assert issues["value"].tolist() == ["9", "18"]
    rule = (
        "outside the study's frame: children looked after aged 10 and over at 31 March 2017 "
        "(DfE 2017 release) are aged 10 to 17"
    )
    assert issues["rule"].tolist() == [rule, rule]
    merged = collect.merge([folder], study=berks, errors="drop")
    assert len(merged.cases) == 138 - 2


def test_merge_names_missing_authorities_and_stops_unless_allowed(
    berks, returns, tmp_path, capsys
):
    folder = _copy(returns, tmp_path)
    (folder / "berks_Wokingham.xlsx").unlink()
    out = tmp_path / "cases.csv"
    command = ["collect", "merge", str(folder), "--study", str(berks.source), "--out", str(out)]
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("lacstats: error: 1 of the study's authorities sent no return: ")
    assert "Wokingham; no case table written (--allow-missing merges without them)" in err
    assert not out.exists()
    assert cli.main([*command, "--allow-missing"]) == 0
    out_err = capsys.readouterr()
    assert "merged without 1 authority that sent no return (--allow-missing): Wokingham" in (
        out_err.err
    )
    assert len(pd.read_csv(out)) == 56 + 43


def test_a_study_is_written_before_its_case_table(berks, tmp_path, capsys):
    """Design, collection workbooks and their status need only the authorities and the
    frame; the runs that read the cases say the table is not there yet, before any work."""
    path = tmp_path / "berks.toml"
    path.write_text(STUDY_TOML + '\n[cases]\npath = "cases.parquet"\n', encoding="utf-8")
    planned = study.load(path)
    assert planned.cases == tmp_path / "cases.parquet"
    assert not planned.cases.exists()
    assert cli.main(["design", "--study", str(path)]) == 0
    assert "total n = 138" in capsys.readouterr().out
    templates = tmp_path / "templates"
    assert cli.main(["collect", "template", "--study", str(path), "--out", str(templates)]) == 0
    assert (templates / "berks_Slough.xlsx").is_file()
    status = tmp_path / "status"
    assert cli.main(["collect", "status", "--study", str(path), "--out", str(status)]) == 0
    assert pd.read_csv(status / "status.csv")["returned"].tolist() == [0, 0, 0]
    capsys.readouterr()
    out = tmp_path / "results"
    assert cli.main(["reproduce", "--study", str(path), "--out", str(out), "--fast"]) == 2
    err = capsys.readouterr().err
    assert f"no case table at {tmp_path / 'cases.parquet'} (cases.path of {path})" in err
    assert "lacstats collect merge --study ... --out cases.parquet" in err
    assert not out.exists()
    assert not (tmp_path / "results.partial").exists()
