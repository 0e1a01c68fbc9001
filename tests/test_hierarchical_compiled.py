"""The on-disk cache of compiled nutpie callbacks (``lacstats.hierarchical.compiled``): the
same draws as nutpie's own compilation, data swapped without compiling, a new process
loading both callbacks from disk, and nutpie's own path when its helpers are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lacstats.hierarchical import compiled

# Rubin (1981), "Estimation in parallel randomized experiments", J. Educational Statistics
# 6, 377-401, Table 2: the eight schools' estimated effects and standard errors
SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SE = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])

SCRIPT = """
import hashlib, json
import numpy as np, pandas as pd
from lacstats.hierarchical import HierarchicalModel
import lacstats.hierarchical.model as hm

# counts of 60 authorities in 6 regions over 5 years (negative binomial with exposure,
# region and authority intercepts, authority trends): the kind of model whose draws
# differed between a first and a later run while PyTensor's fast-math flags were on
gen = np.random.default_rng(11)
effect = gen.normal(0, 0.3, 60)
rows = []
for g in range(60):
    for year in range(5):
        pop = gen.integers(20_000, 200_000)
        mu = pop * np.exp(-5 + effect[g] + 0.03 * (year - 2))
        count = gen.negative_binomial(30, 30 / (30 + mu))
        rows.append((f"R{g // 10}", f"A{g:02d}", year - 2, pop, count))
data = pd.DataFrame(rows, columns=["region", "authority", "year_c", "population", "children"])
model = HierarchicalModel(
    "children ~ year_c", group=("region", "authority"), family="negative_binomial",
    exposure="population", varying=("year_c",),
)
fit = model.fit(data, rng=3, draws=100, tune=100, chains=1, progress=False, check=False)
(fitted,) = hm._COMPILED.values()
draws = np.ascontiguousarray(fit.idata.posterior["tau"].values)
print(json.dumps({
    "hits": [fitted.compiled_logp_func._cache_hits, fitted.compiled_expand_func._cache_hits],
    "draws": hashlib.sha256(draws.tobytes()).hexdigest(),
}))
"""


def _schools(y, se):
    import pymc as pm

    with pm.Model() as model:
        y_data = pm.Data("y", y)
        se_data = pm.Data("se", se)
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfNormal("tau", 5.0)
        z = pm.Normal("z", 0.0, 1.0, shape=len(y))
        pm.Deterministic("theta", mu + tau * z)
        pm.Normal("obs", mu + tau * z, se_data, observed=y_data)
    return model


def _draws(fitted, seed=7):
    import nutpie

    trace = nutpie.sample(fitted, draws=150, tune=150, chains=2, seed=seed, progress_bar=False)
    return {name: trace.posterior[name].values for name in ("mu", "tau", "theta")}


def _nutpies_own(model):
    """nutpie's own compilation, without fast-math flags as ours (compiled.py)."""
    import nutpie
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        return nutpie.compile_pymc_model(model)


@pytest.mark.slow
def test_same_draws_as_nutpies_own_compilation_and_data_swapped():
    ours = compiled.compile_model(_schools(SCHOOLS_Y, SCHOOLS_SE))
    theirs = _nutpies_own(_schools(SCHOOLS_Y, SCHOOLS_SE))
    assert type(ours).__name__ == "CachedPyMCModel"
    for name, values in _draws(theirs).items():
        np.testing.assert_array_equal(_draws(ours)[name], values, err_msg=name)
    # other data of the same structure through the same callbacks: the draws of a model
    # compiled on those data from the start
    halved = SCHOOLS_Y / 2
    swapped = ours.with_data(y=halved)
    fresh = _nutpies_own(_schools(halved, SCHOOLS_SE))
    for name, values in _draws(fresh).items():
        np.testing.assert_array_equal(_draws(swapped)[name], values, err_msg=name)
    assert not np.array_equal(_draws(swapped)["mu"], _draws(ours)["mu"])
    with pytest.raises(ValueError, match="rank 1"):
        ours.with_data(y=np.zeros((2, 8)))
    with pytest.raises(KeyError, match="sigma"):
        ours.with_data(sigma=SCHOOLS_SE)


@pytest.mark.slow
def test_a_new_process_loads_both_callbacks_from_disk_and_draws_the_same(tmp_path):
    import pytensor

    # an empty numba cache (PyTensor's compiled C kept, to save time): the first process
    # compiles everything and writes it, the second reads it back
    flags = f"base_compiledir={tmp_path / 'cache'},compiledir={pytensor.config.compiledir}"
    script = tmp_path / "counts.py"
    script.write_text(SCRIPT)

    def run() -> dict:
        out = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore", "PYTENSOR_FLAGS": flags},
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert first["hits"] == [0, 0]  # compiled and written
    assert second["hits"] == [1, 1]  # read back, not compiled
    # the same seed, the same draws, whether the code was just compiled or read from disk
    # (with fast-math flags on, this failed: compiled.py, _exact_arithmetic)
    assert second["draws"] == first["draws"]


@pytest.mark.slow
def test_nutpies_own_compilation_when_its_helpers_are_missing(monkeypatch):
    import types

    import nutpie
    from nutpie import compile_pymc

    # a nutpie whose module keeps its public names only
    monkeypatch.setattr(nutpie, "compile_pymc", types.SimpleNamespace())
    fitted = compiled.compile_model(_schools(SCHOOLS_Y, SCHOOLS_SE))
    assert type(fitted) is compile_pymc.CompiledPyMCModel
    assert _draws(fitted)["theta"].shape == (2, 150, 8)
