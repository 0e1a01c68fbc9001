"""The hand-written log densities (``lacstats.hierarchical._kernels``) against the same models
written in PyMC (``collapsed.build``, ``full.build``), and their compiled code: once per
machine, for any data size, read back from the cache by a later process with the same
draws; the C and numba versions of the kernels against each other."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lacstats.hierarchical import HierarchicalModel
from lacstats.hierarchical import _collapsed as collapsed
from lacstats.hierarchical import _compiled as compiled
from lacstats.hierarchical import _full as full
from lacstats.hierarchical import _kernels as kernels

# PyTensor's note that it uses NumPy's BLAS (the PyMC models are compiled in Python mode here)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pytensor.link.c.cmodule")


def _panel(seed=0, groups=12, years=4):
    """Authorities in three regions over a few years, a response for every family."""
    gen = np.random.default_rng(seed)
    effect = gen.normal(0, 0.5, groups)
    rows = []
    for g in range(groups):
        n = int(gen.integers(20, 300))
        for t in range(years):
            eta = -1 + 0.1 * (t - 1.5) + effect[g]
            p = 1 / (1 + np.exp(-eta))
            rows.append(
                (
                    f"R{g % 3}",
                    f"A{g:02d}",
                    t - 1.5,
                    gen.normal(),
                    n,
                    gen.binomial(n, p),
                    gen.poisson(n * np.exp(eta) / 5 + 1),
                    gen.negative_binomial(5, 5 / (5 + n * p)),
                    np.exp(gen.normal(eta, 0.5)),
                    float(gen.random() < p),
                    gen.normal(eta, 1.0),
                )
            )
    columns = ["region", "authority", "year", "x", "n", "k", "count", "nb", "pos", "bin", "yn"]
    data = pd.DataFrame(rows, columns=columns)
    return data.assign(expo=data["n"].astype(float))


DATA = _panel()
#: (family, formula, group, options): every family, nesting, slopes (correlated or not),
#: observation effects, offsets and trials, pooled models; "mix" centres every third group
SLOW = pytest.mark.slow  # the rest of the sweep (CI runs it); a developer's run checks two
STRUCTURES = [
    pytest.param("gaussian", "yn ~ x", "authority", {}, marks=SLOW),
    pytest.param(
        "gaussian",
        "yn ~ x + year",
        ("region", "authority"),
        {"varying": ("year", "x"), "mix": 1},
        marks=SLOW,
    ),
    pytest.param("lognormal", "pos ~ x", None, {}, marks=SLOW),
    pytest.param("student_t", "yn ~ x", "authority", {"mix": 1}, marks=SLOW),
    pytest.param(
        "gamma", "pos ~ x + year", "authority", {"varying": ("x",), "mix": 1}, marks=SLOW
    ),
    pytest.param("bernoulli", "bin ~ x", "authority", {}, marks=SLOW),
    (
        "binomial",
        "k ~ year",
        ("region", "authority"),
        {"varying": ("year",), "observation_effects": True, "trials": "n", "mix": 1},
    ),
    pytest.param(
        "binomial",
        "k ~ year",
        ("region", "authority"),
        {"varying": ("year",), "trials": "n"},
        marks=SLOW,
    ),
    pytest.param(
        "poisson",
        "count ~ year",
        ("region", "authority"),
        {"exposure": "expo", "observation_effects": True},
        marks=SLOW,
    ),
    (
        "negative_binomial",
        "nb ~ year + x",
        ("region", "authority"),
        {"varying": ("year",), "exposure": "expo", "correlated": False, "mix": 1},
    ),
    pytest.param("negative_binomial", "nb ~ x + year", None, {}, marks=SLOW),
]


def _flatten(model, x):
    """The PyMC model's point (by value variable) of the flat unconstrained vector x."""
    point, at = {}, 0
    start = model.initial_point()
    for var in model.value_vars:
        shape = np.shape(start[var.name])
        size = int(np.prod(shape))
        point[var.name] = x[at : at + size].reshape(shape)
        at += size
    assert at == len(x)
    return point


def _compare(model, kernel, F, I, layout, gen):
    """The kernel's log density differs from PyMC's by the same constant at every point
    and its gradient is PyMC's."""
    logp = model.compile_logp(mode="FAST_COMPILE")
    dlogp = model.compile_dlogp(mode="FAST_COMPILE")
    gaps = []
    for _ in range(3):
        x = layout.start + gen.normal(0, 0.4, layout.n_dim)
        grad = np.zeros(layout.n_dim)
        value = kernel(x, grad, F, I)
        point = _flatten(model, x)
        gaps.append(value - logp(point))
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-8, atol=1e-8)
    assert np.ptp(gaps) < 1e-8


@pytest.mark.parametrize(("family", "formula", "group", "options"), STRUCTURES)
def test_full_likelihood_kernel_is_the_pymc_model(family, formula, group, options):
    options = dict(options)
    mix = options.pop("mix", 0)
    model = HierarchicalModel(formula, group=group, family=family, fast_path=False, **options)
    d = model.design(DATA)
    grouped = group is not None
    centred = full.centred_groups(d, model.family, "auto", grouped)
    if mix:
        centred = np.arange(len(centred)) % 3 == 0
    gen = np.random.default_rng(1)
    for outer_centred in (False, True) if d.outer is not None else (False,):
        settings = {
            "centred": centred,
            "scales": model._scales,
            "grouped": grouped,
            "correlated": model.correlated,
            "outer_centred": outer_centred,
            "observation_effects": model.observation_effects,
        }
        pymc_model = full.build(d, model.family, **settings)
        F, I, layout = compiled.full_data(d, model.family, **settings)
        _compare(pymc_model, kernels.full_logp, F, I, layout, gen)


@pytest.mark.parametrize(
    ("varying", "correlated"),
    [
        pytest.param((), True, marks=SLOW),
        (("year",), True),
        pytest.param(("year",), False, marks=SLOW),
        pytest.param(("year", "x"), True, marks=SLOW),
    ],
)
def test_collapsed_kernel_is_the_pymc_model(varying, correlated):
    import pymc as pm

    model = HierarchicalModel(
        "yn ~ x + year",
        group="authority",
        family="gaussian",
        varying=varying,
        correlated=correlated,
    )
    d = model.design(DATA)
    stats = collapsed.statistics(d)
    lam = np.array([2.5] * (1 + len(d.names))) ** -2.0
    correlated = correlated and d.q > 1
    pymc_model = collapsed.build(d.q, correlated, 1.0)
    pm.set_data(collapsed.data_values(stats, lam, 1.0, 1.0), model=pymc_model)
    F, I, layout = compiled.collapsed_data(stats, lam, model._scales, d.q, correlated)
    _compare(pymc_model, kernels.collapsed_logp, F, I, layout, np.random.default_rng(2))


def test_draws_unpack_to_the_pymc_models_variables():
    # the named parameters of a draw are the PyMC model's deterministics at that point
    model = HierarchicalModel(
        "k ~ year",
        group=("region", "authority"),
        family="binomial",
        trials="n",
        varying=("year",),
        observation_effects=True,
    )
    d = model.design(DATA)
    centred = np.arange(len(d.levels)) % 3 == 0
    settings = {
        "centred": centred,
        "scales": model._scales,
        "grouped": True,
        "correlated": True,
        "outer_centred": True,
        "observation_effects": True,
    }
    pymc_model = full.build(d, model.family, **settings)
    _, _, layout = compiled.full_data(d, model.family, **settings)
    x = layout.start + np.random.default_rng(3).normal(0, 0.4, layout.n_dim)
    ours = layout.unpack(x[None, :])
    names = ["mu", "L", "c", "r", "tau_outer", "beta_fixed", "sigma_obs", "obs_z"]
    import pytensor

    outputs = pymc_model.replace_rvs_by_values([pymc_model[n] for n in names])
    function = pytensor.function(
        pymc_model.value_vars, outputs, mode="FAST_COMPILE", on_unused_input="ignore"
    )
    point = _flatten(pymc_model, x)
    theirs = function(*(point[v.name] for v in pymc_model.value_vars))
    for name, value in zip(names, theirs, strict=True):
        np.testing.assert_allclose(ours[name][0], value, rtol=1e-10, atol=1e-12, err_msg=name)


SCRIPT = """
import hashlib, json, sys
import numpy as np, pandas as pd
from lacstats.hierarchical import HierarchicalModel

# counts of authorities in 6 regions over 5 years (negative binomial with exposure, region and
# authority intercepts, authority trends); the number of authorities is the argument
groups = int(sys.argv[1])
gen = np.random.default_rng(11)
effect = gen.normal(0, 0.3, groups)
rows = []
for g in range(groups):
    for year in range(5):
        pop = gen.integers(20_000, 200_000)
        mu = pop * np.exp(-5 + effect[g] + 0.03 * (year - 2))
        rows.append((f"R{g % 6}", f"A{g:02d}", year - 2, pop, gen.negative_binomial(30, 30 / (30 + mu))))
data = pd.DataFrame(rows, columns=["region", "authority", "year_c", "population", "children"])
model = HierarchicalModel(
    "children ~ year_c", group=("region", "authority"), family="negative_binomial",
    exposure="population", varying=("year_c",),
)
fit = model.fit(data, rng=3, draws=100, tune=100, chains=1, progress=False, check=False)
# the collapsed gaussian model (log rate, authority intercepts and trends): the other kernel
data["log_rate"] = np.log((data["children"] + 0.5) / data["population"])
gaussian = HierarchicalModel(
    "log_rate ~ year_c", group="authority", family="gaussian", varying=("year_c",)
)
other = gaussian.fit(data, rng=3, draws=100, tune=100, chains=1, progress=False, check=False)
from lacstats.hierarchical import _kernels as kernels
draws = np.concatenate([
    np.ravel(fit.idata.posterior["tau"].values), np.ravel(other.idata.posterior["sigma"].values)
])
print(json.dumps({
    "hits": [kernels.callback(k).from_cache for k in ("full", "collapsed", "expand")],
    "backend": kernels.backend(),
    "collapsed": other.fast_path,
    "compile": fit.timings["compile"],
    "draws": hashlib.sha256(draws.tobytes()).hexdigest(),
}))
"""


@pytest.mark.slow
def test_compiled_once_then_read_back_for_any_size_with_the_same_draws(tmp_path):
    # an empty numba cache: the first process compiles and writes the callbacks, later ones
    # (with 60 or 48 authorities: another data size) read them back; the same seed and data
    # give the same bits either way
    script = tmp_path / "counts.py"
    script.write_text(SCRIPT)

    def run(groups: int) -> dict:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "NUMBA_CACHE_DIR": str(tmp_path / "c")}
        out = subprocess.run(
            [sys.executable, str(script), str(groups)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second, other = run(60), run(60), run(48)
    assert first["collapsed"]  # both kernels ran
    assert first["backend"] == "c"  # this machine has a C compiler
    assert first["hits"] == [False] * 3  # compiled and written
    assert second["hits"] == [True] * 3  # read back, not compiled
    assert other["hits"] == [True] * 3  # another size: nothing to compile
    assert second["draws"] == first["draws"]
    assert other["draws"] != first["draws"]


def test_a_new_size_and_structure_reuse_the_compiled_code():
    model = HierarchicalModel("k ~ year", group="authority", family="binomial", trials="n")
    first = model.fit(DATA, draws=50, tune=50, chains=1, rng=1, progress=False, check=False)
    fewer = DATA[DATA["authority"] < "A06"]
    again = model.fit(fewer, draws=50, tune=50, chains=1, rng=1, progress=False, check=False)
    assert again.options["compiled_model_reused"]
    assert again.timings["compile"] < 0.5
    assert len(again.design.levels) == 6 < len(first.design.levels)
    # the same seed and data give the same bits
    repeat = model.fit(DATA, draws=50, tune=50, chains=1, rng=1, progress=False, check=False)
    np.testing.assert_array_equal(
        repeat.idata.posterior["alpha"].values, first.idata.posterior["alpha"].values
    )


def _structures():
    """STRUCTURES' values, the slow ones too."""
    return [getattr(p, "values", p) for p in STRUCTURES]


@pytest.mark.slow
def test_the_c_and_numba_kernels_agree():
    # the same functions twice (_kernels.c, and _kernels.py compiled by numba where no C
    # compiler is found): the same operations in the same order, neither compiled with
    # fast-math or contraction, so the same bits at random points of every structure (and
    # so the same draws whichever compiled the kernels)
    assert kernels.backend() == "c"
    gen = np.random.default_rng(5)
    for family, formula, group, options in _structures():
        options = dict(options)
        mix = options.pop("mix", 0)
        model = HierarchicalModel(formula, group=group, family=family, **options)
        d = model.design(DATA)
        centred = np.arange(len(d.levels)) % 3 == 0 if mix else np.ones(len(d.levels), bool)
        F, I, layout = compiled.full_data(
            d,
            model.family,
            centred=centred,
            scales=model._scales,
            grouped=group is not None,
            correlated=model.correlated,
            outer_centred=d.outer is not None,
            observation_effects=model.observation_effects,
        )
        for _ in range(3):
            x = layout.start + gen.normal(0, 0.4, layout.n_dim)
            ours, theirs = np.zeros(layout.n_dim), np.zeros(layout.n_dim)
            value = kernels.full_logp(x, ours, F, I)
            assert value == kernels._full_logp(x, theirs, F, I), family
            np.testing.assert_array_equal(ours, theirs, err_msg=family)
    for varying, correlated in [((), True), (("year",), False), (("year", "x"), True)]:
        model = HierarchicalModel(
            "yn ~ x + year",
            group="authority",
            family="gaussian",
            varying=varying,
            correlated=correlated,
        )
        d = model.design(DATA)
        lam = np.full(1 + len(d.names), 2.5**-2.0)
        F, I, layout = compiled.collapsed_data(
            collapsed.statistics(d), lam, model._scales, d.q, correlated and d.q > 1
        )
        for _ in range(3):
            x = layout.start + gen.normal(0, 0.4, layout.n_dim)
            ours, theirs = np.zeros(layout.n_dim), np.zeros(layout.n_dim)
            value = kernels.collapsed_logp(x, ours, F, I)
            assert value == kernels._collapsed_logp(x, theirs, F, I)
            np.testing.assert_array_equal(ours, theirs)


def test_the_c_kernels_compile_once_into_the_cache_folder(tmp_path, monkeypatch):
    # a new cache folder: compiled (in about a second) and written; then read back
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    library, reason, from_cache = kernels._load_c()
    assert library is not None, reason
    built = list((tmp_path / "lacstats-kernels").glob("kernels-*.so"))
    assert len(built) == 1
    assert not from_cache
    again, _, from_cache = kernels._load_c()
    assert again is not None
    assert from_cache
    assert list((tmp_path / "lacstats-kernels").iterdir()) == built  # no build folder left


def test_without_a_c_compiler_the_numba_kernels_are_used(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    library, reason, _ = kernels._load_c()
    assert library is None
    assert "no C compiler" in reason
    # a compiler that answers but cannot compile: said, and nothing left in the cache
    broken = tmp_path / "broken-cc"
    broken.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "broken 1.0" && exit 0\nexit 1\n')
    broken.chmod(0o755)
    monkeypatch.setenv("CC", str(broken))
    library, reason, _ = kernels._load_c()
    assert library is None
    assert "the C compiler failed" in reason
    assert not list((tmp_path / "lacstats-kernels").glob("*.so"))
