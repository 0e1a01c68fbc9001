"""Cleaning SSDA903 episodes across years and merging them into placements.

Authorities are kept apart throughout: a child is an authority and a CHILD identifier
(``child_key`` numbers them), and every step is counted in the ledger by authority and
collection year.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError, whole_number_argument
from lacstats.results import Result, jsonable
from lacstats.ssda903._codes import year_end, year_ends, year_label, year_start
from lacstats.ssda903._reading import LEDGER_COLUMNS, Return

__all__ = ["CONTINUES_PLACEMENT", "LEAVING_AGE", "Cleaned", "clean", "same_as"]


#: RNE codes that continue the previous placement: the guide's "change of legal status
#: only" (L), "change of placement but carer(s) stayed the same" (B) and "change of both
#: legal status and placement but carer(s) stayed the same" (U). T changes the carer too,
#: so it starts a new placement; pass ``continues=`` to :func:`clean` to choose otherwise.
CONTINUES_PLACEMENT: tuple[str, ...] = ("L", "B", "U")
#: The age at which care ends: episodes past the 18th birthday are closed.
LEAVING_AGE = 18
#: ``episode_source`` of an episode no fix changed (liia-tools' word).
ORIGINAL = "Original"
#: REC of an episode closed by cleaning with the child leaving care, reason unknown (the
#: code liia-tools writes; not a code of the DfE's list).
CEASED_UNKNOWN = "E99"
#: The fixes that change episodes, by the name ``episode_source`` records, and the step
#: the ledger counts: liia-tools' rules by their names (RULE_1 ... RULE_5) and lacstats'
#: own.
STEPS: dict[str, str] = {
    "RULE_3": "RULE_3: left open, restated by a later return: dropped",
    "RULE_3A": "RULE_3A: left open, replaced in a later return: dropped",
    "RULE_1": "RULE_1: left open, the child still looked after: closed when the next starts",
    "RULE_1A": "RULE_1A: left open, the child re-enters care later: closed before re-entry",
    "RULE_2": "RULE_2: left open, absent from later returns: closed after its last 31 March",
    "OPEN": "open episodes followed by a later one, closed",
    "RULE_4": "RULE_4: overlapping an episode of a later return, truncated",
    "OVERLAP": "overlapping episodes, truncated",
    "RULE_5": "RULE_5: ended X1 with a gap before an episode of a later return, bridged",
}


@dataclass(frozen=True)
class Cleaned(Result):
    """Episodes cleaned across years, merged into placements, with a ledger of changes.

    ``episodes`` has one row per episode (``authority``, ``child_key``, CHILD, DECOM, DEC,
    RNE, LS, CIN, PLACE, PLACE_PROVIDER, REC, PL_DISTANCE, PL_LA, PL_LOCATION, YEAR,
    ``placement`` and ``period`` numbers per child), sorted by child and DECOM;
    ``placements`` one row per placement with its start and end and the current episode's
    codes; ``children`` one row per child, indexed by ``child_key`` (``authority``,
    ``la_code``, ``authority_type``, CHILD, the latest header's SEX, DOB and ETHNIC, UASC
    dates); ``ledger`` the rows each step changed by authority and collection year (with
    the rows :func:`~lacstats.ssda903.read` left out with ``errors="drop"``);
    ``authorities`` one row per authority with the years its returns cover.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> cleaned.years
    (2018, 2019, 2020, 2021, 2022)
    >>> len(cleaned.children), len(cleaned.episodes), len(cleaned.placements)
    (820, 2827, 2245)
    """

    episodes: pd.DataFrame
    placements: pd.DataFrame
    children: pd.DataFrame
    ledger: pd.DataFrame
    authorities: pd.DataFrame
    years: tuple[int, ...]
    continues: tuple[str, ...]

    @property
    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last day the returns cover (all authorities)."""
        return year_start(min(self.years)), year_end(max(self.years))

    @property
    def report(self) -> pd.DataFrame:
        """The ledger summed over authorities and years: ``step`` and ``count``."""
        totals = self.ledger.groupby("step", sort=False)["count"].sum()
        return pd.DataFrame({"step": totals.index, "count": totals.to_numpy()})

    def summary(self) -> str:
        names = [a for a in self.authorities["authority"] if a]
        who = f" of {len(names)} authorities" if len(names) > 1 else ""
        lines = [
            (
                f"Cleaned SSDA903 returns{who}, "
                f"{year_label(min(self.years))} to {year_label(max(self.years))}: "
                f"{len(self.children)} children, {len(self.episodes)} episodes, "
                f"{len(self.placements)} placements"
            )
        ]
        lines.append(self.report.to_string(index=False))
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The ledger: rows changed by each step, by authority and year."""
        return self.ledger.copy()

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "years": list(self.years),
                "authorities": [a for a in self.authorities["authority"]],
                "children": int(len(self.children)),
                "episodes": int(len(self.episodes)),
                "placements": int(len(self.placements)),
                "continues": list(self.continues),
                "steps": {str(s): int(c) for s, c in zip(*self.report.T.to_numpy(), strict=True)},
            }
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.report.to_html(index=False)


def clean(
    data: Return,
    *,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    leaving_age: int = LEAVING_AGE,
) -> Cleaned:
    """Clean episodes across years and merge them into placements, each authority apart.

    In order, each step counted in the ledger by authority and year, and each change to
    an episode recorded in its ``episode_source`` (``Original``, or the fixes that
    changed it joined by `` | ``, as liia-tools' ``Episode_source``):

    1. exact duplicate rows within a return are dropped;
    2. a DEC after the end of the return's collection year is blanked (the episode was
       open at the year end; the next return closes it);
    3. an episode reported in several returns (same child and DECOM) is kept from the
       latest return, which has the final DEC; conflicting rows within a return keep the
       last;
    4. an episode left open by a return that no later return of its authority repeats
       is dropped or closed (liia-tools' stage 1, with the return's 31 March convention:
       it is closed after the last 31 March on which a return reports it open, never on
       it, so every count at 31 March is the count of the return that covers it):

       - ``RULE_3``: the next or previous episode is the same placement (RNE, LS,
         PLACE, PLACE_PROVIDER, PL_POST, URN) restated by a later return with another
         DECOM, on or before this episode's 31 March: dropped (liia-tools drops it
         whatever return the twin comes from);
       - ``RULE_3A``: the previous episode comes from a later return (it replaced this
         one): dropped;
       - ``RULE_1``: the child's next episode continues care (RNE not S) and starts by
         the end of the following collection year: closed when it starts, REC ``X1``
         (REASON_PLACE_CHANGE ``LIIAF`` when the next episode changes placement);
       - ``RULE_1A``: the next episode starts a new period of care (RNE S): closed the
         day before it starts or on 1 April after the return's 31 March, whichever is
         earlier (liia-tools: 31 March), REC ``E99``;
       - ``RULE_2``: no next episode, or one that starts after a later 31 March that no
         return reports the child on: closed on 1 April after the return's 31 March
         (liia-tools: on 31 March, which drops the child from that return's count),
         REC ``E99``;

    5. an episode left open although a later one starts (``OPEN``), or overlapping the
       next (``RULE_4`` when the next comes from a later return, else ``OVERLAP``), is
       closed on the next episode's DECOM; an episode ended ``X1`` with a gap before
       the next one, from a later return, is bridged to it (``RULE_5``) when the next
       starts by the 31 March of the episode's own return (liia-tools bridges any gap,
       which adds the child to the count of a return that says they had left);
    6. episodes are cut at the 18th birthday (``leaving_age``, ``AGE``), inferred from
       DOB; episodes starting on or after it are dropped;
    7. consecutive episodes whose RNE is in ``continues`` and which start the day the
       previous one ends are one placement; a new period of care starts with RNE S or
       after a gap.

    Raises
    ------
    DataError
        For returns read with ``errors="report"`` that have problems: read them with
        ``errors="drop"`` (or fix them) first.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> print(cleaned.summary())
    Cleaned SSDA903 returns, 2017-18 to 2021-22: 820 children, 2827 episodes, 2245 placements
                                                                            step  count
                                                    exact duplicate rows dropped      0
                                      DEC after the collection year end, blanked      3
                         episodes repeated across or within returns, latest kept    910
                          RULE_3: left open, restated by a later return: dropped      0
                         RULE_3A: left open, replaced in a later return: dropped      0
    RULE_1: left open, the child still looked after: closed when the next starts      2
      RULE_1A: left open, the child re-enters care later: closed before re-entry      0
    RULE_2: left open, absent from later returns: closed after its last 31 March     25
                                   open episodes followed by a later one, closed      0
                     RULE_4: overlapping an episode of a later return, truncated      6
                                                 overlapping episodes, truncated     34
        RULE_5: ended X1 with a gap before an episode of a later return, bridged      0
                                   episodes starting at or after age 18, dropped      0
                            episodes running past age 18, closed on the birthday      0
                                    placements after merging continuing episodes   2245
                                                         episodes after cleaning   2827
    >>> cleaned.ledger.groupby("step", sort=False)["count"].sum().head(3)
    step
    exact duplicate rows dropped                                 0
    DEC after the collection year end, blanked                   3
    episodes repeated across or within returns, latest kept    910
    Name: count, dtype: int64
    """
    if not isinstance(data, Return):
        raise DataError(
            f"clean needs a Return (lacstats.ssda903.read), got {type(data).__name__}",
            column="data",
        )
    whole_number_argument(
        leaving_age,
        "leaving_age",
        16,
        25,
        "of years from 16 to 25 (care ends at 18; care leavers are supported to 25)",
    )
    if isinstance(continues, str) or not all(isinstance(c, str) for c in continues):
        raise DataError(
            f"argument 'continues' must be a list of RNE codes such as ['P', 'T'], got "
            f"{continues!r}",
            column="continues",
        )
    if len(data.errors) and data.mode == "report":
        raise DataError(
            f"these returns have {len(data.errors)} problem(s) (read with errors='report'); "
            "fix them, or read with errors='drop' to leave the offending rows out",
            column="errors",
        )
    heads, spells, flags = child_keys(data)
    children = _children(data, heads, flags)
    episodes = data.episodes.drop(columns=["_row"])
    episodes.insert(0, "child_key", spells)
    episodes["episode_source"] = ORIGINAL
    last_year = _last_years(data, spells, len(children))
    ledger = _Ledger()
    episodes = _drop_repeats(episodes, ledger)
    episodes = _close_stale(episodes, ledger)
    episodes = _close_open_and_overlapping(episodes, ledger)
    episodes = _leaving_age(episodes, children, last_year, leaving_age, ledger)
    episodes, placements = _placements(episodes, tuple(continues))
    ledger.count("placements after merging continuing episodes", placements)
    ledger.count("episodes after cleaning", episodes)
    authorities = _coverage(data, children)
    return Cleaned(
        episodes=episodes,
        placements=placements,
        children=children,
        ledger=pd.concat([data.ledger, ledger.frame()], ignore_index=True),
        authorities=authorities,
        years=tuple(data.years),
        continues=tuple(continues),
    )


class _Ledger:
    """Counts of the rows each step changed, by authority and year."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def count(self, step: str, rows: pd.DataFrame) -> None:
        counts = rows.groupby(["authority", "YEAR"]).size()
        self.parts.append(
            pd.DataFrame(
                {
                    "authority": counts.index.get_level_values(0),
                    "year": counts.index.get_level_values(1).astype("Int64"),
                    "step": step,
                    "count": counts.to_numpy(dtype="int64"),
                }
            )
            if len(counts)
            else pd.DataFrame({"authority": [""], "year": [pd.NA], "step": [step], "count": [0]})
        )

    def frame(self) -> pd.DataFrame:
        out = pd.concat(self.parts, ignore_index=True)[list(LEDGER_COLUMNS)]
        return out.astype({"year": "Int64", "count": "int64"})


def child_keys(data: Return) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``child_key`` of each row of the header, episodes and UASC tables: one number per
    authority and CHILD, in the order of authority then CHILD (-1 for a child with no
    header record)."""
    frames = (data.header, data.episodes, data.uasc)
    who, _ = pd.factorize(
        pd.concat([f["authority"] for f in frames], ignore_index=True), sort=True
    )
    child, names = pd.factorize(
        pd.concat([f["CHILD"] for f in frames], ignore_index=True), sort=True
    )
    pair = who.astype(np.int64) * (len(names) + 1) + child
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    known = np.unique(pair[: bounds[1]])
    out = []
    for a, b in itertools.pairwise(bounds):
        at = np.searchsorted(known, pair[a:b])
        found = (at < len(known)) & (known[np.minimum(at, len(known) - 1)] == pair[a:b])
        out.append(np.where(found, at, -1).astype(np.int64))
    if (out[1] < 0).any():  # pragma: no cover - read() reports such episodes
        raise DataError("episodes of a child with no header record", column="CHILD")
    return out[0], out[1], out[2]


def _drop_repeats(episodes: pd.DataFrame, ledger: _Ledger) -> pd.DataFrame:
    # step 1: exact duplicates within a return
    fields = [c for c in episodes.columns if c != "_file"]
    same_start = episodes.duplicated(subset=["child_key", "DECOM", "YEAR"], keep=False).to_numpy()
    repeated = np.zeros(len(episodes), dtype=bool)
    if same_start.any():
        repeated[same_start] = episodes.loc[same_start].duplicated(subset=fields).to_numpy()
    ledger.count("exact duplicate rows dropped", episodes[repeated])
    episodes = episodes.loc[~repeated]
    # step 2: DEC after the collection year end
    after_year = (episodes["DEC"] > year_ends(episodes["YEAR"])).fillna(False).to_numpy()
    ledger.count("DEC after the collection year end, blanked", episodes[after_year])
    episodes = episodes.copy()
    episodes.loc[after_year, "DEC"] = pd.NaT
    # step 3: the same episode in several returns, the latest kept
    episodes = episodes.sort_values(["child_key", "DECOM", "YEAR"], kind="stable")
    repeated = episodes.duplicated(subset=["child_key", "DECOM"], keep="last")
    ledger.count("episodes repeated across or within returns, latest kept", episodes[repeated])
    return episodes.loc[~repeated].reset_index(drop=True)


def _fixed(episodes: pd.DataFrame, mask: np.ndarray, name: str) -> None:
    """Record in ``episode_source`` that fix ``name`` changed the episodes in ``mask``
    (liia-tools' convention: ``Original``, else the fixes joined by `` | ``)."""
    if not mask.any():
        return
    before = episodes.loc[mask, "episode_source"]
    episodes.loc[mask, "episode_source"] = np.where(
        before.eq(ORIGINAL), name, before + " | " + name
    )


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Equal, or both blank (liia-tools' comparison of two episodes' cells)."""
    return ((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool)


#: The cells liia-tools compares to call two episodes the same placement (RULE_3).
TWIN_COLUMNS = ("RNE", "LS", "PLACE", "PLACE_PROVIDER", "PL_POST", "URN")


def _close_stale(episodes: pd.DataFrame, ledger: _Ledger) -> pd.DataFrame:
    """liia-tools' stage 1 (RULE_3, RULE_3A, RULE_1, RULE_1A, RULE_2) on the episodes
    left open by a return that no later return of their authority repeats, with the 31
    March convention of the return: nothing is dropped or closed that would take a child
    out of the count of a return that reports them open on its 31 March."""
    episodes = episodes.reset_index(drop=True)
    latest = episodes.groupby("authority")["YEAR"].transform("max")
    has_next = same_as(episodes["child_key"], -1).to_numpy()
    has_previous = same_as(episodes["child_key"], 1).to_numpy()
    stale = (episodes["DEC"].isna() & (episodes["YEAR"] < latest)).to_numpy()
    own_end = year_ends(episodes["YEAR"])
    year = episodes["YEAR"].to_numpy()
    twin = {}
    for step, ok in ((-1, has_next), (1, has_previous)):
        other = episodes.shift(step)
        alike = ok & (episodes["DECOM"] != other["DECOM"]).to_numpy()
        for column in TWIN_COLUMNS:
            if column in episodes:
                alike &= _same(episodes[column], other[column])
        # a restatement: the twin comes from a later return and was open on this
        # episode's 31 March (liia-tools drops the episode whatever its twin's return)
        later = (other["YEAR"].to_numpy() > year) & (other["DECOM"] <= own_end).to_numpy()
        twin[step] = alike & later
    rule_3 = stale & (twin[-1] | twin[1])
    previous_year = episodes["YEAR"].shift(1).to_numpy()
    rule_3a = stale & ~rule_3 & has_previous & (previous_year > year)
    next_start = episodes["DECOM"].shift(-1)
    next_rne = episodes["RNE"].shift(-1)
    day_after = own_end + pd.Timedelta(days=1)
    within_next_year = (next_start <= year_ends(episodes["YEAR"] + 1)).fillna(False).to_numpy()
    re_enters = next_rne.eq("S").fillna(False).to_numpy()
    closing = stale & ~rule_3 & ~rule_3a
    rule_1 = closing & has_next & ~re_enters & within_next_year
    rule_1a = closing & has_next & re_enters
    rule_2 = closing & ~rule_1 & ~rule_1a
    for name, mask in (
        ("RULE_3", rule_3),
        ("RULE_3A", rule_3a),
        ("RULE_1", rule_1),
        ("RULE_1A", rule_1a),
        ("RULE_2", rule_2),
    ):
        ledger.count(STEPS[name], episodes[mask])
    # RULE_1: the child stays looked after; the episode ends when the next one starts
    episodes.loc[rule_1, "DEC"] = next_start[rule_1]
    episodes.loc[rule_1, "REC"] = "X1"
    moved = rule_1 & next_rne.isin(["P", "B", "T", "U"]).to_numpy()
    episodes.loc[moved, "REASON_PLACE_CHANGE"] = "LIIAF"
    # RULE_1A: the child leaves care and re-enters: closed the day before re-entry, or on
    # 1 April after the return's 31 March, whichever is earlier (never on that 31 March)
    before = next_start - pd.Timedelta(days=1)
    closed = before.where(before < day_after, day_after)
    closed = closed.where(closed != own_end, day_after)
    episodes.loc[rule_1a, "DEC"] = closed[rule_1a]
    # RULE_2: the child leaves care: on 1 April, the day after the return's 31 March
    episodes.loc[rule_2, "DEC"] = day_after[rule_2]
    episodes.loc[rule_1a | rule_2, "REC"] = CEASED_UNKNOWN
    for name, mask in (("RULE_1", rule_1), ("RULE_1A", rule_1a), ("RULE_2", rule_2)):
        _fixed(episodes, mask, name)
    # RULE_3 and RULE_3A: the episode was restated or replaced by a later return
    return episodes.loc[~(rule_3 | rule_3a)].reset_index(drop=True)


def _close_open_and_overlapping(episodes: pd.DataFrame, ledger: _Ledger) -> pd.DataFrame:
    """liia-tools' stage 2 (RULE_4, RULE_5) and lacstats' own closures: an episode
    overlapping the next is truncated at its start (RULE_4 when the next comes from a
    later return, else OVERLAP); an episode left open although a later one starts is
    closed on its start (OPEN); an episode ended ``X1`` (the child stays looked after)
    with a gap before the next one of a later return is bridged to it (RULE_5), unless
    the gap holds the 31 March of the episode's own return, which reports the child no
    longer looked after that day (liia-tools bridges it, adding the child to that count)."""
    same_child = same_as(episodes["child_key"], -1).to_numpy()
    next_start = episodes["DECOM"].shift(-1)
    later = same_child & (episodes["YEAR"].shift(-1) > episodes["YEAR"]).to_numpy()
    open_followed = same_child & episodes["DEC"].isna().to_numpy()
    overlapping = same_child & (episodes["DEC"] > next_start).fillna(False).to_numpy()
    gap = (episodes["DEC"] < next_start).fillna(False).to_numpy()
    own_end = year_ends(episodes["YEAR"])
    bridged = (
        later
        & gap
        & episodes["REC"].eq("X1").fillna(False).to_numpy()
        & (next_start <= own_end).fillna(False).to_numpy()
    )
    ledger.count(STEPS["OPEN"], episodes[open_followed])
    ledger.count(STEPS["RULE_4"], episodes[overlapping & later])
    ledger.count(STEPS["OVERLAP"], episodes[overlapping & ~later])
    ledger.count(STEPS["RULE_5"], episodes[bridged])
    fix = open_followed | overlapping | bridged
    episodes.loc[fix, "DEC"] = next_start[fix]
    _fixed(episodes, open_followed, "OPEN")
    _fixed(episodes, overlapping & later, "RULE_4")
    _fixed(episodes, overlapping & ~later, "OVERLAP")
    _fixed(episodes, bridged, "RULE_5")
    return episodes


def _leaving_age(episodes, children, last_year, leaving_age, ledger) -> pd.DataFrame:
    birthday = episodes["child_key"].map(children["DOB"]) + pd.DateOffset(years=leaving_age)
    starts_after = (episodes["DECOM"] >= birthday).to_numpy()
    ledger.count(
        f"episodes starting at or after age {leaving_age}, dropped", episodes[starts_after]
    )
    episodes = episodes.loc[~starts_after].reset_index(drop=True)
    birthday = birthday[~starts_after].reset_index(drop=True)
    seen_until = year_ends(pd.Series(last_year[episodes["child_key"].to_numpy()]))
    runs_on = (
        (episodes["DEC"].isna() & (birthday <= seen_until))
        | (episodes["DEC"] > birthday).fillna(False)
    ).to_numpy()
    ledger.count(
        f"episodes running past age {leaving_age}, closed on the birthday", episodes[runs_on]
    )
    episodes.loc[runs_on, "DEC"] = birthday[runs_on]
    _fixed(episodes, runs_on, "AGE")
    return episodes


def _last_years(data: Return, spells: np.ndarray, n: int) -> np.ndarray:
    """The last collection year in which each child (by child_key) has an episode."""
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, spells, data.episodes["YEAR"].to_numpy(dtype=np.int64))
    return last


def same_as(values: pd.Series, shift: int) -> pd.Series:
    """Whether each value equals its neighbour ``shift`` rows away (False at the ends).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> ssda903.same_as(pd.Series(["a", "a", "b"]), 1).tolist()
    [False, True, False]
    """
    array = values.to_numpy()
    out = np.zeros(len(array), dtype=bool)
    if shift < 0:
        out[:shift] = array[:shift] == array[-shift:]
    else:
        out[shift:] = array[shift:] == array[:-shift]
    return pd.Series(out, index=values.index)


def _children(data: Return, heads: np.ndarray, flags: np.ndarray) -> pd.DataFrame:
    """One row per child (authority and CHILD), indexed by ``child_key``: the latest
    header's SEX, DOB and ETHNIC, the authority's code and type, and UASC dates."""
    order = np.lexsort((data.header["YEAR"].to_numpy(), heads))
    last = order[np.r_[heads[order][1:] != heads[order][:-1], True]]
    latest = data.header.iloc[last].reset_index(drop=True)
    latest.index = pd.RangeIndex(len(latest), name="child_key")
    names = data.authorities.drop_duplicates("authority").set_index("authority")
    children = latest[["authority", "CHILD", "SEX", "DOB", "ETHNIC"]].copy()
    children.insert(1, "la_code", children["authority"].map(names["la_code"]).astype("string"))
    children.insert(
        2, "authority_type", children["authority"].map(names["authority_type"]).astype("string")
    )
    children["ever_uasc"] = False
    children["DUC"] = pd.Series(pd.NaT, index=children.index, dtype="datetime64[ns]")
    sources = []
    if not data.uasc.empty:
        sources.append((data.uasc, flags))
    if "UASC" in data.header and data.header["UASC"].notna().any():
        flagged = data.header["UASC"].isin(["1", "True", "true"]).to_numpy()
        sources.append((data.header[flagged], heads[flagged]))
    for table, keys in sources:
        order = np.lexsort((table["YEAR"].to_numpy(), keys))
        last = order[np.r_[keys[order][1:] != keys[order][:-1], True]]
        last = last[keys[last] >= 0]
        children.loc[keys[last], "ever_uasc"] = True
        children.loc[keys[last], "DUC"] = table["DUC"].to_numpy()[last]
    return children


def _coverage(data: Return, children: pd.DataFrame) -> pd.DataFrame:
    years = data.files.groupby("authority")["year"].agg(["min", "max"])
    names = data.authorities.drop_duplicates("authority").set_index("authority")
    out = pd.DataFrame(
        {
            "authority": years.index,
            "la_code": years.index.map(names["la_code"]),
            "authority_type": years.index.map(names["authority_type"]),
            "first_year": years["min"].astype(int).to_numpy(),
            "last_year": years["max"].astype(int).to_numpy(),
            "children": children.groupby("authority")
            .size()
            .reindex(years.index)
            .fillna(0)
            .astype(int)
            .to_numpy(),
        }
    )
    out["start"] = out["first_year"].map(year_start)
    out["end"] = out["last_year"].map(year_end)
    return out.reset_index(drop=True)


def _placements(
    episodes: pd.DataFrame, continues: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = ~same_as(episodes["child_key"], 1)
    contiguous = pd.Series(
        (episodes["DECOM"] == episodes["DEC"].shift()).fillna(False).to_numpy(dtype=bool),
        index=episodes.index,
    )
    new_period = first | episodes["RNE"].eq("S") | ~contiguous
    new_placement = new_period | ~episodes["RNE"].isin(continues)
    episodes = episodes.assign(
        period=new_period.groupby(episodes["child_key"]).cumsum().astype(int),
        placement=new_placement.groupby(episodes["child_key"]).cumsum().astype(int),
    )
    grouped = episodes.groupby(["child_key", "placement"], sort=False)
    placements = grouped.agg(
        authority=("authority", "first"),
        CHILD=("CHILD", "first"),
        start=("DECOM", "first"),
        end=("DEC", "last"),
        period=("period", "first"),
        PLACE=("PLACE", "last"),
        PLACE_PROVIDER=("PLACE_PROVIDER", "last"),
        episodes=("DECOM", "size"),
        YEAR=("YEAR", "last"),
    ).reset_index()
    return episodes, placements
