"""Cost tables and savings scenarios (the Dorset and Nottinghamshire seeds).

Unit costs are data: Nottinghamshire's published weekly costs (seed
``004_e13e0d54dcbcee4e.txt``, December 2012) ship as the example, and any authority passes
its own. Savings follow Dorset's tables (seed ``001_f73de9509b5f46e3.txt``): the weekly
saving of a planned change is the weekly cost of the children's current placements minus
the weekly cost of the new ones (both for all the children together), and the full-year
cost avoided is that saving times the weeks in a year (Dorset used 52).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lacstats.errors import DataError

__all__ = ["Savings", "nottinghamshire_unit_costs", "savings"]

SAVINGS_COLUMNS = ("change", "children", "weekly_cost", "new_weekly_cost")


def nottinghamshire_unit_costs() -> pd.DataFrame:
    """Nottinghamshire's average weekly unit costs (December 2012), from the seed."""
    from lacstats.datasets import published_findings

    figures = published_findings()["nottinghamshire_unit_costs"]
    return pd.DataFrame(
        {"placement": list(figures["weekly"]), "weekly_cost": list(figures["weekly"].values())}
    ).assign(as_at=figures["as_at"], source=figures.get("source", ""))


@dataclass(frozen=True)
class Savings:
    """Planned placement changes and what they save."""

    changes: pd.DataFrame
    weeks: float

    def to_frame(self) -> pd.DataFrame:
        """The changes with ``weekly_saving`` and ``annual_saving`` (GBP), plus a total."""
        out = self.changes.copy()
        out["weekly_saving"] = out["weekly_cost"] - out["new_weekly_cost"]
        out["annual_saving"] = out["weekly_saving"] * self.weeks
        return out

    @property
    def annual_total(self) -> float:
        return float(self.to_frame()["annual_saving"].sum())


def savings(changes: pd.DataFrame, *, weeks: float = 52) -> Savings:
    """Weekly and full-year savings of planned placement changes.

    ``changes`` has columns ``change``, ``children``, ``weekly_cost`` (all the children's
    current placements together, GBP a week) and ``new_weekly_cost`` (after the change).
    """
    missing = [c for c in SAVINGS_COLUMNS if c not in changes.columns]
    if missing:
        raise DataError(f"savings table lacks column(s) {missing}", column=missing[0])
    frame = changes[list(SAVINGS_COLUMNS)].copy()
    for column in ("children", "weekly_cost", "new_weekly_cost"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = (values.isna() | (values < 0)).to_numpy()
        if bad.any():
            raise DataError.at(
                f"column {column!r}: needs a non-negative number", column, bad, frame[column]
            )
        frame[column] = values
    if not np.isfinite(weeks) or weeks <= 0:
        raise DataError(f"argument 'weeks' must be positive, got {weeks!r}", column="weeks")
    return Savings(frame.reset_index(drop=True), float(weeks))
