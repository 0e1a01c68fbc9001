"""Projections of looked-after children and the cost of their placement mix.

This module holds the arithmetic models of the seeds: Nottinghamshire's growth-to-cap
(seed ``004_e13e0d54dcbcee4e.txt``: "a growth of 2 LAC per month until there are 898
children in care") and the weekly and annual cost of a projected placement mix under a
table of unit costs. The stock-and-flow projection from SSDA903 episodes is not built yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats.cohorts import ANNUAL_WEEKS
from lacstats.errors import DataError

__all__ = ["growth_to_cap", "mix_cost"]


def growth_to_cap(
    start: float, *, per_month: float = 2, cap: float = 898, months: int = 36
) -> pd.DataFrame:
    """Children looked after, month by month: ``start`` plus ``per_month`` a month until
    ``cap``, then level. Columns ``month`` (0 = now) and ``children``."""
    if months < 0 or per_month < 0:
        raise DataError("months and per_month must be non-negative", column="months")
    steps = np.arange(months + 1)
    children = np.minimum(start + per_month * steps, max(cap, start))
    return pd.DataFrame({"month": steps, "children": children})


def mix_cost(
    mix: pd.DataFrame, unit_costs: pd.Series | dict, *, weeks: float = ANNUAL_WEEKS
) -> pd.DataFrame:
    """Weekly and annual cost of a projected placement mix.

    ``mix`` has one row per period and one column per placement type (children);
    ``unit_costs`` maps placement types to a weekly cost. Placement types without a unit
    cost are left out of the totals and listed in ``unpriced``.
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
