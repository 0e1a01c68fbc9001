"""Rates that change from year to year: a local level on the log rate, quarter by quarter.

An authority's entry rate (or its rate of leaving care) in quarter ``t`` is
``exp(x_t)``, and ``x_t`` is a random walk, ``x_t = x_{t-1} + eta_t`` with ``eta_t ~
N(0, tau^2 / 4)`` (``tau``: the standard deviation of a year's change). The quarter's
count ``y_t`` in exposure ``e_t`` is seen through ``z_t = log((y_t + 1/2) / e_t)``, with
variance ``c / (y_t + 1/2) + sigma^2``: Poisson noise, inflated by ``c`` when children
enter in groups (a compound Poisson count has variance ``E[s^2] / E[s]`` times its mean),
plus over-dispersion ``sigma`` of the quarter's rate. The Kalman filter gives the level at
the origin (Harvey 1989, "Forecasting, Structural Time Series Models and the Kalman
Filter", ch. 3; the normal approximation to counts of Durbin and Koopman 2012, 9.3).

``tau`` and ``sigma`` are shared by the authorities of a region and carried as a posterior
on a grid (half-normal priors of scale :data:`PRIOR_SCALE`), so that a history of one year,
which says little about them, gives wide intervals rather than none. Each simulation draws
``(tau, sigma)`` from that posterior, the level at the origin from the filter, and the
level's path ahead month by month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "PRIOR_SCALE",
    "LocalLevel",
    "kalman_local_level",
    "level_factors",
    "local_level",
]

#: Scale of the half-normal priors on ``tau`` (a year's change in the log rate) and
#: ``sigma`` (a quarter's over-dispersion).
PRIOR_SCALE = 0.25
_TAU = np.linspace(0.0, 1.2, 25)
_SIGMA = np.linspace(0.0, 0.8, 17)


@dataclass(frozen=True)
class LocalLevel:
    """The grid posterior of ``tau`` and ``sigma`` and, at each grid point, every unit's
    filtered log level at the origin (``mean``, ``var``: grid points x units) and the log
    of its average rate over the window (``baseline``).

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.projection import local_level
    >>> fit = local_level(np.array([[20, 22, 19, 21.0]]), np.full((1, 4), 100.0))
    >>> fit.mean.shape == (len(fit.weights), 1), round(float(fit.weights.sum()), 6)
    (True, 1.0)
    """

    tau: np.ndarray
    sigma: np.ndarray
    weights: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    baseline: np.ndarray

    def posterior_mean(self) -> tuple[float, float]:
        """The posterior means of ``tau`` and ``sigma``."""
        return float(self.weights @ self.tau), float(self.weights @ self.sigma)


def local_level(counts, exposure, *, inflation=None, steps_per_year: int = 4) -> LocalLevel:
    """Fit the local level to quarterly ``counts`` and ``exposure`` (units x quarters,
    oldest first; ``steps_per_year=1`` for years); periods with no exposure are missing.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.projection import local_level
    >>> counts = np.array([[40, 38, 30, 26, 22, 20, 16, 15.0]])  # a rate that fell
    >>> fit = local_level(counts, np.full((1, 8), 100.0))
    >>> tau, sigma = fit.posterior_mean()
    >>> bool(tau > 0.2), round(float(np.exp(fit.baseline[0]) * 100), 1)
    (True, 25.9)
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    c = np.ones(len(y)) if inflation is None else np.asarray(inflation, dtype=float)
    tau, sigma = np.meshgrid(_TAU, _SIGMA, indexing="ij")
    tau, sigma = tau.ravel(), sigma.ravel()
    seen = e > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(seen, np.log((y + 0.5) / np.where(seen, e, 1.0)), 0.0)
    noise = c[:, None] / (y + 0.5)
    r = noise[None, :, :] + (sigma**2)[:, None, None]
    m, p, loglik = kalman_local_level(z, r, (tau**2 / steps_per_year)[:, None], seen)
    prior = -0.5 * (tau / PRIOR_SCALE) ** 2 - 0.5 * (sigma / PRIOR_SCALE) ** 2
    log_weights = loglik + prior
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    total_e = e.sum(axis=1)
    p = np.where(np.isinf(p), 0.0, p)
    with np.errstate(divide="ignore"):
        baseline = np.log((y.sum(axis=1) + 0.5) / np.where(total_e > 0, total_e, 1.0))
    return LocalLevel(tau=tau, sigma=sigma, weights=weights, mean=m, var=p, baseline=baseline)


def kalman_local_level(z, r, q, seen):
    """The Kalman filter of a local level with a diffuse start, for ``g`` parameter sets
    at once: observations ``z`` (units x periods; missing where ``seen`` is False) with
    variances ``r`` (g x units x periods), a step variance ``q`` (g x 1). Returns the
    filtered level's mean and variance at the last period (g x units; infinite variance
    for a unit never seen) and the log-likelihood of the observations after each unit's
    first (g), as a diffuse filter counts it.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.projection import kalman_local_level
    >>> z = np.array([[1.0, 1.2, 0.9]])
    >>> m, p, loglik = kalman_local_level(z, np.full((1, 1, 3), 0.5), np.array([[0.1]]), np.ones((1, 3), bool))
    >>> round(float(m[0, 0]), 4), round(float(p[0, 0]), 4)
    (1.0198, 0.2135)
    """
    g, n = r.shape[0], z.shape[0]
    m = np.zeros((g, n))
    p = np.full((g, n), np.inf)
    loglik = np.zeros(g)
    for t in range(z.shape[1]):
        first = np.isinf(p) & seen[None, :, t]
        later = ~np.isinf(p) & seen[None, :, t]
        ahead = p + q
        f = ahead + r[:, :, t]
        v = z[None, :, t] - m
        with np.errstate(invalid="ignore"):
            loglik += np.where(later, -0.5 * (np.log(2 * np.pi * f) + v**2 / f), 0).sum(axis=1)
            k = np.where(later, ahead / f, 0)
        m = np.where(first, z[None, :, t], m + k * v)
        p = np.where(first, r[:, :, t], np.where(later, ahead * (1 - k), ahead))
    return m, p, loglik


def level_factors(fit: LocalLevel, draws: int, months: int, generator) -> np.ndarray:
    """Each unit's rate month by month ahead relative to its average over the window,
    shape (draws, units, months): the level at the origin, its random walk, and a
    quarter's over-dispersion, drawn with ``(tau, sigma)`` from their posterior.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats.projection import level_factors, local_level
    >>> fit = local_level(np.array([[40, 38, 30, 26, 22, 20, 16, 15.0]]), np.full((1, 8), 100.0))
    >>> factors = level_factors(fit, 2000, 12, np.random.default_rng(1))
    >>> factors.shape, bool(np.median(factors[:, 0, 0]) < 0.75)
    ((2000, 1, 12), True)
    """
    n = fit.mean.shape[1]
    pick = generator.choice(len(fit.weights), size=draws, p=fit.weights)
    level = fit.mean[pick] + np.sqrt(fit.var[pick]) * generator.standard_normal((draws, n))
    steps = (
        generator.standard_normal((draws, n, months))
        * (fit.tau[pick] / np.sqrt(12))[:, None, None]
    )
    quarters = -(-months // 3)
    noise = generator.standard_normal((draws, n, quarters)) * fit.sigma[pick][:, None, None]
    noise = np.repeat(noise, 3, axis=2)[:, :, :months]
    path = level[:, :, None] + np.cumsum(steps, axis=2) + noise
    return np.exp(path - fit.baseline[None, :, None])
