"""Stratified estimates against hand-checked arithmetic and a coverage simulation."""

from __future__ import annotations

from pathlib import Path

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


# --------------------------------------------------------------------------- calibration
# Reference: R 4.2.2, package survey 4.1-1 (Lumley), its example data `api` (California
# Academic Performance Index, written to tests/data/apiclus1.csv and apistrat.csv with
# write.csv). The printed values below are from
#   dclus1 <- svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)
#   dstrat <- svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
#   pop.types <- data.frame(stype=c("E","H","M"), Freq=c(4421,755,1018))
#   pop.schwide <- data.frame(sch.wide=c("No","Yes"), Freq=c(1072,5122))
# with sprintf("%.8f %.8f", coef(x), SE(x)) of each svymean/svytotal. The same values to
# the printed digits are in survey's own tests/api.Rout.save (644.17, 23.542; 3404940,
# 932235; post-stratified 642.31, 23.921; 3680893, 406293) and tests/rakecheck.Rout.save
# (raked by calibrate(calfun="raking"): 641.23, 23.704; 3647280, 400603).

API = Path(__file__).parent / "data"
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(API / "apiclus1.csv")


def _check(estimate, point, se):
    assert estimate.estimate == pytest.approx(point, rel=1e-9)
    assert estimate.se == pytest.approx(se, rel=1e-7)


def test_one_stage_cluster_sample_against_r_survey(apiclus1):
    design = survey.Design.from_frame(apiclus1, weights="pw", clusters="dnum", fpc="fpc")
    _check(design.mean(apiclus1["api00"]), 644.16939891, 23.54224069)  # svymean(~api00, dclus1)
    _check(design.total(apiclus1["enroll"]), 3404940.13452911, 932235.02704122)


def test_stratified_sample_against_r_survey():
    apistrat = pd.read_csv(API / "apistrat.csv")
    design = survey.Design.from_frame(apistrat, weights="pw", strata="stype", fpc="fpc")
    _check(design.mean(apistrat["api00"]), 662.28736316, 9.40894080)  # svymean(~api00, dstrat)
    _check(design.total(apistrat["enroll"]), 3687177.53243828, 114641.71610078)
    # postStratify(dstrat, ~sch.wide, pop.schwide) and calibrate(dstrat, ~sch.wide,
    # c(6194, 5122), calfun="raking") both print these; rake() itself prints SE 9.27747823,
    # because its variance projects by unweighted category means for ten rounds (survey's
    # svyrecvar, class "raking"), where calibrate regresses on the design weights
    raked = design.rake({"sch.wide": (apistrat["sch.wide"], POP_SCHWIDE)})
    _check(raked.mean(apistrat["api00"]), 662.20302945, 9.27254390)
    _check(raked.total(apistrat["enroll"]), 3689885.67765931, 125625.23333752)
    post = design.post_stratify(apistrat["sch.wide"], POP_SCHWIDE)
    _check(post.mean(apistrat["api00"]), 662.20302945, 9.27254390)
    # the stratified estimator of this module agrees with the design's
    strata = survey.estimate(
        apistrat.assign(w=apistrat["pw"]), "api00", kind="mean", strata="stype", weights="w"
    )
    assert strata.estimate == pytest.approx(662.28736316, rel=1e-9)
    assert strata.se == pytest.approx(9.40894080, rel=1e-7)


def test_post_stratification_against_r_survey(apiclus1):
    design = survey.Design.from_frame(apiclus1, weights="pw", clusters="dnum", fpc="fpc")
    post = design.post_stratify(apiclus1["stype"], POP_TYPES)  # postStratify(dclus1, ~stype, ...)
    _check(post.mean(apiclus1["api00"]), 642.31078821, 23.92048645)
    _check(post.total(apiclus1["enroll"]), 3680892.94511905, 406292.63629480)
    np.testing.assert_allclose(post.to_frame()["achieved"], [4421, 755, 1018], rtol=1e-12)


def test_raking_against_r_survey(apiclus1):
    design = survey.Design.from_frame(apiclus1, weights="pw", clusters="dnum", fpc="fpc")
    raked = design.rake(
        {"stype": (apiclus1["stype"], POP_TYPES), "sch.wide": (apiclus1["sch.wide"], POP_SCHWIDE)}
    )
    # calibrate(dclus1, ~stype+sch.wide, poptotals, calfun="raking", epsilon=1e-12), which
    # rake(..., control=list(epsilon=1e-10)) also gives: R's rake stops at epsilon = 1 by
    # default, 641.23024686 and a total of 3647300, before the margins are met
    _check(raked.mean(apiclus1["api00"]), 641.23032093, 23.70361689)
    _check(raked.total(apiclus1["enroll"]), 3647280.14806518, 400603.25686200)
    margins = raked.to_frame()
    np.testing.assert_allclose(margins["achieved"], margins["target"], rtol=1e-8)
    assert raked.method == "raked on stype, sch.wide"


def test_calibration_errors(apiclus1):
    design = survey.Design.from_frame(apiclus1, weights="pw", clusters="dnum", fpc="fpc")
    with pytest.raises(DataError, match="no population count for categories \\['M'\\]"):
        design.post_stratify(apiclus1["stype"], {"E": 4421, "H": 755})
    with pytest.raises(DataError, match="no cases in the sample"):
        design.post_stratify(apiclus1["stype"], {**POP_TYPES, "K": 10})
    with pytest.raises(DataError, match="share one population total"):
        design.rake(
            {
                "stype": (apiclus1["stype"], POP_TYPES),
                "w": (apiclus1["sch.wide"], {"No": 1, "Yes": 2}),
            }
        )
    with pytest.raises(DataError, match="weights must be positive"):
        survey.Design.from_frame(apiclus1.assign(pw=-1.0), weights="pw")
