"""The publishable tables of SSDA903 returns, made one way.

``lacstats ssda903 RETURNS --out tables`` and the ``cost_calculator`` analysis publish
the same tables, from :func:`cost_tables`: one set of names, one rounding (weeks and
months to a tenth, money to the pound) and one suppression (counts of children from 1 to
4 replaced by ``"c"`` with every column that would reveal them, by
:func:`lacstats.disclosure.suppress_small_counts`, each table's total row kept and a lone
suppressed row given a second). No table has a row per child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lacstats import costs, disclosure, schema, ssda903
from lacstats.errors import DataError
from lacstats.results import Result, jsonable

__all__ = ["COST_DEPENDENT", "DECIMALS", "TABLES", "CostTables", "cost_tables"]

#: The tables of :class:`CostTables`, in the order they are published (``costs_by_authority``
#: only when the returns are of more than one authority).
TABLES = (
    "costs_by_type",
    "costs_by_need",
    "costs_by_age",
    "costs_by_authority",
    "cases_by_setting",
    "cleaning_report",
    "files",
)
#: Decimal places of the published columns: weeks and months to a tenth, money to the pound.
DECIMALS = {"weeks": 1, "unpriced_weeks": 1, "total": 0, "average_weekly": 0, "mean_months": 1}
#: The columns of a cost table that would reveal a suppressed count of children.
COST_DEPENDENT = ("episodes", "weeks", "total", "average_weekly", "unpriced_weeks")


@dataclass(frozen=True)
class CostTables(Result):
    """Cost tables of SSDA903 returns, rounded and with small counts suppressed.

    Each table is ready to publish (:meth:`tables` lists them by name, :data:`TABLES`):

    - ``costs_by_type``, ``costs_by_need``, ``costs_by_age``: :func:`lacstats.costs.cost_table`
      of the episodes in ``period`` by placement type, provider and location (Dorset's
      Table 4), by need group and by age (``children``, ``episodes``, ``weeks``,
      ``total``, ``unpriced_weeks``, ``average_weekly``, then ``suppressed``), the last
      row all placement types;
    - ``costs_by_authority``: by authority and placement type, when the returns are of
      more than one authority (``None`` otherwise);
    - ``cases_by_setting``: the children looked after on ``census`` by placement setting
      (and authority, when more than one): ``children`` and ``mean_months`` in placement;
    - ``cleaning_report``: the cleaning ledger (``authority``, ``year``, ``step``,
      ``count`` of rows changed);
    - ``files``: the files read, their tables, years and ``rows``.

    ``children`` is the number looked after on ``census`` (every authority together).

    Examples
    --------
    >>> from lacstats import publication, ssda903
    >>> tables = publication.cost_tables(ssda903.read(ssda903.fake903_path()), census="2020-03-31")
    >>> list(tables.tables())
    ['costs_by_type', 'costs_by_need', 'costs_by_age', 'cases_by_setting', 'cleaning_report', 'files']
    >>> tables.children, str(tables.period[0].date())
    (214, '2019-04-01')
    >>> tables.costs_by_type[["placement_type", "provider", "children", "weeks", "average_weekly"]].tail(3)
              placement_type provider children    weeks average_weekly
    16     Semi-Independence       LA        5    147.9         1047.0
    17  Young Offenders Inst       LA        c        c              c
    18   All placement types               350  14261.6         1112.0
    """

    costs_by_type: pd.DataFrame
    costs_by_need: pd.DataFrame
    costs_by_age: pd.DataFrame
    costs_by_authority: pd.DataFrame | None
    cases_by_setting: pd.DataFrame
    cleaning_report: pd.DataFrame
    files: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp]
    census: pd.Timestamp
    children: int

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table to publish, by name (:data:`TABLES` order)."""
        found = {name: getattr(self, name) for name in TABLES}
        return {name: table for name, table in found.items() if table is not None}

    def to_frame(self) -> pd.DataFrame:
        """The cost by placement type (``costs_by_type``)."""
        return self.costs_by_type.copy()

    def summary(self) -> str:
        return (
            f"{self.heading()}: {self.period[0].date()} to {self.period[1].date()}; "
            f"{self.children} children looked after on {self.census.date()}\n"
            f"{self.costs_by_type.to_string(index=False)}\n"
            f"tables: {', '.join(self.tables())}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The period, census and count of children, and every table as records."""
        return jsonable(
            {
                "period": list(self.period),
                "census": self.census,
                "children": self.children,
                "tables": self.tables(),
            }
        )


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for column, places in DECIMALS.items():
        if column in out:
            out[column] = out[column].round(places)
    return out


def _published_costs(table: pd.DataFrame, first: str) -> pd.DataFrame:
    """A cost table rounded, with counts of children under 5 suppressed and the columns
    that would reveal them; its total row (``ALL_TYPES``) is kept."""
    out = _rounded(table)
    return disclosure.suppress_small_counts(
        out,
        "children",
        dependent=[c for c in COST_DEPENDENT if c in out],
        total=out[first].eq(costs.ALL_TYPES),
    )


def cost_tables(
    data: ssda903.Return,
    *,
    cleaned: ssda903.Cleaned | None = None,
    unit_costs: pd.DataFrame | None = None,
    census: Any = None,
    period: Sequence[Any] | None = None,
    la_code: str | None = None,
) -> CostTables:
    """Every publishable table of SSDA903 returns, rounded and suppressed one way.

    Parameters
    ----------
    data
        The returns as read (:func:`lacstats.ssda903.read`): its ``files`` are published.
    cleaned
        ``ssda903.clean(data)``, if already done; cleaned here otherwise.
    unit_costs
        Weekly unit costs (see :func:`lacstats.costs.unit_cost`); default Dorset's
        (:func:`lacstats.costs.dorset_unit_costs`).
    census
        The date of the case table (dd/mm/yyyy or ISO); default the last day the returns
        cover.
    period
        The costing period ``(start, end)``, both days included; default the year to
        ``census``.
    la_code
        The authority's ONS code, to place PL_LA in or out of the authority.

    Returns
    -------
    CostTables
        See :class:`CostTables`.

    Examples
    --------
    >>> from lacstats import publication, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> tables = publication.cost_tables(data, census="2020-03-31", period=("2019-04-01", "2020-03-31"))
    >>> tables.cases_by_setting.head(3)
      placement_setting children mean_months  suppressed
    0        foster_ifa       63        13.7       False
    1   foster_in_house       75        12.0       False
    2    foster_kinship       18        10.4       False
    """
    if not isinstance(data, ssda903.Return):
        raise DataError(
            f"cost_tables needs the returns as read (lacstats.ssda903.read), got "
            f"{type(data).__name__}",
            column="data",
        )
    if cleaned is None:
        cleaned = ssda903.clean(data)
    elif not isinstance(cleaned, ssda903.Cleaned):
        raise DataError(
            f"cleaned must be ssda903.clean(data), got {type(cleaned).__name__}",
            column="cleaned",
        )
    units = costs.dorset_unit_costs() if unit_costs is None else unit_costs
    day = cleaned.coverage[1] if census is None else schema.parse_date(census, "census date")
    if period is None:
        span = (day - pd.DateOffset(years=1, days=-1), day)
    else:
        if len(period) != 2:
            raise DataError(f"period needs (start, end), got {period!r}", column="period")
        span = (
            schema.parse_date(period[0], "period start"),
            schema.parse_date(period[1], "period end"),
        )
    if span[1] < span[0]:
        raise DataError(
            f"period ends ({span[1].date()}) before it starts ({span[0].date()})",
            column="period",
        )

    episodes = ssda903.episode_table(cleaned, period=span)

    def by(*keys: str) -> pd.DataFrame:
        table = costs.cost_table(episodes, unit_costs=units, by=keys, period=span)
        return _published_costs(table, keys[0])

    several = len(cleaned.authorities) > 1
    cases = ssda903.case_table(cleaned, census_date=day, la_code=la_code).cases
    groups = ["authority", "placement_setting"] if several else ["placement_setting"]
    settings = (
        cases.groupby(groups, observed=True)
        .agg(children=("case_id", "size"), mean_months=("months_in_placement", "mean"))
        .reset_index()
    )
    return CostTables(
        costs_by_type=by("placement_type", "provider", "location"),
        costs_by_need=by("need_group"),
        costs_by_age=by("age"),
        costs_by_authority=by("authority", "placement_type") if several else None,
        cases_by_setting=disclosure.suppress_small_counts(
            _rounded(settings), "children", dependent=("mean_months",)
        ),
        # published with the tables: the ledger's counts of 1-4 are suppressed too
        cleaning_report=disclosure.suppress_small_counts(cleaned.ledger, "count"),
        files=disclosure.suppress_small_counts(data.files, "rows"),
        period=span,
        census=day,
        children=len(cases),
    )
