"""Cost tables and savings scenarios (the Dorset and Nottinghamshire source documents).

Unit costs are data: Nottinghamshire's published weekly costs (Nottinghamshire County
Council, "Looked After Children Placement Commissioning Plan", 2014, costs of December
2012) ship as the example, and any authority passes its own. Savings follow the tables of
Dorset County Council, "Looked After Children: Current Position, Predicting Future Numbers
and Reducing Costs" (2017): the weekly saving of a planned change is the weekly cost of the children's current placements minus
the weekly cost of the new ones (both for all the children together), and the full-year
cost avoided is that saving times the weeks in a year (Dorset used 52).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats import schema
from lacstats.errors import DataError, frame_argument
from lacstats.results import Result
from lacstats.units import BUDGET_WEEKS_PER_YEAR

__all__ = [
    "ALL_TYPES",
    "Savings",
    "cost_table",
    "dorset_unit_costs",
    "high_cost_review",
    "nottinghamshire_unit_costs",
    "savings",
    "unit_cost",
]

#: The label of the total row of a cost table (Dorset's "All Placement Types").
ALL_TYPES = "All placement types"
#: Nottinghamshire's four unit costs are for these case-table placement settings.
NOTTINGHAMSHIRE_SETTINGS = {
    "internal_fostering": ("foster_in_house",),
    "external_fostering": ("foster_ifa",),
    "internal_residential": ("residential_la_own",),
    "external_residential": ("residential_other_la", "residential_private"),
}

SAVINGS_COLUMNS = ("change", "children", "weekly_cost", "new_weekly_cost")


def nottinghamshire_unit_costs(*, by_setting: bool = False) -> pd.DataFrame:
    """Nottinghamshire's average weekly unit costs (December 2012), from the seed.

    With ``by_setting=True`` the table is keyed by the case table's ``placement_setting``
    (internal fostering = in-house foster care; external residential = private and other
    authorities' children's homes), ready for :func:`unit_cost`; settings the seed does not
    price are absent. Columns: ``placement``, ``weekly_cost``, ``as_at`` and ``source``; by
    setting, ``placement_setting``, ``weekly_cost`` and ``source`` (the seed's row).

    Examples
    --------
    >>> from lacstats import costs
    >>> costs.nottinghamshire_unit_costs()[["placement", "weekly_cost"]]
                  placement  weekly_cost
    0    internal_fostering          465
    1    external_fostering          829
    2  internal_residential         3952
    3  external_residential         2711
    >>> costs.nottinghamshire_unit_costs(by_setting=True)[["placement_setting", "weekly_cost"]].head(2)
      placement_setting  weekly_cost
    0   foster_in_house        465.0
    1        foster_ifa        829.0
    """
    from lacstats.datasets import published_findings

    figures = published_findings()["nottinghamshire_unit_costs"]
    table = pd.DataFrame(
        {"placement": list(figures["weekly"]), "weekly_cost": list(figures["weekly"].values())}
    ).assign(as_at=figures["as_at"], source=figures.get("source", ""))
    if not by_setting:
        return table
    rows = [
        {"placement_setting": setting, "weekly_cost": float(cost), "source": row}
        for row, cost in zip(table["placement"], table["weekly_cost"], strict=True)
        for setting in NOTTINGHAMSHIRE_SETTINGS[row]
    ]
    return pd.DataFrame(rows)


def _non_negative(frame: pd.DataFrame, column: str, table: str = "") -> pd.Series:
    """``frame[column]`` as numbers, or a :class:`DataError` naming every cell that is
    missing, not a number or negative (``table`` prefixes the message)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = (values.isna() | (values < 0)).to_numpy()
    if bad.any():
        raise DataError.at(
            f"{table}column {column!r}: needs a non-negative number", column, bad, frame[column]
        )
    return values


def dorset_unit_costs() -> pd.DataFrame:
    """Unit costs from the sample report of Dorset's cost calculator (Dorset County Council 2017, Table 4;
    "not using current Dorset data"): average cost a week by placement type, provider
    and location, plus the weeks-weighted averages by type and provider and by type
    alone (blank provider or location), so that :func:`unit_cost` can fall back when a
    return does not record the location. Averages are total / weeks of the table.
    Columns: ``placement_type``, ``provider``, ``location`` (blank where a level averages
    over it), ``weekly_cost`` and ``weeks``.

    Examples
    --------
    >>> from lacstats import costs
    >>> table = costs.dorset_unit_costs()
    >>> table.head(3).round(2)
      placement_type provider location  weekly_cost  weeks
    0       Adoption       LA    IN LA       834.75   20.4
    1    Foster care   Agency    IN LA      1408.56  138.6
    2    Foster care   Agency   Out LA      1364.32  167.9
    """
    from lacstats.datasets import published_findings

    rows = published_findings()["dorset_cost_calculator_sample"]["rows"]
    table = pd.DataFrame(
        rows, columns=["placement_type", "provider", "location", "total", "weeks", "published"]
    )
    levels = [table]
    for keys in (["placement_type", "provider"], ["placement_type"]):
        levels.append(table.groupby(keys, as_index=False)[["total", "weeks"]].sum())
    out = pd.concat(levels, ignore_index=True)
    out["weekly_cost"] = out["total"] / out["weeks"]
    for column in ("provider", "location"):
        out[column] = out[column].fillna("")
    return out[["placement_type", "provider", "location", "weekly_cost", "weeks"]]


def _check_unit_costs(unit_costs: pd.DataFrame) -> tuple[str, list[str]]:
    if not isinstance(unit_costs, pd.DataFrame) or "weekly_cost" not in unit_costs:
        raise DataError(
            "unit_costs needs a DataFrame with a 'weekly_cost' column", column="weekly_cost"
        )
    key = next((k for k in ("placement_type", "placement_setting") if k in unit_costs), None)
    if key is None:
        raise DataError(
            "unit_costs needs a 'placement_type' or 'placement_setting' column",
            column="placement_type",
        )
    _non_negative(unit_costs, "weekly_cost", "unit_costs ")
    extra = [c for c in ("provider", "location") if c in unit_costs]
    duplicated = unit_costs.duplicated([key, *extra]).to_numpy()
    if duplicated.any():
        raise DataError.at(
            f"unit_costs: more than one cost for the same {key}", key, duplicated, unit_costs[key]
        )
    return key, extra


def unit_cost(
    placements: pd.DataFrame, unit_costs: pd.DataFrame, *, unpriced: str = "nan"
) -> pd.Series:
    """The weekly cost of each placement under a table of unit costs.

    ``unit_costs`` is keyed by ``placement_type`` (Dorset's types, as
    :func:`lacstats.ssda903.to_cases` derives them) or ``placement_setting`` (the case
    table's settings), optionally refined by ``provider`` and ``location``. The most
    specific row that matches wins: type, provider and location; then type and provider;
    then type alone (a row with a blank provider or location matches any). Placements
    with no matching row are NaN, or with ``unpriced="error"`` a :class:`DataError` that
    names them.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import costs
    >>> placements = pd.DataFrame({"placement_setting": ["foster_ifa", "residential_private", "secure_unit"]})
    >>> costs.unit_cost(placements, costs.nottinghamshire_unit_costs(by_setting=True)).tolist()
    [829.0, 2711.0, nan]
    """
    key, extra = _check_unit_costs(unit_costs)
    if key not in placements:
        raise DataError(
            f"the placements lack the column {key!r} that unit_costs is keyed by", column=key
        )
    table = unit_costs.assign(weekly_cost=pd.to_numeric(unit_costs["weekly_cost"]))
    cost = pd.Series(np.nan, index=placements.index)
    levels = [extra[:n] for n in range(len(extra), -1, -1)]
    for level in levels:
        keep = np.ones(len(table), dtype=bool)
        for column in extra:
            blank = (
                table[column].isna() | table[column].astype(str).str.strip().eq("")
            ).to_numpy()
            keep &= ~blank if column in level else blank
        rows = table[keep]
        if rows.empty or any(c not in placements for c in level):
            continue
        lookup = rows.set_index([key, *level])["weekly_cost"]
        index = pd.MultiIndex.from_frame(placements[[key, *level]].astype(object))
        found = pd.Series(lookup.reindex(index).to_numpy(), index=placements.index)
        cost = cost.fillna(found)
    if unpriced == "error" and cost.isna().any():
        missing = cost.isna().to_numpy()
        raise DataError.at(
            f"no unit cost for this {key} (add a row to unit_costs)",
            key,
            missing,
            placements[key],
        )
    return cost


@dataclass(frozen=True)
class Savings(Result):
    """Planned placement changes and what they save, with optional timing uncertainty.

    ``to_frame()`` has the changes with ``weekly_saving`` (current minus new weekly cost,
    all the children together) and ``annual_saving`` (times ``weeks``: the full-year cost
    avoided), then ``in_year_saving`` when the changes take ``delay_weeks`` on average to
    complete within a ``horizon`` of weeks, and with ``draws`` simulations its mean
    (``in_year_mean``) and central interval ``in_year_ci_low`` to ``in_year_ci_high``,
    whose probability is ``level`` (the ``interval`` asked for).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import costs
    >>> changes = pd.DataFrame({"change": ["to in-house foster care"], "children": [10], "weekly_cost": [10 * 829.0], "new_weekly_cost": [10 * 465.0]})
    >>> result = costs.savings(changes, delay_weeks=26)
    >>> result.to_frame().columns.tolist()[:6]
    ['change', 'children', 'weekly_cost', 'new_weekly_cost', 'weekly_saving', 'annual_saving']
    """

    changes: pd.DataFrame
    weeks: float
    horizon: float
    delay_weeks: float
    delay_sd: float
    cost_cv: float
    interval: float
    simulated: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        out = self.changes.copy()
        out["weekly_saving"] = out["weekly_cost"] - out["new_weekly_cost"]
        out["annual_saving"] = out["weekly_saving"] * self.weeks
        if self.delay_weeks > 0 or self.horizon != self.weeks:
            remaining = max(self.horizon - self.delay_weeks, 0.0)
            out["in_year_saving"] = out["weekly_saving"] * remaining
        if self.simulated.size:
            tail = (1 - self.interval) / 2
            out["in_year_mean"] = self.simulated.mean(axis=0)
            out["in_year_ci_low"] = np.quantile(self.simulated, tail, axis=0)
            out["in_year_ci_high"] = np.quantile(self.simulated, 1 - tail, axis=0)
            out["level"] = self.interval
        return out

    @property
    def annual_total(self) -> float:
        return float(self.to_frame()["annual_saving"].sum())

    def total(self) -> dict[str, float]:
        """Totals over the changes; the central interval of the total from the joint
        simulations (``in_year_ci_low``, ``in_year_ci_high``; its probability is the
        ``interval`` field)."""
        frame = self.to_frame()
        out = {"annual_saving": float(frame["annual_saving"].sum())}
        if "in_year_saving" in frame:
            out["in_year_saving"] = float(frame["in_year_saving"].sum())
        if self.simulated.size:
            sums = self.simulated.sum(axis=1)
            tail = (1 - self.interval) / 2
            out |= {
                "in_year_mean": float(sums.mean()),
                "in_year_ci_low": float(np.quantile(sums, tail)),
                "in_year_ci_high": float(np.quantile(sums, 1 - tail)),
            }
        return out

    def summary(self) -> str:
        totals = ", ".join(f"{k} {v:,.0f}" for k, v in self.total().items())
        return f"{self.heading()}\n{self.to_frame().to_string(index=False)}\ntotal: {totals}"

    def to_dict(self) -> dict[str, Any]:
        """The options and the totals (the changes themselves are in ``to_frame()``)."""
        return {
            "method": "planned placement changes",
            "weeks": self.weeks,
            "horizon": self.horizon,
            "delay_weeks": self.delay_weeks,
            "delay_sd": self.delay_sd,
            "cost_cv": self.cost_cv,
            "draws": int(self.simulated.shape[0]),
            "interval": self.interval,
            **self.total(),
        }


def savings(
    changes: pd.DataFrame,
    *,
    weeks: float = BUDGET_WEEKS_PER_YEAR,
    horizon: float | None = None,
    delay_weeks: float = 0.0,
    delay_sd: float | None = None,
    cost_cv: float = 0.0,
    draws: int = 0,
    interval: float = 0.9,
    rng: int | np.random.Generator | None = None,
) -> Savings:
    """Weekly, full-year and in-year savings of planned placement changes.

    ``changes`` has columns ``change``, ``children``, ``weekly_cost`` (all the children's
    current placements together, GBP a week) and ``new_weekly_cost`` (after the change).

    Timing: each child's change completes after a delay (weeks) with mean ``delay_weeks``
    (Dorset: "on average 6 months", 26 weeks) and standard deviation ``delay_sd``
    (default: the mean, i.e. an exponential-like spread); the saving accrues for the rest
    of a ``horizon`` of weeks (default ``weeks``: a full financial year from now). With
    ``draws > 0`` the delays are drawn from a gamma distribution per child and the current
    and new weekly costs are scaled by independent lognormal factors of mean 1 and
    coefficient of variation ``cost_cv``; the result reports the mean and the central
    ``interval`` of the in-year saving.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import costs
    >>> changes = pd.DataFrame({"change": ["IFA to in-house foster care"], "children": [10], "weekly_cost": [10 * 829.0], "new_weekly_cost": [10 * 465.0]})
    >>> now = costs.savings(changes)
    >>> row = now.to_frame().iloc[0]
    >>> float(row["weekly_saving"]), float(row["annual_saving"])
    (3640.0, 189280.0)
    >>> later = costs.savings(changes, delay_weeks=26, delay_sd=0)
    >>> float(later.to_frame().iloc[0]["in_year_saving"])
    94640.0
    """
    frame_argument(changes, "changes")
    missing = [c for c in SAVINGS_COLUMNS if c not in changes.columns]
    if missing:
        raise DataError(f"savings table lacks column(s) {missing}", column=missing[0])
    frame = changes[list(SAVINGS_COLUMNS)].copy()
    for column in ("children", "weekly_cost", "new_weekly_cost"):
        frame[column] = _non_negative(frame, column)
    whole = frame["children"] % 1 != 0
    if whole.any():
        raise DataError.at(
            "column 'children': needs a whole number",
            "children",
            whole.to_numpy(),
            changes["children"],
        )
    for name, value in (("weeks", weeks), ("horizon", horizon if horizon is not None else 1)):
        if not np.isfinite(value) or value <= 0:
            raise DataError(f"argument {name!r} must be positive, got {value!r}", column=name)
    spread = delay_weeks if delay_sd is None else delay_sd
    for name, value in (
        ("delay_weeks", delay_weeks),
        ("delay_sd", spread),
        ("cost_cv", cost_cv),
        ("draws", draws),
    ):
        if not np.isfinite(value) or value < 0:
            raise DataError(f"argument {name!r} must be non-negative, got {value!r}", column=name)
    if not 0 < interval < 1:
        raise DataError(
            f"argument 'interval' must be in (0, 1), got {interval!r}", column="interval"
        )
    frame = frame.reset_index(drop=True)
    span = float(weeks if horizon is None else horizon)
    simulated = _simulate_in_year(frame, span, delay_weeks, spread, cost_cv, int(draws), rng)
    return Savings(
        frame,
        float(weeks),
        span,
        float(delay_weeks),
        float(spread),
        float(cost_cv),
        float(interval),
        simulated,
    )


def _simulate_in_year(frame, horizon, mean, sd, cv, draws, rng) -> np.ndarray:
    if draws == 0:
        return np.empty((0, len(frame)))
    generator = np.random.default_rng(rng)
    children = frame["children"].to_numpy(dtype=int)
    out = np.empty((draws, len(frame)))
    sigma = np.sqrt(np.log1p(cv**2))
    for j, n in enumerate(children):
        if sd > 0 and mean > 0:
            shape, scale = (mean / sd) ** 2, sd**2 / mean
            delays = generator.gamma(shape, scale, size=(draws, n))
        else:
            delays = np.full((draws, n), mean)
        weeks_saved = np.clip(horizon - delays, 0, None).mean(axis=1)
        factors = generator.lognormal(-(sigma**2) / 2, sigma, size=(draws, 2))
        weekly = (
            frame.loc[j, "weekly_cost"] * factors[:, 0]
            - frame.loc[j, "new_weekly_cost"] * factors[:, 1]
        )
        out[:, j] = weekly * weeks_saved
    return out


def high_cost_review(
    changes: pd.DataFrame,
    *,
    weeks: float = BUDGET_WEEKS_PER_YEAR,
    delay_weeks: float = 26,
    **options: Any,
) -> Savings:
    """Dorset's high-cost placement review (Dorset County Council 2017, Table 2) from its inputs.

    ``changes`` has ``change``, ``children`` and ``annual_saving`` (the potential saving
    "if all timescales are met", a full year). The implied weekly saving is
    ``annual_saving / weeks``; :func:`savings` then adds the in-year saving when the
    changes take ``delay_weeks`` on average to complete ("on average 6 months"), and its
    uncertainty with ``draws=`` and the other options of :func:`savings`.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import costs
    >>> review = pd.DataFrame({"change": ["step down to fostering"], "children": [4], "annual_saving": [520000.0]})
    >>> result = costs.high_cost_review(review, delay_weeks=26, delay_sd=0)
    >>> result.to_frame()[["change", "weekly_saving", "in_year_saving"]]
                       change  weekly_saving  in_year_saving
    0  step down to fostering        10000.0        260000.0
    """
    missing = [c for c in ("change", "children", "annual_saving") if c not in changes]
    if missing:
        raise DataError(f"high-cost review table lacks column(s) {missing}", column=missing[0])
    annual = _non_negative(changes, "annual_saving")
    table = pd.DataFrame(
        {
            "change": changes["change"].to_numpy(),
            "children": changes["children"].to_numpy(),
            "weekly_cost": (annual / weeks).to_numpy(),
            "new_weekly_cost": 0.0,
        }
    )
    return savings(table, weeks=weeks, delay_weeks=delay_weeks, **options)


def _weeks_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    return ((end - start).dt.days.to_numpy(dtype=float)) / 7.0


def cost_table(
    episodes_or_cases: Any,
    *,
    unit_costs: pd.DataFrame | None = None,
    by: Sequence[str] = ("placement_type", "provider", "location"),
    period: tuple[Any, Any] | None = None,
    weeks_per_year: float = BUDGET_WEEKS_PER_YEAR,
) -> pd.DataFrame:
    """The cost calculator table (Dorset County Council 2017, Table 4): cost by placement type,
    provider and location, or by any columns (``by=("need_group", "age")``).

    ``episodes_or_cases`` is one of

    - the episodes of a cleaned SSDA903 return (:func:`lacstats.ssda903.episode_table`),
      with placement type, provider group (LA, Agency, Parents), location (IN LA, Out LA,
      Unknown), ``age`` at the start of the episode or the period, and ``need_group``;
    - a table of episodes with ``start`` and ``end`` dates (or ``DECOM`` and ``DEC``) and
      the ``by`` columns; an empty end is open (runs to the end of ``period``);
    - a case table (one row per child, no dates): a snapshot, where time is one week per
      child and the table gives the weekly and annual (``weeks_per_year``) cost.

    Costs are the rows' own ``weekly_cost`` column, or come from ``unit_costs`` (see
    :func:`unit_cost`). Time in weeks is the days an episode overlaps ``period`` (start
    and end dates, inclusive of the start, exclusive of the end) over 7. Columns: the
    ``by`` columns, ``children`` (distinct), ``episodes``, ``weeks``, ``total`` and
    ``average_weekly`` (= total / weeks), ordered by ``by``, then a last row for all
    placement types (``ALL_TYPES``). Unpriced episodes are counted in ``unpriced_weeks``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import costs
    >>> cases = pd.DataFrame({"placement_type": ["Foster care", "Foster care", "Residential"], "provider": ["LA", "Agency", "Agency"], "location": ["IN LA", "IN LA", "Out LA"], "weekly_cost": [450.0, 850.0, 5200.0]})
    >>> table = costs.cost_table(cases)
    >>> table[["placement_type", "provider", "children", "weekly_total", "annual_total"]]
            placement_type provider  children  weekly_total  annual_total
    0          Foster care   Agency         1         850.0       44200.0
    1          Foster care       LA         1         450.0       23400.0
    2          Residential   Agency         1        5200.0      270400.0
    3  All placement types                  3        6500.0      338000.0
    """
    frame, snapshot = _cost_frame(episodes_or_cases, period)
    missing = [c for c in by if c not in frame]
    if missing:
        raise DataError(
            f"cost_table: no column {missing[0]!r} to group by; have "
            f"{', '.join(map(str, frame.columns))}",
            column=missing[0],
        )
    if unit_costs is not None:
        frame["weekly_cost"] = unit_cost(frame, unit_costs)
    elif "weekly_cost" not in frame:
        raise DataError(
            "cost_table needs unit_costs= or a 'weekly_cost' column", column="weekly_cost"
        )
    frame["weekly_cost"] = pd.to_numeric(frame["weekly_cost"], errors="coerce")
    negative = (frame["weekly_cost"] < 0).to_numpy()
    if negative.any():
        raise DataError.at(
            "column 'weekly_cost': negative cost", "weekly_cost", negative, frame["weekly_cost"]
        )
    priced = frame["weekly_cost"].notna()
    frame["total"] = (frame["weekly_cost"] * frame["weeks"]).where(priced, 0.0)
    frame["priced_weeks"] = frame["weeks"].where(priced, 0.0)
    frame["unpriced_weeks"] = frame["weeks"].where(~priced, 0.0)
    # a child is counted once within an authority: SSDA903 identifiers repeat across them
    ident = next((c for c in ("child_key", "CHILD", "case_id") if c in frame), None)
    keys = list(by)

    def summarise(groups):
        return groups.agg(
            children=(ident, "nunique") if ident else ("weeks", "size"),
            episodes=("weeks", "size"),
            weeks=("priced_weeks", "sum"),
            total=("total", "sum"),
            unpriced_weeks=("unpriced_weeks", "sum"),
        )

    parts = []
    if keys:
        parts.append(summarise(frame.groupby(keys, dropna=False, sort=True)).reset_index())
    overall = summarise(frame.assign(_all=0).groupby("_all")).reset_index(drop=True)
    for i, key in enumerate(keys):
        overall[key] = ALL_TYPES if i == 0 else ""
    parts.append(overall)
    columns = [*keys, "children", "episodes", "weeks", "total", "unpriced_weeks"]
    table = pd.concat(parts, ignore_index=True)[columns]
    table["average_weekly"] = table["total"] / table["weeks"].where(table["weeks"] > 0)
    if snapshot:
        table = table.rename(columns={"total": "weekly_total"}).drop(
            columns=["weeks", "unpriced_weeks"]
        )
        table["annual_total"] = table["weekly_total"] * weeks_per_year
    return table


def _cost_frame(data: Any, period: tuple[Any, Any] | None) -> tuple[pd.DataFrame, bool]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"cost_table needs a DataFrame of episodes or cases, got {type(data).__name__} "
            "(for a cleaned SSDA903 return pass lacstats.ssda903.episode_table(cleaned))",
            column="episodes",
        )
    frame = data.rename(columns={"DECOM": "start", "DEC": "end"}).copy()
    if "start" not in frame:
        frame["weeks"] = 1.0
        return frame, True
    start = pd.to_datetime(frame["start"], errors="coerce", dayfirst=True)
    bad = start.isna().to_numpy()
    if bad.any():
        raise DataError.at("column 'start': not a date", "start", bad, frame["start"])
    end = pd.to_datetime(frame.get("end"), errors="coerce", dayfirst=True)
    if period is None:
        if end.isna().any():
            raise DataError(
                "open episodes (no end date) need period=(start, end)", column="period"
            )
        period = (start.min(), end.max())
    lo = schema.parse_date(period[0], "period start")  # dd/mm/yyyy or ISO, never mm/dd
    hi = schema.parse_date(period[1], "period end")
    if hi < lo:
        raise DataError(
            f"period ends ({hi.date()}) before it starts ({lo.date()})", column="period"
        )
    # a period's end date is included: time runs to midnight at its end
    clip_hi = hi + pd.Timedelta(days=1)
    s = start.where(start > lo, lo)
    e = end.fillna(clip_hi)
    e = e.where(e < clip_hi, clip_hi)
    frame["weeks"] = np.clip(_weeks_between(s, e), 0, None)
    frame = frame[frame["weeks"] > 0].copy()
    return frame, False
