"""Bayesian hierarchical models against lme4: sleepstudy and radon (varying intercepts and
slopes), the sufficient-statistics path against the full likelihood, the gate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lacstats.errors import ConvergenceError, DataError
from lacstats.hierarchical import HierarchicalModel, PosteriorPredictiveCheck

DATA = Path(__file__).parent / "data"


def _quantile_rank(draws: np.ndarray, value: float) -> float:
    """Where ``value`` falls in the posterior: 0.5 is the median."""
    return float(np.mean(draws < value))


@pytest.fixture(scope="module")
def radon() -> pd.DataFrame:
    rows = []
    lines = [
        x for x in (DATA / "radon_mn.txt").read_text().splitlines() if x and not x.startswith("#")
    ]
    for county, line in enumerate(lines, start=1):
        for token in line.split():
            activity = max(round(float(np.exp(float(token.lstrip("*")))), 1), 0.1)
            rows.append((f"county{county:02d}", int(token.startswith("*")), activity))
    return pd.DataFrame(rows, columns=["county", "floor", "radon"])


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    return pd.read_csv(DATA / "sleepstudy.csv")


@pytest.fixture(scope="module")
def sleep_fit(sleepstudy):
    model = HierarchicalModel(
        "Reaction ~ Days", group="Subject", family="gaussian", varying=("Days",)
    )
    return model.fit(sleepstudy, rng=1, progress=False)


@pytest.fixture(scope="module")
def radon_fits(radon):
    model = {"formula": "radon ~ floor", "group": "county", "family": "lognormal"}
    fast = HierarchicalModel(**model).fit(radon, rng=1, progress=False)
    full = HierarchicalModel(**model, fast_path=False).fit(radon, rng=2, progress=False)
    return fast, full


@pytest.mark.slow
def test_sleepstudy_against_lme4(sleep_fit):
    # lme4 (Bates et al. 2015, JSS 67(1), section 3; ?sleepstudy):
    # lmer(Reaction ~ Days + (Days | Subject), sleepstudy) prints fixed effects 251.405 and
    # 10.467, Subject SDs 24.741 (Intercept) and 5.922 (Days), correlation 0.066, residual
    # SD 25.592 (REML; statsmodels MixedLM gives the same on tests/data/sleepstudy.csv).
    fit = sleep_fit
    assert fit.fast_path
    assert fit.diagnostics.passed
    fixed = fit.fixed_effects().set_index("term")
    assert fixed.loc["Intercept", "mean"] == pytest.approx(251.405, abs=0.25 * 6.8)
    assert fixed.loc["Days", "mean"] == pytest.approx(10.467, abs=0.25 * 1.55)
    sds = fit.variance_components().set_index("term")
    assert list(sds.index) == [
        "Subject (intercept)",
        "Subject (Days)",
        "Subject corr(intercept, Days)",
        "residual",
    ]
    # 18 subjects: the posterior of each SD is wide and right-skewed, its mean above the
    # REML estimate; lme4's value lies in the central 80% of the posterior, the residual
    # SD (180 rows) in the central 50%
    cov = fit._covariance()
    tau = np.sqrt(np.einsum("sii->si", cov))
    corr = cov[:, 0, 1] / (tau[:, 0] * tau[:, 1])
    assert 0.1 < _quantile_rank(tau[:, 0], 24.741) < 0.5
    assert 0.1 < _quantile_rank(tau[:, 1], 5.922) < 0.6
    assert 0.25 < _quantile_rank(corr, 0.066) < 0.75
    assert 0.25 < _quantile_rank(fit._draws("sigma") * fit._unit, 25.592) < 0.75
    assert sds.loc["residual", "mean"] == pytest.approx(25.592, abs=0.5)
    # subject 308's intercept and slope deviations (lme4's ranef: 2.26, 9.20)
    effects = fit.group_effects().set_index(["group", "term"])["mean"]
    assert effects[("308", "intercept")] == pytest.approx(2.26, abs=6)
    assert effects[("308", "Days")] == pytest.approx(9.20, abs=1.5)


@pytest.mark.slow
def test_radon_varying_floor_slope_against_lme4(radon):
    # Gelman and Hill (2007), section 13.1, M3 <- lmer(y ~ x + (1 + x | county)), display():
    # intercept 1.46 (se 0.05), floor -0.68 (se 0.09); county SDs 0.35 (intercept) and 0.34
    # (floor), correlation -0.34; residual SD 0.75
    fit = HierarchicalModel(
        "radon ~ floor", group="county", family="lognormal", varying=("floor",)
    ).fit(radon, rng=5, progress=False)
    assert fit.diagnostics.passed
    fixed = fit.fixed_effects().set_index("term")["mean"]
    assert fixed["Intercept"] == pytest.approx(1.46, abs=0.03)
    assert fixed["floor"] == pytest.approx(-0.68, abs=0.05)
    vc = fit.variance_components().set_index("term")["mean"]
    assert vc["county (intercept)"] == pytest.approx(0.35, abs=0.05)
    assert vc["county (floor)"] == pytest.approx(0.34, abs=0.12)
    assert vc["county corr(intercept, floor)"] == pytest.approx(-0.34, abs=0.3)
    assert vc["residual"] == pytest.approx(0.75, abs=0.02)
    # the structure (q = 2) was compiled for the sleepstudy fit or here, once
    assert fit.options["compiled_model_reused"] or fit.timings["compile"] > 0


@pytest.mark.slow
def test_radon_against_lme4(radon, radon_fits):
    # Gelman and Hill (2007), section 12.4; lme4: lmer(log(radon) ~ floor + (1 | county)):
    # intercept 1.46, floor -0.69, county SD 0.33, residual SD 0.76 (919 homes, 85 counties)
    assert (len(radon), radon["county"].nunique()) == (919, 85)
    for fit in radon_fits:
        fixed = fit.fixed_effects().set_index("term")["mean"]
        sds = fit.variance_components().set_index("term")["mean"]
        assert fixed["Intercept"] == pytest.approx(1.46, abs=0.03)
        assert fixed["floor"] == pytest.approx(-0.69, abs=0.03)
        assert sds["county (intercept)"] == pytest.approx(0.33, abs=0.04)
        assert sds["residual"] == pytest.approx(0.76, abs=0.02)
        assert fit.diagnostics.passed


@pytest.mark.slow
def test_sufficient_statistics_give_the_full_likelihood_posterior(radon_fits):
    fast, full = radon_fits
    assert fast.fast_path
    assert not full.fast_path
    assert full.options["centred_groups"] + full.options["non_centred_groups"] == 85

    def quantiles(fit):
        draws = {
            "Intercept": fit._intercept(),
            "floor": fit._betas()[:, 0],
            "tau": fit._draws("tau")[:, 0],
            "sigma": fit._draws("sigma") * fit._unit,
        }
        return {k: np.quantile(v, [0.05, 0.5, 0.95]) for k, v in draws.items()}, draws

    qa, da = quantiles(fast)
    qb, db = quantiles(full)
    for name in qa:
        sd = da[name].std()
        # Monte Carlo error of a difference of two means with >= 1,000 effective draws
        # each: 4 standard errors; tail quantiles have about twice the error of a mean
        assert abs(da[name].mean() - db[name].mean()) <= 4 * sd * np.sqrt(2 / 1000)
        assert db[name].std() == pytest.approx(sd, rel=0.1)
        assert np.abs(qa[name] - qb[name]).max() <= 8 * sd * np.sqrt(2 / 1000)
    ga, gb = fast.group_effects(), full.group_effects()
    assert np.corrcoef(ga["mean"], gb["mean"])[0, 1] > 0.99
    assert np.abs(ga["sd"] - gb["sd"]).max() < 0.02


@pytest.mark.slow
def test_group_effects_shrink_small_counties(radon_fits):
    _, full = radon_fits
    effects = full.group_effects()
    small = effects[effects["n"] <= 3]["shrinkage"].mean()
    large = effects[effects["n"] >= 40]["shrinkage"].mean()
    assert small > 0.5 > large
    # counties whose own data outweigh the prior (n tau^2 / sigma^2 >= 1: about six or
    # more homes at tau 0.33, sigma 0.76) are centred, the rest non-centred
    assert 30 < full.options["centred_groups"] < 50
    new = pd.DataFrame({"floor": [0], "county": ["nowhere"]})
    assert full.predict(new)[0] == pytest.approx(np.exp(1.46 + 0.76**2 / 2), rel=0.1)


@pytest.mark.slow
def test_loo_and_ppc(radon, radon_fits):
    fast, full = radon_fits
    loos = [fast.loo(), full.loo()]
    for loo in loos:
        assert loo.elpd < 0
        assert 0 <= loo.high_pareto_k < 10  # a few influential homes, recorded not raised
    # the same model: the same expected log predictive density on the radon scale
    assert loos[0].elpd == pytest.approx(loos[1].elpd, abs=3)
    check = full.ppc(radon, rng=3)
    assert isinstance(check, PosteriorPredictiveCheck)
    table = check.to_frame()
    assert set(table["statistic"]) >= {"mean of log radon", "sd of log radon"}
    assert table["ppp"].between(0.05, 0.95).all()
    assert check.replicated.shape == (50, len(radon))
    assert check.to_dict()["label"] == "log radon"


@pytest.mark.slow
def test_result_is_frozen_and_reports_timings(sleep_fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        sleep_fit.seed = 3  # type: ignore[misc]
    assert set(sleep_fit.timings) == {"build", "compile", "sample", "post"}
    record = sleep_fit.to_dict()
    assert record["groups"] == 18
    assert record["diagnostics"]["passed"]
    assert "compile" in sleep_fit.summary()


@pytest.mark.slow
def test_compiled_model_reused_and_deterministic(sleepstudy, sleep_fit):
    model = HierarchicalModel(
        "Reaction ~ Days", group="Subject", family="gaussian", varying=("Days",)
    )
    again = model.fit(sleepstudy, rng=1, progress=False)
    assert again.options["compiled_model_reused"]
    assert again.timings["compile"] < 0.5
    pd.testing.assert_frame_equal(again.to_frame(), sleep_fit.to_frame())
    # new data of the same structure (fewer subjects) through the same compiled model
    half = sleepstudy[sleepstudy["Subject"] < 340]
    other = model.fit(half, rng=2, progress=False, check=False)
    assert other.options["compiled_model_reused"]
    assert len(other.design.levels) == 10


@pytest.mark.slow
def test_uncorrelated_option(sleepstudy):
    fit = HierarchicalModel(
        "Reaction ~ Days",
        group="Subject",
        family="gaussian",
        varying=("Days",),
        correlated=False,
    ).fit(sleepstudy, rng=4, progress=False)
    vc = fit.variance_components()
    assert "corr" in set(vc["component"])  # implied on the user's scale by centring
    assert "corr" not in fit.idata["posterior"].data_vars
    assert fit.diagnostics.passed


def test_gate_refuses_a_bad_fit_and_says_what_to_change(radon):
    model = HierarchicalModel("radon ~ floor", group="county", family="lognormal")
    with pytest.raises(ConvergenceError, match=r"convergence gate .* draws=") as err:
        model.fit(radon, draws=30, tune=5, chains=2, rng=4, progress=False)
    assert not err.value.diagnostics.passed
    assert err.value.diagnostics.ess_bulk_min < 400


def test_errors_before_sampling(radon):
    with pytest.raises(DataError, match="family"):
        HierarchicalModel("radon ~ floor", family="weibull").fit(radon)
    with pytest.raises(DataError, match="positive"):
        HierarchicalModel("radon ~ floor", group="county").fit(radon.assign(radon=0.0))
    with pytest.raises(DataError, match="varying term"):
        HierarchicalModel("radon ~ floor", group="county", varying=("age",)).fit(radon)
    with pytest.raises(DataError, match="not in the data: flor"):
        HierarchicalModel("radon ~ flor", group="county").fit(radon)
    with pytest.raises(DataError, match="trials=COLUMN"):
        HierarchicalModel("floor ~ 1", group="county", family="binomial").fit(radon)
    with pytest.raises(DataError, match="sufficient-statistics"):
        HierarchicalModel("floor ~ 1", family="bernoulli", fast_path=True).fit(radon)
    counts = radon.assign(k=2, n=1)
    with pytest.raises(DataError, match="trials must be whole numbers at least"):
        HierarchicalModel("k ~ 1", group="county", family="binomial", trials="n").fit(counts)


@pytest.mark.slow
def test_the_pymc_sampler_is_pymcs_own_nuts():
    # sampler="pymc" must not hand the model to nutpie through pm.sample's default
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(6), 20)
    data = pd.DataFrame(
        {"y": rng.normal(rng.normal(0, 1, 6)[g], 1), "g": g.astype(str), "x": rng.normal(size=120)}
    )
    fit = HierarchicalModel("y ~ x", group="g", family="gaussian", sampler="pymc").fit(
        data, rng=1, draws=200, tune=200, chains=2, progress=False, check=False
    )
    stats = fit.idata.sample_stats
    assert "tree_depth" in stats  # PyMC's NUTS statistics (nutpie names it "depth")


def test_adaptation_is_checked_before_sampling():
    with pytest.raises(DataError, match="'adaptation' must be one of diag, low_rank; got 'dense'"):
        HierarchicalModel("y ~ x", group="g", adaptation="dense").design(pd.DataFrame())
    with pytest.raises(DataError, match="nutpie's: use sampler='nutpie'"):
        HierarchicalModel("y ~ x", group="g", sampler="pymc", adaptation="low_rank").design(
            pd.DataFrame()
        )


@pytest.mark.slow
def test_low_rank_adaptation_follows_correlated_coefficients(cases):
    # A rare binary outcome (placed over 100 miles, 17% of children) on risk and setting:
    # the intercept and the commonest settings' coefficients are strongly correlated, so a
    # diagonal mass matrix mixes slowly (the authority_effects analysis needed 3,000 draws a
    # chain). nutpie's low-rank adaptation samples the same posterior with several times the
    # effective draws: the same means within Monte Carlo error, the gate passed at 1,000.
    far = cases.dropna(subset=["distance_miles"]).assign(
        far=lambda f: (f["distance_miles"] > 100).astype(float)
    )
    formula = "far ~ risk_score + C(placement_setting)"
    fits = {
        how: HierarchicalModel(formula, group="authority", family="bernoulli", adaptation=how).fit(
            far, draws=1000, tune=1000, chains=4, rng=3, check=False
        )
        for how in ("diag", "low_rank")
    }
    diag, low_rank = fits["diag"], fits["low_rank"]
    assert low_rank.options["adaptation"] == "low_rank"
    assert low_rank.diagnostics.passed
    assert low_rank.diagnostics.ess_bulk_min > 2 * diag.diagnostics.ess_bulk_min
    a, b = (f.fixed_effects().set_index("term") for f in (diag, low_rank))
    # a difference of means against both chains' Monte Carlo errors (sd / sqrt(ESS), with
    # the diagonal run's smallest ESS for every term: conservative, never loose by design)
    se = np.hypot(a["sd"], b["sd"]) / np.sqrt(diag.diagnostics.ess_bulk_min)
    assert (np.abs(a["mean"] - b["mean"]) < 4 * se).all()
