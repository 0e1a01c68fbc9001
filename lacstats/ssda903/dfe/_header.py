"""The DfE's rules on the Header table (with the tables it checks against)."""

from __future__ import annotations

import pandas as pd

from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule

SHORT_BREAKS = ("V3", "V4")


@rule(
    "EPI",
    "WARNING: Episodes need to be loaded for this child before further validation is possible "
    "[NOTE: This refers to the DfE portal - here, all checks that can be performed with only "
    "the available data will be.]",
    fields=("CHILD",),
    needs=("header",),
)
def _epi(c: Context):
    h = c["header"]
    return {"header": ~c.has(h, "episodes") & ~c.has(h, "oc3")}


@rule(
    "165",
    "Data entry for mother status is invalid.",
    fields=("MOTHER", "SEX", "ACTIV", "ACCOM", "IN_TOUCH", "DECOM"),
    needs=("header", "episodes", "oc3"),
)
def _165(c: Context):
    e, h, o = c["episodes"], c["header"], c["oc3"]
    care = ~e["LS"].isin(SHORT_BREAKS)
    ends = e["DEC"].fillna(c.end(e))
    in_year = care & (ends >= c.start(e)) & (e["DECOM"] <= c.end(e))
    considered = c.has(h, "episodes", care)
    episodes_in_year = c.has(h, "episodes", in_year)
    mother, sex = h["MOTHER"], h["SEX"]
    wrong = (mother.notna() & ~mother.isin(["0", "1"])) | (mother.notna() & sex.eq("1"))
    wrong |= mother.isna() & sex.eq("2") & episodes_in_year
    maybe = mother.notna() & sex.eq("2") & ~episodes_in_year
    with_oc3 = o["ACTIV"].notna() | o["ACCOM"].notna() | o["IN_TOUCH"].notna()
    header = considered & (wrong | (maybe & c.has(h, "oc3", with_oc3)))
    # an OC3 row goes with the child's header row, and the last condition with its own items
    wrong_child = c.value(o, "header", "_key").notna() & c.has(o, "header", considered & wrong)
    maybe_child = c.has(o, "header", considered & maybe) & with_oc3
    return {"header": header, "oc3": wrong_child | maybe_child}


def _393(female: str):
    def check(c: Context):
        e, h = c["episodes"], c["header"]
        care = ~e["LS"].isin(SHORT_BREAKS)
        return {"header": h["SEX"].eq(female) & c.has(h, "episodes", care) & h["MOTHER"].isna()}

    return check


_393_MESSAGE = "Child is looked after but mother field is not completed."
rule("393", _393_MESSAGE, fields=("MOTHER",), needs=("header", "episodes"), last=2024)(_393("2"))
# from 2024-25 SEX is written M, F or U
rule("393", _393_MESSAGE, fields=("MOTHER",), needs=("header", "episodes"), first=2025)(_393("F"))


def _607(female: str):
    def check(c: Context):
        e, h = c["episodes"], c["header"]
        ceased = e["DEC"].notna() & e["REC"].notna() & e["REC"].ne("X1")
        in_year = (e["DEC"] >= c.start(e)) & (e["DEC"] <= c.end(e))
        unset = c.value(e, "header", "SEX").eq(female) & c.value(e, "header", "MOTHER").isna()
        flagged = ceased & ~e["LS"].isin(SHORT_BREAKS) & in_year & unset & c.has(e, "header")
        return {"episodes": flagged, "header": c.has(h, "episodes", flagged)}

    return check


_607_MESSAGE = (
    "Child ceased to be looked after in the year, but mother field has not been completed."
)
for _female, _first, _last in (("2", 2018, 2024), ("F", 2025, 2026)):
    rule(
        "607",
        _607_MESSAGE,
        fields=("DEC", "REC", "MOTHER", "LS", "SEX"),
        needs=("header", "episodes"),
        first=_first,
        last=_last,
    )(_607(_female))


@rule(
    "168",
    "Unique Pupil Number (UPN) is not valid. If unknown, default codes should be UN1, UN2, UN3, "
    "UN4 or UN5.",
    fields=("UPN",),
    needs=("header",),
)
def _168(c: Context):
    h = c["header"]
    valid = h["UPN"].str.match(
        r"(^((?![IOS])[A-Z]){1}(\d{12}|\d{11}[A-Z]{1})$)|^(UN[1-5])$", na=False
    )
    return {"header": ~valid.astype(bool) & h["UPN"].notna()}


def _174(male: str):
    def check(c: Context):
        h = c["header"]
        return {"header": h["SEX"].astype(str).eq(male) & h["MC_DOB"].notna()}

    return check


rule(
    "174",
    "Mother's child date of birth is recorded but gender shows that the child is a male.",
    fields=("SEX", "MC_DOB"),
    needs=("header",),
    last=2024,
)(_174("1"))
rule(
    "174",
    "Mother's child date of birth is recorded but sex shows that the child is a male.",
    fields=("SEX", "MC_DOB"),
    needs=("header",),
    first=2025,
)(_174("M"))


@rule(
    "611",
    "Date of birth field is blank, but child is a mother.",
    fields=("MC_DOB",),
    needs=("header",),
)
def _611(c: Context):
    h = c["header"]
    return {"header": h["MOTHER"].astype(str).eq("1") & h["MC_DOB"].isna()}


@rule("301", "Date of birth falls after the year ended.", fields=("DOB",), needs=("header",))
def _301(c: Context):
    h = c["header"]
    return {"header": h["DOB"] > c.end(h)}


@rule(
    "351",
    "Child was over 25 at the start of the current collection year.",
    fields=("DOB",),
    needs=("header",),
)
def _351(c: Context):
    h = c["header"]
    return {"header": c.start(h) > h["DOB"] + pd.DateOffset(years=25)}


@rule(
    "302",
    "First episode starts before child was born.",
    fields=("DECOM", "DOB"),
    needs=("header", "episodes"),
)
def _302(c: Context):
    e, h = c["episodes"], c["header"]
    dated = e["DECOM"].notna()
    first = dated & (e["DECOM"] == c.per_child(e, e["DECOM"].where(dated), "min"))
    first = c.first_of(e, first)
    early = first & (c.value(e, "header", "DOB") > e["DECOM"])
    return {"episodes": early, "header": c.has(h, "episodes", early)}


@rule(
    "386",
    "Reason episode ceased is adopted but child has reached age 18.",
    fields=("REC",),
    needs=("header", "episodes"),
)
def _386(c: Context):
    e = c["episodes"]
    eighteen = c.value(e, "header", "DOB") + pd.DateOffset(years=18)
    known = eighteen.notna() & e["DEC"].notna()
    return {"episodes": known & e["REC"].isin(["E11", "E12"]) & ~(eighteen > e["DEC"])}


@rule(
    "620",
    "Child has been recorded as a mother, but date of birth shows that the mother is under 11 "
    "years of age.",
    fields=("MOTHER", "DOB"),
    needs=("header",),
)
def _620(c: Context):
    h = c["header"]
    return {
        "header": h["MOTHER"].astype(str).eq("1")
        & (h["DOB"] + pd.DateOffset(years=11) > c.start(h))
    }
