"""Gaussian and lognormal models from per-group sufficient statistics, with every
coefficient integrated out analytically.

Model on the scaled data (``_design.py``): y_g = X_g beta + Z_g b_g + e, b_g ~ N(0, Sigma),
e ~ N(0, sigma^2 I), beta ~ N(0, diag(1 / lambda)), where Z_g holds the intercept and the
varying columns of X_g and Sigma = L L' (L = diag(tau) x the Cholesky factor of the
correlation matrix, LKJ prior). Given theta = (sigma, tau, L) the data enter only through
each group's n_g, X_g'X_g, X_g'y_g and y_g'y_g (Searle, Casella and McCulloch 1992,
Variance Components, ch. 6):

  M_g = I + L' Z_g'Z_g L / sigma^2           (q x q, one Cholesky factor C_g each)
  U_g = C_g^-1 L' Z_g'X_g / sigma,  u_g = C_g^-1 L' Z_g'y_g / sigma
  H = (sum X'X - sum U_g'U_g) / sigma^2,  h = (sum X'y - sum U_g'u_g) / sigma^2
  c = (sum y'y - sum u_g'u_g) / sigma^2,   log det V = n log sigma^2 + sum log det M_g

(Woodbury's identity and the matrix determinant lemma for V_g = sigma^2 I + Z_g Sigma Z_g'),
and integrating beta out against its normal prior,

  log p(y | theta) = -1/2 [c - h'K^-1 h + log det V + log det K - sum log lambda] + const,
  K = H + diag(lambda).

NUTS samples theta only (1 + q + q(q-1)/2 numbers, whatever the number of children or
groups); beta | theta, y ~ N(K^-1 h, K^-1) and b_g | beta, theta, y ~ N(L M_g^-1 L' Z_g'r_g /
sigma^2, L M_g^-1 L') are then drawn exactly, one per posterior draw (the collapsed Gibbs
device of Liu 1994, JASA 89, 958-966). No funnel and no intercept-versus-effects ridge is
left for the sampler to meet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lacstats.hierarchical._design import Design


@dataclass(frozen=True)
class Statistics:
    """Per-group cross-products of the scaled design [1, X] and response."""

    szz: np.ndarray  # (G, q, q)  Z_g'Z_g
    szx: np.ndarray  # (G, q, p)  Z_g'X_g
    szy: np.ndarray  # (G, q)     Z_g'y_g
    sxx: np.ndarray  # (p, p)     sum X'X
    sxy: np.ndarray  # (p,)       sum X'y
    syy: float
    n: int


def statistics(d: Design) -> Statistics:
    """Sufficient statistics: one pass over the rows, sorted by group."""
    X = d.with_intercept()
    order = np.argsort(d.groups, kind="stable")
    bounds = np.searchsorted(d.groups[order], np.arange(len(d.levels) + 1))
    Xs, ys = X[order], d.y[order]
    G, p = len(d.levels), X.shape[1]
    cols = [0] + [1 + j for j in d.varying]
    sxx_g = np.empty((G, p, p))
    sxy_g = np.empty((G, p))
    for g in range(G):
        rows = slice(bounds[g], bounds[g + 1])
        sxx_g[g] = Xs[rows].T @ Xs[rows]
        sxy_g[g] = Xs[rows].T @ ys[rows]
    return Statistics(
        szz=np.ascontiguousarray(sxx_g[:, cols][:, :, cols]),
        szx=np.ascontiguousarray(sxx_g[:, cols, :]),
        szy=np.ascontiguousarray(sxy_g[:, cols]),
        sxx=X.T @ X,
        sxy=X.T @ d.y,
        syy=float(d.y @ d.y),
        n=len(d.y),
    )


def _small_cholesky(M):
    """Cholesky factors of many q x q matrices, given as nested lists of vectors: the
    element-wise form keeps the compiled graph small for q <= 3 or so."""
    import pytensor.tensor as pt

    q = len(M)
    L = [[None] * q for _ in range(q)]
    for j in range(q):
        s = M[j][j]
        for k in range(j):
            s = s - L[j][k] ** 2
        L[j][j] = pt.sqrt(s)
        for i in range(j + 1, q):
            s = M[i][j]
            for k in range(j):
                s = s - L[i][k] * L[j][k]
            L[i][j] = s / L[j][j]
    return L


def build(q: int, correlated: bool, lkj_eta: float):
    """The PyMC model of log p(theta | y); every array is a ``pm.Data`` container, so one
    compiled model serves any data with the same q (see ``_model.py``)."""
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        szz = pm.Data("szz", np.zeros((1, q, q)))
        szx = pm.Data("szx", np.zeros((1, q, 1)))
        szy = pm.Data("szy", np.zeros((1, q)))
        sxx = pm.Data("sxx", np.eye(1))
        sxy = pm.Data("sxy", np.zeros(1))
        syy = pm.Data("syy", 0.0)
        n = pm.Data("n", 0.0)
        lam = pm.Data("prior_precision", np.ones(1))
        sd_rate = pm.Data("group_sd_rate", 1.0)
        sigma_rate = pm.Data("sigma_rate", 1.0)
        sigma = pm.Exponential("sigma", sigma_rate)
        if correlated and q > 1:
            chol, _corr, _sds = pm.LKJCholeskyCov(
                "group_chol",
                eta=lkj_eta,
                n=q,
                sd_dist=pm.Exponential.dist(sd_rate, shape=q),
                compute_corr=True,
                store_in_trace=False,
            )
            L = pm.Deterministic("L", chol)
        else:
            tau = pm.Exponential("tau_", sd_rate, shape=q)
            L = pm.Deterministic("L", pt.diag(tau))
        s2 = sigma**2
        Lc = [[L[i, j] for j in range(q)] for i in range(q)]
        # B = L' Z'X, b = L' Z'y, M = I + L' Z'Z L / sigma^2, element by element
        B = [sum(Lc[i][k] * szx[:, i, :] for i in range(k, q)) for k in range(q)]
        b = [sum(Lc[i][k] * szy[:, i] for i in range(k, q)) for k in range(q)]
        AL = [
            [sum(szz[:, i, j] * Lc[j][m] for j in range(m, q)) for m in range(q)] for i in range(q)
        ]
        M = [
            [
                (1.0 if k == m else 0.0) + sum(Lc[i][k] * AL[i][m] for i in range(k, q)) / s2
                for m in range(q)
            ]
            for k in range(q)
        ]
        C = _small_cholesky(M)
        U, u = [], []
        for i in range(q):
            s, t = B[i] / sigma, b[i] / sigma
            for k in range(i):
                s = s - C[i][k][:, None] * U[k]
                t = t - C[i][k] * u[k]
            U.append(s / C[i][i][:, None])
            u.append(t / C[i][i])
        H = (sxx - sum(pt.dot(Uk.T, Uk) for Uk in U)) / s2
        h = (sxy - sum(pt.dot(Uk.T, uk) for Uk, uk in zip(U, u, strict=True))) / s2
        c = (syy - sum(pt.sum(uk**2) for uk in u)) / s2
        logdet_v = n * pt.log(s2) + 2 * sum(pt.sum(pt.log(C[i][i])) for i in range(q))
        CK = pt.linalg.cholesky(H + pt.diag(lam))
        w = pt.linalg.solve_triangular(CK, h, lower=True)
        logdet_k = 2 * pt.sum(pt.log(pt.diag(CK)))
        pm.Potential(
            "marginal_likelihood",
            -0.5 * (c - pt.sum(w**2) + logdet_v + logdet_k - pt.sum(pt.log(lam))),
        )
    return model


def data_values(
    stats: Statistics, prior_precision: np.ndarray, sd_rate: float, sigma_rate: float
) -> dict[str, np.ndarray]:
    """The values of the model's data containers."""
    return {
        "szz": stats.szz,
        "szx": stats.szx,
        "szy": stats.szy,
        "sxx": stats.sxx,
        "sxy": stats.sxy,
        "syy": np.asarray(stats.syy),
        "n": np.asarray(float(stats.n)),
        "prior_precision": np.asarray(prior_precision, dtype=float),
        "group_sd_rate": np.asarray(sd_rate, dtype=float),
        "sigma_rate": np.asarray(sigma_rate, dtype=float),
    }


def draw_coefficients(
    stats: Statistics,
    sigma: np.ndarray,
    L: np.ndarray,
    prior_precision: np.ndarray,
    gen: np.random.Generator,
    chunk: int = 250,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact draws of beta (S, p; intercept first) and b (S, G, q) given each posterior
    draw of sigma (S,) and L (S, q, q); see the module docstring."""
    S = len(sigma)
    G, q, p = stats.szx.shape
    beta = np.empty((S, p))
    b = np.empty((S, G, q))
    eye = np.eye(q)
    for start in range(0, S, chunk):
        sl = slice(start, min(start + chunk, S))
        sg, Ls = sigma[sl], L[sl]
        s2 = sg**2
        Lt = np.swapaxes(Ls, -1, -2)[:, None]  # (s, 1, q, q)
        M = eye + (Lt @ stats.szz[None] @ Ls[:, None]) / s2[:, None, None, None]
        C = np.linalg.cholesky(M)
        B = (Lt @ stats.szx[None]) / sg[:, None, None, None]  # (s, G, q, p)
        bb = (Lt @ stats.szy[None, :, :, None])[..., 0] / sg[:, None, None]
        U = np.linalg.solve(C, B)
        u = np.linalg.solve(C, bb[..., None])[..., 0]
        Uf = U.reshape(len(sg), G * q, p)
        H = (stats.sxx - np.swapaxes(Uf, 1, 2) @ Uf) / s2[:, None, None]
        h = (stats.sxy - (np.swapaxes(Uf, 1, 2) @ u.reshape(len(sg), G * q, 1))[..., 0]) / s2[
            :, None
        ]
        K = H + np.diag(prior_precision)
        CK = np.linalg.cholesky(K)
        mean = np.linalg.solve(K, h[..., None])[..., 0]
        z = gen.standard_normal(mean.shape)
        beta[sl] = mean + np.linalg.solve(np.swapaxes(CK, -1, -2), z[..., None])[..., 0]
        r = stats.szy[None] - (stats.szx[None] @ beta[sl][:, None, :, None])[..., 0]
        v = (Lt @ r[..., None])[..., 0] / s2[:, None, None]
        w = np.linalg.solve(M, v[..., None])[..., 0]
        e = gen.standard_normal(w.shape)
        w = w + np.linalg.solve(np.swapaxes(C, -1, -2), e[..., None])[..., 0]
        b[sl] = (Ls[:, None] @ w[..., None])[..., 0]
    return beta, b
