"""Partial pooling of event rates across authorities: gamma-Poisson empirical Bayes.

Authority ``a`` sees ``y_a`` events in ``e_a`` units of exposure (child-months). Its rate
is drawn from the region's: ``y_a ~ Poisson(theta_a e_a)``, ``theta_a ~ Gamma(shape,
rate = shape / mean)``, so that ``mean`` is the regional rate and ``1 / shape`` the
squared coefficient of variation of the authorities' rates. Marginally ``y_a`` is
negative binomial (NB2: variance ``m + m^2 / shape`` with ``m = mean e_a``); ``shape`` and
``mean`` are its maximum-likelihood estimates (type II maximum likelihood; Clayton and
Kaldor 1987, Biometrics 43:671-681, for disease rates; the same fit as a negative
binomial regression on an intercept with ``log e_a`` as offset). Each authority's rate is
then ``Gamma(shape + y_a, shape / mean + e_a)``: its own rate ``y_a / e_a`` shrunk towards
the regional one with weight ``e_a / (e_a + shape / mean)`` on its own.

:func:`posterior_draws` carries the uncertainty of the regional rate too (an empirical
Bayes fit alone treats it as known; cf. Kass and Steffey 1989, JASA 84:717-726): each
draw first takes the regional rate from its Jeffreys posterior ``Gamma(sum y + 1/2,
sum e)``, then the authority's rate given it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from lacstats.errors import DataError
from lacstats.results import Result, jsonable

__all__ = ["MAX_SHAPE", "GammaPoisson", "gamma_poisson", "posterior_draws"]

#: The largest shape fitted: beyond it the authorities' rates are one rate (the fit is on
#: the boundary of complete pooling).
MAX_SHAPE = 1e6
_MIN_SHAPE = 1e-4


@dataclass(frozen=True)
class GammaPoisson(Result):
    """A gamma-Poisson (negative binomial) empirical Bayes fit of rates across units.

    ``shape`` and ``mean`` are the maximum-likelihood estimates of the gamma population
    of rates; ``counts`` and ``exposure`` the data; ``loglik`` the maximised marginal
    log-likelihood; ``boundary`` says when ``shape`` reached :data:`MAX_SHAPE` (no
    detectable spread between units: complete pooling).

    Examples
    --------
    >>> from lacstats import projection
    >>> fit = projection.gamma_poisson([2, 30, 4, 40, 55], [100.0, 110.0, 60.0, 150.0, 320.0])
    >>> round(fit.shape, 3), round(fit.mean, 4), round(fit.rate, 2)
    (1.841, 0.1619, 11.37)
    >>> fit.to_frame().columns.tolist()
    ['unit', 'events', 'exposure', 'raw_rate', 'estimate', 'ci_low', 'ci_high', 'level', 'shrinkage']
    """

    shape: float
    mean: float
    counts: np.ndarray = field(repr=False)
    exposure: np.ndarray = field(repr=False)
    loglik: float
    boundary: bool = False
    labels: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """The gamma's rate parameter, ``shape / mean`` (units of exposure)."""
        return self.shape / self.mean

    def shrinkage(self) -> np.ndarray:
        """The weight of the regional rate in each unit's estimate, ``rate / (rate + e)``."""
        return self.rate / (self.rate + self.exposure)

    def posterior_mean(self) -> np.ndarray:
        return (self.shape + self.counts) / (self.rate + self.exposure)

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Central posterior interval of each unit's rate, the hyperparameters as fitted."""
        tail = (1 - level) / 2
        a, b = self.shape + self.counts, self.rate + self.exposure
        return stats.gamma.ppf(tail, a) / b, stats.gamma.ppf(1 - tail, a) / b

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Each unit's events, exposure, raw rate and posterior mean rate (``estimate``),
        with its central posterior interval ``ci_low`` to ``ci_high`` of probability
        ``level`` and the weight of the regional rate (``shrinkage``)."""
        low, high = self.interval(level)
        labels = self.labels or tuple(str(i) for i in range(len(self.counts)))
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(self.exposure > 0, self.counts / self.exposure, np.nan)
        return pd.DataFrame(
            {
                "unit": labels,
                "events": self.counts,
                "exposure": self.exposure,
                "raw_rate": raw,
                "estimate": self.posterior_mean(),
                "ci_low": low,
                "ci_high": high,
                "level": level,
                "shrinkage": self.shrinkage(),
            }
        )

    def summary(self) -> str:
        return (
            f"Gamma-Poisson empirical Bayes: regional rate {self.mean:.4g}, shape "
            f"{self.shape:.4g}{' (boundary: complete pooling)' if self.boundary else ''}, "
            f"{len(self.counts)} units, log-likelihood {self.loglik:.4f}\n"
            + self.to_frame().to_string(index=False)
        )

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "method": "gamma-Poisson empirical Bayes (type II maximum likelihood)",
                "shape": float(self.shape),
                "mean": float(self.mean),
                "rate": float(self.rate),
                "loglik": float(self.loglik),
                "boundary": bool(self.boundary),
                "units": int(len(self.counts)),
            }
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.to_frame().to_html(index=False)


def _negative_loglik(params: np.ndarray, y: np.ndarray, e: np.ndarray) -> tuple[float, np.ndarray]:
    shape, mean = np.exp(params)
    m = mean * e
    total = shape + m
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogm = np.where(y > 0, y * np.log(np.where(m > 0, m, 1.0)), 0.0)
    loglik = (
        special.gammaln(y + shape)
        - special.gammaln(shape)
        - special.gammaln(y + 1)
        + shape * np.log(shape)
        - (shape + y) * np.log(total)
        + ylogm
    ).sum()
    d_shape = (
        special.digamma(y + shape)
        - special.digamma(shape)
        + np.log(shape)
        + 1
        - np.log(total)
        - (shape + y) / total
    ).sum()
    d_mean = (y / mean - (shape + y) * e / total).sum()
    return -loglik, -np.array([shape * d_shape, mean * d_mean])


def gamma_poisson(
    counts: Any, exposure: Any, *, labels: Any = None, max_shape: float = MAX_SHAPE
) -> GammaPoisson:
    """Fit the gamma population of rates behind ``counts`` events in ``exposure``.

    Units with no exposure carry no information and are left out of the fit (they get the
    regional rate). At least two units with exposure and one event are needed.

    Examples
    --------
    >>> from lacstats import projection
    >>> fit = projection.gamma_poisson([12, 30, 4, 18, 55], [100.0, 210.0, 60.0, 150.0, 320.0], labels=["A", "B", "C", "D", "E"])
    >>> round(fit.mean, 4), fit.boundary
    (0.1406, False)
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    if y.shape != e.shape or y.ndim != 1:
        raise DataError("counts and exposure must be one-dimensional and of one length")
    if (y < 0).any() or (e < 0).any() or not np.isfinite(y).all() or not np.isfinite(e).all():
        raise DataError("counts and exposure must be finite and non-negative", column="counts")
    used = e > 0
    if used.sum() < 2 or y[used].sum() <= 0:
        raise DataError(
            "a gamma-Poisson fit needs two units with exposure and at least one event",
            column="counts",
        )
    yu, eu = y[used], e[used]
    mean0 = yu.sum() / eu.sum()
    # the score for overdispersion at none (Cameron and Trivedi 2013, 3.4): when the
    # counts vary no more than Poisson counts would, the likelihood is highest on the
    # boundary, one rate for every unit
    fitted = mean0 * eu
    if ((yu - fitted) ** 2 - yu).sum() <= 0:
        shape, mean = max_shape, mean0
        best_loglik = -_negative_loglik(np.log([shape, mean]), yu, eu)[0]
        boundary = True
    else:
        spread = (((yu - fitted) ** 2 - yu) / np.maximum(fitted, 1e-12) ** 2).mean()
        shape0 = float(np.clip(1 / spread if spread > 0 else 1.0, 1e-2, 1e4))
        bounds = [
            (np.log(_MIN_SHAPE), np.log(max_shape)),
            (np.log(mean0) - 15, np.log(mean0) + 15),
        ]
        best = None
        for start in (shape0, 1.0, 10.0):
            fit = optimize.minimize(
                _negative_loglik,
                np.array([np.log(start), np.log(mean0)]),
                args=(yu, eu),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"ftol": 1e-12, "gtol": 1e-9, "maxiter": 1000},
            )
            if best is None or fit.fun < best.fun - 1e-12:
                best = fit
            if best.success:
                break
        assert best is not None
        shape, mean = np.exp(best.x)
        best_loglik = -best.fun
        boundary = bool(best.x[0] >= np.log(max_shape) - 1e-6)
    return GammaPoisson(
        shape=float(shape),
        mean=float(mean),
        counts=y,
        exposure=e,
        loglik=float(best_loglik),
        boundary=boundary,
        labels=tuple(str(x) for x in labels) if labels is not None else (),
    )


def posterior_draws(
    counts: Any,
    exposure: Any,
    draws: int,
    generator: np.random.Generator,
    *,
    pooling: str = "partial",
) -> tuple[np.ndarray, GammaPoisson | None]:
    """Draws of each unit's rate, shape ``(draws, units)``, and the fit they came from.

    ``pooling="partial"``: the regional rate from ``Gamma(sum y + 1/2, sum e)``, then each
    unit's from ``Gamma(shape + y_a, shape / regional + e_a)`` with the fitted shape;
    ``"complete"``: every unit takes the regional rate; ``"none"``: each unit's own
    ``Gamma(y_a + 1/2, e_a)`` (Jeffreys), no rate for a unit with no exposure. Partial
    pooling falls back to complete pooling when the units' rates show no spread, and to
    none when fewer than two units have exposure.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import projection
    >>> rates, fit = projection.posterior_draws([12, 30, 4], [100.0, 210.0, 60.0], 1000, np.random.default_rng(1))
    >>> rates.shape, rates.mean(axis=0).round(3)
    ((1000, 3), array([0.125, 0.125, 0.125]))
    >>> rates, fit = projection.posterior_draws([12, 30, 4], [100.0, 210.0, 60.0], 1000, np.random.default_rng(1), pooling="none")
    >>> fit is None
    True
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    fit = None
    if pooling == "partial":
        if (e > 0).sum() < 2 or y.sum() <= 0:
            pooling = "none"
        else:
            fit = gamma_poisson(y, e)
    if pooling == "none":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = generator.gamma(y + 0.5, 1.0, size=(draws, len(y))) / np.where(e > 0, e, np.inf)
        return out, None
    regional = generator.gamma(y.sum() + 0.5, 1.0, size=draws) / e.sum()
    if pooling == "complete" or (fit is not None and fit.boundary):
        return np.broadcast_to(regional[:, None], (draws, len(y))).copy(), fit
    assert fit is not None
    shape = fit.shape
    rates = shape / regional[:, None] + e[None, :]
    return generator.gamma(shape + y, 1.0, size=(draws, len(y))) / rates, fit
