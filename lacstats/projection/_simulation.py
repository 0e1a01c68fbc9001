"""Regions whose rates drift from year to year, for checking projections (never findings).

:func:`lacstats.ssda903.simulate_region` holds every rate fixed, which is the one thing a
projection need not fear. Here each authority's entry rate and rate of leaving care
follow random walks on the log scale from one collection year to the next (its own walk
plus one the region shares), children enter in sibling groups, and a share of each year's
new periods of care can be missing from that year's return and first reported in the next
(late recording). Children are simulated month by month: they enter (ages drawn as in
``ssda903.simulate``), leave at the month's hazard or on their 18th birthday, and move
placement as a Poisson process; each year's return holds the episodes open at some time
in the year, with DEC and REC blank for those open at its end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lacstats.errors import DataError
from lacstats.ssda903 import year_end, year_start

__all__ = ["simulate_drifting_region"]

_PLACES = np.array(["U4", "U6", "U1", "U3", "K2", "R1", "P1", "A4", "S1", "K1"])
_PLACE_WEIGHTS = np.array([0.3, 0.22, 0.08, 0.08, 0.12, 0.06, 0.06, 0.04, 0.02, 0.02])
_ENTRY_AGES = np.array([18, 6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 8, 9, 10, 9, 4], dtype=float)
_BURN_IN_YEARS = 6


def simulate_drifting_region(
    authorities: Mapping[str, int],
    *,
    years: Sequence[int] = tuple(range(2016, 2023)),
    rng: int | np.random.Generator | None = None,
    drift: float = 0.15,
    common_drift: float = 0.1,
    mean_stay_years: float = 2.2,
    move_every_days: float = 500,
    siblings: float = 0.3,
    late: float = 0.0,
) -> dict[str, pd.DataFrame]:
    """A regional extract (``header`` and ``episodes`` with ``LA`` and ``YEAR`` columns, as
    :func:`lacstats.ssda903.simulate_region` writes it) whose rates drift.

    Parameters
    ----------
    authorities:
        Names and the children looked after when the rates are at their start.
    drift, common_drift:
        Standard deviations of the yearly steps of each authority's own random walks on
        the log entry rate and the log rate of leaving care, and of the region's.
    siblings:
        Mean number of brothers and sisters entering with a child (group sizes are
        ``1 + Poisson(siblings)``).
    late:
        Share of new periods of care missing from the return of the year they start in
        (reported by the next return, if still open in its year).

    Returns
    -------
    dict
        ``header`` and ``episodes`` as the extract's files hold them, and ``rates``: each
        authority's entry rate (children a month) and monthly rate of leaving by
        collection year.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> extract = projection.simulate_drifting_region({"North": 80, "South": 40}, years=[2020, 2021], rng=1)
    >>> sorted(extract)
    ['episodes', 'header', 'rates']
    >>> data = ssda903.from_frames(extract["header"], extract["episodes"])
    >>> data.years
    [2020, 2021]
    """
    if not authorities or any(int(n) < 1 for n in authorities.values()):
        raise DataError(
            "authorities: give each a positive number of children", column="authorities"
        )
    for name, value in (("drift", drift), ("common_drift", common_drift), ("siblings", siblings)):
        if not value >= 0:
            raise DataError(f"{name} must be zero or more, got {value!r}", column=name)
    if not 0 <= late < 1:
        raise DataError(f"late must be in [0, 1), got {late!r}", column="late")
    generator = np.random.default_rng(rng)
    years = sorted(int(y) for y in years)
    span = list(range(years[0] - _BURN_IN_YEARS, years[-1] + 1))
    common = np.cumsum(generator.normal(0, common_drift, (2, len(span))), axis=1)
    headers, episodes, rates = [], [], []
    for name, size in authorities.items():
        own = np.cumsum(generator.normal(0, drift, (2, len(span))), axis=1)
        walk = own + common
        walk -= walk[:, [_BURN_IN_YEARS]]  # the stated size at the first return's start
        entry = size / (12 * mean_stay_years) * np.exp(walk[0])
        leave = 1 / (12 * mean_stay_years) * np.exp(walk[1])
        rates.append(
            pd.DataFrame({"LA": name, "YEAR": span, "entry_rate": entry, "leaving_rate": leave})
        )
        header, spells = _children(generator, span, entry, leave, size, siblings, move_every_days)
        late_start = generator.random(len(header)) < late
        for year in years:
            live = _one_year(spells, year, header, late_start)
            kids = header[header["CHILD"].isin(live["CHILD"])].drop(columns=["entry"])
            headers.append(kids.assign(LA=name, YEAR=year))
            episodes.append(live.assign(LA=name, YEAR=year))
    return {
        "header": pd.concat(headers, ignore_index=True),
        "episodes": pd.concat(episodes, ignore_index=True),
        "rates": pd.concat(rates, ignore_index=True),
    }


def _children(generator, span, entry, leave, size, siblings, move_every_days):
    """Children entering and leaving month by month, and their episodes."""
    first = year_start(span[0])
    months = 12 * len(span)
    # the stock at the start: a steady state at the first year's rates
    n0 = generator.poisson(size * entry[0] / entry[_BURN_IN_YEARS])
    start_days, ages = (
        [np.full(n0, -1)],
        [generator.choice(18, n0, p=_ENTRY_AGES / _ENTRY_AGES.sum())],
    )
    for m in range(months):
        groups = generator.poisson(entry[m // 12] / (1 + siblings))
        size_of = 1 + generator.poisson(siblings, groups)
        day = (m * 365.25 / 12 + generator.random(groups) * 365.25 / 12).astype(np.int64)
        start_days.append(np.repeat(day, size_of))
        ages.append(generator.choice(18, size_of.sum(), p=_ENTRY_AGES / _ENTRY_AGES.sum()))
    start = np.concatenate(start_days)
    age = np.concatenate(ages)
    n = len(start)
    dob = start - age * 365 - generator.integers(1, 365, n)
    # leaving: month by month at that month's hazard
    end = np.full(n, np.iinfo(np.int64).max)
    month_of = np.maximum(start, 0) * 12 // 365.25
    for m in range(months):
        at_risk = (month_of <= m) & (end == np.iinfo(np.int64).max)
        hazard = leave[m // 12]
        leaving = at_risk & (generator.random(n) < -np.expm1(-hazard))
        day = (m * 365.25 / 12 + generator.random(n) * 365.25 / 12).astype(np.int64)
        end = np.where(leaving, np.maximum(day, start + 1), end)
    eighteen = (pd.to_datetime(first) + pd.to_timedelta(dob, unit="D")) + pd.DateOffset(years=18)
    eighteen_day = (eighteen - first).days.to_numpy()
    aged_out = eighteen_day < end
    end = np.minimum(end, eighteen_day)
    keep = end > np.maximum(start, 0)
    start, end, dob, aged_out = start[keep], end[keep], dob[keep], aged_out[keep]
    start = np.where(start < 0, -generator.integers(1, 700, len(start)), start)
    n = len(start)
    ids = (100000 + generator.choice(899999, n, replace=False)).astype(str)
    last = int(months * 365.25 / 12) + 400
    stay = np.minimum(end, last) - start
    moves = generator.poisson(stay / move_every_days)
    owner = np.repeat(np.arange(n), moves)
    cuts = (generator.random(len(owner)) * (stay[owner] - 1)).astype(np.int64) + 1
    child = np.concatenate([np.arange(n), owner, np.arange(n)])
    offset = np.concatenate([np.zeros(n, np.int64), cuts, stay])
    order = np.lexsort((offset, child))
    child, offset = child[order], offset[order]
    lo, hi = offset[:-1], offset[1:]
    ok = (child[:-1] == child[1:]) & (hi > lo)
    owner, lo, hi = child[:-1][ok], lo[ok], hi[ok]
    first_of = np.r_[True, owner[1:] != owner[:-1]]
    last_of = np.r_[owner[1:] != owner[:-1], True]
    base = start[owner]
    m = len(owner)
    young = (base - dob[owner]) < 5 * 365
    route = np.where(
        aged_out[owner],
        "E8",
        np.where(
            young & (generator.random(m) < 0.4),
            "E11",
            generator.choice(["E13", "E41", "E4A"], m, p=[0.6, 0.2, 0.2]),
        ),
    )
    decom = pd.to_datetime(first) + pd.to_timedelta(base + lo, unit="D")
    dec = pd.to_datetime(first) + pd.to_timedelta(base + hi, unit="D")
    place = generator.choice(_PLACES, m, p=_PLACE_WEIGHTS)
    spells = pd.DataFrame(
        {
            "CHILD": ids[owner],
            "DECOM": decom,
            "RNE": np.where(first_of, "S", "P"),
            "LS": generator.choice(["C2", "V2", "C1", "E1"], m, p=[0.6, 0.2, 0.15, 0.05]),
            "CIN": generator.choice(
                ["N1", "N2", "N4", "N5", "N6"], m, p=[0.6, 0.05, 0.1, 0.17, 0.08]
            ),
            "PLACE": place,
            "PLACE_PROVIDER": np.where(
                place == "P1",
                "PR0",
                generator.choice(["PR1", "PR4", "PR5", "PR2"], m, p=[0.5, 0.35, 0.1, 0.05]),
            ),
            "DEC": dec,
            "REC": np.where(last_of, route, "X1"),
            "PL_DISTANCE": np.round(generator.gamma(1.2, 12, m), 1),
            "PL_LOCATION": np.where(generator.random(m) < 0.7, "IN", "OUT"),
            "_start": pd.to_datetime(first) + pd.to_timedelta(start[owner], unit="D"),
        }
    )
    header = pd.DataFrame(
        {
            "CHILD": ids,
            "SEX": generator.choice(["1", "2"], n),
            "DOB": pd.to_datetime(first) + pd.to_timedelta(dob, unit="D"),
            "ETHNIC": generator.choice(["WBRI", "WOTH", "MOTH", "BAFR", "AIND"], n),
            "entry": pd.to_datetime(first) + pd.to_timedelta(start, unit="D"),
        }
    )
    return header, spells


def _one_year(spells: pd.DataFrame, year: int, header: pd.DataFrame, late_start) -> pd.DataFrame:
    y0, y1 = year_start(year), year_end(year)
    live = spells[(spells["DECOM"] <= y1) & (spells["DEC"] >= y0)].copy()
    entered = header.set_index("CHILD")["entry"]
    is_late = pd.Series(late_start, index=header["CHILD"])
    began = live["CHILD"].map(entered)
    missing = (live["CHILD"].map(is_late) & (began >= y0) & (began <= y1)).to_numpy()
    live = live.loc[~missing]
    closed = live["DEC"] <= y1
    live["DEC"] = live["DEC"].where(closed)
    live["REC"] = live["REC"].where(closed)
    live = live.drop(columns=["_start"])
    return live.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)
