"""The DfE's rules on reviews and missing episodes, and on the tables a child without
episodes should not have."""

from __future__ import annotations

import pandas as pd

from lacstats.ssda903.dfe._context import Context
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
