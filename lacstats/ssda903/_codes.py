"""The SSDA903 specification as data: tables, code lists, collection years.

The data are packaged files, not code:

- ``datasets/data/ssda903/codes.toml``: the code lists, with the collection year each code
  was added or retired (K3 from 2024-25; H5, P2 and Z1 retired and Z11-Z14 added from
  2025-26). Years are written as the end year of the collection: "2024-25" is 2025.
- ``datasets/data/ssda903/settings.csv``: PLACE and PLACE_PROVIDER to the case table's
  placement setting, Ofsted registration, and the placement types of Dorset's cost
  calculator (Dorset Council, "Children in Care Cost Calculator Report", Table 4).
- ``datasets/data/ssda903/providers.csv``: PLACE_PROVIDER to Dorset's provider groups
  (LA, Agency, Parents).

A collection year runs from 1 April to 31 March and is named by its end year.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats.datasets import data_path
from lacstats.errors import DataError

__all__ = [
    "CORE_TABLES",
    "NO_PROVIDER",
    "TABLES",
    "ReturnError",
    "TableSpec",
    "code_lists",
    "collection_year",
    "fake903_path",
    "placement_settings",
    "provider_groups",
    "year_end",
    "year_ends",
    "year_label",
    "year_start",
]


@dataclass(frozen=True)
class TableSpec:
    """One table of the return: its required and optional columns, dates, coded columns and
    columns the specification requires to be filled.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> header = ssda903.TABLES["header"]
    >>> header.required, header.dates
    (('CHILD', 'SEX', 'DOB', 'ETHNIC'), ('DOB', 'MC_DOB', 'DUC'))
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    not_blank: tuple[str, ...] = ()


#: The SSDA903 tables read: their columns, required and coded.
TABLES: dict[str, TableSpec] = {
    "header": TableSpec(
        "header",
        required=("CHILD", "SEX", "DOB", "ETHNIC"),
        optional=("UPN", "MOTHER", "MC_DOB", "UASC", "DUC"),
        dates=("DOB", "MC_DOB", "DUC"),
        codes=("SEX", "ETHNIC"),
        not_blank=("CHILD", "SEX", "DOB"),
    ),
    "episodes": TableSpec(
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
    "uasc": TableSpec(
        "uasc",
        required=("CHILD", "SEX", "DOB", "DUC"),
        dates=("DOB", "DUC"),
        codes=("SEX",),
        not_blank=("CHILD",),
    ),
    # the return's other tables: read, typed and checked by the DfE's rules
    # (lacstats.ssda903.rules); the cases and costs do not use them
    "ad1": TableSpec(
        "ad1",
        required=("CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR"),
        optional=("SEX_ADOPTR", "LS_ADOPTR"),
        dates=("DOB", "DATE_INT", "DATE_MATCH"),
        not_blank=("CHILD",),
    ),
    "placed_for_adoption": TableSpec(
        "placed_for_adoption",
        required=("CHILD", "DOB", "DATE_PLACED"),
        optional=("DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
        dates=("DOB", "DATE_PLACED", "DATE_PLACED_CEASED"),
        not_blank=("CHILD",),
    ),
    # DATE_PERM may be partly unknown (zz/06/2015): it stays text
    "previous_permanence": TableSpec(
        "previous_permanence",
        required=("CHILD", "DOB", "PREV_PERM"),
        optional=("LA_PERM", "DATE_PERM"),
        dates=("DOB",),
        not_blank=("CHILD",),
    ),
    "oc2": TableSpec(
        "oc2",
        required=("CHILD", "DOB", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK"),
        optional=(
            "SDQ_SCORE",
            "SDQ_REASON",
            "HEALTH_ASSESSMENT",
            "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED",
        ),
        dates=("DOB",),
        not_blank=("CHILD",),
    ),
    "oc3": TableSpec(
        "oc3",
        required=("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
        dates=("DOB",),
        not_blank=("CHILD",),
    ),
    "reviews": TableSpec(
        "reviews",
        required=("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
        dates=("DOB", "REVIEW"),
        not_blank=("CHILD",),
    ),
    "missing": TableSpec(
        "missing",
        required=("CHILD", "DOB", "MISSING", "MIS_START"),
        optional=("MIS_END",),
        dates=("DOB", "MIS_START", "MIS_END"),
        not_blank=("CHILD",),
    ),
    # social worker episodes, collected from 2023-24
    "sw_episodes": TableSpec(
        "sw_episodes",
        required=("CHILD", "DOB", "SW_ID", "SW_DECOM"),
        optional=("SW_DEC", "SW_REASON"),
        dates=("DOB", "SW_DECOM", "SW_DEC"),
        not_blank=("CHILD",),
    ),
}

#: The tables the cases, costs and projections use; the others are read and validated.
CORE_TABLES: tuple[str, ...] = ("header", "episodes", "uasc")


#: Placements the guide records without a provider: temporary moves (T0-T4) and "other
#: placement" (Z1; Z11-Z14 from 2025-26). PLACE_PROVIDER may be blank for these and for no
#: other placement (the rule of the DfE validator's check 178).
NO_PROVIDER: frozenset[str] = frozenset(
    {"T0", "T1", "T2", "T3", "T4", "Z1", "Z11", "Z12", "Z13", "Z14"}
)


class ReturnError(DataError):
    """Bad cells, columns or files in SSDA903 returns.

    ``table``, ``file``, ``column``, ``rows`` and ``values`` describe the first problem;
    ``problems`` lists every problem found (one row per cell: authority, table, file, year,
    row, column, value, rule, message), so one read reports all of them.

    Examples
    --------
    >>> from lacstats import LacstatsError, ssda903
    >>> issubclass(ssda903.ReturnError, LacstatsError)
    True
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        file: str | None = None,
        problems: pd.DataFrame | None = None,
        listed: bool = False,
        **kwargs: Any,
    ) -> None:
        self.table = table
        self.file = file
        self.problems = problems
        self._listed = listed
        super().__init__(message, **kwargs)

    def _format(self, message: str) -> str:
        # a message that already lists every problem is not given the first rows again
        return message if self._listed else super()._format(message)


def code_lists(path: str | Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """The SSDA903 code lists: ``{field: {code: {"label", "from"?, "until"?}}}``.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> codes = ssda903.code_lists()
    >>> sorted(codes)[:4]
    ['CIN', 'ETHNIC', 'LS', 'PLACE']
    >>> codes["PLACE"]["K3"]
    {'label': 'Supported accommodation registered with Ofsted', 'from': 2025}
    >>> codes["PLACE"]["Z1"]["until"]
    2025
    """
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
    """The PLACE x PLACE_PROVIDER mapping, as packaged.

    Columns: ``PLACE`` and ``PLACE_PROVIDER`` (the return's codes; ``*`` matches any
    provider), ``placement_setting`` (lacstats' name, as ``foster_in_house``),
    ``placement_type`` (Dorset's group, as ``Foster care``) and ``registered`` (whether
    Ofsted regulates the setting; missing where that does not apply).

    Examples
    --------
    >>> from lacstats import ssda903
    >>> table = ssda903.placement_settings()
    >>> table[table["PLACE"] == "U1"]
       PLACE PLACE_PROVIDER placement_setting placement_type  registered
    24    U1              *    foster_kinship   Kinship care        True
    """
    return _settings().copy()


@cache
def _providers() -> tuple[tuple[str, str], ...]:
    with data_path("ssda903/providers.csv").open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str)
    return tuple(zip(table["PLACE_PROVIDER"], table["provider"], strict=True))


def provider_groups() -> dict[str, str]:
    """PLACE_PROVIDER to the provider groups of Dorset's cost calculator.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> ssda903.provider_groups()["PR4"]
    'Agency'
    """
    return dict(_providers())


def fake903_path() -> Path:
    """The folder of the packaged synthetic returns (Social Finance Ltd, MIT).

    Examples
    --------
    >>> from lacstats import ssda903
    >>> sorted(p.name for p in ssda903.fake903_path().iterdir())[:3]
    ['2017-episodes.csv', '2017-header.csv', '2017-uasc.csv']
    """
    return Path(str(data_path("ssda903/fake903/LICENSE"))).parent


def year_label(year: int) -> str:
    """``2025`` -> ``"2024-25"``.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> ssda903.year_label(2025)
    '2024-25'
    """
    return f"{year - 1}-{year % 100:02d}"


def year_end(year: int) -> pd.Timestamp:
    """31 March of collection year ``year`` (the end year): the last day of the collection.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> ssda903.year_end(2025)
    Timestamp('2025-03-31 00:00:00')
    """
    return pd.Timestamp(year=year, month=3, day=31)


def year_ends(years: pd.Series) -> pd.Series:
    """31 March of each collection (end) year, vectorised; missing stays NaT.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats.ssda903 import year_ends
    >>> year_ends(pd.Series([2019, 2025])).tolist()
    [Timestamp('2019-03-31 00:00:00'), Timestamp('2025-03-31 00:00:00')]
    """
    years = years.astype("Int64")
    # each distinct year once: a column of a large return holds few
    codes, uniques = pd.factorize(years, use_na_sentinel=True)
    if (codes < 0).any():
        frame = pd.DataFrame({"year": years, "month": 3, "day": 31})
        return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
    distinct = np.asarray(uniques, dtype=np.int64)
    if len(distinct) and distinct.min() >= 1678 and distinct.max() <= 2262:
        # within the range of nanosecond datetimes: 31 March written directly
        ends = np.array([f"{y}-03-31" for y in distinct], dtype="datetime64[ns]")
    else:
        frame = pd.DataFrame({"year": pd.array(uniques, dtype="Int64"), "month": 3, "day": 31})
        ends = pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]").to_numpy()
    spread = np.append(ends, np.datetime64("NaT", "ns"))[codes]
    return pd.Series(spread, index=years.index, dtype="datetime64[ns]")


def year_start(year: int) -> pd.Timestamp:
    """1 April of the year before ``year``: the first day of the collection ending in ``year``.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> ssda903.year_start(2025)
    Timestamp('2024-04-01 00:00:00')
    """
    return pd.Timestamp(year=year - 1, month=4, day=1)


# a collection written with both of its years: 2019-20, 2019_20, 2019/20, 201920, 19-20, 1920
_TWO_YEARS = (
    re.compile(r"(?<![\d/-])(20\d\d)\s?[-_/]\s?(\d\d)(?![\d/-])"),
    re.compile(r"(?<!\d)(20\d\d)(\d\d)(?!\d)"),
    re.compile(r"(?<![\d/-])(\d\d)[-_/](\d\d)(?![\d/-])"),
    re.compile(r"(?<!\d)(\d\d)(\d\d)(?!\d)"),
)
_ONE_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def collection_year(text: str) -> tuple[int | None, str]:
    """The collection a file name (or a YEAR cell) names: ``(end year, how)``.

    A collection written with both of its years names it exactly, whatever the convention:
    ``2019-20``, ``2019_20``, ``201920``, ``19-20`` and the two-year codes of the field's
    file names, ``1920`` or ``2122``, are all 2019-20 (end year 2020), as the regional
    pipelines read them. ``how`` is then ``"code"``. A single calendar year (``2019``; and
    ``2021``, which is a year before it is a code) is returned with ``how="year"``: whether
    it is the first or the second year of the collection is the caller's convention.
    ``(None, "none")`` when the text names no year.

    Examples
    --------
    >>> from lacstats.ssda903 import collection_year
    >>> collection_year("SSDA903_1920_episodes.csv")
    (2020, 'code')
    >>> collection_year("2021-22 header.csv")
    (2022, 'code')
    >>> collection_year("2017-episodes.csv")
    (2017, 'year')
    """
    for pattern in _TWO_YEARS:
        for match in pattern.finditer(text):
            first, second = match.group(1), match.group(2)
            start = int(first) if len(first) == 4 else 2000 + int(first)
            if len(first) == 2 and (
                int(first) < 10 or (first == "20" and len(match.group(0)) == 4)
            ):
                continue  # 01-02 is a date more often than a year; 2021 is a year
            if (start + 1) % 100 == int(second):
                return start + 1, "code"
    match = _ONE_YEAR.search(text)
    if match:
        return int(match.group(1)), "year"
    return None, "none"
