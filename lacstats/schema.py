"""The case table: one row per child in a sample, its columns, types, units and codes.

:func:`validate` turns any frame with these columns into a typed copy, or raises a
:class:`~lacstats.errors.DataError` naming the column, the first offending rows (1-based data
rows: the first row under the header is row 1) and their values. Every other module of
lacstats takes its input through :func:`validate`.

Codes are fixed vocabularies shared by every tool of the package (SSDA903 reader, cohorts,
reports). Need items are scored 1-5 as in the South East Complex LAC data collection
(seed ``000_07fcf8ae04fdfcb4.txt``): 1 = none, 2-3 = low, 4 = some, 5 = most prevalence;
"prevalence" means a score of 4 or 5.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lacstats.datasets import english_authorities
from lacstats.errors import DataError

__all__ = [
    "COLUMNS",
    "FOSTER_SETTINGS",
    "NEEDS_MET",
    "NEED_ITEMS",
    "PLACEMENT_SETTINGS",
    "RESIDENTIAL_SETTINGS",
    "RISK_FACTORS",
    "Column",
    "parse_money",
    "risk_score",
    "validate",
]

PLACEMENT_SETTINGS: tuple[str, ...] = (
    "foster_in_house",  # the authority's own foster carers
    "foster_ifa",  # independent fostering agency
    "foster_kinship",  # family and friends (connected person) foster care
    "residential_la_own",  # children's home run by the authority itself
    "residential_other_la",  # children's home run by another local authority
    "residential_private",  # private or voluntary children's home
    "residential_school",  # residential special school
    "secure_unit",  # secure children's home or welfare secure placement
    "semi_independent",  # supported accommodation for 16-17 year olds
    "unregistered",  # care in a setting that should be, but is not, registered with Ofsted
    "with_parents",  # placed with parents or a person with parental responsibility
    "other",
)
#: Children's homes: the settings of the "high cost residential" finding (schools and secure
#: units are excluded by the seed and listed separately below).
RESIDENTIAL_SETTINGS: tuple[str, ...] = (
    "residential_la_own",
    "residential_other_la",
    "residential_private",
)
#: Every residential care setting, for "moved from other residential care placements".
ALL_RESIDENTIAL_SETTINGS: tuple[str, ...] = (
    *RESIDENTIAL_SETTINGS,
    "residential_school",
    "secure_unit",
)
FOSTER_SETTINGS: tuple[str, ...] = ("foster_in_house", "foster_ifa", "foster_kinship")
NEEDS_MET: tuple[str, ...] = ("not_met", "partly", "mostly", "completely")
AUTHORITY_TYPES: tuple[str, ...] = ("County", "Unitary")
SEXES: tuple[str, ...] = ("male", "female")

RISK_FACTORS: tuple[str, ...] = (
    "risk_violence",
    "risk_missing",
    "risk_cse",
    "risk_cce",
    "risk_offending",
    "risk_substance",
    "risk_self_harm",
)
#: Every need item scored 1-5: the seven risk factors, mental health, learning disability.
NEED_ITEMS: tuple[str, ...] = (*RISK_FACTORS, "mental_health", "learning_disability")
SCORE_RANGE = (1, 5)
#: A score at or above this is "some or most prevalence" (seed 000).
PREVALENCE_SCORE = 4


@dataclass(frozen=True)
class Column:
    """One column of the case table."""

    name: str
    kind: str  # "id" | "text" | "code" | "int" | "float" | "money" | "bool" | "score"
    description: str
    unit: str = ""
    required: bool = False
    nullable: bool = True
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "id", "pseudonymous case identifier, unique", required=True, nullable=False),
    Column("authority", "text", "responsible local authority", required=True, nullable=False),
    Column(
        "authority_type",
        "code",
        "County (two-tier) or Unitary (unitary, metropolitan or London borough)",
        required=True,
        nullable=False,
        codes=AUTHORITY_TYPES,
    ),
    Column("age", "int", "age at the census date", unit="years", minimum=0, maximum=25),
    Column("sex", "code", "sex of the child", codes=SEXES),
    Column("uasc", "bool", "unaccompanied asylum-seeking child"),
    Column(
        "placement_setting",
        "code",
        "current placement setting",
        required=True,
        nullable=False,
        codes=PLACEMENT_SETTINGS,
    ),
    Column("registered", "bool", "setting regulated by Ofsted"),
    Column(
        "weekly_cost",
        "money",
        "current weekly placement cost",
        unit="GBP per week",
        required=True,
        nullable=False,
        minimum=0,
    ),
    Column(
        "distance_miles",
        "float",
        "distance of the placement from home; missing = unknown",
        unit="miles",
        minimum=0,
    ),
    Column("in_authority", "bool", "placed inside the responsible authority's boundary"),
    Column(
        "months_in_placement",
        "float",
        "time in the current placement",
        unit="months",
        minimum=0,
    ),
    Column("placement_number", "int", "1 = first placement", minimum=1),
    Column(
        "previous_setting",
        "code",
        "setting of the previous placement; missing = none recorded",
        codes=PLACEMENT_SETTINGS,
    ),
    Column(
        "previous_weekly_cost",
        "money",
        "weekly cost of the previous placement",
        unit="GBP per week",
        minimum=0,
    ),
    Column("needs_met", "code", "how far the placement meets current needs", codes=NEEDS_MET),
    *(
        Column(name, "score", f"{name.replace('_', ' ')} (1 none - 5 most prevalence)")
        for name in NEED_ITEMS
    ),
)
_BY_NAME = {c.name: c for c in COLUMNS}

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def risk_score(frame: pd.DataFrame) -> pd.Series:
    """The derived risk score: the sum of the seven risk-factor scores (7 to 35).

    Missing if any risk factor is missing. Mental health and learning disability are needs,
    not risks, and are not part of the score.
    """
    return frame[list(RISK_FACTORS)].sum(axis=1, min_count=len(RISK_FACTORS)).astype("Int64")


def _raise(message: str, column: str, mask: np.ndarray, values: pd.Series) -> None:
    raise DataError.at(message, column, mask, values)


def _blank(series: pd.Series) -> np.ndarray:
    as_text = series.astype("string").str.strip()
    return (series.isna() | (as_text == "")).to_numpy(dtype=bool, na_value=True)


def parse_money(series: pd.Series, column: str = "weekly_cost") -> pd.Series:
    """Parse amounts written as ``4800``, ``4800.00``, ``£4,800`` or ``"£ 4,800.50"``.

    Returns float64 with NaN for blanks; any other text is a :class:`DataError` naming the
    cell.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    text = series.astype("string").str.strip()
    cleaned = text.str.replace(r"^£\s*", "", regex=True).str.replace(",", "", regex=False)
    cleaned = cleaned.str.replace(r"^(-?)£\s*", r"\1", regex=True)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    blank = _blank(series)
    bad = numbers.isna().to_numpy() & ~blank
    if bad.any():
        _raise(f"column {column!r}: not an amount of money", column, bad, series)
    return numbers


def _as_number(series: pd.Series, column: Column) -> pd.Series:
    if column.kind == "money":
        return parse_money(series, column.name)
    if pd.api.types.is_bool_dtype(series):
        _raise(
            f"column {column.name!r}: expected a number, got true/false",
            column.name,
            np.ones(len(series), dtype=bool),
            series,
        )
    numbers = pd.to_numeric(series, errors="coerce")
    blank = _blank(series)
    bad = numbers.isna().to_numpy() & ~blank
    if bad.any():
        _raise(f"column {column.name!r}: expected a number", column.name, bad, series)
    return numbers.astype("float64")


def _as_integer(series: pd.Series, column: Column) -> pd.Series:
    numbers = _as_number(series, column)
    fractional = numbers.notna().to_numpy() & (numbers.fillna(0) % 1 != 0).to_numpy()
    if fractional.any():
        _raise(f"column {column.name!r}: expected a whole number", column.name, fractional, series)
    return numbers.astype("Int64")


def _as_bool(series: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    bad = out.isna().to_numpy() & ~_blank(series)
    if bad.any():
        _raise(f"column {column.name!r}: expected true or false", column.name, bad, series)
    return out


def _as_code(series: pd.Series, column: Column) -> pd.Series:
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    bad = text.notna().to_numpy() & ~text.isin(column.codes).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        _raise(
            f"column {column.name!r}: unknown code; allowed: {', '.join(column.codes)}",
            column.name,
            bad,
            series,
        )
    return pd.Series(
        pd.Categorical(text.astype(object).where(text.notna(), None), categories=column.codes),
        index=series.index,
    )


def _as_text(series: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna() % 1 == 0
        if whole.all():
            series = series.astype("Int64")
    text = series.astype("string").str.strip()
    return text.mask(text == "")


def _coerce(series: pd.Series, column: Column) -> pd.Series:
    if column.kind in ("money", "float"):
        return _as_number(series, column)
    if column.kind in ("int", "score"):
        return _as_integer(series, column)
    if column.kind == "bool":
        return _as_bool(series, column)
    if column.kind == "code":
        return _as_code(series, column)
    return _as_text(series, column)


def _check_range(values: pd.Series, column: Column, original: pd.Series) -> None:
    lo, hi = SCORE_RANGE if column.kind == "score" else (column.minimum, column.maximum)
    numeric = values.astype("float64")
    if lo is not None:
        bad = (numeric < lo).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            what = "score outside 1-5" if column.kind == "score" else f"value below {lo:g}"
            if column.kind == "money":
                what = "negative cost"
            _raise(f"column {column.name!r}: {what}", column.name, bad, original)
    if hi is not None:
        bad = (numeric > hi).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            what = "score outside 1-5" if column.kind == "score" else f"value above {hi:g}"
            _raise(f"column {column.name!r}: {what}", column.name, bad, original)


def validate(
    frame: pd.DataFrame,
    *,
    authorities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Check a case table and return a typed copy with canonical column order.

    Parameters
    ----------
    frame:
        One row per child. Columns named as in :data:`COLUMNS`; optional columns that are
        absent are added as missing. Extra columns are kept, after the canonical ones.
    authorities:
        The authority names allowed. By default the English local authorities of the DfE
        children looked after releases 2015-2019 (:func:`lacstats.datasets.english_authorities`).

    Returns
    -------
    DataFrame
        Codes as categoricals, whole numbers and scores as ``Int64``, money, distances and
        months as ``float64``, flags as ``boolean``, plus the derived ``risk_score``.

    Raises
    ------
    DataError
        For a missing required column, a wrong type, a score outside 1-5, a negative or
        missing cost, an unknown authority, setting or code, or a duplicate ``case_id``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c.name for c in COLUMNS if c.required and c.name not in frame.columns]
    if missing:
        raise DataError(
            f"missing required column(s): {', '.join(missing)}; present: "
            f"{', '.join(map(str, frame.columns))}",
            column=missing[0],
        )
    n = len(frame)
    source = frame.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for column in COLUMNS:
        if column.name not in source.columns:
            out[column.name] = _coerce(pd.Series([pd.NA] * n, dtype="object"), column)
            continue
        original = source[column.name]
        values = _coerce(original, column)
        if not column.nullable:
            empty = values.isna().to_numpy(dtype=bool)
            if empty.any():
                what = "missing cost" if column.kind == "money" else "missing value"
                _raise(f"column {column.name!r}: {what}", column.name, empty, original)
        if column.kind in ("int", "float", "money", "score"):
            _check_range(values, column, original)
        out[column.name] = values

    known = _known_authorities(authorities)
    unknown = ~out["authority"].isin(known).to_numpy(dtype=bool)
    if unknown.any():
        _raise(
            "column 'authority': unknown authority (pass authorities= to allow others)",
            "authority",
            unknown,
            source["authority"],
        )
    duplicated = out["case_id"].duplicated(keep="first").to_numpy(dtype=bool)
    if duplicated.any():
        _raise("column 'case_id': duplicate case_id", "case_id", duplicated, source["case_id"])

    typed = pd.DataFrame(out)
    derived = risk_score(typed)
    if "risk_score" in source.columns:
        given = _as_integer(source["risk_score"], Column("risk_score", "int", ""))
        differs = (given.notna() & derived.notna() & (given != derived)).to_numpy(dtype=bool)
        if differs.any():
            _raise(
                "column 'risk_score': does not equal the sum of the seven risk factors",
                "risk_score",
                differs,
                source["risk_score"],
            )
    typed["risk_score"] = derived
    extra = [c for c in source.columns if c not in typed.columns]
    for name in extra:
        typed[name] = source[name]
    return typed


def _known_authorities(authorities: Iterable[str] | None) -> set[str]:
    if authorities is not None:
        return set(authorities)
    return set(english_authorities()["authority"])
