"""The flows behind a stock-and-flow projection, counted from cleaned SSDA903 episodes.

For each authority, over the window of ``history_years`` before the start (or from the
start of its returns): child-months in each placement type (exposure), moves between
types and exits by route (events), entrants with their age and first type, and the
children looked after the day before the start by single year of age and type. Children
of different authorities never mix (they are told apart by ``child_key``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lacstats import ssda903
from lacstats.errors import DataError
from lacstats.units import DAYS_PER_MONTH

__all__ = ["AGED_OUT", "AGE_BANDS", "EXIT_ROUTES", "MAX_AGE", "ROUTES", "Flows", "count_flows"]

#: Reason episode ceased (REC) -> exit route. Codes not listed (and a period closed by
#: cleaning without a REC) are "other".
EXIT_ROUTES: dict[str, str] = {
    "E11": "adoption",
    "E12": "adoption",
    "E41": "SGO or child arrangements order",
    "E43": "SGO or child arrangements order",
    "E44": "SGO or child arrangements order",
    "E45": "SGO or child arrangements order",
    "E46": "SGO or child arrangements order",
    "E47": "SGO or child arrangements order",
    "E48": "SGO or child arrangements order",
    "E4A": "home to family",
    "E4B": "home to family",
    "E13": "home to family",
    "E5": "independent living",
    "E6": "independent living",
}
#: Exit routes, in the order tables and figures show them.
ROUTES: tuple[str, ...] = (
    "adoption",
    "SGO or child arrangements order",
    "home to family",
    "independent living",
    "other",
)
#: The exit route of a child who reaches :data:`MAX_AGE` while looked after.
AGED_OUT = "aged 18"
#: The age at which a child leaves care in the projection.
MAX_AGE = 18
#: The DfE's age bands of children looked after: (label, first age, last age).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under 1", 0, 0),
    ("1 to 4", 1, 4),
    ("5 to 9", 5, 9),
    ("10 to 15", 10, 15),
    ("16 and over", 16, 17),
)


@dataclass(frozen=True)
class Flows:
    """Exposure, events, entrants and the starting stock of each authority.

    ``exposure[a, i]``: child-months in type ``i``; ``events[a, i, j]``: moves from type
    ``i`` to type ``j`` (``j < k``) or exits by route ``j - k``; ``window[a]``: months
    counted; ``entrants[a, age, i]``: entrants by age at entry and first type;
    ``stock[a, age, i]``: children looked after the day before ``start``. Quarter by
    quarter back from ``start`` (``q = 0`` the oldest of ``quarter_months.shape[1]``):
    ``quarter_entries[a, q]``, ``quarter_exits[a, q]`` (leaving care, 18th birthdays
    apart), ``quarter_exposure[a, q]`` (child-months) and ``quarter_months[a, q]`` (months
    of the quarter inside the window). ``groups[a, s - 1]``: entries of ``s`` children of
    the authority on one day (siblings, mostly), over the window; ``entrant_sex[a, age,
    s]``: entrants by age at entry and sex (SEX 1, 2).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> from lacstats.projection import count_flows
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> flows = count_flows(cleaned, pd.Timestamp("2021-04-01"), 1, "placement_type")
    >>> int(flows.window[0]), round(float(flows.mean_stock[0]), 1), int(flows.stock.sum())
    (11, 172.0, 137)
    """

    authorities: tuple[str, ...]
    types: tuple[str, ...]
    start: pd.Timestamp
    exposure: np.ndarray
    events: np.ndarray
    window: np.ndarray
    entrants: np.ndarray
    stock: np.ndarray
    quarter_entries: np.ndarray
    quarter_exits: np.ndarray
    quarter_exposure: np.ndarray
    quarter_months: np.ndarray
    groups: np.ndarray
    not_covered: tuple[str, ...] = ()
    entrant_sex: np.ndarray | None = None

    @property
    def mean_stock(self) -> np.ndarray:
        """Children looked after on an average day of each authority's window."""
        return self.exposure.sum(axis=1) / self.window


def count_flows(
    cleaned: ssda903.Cleaned, start: pd.Timestamp, history_years: float, types: str
) -> Flows:
    """The flows of every authority whose returns cover the day before ``start``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> from lacstats.projection import count_flows
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> flows = count_flows(cleaned, pd.Timestamp("2021-04-01"), 1, "placement_type")
    >>> flows.authorities, flows.exposure.shape == (1, len(flows.types))
    (('',), True)
    """
    episodes = ssda903.episode_attributes(cleaned)
    cover = cleaned.authorities.set_index("authority")
    census = start - pd.Timedelta(days=1)
    inside = (cover["start"] <= census) & (cover["end"] >= census)
    names = tuple(sorted(cover.index[inside]))
    if not names:
        raise DataError(
            f"start {start.date()} is outside the returns read",
            column="start",
            values=[str(start.date())],
        )
    which = episodes["authority"].map({n: i for i, n in enumerate(names)})
    episodes = episodes.loc[which.notna().to_numpy()].reset_index(drop=True)
    a = which.dropna().astype(int).to_numpy()
    history = pd.DateOffset(months=int(round(history_years * 12)))
    opens = cover.loc[list(names), "start"]
    window_start = pd.Series([max(start - history, s) for s in opens], index=list(names))
    lo_by_row = pd.Series(window_start.to_numpy()[a], index=episodes.index)
    window = ((start - window_start).dt.days / DAYS_PER_MONTH).to_numpy()

    kind = episodes[types].astype(object)
    dob = ssda903.child_values(cleaned, episodes, "DOB")
    birthday = dob + pd.DateOffset(years=MAX_AGE)
    entrants = _entrants(episodes, lo_by_row, start, dob)
    now = (episodes["DECOM"] <= census) & (episodes["DEC"].isna() | (episodes["DEC"] > census))
    seen = set(kind) if len(kind) else set()
    type_names = tuple(sorted(seen))
    index = {t: i for i, t in enumerate(type_names)}
    t = kind.map(index).to_numpy(dtype=np.int64)
    k, n = len(type_names), len(names)

    end = episodes["DEC"].fillna(start)
    lo = episodes["DECOM"].where(episodes["DECOM"] > lo_by_row, lo_by_row)
    hi = end.where(end < start, start)
    months = ((hi - lo).dt.days.clip(lower=0) / DAYS_PER_MONTH).to_numpy()
    exposure = np.zeros((n, k))
    np.add.at(exposure, (a, t), months)

    events = np.zeros((n, k, k + len(ROUTES)))
    same_child = ssda903.same_as(episodes["child_key"], -1).to_numpy()
    next_start = episodes["DECOM"].shift(-1)
    continues = same_child & (episodes["DEC"] == next_start).fillna(False).to_numpy()
    ended = (
        episodes["DEC"].notna() & (episodes["DEC"] > lo_by_row) & (episodes["DEC"] <= start)
    ).to_numpy()
    next_type = np.r_[t[1:], -1]
    moved = ended & continues & (next_type != t)
    np.add.at(events, (a[moved], t[moved], next_type[moved]), 1)
    leaving = ended & ~continues & (episodes["DEC"] < birthday).fillna(False).to_numpy()
    route = (
        episodes["REC"]
        .map(EXIT_ROUTES)
        .fillna("other")
        .map({r: i for i, r in enumerate(ROUTES)})
        .to_numpy(dtype=np.int64)
    )
    np.add.at(events, (a[leaving], t[leaving], k + route[leaving]), 1)

    entrant_counts = np.zeros((n, MAX_AGE, k))
    np.add.at(
        entrant_counts,
        (
            a[entrants],
            np.clip(_ages(dob, episodes["DECOM"])[entrants], 0, MAX_AGE - 1),
            t[entrants],
        ),
        1,
    )
    sex = ssda903.child_values(cleaned, episodes, "SEX").astype(str).to_numpy()
    known = entrants & np.isin(sex, ["1", "2"])
    entrant_sex = np.zeros((n, MAX_AGE, 2))
    np.add.at(
        entrant_sex,
        (
            a[known],
            np.clip(_ages(dob, episodes["DECOM"])[known], 0, MAX_AGE - 1),
            np.where(sex[known] == "2", 1, 0),
        ),
        1,
    )
    stock = np.zeros((n, MAX_AGE, k), dtype=np.int64)
    current = now.to_numpy()
    ages = np.clip(_ages(dob, pd.Series(census, index=episodes.index)), 0, MAX_AGE - 1)
    np.add.at(stock, (a[current], ages[current], t[current]), 1)
    # placement types seen in the window: occupied, entered, or moved into
    used = (
        (exposure.sum(axis=0) > 0)
        | (stock.sum(axis=(0, 1)) > 0)
        | (entrant_counts.sum(axis=(0, 1)) > 0)
        | (events[:, :, :k].sum(axis=(0, 1)) > 0)
    )
    keep = np.flatnonzero(used)
    columns = np.r_[keep, k + np.arange(len(ROUTES))]
    quarters = _quarters(episodes, a, n, start, window_start, window, lo, hi, entrants, leaving)
    return Flows(
        authorities=names,
        types=tuple(type_names[i] for i in keep),
        start=start,
        exposure=exposure[:, keep],
        events=events[:, keep][:, :, columns],
        window=window,
        entrants=entrant_counts[:, :, keep],
        stock=stock[:, :, keep],
        **quarters,
        not_covered=tuple(sorted(set(cover.index) - set(names))),
        entrant_sex=entrant_sex,
    )


def _quarters(episodes, a, n, start, window_start, window, lo, hi, entrants, leaving):
    """Entries, exits, exposure and months quarter by quarter back from ``start``, and the
    sizes of the groups of children entering together."""
    count = max(int(np.ceil(window.max() / 3 - 0.05)), 1)
    edges = [start - pd.DateOffset(months=3 * (count - q)) for q in range(count + 1)]
    entries = np.zeros((n, count))
    exits = np.zeros((n, count))
    exposure = np.zeros((n, count))
    months = np.zeros((n, count))
    starts = episodes["DECOM"].to_numpy()
    ends = episodes["DEC"].to_numpy()
    opened = window_start.to_numpy()
    for q in range(count):
        q0, q1 = np.datetime64(edges[q]), np.datetime64(edges[q + 1])
        first = np.maximum(opened, q0)
        months[:, q] = np.maximum((q1 - first).astype("timedelta64[D]").astype(float), 0)
        inside = (starts >= q0) & (starts < q1)
        np.add.at(entries[:, q], a[entrants & inside], 1)
        ended = (ends >= q0) & (ends < q1)
        np.add.at(exits[:, q], a[leaving & ended], 1)
        seg_lo = np.maximum(lo.to_numpy(), q0)
        seg_hi = np.minimum(hi.to_numpy(), q1)
        days = (seg_hi - seg_lo).astype("timedelta64[D]").astype(float)
        np.add.at(exposure[:, q], a, np.clip(days, 0, None))
    months /= DAYS_PER_MONTH
    exposure /= DAYS_PER_MONTH
    # entrants of one authority on one day: a group (siblings, mostly)
    day = pd.DataFrame({"a": a[entrants], "day": starts[entrants]})
    sizes = day.groupby(["a", "day"]).size()
    largest = int(sizes.max()) if len(sizes) else 1
    groups = np.zeros((n, largest))
    if len(sizes):
        np.add.at(groups, (sizes.index.get_level_values(0).to_numpy(), sizes.to_numpy() - 1), 1)
    return {
        "quarter_entries": entries,
        "quarter_exits": exits,
        "quarter_exposure": exposure,
        "quarter_months": months,
        "groups": groups,
    }


def _ages(dob: pd.Series, when: pd.Series) -> np.ndarray:
    return ssda903.age_in_years(dob, when).fillna(0).to_numpy(dtype=np.int64)


def _entrants(episodes, window_start, start, dob) -> np.ndarray:
    """Episodes that start a period of care within the window."""
    new_period = (
        episodes["period"].ne(episodes["period"].shift())
        | episodes["child_key"].ne(episodes["child_key"].shift())
    ).to_numpy()
    inside = ((episodes["DECOM"] >= window_start) & (episodes["DECOM"] < start)).to_numpy()
    return new_period & inside & dob.notna().to_numpy()
