"""Projections by simple rules, as the seed documents make them.

- :func:`rate_projection`: a rate of looked-after children per child in the population
  times a projected population (ONS), with a Poisson interval on the observed rate (the
  South East Complex LAC project's projection of children aged 10 and over).
- :func:`growth_to_cap`: Nottinghamshire's "growth of 2 LAC per month until there are
  898 children in care" (Nottinghamshire County Council, "Looked After Children Placement
  Commissioning Plan", 2014).
- :func:`mix_cost`: a projected placement mix priced with a table of unit costs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.errors import DataError
from lacstats.units import WEEKS_PER_YEAR

__all__ = ["growth_to_cap", "mix_cost", "rate_projection"]


def growth_to_cap(
    start: float, *, per_month: float = 2, cap: float = 898, months: int = 36
) -> pd.DataFrame:
    """Children looked after, month by month: ``start`` plus ``per_month`` a month until
    ``cap``, then level. Columns ``month`` (0 = now) and ``children``.

    Examples
    --------
    >>> from lacstats import projection
    >>> projection.growth_to_cap(890, per_month=2, cap=898, months=6)
       month  children
    0      0       890
    1      1       892
    2      2       894
    3      3       896
    4      4       898
    5      5       898
    6      6       898
    """
    if months < 0 or per_month < 0:
        raise DataError("months and per_month must be non-negative", column="months")
    steps = np.arange(months + 1)
    children = np.minimum(start + per_month * steps, max(cap, start))
    return pd.DataFrame({"month": steps, "children": children})


def mix_cost(
    mix: pd.DataFrame, unit_costs: pd.Series | dict, *, weeks: float = WEEKS_PER_YEAR
) -> pd.DataFrame:
    """Weekly and annual cost of a projected placement mix.

    ``mix`` has one row per period and one column per placement type (children);
    ``unit_costs`` maps placement types to a weekly cost. Placement types without a unit
    cost are left out of the totals and listed in ``unpriced``. Columns: ``period`` (the
    index of ``mix``), ``children_priced``, ``weekly_cost``, ``annual_cost`` (``weeks`` a
    year) and ``unpriced``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection
    >>> mix = pd.DataFrame({"Foster care": [600, 610], "Residential": [60, 62], "Other": [5, 5]})
    >>> projection.mix_cost(mix, {"Foster care": 800.0, "Residential": 4000.0})
       period  children_priced  weekly_cost  annual_cost unpriced
    0       0              660     720000.0   37542960.0    Other
    1       1              672     736000.0   38377248.0    Other
    """
    costs = pd.Series(unit_costs, dtype=float)
    priced = [c for c in mix.columns if c in costs.index]
    if not priced:
        raise DataError("no placement type of the mix has a unit cost", column="unit_costs")
    weekly = (mix[priced] * costs[priced]).sum(axis=1)
    return pd.DataFrame(
        {
            "period": mix.index,
            "children_priced": mix[priced].sum(axis=1).to_numpy(),
            "weekly_cost": weekly.to_numpy(),
            "annual_cost": (weekly * weeks).to_numpy(),
            "unpriced": ", ".join(c for c in mix.columns if c not in priced),
        }
    )


def rate_projection(
    observed: pd.DataFrame,
    projected_population: pd.DataFrame,
    *,
    by: str = "area",
    confidence: float = 0.95,
    per: float = 10_000,
) -> pd.DataFrame:
    """Children looked after = observed rate x projected population.

    ``observed`` has ``by``, ``children`` (looked after) and ``population`` (the children
    of the same ages) in the base year; ``projected_population`` has ``by`` and
    ``population`` in the target year. The rate's interval treats the observed count as
    Poisson (exact gamma limits, Garwood 1936), so the projection's interval is the
    uncertainty of the rate; it does not include uncertainty in the population
    projection. Columns: ``by``, ``children``, ``population``, ``population_projected``,
    ``rate`` (per ``per`` children), ``rate_ci_low``, ``rate_ci_high``, ``projected``,
    ``projected_ci_low``, ``projected_ci_high``, ``level`` (the intervals' probability,
    ``confidence``), ``change``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection
    >>> observed = pd.DataFrame({"area": ["South East"], "children": [6557], "population": [1_000_000]})
    >>> target = pd.DataFrame({"area": ["South East"], "population": [1_050_000]})
    >>> projection.rate_projection(observed, target)[["area", "rate", "projected", "projected_ci_low", "projected_ci_high"]].round(1)
             area  rate  projected  projected_ci_low  projected_ci_high
    0  South East  65.6     6884.8         6719.2          7053.5
    """
    from scipy import stats

    for name, frame, columns in (
        ("observed", observed, (by, "children", "population")),
        ("projected_population", projected_population, (by, "population")),
    ):
        missing = [c for c in columns if c not in frame]
        if missing:
            raise DataError(f"{name} lacks column {missing[0]!r}", column=missing[0])
        for column in columns[1:]:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = (values.isna() | (values < 0)).to_numpy()
            if column == "population":
                bad = bad | (values == 0).to_numpy()
            if bad.any():
                raise DataError.at(
                    f"{name} column {column!r}: needs a positive number",
                    column,
                    bad,
                    frame[column],
                )
    merged = observed.merge(
        projected_population, on=by, suffixes=("", "_projected"), validate="one_to_one"
    )
    if len(merged) < len(observed):
        lost = sorted(set(observed[by]) - set(merged[by]))
        raise DataError(
            f"no projected population for {by} {lost[0]!r}", column=by, values=lost[:5]
        )
    count = merged["children"].to_numpy(dtype=float)
    alpha = 1 - confidence
    low = np.where(count > 0, stats.gamma.ppf(alpha / 2, count), 0.0)
    high = stats.gamma.ppf(1 - alpha / 2, count + 1)
    base = merged["population"].to_numpy(dtype=float)
    target = merged["population_projected"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {by: merged[by], "children": count, "population": base, "population_projected": target}
    )
    out["rate"] = count / base * per
    out["rate_ci_low"] = low / base * per
    out["rate_ci_high"] = high / base * per
    out["projected"] = count / base * target
    out["projected_ci_low"] = low / base * target
    out["projected_ci_high"] = high / base * target
    out["level"] = confidence
    out["change"] = out["projected"] - count
    return out
