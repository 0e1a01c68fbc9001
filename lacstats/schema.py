"""The case table: one row per child in a sample, its columns, types, units and codes.

:func:`validate` turns any frame with these columns into a typed copy, or raises a
:class:`~lacstats.errors.DataError` naming the column, the first offending rows (1-based
data rows: the first row under the header is row 1) and their values. Every other module
of lacstats takes its input through :func:`validate`.

Codes are fixed vocabularies shared by every tool of the package (SSDA903 reader,
cohorts, reports). Need items are scored 1-5 as in the South East Complex LAC data
collection (Evans 2020, "South East Needs DfE Project: SE Fostering Group"): 1 = none,
2-3 = low, 4 = some, 5 = most prevalence; "prevalence" means a score of 4 or 5.
"""

from __future__ import annotations

import re
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
    "parse_date",
    "parse_money",
    "risk_score",
    "validate",
]

#: The case table's placement settings (codes).
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
#: The placement settings that are foster care.
FOSTER_SETTINGS: tuple[str, ...] = ("foster_in_house", "foster_ifa", "foster_kinship")
#: How far a placement meets the child's needs, least to most.
NEEDS_MET: tuple[str, ...] = ("not_met", "partly", "mostly", "completely")
AUTHORITY_TYPES: tuple[str, ...] = ("County", "Unitary")
SEXES: tuple[str, ...] = ("male", "female")

#: The seven risk factors whose scores sum to ``risk_score``.
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

#: Plausibility bounds: a weekly placement cost (GBP) or distance (miles) above these is a
#: typing or unit error (the longest road journey in Great Britain is under 900 miles;
#: SSDA903's 999.9 means "unknown" and must be left blank in a case table).
MAX_WEEKLY_COST = 100_000.0
MAX_MILES = 900.0


@dataclass(frozen=True)
class Column:
    """One column of the case table.

    Examples
    --------
    >>> from lacstats import schema
    >>> cost = next(column for column in schema.COLUMNS if column.name == "weekly_cost")
    >>> cost.kind, cost.unit, cost.required, cost.minimum
    ('money', 'GBP per week', True, 0)
    """

    name: str
    kind: str  # "id" | "text" | "code" | "int" | "float" | "money" | "bool" | "score"
    description: str
    unit: str = ""
    required: bool = False
    nullable: bool = True
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


#: Every column of the case table: name, type, description, unit and codes.
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
        maximum=MAX_WEEKLY_COST,
    ),
    Column(
        "distance_miles",
        "float",
        "distance of the placement from home; missing = unknown",
        unit="miles",
        minimum=0,
        maximum=MAX_MILES,
    ),
    Column("in_authority", "bool", "placed inside the responsible authority's boundary"),
    Column(
        "months_in_placement",
        "float",
        "time in the current placement",
        unit="months",
        minimum=0,
        maximum=12 * 25,
    ),
    Column("placement_number", "int", "1 = first placement", minimum=1, maximum=1000),
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
        maximum=MAX_WEEKLY_COST,
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

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import schema
    >>> needs = pd.DataFrame({factor: [1, 5] for factor in schema.RISK_FACTORS})
    >>> schema.risk_score(needs).tolist()
    [7, 35]
    """
    return frame[list(RISK_FACTORS)].sum(axis=1, min_count=len(RISK_FACTORS)).astype("Int64")


def _raise(message: str, column: str, mask: np.ndarray, values: pd.Series) -> None:
    raise DataError.at(message, column, mask, values)


#: Cell spellings of "missing", the same for CSV, XLSX and Parquet text (case-insensitive,
#: surrounding spaces ignored). An optional cell so written is missing; a required one is
#: an error.
NA_SPELLINGS = frozenset({"", "na", "n/a", "#n/a", "null", "nan", "none", "-"})

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_MONEY = re.compile(r"(-?)\s*£?\s*(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in NA_SPELLINGS


def _blank(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.isna().to_numpy(dtype=bool, na_value=True)
    return np.fromiter((_is_missing(v) for v in series), dtype=bool, count=len(series))


def _number_cell(value: object, money: bool) -> tuple[float, str]:
    """A cell as a float, or NaN and why not ("" when the cell is missing)."""
    if _is_missing(value):
        return np.nan, ""
    if isinstance(value, (bool, np.bool_)):
        return np.nan, "true/false is not a number"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if money:
            match = _MONEY.fullmatch(text)
            if not match or (match[1] and match[2]):
                why = "not an amount of money"
                if "," in text and re.fullmatch(r"[-£\s\d.,]+", text):
                    why += " (a comma only separates thousands, in groups of three)"
                return np.nan, why
            number = float(f"{match[1] or match[2]}{match[3].replace(',', '')}{match[4] or ''}")
        else:
            if not _NUMBER.fullmatch(text):
                why = "expected a number"
                if re.fullmatch(r"[-+]?\d+,\d+", text):
                    why += " (a decimal comma? write a point)"
                return np.nan, why
            number = float(text)
    else:
        return np.nan, f"expected a number, got {type(value).__name__}"
    if not np.isfinite(number):
        return np.nan, "not a finite number"
    return number, ""


def _parse_numbers(series: pd.Series, column: str, money: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        _raise(
            f"column {column!r}: expected a number, got true/false",
            column,
            series.notna().to_numpy(dtype=bool, na_value=False),
            series,
        )
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.astype("float64")
        bad = np.isinf(numbers.to_numpy())
        if bad.any():
            _raise(f"column {column!r}: not a finite number", column, bad, series)
        return numbers.reset_index(drop=True).set_axis(series.index)
    parsed = [_number_cell(v, money) for v in series]
    reasons = [why for _, why in parsed]
    bad = np.array([why != "" for why in reasons], dtype=bool)
    if bad.any():
        first = reasons[int(np.flatnonzero(bad)[0])]
        _raise(f"column {column!r}: {first}", column, bad, series)
    return pd.Series([n for n, _ in parsed], index=series.index, dtype="float64")


def parse_money(series: pd.Series, column: str = "weekly_cost") -> pd.Series:
    """Parse amounts written as ``4800``, ``4800.00``, ``£4,800`` or ``"£ 4,800.50"``.

    A comma separates thousands, in groups of three (``4,800``, ``1,250,000``), and nothing
    else: ``4,80``, ``48,00`` or ``4.800,50`` are ambiguous and rejected. Returns float64
    with NaN for missing cells (:data:`NA_SPELLINGS`); text that is not an amount, a
    true/false cell, or an infinite amount is a :class:`DataError` naming the cell. Bounds
    are checked by :func:`validate` (0 to :data:`MAX_WEEKLY_COST`).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import schema
    >>> schema.parse_money(pd.Series(["4800", "£4,800", "£ 4,800.50", None])).tolist()
    [4800.0, 4800.0, 4800.5, nan]
    """
    if not isinstance(series, pd.Series):
        series = pd.Series(series, dtype=object)
    return _parse_numbers(series, column, money=True)


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: object, name: str = "date") -> pd.Timestamp:
    """A date typed by a user: ``dd/mm/yyyy`` (as the SSDA903 guide writes dates) or ISO
    ``yyyy-mm-dd``, never month-first; a ``date``, ``datetime`` or ``Timestamp`` is taken
    as it is. Anything else, or a day that does not exist, is a :class:`DataError` naming
    ``name``.

    Examples
    --------
    >>> from lacstats import LacstatsError, schema
    >>> schema.parse_date("31/03/2024")
    Timestamp('2024-03-31 00:00:00')
    >>> schema.parse_date("2024-03-31")
    Timestamp('2024-03-31 00:00:00')
    >>> try:
    ...     schema.parse_date("03/31/2024", "census date")
    ... except LacstatsError as error:
    ...     print(error)
    ...
    census date: no such day: '03/31/2024' (dates are dd/mm/yyyy or yyyy-mm-dd)
    """
    import datetime as _dt

    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)) and not (
        isinstance(value, pd.Timestamp) and pd.isna(value)
    ):
        out = pd.Timestamp(value)
        if out.tz is not None or out != out.normalize():
            raise DataError(f"{name}: expected a date, got a time {value!r}", column=name)
        return out
    text = value.strip() if isinstance(value, str) else None
    iso = _ISO_DATE.fullmatch(text) if text else None
    uk = _UK_DATE.fullmatch(text) if text else None
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
    else:
        raise DataError(
            f"{name}: not a date: {value!r}; write dd/mm/yyyy or yyyy-mm-dd",
            column=name,
            values=[value],
        )
    try:
        out = pd.Timestamp(_dt.date(year, month, day))
    except ValueError:
        raise DataError(
            f"{name}: no such day: {value!r} (dates are dd/mm/yyyy or yyyy-mm-dd)",
            column=name,
            values=[value],
        ) from None
    if not 1900 <= year <= 2100:
        raise DataError(f"{name}: implausible year in {value!r}", column=name, values=[value])
    return out


def _as_number(series: pd.Series, column: Column) -> pd.Series:
    return _parse_numbers(series, column.name, money=column.kind == "money")


def _as_integer(series: pd.Series, column: Column) -> pd.Series:
    numbers = _as_number(series, column)
    huge = (numbers.abs() > 2**53).fillna(False).to_numpy(dtype=bool)
    if huge.any():
        _raise(f"column {column.name!r}: implausible value", column.name, huge, series)
    fractional = numbers.notna().to_numpy() & (numbers.fillna(0) % 1 != 0).to_numpy()
    if fractional.any():
        _raise(f"column {column.name!r}: expected a whole number", column.name, fractional, series)
    return numbers.astype("Int64")


def _as_bool(series: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")

    def flag(value: object) -> object:
        if _is_missing(value):
            return None
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        text = str(value).strip().lower()
        if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
            return bool(value)
        return True if text in _TRUE else False if text in _FALSE else "bad"

    flags = [flag(v) for v in series]
    bad = np.array([f == "bad" for f in flags], dtype=bool)
    if bad.any():
        _raise(f"column {column.name!r}: expected true or false", column.name, bad, series)
    return pd.Series(
        [pd.NA if f is None else f for f in flags], index=series.index, dtype="boolean"
    )


def _as_code(series: pd.Series, column: Column) -> pd.Series:
    text = pd.Series(
        [None if _is_missing(v) else str(v).strip() for v in series],
        index=series.index,
        dtype="string",
    )
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


def _text_cell(value: object) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _as_text(series: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna() % 1 == 0
        if whole.all():
            series = series.astype("Int64")
    text = pd.Series([_text_cell(v) for v in series], index=series.index, dtype="string")
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
            what = (
                "score outside 1-5"
                if column.kind == "score"
                else f"implausible value, above {hi:g} {column.unit}".rstrip()
            )
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

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import LacstatsError, schema
    >>> frame = pd.DataFrame({"case_id": ["KEN-001", "KEN-002"], "authority": ["Kent", "Kent"], "authority_type": ["County", "County"], "placement_setting": ["foster_ifa", "residential_private"], "weekly_cost": ["£950", "5,200"]})
    >>> cases = schema.validate(frame)
    >>> cases[["case_id", "placement_setting", "weekly_cost"]]
       case_id    placement_setting  weekly_cost
    0  KEN-001           foster_ifa        950.0
    1  KEN-002  residential_private       5200.0
    >>> frame.loc[1, "placement_setting"] = "castle"
    >>> try:
    ...     schema.validate(frame)
    ... except LacstatsError as error:
    ...     print(error)
    ...
    column 'placement_setting': unknown code; allowed: foster_in_house, foster_ifa, foster_kinship, residential_la_own, residential_other_la, residential_private, residential_school, secure_unit, semi_independent, unregistered, with_parents, other (row 2: 'castle')
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    _check_names(frame)
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
        allowed = (
            "not an English local authority's DfE name"
            if authorities is None
            else f"not one of the {len(known)} authorities allowed"
        )
        _raise(
            f"column 'authority': unknown authority: {allowed}",
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


def _normal_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _check_names(frame: pd.DataFrame) -> None:
    """Duplicate column names, and names that look like a case-table column without being
    one (``SEX``, ``Weekly Cost``, ``risk_cs``), are errors: such a column would otherwise
    be kept as an extra and the real one read as missing for every child."""
    import difflib

    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(
            f"duplicate column(s): {', '.join(duplicated)}; each column may appear once",
            column=duplicated[0],
        )
    canonical = [*(c.name for c in COLUMNS), "risk_score"]
    absent = [c for c in canonical if c not in names]
    for name in names:
        if name in canonical:
            continue
        normal = _normal_name(name)
        guess = (
            [normal]
            if normal in canonical
            else difflib.get_close_matches(normal, absent, n=1, cutoff=0.85)
        )
        if guess:
            raise DataError(
                f"column {name!r}: not a case-table column; did you mean {guess[0]!r}? "
                "(rename it, or it would be ignored)",
                column=name,
            )


def _known_authorities(authorities: Iterable[str] | None) -> set[str]:
    if authorities is not None:
        return set(authorities)
    return set(english_authorities()["authority"])
