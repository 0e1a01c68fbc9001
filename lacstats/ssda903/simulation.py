"""Synthetic SSDA903 returns, for benchmarks, tests and method checks (never findings).

Children enter care at a steady rate, stay for an exponential time (mean
``mean_stay_years``, cut at 18), move placement as a Poisson process (one move every
``move_every_days`` on average) and leave home (REC E13). The hazards are constant, so an
authority's monthly exit and move rates are known exactly: 1 / (12 x mean stay) and
365.25 / (12 x move_every_days) a child-month. Authorities simulated with the same
parameters share their rates; their sizes differ by ``children``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lacstats.ssda903.codes import year_end, year_start

__all__ = ["EPISODE_COLUMNS", "simulate", "simulate_region", "write"]

#: The columns of a simulated episodes table.
EPISODE_COLUMNS = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "PL_DISTANCE",
    "PL_LOCATION",
)
_PLACES = np.array(["U4", "U6", "U1", "U3", "K2", "H5", "P1", "A4", "S1", "K1"])
_PLACE_WEIGHTS = np.array([0.3, 0.22, 0.08, 0.08, 0.12, 0.06, 0.06, 0.04, 0.02, 0.02])


def simulate(
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    children: int = 2000,
    rng: int | np.random.Generator | None = None,
    mean_stay_years: float = 2.2,
    move_every_days: float = 500,
    first_id: int = 100000,
) -> dict[int, dict[str, pd.DataFrame]]:
    """Synthetic returns of one authority.

    About ``children`` children looked after at each year end. Returns
    ``{year: {"header": ..., "episodes": ...}}`` (``year`` the collection's end year),
    dates as dd/mm/yyyy text, ready for :func:`write`. Child identifiers are six-digit
    numbers from ``first_id``. Not calibrated to anything: never use it for findings.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> returns = ssda903.simulate(years=[2023, 2024], children=50, rng=1)
    >>> sorted(returns), sorted(returns[2024])
    ([2023, 2024], ['episodes', 'header'])
    >>> returns[2024]["episodes"].columns.tolist()[:6]
    ['CHILD', 'DECOM', 'RNE', 'LS', 'CIN', 'PLACE']
    """
    header, episodes = _children_and_episodes(
        np.random.default_rng(rng), years, children, mean_stay_years, move_every_days, first_id
    )
    out = {}
    for year in years:
        live = _one_year(episodes, year)
        kids = header[header["CHILD"].isin(live["CHILD"])]
        out[year] = {"header": _as_text(kids), "episodes": _as_text(live)}
    return out


def simulate_region(
    authorities: Mapping[str, int],
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    rng: int | np.random.Generator | None = None,
    mean_stay_years: float | Mapping[str, float] = 2.2,
    move_every_days: float | Mapping[str, float] = 500,
) -> dict[str, pd.DataFrame]:
    """A regional extract: one table each of header and episodes for every authority and
    year, with ``LA`` and ``YEAR`` columns (the layout of the regional pipelines) and
    dates as datetimes. ``authorities`` maps names to the children looked after at a
    year end; the rates may differ by authority (a mapping) or be shared (a number).
    Identifiers repeat across authorities, as they do in real extracts.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> extract = ssda903.simulate_region({"Kent": 120, "Medway": 40}, years=[2023, 2024], rng=1)
    >>> sorted(extract)
    ['episodes', 'header']
    >>> sorted(extract["episodes"]["LA"].unique())
    ['Kent', 'Medway']
    """
    generator = np.random.default_rng(rng)
    headers, episodes = [], []
    for name, size in authorities.items():
        stay = mean_stay_years[name] if isinstance(mean_stay_years, Mapping) else mean_stay_years
        moves = move_every_days[name] if isinstance(move_every_days, Mapping) else move_every_days
        header, spells = _children_and_episodes(generator, years, size, stay, moves, 100000)
        for year in years:
            live = _one_year(spells, year)
            kids = header[header["CHILD"].isin(live["CHILD"])]
            headers.append(kids.assign(LA=name, YEAR=year))
            episodes.append(live.assign(LA=name, YEAR=year))
    return {
        "header": pd.concat(headers, ignore_index=True),
        "episodes": pd.concat(episodes, ignore_index=True),
    }


def _children_and_episodes(generator, years, children, mean_stay_years, move_every_days, first):
    first_day, last_day = year_start(min(years)), year_end(max(years))
    span = (last_day - first_day).days
    n = int(children * (1.2 + len(years) * 0.55) * 2.2 / max(mean_stay_years, 0.1))
    n = max(n, 1)
    entry = first_day + pd.to_timedelta(generator.integers(-3 * 365, span, n), unit="D")
    age_entry = generator.choice(np.arange(0, 18), n, p=_entry_ages())
    dob = entry - pd.to_timedelta(age_entry * 365 + generator.integers(0, 365, n), unit="D")
    stay = generator.exponential(mean_stay_years * 365.25, n).astype(np.int64) + 1
    ending = (entry + pd.to_timedelta(stay, unit="D")).to_numpy()
    eighteen = (dob + pd.DateOffset(years=18)).to_numpy()
    ending = np.minimum(ending, eighteen)
    days = np.maximum((ending - entry.to_numpy()).astype("timedelta64[D]").astype(np.int64), 1)
    ids = (first + generator.choice(np.arange(0, 899999), n, replace=False)).astype(str)
    moves = generator.poisson(days / move_every_days)
    owner = np.repeat(np.arange(n), moves)
    cuts = (generator.random(len(owner)) * (days[owner] - 1)).astype(np.int64) + 1
    order = np.lexsort((cuts, owner))
    owner, cuts = owner[order], cuts[order]
    # each child's bounds: 0, its sorted cuts, its length in days
    child = np.concatenate([np.arange(n), owner, np.arange(n)])
    offset = np.concatenate([np.zeros(n, np.int64), cuts, days])
    order = np.lexsort((offset, child))
    child, offset = child[order], offset[order]
    starts, ends = offset[:-1], offset[1:]
    keep = (child[:-1] == child[1:]) & (ends > starts)
    owner, starts, ends = child[:-1][keep], starts[keep], ends[keep]
    first_of = np.r_[True, owner[1:] != owner[:-1]]
    last_of = np.r_[owner[1:] != owner[:-1], True]
    base = entry.to_numpy()[owner]
    m = len(owner)
    episodes = pd.DataFrame(
        {
            "CHILD": ids[owner],
            "DECOM": base + starts.astype("timedelta64[D]"),
            "RNE": np.where(first_of, "S", "P"),
            "LS": generator.choice(["C2", "V2", "C1", "E1"], m, p=[0.6, 0.2, 0.15, 0.05]),
            "CIN": generator.choice(
                ["N1", "N2", "N4", "N5", "N6"], m, p=[0.6, 0.05, 0.1, 0.17, 0.08]
            ),
            "PLACE": generator.choice(_PLACES, m, p=_PLACE_WEIGHTS),
            "DEC": base + ends.astype("timedelta64[D]"),
            "REC": np.where(last_of, "E13", "X1"),
            "PL_DISTANCE": np.round(generator.gamma(1.2, 12, m), 1),
            "PL_LOCATION": np.where(generator.random(m) < 0.7, "IN", "OUT"),
        }
    )
    episodes["PLACE_PROVIDER"] = np.where(
        episodes["PLACE"].eq("P1"),
        "PR0",
        generator.choice(["PR1", "PR4", "PR5", "PR2"], m, p=[0.5, 0.35, 0.1, 0.05]),
    )
    header = pd.DataFrame(
        {
            "CHILD": ids,
            "SEX": generator.choice(["1", "2"], n),
            "DOB": dob,
            "ETHNIC": generator.choice(["WBRI", "WOTH", "MOTH", "BAFR", "AIND"], n),
        }
    )
    return header, episodes[list(EPISODE_COLUMNS)]


def _one_year(episodes: pd.DataFrame, year: int) -> pd.DataFrame:
    """The episodes a year's return holds: those open at some time in the year, with DEC
    and REC blank for those still open at its end."""
    y0, y1 = year_start(year), year_end(year)
    live = episodes[(episodes["DECOM"] <= y1) & (episodes["DEC"] >= y0)].copy()
    closed = live["DEC"] <= y1
    live["DEC"] = live["DEC"].where(closed)
    live["REC"] = live["REC"].where(closed)
    return live.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)


def _entry_ages() -> np.ndarray:
    weights = np.array([18, 6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 8, 9, 10, 9, 4], dtype=float)
    return weights / weights.sum()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%d/%m/%Y")
    return out.reset_index(drop=True)


def write(returns: dict[int, dict[str, pd.DataFrame]], folder: str | Path) -> list[Path]:
    """Write returns as ``<year>-<table>.csv`` (year = end year of the collection).

    Examples
    --------
    >>> import tempfile
    >>> from lacstats import ssda903
    >>> returns = ssda903.simulate(years=[2024], children=30, rng=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = ssda903.write(returns, folder)
    ...     data = ssda903.read(folder)
    ...
    >>> [path.name for path in written]
    ['2024-header.csv', '2024-episodes.csv']
    >>> data.years
    [2024]
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, tables in sorted(returns.items()):
        for table, frame in tables.items():
            path = folder / f"{year}-{table}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
    return paths
