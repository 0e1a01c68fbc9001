"""Reading tables from files: the one front door for every file lacstats reads.

:func:`read_table` is the one front door for every file lacstats reads (case tables,
SSDA903 returns, unit costs): CSV, Excel (XLSX) and Parquet. Every decoding, parsing and
archive failure (a file that is not UTF-8, UTF-16 without a byte-order mark, gzip or a zip
archive named ``.csv``, ragged rows, an unclosed quote, a damaged, truncated or
password-protected workbook, a damaged Parquet file, duplicate or blank headers) becomes a
:class:`~lacstats.errors.DataError` naming the file, and the sheet, line or cell where
known. Cells are kept as they were written (text from CSV, the cell's value from Excel)
until :mod:`lacstats.schema` parses them, so CSV and XLSX follow the same rules.

:func:`read_cases` reads a validated case table; costs written as ``£4,800`` or
``4800.00`` both read as 4800, and a cell that is not an amount is reported with its file,
spreadsheet cell and value.

Results are written by :mod:`lacstats.outputs`.
"""

from __future__ import annotations

import csv
import decimal
import io as _io
import os
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lacstats import schema
from lacstats.errors import DataError, path_argument

__all__ = [
    "Sheet",
    "read_cases",
    "read_table",
    "read_toml",
    "read_unit_costs",
    "sheet_names",
    "toml_text",
]

SUFFIXES = {".csv": "csv", ".xlsx": "excel", ".xlsm": "excel", ".parquet": "parquet"}

#: What to do with a file type people send that lacstats does not read.
_SAVE_AS = {
    ".xls": " (an old-format Excel workbook: save it as .xlsx)",
    ".ods": " (a LibreOffice spreadsheet: save it as .xlsx)",
    ".numbers": " (a Numbers spreadsheet: export it as .xlsx)",
    ".docx": " (a Word document: put the cases in the template workbook)",
    ".pdf": " (a PDF: send the workbook itself)",
    ".txt": " (text: save the table as CSV UTF-8)",
}

_MAGIC = {
    b"\x1f\x8b": "a gzip-compressed file: decompress it first",
    b"PK\x03\x04": "a zip archive (an Excel workbook?), not CSV text",
    b"\xd0\xcf\x11\xe0": "an encrypted (password-protected) or old-format .xls workbook",
    b"PAR1": "a Parquet file, not CSV text",
}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Sheet:
    """One table read from a file: its cells as written, and where each row came from.

    ``frame`` has one column per header cell (object dtype: text from CSV, cell values from
    Excel, typed values from Parquet; pandas' ``str`` dtype for CSV read with
    ``read_table(..., strings=True)``); ``rows`` gives the spreadsheet row (CSV line, Excel
    row; 1 = the header) of each data row, or is empty for Parquet.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.io import Sheet
    >>> sheet = Sheet(label="cases.csv", frame=pd.DataFrame({"n": ["3"]}), rows=(2,), kind="csv")
    >>> sheet.label, sheet.rows
    ('cases.csv', (2,))
    """

    label: str  # "cases.csv", "book.xlsx, sheet 'Cases'"
    frame: pd.DataFrame
    rows: tuple[int, ...]
    kind: str  # "csv" | "excel" | "parquet"
    sheet: str | None = None  # the Excel sheet's name

    def cell(self, column: str, row: int) -> str:
        """The spreadsheet reference (``E5``) of data row ``row`` (1-based) of ``column``."""
        letter = _column_letter(list(self.frame.columns).index(column))
        return f"{letter}{self.rows[row - 1]}"


def read_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    all_sheets: bool = False,
    require_rows: bool = False,
    strings: bool = False,
) -> list[Sheet]:
    """Read the tables of a CSV, XLSX or Parquet file, or raise a :class:`DataError`.

    ``sheet`` names (or numbers, from 0) one Excel sheet, the first by default;
    ``all_sheets`` reads every sheet. With ``require_rows`` a table with a header and no
    data rows is an error. Blank lines and wholly blank rows are skipped. With
    ``strings`` a CSV file's cells come back in pandas' string dtype (``str``, the same
    text) rather than as Python objects: a large file reads several times faster.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import io
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "returns.csv"
    ...     _ = path.write_text("case_id,weekly_cost\\nKEN-001,950\\n\\nKEN-002,5200\\n")
    ...     sheet, = io.read_table(path)
    ...
    >>> sheet.kind, sheet.rows
    ('csv', (2, 4))
    >>> sheet.frame
       case_id weekly_cost
    0  KEN-001         950
    1  KEN-002        5200
    """
    path_argument(path, "path")
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; use one of "
            f"{', '.join(SUFFIXES)}{_SAVE_AS.get(path.suffix.lower(), '')}"
        )
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        size = path.stat().st_size
        if size == 0:
            raise DataError(f"{path.name}: the file is empty")
        if kind == "csv":
            tables = [_read_csv(path, strings)]
        elif kind == "excel":
            tables = _read_excel(path, sheet, all_sheets)
        else:
            tables = [_read_parquet(path)]
    except PermissionError as err:
        raise DataError(f"{path}: cannot read the file (permission denied)") from err
    except IsADirectoryError as err:  # pragma: no cover - raced with the check above
        raise DataError(f"{path}: a folder, not a file") from err
    if require_rows:
        for table in tables:
            if len(table.frame) == 0:
                raise DataError(f"{table.label}: a header and no data rows")
    return tables


def sheet_names(path: str | os.PathLike[str]) -> list[str]:
    """The names of an Excel workbook's sheets, in order, without reading their cells; a
    damaged or protected workbook is a :class:`DataError` naming the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from lacstats import io
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "returns.xlsx"
    ...     with pd.ExcelWriter(path) as writer:
    ...         pd.DataFrame({"n": [1]}).to_excel(writer, sheet_name="Cases")
    ...         pd.DataFrame({"n": [2]}).to_excel(writer, sheet_name="Notes")
    ...     print(io.sheet_names(path))
    ...
    ['Cases', 'Notes']
    """
    path = Path(path)
    if SUFFIXES.get(path.suffix.lower()) != "excel":
        raise DataError(f"{path.name}: not an Excel workbook (.xlsx)")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    book = _open_workbook(path)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        try:
            return data.decode("utf-32")
        except UnicodeDecodeError as err:
            raise DataError(f"{path.name}: damaged UTF-32 text ({err.reason})") from err
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise DataError(f"{path.name}: damaged UTF-16 text ({err.reason})") from err
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise DataError(f"{path.name}: {what}")
    if b"\x00" in data:
        raise DataError(
            f"{path.name}: contains NUL bytes: UTF-16 text without a byte-order mark or a "
            "binary file; save it as CSV UTF-8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path.name}, line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}; "
            "Latin-1 or Windows-1252?); save it as CSV UTF-8"
        ) from err


def read_toml(path: str | os.PathLike[str], *, what: str = "TOML file") -> dict:
    """A TOML file (a study, published figures, a sweep's grid) as a dict, or a
    :class:`DataError` naming the file and what is wrong: not UTF-8 (naming the encoding it
    looks like: UTF-16 or UTF-32 with a byte-order mark, Latin-1 or Windows-1252, a binary
    file), not valid TOML (line and column), nested too deeply. A UTF-8 byte-order mark is
    accepted (TOML is UTF-8; Windows' Notepad writes the mark).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import LacstatsError, io
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "study.toml"
    ...     _ = path.write_bytes('[study]\\nname = "café"\\n'.encode("latin-1"))
    ...     try:
    ...         io.read_toml(path, what="study file")
    ...     except LacstatsError as error:
    ...         print(str(error).replace(str(path), "study.toml"))
    ...
    study file study.toml, line 2: not UTF-8 text (byte 0xe9; Latin-1 or Windows-1252?); TOML files are UTF-8: save it as UTF-8
    """
    path = Path(path)
    label = f"{what} {path}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{what} {path}: a folder, not a file") from None
    except PermissionError:
        raise DataError(f"{what} {path}: cannot read the file (permission denied)") from None
    save = "TOML files are UTF-8: save it as UTF-8"
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe", "UTF-16"),
        (b"\xfe\xff", "UTF-16"),
    ):
        if data.startswith(bom):
            raise DataError(f"{label}: {encoding} text; {save}", column=what)
    if b"\x00" in data:
        raise DataError(
            f"{label}: contains NUL bytes (UTF-16 without a byte-order mark, or a binary "
            f"file), not TOML text; {save}",
            column=what,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            f"{label}, line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}; Latin-1 or "
            f"Windows-1252?); {save}",
            column=what,
        ) from None
    return toml_text(text, label=label, what=what)


def toml_text(text: str, *, label: str = "TOML", what: str = "TOML") -> dict:
    """Parsed TOML text, or a :class:`DataError` naming ``label`` (invalid TOML, nested too
    deeply); see :func:`read_toml`.

    Examples
    --------
    >>> from lacstats import LacstatsError, io
    >>> try:
    ...     io.toml_text("a = " + "[" * 5000 + "]" * 5000, label="grid.toml")
    ... except LacstatsError as error:
    ...     print(error)
    ...
    grid.toml: nested too deeply (arrays or tables within each other more than Python can read)
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DataError(f"{label}: not valid TOML ({err})", column=what) from None
    except RecursionError:
        raise DataError(
            f"{label}: nested too deeply (arrays or tables within each other more than "
            "Python can read)",
            column=what,
        ) from None


def _header(label: str, cells: list, row: int) -> list[str]:
    names = ["" if c is None else str(c).strip() for c in cells]
    while names and names[-1] == "":
        names.pop()
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name == "":
            raise DataError(f"{label} (cell {_column_letter(i)}{row}): a blank column header")
        if name in seen:
            first = _column_letter(seen[name])
            raise DataError(
                f"{label} (cells {first}{row} and {_column_letter(i)}{row}): duplicate column "
                f"header {name!r}",
                column=name,
            )
        seen[name] = i
    return names


def _blank_row(cells: Iterable) -> bool:
    cells = list(cells)
    if cells and isinstance(cells[0], str) and cells[0].strip():
        return False  # the usual row: its first cell is filled
    return all(c is None or (isinstance(c, str) and c.strip() == "") for c in cells)


def _read_csv(path: Path, strings: bool = False) -> Sheet:
    text = _decode(path, path.read_bytes())
    label = path.name
    fast = _read_plain_csv(label, text, strings)
    if fast is not None:
        return fast
    sheet = _read_csv_text(label, text)
    if strings:
        frame = sheet.frame.astype(str) if len(sheet.frame.columns) else sheet.frame
        sheet = Sheet(label, frame, sheet.rows, "csv")
    return sheet


def _read_plain_csv(label: str, text: str, strings: bool) -> Sheet | None:
    """The fast path of CSV reading: a file with no quotes (one line, one row), read by
    Arrow's CSV parser, with exactly the cells, rows and line numbers Python's ``csv``
    module gives (:func:`_read_csv_text`); ``None`` when that cannot be guaranteed (quotes,
    lone carriage returns, NUL characters, a byte-order mark left in the text, a first
    line that is blank or has blank header cells at its end, a row of another width than
    the header's, a line longer than ``csv``'s field limit), and the file is read by
    :func:`_read_csv_text`, which names any problem by its line."""
    if '"' in text or "\x00" in text or text.startswith("\ufeff"):
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None  # a line ending Python reads and Arrow may not: read as before
        text = text.replace("\r\n", "\n")
    first = text.find("\n")
    line = text if first < 0 else text[:first]
    if len(line) > csv.field_size_limit():
        return None  # the csv module may raise on the header's cells first
    fields = line.split(",")
    if _blank_row(fields):
        return None
    header = _header(label, fields, 1)  # the same errors as the csv module's path
    if len(header) != len(fields):
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # pragma: no cover - decoded text is always encodable
        return None
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(data)]])
    if starts[-1] == len(data):  # the text ends with a line ending
        starts, stops = starts[:-1], stops[:-1]
    lengths = stops - starts
    if len(lengths) and lengths.max() > csv.field_size_limit():
        return None  # the csv module raises on a field this long
    names = [f"c{i}" for i in range(len(header))]
    # the rows Arrow reads are the lines after the header with something on them
    lines = np.flatnonzero(lengths[1:] > 0) + 2
    if not len(lines):  # a header and blank lines
        empty = pa.array([], type=pa.large_string())
        table = pa.table([empty] * len(names), names=names)
        return _plain_sheet(label, header, table, lines, strings)
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(
                column_names=names,
                skip_rows=1,
                block_size=1 << 20,
                # threads for a file of several blocks; a small file is read at once
                # (starting Arrow's threads costs more than it saves there)
                use_threads=len(data) > 4 << 20,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=",",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=False,
            ),
        )
    except pa.ArrowException:
        return None  # a ragged row, ...: the csv module's path names it
    if len(lines) != table.num_rows:  # pragma: no cover - Arrow skips only empty lines
        return None
    if table.num_rows:
        # a row of blank cells (spaces, separators) is skipped, as the csv module's path
        # does: a row is certainly not blank when its first cell has a printable ASCII
        # character; the others are checked cell by cell as that path checks them
        import pyarrow.compute as pc

        filled = pc.match_substring_regex(table.column(0), "[!-~]")
        maybe = np.flatnonzero(~filled.to_numpy(zero_copy_only=False))
        if len(maybe):
            columns = [
                table.column(i).take(pa.array(maybe)).to_pylist() for i in range(len(names))
            ]
            blank = [i for j, i in enumerate(maybe) if _blank_row([c[j] for c in columns])]
            if blank:
                keep = np.ones(table.num_rows, dtype=bool)
                keep[blank] = False
                table = table.filter(pa.array(keep))
                lines = lines[keep]
    return _plain_sheet(label, header, table, lines, strings)


def _plain_sheet(label: str, header: list[str], table, lines: np.ndarray, strings: bool) -> Sheet:
    """The sheet of the cells Arrow read (strings or Python objects, as
    :func:`_read_csv_text` gives them)."""
    if strings:
        frame = pd.DataFrame(
            {
                name: pd.Series(pd.array(table.column(i).combine_chunks(), dtype=str))
                for i, name in enumerate(header)
            }
        )
    elif table.num_rows:
        frame = pd.DataFrame(
            {
                name: table.column(i).to_numpy(zero_copy_only=False)
                for i, name in enumerate(header)
            },
            dtype=object,
        )
    else:
        frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in header})
    return Sheet(label, frame, tuple(lines.tolist()), "csv")


def _read_csv_text(label: str, text: str) -> Sheet:
    """CSV text read by Python's ``csv`` module, every problem named by its line."""
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        for fields in reader:
            line = reader.line_num
            if _blank_row(fields):
                continue
            if header is None:
                header = _header(label, fields, line)
                continue
            if len(fields) > len(header):
                if not _blank_row(fields[len(header) :]):
                    raise DataError(
                        f"{label}, line {line}: {len(fields)} fields, the header has "
                        f"{len(header)} (a ragged row, or a comma inside an unquoted cell?)"
                    )
                fields = fields[: len(header)]
            elif len(fields) < len(header):
                raise DataError(
                    f"{label}, line {line}: {len(fields)} fields, the header has {len(header)}"
                )
            records.append(fields)
            lines.append(line)
    except csv.Error as err:
        raise DataError(
            f"{label}, line {reader.line_num}: not readable as CSV ({err}; an unclosed quote?)"
        ) from err
    if header is None:
        raise DataError(f"{label}: no header row (the file has only blank lines)")
    frame = pd.DataFrame(records, columns=header, dtype=object)
    if not records:
        frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in header})
    return Sheet(label, frame, tuple(lines), "csv")


def _open_workbook(path: Path):
    import openpyxl

    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"\xd0\xcf\x11\xe0":
        raise DataError(
            f"{path.name}: an encrypted (password-protected) or old-format .xls workbook; "
            "remove the password or save it as .xlsx"
        )
    if magic != b"PK\x03\x04":
        raise DataError(f"{path.name}: not an Excel workbook (no zip archive inside)")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        raise DataError(f"{path.name}: a damaged or truncated workbook ({err})") from err
    except MemoryError:
        raise
    except Exception as err:  # openpyxl raises KeyError, ValueError, ... on bad parts
        raise DataError(
            f"{path.name}: not a readable Excel workbook ({type(err).__name__}: {err})"
        ) from err


def _read_excel(path: Path, sheet: str | int | None, all_sheets: bool) -> list[Sheet]:
    book = _open_workbook(path)
    try:
        names = list(book.sheetnames)
        if not names:
            raise DataError(f"{path.name}: a workbook with no readable sheet")
        if all_sheets:
            chosen = names
        elif sheet is None:
            chosen = names[:1]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(f"{path.name}: no sheet number {sheet}; sheets: {names}")
            chosen = [names[sheet]]
        elif sheet not in names:
            raise DataError(f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(names)}")
        else:
            chosen = [sheet]
        out = []
        for name in chosen:
            label = path.name if len(names) == 1 else f"{path.name}, sheet {name!r}"
            try:
                rows = list(book[name].iter_rows(values_only=True))
            except MemoryError:
                raise
            except Exception as err:
                raise DataError(
                    f"{label}: a damaged or truncated sheet ({type(err).__name__}: {err})"
                ) from err
            out.append(_sheet_from_rows(label, rows, name))
        return out
    finally:
        book.close()


def _sheet_from_rows(label: str, rows: list[tuple], sheet: str) -> Sheet:
    header: list[str] | None = None
    records: list[list] = []
    numbers: list[int] = []
    for number, cells in enumerate(rows, start=1):
        cells = list(cells)
        if _blank_row(cells):
            continue
        if header is None:
            header = _header(label, cells, number)
            continue
        width = len(header)
        if not _blank_row(cells[width:]):
            extra = next(i for i in range(width, len(cells)) if not _blank_row([cells[i]]))
            raise DataError(
                f"{label} (cell {_column_letter(extra)}{number}): a value under no column header"
            )
        records.append((cells + [None] * width)[:width])
        numbers.append(number)
    if header is None:
        return Sheet(label, pd.DataFrame(), (), "excel", sheet)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    if not records:
        frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in header})
    return Sheet(label, frame, tuple(numbers), "excel", sheet)


def _read_parquet(path: Path) -> Sheet:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PAR1":
        raise DataError(f"{path.name}: not a Parquet file")
    try:
        frame = pd.read_parquet(path)
    except MemoryError:
        raise
    except Exception as err:  # pyarrow's ArrowInvalid, OSError, ... on a damaged file
        raise DataError(
            f"{path.name}: a damaged Parquet file ({type(err).__name__}: {err})"
        ) from err
    for column in frame.columns:  # decimal128 (a cost kept exactly) is read as a number
        if frame[column].dtype == object:
            values = frame[column].dropna()
            if len(values) and all(isinstance(v, decimal.Decimal) for v in values):
                frame[column] = frame[column].map(
                    lambda v: float(v) if isinstance(v, decimal.Decimal) else v
                )
    names = [str(c).strip() for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(f"{path.name}: duplicate column(s) {', '.join(duplicated)}")
    frame.columns = names
    return Sheet(path.name, frame.reset_index(drop=True), (), "parquet")


def read_cases(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    authorities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read and validate a case table from ``path`` (.csv, .xlsx or .parquet). Columns:
    the case table's, as :func:`lacstats.schema.validate` returns them (``case_id``,
    ``authority``, ... in the order of :data:`lacstats.schema.COLUMNS`).

    ``sheet`` names (or numbers, from 0) the Excel sheet; the first sheet by default.
    ``authorities`` is passed to :func:`lacstats.schema.validate`.

    Raises :class:`DataError` for a missing, empty, unreadable or header-only file, an
    unsupported extension, a missing sheet, or any validation failure; messages name the
    file and, for CSV and Excel, the spreadsheet cell (header in row 1).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import io
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "cases.csv"
    ...     _ = path.write_text("case_id,authority,authority_type,placement_setting,weekly_cost\\nKEN-001,Kent,County,foster_ifa,£950\\nKEN-002,Kent,County,residential_private,\\"£5,200\\"\\n", encoding="utf-8")
    ...     cases = io.read_cases(path)
    ...
    >>> cases[["case_id", "weekly_cost"]]
       case_id  weekly_cost
    0  KEN-001        950.0
    1  KEN-002       5200.0
    """
    path_argument(path, "path")
    (table,) = read_table(path, sheet=sheet, require_rows=True)
    if len(table.frame.columns) == 0:
        raise DataError(f"{table.label}: the file has no columns")
    try:
        return schema.validate(table.frame, authorities=authorities)
    except DataError as err:
        raise _locate(err, table) from None


def read_unit_costs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A table of unit costs. Columns: ``weekly_cost`` with ``placement_type`` or
    ``placement_setting``, optionally ``provider`` and ``location`` (see
    :func:`lacstats.costs.unit_cost`) through the front door: costs parsed as money and
    within 0 to :data:`lacstats.schema.MAX_WEEKLY_COST`, a bad cell named by its place.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import io
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "unit_costs.csv"
    ...     _ = path.write_text("placement_setting,weekly_cost\\nfoster_in_house,£465\\nresidential_private,\\"£2,711\\"\\n", encoding="utf-8")
    ...     print(io.read_unit_costs(path))
    ...
         placement_setting  weekly_cost
    0      foster_in_house        465.0
    1  residential_private       2711.0
    """
    (table,) = read_table(path, require_rows=True)
    frame = table.frame.copy()
    if "weekly_cost" not in frame:
        raise DataError(f"{table.label}: no 'weekly_cost' column", column="weekly_cost")
    try:
        frame["weekly_cost"] = schema.parse_money(frame["weekly_cost"])
    except DataError as err:
        raise _locate(err, table) from None
    bad = ~frame["weekly_cost"].between(0, schema.MAX_WEEKLY_COST).to_numpy()
    if bad.any():
        raise _locate(
            DataError.at(
                f"column 'weekly_cost': a unit cost outside 0 to {schema.MAX_WEEKLY_COST:,.0f}",
                "weekly_cost",
                bad,
                table.frame["weekly_cost"],
            ),
            table,
        )
    for column in frame.columns.drop("weekly_cost"):
        frame[column] = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
    return frame


def _locate(err: DataError, table: Sheet) -> DataError:
    where = table.label
    message = err.args[0]
    if err.rows and err.column in table.frame.columns:
        message = message.split(" (row ")[0]
        if table.rows:
            cells = ", ".join(table.cell(err.column, r) for r in err.rows[:5])
            where += f" (cell {cells})"
        else:
            where += f" (row {', '.join(map(str, err.rows[:5]))})"
    return DataError(
        f"{where}: {message}",
        column=err.column,
        rows=err.rows,
        values=err.values,
        n_bad=err.n_bad,
    )
