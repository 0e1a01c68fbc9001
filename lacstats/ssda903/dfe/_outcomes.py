"""The DfE's rules on the outcomes tables: OC2 (children looked after for 12 months) and
OC3 (care leavers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.ssda903.dfe._context import Context
from lacstats.ssda903.dfe._registry import rule

TWELVE_MONTHS = (
    "CONVICTED",
    "HEALTH_CHECK",
    "IMMUNISATIONS",
    "TEETH_CHECK",
    "HEALTH_ASSESSMENT",
    "SUBSTANCE_MISUSE",
    "INTERVENTION_RECEIVED",
    "INTERVENTION_OFFERED",
)


def _any(frame: pd.DataFrame, columns) -> pd.Series:
    """Whether any of ``columns`` is filled in each row."""
    out = np.zeros(len(frame), dtype=bool)
    for column in columns:
        out |= frame[column].notna().to_numpy()
    return pd.Series(out, index=frame.index)


def _filled_not_in(values: pd.Series, allowed: list[str]) -> np.ndarray:
    """Whether each cell is filled with a value whose text is not in ``allowed``
    (a categorical's categories checked once)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        listed = pd.Index(values.cat.categories.astype(str)).isin(allowed)
        codes = values.cat.codes.to_numpy()
        return (codes >= 0) & ~np.append(listed, True)[codes]
    return (values.notna() & ~values.astype(str).isin(allowed)).to_numpy()


@rule(
    "190",
    "Child has not been looked after continuously for at least 12 months at 31 March but one "
    "or more data items relating to children looked after for 12 months have been completed.",
    fields=TWELVE_MONTHS,
    needs=("oc2", "episodes"),
)
def _190(c: Context):
    o = c["oc2"]
    return {"oc2": ~c.continuously(o) & _any(o, TWELVE_MONTHS)}


@rule(
    "185",
    "Child has not been looked after continuously for at least 12 months at 31 March but a "
    "Strengths and Difficulties (SDQ) score has been completed.",
    fields=("SDQ_SCORE",),
    needs=("oc2", "episodes"),
)
def _185(c: Context):
    o = c["oc2"]
    return {"oc2": o["SDQ_SCORE"].notna() & ~c.continuously(o)}


@rule(
    "198",
    "Child has not been looked after continuously for at least 12 months at 31 March but a "
    "reason for no Strengths and Difficulties (SDQ) score has been completed. ",
    fields=("SDQ_REASON",),
    needs=("oc2", "episodes"),
)
def _198(c: Context):
    o = c["oc2"]
    return {"oc2": o["SDQ_REASON"].notna() & ~c.continuously(o)}


@rule(
    "158",
    "If a child has been recorded as receiving an intervention for their substance misuse "
    "problem, then the additional item on whether an intervention was offered should be left "
    "blank.",
    fields=("INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"),
    needs=("oc2",),
)
def _158(c: Context):
    o = c["oc2"]
    return {"oc2": o["INTERVENTION_RECEIVED"].eq("1") & o["INTERVENTION_OFFERED"].notna()}


@rule(
    "193",
    "Child not identified as having a substance misuse problem but at least one of the two "
    "additional items on whether an intervention were offered and received have been "
    "completed.",
    fields=("SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"),
    needs=("oc2",),
)
def _193(c: Context):
    o = c["oc2"]
    none = o["SUBSTANCE_MISUSE"].isna() | o["SUBSTANCE_MISUSE"].eq("0")
    return {"oc2": none & _any(o, ("INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"))}


@rule(
    "542",
    "A child aged under 10 at 31 March should not have conviction information completed.",
    fields=("CONVICTED",),
    needs=("oc2",),
)
def _542(c: Context):
    o = c["oc2"]
    return {"oc2": (o["DOB"] + pd.DateOffset(years=10) > c.end(o)) & o["CONVICTED"].notna()}


@rule(
    "546",
    "Children aged 5 or over at 31 March should not have health promotion information completed.",
    fields=("DOB", "HEALTH_CHECK"),
    needs=("oc2", "episodes"),
)
def _546(c: Context):
    o = c["oc2"]
    five = c.end(o) >= o["DOB"] + pd.DateOffset(years=5)
    return {"oc2": five & c.continuously(o) & o["HEALTH_CHECK"].notna()}


@rule(
    "215",
    "Child has care leaver information but one or more data items relating to children looked "
    "after for 12 months have been completed.",
    fields=("IN_TOUCH", "ACTIV", "ACCOM", *TWELVE_MONTHS),
    needs=("oc3", "oc2"),
)
def _215(c: Context):
    o3, o2 = c["oc3"], c["oc2"]
    leaver = _any(o3, ("IN_TOUCH", "ACTIV", "ACCOM"))
    twelve = _any(o2, TWELVE_MONTHS)
    return {"oc3": leaver & c.has(o3, "oc2", twelve), "oc2": twelve & c.has(o2, "oc3", leaver)}


@rule(
    "157",
    "Child is aged 4 years or over at the beginning of the year or 16 years or under at the end "
    "of the year and Strengths and Difficulties Questionnaire (SDQ) 1 has been recorded as the "
    "reason for no Strengths and Difficulties Questionnaire (SDQ) score.",
    fields=("SDQ_REASON", "DOB"),
    needs=("oc2", "episodes"),
)
def _157(c: Context):
    o = c["oc2"]
    aged = (o["DOB"] + pd.DateOffset(years=4) <= c.start(o)) & (
        o["DOB"] + pd.DateOffset(years=16) >= c.end(o)
    )
    sdq1 = o["SDQ_SCORE"].isna() & o["SDQ_REASON"].eq("SDQ1")
    return {"oc2": c.continuously(o) & aged & sdq1}


@rule(
    "187",
    "Child cannot be looked after continuously for 12 months at 31 March (OC2) and have any of "
    "adoption or care leavers returns completed.",
    fields=(
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
        "IN_TOUCH",
        "ACTIV",
        "ACCOM",
    ),
    needs=("episodes", "ad1", "oc3"),
)
def _187(c: Context):
    a, o = c["ad1"], c["oc3"]
    adoption = ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR")
    return {
        "ad1": c.continuously(a) & _any(a, adoption),
        "oc3": c.continuously(o) & _any(o, ("IN_TOUCH", "ACTIV", "ACCOM")),
    }


@rule(
    "344",
    "The record shows the young person has died or returned home to live with parent(s) or "
    "someone with parental responsibility for a continuous period of 6 months or more, but "
    "activity and/or accommodation on leaving care have been completed.",
    fields=("IN_TOUCH", "ACTIV", "ACCOM"),
    needs=("oc3",),
)
def _344(c: Context):
    o = c["oc3"]
    gone = o["IN_TOUCH"].isin(["DIED", "RHOM"])
    return {"oc3": gone & (o["ACTIV"].astype(str).ne("0") | o["ACCOM"].astype(str).ne("0"))}


@rule(
    "3001",
    "Where care leavers information is being returned for a young person around their 17th "
    "birthday, the accommodation cannot be with their former foster carer(s).",
    fields=("REC",),
    needs=("header", "oc3"),
)
def _3001(c: Context):
    o = c["oc3"]
    seventeen = c.value(o, "header", "DOB") + pd.DateOffset(years=17)
    in_year = (seventeen <= c.end(o)) & (seventeen >= c.start(o))
    return {"oc3": o["ACCOM"].isin(["Z1", "Z2"]) & in_year}


@rule(
    "1007",
    "Care leaver information is not required for 17- or 18-year olds who are still looked "
    "after [on their 17th or 18th birthday.]",
    fields=("IN_TOUCH", "ACTIV", "ACCOM"),
    needs=("episodes", "oc3"),
)
def _1007(c: Context):
    o, e = c["oc3"], c["episodes"]
    end = c.end(o)
    aged = (o["DOB"] + pd.DateOffset(years=17) <= end) & (o["DOB"] + pd.DateOffset(years=19) > end)
    # the birthday in the collection year, as the DfE's validator counts it
    dob = c.value(e, "oc3", "DOB")
    years = c.end(e).dt.year
    birthday = pd.to_datetime(
        pd.DataFrame({"year": years, "month": dob.dt.month, "day": dob.dt.day}), errors="coerce"
    )
    birthday = birthday.where(birthday <= c.end(e), birthday - pd.DateOffset(years=1))
    on_birthday = (e["DECOM"] <= birthday) & (e["DEC"] > birthday)
    return {
        "oc3": aged & c.has(o, "episodes", on_birthday) & _any(o, ("IN_TOUCH", "ACTIV", "ACCOM"))
    }


@rule(
    "132",
    "Data entry for activity after leaving care is invalid.",
    fields=("ACTIV",),
    needs=("oc3",),
)
def _132(c: Context):
    o = c["oc3"]
    codes = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0")
    return {"oc3": ~o["ACTIV"].astype(str).isin(codes)}


@rule(
    "133",
    "Data entry for accommodation after leaving care is invalid. If reporting on a childs "
    "accommodation after leaving care the data entry must be valid",
    fields=("ACCOM",),
    needs=("oc3",),
)
def _133(c: Context):
    o = c["oc3"]
    codes = [f"{letter}{n}" for letter in "BCDEGHKRTUVWYZ" for n in (1, 2)]
    codes += ["S2", "X2", "0"]
    return {"oc3": ~o["ACCOM"].isin(codes)}


@rule(
    "391",
    "Young person was not 17, 18, 19, 20 or 21 during the current collection year. ",
    fields=("DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    needs=("oc3",),
)
def _391(c: Context):
    o = c["oc3"]
    young = o["DOB"] + pd.DateOffset(years=17) > c.end(o)
    return {"oc3": young & _any(o, ("IN_TOUCH", "ACTIV", "ACCOM"))}


@rule(
    "180",
    "Data entry for the strengths and difficulties questionnaire (SDQ) score is invalid.",
    fields=("SDQ_SCORE",),
    needs=("oc2",),
)
def _180(c: Context):
    o = c["oc2"]
    score = pd.to_numeric(o["SDQ_SCORE"], errors="coerce")
    whole = score.isin(list(range(41)))
    return {"oc2": o["SDQ_SCORE"].notna() & ~whole}


@rule(
    "181",
    "Data items relating to children looked after continuously for 12 months should be "
    "completed with a 0 or 1.",
    fields=TWELVE_MONTHS,
    needs=("oc2",),
)
def _181(c: Context):
    o = c["oc2"]
    out = np.zeros(len(o), dtype=bool)
    for column in TWELVE_MONTHS:
        out |= _filled_not_in(o[column], ["0", "1"])
    return {"oc2": pd.Series(out, index=o.index)}


@rule(
    "182",
    "Data entries on immunisations, teeth checks, health assessments and substance misuse "
    "problem identified should be completed or all OC2 fields should be left blank.",
    fields=(
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "CONVICTED",
        "HEALTH_CHECK",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ),
    needs=("oc2",),
)
def _182(c: Context):
    o = c["oc2"]
    blank = o[["IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"]].isna()
    others = o[["CONVICTED", "HEALTH_CHECK", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"]]
    return {"oc2": blank.any(axis=1) & ~others.isna().all(axis=1)}


@rule(
    "188",
    "Child is aged under 4 years at the end of the year, but a Strengths and Difficulties (SDQ) "
    "score or a reason for no SDQ score has been completed. ",
    fields=("SDQ_SCORE", "SDQ_REASON"),
    needs=("oc2",),
)
def _188(c: Context):
    o = c["oc2"]
    young = o["DOB"] + pd.DateOffset(years=4) > c.end(o)
    return {"oc2": young & _any(o, ("SDQ_SCORE", "SDQ_REASON"))}


@rule(
    "191",
    "Child has been looked after continuously for at least 12 months at 31 March but one or "
    "more data items relating to children looked after for 12 months have been left blank.",
    fields=("IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "CHILD"),
    needs=("oc2", "episodes"),
)
def _191(c: Context):
    o, e = c["oc2"], c["episodes"]
    present = ["IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"]
    blank = c.continuously(o) & o[present].isna().any(axis=1)
    dated = e["DECOM"].notna()
    first = dated & (e["DECOM"] == c.per_child(e, e["DECOM"].where(dated), "min"))
    first = c.first_of(e, first)
    without = first & c.continuously(e) & ~c.has(e, "oc2")
    return {"oc2": blank, "episodes": without}


@rule(
    "197B",
    "SDQ score or reason for no SDQ should be reported for 4- or 17-year-olds.",
    fields=("SDQ_REASON", "DOB"),
    needs=("oc2", "episodes"),
)
def _197b(c: Context):
    o = c["oc2"]
    start, end = c.start(o), c.end(o)
    four, seventeen = o["DOB"] + pd.DateOffset(years=4), o["DOB"] + pd.DateOffset(years=17)
    turning = ((four >= start) & (four <= end)) | ((seventeen >= start) & (seventeen <= end))
    blank = o["SDQ_SCORE"].isna() & o["SDQ_REASON"].isna()
    return {"oc2": turning & c.continuously(o) & blank}


@rule(
    "547",
    "Any child who has health promotion information completed must also have immunisation, "
    "teeth check, health assessment and substance misuse problem identified fields completed.",
    fields=(
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
    ),
    needs=("oc2",),
)
def _547(c: Context):
    o = c["oc2"]
    blank = o[["IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"]].isna()
    return {"oc2": o["HEALTH_CHECK"].astype(str).eq("1") & blank.any(axis=1)}
