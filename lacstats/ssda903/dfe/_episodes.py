"""The DfE's rules on the Episodes table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule

TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
SHORT_BREAKS = ("V3", "V4")
PROVIDERS = ("PR0", "PR1", "PR2", "PR3", "PR4", "PR5")


@rule(
    "148",
    "Date episode ceased and reason episode ceased must both be coded, or both left blank.",
    fields=("DEC", "REC"),
)
def _148(c: Context):
    e = c["episodes"]
    return {"episodes": e["DEC"].isna() != e["REC"].isna()}


@rule("178", "Placement provider code is not a valid code.", fields=("PLACE_PROVIDER",), last=2025)
def _178(c: Context):
    e = c["episodes"]
    provider = e["PLACE_PROVIDER"]
    none = e["PLACE"].isin((*TEMPORARY, "Z1"))
    ok = (provider.isin(PROVIDERS) & ~none) | provider.isna()
    return {"episodes": ~ok}


@rule("213", "Placement provider information not required.", fields=("PLACE_PROVIDER",), last=2025)
def _213(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].isin(TEMPORARY) & e["PLACE_PROVIDER"].notna()}


def _222(places: tuple[str, ...]):
    def check(c: Context):
        e = c["episodes"]
        urn = e["URN"].notna() & e["URN"].ne("XXXXXXX")
        return {"episodes": e["PLACE"].isin(places) & urn}

    return check


_NO_URN = ("P1", "P3", "R1", "R2", "R5", *TEMPORARY)
# the placements that have no Ofsted URN, by the years of the DfE's versions of the rule:
# H5 needs one from 28 October 2023, P2 is retired, Z1 is split into Z11-Z14 in 2025-26
for _places, _first, _last in (
    (("H5", "P2", *_NO_URN, "Z1"), 2018, 2023),
    (("P2", *_NO_URN, "Z1"), 2024, 2024),
    ((*_NO_URN, "Z1"), 2025, 2025),
    ((*_NO_URN, "Z11", "Z12", "Z13", "Z14"), 2026, 2026),
):
    rule(
        "222",
        "Ofsted Unique reference number (URN) should not be recorded for this placement type.",
        fields=("URN",),
        first=_first,
        last=_last,
    )(_222(_places))


@rule(
    "226",
    "Reason for placement change is not required.",
    fields=("REASON_PLACE_CHANGE",),
    last=2025,
)
def _226(c: Context):
    e = c["episodes"]
    given = e["REASON_PLACE_CHANGE"].notna() | c.previous("REASON_PLACE_CHANGE").notna()
    return {"episodes": e["PLACE"].isin(TEMPORARY) & given}


@rule("380", "A period of care cannot start with a temporary placement.", fields=("PLACE", "RNE"))
def _380(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].isin(TEMPORARY) & ~e["RNE"].isin(["P", "B"])}


@rule("381", "A period of care cannot end with a temporary placement.", fields=("PLACE", "REC"))
def _381(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].isin(TEMPORARY) & e["REC"].ne("X1") & e["REC"].notna()}


@rule(
    "383",
    "A child in a temporary placement must subsequently return to his/her normal placement.",
    fields=("PLACE",),
    last=2025,
)
def _383(c: Context):
    e = c["episodes"]
    before = c.previous("PLACE")
    two_before = pd.Series(
        c.previous("PLACE").to_numpy(), index=e.index
    )  # replaced below by the episode two before
    at, exists = c._previous
    second = np.where(exists, at, 0)
    two_before = pd.Series(before.to_numpy()[second], index=e.index).where(
        exists & c.has_previous[second]
    )
    after_temporary = before.isin(TEMPORARY) & pd.Series(exists, index=e.index)
    back = e["RNE"].eq("P") & (e["PLACE"] == two_before)
    return {"episodes": after_temporary & two_before.notna() & ~back}


@rule(
    "388",
    "Reason episode ceased is coded new episode begins, but there is no continuation episode.",
    fields=("REC",),
)
def _388(c: Context):
    e = c["episodes"]
    following = c.next("DECOM")
    more = c.has_next
    x1 = e["REC"].eq("X1")
    ended = e["DEC"].notna()
    continues = e["DEC"] == following
    case_1 = more & x1 & ended & ~continues
    case_2 = more & ~x1 & e["REC"].notna() & ended & continues
    case_3 = ~more & ended & x1
    return {"episodes": case_1 | case_2 | case_3}


def _provider_with(code: str, places: tuple[str, ...]):
    def check(c: Context):
        e = c["episodes"]
        return {"episodes": e["PLACE"].isin(places) & e["PLACE_PROVIDER"].eq(code)}

    return check


rule(
    "527",
    "A placement provider code of PR1 cannot be associated with placements P1, R2 or R5.",
    fields=("PLACE", "PLACE_PROVIDER"),
)(_provider_with("PR1", ("P1", "R2", "R5")))
rule(
    "528",
    "A placement provider code of PR2 cannot be associated with placements P1, R2 or R5.",
    fields=("PLACE", "PLACE_PROVIDER"),
)(_provider_with("PR2", ("P1", "R2", "R5")))
rule(
    "529",
    "Placement provider code of PR3 cannot be associated with placements P1, A3 to A6, K1, "
    "K2 and U1 to U6 as these placements cannot be provided by other public organisations.",
    fields=("PLACE", "PLACE_PROVIDER"),
)(
    _provider_with(
        "PR3", ("A3", "A4", "A5", "A6", "K1", "K2", "P1", "U1", "U2", "U3", "U4", "U5", "U6")
    )
)
rule(
    "530",
    "A placement provider code of PR4 cannot be associated with placement P1.",
    fields=("PLACE", "PLACE_PROVIDER"),
)(_provider_with("PR4", ("P1",)))
rule(
    "531",
    "A placement provider code of PR5 cannot be associated with placements P1.",
    fields=("PLACE", "PLACE_PROVIDER"),
)(_provider_with("PR5", ("P1",)))


@rule(
    "550",
    "A placement provider code of PR0 can only be associated with placement P1.",
    fields=("PLACE", "PLACE_PROVIDER"),
)
def _550(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].ne("P1") & e["PLACE_PROVIDER"].eq("PR0")}


def _spell_days(c: Context, status: str, longest: int, *, total: bool) -> dict:
    """Episodes under legal status ``status`` whose run of consecutive such episodes of
    the child (each starting by the end of the one before) lasts more than ``longest``
    days: the sum of the episodes' days (``total``) or the days from the first start to
    the last end; an open episode ends on 31 March."""
    e = c["episodes"]
    order = c.order
    ls = e["LS"].to_numpy()[order] == status
    keys = e["_key"].to_numpy()[order]
    decom = e["DECOM"].to_numpy()[order]
    dec = e["DEC"].fillna(c.end(e)).to_numpy()[order]
    picked = np.flatnonzero(ls & ~pd.isna(decom))
    if not len(picked):
        return {"episodes": np.zeros(len(e), dtype=bool)}
    k, start, end = keys[picked], decom[picked], dec[picked]
    new = np.ones(len(picked), dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (start[1:] > end[:-1])
    run = np.cumsum(new)
    frame = pd.DataFrame({"run": run, "start": start, "end": end})
    if total:
        days = (
            ((frame["end"] - frame["start"]).dt.days)
            .groupby(frame["run"], sort=False)
            .transform("sum")
        )
    else:
        grouped = frame.groupby("run")
        days = (grouped["end"].transform("max") - grouped["start"].transform("min")).dt.days
    out = np.zeros(len(e), dtype=bool)
    out[order[picked]] = (days > longest).to_numpy()
    return {"episodes": out}


@rule(
    "361",
    "Police protection legal status lasted longer than maximum 72 hours allowed in the "
    "Children Act 1989.",
    fields=("LS", "DEC", "DECOM"),
)
def _361(c: Context):
    return _spell_days(c, "L1", 3, total=False)


@rule(
    "362",
    "Emergency protection order (EPO) lasted longer than 21 days",
    fields=("LS", "DEC", "DECOM"),
)
def _362(c: Context):
    return _spell_days(c, "L2", 21, total=False)


@rule(
    "363",
    "Child assessment order (CAO) lasted longer than 7 days allowed in the Children Act 1989.",
    fields=("LS", "DEC", "DECOM"),
)
def _363(c: Context):
    return _spell_days(c, "L3", 7, total=True)


@rule(
    "364",
    "Sections 41-46 of Police and Criminal Evidence (PACE; 1984) severely limits the time a "
    "child can be detained in custody in Local Authority (LA) accommodation.",
    fields=("LS", "DEC", "DECOM"),
)
def _364(c: Context):
    return _spell_days(c, "J2", 21, total=True)


@rule(
    "365",
    "Any individual short- term respite placement must not exceed 17 days.",
    fields=("LS", "DECOM", "DEC"),
)
def _365(c: Context):
    e = c["episodes"]
    ends = e["DEC"].fillna(c.end(e))
    return {"episodes": e["LS"].eq("V3") & (ends > e["DECOM"] + pd.DateOffset(days=17))}


@rule(
    "366",
    "A child cannot change placement during the course of an individual short-term respite break.",
    fields=("RNE",),
)
def _366(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].eq("V3") & e["RNE"].ne("S")}


@rule(
    "367",
    "The maximum amount of respite care allowable is 75 days in any 12-month period.",
    fields=("DECOM", "DEC", "LS"),
)
def _367(c: Context):
    e = c["episodes"]
    start, end = c.start(e), c.end(e)
    dec = e["DEC"].where(e["DEC"].notna() & (e["DEC"] <= end), end)
    decom = e["DECOM"].where(e["DECOM"] >= start, start)
    days = (dec - decom).dt.days
    counted = e["LS"].eq("V3") & e["DECOM"].notna() & (days > 0)
    total = c.per_child(e, days.where(counted, 0), "sum")
    return {"episodes": counted & (total > 75)}


@rule(
    "398",
    "Distance field completed but child looked after under legal status V3 or V4.",
    fields=("LS", "HOME_POST", "PL_POST"),
)
def _398(c: Context):
    e = c["episodes"]
    return {
        "episodes": e["LS"].isin(SHORT_BREAKS) & (e["HOME_POST"].notna() | e["PL_POST"].notna())
    }


@rule("214", "Placement location information not required.", fields=("PL_POST", "URN"))
def _214(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].isin(SHORT_BREAKS) & (e["PL_POST"].notna() | e["URN"].notna())}


@rule(
    "336",
    "Child does not have a foster placement immediately prior to being placed for adoption.",
    fields=("PLACE",),
)
def _336(c: Context):
    e = c["episodes"]
    before = c.previous("PLACE")
    fostered = ("A3", "A4", "A5", "A6", "U1", "U2", "U3", "U4", "U5", "U6")
    return {"episodes": e["PLACE"].isin(["A3", "A4"]) & ~before.isin(fostered) & c.has_previous}


def _too_young(c: Context, place: str, years: int) -> dict:
    """Episodes in placement ``place`` (with DECOM, DEC and DOB) starting before the
    child's birthday ``years``."""
    e = c["episodes"]
    dob = c.value(e, "header", "DOB")
    known = e["DECOM"].notna() & e["DEC"].notna() & dob.notna() & c.has(e, "header")
    return {
        "episodes": e["PLACE"].eq(place) & known & (e["DECOM"] < dob + pd.DateOffset(years=years))
    }


def _too_long(c: Context, place: str, days: int) -> dict:
    """Episodes in placement ``place`` (with DECOM, DEC and the child's DOB) lasting more
    than ``days`` days."""
    e = c["episodes"]
    dob = c.value(e, "header", "DOB")
    known = e["DECOM"].notna() & e["DEC"].notna() & dob.notna() & c.has(e, "header")
    return {
        "episodes": e["PLACE"].eq(place)
        & known
        & (e["DEC"] > e["DECOM"] + pd.DateOffset(days=days))
    }


rule(
    "370",
    "Child in independent living should be at least 15.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
    last=2023,
)(lambda c: _too_young(c, "P2", 15))
rule(
    "371",
    "Child in semi-independent living accommodation not subject to children’s homes "
    "regulations should be at least 14.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
    last=2023,
)(lambda c: _too_young(c, "H5", 14))
rule(
    "374",
    "Child in residential employment should be at least 14 years old.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_young(c, "P3", 14))
rule(
    "375",
    "Hospitalisation coded as a temporary placement exceeds six weeks.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_long(c, "T1", 42))


@rule(
    "358",
    "Child with this legal status should not be under 10.",
    fields=("DECOM", "DOB", "LS"),
    needs=("episodes", "header"),
)
def _358(c: Context):
    e = c["episodes"]
    dob = c.value(e, "header", "DOB")
    flagged = e["LS"].isin(["J1", "J2", "J3"]) & (dob + pd.DateOffset(years=10) >= e["DECOM"])
    h = c["header"]
    return {"episodes": flagged, "header": c.has(h, "episodes", flagged)}


@rule(
    "408",
    "Child is placed for adoption with a placement order, but no placement order has been "
    "recorded.",
    fields=("PLACE", "LS"),
)
def _408(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].isin(["A5", "A6"]) & e["LS"].ne("E1")}


@rule(
    "445",
    "D1 is not a valid code for episodes starting after December 2005.",
    fields=("LS", "DECOM"),
    last=2024,
)
def _445(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].eq("D1") & (e["DECOM"] > pd.Timestamp("2005-12-31"))}


@rule(
    "217",
    "Children who are placed for adoption with current foster carers (placement types A3 or "
    "A5) must have a reason for new episode of S, T or U.",
    fields=("PLACE", "DECOM", "RNE"),
)
def _217(c: Context):
    e = c["episodes"]
    recent = e["PLACE"].isin(["A3", "A5"]) & (e["DECOM"] >= pd.Timestamp("2015-04-01"))
    return {"episodes": recent & ~e["RNE"].isin(["S", "T", "U"])}


@rule(
    "142",
    "A new episode has started, but the previous episode has not ended.",
    fields=("DEC", "REC"),
)
def _142(c: Context):
    e = c["episodes"]
    unended = e["DEC"].isna() | e["REC"].isna()
    return {"episodes": ~c.last_episode & unended & e["DECOM"].notna()}


@rule("225", "Reason for placement change must be recorded.", fields=("REASON_PLACE_CHANGE",))
def _225(c: Context):
    e = c["episodes"]
    moves = c.next("RNE").isin(["P", "B", "T", "U"]) & ~c.next("PLACE").isin(TEMPORARY)
    unexplained = e["REC"].eq("X1") & e["REASON_PLACE_CHANGE"].isna() & ~e["PLACE"].isin(TEMPORARY)
    return {"episodes": c.has_next & unexplained & moves}


@rule(
    "357",
    "If this is the first episode ever for this child, reason for new episode must be S.  Check "
    "whether there is an episode immediately preceding this one, which has been left out.  If "
    "not the reason for new episode code must be amended to S.",
    fields=("RNE",),
)
def _357(c: Context):
    e = c["episodes"]
    dated = e["DECOM"].notna()
    first = dated & (e["DECOM"] == c.per_child(e, e["DECOM"].where(dated), "min"))
    first = c.first_of(e, first)
    return {"episodes": first & (e["DECOM"] >= c.start(e)) & e["RNE"].ne("S")}


rule(
    "372",
    "Child in youth custody or prison should be at least 10.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_young(c, "R5", 10))
rule(
    "373",
    "Child placed in a school should be at least 4 years old.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_young(c, "S1", 4))
rule(
    "376",
    "Temporary placements coded as being due to holiday of usual foster carer(s) cannot exceed "
    "three weeks.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_long(c, "T3", 21))
rule(
    "379",
    "Temporary placements for unspecified reason (placement code T4) cannot exceed seven days.",
    fields=("DECOM", "PLACE"),
    needs=("episodes", "header"),
)(lambda c: _too_long(c, "T4", 7))


@rule(
    "377",
    "Only two temporary placements coded as being due to holiday of usual foster carer(s) are "
    "allowed in any 12- month period.",
    fields=("PLACE",),
)
def _377(c: Context):
    e = c["episodes"]
    holiday = e["PLACE"].eq("T3")
    return {"episodes": holiday & (c.per_child(e, holiday, "sum") > 2)}


@rule(
    "378",
    "A child who is placed with parent(s) cannot be looked after under a single period of "
    "accommodation under Section 20 of the Children Act 1989.",
    fields=("PLACE", "LS"),
)
def _378(c: Context):
    e = c["episodes"]
    return {"episodes": e["PLACE"].eq("P1") & e["LS"].eq("V2")}


@rule(
    "382",
    "A child receiving respite care cannot be in a temporary placement.",
    fields=("LS", "PLACE"),
)
def _382(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].isin(SHORT_BREAKS) & e["PLACE"].isin(TEMPORARY)}


@rule(
    "384",
    "A child receiving respite care cannot be in a long-term foster placement ",
    fields=("PLACE", "LS"),
)
def _384(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].isin(SHORT_BREAKS) & e["PLACE"].isin(["U1", "U4"])}


@rule(
    "199",
    "Episode information shows child has been previously adopted from care. [NOTE: This only "
    "tests the current and previous year data loaded into the tool]",
    fields=("CHILD",),
)
def _199(c: Context):
    e = c["episodes"]
    order = c.order
    adopted = e["REC"].isin(["E11", "E12"]).to_numpy()[order].astype(np.int64)
    dated = e["DECOM"].notna().to_numpy()[order]
    keys = e["_key"].to_numpy()[order]
    counted = np.where(dated, adopted, 0)
    so_far = pd.Series(counted).groupby(keys, sort=False).cumsum().to_numpy()
    flag = dated & (so_far > 0) & ~((so_far == 1) & (adopted == 1))
    out = np.zeros(len(e), dtype=bool)
    out[order] = flag
    return {"episodes": out}


@rule(
    "385",
    "Date episode ceased must be on or before the end of the current collection year.",
    fields=("DEC",),
)
def _385(c: Context):
    e = c["episodes"]
    return {"episodes": e["DEC"] > c.end(e)}


def _ceased_too_young(c: Context, reasons: tuple[str, ...], years: int, *, dated: bool) -> dict:
    """Episodes ceased for ``reasons`` before the child's birthday ``years`` (with
    ``dated``, only those with a DEC)."""
    e = c["episodes"]
    birthday = c.value(e, "header", "DOB") + pd.DateOffset(years=years)
    old_enough = (birthday <= e["DEC"]).fillna(False)
    flagged = e["REC"].isin(reasons) & ~old_enough
    if dated:
        flagged &= e["DEC"].notna()
    return {"episodes": flagged}


rule(
    "387",
    "Reason episode ceased is child moved into independent living arrangement, but the child "
    "is aged under 14.",
    fields=("REC",),
    needs=("episodes", "header"),
)(lambda c: _ceased_too_young(c, ("E5", "E6"), 14, dated=True))
rule(
    "389",
    "Reason episode ceased is that child transferred to care of adult social care services, "
    "but child is aged under 16.",
    fields=("REC",),
    needs=("episodes", "header"),
)(lambda c: _ceased_too_young(c, ("E7",), 16, dated=False))


@rule(
    "460",
    "Reason episode ceased is that child stayed with current carers at age 18 (or above), but "
    "child is aged under 18.",
    fields=("DEC", "REC"),
    needs=("episodes", "header"),
)
def _460(c: Context):
    e = c["episodes"]
    birthday = c.value(e, "header", "DOB") + pd.DateOffset(years=18)
    return {"episodes": e["REC"].eq("E17") & (birthday > e["DEC"])}


@rule(
    "390",
    "Reason episode ceased is adopted but child has not been previously placed for adoption.",
    fields=("PLACE", "REC"),
)
def _390(c: Context):
    e = c["episodes"]
    return {"episodes": e["REC"].isin(["E11", "E12"]) & ~e["PLACE"].isin(["A3", "A4", "A5", "A6"])}


@rule(
    "426",
    "A child receiving respite care cannot be recorded under a legal status of V3 and V4 in "
    "the same year.",
    fields=("LS",),
)
def _426(c: Context):
    e = c["episodes"]
    v3, v4 = e["LS"].eq("V3"), e["LS"].eq("V4")
    both = c.per_child(e, v3, "any") & c.per_child(e, v4, "any")
    return {"episodes": both & (v3 | v4)}


@rule(
    "431",
    "The reason for new episode is started to be looked after, but the previous episode ended "
    "on the same day.",
    fields=("RNE", "DECOM"),
)
def _431(c: Context):
    e = c["episodes"]
    return {"episodes": c.has_previous & e["RNE"].eq("S") & (e["DECOM"] <= c.previous("DEC"))}


#: Reasons an episode ceased that end the period of care (every REC but X1).
LEFT_CARE = (
    "E2", "E3", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "E11", "E12", "E13", "E14",
    "E15", "E16", "E17", "E41", "E45", "E46", "E47", "E48",
)  # fmt: skip


@rule(
    "432",
    "The child ceased to be looked after at the end of the previous episode but the reason for "
    "the new episode is not started to be looked after.",
    fields=("RNE",),
)
def _432(c: Context):
    e = c["episodes"]
    return {"episodes": c.has_previous & c.previous("REC").isin(LEFT_CARE) & e["RNE"].ne("S")}


@rule(
    "433",
    "The reason for new episode suggests that this is a continuation episode, but the episode "
    "does not start on the same day as the last episode finished.",
    fields=("RNE", "DECOM"),
)
def _433(c: Context):
    e = c["episodes"]
    before = c.previous("DEC")
    mismatch = (before != e["DECOM"]) | before.isna() | e["DECOM"].isna()
    ongoing = e["RNE"].isin(["P", "L", "T", "U", "B"])
    return {"episodes": c.has_previous & ongoing & mismatch}


PLACEMENT = ("PLACE", "PL_POST", "URN", "PLACE_PROVIDER")


def _same_placement(c: Context, *, blank_equal: bool) -> pd.Series:
    memo = ("same_placement", blank_equal)
    if memo not in c.memo:
        c.memo[memo] = _same_placement_of(c, blank_equal=blank_equal)
    return c.memo[memo]


def _same_placement_of(c: Context, *, blank_equal: bool) -> pd.Series:
    e = c["episodes"]
    same = pd.Series(True, index=e.index)
    for column in PLACEMENT:
        here, before = e[column], c.previous(column)
        equal = here == before
        if blank_equal:
            equal |= here.isna() & before.isna()
        same &= equal
    return same


@rule(
    "434",
    "Reason for new episode is that child's legal status has changed but not the placement, "
    "but this is not reflected in the episode data.",
    fields=("RNE", "LS", "PLACE", "PL_POST", "URN", "PLACE_PROVIDER"),
)
def _434(c: Context):
    e = c["episodes"]
    same_status = e["LS"] == c.previous("LS")
    moved = ~_same_placement(c, blank_equal=True)
    return {"episodes": c.has_previous & e["RNE"].eq("L") & (same_status | moved)}


@rule(
    "435",
    "Reason for new episode is that child’s placement has changed but not the legal status, "
    "but this is not reflected in the episode data recorded.",
    fields=("LS", "PLACE", "PL_POST", "URN", "PLACE_PROVIDER"),
)
def _435(c: Context):
    e = c["episodes"]
    status_changed = e["LS"] != c.previous("LS")
    stayed = _same_placement(c, blank_equal=False)
    return {"episodes": c.has_previous & e["RNE"].isin(["P", "T"]) & (status_changed | stayed)}


@rule(
    "436",
    "Reason for new episode is that both child’s placement and legal status have changed, but "
    "this is not reflected in the episode data.",
    fields=("RNE", "LS", "PLACE", "PL_POST", "URN", "PLACE_PROVIDER"),
)
def _436(c: Context):
    e = c["episodes"]
    before = c.previous("LS")
    same_status = (e["LS"] == before) | (e["LS"].isna() & before.isna())
    stayed = _same_placement(c, blank_equal=True)
    return {"episodes": c.has_previous & e["RNE"].isin(["U", "B"]) & (same_status | stayed)}


@rule(
    "437",
    "Reason episode ceased is child has died or is aged 18 or over but there are further "
    "episodes.",
    fields=("REC",),
)
def _437(c: Context):
    e = c["episodes"]
    return {"episodes": e["REC"].isin(["E2", "E15"]) & c.has_next & e["DECOM"].notna()}


@rule(
    "501",
    "A new episode has started before the end date of the previous episode.",
    fields=("DECOM", "DEC"),
)
def _501(c: Context):
    e = c["episodes"]
    return {"episodes": c.has_previous & (e["DECOM"] < c.previous("DEC"))}


@rule(
    "516",
    "The episode data submitted for this child does not show that he/she was with their former "
    "foster carer(s) during the year.If the code in the reason episode ceased is E45 or E46 the "
    "child must have a placement code of U1 to U6.",
    fields=("REC", "PLACE"),
)
def _516(c: Context):
    e = c["episodes"]
    fostered = e["PLACE"].isin(["U1", "U2", "U3", "U4", "U5", "U6"])
    return {"episodes": e["REC"].isin(["E45", "E46"]) & ~fostered}


#: Why the rules on the fields the DfE derives from postcodes may flag other rows.
DERIVED = (
    "the DfE derives PL_LA, PL_LOCATION and PL_DISTANCE from HOME_POST and PL_POST with the "
    "ONS postcode directory, which lacstats does not ship: lacstats checks these fields as "
    "the return or extract writes them, in the returns that write them"
)


def _written_in(c: Context, column: str) -> pd.Series:
    """Whether each episode's return writes ``column`` at all (a field the DfE derives
    from postcodes is absent from an authority's own files)."""
    e = c["episodes"]
    written = e[column].notna().groupby(e["_ret"].to_numpy(), sort=False).transform("max")
    return pd.Series(written.to_numpy(dtype=bool), index=e.index)


def _uasc_children(c: Context, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's child is (or was, in an earlier return read) unaccompanied and
    asylum-seeking: UASC 1 in a header record of the same authority."""
    h = c["header"]
    flagged = h["UASC"].astype(str).isin(["1", "True", "TRUE"])
    return c.has(frame, "header", flagged)


@rule(
    "169",
    "Local Authority (LA) of placement is not valid or is missing. Please check a valid "
    "postcode has been entered.",
    fields=("PL_LA",),
    note=DERIVED,
)
def _169(c: Context):
    e = c["episodes"]
    return {"episodes": ~e["LS"].isin(SHORT_BREAKS) & e["PL_LA"].isna() & _written_in(c, "PL_LA")}


@rule("179", "Placement location code is not a valid code.", fields=("PL_LOCATION",), note=DERIVED)
def _179(c: Context):
    e = c["episodes"]
    blank = e["PL_LOCATION"].isna() & _written_in(c, "PL_LOCATION")
    return {"episodes": ~e["LS"].isin(SHORT_BREAKS) & blank}


@rule(
    "420",
    "LA of placement completed but child is looked after under legal status V3 or V4.",
    fields=("PL_LA",),
    note=DERIVED,
)
def _420(c: Context):
    e = c["episodes"]
    return {"episodes": e["LS"].isin(SHORT_BREAKS) & e["PL_LA"].notna()}


@rule(
    "392a",
    "Child is looked after but no distance is recorded. [NOTE: This check may result in false "
    "positives for children formerly UASC]",
    fields=("PL_DISTANCE",),
    needs=("episodes", "header"),
    note=DERIVED,
)
def _392a(c: Context):
    e = c["episodes"]
    missing = ~e["LS"].isin(SHORT_BREAKS) & e["PL_DISTANCE"].isna() & _written_in(c, "PL_DISTANCE")
    return {"episodes": missing & ~_uasc_children(c, e)}


@rule(
    "392b",
    "Child is looked after but no postcodes are recorded. [NOTE: This check may result in false "
    "positives for children formerly UASC, particularly if current & prior year UASC data not "
    "loaded]",
    fields=("HOME_POST", "PL_POST"),
    needs=("episodes", "header"),
)
def _392b(c: Context):
    e = c["episodes"]
    blank = e["HOME_POST"].isna() | e["PL_POST"].isna()
    return {"episodes": ~e["LS"].isin(SHORT_BREAKS) & blank & ~_uasc_children(c, e)}


@rule(
    "406",
    "Child is Unaccompanied Asylum-Seeking Child (UASC) or was formerly UASC. Distance should "
    "be blank. [NOTE: This check will result in false negatives for children formerly UASC not "
    "identified as such in loaded data]",
    fields=("PL_DISTANCE",),
    needs=("episodes", "header"),
    note=DERIVED,
)
def _406(c: Context):
    e = c["episodes"]
    return {"episodes": _uasc_children(c, e) & e["PL_DISTANCE"].notna()}


@rule(
    "1015",
    "Placement provider is own provision but child not placed in own LA.",
    fields=("PL_LA",),
    last=2025,
    note=DERIVED + "; and the authority's own code, known only for authorities lacstats "
    "matches to the DfE's list",
)
def _1015(c: Context):
    e = c["episodes"]
    fostering = e["PLACE"].isin(["A3", "A4", "A5", "A6", "U1", "U2", "U3", "U4", "U5", "U6"])
    own = e["PLACE_PROVIDER"].eq("PR1") & ~e["LS"].isin(SHORT_BREAKS) & ~fostering
    own &= e["LS"].notna() & e["PLACE"].notna()
    la = c.la_code(e)
    return {"episodes": own & la.notna() & e["PL_LA"].ne(la) & _written_in(c, "PL_LA")}


@rule(
    "504",
    "The category of need code differs from that reported at start of current period of being "
    "looked after",
    fields=("CIN",),
)
def _504(c: Context):
    e = c["episodes"]
    continues = c.previous("REC").eq("X1") & (c.previous("DEC") == e["DECOM"])
    return {"episodes": c.has_previous & continues & (e["CIN"] != c.previous("CIN"))}


def _218(exempt: tuple[str, ...]):
    def check(c: Context):
        e = c["episodes"]
        # a PL_LA of Scotland, Wales, Northern Ireland or a crown dependency (the DfE's
        # validator also reads a blank PL_LA, which it cannot derive, as outside England)
        written = e["PL_LA"].astype(object).where(e["PL_LA"].notna(), "NAN")
        outside = written.astype(str).str.upper().str.startswith(("N", "W", "S", "C"))
        since = (e["DEC"] >= c.start(e)) | e["DEC"].isna()
        return {"episodes": since & e["URN"].isna() & ~e["PLACE"].isin(exempt) & ~outside}

    return check


for _places, _first, _last in (
    (("H5", "P2", *_NO_URN, "Z1"), 2018, 2024),
    ((*_NO_URN, "Z1"), 2025, 2025),
    ((*_NO_URN, "Z11", "Z12", "Z13", "Z14"), 2026, 2026),
):
    rule(
        "218",
        "Ofsted Unique reference number (URN) is required.",
        fields=("URN",),
        first=_first,
        last=_last,
        note=DERIVED,
    )(_218(_places))
