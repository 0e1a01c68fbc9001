"""Reading SSDA903 returns as the field writes them, every problem listed.

What is read: every table of the return (:data:`~lacstats.ssda903.TABLES`): Header,
Episodes and UASC, which the cases, costs and projections use, and AD1, placed for
adoption, previous permanence, OC2, OC3, reviews, missing and social worker episodes,
which are read, typed and validated. A file of one of these tables with no header row (an
empty file) is noted in ``Return.empty``, not fatal; a file of no table of the return is
listed in ``Return.skipped``. Returns with no Header or no Episodes table are a problem.
The layouts:

- one authority's returns: a folder or a list of files, one file (or workbook sheet) per
  table and year, CSV, XLSX or the XML upload;
- regional extracts of many authorities and years: one file per table with ``LA`` (the
  authority's name or ONS code) and ``YEAR`` (a year of the collection, or a code such
  as ``2019-20``) columns, in the layout the regional pipelines and demand models write
  (``SSDA903_Episodes_merged.csv``), or one folder per authority;
- tables already in memory (:func:`from_frames`), with parsed dates, ``NaT``/``NA``/``None``,
  numbers as floats and pandas' nullable and Arrow string types.

Dates are dd/mm/yyyy (the specification) or ISO yyyy-mm-dd: each file's format is the
one most of its dates follow, stated in ``Return.files`` (``date_format``); a date in the
other format, or in none, is a problem. Child identifiers written as numbers
(``123456.0``) are read as ``123456``; a child identifier is unique only within an
authority.

A return's collection year comes, in this order, from the ``YEAR`` column (a two-year
code as written; one calendar year read by ``year_column``: by default as each
authority's DECOMs say, since the field's demand model writes the year a collection
starts and liia-tools the year it ends), the ``year``
argument, a two-year code in the file name (``1920``, ``2122``, ``2019-20``: end year
2020 and 2022 and 2020), a four-digit year in the file name read by ``year_from``
(``"start"``: ``2017-episodes.csv`` is 2017-18, the convention of the synthetic returns in
``fake903``; ``"end"``), or, by default, its data: the latest collection year reached
from the busiest year of its DECOMs without a gap, so that one DECOM typed as 2099 does
not re-date the return (that row is reported as out of range instead). A return with no
episodes takes the convention its neighbours' file names follow. ``Return.files`` says how
each file was dated (``dated_by``).

Problems (:data:`lacstats.ssda903.RULES`) are handled by ``errors=``:
``"raise"`` (default) raises one :class:`ReturnError` listing every problem, ``"report"``
returns every row with the problems in ``Return.errors``, ``"drop"`` leaves out the
offending episodes and UASC records, and every record of a child whose header is wrong,
and counts them in ``Return.ledger`` by authority and year.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError, path_argument
from lacstats.io import read_table
from lacstats.results import Result, jsonable
from lacstats.ssda903 import _validation as validation
from lacstats.ssda903._authorities import resolve
from lacstats.ssda903._codes import (
    CORE_TABLES,
    TABLES,
    ReturnError,
    TableSpec,
    code_lists,
    collection_year,
    year_label,
)

__all__ = ["ERRORS", "Return", "from_frames", "read"]

#: XML element names that differ from the CSV column names.
XML_NAMES = {"CHILDID": "CHILD", "PL": "PLACE"}
#: What :func:`read` does with problems.
ERRORS = ("raise", "report", "drop")
#: The columns of a regional extract that name the authority and the collection year.
AUTHORITY_COLUMN, YEAR_COLUMN = "LA", "YEAR"
LEDGER_COLUMNS = ("authority", "year", "step", "count")


@dataclass(frozen=True)
class Return(Result):
    """Returns of one or many authorities and years, validated.

    ``header``, ``episodes`` and ``uasc`` are tables; the other tables of the return are
    in ``tables`` by name (see :meth:`table`), and ``empty`` names the files of a table
    that had no header row. Each table has the specification's columns and ``authority``
    (the DfE name, or the
    label written when it matches no English authority; empty for a single authority's
    returns that do not name it), ``YEAR`` (the collection's end year) and the ``_file``
    and ``_row`` each record came from (row 1 = the first row under the header).
    ``files`` has one row per file, authority and year with its ``date_format`` and how it
    was dated (``dated_by``); ``errors`` the problems found (see
    :data:`lacstats.ssda903.RULES`); ``ledger`` the rows ``errors="drop"``
    left out, by authority and year; ``authorities`` how each label was matched;
    ``written`` the columns each table's files wrote (a regional extract often leaves
    some out, such as the postcodes: the rules on those columns cannot be checked).

    Examples
    --------
    >>> from lacstats import ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> len(data.header), len(data.episodes), len(data.uasc)
    (2123, 3737, 82)
    """

    header: pd.DataFrame
    episodes: pd.DataFrame
    uasc: pd.DataFrame
    files: pd.DataFrame
    errors: pd.DataFrame = field(default_factory=validation.no_problems)
    ledger: pd.DataFrame = field(default_factory=lambda: _ledger([]))
    authorities: pd.DataFrame = field(default_factory=lambda: resolve([""]))
    skipped: tuple[str, ...] = ()
    mode: str = "raise"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    empty: tuple[str, ...] = ()
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """Any table of the return by name (:data:`~lacstats.ssda903.TABLES`): ``header``,
        ``episodes``, ``uasc`` and the others (``ad1``, ``placed_for_adoption``,
        ``previous_permanence``, ``oc2``, ``oc3``, ``reviews``, ``missing``,
        ``sw_episodes``), with no rows when none was read.

        Examples
        --------
        >>> from lacstats import ssda903
        >>> data = ssda903.read(ssda903.fake903_path())
        >>> len(data.table("episodes")), len(data.table("reviews"))
        (3737, 0)
        """
        if name not in TABLES:
            raise DataError(
                f"no table {name!r} in the SSDA903 return; the tables are {', '.join(TABLES)}",
                column="name",
            )
        if name in ("header", "episodes", "uasc"):
            return getattr(self, name)
        found = self.tables.get(name)
        return _empty(TABLES[name]) if found is None else found

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.files["year"].dropna().unique())

    @property
    def authority_names(self) -> list[str]:
        return sorted(
            set(self.header["authority"].unique()) | set(self.episodes["authority"].unique())
        )

    def to_frame(self) -> pd.DataFrame:
        """Rows read and problems found, by authority and year (the other tables' rows
        where any were read)."""
        parts = []
        others = [t for t in TABLES if t not in CORE_TABLES and len(self.table(t))]
        for name in (*CORE_TABLES, *others):
            table = self.table(name)
            parts.append(table.groupby(["authority", "YEAR"]).size().rename(f"{name}_rows"))
        counts = pd.concat(parts, axis=1).fillna(0).astype(int)
        if len(self.errors):
            found = self.errors.dropna(subset=["year"]).groupby(["authority", "year"]).size()
            found.index = found.index.set_names(["authority", "YEAR"])
            counts["problems"] = found.reindex(counts.index).fillna(0).astype(int)
        else:
            counts["problems"] = 0
        return counts.reset_index().rename(columns={"YEAR": "year"})

    def summary(self) -> str:
        names = [a for a in self.authority_names if a]
        who = (
            f"{len(names)} authorities, " if len(names) > 1 else (f"{names[0]}, " if names else "")
        )
        text = (
            f"SSDA903 return, {who}{len(self.years)} year(s) "
            f"{', '.join(year_label(y) for y in self.years)}: "
            f"{len(self.header[['authority', 'CHILD']].drop_duplicates())} children, "
            f"{len(self.episodes)} episodes"
        )
        if len(self.errors):
            text += f"; {len(self.errors)} problem(s) ({self.mode})"
        others = [t for t in TABLES if t not in CORE_TABLES and len(self.table(t))]
        if others:
            text += f"; other tables: {', '.join(others)}"
        if self.empty:
            text += f"; {len(self.empty)} empty file(s) noted"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} file(s) of no table of the return"
        return text

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "years": self.years,
                "authorities": [a for a in self.authority_names if a],
                "children": int(len(self.header[["authority", "CHILD"]].drop_duplicates())),
                "episodes": int(len(self.episodes)),
                "problems": {
                    str(k): int(v) for k, v in self.errors["rule"].value_counts().items()
                },
                "errors": self.mode,
                "date_formats": sorted(
                    str(x) for x in self.files["date_format"].dropna().unique()
                ),
                "skipped": list(self.skipped),
                "empty": list(self.empty),
                "rows": {name: int(len(self.table(name))) for name in TABLES},
            }
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.to_frame().to_html(index=False)


@dataclass
class _Source:
    """One table as written: a file, a workbook sheet or a frame in memory."""

    label: str
    table: str
    text: pd.DataFrame  # the cells written as text (see _cells)
    stamps: dict[str, pd.Series]  # the cells that are dates already
    folder: str | None = None  # the authority folder it was found in
    year: int | None = None  # a collection named exactly by the file name
    token: int | None = None  # a calendar year in the file name
    missing: tuple[str, ...] = ()


def _ledger(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))
    return frame.astype({"year": "Int64", "count": "int64"})


# --------------------------------------------------------------------------- files


def _files(path: str | Path | Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Each table file with the authority folder it sits in (one folder per authority)."""
    if isinstance(path, (str, os.PathLike)):
        given = [path_argument(path, "path")]
    elif isinstance(path, Iterable) and not isinstance(path, (bytes, dict)):
        given = [path_argument(item, "path") for item in path]
        if not given:
            raise ReturnError("no files given (an empty list of paths)", column="path")
    else:
        path_argument(path, "path")  # the error names the argument and the type
    out: list[tuple[Path, str | None]] = []
    for item in map(Path, given):
        if item.is_dir():
            found = _table_files(item)
            folders = sorted(d for d in item.iterdir() if d.is_dir() and _table_files(d))
            if not found and not folders:
                raise ReturnError(f"no CSV, XLSX or XML files in {item}", column="path")
            out.extend((f, None) for f in found)
            for folder in folders:
                out.extend((f, folder.name) for f in _table_files(folder))
        elif item.is_file():
            out.append((item, None))
        else:
            raise ReturnError(f"no such file: {item}", column="path", file=str(item))
    return out


def _table_files(folder: Path) -> list[Path]:
    return sorted(
        f
        for f in folder.iterdir()
        if f.is_file() and f.suffix.lower() in (".csv", ".xlsx", ".xml")
    )


#: How each table's files are named (letters and digits only, lower case), most specific
#: first: ``SSDA903_SWEpisodes.csv`` is social worker episodes, not episodes.
TABLE_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sw_episodes", ("swepisode", "socialworker")),
    ("placed_for_adoption", ("placedforadoption", "placedadoption", "sbpfa")),
    ("previous_permanence", ("previouspermanence", "prevperm", "permanence")),
    ("episodes", ("episode",)),
    ("header", ("header",)),
    ("uasc", ("uasc",)),
    ("ad1", ("ad1",)),
    ("oc2", ("oc2",)),
    ("oc3", ("oc3",)),
    ("reviews", ("review",)),
    ("missing", ("missing",)),
)


def _named(name: str) -> str | None:
    """The table a file or sheet name names, if any."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for table, words in TABLE_NAMES:
        if any(word in key for word in words):
            return table
    return None


def _identify(columns: Sequence[str], name: str) -> tuple[str | None, tuple[str, ...]]:
    """The table a file holds (by its name, then its columns) and the required columns it
    lacks; ``(None, ())`` for a file of no table of the return."""
    present = set(columns)
    named = _named(name)
    if named is not None and set(TABLES[named].required) <= present:
        return named, ()
    # by its columns: the table whose required columns it has, the most of them
    fitting = [t for t in TABLES if set(TABLES[t].required) <= present]
    if fitting:
        return max(fitting, key=lambda t: len(TABLES[t].required)), ()
    if named is not None:
        return named, tuple(c for c in TABLES[named].required if c not in present)
    return None, ()


def _blank_file(path: Path) -> bool:
    """A CSV file with nothing in it but a byte-order mark, blanks and separators (no
    header row)."""
    if path.suffix.lower() != ".csv" or path.stat().st_size > 4096:
        return False
    return not path.read_bytes().strip(b"\xef\xbb\xbf \t\r\n,;")


def _read_tabular(path: Path) -> list[tuple[str, pd.DataFrame]]:
    # the one front door (lacstats.io): undecodable, ragged or damaged files are
    # DataErrors naming the file and line; cells come back as written (text from CSV,
    # values from a workbook) and are typed here
    out = []
    for sheet in read_table(path, all_sheets=True, strings=True):
        name = path.name if sheet.kind == "csv" else f"{path.name}[{sheet.sheet}]"
        out.append((name, sheet.frame))
    return out


#: XML groups under a child that are rows of the return's other tables.
XML_GROUPS = {
    "EPISODE": "episodes",
    "AREVIEW": "reviews",
    "AMISSING": "missing",
    "AD_PLACED": "placed_for_adoption",
    "PERMANENCE": "previous_permanence",
    "OC2": "oc2",
}
#: Tables whose items sit with the header: a row when the first item is present.
XML_HEADER_TABLES = {"ad1": "DATE_INT", "oc3": "IN_TOUCH"}


def _read_xml(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """The XML upload: one element per child (tag ``CHILD``) holding the header items as
    leaves (``CHILDID`` for CHILD, possibly grouped, e.g. under ``HEADER``), one
    ``EPISODE`` element per episode (``PL`` for PLACE), and the groups of the other tables
    (``AREVIEW``, ``AMISSING``, ``AD_PLACED``, ``PERMANENCE``, ``OC2``); UASC (``DUC``),
    adoption (AD1) and care leaver (OC3) items sit with the header. Each row of another
    table carries the child's CHILD and DOB."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ReturnError(f"{path.name}: not well-formed XML ({err})", file=path.name) from err
    headers: list[dict[str, str]] = []
    rows: dict[str, list[dict[str, str]]] = {t: [] for t in XML_GROUPS.values()}
    for name in XML_HEADER_TABLES:
        rows[name] = []
    for child in root.iter("CHILD"):
        if len(child) == 0:
            continue
        record: dict[str, str] = {}
        groups: list[tuple[str, dict[str, str]]] = []
        stack = list(child)
        while stack:
            element = stack.pop(0)
            if element.tag in XML_GROUPS:
                groups.append(
                    (
                        XML_GROUPS[element.tag],
                        {
                            XML_NAMES.get(e.tag, e.tag): (e.text or "").strip()
                            for e in element.iter()
                            if len(e) == 0 and e is not element
                        },
                    )
                )
            elif len(element):
                stack.extend(list(element))
            else:
                record[XML_NAMES.get(element.tag, element.tag)] = (element.text or "").strip()
        headers.append(record)
        who = {"CHILD": record.get("CHILD", "")}
        for table, items in groups:
            extra = {} if table == "episodes" else {"DOB": record.get("DOB", "")}
            rows[table].append({**who, **extra, **items})
        for table, first in XML_HEADER_TABLES.items():
            if record.get(first):
                columns = (*TABLES[table].required, *TABLES[table].optional)
                rows[table].append({c: record.get(c, "") for c in columns})
    if not headers:
        raise ReturnError(f"{path.name}: no CHILD elements", file=path.name)
    out = [(f"{path.name}[header]", pd.DataFrame(headers).replace("", np.nan))]
    for table, found in rows.items():
        if found:
            out.append((f"{path.name}[{table}]", pd.DataFrame(found).replace("", np.nan)))
    return out


# --------------------------------------------------------------------------- cells


def _cells(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The cells written as text (stripped; blank is missing) and, by column, the cells
    that are dates already (workbook date cells, datetimes in a frame)."""
    text: dict[str, pd.Series] = {}
    stamps: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            stamps[column] = values.astype("datetime64[ns]")
            text[column] = validation.blank_text(frame.index)
            continue
        if values.dtype == object:
            written, dates = _object_cells(values)
            text[column] = written
            if dates is not None:
                stamps[column] = dates
            continue
        if pd.api.types.is_bool_dtype(values.dtype):
            text[column] = pd.Series(
                [None if pd.isna(v) else str(bool(v)) for v in values.astype(object)],
                index=frame.index,
                dtype=str,
            )
            continue
        if pd.api.types.is_numeric_dtype(values.dtype):
            text[column] = _numbers_as_text(values)
            continue
        text[column] = values.astype(str)
    out = pd.DataFrame({c: _stripped(v) for c, v in text.items()}, index=frame.index)
    return out, stamps


def _stripped(values: pd.Series) -> pd.Series:
    """Text without surrounding white space, blank as missing (``.str.strip()`` then
    ``.replace("", nan)``, in one pass of Arrow's for Arrow-backed text)."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return values.str.strip().replace("", np.nan)
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(pa.array(values.array))
    blank = pc.fill_null(pc.equal(trimmed, ""), False)
    cleaned = pc.if_else(blank, pa.scalar(None, type=trimmed.type), trimmed)
    return pd.Series(pd.array(cleaned, dtype=values.dtype), index=values.index)


def _numbers_as_text(values: pd.Series) -> pd.Series:
    numbers = values.astype("Float64").astype(object)
    return pd.Series(
        [None if pd.isna(v) else _number(v) for v in numbers], index=values.index, dtype=str
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _written(frame: pd.DataFrame) -> dict[str, Any]:
    """A table's cells as :class:`_Source` keeps them: converted as soon as the file is
    read, so that the cells as read (Python objects) are freed file by file."""
    text, stamps = _cells(frame)
    return {"text": text, "stamps": stamps}


def _object_cells(values: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.astype(str), None  # text as written (a CSV file), converted at once
    written: list[Any] = []
    dates: list[Any] = []
    any_date = False
    for v in values.tolist():
        if v is None or v is pd.NA or v is pd.NaT:
            written.append(None)
            dates.append(pd.NaT)
        elif isinstance(v, (dt.date, np.datetime64)):
            stamp = pd.Timestamp(v)
            written.append(None)
            dates.append(pd.NaT if pd.isna(stamp) else stamp.tz_localize(None))
            any_date = True
        elif isinstance(v, (float, np.floating)):
            written.append(None if np.isnan(v) else _number(v))
            dates.append(pd.NaT)
        elif isinstance(v, (bool, np.bool_)):
            written.append(str(bool(v)))
            dates.append(pd.NaT)
        elif isinstance(v, (int, np.integer)):
            written.append(str(int(v)))
            dates.append(pd.NaT)
        else:
            written.append(str(v))
            dates.append(pd.NaT)
    text = pd.Series(written, index=values.index, dtype=str)
    if not any_date:
        return text, None
    return text, pd.Series(dates, index=values.index, dtype="datetime64[ns]")


# --------------------------------------------------------------------------- reading


#: Which rules :func:`read` checks: lacstats' own (which reading needs), or also the DfE's.
RULE_SETS = ("lacstats", "all")


def _check_options(
    year_from: str, errors: str, year_column: str | None = None, rules: str = "lacstats"
) -> None:
    if rules not in RULE_SETS:
        raise DataError(f"rules must be 'lacstats' or 'all', got {rules!r}", column="rules")
    if year_from not in ("data", "start", "end"):
        raise DataError(
            f"year_from must be 'data', 'start' or 'end', got {year_from!r}", column="year_from"
        )
    if year_column not in (None, "data", "start", "end"):
        raise DataError(
            f"year_column must be 'data', 'start' or 'end', got {year_column!r}",
            column="year_column",
        )
    if errors not in ERRORS:
        raise DataError(
            f"errors must be 'raise', 'report' or 'drop', got {errors!r}", column="errors"
        )


def read(
    path: str | Path | Iterable[str | Path],
    *,
    year: int | None = None,
    year_from: str = "data",
    codes: dict[str, dict[str, dict[str, Any]]] | str | Path | None = None,
    errors: str = "raise",
    authority: str | None = None,
    year_column: str | None = None,
    rules: str = "lacstats",
) -> Return:
    """Read and validate SSDA903 returns: a folder (of files, or of one folder per
    authority), a file, or a list of them.

    Files are CSV, XLSX (one table per sheet) or XML; tables are recognised by their file
    or sheet name (``header``, ``episodes``, ``uasc``, ``ad1``, ``placed_for_adoption``
    or ``PlacedAdoption``, ``previous_permanence`` or ``PrevPerm``, ``oc2``, ``oc3``,
    ``reviews``, ``missing``, ``sw_episodes`` or ``SWEpisodes``) or else by their
    columns. An empty file of one of these tables is listed in ``empty``; files of no
    table of the return in ``skipped``. See the module's documentation for the layouts,
    dates and years understood.

    Parameters
    ----------
    year:
        The collection year (end year, ``2018`` for 2017-18) of files with no ``YEAR``
        column.
    year_from:
        How to read a calendar year in the file names (and in a ``YEAR`` column, unless
        ``year_column`` says otherwise): ``"data"`` (as the return's DECOMs say),
        ``"start"`` or ``"end"`` (the first or the second year of the collection).
    year_column:
        How to read a calendar year in a ``YEAR`` column: ``"data"`` (as each
        authority's DECOMs say: the regional pipelines of the field's demand model write
        the year a collection starts, liia-tools the year it ends), ``"start"`` or
        ``"end"``; by default as ``year_from``. A two-year code (``2019-20``) is exact.
    codes:
        Code lists to validate against (default: the packaged ``codes.toml``).
    errors:
        ``"raise"``, ``"report"`` or ``"drop"`` (see the module's documentation).
    rules:
        ``"lacstats"`` (default): lacstats' own rules, which reading needs (blank
        required cells, dates, code lists, ...); ``"all"``: also every rule of the
        DfE's validator for each return's collection year (:mod:`lacstats.ssda903.dfe`),
        reported by the DfE's code; with ``errors="raise"`` a flag of any of them stops
        the read, with ``"drop"`` the flagged rows are left out.
    authority:
        The authority of files that name none (no ``LA`` column, no authority folder).

    Raises
    ------
    ReturnError
        With ``errors="raise"``, one error listing every problem (``.problems`` holds
        them all); in every mode, when no table of the return is found, or a file cannot
        be read. Nothing is returned until every file has
        been checked.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> print(data.summary())
    SSDA903 return, 5 year(s) 2017-18, 2018-19, 2019-20, 2020-21, 2021-22: 820 children, 3737 episodes
    >>> data.years
    [2018, 2019, 2020, 2021, 2022]
    >>> data.files[["file", "table", "year"]].head(3)
                    file     table  year
    0  2017-episodes.csv  episodes  2018
    1    2017-header.csv    header  2018
    2      2017-uasc.csv      uasc  2018
    """
    _check_options(year_from, errors, year_column, rules)
    lists = codes if isinstance(codes, dict) else code_lists(codes)
    sources: list[_Source] = []
    skipped = []
    empty = []
    for file, folder in _files(path):
        suffix = file.suffix.lower()
        if _blank_file(file):
            # an empty file of one of the return's tables is noted, not fatal
            (empty if _named(file.name) else skipped).append(file.name)
            continue
        loaded = _read_xml(file) if suffix == ".xml" else _read_tabular(file)
        named, how = collection_year(file.name)
        for name, frame in loaded:
            frame.columns = [str(c).strip() for c in frame.columns]
            table, missing = _identify(list(frame.columns), name)
            if table is None:
                skipped.append(name)
                continue
            sources.append(
                _Source(
                    label=name,
                    table=table,
                    **_written(frame),
                    folder=folder,
                    year=named if how == "code" else None,
                    token=named if how == "year" else None,
                    missing=missing,
                )
            )
        loaded = frame = None  # the cells as read: only their typed copy is kept
    return _assemble(
        sources,
        year,
        year_from,
        lists,
        tuple(skipped),
        errors,
        authority,
        tuple(empty),
        year_column,
        rules,
    )


def from_frames(
    header: pd.DataFrame,
    episodes: pd.DataFrame,
    uasc: pd.DataFrame | None = None,
    *,
    year: int | None = None,
    codes: dict[str, dict[str, dict[str, Any]]] | str | Path | None = None,
    errors: str = "raise",
    authority: str | None = None,
    year_column: str = "data",
    tables: dict[str, pd.DataFrame] | None = None,
    rules: str = "lacstats",
) -> Return:
    """Returns from tables already in memory, validated exactly as :func:`read` validates
    files. Cells may be text (dates dd/mm/yyyy or ISO), datetimes (``NaT`` for none),
    ``None``/``NA``/``NaN``, numbers (``123456.0`` is child ``123456``) and pandas'
    nullable or Arrow strings; ``LA`` and ``YEAR`` columns hold many authorities and years
    (a ``YEAR`` of one calendar year read as ``year_column`` says: by default as the
    dates say). ``tables`` holds the return's other tables by name (``reviews``,
    ``missing``, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> header = pd.DataFrame({"CHILD": ["101", "102"], "SEX": ["1", "2"], "DOB": ["01/06/2008", "15/01/2010"], "ETHNIC": ["WBRI", "AIND"]})
    >>> episodes = pd.DataFrame({"CHILD": ["101", "102"], "DECOM": ["01/05/2019", "03/09/2019"], "RNE": ["S", "S"], "LS": ["C2", "V2"], "CIN": ["N1", "N4"], "PLACE": ["U1", "K2"], "PLACE_PROVIDER": ["PR1", "PR4"], "DEC": [None, None], "REC": [None, None], "REASON_PLACE_CHANGE": [None, None], "HOME_POST": ["BN1 1", "BN2 2"], "PL_POST": ["BN1 2", "TN1 1"], "URN": ["SC1", "SC2"], "PL_DISTANCE": ["2.1", "38.0"], "PL_LA": ["E06000043", "E10000016"], "PL_LOCATION": ["IN", "OUT"]})
    >>> data = ssda903.from_frames(header, episodes, year=2020)
    >>> print(data.summary())
    SSDA903 return, 1 year(s) 2019-20: 2 children, 2 episodes
    >>> episodes.loc[1, "PLACE"] = "ZZ"
    >>> try:
    ...     ssda903.from_frames(header, episodes, year=2020)
    ... except ssda903.ReturnError as error:
    ...     print(error.problems[["row", "column", "value", "rule"]])
    ...
       row column value  rule
    0    2  PLACE    ZZ  code
    """
    _check_options("data", errors, year_column, rules)
    lists = codes if isinstance(codes, dict) else code_lists(codes)
    sources = []
    given = [("header", header), ("episodes", episodes), ("uasc", uasc)]
    for kind, frame in (tables or {}).items():
        if kind not in TABLES or kind in CORE_TABLES:
            raise ReturnError(
                f"tables: {kind!r} is not one of the return's other tables "
                f"({', '.join(t for t in TABLES if t not in CORE_TABLES)})",
                table=kind,
            )
        given.append((kind, frame))
    for kind, frame in given:
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame):
            raise ReturnError(
                f"{kind}: expected a DataFrame, got {type(frame).__name__}", table=kind
            )
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = tuple(c for c in TABLES[kind].required if c not in frame.columns)
        sources.append(_Source(label=kind, table=kind, **_written(frame), missing=missing))
    return _assemble(sources, year, "data", lists, (), errors, authority, year_column=year_column)


@dataclass
class _Part:
    """The rows of one source, with each row's authority label and year."""

    source: _Source
    text: pd.DataFrame
    stamps: dict[str, pd.Series]
    fmt: str | None
    labels: pd.Series
    years: pd.Series  # float, NaN until dated
    dated_by: pd.Series
    tokens: pd.Series | None = None  # a calendar year written in the YEAR column


def _assemble(
    sources,
    year,
    year_from,
    lists,
    skipped,
    errors,
    authority,
    empty=(),
    year_column=None,
    rules="lacstats",
) -> Return:
    if not sources:
        raise ReturnError(
            "no table of the SSDA903 return found (Header, Episodes, UASC, ...)"
            + (f"; empty files: {', '.join(empty)}" if empty else ""),
            column="path",
        )
    found: list[pd.DataFrame] = []
    parts = []
    for source in sources:
        if source.missing:
            found.append(
                validation.structural(
                    "missing_column",
                    f"missing column(s) {', '.join(source.missing)}; present: "
                    f"{', '.join(map(str, source.text.columns))}",
                    table=source.table,
                    file=source.label,
                    column=source.missing[0],
                )
            )
            continue
        parts.append(_part(source, year, authority, found))
    _date_year_columns(parts, year_column or year_from)
    _date_groups(parts, year_from, found)
    names = resolve(
        pd.concat([p.labels for p in parts], ignore_index=True).dropna().unique()
        if parts
        else [""]
    )
    rename = dict(zip(names["label"], names["authority"], strict=True))
    typed: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    files = []
    _duplicate_tables(parts, rename, found)
    for part in parts:
        ok = part.years.notna().to_numpy()
        if not ok.any():
            continue
        text = part.text.loc[ok]
        meta = pd.DataFrame(
            {
                "authority": validation.mapped(part.labels[ok], rename, ""),
                "_table": part.source.table,
                "_file": part.source.label,
                "YEAR": part.years[ok].astype(int),
                "_row": np.flatnonzero(ok) + 1,
            },
            index=text.index,
        )
        stamps = {c: s.loc[ok] for c, s in part.stamps.items()}
        checked, problems = validation.check_table(
            text, stamps, TABLES[part.source.table], meta, part.fmt, lists
        )
        found.extend(problems)
        checked["authority"] = meta["authority"]
        checked["YEAR"] = meta["YEAR"]
        checked["_file"] = part.source.label
        checked["_row"] = meta["_row"]
        typed[part.source.table].append(checked)
        for (who, when, how), rows in _file_groups(meta, part.dated_by[ok]):
            files.append(
                {
                    "file": part.source.label,
                    "table": part.source.table,
                    "authority": who,
                    "year": int(when),
                    "rows": int(rows),
                    "date_format": part.fmt or ("date cells" if part.stamps else "none"),
                    "dated_by": how,
                }
            )
    combined = {
        kind: (pd.concat(frames, ignore_index=True) if frames else _empty(TABLES[kind]))
        for kind, frames in typed.items()
    }
    written = _written_columns(parts)
    if not any(s.table == "header" for s in sources):
        found.append(
            validation.structural(
                "missing_table",
                "no Header table: children's dates of birth are needed",
                table="header",
                column="DOB",
            )
        )
    if not any(s.table == "episodes" for s in sources):
        found.append(
            validation.structural(
                "missing_table",
                "no Episodes table: the children's episodes of care are needed",
                table="episodes",
                column="DECOM",
            )
        )
    found.extend(
        validation.check_consistency(*(combined[k] for k in ("header", "episodes", "uasc")))
    )
    if rules == "all":
        # the DfE's rules, on the tables as typed (cells that failed a check are blank)
        from lacstats.ssda903 import dfe

        read = {s.table for s in sources if not s.missing}
        known = names.dropna(subset=["la_code"])
        la_codes = dict(zip(known["authority"], known["la_code"], strict=True))
        found.append(dfe.run(combined, present=read, la_codes=la_codes, written=written))
    for kind, frame in combined.items():
        kept = [c for c in frame.columns if c.endswith(validation.UNCHECKED)]
        if kept:
            combined[kind] = frame.drop(columns=kept)
    problems = _problems(found)
    if len(problems) and errors == "raise":
        raise validation.problem_error(problems)
    ledger = _ledger([])
    if len(problems) and errors == "drop":
        combined, ledger = _drop(combined, problems)
    used = sorted(
        set(combined["header"]["authority"].unique())
        | set(combined["episodes"]["authority"].unique())
    )
    names = names[names["authority"].isin(used)] if used else names
    return Return(
        header=combined["header"],
        episodes=combined["episodes"],
        uasc=combined["uasc"],
        tables={k: v for k, v in combined.items() if k not in CORE_TABLES},
        empty=empty,
        files=pd.DataFrame(
            files,
            columns=["file", "table", "authority", "year", "rows", "date_format", "dated_by"],
        ),
        errors=problems,
        ledger=ledger,
        authorities=names.reset_index(drop=True),
        skipped=skipped,
        mode=errors,
        written=written,
    )


def _file_groups(meta: pd.DataFrame, dated_by: pd.Series) -> list[tuple[tuple, int]]:
    """The rows of a file by authority, year and how it was dated, sorted (the groups of
    ``groupby([...]).size()``; a file of one return is one group, found without
    grouping)."""
    columns = [meta["authority"], meta["YEAR"], dated_by]
    firsts = [c.iloc[0] for c in columns] if len(meta) else []
    if firsts and all(
        not pd.isna(first) and bool((c.to_numpy() == first).all())
        for c, first in zip(columns, firsts, strict=True)
    ):
        return [(tuple(firsts), len(meta))]
    summary = meta.assign(dated_by=dated_by).groupby(["authority", "YEAR", "dated_by"], sort=True)
    return list(summary.size().items())


def _written_columns(parts: list[_Part]) -> dict[str, tuple[str, ...]]:
    """The columns of the specification each table's files wrote (in any file)."""
    out: dict[str, set[str]] = {}
    for part in parts:
        spec = TABLES[part.source.table]
        known = {*spec.required, *spec.optional}
        out.setdefault(part.source.table, set()).update(
            c for c in part.source.text.columns if c in known
        )
    return {table: tuple(sorted(columns)) for table, columns in sorted(out.items())}


def _part(source: _Source, year, authority, found) -> _Part:
    text, stamps = source.text, source.stamps
    spec = TABLES[source.table]
    fmt = validation.detect_date_format([text[c] for c in spec.dates if c in text])
    index = text.index
    if AUTHORITY_COLUMN in text:
        labels = text[AUTHORITY_COLUMN]
        blank = labels.isna().to_numpy()
        if blank.any():
            meta = _raw_meta(source, labels, np.nan)
            found.append(
                validation.problems_at(
                    meta, blank, AUTHORITY_COLUMN, "blank", "no authority named", labels
                )
            )
    else:
        labels = pd.Series(source.folder or authority or "", index=index)
    labels = labels.astype(object)
    tokens = None
    if YEAR_COLUMN in text:
        written = text[YEAR_COLUMN]
        years = pd.Series(np.nan, index=index)
        tokens = pd.Series(np.nan, index=index)
        dated_by = pd.Series("", index=index, dtype=object)
        for value in written.dropna().unique():
            end, how = collection_year(value)
            rows = (written == value).to_numpy()
            if end is not None and how == "code":
                years[rows] = end
                dated_by[rows] = "YEAR column (two-year code)"
            elif end is not None and value.strip().isdigit():
                tokens[rows] = end  # the start or the end year: the dates will say
        bad = (years.isna() & tokens.isna()).to_numpy()
        if bad.any():
            found.append(
                validation.problems_at(
                    _raw_meta(source, labels, np.nan),
                    bad,
                    YEAR_COLUMN,
                    "year",
                    "not a collection year (write 2020 or 2019-20)",
                    written,
                )
            )
    elif year is not None:
        years = pd.Series(float(year), index=index)
        dated_by = pd.Series("year argument", index=index, dtype=object)
    elif source.year is not None:
        years = pd.Series(float(source.year), index=index)
        dated_by = pd.Series("file name (two-year code)", index=index, dtype=object)
    else:
        years = pd.Series(np.nan, index=index)
        dated_by = pd.Series("", index=index, dtype=object)
    return _Part(source, text, stamps, fmt, labels.where(~labels.isna()), years, dated_by, tokens)


def _date_year_columns(parts: list[_Part], how: str) -> None:
    """Date the rows whose YEAR column holds one calendar year: as the start or the end
    year of the collection as ``how`` says, or (``"data"``) as each authority's episodes
    say: the collection year their DECOMs reach (see :func:`_data_year`) against the
    year written, the convention most of its returns follow. An authority with no
    episodes takes the convention of the others; with none at all, the end year."""
    pending = [p for p in parts if p.tokens is not None and p.tokens.notna().any()]
    if not pending:
        return
    offsets: dict[str, int] = {}
    if how == "data":
        votes = []
        for part in pending:
            if part.source.table != "episodes" or "DECOM" not in part.text:
                continue
            rows = part.tokens.notna().to_numpy()
            decom = validation.parse_dates(part.text["DECOM"][rows], part.fmt)
            if "DECOM" in part.stamps:
                decom = decom.fillna(part.stamps["DECOM"][rows])
            votes.append(
                pd.DataFrame(
                    {
                        "label": part.labels[rows].fillna("").to_numpy(),
                        "token": part.tokens[rows].to_numpy(),
                        "end": (decom.dt.year + (decom.dt.month > 3)).to_numpy(),
                    }
                ).dropna()
            )
        if votes:
            offsets = _year_offsets(pd.concat(votes, ignore_index=True))
    tally = pd.Series(list(offsets.values()), dtype="int64").value_counts()
    common = int(max(tally.index, key=lambda o: (tally[o], -o))) if len(tally) else None
    for part in pending:
        rows = part.tokens.notna().to_numpy()
        labels = part.labels.fillna("")
        if how in ("start", "end"):
            offset = pd.Series(int(how == "start"), index=part.tokens.index)
            why = pd.Series(f"YEAR column, year_column='{how}'", index=part.tokens.index)
        else:
            # each authority label once: its offset and how it was found
            codes, uniques = pd.factorize(labels.to_numpy(dtype=object))
            offsets_of, whys = [], []
            for label in uniques:
                known = offsets.get(label)
                value = known if known is not None else (common if common is not None else 0)
                side = "start" if value == 1 else "end"
                if known is not None:
                    how_known = " year (its dates)"
                elif common is not None:
                    how_known = " year (as the other authorities' dates)"
                else:
                    how_known = " year (no episodes to tell)"
                offsets_of.append(float(value))
                whys.append(f"YEAR column, {side}{how_known}")
            offset = pd.Series(np.array(offsets_of, dtype=float)[codes], index=part.tokens.index)
            why = pd.Series(np.array(whys, dtype=object)[codes], index=part.tokens.index)
        part.years[rows] = (part.tokens + offset)[rows]
        part.dated_by[rows] = why[rows]


def _year_offsets(votes: pd.DataFrame) -> dict[str, int]:
    """For each authority label, whether its YEAR column writes the start (1) or the end
    (0) year of the collection: each (label, year written) group's DECOMs reach a
    collection year (the busiest one, followed on without a gap, as
    :func:`_data_year`), which is the year written or the one after it; the offset most
    of the label's groups show (the end year on a tie)."""
    counts = votes.groupby(["label", "token", "end"]).size().rename("n").reset_index()
    counts = counts.sort_values(
        ["label", "token", "n", "end"], ascending=[True, True, False, False]
    )
    busiest = counts.drop_duplicates(["label", "token"])[["label", "token", "end"]]
    present = set(zip(counts["label"], counts["token"], counts["end"], strict=True))
    reached = busiest["end"].to_numpy(dtype=np.int64).copy()
    keys = list(zip(busiest["label"], busiest["token"], strict=True))
    for i, (label, token) in enumerate(keys):
        while (label, token, reached[i] + 1) in present:
            reached[i] += 1
    offset = reached - busiest["token"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"label": busiest["label"].to_numpy(), "offset": offset})
    frame = frame[frame["offset"].isin([0, 1])]
    out = {}
    for label, group in frame.groupby("label"):
        tally = group["offset"].value_counts()
        out[str(label)] = int(max(tally.index, key=lambda o: (tally[o], -o)))
    return out


def _raw_meta(source: _Source, labels: pd.Series, year: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "authority": labels.astype(object),
            "_table": source.table,
            "_file": source.label,
            "YEAR": year,
            "_row": np.arange(1, len(labels) + 1),
        },
        index=labels.index,
    )


def _date_groups(parts: list[_Part], year_from: str, found: list[pd.DataFrame]) -> None:
    """Date the rows still undated, grouped by authority and the year in their file names:
    by that year (``year_from``) or by their DECOMs; a group with no episodes takes its
    neighbours' naming convention."""
    groups: dict[tuple[str, int | None], list[tuple[_Part, np.ndarray]]] = {}
    for part in parts:
        undated = part.years.isna().to_numpy() & part.dated_by.eq("").to_numpy()
        if not undated.any():
            continue
        labels = part.labels.fillna("")
        for label in labels[undated].unique():
            mask = undated & (labels == label).to_numpy()
            groups.setdefault((label, part.source.token), []).append((part, mask))
    dated: dict[tuple[str, int], int | None] = {}
    offsets: set[int] = set()
    pending = []
    for (label, token), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] is None, kv[0][1] or 0)
    ):
        if token is not None and year_from in ("start", "end"):
            when, how = token + (year_from == "start"), f"file name, year_from='{year_from}'"
        else:
            when, how = _data_year(members), "data (DECOM)"
            if when is None:
                pending.append((label, token, members))
                continue
            if token is not None:
                offsets.add(when - token)
        _set_year(label, token, members, when, how, dated, found)
    for label, token, members in pending:
        if token is not None and len(offsets) == 1:
            (offset,) = offsets
            how = "file name, as its neighbours' (no episodes)"
            _set_year(label, token, members, token + offset, how, dated, found)
            continue
        names = ", ".join(dict.fromkeys(part.source.label for part, _ in members))
        found.append(
            validation.structural(
                "undated",
                f"cannot tell the collection year of {names}: no episodes to date it by"
                + ("" if token is None else f" and no way to tell how {token} is meant")
                + "; pass year= or year_from='start' or 'end'",
                table=members[0][0].source.table,
                file=members[0][0].source.label,
                authority=label or None,
                column="year",
            )
        )


def _set_year(label, token, members, when, how, dated, found) -> None:
    if (label, when) in dated:
        names = ", ".join(dict.fromkeys(part.source.label for part, _ in members))
        found.append(
            validation.structural(
                "undated",
                f"files named {dated[(label, when)]} and {token} both look like the "
                f"{year_label(when)} return (latest DECOM); say how file names are dated "
                "with year_from='start' or 'end'",
                table=members[0][0].source.table,
                file=names,
                authority=label or None,
                column="year_from",
            )
        )
        return
    dated[(label, when)] = token
    for part, mask in members:
        part.years[mask] = float(when)
        part.dated_by[mask] = how


def _data_year(members: list[tuple[_Part, np.ndarray]]) -> int | None:
    """The collection year of a group of files from its DECOMs: the latest collection
    year reached from the busiest one without a gap (a DECOM typed years ahead is left
    out, and reported as out of range)."""
    starts = []
    for part, mask in members:
        if part.source.table != "episodes" or "DECOM" not in part.text:
            continue
        parsed = validation.parse_dates(part.text["DECOM"][mask], part.fmt)
        if "DECOM" in part.stamps:
            parsed = parsed.fillna(part.stamps["DECOM"][mask])
        starts.append(parsed.dropna())
    decom = pd.concat(starts) if starts else pd.Series(dtype="datetime64[ns]")
    if decom.empty:
        return None
    ends = decom.dt.year + (decom.dt.month > 3).astype(int)
    counts = ends.value_counts()
    busiest = int(max(counts.index, key=lambda y: (counts[y], y)))
    while busiest + 1 in counts.index:
        busiest += 1
    return busiest


def _duplicate_tables(parts: list[_Part], rename: dict, found: list[pd.DataFrame]) -> None:
    """More than one file of a table for one authority and year: the later files' rows of
    that year are left out and reported."""
    seen: dict[tuple[str, str, int], str] = {}
    for part in parts:
        if part.source.table == "uasc":
            continue
        authority = pd.Series(validation.mapped(part.labels, rename, ""), index=part.labels.index)
        for when in sorted(part.years.dropna().unique()):
            rows = (part.years == when).to_numpy()
            for who in sorted(authority[rows].unique()):
                key = (part.source.table, who, int(when))
                if key in seen and seen[key] != part.source.label:
                    found.append(
                        validation.structural(
                            "duplicate_table",
                            f"{year_label(int(when))}: more than one {part.source.table} "
                            f"table ({seen[key]}, {part.source.label})",
                            table=part.source.table,
                            file=part.source.label,
                            authority=who or None,
                            year=int(when),
                        )
                    )
                    drop = rows & (authority == who).to_numpy()
                    part.years[drop] = np.nan
                else:
                    seen.setdefault(key, part.source.label)


def _problems(found: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [f for f in found if len(f)]
    if not kept:
        return validation.no_problems()
    out = pd.concat(kept, ignore_index=True)
    out["authority"] = out["authority"].where(out["authority"].notna() & (out["authority"] != ""))
    # file by file, whole-table problems first, then row by row
    order = out.assign(_file=out["file"].fillna("\uffff"), _row=out["row"].fillna(0))
    order = order.sort_values(["_file", "_row"], kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _drop(combined: dict[str, pd.DataFrame], problems: pd.DataFrame):
    """Leave out the rows with problems, and every record of a child whose header has one;
    count what was left out by authority and year."""
    located = problems.dropna(subset=["row"])
    header = combined["header"]
    bad_header = located[located["table"] == "header"][["file", "row"]]
    rows = _located(header, bad_header.drop_duplicates())
    children = header.loc[rows, ["authority", "CHILD"]].dropna().drop_duplicates()
    ledger = []
    out = {}
    for table, frame in combined.items():
        marked = located[located["table"] == table][["file", "row"]].drop_duplicates()
        hit = _located(frame, marked)
        of_child = _of_children(frame, children)
        drop = hit | of_child
        left_out = frame.loc[drop]
        for (who, when), count in left_out.groupby(["authority", "YEAR"]).size().items():
            ledger.append(
                (who, int(when), f"{table} rows left out for problems (errors='drop')", int(count))
            )
        out[table] = frame.loc[~drop].reset_index(drop=True)
    return out, _ledger(ledger)


def _located(frame: pd.DataFrame, marked: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``frame`` (its ``_file`` and ``_row``) is one of the rows
    ``marked`` (``file`` and ``row``, distinct) names."""
    if not len(frame) or not len(marked):
        return np.zeros(len(frame), dtype=bool)
    if frame["_file"].isna().any() or marked["file"].isna().any():
        return (
            frame.merge(
                marked.rename(columns={"file": "_file", "row": "_row"}),
                on=["_file", "_row"],
                how="left",
                indicator=True,
            )["_merge"]
            .eq("both")
            .to_numpy()
        )
    # each file as an integer, then (file, row) as one integer
    codes, files = pd.factorize(frame["_file"])
    number = {name: i for i, name in enumerate(np.asarray(files, dtype=object))}
    at = np.array([number.get(name, -1) for name in marked["file"]], dtype=np.int64)
    rows = marked["row"].to_numpy(dtype=np.int64)
    width = int(max(frame["_row"].max(), rows.max())) + 1
    known = (at * width + rows)[at >= 0]
    return np.isin(codes.astype(np.int64) * width + frame["_row"].to_numpy(np.int64), known)


def _of_children(frame: pd.DataFrame, children: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``frame`` is of one of ``children`` (``authority`` and
    ``CHILD``, distinct and not missing)."""
    out = np.zeros(len(frame), dtype=bool)
    if not len(frame) or not len(children):
        return out
    # the rows whose CHILD is one of theirs, then the authority too
    maybe = np.flatnonzero(frame["CHILD"].isin(children["CHILD"]).to_numpy(dtype=bool))
    pairs = set(zip(children["authority"], children["CHILD"], strict=True))
    who = frame["authority"].to_numpy(dtype=object)[maybe]
    child = frame["CHILD"].to_numpy(dtype=object)[maybe]
    out[maybe] = [pair in pairs for pair in zip(who, child, strict=True)]
    return out


def _empty(table: TableSpec) -> pd.DataFrame:
    columns = [*table.required, *table.optional, "authority", "YEAR", "_file", "_row"]
    frame = pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    for c in table.dates:
        if c in frame:
            frame[c] = pd.Series(dtype="datetime64[ns]")
    frame["YEAR"] = pd.Series(dtype="int64")
    frame["_row"] = pd.Series(dtype="int64")
    if "PL_DISTANCE" in frame:
        frame["PL_DISTANCE"] = pd.Series(dtype=float)
    return frame
