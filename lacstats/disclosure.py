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

from lacstats.errors import DataError, frame_argument, whole_number_argument
from lacstats.results import Result, jsonable

__all__ = [
    "SUPPRESSED",
    "Suppressed",
    "apply",
    "suppress",
    "suppress_small_counts",
    "suppress_tables",
]

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
    whole_number_argument(
        threshold,
        "threshold",
        2,
        1000,
        ">= 2 (counts 1 to threshold - 1 are hidden; the DfE uses 5)",
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
    also: pd.DataFrame | None = None,
) -> Suppressed:
    """Suppress small counts in a cross-tabulation and, with ``totals``, add its margins.

    ``table`` holds the interior counts (rows x columns, no totals). The result's table has
    a ``Total`` row and column when ``totals`` is true. Suppressed cells read ``"c"``.
    ``also`` (booleans labelled like the result, margins included; missing labels are
    false) hides further non-zero cells before secondary suppression: the same counts
    hidden in another table that publishes them (a count suppressed anywhere is suppressed
    wherever it appears).

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
    index = [*map(str, table.index), TOTAL] if totals else list(map(str, table.index))
    columns = [*map(str, table.columns), TOTAL] if totals else list(map(str, table.columns))
    if also is not None:
        linked = (
            pd.DataFrame(also)
            .rename(index=str, columns=str)
            .reindex(index=index, columns=columns, fill_value=False)
            .fillna(False)
            .to_numpy(dtype=bool)
        )
        for i, j in zip(*np.nonzero(linked & ~mask & (full > 0)), strict=True):
            mask[i, j] = True
            reasons[(i, j)] = "linked: the same count is suppressed in another table"
    if secondary and totals:
        _secondary(full, mask, reasons)
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
    labels, so ``values`` may omit the margins. Columns: those of ``values``.

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
    frame_argument(values, "values")
    frame_argument(mask, "mask")
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

    Columns: those of ``table``, then ``suppressed``. For long tables whose rows publish
    no margin; use :func:`suppress` for cross-tabs.
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
    frame_argument(table, "table")
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


def suppress_tables(
    tables: dict[str, pd.DataFrame],
    *,
    threshold: int = 5,
    margins: dict[str, bool] | None = None,
    same: Iterable[Iterable[tuple[str, str]]] = (),
) -> dict[str, Suppressed]:
    """Suppress several cross-tabulations that are published together as one set.

    Each table of interior counts (categories x the same columns, e.g. authorities) is
    suppressed as :func:`suppress` does, with its margins. ``margins`` says, per table,
    whether its column totals (the ``Total`` row) are published: they mean something only
    when its rows are exclusive; row totals always are. ``same`` lists groups of
    ``(table, row)`` that count the same units (a row may be ``"Total"``): a count hidden
    in one is hidden in all, column by column. Then an attacker's audit: for every hidden
    count from 1 to ``threshold - 1`` (interior or margin), its least and greatest value
    over all non-negative tables that agree with every published number and every
    equality in ``same`` (linear programming, HiGHS). Where the two agree, the smallest
    published count among the relations that pin it down is suppressed too, and
    everything is suppressed again, until no hidden count can be recovered.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import disclosure
    >>> counts = pd.DataFrame({"A": [39, 3, 19], "B": [4, 0, 0], "C": [210, 18, 39]}, index=["foster", "homes", "parents"])
    >>> result = disclosure.suppress_tables({"settings": counts})
    >>> result["settings"].table
              A  B    C Total
    foster    c  c  210   253
    homes     c  0    c    21
    parents   c  0    c    58
    Total     c  c  267   332
    """
    _check_threshold(threshold)
    margins = {name: True for name in tables} if margins is None else dict(margins)
    groups = [list(group) for group in same]
    forced: dict[str, pd.DataFrame | None] = {name: None for name in tables}

    def force(name: str, row: str, column: str | None, hidden: np.ndarray | None = None) -> None:
        mask = result[name].mask
        extra = forced[name]
        if extra is None:
            extra = pd.DataFrame(False, index=mask.index, columns=mask.columns)
            forced[name] = extra
        if column is None:
            extra.loc[row] = extra.loc[row].to_numpy(dtype=bool) | hidden
        else:
            extra.loc[row, column] = True

    while True:
        result = {
            name: suppress(table, threshold=threshold, also=forced[name])
            for name, table in tables.items()
        }
        changed = False
        for group in groups:
            hidden = np.logical_or.reduce(
                [result[name].mask.loc[row].to_numpy(dtype=bool) for name, row in group]
            )
            for name, row in group:
                if (hidden & ~result[name].mask.loc[row].to_numpy(dtype=bool)).any():
                    force(name, row, None, hidden)
                    changed = True
        if changed:
            continue
        leak = _audit(tables, result, margins, groups, threshold)
        if leak is None:
            return result
        name, row, column = leak
        force(name, row, column)


def _audit(tables, result, margins, groups, threshold):
    """The first published count to suppress so that a recovered hidden count is not,
    or None when no hidden count from 1 to ``threshold - 1`` can be recovered."""
    from scipy.optimize import linprog

    names = list(tables)
    offsets, position = {}, 0
    for name in names:
        offsets[name] = position
        position += tables[name].size
    size = position

    def cells(name: str, row: str, column: str) -> list[int]:
        """The interior cells whose sum is the published (row, column) of ``name``."""
        table = tables[name]
        rows = list(map(str, table.index))
        columns = list(map(str, table.columns))
        pick_rows = range(len(rows)) if row == TOTAL else [rows.index(row)]
        pick_cols = range(len(columns)) if column == TOTAL else [columns.index(column)]
        return [offsets[name] + i * len(columns) + j for i in pick_rows for j in pick_cols]

    equations, values, sources = [], [], []
    sensitive = []
    for name in names:
        shown = result[name]
        full = shown.table.where(~shown.mask, 0)
        for row in shown.table.index:
            if row == TOTAL and not margins.get(name, True):
                continue
            for column in shown.table.columns:
                members = cells(name, row, column)
                value = int(
                    tables[name].to_numpy().reshape(-1)[[m - offsets[name] for m in members]].sum()
                )
                if shown.mask.loc[row, column]:
                    if 1 <= value < threshold:
                        sensitive.append((name, row, column, members, value))
                    continue
                equations.append(members)
                values.append(float(full.loc[row, column]))
                sources.append((name, row, column, value))
    for group in groups:
        (first, first_row), *rest = group
        for column in map(str, tables[first].columns):
            left = cells(first, first_row, column)
            for name, row in rest:
                right = cells(name, row, column)
                equations.append((left, right))
                values.append(0.0)
                sources.append(None)
    if not sensitive:
        return None
    matrix = np.zeros((len(equations), size))
    for k, members in enumerate(equations):
        if isinstance(members, tuple):
            matrix[k, members[0]] += 1
            matrix[k, members[1]] -= 1
        else:
            matrix[k, members] = 1
    b = np.array(values)
    for *_, members, value in sensitive:
        target = np.zeros(size)
        target[members] = 1
        low = linprog(target, A_eq=matrix, b_eq=b, bounds=(0, None), method="highs")
        if low.status != 0 or value - low.fun >= 1 - 1e-6:
            continue  # the true value and one at least 1 below it both agree: protected
        high = linprog(-target, A_eq=matrix, b_eq=b, bounds=(0, None), method="highs")
        if high.status != 0 or -high.fun - low.fun >= 1 - 1e-6:
            continue
        duals = np.abs(low.eqlin.marginals) + np.abs(high.eqlin.marginals)
        involved = [
            sources[k]
            for k in np.flatnonzero(duals > 1e-9)
            if sources[k] is not None and sources[k][3] > 0
        ]
        interior = [s for s in involved if TOTAL not in (s[1], s[2])]
        pool = interior or involved
        if not pool:  # pragma: no cover - a recovered count always rests on a published one
            continue
        pick = min(pool, key=lambda s: (s[3], names.index(s[0]), s[1], s[2]))
        return pick[:3]
    return None
