"""Projections of looked-after children and the cost of their placement mix.

- :func:`stock_and_flow`: a stock-and-flow simulation from cleaned SSDA903 episodes of
  one or many authorities, with rates pooled across authorities
  (:mod:`lacstats.projection.stock_flow`, :mod:`lacstats.projection.pooling`);
- :func:`backtest`: a projection from a past origin scored against what then happened,
  pooled and unpooled side by side (:mod:`lacstats.projection.backtest`);
- :func:`rate_projection`, :func:`growth_to_cap` and :func:`mix_cost`: the seeds' simple
  rules (:mod:`lacstats.projection.simple`).

Its modules follow the work: :mod:`~lacstats.projection.flows` counts exposure, events,
entrants and the starting stock; :mod:`~lacstats.projection.pooling` shrinks rates
towards the region's; :mod:`~lacstats.projection.stock_flow` draws the rates and
simulates; :mod:`~lacstats.projection.backtest` scores.
"""

from lacstats.projection.backtest import (
    LEVEL,
    OVERALL,
    TOTAL,
    Backtest,
    backtest,
    observed_stock,
    returns_up_to,
    stock_revisions,
)
from lacstats.projection.flows import AGE_BANDS, AGED_OUT, EXIT_ROUTES, MAX_AGE, ROUTES
from lacstats.projection.pooling import GammaPoisson, gamma_poisson, posterior_draws
from lacstats.projection.rates import DRIFT, RateForecast, rate_forecast
from lacstats.projection.simple import growth_to_cap, mix_cost, rate_projection
from lacstats.projection.simulation import simulate_drifting_region
from lacstats.projection.stock_flow import (
    POOLING,
    PRIOR_ENTRANTS,
    REGION,
    Projection,
    stock_and_flow,
)

__all__ = [
    "AGED_OUT",
    "AGE_BANDS",
    "DRIFT",
    "EXIT_ROUTES",
    "LEVEL",
    "MAX_AGE",
    "OVERALL",
    "POOLING",
    "PRIOR_ENTRANTS",
    "REGION",
    "ROUTES",
    "TOTAL",
    "Backtest",
    "GammaPoisson",
    "Projection",
    "RateForecast",
    "backtest",
    "gamma_poisson",
    "growth_to_cap",
    "mix_cost",
    "observed_stock",
    "posterior_draws",
    "rate_forecast",
    "rate_projection",
    "returns_up_to",
    "simulate_drifting_region",
    "stock_and_flow",
    "stock_revisions",
]
