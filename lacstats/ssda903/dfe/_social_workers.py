"""The DfE's rules on social worker episodes (collected from 2023-24)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule

#: Reasons for a change of social worker, as the DfE's 2024-25 rules list them.
REASONS = (
    "MANAGE",
    "FCONTA",
    "LEFTRL",
    "ORGRST",
    "TSPROC",
    "ABSENC",
    "CHCHAN",
    "PCCHAN",
    "SWDIED",
    "OTHERS",
)
#: Social worker episodes from this day on must be complete.
COMPLETE_FROM = pd.Timestamp("2023-04-01")


@rule(
    "SW01bSTG1",
    "For each social worker episode, information should be complete",
    fields=("SW_ID", "SW_DECOM", "SW_REASON"),
    needs=("sw_episodes",),
    first=2025,
    last=2025,
)
def _sw01b(c: Context):
    s = c["sw_episodes"]
    incomplete = s["SW_ID"].isna() | s["SW_REASON"].isna()
    return {"sw_episodes": ((s["SW_DECOM"] >= COMPLETE_FROM) & incomplete) | s["SW_DECOM"].isna()}


@rule(
    "SW13STG1",
    "The reason for social worker change is not valid.",
    fields=("SW_REASON",),
    needs=("sw_episodes",),
    first=2025,
)
def _sw13(c: Context):
    s = c["sw_episodes"]
    reason = s["SW_REASON"]
    invalid = reason.notna() & ~reason.isin(REASONS)
    return {"sw_episodes": invalid | (reason.isna() & (s["SW_DECOM"] >= COMPLETE_FROM))}


@rule(
    "SW12STG2",
    "If a child is looked after on 31 March then all social worker episodes for the full "
    "previous year should be reported, even those whilst they were not looked after",
    fields=("SW_DECOM",),
    needs=("sw_episodes", "episodes"),
    first=2025,
)
def _sw12(c: Context):
    e, s = c["episodes"], c["sw_episodes"]
    # episodes that start or end care in the two years to 31 March (open ones too)
    recent = ((e["DEC"] >= c.start(e) - pd.Timedelta(days=365.2425)) & (e["DEC"] <= c.end(e))) | e[
        "DEC"
    ].isna()
    edges = recent & ~e["LS"].isin(["V3", "V4"]) & (e["RNE"].eq("S") | e["REC"].ne("X1"))
    rows = np.flatnonzero(edges.to_numpy())
    pairs = pd.DataFrame(
        {
            "at": rows,
            "_key": e["_key"].to_numpy()[rows],
            "DECOM": e["DECOM"].to_numpy()[rows],
            "DEC": e["DEC"].to_numpy()[rows],
            "RNE": e["RNE"].to_numpy()[rows],
            "REC": e["REC"].to_numpy()[rows],
        }
    ).merge(s[["_key", "SW_DECOM"]], on="_key", how="left")
    before_end = (pairs["SW_DECOM"] <= pairs["DEC"]) & pairs["REC"].ne("X1")
    after_start = (pairs["SW_DECOM"] >= pairs["DECOM"]) & pairs["RNE"].eq("S")
    missed = pairs.loc[~before_end & ~after_start, "at"].unique()
    out = np.zeros(len(e), dtype=bool)
    out[missed] = True
    return {"episodes": out}


def _sw02(shortest: int):
    def check(c: Context):
        s = c["sw_episodes"]
        ident = s["SW_ID"].astype(object)
        prefix = ident.str.slice(0, 2).isin(["SW", "XX"])
        return {"sw_episodes": ~prefix | (ident.str.len() < shortest).fillna(False)}

    return check


# from 2025-26 an identifier is also at least 4 characters long
for _shortest, _first, _last in ((0, 2024, 2025), (4, 2026, 2026)):
    rule(
        "SW02STG1",
        "Social worker ID does not begin with the characters ‘SW’ or ‘XX’.",
        fields=("SW_ID",),
        needs=("sw_episodes",),
        first=_first,
        last=_last,
    )(_sw02(_shortest))
