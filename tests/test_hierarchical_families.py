"""Aggregated-count families of the hierarchical model: binomial with trials against
lme4's cbpp fit; Poisson with an exposure offset recovering simulated parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lacstats.hierarchical import HierarchicalModel

DATA = Path(__file__).parent / "data"


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
