"""Bayesian hierarchical models across authorities (PyMC, nutpie, ArviZ).

``HierarchicalModel("weekly_cost ~ risk_score", group="authority", varying=("risk_score",))``
fits fixed effects from the formula, an intercept varying by group and, for the terms named
in ``varying``, slopes varying by group, correlated through an LKJ prior. Partial pooling
gives small authorities honest uncertainty and shrinks their effects towards the overall
mean.

Two ways to the posterior, chosen by the family:

- gaussian and lognormal (``collapsed.py``): per-group sufficient statistics (n_g, X'X,
  X'y, y'y), every coefficient integrated out analytically, NUTS on the variance
  parameters only, coefficients then drawn exactly. Sampling cost depends on the number of
  groups and predictors, not on the number of rows.
- the other families (``full.py``): the full likelihood, each group hierarchically centred
  where its data outweigh the prior and non-centred elsewhere.

Both log densities and their gradients are written by hand once (``kernels.py``, checked
against the same models written in PyMC), compiled once per machine (in C, about a
second; by numba where there is no C compiler), for every data size, structure and
family, and sampled by nutpie (``compiled.py``; without fast-math flags, so the bits do
not depend on whether the code was just compiled or read from the cache). Every fit reports R-hat, bulk and tail ESS and divergences and,
with ``check=True``, refuses to return a fit that fails the gate (R-hat <= 1.01, bulk and
tail ESS >= 400, no divergences), saying what to change.
Numbers are reported on the user's scale (``result.py``).
"""

from lacstats.hierarchical.model import DEFAULT_PRIORS, HierarchicalModel
from lacstats.hierarchical.result import (
    Diagnostics,
    HierarchicalResult,
    PosteriorPredictiveCheck,
    diagnostics,
)

__all__ = [
    "DEFAULT_PRIORS",
    "Diagnostics",
    "HierarchicalModel",
    "HierarchicalResult",
    "PosteriorPredictiveCheck",
    "diagnostics",
]
