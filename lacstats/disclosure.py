"""Disclosure control for anything published: small-count suppression (DfE convention).

Primary suppression: counts from 1 to ``threshold - 1`` are replaced by ``"c"``; zero
stays (a zero was submitted as zero). Secondary suppression: a published row or column
total would let a reader recover a lone suppressed cell by subtraction, so every row and
column (totals included) with a suppressed cell gets at least one more, the smallest
unsuppressed non-zero count in it (the DfE rule, SFR50/2017 metadata: "suppress the next
smallest data item"), repeated until no suppressed cell can be recovered. If a total itself
would reveal the only suppressed cells, the total is suppressed too. Money, shares and rates
computed from a suppressed count are suppressed with it (:func:`apply`).

:func:`suppress_small_counts` is the primary rule for a long table whose rows publish no
margins (nothing can be recovered by subtraction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError
from lacstats.results import Result, jsonable

__all__ = ["SUPPRESSED", "Suppressed", "apply", "suppress", "suppress_small_counts"]

#: The mark of a suppressed cell, as the DfE's releases write it.
SUPPRESSED = "c"
TOTAL = "Total"


@dataclass(frozen=True)
class Suppressed(Result):
    """A suppressed table: what to publish, which cells were hidden, and why.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import disclosure
    >>> result = disclosure.suppress(pd.DataFrame({"Kent": [12, 3], "Medway": [7, 9]}, index=["foster", "residential"]))
    >>> result.threshold, int(result.mask.to_numpy().sum())
    (5, 4)
    >>> result.record.columns.tolist()
    ['row', 'column', 'reason']
    """

    table: pd.DataFrame  # counts with "c" where suppressed, margins included
    mask: pd.DataFrame  # True where suppressed (same shape as ``table``)
    record: pd.DataFrame  # row, column, reason (never the hidden value)
    threshold: int

    def to_frame(self) -> pd.DataFrame:
        """The table to publish, with ``c`` where a count is suppressed."""
        return self.table.copy()

    def summary(self) -> str:
        return (
            f"{self.heading()}: {len(self.record)} cell(s) hidden (threshold {self.threshold})\n"
            + self.table.to_string()
        )

    def to_dict(self) -> dict[str, Any]:
        """What is published and why cells were hidden; never a hidden value."""
        return {
            "table": jsonable(self.table.reset_index()),
            "record": jsonable(self.record),
            "threshold": self.threshold,
        }

    def apply(self, values: pd.DataFrame) -> pd.DataFrame:
        """Suppress a table of money or rates derived from the same counts."""
        return apply(values, self.mask)


def _check_threshold(threshold: object) -> None:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | np.integer)
        or not 2 <= threshold <= 1000
    ):
        raise DataError(
            f"argument 'threshold' must be a whole number >= 2 (counts 1 to threshold - 1 are "
            f"hidden; the DfE uses 5); got {threshold!r}",
            column="threshold",
        )


def _check_counts(table: pd.DataFrame) -> np.ndarray:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(table).__name__}")
    values = table.to_numpy()
    try:
        numbers = values.astype(float)
    except (TypeError, ValueError) as err:
        raise DataError("suppress() needs a table of counts (numbers only)") from err
    if not np.all(np.isfinite(numbers)) or np.any(numbers < 0) or np.any(numbers % 1 != 0):
        raise DataError("suppress() needs whole, non-negative counts")
    return numbers


def suppress(
    table: pd.DataFrame,
    *,
    threshold: int = 5,
    secondary: bool = True,
    totals: bool = True,
) -> Suppressed:
    """Suppress small counts in a cross-tabulation and, with ``totals``, add its margins.

    ``table`` holds the interior counts (rows x columns, no totals). The result's table has
    a ``Total`` row and column when ``totals`` is true. Suppressed cells read ``"c"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import disclosure
    >>> counts = pd.DataFrame({"Kent": [12, 3, 40], "Medway": [7, 9, 15]}, index=["foster_ifa", "residential_private", "foster_in_house"])
    >>> disclosure.suppress(counts).table
                        Kent Medway Total
    foster_ifa             c      c    19
    residential_private    c      c    12
    foster_in_house       40     15    55
    Total                 55     31    86
    >>> disclosure.suppress(counts, secondary=False, totals=False).table
                        Kent Medway
    foster_ifa            12      7
    residential_private    c      9
    foster_in_house       40     15
    """
    _check_threshold(threshold)
    counts = _check_counts(table)
    full = counts
    if totals:
        full = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1))
        full[:-1, :-1] = counts
        full[:-1, -1] = counts.sum(axis=1)
        full[-1, :-1] = counts.sum(axis=0)
        full[-1, -1] = counts.sum()
    mask = (full >= 1) & (full < threshold)
    reasons = {
        (i, j): f"primary: count below {threshold}" for i, j in zip(*np.nonzero(mask), strict=True)
    }
    if secondary and totals:
        _secondary(full, mask, reasons)
    index = [*map(str, table.index), TOTAL] if totals else list(map(str, table.index))
    columns = [*map(str, table.columns), TOTAL] if totals else list(map(str, table.columns))
    shown = pd.DataFrame(full.astype(np.int64), index=index, columns=columns).astype(object)
    shown = shown.mask(pd.DataFrame(mask, index=index, columns=columns), SUPPRESSED)
    record = pd.DataFrame(
        [
            {"row": index[i], "column": columns[j], "reason": reason}
            for (i, j), reason in sorted(reasons.items())
        ],
        columns=["row", "column", "reason"],
    )
    return Suppressed(shown, pd.DataFrame(mask, index=index, columns=columns), record, threshold)


def _secondary(full: np.ndarray, mask: np.ndarray, reasons: dict) -> None:
    """Hide complements until no row or column (with its total) has a lone hidden cell.

    Rows and columns include the margins: the last row and column are totals, so each
    line of the table (row i across all columns, or column j down all rows) is an
    additive relation "cells sum to the total" and must not contain exactly one hidden
    entry.
    """
    rows, cols = full.shape
    changed = True
    while changed:
        changed = False
        lines = [("row", i, [(i, j) for j in range(cols)]) for i in range(rows)]
        lines += [("column", j, [(i, j) for i in range(rows)]) for j in range(cols)]
        for kind, k, cells in lines:
            hidden = [c for c in cells if mask[c]]
            if len(hidden) != 1:
                continue
            candidates = [c for c in cells if not mask[c] and full[c] > 0]
            if not candidates:
                continue
            # the smallest interior count first; a total only if nothing else is left
            interior = [c for c in candidates if c[0] < rows - 1 and c[1] < cols - 1]
            pool = interior or candidates
            pick = min(pool, key=lambda c: (full[c], c))
            mask[pick] = True
            reasons[pick] = f"secondary: protects a suppressed cell in {kind} {k}"
            changed = True


def apply(values: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """Suppress ``values`` (money, shares, rates) wherever ``mask`` is true; aligned on
    labels, so ``values`` may omit the margins.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import disclosure
    >>> counts = pd.DataFrame({"Kent": [12, 3], "Medway": [7, 9]}, index=["foster", "residential"])
    >>> hidden = disclosure.suppress(counts, totals=False).mask
    >>> disclosure.apply(counts * 950.0, hidden)
                    Kent  Medway
    foster       11400.0  6650.0
    residential        c  8550.0
    """
    aligned = mask.reindex(
        index=values.index.map(str), columns=values.columns.map(str), fill_value=False
    )
    out = values.copy().astype(object)
    out.index, out.columns = out.index.map(str), out.columns.map(str)
    return out.mask(aligned.to_numpy(dtype=bool), SUPPRESSED)


def suppress_small_counts(
    table: pd.DataFrame,
    count: str = "n",
    *,
    dependent: Iterable[str] = (),
    threshold: int = 5,
    total: pd.Series | None = None,
) -> pd.DataFrame:
    """Replace counts 1..threshold-1 in ``count`` (and the ``dependent`` columns of the same
    rows) by ``"c"``; adds a boolean ``suppressed`` column saying which rows were.

    For long tables whose rows publish no margin; use :func:`suppress` for cross-tabs.
    ``total`` marks (boolean, aligned on rows) a total row that sums the others: it is
    never suppressed itself, and a lone suppressed row gets a second, the smallest other
    non-zero row (secondary suppression), so that it cannot be recovered by subtraction.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import disclosure
    >>> table = pd.DataFrame({"setting": ["foster_ifa", "secure_unit", "other"], "n": [40, 2, 0], "weekly_cost": [34000.0, 11000.0, 0.0]})
    >>> disclosure.suppress_small_counts(table, "n", dependent=["weekly_cost"])
           setting   n weekly_cost  suppressed
    0   foster_ifa  40     34000.0       False
    1  secure_unit   c           c        True
    2        other   0         0.0       False
    """
    _check_threshold(threshold)
    if count not in table:
        raise DataError(f"no column {count!r} of counts", column=count)
    out = table.copy()
    is_total = pd.Series(False, index=out.index) if total is None else total.astype(bool)
    small = out[count].between(1, threshold - 1) & ~is_total
    if total is not None and small.sum() == 1:
        others = out[count].where(~small & ~is_total & (out[count] > 0))
        if others.notna().any():
            small.loc[others.idxmin()] = True
    for column in (count, *dependent):
        out[column] = out[column].astype(object).where(~small, SUPPRESSED)
    out["suppressed"] = small.to_numpy()
    return out
