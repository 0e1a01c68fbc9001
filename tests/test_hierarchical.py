"""Bayesian hierarchical models: the radon reference, the fast path, the gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lacstats.errors import ConvergenceError, DataError
from lacstats.hierarchical import HierarchicalModel

DATA = Path(__file__).parent / "data"


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
def radon_fits(radon):
    model = {"formula": "radon ~ floor", "group": "county", "family": "lognormal"}
    fast = HierarchicalModel(**model, fast_path=True).fit(radon, rng=1, progress=False)
    full = HierarchicalModel(**model, fast_path=False).fit(radon, rng=2, progress=False)
    return fast, full


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


def test_fast_path_gives_the_same_posterior(radon_fits):
    fast, full = radon_fits
    assert fast.fast_path
    assert not full.fast_path
    a, b = fast.to_frame().set_index("term"), full.to_frame().set_index("term")
    # within Monte Carlo error: 4 standard errors of a difference of two means of ~2,000
    # effective draws each
    tolerance = 4 * np.sqrt(2 / 2000) * a["sd"]
    assert ((a["mean"] - b["mean"]).abs() <= tolerance).all()
    ga, gb = fast.group_effects(), full.group_effects()
    assert np.corrcoef(ga["mean"], gb["mean"])[0, 1] > 0.99


def test_group_effects_shrink_small_counties(radon_fits):
    fast, _ = radon_fits
    effects = fast.group_effects()
    small = effects[effects["n"] <= 3]["shrinkage"].mean()
    large = effects[effects["n"] >= 40]["shrinkage"].mean()
    assert small > 0.5 > large
    # counties whose own data outweigh the prior (n tau^2 / sigma^2 >= 1: about six or more
    # homes at tau 0.33, sigma 0.76) are centred, the rest non-centred
    centred = fast.model._centred(fast.design)
    assert 30 < centred.sum() < 50
    assert fast.design.counts[centred].min() > fast.design.counts[~centred].max() - 1
    assert fast.predict(pd.DataFrame({"floor": [0], "county": ["nowhere"]}))[0] == pytest.approx(
        np.exp(1.46 + 0.76**2 / 2), rel=0.1
    )


def test_loo_and_ppc(radon, radon_fits):
    _, full = radon_fits
    loo = full.loo()
    assert loo.elpd < 0
    assert 0 <= loo.high_pareto_k < 10  # a few influential homes, recorded not raised
    table, _fig = full.ppc(radon, rng=3)
    assert set(table["statistic"]) >= {"mean of log radon", "sd of log radon"}
    assert table["ppp"].between(0.05, 0.95).all()
    with pytest.raises(DataError, match="pointwise likelihood"):
        radon_fits[0].loo()


def test_gate_refuses_a_bad_fit(radon):
    model = HierarchicalModel("radon ~ floor", group="county", family="lognormal")
    with pytest.raises(ConvergenceError, match="convergence gate") as err:
        model.fit(radon, draws=30, tune=5, chains=2, rng=4, progress=False)
    assert not err.value.diagnostics.passed
    assert err.value.diagnostics.ess_bulk_min < 400


def test_errors_before_sampling(radon):
    with pytest.raises(DataError, match="family"):
        HierarchicalModel("radon ~ floor", family="poisson").fit(radon)
    with pytest.raises(DataError, match="positive"):
        HierarchicalModel("radon ~ floor", group="county").fit(radon.assign(radon=0.0))
    with pytest.raises(DataError, match="varying term"):
        HierarchicalModel("radon ~ floor", group="county", varying=("age",)).fit(radon)
    with pytest.raises(DataError, match="not in the data: flor"):
        HierarchicalModel("radon ~ flor", group="county").fit(radon)
