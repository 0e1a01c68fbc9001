"""Reading case tables from files and writing results atomically.

:func:`read_cases` reads CSV, Excel (XLSX) and Parquet into a validated case table. Text
cells are kept as text until :func:`lacstats.schema.validate` parses them, so analysts'
spreadsheets that write costs as ``£4,800`` or ``4800.00`` both read as 4800, and a cell
that is not an amount is reported with its file, spreadsheet cell and value.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from lacstats import schema
from lacstats.errors import DataError

__all__ = ["atomic_directory", "atomic_write_bytes", "atomic_write_text", "read_cases"]

SUFFIXES = {".csv": "csv", ".xlsx": "excel", ".xlsm": "excel", ".parquet": "parquet"}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_cases(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    authorities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read and validate a case table from ``path`` (.csv, .xlsx or .parquet).

    ``sheet`` names (or numbers, from 0) the Excel sheet; the first sheet by default.
    ``authorities`` is passed to :func:`lacstats.schema.validate`.

    Raises :class:`DataError` for a missing or empty file, an unsupported extension, a
    missing sheet, or any validation failure; messages name the file and, for CSV and
    Excel, the spreadsheet cell (header in row 1).
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path.name}: unsupported file type {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name}: the file is empty")
    if kind == "csv":
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError as err:
            raise DataError(f"{path.name}: the file is empty") from err
    elif kind == "excel":
        frame = _read_excel(path, sheet)
    else:
        frame = pd.read_parquet(path)
    if frame.empty and len(frame.columns) == 0:
        raise DataError(f"{path.name}: the file has no columns")
    frame.columns = [str(c).strip() for c in frame.columns]
    try:
        return schema.validate(frame, authorities=authorities)
    except DataError as err:
        raise _locate(err, path, frame, kind) from None


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    names = book.sheetnames
    book.close()
    if sheet is None:
        sheet = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise DataError(f"{path.name}: no sheet number {sheet}; sheets: {names}")
        sheet = names[sheet]
    elif sheet not in names:
        raise DataError(f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(names)}")
    return pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")


def _locate(err: DataError, path: Path, frame: pd.DataFrame, kind: str) -> DataError:
    where = f"{path.name}"
    if err.rows and err.column in frame.columns and kind != "parquet":
        letter = _column_letter(list(frame.columns).index(err.column))
        cells = ", ".join(f"{letter}{r + 1}" for r in err.rows[:5])
        where += f" (cell {cells})"
    located = DataError(
        f"{where}: {err.args[0].split(' (row ')[0]}",
        column=err.column,
        rows=err.rows,
        values=err.values,
        n_bad=err.n_bad,
    )
    return located


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory in a temporary sibling and swap it into place only on success.

    If the block raises, the temporary directory is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging."))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
