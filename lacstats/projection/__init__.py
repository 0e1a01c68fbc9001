"""Projections of looked-after children and the cost of their placement mix.

- :func:`stock_and_flow`: a stock-and-flow simulation from cleaned SSDA903 episodes of
  one or many authorities, with rates pooled across authorities
  (:func:`gamma_poisson`);
- :func:`backtest`: a projection from a past origin scored against what then happened,
  pooled and unpooled side by side;
- :func:`rate_projection`, :func:`growth_to_cap` and :func:`mix_cost`: the seeds' simple
  rules.

Its private modules follow the work: ``_flows`` counts exposure, events, entrants and the
starting stock (:func:`count_flows`); ``_pooling`` shrinks rates towards the region's;
``_trend`` filters a local level (:func:`local_level`); ``_stock_flow`` draws the rates
and simulates; ``_backtest`` scores. Every public name is here.
"""

from lacstats.projection._backtest import (
    LEVEL,
    OVERALL,
    TOTAL,
    Backtest,
    backtest,
    observed_stock,
    returns_up_to,
    stock_revisions,
)
from lacstats.projection._flows import (
    AGE_BANDS,
    AGED_OUT,
    EXIT_ROUTES,
    MAX_AGE,
    ROUTES,
    Flows,
    count_flows,
)
from lacstats.projection._pooling import MAX_SHAPE, GammaPoisson, gamma_poisson, posterior_draws
from lacstats.projection._rates import DRIFT, RateForecast, forecast_score, rate_forecast
from lacstats.projection._simple import growth_to_cap, mix_cost, rate_projection
from lacstats.projection._simulation import simulate_drifting_region
from lacstats.projection._stock_flow import (
    POOLING,
    PRIOR_ENTRANTS,
    REGION,
    Projection,
    stock_and_flow,
)
from lacstats.projection._trend import (
    PRIOR_SCALE,
    LocalLevel,
    kalman_local_level,
    level_factors,
    local_level,
)

__all__ = [
    "AGED_OUT",
    "AGE_BANDS",
    "DRIFT",
    "EXIT_ROUTES",
    "LEVEL",
    "MAX_AGE",
    "MAX_SHAPE",
    "OVERALL",
    "POOLING",
    "PRIOR_ENTRANTS",
    "PRIOR_SCALE",
    "REGION",
    "ROUTES",
    "TOTAL",
    "Backtest",
    "Flows",
    "GammaPoisson",
    "LocalLevel",
    "Projection",
    "RateForecast",
    "backtest",
    "count_flows",
    "forecast_score",
    "gamma_poisson",
    "growth_to_cap",
    "kalman_local_level",
    "level_factors",
    "local_level",
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
