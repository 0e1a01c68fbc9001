"""A corpus of damaged case tables: each gives a clean DataError naming the problem, or a
correct read. Never a traceback from pandas, openpyxl or pyarrow.

The corpus is generated here from a small valid table (the packaged synthetic sample's
first rows): encodings, truncations, archive garbage, ragged rows, NA spellings, booleans,
extreme numbers, European decimals, misnamed and duplicate columns, in CSV, XLSX and
Parquet. ``CORPUS`` holds at least 300 cases (asserted below).
"""

from __future__ import annotations

import gzip
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacstats import synthetic
from lacstats.errors import DataError
from lacstats.io import read_cases, read_table
from lacstats.schema import NA_SPELLINGS, parse_date, parse_money

_BASE: pd.DataFrame | None = None


def base() -> pd.DataFrame:
    """Six valid rows, as text, the columns a user's table would have."""
    global _BASE
    if _BASE is None:
        cases = synthetic.complex_lac(rng=3).head(6)
        keep = [
            "case_id",
            "authority",
            "authority_type",
            "age",
            "sex",
            "uasc",
            "placement_setting",
            "weekly_cost",
            "distance_miles",
            "risk_violence",
        ]
        frame = cases[keep].astype(object).astype(str).reset_index(drop=True)
        frame["distance_miles"] = cases["distance_miles"].round(1).astype(str).to_numpy()
        frame["weekly_cost"] = cases["weekly_cost"].round(2).astype(str).to_numpy()
        frame["uasc"] = cases["uasc"].map({True: "yes", False: "no"}).to_numpy()
        _BASE = frame
    return _BASE.copy()


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode(encoding)


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    """Cells written as given: Python bools, floats and text stay what they are."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if v is None else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """One damaged (or awkward but valid) file and what reading it must give."""

    id: str
    suffix: str
    make: Callable[[], bytes]
    error: str | None = None  # a regex the DataError's message must match
    check: Callable[[pd.DataFrame], bool] | None = None  # for a correct read

    @property
    def expects_error(self) -> bool:
        return self.error is not None


def with_cell(column: str, value: object, row: int = 2) -> pd.DataFrame:
    frame = base()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def corpus() -> list[Case]:
    out: list[Case] = []
    add = out.append
    valid = lambda f: len(f) == 6

    # --- encodings ----------------------------------------------------------------------
    pound = with_cell("weekly_cost", "£4,800")
    add(
        Case(
            "utf8-pound",
            ".csv",
            lambda: csv_bytes(pound),
            check=lambda f: f.weekly_cost[2] == 4800,
        )
    )
    add(
        Case(
            "utf8-bom",
            ".csv",
            lambda: b"\xef\xbb\xbf" + csv_bytes(pound),
            check=lambda f: f.weekly_cost[2] == 4800,
        )
    )
    for enc in ("utf-16", "utf-16-be"):
        add(
            Case(
                f"{enc}-bom",
                ".csv",
                lambda enc=enc: (
                    (b"\xfe\xff" if enc.endswith("be") else b"") + csv_bytes(pound, enc)
                ),
                check=lambda f: f.weekly_cost[2] == 4800,
            )
        )
    add(Case("utf-16-le-no-bom", ".csv", lambda: csv_bytes(pound, "utf-16-le"), error="NUL bytes"))
    for enc in ("latin-1", "cp1252", "iso8859-15"):
        add(Case(f"{enc}-pound", ".csv", lambda enc=enc: csv_bytes(pound, enc), error="not UTF-8"))
    add(
        Case(
            "cp1252-name",
            ".csv",
            lambda: csv_bytes(with_cell("case_id", "Zoë-1"), "cp1252"),
            error=r"line 4: not UTF-8",
        )
    )
    add(
        Case(
            "utf-32-bom",
            ".csv",
            lambda: csv_bytes(pound, "utf-32"),
            check=lambda f: f.weekly_cost[2] == 4800,
        )
    )
    add(Case("utf-32-le-no-bom", ".csv", lambda: csv_bytes(pound, "utf-32-le"), error="NUL bytes"))

    # --- archives and garbage --------------------------------------------------------------
    rng = np.random.default_rng(903)
    for i in range(12):
        junk = rng.bytes(int(rng.integers(1, 4000)))
        add(Case(f"garbage-{i}", ".xlsx", lambda junk=junk: junk, error="not an Excel workbook"))
        add(Case(f"garbage-{i}", ".parquet", lambda junk=junk: junk, error="not a Parquet file"))
        ascii_junk = bytes(rng.integers(32, 127, size=int(rng.integers(1, 400)), dtype=np.uint8))
        add(
            Case(
                f"ascii-junk-{i}",
                ".csv",
                lambda junk=ascii_junk: junk,
                error="missing required column|duplicate|field|blank column header|no data rows",
            )
        )
    add(Case("gzip-csv", ".csv", lambda: gzip.compress(csv_bytes(base())), error="gzip"))
    add(Case("xlsx-as-csv", ".csv", lambda: xlsx_bytes(base()), error="zip archive"))
    add(Case("parquet-as-csv", ".csv", lambda: parquet_bytes(base()), error="Parquet file"))
    add(Case("csv-as-xlsx", ".xlsx", lambda: csv_bytes(base()), error="not an Excel workbook"))
    add(
        Case(
            "password-xlsx",
            ".xlsx",
            lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000),
            error="password-protected",
        )
    )
    add(
        Case("gzip-xlsx", ".xlsx", lambda: gzip.compress(xlsx_bytes(base())), error="not an Excel")
    )

    def zip_without(part: str) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(base())))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                if item.filename != part:
                    target.writestr(item, source.read(item))
        return buffer.getvalue()

    for part in (
        "xl/workbook.xml",
        "[Content_Types].xml",
        "xl/worksheets/sheet1.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
    ):
        add(
            Case(
                f"xlsx-without-{part.replace('/', '-')}",
                ".xlsx",
                lambda part=part: zip_without(part),
                error="workbook|sheet",
                check=valid,
            )
        )

    def zip_with(part: str, text: bytes) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(base())))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                target.writestr(item, text if item.filename == part else source.read(item))
        return buffer.getvalue()

    for part in ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml"):
        for j, text in enumerate((b"", b"<not xml", b"\x00\xff" * 50)):
            add(
                Case(
                    f"xlsx-bad-{part.replace('/', '-')}-{j}",
                    ".xlsx",
                    lambda part=part, text=text: zip_with(part, text),
                    error="workbook|sheet|missing required column|no data rows",
                    check=valid,
                )
            )

    # --- truncations ------------------------------------------------------------------------
    for fraction in np.linspace(0.05, 0.95, 19):
        add(
            Case(
                f"xlsx-truncated-{fraction:.2f}",
                ".xlsx",
                lambda fraction=fraction: (b := xlsx_bytes(base()))[: int(len(b) * fraction)],
                error="damaged or truncated|not an Excel workbook|not a readable",
            )
        )
        add(
            Case(
                f"parquet-truncated-{fraction:.2f}",
                ".parquet",
                lambda fraction=fraction: (b := parquet_bytes(base()))[: int(len(b) * fraction)],
                error="damaged Parquet|not a Parquet",
            )
        )
        # a CSV cut mid-row is a short row (or, cut inside the header, a missing column)
        add(
            Case(
                f"csv-truncated-{fraction:.2f}",
                ".csv",
                lambda fraction=fraction: (b := csv_bytes(base()))[: int(len(b) * fraction)],
                error="fields, the header has|missing required column|no data rows|not UTF-8",
                check=lambda f: 0 < len(f) <= 6,
            )
        )
    add(Case("zero-bytes-csv", ".csv", lambda: b"", error="the file is empty"))
    add(Case("zero-bytes-xlsx", ".xlsx", lambda: b"", error="the file is empty"))
    add(Case("zero-bytes-parquet", ".parquet", lambda: b"", error="the file is empty"))
    add(Case("blank-lines-csv", ".csv", lambda: b"\n\n\r\n", error="no header row"))
    add(
        Case(
            "header-only-csv",
            ".csv",
            lambda: csv_bytes(base().head(0)),
            error="a header and no data rows",
        )
    )
    add(
        Case(
            "header-only-xlsx",
            ".xlsx",
            lambda: xlsx_bytes(base().head(0)),
            error="a header and no data rows",
        )
    )
    add(
        Case(
            "header-only-parquet",
            ".parquet",
            lambda: parquet_bytes(base().head(0)),
            error="a header and no data rows",
        )
    )

    # --- ragged rows and quoting ------------------------------------------------------------
    lines = csv_bytes(base()).decode().splitlines()
    for row in range(1, 7):
        extra = lines.copy()
        extra[row] += ",surplus"
        add(
            Case(
                f"csv-extra-field-row{row}",
                ".csv",
                lambda t=extra: "\n".join(t).encode(),
                error=rf"line {row + 1}: 11 fields, the header has 10",
            )
        )
        short = lines.copy()
        short[row] = short[row].rsplit(",", 1)[0]
        add(
            Case(
                f"csv-short-row{row}",
                ".csv",
                lambda t=short: "\n".join(t).encode(),
                error=rf"line {row + 1}: 9 fields, the header has 10",
            )
        )
        quote = lines.copy()
        quote[row] = quote[row].replace(",", ',"', 1)
        add(
            Case(
                f"csv-unclosed-quote-row{row}",
                ".csv",
                lambda t=quote: "\n".join(t).encode(),
                error=r"not readable as CSV|fields, the header has",
            )
        )
        padded = lines.copy()
        padded[row] += ",,"
        add(
            Case(
                f"csv-trailing-commas-row{row}",
                ".csv",
                lambda t=padded: "\n".join(t).encode(),
                check=valid,
            )
        )
    add(
        Case(
            "csv-comma-in-unquoted-cost",
            ".csv",
            lambda: "\n".join(
                [lines[0], lines[1].replace(lines[1].split(",")[7], "4,800", 1), *lines[2:]]
            ).encode(),
            error="11 fields",
        )
    )
    add(Case("csv-crlf", ".csv", lambda: "\r\n".join(lines).encode(), check=valid))
    add(Case("csv-blank-lines-between", ".csv", lambda: "\n\n".join(lines).encode(), check=valid))
    add(
        Case(
            "csv-huge-field",
            ".csv",
            lambda: "\n".join([*lines, "x" * 200_000]).encode(),
            error="not readable as CSV|fields, the header has",
        )
    )
    xlsx_extra = base()
    add(
        Case(
            "xlsx-value-under-no-header",
            ".xlsx",
            lambda: _xlsx_with_stray_cell(xlsx_extra),
            error=r"cell K3\): a value under no column header",
        )
    )

    # --- NA spellings: missing in an optional column, an error in a required one -----------
    for spelling in sorted(NA_SPELLINGS | {"NA", "N/A", "NULL", "NaN", "None", " na "}):
        for column in ("age", "sex", "uasc", "distance_miles", "risk_violence"):
            for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
                frame = with_cell(column, spelling)
                add(
                    Case(
                        f"na-{spelling.strip() or 'blank'}-{column}{suffix}",
                        suffix,
                        lambda frame=frame, maker=maker: maker(frame),
                        check=lambda f, column=column: pd.isna(f[column][2]),
                    )
                )
        frame = with_cell("weekly_cost", spelling)
        for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
            add(
                Case(
                    f"na-{spelling.strip() or 'blank'}-weekly_cost{suffix}",
                    suffix,
                    lambda frame=frame, maker=maker: maker(frame),
                    error=r"\(cell H4\): column 'weekly_cost': missing cost",
                )
            )

    # --- booleans in numeric columns: the same error from CSV text and XLSX cells -------------
    for value in (True, False, "TRUE", "false", "yes"):
        for column, letter in (("age", "D"), ("risk_violence", "J"), ("weekly_cost", "H")):
            for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
                frame = with_cell(column, value)
                add(
                    Case(
                        f"bool-{value}-{column}{suffix}",
                        suffix,
                        lambda frame=frame, maker=maker: maker(frame),
                        error=rf"\(cell {letter}4\): column '{column}'.*(true/false|number|amount)",
                    )
                )

    # --- extreme numbers --------------------------------------------------------------------
    extremes = {
        "weekly_cost": ["inf", "-inf", "1e400", "1e300", "-1", "250000", "1e3", "Infinity"],
        "distance_miles": ["inf", "1e400", "1e300", "-3", "999.9", "5000", "nan(0x1)", "1e999"],
        "age": ["-1", "26", "1e400", "3.5", "99999999999999999999"],
        "risk_violence": ["0", "6", "2.5", "inf"],
    }
    for column, values in extremes.items():
        letter = "ABCDEFGHIJ"[list(base().columns).index(column)]
        for value in values:
            for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
                cell = value
                if suffix == ".xlsx":  # a number cell where Excel can hold the number
                    try:
                        cell = float(value) if math.isfinite(float(value)) else value
                    except ValueError:
                        cell = value
                frame = with_cell(column, cell)
                if cell == 1000.0:  # 1e3 typed into a number cell is a thousand
                    add(
                        Case(
                            f"extreme-{column}-{value}{suffix}",
                            suffix,
                            lambda frame=frame, maker=maker: maker(frame),
                            check=lambda f, column=column: f[column][2] == 1000,
                        )
                    )
                    continue
                add(
                    Case(
                        f"extreme-{column}-{value}{suffix}",
                        suffix,
                        lambda frame=frame, maker=maker: maker(frame),
                        error=rf"\(cell {letter}4\): column '{column}'",
                    )
                )
    add(
        Case(
            "parquet-inf-cost",
            ".parquet",
            lambda: parquet_bytes(
                with_cell("weekly_cost", math.inf).astype({"weekly_cost": float})
            ),
            error=r"\(row 3\): column 'weekly_cost': not a finite number",
        )
    )

    # --- money as analysts write it, and European decimals ------------------------------------
    good_money = {"£4,800": 4800, "4800.00": 4800, " £10,700.50 ": 10700.5, "£ 1,250": 1250}
    for text, value in good_money.items():
        for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
            frame = with_cell("weekly_cost", text)
            add(
                Case(
                    f"money-{text.strip()}{suffix}",
                    suffix,
                    lambda frame=frame, maker=maker: maker(frame),
                    check=lambda f, value=value: f.weekly_cost[2] == value,
                )
            )
    for text in ("4,80", "48,00", "4.800,50", "4800,5", "1,2345", "£4,8000", "4 800", "€4800"):
        for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
            frame = with_cell("weekly_cost", text)
            add(
                Case(
                    f"money-{text}{suffix}",
                    suffix,
                    lambda frame=frame, maker=maker: maker(frame),
                    error=r"\(cell H4\): column 'weekly_cost': not an amount of money",
                )
            )
    for text in ("12,5", "0,7", "1.234,5"):
        for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
            frame = with_cell("distance_miles", text)
            add(
                Case(
                    f"decimal-comma-{text}{suffix}",
                    suffix,
                    lambda frame=frame, maker=maker: maker(frame),
                    error=r"\(cell I4\): column 'distance_miles': expected a number",
                )
            )

    # --- misnamed and duplicate columns -------------------------------------------------------
    for old, new in (
        ("sex", "SEX"),
        ("sex", "Sex"),
        ("weekly_cost", "Weekly Cost"),
        ("risk_violence", "risk_violance"),
        ("risk_violence", "Risk-Violence"),
        ("distance_miles", "distance_mile"),
        ("uasc", "UASC"),
        ("age", "AGE"),
    ):
        frame = base().rename(columns={old: new})
        for suffix, maker in (
            (".csv", csv_bytes),
            (".xlsx", xlsx_bytes),
            (".parquet", parquet_bytes),
        ):
            add(
                Case(
                    f"misnamed-{new}{suffix}",
                    suffix,
                    lambda frame=frame, maker=maker: maker(frame),
                    error=rf"(column '{re.escape(new)}': not a case-table column; did you mean "
                    rf"'{old}'|missing required column)",
                )
            )
    frame = base().assign(risk_cs="4")
    for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
        add(
            Case(
                f"misnamed-risk_cs{suffix}",
                suffix,
                lambda frame=frame, maker=maker: maker(frame),
                error=r"column 'risk_cs': not a case-table column; did you mean 'risk_cs",
            )
        )
    for column in ("weekly_cost", "sex", "case_id"):
        frame = base()
        duplicated = pd.concat([frame, frame[[column]]], axis=1)
        for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
            add(
                Case(
                    f"duplicate-{column}{suffix}",
                    suffix,
                    lambda d=duplicated, maker=maker: maker(d),
                    error=rf"duplicate column header '{column}'",
                )
            )
    blank_header = base().rename(columns={"sex": ""})
    for suffix, maker in ((".csv", csv_bytes), (".xlsx", xlsx_bytes)):
        add(
            Case(
                f"blank-header{suffix}",
                suffix,
                lambda frame=blank_header, maker=maker: maker(frame),
                error=r"\(cell E1\): a blank column header",
            )
        )
    spaced = base().rename(columns={"sex": " sex "})
    add(Case("header-with-spaces", ".csv", lambda: csv_bytes(spaced), check=valid))
    extra = base().assign(team="north")
    add(
        Case(
            "unrelated-extra-column", ".csv", lambda: csv_bytes(extra), check=lambda f: "team" in f
        )
    )
    return out


def _xlsx_with_stray_cell(frame: pd.DataFrame) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame)))
    book.active["K3"] = "stray"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


CORPUS = corpus()


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 300
    assert {c.suffix for c in CORPUS} == {".csv", ".xlsx", ".parquet"}


@pytest.mark.parametrize(
    "case", CORPUS, ids=[f"{i:03d}-{c.id}{c.suffix}" for i, c in enumerate(CORPUS)]
)
def test_damaged_file_gives_a_clean_error_or_a_correct_read(case, tmp_path):
    path = tmp_path / f"cases{case.suffix}"
    path.write_bytes(case.make())
    try:
        frame = read_cases(path)
    except DataError as err:
        message = str(err)
        assert case.error is not None, f"unexpected error: {message}"
        assert re.search(case.error, message), message
        assert path.name in message or str(path) in message
        return
    assert case.check is not None, "read, but an error was expected"
    assert case.check(frame)


# --- properties ------------------------------------------------------------------------------


@given(amount=st.decimals(min_value=0, max_value=99_999, places=2, allow_nan=False))
def test_money_with_thousands_separators_round_trips(amount):
    text = f"£{amount:,.2f}"
    assert parse_money(pd.Series([text])).iloc[0] == pytest.approx(float(amount))


@given(text=st.text(alphabet="0123456789,.£- ", max_size=12))
def test_money_parser_reads_or_names_the_cell(text):
    try:
        value = parse_money(pd.Series([text], dtype=object)).iloc[0]
    except DataError as err:
        assert "row 1" in str(err)  # noqa: PT017
        return
    assert math.isnan(value) or math.isfinite(value)
    if "," in text and not math.isnan(value):
        # a comma read as a separator only in groups of three
        assert re.fullmatch(r"-?\s*£?\s*-?\d{1,3}(,\d{3})+(\.\d+)?", text.strip())


@given(
    day=st.dates(
        min_value=pd.Timestamp("1900-01-01").date(), max_value=pd.Timestamp("2100-12-31").date()
    )
)
def test_dates_read_day_first_or_iso(day):
    assert parse_date(day.strftime("%d/%m/%Y")).date() == day
    assert parse_date(day.isoformat()).date() == day
    if day.day <= 12 and day.day != day.month:  # never month-first
        assert parse_date(day.strftime("%m/%d/%Y")).date() != day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("03/31/2022", "no such day"),
        ("2022/03/01", "not a date"),
        ("1 March 2022", "not a date"),
        ("01/01/2101", "implausible year"),
        ("", "not a date"),
    ],
)
def test_dates_that_are_refused(text, message):
    with pytest.raises(DataError, match=message):
        parse_date(text, "census_date")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".parquet"]))
def test_any_bytes_read_or_raise_a_data_error(tmp_path, data, suffix):
    path = tmp_path / f"cases{suffix}"
    path.write_bytes(data)
    try:
        read_table(path)
    except DataError as err:
        assert path.name in str(err) or str(path) in str(err)  # noqa: PT017


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
        min_size=10,
        max_size=10,
    ),
    row=st.integers(0, 5),
)
def test_any_text_in_a_row_reads_or_names_the_file(tmp_path, cells, row):
    frame = base()
    frame.iloc[row] = cells
    path = tmp_path / "cases.csv"
    path.write_bytes(csv_bytes(frame))
    try:
        read_cases(path)
    except DataError as err:
        assert "cases.csv" in str(err)  # noqa: PT017
