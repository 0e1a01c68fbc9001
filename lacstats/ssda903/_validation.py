"""Checking SSDA903 tables cell by cell and across tables, listing every problem.

Each check is a rule with a name (:data:`RULES`). A check never stops at the first bad
cell: it returns the typed table and one problem per offending cell, so a return with
dozens of coding errors is reported in one pass, the way an analyst sends it back to the
data team. :func:`lacstats.ssda903.read` decides what to do with them (raise, report or
leave the offending rows out).

Problems are rows of a table with the columns of :data:`PROBLEM_COLUMNS`: the authority,
table, file, collection year, data row (1 = the first row under the header), column,
value as written, rule and a message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lacstats.errors import MAX_ROWS_SHOWN
from lacstats.ssda903._codes import (
    NO_PROVIDER,
    ReturnError,
    TableSpec,
    year_ends,
    year_label,
)

__all__ = [
    "DATE_FORMATS",
    "PROBLEM_COLUMNS",
    "RULES",
    "check_consistency",
    "check_table",
    "detect_date_format",
    "no_problems",
    "problem_error",
]

#: Every rule, by name, with what it finds.
RULES: dict[str, str] = {
    "missing_table": "no Header or no Episodes table: the return cannot be used",
    "missing_column": "a required column is missing: the table cannot be read",
    "duplicate_table": "more than one table of a kind for one authority and year",
    "undated": "the collection year of a group of files cannot be told",
    "year": "a YEAR cell that names no collection year",
    "blank": "a cell the specification requires is blank",
    "date_format": "not a date in the format of the file's dates (dd/mm/yyyy or yyyy-mm-dd)",
    "code": "not a code of that year's code list",
    "date_out_of_range": "a start or birth date after the end of its return's collection "
    "year, or a birth date that makes the child over 25 at its start",
    "dec_before_decom": "an episode ending (DEC) before it starts (DECOM)",
    "distance": "a PL_DISTANCE that is not a distance in miles (0 to 999.9)",
    "provider_blank": "PLACE_PROVIDER blank for a placement that has a provider",
    "episode_without_header": "an episode of a child with no header record in any year",
    "uasc_without_header": "a UASC record of a child with no header record in any year",
    "header_conflict": "two header records of one child in one return that disagree",
    "dob_after_start": "a date of birth after the start of one of the child's episodes",
}

#: The columns of a list of problems (``Return.errors``).
PROBLEM_COLUMNS = (
    "authority",
    "table",
    "file",
    "year",
    "row",
    "column",
    "value",
    "rule",
    "message",
)

#: The date formats a file may use; the specification's first.
DATE_FORMATS = ("dd/mm/yyyy", "yyyy-mm-dd")
_PATTERNS = {
    "dd/mm/yyyy": r"\d{1,2}/\d{1,2}/\d{4}",
    "yyyy-mm-dd": r"\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00(?:\.0+)?)?)?",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in _PATTERNS.items()}
#: The longest distance PL_DISTANCE may hold: 999.9 means the postcode is unknown or
#: outside England.
MAX_DISTANCE = 999.9


def no_problems() -> pd.DataFrame:
    """An empty problems table. Columns: ``authority``, ``table``, ``file``, ``year`` and
    ``row`` (whole numbers), ``column``, ``value``, ``rule`` and ``message``, as
    :data:`PROBLEM_COLUMNS` lists them.

    Examples
    --------
    >>> from lacstats.ssda903 import no_problems
    >>> no_problems().columns.tolist()
    ['authority', 'table', 'file', 'year', 'row', 'column', 'value', 'rule', 'message']
    """
    return pd.DataFrame(
        {c: pd.Series(dtype="Int64" if c in ("year", "row") else object) for c in PROBLEM_COLUMNS}
    )


def problems_at(
    meta: pd.DataFrame, mask: Any, column: str, rule: str, message: Any, values: Any
) -> pd.DataFrame:
    """Problems at the rows of ``meta`` (with ``authority``, ``_table``, ``_file``,
    ``YEAR``, ``_row``) where ``mask`` is true; ``message`` and ``values`` are a value or
    aligned with the rows."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return no_problems()

    def pick(x: Any) -> Any:
        if isinstance(x, pd.Series):
            return x.to_numpy(dtype=object)[mask]
        if isinstance(x, np.ndarray):
            return x[mask]
        return x

    chosen = meta.loc[mask]
    return pd.DataFrame(
        {
            "authority": chosen["authority"].to_numpy(dtype=object),
            "table": np.asarray(chosen["_table"], dtype=object),
            "file": np.asarray(chosen["_file"], dtype=object),
            "year": chosen["YEAR"].astype("Int64").to_numpy(),
            "row": chosen["_row"].astype("Int64").to_numpy(),
            "column": column,
            "value": pick(values),
            "rule": rule,
            "message": pick(message),
        }
    )


def structural(
    rule: str,
    message: str,
    *,
    table: str | None = None,
    file: str | None = None,
    authority: str | None = None,
    year: int | None = None,
    column: str | None = None,
) -> pd.DataFrame:
    """A problem with a whole table or group of files (no row)."""
    return pd.DataFrame(
        {
            "authority": [authority],
            "table": [table],
            "file": [file],
            "year": pd.array([year], dtype="Int64"),
            "row": pd.array([None], dtype="Int64"),
            "column": [column],
            "value": [None],
            "rule": [rule],
            "message": [message],
        }
    )


def _factorized(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 for missing) and the distinct values: a column of a large return holds
    few distinct dates or codes, so each is checked once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=str)


def mapped(values: pd.Series, mapping: dict[Any, Any], missing: Any = None) -> np.ndarray:
    """``values`` looked up in ``mapping`` (each distinct value once); ``missing`` where
    a value is missing or not in the mapping."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = np.array([mapping.get(u, missing) for u in uniques] + [missing], dtype=object)
    return found[codes]


def blank_text(index: pd.Index) -> pd.Series:
    """A column of missing text (a column the return leaves out)."""
    return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype=str), index=index)


def _spread(codes: np.ndarray, per_unique: np.ndarray, missing: Any) -> np.ndarray:
    """The values for the distinct values ``per_unique`` back on the rows."""
    return np.append(per_unique, np.array([missing], dtype=per_unique.dtype))[codes]


def detect_date_format(texts: Sequence[pd.Series]) -> str | None:
    """The date format of a file: the one most of its written dates follow (the
    specification's dd/mm/yyyy on a tie); ``None`` when it writes no dates as text.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.ssda903 import detect_date_format
    >>> detect_date_format([pd.Series(["01/05/2019", "2019-06-01", "03/09/2019"])])
    'dd/mm/yyyy'
    >>> detect_date_format([pd.Series(["2019-05-01"])])
    'yyyy-mm-dd'
    """
    counts = dict.fromkeys(DATE_FORMATS, 0)
    for values in texts:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        written = _ascii_texts(uniques)
        if written is not None:
            # ASCII text: each distinct text matched once, by Python's re (the same
            # matches as pandas' for these patterns)
            tally = np.bincount(codes[codes >= 0], minlength=len(written))
            for name in DATE_FORMATS:
                match = _COMPILED[name].fullmatch
                counts[name] += int(tally[[match(t) is not None for t in written]].sum())
            continue
        tally = values.value_counts()
        if tally.empty:
            continue
        written = pd.Series(tally.index.to_numpy(dtype=object), dtype=str)
        for name, pattern in _PATTERNS.items():
            counts[name] += int(tally.to_numpy()[written.str.fullmatch(pattern).to_numpy()].sum())
    if not any(counts.values()):
        return None
    return max(DATE_FORMATS, key=lambda name: (counts[name], name == DATE_FORMATS[0]))


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Text dates in format ``fmt`` as datetimes; anything else is NaT."""
    if fmt is None:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    written = _ascii_texts(distinct)
    if written is not None:
        match = _COMPILED[fmt].fullmatch
        texts = np.array([t if match(t) is not None else None for t in written], dtype=object)
        fast = _calendar_dates(texts, fmt)
        if fast is not None:
            dates = _spread(codes, fast, np.datetime64("NaT", "ns"))
            return pd.Series(dates, index=values.index, dtype="datetime64[ns]")
    codes, uniques = _factorized(values)
    ok = uniques.str.fullmatch(_PATTERNS[fmt]).fillna(False).astype(bool)
    text = uniques.where(ok)
    fast = _calendar_dates(text.to_numpy(dtype=object), fmt)
    if fast is not None:
        dates = _spread(codes, fast, np.datetime64("NaT", "ns"))
        return pd.Series(dates, index=values.index, dtype="datetime64[ns]")
    if fmt == "yyyy-mm-dd":
        parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    # a year outside 1678-2261 (a slip such as 2999) is no date the return can hold: NaT,
    # reported as a bad date, not an overflow converting to nanoseconds
    parsed = parsed.where((parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max))
    dates = _spread(codes, parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(dates, index=values.index, dtype="datetime64[ns]")


def _ascii_texts(uniques: Any) -> list[str] | None:
    """Distinct values as a list of ASCII texts; ``None`` when one is not."""
    written = np.asarray(uniques, dtype=object).tolist()
    if all(isinstance(t, str) and t.isascii() for t in written):
        return written
    return None


def _calendar_dates(texts: np.ndarray, fmt: str) -> np.ndarray | None:
    """Dates written in ``fmt`` (each text matching its pattern, or missing) as
    ``datetime64[ns]``, from their digits: what ``pandas.to_datetime`` with the format
    gives (an impossible day or month is NaT); ``None`` when a year falls outside
    1678-2261 or a text is not ASCII, left to ``pandas.to_datetime``."""
    written = [t for t in texts if isinstance(t, str)]
    if not all(t.isascii() for t in written):
        return None  # digits of other scripts: as pandas reads them
    if fmt == "dd/mm/yyyy":
        fields = [t.split("/") for t in written]
        day = np.array([int(f[0]) for f in fields], dtype=np.int64)
        month = np.array([int(f[1]) for f in fields], dtype=np.int64)
        year = np.array([int(f[2]) for f in fields], dtype=np.int64)
    else:
        year = np.array([int(t[0:4]) for t in written], dtype=np.int64)
        month = np.array([int(t[5:7]) for t in written], dtype=np.int64)
        day = np.array([int(t[8:10]) for t in written], dtype=np.int64)
    if len(year) and (year.min() < 1678 or year.max() > 2261):
        return None
    valid = (month >= 1) & (month <= 12) & (day >= 1)
    months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(
        np.int64
    )
    valid &= day <= length
    found = (first + np.where(valid, day - 1, 0)).astype("datetime64[ns]")
    found[~valid] = np.datetime64("NaT", "ns")
    out = np.full(len(texts), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    out[[isinstance(t, str) for t in texts]] = found
    return out


def _label(file: Any, year: Any) -> str:
    name = "" if file is None or (not isinstance(file, str) and pd.isna(file)) else f" {file}"
    return f"{name} ({year_label(int(year))})" if pd.notna(year) else name


def check_table(
    cells: pd.DataFrame,
    stamps: dict[str, pd.Series],
    table: TableSpec,
    meta: pd.DataFrame,
    fmt: str | None,
    codes: dict[str, dict[str, dict[str, Any]]],
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The typed table and the problems of its cells.

    ``cells`` holds the cells written as text (missing where blank or already a date),
    ``stamps`` the cells that were dates already (from a workbook or a frame), ``meta``
    each row's authority, table, file, year and row number, ``fmt`` the file's date format.
    Dates become datetimes, PL_DISTANCE a number; a cell that fails a check is missing in
    the typed table.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> from lacstats.ssda903 import check_table
    >>> cells = pd.DataFrame({"CHILD": ["101", "102"], "SEX": ["1", "3"], "DOB": ["01/06/2008", "31/02/2010"], "ETHNIC": ["WBRI", "AIND"]})
    >>> meta = pd.DataFrame({"authority": "Kent", "_table": "header", "_file": "2020-header.csv", "YEAR": 2020, "_row": [1, 2]})
    >>> typed, problems = check_table(cells, {}, ssda903.TABLES["header"], meta, "dd/mm/yyyy", ssda903.code_lists())
    >>> typed["DOB"].tolist()
    [Timestamp('2008-06-01 00:00:00'), NaT]
    >>> pd.concat(problems)[["row", "column", "value", "rule"]]
       row column       value         rule
    0    2    SEX           3         code
    0    2    DOB  31/02/2010  date_format
    """
    found: list[pd.DataFrame] = []
    out = pd.DataFrame(index=cells.index)
    years = meta["YEAR"].to_numpy(dtype=float)
    for column in (*table.required, *table.optional):
        values = cells[column].astype(str) if column in cells else blank_text(cells.index)
        stamp = stamps.get(column)
        blank = values.isna() & (stamp.isna() if stamp is not None else True)
        if column in table.not_blank and blank.any():
            found.append(
                problems_at(
                    meta,
                    blank,
                    column,
                    "blank",
                    "blank, but the specification requires a value",
                    values,
                )
            )
        if column in table.dates:
            parsed = parse_dates(values, fmt)
            bad = values.notna() & parsed.isna()
            if bad.any():
                written = fmt or "dd/mm/yyyy"
                found.append(
                    problems_at(
                        meta,
                        bad,
                        column,
                        "date_format",
                        f"not a date in the format {written}, the format of this file's dates",
                        values,
                    )
                )
            if stamp is not None:
                parsed = parsed.fillna(stamp)
            out[column] = parsed
        elif column in table.codes:
            if column == "SEX":
                values = values.str.replace(r"\.0$", "", regex=True)
            found.extend(_check_codes(values, column, years, codes, meta))
            out[column] = values
        else:
            if column == "CHILD":
                values = values.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
            out[column] = values
    if table.name == "episodes":
        found.extend(_episode_rules(out, cells, meta))
    found.extend(_out_of_range(out, table, meta, fmt))
    return out, found


def _check_codes(values, column, years, codes, meta) -> list[pd.DataFrame]:
    listed = codes.get(column)
    if not listed:
        return []
    codes, uniques = _factorized(values)
    spec = [listed.get(u) for u in uniques]
    first = _spread(
        codes, np.array([np.nan if x is None else x.get("from", 0) for x in spec], float), 0.0
    )
    last = _spread(
        codes, np.array([np.nan if x is None else x.get("until", 9999) for x in spec], float), 0
    )
    present = codes >= 0
    known = ~np.isnan(first)
    bad = present & (~known | (years < first) | (years > last))
    if not bad.any():
        return []
    messages = np.empty(len(values), dtype=object)
    for value, year in set(zip(values[bad], years[bad], strict=True)):
        spec = listed.get(value)
        year = int(year)
        if spec is None:
            why = f"{value!r} is not a {column} code"
        elif "from" in spec and year < spec["from"]:
            why = f"{value!r} is valid from {year_label(spec['from'])}"
        else:
            why = f"{value!r} was retired after {year_label(spec['until'])}"
        where = bad & (values == value).to_numpy() & (years == year)
        messages[where] = f"{why}; checked against the {year_label(year)} code list"
    return [problems_at(meta, bad, column, "code", messages, values)]


def _episode_rules(out: pd.DataFrame, cells: pd.DataFrame, meta: pd.DataFrame):
    found = []
    early = (out["DEC"] < out["DECOM"]).fillna(False).to_numpy(dtype=bool)
    if early.any():
        found.append(
            problems_at(
                meta,
                early,
                "DEC",
                "dec_before_decom",
                "DEC (date episode ceased) is before DECOM",
                _written(out["DEC"], cells, "DEC"),
            )
        )
    text = out["PL_DISTANCE"]
    distance = pd.to_numeric(text, errors="coerce")
    bad = (text.notna() & (distance.isna() | (distance < 0) | (distance > MAX_DISTANCE))).to_numpy(
        dtype=bool
    )
    if bad.any():
        found.append(
            problems_at(
                meta,
                bad,
                "PL_DISTANCE",
                "distance",
                f"not a distance: a number of miles from 0 to {MAX_DISTANCE} "
                f"({MAX_DISTANCE} when the postcode is unknown)",
                text,
            )
        )
    out["PL_DISTANCE"] = distance.where(~bad)
    place = out["PLACE"]
    blank = (
        place.notna() & out["PLACE_PROVIDER"].isna() & ~place.isin(sorted(NO_PROVIDER))
    ).to_numpy(dtype=bool)
    if blank.any():
        found.append(
            problems_at(
                meta,
                blank,
                "PLACE_PROVIDER",
                "provider_blank",
                "blank, but placement " + place.astype(object).fillna("") + " has a provider "
                "(only T0-T4 and Z1, Z11-Z14 are recorded without one)",
                out["PLACE_PROVIDER"],
            )
        )
    return found


def _written(dates: pd.Series, cells: pd.DataFrame, column: str) -> pd.Series:
    if column in cells:
        return cells[column].astype(object).where(cells[column].notna(), dates.astype(object))
    return dates.astype(object)


def _out_of_range(out: pd.DataFrame, table: TableSpec, meta: pd.DataFrame, fmt) -> list:
    found = []
    ends = year_ends(meta["YEAR"])
    # no child of a return is over 25 at the start of its collection year (the DfE's
    # rule 351): a DOB before that is a typing error, such as 01/01/1900
    earliest = year_ends(meta["YEAR"] - OLDEST - 1) + pd.Timedelta(days=1)
    for column in ("DECOM", "DOB"):
        if column not in out or column not in table.dates:
            continue
        late = (out[column] > ends).fillna(False).to_numpy(dtype=bool)
        early = np.zeros(len(out), dtype=bool)
        if column == "DOB":
            early = (out[column] < earliest).fillna(False).to_numpy(dtype=bool)
        if not (late.any() or early.any()):
            continue
        # the dates and messages written for the flagged rows only
        written = _formatted(out[column], late | early, "%Y-%m-%d")
        if late.any():
            found.append(
                problems_at(
                    meta,
                    late,
                    column,
                    "date_out_of_range",
                    "after the end of the collection year, "
                    + _formatted(ends, late, "%d/%m/%Y")
                    + "; the return is dated from its other rows",
                    written,
                )
            )
        if early.any():
            found.append(
                problems_at(
                    meta,
                    early,
                    column,
                    "date_out_of_range",
                    "before "
                    + _formatted(earliest, early, "%d/%m/%Y")
                    + f": the child would be over {OLDEST} at the start of the collection year",
                    written,
                )
            )
        if late.any() or early.any():
            # the date as written, for the DfE's rules (which judge it themselves)
            out[f"_{column}{UNCHECKED}"] = out[column]
            out.loc[late | early, column] = pd.NaT
    return found


def _formatted(dates: pd.Series, rows: np.ndarray, fmt: str) -> pd.Series:
    """``dates`` written with ``fmt`` (as ``Series.dt.strftime``, as objects) at ``rows``;
    missing elsewhere (the rows a problem is not reported on)."""
    out = np.full(len(dates), np.nan, dtype=object)
    out[rows] = dates[rows].dt.strftime(fmt).astype(object).to_numpy()
    return pd.Series(out, index=dates.index, dtype=object)


#: The oldest a child of a return can be at the start of its collection year (a care
#: leaver's return runs to 25): an older date of birth is out of range.
OLDEST = 25


#: The suffix of the columns that keep a date out of range as written, until the DfE's
#: rules have seen it (dropped from the tables a read returns).
UNCHECKED = "_as_written"


def _return_keys(*frames: pd.DataFrame) -> list[np.ndarray]:
    """One integer per authority, year and CHILD, the same across the tables given."""
    both = [pd.concat([f[c] for f in frames], ignore_index=True) for c in ("authority", "CHILD")]
    who, _ = pd.factorize(both[0].astype(str), use_na_sentinel=True)
    child, uniques = pd.factorize(both[1], use_na_sentinel=True)
    years = np.concatenate([f["YEAR"].to_numpy(dtype=np.int64) for f in frames])
    key = ((who.astype(np.int64) + 1) * 10_000 + years) * (len(uniques) + 1) + child + 1
    key[child < 0] = -1
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    return [key[a:b] for a, b in itertools.pairwise(bounds)]


def _member(keys: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Whether each key is in ``known`` (sorted)."""
    if not len(known):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return known[at] == keys


def _child_keys(*frames: pd.DataFrame) -> list[np.ndarray]:
    """One integer per authority and CHILD, the same across the tables given (-1 for a
    blank CHILD)."""
    both = [pd.concat([f[c] for f in frames], ignore_index=True) for c in ("authority", "CHILD")]
    who, _ = pd.factorize(both[0].astype(str), use_na_sentinel=True)
    child, uniques = pd.factorize(both[1], use_na_sentinel=True)
    key = (who.astype(np.int64) + 1) * (len(uniques) + 1) + child + 1
    key[child < 0] = -1
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    return [key[a:b] for a, b in itertools.pairwise(bounds)]


def header_rows(header: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """For each row of ``rows`` (a table with ``authority``, ``CHILD`` and ``YEAR``), the
    position in ``header`` of the child's header record it goes with: the latest return's
    that does not follow the row's, else the earliest later one; -1 when the child has
    no header record in any year of the extract.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.ssda903._validation import header_rows
    >>> header = pd.DataFrame({"authority": "Kent", "CHILD": ["1", "1", "2"], "YEAR": [2019, 2021, 2021]})
    >>> rows = pd.DataFrame({"authority": "Kent", "CHILD": ["1", "1", "1", "2", "3"], "YEAR": [2018, 2020, 2022, 2019, 2020]})
    >>> header_rows(header, rows).tolist()
    [0, 0, 1, 2, -1]
    """
    heads, keys = _child_keys(header, rows)
    out = np.full(len(rows), -1, dtype=np.int64)
    if not len(header) or not len(rows):
        return out
    left = pd.DataFrame(
        {"key": keys, "YEAR": rows["YEAR"].to_numpy(dtype=np.int64), "at": np.arange(len(rows))}
    )
    right = pd.DataFrame(
        {
            "key": heads,
            "YEAR": header["YEAR"].to_numpy(dtype=np.int64),
            "row": np.arange(len(header)),
        }
    )
    left = left[left["key"] >= 0].sort_values("YEAR", kind="stable")
    right = right[right["key"] >= 0].sort_values(["YEAR", "row"], kind="stable")
    for direction in ("backward", "forward"):
        if left.empty:
            break
        found = pd.merge_asof(
            left, right, on="YEAR", by="key", direction=direction, allow_exact_matches=True
        )
        hit = found["row"].notna().to_numpy()
        out[found["at"].to_numpy()[hit]] = found["row"].to_numpy()[hit].astype(np.int64)
        left = left[~np.isin(left["at"].to_numpy(), found["at"].to_numpy()[hit])]
    return out


def check_consistency(
    header: pd.DataFrame, episodes: pd.DataFrame, uasc: pd.DataFrame
) -> list[pd.DataFrame]:
    """Rules across tables: episodes and UASC records of children with no header record
    in any year of the returns read (a child's header is looked up across the years: the
    latest return's that does not follow the record's, else any), header records of one
    child in one return that disagree, and dates of birth after an episode starts.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.ssda903 import check_consistency
    >>> def meta(frame):
    ...     return frame.assign(authority="Kent", YEAR=2020, _file="2020.csv", _row=range(1, len(frame) + 1))
    ...
    >>> header = meta(pd.DataFrame({"CHILD": ["101"], "DOB": pd.to_datetime(["2008-06-01"]), "SEX": ["1"]}))
    >>> episodes = meta(pd.DataFrame({"CHILD": ["101", "999"], "DECOM": pd.to_datetime(["2019-05-01", "2019-09-03"])}))
    >>> found = check_consistency(header, episodes, meta(pd.DataFrame({"CHILD": pd.Series([], dtype=str)})))
    >>> pd.concat(found)[["row", "column", "value", "rule"]]
       row column value                    rule
    0    2  CHILD   999  episode_without_header
    """
    found = []
    uses = {"episodes": header_rows(header, episodes), "uasc": header_rows(header, uasc)}
    checks = (
        ("episodes", episodes, "episode_without_header", "child has no record in the "),
        ("uasc", uasc, "uasc_without_header", "UASC child has no record in the "),
    )
    for name, frame, rule, who in checks:
        orphan = (uses[name] < 0) & frame["CHILD"].notna().to_numpy()
        if orphan.any():
            why = who + "header table of any year"
            found.append(
                problems_at(_meta(frame, name), orphan, "CHILD", rule, why, frame["CHILD"])
            )
    if header.empty:
        return found
    heads, _ = _return_keys(header, header.iloc[:0])
    records = pd.DataFrame({"key": heads, "SEX": header["SEX"], "DOB": header["DOB"]})
    distinct = records[heads >= 0].drop_duplicates()
    clash = np.sort(distinct.loc[distinct["key"].duplicated(keep=False), "key"].to_numpy())
    if len(clash):
        mask = _member(heads, clash)
        found.append(
            problems_at(
                _meta(header, "header"),
                mask,
                "CHILD",
                "header_conflict",
                "the child has two header records in this return that disagree on SEX or DOB",
                header["CHILD"],
            )
        )
    used = uses["episodes"]
    if not episodes.empty and (used >= 0).any():
        # each header record against the earliest episode that goes with it
        with_head = np.flatnonzero(used >= 0)
        order = with_head[np.argsort(episodes["DECOM"].to_numpy()[with_head], kind="stable")]
        firsts = pd.Series(order, index=used[order])
        firsts = firsts[~firsts.index.duplicated(keep="first")]
        at = firsts.reindex(np.arange(len(header))).to_numpy()
        has = ~np.isnan(at)
        rows = np.where(has, at, 0).astype(np.int64)
        decom = episodes["DECOM"].to_numpy()[rows]
        late = has & (header["DOB"].to_numpy() > decom)
        if late.any():
            started = pd.Series(decom, index=header.index)
            message = (
                "DOB is after the start of the child's episode (DECOM "
                + started.dt.strftime("%d/%m/%Y").astype(object)
                + ", row "
                + pd.Series(episodes["_row"].to_numpy()[rows], index=header.index)
                .astype(str)
                .astype(object)
                + " of "
                + pd.Series(episodes["_file"].to_numpy()[rows], index=header.index).astype(object)
                + ")"
            )
            found.append(
                problems_at(
                    _meta(header, "header"),
                    late,
                    "DOB",
                    "dob_after_start",
                    message,
                    header["DOB"].dt.strftime("%Y-%m-%d"),
                )
            )
    return found


def _meta(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "authority": frame["authority"],
            "_table": table,
            "_file": frame["_file"],
            "YEAR": frame["YEAR"],
            "_row": frame["_row"],
        },
        index=frame.index,
    )


#: How many lines a raised error lists before pointing to errors="report".
MAX_LINES = 40


def problem_error(problems: pd.DataFrame) -> ReturnError:
    """One error listing every problem: a line per file, column and message with the first
    rows and values; the whole table as ``.problems``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.ssda903 import PROBLEM_COLUMNS, problem_error
    >>> problems = pd.DataFrame([["Kent", "episodes", "2020-episodes.csv", 2020, 4, "PLACE", "ZZ", "code", "not a PLACE code of 2019-20"]], columns=PROBLEM_COLUMNS)
    >>> error = problem_error(problems)
    >>> print(str(error).splitlines()[0])
    Kent: episodes table 2020-episodes.csv (2019-20), column 'PLACE': not a PLACE code of 2019-20 (row 4: 'ZZ')
    >>> len(error.problems)
    1
    """
    keys = ["authority", "table", "file", "year", "column", "rule", "message"]
    ordered = problems.reset_index(drop=True)
    groups = ordered.groupby(
        [ordered[k].astype(object).fillna("") for k in keys], sort=False, dropna=False
    )
    lines = []
    first = None
    for _, group in groups:
        head = group.iloc[0]
        rows = [int(r) for r in group["row"].dropna()]
        values = list(group["value"])
        where = f"{head['table']} table{_label(head['file'], head['year'])}"
        if head["authority"] not in (None, "") and pd.notna(head["authority"]):
            where = f"{head['authority']}: {where}"
        column = f", column {head['column']!r}" if head["column"] else ""
        text = f"{where}{column}: {head['message']}"
        if rows:
            shown = "; ".join(
                f"row {r}: {v!r}" for r, v in zip(rows[:MAX_ROWS_SHOWN], values, strict=False)
            )
            more = len(rows) - min(len(rows), MAX_ROWS_SHOWN)
            text += f" ({shown}{f'; and {more} more' if more > 0 else ''})"
        lines.append(text)
        if first is None:
            first = (head, rows, values)
    assert first is not None
    head, rows, values = first
    if len(lines) == 1:
        message = lines[0]
    else:
        shown = lines[:MAX_LINES]
        message = (
            f"{len(problems)} problem(s) in {len(lines)} place(s) of the SSDA903 returns "
            "read:\n  " + "\n  ".join(shown)
        )
        if len(lines) > MAX_LINES:
            message += (
                f"\n  and {len(lines) - MAX_LINES} more; read with errors='report' for the "
                "full list"
            )
    return ReturnError(
        message,
        table=head["table"],
        file=head["file"],
        column=head["column"],
        rows=rows[:MAX_ROWS_SHOWN],
        values=[v.item() if isinstance(v, np.generic) else v for v in values[:MAX_ROWS_SHOWN]],
        n_bad=len(rows),
        problems=problems.reset_index(drop=True),
        listed=True,
    )
