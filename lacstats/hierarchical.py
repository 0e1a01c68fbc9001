"""Bayesian hierarchical models across authorities (PyMC, ArviZ).

``HierarchicalModel("weekly_cost ~ risk_score + C(placement_setting)", group="authority")``
fits fixed effects from the formula, an intercept varying by group and, for the terms named
in ``varying``, slopes varying by group. Partial pooling gives small authorities honest
uncertainty and shrinks their effects towards the regional mean.

Model, on internally scaled data (predictors centred and divided by their standard
deviation; for ``gaussian``, ``lognormal`` and ``student_t`` the (log) response too):

    eta_i   = alpha + X_i beta + a[g_i] + sum_j X_ij b_j[g_i]
    a_g     ~ Normal(0, tau),    b_jg ~ Normal(0, tau_j)

Default priors are weakly informative in the sense of rstanarm (Gabry and Goodrich 2020,
"Prior distributions for rstanarm models"): on the scaled data alpha ~ Normal(0, 2.5),
beta ~ Normal(0, 2.5), tau, tau_j ~ Exponential(1), sigma ~ Exponential(1), Student-t
degrees of freedom ~ Gamma(2, 0.1) (Juarez and Steel 2010), gamma shape ~ Exponential(0.1).
On the original scale of a gaussian-type model that is: intercept within 2.5 response SDs
of the mean, a slope of 2.5 sd(y)/sd(x_j), group and residual SDs with prior mean sd(y).
``priors=`` changes any of the scales (keys ``intercept``, ``beta``, ``group_sd``,
``sigma``); the result records the priors used, on both scales.

``autoscale=False`` applies the priors to the data as given (the model then needs
predictors and response on a unit scale): simulation-based calibration uses it, because
priors that depend on the data break its exactness.

Parameterisation: a group is centred where its own data outweigh the prior and non-centred
elsewhere (Papaspiliopoulos, Roberts and Skold 2007; Betancourt and Girolami 2015). By
default (``centred_threshold="auto"``) a moment-estimator pilot gives the between-group
variance tau^2 and the per-case variance s^2 (for a bernoulli model, on the logit scale,
s^2 = 1 / (p (1 - p))) and group g is centred when n_g tau^2 / s^2 >= 1, i.e. when partial
pooling would shrink it by less than half; an integer threshold centres groups with at
least that many cases instead. Fixed effects are sampled through a QR decomposition of the
scaled design (the standard device of the Stan manual, section 1.2), which removes their
posterior correlation; their Normal prior applies to beta itself. For gaussian and lognormal models whose predictors are constant within cells (group
x categorical predictors) the likelihood is computed from each cell's count, mean and sum
of squares (``fast_path``), so sampling cost does not grow with the number of children;
with random intercepts only, the intercepts are then integrated out analytically (the
marginal likelihood of each group's cell means is normal with covariance
diag(sigma^2 / n_c) + tau^2 11') and drawn afterwards from their exact conditional
posterior. That removes the funnel and the intercept-effects correlation that leave a
centred or non-centred fit of 80,000 children in 152 authorities with a bulk ESS near 70.

Every fit reports R-hat, bulk and tail ESS and divergences and, with ``check=True``,
refuses to return a fit that fails the gate (R-hat <= 1.01, bulk and tail ESS >= 400, no
divergences; Vehtari et al. 2021, Bayesian Analysis 16, 667-718).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy

from lacstats import interrupts
from lacstats.errors import ConvergenceError, DataError
from lacstats.regression import _formula_columns, model_frame

__all__ = ["Diagnostics", "HierarchicalModel", "HierarchicalResult"]

FAMILIES = ("lognormal", "gamma", "student_t", "gaussian", "bernoulli")
SCALED_RESPONSE = ("lognormal", "gaussian", "student_t")
DEFAULT_PRIORS = {"intercept": 2.5, "beta": 2.5, "group_sd": 1.0, "sigma": 1.0}
RHAT_MAX = 1.01
ESS_MIN = 400
INTERVAL = 0.95


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of a fit and whether it passes the gate."""

    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    draws: int
    chains: int

    @property
    def passed(self) -> bool:
        return (
            self.rhat_max <= RHAT_MAX
            and self.ess_bulk_min >= ESS_MIN
            and self.ess_tail_min >= ESS_MIN
            and self.divergences == 0
        )

    def problems(self) -> list[str]:
        out = []
        if not self.rhat_max <= RHAT_MAX:
            out.append(f"R-hat {self.rhat_max:.3f} > {RHAT_MAX}")
        if not self.ess_bulk_min >= ESS_MIN:
            out.append(f"bulk ESS {self.ess_bulk_min:.0f} < {ESS_MIN}")
        if not self.ess_tail_min >= ESS_MIN:
            out.append(f"tail ESS {self.ess_tail_min:.0f} < {ESS_MIN}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rhat_max": self.rhat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "ess_tail_min": self.ess_tail_min,
            "divergences": self.divergences,
            "draws": self.draws,
            "chains": self.chains,
            "passed": self.passed,
        }


@dataclass
class _Design:
    y: np.ndarray  # transformed and scaled response
    X: np.ndarray  # scaled predictors, no intercept column
    names: list[str]
    x_mean: np.ndarray
    x_sd: np.ndarray
    y_shift: float
    y_scale: float
    groups: np.ndarray  # integer codes
    levels: list[Any]
    counts: np.ndarray
    varying: list[int]
    n_dropped: int


class HierarchicalModel:
    """A multilevel regression with group-varying intercepts and optional slopes."""

    def __init__(
        self,
        formula: str,
        *,
        group: str | None = "authority",
        family: str = "lognormal",
        varying: tuple[str, ...] = (),
        priors: dict[str, float] | None = None,
        sampler: str = "nutpie",
        centred_threshold: int | str = "auto",
        fast_path: bool | str = "auto",
        target_accept: float = 0.9,
        autoscale: bool = True,
    ) -> None:
        self.formula = formula
        self.group = group
        self.family = family
        self.varying = tuple(varying)
        self.priors = priors
        self.sampler = sampler
        self.centred_threshold = centred_threshold
        self.fast_path = fast_path
        self.target_accept = target_accept
        self.autoscale = autoscale

    # -- design -------------------------------------------------------------------------
    def _design(self, data: pd.DataFrame) -> _Design:
        if self.family not in FAMILIES:
            raise DataError(
                f"argument 'family' must be one of {', '.join(FAMILIES)}; got {self.family!r}",
                column="family",
            )
        if self.sampler not in ("pymc", "nutpie"):
            raise DataError(
                f"argument 'sampler' must be pymc or nutpie; got {self.sampler!r}",
                column="sampler",
            )
        unknown = sorted(set(self.priors or {}) - set(DEFAULT_PRIORS))
        if unknown:
            raise DataError(
                f"unknown prior(s) {unknown}; known: {sorted(DEFAULT_PRIORS)}", column="priors"
            )
        response, columns = _formula_columns(self.formula, data)
        needed = columns + ([self.group] if self.group else [])
        if self.group and self.group not in data.columns:
            raise DataError(f"data have no group column {self.group!r}", column=self.group)
        complete = model_frame(data, needed).dropna()
        y_frame, X_frame = patsy.dmatrices(
            self.formula, complete, return_type="dataframe", NA_action="raise"
        )
        y = y_frame.iloc[:, 0].to_numpy(dtype=float)
        if self.family in ("lognormal", "gamma") and np.any(y <= 0):
            bad = np.flatnonzero(y <= 0)
            raise DataError.at(
                f"column {response!r}: a {self.family} model needs positive values",
                response,
                np.isin(np.arange(len(y)), bad),
                y_frame.iloc[:, 0],
            )
        if self.family == "bernoulli" and not np.isin(y, [0, 1]).all():
            raise DataError(
                f"column {response!r}: a bernoulli model needs 0/1 values", column=response
            )
        X_frame = X_frame.drop(columns=[c for c in X_frame.columns if c == "Intercept"])
        names = list(X_frame.columns)
        X = X_frame.to_numpy(dtype=float)
        if X.shape[1] and np.linalg.matrix_rank(np.column_stack([np.ones(len(X)), X])) < (
            X.shape[1] + 1
        ):
            raise DataError(
                f"singular design in {self.formula!r}: a term is a linear combination of others",
                column="formula",
            )
        x_mean, x_sd = X.mean(axis=0), X.std(axis=0)
        x_sd[x_sd == 0] = 1.0
        if not self.autoscale:  # priors as stated on the data's own scale (e.g. for SBC)
            x_mean, x_sd = np.zeros_like(x_mean), np.ones_like(x_sd)
        X = (X - x_mean) / x_sd
        if self.family == "lognormal":
            y = np.log(y)
        if self.family in SCALED_RESPONSE and self.autoscale:
            y_shift, y_scale = float(y.mean()), float(y.std()) or 1.0
            y = (y - y_shift) / y_scale
        elif self.family == "gamma":
            y_shift, y_scale = float(np.mean(np.log(y))), 1.0
            y = y / math.exp(y_shift)
        else:
            y_shift, y_scale = 0.0, 1.0
        if self.group:
            codes, levels = pd.factorize(complete[self.group], sort=True)
            levels = list(levels)
        else:
            codes, levels = np.zeros(len(y), dtype=int), ["all"]
        missing = [v for v in self.varying if v not in names]
        if missing:
            raise DataError(
                f"varying term(s) {missing} not among the formula's terms {names}",
                column=missing[0],
            )
        if self.group is None and self.varying:
            raise DataError("varying slopes need a group", column="varying")
        return _Design(
            y,
            X,
            names,
            x_mean,
            x_sd,
            y_shift,
            y_scale,
            codes,
            levels,
            np.bincount(codes, minlength=len(levels)),
            [names.index(v) for v in self.varying],
            len(data) - len(complete),
        )

    def _use_fast_path(self, d: _Design) -> bool:
        if self.family not in ("gaussian", "lognormal"):
            if self.fast_path is True:
                raise DataError(
                    "the sufficient-statistics fast path is for gaussian and lognormal models",
                    column="fast_path",
                )
            return False
        if self.fast_path in (True, False):
            return bool(self.fast_path)
        cells = len(np.unique(np.column_stack([d.groups, d.X]), axis=0))
        return cells <= len(d.y) / 2

    # -- model --------------------------------------------------------------------------
    def _build(self, d: _Design, fast: bool):
        import pymc as pm
        import pytensor.tensor as pt

        scales = {**DEFAULT_PRIORS, **(self.priors or {})}
        n_groups, k = len(d.levels), d.X.shape[1]
        coords = {
            "term": d.names,
            "group": [str(g) for g in d.levels],
            "varying": list(self.varying),
        }
        if fast:
            keys = np.column_stack([d.groups, d.X])
            uniq, cell = np.unique(keys, axis=0, return_inverse=True)
            cell = cell.ravel()
            n_c = np.bincount(cell)
            sums = np.bincount(cell, weights=d.y)
            ybar = sums / n_c
            ss = float(np.sum((d.y - ybar[cell]) ** 2))
            groups, X = uniq[:, 0].astype(int), uniq[:, 1:]
        else:
            groups, X = d.groups, d.X
        centred = self._centred(d)
        marginal = fast and self._marginalise(d)
        with pm.Model(coords=coords) as model:
            alpha = pm.Normal("alpha", 0.0, scales["intercept"])
            eta = alpha
            if k:
                # QR: sample theta = R beta, with X beta = Q theta; the prior stays on beta
                r_inv = np.linalg.inv(np.linalg.qr(d.X)[1])
                theta = pm.Flat("theta", shape=k)
                beta = pm.Deterministic("beta", pt.dot(r_inv, theta), dims="term")
                pm.Potential(
                    "beta_prior", pm.logp(pm.Normal.dist(0.0, scales["beta"]), beta).sum()
                )
                eta = eta + pt.dot(X @ r_inv, theta)  # X R^-1 = Q on the observations
            if marginal:
                tau = pm.Exponential("tau", 1.0 / scales["group_sd"])
                sigma = pm.Exponential("sigma", 1.0 / scales["sigma"])
                self._marginal_likelihood(
                    pm, pt, eta, tau, sigma, groups, n_groups, (n_c, ybar, ss), len(d.y)
                )
                return model
            if self.group:
                tau = pm.Exponential("tau", 1.0 / scales["group_sd"])
                a = self._group_vector(pm, pt, "a", tau, centred, n_groups)
                eta = eta + a[groups]
                for j, col in enumerate(d.varying):
                    tau_j = pm.Exponential(f"tau_{d.names[col]}", 1.0 / scales["group_sd"])
                    b = self._group_vector(pm, pt, f"b_{j}", tau_j, centred, n_groups)
                    eta = eta + b[groups] * X[:, col]
            self._likelihood(pm, pt, eta, d, fast, scales, (n_c, ybar, ss) if fast else None)
        return model

    def _pilot(self, d: _Design) -> tuple[float, float]:
        """Moment estimates of the between-group variance tau^2 and the per-case variance
        on the model's (scaled, link) scale, from least-squares residuals."""
        y = d.y
        if self.family == "gamma":
            y = np.log(y)
        if self.family == "bernoulli":
            p = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
            per_case = 1.0 / (p * (1 - p))
            # group log-odds with a half-count correction, and their sampling variances
            events = np.bincount(d.groups, weights=y, minlength=len(d.levels))
            n = np.maximum(d.counts, 1)
            logit = np.log((events + 0.5) / (n - events + 0.5))
            sampling = 1 / (events + 0.5) + 1 / (n - events + 0.5)
            return max(float(np.var(logit, ddof=1) - np.mean(sampling)), 0.0), per_case
        X = np.column_stack([np.ones(len(y)), d.X])
        resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        G, N = len(d.levels), len(y)
        n = d.counts
        means = np.bincount(d.groups, weights=resid, minlength=G) / np.maximum(n, 1)
        within = np.sum((resid - means[d.groups]) ** 2) / max(N - G, 1)
        between = np.sum(n * (means - resid.mean()) ** 2) / max(G - 1, 1)
        n0 = (N - np.sum(n**2) / N) / max(G - 1, 1)
        return max((between - within) / n0, 0.0), float(within)

    def _centred(self, d: _Design) -> np.ndarray:
        """Which groups to centre (see the module docstring)."""
        if not self.group:
            return np.zeros(len(d.levels), dtype=bool)
        if self.centred_threshold != "auto":
            return d.counts >= int(self.centred_threshold)
        tau2, per_case = self._pilot(d)
        return d.counts * tau2 / per_case >= 1.0

    def _marginalise(self, d: _Design) -> bool:
        """Integrate the group intercepts out (gaussian-type, random intercepts only)."""
        return bool(self.group) and not self.varying and self.family in ("gaussian", "lognormal")

    @staticmethod
    def _marginal_likelihood(pm, pt, eta, tau, sigma, groups, n_groups, cells, n):
        """Cell means with the group intercepts integrated out analytically.

        Within group g the cell means are jointly normal: r = ybar - eta has covariance
        D + tau^2 11', D = diag(sigma^2 / n_c). By the matrix determinant lemma and
        Sherman-Morrison, with w_c = n_c / sigma^2,
          log p(r) = -1/2 [sum w r^2 - tau^2 (sum w r)^2 / (1 + tau^2 sum w)
                           + sum log(sigma^2 / n_c) + log(1 + tau^2 sum w)] + const,
        and the within-cell sums of squares add -(n - C) log sigma - SS / (2 sigma^2).
        """
        n_c, ybar, ss = cells
        r = ybar - eta
        w = n_c / sigma**2
        sum_w = pt.inc_subtensor(pt.zeros(n_groups)[groups], w)
        sum_wr = pt.inc_subtensor(pt.zeros(n_groups)[groups], w * r)
        tau2 = tau**2
        quad = pt.sum(w * r**2) - pt.sum(tau2 * sum_wr**2 / (1 + tau2 * sum_w))
        logdet = pt.sum(pt.log(sigma**2 / n_c)) + pt.sum(pt.log1p(tau2 * sum_w))
        pm.Potential("cells_marginal", -0.5 * (quad + logdet))
        pm.Potential("within_cells", -(n - len(n_c)) * pt.log(sigma) - ss / (2 * sigma**2))

    @staticmethod
    def _group_vector(pm, pt, name, tau, centred, n_groups):
        """Group effects: centred where ``centred`` is true, non-centred elsewhere."""
        if centred.all():
            return pm.Normal(name, 0.0, tau, dims="group")
        if not centred.any():
            z = pm.Normal(f"{name}_z", 0.0, 1.0, dims="group")
            return pm.Deterministic(name, tau * z, dims="group")
        idx_c, idx_n = np.flatnonzero(centred), np.flatnonzero(~centred)
        a_c = pm.Normal(f"{name}_centred", 0.0, tau, shape=len(idx_c))
        z_n = pm.Normal(f"{name}_z", 0.0, 1.0, shape=len(idx_n))
        full = pt.zeros(n_groups)
        full = pt.set_subtensor(full[idx_c], a_c)
        full = pt.set_subtensor(full[idx_n], tau * z_n)
        return pm.Deterministic(name, full, dims="group")

    def _likelihood(self, pm, pt, eta, d, fast, scales, cells):
        fam = self.family
        if fam in SCALED_RESPONSE:
            sigma = pm.Exponential("sigma", 1.0 / scales["sigma"])
            if fast:
                n_c, ybar, ss = cells
                pm.Normal("y_cell_mean", eta, sigma / np.sqrt(n_c), observed=ybar)
                within = len(d.y) - len(n_c)
                pm.Potential("within_cells", -within * pt.log(sigma) - ss / (2 * sigma**2))
            elif fam == "student_t":
                nu = pm.Gamma("nu", 2.0, 0.1)
                pm.StudentT("y", nu=nu, mu=eta, sigma=sigma, observed=d.y)
            else:
                pm.Normal("y", eta, sigma, observed=d.y)
        elif fam == "gamma":
            shape = pm.Exponential("shape", 0.1)
            pm.Gamma("y", alpha=shape, beta=shape / pt.exp(eta), observed=d.y)
        else:
            pm.Bernoulli("y", logit_p=eta, observed=d.y)

    # -- fit ----------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        rng: int | np.random.Generator | None = None,
        progress: bool = True,
        check: bool = True,
        log_likelihood: bool = True,
    ) -> HierarchicalResult:
        """Sample the posterior; see the module docstring for the model and the gate."""
        import pymc as pm

        d = self._design(data)
        fast = self._use_fast_path(d)
        model = self._build(d, fast)
        seed = int(np.random.default_rng(rng).integers(0, 2**31 - 1))
        kwargs: dict[str, Any] = {"nuts": {"target_accept": self.target_accept}}
        # Far-tail proposals early in warm-up can overflow; NUTS rejects them (and counts
        # divergences, which the gate reports), so the numpy warning carries no information.
        with model, warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=min(chains, os.cpu_count() or 1),
                random_seed=seed,
                progressbar=progress,
                nuts_sampler=self.sampler,
                compute_convergence_checks=False,
                **kwargs,
            )
            # a Ctrl-C or SIGTERM raised inside the sampler's callbacks may have been
            # swallowed: stop here if one arrived (lacstats.interrupts)
            interrupts.check()
            if log_likelihood and not fast:
                pm.compute_log_likelihood(idata, progressbar=False)
        diagnostics = _diagnostics(idata, chains, draws)
        marginal = fast and self._marginalise(d)
        if marginal:
            idata = _draw_group_effects(idata, d, seed)
        result = HierarchicalResult(
            model=self,
            design=d,
            idata=idata,
            diagnostics=diagnostics,
            fast_path=fast,
            priors=self._priors_record(d),
            seed=seed,
            options={
                "draws": draws,
                "tune": tune,
                "chains": chains,
                "sampler": self.sampler,
                "target_accept": self.target_accept,
                "fast_path": fast,
                "group_effects": (
                    "integrated out, drawn from their conditional" if marginal else "sampled"
                ),
                "centred_groups": int(self._centred(d).sum()),
                "non_centred_groups": int((~self._centred(d)).sum()),
            },
        )
        if check and not diagnostics.passed:
            raise ConvergenceError(
                "the fit failed the convergence gate ("
                + "; ".join(diagnostics.problems())
                + "). Try more tuning and draws, a higher target_accept (e.g. 0.95), more "
                "informative priors on the group SDs, or check the model with fit(..., "
                "check=False).",
                diagnostics,
            )
        return result

    def _priors_record(self, d: _Design) -> dict[str, Any]:
        scales = {**DEFAULT_PRIORS, **(self.priors or {})}
        unit = d.y_scale if self.family in SCALED_RESPONSE else 1.0
        record = {
            "intercept": f"Normal(0, {scales['intercept']}) scaled; SD {scales['intercept'] * unit:.4g} on the original (link) scale",
            "group_sd": f"Exponential(rate {1 / scales['group_sd']:.3g}) scaled; prior mean {scales['group_sd'] * unit:.4g}",
        }
        for name, sd in zip(d.names, d.x_sd, strict=True):
            record[f"beta[{name}]"] = (
                f"Normal(0, {scales['beta']}) scaled; SD "
                f"{scales['beta'] * unit / sd:.4g} on the original scale"
            )
        if self.family in SCALED_RESPONSE:
            record["sigma"] = (
                f"Exponential(rate {1 / scales['sigma']:.3g}) scaled; prior mean "
                f"{scales['sigma'] * unit:.4g}"
            )
        return record


def _draw_group_effects(idata, d: _Design, seed: int):
    """Draw the integrated-out intercepts from their exact conditional posterior.

    Given (alpha, beta, tau, sigma), a_g | y ~ Normal(v_g sum_i r_i / sigma^2, v_g) with
    v_g = 1 / (1 / tau^2 + n_g / sigma^2) and r_i = y_i - alpha - x_i beta: one draw per
    posterior draw.
    """
    import xarray as xr

    post = idata["posterior"]
    alpha = np.asarray(post["alpha"])
    _chains, _draws = alpha.shape
    eta = alpha[..., None] + (np.asarray(post["beta"]) @ d.X.T if d.names else 0.0)
    tau, sigma = np.asarray(post["tau"]), np.asarray(post["sigma"])
    resid = d.y - eta
    n_groups = len(d.levels)
    sums = np.stack([resid[..., d.groups == g].sum(axis=-1) for g in range(n_groups)], -1)
    precision = 1.0 / tau[..., None] ** 2 + d.counts / sigma[..., None] ** 2
    var = 1.0 / precision
    mean = var * sums / sigma[..., None] ** 2
    gen = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    a = mean + np.sqrt(var) * gen.standard_normal(var.shape)
    coords = {
        "chain": post["chain"].to_numpy(),
        "draw": post["draw"].to_numpy(),
        "group": [str(g) for g in d.levels],
    }
    idata["posterior"] = post.to_dataset().assign(
        a=xr.DataArray(a, dims=("chain", "draw", "group"), coords=coords)
    )
    return idata


def _diagnostics(idata, chains: int, draws: int) -> Diagnostics:
    import arviz as az

    posterior = idata["posterior"]
    names = [v for v in posterior.data_vars if not v.endswith("_z")]
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")

    def extreme(ds, fn):
        values = [np.asarray(ds[v]).ravel() for v in ds.data_vars]
        values = np.concatenate(values) if values else np.array([np.nan])
        return float(fn(values[np.isfinite(values)])) if np.isfinite(values).any() else np.nan

    divergences = int(np.asarray(idata["sample_stats"]["diverging"]).sum())
    return Diagnostics(
        extreme(rhat, np.max),
        extreme(bulk, np.min),
        extreme(tail, np.min),
        divergences,
        draws,
        chains,
    )


def _interval(draws: np.ndarray, prob: float = INTERVAL) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [(1 - prob) / 2, 1 - (1 - prob) / 2])
    return float(lo), float(hi)


@dataclass
class HierarchicalResult:
    """A fitted hierarchical model; numbers are on the original (link) scale."""

    model: HierarchicalModel
    design: _Design = field(repr=False)
    idata: Any = field(repr=False)
    diagnostics: Diagnostics
    fast_path: bool
    priors: dict[str, Any]
    seed: int
    options: dict[str, Any]

    # -- draws on the original scale ------------------------------------------------------
    def _draws(self, name: str) -> np.ndarray:
        return np.asarray(self.idata["posterior"][name]).reshape(
            -1, *np.asarray(self.idata["posterior"][name]).shape[2:]
        )

    @property
    def _unit(self) -> float:
        return self.design.y_scale if self.model.family in SCALED_RESPONSE else 1.0

    def _betas(self) -> np.ndarray:
        d = self.design
        if not d.names:
            return np.zeros((len(self._draws("alpha")), 0))
        return self._draws("beta") * self._unit / d.x_sd

    def _intercept(self) -> np.ndarray:
        d = self.design
        return d.y_shift + self._unit * self._draws("alpha") - self._betas() @ d.x_mean

    def _row(self, term: str, draws: np.ndarray) -> dict[str, Any]:
        lo, hi = _interval(draws)
        return {
            "term": term,
            "mean": float(draws.mean()),
            "sd": float(draws.std(ddof=1)),
            "ci_low": lo,
            "ci_high": hi,
            "prob": INTERVAL,
        }

    def fixed_effects(self) -> pd.DataFrame:
        """Fixed effects on the original (link) scale: ``term``, ``mean``, ``sd``,
        ``ci_low``, ``ci_high`` (central interval) and ``prob`` (its probability)."""
        rows = [self._row("Intercept", self._intercept())]
        betas = self._betas()
        rows += [self._row(name, betas[:, j]) for j, name in enumerate(self.design.names)]
        return pd.DataFrame(rows)

    def variance_components(self) -> pd.DataFrame:
        """Group and residual standard deviations on the original (link) scale."""
        rows = []
        if self.model.group:
            rows.append(
                self._row(f"{self.model.group} (intercept)", self._draws("tau") * self._unit)
            )
            for v in self.model.varying:
                j = self.design.names.index(v)
                rows.append(
                    self._row(
                        f"{self.model.group} ({v})",
                        self._draws(f"tau_{v}") * self._unit / self.design.x_sd[j],
                    )
                )
        if self.model.family in SCALED_RESPONSE:
            rows.append(self._row("residual", self._draws("sigma") * self._unit))
        return pd.DataFrame(rows)

    def group_effects(self) -> pd.DataFrame:
        """One row per group: its intercept deviation from the regional mean, ``n`` cases and
        ``shrinkage``: posterior variance of the deviation over the mean group variance
        (for normal models exactly sigma^2 / (sigma^2 + n tau^2): 1 = fully pooled)."""
        if not self.model.group:
            raise DataError("a pooled model has no group effects", column="group")
        a = self._draws("a") * self._unit
        tau2 = float(np.mean((self._draws("tau") * self._unit) ** 2))
        rows = []
        for g, level in enumerate(self.design.levels):
            row = self._row(str(level), a[:, g])
            row["group"] = row.pop("term")
            row["n"] = int(self.design.counts[g])
            row["shrinkage"] = float(np.var(a[:, g]) / tau2) if tau2 > 0 else 1.0
            rows.append(row)
        cols = ["group", "mean", "sd", "ci_low", "ci_high", "prob", "n", "shrinkage"]
        return pd.DataFrame(rows)[cols]

    def _linear(self, new: pd.DataFrame) -> np.ndarray:
        d = self.design
        X = patsy.dmatrix(self.model.formula.split("~", 1)[1], new, return_type="dataframe")
        X = X.reindex(columns=d.names, fill_value=0.0).to_numpy(dtype=float)
        eta = self._intercept()[:, None] + self._betas() @ X.T
        if self.model.group:
            lookup = {level: i for i, level in enumerate(d.levels)}
            idx = np.array([lookup.get(v, -1) for v in new[self.model.group]])
            a = self._draws("a") * self._unit
            known = idx >= 0
            eta[:, known] += a[:, idx[known]]
        return eta

    def predict(
        self, new: pd.DataFrame, kind: str = "mean", rng: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """``kind="mean"``: posterior mean of the expected response per row (original
        scale; a group not in the data gets the regional mean); ``kind="response"``:
        posterior predictive draws, shape (draws, rows)."""
        eta = self._linear(new)
        fam = self.model.family
        sigma = self._draws("sigma")[:, None] * self._unit if fam in SCALED_RESPONSE else None
        if kind == "mean":
            if fam == "lognormal":
                return np.exp(eta + sigma**2 / 2).mean(axis=0)
            if fam == "gamma":
                return np.exp(eta).mean(axis=0)
            if fam == "bernoulli":
                return (1 / (1 + np.exp(-eta))).mean(axis=0)
            return eta.mean(axis=0)
        if kind != "response":
            raise DataError(
                f"argument 'kind' must be mean or response; got {kind!r}", column="kind"
            )
        gen = np.random.default_rng(rng)
        if fam == "lognormal":
            return np.exp(eta + sigma * gen.standard_normal(eta.shape))
        if fam == "gaussian":
            return eta + sigma * gen.standard_normal(eta.shape)
        if fam == "student_t":
            nu = self._draws("nu")[:, None]
            return eta + sigma * gen.standard_t(nu, eta.shape)
        if fam == "gamma":
            shape = self._draws("shape")[:, None]
            return gen.gamma(shape, np.exp(eta) / shape)
        return (gen.random(eta.shape) < 1 / (1 + np.exp(-eta))).astype(float)

    def ppc(
        self,
        data: pd.DataFrame,
        *,
        n_draws: int = 500,
        rng: int | np.random.Generator | None = None,
    ):
        """Posterior predictive checks: observed statistics beside their replicated
        distribution, with the posterior predictive p-value P(T(y_rep) >= T(y)).
        Returns ``(table, figure)``."""
        import matplotlib.pyplot as plt

        gen = np.random.default_rng(rng)
        response = self.model.formula.split("~", 1)[0].strip()
        rows = data.dropna(subset=[response])
        y = rows[response].to_numpy(dtype=float)
        reps = self.predict(rows, kind="response", rng=gen)
        take = gen.choice(len(reps), size=min(n_draws, len(reps)), replace=False)
        reps = reps[take]
        log_scale = self.model.family in ("lognormal", "gamma")
        f = np.log if log_scale else (lambda v: v)
        stats_ = {
            "mean": lambda v: np.mean(f(v), axis=-1),
            "sd": lambda v: np.std(f(v), axis=-1),
            "p10": lambda v: np.quantile(f(v), 0.1, axis=-1),
            "median": lambda v: np.median(f(v), axis=-1),
            "p90": lambda v: np.quantile(f(v), 0.9, axis=-1),
        }
        table = []
        for name, fn in stats_.items():
            obs, rep = float(fn(y)), fn(reps)
            lo, hi = _interval(rep)
            table.append(
                {
                    "statistic": f"{name} of {'log ' if log_scale else ''}{response}",
                    "observed": obs,
                    "replicated_mean": float(rep.mean()),
                    "ci_low": lo,
                    "ci_high": hi,
                    "ppp": float(np.mean(rep >= obs)),
                }
            )
        fig, ax = plt.subplots(figsize=(6, 3.5))
        bins = np.histogram_bin_edges(f(y), bins=40)
        for r in reps[:50]:
            ax.hist(f(r), bins=bins, histtype="step", color="#9ecae1", alpha=0.4, density=True)
        ax.hist(
            f(y), bins=bins, histtype="step", color="black", lw=1.5, density=True, label="observed"
        )
        ax.set_xlabel(f"{'log ' if log_scale else ''}{response}")
        ax.set_title("Posterior predictive check (blue: 50 replicated data sets)")
        ax.legend(frameon=False)
        return pd.DataFrame(table), fig

    def loo(self):
        """PSIS-LOO (ArviZ); not available from the sufficient-statistics fast path.

        ArviZ's warning about large Pareto k is not raised but recorded: the result's
        ``high_pareto_k`` attribute counts observations with k above ArviZ's threshold
        (0.7 here), whose LOO contributions are unreliable (Vehtari et al. 2024, JMLR).
        """
        import arviz as az

        if self.fast_path:
            raise DataError(
                "LOO needs the pointwise likelihood: refit with fast_path=False",
                column="fast_path",
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
            result = az.loo(self.idata, pointwise=True)
        n_samples = len(self._draws("alpha"))
        good_k = min(1 - 1 / np.log10(n_samples), 0.7)  # ArviZ's threshold
        result.high_pareto_k = int(np.sum(np.asarray(result.pareto_k) > good_k))
        return result

    def to_frame(self) -> pd.DataFrame:
        fixed = self.fixed_effects().assign(component="fixed")
        var = self.variance_components().assign(component="sd")
        return pd.concat([fixed, var], ignore_index=True)

    def summary(self) -> str:
        d = self.diagnostics
        status = "passed" if d.passed else "FAILED: " + "; ".join(d.problems())
        return "\n".join(
            [
                (
                    f"{self.model.family} hierarchical model: {self.model.formula} | "
                    f"{self.model.group} ({len(self.design.levels)} groups, {len(self.design.y)} cases"
                    f"{', sufficient-statistics fast path' if self.fast_path else ''})"
                ),
                self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"),
                (
                    f"diagnostics: R-hat max {d.rhat_max:.4f}, bulk ESS min {d.ess_bulk_min:.0f}, "
                    f"tail ESS min {d.ess_tail_min:.0f}, divergences {d.divergences}: {status}"
                ),
            ]
        )

    __str__ = summary
