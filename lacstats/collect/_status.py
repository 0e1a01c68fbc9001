"""Collection status: the returns against the study's design, authority by authority.

For each authority of the study: the population of its sampling frame, the rows its
design requires, the rows returned (filled in, in any return naming it), the rows valid
(merged), the problems listed, the margin of error a proportion estimated from the valid
rows achieves at the study's confidence (:func:`lacstats.sampling.margin_of_error`, with
the finite-population correction for the authority's population; worst case p = 0.5) and
whether it meets the design's target, compared exactly: a margin of +/-10.03 points does
not meet a target of +/-10 (the design's rounding of each sample size can leave the
required rows a little short of it). :meth:`CollectionStatus.to_html`
renders it as a self-contained page (styles inline, no scripts, no network requests).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lacstats.errors import DataError
from lacstats.results import Result
from lacstats.sampling import margin_of_error

__all__ = ["CollectionStatus", "status"]


@dataclass(frozen=True)
class CollectionStatus(Result):
    """Collection status: rows returned and valid against the study's design.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name, part in synthetic.sample(kent_medway, rng=1).groupby("authority", observed=True):
    ...         _ = part.to_csv(Path(folder) / f"{name}.csv", index=False)
    ...     progress = collect.status(collect.merge([folder], study=kent_medway))
    ...
    >>> progress.confidence, progress.interval
    (0.95, 10.0)
    >>> progress.table.columns.tolist()
    ['authority', 'population', 'required', 'returned', 'valid', 'problems', 'margin_of_error', 'target_met']
    """

    study: str
    title: str
    confidence: float
    #: the design's half-width, in percentage points
    interval: float
    #: one row per authority: authority, population, required, returned, valid, problems,
    #: margin_of_error (percentage points; missing with no valid row), target_met
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def complete(self) -> bool:
        """Every authority's target met."""
        return bool(self.table["target_met"].all())

    def summary(self) -> str:
        met = int(self.table["target_met"].sum())
        return (
            f"Collection status of {self.study}: {met} of {len(self.table)} authorities "
            f"have met their design target; {int(self.table['valid'].sum()):,} valid rows of "
            f"{int(self.table['required'].sum()):,} required (margins of error at "
            f"{self.confidence:.0%} confidence, target +/-{self.interval:g} points)\n"
            + self.table.to_string(index=False, float_format=_points)
        )

    def to_html(self) -> str:
        """The status as a self-contained HTML page."""
        rows = []
        for record in self.table.itertuples(index=False):
            share = min(1.0, record.valid / record.required) if record.required else 1.0
            moe = record.margin_of_error
            moe_text = "" if moe is None or math.isnan(moe) else f"±{_points(moe)}"
            state = "met" if record.target_met else "open"
            rows.append(
                "<tr>"
                f"<td>{html.escape(record.authority)}</td>"
                f"<td class='n'>{record.population:,}</td>"
                f"<td class='n'>{record.required}</td>"
                f"<td class='n'>{record.returned}</td>"
                f"<td class='n'>{record.valid}</td>"
                f"<td class='n'>{record.problems}</td>"
                f"<td class='n'>{moe_text}</td>"
                f"<td><div class='bar'><div class='fill {state}' "
                f"style='width:{100 * share:.0f}%'></div></div></td>"
                f"<td class='{state}'>{'met' if record.target_met else 'not yet'}</td>"
                "</tr>"
            )
        met = int(self.table["target_met"].sum())
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "Authority",
                "Population",
                "Required",
                "Returned",
                "Valid",
                "Problems",
                "Margin of error (points)",
                "Valid of required",
                "Target",
            )
        )
        return "".join(
            [
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
                f"<title>{html.escape(self.title)}: collection status</title>",
                f"<style>{_STYLE}</style></head><body>",
                f"<h1>{html.escape(self.title)}: collection status</h1>",
                (
                    f"<p>{met} of {len(self.table)} authorities have met their design target; "
                    f"{int(self.table['valid'].sum()):,} valid case rows of "
                    f"{int(self.table['required'].sum()):,} required. The margin of error is "
                    f"the half-width of a {self.confidence:.0%} interval for a proportion "
                    "(worst case, 50%) from the valid rows, corrected for each authority's "
                    f"population; the design's target is ±{self.interval:g} points.</p>"
                ),
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
                "<p class='note'>Counts of case rows only: no child-level data.</p>",
                "</body></html>\n",
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        from lacstats.results import jsonable

        return {
            "study": self.study,
            "confidence": self.confidence,
            "interval": self.interval,
            "complete": self.complete,
            "authorities": jsonable(self.table),
        }


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}"
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".bar{background:#eee;width:160px;height:12px;border-radius:2px}"
    ".fill{height:12px;border-radius:2px}.fill.met{background:#2e7d32}"
    ".fill.open{background:#ef6c00}td.met{color:#2e7d32}td.open{color:#b34700}"
    ".note{color:#666;font-size:0.9em}"
)


def _points(value: float) -> str:
    """A margin in points to two decimals, so that one just above its target reads so."""
    return f"{value:.2f}"


def status(merged: Any) -> CollectionStatus:
    """The collection status of a :class:`~lacstats.collect.Merged` result (best made
    with ``errors="drop"`` and ``allow_missing=True``, so that the valid rows are counted
    and the authorities still to return are listed).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> cases = synthetic.sample(kent_medway, rng=1)
    >>> returned = cases[(cases["authority"] == "Medway") | (cases.index < 50)]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name, part in returned.groupby("authority", observed=True):
    ...         _ = part.to_csv(Path(folder) / f"{name}.csv", index=False)
    ...     merged = collect.merge([folder], study=kent_medway, errors="drop", allow_missing=True)
    ...
    >>> progress = collect.status(merged)
    >>> progress.table.iloc[:, :5]
      authority  population  required  returned  valid
    0      Kent        1456        90        50     50
    1    Medway         228        68        68     68
    """
    if not all(hasattr(merged, a) for a in ("study", "cases", "issues", "returns")):
        raise DataError(
            f"argument 'merged' must be the result of collect.merge, got {type(merged).__name__}",
            column="merged",
        )
    study = merged.study
    plan = study.design().table.set_index("stratum")
    returns = merged.returns
    valid = merged.cases["authority"].astype(str).value_counts()
    problems = merged.issues["authority"].value_counts()
    rows = []
    for authority in study.authorities:
        population = int(plan.loc[authority, "population"])
        required = int(plan.loc[authority, "n"])
        mine = returns[returns["authority"] == authority] if len(returns) else returns
        returned = int(mine["rows_filled"].sum()) if len(mine) else 0
        n = int(valid.get(authority, 0))
        moe = (
            float(margin_of_error(min(n, population), population, confidence=study.confidence))
            if n
            else float("nan")
        )
        rows.append(
            {
                "authority": authority,
                "population": population,
                "required": required,
                "returned": returned,
                "valid": n,
                "problems": int(problems.get(authority, 0)),
                "margin_of_error": moe,
                # exactly: 10.03 points does not meet a target of 10
                "target_met": bool(n > 0 and moe <= study.interval),
            }
        )
    return CollectionStatus(
        study=study.name,
        title=study.title,
        confidence=study.confidence,
        interval=study.interval,
        table=pd.DataFrame(rows),
    )
