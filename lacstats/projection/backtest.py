"""Back-testing projections: fit on the data before an origin, project, and score the
projection against what then happened.

For each authority, the children looked after the day before each month after the origin
(as the cleaned returns record them) are set beside the simulated counts: whether they fall
in the central 50% and 90% intervals, the absolute error of the median, and the
probability integral transform (PIT). Counts are whole numbers, so the PIT is the
mid-PIT, ``(F(y - 1) + F(y)) / 2`` (Czado, Gneiting and Held 2009, "Predictive model
assessment for count data", Biometrics 65:1254-1261): uniform on average when the
projection is calibrated. Several ways of pooling rates across authorities are scored
side by side on the same data.

The returns are cleaned once with every year read, so corrections that later returns
made to earlier years are used before the origin too; only events and exposure before
the origin enter the fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats import schema, ssda903
from lacstats.errors import DataError
from lacstats.projection.stock_flow import POOLING, REGION, stock_and_flow
from lacstats.results import Result, jsonable

__all__ = ["OVERALL", "Backtest", "backtest", "observed_stock"]

#: The label of the scores over every authority and month together.
OVERALL = "every authority-month"


@dataclass(frozen=True)
class Backtest(Result):
    """Projections from ``origin`` scored against what happened, for each pooling.

    ``forecasts``: one row per pooling, authority (and the region's total) and month with
    the observed count, the projected mean, median and quantiles 5, 25, 75 and 95%, and
    the mid-PIT; ``scores``: coverage of the 50% and 90% intervals, mean absolute error
    of the median and mean PIT by pooling and authority (and over every authority-month);
    ``pit``: the PIT histogram by pooling.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> tested = projection.backtest(cleaned, origin="2021-04-01", horizon_months=6, history_years=1, draws=100, rng=1)
    >>> tested.overall()[["pooling", "coverage_50", "coverage_90"]]
       pooling  coverage_50  coverage_90
    0     none          0.0     0.166667
    1  partial          0.0     0.333333
    >>> tested.pit.columns.tolist()
    ['pooling', 'bin_low', 'bin_high', 'count', 'share']
    """

    forecasts: pd.DataFrame
    scores: pd.DataFrame
    pit: pd.DataFrame
    origin: pd.Timestamp
    horizon_months: int
    options: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.scores.copy()

    def overall(self) -> pd.DataFrame:
        """The scores over every authority-month, one row per pooling."""
        return self.scores[self.scores["authority"] == OVERALL].reset_index(drop=True)

    def summary(self) -> str:
        table = self.overall()[["pooling", "forecasts", "coverage_50", "coverage_90", "mae"]]
        return (
            f"Back-test from {self.origin.date()}, {self.horizon_months} months ahead, "
            f"{self.options.get('authorities', 0)} authorities\n"
            + table.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origin": str(self.origin.date()),
            "horizon_months": self.horizon_months,
            **{k: v for k, v in self.options.items()},
            "scores": {},
        }
        for row in self.overall().itertuples(index=False):
            out["scores"][row.pooling] = {
                "forecasts": int(row.forecasts),
                "coverage_50": float(row.coverage_50),
                "coverage_90": float(row.coverage_90),
                "mae": float(row.mae),
                "mean_pit": float(row.mean_pit),
            }
        out["pit"] = {
            p: [int(c) for c in rows["count"]]
            for p, rows in self.pit.groupby("pooling", sort=False)
        }
        return jsonable(out)

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.overall().to_html(index=False)


def observed_stock(cleaned: ssda903.Cleaned, dates: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Children looked after on each date, by authority (columns: dates).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> projection.observed_stock(cleaned, [pd.Timestamp("2019-03-31"), pd.Timestamp("2020-03-31")])
               2019-03-31  2020-03-31
    authority
                      339         214
    """
    episodes = cleaned.episodes
    counts = {}
    for date in dates:
        open_ = (episodes["DECOM"] <= date) & (episodes["DEC"].isna() | (episodes["DEC"] > date))
        counts[date] = episodes.loc[open_.to_numpy()].groupby("authority")["child_key"].nunique()
    table = pd.DataFrame(counts).fillna(0).astype(int)
    return table.reindex(sorted(set(cleaned.authorities["authority"]))).fillna(0).astype(int)


def backtest(
    cleaned: ssda903.Cleaned,
    *,
    origin: Any,
    horizon_months: int = 12,
    history_years: float = 3,
    draws: int = 500,
    pooling: Sequence[str] = ("none", "partial"),
    types: str = "placement_type",
    population: pd.Series | None = None,
    bins: int = 10,
    rng: int | np.random.Generator | None = None,
) -> Backtest:
    """Fit on the ``history_years`` before ``origin``, project ``horizon_months`` ahead
    with each way of ``pooling`` (see :func:`stock_and_flow`), and score the projections
    against the children then looked after.

    Only authorities whose returns cover the whole horizon are scored. Each pooling uses
    its own stream of random numbers from ``rng``.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> tested = projection.backtest(cleaned, origin="2021-04-01", horizon_months=12, history_years=1, draws=100, rng=1)
    >>> print(tested.summary())
    Back-test from 2021-04-01, 12 months ahead, 1 authorities
    pooling  forecasts  coverage_50  coverage_90    mae
       none         12        0.000        0.083 14.750
    partial         12        0.000        0.417 13.958
    """
    if not isinstance(cleaned, ssda903.Cleaned):
        raise DataError(
            "backtest needs a cleaned return (lacstats.ssda903.clean)", column="cleaned"
        )
    pooling = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    if not pooling or any(p not in POOLING for p in pooling):
        raise DataError(f"pooling must be among {', '.join(POOLING)}", column="pooling")
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise DataError("horizon_months must be a positive whole number", column="horizon_months")
    origin = schema.parse_date(origin, "origin")
    census = [
        origin + pd.DateOffset(months=m) - pd.Timedelta(days=1) for m in range(horizon_months + 1)
    ]
    last = cleaned.coverage[1]
    if census[-1] > last:
        raise DataError(
            f"origin {origin.date()} + {horizon_months} months runs past the returns read "
            f"(to {last.date()}): nothing to score against",
            column="origin",
            values=[str(origin.date())],
        )
    spans = cleaned.authorities.set_index("authority")
    covered = spans.index[(spans["start"] <= census[0]) & (spans["end"] >= census[-1])]
    observed = observed_stock(cleaned, census)
    streams = np.random.default_rng(rng).spawn(len(pooling))
    forecasts = []
    for how, stream in zip(pooling, streams, strict=True):
        result = stock_and_flow(
            cleaned,
            start=origin,
            months=horizon_months,
            history_years=history_years,
            draws=draws,
            types=types,
            pooling=how,
            population=population,
            rng=stream,
        )
        names = [a for a in result.authorities if a in covered]
        for a in names:
            counts = result.counts(a).sum(axis=2)
            forecasts.append(_forecast(counts, observed.loc[a].to_numpy(), census, how, a))
        if len(names) > 1:
            index = [result.authorities.index(a) for a in names]
            counts = result.by_authority[:, :, index].sum(axis=(2, 3))
            truth = observed.loc[names].sum(axis=0).to_numpy()
            forecasts.append(_forecast(counts, truth, census, how, REGION))
    table = pd.concat(forecasts, ignore_index=True)
    table = table[table["month"] > 0].reset_index(drop=True)
    scores = _scores(table)
    return Backtest(
        forecasts=table,
        scores=scores,
        pit=_histogram(table[table["authority"] != REGION], bins),
        origin=origin,
        horizon_months=int(horizon_months),
        options={
            "history_years": history_years,
            "draws": draws,
            "pooling": list(pooling),
            "types": types,
            "authorities": int(table.loc[table["authority"] != REGION, "authority"].nunique()),
            "not_scored": sorted(set(spans.index) - set(covered)),
        },
    )


def _forecast(counts: np.ndarray, observed: np.ndarray, census, how: str, who: str):
    below = (counts < observed[None, :]).mean(axis=0)
    at_most = (counts <= observed[None, :]).mean(axis=0)
    q = np.quantile(counts, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    return pd.DataFrame(
        {
            "pooling": how,
            "authority": who,
            "month": np.arange(counts.shape[1]),
            "date": [str(c.date()) for c in census],
            "observed": observed,
            "mean": counts.mean(axis=0),
            "median": q[2],
            "q05": q[0],
            "q25": q[1],
            "q75": q[3],
            "q95": q[4],
            "pit": (below + at_most) / 2,
        }
    )


def _score(rows: pd.DataFrame) -> dict[str, float]:
    y = rows["observed"]
    return {
        "forecasts": len(rows),
        "coverage_50": float(((rows["q25"] <= y) & (y <= rows["q75"])).mean()),
        "coverage_90": float(((rows["q05"] <= y) & (y <= rows["q95"])).mean()),
        "mae": float((y - rows["median"]).abs().mean()),
        "mean_pit": float(rows["pit"].mean()),
    }


def _scores(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (how, who), group in table.groupby(["pooling", "authority"], sort=False):
        rows.append({"pooling": how, "authority": who, **_score(group)})
    for how, group in table[table["authority"] != REGION].groupby("pooling", sort=False):
        rows.append({"pooling": how, "authority": OVERALL, **_score(group)})
    return pd.DataFrame(rows)


def _histogram(table: pd.DataFrame, bins: int) -> pd.DataFrame:
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for how, group in table.groupby("pooling", sort=False):
        counts, _ = np.histogram(group["pit"], bins=edges)
        for b in range(bins):
            rows.append(
                {
                    "pooling": how,
                    "bin_low": edges[b],
                    "bin_high": edges[b + 1],
                    "count": int(counts[b]),
                    "share": counts[b] / max(len(group), 1),
                }
            )
    return pd.DataFrame(rows)
