"""The stock-and-flow projection of children looked after, one or many authorities.

Dorset's "predictive model ... entries, exits, permanence" (Dorset County Council,
"Looked After Children: Current Position, Predicting Future Numbers and Reducing Costs",
2017), estimated from cleaned SSDA903 episodes (:func:`~lacstats.projection.count_flows`) and
simulated forward month by month with the rates themselves drawn from their posterior,
so that the intervals carry the uncertainty of the estimates as well as the randomness
of events.

Rates, by ``pooling``:

- ``"none"``: each authority alone. A placement type's total rate of leaving is
  ``Gamma(events + 1/2, exposure)`` (Jeffreys), split among the destinations seen by a
  ``Dirichlet(events)``; entries are ``Gamma(entrants + 1/2, window)`` a month, with the
  ages and first types of the window's entrants.
- ``"partial"`` (the default; with one authority it is ``"none"``): every move and exit
  rate (by placement type and destination) and every entry rate (by DfE age band, per
  child looked after on an average day of the window, or per child of ``population``) is
  shrunk towards the region's by a gamma-Poisson hierarchy across authorities
  (:func:`~lacstats.projection.gamma_poisson`), so that an authority of 40 children borrows
  strength from its neighbours while one of 2,000 keeps its own rates. Entrants' single
  years of age and types within a band are the authority's, with the region's worth
  :data:`PRIOR_ENTRANTS` entrants as prior.
- ``"complete"``: one regional rate for all (each authority keeps its own stock and size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats import schema, ssda903
from lacstats.errors import DataError
from lacstats.projection._flows import AGE_BANDS, AGED_OUT, MAX_AGE, ROUTES, Flows, count_flows
from lacstats.projection._pooling import posterior_draws
from lacstats.projection._trend import level_factors, local_level
from lacstats.results import Result, jsonable
from lacstats.units import BUDGET_WEEKS_PER_YEAR

__all__ = ["POOLING", "PRIOR_ENTRANTS", "REGION", "Projection", "stock_and_flow"]

#: Ways to pool authorities' rates: towards the region's, not at all, or fully.
POOLING = ("partial", "none", "complete")
#: How many entrants the region's mix of entrants' ages and types counts for in an
#: authority's mix within an age band (partial pooling).
PRIOR_ENTRANTS = 5.0
#: The label of the sum over authorities.
REGION = "All authorities"


@dataclass(frozen=True)
class Projection(Result):
    """A simulated projection of children looked after, month by month.

    ``stock`` has one row per authority (and, with several, ``REGION`` for their sum),
    placement type (and ``"All"``) and month, with the mean and the central ``interval``
    of the simulated counts; ``exits`` the same for exits by route; ``rates`` the
    estimated monthly rates (moves, exits, entries) with their events and exposure and,
    when pooled, the regional rate and the weight shrinking each authority towards it;
    ``draws`` the simulated counts summed over authorities, shape (draws, months + 1,
    types); ``by_authority`` shape (draws, months + 1, authorities, types); ``by_age``
    shape (draws, months + 1, authorities, DfE age bands), the same children counted by
    age band (:data:`~lacstats.projection.AGE_BANDS`; the demand model's brackets are the
    same ages), and ``ages`` its table like ``stock``, by ``age_band``.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> future = projection.stock_and_flow(cleaned, months=6, draws=100, rng=1)
    >>> future.types[:3], future.start
    (('Adoption', 'Foster care', 'Hospital'), Timestamp('2022-04-01 00:00:00'))
    >>> future.stock.columns.tolist()
    ['authority', 'placement_type', 'month', 'date', 'mean', 'ci_low', 'median', 'ci_high', 'level']
    """

    stock: pd.DataFrame
    exits: pd.DataFrame
    rates: pd.DataFrame
    types: tuple[str, ...]
    authorities: tuple[str, ...]
    start: pd.Timestamp
    draws: np.ndarray = field(repr=False)
    by_authority: np.ndarray = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)
    by_age: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0, 0, 0)))
    ages: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def counts(self, authority: str | None = None) -> np.ndarray:
        """Simulated counts (draws, months + 1, types) of one authority, or of all."""
        if authority is None or authority == REGION:
            return self.draws
        if authority not in self.authorities:
            raise DataError(f"no authority {authority!r} in the projection", column="authority")
        return self.by_authority[:, :, self.authorities.index(authority)]

    def cost(
        self,
        unit_costs: dict[str, float] | pd.Series,
        *,
        weeks: float = BUDGET_WEEKS_PER_YEAR,
        interval: float = 0.9,
        authority: str | None = None,
    ) -> pd.DataFrame:
        """Weekly and annual cost of the projected placement mix, month by month, for each
        priced placement type and ``"All"``, with the simulation interval (of all
        authorities, or of ``authority``). Types without a unit cost are left out of
        ``"All"`` and listed in ``unpriced``."""
        costs = pd.Series(unit_costs, dtype=float)
        priced = [i for i, t in enumerate(self.types) if t in costs.index]
        if not priced:
            raise DataError("no projected placement type has a unit cost", column="unit_costs")
        prices = costs[[self.types[i] for i in priced]].to_numpy()
        by_type = self.counts(authority)[:, :, priced] * prices
        series = [(self.types[i], by_type[:, :, j]) for j, i in enumerate(priced)]
        series.append(("All", by_type.sum(axis=2)))
        tail = (1 - interval) / 2
        frames = []
        for label, weekly in series:
            frame = pd.DataFrame(
                {
                    "placement_type": label,
                    "month": np.arange(weekly.shape[1]),
                    "date": _month_dates(self.start, weekly.shape[1]),
                    "weekly_cost": weekly.mean(axis=0),
                    "weekly_ci_low": np.quantile(weekly, tail, axis=0),
                    "weekly_ci_high": np.quantile(weekly, 1 - tail, axis=0),
                }
            )
            for column in ("weekly_cost", "weekly_ci_low", "weekly_ci_high"):
                frame[column.replace("weekly", "annual")] = frame[column] * weeks
            frame["level"] = interval
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        out["unpriced"] = ", ".join(t for t in self.types if t not in costs.index)
        return out

    def publishable(self, *, threshold: int = 5, interval: float | None = None) -> pd.DataFrame:
        """The stock table safe to publish: month 0 holds real counts of children, so in
        each authority placement types with 1 to ``threshold - 1`` children at the start
        are pooled into one row, ``"Other (fewer than N at the start)"``, its quantiles
        recomputed from the pooled simulations. The next smallest types join the pool
        until it holds at least two types and ``threshold`` children, so that no count
        can be recovered from the total."""
        interval = self.options.get("interval", 0.9) if interval is None else interval
        tail = (1 - interval) / 2
        frames = []
        for label, counts in self._series():
            frames.append(_pooled_small(counts, threshold, tail, self).assign(authority=label))
        out = pd.concat(frames, ignore_index=True)
        return out[["authority", *[c for c in out.columns if c != "authority"]]]

    def _series(self) -> list[tuple[str, np.ndarray]]:
        if len(self.authorities) == 1:
            return [(self.authorities[0] or REGION, self.draws)]
        out = [(a, self.by_authority[:, :, i]) for i, a in enumerate(self.authorities)]
        return [*out, (REGION, self.draws)]

    def to_frame(self) -> pd.DataFrame:
        return self.stock.copy()

    def summary(self) -> str:
        head = (
            f"Stock-and-flow projection from {self.start.date()}, pooling "
            f"{self.options.get('pooling_used', 'none')}; {self.draws.shape[0]} simulations"
        )
        lines = [head]
        total = self.stock[self.stock["placement_type"] == "All"]
        for label, rows in total.groupby("authority", sort=False):
            first, last = rows.iloc[0], rows.iloc[-1]
            lines.append(
                f"  {label}: {first['mean']:.0f} children now, {last['mean']:.0f} "
                f"({last['ci_low']:.0f} to {last['ci_high']:.0f}) after {int(last['month'])} months"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        total = self.stock[self.stock["placement_type"] == "All"]
        months = int(total["month"].max())
        out: dict[str, Any] = {
            "method": "stock and flow",
            "start": str(self.start.date()),
            "authorities": list(self.authorities),
            "placement_types": list(self.types),
            **{k: _plain(v) for k, v in self.options.items()},
            "stock": {},
        }
        for label, rows in total.groupby("authority", sort=False):
            rows = rows.set_index("month")
            out["stock"][str(label)] = {
                "start": float(rows.loc[0, "mean"]),
                "end_mean": float(rows.loc[months, "mean"]),
                "end_ci_low": float(rows.loc[months, "ci_low"]),
                "end_ci_high": float(rows.loc[months, "ci_high"]),
                "level": float(rows.loc[months, "level"]),
            }
        return jsonable(out)

    def _repr_html_(self) -> str:
        head = self.summary().replace("\n", "<br>")
        total = self.stock[self.stock["placement_type"] == "All"]
        return f"<p>{head}</p>" + total.to_html(index=False, max_rows=40)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value


def _month_dates(start: pd.Timestamp, n: int) -> list[str]:
    return [str((start + pd.DateOffset(months=m)).date()) for m in range(n)]


def _quantiles(counts: np.ndarray, tail: float, dates: list[str], **keys) -> pd.DataFrame:
    """The mean, central interval and median of simulated counts, one row per series and
    month: ``counts`` is (draws, months, series), and ``keys`` name each series in
    columns of their own (one value per series), before ``month``."""
    series, months = counts.shape[2], counts.shape[1]

    def by_row(values: np.ndarray) -> np.ndarray:  # (months, series) -> series by series
        return values.T.ravel()

    return pd.DataFrame(
        {
            **{
                name: np.repeat(np.array(values, dtype=object), months)
                for name, values in keys.items()
            },
            "month": np.tile(np.arange(months), series),
            "date": np.tile(np.array(dates, dtype=object), series),
            "mean": by_row(counts.mean(axis=0)),
            "ci_low": by_row(np.quantile(counts, tail, axis=0)),
            "median": by_row(np.median(counts, axis=0)),
            "ci_high": by_row(np.quantile(counts, 1 - tail, axis=0)),
            "level": round(1 - 2 * tail, 10),
        }
    )


def _pooled_small(counts: np.ndarray, threshold: int, tail: float, result) -> pd.DataFrame:
    start = counts[0, 0, :]
    small = [i for i, n in enumerate(start) if 0 < n < threshold]
    others = [i for i in np.argsort(start, kind="stable") if i not in small and start[i]]
    while small and (len(small) == 1 or start[small].sum() < threshold) and others:
        small.append(others.pop(0))
    label = f"Other (fewer than {threshold} at the start)"
    dates = _month_dates(result.start, counts.shape[1])
    kept = [i for i in range(len(result.types)) if i not in small]
    names = [result.types[i] for i in kept]
    series = [counts[:, :, kept]]
    if small:
        names.append(label)
        series.append(counts[:, :, small].sum(axis=2, keepdims=True))
    names.append("All")
    series.append(counts.sum(axis=2, keepdims=True))
    out = _quantiles(np.concatenate(series, axis=2), tail, dates, placement_type=names)
    return out[[*out.columns[1:], "placement_type"]]


def stock_and_flow(
    cleaned: Any,
    *,
    start: Any = None,
    months: int = 36,
    history_years: float = 3,
    draws: int = 500,
    interval: float = 0.9,
    types: str = "placement_type",
    pooling: str = "partial",
    population: pd.Series | None = None,
    drift: bool = True,
    groups: bool = True,
    revision: pd.DataFrame | None = None,
    rng: int | np.random.Generator | None = None,
) -> Projection:
    """Project children looked after from cleaned SSDA903 episodes of one or many
    authorities.

    Rates are estimated over the ``history_years`` before ``start`` (default: the day
    after the last return): for each placement type, the monthly rate of moving to each
    other type and of leaving care by each route (events over child-months of exposure);
    entries a month, with the ages and first placement types of entrants. ``pooling``
    says how authorities share them (see the module's documentation). Each simulation
    draws the rates from their posterior, then steps month by month from the children
    looked after the day before ``start``: each child moves or leaves with probabilities
    from competing exponential risks, ages by a month (leaving at 18: a binomial twelfth
    of each year's group a month), and Poisson entries join with their ages and types.

    Parameters
    ----------
    types:
        The episode column that defines the placement categories: ``placement_type``
        (Dorset's types) or ``placement_setting`` (the case table's settings).
    population:
        Children in each authority's population (a Series indexed by authority name), as
        the exposure of entries when pooling; by default the children looked after on an
        average day of the window. Or a population by age (a frame with ``authority``,
        ``age`` 0-17, ``population``, and optionally ``sex`` "1"/"2" and ``year``, e.g. the
        ONS mid-year estimates and projections, :func:`lacstats.datasets.ons_population`):
        each DfE age band's entries are then per child of the band's population, and
        scaled month by month to the population of the year in force (each sex weighted by
        its entrants' rate).
    drift:
        Let each authority's entry rate and rate of leaving care change from year to year
        (:func:`~lacstats.projection.local_level`): the level at the start is filtered from the
        window's quarters, so a rate that fell for three years is not taken at its
        three-year average, and it walks on with the year-to-year change the region's
        history shows, with the quarters' over-dispersion. ``False``: the window's
        average rates, fixed.
    groups:
        Children enter in groups of the sizes seen in the window (children of one
        authority starting on one day: siblings, mostly), not one by one.
    revision:
        How later returns revised the count of children looked after at a year end
        (:func:`lacstats.projection.stock_revisions`): the starting stock is scaled by a
        factor drawn from the log ratios seen, so that the projection starts from the
        count the next return will report.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> future = projection.stock_and_flow(cleaned, months=12, draws=100, rng=1)
    >>> print(future.summary())
    Stock-and-flow projection from 2022-04-01, pooling none; 100 simulations
      All authorities: 62 children now, 34 (22 to 50) after 12 months
    >>> future.draws.shape
    (100, 13, 12)
    """
    # step 1: arguments
    start, pooling = _check(cleaned, start, months, draws, interval, types, pooling)
    generator = np.random.default_rng(rng)
    # step 2: flows counted from the episodes
    flows = count_flows(cleaned, start, history_years, types)
    used = "none" if len(flows.authorities) == 1 else pooling
    # step 3: rates drawn from their posterior
    leaving, rate_rows = _leaving_rates(flows, draws, used, generator)
    entry_rate, composition, entry_rows = _entry_rates(flows, draws, used, generator, population)
    sizes = _group_sizes(flows) if groups else np.ones((len(flows.authorities), 1))
    inflation = (sizes * np.arange(1, sizes.shape[1] + 1) ** 2).sum(axis=1) / (
        sizes * np.arange(1, sizes.shape[1] + 1)
    ).sum(axis=1)
    factors, trend = None, {}
    if drift:
        entries = local_level(flows.quarter_entries, flows.quarter_months, inflation=inflation)
        leaving_fit = local_level(flows.quarter_exits, flows.quarter_exposure)
        factors = (
            level_factors(entries, draws, months, generator),
            level_factors(leaving_fit, draws, months, generator),
        )
        trend = {
            "entry_tau": round(entries.posterior_mean()[0], 4),
            "entry_sigma": round(entries.posterior_mean()[1], 4),
            "leaving_tau": round(leaving_fit.posterior_mean()[0], 4),
            "leaving_sigma": round(leaving_fit.posterior_mean()[1], 4),
        }
    stock0 = _revised_stock(flows, revision, draws, generator)
    growth = None
    if isinstance(population, pd.DataFrame):
        growth = _population_by_age(flows, population, start, months)[1]
        if entry_rate.shape[2] == 1:  # one entry rate: its bands' growth, by the entrants
            bands = np.array(
                [flows.entrants[:, lo : hi + 1].sum(axis=(1, 2)) for _, lo, hi in AGE_BANDS]
            ).T
            share = (bands + 1e-9) / (bands + 1e-9).sum(axis=1, keepdims=True)
            growth = (share[:, :, None] * growth).sum(axis=1, keepdims=True)
    # step 4: the simulation
    history, exits, aged = _simulate(
        stock0, leaving, entry_rate, composition, months, generator, factors, sizes, growth
    )
    # step 5: the tables
    tail = (1 - interval) / 2
    stock_table, exit_table = _tables(flows, history, exits, tail, months)
    age_table = _age_table(flows, aged, tail, months)
    return Projection(
        stock=stock_table,
        exits=exit_table,
        rates=pd.concat([rate_rows, entry_rows], ignore_index=True),
        types=flows.types,
        authorities=flows.authorities,
        start=start,
        draws=history.sum(axis=2),
        by_authority=history,
        by_age=aged,
        ages=age_table,
        options={
            "months": months,
            "history_years": history_years,
            "draws": draws,
            "interval": interval,
            "types": types,
            "pooling": pooling,
            "pooling_used": used,
            "entry_exposure": (
                "children looked after"
                if population is None
                else "population by age"
                if isinstance(population, pd.DataFrame)
                else "population"
            ),
            "continues": list(cleaned.continues),
            "not_covered": list(flows.not_covered),
            "drift": drift,
            "groups": groups,
            "revision": revision is not None,
            **trend,
        },
    )


def _check(cleaned, start, months, draws, interval, types, pooling):
    if not isinstance(cleaned, ssda903.Cleaned):
        raise DataError(
            "stock_and_flow needs a cleaned return (lacstats.ssda903.clean)", column="cleaned"
        )
    if types not in ("placement_type", "placement_setting"):
        raise DataError(
            f"types must be 'placement_type' or 'placement_setting', got {types!r}", column="types"
        )
    if pooling not in POOLING:
        raise DataError(
            f"pooling must be one of {', '.join(POOLING)}, got {pooling!r}", column="pooling"
        )
    for name, value in (("months", months), ("draws", draws)):
        if int(value) != value or value < 1:
            raise DataError(
                f"argument {name!r} must be a positive whole number, got {value!r}", column=name
            )
    if not 0 < interval < 1:
        raise DataError(f"interval must be in (0, 1), got {interval!r}", column="interval")
    first, last = cleaned.coverage
    start = last + pd.Timedelta(days=1) if start is None else schema.parse_date(start, "start")
    if not first < start <= last + pd.Timedelta(days=1):
        raise DataError(
            f"start {start.date()} is outside the returns read",
            column="start",
            values=[str(start.date())],
        )
    return start, pooling


def _leaving_rates(flows: Flows, draws: int, pooling: str, generator) -> tuple[np.ndarray, Any]:
    """Monthly rates (draws, authorities, types, destinations) of moving to each type and
    leaving by each route, and their table."""
    n, k, n_out = flows.events.shape
    rates = np.zeros((draws, n, k, n_out))
    rows = []
    for i in range(k):
        exposure = flows.exposure[:, i]
        if pooling == "none":
            for a in range(n):
                seen = np.flatnonzero(flows.events[a, i] > 0)
                if exposure[a] <= 0 or seen.size == 0:
                    continue
                level = generator.gamma(flows.events[a, i].sum() + 0.5, 1.0, draws) / exposure[a]
                split = generator.dirichlet(flows.events[a, i, seen], size=draws)
                rates[:, a, i, seen] = level[:, None] * split
        for j in range(n_out):
            counts = flows.events[:, i, j]
            if counts.sum() <= 0:
                continue
            fit = None
            if pooling != "none":
                rates[:, :, i, j], fit = posterior_draws(
                    counts, exposure, draws, generator, pooling=pooling
                )
            rows.append(_rate_rows(flows, i, j, counts, exposure, rates[:, :, i, j], fit))
    if not rows:
        return rates, pd.DataFrame()
    table = pd.DataFrame({key: np.concatenate([row[key] for row in rows]) for key in rows[0]})
    return rates, table


def _destination(flows: Flows, j: int) -> str:
    k = len(flows.types)
    return flows.types[j] if j < k else ROUTES[j - k]


def _rate_rows(flows, i, j, counts, exposure, drawn, fit) -> dict[str, np.ndarray]:
    """The rows of one move or exit rate, column by column (one row per authority)."""
    n = len(flows.authorities)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(exposure > 0, counts / exposure, np.nan)
    return {
        "authority": np.array(flows.authorities, dtype=object),
        "from": np.full(n, flows.types[i], dtype=object),
        "to": np.full(n, _destination(flows, j), dtype=object),
        "events": np.asarray(counts, dtype=float),
        "exposure_months": np.asarray(exposure, dtype=float),
        "monthly_rate": raw,
        "estimate": drawn.mean(axis=0),
        "regional_rate": np.full(n, np.nan if fit is None else fit.mean),
        "shrinkage": np.full(n, np.nan) if fit is None else fit.rate / (fit.rate + exposure),
    }


def _entry_rates(flows: Flows, draws: int, pooling: str, generator, population):
    """Expected entries a month (draws, authorities, bands), the cumulative mix of their
    cells (authorities, bands, ages x types) and their table."""
    n, ages, k = flows.entrants.shape
    if pooling == "none":
        counts = flows.entrants.sum(axis=(1, 2))
        rate = generator.gamma(counts + 0.5, 1.0, size=(draws, n)) / flows.window
        weights = flows.entrants.reshape(n, 1, ages * k).astype(float)
        empty = weights.sum(axis=2) == 0
        weights[empty] = 1.0
        rows = pd.DataFrame(
            {
                "authority": flows.authorities,
                "from": "(outside care)",
                "to": "entry",
                "events": counts,
                "exposure_months": flows.window,
                "monthly_rate": counts / flows.window,
                "estimate": rate.mean(axis=0),
                "regional_rate": np.nan,
                "shrinkage": np.nan,
            }
        )
        return rate[:, :, None], _cumulative(weights), rows
    scales = _entry_scale(flows, population)
    rate = np.zeros((draws, n, len(AGE_BANDS)))
    weights = np.zeros((n, len(AGE_BANDS), ages * k))
    rows = []
    for b, (label, lo, hi) in enumerate(AGE_BANDS):
        counts = flows.entrants[:, lo : hi + 1].sum(axis=(1, 2))
        scale = scales[:, b]
        exposure = scale * flows.window
        drawn, fit = posterior_draws(counts, exposure, draws, generator, pooling=pooling)
        rate[:, :, b] = drawn * scale
        cells = np.zeros((n, ages, k))
        cells[:, lo : hi + 1] = flows.entrants[:, lo : hi + 1]
        region = cells.sum(axis=0)
        share = region / region.sum() if region.sum() else np.zeros_like(region)
        if not region.sum():
            share[lo : hi + 1] = 1.0 / ((hi - lo + 1) * k)
        weights[:, b] = (cells + PRIOR_ENTRANTS * share).reshape(n, ages * k)
        rows.append(
            pd.DataFrame(
                {
                    "authority": flows.authorities,
                    "from": "(outside care)",
                    "to": f"entry, aged {label}",
                    "events": counts,
                    "exposure_months": exposure,
                    "monthly_rate": counts / exposure,
                    "estimate": drawn.mean(axis=0),
                    "regional_rate": np.nan if fit is None else fit.mean,
                    "shrinkage": np.nan if fit is None else fit.rate / (fit.rate + exposure),
                }
            )
        )
    return rate, _cumulative(weights), pd.concat(rows, ignore_index=True)


def _entry_scale(flows: Flows, population: Any) -> np.ndarray:
    """The exposure of entries by authority and DfE age band (authorities x bands)."""
    bands = len(AGE_BANDS)
    if population is None:
        return np.repeat(flows.mean_stock[:, None], bands, axis=1)
    if isinstance(population, pd.DataFrame):
        return _population_by_age(flows, population, None, 0)[0]
    values = pd.Series(population, dtype=float).reindex(list(flows.authorities))
    if values.isna().any() or (values <= 0).any():
        missing = [a for a, v in values.items() if not v > 0]
        raise DataError(
            f"population: no positive number of children for {', '.join(missing[:3])}",
            column="population",
            values=missing[:5],
        )
    return np.repeat(values.to_numpy()[:, None], bands, axis=1)


def _population_by_age(flows: Flows, population: pd.DataFrame, start, months: int):
    """From a population by ``authority``, single year of ``age`` (0-17), optionally
    ``sex`` and ``year`` (mid-year estimates or projections): the population of each
    authority's DfE age bands in the base year (the latest year up to the start's), and
    the growth of its entries month by month ahead (authorities x bands x months): the
    band's population in the year in force over the base year's, its sexes weighted by
    the entrants' rate per child of each sex."""
    needed = ["authority", "age", "population"]
    missing = [c for c in needed if c not in population]
    if missing:
        raise DataError(f"population lacks column {missing[0]!r}", column=missing[0])
    table = population.copy()
    table["population"] = pd.to_numeric(table["population"], errors="coerce")
    table["age"] = pd.to_numeric(table["age"], errors="coerce")
    bad = (table["population"].isna() | (table["population"] < 0) | table["age"].isna()).to_numpy()
    if bad.any():
        raise DataError.at(
            "population: needs a whole age and a number of children",
            "population",
            bad,
            table["population"],
        )
    table = table[(table["age"] >= 0) & (table["age"] < MAX_AGE)]
    if "year" not in table:
        table["year"] = 0
    if "sex" not in table:
        table["sex"] = "all"
    band_of = {age: b for b, (_, lo, hi) in enumerate(AGE_BANDS) for age in range(lo, hi + 1)}
    table["band"] = table["age"].astype(int).map(band_of)
    grid = table.groupby(["authority", "year", "sex", "band"])["population"].sum()
    years = sorted(grid.index.get_level_values("year").unique())
    first_year = start.year if start is not None else years[-1]
    base_year = max([y for y in years if y <= first_year] or [years[0]])
    sexes = sorted(grid.index.get_level_values("sex").unique())
    n, bands = len(flows.authorities), len(AGE_BANDS)

    def at(year):
        values = grid.xs(year, level="year").reindex(
            pd.MultiIndex.from_product(
                [list(flows.authorities), sexes, range(bands)], names=["authority", "sex", "band"]
            )
        )
        return values.to_numpy().reshape(n, len(sexes), bands)

    base = at(base_year)
    if np.isnan(base).any() or (base.sum(axis=1) <= 0).any():
        lost = [a for i, a in enumerate(flows.authorities) if np.isnan(base[i]).any()]
        raise DataError(
            f"population: no children of every age band for {', '.join(lost[:3]) or 'a band'}",
            column="population",
            values=lost[:5],
        )
    weights = np.ones((n, len(sexes), bands))
    if len(sexes) > 1 and flows.entrant_sex is not None:
        counts = np.zeros((n, len(sexes), bands))
        for j, sex in enumerate(sexes):
            if sex in ("1", "2"):
                for b, (_, lo, hi) in enumerate(AGE_BANDS):
                    counts[:, j, b] = flows.entrant_sex[:, lo : hi + 1, int(sex) - 1].sum(axis=1)
        weights = (counts + 0.5) / np.maximum(base, 1.0)
    growth = np.ones((n, bands, months))
    if start is not None:
        reference = (weights * base).sum(axis=1)
        for m in range(months):
            when = (start + pd.DateOffset(months=m)).year
            year = max([y for y in years if y <= when] or [base_year])
            now = at(year)
            if np.isnan(now).any():
                continue
            growth[:, :, m] = np.divide(
                (weights * now).sum(axis=1),
                reference,
                out=np.ones((n, bands)),
                where=reference > 0,
            )
    return base.sum(axis=1), growth


def _cumulative(weights: np.ndarray) -> np.ndarray:
    """Cumulative probabilities along the last axis, ending at exactly 1."""
    cum = np.cumsum(weights, axis=-1)
    total = cum[..., -1:]
    return np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)


def _flat(cum: np.ndarray) -> np.ndarray:
    """Rows of cumulative probabilities laid end to end, row ``r`` shifted by ``2 r``, so
    that one sorted search finds the category of a draw in any row."""
    width = cum.shape[-1]
    return (cum.reshape(-1, width) + 2.0 * np.arange(cum.size // width)[:, None]).ravel()


def _categorical(flat: np.ndarray, width: int, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each draw ``u`` in [0, 1), the category of row ``row`` (of :func:`_flat`) it
    falls in."""
    return np.searchsorted(flat, u + 2.0 * row, side="right") - row * width


def _categorical_row(weights: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each draw ``u`` in [0, 1), the category it falls in among the cumulative
    ``weights`` of its own row: what :func:`_categorical` finds with every row laid end to
    end (this one as row ``row``), by the same comparisons, from the rows drawn alone."""
    shifted = _cumulative(weights) + 2.0 * row[:, None]
    return (shifted <= (u + 2.0 * row)[:, None]).sum(axis=1)


def _group_sizes(flows: Flows) -> np.ndarray:
    """Each authority's distribution of the sizes of groups entering together (authorities
    x sizes): its own groups with the region's worth :data:`PRIOR_ENTRANTS` groups as
    prior."""
    groups = flows.groups
    region = groups.sum(axis=0)
    if region.sum() == 0:
        return np.ones((len(flows.authorities), 1))
    share = region / region.sum()
    weights = groups + PRIOR_ENTRANTS * share[None, :]
    return weights / weights.sum(axis=1, keepdims=True)


def _revised_stock(flows: Flows, revision, draws: int, generator) -> np.ndarray:
    """The starting stock (draws, authorities, ages, types), scaled in each draw by a
    factor of revision drawn from the log ratios seen (normal, their mean and spread,
    with the mean's uncertainty); the stock as recorded when there is none."""
    n, ages, k = flows.stock.shape
    stock = np.broadcast_to(flows.stock, (draws, n, ages, k)).copy()
    if revision is None or len(revision) == 0:
        return stock
    ratios = pd.to_numeric(revision["log_ratio"], errors="coerce").dropna().to_numpy()
    if len(ratios) == 0:
        return stock
    spread = ratios.std(ddof=1) if len(ratios) > 1 else abs(ratios[0])
    scale = spread * np.sqrt(1 + 1 / len(ratios))
    factor = np.exp(ratios.mean() + scale * generator.standard_normal((draws, n)))
    grow = np.maximum(factor - 1, 0)[:, :, None, None]
    keep = np.minimum(factor, 1)[:, :, None, None]
    stock = generator.binomial(stock, np.broadcast_to(keep, stock.shape))
    return stock + generator.poisson(flows.stock[None] * grow)


def _simulate(
    stock0, leaving, entry_rate, composition, months, generator, factors, sizes, growth=None
):
    """Counts (draws, months + 1, authorities, types) and exits (draws, months + 1,
    authorities, routes + aged out), month by month. ``factors``: the entry and leaving
    rates' levels month by month (draws, authorities, months), or None; ``sizes``: the
    distribution of the sizes of groups entering together (authorities x sizes)."""
    draws, n, k = leaving.shape[:3]
    mix = _flat(composition)
    cells = composition.shape[2]
    stock = stock0.copy()
    cell_counts = stock.reshape(-1)  # a view: the same counts cell by cell
    history = np.zeros((draws, months + 1, n, k), dtype=np.int64)
    history[:, 0] = stock.sum(axis=2)
    aged = np.zeros((draws, months + 1, n, len(AGE_BANDS)), dtype=np.int64)

    def by_band(current):
        by_age = current.sum(axis=3)
        return np.stack([by_age[:, :, lo : hi + 1].sum(axis=2) for _, lo, hi in AGE_BANDS], axis=2)

    aged[:, 0] = by_band(stock)
    exits = np.zeros((draws, months + 1, n, len(ROUTES) + 1), dtype=np.int64)
    bands = composition.shape[1]
    group_mix = _flat(_cumulative(sizes))
    mean_size = (sizes * np.arange(1, sizes.shape[1] + 1)).sum(axis=1)
    rates = leaving
    leave = -np.expm1(-leaving.sum(axis=3))
    for month in range(1, months + 1):
        if factors is not None:
            rates = leaving.copy()
            rates[..., k:] *= factors[1][:, :, month - 1, None, None]
            leave = -np.expm1(-rates.sum(axis=3))
        # moves and exits: who leaves each cell, then where to (an empty cell draws no
        # random number, so the occupied cells alone are drawn, in the same order)
        occupied = np.flatnonzero(stock)
        d, a, g, i = np.unravel_index(occupied, stock.shape)
        left = generator.binomial(cell_counts[occupied], leave[d, a, i])
        cell_counts[occupied] -= left
        d, a, g, i = (np.repeat(v, left) for v in (d, a, g, i))
        to = _categorical_row(rates[d, a, i], (d * n + a) * k + i, generator.random(len(d)))
        moved = to < k
        np.add.at(stock, (d[moved], a[moved], g[moved], to[moved]), 1)
        np.add.at(exits[:, month], (d[~moved], a[~moved], to[~moved] - k), 1)
        # ageing: a twelfth of each year's group a month; 18-year-olds leave
        occupied = np.flatnonzero(stock)
        older = np.zeros_like(stock)
        older.reshape(-1)[occupied] = generator.binomial(cell_counts[occupied], 1 / 12)
        stock -= older
        exits[:, month, :, -1] += older[:, :, -1].sum(axis=2)
        stock[:, :, 1:] += older[:, :, :-1]
        # entries in groups, with their age band, age and first type
        expected = entry_rate
        if factors is not None:
            expected = entry_rate * factors[0][:, :, month - 1, None]
        if growth is not None:
            expected = expected * growth[None, :, :, month - 1]
        total = expected.sum(axis=2)
        count = generator.poisson(total / mean_size[None, :])
        d, a = np.nonzero(count)
        each = np.repeat(np.arange(len(d)), count[d, a])
        size = 1 + _categorical(group_mix, sizes.shape[1], a[each], generator.random(len(each)))
        children = np.zeros((draws, n), dtype=np.int64)
        np.add.at(children, (d[each], a[each]), size)
        share = np.divide(
            expected, total[:, :, None], out=np.zeros_like(expected), where=total[:, :, None] > 0
        )
        share[total <= 0] = 1.0 / bands
        new = generator.multinomial(children, share)
        d, a, b = np.nonzero(new)
        each = np.repeat(np.arange(len(d)), new[d, a, b])
        cell = _categorical(mix, cells, a[each] * bands + b[each], generator.random(len(each)))
        np.add.at(stock, (d[each], a[each], cell // k, cell % k), 1)
        history[:, month] = stock.sum(axis=2)
        aged[:, month] = by_band(stock)
    return history, exits, aged


def _with_region(counts: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Counts (draws, months, authorities, ...) with, for several authorities, their sum
    as one more authority, ``REGION``; and the authorities' labels."""
    if counts.shape[2] == 1:
        return counts, labels
    return np.concatenate([counts, counts.sum(axis=2, keepdims=True)], axis=2), [*labels, REGION]


def _by_authority(counts, labels, categories, tail, dates, name) -> pd.DataFrame:
    """The quantile table of counts (draws, months, authorities, categories): one series
    per authority (and the region) and category, labelled ``authority`` and ``name``."""
    draws, months, n, k = counts.shape
    return _quantiles(
        counts.reshape(draws, months, n * k),
        tail,
        dates,
        authority=np.repeat(labels, k),
        **{name: np.tile(np.array(categories, dtype=object), n)},
    )


def _age_table(flows: Flows, aged, tail, months) -> pd.DataFrame:
    dates = _month_dates(flows.start, months + 1)
    labels = [a or REGION for a in flows.authorities]
    counts, labels = _with_region(aged, labels)
    bands = [band for band, _, _ in AGE_BANDS]
    return _by_authority(counts, labels, bands, tail, dates, "age_band")


def _tables(flows: Flows, history, exits, tail, months):
    dates = _month_dates(flows.start, months + 1)
    labels = [a or REGION for a in flows.authorities]
    stock = np.concatenate([history, history.sum(axis=3, keepdims=True)], axis=3)
    stock, stock_labels = _with_region(stock, labels)
    exits, exit_labels = _with_region(exits, labels)
    return (
        _by_authority(stock, stock_labels, [*flows.types, "All"], tail, dates, "placement_type"),
        _by_authority(exits, exit_labels, [*ROUTES, AGED_OUT], tail, dates, "route"),
    )
