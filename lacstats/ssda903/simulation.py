"""Synthetic SSDA903 returns of a large authority, for benchmarks and tests (never findings)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lacstats.ssda903.codes import year_end, year_start

__all__ = ["simulate", "write"]


def simulate(
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    children: int = 2000,
    rng: int | np.random.Generator | None = None,
) -> dict[int, dict[str, pd.DataFrame]]:
    """Synthetic returns of a large authority, for benchmarks and tests.

    About ``children`` children looked after at each year end; entries, moves and exits
    at plausible rates. Returns ``{year: {"header": ..., "episodes": ..., "uasc": ...}}``
    with dates as dd/mm/yyyy text, ready for :func:`write`. Not calibrated to anything:
    never use it for findings.
    """
    generator = np.random.default_rng(rng)
    first, last = year_start(min(years)), year_end(max(years))
    span = (last - first).days
    n = int(children * (1.2 + len(years) * 0.55))
    entry = first + pd.to_timedelta(generator.integers(-3 * 365, span, n), unit="D")
    age_entry = generator.choice(np.arange(0, 18), n, p=_entry_ages())
    dob = entry - pd.to_timedelta(age_entry * 365 + generator.integers(0, 365, n), unit="D")
    stay = generator.exponential(2.2 * 365, n).astype(int) + 1
    ending = entry + pd.to_timedelta(stay, unit="D")
    eighteen = dob + pd.DateOffset(years=18)
    ending = pd.DatetimeIndex(np.minimum(ending.values, eighteen.values))
    ids = generator.choice(np.arange(100000, 999999), n, replace=False).astype(str)
    places = np.array(["U4", "U6", "U1", "U3", "K2", "H5", "P1", "A4", "S1", "K1"])
    weights = np.array([0.3, 0.22, 0.08, 0.08, 0.12, 0.06, 0.06, 0.04, 0.02, 0.02])
    rows = []
    for i in range(n):
        start = entry[i]
        end = ending[i]
        moves = generator.poisson(max((end - start).days, 1) / 500)
        cuts = np.sort(generator.integers(1, max((end - start).days, 2), moves))
        bounds = [start, *(start + pd.to_timedelta(cuts, unit="D")), end]
        for j in range(len(bounds) - 1):
            if bounds[j + 1] <= bounds[j]:
                continue
            place = generator.choice(places, p=weights)
            rows.append(
                (
                    ids[i],
                    bounds[j],
                    bounds[j + 1],
                    "S" if j == 0 else "P",
                    place,
                    "E13" if j == len(bounds) - 2 else "X1",
                )
            )
    episodes = pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "RNE", "PLACE", "REC"])
    m = len(episodes)
    episodes["LS"] = generator.choice(["C2", "V2", "C1", "E1"], m, p=[0.6, 0.2, 0.15, 0.05])
    episodes["CIN"] = generator.choice(
        ["N1", "N2", "N4", "N5", "N6"], m, p=[0.6, 0.05, 0.1, 0.17, 0.08]
    )
    episodes["PLACE_PROVIDER"] = np.where(
        episodes["PLACE"].eq("P1"),
        "PR0",
        generator.choice(["PR1", "PR4", "PR5", "PR2"], m, p=[0.5, 0.35, 0.1, 0.05]),
    )
    episodes["PL_DISTANCE"] = np.round(generator.gamma(1.2, 12, m), 1)
    episodes["PL_LOCATION"] = np.where(generator.random(m) < 0.7, "IN", "OUT")
    header = pd.DataFrame(
        {
            "CHILD": ids,
            "SEX": generator.choice(["1", "2"], n),
            "DOB": dob,
            "ETHNIC": generator.choice(["WBRI", "WOTH", "MOTH", "BAFR", "AIND"], n),
        }
    )
    out = {}
    for year in years:
        y0, y1 = year_start(year), year_end(year)
        live = episodes[(episodes["DECOM"] <= y1) & (episodes["DEC"] >= y0)].copy()
        closed = live["DEC"] <= y1
        live["DEC"] = live["DEC"].where(closed)
        live["REC"] = live["REC"].where(closed)
        live = live.sort_values(["CHILD", "DECOM"])
        kids = header[header["CHILD"].isin(live["CHILD"])]
        out[year] = {
            "header": _as_text(kids),
            "episodes": _as_text(
                live[
                    [
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
                    ]
                ]
            ),
        }
    return out


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
    """Write returns as ``<year>-<table>.csv`` (year = end year of the collection)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, tables in sorted(returns.items()):
        for table, frame in tables.items():
            path = folder / f"{year}-{table}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
    return paths
