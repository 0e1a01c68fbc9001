"""Hand-written log densities and gradients of the hierarchical models, compiled once per
machine and sampled by nutpie.

PyMC builds a new graph for every model and data size, and compiling it through PyTensor
and numba took 30-46 s on a fresh machine. The models here have a fixed form, so their log
densities are written once, for any data size and structure, in two functions:

- :func:`collapsed_logp` for the gaussian and lognormal models fitted from per-group
  sufficient statistics (``_collapsed.py``): the marginal likelihood of the variance
  parameters, with its gradient from the moments of the coefficients given them (Fisher's
  identity: the gradient of log p(y | theta) is the posterior mean of the gradient of log
  p(y, beta, w | theta), where w_g = L^-1 b_g is standard normal a priori);
- :func:`full_logp` for the full likelihood of every family (``_full.py``), the family's row
  density and its derivatives chosen by the codes of :data:`FAMILY_CODES`.

Both take the unconstrained parameters in the order of the PyMC models of ``_collapsed.py``
and ``_full.py``, with the same transforms (log for positive parameters; PyMC's packed
Cholesky factor with a log diagonal for an LKJ covariance), so they equal those models'
log densities up to a constant and their gradients exactly (tested). The data reach the
compiled code as two flat arrays (floats and integers) whose header gives the sizes and
where each array starts (:func:`pack`), through one pointer: nothing is compiled per model
or data size.

Each function exists twice, line for line: in C (``_kernels.c``, beside this file) and in
Python compiled by numba (below). Where the machine has a C compiler (``$CC``, else ``cc``,
``gcc`` or ``clang``), the C code is compiled the first time it is needed, in about a
second, into the cache folder (numba's: ``$NUMBA_CACHE_DIR``, else ``__pycache__`` beside
this file, else the user's cache folder), under a name that hashes the source, the
compiler's version and the flags, and read from there afterwards; without one (or with
``LACSTATS_KERNELS=numba``), numba compiles its version, once per machine, in several
seconds. :func:`backend` says which is in use. The tests check the two against each other
and both against PyMC's models.

The code is written for the compilers to do little: one-dimensional arrays indexed by
hand, one scratch array per call, no NumPy function but ``np.empty`` (each NumPy function
or array shape numba meets is another function to compile). Neither is compiled with
fast-math flags (C: ``-std=c11 -ffp-contract=off``, no ``-ffast-math``), so the same seed
gives the same bits whether the code was just compiled or read from the cache.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "FAMILY_CODES",
    "Callback",
    "backend",
    "callback",
    "collapsed_logp",
    "full_logp",
    "pack",
]

#: the row densities of :func:`full_logp`, by family name
FAMILY_CODES = {
    "gaussian": 0,
    "lognormal": 0,
    "student_t": 1,
    "gamma": 2,
    "bernoulli": 3,
    "binomial": 4,
    "poisson": 5,
    "negative_binomial": 6,
}

_JIT = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}
#: helpers called only from compiled code: no wrapper for calls from Python (less to compile)
_INNER = {**_JIT, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


# -- scalar helpers ------------------------------------------------------------------------
@numba.njit(**_INNER)
def _digamma(x):
    """psi(x) for x > 0: the recurrence up to 6, then the asymptotic series (error < 1e-13)."""
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))))
    return result + math.log(x) - 0.5 / x - series


@numba.njit(**_INNER)
def _softplus(x):
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@numba.njit(**_INNER)
def _expit(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@numba.njit(**_INNER)
def _exponential_log(u, rate):
    """An Exponential(rate) prior of exp(u), with the log Jacobian: (log density, d/du)."""
    v = math.exp(u)
    return math.log(rate) - rate * v + u, 1.0 - rate * v


# -- small dense linear algebra on flat arrays (row-major, at an offset) -------------------
@numba.njit(**_INNER)
def _cholesky(a, ao, c, co, n):
    """Lower Cholesky factor of the n x n matrix at a[ao:] into c[co:]; False if it is not
    positive definite."""
    for j in range(n):
        s = a[ao + j * n + j]
        for k in range(j):
            s -= c[co + j * n + k] * c[co + j * n + k]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        c[co + j * n + j] = d
        for i in range(j + 1, n):
            s = a[ao + i * n + j]
            for k in range(j):
                s -= c[co + i * n + k] * c[co + j * n + k]
            c[co + i * n + j] = s / d
        for i in range(j):
            c[co + i * n + j] = 0.0
    return True


@numba.njit(**_INNER)
def _forward(c, co, n, b, bo, m):
    """C^-1 B in place: C (n x n, lower) at c[co:], B (n x m) at b[bo:]."""
    for col in range(m):
        for i in range(n):
            s = b[bo + i * m + col]
            for k in range(i):
                s -= c[co + i * n + k] * b[bo + k * m + col]
            b[bo + i * m + col] = s / c[co + i * n + i]


@numba.njit(**_INNER)
def _inverse_from_cholesky(c, co, n, out, oo, o_stride, w, wo):
    """(C C')^-1 into out (rows o_stride apart), using w[wo:wo + n n] as scratch."""
    for i in range(n * n):
        w[wo + i] = 0.0
    for i in range(n):
        w[wo + i * n + i] = 1.0
    _forward(c, co, n, w, wo, n)  # C^-1
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(i, n):
                s += w[wo + k * n + i] * w[wo + k * n + j]
            out[oo + i * o_stride + j] = s
            out[oo + j * o_stride + i] = s


# -- covariance parameters: PyMC's transforms and priors -----------------------------------
@numba.njit(**_INNER)
def _unpack_cov(x, xo, q, correlated, L, lo):
    """L (q x q at L[lo:]) from the parameters at x[xo:]: PyMC's packed Cholesky factor
    (row-major lower triangle, log diagonal) when correlated, else a log diagonal."""
    for i in range(q * q):
        L[lo + i] = 0.0
    k = xo
    for i in range(q):
        if correlated:
            for j in range(i):
                L[lo + i * q + j] = x[k]
                k += 1
        L[lo + i * q + i] = math.exp(x[k])
        k += 1


@numba.njit(**_INNER)
def _cov_prior(x, xo, q, correlated, L, lo, rate, lkj_eta, dL, do, grad):
    """The prior of L (exponential SDs; LKJ(eta) correlations when correlated, as PyMC's
    LKJCholeskyCov) with the transform's log Jacobian; writes d logp / d parameters into
    grad[xo:] from dL (the likelihood's d logp / dL, lower triangle, at dL[do:]) and the
    prior's. Returns the prior's log density."""
    lp = 0.0
    k = xo
    for i in range(q):
        tau = L[lo + i * q + i]
        if not correlated:
            lp += math.log(rate) - rate * tau + x[k]
            grad[k] = (dL[do + i * q + i] - rate) * tau + 1.0
            k += 1
            continue
        sd2 = 0.0
        for j in range(i + 1):
            sd2 += L[lo + i * q + j] ** 2
        sd = math.sqrt(sd2)
        a = 2.0 * lkj_eta - 2.0 + q - i
        lp += math.log(rate) - rate * sd + a * math.log(tau) - (a + i) * math.log(sd)
        coef = (-rate - (a + i) / sd) / sd
        for j in range(i):
            grad[k] = dL[do + i * q + j] + coef * L[lo + i * q + j]
            k += 1
        lp += x[k]  # the log Jacobian of the log diagonal
        grad[k] = (dL[do + i * q + i] + coef * tau + a / tau) * tau + 1.0
        k += 1
    return lp


# -- the collapsed gaussian model ----------------------------------------------------------
@numba.njit(**_JIT)
def _collapsed_logp(x, grad, F, I):
    """The compiled body of :func:`collapsed_logp`: per group, only q x q and q x (p + 1)
    work; the sums over groups of (p + 1) x (p + 1) products run over contiguous rows."""
    G, q, p1, correlated = I[1], I[2], I[3], I[4] != 0
    p = p1 - 1
    h = I[0] + 2  # where the float arrays' (offset, length) pairs start
    o_zz, o_s, o_t, o_lam, o_sc = I[h], I[h + 2], I[h + 4], I[h + 6], I[h + 8]
    one = np.int64(1)  # not a literal: one compiled callee for every call
    n, sd_rate, sigma_rate, lkj_eta = F[o_sc], F[o_sc + 1], F[o_sc + 2], F[o_sc + 3]
    qq, qp, Gqp = q * q, q * p1, G * q * p1
    # scratch: L, A_g, C_g, B_g, U_g (then Aq_g), H, K, CK, V, v, M, Minv, GL, ZL, mw,
    # Eww, AV, the inverse's scratch
    w = np.empty(7 * qq + 2 * G * qq + 3 * Gqp + 2 * p1 * p1 + 2 * p * p + p1 + q + max(qq, p * p))
    o_L = np.int64(0)
    o_A = o_L + qq
    o_C = o_A + G * qq
    o_B = o_C + G * qq
    o_U = o_B + Gqp
    o_AV = o_U + Gqp
    o_H = o_AV + Gqp
    o_K = o_H + p1 * p1
    o_CK = o_K + p * p
    o_V = o_CK + p * p
    o_v = o_V + p1 * p1
    o_M = o_v + p1
    o_Mi = o_M + qq
    o_GL = o_Mi + qq
    o_ZL = o_GL + qq
    o_Eww = o_ZL + qq
    o_mw = o_Eww + qq
    o_tmp = o_mw + q

    sigma = math.exp(x[0])
    s2 = sigma * sigma
    _unpack_cov(x, one, q, correlated, w, o_L)
    logdet_c = 0.0
    for g in range(G):  # A_g = L'Z'Z L, B_g = L'Z'[X y], M_g = I + A_g / s2 = C_g C_g'
        zz, s_g = o_zz + g * qq, o_s + g * qp
        a_g, c_g, b_g = o_A + g * qq, o_C + g * qq, o_B + g * qp
        for i in range(q):
            for j in range(q):
                t = 0.0
                for k in range(i, q):
                    for m in range(j, q):
                        t += w[o_L + k * q + i] * F[zz + k * q + m] * w[o_L + m * q + j]
                w[a_g + i * q + j] = t
                w[o_M + i * q + j] = t / s2 + (1.0 if i == j else 0.0)
            for j in range(p1):
                w[b_g + i * p1 + j] = 0.0
            for k in range(i, q):
                lki = w[o_L + k * q + i]
                for j in range(p1):
                    w[b_g + i * p1 + j] += lki * F[s_g + k * p1 + j]
        if not _cholesky(w, o_M, w, c_g, q):
            return -np.inf
        for i in range(q):
            logdet_c += math.log(w[c_g + i * q + i])
            for j in range(p1):  # U_g = C_g^-1 B_g
                t = w[b_g + i * p1 + j]
                for k in range(i):
                    t -= w[c_g + i * q + k] * w[o_U + (g * q + k) * p1 + j]
                w[o_U + (g * q + i) * p1 + j] = t / w[c_g + i * q + i]
    for i in range(p1):  # H = T - sum_g U_g'U_g / s2 = s2 [X y]'V^-1[X y] (symmetric)
        for j in range(i, p1):
            t = 0.0
            for r in range(G * q):
                t += w[o_U + r * p1 + i] * w[o_U + r * p1 + j]
            w[o_H + i * p1 + j] = F[o_t + i * p1 + j] - t / s2
            w[o_H + j * p1 + i] = w[o_H + i * p1 + j]
    for i in range(p):
        for j in range(p):
            w[o_K + i * p + j] = w[o_H + i * p1 + j] / s2
        w[o_K + i * p + i] += F[o_lam + i]
    if not _cholesky(w, o_K, w, o_CK, p):
        return -np.inf
    for i in range(p1 * p1):
        w[o_V + i] = 0.0
    _inverse_from_cholesky(w, o_CK, p, w, o_V, p1, w, o_tmp)  # Cov(beta), padded
    quad = 0.0
    logdet_k = 0.0
    for i in range(p):
        t = 0.0
        for j in range(p):
            t += w[o_V + i * p1 + j] * w[o_H + j * p1 + p]
        w[o_v + i] = -t / s2  # -E[beta] = -K^-1 h
        quad += t * w[o_H + i * p1 + p] / s2  # h'K^-1 h
        logdet_k += 2.0 * math.log(w[o_CK + i * p + i]) - math.log(F[o_lam + i])
    w[o_v + p] = 1.0
    logp = -0.5 * ((w[o_H + p * p1 + p] - quad) / s2 + n * math.log(s2))
    logp -= 0.5 * (2.0 * logdet_c + logdet_k)

    # the gradient: E[v v'] = v v' + Cov(v), and per group E[w] = Aq_g v,
    # Cov(w, v) = Aq_g V, E[w w'] = M_g^-1 + E[w]E[w]' + Cov(w, v) Aq_g'
    es = 0.0  # E || y - X beta - Z L w ||^2
    for i in range(p1):
        for j in range(p1):
            es += F[o_t + i * p1 + j] * (w[o_V + i * p1 + j] + w[o_v + i] * w[o_v + j])
    for g in range(G):  # M_g^-1 (over C_g) and Aq_g = M_g^-1 B_g / s2 (over U_g)
        c_g, b_g = o_C + g * qq, o_B + g * qp
        _inverse_from_cholesky(w, c_g, q, w, o_Mi, q, w, o_tmp)
        for i in range(q):
            for j in range(p1):
                t = 0.0
                for k in range(q):
                    t += w[o_Mi + i * q + k] * w[b_g + k * p1 + j]
                w[o_U + (g * q + i) * p1 + j] = t / s2
        for i in range(qq):
            w[c_g + i] = w[o_Mi + i]
    for r in range(G * q):  # Cov(w, v) = Aq V, row by row
        for j in range(p1):
            t = 0.0
            for k in range(p):
                t += w[o_U + r * p1 + k] * w[o_V + k * p1 + j]
            w[o_AV + r * p1 + j] = t
    for i in range(qq):
        w[o_GL + i] = 0.0
    for g in range(G):
        zz, s_g = o_zz + g * qq, o_s + g * qp
        a_g, c_g, b_g = o_A + g * qq, o_C + g * qq, o_B + g * qp  # c_g: now M_g^-1
        for i in range(q):
            t = 0.0
            for k in range(p1):
                t += w[o_U + (g * q + i) * p1 + k] * w[o_v + k]
            w[o_mw + i] = t
        for i in range(q):
            for j in range(q):
                e = w[c_g + i * q + j] + w[o_mw + i] * w[o_mw + j]
                for k in range(p1):
                    e += w[o_AV + (g * q + i) * p1 + k] * w[o_U + (g * q + j) * p1 + k]
                w[o_Eww + i * q + j] = e
                es += w[a_g + i * q + j] * e
            for j in range(q):  # GL += S_g E[v w'], less 2 tr(B_g E[w v']) in es
                t = 0.0
                for k in range(p1):
                    ewv = w[o_AV + (g * q + j) * p1 + k] + w[o_mw + j] * w[o_v + k]
                    t += F[s_g + i * p1 + k] * ewv
                    if i == 0:
                        es -= 2.0 * w[b_g + j * p1 + k] * ewv
                w[o_GL + i * q + j] += t
        for i in range(q):  # GL -= Z'Z L E[w w']
            for j in range(q):
                t = 0.0
                for k in range(q):
                    zl = 0.0
                    for m in range(k, q):
                        zl += F[zz + i * q + m] * w[o_L + m * q + k]
                    t += zl * w[o_Eww + k * q + j]
                w[o_GL + i * q + j] -= t
    for i in range(qq):
        w[o_GL + i] /= s2
    dsigma = -n / sigma + es / (s2 * sigma)
    lp_sigma, d_sigma = _exponential_log(x[0], sigma_rate)
    grad[0] = dsigma * sigma + d_sigma
    logp += lp_sigma
    logp += _cov_prior(x, one, q, correlated, w, o_L, sd_rate, lkj_eta, w, o_GL, grad)
    return logp


# -- the full likelihood ---------------------------------------------------------------------
@numba.njit(**_INNER)
def _family_constants(code, p0, p1):
    """Terms of a family's row density that depend on its parameters only."""
    if code == 0:
        return -math.log(p0), 0.0
    if code == 1:
        nu = p1
        c0 = math.lgamma((nu + 1.0) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(nu)
        return c0 - math.log(p0), 0.5 * (
            _digamma((nu + 1.0) / 2.0) - _digamma(nu / 2.0) - 1.0 / nu
        )
    if code == 2:
        return p0 * math.log(p0) - math.lgamma(p0), math.log(p0) + 1.0 - _digamma(p0)
    if code == 6:
        phi = 1.0 / (p0 * p0)
        return -math.lgamma(phi) + phi * math.log(phi), -_digamma(phi) + math.log(phi) + 1.0
    return 0.0, 0.0


@numba.njit(**_INNER)
def _family_row(code, y, eta, n, p0, p1, c0, c1):
    """A row's sampled log density (less what depends on the data alone) and its
    derivatives with respect to eta and to the family's two parameters."""
    if code == 0:  # gaussian on the (log, scaled) response; p0 = sigma
        r = (y - eta) / p0
        return c0 - 0.5 * r * r, r / p0, (r * r - 1.0) / p0, 0.0
    if code == 1:  # student t; p0 = sigma, p1 = nu
        z = (y - eta) / p0
        t = math.log1p(z * z / p1)
        w = (p1 + 1.0) / (p1 + z * z)
        dnu = c1 + 0.5 * (w * z * z / p1 - t)
        return c0 - 0.5 * (p1 + 1.0) * t, w * z / p0, (w * z * z - 1.0) / p0, dnu
    if code == 2:  # gamma; p0 = shape
        ratio = y * math.exp(-eta)
        logy = math.log(y)
        lp = c0 - p0 * eta + (p0 - 1.0) * logy - p0 * ratio
        return lp, p0 * (ratio - 1.0), c1 - eta + logy - ratio, 0.0
    if code == 3 or code == 4:  # bernoulli (n = 1), binomial with n trials
        return y * eta - n * _softplus(eta), y - n * _expit(eta), 0.0, 0.0
    if code == 5:  # poisson
        mu = math.exp(eta)
        return y * eta - mu, y - mu, 0.0, 0.0
    # negative binomial; p0 = 1 / sqrt(phi)
    phi = 1.0 / (p0 * p0)
    lphi = math.log(phi)
    total = max(lphi, eta) + math.log1p(math.exp(-abs(lphi - eta)))  # log(phi + mu)
    share = math.exp(eta - total)
    lp = math.lgamma(y + phi) + c0 + y * eta - (y + phi) * total
    dphi = _digamma(y + phi) + c1 - total - (y + phi) * math.exp(-total)
    return lp, y - (y + phi) * share, dphi * (-2.0 / (p0 * p0 * p0)), 0.0


@numba.njit(**_JIT)
def _full_logp(x, grad, F, I):
    """The compiled body of :func:`full_logp`."""
    N, G, q, n_fixed = I[1], I[2], I[3], I[4]
    correlated, has_outer, R, outer_centred = I[5] != 0, I[6] != 0, I[7], I[8] != 0
    obs_effects, code, n_fam, n_centred = I[9] != 0, I[10], I[11], I[12]
    h = I[0] + 2  # where the float arrays' (offset, length) pairs start
    o_y, o_trials, o_offset, o_Q = I[h], I[h + 2], I[h + 4], I[h + 6]
    o_Rinv, o_Z, o_psd, o_fp, o_sc = I[h + 8], I[h + 10], I[h + 12], I[h + 14], I[h + 16]
    has_trials, has_offset = I[h + 3] > 0, I[h + 5] > 0
    beta_sd, group_rate, lkj_eta, obs_rate = F[o_sc], F[o_sc + 1], F[o_sc + 2], F[o_sc + 3]
    h = h + 2 * I[h - 1] + 1  # the int arrays' pairs
    o_g, o_outer, o_slot, o_centred = I[h], I[h + 2], I[h + 4], I[h + 6]
    grouped = q > 0
    qm = q if grouped else 1
    n_cov = (q * (q + 1)) // 2 if correlated else q
    # where each parameter sits in x
    x_mu = n_fixed
    x_cov = x_mu + qm
    x_tau = x_cov + (n_cov if grouped else 0)
    x_r = x_tau + (1 if has_outer else 0)
    x_cc = x_r + (R if has_outer else 0)
    x_ccz = x_cc + n_centred
    x_cz = x_ccz + (n_centred * (q - 1) if q > 1 else 0)
    x_sobs = x_cz + ((G - n_centred) * q if grouped else 0)
    x_obs = x_sobs + (1 if obs_effects else 0)
    x_fam = x_obs + (N if obs_effects else 0)
    # scratch: L, c, z, centre_0, r, dc, dL, dr, dz
    qq, Gq = q * q, G * q
    w = np.empty(2 * qq + 3 * Gq + G + 2 * R + q + 1)
    o_L = np.int64(0)  # not a literal (see collapsed_logp)
    o_c, o_z = qq, qq + Gq
    o_c0, o_r = o_z + Gq, o_z + Gq + G
    o_dc, o_dL = o_r + R, o_r + R + Gq
    o_dr, o_dz = o_dL + qq, o_dL + qq + R
    for k in range(grad.shape[0]):
        grad[k] = 0.0
    for k in range(o_dc, w.shape[0]):
        w[k] = 0.0
    lp = 0.0

    # priors of the fixed effects (beta = R^-1 theta) and of mu
    for j in range(n_fixed):
        s = 0.0
        for k in range(n_fixed):
            s += F[o_Rinv + j * n_fixed + k] * x[k]
        lp -= 0.5 * (s / beta_sd) ** 2
        for k in range(n_fixed):
            grad[k] -= F[o_Rinv + j * n_fixed + k] * s / (beta_sd * beta_sd)
    for k in range(qm):
        sd = F[o_psd + k]
        lp -= 0.5 * (x[x_mu + k] / sd) ** 2
        grad[x_mu + k] -= x[x_mu + k] / (sd * sd)

    # the groups' coefficients c_g = centre_g + L z_g
    tau_r = 0.0
    L00 = 1.0
    if grouped:
        _unpack_cov(x, x_cov, q, correlated, w, o_L)
        L00 = w[o_L]
        if has_outer:
            tau_r = math.exp(x[x_tau])
            v, dv = _exponential_log(x[x_tau], group_rate)
            lp += v
            grad[x_tau] += dv
            for k in range(R):
                m = x[x_r + k]
                if outer_centred:  # m_k ~ N(mu_0, tau_r), r_k = m_k - mu_0
                    d = (m - x[x_mu]) / tau_r
                    w[o_r + k] = m - x[x_mu]
                    lp += -math.log(tau_r) - 0.5 * d * d
                    grad[x_r + k] -= d / tau_r
                    grad[x_mu] += d / tau_r
                    grad[x_tau] += d * d - 1.0
                else:  # r_k = tau_r z_k, z_k ~ N(0, 1)
                    w[o_r + k] = tau_r * m
                    lp -= 0.5 * m * m
                    grad[x_r + k] -= m
        for g in range(G):
            k0 = I[o_slot + g]
            centre0 = x[x_mu]
            if has_outer:
                centre0 += w[o_r + I[o_outer + g]]
            w[o_c0 + g] = centre0
            if I[o_centred + g]:  # c_g0 ~ N(centre_0, L00); the slopes non-centred given it
                c0 = x[x_cc + k0]
                d = (c0 - centre0) / L00
                lp += -math.log(L00) - 0.5 * d * d
                grad[x_cc + k0] -= d / L00
                w[o_z + g * q] = d
                for k in range(1, q):
                    e = x[x_ccz + k0 * (q - 1) + k - 1]
                    w[o_z + g * q + k] = e
                    lp -= 0.5 * e * e
                    grad[x_ccz + k0 * (q - 1) + k - 1] -= e
            else:
                for k in range(q):
                    e = x[x_cz + k0 * q + k]
                    w[o_z + g * q + k] = e
                    lp -= 0.5 * e * e
                    grad[x_cz + k0 * q + k] -= e
            for k in range(q):
                s = centre0 if k == 0 else x[x_mu + k]
                for m in range(k + 1):
                    s += w[o_L + k * q + m] * w[o_z + g * q + m]
                w[o_c + g * q + k] = s

    # the family's parameters, then one pass over the rows
    p0 = math.exp(x[x_fam]) if n_fam > 0 else 0.0
    p1 = math.exp(x[x_fam + 1]) if n_fam > 1 else 0.0
    c0_, c1_ = _family_constants(code, p0, p1)
    sobs = 0.0
    if obs_effects:
        sobs = math.exp(x[x_sobs])
        v, dv = _exponential_log(x[x_sobs], obs_rate)
        lp += v
        grad[x_sobs] += dv
    dp0 = 0.0
    dp1 = 0.0
    dsobs = 0.0
    for i in range(N):
        eta = 0.0
        for k in range(n_fixed):
            eta += F[o_Q + i * n_fixed + k] * x[k]
        g = I[o_g + i]
        if grouped:
            for k in range(q):
                eta += F[o_Z + i * q + k] * w[o_c + g * q + k]
        else:
            eta += x[x_mu]
        if has_offset:
            eta += F[o_offset + i]
        if obs_effects:
            e = x[x_obs + i]
            eta += sobs * e
            lp -= 0.5 * e * e
        n = F[o_trials + i] if has_trials else 1.0
        v, de, d0, d1 = _family_row(code, F[o_y + i], eta, n, p0, p1, c0_, c1_)
        lp += v
        dp0 += d0
        dp1 += d1
        for k in range(n_fixed):
            grad[k] += F[o_Q + i * n_fixed + k] * de
        if grouped:
            for k in range(q):
                w[o_dc + g * q + k] += de * F[o_Z + i * q + k]
        else:
            grad[x_mu] += de
        if obs_effects:
            grad[x_obs + i] += de * sobs - x[x_obs + i]
            dsobs += de * x[x_obs + i]
    if obs_effects:
        grad[x_sobs] += dsobs * sobs
    for k in range(n_fam):  # Exponential(a) or Gamma(a, b) priors, on the log scale
        value, dvalue = (p0, dp0) if k == 0 else (p1, dp1)
        kind, a, b = F[o_fp + 3 * k], F[o_fp + 3 * k + 1], F[o_fp + 3 * k + 2]
        u = x[x_fam + k]
        if kind == 0.0:
            v, dv = _exponential_log(u, a)
        else:
            v = a * math.log(b) - math.lgamma(a) + (a - 1.0) * u - b * value + u
            dv = a - b * value
        lp += v
        grad[x_fam + k] += dvalue * value + dv
    if not grouped:
        return lp

    # back through c_g = centre_g + L z_g
    for g in range(G):
        k0 = I[o_slot + g]
        dcentre0 = 0.0
        for k in range(q):
            dck = w[o_dc + g * q + k]
            if k == 0:
                dcentre0 += dck
            grad[x_mu + k] += dck
            s = 0.0
            for m in range(k, q):
                s += w[o_L + m * q + k] * w[o_dc + g * q + m]
            w[o_dz + k] = s
            for m in range(k + 1):
                w[o_dL + k * q + m] += dck * w[o_z + g * q + m]
        if I[o_centred + g]:  # z_0 = (c0 - centre_0) / L00, and c0's prior
            z0 = w[o_z + g * q]
            dz0 = w[o_dz]
            d_centre = z0 / L00 - dz0 / L00  # prior N(c0; centre_0, L00), then z_0
            grad[x_cc + k0] += dz0 / L00
            dcentre0 += d_centre
            grad[x_mu] += d_centre
            w[o_dL] += (z0 * z0 - 1.0) / L00 - dz0 * z0 / L00
            for k in range(1, q):
                grad[x_ccz + k0 * (q - 1) + k - 1] += w[o_dz + k]
        else:
            for k in range(q):
                grad[x_cz + k0 * q + k] += w[o_dz + k]
        if has_outer:
            w[o_dr + I[o_outer + g]] += dcentre0
    if has_outer:
        for k in range(R):
            dr = w[o_dr + k]
            if outer_centred:  # r_k = m_k - mu_0
                grad[x_r + k] += dr
                grad[x_mu] -= dr
            else:
                grad[x_r + k] += tau_r * dr
                grad[x_tau] += dr * x[x_r + k] * tau_r
    lp += _cov_prior(x, x_cov, q, correlated, w, o_L, group_rate, lkj_eta, w, o_dL, grad)
    return lp


def collapsed_logp(x, grad, F, I):
    """Log density and gradient (into ``grad``) of the collapsed model (``_collapsed.py``,
    the module docstring) at the unconstrained point ``x`` = [log sigma, the covariance's
    parameters]. With v = (-beta, 1), the augmented cross-products S_g = Z_g'[X y] and
    T = [X y]'[X y], everything is a product of small matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import hierarchical
    >>> from lacstats.hierarchical import _collapsed, _compiled
    >>> d = _compiled._example_design("gaussian")
    >>> F, I, layout = hierarchical.collapsed_data(
    ...     _collapsed.statistics(d), np.array([0.16]), _compiled._SCALES, q=1, correlated=False
    ... )
    >>> grad = np.zeros(2)
    >>> logp = hierarchical.collapsed_logp(np.array([-0.1, -1.0]), grad, F, I)
    >>> h = 1e-6  # the gradient is the log density's
    >>> up = hierarchical.collapsed_logp(np.array([-0.1 + h, -1.0]), np.zeros(2), F, I)
    >>> bool(abs((up - logp) / h - grad[0]) < 1e-4)
    True
    """
    c = _library()
    if c is None:
        return _collapsed_logp(x, grad, F, I)
    x, F, I = _c_arrays(x, grad, F, I)
    return c.lacstats_collapsed_logp(x.ctypes.data, grad.ctypes.data, F.ctypes.data, I.ctypes.data)


def full_logp(x, grad, F, I):
    """Log density and gradient (into ``grad``) of the full-likelihood model of ``_full.py``
    at the unconstrained point ``x`` (its parameters in the PyMC model's order: theta, mu,
    the covariance, tau_outer and the outer effects, c_centred, c_centred_z, c_z,
    sigma_obs, obs_z, the family's).

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.families import POISSON
    >>> from lacstats import hierarchical
    >>> from lacstats.hierarchical import _compiled
    >>> d = _compiled._example_design("poisson")
    >>> F, I, layout = hierarchical.full_data(
    ...     d, POISSON, centred=np.ones(3, bool), scales=_compiled._SCALES
    ... )
    >>> x = np.array([1.5, -1.0, 1.4, 1.7, 1.6])  # mu, log tau, the groups' intercepts
    >>> grad = np.zeros(5)
    >>> logp = hierarchical.full_logp(x, grad, F, I)
    >>> h = 1e-6  # the gradient is the log density's
    >>> up = hierarchical.full_logp(x + [h, 0, 0, 0, 0], np.zeros(5), F, I)
    >>> bool(abs((up - logp) / h - grad[0]) < 1e-3)
    True
    """
    c = _library()
    if c is None:
        return _full_logp(x, grad, F, I)
    x, F, I = _c_arrays(x, grad, F, I)
    return c.lacstats_full_logp(
        x.ctypes.data, grad.ctypes.data, grad.size, F.ctypes.data, I.ctypes.data
    )


def _c_arrays(x, grad, F, I):
    """The arrays as the C functions read them (contiguous float64 / int64); ``grad`` is
    written in place, so it must already be one."""
    if not (grad.dtype == np.float64 and grad.flags.c_contiguous and grad.ndim == 1):
        raise TypeError("grad must be a contiguous one-dimensional float64 array")
    if x.shape != grad.shape:
        raise ValueError(f"x has shape {x.shape}, grad {grad.shape}")
    return (
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(F, dtype=np.float64),
        np.ascontiguousarray(I, dtype=np.int64),
    )


# -- the packed data -----------------------------------------------------------------------
# I: [S, S scalars, n_float_arrays, (offset, length) per float array, n_int_arrays,
#     (offset, length) per int array, the int arrays]; F: the float arrays, end to end.
def pack(scalars: list[int], floats: list[np.ndarray], ints: list[np.ndarray]):
    """The packed data (F, I) that :func:`collapsed_logp` and :func:`full_logp` read.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import hierarchical
    >>> F, I = hierarchical.pack([7], [np.array([1.0, 2.0]), np.eye(2)], [np.array([4, 5])])
    >>> F.tolist()
    [1.0, 2.0, 1.0, 0.0, 0.0, 1.0]
    >>> I.tolist()  # 1 scalar (7); 2 float arrays at 0 (2) and 2 (4); 1 int array at 10 (2)
    [1, 7, 2, 0, 2, 2, 4, 1, 10, 2, 4, 5]
    """
    head = [len(scalars), *scalars, len(floats)]
    offset = 0
    for a in floats:
        head += [offset, int(np.size(a))]
        offset += int(np.size(a))
    head.append(len(ints))
    at = len(head) + 2 * len(ints)
    for a in ints:
        head += [at, int(np.size(a))]
        at += int(np.size(a))
    F = np.concatenate([np.ravel(a).astype(np.float64) for a in floats] or [np.zeros(0)])
    I = np.concatenate(
        [np.asarray(head, dtype=np.int64), *(np.ravel(a).astype(np.int64) for a in ints)]
    )
    return np.ascontiguousarray(F), np.ascontiguousarray(I)


# -- the C callbacks nutpie calls ------------------------------------------------------------
@intrinsic
def _as_pointer(typingctx, address):
    """The integer ``address`` as a void pointer."""
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


_LOGP_SIGNATURE = types.int64(
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)
_EXPAND_SIGNATURE = types.int64(
    types.uint64,
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)


def _collapsed_entry(dim, x_, out_, logp_, user_data):
    meta = numba.carray(user_data, (4,), np.uint64)
    F = numba.carray(_as_pointer(meta[0]), (meta[1],), np.float64)
    I = numba.carray(_as_pointer(meta[2]), (meta[3],), np.int64)
    out = numba.carray(out_, (dim,))
    value = _collapsed_logp(numba.carray(x_, (dim,)), out, F, I)
    logp_[0] = value
    return _status(value, out)


def _full_entry(dim, x_, out_, logp_, user_data):
    meta = numba.carray(user_data, (4,), np.uint64)
    F = numba.carray(_as_pointer(meta[0]), (meta[1],), np.float64)
    I = numba.carray(_as_pointer(meta[2]), (meta[3],), np.int64)
    out = numba.carray(out_, (dim,))
    value = _full_logp(numba.carray(x_, (dim,)), out, F, I)
    logp_[0] = value
    return _status(value, out)


@numba.njit(**_INNER)
def _status(value, out):
    """nutpie's codes: 0 fine, 3 a gradient not finite, 4 a log density not finite."""
    if not math.isfinite(value):
        return 4
    for k in range(out.shape[0]):
        if not math.isfinite(out[k]):
            return 3
    return 0


def _expand_entry(dim, expanded, x_, out_, user_data):
    if expanded != dim:
        return -1
    for k in range(dim):
        out_[k] = x_[k]
    return 0


_ENTRIES = {
    "collapsed": (_collapsed_entry, _LOGP_SIGNATURE),
    "full": (_full_entry, _LOGP_SIGNATURE),
    "expand": (_expand_entry, _EXPAND_SIGNATURE),
}
_CALLBACKS: dict[str, object] = {}


@dataclasses.dataclass(frozen=True)
class Callback:
    """A compiled entry point nutpie calls: its ``address``, the ``backend`` that compiled
    it (``"c"`` or ``"numba"``) and whether it was read from the cache (``from_cache``)
    rather than compiled by this process.

    Examples
    --------
    >>> from lacstats import hierarchical
    >>> entry = hierarchical.callback("collapsed")
    >>> entry.backend == hierarchical.backend(), entry.address > 0
    (True, True)
    """

    address: int
    backend: str
    from_cache: bool
    owner: object = dataclasses.field(repr=False, compare=False, default=None)


def backend() -> str:
    """``"c"`` when the C kernels are in use (compiled, or read from the cache), else
    ``"numba"`` (no C compiler found, it failed, or ``LACSTATS_KERNELS=numba``).

    Examples
    --------
    >>> from lacstats import hierarchical
    >>> hierarchical.backend() in {"c", "numba"}
    True
    """
    return "c" if _library() is not None else "numba"


def callback(kind: str) -> Callback:
    """The C callback of ``kind`` (``"collapsed"``, ``"full"`` or ``"expand"``), ready on
    first use in a process: read from the cache when an earlier process compiled it, else
    compiled and written there (see the module's docstring for where and by what).

    Examples
    --------
    >>> from lacstats import hierarchical
    >>> full = hierarchical.callback("full")
    >>> full is hierarchical.callback("full"), full.address > 0
    (True, True)
    """
    if kind not in _ENTRIES:
        raise ValueError(f"kind must be one of {sorted(_ENTRIES)}, not {kind!r}")
    if kind not in _CALLBACKS:
        c = _library()
        if c is not None:
            entry = getattr(c, f"lacstats_{kind}_entry")
            address = ctypes.cast(entry, ctypes.c_void_p).value
            _CALLBACKS[kind] = Callback(address, "c", _C_STATE["from_cache"], owner=c)
        else:
            function, signature = _ENTRIES[kind]
            compiled = numba.cfunc(signature, cache=True, nopython=True)(function)
            _CALLBACKS[kind] = Callback(
                compiled.address, "numba", compiled._cache_hits > 0, owner=compiled
            )
    return _CALLBACKS[kind]


# -- the C kernels: compiled once per machine into the cache, then loaded ------------------
_C_SOURCE = Path(__file__).with_name("_kernels.c")
_C_FLAGS = ("-O2", "-std=c11", "-ffp-contract=off", "-fPIC", "-shared")
_C_STATE: dict[str, object] = {}
_C_LOCK = threading.Lock()


def _library() -> ctypes.CDLL | None:
    """The C kernels loaded in this process, compiled first if the cache has none; None
    where they cannot be (the reason in ``_C_STATE["reason"]``)."""
    if "library" in _C_STATE:
        return _C_STATE["library"]
    with _C_LOCK:
        if "library" not in _C_STATE:
            library, reason, from_cache = None, "LACSTATS_KERNELS=numba", False
            if os.environ.get("LACSTATS_KERNELS", "").lower() != "numba":
                library, reason, from_cache = _load_c()
            _C_STATE.update(library=library, reason=reason, from_cache=from_cache)
    return _C_STATE["library"]


def _compiler() -> tuple[list[str], str] | None:
    """The C compiler's command and its version line, or None."""
    names = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    for name in names:
        command = shlex.split(name)
        if not command or shutil.which(command[0]) is None:
            continue
        try:
            out = subprocess.run(
                [*command, "--version"], check=False, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0:
            return command, (out.stdout.splitlines() or [""])[0]
    return None


def _cache_folder() -> Path:
    """Where numba caches (its ``NUMBA_CACHE_DIR``, else ``__pycache__`` beside this file
    when it can be written, else the user's cache folder)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "lacstats-kernels"
    beside = _C_SOURCE.parent / "__pycache__"
    try:
        beside.mkdir(exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    except OSError:
        pass
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lacstats" / "kernels"


def _load_c() -> tuple[ctypes.CDLL | None, str, bool]:
    """The C kernels, compiled into the cache folder unless it has them: (the library or
    None, why not, whether it was read from the cache)."""
    if sys.platform == "win32":
        return None, "the C kernels are built on POSIX systems only", False
    compiler = _compiler()
    if compiler is None:
        return None, "no C compiler found ($CC, cc, gcc, clang)", False
    command, version = compiler
    source = _C_SOURCE.read_bytes()
    tag = hashlib.sha256(
        b"\0".join(
            [
                source,
                version.encode(),
                " ".join([*command, *_C_FLAGS]).encode(),
                platform.machine().encode(),
                sys.platform.encode(),
            ]
        )
    ).hexdigest()[:20]
    folder = _cache_folder()
    target = folder / f"kernels-{tag}.so"
    from_cache = target.is_file()
    if not from_cache:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as build:
                built = Path(build) / target.name
                out = subprocess.run(
                    [*command, *_C_FLAGS, "-o", str(built), str(_C_SOURCE), "-lm"],
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if out.returncode != 0:
                    return None, f"the C compiler failed: {out.stderr.strip()[:500]}", False
                os.replace(built, target)  # whole, or not at all: others may be reading
        except (OSError, subprocess.SubprocessError) as error:
            return None, f"the C kernels could not be built in {folder}: {error}", False
    try:
        library = ctypes.CDLL(str(target))
    except OSError as error:
        return None, f"the C kernels could not be loaded from {target}: {error}", False
    pointer = ctypes.c_void_p
    for name, extra in (("collapsed", []), ("full", [ctypes.c_int64])):
        function = getattr(library, f"lacstats_{name}_logp")
        function.restype = ctypes.c_double
        function.argtypes = [pointer, pointer, *extra, pointer, pointer]
    return library, "", from_cache
