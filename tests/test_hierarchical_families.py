"""Aggregated-count families of the hierarchical model: binomial with trials against
lme4's cbpp fit; Poisson with an exposure offset recovering simulated parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lacstats.hierarchical import HierarchicalModel

DATA = Path(__file__).parent / "data"


@pytest.mark.slow
def test_binomial_with_trials_against_lme4_cbpp():
    # lme4's ?cbpp / ?glmer example:
    # glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)
    # (Laplace, ML): (Intercept) -1.3983 (se 0.2312), period2 -0.9919 (0.3032),
    # period3 -1.1282 (0.3228), period4 -1.5797 (0.4220); herd SD 0.6421
    cbpp = pd.read_csv(DATA / "cbpp.csv").assign(
        herd=lambda f: f["herd"].astype(str), period=lambda f: f["period"].astype(str)
    )
    fit = HierarchicalModel(
        "incidence ~ C(period)", group="herd", family="binomial", trials="size"
    ).fit(cbpp, rng=7, progress=False)
    assert fit.diagnostics.passed
    fixed = fit.fixed_effects().set_index("term")
    reference = {
        "Intercept": (-1.3983, 0.2312),
        "C(period)[T.2]": (-0.9919, 0.3032),
        "C(period)[T.3]": (-1.1282, 0.3228),
        "C(period)[T.4]": (-1.5797, 0.4220),
    }
    for term, (estimate, se) in reference.items():
        assert fixed.loc[term, "mean"] == pytest.approx(estimate, abs=0.5 * se)
        assert fixed.loc[term, "sd"] == pytest.approx(se, rel=0.3)
    # 15 herds: lme4's herd SD lies in the central 80% of the posterior
    tau = fit._draws("tau")[:, 0]
    assert 0.1 < np.mean(tau < 0.6421) < 0.9
    # a new herd in period 1 gets the population-level probability (lme4's
    # predict(gm1, newdata, re.form = NA, type = "response"): 0.19808); with trials, the count
    new = pd.DataFrame({"period": ["1"], "herd": ["new"]})
    assert fit.predict(new)[0] == pytest.approx(0.198, abs=0.03)
    assert fit.predict(new.assign(size=10))[0] == pytest.approx(10 * fit.predict(new)[0])


@pytest.mark.slow
def test_poisson_with_exposure_recovers_simulated_rates():
    # 60 authorities, counts of children looked after per 10,000 with population as
    # exposure: log rate = log(60 / 10,000) + 0.1 * trend + authority effect (SD 0.3)
    gen = np.random.default_rng(3)
    groups, years = 60, 5
    effect = gen.normal(0, 0.3, groups)
    rows = []
    for g in range(groups):
        population = gen.integers(20_000, 300_000)
        for t in range(years):
            rate = 60 / 10_000 * np.exp(0.1 * (t - 2) + effect[g])
            rows.append((f"LA{g:02d}", t - 2, population, gen.poisson(rate * population)))
    data = pd.DataFrame(rows, columns=["authority", "trend", "population", "children"])
    fit = HierarchicalModel(
        "children ~ trend", group="authority", family="poisson", exposure="population"
    ).fit(data, rng=2, progress=False)
    assert fit.diagnostics.passed
    fixed = fit.fixed_effects().set_index("term")
    assert fixed.loc["Intercept", "ci_low"] < np.log(60 / 10_000) + effect.mean()
    assert np.log(60 / 10_000) + effect.mean() < fixed.loc["Intercept", "ci_high"]
    assert fixed.loc["trend", "mean"] == pytest.approx(0.1, abs=0.01)
    sd = fit.variance_components().set_index("term").loc["authority (intercept)"]
    assert sd["ci_low"] < effect.std() < sd["ci_high"]
    effects = fit.group_effects()
    assert np.corrcoef(effects["mean"], effect - effect.mean())[0, 1] > 0.98


@pytest.mark.slow
def test_negative_binomial_against_mass_glm_nb_quine():
    # R: MASS::glm.nb(Days ~ Sex + Eth + Age + Lrn, data = quine), printed:
    # (Intercept) 2.89458 (se 0.22842), SexM 0.08232 (0.15992), EthN -0.56937 (0.15333),
    # AgeF1 -0.44843 (0.23975), AgeF2 0.08808 (0.23619), AgeF3 0.35690 (0.24832),
    # LrnSL 0.29211 (0.18647); Theta 1.275 (se 0.161). A pooled model (group=None) with
    # weakly informative priors: posterior means within a third of a standard error.
    quine = pd.read_csv(DATA / "quine.csv")
    fit = HierarchicalModel(
        "Days ~ Sex + Eth + Age + Lrn", group=None, family="negative_binomial"
    ).fit(quine, rng=11, progress=False)
    assert fit.diagnostics.passed
    fixed = fit.fixed_effects().set_index("term")
    reference = {
        "Intercept": (2.89458, 0.22842),
        "Sex[T.M]": (0.08232, 0.15992),
        "Eth[T.N]": (-0.56937, 0.15333),
        "Age[T.F1]": (-0.44843, 0.23975),
        "Age[T.F2]": (0.08808, 0.23619),
        "Age[T.F3]": (0.35690, 0.24832),
        "Lrn[T.SL]": (0.29211, 0.18647),
    }
    for term, (estimate, se) in reference.items():
        assert fixed.loc[term, "mean"] == pytest.approx(estimate, abs=se / 3), term
        assert fixed.loc[term, "sd"] == pytest.approx(se, rel=0.15), term
    phi = fit.variance_components().set_index("term").loc["phi (overdispersion)"]
    assert phi["mean"] == pytest.approx(1.275, abs=0.161)


def _nested_panel(gen, regions=6, per_region=8, years=5):
    """Counts of an authorities-in-regions panel: logit p = -1.5 + 0.1 year + region
    (SD 0.4) + authority (SD 0.5) + authority slope (SD 0.15) x year."""
    truth = {"alpha": -1.5, "trend": 0.1, "region_sd": 0.4, "authority_sd": 0.5}
    r = gen.normal(0, truth["region_sd"], regions)
    rows, effects = [], []
    for k in range(regions):
        for j in range(per_region):
            a, s = gen.normal(0, truth["authority_sd"]), gen.normal(0, 0.15)
            effects.append((f"A{k}{j}", a, s))
            n = int(gen.integers(30, 400))
            for t in range(years):
                eta = truth["alpha"] + truth["trend"] * (t - 2) + r[k] + a + s * (t - 2)
                y = gen.binomial(n, 1 / (1 + np.exp(-eta)))
                rows.append((f"R{k}", f"A{k}{j}", t - 2, n, y))
    data = pd.DataFrame(rows, columns=["region", "authority", "year", "n", "y"])
    return data, truth, r, pd.DataFrame(effects, columns=["authority", "a", "s"])


def test_nested_groups_refuse_an_authority_in_two_regions():
    from lacstats.errors import DataError

    data, *_ = _nested_panel(np.random.default_rng(0), regions=2, per_region=2)
    data.loc[0, "region"] = "R1"  # A00 now in R0 and R1
    model = HierarchicalModel(
        "y ~ year", group=("region", "authority"), family="binomial", trials="n"
    )
    with pytest.raises(DataError, match="'authority' is not nested in 'region': 'A00'"):
        model.design(data)
    with pytest.raises(DataError, match="a column or two columns"):
        HierarchicalModel("y ~ 1", group=("a", "b", "c")).design(data)


@pytest.mark.slow
def test_nested_binomial_with_slopes_covers_at_nominal_rate():
    # 12 simulated panels (6 regions x 8 authorities x 5 years; the true values in
    # _nested_panel): 90% intervals of the trend, the region
    # and authority SDs, each region effect and each authority's intercept deviation
    gen = np.random.default_rng(2026)
    model = HierarchicalModel(
        "y ~ year",
        group=("region", "authority"),
        family="binomial",
        trials="n",
        varying=("year",),
    )
    hits = {"trend": [], "region_sd": [], "authority_sd": [], "region": [], "authority": []}
    for rep in range(12):
        data, truth, r, effects = _nested_panel(gen)
        fit = model.fit(data, draws=500, tune=500, chains=2, rng=rep, progress=False, check=False)
        assert fit.diagnostics.divergences <= 2
        assert fit.diagnostics.rhat_max < 1.1
        fixed = fit.fixed_effects(level=0.9).set_index("term")
        hits["trend"].append(fixed.loc["year", "ci_low"] < 0.1 < fixed.loc["year", "ci_high"])
        sds = fit.variance_components(level=0.9).set_index("term")
        for key, term in (
            ("region_sd", "region (intercept)"),
            ("authority_sd", "authority (intercept)"),
        ):
            hits[key].append(sds.loc[term, "ci_low"] < truth[key] < sds.loc[term, "ci_high"])
        regions = fit.outer_effects(level=0.9)
        hits["region"] += list((regions["ci_low"] < r) & (r < regions["ci_high"]))
        b = fit.group_effects(level=0.9).query("term == 'intercept'").set_index("group")
        a = effects.set_index("authority")["a"].reindex(b.index)
        hits["authority"] += list((b["ci_low"] < a) & (a < b["ci_high"]))
    authority = np.mean(hits["authority"])  # 576 intervals
    assert 0.84 <= authority <= 0.96
    assert 0.8 <= np.mean(hits["region"]) <= 1.0  # 72 intervals
    assert np.mean(hits["trend"]) >= 9 / 12
    assert np.mean(hits["authority_sd"]) >= 9 / 12
    assert np.mean(hits["region_sd"]) >= 9 / 12


@pytest.mark.slow
def test_observation_effects_absorb_extra_binomial_variation():
    # 40 authorities x 5 years, logit p = -1 + authority (SD 0.5) + year-to-year noise
    # (SD 0.3) with 400 trials a row: the noise SD is recovered, and without the
    # observation effects the authorities' intervals are too narrow to cover
    gen = np.random.default_rng(8)
    a = gen.normal(0, 0.5, 40)
    rows = []
    for g in range(40):
        for t in range(5):
            eta = -1 + a[g] + gen.normal(0, 0.3)
            rows.append((f"A{g:02d}", t, 400, gen.binomial(400, 1 / (1 + np.exp(-eta)))))
    data = pd.DataFrame(rows, columns=["authority", "year", "n", "y"])
    kwargs = {"group": "authority", "family": "binomial", "trials": "n"}
    with_obs = HierarchicalModel("y ~ 1", observation_effects=True, **kwargs).fit(
        data, rng=1, progress=False
    )
    sds = with_obs.variance_components(level=0.9).set_index("term")
    assert sds.loc["observation", "ci_low"] < 0.3 < sds.loc["observation", "ci_high"]
    authority = sds.loc["authority (intercept)"]
    assert authority["ci_low"] < a.std(ddof=1) < authority["ci_high"]  # the realised SD
    plain = HierarchicalModel("y ~ 1", **kwargs).fit(data, rng=1, progress=False, check=False)
    widths = [
        (fit.group_effects(0.9)["ci_high"] - fit.group_effects(0.9)["ci_low"]).mean()
        for fit in (with_obs, plain)
    ]
    assert widths[0] > 1.3 * widths[1]
    from lacstats.errors import DataError

    with pytest.raises(DataError, match="observation_effects is for the binomial and poisson"):
        HierarchicalModel("y ~ 1", family="gaussian", observation_effects=True).design(data)


@pytest.mark.parametrize("family", ["binomial", "poisson", "negative_binomial"])
def test_sampled_likelihood_is_scipys_less_a_function_of_the_data(family):
    # the sampler's likelihood term leaves out what depends on the data only (the binomial
    # coefficient, log y!); the rest must be scipy's log pmf exactly
    import types

    import pymc as pm
    import pytensor
    import pytensor.tensor as pt
    from scipy import special, stats

    from lacstats import families

    gen = np.random.default_rng(5)
    trials = gen.integers(1, 60, 40)
    y = gen.binomial(trials, 0.3) if family == "binomial" else gen.poisson(12, 40)
    eta_value = gen.normal(-0.5 if family == "binomial" else 2.4, 0.6, 40)
    d = types.SimpleNamespace(trials=trials)
    with pm.Model() as model:
        eta = pm.Data("eta", eta_value)
        families.get(family).pymc_likelihood(pm, pt, eta, pm.Data("y", y), d, {})
    point = model.initial_point()
    if family == "negative_binomial":
        point["inv_sqrt_phi_log__"] = np.log(0.4)
    (expression,) = model.replace_rvs_by_values([model.potentials[0]])
    function = pytensor.function(model.value_vars, expression, on_unused_input="ignore")
    term = float(function(*(point[v.name] for v in model.value_vars)))
    if family == "binomial":
        expected = stats.binom.logpmf(y, trials, special.expit(eta_value))
        expected -= np.log(special.comb(trials, y))
    elif family == "poisson":
        expected = stats.poisson.logpmf(y, np.exp(eta_value)) + special.gammaln(y + 1)
    else:
        phi = 1 / 0.4**2
        mu = np.exp(eta_value)
        expected = stats.nbinom.logpmf(y, phi, phi / (phi + mu)) + special.gammaln(y + 1)
    assert term == pytest.approx(expected.sum(), rel=1e-10)
