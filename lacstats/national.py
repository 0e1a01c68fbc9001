"""The national models: every English authority, 2015-2019, from the public releases.

Three shares of each authority's children looked after at 31 March, by year, with partial
pooling: placed more than 20 miles from home (of those with a known distance, 2017-2019),
placed in children's homes, secure units and semi-independent living (DfE's "secure units,
children's homes and semi-independent living accommodation"), and placed with private
providers; and the rate of children looked after per 10,000 children with the ONS
population under 18 as exposure. Each is a hierarchical model with a national trend,
region effects and authority effects nested in them, each authority with its own trend
(binomial with trials and an effect per authority and year for movement beyond binomial
sampling; negative binomial with exposure for the rate). Suppressed cells are missing
data: the rows drop out of that model, never enter as zeros.

The ``national`` analysis fits these models and the national benchmark times them: both
take the models, rows and sampling settings from here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lacstats import datasets
from lacstats.hierarchical import HierarchicalModel

__all__ = [
    "CENTRE_YEAR",
    "FAST_SAMPLING",
    "LATEST",
    "MORE_DRAWS",
    "PROB",
    "SAMPLING",
    "SHARES",
    "national_panel",
    "rate_model",
    "rate_rows",
    "sampling",
    "share_model",
    "share_rows",
]

#: The central posterior interval of every position and trend.
PROB = 0.9
#: Draws per chain where 1,000 leave the gate's bulk ESS of 400 too close
#: (benchmarks/bench_national.py): for far (three years an authority, so its slopes and
#: year effects are weakly told apart) the group SDs' bulk ESS is 0.05 to 0.1 per draw and
#: R-hat near 1.01 at 1,500 draws; for rate about 0.45 per draw; the others about 0.9.
MORE_DRAWS = {"far": 3000, "rate": 1500}
#: Sampling of a full run (:data:`MORE_DRAWS` aside).
SAMPLING = {"draws": 1000, "tune": 800, "chains": 4}
#: Sampling of ``--fast`` (a smoke test).
FAST_SAMPLING = {"draws": 200, "tune": 200, "chains": 2}
#: ``year_c = year - CENTRE_YEAR``
CENTRE_YEAR = 2017
#: The year of the positions.
LATEST = 2019

#: measure -> (response, trials, years, label)
SHARES: dict[str, tuple[str, str, tuple[int, ...], str]] = {
    "far": ("over_20_miles", "distance_known", (2017, 2018, 2019), "placed over 20 miles"),
    "residential": (
        "secure_homes_hostels",
        "lac_total",
        (2015, 2016, 2017, 2018, 2019),
        "in children's homes, secure units and semi-independent living",
    ),
    "private": (
        "provider_private",
        "lac_total",
        (2015, 2016, 2017, 2018, 2019),
        "placed with private providers",
    ),
}


def national_panel() -> pd.DataFrame:
    """The packaged panel (:func:`lacstats.datasets.national_panel`) with ``year_c``, the
    year centred at :data:`CENTRE_YEAR`.

    One row per authority and year. Columns: those of the packaged panel (``year``,
    ``authority``, ``region``, the counts and their ``_suppressed`` flags,
    ``population_under_18``, ...) and ``year_c``.

    Examples
    --------
    >>> from lacstats import national
    >>> panel = national.national_panel()
    >>> sorted(panel["year_c"].unique().tolist())
    [-2, -1, 0, 1, 2]
    """
    panel = datasets.national_panel()
    panel["year_c"] = panel["year"] - CENTRE_YEAR
    return panel


def share_rows(panel: pd.DataFrame, key: str) -> pd.DataFrame:
    """The authority-years of a share's model: its years, a known positive denominator.

    Columns: those of ``panel`` (:func:`national_panel`: ``year``, ``authority``,
    ``region``, ``year_c``, the counts), its rows of the share's years whose denominator
    is known and positive.

    Examples
    --------
    >>> from lacstats import national
    >>> rows = national.share_rows(national.national_panel(), "far")
    >>> sorted(rows["year"].unique().tolist())
    [2017, 2018, 2019]
    """
    _response, trials, years, _label = SHARES[key]
    rows = panel[panel["year"].isin(years)]
    return rows[rows[trials].fillna(0) > 0]


def rate_rows(panel: pd.DataFrame) -> pd.DataFrame:
    """The authority-years of the rate's model: a known count and population.

    Columns: those of ``panel`` (:func:`national_panel`: ``year``, ``authority``,
    ``region``, ``year_c``, ``lac_total_revised``, ``population_under_18``, ...), its rows
    where both ``lac_total_revised`` and ``population_under_18`` are known.

    Examples
    --------
    >>> from lacstats import national
    >>> len(national.rate_rows(national.national_panel())) > 700
    True
    """
    return panel.dropna(subset=["lac_total_revised", "population_under_18"])


def share_model(key: str) -> HierarchicalModel:
    """A share's model: binomial, region and authority intercepts, authority trends.

    Examples
    --------
    >>> from lacstats import national
    >>> national.share_model("private").formula
    'provider_private ~ year_c'
    """
    response, trials, _years, _label = SHARES[key]
    return HierarchicalModel(
        f"{response} ~ year_c",
        group=("region", "authority"),
        family="binomial",
        trials=trials,
        varying=("year_c",),
        observation_effects=True,  # an authority's year beyond binomial sampling
    )


def rate_model() -> HierarchicalModel:
    """The looked-after rate's model: negative binomial with the population as exposure.

    Examples
    --------
    >>> from lacstats import national
    >>> national.rate_model().exposure
    'population_under_18'
    """
    return HierarchicalModel(
        "lac_total_revised ~ year_c",
        group=("region", "authority"),
        family="negative_binomial",
        exposure="population_under_18",
        varying=("year_c",),
    )


def sampling(key: str, *, fast: bool = False) -> dict[str, Any]:
    """The sampling options of a measure's model (``far``, ``residential``, ``private`` or
    ``rate``): :data:`FAST_SAMPLING` with ``fast``, else :data:`SAMPLING` with the draws of
    :data:`MORE_DRAWS`.

    Examples
    --------
    >>> from lacstats import national
    >>> national.sampling("far"), national.sampling("far", fast=True)["draws"]
    ({'draws': 3000, 'tune': 800, 'chains': 4}, 200)
    """
    if fast:
        return dict(FAST_SAMPLING)
    return {**SAMPLING, "draws": MORE_DRAWS.get(key, SAMPLING["draws"])}
