"""Small-number suppression for published tables (DfE convention).

Counts from 1 to ``threshold - 1`` are replaced by ``"c"``; zero stays. Money, shares and
rates computed from a suppressed count are suppressed with it. This module applies primary
suppression; a table whose totals would let a reader recover a suppressed cell needs the
secondary suppression of the per-authority packs as well.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["SUPPRESSED", "suppress_small_counts"]

SUPPRESSED = "c"


def suppress_small_counts(
    table: pd.DataFrame,
    count: str = "n",
    *,
    dependent: Iterable[str] = (),
    threshold: int = 5,
) -> pd.DataFrame:
    """Replace counts 1..threshold-1 in ``count`` (and the ``dependent`` columns of the same
    rows) by ``"c"``; adds a boolean ``suppressed`` column saying which rows were."""
    out = table.copy()
    small = out[count].between(1, threshold - 1)
    for column in (count, *dependent):
        out[column] = out[column].astype(object).where(~small, SUPPRESSED)
    out["suppressed"] = small.to_numpy()
    return out
