"""The DfE's rules on adoption: placed for adoption, AD1 and previous permanence."""

from __future__ import annotations

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


@rule(
    "557",
    "Child for whom the decision was made that they should be placed for adoption has left "
    "care but was not adopted and information on the decision that they should no longer be "
    "placed for adoption items has not been completed.",
    fields=("DATE_PLACED_CEASED", "REASON_PLACED_CEASED", "PLACE", "LS", "REC"),
    needs=("episodes", "placed_for_adoption"),
    last=2024,
)
def _557(c: Context):
    e, p = c["episodes"], c["placed_for_adoption"]
    placed = e["PLACE"].isin(ADOPTION_PLACES) | e["LS"].isin(["D1", "E1"])
    left = ~e["REC"].isin(["E11", "E12"]) & e["REC"].notna() & e["REC"].ne("X1")
    asked = placed & left
    incomplete = p["DATE_PLACED_CEASED"].isna() | p["REASON_PLACED_CEASED"].isna()
    flagged = asked & (
        ~c.has(e, "placed_for_adoption") | c.has(e, "placed_for_adoption", incomplete)
    )
    return {"episodes": flagged, "placed_for_adoption": incomplete & c.has(p, "episodes", asked)}


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
    latest &= ~pd.Series(latest.to_numpy(), index=e.index).groupby(
        e["_key"].to_numpy()
    ).cumsum().gt(1)
    interest = c.value(e, "ad1", "DATE_INT")
    too_early_child = latest & (interest < e["DECOM"])
    began = pd.Series(e.loc[latest, "DECOM"].to_numpy(), index=e.loc[latest, "_key"].to_numpy())
    flagged_ad1 = a["DATE_INT"] < c.spread(a, began, fill=None)
    # every AD1 row of the child against that start (the DfE merges them all)
    any_late = c.has(e, "ad1", flagged_ad1)
    return {"episodes": latest & (too_early_child | any_late), "ad1": flagged_ad1}
