"""The DfE's rules on reviews and missing episodes, and on the tables a child without
episodes should not have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.ssda903.dfe._context import Context, same_key_pairs
from lacstats.ssda903.dfe._registry import rule


@rule(
    "399",
    "Mother field, review field or participation field are completed but child is looked "
    "after under legal status V3 or V4.",
    fields=("MOTHER", "LS", "REVIEW", "REVIEW_CODE"),
    needs=("episodes", "header", "reviews"),
)
def _399(c: Context):
    e, h, r = c["episodes"], c["header"], c["reviews"]
    only_breaks = c.per_child(e, e["LS"].isin(["V3", "V4"]), "all")
    # a child all of whose episodes are short breaks, with a mother or review recorded
    has_review = c.has(e, "reviews", r["REVIEW"].notna() | r["REVIEW_CODE"].notna())
    mother = c.value(e, "header", "MOTHER").notna()
    child = only_breaks & (mother | has_review)
    return {
        "episodes": child,
        "header": c.has(h, "episodes", child),
        "reviews": c.has(r, "episodes", child),
    }


@rule(
    "440",
    "Participation method indicates child was under 4 years old at the time of the review, but "
    "date of birth and review date indicates the child was 4 years old or over.",
    fields=("DOB", "REVIEW", "REVIEW_CODE"),
    needs=("reviews",),
)
def _440(c: Context):
    r = c["reviews"]
    return {
        "reviews": r["REVIEW_CODE"].eq("PN0") & (r["REVIEW"] > r["DOB"] + pd.DateOffset(years=4))
    }


@rule(
    "441",
    "Participation method indicates child was 4 years old or over at the time of the review, "
    "but the date of birth and review date indicates the child was under 4 years old.",
    fields=("DOB", "REVIEW", "REVIEW_CODE"),
    needs=("reviews",),
)
def _441(c: Context):
    r = c["reviews"]
    codes = ("PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7")
    return {
        "reviews": r["REVIEW_CODE"].isin(codes) & (r["REVIEW"] < r["DOB"] + pd.DateOffset(years=4))
    }


@rule(
    "1012",
    "No other data should be returned for OC3 children who had no episodes in the current year",
    fields=("CHILD",),
    needs=("episodes",),
)
def _1012(c: Context):
    tables = ("placed_for_adoption", "missing", "reviews", "ad1", "previous_permanence", "oc2")
    return {t: ~c.has(c[t], "episodes") for t in tables if t in c.present}


@rule(
    "574",
    "A new missing/away from placement without authorisation period cannot start when the "
    "previous missing/away from placement without authorisation period is still open. "
    "Missing/away from placement without authorisation periods should also not overlap.",
    fields=("MIS_START", "MIS_END"),
    needs=("missing",),
)
def _574(c: Context):
    m = c["missing"]
    ends = m["MIS_END"].fillna(m["MIS_START"])
    order = np.lexsort(
        (
            m["MIS_START"].to_numpy().astype(np.int64),
            ends.to_numpy().astype(np.int64),
            m["_key"].to_numpy(),
        )
    )
    keys = m["_key"].to_numpy()[order]
    start = m["MIS_START"].to_numpy()[order]
    end = m["MIS_END"].to_numpy()[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = keys[1:] == keys[:-1]
    before = np.r_[np.datetime64("NaT", "ns"), end[:-1]] if len(end) else end
    flag = same & (pd.isna(before) | (start < before))
    out = np.zeros(len(m), dtype=bool)
    out[order] = flag
    return {"missing": out}


def _periods(c: Context) -> pd.DataFrame:
    """Each child's periods of care: runs of episodes each starting by the end of the one
    before (``key``, ``start``: the first DECOM, ``end``: the last episode's DEC)."""
    e = c["episodes"]
    order = c.order
    dated = e["DECOM"].notna().to_numpy()[order]
    order = order[dated]
    keys = e["_key"].to_numpy()[order]
    decom = e["DECOM"].to_numpy()[order]
    dec = e["DEC"].to_numpy()[order]
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = (keys[1:] != keys[:-1]) | (decom[1:] > dec[:-1])
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(order) - 1] if len(first) else first
    # the last episode's DEC, blank when it is open
    return pd.DataFrame({"key": keys[first], "start": decom[first], "end": dec[last]})


def _outside_every_period(c: Context, outside) -> np.ndarray:
    """Missing rows for which ``outside(rows, periods)`` holds for every period of care of
    the child (False for a child with no episodes)."""
    m = c["missing"]
    if "missing_periods" not in c.memo:
        # each missing row with each period of care of the same child
        periods = _periods(c)
        at, of = same_key_pairs(m["_key"].to_numpy(), periods["key"].to_numpy())
        c.memo["missing_periods"] = pd.DataFrame(
            {
                "MIS_START": m["MIS_START"].to_numpy()[at],
                "MIS_END": m["MIS_END"].to_numpy()[at],
                "at": at,
                "start": periods["start"].to_numpy()[of],
                "end": periods["end"].to_numpy()[of],
            }
        )
    pairs = c.memo["missing_periods"]
    at = pairs["at"].to_numpy()
    out = np.zeros(len(m), dtype=bool)
    out[at] = True  # a child with periods of care ...
    out[at[~np.asarray(outside(pairs), dtype=bool)]] = False  # ... outside every one
    return out


@rule(
    "577",
    "Child ceased to be looked after but there is a missing/away from placement without "
    "authorisation period without an end date.",
    fields=("MIS_END",),
    needs=("episodes", "missing"),
)
def _577(c: Context):
    def outside(p):
        return (
            (p["MIS_START"].notna() & p["MIS_END"].isna() & p["end"].notna())
            | (p["MIS_END"].isna() & (p["MIS_START"] < p["start"]))
            | (p["MIS_END"] > p["end"])
            | (p["MIS_END"] < p["start"])
        )

    m = c["missing"]
    return {"missing": _outside_every_period(c, outside) & m["MIS_START"].notna().to_numpy()}


@rule(
    "578",
    "The date that the child started to be missing is after the child ceased to be looked after.",
    fields=("MIS_START",),
    needs=("episodes", "missing"),
)
def _578(c: Context):
    def outside(p):
        return (p["MIS_START"] < p["start"]) | ((p["MIS_START"] > p["end"]) & p["end"].notna())

    return {"missing": _outside_every_period(c, outside)}


@rule(
    "581",
    "Child is missing but has not yet started to be looked after.",
    fields=("MIS_START",),
    needs=("episodes", "missing"),
)
def _581(c: Context):
    m, e = c["missing"], c["episodes"]
    start, decom, dec = (
        m["MIS_START"].to_numpy(),
        e["DECOM"].to_numpy(),
        e["DEC"].to_numpy(),
    )
    if not (start.dtype.kind == decom.dtype.kind == dec.dtype.kind == "M"):
        return {"missing": _581_merged(m, e)}
    # each missing row with each episode of the same child: flagged when the child has
    # episodes and none holds the start
    at, of = same_key_pairs(m["_key"].to_numpy(), e["_key"].to_numpy())
    inside = (start[at] >= decom[of]) & ((start[at] <= dec[of]) | np.isnat(dec[of]))
    paired = np.zeros(len(m), dtype=bool)
    paired[at] = True
    held = np.zeros(len(m), dtype=bool)
    held[at[inside]] = True
    return {"missing": paired & ~held}


def _581_merged(m: pd.DataFrame, e: pd.DataFrame) -> np.ndarray:
    m = m.reset_index(drop=True)
    pairs = (
        m[["_key", "MIS_START"]]
        .assign(at=np.arange(len(m)))
        .merge(e[["_key", "DECOM", "DEC"]], on="_key", how="inner")
    )
    inside = (pairs["MIS_START"] >= pairs["DECOM"]) & (
        (pairs["MIS_START"] <= pairs["DEC"]) | pairs["DEC"].isna()
    )
    anywhere = inside.groupby(pairs["at"].to_numpy()).max()
    out = np.zeros(len(m), dtype=bool)
    out[anywhere.index.to_numpy()] = ~anywhere.to_numpy(dtype=bool)
    return out


@rule(
    "567",
    "The date that the missing episode or episode that the child was away from placement "
    "without authorisation ended is before the date that it started.",
    fields=("MIS_END",),
    needs=("missing",),
)
def _567(c: Context):
    m = c["missing"]
    return {"missing": m["MIS_START"] > m["MIS_END"]}


@rule(
    "571",
    "The date that the child ceased to be missing or away from placement without "
    "authorisation is before the start or after the end of the collection year.",
    fields=("MIS_END",),
    needs=("missing",),
)
def _571(c: Context):
    m = c["missing"]
    return {"missing": (m["MIS_END"] < c.start(m)) | (m["MIS_END"] > c.end(m))}


@rule(
    "586",
    "Dates of missing periods are before child’s date of birth.",
    fields=("MIS_START",),
    needs=("missing",),
)
def _586(c: Context):
    m = c["missing"]
    return {"missing": m["MIS_START"].notna() & (m["MIS_START"] <= m["DOB"])}
