"""Likelihood families: one object per family, asked by every model that uses it.

A :class:`Family` knows everything about its likelihood that a model needs, so that the
models never compare a family's name:

- the response it accepts (:meth:`Family.check_response`) and the scale it is modelled on
  (:meth:`Family.scale_response`: the log of a lognormal response, a gaussian-type response
  centred and scaled, a gamma response divided by its geometric mean);
- its link and inverse link;
- its own parameters (:attr:`Family.parameters`: a residual SD, degrees of freedom, a shape,
  an overdispersion), their priors and starting values;
- the log density sampled by MCMC (:meth:`Family.sampled_logp`, less the terms that depend on
  the data alone) with its derivatives (:meth:`Family.gradient`), and the same density as a
  PyMC graph (:meth:`Family.pymc_likelihood`);
- the full pointwise log-likelihood for LOO (:meth:`Family.log_likelihood`, scipy's);
- the expected response and posterior predictive draws (:meth:`Family.mean`,
  :meth:`Family.draw`);
- each group's pilot estimate on the link scale (:meth:`Family.link_estimates`), used to
  choose a parameterisation.

``lacstats.hierarchical`` uses every family; ``lacstats.regression`` uses ``gaussian``,
``lognormal`` and ``gamma`` (their response checks, scales, links and statsmodels
families). :func:`get` turns a name into its family and refuses an unknown one.

Examples
--------
>>> from lacstats import families
>>> family = families.get("negative_binomial")
>>> family.link, family.discrete, [p.name for p in family.parameters]
('log', True, ['inv_sqrt_phi'])
>>> families.get("weibull")
Traceback (most recent call last):
...
lacstats.errors.DataError: argument 'family' must be one of lognormal, gaussian, student_t, gamma, bernoulli, binomial, poisson, negative_binomial; got 'weibull'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from lacstats.errors import DataError

__all__ = [
    "BERNOULLI",
    "BINOMIAL",
    "FAMILIES",
    "GAMMA",
    "GAUSSIAN",
    "LOGNORMAL",
    "NEGATIVE_BINOMIAL",
    "POISSON",
    "STUDENT_T",
    "Family",
    "Parameter",
    "get",
]


@dataclass(frozen=True)
class Parameter:
    """A family's own parameter, sampled on the log scale.

    ``prior`` is ``("exponential", rate)`` or ``("gamma", alpha, beta)``; a rate given as a
    string names a prior scale of the model (``"sigma"``: rate 1 / scales["sigma"]).
    ``reported`` is the name of the reported quantity when it is a function of the sampled
    one (the negative binomial's phi = 1 / inv_sqrt_phi^2); ``response_scale`` says that the
    quantity is in the (scaled) response's units, multiplied back by the design's scale.

    Examples
    --------
    >>> from lacstats import families
    >>> (k,) = families.NEGATIVE_BINOMIAL.parameters
    >>> k.name, k.output, k.start({})  # 1 / sqrt(phi) ~ Exponential(1): log of its mean
    ('inv_sqrt_phi', 'phi', 0.0)
    >>> float(k.to_reported(0.5))  # phi = 1 / 0.5^2
    4.0
    """

    name: str
    prior: tuple
    reported: str | None = None
    response_scale: bool = False

    @property
    def output(self) -> str:
        """The name of the posterior variable a result reads."""
        return self.reported or self.name

    def rate(self, scales: dict[str, float]) -> float:
        """The exponential prior's rate, from the model's prior scales if named."""
        rate = self.prior[1]
        return 1.0 / scales[rate] if isinstance(rate, str) else float(rate)

    def start(self, scales: dict[str, float]) -> float:
        """Starting value on the log scale: the log of the prior mean (PyMC's support point)."""
        if self.prior[0] == "exponential":
            return -math.log(self.rate(scales))
        return math.log(self.prior[1] / self.prior[2])

    def to_reported(self, value: np.ndarray) -> np.ndarray:
        """The reported quantity from the sampled one."""
        return 1.0 / value**2 if self.reported else value


SIGMA = Parameter("sigma", ("exponential", "sigma"), response_scale=True)


class Family:
    """A likelihood family (see the module docstring); the instances in :data:`FAMILIES`
    are the only ones, so families compare by identity.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import families
    >>> poisson = families.get("poisson")
    >>> poisson.link, poisson.takes_exposure, poisson.needs_trials
    ('log', True, False)
    >>> eta = np.log(np.array([2.0, 10.0]))
    >>> y = np.array([3.0, 8.0])
    >>> poisson.sampled_logp(y, eta, {}).round(4)  # y eta - exp(eta), without log y!
    array([0.0794, 8.4207])
    >>> poisson.gradient(y, eta, {})["eta"]  # y - exp(eta)
    array([ 1., -2.])
    """

    name: str = ""
    link: str = "identity"
    #: the family's own parameters, in the order they are sampled
    parameters: tuple[Parameter, ...] = ()
    #: a gaussian-type response (normal errors on the model's scale): centred and scaled
    #: in the design, a residual SD, least squares in ``lacstats.regression``
    gaussian_type: bool = False
    #: modelled on the log of the response (lognormal)
    log_response: bool = False
    #: fitted from sufficient statistics with every coefficient integrated out
    collapsible: bool = False
    #: discrete outcomes with a link-scale pilot estimate per group
    discrete: bool = False
    #: needs ``trials`` (the binomial's denominators)
    needs_trials: bool = False
    #: takes an ``exposure`` (a log offset)
    takes_exposure: bool = False
    #: allows an observation-level random effect
    observation_effects: bool = False
    #: posterior predictive checks on the log of the response
    log_scale: bool = False
    #: the response must be positive
    positive: bool = False

    def __repr__(self) -> str:
        return f"<family {self.name}>"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self):
        return (get, (self.name,))

    # -- the response -------------------------------------------------------------------
    def check_response(self, y: np.ndarray, raw: pd.Series, response: str) -> None:
        """Raise :class:`DataError` naming the rows whose response the family cannot take."""
        if self.positive and np.any(y <= 0):
            raise DataError.at(
                f"column {response!r}: a {self.name} model needs positive values",
                response,
                y <= 0,
                raw,
            )

    def scale_response(self, y: np.ndarray, autoscale: bool) -> tuple[np.ndarray, float, float]:
        """The response on the model's scale, its shift and its scale."""
        return y, 0.0, 1.0

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: the expected response (per trial or unit of exposure)."""
        raise NotImplementedError

    def pilot_response(self, y: np.ndarray) -> np.ndarray:
        """The (design's) response on the scale of a least-squares pilot fit."""
        return y

    def link_estimates(self, d) -> tuple[np.ndarray, np.ndarray]:
        """Each group's empirical estimate on the link scale and its sampling variance
        (discrete families only)."""
        raise NotImplementedError(f"the {self.name} family has no link-scale pilot")

    # -- the sampled density ------------------------------------------------------------
    def pymc_likelihood(self, pm, pt, eta, y, d, scales) -> None:
        """Add the family's parameters and likelihood term to the current PyMC model."""
        raise NotImplementedError

    def sampled_logp(self, y, eta, params: dict[str, Any], trials=None) -> np.ndarray:
        """Pointwise log density as sampled (less the terms that depend on the data alone),
        given the sampled parameters (``params``, by :attr:`Parameter.name`)."""
        raise NotImplementedError

    def gradient(self, y, eta, params: dict[str, Any], trials=None) -> dict[str, np.ndarray]:
        """Pointwise derivatives of :meth:`sampled_logp`: ``"eta"`` and one entry per
        sampled parameter (with respect to the parameter itself, not its log)."""
        raise NotImplementedError

    # -- the fitted model ---------------------------------------------------------------
    def log_likelihood(self, d, eta: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        """Full pointwise log-likelihood of the design's rows (draws, rows), on the
        response's own scale; ``params`` are the reported draws, shape (draws, 1), on the
        model's scale."""
        raise NotImplementedError

    def mean(self, eta: np.ndarray, params: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Posterior mean of the expected response per row; ``params`` on the user's scale."""
        return eta.mean(axis=0)

    def draw(self, gen, eta: np.ndarray, params: dict[str, np.ndarray], trials=None):
        """Posterior predictive draws (draws, rows); ``params`` on the user's scale."""
        raise NotImplementedError

    def prior_records(self, scales: dict[str, float], unit: float) -> dict[str, str]:
        """The family's priors, as a result reports them."""
        return {}

    def statsmodels(self, link):
        """The statsmodels GLM family with that link object (``lacstats.regression``)."""
        raise DataError(f"no generalised linear model of the {self.name} family here")

    def components(self, draws, unit: float) -> list[tuple[str, np.ndarray, str]]:
        """Rows the family adds to ``variance_components``: (term, draws, component)."""
        return []


# -- gaussian-type: the response centred and scaled, a residual SD -------------------------
class _Gaussian(Family):
    name = "gaussian"
    parameters = (SIGMA,)
    gaussian_type = True
    collapsible = True

    def scale_response(self, y, autoscale):
        y = self._transform(y)
        if autoscale:
            y_shift, y_scale = float(y.mean()), float(y.std()) or 1.0
            return (y - y_shift) / y_scale, y_shift, y_scale
        return y, 0.0, 1.0

    def _transform(self, y):
        return y

    def inverse(self, eta):
        return eta

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        sigma = pm.Exponential("sigma", 1.0 / scales["sigma"])
        pm.Normal("obs", eta, sigma, observed=y)

    def sampled_logp(self, y, eta, params, trials=None):
        sigma = params["sigma"]
        return -np.log(sigma) - 0.5 * ((y - eta) / sigma) ** 2

    def gradient(self, y, eta, params, trials=None):
        sigma = params["sigma"]
        r = (y - eta) / sigma
        return {"eta": r / sigma, "sigma": (r**2 - 1) / sigma}

    def log_likelihood(self, d, eta, params):
        ll = stats.norm.logpdf(d.y, eta, params["sigma"])
        return ll - np.log(d.y_scale)

    def draw(self, gen, eta, params, trials=None):
        return eta + params["sigma"] * gen.standard_normal(eta.shape)

    def prior_records(self, scales, unit):
        return {
            "sigma": (
                f"Exponential(rate {1 / scales['sigma']:.3g}) scaled; prior mean "
                f"{scales['sigma'] * unit:.4g}"
            )
        }

    def components(self, draws, unit):
        return [("residual", draws("sigma") * unit, "sd")]

    def statsmodels(self, link):
        import statsmodels.api as sm

        return sm.families.Gaussian(link)


class _Lognormal(_Gaussian):
    name = "lognormal"
    positive = True
    log_scale = True
    log_response = True

    def _transform(self, y):
        return np.log(y)

    def inverse(self, eta):
        return np.exp(eta)

    def log_likelihood(self, d, eta, params):
        # the density of y itself: the normal density of log y and the Jacobian -log y
        return super().log_likelihood(d, eta, params) - (d.y * d.y_scale + d.y_shift)

    def mean(self, eta, params, trials=None):
        return np.exp(eta + params["sigma"] ** 2 / 2).mean(axis=0)

    def draw(self, gen, eta, params, trials=None):
        return np.exp(eta + params["sigma"] * gen.standard_normal(eta.shape))


class _StudentT(_Gaussian):
    name = "student_t"
    parameters = (SIGMA, Parameter("nu", ("gamma", 2.0, 0.1)))
    collapsible = False

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        sigma = pm.Exponential("sigma", 1.0 / scales["sigma"])
        nu = pm.Gamma("nu", 2.0, 0.1)
        pm.StudentT("obs", nu=nu, mu=eta, sigma=sigma, observed=y)

    def sampled_logp(self, y, eta, params, trials=None):
        sigma, nu = params["sigma"], params["nu"]
        z = (y - eta) / sigma
        return (
            special.gammaln((nu + 1) / 2)
            - special.gammaln(nu / 2)
            - 0.5 * np.log(nu)
            - np.log(sigma)
            - (nu + 1) / 2 * np.log1p(z**2 / nu)
        )

    def gradient(self, y, eta, params, trials=None):
        sigma, nu = params["sigma"], params["nu"]
        z = (y - eta) / sigma
        w = (nu + 1) / (nu + z**2)
        return {
            "eta": w * z / sigma,
            "sigma": (w * z**2 - 1) / sigma,
            "nu": 0.5
            * (
                special.digamma((nu + 1) / 2)
                - special.digamma(nu / 2)
                - 1 / nu
                - np.log1p(z**2 / nu)
                + w * z**2 / nu
            ),
        }

    def log_likelihood(self, d, eta, params):
        ll = stats.t.logpdf(d.y, params["nu"], eta, params["sigma"])
        return ll - np.log(d.y_scale)

    def draw(self, gen, eta, params, trials=None):
        return eta + params["sigma"] * gen.standard_t(params["nu"], eta.shape)


# -- gamma: positive, log link, a shape ----------------------------------------------------
class _Gamma(Family):
    name = "gamma"
    link = "log"
    parameters = (Parameter("shape", ("exponential", 0.1)),)
    positive = True
    log_scale = True

    def scale_response(self, y, autoscale):
        y_shift = float(np.mean(np.log(y)))
        return y / math.exp(y_shift), y_shift, 1.0

    def inverse(self, eta):
        return np.exp(eta)

    def pilot_response(self, y):
        return np.log(y)

    def statsmodels(self, link):
        import statsmodels.api as sm

        return sm.families.Gamma(link)

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        shape = pm.Exponential("shape", 0.1)
        pm.Gamma("obs", alpha=shape, beta=shape / pt.exp(eta), observed=y)

    def sampled_logp(self, y, eta, params, trials=None):
        a = params["shape"]
        return (
            a * (np.log(a) - eta) - special.gammaln(a) + (a - 1) * np.log(y) - a * y * np.exp(-eta)
        )

    def gradient(self, y, eta, params, trials=None):
        a = params["shape"]
        ratio = y * np.exp(-eta)
        return {
            "eta": a * (ratio - 1),
            "shape": np.log(a) - eta + 1 - special.digamma(a) + np.log(y) - ratio,
        }

    def log_likelihood(self, d, eta, params):
        shape = params["shape"]
        scale = np.exp(d.y_shift)
        return stats.gamma.logpdf(d.y, shape, scale=np.exp(eta) / shape) - np.log(scale)

    def mean(self, eta, params, trials=None):
        return np.exp(eta).mean(axis=0)

    def draw(self, gen, eta, params, trials=None):
        shape = params["shape"]
        return gen.gamma(shape, np.exp(eta) / shape)


# -- discrete families: link-scale pilots --------------------------------------------------
class _Logit(Family):
    """Successes out of trials (one trial a row for the bernoulli), logit link."""

    link = "logit"
    discrete = True

    def inverse(self, eta):
        return special.expit(eta)

    def link_estimates(self, d):
        """Log odds with a half added to events and non-events, and their variance."""
        G = len(d.levels)
        events = np.bincount(d.groups, weights=d.y, minlength=G)
        trials = d.trials if d.trials is not None else np.ones(len(d.y))
        total = np.bincount(d.groups, weights=trials, minlength=G)
        est = np.log((events + 0.5) / (total - events + 0.5))
        return est, 1 / (events + 0.5) + 1 / (total - events + 0.5)

    def mean(self, eta, params, trials=None):
        p = special.expit(eta).mean(axis=0)
        return p * trials if trials is not None else p


class _Bernoulli(_Logit):
    name = "bernoulli"

    def check_response(self, y, raw, response):
        if not np.isin(y, [0, 1]).all():
            raise DataError.at(
                f"column {response!r}: a bernoulli model needs 0/1 values",
                response,
                ~np.isin(y, [0, 1]),
                raw,
            )

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        pm.Bernoulli("obs", logit_p=eta, observed=y)

    def sampled_logp(self, y, eta, params, trials=None):
        return y * eta - np.logaddexp(0, eta)

    def gradient(self, y, eta, params, trials=None):
        return {"eta": y - special.expit(eta)}

    def log_likelihood(self, d, eta, params):
        return np.where(d.y == 1, -np.logaddexp(0, -eta), -np.logaddexp(0, eta))

    def draw(self, gen, eta, params, trials=None):
        return (gen.random(eta.shape) < special.expit(eta)).astype(float)


class _Counts(Family):
    """Counts: whole numbers >= 0."""

    discrete = True

    def check_response(self, y, raw, response):
        bad = (y < 0) | (y != np.round(y))
        if bad.any():
            raise DataError.at(
                f"column {response!r}: a {self.name} model needs counts (whole numbers >= 0)",
                response,
                bad,
                raw,
            )


class _Binomial(_Counts, _Logit):
    name = "binomial"
    needs_trials = True
    observation_effects = True

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        trials = pm.Data("trials", d.trials.astype(np.int64))  # as full.data_values
        # y log p + (n - y) log(1 - p) with logit p = eta, without the binomial
        # coefficient (a function of the data only)
        pm.Potential("obs", pt.sum(y * eta - trials * pt.softplus(eta)))

    def sampled_logp(self, y, eta, params, trials=None):
        return y * eta - trials * np.logaddexp(0, eta)

    def gradient(self, y, eta, params, trials=None):
        return {"eta": y - trials * special.expit(eta)}

    def log_likelihood(self, d, eta, params):
        return stats.binom.logpmf(d.y, d.trials, special.expit(eta))

    def draw(self, gen, eta, params, trials=None):
        n = trials if trials is not None else np.ones(eta.shape[1])
        return gen.binomial(n.astype(np.int64), special.expit(eta)).astype(float)


class _Poisson(_Counts):
    name = "poisson"
    link = "log"
    takes_exposure = True
    observation_effects = True

    def inverse(self, eta):
        return np.exp(eta)

    def link_estimates(self, d):
        """Log rates with a half added to events, and their variance."""
        G = len(d.levels)
        events = np.bincount(d.groups, weights=d.y, minlength=G)
        exposure = np.exp(d.offset) if d.offset is not None else np.ones(len(d.y))
        total = np.bincount(d.groups, weights=exposure, minlength=G)
        return np.log((events + 0.5) / total), 1 / (events + 0.5)

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        pm.Potential("obs", pt.sum(y * eta - pt.exp(eta)))  # y eta - exp(eta), without log y!

    def sampled_logp(self, y, eta, params, trials=None):
        return y * eta - np.exp(eta)

    def gradient(self, y, eta, params, trials=None):
        return {"eta": y - np.exp(eta)}

    def log_likelihood(self, d, eta, params):
        return stats.poisson.logpmf(d.y, np.exp(eta))

    def mean(self, eta, params, trials=None):
        return np.exp(eta).mean(axis=0)

    def draw(self, gen, eta, params, trials=None):
        return gen.poisson(np.exp(eta)).astype(float)


class _NegativeBinomial(_Poisson):
    """var = mu + mu^2 / phi, with 1 / sqrt(phi) ~ Exponential(1)."""

    name = "negative_binomial"
    parameters = (Parameter("inv_sqrt_phi", ("exponential", 1.0), reported="phi"),)
    observation_effects = False

    def pymc_likelihood(self, pm, pt, eta, y, d, scales):
        inv_sqrt_phi = pm.Exponential("inv_sqrt_phi", 1.0)
        phi = pm.Deterministic("phi", 1.0 / inv_sqrt_phi**2)
        # log Gamma(y + phi) - log Gamma(phi) + phi log phi + y eta - (y + phi) log(phi + mu),
        # without log y! (mu = exp(eta))
        pm.Potential(
            "obs",
            pt.sum(
                pt.gammaln(y + phi)
                - pt.gammaln(phi)
                + phi * pt.log(phi)
                + y * eta
                - (y + phi) * pt.log(phi + pt.exp(eta))
            ),
        )

    def sampled_logp(self, y, eta, params, trials=None):
        phi = 1.0 / params["inv_sqrt_phi"] ** 2
        return (
            special.gammaln(y + phi)
            - special.gammaln(phi)
            + phi * np.log(phi)
            + y * eta
            - (y + phi) * np.logaddexp(np.log(phi), eta)
        )

    def gradient(self, y, eta, params, trials=None):
        k = params["inv_sqrt_phi"]
        phi = 1.0 / k**2
        log_total = np.logaddexp(np.log(phi), eta)  # log(phi + mu)
        share = np.exp(eta - log_total)  # mu / (phi + mu)
        dphi = (
            special.digamma(y + phi)
            - special.digamma(phi)
            + np.log(phi)
            + 1
            - log_total
            - (y + phi) / (phi + np.exp(eta))
        )
        return {"eta": y - (y + phi) * share, "inv_sqrt_phi": dphi * (-2.0 / k**3)}

    def log_likelihood(self, d, eta, params):
        phi = params["phi"]
        mu = np.exp(eta)
        return stats.nbinom.logpmf(d.y, phi, phi / (phi + mu))

    def draw(self, gen, eta, params, trials=None):
        phi = params["phi"]
        return gen.poisson(gen.gamma(phi, np.exp(eta) / phi)).astype(float)

    def components(self, draws, unit):
        return [("phi (overdispersion)", draws("phi"), "shape")]


#: Normal errors, identity link; the response centred and scaled; a residual SD.
GAUSSIAN = _Gaussian()
#: Normal errors on the log of a positive response (centred and scaled); a residual SD.
LOGNORMAL = _Lognormal()
#: Student-t errors (a residual scale and degrees of freedom), identity link.
STUDENT_T = _StudentT()
#: A positive response, log link, a shape (the response divided by its geometric mean).
GAMMA = _Gamma()
#: 0/1 outcomes, logit link.
BERNOULLI = _Bernoulli()
#: Successes out of ``trials``, logit link; observation effects allowed.
BINOMIAL = _Binomial()
#: Counts, log link, an ``exposure`` offset; observation effects allowed.
POISSON = _Poisson()
#: Over-dispersed counts (var = mu + mu^2 / phi), log link, an ``exposure`` offset.
NEGATIVE_BINOMIAL = _NegativeBinomial()

#: Every family by name, in the order error messages list them.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        LOGNORMAL,
        GAUSSIAN,
        STUDENT_T,
        GAMMA,
        BERNOULLI,
        BINOMIAL,
        POISSON,
        NEGATIVE_BINOMIAL,
    )
}


def get(family: str | Family, among: tuple[str, ...] | None = None) -> Family:
    """The family of that name (or the family itself); an unknown one, or one outside
    ``among``, raises :class:`DataError` listing the known ones.

    Examples
    --------
    >>> from lacstats import families
    >>> families.get("lognormal") is families.LOGNORMAL
    True
    >>> families.get("poisson", among=("gaussian", "gamma"))
    Traceback (most recent call last):
    ...
    lacstats.errors.DataError: argument 'family' must be one of gaussian, gamma; got 'poisson'
    """
    names = tuple(FAMILIES) if among is None else among
    name = family.name if isinstance(family, Family) else family
    if not isinstance(name, str) or name not in names:
        raise DataError(
            f"argument 'family' must be one of {', '.join(names)}; got {family!r}",
            column="family",
        )
    return FAMILIES[name]
