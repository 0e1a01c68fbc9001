"""Reading SSDA903 returns: CSV, XLSX or the XML upload, validated against each year's codes.

A return's year is read from its file name's first four-digit year when
``year_from="start"`` (the convention of the synthetic returns in ``fake903``:
``2017-episodes.csv`` is 2017-18) or ``"end"``; by default it is inferred from the data:
the first 31 March on or after the latest DECOM.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError
from lacstats.io import read_table
from lacstats.ssda903.codes import (
    TABLES,
    ReturnError,
    TableSpec,
    code_lists,
    year_end,
    year_label,
)

__all__ = ["Return", "from_frames", "read"]

#: XML element names that differ from the CSV column names.
XML_NAMES = {"CHILDID": "CHILD", "PL": "PLACE"}


@dataclass(frozen=True)
class Return:
    """One or more years of a return, validated. Each table has a ``YEAR`` column (the
    collection's end year) and the ``_file`` and ``_row`` each record came from."""

    header: pd.DataFrame
    episodes: pd.DataFrame
    uasc: pd.DataFrame
    files: pd.DataFrame
    skipped: tuple[str, ...] = ()

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.files["year"].unique())

    def summary(self) -> str:
        return (
            f"SSDA903 return, {len(self.years)} year(s) "
            f"{', '.join(year_label(y) for y in self.years)}: "
            f"{self.header['CHILD'].nunique()} children, {len(self.episodes)} episodes"
            + (f"; skipped {len(self.skipped)} file(s) of other tables" if self.skipped else "")
        )


def _files(path: str | Path | Iterable[str | Path]) -> list[Path]:
    given = [path] if isinstance(path, (str, Path)) else list(path)
    out: list[Path] = []
    for item in map(Path, given):
        if item.is_dir():
            found = sorted(
                f for f in item.iterdir() if f.suffix.lower() in (".csv", ".xlsx", ".xml")
            )
            if not found:
                raise ReturnError(f"no CSV, XLSX or XML files in {item}", column="path")
            out.extend(found)
        elif item.is_file():
            out.append(item)
        else:
            raise ReturnError(f"no such file: {item}", column="path", file=str(item))
    return out


def _year_token(name: str) -> int | None:
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", name)
    return int(match.group(1)) if match else None


def _identify(columns: Sequence[str], name: str) -> str | None:
    present = set(columns)
    lower = name.lower()
    for table in ("episodes", "header", "uasc"):
        if table in lower and set(TABLES[table].required) <= present:
            return table
    for table in ("episodes", "header", "uasc"):
        if set(TABLES[table].required) <= present:
            return table
    for table in ("episodes", "header", "uasc"):
        if table in lower:
            missing = [c for c in TABLES[table].required if c not in present]
            raise ReturnError(
                f"{table} table {name}: missing column(s) {', '.join(missing)}; "
                f"present: {', '.join(columns)}",
                table=table,
                file=name,
                column=missing[0],
            )
    return None


def _read_tabular(path: Path) -> list[tuple[str, pd.DataFrame]]:
    # the one front door (lacstats.io): undecodable, ragged or damaged files are DataErrors
    out = []
    for sheet in read_table(path, all_sheets=True):
        if path.suffix.lower() == ".csv":
            frame = sheet.frame.replace("", np.nan)
            name = path.name
        else:
            frame = sheet.frame.copy()
            for column in frame.columns:
                frame[column] = [_cell_text(v) for v in frame[column]]
            name = f"{path.name}[{sheet.sheet}]"
        out.append((name, frame))
    return out


def _cell_text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, pd.Timestamp) or hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xml(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """The XML upload: one element per child (tag ``CHILD``) holding the header items as
    leaves (``CHILDID`` for CHILD, possibly grouped, e.g. under ``HEADER``), and one
    ``EPISODE`` element per episode (``PL`` for PLACE). UASC items (``DUC``) sit with the
    header. Dates are ISO (``yyyy-mm-dd``)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ReturnError(f"{path.name}: not well-formed XML ({err})", file=path.name) from err
    headers: list[dict[str, str]] = []
    episodes: list[dict[str, str]] = []
    for child in root.iter("CHILD"):
        if len(child) == 0:
            continue
        record: dict[str, str] = {}
        child_episodes = []
        stack = list(child)
        while stack:
            element = stack.pop(0)
            if element.tag == "EPISODE":
                child_episodes.append(
                    {XML_NAMES.get(e.tag, e.tag): (e.text or "").strip() for e in element}
                )
            elif len(element):
                stack.extend(list(element))
            else:
                record[XML_NAMES.get(element.tag, element.tag)] = (element.text or "").strip()
        headers.append(record)
        for episode in child_episodes:
            episodes.append({"CHILD": record.get("CHILD", ""), **episode})
    if not headers:
        raise ReturnError(f"{path.name}: no CHILD elements", file=path.name)
    out = [(f"{path.name}[header]", pd.DataFrame(headers).replace("", np.nan))]
    if episodes:
        out.append((f"{path.name}[episodes]", pd.DataFrame(episodes).replace("", np.nan)))
    return out


def _parse_dates(values: pd.Series, iso: bool) -> pd.Series:
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    if iso:
        again = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        parsed = parsed.fillna(again)
    return parsed.astype("datetime64[ns]")


def _validate(
    frame: pd.DataFrame,
    table: TableSpec,
    name: str,
    year: int,
    codes: dict[str, dict[str, dict[str, Any]]],
    iso: bool,
) -> pd.DataFrame:
    def fail(message: str, column: str, mask: Any, values: pd.Series) -> None:
        base = DataError.at("", column, mask, values)
        raise ReturnError(
            f"{table.name} table {name} ({year_label(year)}), column {column!r}: {message}",
            table=table.name,
            file=name,
            column=column,
            rows=base.rows,
            values=base.values,
            n_bad=base.n_bad,
        )

    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in (*table.required, *table.optional):
        if column not in frame.columns:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        values = frame[column].astype("string").str.strip().replace("", pd.NA)
        if column in table.not_blank and values.isna().any():
            fail(
                "blank, but the specification requires a value",
                column,
                values.isna(),
                frame[column],
            )
        if column in table.dates:
            parsed = _parse_dates(values, iso)
            bad = values.notna() & parsed.isna()
            if bad.any():
                fmt = "dd/mm/yyyy" + (" or yyyy-mm-dd" if iso else "")
                fail(f"not a date in the format {fmt}", column, bad, frame[column])
            out[column] = parsed
        elif column in table.codes:
            if column == "SEX":
                values = values.str.replace(r"\.0$", "", regex=True)
            out[column] = _check_codes(values, column, year, codes, fail, frame[column])
        else:
            out[column] = values
    if table.name == "episodes":
        early = (out["DEC"] < out["DECOM"]).fillna(False).to_numpy(dtype=bool)
        if early.any():
            fail("DEC (date episode ceased) is before DECOM", "DEC", early, frame["DEC"])
        if out["PL_DISTANCE"].notna().any():
            distance = pd.to_numeric(out["PL_DISTANCE"], errors="coerce")
            bad = (out["PL_DISTANCE"].notna() & (distance.isna() | (distance < 0))).to_numpy(
                dtype=bool
            )
            if bad.any():
                fail(
                    "not a non-negative number of miles", "PL_DISTANCE", bad, frame["PL_DISTANCE"]
                )
            out["PL_DISTANCE"] = distance
        else:
            out["PL_DISTANCE"] = pd.Series(np.nan, index=out.index)
    out["YEAR"] = year
    out["_file"] = name
    out["_row"] = np.arange(1, len(out) + 1)
    return out


def _check_codes(values, column, year, codes, fail, original) -> pd.Series:
    listed = codes.get(column)
    if not listed:
        return values
    valid_now = {
        code
        for code, spec in listed.items()
        if spec.get("from", 0) <= year <= spec.get("until", 9999)
    }
    present = values.notna()
    bad = present & ~values.isin(valid_now)
    if bad.any():
        first = values[bad].iloc[0]
        spec = listed.get(first)
        if spec is None:
            why = f"{first!r} is not a {column} code"
        elif "from" in spec and year < spec["from"]:
            why = f"{first!r} is valid from {year_label(spec['from'])}"
        else:
            why = f"{first!r} was retired after {year_label(spec['until'])}"
        fail(
            f"{why}; checked against the {year_label(year)} code list",
            column,
            bad.to_numpy(dtype=bool),
            original,
        )
    return values


def read(
    path: str | Path | Iterable[str | Path],
    *,
    year: int | None = None,
    year_from: str = "data",
    codes: dict[str, dict[str, dict[str, Any]]] | str | Path | None = None,
) -> Return:
    """Read and validate SSDA903 returns: a folder, a file, or a list of files.

    Files are CSV (dates dd/mm/yyyy as the specification requires), XLSX (one table per
    sheet; date cells or dd/mm/yyyy or ISO text) or XML (see :func:`_read_xml`). Tables
    are recognised by their file or sheet name (``header``, ``episodes``, ``uasc``) or
    else by their columns; files of the other tables (reviews, missing, OC2, OC3, ...)
    are listed in ``skipped``. Files are grouped into years by the four-digit year in
    their name; each group is one year's return.

    Parameters
    ----------
    year:
        The collection year (end year, ``2018`` for 2017-18) when reading one return.
    year_from:
        How to date a group of files: ``"data"`` (the first 31 March on or after the
        latest DECOM), ``"start"`` or ``"end"`` (the year in the file name is the first or
        the second year of the collection).
    codes:
        Code lists to validate against (default: the packaged ``codes.toml``).

    Raises
    ------
    ReturnError
        A :class:`~lacstats.errors.DataError` naming the table, file, year, column, rows
        and values: a missing column, a blank required cell, a date not in dd/mm/yyyy, a
        code not in that year's list, DEC before DECOM, an episode of a child with no
        header record. Nothing is returned until every file has passed.
    """
    if year_from not in ("data", "start", "end"):
        raise DataError(
            f"year_from must be 'data', 'start' or 'end', got {year_from!r}", column="year_from"
        )
    lists = codes if isinstance(codes, dict) else code_lists(codes)
    groups: dict[int | None, list[tuple[str, str, pd.DataFrame, bool]]] = {}
    skipped = []
    for file in _files(path):
        suffix = file.suffix.lower()
        loaded = _read_xml(file) if suffix == ".xml" else _read_tabular(file)
        for name, frame in loaded:
            frame.columns = [str(c).strip() for c in frame.columns]
            table = _identify(list(frame.columns), name)
            if table is None:
                skipped.append(name)
                continue
            token = None if year is not None else _year_token(file.name)
            groups.setdefault(token, []).append((table, name, frame, suffix != ".csv"))

    return _assemble(groups, year, year_from, lists, tuple(skipped))


def from_frames(
    header: pd.DataFrame,
    episodes: pd.DataFrame,
    uasc: pd.DataFrame | None = None,
    *,
    year: int | None = None,
    codes: dict[str, dict[str, dict[str, Any]]] | str | Path | None = None,
) -> Return:
    """One year's return from tables already in memory (written by another tool to the
    same specification), validated exactly as :func:`read` validates files. Dates may be
    dd/mm/yyyy text, ISO text or datetimes."""
    lists = codes if isinstance(codes, dict) else code_lists(codes)
    members = []
    for kind, frame in (("header", header), ("episodes", episodes), ("uasc", uasc)):
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame):
            raise ReturnError(
                f"{kind}: expected a DataFrame, got {type(frame).__name__}", table=kind
            )
        text = frame.copy()
        text.columns = [str(c).strip() for c in text.columns]
        for column in text.columns:
            text[column] = [_cell_text(v) for v in text[column]]
        missing = [c for c in TABLES[kind].required if c not in text.columns]
        if missing:
            raise ReturnError(
                f"{kind} table: missing column(s) {', '.join(missing)}",
                table=kind,
                column=missing[0],
            )
        members.append((kind, kind, text, True))
    return _assemble({None: members}, year, "data", lists, ())


def _assemble(groups, year, year_from, lists, skipped) -> Return:
    if not groups:
        raise ReturnError("no Header, Episodes or UASC table found", column="path")
    tables: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    files = []
    dated: dict[int, int | None] = {}
    for token, members in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        collection = year if year is not None else _group_year(token, members, year_from)
        if collection in dated:
            raise ReturnError(
                f"files named {dated[collection]} and {token} both look like the "
                f"{year_label(collection)} return (latest DECOM); say how file names are "
                "dated with year_from='start' or 'end'",
                column="year_from",
            )
        dated[collection] = token
        kinds = [m[0] for m in members]
        for kind in ("header", "episodes"):
            if kinds.count(kind) > 1:
                names = [m[1] for m in members if m[0] == kind]
                raise ReturnError(
                    f"{year_label(collection)}: more than one {kind} table ({', '.join(names)})",
                    table=kind,
                    file=names[1],
                )
        for kind, name, frame, iso in members:
            checked = _validate(frame, TABLES[kind], name, collection, lists, iso)
            tables[kind].append(checked)
            files.append({"file": name, "table": kind, "year": collection, "rows": len(frame)})
    combined = {
        kind: (pd.concat(frames, ignore_index=True) if frames else _empty(TABLES[kind]))
        for kind, frames in tables.items()
    }
    if combined["header"].empty:
        raise ReturnError(
            "no Header table: children's dates of birth are needed", table="header", column="DOB"
        )
    _check_children(combined["header"], combined["episodes"])
    return Return(
        header=combined["header"],
        episodes=combined["episodes"],
        uasc=combined["uasc"],
        files=pd.DataFrame(files),
        skipped=skipped,
    )


def _empty(table: TableSpec) -> pd.DataFrame:
    columns = [*table.required, *table.optional, "YEAR", "_file", "_row"]
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    for c in table.dates:
        if c in frame:
            frame[c] = pd.Series(dtype="datetime64[ns]")
    return frame


def _group_year(token, members, year_from) -> int:
    if token is not None and year_from == "start":
        return token + 1
    if token is not None and year_from == "end":
        return token
    starts = []
    for kind, _name, frame, iso in members:
        if kind == "episodes":
            starts.append(_parse_dates(frame["DECOM"], iso).max())
    latest = max((s for s in starts if pd.notna(s)), default=None)
    if latest is None:
        if token is None:
            raise ReturnError(
                "cannot tell the collection year: no episodes and no year in the file "
                "names; pass year=",
                column="year",
            )
        return token
    return latest.year + (1 if latest > year_end(latest.year) else 0)


def _check_children(header: pd.DataFrame, episodes: pd.DataFrame) -> None:
    known = set(zip(header["CHILD"], header["YEAR"], strict=True))
    pairs = list(zip(episodes["CHILD"], episodes["YEAR"], strict=True))
    orphan = np.fromiter((p not in known for p in pairs), dtype=bool, count=len(pairs))
    if orphan.any():
        first = int(np.flatnonzero(orphan)[0])
        name = episodes["_file"].iloc[first]
        in_file = orphan & (episodes["_file"] == name).to_numpy()
        raise ReturnError(
            f"episodes table {name} ({year_label(int(episodes['YEAR'].iloc[first]))}), "
            "column 'CHILD': child has no record in that year's header table",
            table="episodes",
            file=name,
            column="CHILD",
            rows=[int(r) for r in episodes["_row"].to_numpy()[in_file][:5]],
            values=list(episodes["CHILD"].to_numpy()[in_file][:5]),
            n_bad=int(in_file.sum()),
        )
