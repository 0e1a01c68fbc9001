"""The DfE's rules on codes, dates and links between tables: each cell against the code
list of its year (``codes.toml``), dates that are not dates, records of a child absent
from the header or with another date of birth, children recorded twice."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from lacstats.ssda903._codes import code_lists
from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule


@cache
def _lists() -> dict:
    return code_lists()


def valid_code(c: Context, table: str, column: str, field: str | None = None) -> pd.Series:
    """Whether each cell of ``column`` is a code of ``field``'s list (``codes.toml``) in
    the row's collection year; missing cells are not codes."""
    frame = c[table]
    listed = _lists()[field or column]
    values = frame[column]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    first = np.array(
        [listed[u].get("from", 0) if u in listed else np.inf for u in uniques] + [np.inf]
    )
    last = np.array(
        [listed[u].get("until", 9999) if u in listed else -np.inf for u in uniques] + [-np.inf]
    )
    years = frame["YEAR"].to_numpy(dtype=float)
    ok = (first[codes] <= years) & (years <= last[codes])
    return pd.Series(ok, index=frame.index)


def _code_rule(table: str, column: str, *, blank_ok: bool = True, field: str | None = None):
    def check(c: Context):
        frame = c[table]
        ok = valid_code(c, table, column, field)
        if blank_ok:
            ok |= frame[column].isna()
        return {table: ~ok}

    return check


def _listed(table: str, column: str, codes: tuple[str, ...], *, blank_ok: bool = True):
    def check(c: Context):
        values = c[table][column]
        ok = values.astype(str).isin(codes) | (values.isna() if blank_ok else False)
        return {table: ~ok}

    return check


rule("101", "Gender code is not valid.", fields=("SEX",), needs=("header",), last=2024)(
    _code_rule("header", "SEX", blank_ok=False)
)
# from 2024-25, M, F or U (codes.toml holds each year's list)
rule(
    "101",
    "The child or young person’s reported sex is not valid.",
    fields=("SEX",),
    needs=("header",),
    first=2025,
)(_code_rule("header", "SEX", blank_ok=False))
rule(
    "103",
    "The ethnicity code is either not valid or has not been entered.",
    fields=("ETHNIC",),
    needs=("header",),
)(_code_rule("header", "ETHNIC", blank_ok=False))
rule("143", "The reason for new episode code is not a valid code.", fields=("RNE",))(
    _code_rule("episodes", "RNE")
)
rule("144", "The legal status code is not a valid code.", fields=("LS",))(
    _code_rule("episodes", "LS")
)
rule("145", "Category of need code is not a valid code.", fields=("CIN",))(
    _code_rule("episodes", "CIN")
)
for _first, _last, _note in (
    (2018, 2024, ""),
    (
        2025,
        2025,
        (
            "the DfE's validator lists K3 as 'k3' in its 2024-25 rule and so flags every K3 "
            "placement; the guide adds K3 from 2024-25, and lacstats accepts it"
        ),
    ),
    (2026, 2026, ""),
):
    rule(
        "146",
        "Placement type code is not a valid code.",
        fields=("PLACE",),
        first=_first,
        last=_last,
        note=_note,
    )(_code_rule("episodes", "PLACE"))
rule("149", "Reason episode ceased code is not valid. ", fields=("REC",))(
    _code_rule("episodes", "REC")
)
rule(
    "1009",
    "Reason for placement change is not a valid code.",
    fields=("REASON_PLACE_CHANGE",),
)(_code_rule("episodes", "REASON_PLACE_CHANGE"))
rule("1006", "Missing type invalid.", fields=("MISSING",), needs=("missing",))(
    _listed("missing", "MISSING", ("M", "A"))
)
rule(
    "196",
    "Strengths and Difficulties (SDQ) reason is not a valid code.",
    fields=("SDQ_REASON",),
    needs=("oc2",),
)(_listed("oc2", "SDQ_REASON", ("SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5")))
rule(
    "631",
    "Previous permanence option not a valid value.",
    fields=("PREV_PERM",),
    needs=("previous_permanence",),
)(_listed("previous_permanence", "PREV_PERM", ("P1", "P2", "P3", "P4", "Z1")))


@rule("102", "Date of birth is not a valid date.", fields=("DOB",), needs=("header",))
def _102(c: Context):
    return {"header": c["header"]["DOB"].isna()}


@rule("166", "Date of review is invalid or blank.", fields=("REVIEW",), needs=("reviews",))
def _166(c: Context):
    return {"reviews": c["reviews"]["REVIEW"].isna()}


@rule(
    "167",
    "Data entry for participation is invalid or blank.",
    fields=("REVIEW_CODE",),
    needs=("reviews",),
)
def _167(c: Context):
    r = c["reviews"]
    codes = ("PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7")
    ok = (r["REVIEW"].notna() & r["REVIEW_CODE"].isin(codes)) | (
        r["REVIEW"].isna() & r["REVIEW_CODE"].isna()
    )
    return {"reviews": ~ok}


#: The tables whose children the DfE's internal checks look up in the header, by code:
#: (child absent from the header, date of birth unlike the header's).
LINKS = {
    "ad1": ("INT01", "INT11"),
    "placed_for_adoption": ("INT02", "INT12"),
    "episodes": ("INT03", None),
    "missing": ("INT04", "INT13"),
    "oc2": ("INT05", "INT14"),
    "oc3": ("INT06", "INT15"),
    "previous_permanence": ("INT07", "INT16"),
    "reviews": ("INT08", "INT17"),
    "uasc": ("INT09", "INT18"),
}
NAMES = {
    "ad1": "AD1",
    "placed_for_adoption": "PlacedAdoption",
    "episodes": "Episodes",
    "missing": "Missing",
    "oc2": "OC2",
    "oc3": "OC3",
    "previous_permanence": "PrevPerm",
    "reviews": "Reviews",
    "uasc": "UASC",
}


def _absent(table: str):
    def check(c: Context):
        frame = c[table]
        return {table: ~c.has(frame, "header") & frame["CHILD"].notna()}

    return check


def _other_dob(table: str):
    def check(c: Context):
        frame, h = c[table], c["header"]
        mine, theirs = frame["DOB"], h["DOB"]
        if not (
            pd.api.types.is_datetime64_any_dtype(mine.dtype)
            and pd.api.types.is_datetime64_any_dtype(theirs.dtype)
        ):
            return {table: _other_dob_paired(frame, h)}
        # a row is flagged when its date differs from that of any header row of the same
        # key (both given): from the earliest or the latest of them (found once for the
        # rules of every table)
        if "header_dob" not in c.memo:
            c.memo["header_dob"] = _dob_range(h["_key"].to_numpy(), theirs)
        unique, low, high = c.memo["header_dob"]
        own = frame["_key"].to_numpy()
        at = np.minimum(np.searchsorted(unique, own), max(len(unique) - 1, 0))
        paired = (unique[at] == own) if len(unique) else np.zeros(len(own), dtype=bool)
        date = mine.to_numpy()
        differs = (date != low[at]) | (date != high[at]) if len(unique) else paired
        return {table: paired & mine.notna().to_numpy() & differs}

    return check


def _dob_range(keys: np.ndarray, dob: pd.Series) -> tuple[np.ndarray, ...]:
    """The distinct keys with a DOB (sorted), and each one's earliest and latest DOB."""
    known = dob.notna().to_numpy()
    keys = keys[known]
    dates = dob.to_numpy()[known]
    order = np.lexsort((dates, keys))
    keys, dates = keys[order], dates[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
    high = dates[np.r_[starts[1:] - 1, len(keys) - 1]] if len(keys) else dates
    return keys[starts], dates[starts], high


def _other_dob_paired(frame: pd.DataFrame, h: pd.DataFrame) -> np.ndarray:
    """Rows whose DOB differs from that of a header row of the same key, by pairing them
    (for dates that are not typed as dates)."""
    pairs = pd.DataFrame(
        {
            "_key": frame["_key"].to_numpy(),
            "DOB": frame["DOB"].to_numpy(),
            "at": np.arange(len(frame)),
        }
    ).merge(h[["_key", "DOB"]], on="_key", suffixes=("", "_header"))
    differs = (
        (pairs["DOB"] != pairs["DOB_header"]) & pairs["DOB"].notna() & pairs["DOB_header"].notna()
    )
    out = np.zeros(len(frame), dtype=bool)
    out[pairs.loc[differs, "at"].to_numpy()] = True
    return out


for _table, (_absent_code, _dob_code) in LINKS.items():
    _kind = "Data Integrity Check" if _absent_code == "INT01" else "Internal Check"
    rule(
        _absent_code,
        f"{_kind}: Child in {NAMES[_table]} does not exist in Header.",
        fields=("CHILD",),
        needs=("header", _table),
    )(_absent(_table))
    if _dob_code:
        rule(
            _dob_code,
            f"Internal Check: DOB in {NAMES[_table]} is different to DOB in Header.",
            fields=("DOB",),
            needs=("header", _table),
        )(_other_dob(_table))


def _twice(table: str):
    def check(c: Context):
        frame = c[table]
        counts = frame.groupby("_key", sort=False)["_key"].transform("size")
        return {table: (counts > 1) & frame["CHILD"].notna()}

    return check


rule(
    "INT32",
    "Internal Check: Child should only exist once in Header.",
    fields=("CHILD",),
    needs=("header",),
)(_twice("header"))
rule(
    "INT33",
    "Internal Check: Child should only exist once in OC2.",
    fields=("CHILD",),
    needs=("oc2",),
)(_twice("oc2"))
rule(
    "INT35",
    "Internal Check: Child should only exist once in PrevPerm.",
    fields=("CHILD",),
    needs=("previous_permanence",),
)(_twice("previous_permanence"))


@rule(
    "INT21",
    "Internal Check: SEX in UASC is different to SEX in Header.",
    fields=("SEX",),
    needs=("header", "uasc"),
)
def _int21(c: Context):
    u = c["uasc"]
    sex = c.value(u, "header", "SEX")
    return {
        "uasc": c.has(u, "header") & (u["SEX"].astype(str) != sex.astype(str)) & u["SEX"].notna()
    }
