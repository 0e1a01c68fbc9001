"""The DfE's rules on adoption: placed for adoption, AD1 and previous permanence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule

ADOPTION_PLACES = ("A3", "A4", "A5", "A6")


@rule(
    "551",
    "Child has been placed for adoption but there is no date of the decision that the child "
    "should be placed for adoption.",
    fields=("DATE_PLACED", "PLACE"),
    needs=("episodes", "placed_for_adoption"),
)
def _551(c: Context):
    e, p = c["episodes"], c["placed_for_adoption"]
    undated = ~c.has(e, "placed_for_adoption") | c.has(
        e, "placed_for_adoption", p["DATE_PLACED"].isna()
    )
    return {"episodes": e["PLACE"].isin(ADOPTION_PLACES) & undated}


def _order_without_decision(c: Context, status: str) -> dict:
    e, p = c["episodes"], c["placed_for_adoption"]
    order = e["LS"].eq(status)
    still = order & e["DEC"].isna()
    ceased = p["DATE_PLACED_CEASED"].notna() | p["REASON_PLACED_CEASED"].notna()
    return {
        "episodes": order & ~c.has(e, "placed_for_adoption"),
        "placed_for_adoption": ceased & c.has(p, "episodes", still),
    }


rule(
    "553",
    "Placement order has been granted but there is no date of decision that the child should "
    "be placed for adoption.",
    fields=("DATE_PLACED", "LS"),
    needs=("episodes", "placed_for_adoption"),
)(lambda c: _order_without_decision(c, "E1"))
rule(
    "555",
    "Freeing order has been granted but there is no date of decision that the child should be "
    "placed for adoption.",
    fields=("DATE_PLACED", "LS"),
    needs=("episodes", "placed_for_adoption"),
    last=2024,
)(lambda c: _order_without_decision(c, "D1"))


def _557(orders: tuple[str, ...]):
    def check(c: Context):
        e, p = c["episodes"], c["placed_for_adoption"]
        placed = e["PLACE"].isin(ADOPTION_PLACES) | e["LS"].isin(orders)
        left = ~e["REC"].isin(["E11", "E12"]) & e["REC"].notna() & e["REC"].ne("X1")
        asked = placed & left
        incomplete = p["DATE_PLACED_CEASED"].isna() | p["REASON_PLACED_CEASED"].isna()
        unrecorded = ~c.has(e, "placed_for_adoption") | c.has(e, "placed_for_adoption", incomplete)
        return {
            "episodes": asked & unrecorded,
            "placed_for_adoption": incomplete & c.has(p, "episodes", asked),
        }

    return check


# freeing orders (D1) are no longer a legal status from 2024-25
for _orders, _first, _last in ((("D1", "E1"), 2018, 2024), (("E1",), 2025, 2026)):
    rule(
        "557",
        "Child for whom the decision was made that they should be placed for adoption has left "
        "care but was not adopted and information on the decision that they should no longer "
        "be placed for adoption items has not been completed.",
        fields=("DATE_PLACED_CEASED", "REASON_PLACED_CEASED", "PLACE", "LS", "REC"),
        needs=("episodes", "placed_for_adoption"),
        first=_first,
        last=_last,
    )(_557(_orders))


@rule(
    "634",
    "There are entries for previous permanence options, but child has not started to be "
    "looked after from 1 April 2016 onwards.",
    fields=("LA_PERM", "PREV_PERM", "DATE_PERM", "DECOM"),
    needs=("episodes", "previous_permanence"),
)
def _634(c: Context):
    e, pp = c["episodes"], c["previous_permanence"]
    last_start = c.per_child(e, e["DECOM"], "max")
    early = last_start < c.start(e)
    given = pp[["PREV_PERM", "DATE_PERM", "LA_PERM"]].notna().any(axis=1)
    flagged = given & c.has(pp, "episodes", early)
    return {
        "episodes": early & c.has(e, "previous_permanence", given),
        "previous_permanence": flagged,
    }


@rule(
    "334",
    "Date child started to be looked after in latest period of care must be on or prior to the "
    "date should be placed for adoption. ",
    fields=("DATE_INT", "DECOM", "RNE"),
    needs=("episodes", "ad1"),
)
def _334(c: Context):
    e, a = c["episodes"], c["ad1"]
    starts = e["RNE"].eq("S") & e["DECOM"].notna()
    latest = starts & (e["DECOM"] == c.per_child(e, e["DECOM"].where(starts), "max"))
    latest = c.first_of(e, latest)
    interest = c.value(e, "ad1", "DATE_INT")
    too_early_child = latest & (interest < e["DECOM"])
    began = pd.Series(e.loc[latest, "DECOM"].to_numpy(), index=e.loc[latest, "_key"].to_numpy())
    flagged_ad1 = a["DATE_INT"] < c.spread(a, began, fill=None)
    # every AD1 row of the child against that start (the DfE merges them all)
    any_late = c.has(e, "ad1", flagged_ad1)
    return {"episodes": latest & (too_early_child | any_late), "ad1": flagged_ad1}


@rule(
    "602",
    "The episode data submitted for this child does not show that he/she was adopted during "
    "the year.",
    fields=("CHILD",),
    needs=("episodes", "ad1"),
)
def _602(c: Context):
    e, a = c["episodes"], c["ad1"]
    adopted = e["REC"].isin(["E11", "E12"]) & (e["DEC"] <= c.end(e)) & (e["DEC"] >= c.start(e))
    fields = ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]
    return {"ad1": ~c.has(a, "episodes", adopted) & a[fields].notna().any(axis=1)}


def _first_or_last(c: Context, mask: pd.Series, how: str) -> pd.Series:
    """Each child's first (``how="min"``) or last (``"max"``) episode by DECOM among
    ``mask`` (the earliest row on a tie), as a mask."""
    e = c["episodes"]
    chosen = mask & e["DECOM"].notna()
    edge = chosen & (e["DECOM"] == c.per_child(e, e["DECOM"].where(chosen), how))
    return c.first_of(e, edge)


@rule(
    "1003",
    "Date of LA's decision that a child should be placed for adoption is before the child "
    "started to be looked after.",
    fields=("DATE_PLACED", "DECOM", "RNE"),
    needs=("episodes", "placed_for_adoption"),
)
def _1003(c: Context):
    e, p = c["episodes"], c["placed_for_adoption"]
    first = _first_or_last(c, e["RNE"].eq("S"), "min")
    began = pd.Series(e.loc[first, "DECOM"].to_numpy(), index=e.loc[first, "_key"].to_numpy())
    early = p["DATE_PLACED"] < c.spread(p, began, fill=None)
    return {
        "episodes": first & c.has(e, "placed_for_adoption", early),
        "placed_for_adoption": early,
    }


@rule(
    "117",
    "Date of decision that a child should/should no longer be placed for adoption is beyond "
    "the current collection year or after the child ceased to be looked after.",
    fields=("DATE_PLACED_CEASED", "DATE_PLACED", "DEC", "REC", "DECOM"),
    needs=("episodes", "placed_for_adoption"),
)
def _117(c: Context):
    e, p = c["episodes"], c["placed_for_adoption"]
    last = _first_or_last(c, e["REC"].ne("X1"), "max")
    ended = pd.Series(e.loc[last, "DEC"].to_numpy(), index=e.loc[last, "_key"].to_numpy())
    dec = c.spread(p, ended, fill=None)
    end = c.end(p)
    late = (p["DATE_PLACED"] > end) | (p["DATE_PLACED"] > dec)
    late |= (p["DATE_PLACED_CEASED"] > end) | (p["DATE_PLACED_CEASED"] > dec)
    late &= c.has(p, "episodes", last)
    return {"episodes": last & c.has(e, "placed_for_adoption", late), "placed_for_adoption": late}


@rule(
    "118",
    "Date of decision that a child should no longer be placed for adoption is before the "
    "current collection year or before the date the child started to be looked after.",
    fields=("DECOM", "DECOM", "LS"),
    needs=("episodes", "placed_for_adoption"),
)
def _118(c: Context):
    e, p = c["episodes"], c["placed_for_adoption"]
    first = _first_or_last(c, ~e["LS"].isin(["V3", "V4"]), "min")
    began = pd.Series(e.loc[first, "DECOM"].to_numpy(), index=e.loc[first, "_key"].to_numpy())
    ceased = p["DATE_PLACED_CEASED"]
    early = ceased.notna() & c.has(p, "episodes", first)
    early &= (ceased < c.spread(p, began, fill=None)) | (ceased < c.start(p))
    return {
        "episodes": first & c.has(e, "placed_for_adoption", early),
        "placed_for_adoption": early,
    }


@rule(
    "120",
    "The reason for the reversal of the decision that the child should be placed for adoption "
    "code is not valid.",
    fields=("REASON_PLACED_CEASED",),
    needs=("placed_for_adoption",),
)
def _120(c: Context):
    p = c["placed_for_adoption"]
    reason = p["REASON_PLACED_CEASED"]
    return {"placed_for_adoption": ~(reason.isin(["RD1", "RD2", "RD3", "RD4"]) | reason.isna())}


def _adopters(c: Context, status: str, sexes: tuple[str, ...]) -> dict:
    a = c["ad1"]
    return {"ad1": a["LS_ADOPTR"].eq(status) & ~a["SEX_ADOPTR"].isin(sexes)}


@rule(
    "511",
    "If reporting that the number of person(s) adopting the looked after child is two adopters "
    "then the code should only be MM, FF or MF. MM = the adopting couple are both males; FF = "
    "the adopting couple are both females; MF = The adopting couple are male and female.",
    fields=("NB_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)
def _511(c: Context):
    a = c["ad1"]
    return {"ad1": a["NB_ADOPTR"].astype(str).eq("2") & a["SEX_ADOPTR"].isin(["M1", "F1"])}


rule(
    "514",
    "Data entry on the legal status of adopters shows a single adopter but data entry for the "
    "numbers of adopters shows it as a couple.",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L0", ("M1", "F1")))
rule(
    "517",
    "If reporting legal status of adopters is L3 then the genders of adopters should be coded "
    "as MF. MF = the adopting couple are male and female.",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L3", ("MF",)))
rule(
    "518",
    "If reporting legal status of adopters is L4 then the genders of adopters should be coded "
    "as MM or FF. MM = the adopting couple are both males. FF = the adopting couple are both "
    "females.",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L4", ("MM", "FF")))
rule(
    "519",
    "Data entered on the legal status of adopters shows civil partnership couple, but data "
    "entered on genders of adopters does not show it as a couple.",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L2", ("MM", "FF", "MF")))
rule(
    "520",
    "Data entry on the legal status of adopters shows different gender married couple but data "
    "entry on genders of adopters shows it as a same gender couple.",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L11", ("MF",)))
rule(
    "524",
    "If reporting legal status of adopters is L12 then the genders of adopters should be coded "
    "as MM or FF. MM = the adopting couple are both males. FF = the adopting couple are both "
    "females",
    fields=("LS_ADOPTR", "SEX_ADOPTR"),
    needs=("ad1",),
)(lambda c: _adopters(c, "L12", ("MM", "FF")))


@rule(
    "525",
    "A child for whom the decision to be placed for adoption has been reversed cannot be "
    "adopted during the year.",
    fields=(
        "DATE_PLACED_CEASED",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    needs=("placed_for_adoption", "ad1"),
)
def _525(c: Context):
    p, a = c["placed_for_adoption"], c["ad1"]
    reversed_ = p["DATE_PLACED_CEASED"].notna()
    fields = ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]
    adopted = a[fields].notna().any(axis=1)
    return {
        "placed_for_adoption": reversed_ & c.has(p, "ad1", adopted),
        "ad1": adopted & c.has(a, "placed_for_adoption", reversed_),
    }


@rule(
    "119",
    "If the decision is made that a child should no longer be placed for adoption, then the "
    "date of this decision and the reason why this decision was made must be completed.",
    fields=("REASON_PLACED_CEASED", "DATE_PLACED_CEASED"),
    needs=("placed_for_adoption",),
)
def _119(c: Context):
    p = c["placed_for_adoption"]
    return {
        "placed_for_adoption": p["DATE_PLACED_CEASED"].isna() != p["REASON_PLACED_CEASED"].isna()
    }


@rule(
    "630",
    "Information on previous permanence option should be returned.",
    fields=("RNE",),
    needs=("episodes", "previous_permanence"),
)
def _630(c: Context):
    e, pp = c["episodes"], c["previous_permanence"]
    entered = e["RNE"].eq("S") & (e["DECOM"] >= c.start(e))
    incomplete = (pp["PREV_PERM"].ne("Z1") & pp[["LA_PERM", "DATE_PERM"]].isna().any(axis=1)) | pp[
        "PREV_PERM"
    ].isna()
    absent = ~c.has(e, "previous_permanence")
    return {"episodes": entered & (absent | c.has(e, "previous_permanence", incomplete))}


def partial_date(text: pd.Series) -> pd.Series:
    """A date that may be partly unknown (``ZZ/06/2015``, ``ZZ/ZZ/2015``) as the latest
    day it can be; not a date (``NaT``) otherwise."""
    # each distinct text once (a column holds few), then back on the rows
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if not len(uniques):
        return _partial_dates(text)
    distinct = _partial_dates(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return pd.Series(
        distinct.array.take(codes, allow_fill=True), index=text.index, dtype=distinct.dtype
    )


def _partial_dates(text: pd.Series) -> pd.Series:
    values = text.to_numpy(dtype=object)
    if not len(values) or not all(isinstance(v, str) for v in values):
        return _partial_dates_of_columns(text)
    # distinct texts (few), split one by one: the same parts as the column-wise split
    parts = [v.upper().split("/") for v in values]
    if max(len(p) for p in parts) != 3:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    complete = np.array([len(p) == 3 for p in parts])
    unknown_day = pd.Series([p[0] == "ZZ" for p in parts], index=text.index)
    unknown_month = pd.Series([len(p) > 1 and p[1] == "ZZ" for p in parts], index=text.index)
    joined = pd.Series(
        [
            "/".join(
                (
                    "01" if p[0] == "ZZ" else p[0],
                    "01" if p[1] == "ZZ" else p[1],
                    "2000" if p[2] == "ZZZZ" else p[2],
                )
            )
            if len(p) == 3
            else None
            for p in parts
        ],
        index=text.index,
        dtype=object,
    )
    when = pd.to_datetime(joined, format="%d/%m/%Y", errors="coerce")
    when = when.where(~unknown_month, when + pd.DateOffset(years=1, days=-1))
    when = when.where(~(unknown_day & ~unknown_month), when + pd.DateOffset(months=1, days=-1))
    return when.where(complete)


def _partial_dates_of_columns(text: pd.Series) -> pd.Series:
    parts = text.astype(object).str.upper().str.split("/", expand=True)
    if parts.shape[1] != 3:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    day, month, year = parts[0], parts[1], parts[2]
    unknown_day, unknown_month = day.eq("ZZ"), month.eq("ZZ")
    year = year.where(~year.eq("ZZZZ"), "2000")
    joined = day.where(~unknown_day, "01") + "/" + month.where(~unknown_month, "01") + "/" + year
    when = pd.to_datetime(joined, format="%d/%m/%Y", errors="coerce")
    # an unknown month is the year's last day; an unknown day, the month's
    when = when.where(~unknown_month, when + pd.DateOffset(years=1, days=-1))
    when = when.where(~(unknown_day & ~unknown_month), when + pd.DateOffset(months=1, days=-1))
    return when.where(parts.notna().all(axis=1))


@rule(
    "632",
    "Date of previous permanence order not a valid value. NOTE: This rule may result in false "
    "negatives where the period of care started before the current collection year",
    fields=("DATE_PERM", "DECOM"),
    needs=("episodes", "previous_permanence"),
)
def _632(c: Context):
    e, pp = c["episodes"], c["previous_permanence"]
    first = _first_or_last(c, e["DECOM"].notna(), "min")
    began = pd.Series(e.loc[first, "DECOM"].to_numpy(), index=e.loc[first, "_key"].to_numpy())
    when = partial_date(pp["DATE_PERM"])
    bad = (when >= c.spread(pp, began, fill=None)) | (pp["DATE_PERM"].notna() & when.isna())
    bad &= c.has(pp, "episodes", first)
    return {"episodes": first & c.has(e, "previous_permanence", bad), "previous_permanence": bad}
