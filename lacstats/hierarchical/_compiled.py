"""nutpie models of the hand-written log densities of ``_kernels.py``: compiled once per
machine, for every data size and structure.

:func:`collapsed_model` and :func:`full_model` pack a fit's data for
:func:`kernels.collapsed_logp` and :func:`kernels.full_logp` and return a nutpie model
whose callbacks are the kernels' C entry points (``_kernels.callback``): the machine's C
compiler builds them the first time it fits a model (about a second; numba, in several
seconds, where there is no C compiler) and they are read from the cache afterwards; a new data size, a new structure (more groups, other centred
groups, slopes, nesting) or another family compiles nothing. The sampler is nutpie's; it
stores the unconstrained draws, which :meth:`Layout.unpack` maps to the named parameters.
The initial points are PyMC's (the support point of each parameter, jittered by a uniform
draw in (-1, 1) on the unconstrained scale, as nutpie's PyMC models start).

The data of a fit reach the kernels through :func:`full_data` and :func:`collapsed_data`
(two flat arrays and a :class:`Layout`); :func:`ready` says whether this process already
has the compiled code of a kind.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from lacstats.families import Family

__all__ = ["Layout", "collapsed_data", "collapsed_model", "full_data", "full_model", "ready"]

_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where each parameter sits in the unconstrained vector, and how to map it back.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.families import POISSON
    >>> from lacstats import hierarchical
    >>> d = _example_design("poisson")
    >>> _, _, layout = hierarchical.full_data(d, POISSON, centred=np.zeros(3, bool), scales=_SCALES)
    >>> layout.n_dim  # mu, tau, 3 groups' effects
    5
    >>> layout.initial_point(1).round(2)  # PyMC's support point, jittered
    array([ 0.02,  0.9 , -0.71,  0.9 , -0.38])
    >>> draws = layout.unpack(np.zeros((2, layout.n_dim)))  # two draws at zero
    >>> draws["L"][0], draws["c"].shape
    (array([[1.]]), (2, 3, 1))
    """

    kind: str  # "collapsed" or "full"
    n_dim: int
    q: int  # varying coefficients per group (0: no groups)
    correlated: bool
    n_fixed: int = 0
    R_inv: np.ndarray | None = None
    G: int = 0
    centred: np.ndarray | None = None
    slot: np.ndarray | None = None
    outer: np.ndarray | None = None
    R: int = 0
    outer_centred: bool = False
    N: int = 0
    observation_effects: bool = False
    family: Family | None = None
    start: np.ndarray | None = None

    @property
    def n_cov(self) -> int:
        """The unconstrained parameters of the varying coefficients' covariance: ``q`` SDs,
        with their correlations when ``correlated``.

        Examples
        --------
        >>> from lacstats.hierarchical import Layout
        >>> Layout(kind="collapsed", n_dim=4, q=2, correlated=True).n_cov  # two SDs and one correlation
        3
        >>> Layout(kind="collapsed", n_dim=3, q=2, correlated=False).n_cov
        2
        """
        q = self.q
        return q * (q + 1) // 2 if self.correlated else q

    def initial_point(self, seed) -> np.ndarray:
        """PyMC's support point, jittered by U(-1, 1) on the unconstrained scale.

        Examples
        --------
        >>> import numpy as np
        >>> from lacstats.hierarchical import Layout
        >>> layout = Layout(kind="collapsed", n_dim=2, q=1, correlated=False, start=np.zeros(2))
        >>> layout.initial_point(1).round(2)
        array([0.02, 0.9 ])
        """
        gen = np.random.default_rng(seed)
        return self.start + gen.uniform(-1.0, 1.0, self.n_dim)

    def unpack(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The named parameters of unconstrained draws ``x`` (..., n_dim).

        Examples
        --------
        >>> import numpy as np
        >>> from lacstats.hierarchical import Layout
        >>> layout = Layout(kind="collapsed", n_dim=2, q=1, correlated=False)
        >>> draws = layout.unpack(np.array([[0.0, np.log(0.5)]]))  # log sigma, log tau
        >>> draws["sigma"], draws["L"]
        (array([1.]), array([[[0.5]]]))
        """
        if self.kind == "collapsed":
            return {
                "sigma": np.exp(x[..., 0]),
                "L": _cov(x[..., 1 : 1 + self.n_cov], self.q, self.correlated),
            }
        return self._unpack_full(x)

    def _unpack_full(self, x: np.ndarray) -> dict[str, np.ndarray]:
        q, qm = self.q, max(self.q, 1)
        at = 0
        theta = x[..., at : at + self.n_fixed]
        at += self.n_fixed
        out: dict[str, np.ndarray] = {}
        mu = x[..., at : at + qm]
        at += qm
        out["mu"] = mu
        if q:
            L = _cov(x[..., at : at + self.n_cov], q, self.correlated)
            at += self.n_cov
            out["L"] = L
            centre = np.repeat(mu[..., None, :], self.G, axis=-2)  # (..., G, q)
            if self.R:
                tau_r = np.exp(x[..., at])
                at += 1
                values = x[..., at : at + self.R]
                at += self.R
                r = values - mu[..., :1] if self.outer_centred else tau_r[..., None] * values
                out["tau_outer"] = tau_r
                out["r"] = r
                centre[..., 0] += r[..., self.outer]
            n_c = int(self.centred.sum())
            c = np.empty((*x.shape[:-1], self.G, q))
            z = np.empty_like(c)
            idx_c, idx_n = np.flatnonzero(self.centred), np.flatnonzero(~self.centred)
            c0 = x[..., at : at + n_c]
            at += n_c
            z[..., idx_c, 0] = (c0 - centre[..., idx_c, 0]) / L[..., None, 0, 0]
            if q > 1:
                z[..., idx_c, 1:] = x[..., at : at + n_c * (q - 1)].reshape(
                    (*x.shape[:-1], n_c, q - 1)
                )
                at += n_c * (q - 1)
            n_n = len(idx_n)
            z[..., idx_n, :] = x[..., at : at + n_n * q].reshape((*x.shape[:-1], n_n, q))
            at += n_n * q
            c = centre + np.einsum("...km,...gm->...gk", L, z)
            c[..., idx_c, 0] = c0  # exactly the sampled value
            out["c"] = c
        beta = theta @ self.R_inv.T if self.n_fixed else theta
        out["beta_fixed"] = beta
        if self.observation_effects:
            out["sigma_obs"] = np.exp(x[..., at])
            at += 1
            out["obs_z"] = x[..., at : at + self.N]
            at += self.N
        for p in self.family.parameters:
            out[p.output] = p.to_reported(np.exp(x[..., at]))
            at += 1
        return out


def _cov(u: np.ndarray, q: int, correlated: bool) -> np.ndarray:
    """L (..., q, q) from its unconstrained parameters (``_kernels._unpack_cov``)."""
    L = np.zeros((*u.shape[:-1], q, q))
    if correlated:
        rows, cols = np.tril_indices(q)
        L[..., rows, cols] = u
        diag = np.arange(q)
        L[..., diag, diag] = np.exp(L[..., diag, diag])
    else:
        diag = np.arange(q)
        L[..., diag, diag] = np.exp(u)
    return L


def _cov_start(q: int, correlated: bool, rate: float) -> np.ndarray:
    """PyMC's support point of the covariance parameters: an identity Cholesky factor
    (LKJCholeskyCov), or the exponential SDs' means."""
    if correlated:
        return np.zeros(q * (q + 1) // 2)
    return np.full(q, -np.log(rate))


# -- the models -------------------------------------------------------------------------------
def collapsed_model(stats, lam: np.ndarray, scales: dict[str, float], q: int, correlated: bool):
    """The nutpie model of the collapsed gaussian model (``_collapsed.py``) and its layout.

    Examples
    --------
    >>> import numpy as np, nutpie
    >>> from lacstats import hierarchical
    >>> from lacstats.hierarchical import _collapsed
    >>> d = _example_design("gaussian")
    >>> stats, lam = _collapsed.statistics(d), np.array([2.5**-2])
    >>> fitted, layout = hierarchical.collapsed_model(stats, lam, _SCALES, q=1, correlated=False)
    >>> trace = nutpie.sample(fitted, draws=200, tune=200, chains=1, seed=1, progress_bar=False)
    >>> sorted(layout.unpack(np.asarray(trace.posterior["x"])))  # sigma and tau
    ['L', 'sigma']
    """
    F, I, layout = collapsed_data(stats, lam, scales, q, correlated)
    return _nutpie_model("collapsed", F, I, layout), layout


def collapsed_data(stats, lam: np.ndarray, scales: dict[str, float], q: int, correlated: bool):
    """The packed data (F, I) of :func:`kernels.collapsed_logp` and the layout.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import hierarchical
    >>> from lacstats.hierarchical import _collapsed
    >>> d = _example_design("gaussian")
    >>> stats, lam = _collapsed.statistics(d), np.array([2.5**-2])
    >>> F, I, layout = hierarchical.collapsed_data(stats, lam, _SCALES, q=1, correlated=False)
    >>> grad = np.zeros(layout.n_dim)  # log sigma, log tau
    >>> float(hierarchical.collapsed_logp(layout.start, grad, F, I)) < 0, grad.shape
    (True, (2,))
    """
    # compiles or loads the kernels: when needed
    from lacstats.hierarchical import _kernels as kernels

    G, _, p = stats.szx.shape
    sd_rate, sigma_rate = 1.0 / scales["group_sd"], 1.0 / scales["sigma"]
    # the cross-products of [X y]: S_g = Z_g'[X y], T = [X y]'[X y]
    S = np.concatenate([stats.szx, stats.szy[:, :, None]], axis=2)
    T = np.block([[stats.sxx, stats.sxy[:, None]], [stats.sxy[None, :], stats.syy]])
    scalars = [float(stats.n), sd_rate, sigma_rate, scales["correlation"]]
    F, I = kernels.pack(
        [G, q, p + 1, int(correlated)], [stats.szz, S, T, lam, np.asarray(scalars)], []
    )
    start = np.concatenate([[-np.log(sigma_rate)], _cov_start(q, correlated, sd_rate)])
    layout = Layout("collapsed", len(start), q, correlated, start=start)
    return F, I, layout


def full_model(d, family: Family, **options):
    """The nutpie model of the full likelihood (``_full.py``) and its layout; ``options``
    as :func:`full_data`.

    Examples
    --------
    >>> import numpy as np, nutpie
    >>> from lacstats.families import POISSON
    >>> from lacstats import hierarchical
    >>> d = _example_design("poisson")
    >>> fitted, layout = hierarchical.full_model(d, POISSON, centred=np.ones(3, bool), scales=_SCALES)
    >>> trace = nutpie.sample(fitted, draws=200, tune=200, chains=1, seed=1, progress_bar=False)
    >>> layout.unpack(np.asarray(trace.posterior["x"]))["c"].shape  # chains, draws, groups, q
    (1, 200, 3, 1)
    """
    F, I, layout = full_data(d, family, **options)
    return _nutpie_model("full", F, I, layout), layout


def full_data(
    d,
    family: Family,
    *,
    centred: np.ndarray,
    scales: dict[str, float],
    grouped: bool = True,
    correlated: bool = True,
    outer_centred: bool = False,
    observation_effects: bool = False,
):
    """The packed data (F, I) of :func:`kernels.full_logp` and the layout: ``centred``
    says which groups are centred (``_full.centred_groups``), the rest as ``_full.build``.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.families import POISSON
    >>> from lacstats import hierarchical
    >>> d = _example_design("poisson")
    >>> F, I, layout = hierarchical.full_data(d, POISSON, centred=np.ones(3, bool), scales=_SCALES)
    >>> grad = np.zeros(layout.n_dim)
    >>> bool(np.isfinite(hierarchical.full_logp(layout.start, grad, F, I))), grad.shape
    (True, (5,))
    """
    # compiles or loads the kernels: when needed
    from lacstats.hierarchical import _kernels as kernels
    from lacstats.hierarchical._full import data_values

    values = data_values(d, grouped)
    N = len(d.y)
    q = d.q if grouped else 0
    correlated = bool(correlated and q > 1)
    n_fixed = values["R_inv"].shape[0] if "R_inv" in values else 0
    G = len(d.levels)
    centred = np.asarray(centred, dtype=bool) if grouped else np.zeros(G, dtype=bool)
    slot = np.zeros(G, dtype=np.int64)
    slot[centred] = np.arange(centred.sum())
    slot[~centred] = np.arange((~centred).sum())
    R = len(d.outer_levels) if (grouped and d.outer is not None) else 0
    outer = d.outer if R else np.zeros(G, dtype=np.int64)
    prior_sd = np.array([scales["intercept"]] + [scales["beta"]] * (q - 1 if q else 0))
    fam_prior = [
        [0.0, p.rate(scales), 0.0] if p.prior[0] == "exponential" else [1.0, *p.prior[1:]]
        for p in family.parameters
    ] or [[0.0, 0.0, 0.0]]
    group_rate = 1.0 / scales["group_sd"]
    F, I = kernels.pack(
        [
            N,
            G,
            q,
            n_fixed,
            int(correlated),
            int(R > 0),
            R,
            int(outer_centred),
            int(observation_effects),
            kernels.FAMILY_CODES[family.name],
            len(family.parameters),
            int(centred.sum()) if grouped else 0,
        ],
        [
            d.y,
            d.trials if d.trials is not None else np.zeros(0),
            d.offset if d.offset is not None else np.zeros(0),
            values.get("Q", np.zeros(0)),
            values.get("R_inv", np.zeros(0)),
            values["Z"] if grouped else np.zeros(0),
            prior_sd,
            np.asarray(fam_prior, dtype=float),
            np.array([scales["beta"], group_rate, scales["correlation"], group_rate]),
        ],
        [d.groups if grouped else np.zeros(N, dtype=np.int64), outer, slot, centred],
    )
    start = [np.zeros(n_fixed), np.zeros(max(q, 1))]
    if grouped:
        start.append(_cov_start(q, correlated, group_rate))
        if R:
            start += [[-np.log(group_rate)], np.zeros(R)]
        start.append(np.zeros(G * q))  # every group at its centre
    if observation_effects:
        start += [[-np.log(group_rate)], np.zeros(N)]
    start.append([p.start(scales) for p in family.parameters])
    start = np.concatenate([np.asarray(s, dtype=float) for s in start])
    layout = Layout(
        "full",
        len(start),
        q,
        correlated,
        n_fixed=n_fixed,
        R_inv=values.get("R_inv"),
        G=G,
        centred=centred,
        slot=slot,
        outer=outer,
        R=R,
        outer_centred=outer_centred,
        N=N,
        observation_effects=observation_effects,
        family=family,
        start=start,
    )
    return F, I, layout


def ready(kind: str) -> bool:
    """Whether this process has the callbacks of ``kind`` (``"collapsed"`` or ``"full"``)
    ready, compiled or read from the cache.

    Examples
    --------
    >>> from lacstats import hierarchical
    >>> _ = hierarchical.callback("full")
    >>> hierarchical.ready("full")
    True
    """
    import sys

    kernels = sys.modules.get("lacstats.hierarchical._kernels")
    return kernels is not None and kind in kernels._CALLBACKS


def _nutpie_model(kind: str, F: np.ndarray, I: np.ndarray, layout: Layout):
    from nutpie.compile_pymc import CompiledPyMCModel

    from lacstats.hierarchical import _kernels as kernels

    with _LOCK:
        logp, expand = kernels.callback(kind), kernels.callback("expand")
    meta = np.array([F.ctypes.data, F.size, I.ctypes.data, I.size], dtype=np.uint64)
    n = layout.n_dim
    return CompiledPyMCModel(
        dims={},
        _n_dim=n,
        _coords={},
        _shapes={"x": (n,)},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=layout.initial_point,
        shared_data={"F": F, "I": I, "meta": meta},  # kept alive with the pointers
        shared_var_keys={},
        user_data=meta,
        n_expanded=n,
        shape_info=(["x"], [slice(0, n)], [(n,)]),
        logp_func=None,
        expand_func=None,
    )


# -- the examples' data --------------------------------------------------------------------
_SCALES = {"intercept": 2.5, "beta": 2.5, "group_sd": 1.0, "sigma": 1.0, "correlation": 1.0}


def _example_design(family: str):
    """A small design of three groups (for the examples)."""
    import pandas as pd

    from lacstats.hierarchical import HierarchicalModel

    gen = np.random.default_rng(1)
    y = gen.poisson(5, 30) if family == "poisson" else gen.normal(3, 1, 30)
    data = pd.DataFrame({"y": y.astype(float), "g": np.repeat(["a", "b", "c"], 10)})
    return HierarchicalModel("y ~ 1", group="g", family=family).design(data)
