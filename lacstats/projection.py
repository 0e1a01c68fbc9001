"""Projections of looked-after children and the cost of their placement mix.

Three models, as the seeds use them:

- :func:`stock_and_flow`: Dorset's "predictive model ... entries, exits, permanence" (Dorset
  County Council, "Looked After Children: Current Position, Predicting Future Numbers and
  Reducing Costs", 2017), estimated from cleaned SSDA903 episodes: monthly entry
  counts with the ages and placement types of entrants, monthly rates of moves between
  placement types and of exits by route (adoption, special guardianship or child
  arrangements order, home to family, independent living, other), and ageing out at 18.
  It is simulated forward month by month with the rates themselves drawn from their
  posterior (gamma with Jeffreys prior, and a Dirichlet split among destinations) so that the intervals carry the uncertainty of the
  estimates as well as the randomness of events.
- :func:`rate_projection`: a rate of looked-after children per child in the population
  times a projected population (ONS), with a Poisson interval on the observed rate (the
  South East Complex LAC project's projection of children aged 10 and over).
- :func:`growth_to_cap`: Nottinghamshire's "growth of 2 LAC per month until there are
  898 children in care" (Nottinghamshire County Council, "Looked After Children Placement
  Commissioning Plan", 2014).

:func:`mix_cost` prices a projected placement mix with a table of unit costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats import ssda903
from lacstats.errors import DataError
from lacstats.units import BUDGET_WEEKS_PER_YEAR, DAYS_PER_MONTH, WEEKS_PER_YEAR

__all__ = [
    "EXIT_ROUTES",
    "Projection",
    "growth_to_cap",
    "mix_cost",
    "rate_projection",
    "stock_and_flow",
]

#: Reason episode ceased (REC) -> exit route. Codes not listed (and a period closed by
#: cleaning without a REC) are "other".
EXIT_ROUTES: dict[str, str] = {
    "E11": "adoption",
    "E12": "adoption",
    "E41": "SGO or child arrangements order",
    "E43": "SGO or child arrangements order",
    "E44": "SGO or child arrangements order",
    "E45": "SGO or child arrangements order",
    "E46": "SGO or child arrangements order",
    "E47": "SGO or child arrangements order",
    "E48": "SGO or child arrangements order",
    "E4A": "home to family",
    "E4B": "home to family",
    "E13": "home to family",
    "E5": "independent living",
    "E6": "independent living",
}
ROUTES: tuple[str, ...] = (
    "adoption",
    "SGO or child arrangements order",
    "home to family",
    "independent living",
    "other",
)
AGED_OUT = "aged 18"
MAX_AGE = 18


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
    mix: pd.DataFrame, unit_costs: pd.Series | dict, *, weeks: float = WEEKS_PER_YEAR
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


# --------------------------------------------------------------------------- rate x population


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
    projection. Columns: ``rate`` (per ``per`` children), ``rate_low``, ``rate_high``,
    ``projected``, ``projected_low``, ``projected_high``, ``change``.
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
    out["rate_low"] = low / base * per
    out["rate_high"] = high / base * per
    out["projected"] = count / base * target
    out["projected_low"] = low / base * target
    out["projected_high"] = high / base * target
    out["change"] = out["projected"] - count
    return out


# --------------------------------------------------------------------------- stock and flow


@dataclass(frozen=True)
class Projection:
    """A simulated projection of children looked after, month by month.

    ``stock`` has one row per month and placement type (and ``"All"``) with the mean and
    the central interval of the simulated counts; ``exits`` the same for exits by route;
    ``rates`` the estimated monthly rates (moves, exits, entries) with their exposure and
    event counts; ``draws`` the simulated counts, shape (draws, months + 1, types).
    """

    stock: pd.DataFrame
    exits: pd.DataFrame
    rates: pd.DataFrame
    types: tuple[str, ...]
    start: pd.Timestamp
    draws: np.ndarray = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)

    def cost(
        self,
        unit_costs: dict[str, float] | pd.Series,
        *,
        weeks: float = BUDGET_WEEKS_PER_YEAR,
        interval: float = 0.9,
    ) -> pd.DataFrame:
        """Weekly and annual cost of the projected placement mix, month by month, for each
        priced placement type and ``"All"``, with the simulation interval. Types without a
        unit cost are left out of ``"All"`` and listed in ``unpriced``."""
        costs = pd.Series(unit_costs, dtype=float)
        priced = [i for i, t in enumerate(self.types) if t in costs.index]
        if not priced:
            raise DataError("no projected placement type has a unit cost", column="unit_costs")
        prices = costs[[self.types[i] for i in priced]].to_numpy()
        by_type = self.draws[:, :, priced] * prices
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
                    "weekly_low": np.quantile(weekly, tail, axis=0),
                    "weekly_high": np.quantile(weekly, 1 - tail, axis=0),
                }
            )
            for column in ("weekly_cost", "weekly_low", "weekly_high"):
                frame[column.replace("weekly", "annual")] = frame[column] * weeks
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        out["unpriced"] = ", ".join(t for t in self.types if t not in costs.index)
        return out

    def publishable(self, *, threshold: int = 5, interval: float | None = None) -> pd.DataFrame:
        """The stock table safe to publish: month 0 holds real counts of children, so
        placement types with 1 to ``threshold - 1`` children at the start are pooled into
        one row, ``"Other (fewer than N at the start)"``, its quantiles recomputed from
        the pooled simulations. The next smallest types join the pool until it holds at
        least two types and ``threshold`` children, so that no count can be recovered
        from the total."""
        interval = self.options.get("interval", 0.9) if interval is None else interval
        start = self.draws[0, 0, :]
        small = [i for i, n in enumerate(start) if 0 < n < threshold]
        others = [i for i in np.argsort(start, kind="stable") if i not in small and start[i]]
        while small and (len(small) == 1 or start[small].sum() < threshold) and others:
            small.append(others.pop(0))
        label = f"Other (fewer than {threshold} at the start)"
        dates = _month_dates(self.start, self.draws.shape[1])
        tail = (1 - interval) / 2
        series = [(t, self.draws[:, :, i]) for i, t in enumerate(self.types) if i not in small]
        if small:
            series.append((label, self.draws[:, :, small].sum(axis=2)))
        series.append(("All", self.draws.sum(axis=2)))
        return pd.concat(
            [_quantiles(counts, tail, dates).assign(placement_type=t) for t, counts in series],
            ignore_index=True,
        )

    def summary(self) -> str:
        total = self.stock[self.stock["placement_type"] == "All"]
        first, last = total.iloc[0], total.iloc[-1]
        return (
            f"Stock-and-flow projection from {self.start.date()}: {first['mean']:.0f} "
            f"children now, {last['mean']:.0f} ({last['low']:.0f} to {last['high']:.0f}) "
            f"after {int(last['month'])} months; {self.draws.shape[0]} simulations"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"method": "stock and flow", "start": str(self.start.date()), **self.options}


def _month_dates(start: pd.Timestamp, n: int) -> list[str]:
    return [str((start + pd.DateOffset(months=m)).date()) for m in range(n)]


def _flows(cleaned, start: pd.Timestamp, history_years: float, types_of):
    """Exposure, moves, exits and entries in the window before ``start``."""
    window_start = start - pd.DateOffset(months=int(round(history_years * 12)))
    first = cleaned.coverage[0]
    window_start = max(window_start, first)
    episodes = ssda903.episode_attributes(cleaned)
    episodes["type"] = types_of(episodes)
    end = episodes["DEC"].fillna(start)
    lo = episodes["DECOM"].where(episodes["DECOM"] > window_start, window_start)
    hi = end.where(end < start, start)
    months = ((hi - lo).dt.days.clip(lower=0) / DAYS_PER_MONTH).to_numpy()
    exposure = pd.Series(months).groupby(episodes["type"].to_numpy()).sum()

    next_same = episodes["child_key"].eq(episodes["child_key"].shift(-1))
    next_start = episodes["DECOM"].shift(-1)
    continues = next_same & (episodes["DEC"] == next_start).fillna(False)
    ended = episodes["DEC"].notna() & (episodes["DEC"] > window_start) & (episodes["DEC"] <= start)
    next_type = episodes["type"].shift(-1)
    moves = episodes[ended & continues & (next_type != episodes["type"])]
    move_counts = pd.crosstab(moves["type"], next_type[moves.index]).stack()

    dob = ssda903.child_values(cleaned, episodes, "DOB")
    birthday = dob + pd.DateOffset(years=MAX_AGE)
    leaving = episodes[ended & ~continues & (episodes["DEC"] < birthday)]
    routes = leaving["REC"].map(EXIT_ROUTES).fillna("other")
    exit_counts = pd.crosstab(leaving["type"], routes).stack()

    new_period = episodes["period"].ne(episodes["period"].shift()) | episodes["child_key"].ne(
        episodes["child_key"].shift()
    )
    entries = episodes[
        new_period & (episodes["DECOM"] >= window_start) & (episodes["DECOM"] < start)
    ]
    entry_ages = ssda903.age_in_years(dob[entries.index], entries["DECOM"]).astype(int)
    window_months = (start - window_start).days / DAYS_PER_MONTH
    return (
        exposure,
        move_counts,
        exit_counts,
        entries.assign(age=entry_ages.clip(0, 17)),
        (window_months),
        episodes,
    )


def stock_and_flow(
    cleaned: Any,
    *,
    start: Any = None,
    months: int = 36,
    history_years: float = 3,
    draws: int = 500,
    interval: float = 0.9,
    types: str = "placement_type",
    rng: int | np.random.Generator | None = None,
) -> Projection:
    """Project children looked after from cleaned SSDA903 episodes.

    Rates are estimated over the ``history_years`` before ``start`` (default: the end of
    the last return): for each placement type, the monthly rate of moving to each other
    type and of leaving care by each route (events over child-months of exposure); the
    mean number of entries a month, and the ages and first placement types of entrants.
    Each simulation draws the rates from their posterior (the total rate of leaving a
    type gamma(events + 1/2, exposure), split among the destinations seen by a
    Dirichlet(events)), then steps month by month from the children looked after at ``start``: each child
    moves or leaves with probabilities from competing exponential risks, ages by a month
    (leaving at 18), and Poisson entries join with ages and types resampled from the
    entrants of the window. Children are tracked by single year of age (ageing is a
    binomial twelfth of each year's group a month).

    Parameters
    ----------
    types:
        The episode column that defines the placement categories: ``placement_type``
        (Dorset's types) or ``placement_setting`` (the case table's settings).
    """
    if not isinstance(cleaned, ssda903.Cleaned):
        raise DataError(
            "stock_and_flow needs a cleaned return (lacstats.ssda903.clean)", column="cleaned"
        )
    if types not in ("placement_type", "placement_setting"):
        raise DataError(
            f"types must be 'placement_type' or 'placement_setting', got {types!r}", column="types"
        )
    for name, value in (("months", months), ("draws", draws)):
        if int(value) != value or value < 1:
            raise DataError(
                f"argument {name!r} must be a positive whole number, got {value!r}", column=name
            )
    if not 0 < interval < 1:
        raise DataError(f"interval must be in (0, 1), got {interval!r}", column="interval")
    start = cleaned.coverage[1] + pd.Timedelta(days=1) if start is None else pd.Timestamp(start)
    if not cleaned.coverage[0] < start <= cleaned.coverage[1] + pd.Timedelta(days=1):
        raise DataError(
            f"start {start.date()} is outside the returns read",
            column="start",
            values=[str(start.date())],
        )
    exposure, move_counts, exit_counts, entries, window, episodes = _flows(
        cleaned, start, history_years, lambda e: e[types]
    )
    census = start - pd.Timedelta(days=1)
    current = episodes[
        (episodes["DECOM"] <= census) & (episodes["DEC"].isna() | (episodes["DEC"] > census))
    ]
    names = tuple(sorted(set(exposure.index) | set(current["type"]) | set(entries["type"])))
    k, ages = len(names), MAX_AGE
    index = {t: i for i, t in enumerate(names)}
    routes = (*ROUTES,)
    n_out = k + len(routes)

    events = np.zeros((k, n_out))
    for (a, b), count in move_counts.items():
        events[index[a], index[b]] += count
    for (a, route), count in exit_counts.items():
        events[index[a], k + routes.index(route)] += count
    np.fill_diagonal(events[:, :k], 0)
    exposed = exposure.reindex(names).fillna(0).to_numpy()

    generator = np.random.default_rng(rng)
    # posterior draws of the monthly rates: the total rate of leaving a type is
    # gamma(events + 1/2) / exposure (Jeffreys), split among the destinations seen in the
    # window by a Dirichlet(events); a destination never seen is never taken, and a type
    # never occupied in the window keeps its children (no information to move them)
    rates = np.zeros((draws, k, n_out))
    for i in range(k):
        seen = np.flatnonzero(events[i] > 0)
        if exposed[i] <= 0 or seen.size == 0:
            continue
        level = generator.gamma(events[i].sum() + 0.5, 1.0, size=draws) / exposed[i]
        split = generator.dirichlet(events[i, seen], size=draws)
        rates[:, i, seen] = level[:, None] * split
    total = rates.sum(axis=2)
    leave = 1 - np.exp(-total)
    with np.errstate(invalid="ignore", divide="ignore"):
        split = np.where(total[..., None] > 0, rates / total[..., None], 0.0)
    pvals = np.concatenate([split * leave[..., None], (1 - leave)[..., None]], axis=2)

    entry_count = len(entries)
    entry_rate = generator.gamma(entry_count + 0.5, 1.0, size=draws) / window
    entry_cells = entries["age"].to_numpy() * k + entries["type"].map(index).to_numpy()
    cell_weights = np.bincount(entry_cells, minlength=ages * k).astype(float)
    if cell_weights.sum() == 0:
        cell_weights[:] = 1.0
    cell_p = cell_weights / cell_weights.sum()

    dob = ssda903.child_values(cleaned, current, "DOB")
    age_now = (
        ssda903.age_in_years(dob, pd.Series(census, index=current.index)).astype(int).clip(0, 17)
    )
    stock0 = np.zeros((ages, k), dtype=np.int64)
    np.add.at(stock0, (age_now.to_numpy(), current["type"].map(index).to_numpy()), 1)

    stock = np.broadcast_to(stock0, (draws, ages, k)).copy()
    history = np.zeros((draws, months + 1, k), dtype=np.int64)
    history[:, 0] = stock.sum(axis=1)
    exits = np.zeros((draws, months + 1, len(routes) + 1), dtype=np.int64)
    p_by_cell = np.broadcast_to(pvals[:, None], (draws, ages, k, n_out + 1))
    for month in range(1, months + 1):
        flows = generator.multinomial(stock, p_by_cell)
        stay = flows[..., -1]
        # flows[d, age, i, j]: children of type i moving to type j; arrivals sum over i
        arrivals = flows[..., :k].sum(axis=2)
        stock = stay + arrivals
        exits[:, month, : len(routes)] = flows[..., k:n_out].sum(axis=(1, 2))
        ageing = generator.binomial(stock, 1 / 12)
        exits[:, month, -1] = ageing[:, -1].sum(axis=1)
        stock = stock - ageing
        stock[:, 1:] += ageing[:, :-1]
        new = generator.poisson(entry_rate)
        stock += generator.multinomial(new, cell_p).reshape(draws, ages, k)
        history[:, month] = stock.sum(axis=1)

    tail = (1 - interval) / 2
    dates = _month_dates(start, months + 1)
    frames = []
    series = [*zip(names, history.transpose(2, 0, 1), strict=True), ("All", history.sum(axis=2))]
    for label, counts in series:
        frames.append(_quantiles(counts, tail, dates).assign(placement_type=label))
    stock_table = pd.concat(frames, ignore_index=True)
    exit_frames = [
        _quantiles(exits[:, :, j], tail, dates).assign(route=route)
        for j, route in enumerate((*routes, AGED_OUT))
    ]
    exposure_table = pd.DataFrame(
        [
            {
                "from": names[i],
                "to": (names + routes)[j],
                "events": events[i, j],
                "exposure_months": exposed[i],
                "monthly_rate": events[i, j] / exposed[i] if exposed[i] else np.nan,
            }
            for i in range(k)
            for j in range(n_out)
            if events[i, j] > 0
        ]
        + [
            {
                "from": "(outside care)",
                "to": "entry",
                "events": entry_count,
                "exposure_months": window,
                "monthly_rate": entry_count / window,
            }
        ]
    )
    return Projection(
        stock=stock_table,
        exits=pd.concat(exit_frames, ignore_index=True),
        rates=exposure_table,
        types=names,
        start=start,
        draws=history,
        options={
            "months": months,
            "history_years": history_years,
            "draws": draws,
            "interval": interval,
            "types": types,
            "continues": list(cleaned.continues),
        },
    )


def _quantiles(counts: np.ndarray, tail: float, dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": np.arange(counts.shape[1]),
            "date": dates,
            "mean": counts.mean(axis=0),
            "low": np.quantile(counts, tail, axis=0),
            "median": np.median(counts, axis=0),
            "high": np.quantile(counts, 1 - tail, axis=0),
        }
    )
