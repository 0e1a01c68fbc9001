"""Bayesian hierarchical models across authorities (PyMC, nutpie, ArviZ).

``HierarchicalModel("weekly_cost ~ risk_score", group="authority", varying=("risk_score",))``
fits fixed effects from the formula, an intercept varying by group and, for the terms named
in ``varying``, slopes varying by group, correlated through an LKJ prior. Partial pooling
gives small authorities honest uncertainty and shrinks their effects towards the overall
mean.

Two ways to the posterior, chosen by the family:

- gaussian and lognormal (``_collapsed.py``): per-group sufficient statistics (n_g, X'X,
  X'y, y'y), every coefficient integrated out analytically, NUTS on the variance
  parameters only, coefficients then drawn exactly. Sampling cost depends on the number of
  groups and predictors, not on the number of rows.
- the other families (``_full.py``): the full likelihood, each group hierarchically centred
  where its data outweigh the prior and non-centred elsewhere.

Both log densities and their gradients are written by hand once (``_kernels.py``, checked
against the same models written in PyMC), compiled once per machine (in C, about a
second; by numba where there is no C compiler), for every data size, structure and
family, and sampled by nutpie (``_compiled.py``; without fast-math flags, so the bits do
not depend on whether the code was just compiled or read from the cache). Every fit reports R-hat, bulk and tail ESS and divergences and,
with ``check=True``, refuses to return a fit that fails the gate (R-hat <= 1.01, bulk and
tail ESS >= 400, no divergences), saying what to change.
Numbers are reported on the user's scale (``_result.py``).

The modules are private; every public name is here. The compiled log densities
(:func:`collapsed_logp`, :func:`full_logp` and the rest of ``_kernels.py``) are imported
on first use, so that importing this package compiles nothing.
"""

from lacstats.hierarchical._compiled import (
    Layout,
    collapsed_data,
    collapsed_model,
    full_data,
    full_model,
    ready,
)
from lacstats.hierarchical._model import DEFAULT_PRIORS, HierarchicalModel
from lacstats.hierarchical._result import (
    INTERVAL,
    Diagnostics,
    HierarchicalResult,
    PosteriorPredictiveCheck,
    diagnostics,
)

#: The names of ``_kernels.py``, imported when first asked for (numba's functions are
#: defined then; the kernels are compiled, or read from the cache, when first called).
_KERNELS = (
    "FAMILY_CODES",
    "Callback",
    "backend",
    "callback",
    "collapsed_logp",
    "full_logp",
    "pack",
)

__all__ = [
    "DEFAULT_PRIORS",
    "FAMILY_CODES",
    "INTERVAL",
    "Callback",
    "Diagnostics",
    "HierarchicalModel",
    "HierarchicalResult",
    "Layout",
    "PosteriorPredictiveCheck",
    "backend",
    "callback",
    "collapsed_data",
    "collapsed_logp",
    "collapsed_model",
    "diagnostics",
    "full_data",
    "full_logp",
    "full_model",
    "pack",
    "ready",
]


def __getattr__(name: str):
    if name in _KERNELS:
        from lacstats.hierarchical import _kernels

        return getattr(_kernels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
