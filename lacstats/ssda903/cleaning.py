"""Cleaning SSDA903 episodes across years and merging them into placements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lacstats.ssda903.codes import year_end, year_ends, year_start
from lacstats.ssda903.reading import Return

__all__ = ["CONTINUES_PLACEMENT", "LEAVING_AGE", "Cleaned", "clean"]


#: RNE codes that continue the previous placement: the guide's "change of legal status
#: only" (L), "change of placement but carer(s) stayed the same" (B) and "change of both
#: legal status and placement but carer(s) stayed the same" (U). T changes the carer too,
#: so it starts a new placement; pass ``continues=`` to :func:`clean` to choose otherwise.
CONTINUES_PLACEMENT: tuple[str, ...] = ("L", "B", "U")
LEAVING_AGE = 18


@dataclass(frozen=True)
class Cleaned:
    """Episodes cleaned across years, merged into placements, with a report of changes.

    ``episodes`` has one row per episode (CHILD, DECOM, DEC, RNE, LS, CIN, PLACE,
    PLACE_PROVIDER, REC, PL_DISTANCE, PL_LA, PL_LOCATION, YEAR, ``placement`` and
    ``period`` numbers per child); ``placements`` one row per placement with its start
    and end and the current episode's codes; ``children`` one row per child (latest
    header, DOB, sex, UASC dates); ``report`` counts every change made.
    """

    episodes: pd.DataFrame
    placements: pd.DataFrame
    children: pd.DataFrame
    report: pd.DataFrame
    years: tuple[int, ...]
    continues: tuple[str, ...]

    @property
    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return year_start(min(self.years)), year_end(max(self.years))


def clean(
    data: Return,
    *,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    leaving_age: int = LEAVING_AGE,
) -> Cleaned:
    """Clean episodes across years and merge them into placements.

    In order, each step counted in ``report``:

    1. exact duplicate rows within a return are dropped;
    2. a DEC after the end of the return's collection year is blanked (the episode was
       open at the year end; the next return closes it);
    3. an episode reported in several returns (same child and DECOM) is kept from the
       latest return, which has the final DEC; conflicting rows within a return keep the
       last;
    4. an episode left open although a later one starts, or overlapping the next, is
       closed on the next episode's DECOM;
    5. episodes are cut at the 18th birthday (``leaving_age``), inferred from DOB;
       episodes starting on or after it are dropped;
    6. a stale open episode, whose child is missing from the next year's return, is
       closed at the end of the child's last collection year;
    7. consecutive episodes whose RNE is in ``continues`` and which start the day the
       previous one ends are one placement; a new period of care starts with RNE S or
       after a gap.
    """
    episodes = data.episodes.drop(columns=["_row"])
    counts: dict[str, int] = {}
    fields = [c for c in episodes.columns if c not in ("_file",)]

    before = len(episodes)
    episodes = episodes.drop_duplicates(subset=fields)
    counts["exact duplicate rows dropped"] = before - len(episodes)

    after_year = (episodes["DEC"] > year_ends(episodes["YEAR"])).fillna(False)
    counts["DEC after the collection year end, blanked"] = int(after_year.sum())
    episodes.loc[after_year, "DEC"] = pd.NaT

    before = len(episodes)
    episodes = episodes.sort_values(["CHILD", "DECOM", "YEAR"], kind="stable")
    episodes = episodes.drop_duplicates(subset=["CHILD", "DECOM"], keep="last")
    counts["episodes repeated across or within returns, latest kept"] = before - len(episodes)
    episodes = episodes.reset_index(drop=True)

    same_child = _same_as(episodes["CHILD"], -1)
    next_start = episodes["DECOM"].shift(-1)
    open_followed = same_child & episodes["DEC"].isna()
    overlapping = same_child & (episodes["DEC"] > next_start).fillna(False)
    counts["open episodes followed by a later one, closed"] = int(open_followed.sum())
    counts["overlapping episodes, truncated"] = int(overlapping.sum())
    fix = (open_followed | overlapping).to_numpy()
    episodes.loc[fix, "DEC"] = next_start[fix]

    children = _children(data)
    last_year = data.episodes.groupby("CHILD")["YEAR"].max()
    final = max(data.years)
    birthday = episodes["CHILD"].map(children["DOB"]) + pd.DateOffset(years=leaving_age)
    starts_after = (episodes["DECOM"] >= birthday).to_numpy()
    counts[f"episodes starting at or after age {leaving_age}, dropped"] = int(starts_after.sum())
    episodes = episodes.loc[~starts_after].reset_index(drop=True)
    birthday = birthday[~starts_after].reset_index(drop=True)
    seen_until = year_ends(episodes["CHILD"].map(last_year))
    runs_on = (episodes["DEC"].isna() & (birthday <= seen_until)) | (
        episodes["DEC"] > birthday
    ).fillna(False)
    counts[f"episodes running past age {leaving_age}, closed on the birthday"] = int(runs_on.sum())
    episodes.loc[runs_on.to_numpy(), "DEC"] = birthday[runs_on]

    is_last = ~_same_as(episodes["CHILD"], -1)
    child_last_year = episodes["CHILD"].map(last_year)
    stale = is_last & episodes["DEC"].isna() & (child_last_year < final)
    counts["stale open episodes (child absent from the next return), closed"] = int(stale.sum())
    episodes.loc[stale, "DEC"] = year_ends(child_last_year[stale])

    episodes, placements = _placements(episodes, tuple(continues))
    counts["placements after merging continuing episodes"] = len(placements)
    counts["episodes after cleaning"] = len(episodes)
    report = pd.DataFrame({"step": list(counts), "count": list(counts.values())})
    return Cleaned(
        episodes=episodes,
        placements=placements,
        children=children,
        report=report,
        years=tuple(data.years),
        continues=tuple(continues),
    )


def _same_as(values: pd.Series, shift: int) -> pd.Series:
    """Whether each value equals its neighbour ``shift`` rows away (False at the ends)."""
    array = values.to_numpy(dtype=object)
    out = np.zeros(len(array), dtype=bool)
    if shift < 0:
        out[:shift] = array[:shift] == array[-shift:]
    else:
        out[shift:] = array[shift:] == array[:-shift]
    return pd.Series(out, index=values.index)


def _children(data: Return) -> pd.DataFrame:
    header = data.header.sort_values(["CHILD", "YEAR"], kind="stable")
    latest = header.drop_duplicates("CHILD", keep="last").set_index("CHILD")
    children = latest[["SEX", "DOB", "ETHNIC"]].copy()
    uasc_dates = []
    if not data.uasc.empty:
        uasc = data.uasc.sort_values(["CHILD", "YEAR"], kind="stable").drop_duplicates(
            "CHILD", keep="last"
        )
        uasc_dates.append(uasc.set_index("CHILD")["DUC"])
    if "UASC" in header and header["UASC"].notna().any():
        flagged = header[header["UASC"].isin(["1", "True", "true"])]
        flagged = flagged.drop_duplicates("CHILD", keep="last").set_index("CHILD")["DUC"]
        uasc_dates.append(flagged)
    children["ever_uasc"] = False
    children["DUC"] = pd.Series(pd.NaT, index=children.index, dtype="datetime64[ns]")
    for dates in uasc_dates:
        dates = dates[dates.index.isin(children.index)]
        children.loc[dates.index, "ever_uasc"] = True
        children.loc[dates.index, "DUC"] = dates
    return children


def _placements(
    episodes: pd.DataFrame, continues: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = ~_same_as(episodes["CHILD"], 1)
    contiguous = pd.Series(
        (episodes["DECOM"] == episodes["DEC"].shift()).fillna(False).to_numpy(dtype=bool),
        index=episodes.index,
    )
    new_period = first | episodes["RNE"].eq("S") | ~contiguous
    new_placement = new_period | ~episodes["RNE"].isin(continues)
    episodes = episodes.assign(
        period=new_period.groupby(episodes["CHILD"]).cumsum().astype(int),
        placement=new_placement.groupby(episodes["CHILD"]).cumsum().astype(int),
    )
    grouped = episodes.groupby(["CHILD", "placement"], sort=False)
    placements = grouped.agg(
        start=("DECOM", "first"),
        end=("DEC", "last"),
        period=("period", "first"),
        PLACE=("PLACE", "last"),
        PLACE_PROVIDER=("PLACE_PROVIDER", "last"),
        episodes=("DECOM", "size"),
    ).reset_index()
    return episodes, placements
