"""Stratified estimates against hand-checked arithmetic and a coverage simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import sampling, survey, synthetic
from lacstats.errors import DataError


@pytest.fixture
def two_strata():
    # Stratum A: N = 100, y = 1, 0, 1, 1; stratum B: N = 300, y = 0, 0, 1, 0, 0, 1
    return pd.DataFrame(
        {
            "authority": ["A"] * 4 + ["B"] * 6,
            "y": [1, 0, 1, 1, 0, 0, 1, 0, 0, 1],
            "design_weight": [25.0] * 4 + [50.0] * 6,
        }
    )


def test_stratified_proportion_by_hand(two_strata):
    # Cochran (1977) eq. 5.1 and 5.6, worked by hand:
    # mean = 0.25 x 0.75 + 0.75 x 1/3 = 0.4375
    # V = 0.25^2 (1 - 4/100) 0.25/4 + 0.75^2 (1 - 6/300) (4/15)/6 = 0.00375 + 0.0245
    est = survey.estimate(two_strata, "y")
    assert est.estimate == pytest.approx(0.4375)
    assert est.se == pytest.approx(np.sqrt(0.02825))
    assert (est.n, est.population, est.strata) == (10, 400, 2)
    total = survey.estimate(two_strata, "y", kind="total")
    assert total.estimate == pytest.approx(175.0)
    assert total.se == pytest.approx(400 * np.sqrt(0.02825))


def test_population_argument_equals_weights(two_strata):
    a = survey.estimate(two_strata, "y")
    b = survey.estimate(
        two_strata.drop(columns="design_weight"), "y", population={"A": 100, "B": 300}
    )
    assert a == b


def test_errors(two_strata):
    bad = two_strata.assign(y=[2] + [0] * 9)
    with pytest.raises(DataError, match="0/1") as err:
        survey.estimate(bad, "y")
    assert err.value.rows == [1]
    with pytest.raises(DataError, match="fewer than two"):
        survey.estimate(two_strata.iloc[3:], "y")
    with pytest.raises(DataError, match="kind"):
        survey.estimate(two_strata, "y", kind="median")


def test_random_selection_intervals_cover(cases):
    """95% intervals from stratified random samples cover the truth about 95% of the time."""
    counts = synthetic.authority_counts().set_index("authority")
    population = synthetic.population_like(cases, counts["lac_10_plus"], rng=3)
    population["far"] = population["distance_miles"] > 100
    plan = sampling.design(counts.reset_index())
    study = sampling.selection_study(
        population, plan, ["far"], reps=150, methods=("random",), rng=5
    )
    assert abs(study["error"].mean()) < 0.5  # unbiased, in percentage points
    assert 0.90 <= study["ci_covers"].mean() <= 0.99


def test_selection_keeps_weights(cases):
    counts = synthetic.authority_counts()
    plan = sampling.design(counts)
    population = synthetic.population_like(
        cases, counts.set_index("authority")["lac_10_plus"], rng=1
    )
    top = sampling.select(population, plan, method="top_cost")
    assert len(top) == plan.total
    assert (top["selection"] == "top_cost").all()
    hants = top[top["authority"] == "Hampshire"]
    assert len(hants) == 87
    assert hants["design_weight"].iloc[0] == pytest.approx(900 / 87)
    pool = population[population["authority"] == "Hampshire"]["weekly_cost"]
    assert hants["weekly_cost"].min() >= pool.sort_values().iloc[-87]
    first = sampling.select(population, plan, rng=9)
    again = sampling.select(population, plan, rng=9)
    pd.testing.assert_frame_equal(first, again)


def test_selection_study_replicates_are_select_then_estimate(cases):
    """The study's array path gives what select() and estimate() give on each replicate."""
    counts = synthetic.authority_counts()
    plan = sampling.design(counts)
    population = synthetic.population_like(
        cases, counts.set_index("authority")["lac_10_plus"], rng=2
    )
    population["far"] = population["distance_miles"] > 100
    study = sampling.selection_study(population, plan, ["far"], reps=3, rng=7)
    gen = np.random.default_rng(7)
    for rep in range(3):
        for method in sampling.SELECTION_METHODS:
            sample = sampling.select(population, plan, method=method, rng=gen)
            est = survey.estimate(sample, "far")
            row = study[(study["rep"] == rep) & (study["method"] == method)].iloc[0]
            assert row["estimate"] == pytest.approx(est.estimate, rel=1e-12)
            assert row["ci_covers"] == (est.ci_low <= row["truth"] <= est.ci_high)


def test_a_case_without_a_stratum_is_named(two_strata):
    blank = two_strata.astype({"authority": object})
    blank.loc[4, "authority"] = None
    with pytest.raises(DataError, match="every case needs a stratum") as err:
        survey.estimate(blank, "y")
    assert (err.value.column, err.value.rows) == ("authority", [5])


def test_selection_study_names_a_bad_outcome_cell(cases):
    counts = synthetic.authority_counts()
    plan = sampling.design(counts)
    population = synthetic.population_like(
        cases, counts.set_index("authority")["lac_10_plus"], rng=2
    )
    population["far"] = (population["distance_miles"] > 100).astype(float)
    population.loc[population.index[6], "far"] = 0.5
    with pytest.raises(DataError, match="'far': a proportion needs 0/1") as err:
        sampling.selection_study(population, plan, ["far"], reps=1, rng=1)
    assert (err.value.rows, err.value.values) == ([7], [0.5])
