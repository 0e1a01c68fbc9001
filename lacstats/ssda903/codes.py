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

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats.datasets import data_path
from lacstats.errors import DataError

__all__ = [
    "TABLES",
    "ReturnError",
    "TableSpec",
    "code_lists",
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
    columns the specification requires to be filled."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    not_blank: tuple[str, ...] = ()


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
}


class ReturnError(DataError):
    """A bad cell, column or file in an SSDA903 return; names the table and the file."""

    def __init__(
        self, message: str, *, table: str | None = None, file: str | None = None, **kwargs: Any
    ) -> None:
        self.table = table
        self.file = file
        super().__init__(message, **kwargs)


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


def year_ends(years: pd.Series) -> pd.Series:
    """31 March of each collection (end) year, vectorised; missing stays NaT."""
    frame = pd.DataFrame({"year": years.astype("Int64"), "month": 3, "day": 31})
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")


def year_start(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year - 1, month=4, day=1)
