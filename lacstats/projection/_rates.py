"""Forecasts of counts per head of population from a panel of years: the rate projection
with the year-to-year change the panel shows.

Each authority's (or area's) log rate of children looked after per child of the
population follows a local level (:func:`~lacstats.projection.local_level`, one step a year):
``tau`` (a year's change) and ``sigma`` (a year's over-dispersion) shared by every unit of
the panel and carried as a grid posterior, the level at the origin filtered from each
unit's own years. ``drift="common"`` adds the change of the whole panel's rate per year
over the history (England's children looked after rose every year 2015-2019), the same for
every unit; ``"none"`` holds the level. A forecast ``h`` years ahead draws the level, its
``h`` steps and the year's over-dispersion, times the population of the target year, and
a Poisson count. Only the years up to the origin are used: :func:`rate_forecast` is a
real-time test when the panel's counts are as first published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError
from lacstats.projection._trend import local_level
from lacstats.results import Result, jsonable

__all__ = ["DRIFT", "RateForecast", "forecast_score", "rate_forecast"]

#: The choices of :func:`rate_forecast`'s ``drift``: the whole panel's common change per
#: year added to each unit's random walk, or none.
DRIFT = ("common", "none")


@dataclass(frozen=True)
class RateForecast(Result):
    """Forecasts of each unit's count, scored where the panel has the target year.

    ``forecasts``: one row per series, origin, unit and target year with the observed
    count (missing where not published), the population, the forecast mean, median,
    quartiles (``q25``, ``q75``), the central interval ``ci_low`` to ``ci_high`` at
    ``level`` and the mid-PIT; ``scores``: by series and horizon (and over all), the
    coverage of the 50% and 90% intervals, the mean absolute error of the median, the
    mean absolute percentage error (counts above zero) and the mean PIT.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection
    >>> panel = pd.DataFrame({"area": ["a"] * 4 + ["b"] * 4, "year": [2016, 2017, 2018, 2019] * 2, "children": [100, 110, 120, 131, 50, 48, 47, 45], "population": [10_000] * 8})
    >>> fit = projection.rate_forecast(panel, "children", origin_year=2018, horizons=[1], unit="area", draws=2000, rng=1)
    >>> fit.forecasts[["unit", "year", "observed", "ci_low", "ci_high"]]
      unit  year  observed  ci_low  ci_high
    0    a  2019       131    87.0    163.0
    1    b  2019        45    35.0     73.0
    """

    forecasts: pd.DataFrame
    scores: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.scores.copy()

    def summary(self) -> str:
        return (
            f"Rate forecasts from {self.options.get('origins')}, drift "
            f"{self.options.get('drift')}, {self.options.get('units')} units\n"
            + self.scores.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        )

    def to_dict(self) -> dict[str, Any]:
        return jsonable({**self.options, "scores": self.scores})


def rate_forecast(
    panel: pd.DataFrame,
    series: str | Sequence[str],
    *,
    origin_year: int | Sequence[int],
    horizons: Sequence[int] = (1,),
    unit: str = "la_number",
    year: str = "year",
    population: str = "population",
    drift: str = "common",
    level: float = 0.9,
    draws: int = 2000,
    rng: int | np.random.Generator | None = None,
) -> RateForecast:
    """Forecast each unit's ``series`` (columns of counts) ``horizons`` years after each
    ``origin_year`` from the panel's years up to it, and score the forecasts against the
    panel's counts of the target years.

    A missing count (suppressed, not published) is a missing year for the filter and is
    not scored. The target year's population is taken as known (the panel's).

    Examples
    --------
    >>> from lacstats import datasets, projection
    >>> panel = datasets.national_panel()
    >>> fit = projection.rate_forecast(panel, "lac_total", origin_year=2017, horizons=[1], population="population_under_18", draws=500, rng=1)
    >>> row = fit.scores.iloc[-1]
    >>> int(row["forecasts"]), bool(0.8 < row["coverage_90"] <= 1)
    (152, True)
    """
    names = [series] if isinstance(series, str) else list(series)
    origins = [origin_year] if isinstance(origin_year, (int, np.integer)) else list(origin_year)
    for column in (unit, year, population, *names):
        if column not in panel:
            raise DataError(f"panel lacks column {column!r}", column=column)
    if drift not in DRIFT:
        raise DataError(f"drift must be one of {', '.join(DRIFT)}, got {drift!r}", column="drift")
    if not 0 < level < 1:
        raise DataError(f"level must be in (0, 1), got {level!r}", column="level")
    if not horizons or any(int(h) != h or h < 1 for h in horizons):
        raise DataError("horizons must be positive whole numbers of years", column="horizons")
    pops = pd.to_numeric(panel[population], errors="coerce")
    if (pops <= 0).any() or pops.isna().any():
        bad = (pops.isna() | (pops <= 0)).to_numpy()
        raise DataError.at(
            f"panel column {population!r}: needs a positive number",
            population,
            bad,
            panel[population],
        )
    generator = np.random.default_rng(rng)
    units = sorted(panel[unit].unique())
    years = sorted(int(y) for y in panel[year].unique())
    pop = panel.pivot_table(index=unit, columns=year, values=population, aggfunc="first")
    pop = pop.reindex(index=units, columns=years).astype(float)
    frames = []
    for name in names:
        counts = panel.pivot_table(index=unit, columns=year, values=name, aggfunc="first")
        counts = counts.reindex(index=units, columns=years).astype(float)
        for origin in origins:
            frames.extend(
                _forecast(name, counts, pop, int(origin), horizons, drift, level, draws, generator)
            )
    table = pd.concat(frames, ignore_index=True)
    return RateForecast(
        forecasts=table,
        scores=_scores(table),
        options={
            "series": names,
            "origins": [int(o) for o in origins],
            "horizons": [int(h) for h in horizons],
            "drift": drift,
            "level": level,
            "draws": draws,
            "units": len(units),
        },
    )


def _forecast(name, counts, pop, origin, horizons, drift, level, draws, generator):
    history = [y for y in counts.columns if y <= origin]
    if len(history) < 1:
        raise DataError(f"no year up to the origin {origin}", column="origin_year")
    y = counts[history].to_numpy()
    e = pop[history].to_numpy()
    seen = ~np.isnan(y)
    fit = local_level(np.where(seen, y, 0), np.where(seen, e, 0), steps_per_year=1)
    slope = 0.0
    usable = seen[:, [0, -1]].all(axis=1)
    if drift == "common" and len(history) > 1 and usable.any():
        first, last = (y[usable][:, i].sum() / e[usable][:, i].sum() for i in (0, -1))
        if first > 0 and last > 0:
            slope = float(np.log(last / first) / (len(history) - 1))
    pick = generator.choice(len(fit.weights), size=draws, p=fit.weights)
    n = len(counts.index)
    base = fit.mean[pick] + np.sqrt(fit.var[pick]) * generator.standard_normal((draws, n))
    tail = (1 - level) / 2
    out = []
    for h in horizons:
        target = origin + int(h)
        if target not in counts.columns:
            continue
        walk = np.sqrt(h) * fit.tau[pick][:, None] * generator.standard_normal((draws, n))
        noise = fit.sigma[pick][:, None] * generator.standard_normal((draws, n))
        rate = np.where(seen.any(axis=1), np.exp(base + h * slope + walk + noise), 0.0)
        drawn = generator.poisson(rate * pop[target].to_numpy()[None, :])
        observed = counts[target].to_numpy()
        q = np.quantile(drawn, [tail, 0.25, 0.5, 0.75, 1 - tail], axis=0)
        with np.errstate(invalid="ignore"):
            below = (drawn < observed[None, :]).mean(axis=0)
            at_most = (drawn <= observed[None, :]).mean(axis=0)
        known = ~np.isnan(observed) & seen.any(axis=1)
        out.append(
            pd.DataFrame(
                {
                    "series": name,
                    "origin_year": origin,
                    "unit": counts.index,
                    "year": target,
                    "horizon": int(h),
                    "observed": pd.array(np.where(known, observed, np.nan)).astype("Int64"),
                    "population": pop[target].to_numpy(),
                    "mean": drawn.mean(axis=0),
                    "median": q[2],
                    "q25": q[1],
                    "q75": q[3],
                    "ci_low": q[0],
                    "ci_high": q[4],
                    "level": level,
                    "pit": np.where(known, (below + at_most) / 2, np.nan),
                }
            )
        )
    return out


def _score(rows: pd.DataFrame) -> dict[str, float]:
    return _forecast_score(rows[rows["observed"].notna()])


def forecast_score(rows: pd.DataFrame) -> dict[str, float]:
    """The scores of forecast rows, as :func:`rate_forecast` and :func:`backtest` score
    theirs: ``forecasts`` (rows scored), ``coverage_50`` and ``coverage_90`` (shares of
    observed counts inside ``q25``-``q75`` and ``ci_low``-``ci_high``), ``mae`` (mean
    absolute error of the ``median``), ``mape`` (the same relative to counts above zero)
    and ``mean_pit``. ``rows`` need those columns, ``observed`` and ``pit``; rows without
    an observed count are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection
    >>> rows = pd.DataFrame({"observed": [10, 20, None], "median": [12, 20, 5], "q25": [11, 18, 4], "q75": [13, 22, 6], "ci_low": [9, 15, 2], "ci_high": [15, 25, 8], "pit": [0.2, 0.5, 0.5]})
    >>> projection.forecast_score(rows)
    {'forecasts': 2, 'coverage_50': 0.5, 'coverage_90': 1.0, 'mae': 1.0, 'mape': 0.1, 'mean_pit': 0.35}
    """
    return _forecast_score(rows[rows["observed"].notna()])


def _forecast_score(rows: pd.DataFrame) -> dict[str, float]:
    """Coverage of the 50% and 90% intervals, absolute and relative error of the median and
    mean PIT of forecast rows (``observed``, ``median``, ``q25``, ``q75``, ``ci_low``,
    ``ci_high``, ``pit``): one scoring for the rate forecasts and the back-tests."""
    return _score_of(_score_columns(rows))


def _forecast_scores(table: pd.DataFrame, keys: list[str]) -> list[tuple[tuple, dict]]:
    """:func:`_forecast_score` of each group of ``table``'s rows by ``keys`` (in the order
    the groups first appear, as ``groupby(keys, sort=False)``), from the columns taken
    once."""
    codes, labels = pd.MultiIndex.from_frame(table[keys]).factorize()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    columns = _score_columns(table)
    return [
        (labels[i], _score_of({name: values[rows] for name, values in columns.items()}))
        for i, rows in enumerate(np.split(order, bounds))
    ]


def _score_columns(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    columns = {"observed": rows["observed"].astype(float).to_numpy()}
    for name in ("median", "q25", "q75", "ci_low", "ci_high", "pit"):
        columns[name] = rows[name].to_numpy(dtype=float)
    return columns


def _score_of(columns: dict[str, np.ndarray]) -> dict[str, float]:
    y = columns["observed"]
    error = np.abs(y - columns["median"])
    positive = y > 0
    return {
        "forecasts": len(y),
        "coverage_50": float(np.mean((columns["q25"] <= y) & (y <= columns["q75"]))),
        "coverage_90": float(np.mean((columns["ci_low"] <= y) & (y <= columns["ci_high"]))),
        "mae": _mean(error),
        "mape": _mean(error[positive] / y[positive]) if positive.any() else np.nan,
        "mean_pit": _mean(columns["pit"]),
    }


def _mean(values: np.ndarray) -> float:
    """The mean of the values that are not missing, summed as pandas sums them (the
    missing ones as zeros in place), so that the same bits come out."""
    missing = np.isnan(values)
    if not missing.any():
        return float(values.sum() / len(values))
    count = len(values) - missing.sum()
    return float(np.where(missing, 0.0, values).sum() / count) if count else np.nan


def _scores(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (name, h), group in table.groupby(["series", "horizon"], sort=False):
        rows.append({"series": name, "horizon": str(h), **_score(group)})
    rows.append({"series": "all", "horizon": "all", **_score(table)})
    return pd.DataFrame(rows)
