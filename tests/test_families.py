"""One object per likelihood family (``lacstats.families``): each family's sampled density
against scipy's, its derivatives against finite differences, its PyMC graph against its
numpy form, and the models that ask it instead of comparing names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from lacstats import families, regression
from lacstats.errors import DataError
from lacstats.hierarchical import HierarchicalModel

GEN = np.random.default_rng(2024)
N = 30
TRIALS = GEN.integers(1, 40, N).astype(float)
ETA = {
    "gaussian": GEN.normal(0, 1, N),
    "lognormal": GEN.normal(0, 1, N),
    "student_t": GEN.normal(0, 1, N),
    "gamma": GEN.normal(0.2, 0.5, N),
    "bernoulli": GEN.normal(-0.3, 1, N),
    "binomial": GEN.normal(-0.8, 0.7, N),
    "poisson": GEN.normal(2.0, 0.6, N),
    "negative_binomial": GEN.normal(2.0, 0.6, N),
}
Y = {
    "gaussian": GEN.normal(0, 1.3, N),
    "lognormal": GEN.normal(0, 1.3, N),
    "student_t": GEN.standard_t(4, N),
    "gamma": GEN.gamma(3.0, 1 / 3.0, N),
    "bernoulli": GEN.integers(0, 2, N).astype(float),
    "binomial": GEN.binomial(TRIALS.astype(int), 0.3).astype(float),
    "poisson": GEN.poisson(8, N).astype(float),
    "negative_binomial": GEN.negative_binomial(3, 3 / 11, N).astype(float),
}
#: two values of each family's sampled parameters
PARAMS = {
    "gaussian": ({"sigma": 0.8}, {"sigma": 1.7}),
    "lognormal": ({"sigma": 0.8}, {"sigma": 1.7}),
    "student_t": ({"sigma": 0.8, "nu": 3.5}, {"sigma": 1.4, "nu": 12.0}),
    "gamma": ({"shape": 2.5}, {"shape": 6.0}),
    "bernoulli": ({}, {}),
    "binomial": ({}, {}),
    "poisson": ({}, {}),
    "negative_binomial": ({"inv_sqrt_phi": 0.6}, {"inv_sqrt_phi": 0.3}),
}


def _scipy(name: str, y, eta, params) -> np.ndarray:
    """scipy's full log density of y given eta on the link scale."""
    if name in ("gaussian", "lognormal"):  # lognormal: of log y, as the model samples it
        return stats.norm.logpdf(y, eta, params["sigma"])
    if name == "student_t":
        return stats.t.logpdf(y, params["nu"], eta, params["sigma"])
    if name == "gamma":
        a = params["shape"]
        return stats.gamma.logpdf(y, a, scale=np.exp(eta) / a)
    if name == "bernoulli":
        return stats.bernoulli.logpmf(y, special.expit(eta))
    if name == "binomial":
        return stats.binom.logpmf(y, TRIALS, special.expit(eta))
    if name == "poisson":
        return stats.poisson.logpmf(y, np.exp(eta))
    phi = 1 / params["inv_sqrt_phi"] ** 2
    return stats.nbinom.logpmf(y, phi, phi / (phi + np.exp(eta)))


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_sampled_density_is_scipys_less_what_depends_on_the_data_alone(name):
    family = families.get(name)
    y, eta = Y[name], ETA[name]
    # what the sampled density leaves out may depend on y (and trials) only: the
    # difference from scipy's is the same at other parameters and other eta
    gaps = []
    for params, shift in zip(PARAMS[name], (0.0, 0.37), strict=True):
        ours = family.sampled_logp(y, eta + shift, params, TRIALS)
        gaps.append(_scipy(name, y, eta + shift, params) - ours)
    np.testing.assert_allclose(gaps[0], gaps[1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_derivatives_match_finite_differences(name):
    family = families.get(name)
    y, eta, params = Y[name], ETA[name], PARAMS[name][0]
    grad = family.gradient(y, eta, params, TRIALS)
    h = 1e-6

    def logp(e, p):
        return family.sampled_logp(y, e, p, TRIALS)

    numeric = (logp(eta + h, params) - logp(eta - h, params)) / (2 * h)
    np.testing.assert_allclose(grad["eta"], numeric, rtol=1e-6, atol=1e-6)
    assert set(grad) == {"eta", *(p.name for p in family.parameters)}
    for p in family.parameters:
        up = {**params, p.name: params[p.name] + h}
        down = {**params, p.name: params[p.name] - h}
        numeric = (logp(eta, up) - logp(eta, down)) / (2 * h)
        np.testing.assert_allclose(grad[p.name], numeric, rtol=1e-5, atol=1e-6, err_msg=p.name)


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_pymc_graph_is_the_numpy_density(name):
    import types

    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    family = families.get(name)
    y, eta, params = Y[name], ETA[name], PARAMS[name][0]
    d = types.SimpleNamespace(trials=TRIALS)
    with pm.Model() as model:
        family.pymc_likelihood(pm, pt, pm.Data("eta", eta), pm.Data("y", y), d, {"sigma": 1.0})
    names = [p.name for p in family.parameters]
    assert [rv.name for rv in model.free_RVs] == names
    point = {f"{k}_log__": np.log(v) for k, v in params.items()}
    # the observed term only (the parameters' priors are the model's business); PyMC's
    # observed densities keep their constants, the potentials are lacstats' own
    if model.observed_RVs:
        expression = model.logp(vars=model.observed_RVs)
        expected = _scipy(name, y, eta, params).sum()
    else:
        (expression,) = model.replace_rvs_by_values(model.potentials)
        expected = family.sampled_logp(y, eta, params, TRIALS).sum()
    assert len(model.observed_RVs) + len(model.potentials) == 1
    function = pytensor.function(model.value_vars, expression, on_unused_input="ignore")
    value = float(function(*(point[v.name] for v in model.value_vars)))
    assert value == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_predictive_draws_have_the_families_mean(name):
    family = families.get(name)
    eta = np.full((4000, 3), 0.4 if name in ("gaussian", "lognormal", "student_t") else -0.2)
    reported = {p.output: np.full((4000, 1), p.to_reported(v)) for p, v in _params(family)}
    gen = np.random.default_rng(1)
    draws = family.draw(gen, eta, reported, TRIALS[:3])
    assert draws.shape == eta.shape
    mean = family.mean(eta, reported, TRIALS[:3] if family.needs_trials else None)
    spread = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * spread)


def _params(family):
    values = {"sigma": 0.5, "nu": 6.0, "shape": 4.0, "inv_sqrt_phi": 0.5}
    return [(p, values[p.name]) for p in family.parameters]


def test_unknown_family_is_refused_when_the_model_is_made():
    with pytest.raises(DataError, match="argument 'family' must be one of lognormal, gaussian"):
        HierarchicalModel("y ~ x", family="weibull")
    with pytest.raises(DataError, match="got 'poisson'"):
        regression.fit(
            pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 4]}), "y ~ x", family="poisson"
        )
    assert HierarchicalModel("y ~ x", family="gamma").family is families.GAMMA
    assert HierarchicalModel("y ~ x", family=families.POISSON).family is families.POISSON


def test_responses_checked_by_the_family():
    data = pd.DataFrame({"y": [1.0, 0.0, 3.0, 2.5], "g": ["a", "a", "b", "b"]})
    with pytest.raises(DataError, match="a gamma model needs positive values") as error:
        HierarchicalModel("y ~ 1", group="g", family="gamma").design(data)
    assert error.value.rows == [2]
    with pytest.raises(DataError, match="a bernoulli model needs 0/1 values"):
        HierarchicalModel("y ~ 1", group="g", family="bernoulli").design(data)
    with pytest.raises(DataError, match="a poisson model needs counts"):
        HierarchicalModel("y ~ 1", group="g", family="poisson").design(data)
    with pytest.raises(DataError, match="exposure= is for count families"):
        HierarchicalModel("y ~ 1", group="g", family="gaussian", exposure="y").design(data)
    with pytest.raises(DataError, match="trials= is for the binomial family"):
        HierarchicalModel("y ~ 1", group="g", family="poisson", trials="y").design(
            data.assign(y=[1.0, 0.0, 3.0, 2.0])
        )


def test_regression_asks_the_same_family_objects():
    # the gamma GLM with its default (log) link from the family; the lognormal model on
    # log y, with the family's positive-response check
    noise = np.array([1.1, 0.9, 1.05, 0.95, 1.1, 0.9, 1.02, 0.98])
    data = pd.DataFrame({"x": np.arange(8.0), "y": np.exp(0.3 * np.arange(8.0)) * 100 * noise})
    gamma = regression.fit(data, "y ~ x", family=families.GAMMA)
    assert (gamma.family, gamma.link) == ("gamma", "log")
    assert gamma.coefficients.set_index("term").loc["x", "estimate"] == pytest.approx(
        0.3, abs=0.02
    )
    lognormal = regression.fit(data, "y ~ x", family="lognormal")
    assert lognormal.coefficients.set_index("term").loc["x", "estimate"] == pytest.approx(
        0.3, abs=0.02
    )
    with pytest.raises(DataError, match="a lognormal model with a identity link needs positive"):
        regression.fit(data.assign(y=-data["y"]), "y ~ x", family="lognormal")
