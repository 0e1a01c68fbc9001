"""The statutory SSDA903 return: read, validate, clean, and derive the case table.

Every English authority files the SSDA903 return on its looked-after children each year
(DfE, "Children looked after return: guide to submitting data"). This module reads the
Header, Episodes and UASC tables of one or many years' returns (CSV, XLSX or the XML
upload format), validates them against the right year's code lists, cleans the episodes
the way demand modellers have to before counting anything, and derives the case table of
:mod:`lacstats.schema` at a census date.

The data that drive it are packaged files, not code:

- ``datasets/data/ssda903/codes.toml``: the code lists, with the collection year each code
  was added or retired (K3 from 2024-25; H5, P2 and Z1 retired and Z11-Z14 added from
  2025-26). Years are written as the end year of the collection: "2024-25" is 2025.
- ``datasets/data/ssda903/settings.csv``: PLACE and PLACE_PROVIDER to the case table's
  placement setting, Ofsted registration, and the placement types of Dorset's cost
  calculator (seed ``001_f73de9509b5f46e3.txt``, Table 4).
- ``datasets/data/ssda903/providers.csv``: PLACE_PROVIDER to Dorset's provider groups
  (LA, Agency, Parents).

A collection year runs from 1 April to 31 March. A return's year is read from its file
name's first four-digit year when ``year_from="start"`` (the convention of the synthetic
returns in ``fake903``: ``2017-episodes.csv`` is 2017-18) or ``"end"``; by default it is
inferred from the data: the first 31 March on or after the latest DECOM.
"""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats.datasets import data_path
from lacstats.errors import DataError

__all__ = [
    "CONTINUES_PLACEMENT",
    "Cleaned",
    "Return",
    "clean",
    "code_lists",
    "fake903_path",
    "from_frames",
    "need_group",
    "placement_settings",
    "provider_groups",
    "read",
    "simulate",
    "to_cases",
    "write",
]

#: RNE codes that continue the previous placement: the guide's "change of legal status
#: only" (L), "change of placement but carer(s) stayed the same" (B) and "change of both
#: legal status and placement but carer(s) stayed the same" (U). T changes the carer too,
#: so it starts a new placement; pass ``continues=`` to :func:`clean` to choose otherwise.
CONTINUES_PLACEMENT: tuple[str, ...] = ("L", "B", "U")
LEAVING_AGE = 18
DAYS_PER_MONTH = 365.25 / 12
#: PL_DISTANCE when the placement postcode is unknown or outside England.
DISTANCE_UNKNOWN = 999.9


@dataclass(frozen=True)
class _Table:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    not_blank: tuple[str, ...] = ()


TABLES: dict[str, _Table] = {
    "header": _Table(
        "header",
        required=("CHILD", "SEX", "DOB", "ETHNIC"),
        optional=("UPN", "MOTHER", "MC_DOB", "UASC", "DUC"),
        dates=("DOB", "MC_DOB", "DUC"),
        codes=("SEX", "ETHNIC"),
        not_blank=("CHILD", "SEX", "DOB"),
    ),
    "episodes": _Table(
        "episodes",
        required=("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"),
        optional=(
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
            "PL_DISTANCE",
            "PL_LA",
            "PL_LOCATION",
        ),
        dates=("DECOM", "DEC"),
        codes=(
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "REC",
            "REASON_PLACE_CHANGE",
            "PL_LOCATION",
        ),
        not_blank=("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE"),
    ),
    "uasc": _Table(
        "uasc",
        required=("CHILD", "SEX", "DOB", "DUC"),
        dates=("DOB", "DUC"),
        codes=("SEX",),
        not_blank=("CHILD",),
    ),
}
#: XML element names that differ from the CSV column names.
XML_NAMES = {"CHILDID": "CHILD", "PL": "PLACE"}
#: A child who is placed with a provider not expected for the placement: no provider group.
_NO_PROVIDER = "N/A"


class ReturnError(DataError):
    """A bad cell, column or file in an SSDA903 return; names the table and the file."""

    def __init__(
        self, message: str, *, table: str | None = None, file: str | None = None, **kwargs: Any
    ) -> None:
        self.table = table
        self.file = file
        super().__init__(message, **kwargs)


# --------------------------------------------------------------------------- packaged data


def code_lists(path: str | Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """The SSDA903 code lists: ``{field: {code: {"label", "from"?, "until"?}}}``."""
    if path is None:
        text = data_path("ssda903/codes.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _settings() -> pd.DataFrame:
    with data_path("ssda903/settings.csv").open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False, comment="#")
    table["registered"] = table["registered"].map({"true": True, "false": False}).astype("boolean")
    return table


def placement_settings() -> pd.DataFrame:
    """The PLACE x PLACE_PROVIDER mapping (``*`` matches any provider), as packaged."""
    return _settings().copy()


@cache
def _providers() -> tuple[tuple[str, str], ...]:
    with data_path("ssda903/providers.csv").open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str)
    return tuple(zip(table["PLACE_PROVIDER"], table["provider"], strict=True))


def provider_groups() -> dict[str, str]:
    """PLACE_PROVIDER to the provider groups of Dorset's cost calculator."""
    return dict(_providers())


def fake903_path() -> Path:
    """The folder of the packaged synthetic returns (Social Finance Ltd, MIT)."""
    return Path(str(data_path("ssda903/fake903/LICENSE"))).parent


def year_label(year: int) -> str:
    """``2025`` -> ``"2024-25"``."""
    return f"{year - 1}-{year % 100:02d}"


def year_end(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=3, day=31)


def _year_ends(years: pd.Series) -> pd.Series:
    """31 March of each collection (end) year, vectorised; missing stays NaT."""
    frame = pd.DataFrame({"year": years.astype("Int64"), "month": 3, "day": 31})
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")


def year_start(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year - 1, month=4, day=1)


# --------------------------------------------------------------------------- reading


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
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        return [(path.name, frame)]
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    out = []
    for sheet, frame in sheets.items():
        frame = frame.copy()
        for column in frame.columns:
            frame[column] = [_cell_text(v) for v in frame[column]]
        out.append((f"{path.name}[{sheet}]", frame))
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
    table: _Table,
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


def _empty(table: _Table) -> pd.DataFrame:
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


# --------------------------------------------------------------------------- cleaning


@dataclass(frozen=True)
class Cleaned:
    """Episodes cleaned across years, merged into placements, with a report of changes.

    ``episodes`` has one row per episode (CHILD, DECOM, DEC, RNE, LS, CIN, PLACE,
    PLACE_PROVIDER, REC, PL_DISTANCE, PL_LA, PL_LOCATION, YEAR, ``placement`` and
    ``period`` numbers per child); ``placements`` one row per placement with its start
    and end and the current episode's codes; ``children`` one row per child (latest
    header, DOB, sex, UASC dates); ``report`` counts every change made.
    """

    episodes: pd.DataFrame
    placements: pd.DataFrame
    children: pd.DataFrame
    report: pd.DataFrame
    years: tuple[int, ...]
    continues: tuple[str, ...]

    @property
    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return year_start(min(self.years)), year_end(max(self.years))


def clean(
    data: Return,
    *,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    leaving_age: int = LEAVING_AGE,
) -> Cleaned:
    """Clean episodes across years and merge them into placements.

    In order, each step counted in ``report``:

    1. exact duplicate rows within a return are dropped;
    2. a DEC after the end of the return's collection year is blanked (the episode was
       open at the year end; the next return closes it);
    3. an episode reported in several returns (same child and DECOM) is kept from the
       latest return, which has the final DEC; conflicting rows within a return keep the
       last;
    4. an episode left open although a later one starts, or overlapping the next, is
       closed on the next episode's DECOM;
    5. episodes are cut at the 18th birthday (``leaving_age``), inferred from DOB;
       episodes starting on or after it are dropped;
    6. a stale open episode, whose child is missing from the next year's return, is
       closed at the end of the child's last collection year;
    7. consecutive episodes whose RNE is in ``continues`` and which start the day the
       previous one ends are one placement; a new period of care starts with RNE S or
       after a gap.
    """
    episodes = data.episodes.drop(columns=["_row"])
    counts: dict[str, int] = {}
    fields = [c for c in episodes.columns if c not in ("_file",)]

    before = len(episodes)
    episodes = episodes.drop_duplicates(subset=fields)
    counts["exact duplicate rows dropped"] = before - len(episodes)

    after_year = (episodes["DEC"] > _year_ends(episodes["YEAR"])).fillna(False)
    counts["DEC after the collection year end, blanked"] = int(after_year.sum())
    episodes.loc[after_year, "DEC"] = pd.NaT

    before = len(episodes)
    episodes = episodes.sort_values(["CHILD", "DECOM", "YEAR"], kind="stable")
    episodes = episodes.drop_duplicates(subset=["CHILD", "DECOM"], keep="last")
    counts["episodes repeated across or within returns, latest kept"] = before - len(episodes)
    episodes = episodes.reset_index(drop=True)

    same_child = _same_as(episodes["CHILD"], -1)
    next_start = episodes["DECOM"].shift(-1)
    open_followed = same_child & episodes["DEC"].isna()
    overlapping = same_child & (episodes["DEC"] > next_start).fillna(False)
    counts["open episodes followed by a later one, closed"] = int(open_followed.sum())
    counts["overlapping episodes, truncated"] = int(overlapping.sum())
    fix = (open_followed | overlapping).to_numpy()
    episodes.loc[fix, "DEC"] = next_start[fix]

    children = _children(data)
    last_year = data.episodes.groupby("CHILD")["YEAR"].max()
    final = max(data.years)
    birthday = episodes["CHILD"].map(children["DOB"]) + pd.DateOffset(years=leaving_age)
    starts_after = (episodes["DECOM"] >= birthday).to_numpy()
    counts[f"episodes starting at or after age {leaving_age}, dropped"] = int(starts_after.sum())
    episodes = episodes.loc[~starts_after].reset_index(drop=True)
    birthday = birthday[~starts_after].reset_index(drop=True)
    seen_until = _year_ends(episodes["CHILD"].map(last_year))
    runs_on = (episodes["DEC"].isna() & (birthday <= seen_until)) | (
        episodes["DEC"] > birthday
    ).fillna(False)
    counts[f"episodes running past age {leaving_age}, closed on the birthday"] = int(runs_on.sum())
    episodes.loc[runs_on.to_numpy(), "DEC"] = birthday[runs_on]

    is_last = ~_same_as(episodes["CHILD"], -1)
    child_last_year = episodes["CHILD"].map(last_year)
    stale = is_last & episodes["DEC"].isna() & (child_last_year < final)
    counts["stale open episodes (child absent from the next return), closed"] = int(stale.sum())
    episodes.loc[stale, "DEC"] = _year_ends(child_last_year[stale])

    episodes, placements = _placements(episodes, tuple(continues))
    counts["placements after merging continuing episodes"] = len(placements)
    counts["episodes after cleaning"] = len(episodes)
    report = pd.DataFrame({"step": list(counts), "count": list(counts.values())})
    return Cleaned(
        episodes=episodes,
        placements=placements,
        children=children,
        report=report,
        years=tuple(data.years),
        continues=tuple(continues),
    )


def _same_as(values: pd.Series, shift: int) -> pd.Series:
    """Whether each value equals its neighbour ``shift`` rows away (False at the ends)."""
    array = values.to_numpy(dtype=object)
    out = np.zeros(len(array), dtype=bool)
    if shift < 0:
        out[:shift] = array[:shift] == array[-shift:]
    else:
        out[shift:] = array[shift:] == array[:-shift]
    return pd.Series(out, index=values.index)


def _children(data: Return) -> pd.DataFrame:
    header = data.header.sort_values(["CHILD", "YEAR"], kind="stable")
    latest = header.drop_duplicates("CHILD", keep="last").set_index("CHILD")
    children = latest[["SEX", "DOB", "ETHNIC"]].copy()
    uasc_dates = []
    if not data.uasc.empty:
        uasc = data.uasc.sort_values(["CHILD", "YEAR"], kind="stable").drop_duplicates(
            "CHILD", keep="last"
        )
        uasc_dates.append(uasc.set_index("CHILD")["DUC"])
    if "UASC" in header and header["UASC"].notna().any():
        flagged = header[header["UASC"].isin(["1", "True", "true"])]
        flagged = flagged.drop_duplicates("CHILD", keep="last").set_index("CHILD")["DUC"]
        uasc_dates.append(flagged)
    children["ever_uasc"] = False
    children["DUC"] = pd.Series(pd.NaT, index=children.index, dtype="datetime64[ns]")
    for dates in uasc_dates:
        dates = dates[dates.index.isin(children.index)]
        children.loc[dates.index, "ever_uasc"] = True
        children.loc[dates.index, "DUC"] = dates
    return children


def _placements(
    episodes: pd.DataFrame, continues: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = ~_same_as(episodes["CHILD"], 1)
    contiguous = pd.Series(
        (episodes["DECOM"] == episodes["DEC"].shift()).fillna(False).to_numpy(dtype=bool),
        index=episodes.index,
    )
    new_period = first | episodes["RNE"].eq("S") | ~contiguous
    new_placement = new_period | ~episodes["RNE"].isin(continues)
    episodes = episodes.assign(
        period=new_period.groupby(episodes["CHILD"]).cumsum().astype(int),
        placement=new_placement.groupby(episodes["CHILD"]).cumsum().astype(int),
    )
    grouped = episodes.groupby(["CHILD", "placement"], sort=False)
    placements = grouped.agg(
        start=("DECOM", "first"),
        end=("DEC", "last"),
        period=("period", "first"),
        PLACE=("PLACE", "last"),
        PLACE_PROVIDER=("PLACE_PROVIDER", "last"),
        episodes=("DECOM", "size"),
    ).reset_index()
    return episodes, placements


# --------------------------------------------------------------------------- derivation


def _map_settings(place: pd.Series, provider: pd.Series) -> pd.DataFrame:
    table = _settings()
    exact = table[table["PLACE_PROVIDER"] != "*"].set_index(["PLACE", "PLACE_PROVIDER"])
    fallback = table[table["PLACE_PROVIDER"] == "*"].set_index("PLACE")
    keys = pd.MultiIndex.from_arrays([place.astype(object), provider.astype(object)])
    out = {}
    for column in ("placement_setting", "placement_type", "registered"):
        by_pair = pd.Series(exact[column].reindex(keys).to_numpy(), index=place.index)
        by_place = place.map(fallback[column])
        out[column] = by_pair.where(by_pair.notna(), by_place)
    unmapped = out["placement_setting"].isna() & place.notna()
    if unmapped.any():
        raise DataError.at(
            "column 'PLACE': no placement setting in settings.csv for this code",
            "PLACE",
            unmapped.to_numpy(),
            place,
        )
    frame = pd.DataFrame(out)
    frame["registered"] = frame["registered"].astype("boolean")
    return frame


def need_group(disability: Any, ebd: Any, uasc: Any, offender: Any) -> pd.Series:
    """Dorset's need groups (seed 001, "Analysis of Costs by Age, Needs and Time Looked
    after"): ``00: None``, ``01: Disabilities only``, ``02: EBD only``, ``03: UASC only``,
    ``04: Offender only``, then pairs ``05``-``10`` (``09: EBD+Offender``,
    ``10: UASC+Offender``), triples ``11``-``14`` and ``15`` for all four."""
    from itertools import combinations

    names = ("Disabilities", "EBD", "UASC", "Offender")
    flags = np.column_stack([np.asarray(x, dtype=bool) for x in (disability, ebd, uasc, offender)])
    labels = {(): "00: None"}
    number = 1
    for size in range(1, 5):
        for combo in combinations(range(4), size):
            text = "+".join(names[i] for i in combo)
            labels[combo] = f"{number:02d}: {text}{' only' if size == 1 else ''}"
            number += 1
    keys = [tuple(np.flatnonzero(row)) for row in flags]
    return pd.Series([labels[tuple(int(i) for i in k)] for k in keys])


def episode_attributes(cleaned: Cleaned) -> pd.DataFrame:
    """Each cleaned episode with its placement setting and type, provider group, location
    (``IN LA``, ``Out LA`` or ``Unknown``), age at start, need group and distance status."""
    episodes = cleaned.episodes
    mapped = _map_settings(episodes["PLACE"], episodes["PLACE_PROVIDER"])
    out = episodes.join(mapped)
    out["provider"] = episodes["PLACE_PROVIDER"].map(provider_groups()).fillna(_NO_PROVIDER)
    out["location"] = _location(episodes)
    dob = episodes["CHILD"].map(cleaned.children["DOB"])
    out["age_at_start"] = _age(dob, episodes["DECOM"])
    uasc = _uasc_at(cleaned.children, episodes["CHILD"], episodes["DECOM"])
    out["need_group"] = need_group(
        episodes["CIN"].eq("N2"),
        episodes["CIN"].eq("N6"),
        uasc,
        episodes["LS"].isin(["J1", "J2", "J3"]) | episodes["PLACE"].eq("R5"),
    ).to_numpy()
    return out


def _location(episodes: pd.DataFrame, la_code: str | None = None) -> pd.Series:
    location = pd.Series("Unknown", index=episodes.index, dtype=object)
    if "PL_LOCATION" in episodes:
        code = episodes["PL_LOCATION"].astype("string").str.upper()
        location[code.eq("IN").fillna(False).to_numpy()] = "IN LA"
        location[code.eq("OUT").fillna(False).to_numpy()] = "Out LA"
    if la_code is not None and "PL_LA" in episodes:
        known = episodes["PL_LA"].notna() & location.eq("Unknown")
        location[(known & episodes["PL_LA"].eq(la_code)).to_numpy()] = "IN LA"
        location[(known & episodes["PL_LA"].ne(la_code)).to_numpy()] = "Out LA"
    return location


def _age(dob: pd.Series, when: pd.Series | pd.Timestamp) -> pd.Series:
    when = pd.Series(when, index=dob.index) if isinstance(when, pd.Timestamp) else when
    years = when.dt.year - dob.dt.year
    before_birthday = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    return (years - before_birthday.astype(int)).astype("Int64")


def _uasc_at(children: pd.DataFrame, child: pd.Series, when: pd.Series | pd.Timestamp):
    ever = child.map(children["ever_uasc"]).fillna(False).astype(bool)
    ceased = child.map(children["DUC"])
    return (ever & (ceased.isna() | (ceased > when))).to_numpy(dtype=bool)


def to_cases(
    data: Return | Cleaned | pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    *,
    census_date: str | pd.Timestamp,
    unit_costs: pd.DataFrame | None = None,
    authority: str = "Synthetic authority",
    authority_type: str = "Unitary",
    la_code: str | None = None,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    unpriced: str = "error",
) -> pd.DataFrame:
    """The case table (:mod:`lacstats.schema`) of the children looked after on ``census_date``.

    ``data`` is a :class:`Return` (cleaned here with ``continues``), a :class:`Cleaned`,
    or the Header table with the Episodes table as ``episodes`` (see :func:`from_frames`).
    Columns: ``case_id`` (the return's CHILD), ``age`` at the census, ``sex``, ``uasc``
    (UASC on the census date), ``placement_setting``, ``registered``, ``placement_type``
    and ``provider`` (Dorset's groups), ``location`` and ``in_authority`` (from
    PL_LOCATION, or PL_LA against ``la_code``; missing when the return has neither),
    ``distance_miles`` with ``distance_status`` (``known``; ``unknown`` for 999.9, a
    postcode unknown or outside England; ``blank`` where the return leaves it empty, as
    it does for UASC), ``placement_number`` (1 = the child's first placement in the
    data), ``months_in_placement``, ``previous_setting``, ``legal_status``,
    ``need_group`` and, with ``unit_costs``, ``weekly_cost`` (see
    :func:`lacstats.costs.unit_cost`), in which case the table is validated by
    :func:`lacstats.schema.validate`. A child whose placement has no unit cost is an
    error naming it, or with ``unpriced="drop"`` is left out and counted in
    ``cases.attrs["unpriced"]``.
    """
    if unpriced not in ("error", "drop"):
        raise DataError(f"unpriced must be 'error' or 'drop', got {unpriced!r}", column="unpriced")
    if isinstance(data, pd.DataFrame):
        if episodes is None:
            raise DataError(
                "to_cases(header, episodes, ...) needs the episodes table too", column="episodes"
            )
        data = from_frames(data, episodes)
    elif episodes is not None:
        raise DataError(
            "pass either a Return or the header and episodes tables", column="episodes"
        )
    cleaned = data if isinstance(data, Cleaned) else clean(data, continues=continues)
    try:
        census = pd.Timestamp(census_date)
    except (TypeError, ValueError) as err:
        raise DataError(
            f"census_date: not a date: {census_date!r}", column="census_date", values=[census_date]
        ) from err
    first, last = cleaned.coverage
    if not first <= census <= last:
        raise DataError(
            f"census_date {census.date()} is outside the returns read "
            f"({first.date()} to {last.date()})",
            column="census_date",
            values=[str(census.date())],
        )
    attributes = episode_attributes(cleaned)
    current = (attributes["DECOM"] <= census) & (
        attributes["DEC"].isna() | (attributes["DEC"] > census)
    )
    now = attributes.loc[current.to_numpy()].reset_index(drop=True)
    placements = cleaned.placements.set_index(["CHILD", "placement"])
    keys = pd.MultiIndex.from_arrays([now["CHILD"], now["placement"]])
    start = placements["start"].reindex(keys).to_numpy()
    previous_keys = pd.MultiIndex.from_arrays([now["CHILD"], now["placement"] - 1])
    previous = placements.reindex(previous_keys)
    previous_setting = _map_settings(
        previous["PLACE"].reset_index(drop=True),
        previous["PLACE_PROVIDER"].reset_index(drop=True),
    )["placement_setting"]

    dob = now["CHILD"].map(cleaned.children["DOB"])
    distance = now["PL_DISTANCE"].astype(float)
    status = np.where(
        distance.isna(),
        "blank",
        np.where(np.isclose(distance, DISTANCE_UNKNOWN), "unknown", "known"),
    ).astype(object)
    if cleaned.episodes["PL_DISTANCE"].isna().all():
        status[:] = "not recorded"
    location = _location(now, la_code)
    cases = pd.DataFrame(
        {
            "case_id": now["CHILD"].astype(str),
            "authority": authority,
            "authority_type": authority_type,
            "age": _age(dob, census).to_numpy(),
            "sex": now["CHILD"].map(cleaned.children["SEX"]).map({"1": "male", "2": "female"}),
            "uasc": _uasc_at(cleaned.children, now["CHILD"], census),
            "placement_setting": now["placement_setting"],
            "registered": now["registered"],
            "placement_type": now["placement_type"],
            "provider": now["provider"],
            "location": location,
            "in_authority": location.map({"IN LA": True, "Out LA": False}).astype("boolean"),
            "distance_miles": distance.where(status == "known"),
            "distance_status": status,
            "months_in_placement": (census - pd.to_datetime(start)).days / DAYS_PER_MONTH,
            "placement_number": now["placement"].astype(int),
            "previous_setting": previous_setting.where(now["placement"] > 1).to_numpy(),
            "legal_status": now["LS"],
            "need_group": now["need_group"],
        }
    )
    if unit_costs is not None:
        from lacstats import costs, schema

        cases["weekly_cost"] = costs.unit_cost(cases, unit_costs, unpriced=unpriced)
        kept = cases["weekly_cost"].notna()
        typed = schema.validate(cases[kept], authorities=[authority])
        typed.attrs["unpriced"] = int((~kept).sum())
        return typed
    return cases


# --------------------------------------------------------------------------- synthetic


def simulate(
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    children: int = 2000,
    rng: int | np.random.Generator | None = None,
) -> dict[int, dict[str, pd.DataFrame]]:
    """Synthetic returns of a large authority, for benchmarks and tests.

    About ``children`` children looked after at each year end; entries, moves and exits
    at plausible rates. Returns ``{year: {"header": ..., "episodes": ..., "uasc": ...}}``
    with dates as dd/mm/yyyy text, ready for :func:`write`. Not calibrated to anything:
    never use it for findings.
    """
    generator = np.random.default_rng(rng)
    first, last = year_start(min(years)), year_end(max(years))
    span = (last - first).days
    n = int(children * (1.2 + len(years) * 0.55))
    entry = first + pd.to_timedelta(generator.integers(-3 * 365, span, n), unit="D")
    age_entry = generator.choice(np.arange(0, 18), n, p=_entry_ages())
    dob = entry - pd.to_timedelta(age_entry * 365 + generator.integers(0, 365, n), unit="D")
    stay = generator.exponential(2.2 * 365, n).astype(int) + 1
    ending = entry + pd.to_timedelta(stay, unit="D")
    eighteen = dob + pd.DateOffset(years=18)
    ending = pd.DatetimeIndex(np.minimum(ending.values, eighteen.values))
    ids = generator.choice(np.arange(100000, 999999), n, replace=False).astype(str)
    places = np.array(["U4", "U6", "U1", "U3", "K2", "H5", "P1", "A4", "S1", "K1"])
    weights = np.array([0.3, 0.22, 0.08, 0.08, 0.12, 0.06, 0.06, 0.04, 0.02, 0.02])
    rows = []
    for i in range(n):
        start = entry[i]
        end = ending[i]
        moves = generator.poisson(max((end - start).days, 1) / 500)
        cuts = np.sort(generator.integers(1, max((end - start).days, 2), moves))
        bounds = [start, *(start + pd.to_timedelta(cuts, unit="D")), end]
        for j in range(len(bounds) - 1):
            if bounds[j + 1] <= bounds[j]:
                continue
            place = generator.choice(places, p=weights)
            rows.append(
                (
                    ids[i],
                    bounds[j],
                    bounds[j + 1],
                    "S" if j == 0 else "P",
                    place,
                    "E13" if j == len(bounds) - 2 else "X1",
                )
            )
    episodes = pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "RNE", "PLACE", "REC"])
    m = len(episodes)
    episodes["LS"] = generator.choice(["C2", "V2", "C1", "E1"], m, p=[0.6, 0.2, 0.15, 0.05])
    episodes["CIN"] = generator.choice(
        ["N1", "N2", "N4", "N5", "N6"], m, p=[0.6, 0.05, 0.1, 0.17, 0.08]
    )
    episodes["PLACE_PROVIDER"] = np.where(
        episodes["PLACE"].eq("P1"),
        "PR0",
        generator.choice(["PR1", "PR4", "PR5", "PR2"], m, p=[0.5, 0.35, 0.1, 0.05]),
    )
    episodes["PL_DISTANCE"] = np.round(generator.gamma(1.2, 12, m), 1)
    episodes["PL_LOCATION"] = np.where(generator.random(m) < 0.7, "IN", "OUT")
    header = pd.DataFrame(
        {
            "CHILD": ids,
            "SEX": generator.choice(["1", "2"], n),
            "DOB": dob,
            "ETHNIC": generator.choice(["WBRI", "WOTH", "MOTH", "BAFR", "AIND"], n),
        }
    )
    out = {}
    for year in years:
        y0, y1 = year_start(year), year_end(year)
        live = episodes[(episodes["DECOM"] <= y1) & (episodes["DEC"] >= y0)].copy()
        closed = live["DEC"] <= y1
        live["DEC"] = live["DEC"].where(closed)
        live["REC"] = live["REC"].where(closed)
        live = live.sort_values(["CHILD", "DECOM"])
        kids = header[header["CHILD"].isin(live["CHILD"])]
        out[year] = {
            "header": _as_text(kids),
            "episodes": _as_text(
                live[
                    [
                        "CHILD",
                        "DECOM",
                        "RNE",
                        "LS",
                        "CIN",
                        "PLACE",
                        "PLACE_PROVIDER",
                        "DEC",
                        "REC",
                        "PL_DISTANCE",
                        "PL_LOCATION",
                    ]
                ]
            ),
        }
    return out


def _entry_ages() -> np.ndarray:
    weights = np.array([18, 6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 8, 9, 10, 9, 4], dtype=float)
    return weights / weights.sum()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%d/%m/%Y")
    return out.reset_index(drop=True)


def write(returns: dict[int, dict[str, pd.DataFrame]], folder: str | Path) -> list[Path]:
    """Write returns as ``<year>-<table>.csv`` (year = end year of the collection)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, tables in sorted(returns.items()):
        for table, frame in tables.items():
            path = folder / f"{year}-{table}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
    return paths
