"""The on-disk cache of compiled nutpie callbacks (``lacstats.hierarchical.compiled``): the
same draws as nutpie's own compilation, data swapped without compiling, a new process
loading both callbacks from disk, and nutpie's own path when its helpers are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from lacstats.hierarchical import compiled

# Rubin (1981), "Estimation in parallel randomized experiments", J. Educational Statistics
# 6, 377-401, Table 2: the eight schools' estimated effects and standard errors
SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SE = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])

SCRIPT = """
import hashlib, json, sys
import numpy as np, nutpie, pymc as pm
from lacstats.hierarchical.compiled import compile_model

scale = float(sys.argv[1])
with pm.Model() as model:
    y = pm.Data("y", np.array({y}))
    se = pm.Data("se", np.array({se}))
    mu = pm.Normal("mu", 0.0, scale)
    tau = pm.HalfNormal("tau", 5.0)
    z = pm.Normal("z", 0.0, 1.0, shape=8)
    pm.Normal("obs", mu + tau * z, se, observed=y)
fitted = compile_model(model)
trace = nutpie.sample(fitted, draws=100, tune=100, chains=1, seed=3, progress_bar=False)
draws = trace.posterior["mu"].values
print(json.dumps({{
    "hits": [fitted.compiled_logp_func._cache_hits, fitted.compiled_expand_func._cache_hits],
    "draws": hashlib.sha256(np.ascontiguousarray(draws).tobytes()).hexdigest(),
}}))
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


def test_same_draws_as_nutpies_own_compilation_and_data_swapped():
    import nutpie

    ours = compiled.compile_model(_schools(SCHOOLS_Y, SCHOOLS_SE))
    theirs = nutpie.compile_pymc_model(_schools(SCHOOLS_Y, SCHOOLS_SE))
    assert type(ours).__name__ == "CachedPyMCModel"
    for name, values in _draws(theirs).items():
        np.testing.assert_array_equal(_draws(ours)[name], values, err_msg=name)
    # other data of the same structure through the same callbacks: the draws of a model
    # compiled on those data from the start
    halved = SCHOOLS_Y / 2
    swapped = ours.with_data(y=halved)
    fresh = nutpie.compile_pymc_model(_schools(halved, SCHOOLS_SE))
    for name, values in _draws(fresh).items():
        np.testing.assert_array_equal(_draws(swapped)[name], values, err_msg=name)
    assert not np.array_equal(_draws(swapped)["mu"], _draws(ours)["mu"])
    with pytest.raises(ValueError, match="rank 1"):
        ours.with_data(y=np.zeros((2, 8)))
    with pytest.raises(KeyError, match="sigma"):
        ours.with_data(sigma=SCHOOLS_SE)


def test_a_new_process_loads_both_callbacks_from_disk(tmp_path):
    # a prior scale no earlier run has used makes a structure the cache has not seen
    scale = 10.0 + uuid.uuid4().int % 10**6 / 10**7
    script = tmp_path / "schools.py"
    script.write_text(SCRIPT.format(y=SCHOOLS_Y.tolist(), se=SCHOOLS_SE.tolist()))

    def run() -> dict:
        out = subprocess.run(
            [sys.executable, str(script), repr(scale)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    # the log density's graph holds the new scale: compiled and written; the expansion's
    # (the values of mu, tau and z) does not, and was read from an earlier run or the
    # other test
    assert first["hits"][0] == 0
    assert second["hits"] == [1, 1]  # read back, not compiled
    assert second["draws"] == first["draws"]


def test_nutpies_own_compilation_when_its_helpers_are_missing(monkeypatch):
    import types

    import nutpie
    from nutpie import compile_pymc

    # a nutpie whose module keeps its public names only
    monkeypatch.setattr(nutpie, "compile_pymc", types.SimpleNamespace())
    fitted = compiled.compile_model(_schools(SCHOOLS_Y, SCHOOLS_SE))
    assert type(fitted) is compile_pymc.CompiledPyMCModel
    assert _draws(fitted)["theta"].shape == (2, 150, 8)
