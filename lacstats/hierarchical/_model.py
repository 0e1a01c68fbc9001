"""``HierarchicalModel``: specification, fitting, assembling the posterior."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from lacstats import families, interrupts
from lacstats.errors import ConvergenceError, DataError
from lacstats.families import Family
from lacstats.hierarchical import _collapsed as collapsed
from lacstats.hierarchical import _compiled as compiled
from lacstats.hierarchical import _full as full
from lacstats.hierarchical._design import Design, build_design, split_group
from lacstats.hierarchical._result import HierarchicalResult, diagnostics

#: Default prior scales of the hierarchical models' parameters (override with ``priors=``).
DEFAULT_PRIORS = {
    "intercept": 2.5,
    "beta": 2.5,
    "group_sd": 1.0,
    "sigma": 1.0,
    "correlation": 1.0,
}


#: nutpie's ways of adapting the mass matrix that ``HierarchicalModel(adaptation=)`` offers.
ADAPTATIONS = ("diag", "low_rank")


class HierarchicalModel:
    """A multilevel regression with group-varying intercepts and, for the terms named in
    ``varying``, group-varying slopes, correlated by default (LKJ prior).

    Parameters
    ----------
    formula : patsy formula of the fixed part, e.g. ``"weekly_cost ~ risk_score"``.
    group : the grouping column (``None``: a pooled model), or two columns
        ``(outer, inner)`` for groups nested in larger ones, e.g. ``("region", "authority")``: an
        intercept per region and, within it, an intercept (and the ``varying`` slopes) per
        authority (full likelihood only; every inner level must lie in one outer level).
    family : one of ``lognormal``, ``gaussian``, ``student_t``, ``gamma``, ``bernoulli``,
        ``binomial`` (with ``trials``), ``poisson`` or ``negative_binomial`` (optionally
        with ``exposure``), or its :class:`lacstats.families.Family`; an unknown family
        raises :class:`DataError` here.
    varying : formula terms whose slopes vary by group.
    correlated : model the correlation of the varying coefficients (LKJ(eta) prior on the
        correlation matrix, eta = ``priors["correlation"]``, default 1: uniform, as brms); ``False`` makes
        them independent on the internal (centred) scale.
    trials : for ``binomial``, the column of denominators (brms's ``y | trials(n)``).
    exposure : for count families, the column of exposures (a log offset), e.g. population.
    priors : scales on the scaled data (keys ``intercept``, ``beta``, ``group_sd``,
        ``sigma``, ``correlation``): intercept and slopes Normal(0, 2.5), group SDs and
        sigma Exponential with mean 1 (rstanarm's weakly informative defaults, Gabry and
        Goodrich 2020), LKJ(1).
    fast_path : ``"auto"`` (default) fits gaussian and lognormal models from per-group
        sufficient statistics with every coefficient integrated out (``_collapsed.py``);
        ``False`` samples the full likelihood (``_full.py``).
    sampler : ``"nutpie"`` (default): nutpie's NUTS on the hand-written log densities of
        ``_kernels.py``, compiled once per machine for every data size, structure and family
        (by the C compiler in about a second the first time, or by numba in several where
        there is none; then read from the cache: ``_compiled.py``); ``"pymc"``: PyMC's own NUTS on the same model written in PyMC
        (``_collapsed.build``, ``_full.build``), on PyTensor's C backend.
    adaptation : how nutpie adapts its mass matrix during tuning: ``"diag"`` (default), a
        diagonal matrix, as Stan and PyMC; ``"low_rank"``, nutpie's diagonal plus low-rank
        correction fitted by minimising a Fisher divergence (Seyboldt, Carlson and Carpenter
        2026), for posteriors whose
        parameters are strongly correlated: on the far-from-home model (a rare outcome),
        three to four times the effective draws of ``"diag"`` for the same number of draws,
        at about 1.2 times the time per draw. Only for ``sampler="nutpie"``.
    centred_threshold : for the full likelihood, ``"auto"`` centres a group when its own
        data outweigh the prior (``_full.centred_groups``); an integer centres groups with
        at least that many rows.
    observation_effects : for ``binomial`` and ``poisson``, one normal effect per row on the
        link scale (an observation-level random effect) for variation beyond the family's
        own, e.g. an authority's share moving between years more than binomial sampling
        allows; predictions of ``kind="mean"`` and ``"linear"`` leave it out (a group's
        level), ``"response"`` draws it anew.
    autoscale : centre and scale predictors (and a gaussian-type response) so that the
        priors are weakly informative whatever the units; ``False`` applies them to the
        data as given (simulation-based calibration needs this).

    Examples
    --------
    >>> from lacstats import ConvergenceError, synthetic
    >>> from lacstats.hierarchical import HierarchicalModel
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> model = HierarchicalModel("weekly_cost ~ risk_score", group="authority")
    >>> try:  # far too few draws: the convergence gate refuses the numbers
    ...     model.fit(cases, draws=100, tune=100, chains=2, rng=1, progress=False)
    ... except ConvergenceError as error:
    ...     print(str(error).splitlines()[0][:40])
    ...
    the fit failed the convergence gate (R-h
    >>> fit = model.fit(cases, draws=1000, tune=500, chains=4, rng=1, progress=False)
    >>> fit.diagnostics.passed
    True
    >>> fit.fixed_effects()[["term", "mean"]].round(2)
             term  mean
    0   Intercept  7.00
    1  risk_score  0.04
    """

    def __init__(
        self,
        formula: str,
        *,
        group: str | tuple[str, str] | None = "authority",
        family: str | Family = "lognormal",
        varying: tuple[str, ...] = (),
        correlated: bool = True,
        trials: str | None = None,
        exposure: str | None = None,
        priors: dict[str, float] | None = None,
        sampler: str = "nutpie",
        adaptation: str = "diag",
        centred_threshold: int | str = "auto",
        fast_path: bool | str = "auto",
        target_accept: float = 0.9,
        autoscale: bool = True,
        observation_effects: bool = False,
    ) -> None:
        self.formula = formula
        self.group = group
        #: the likelihood's :class:`~lacstats.families.Family` (a name is looked up)
        self.family = families.get(family)
        self.varying = tuple(varying)
        self.correlated = correlated
        self.trials = trials
        self.exposure = exposure
        self.priors = priors
        self.sampler = sampler
        self.adaptation = adaptation
        self.centred_threshold = centred_threshold
        self.fast_path = fast_path
        self.target_accept = target_accept
        self.autoscale = autoscale
        self.observation_effects = observation_effects

    def __repr__(self) -> str:
        return (
            f"HierarchicalModel({self.formula!r}, group={self.group!r}, "
            f"family={self.family.name!r}, varying={self.varying!r})"
        )

    # -- checks ---------------------------------------------------------------------------
    def _check_options(self) -> None:
        if self.sampler not in ("pymc", "nutpie"):
            raise DataError(
                f"argument 'sampler' must be pymc or nutpie; got {self.sampler!r}",
                column="sampler",
            )
        if self.adaptation not in ADAPTATIONS:
            raise DataError(
                f"argument 'adaptation' must be one of {', '.join(ADAPTATIONS)}; got "
                f"{self.adaptation!r}",
                column="adaptation",
            )
        if self.sampler == "pymc" and self.adaptation != "diag":
            raise DataError(
                f"adaptation={self.adaptation!r} is nutpie's: use sampler='nutpie'",
                column="adaptation",
            )
        unknown = sorted(set(self.priors or {}) - set(DEFAULT_PRIORS))
        if unknown:
            raise DataError(
                f"unknown prior(s) {unknown}; known: {sorted(DEFAULT_PRIORS)}", column="priors"
            )
        if self.fast_path is True and (
            not self.family.collapsible or not self.group or self.nested
        ):
            raise DataError(
                "the sufficient-statistics path is for gaussian and lognormal models with "
                "one grouping column",
                column="fast_path",
            )
        split_group(self.group)
        if self.observation_effects and not self.family.observation_effects:
            raise DataError(
                "observation_effects is for the binomial and poisson families",
                column="observation_effects",
            )

    @property
    def nested(self) -> bool:
        """True when groups are nested in outer groups (``group=(outer, inner)``).

        Examples
        --------
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> HierarchicalModel("weekly_cost ~ 1", group=("authority_type", "authority")).nested
        True
        >>> HierarchicalModel("weekly_cost ~ 1", group="authority").nested
        False
        """
        return split_group(self.group)[0] is not None

    @property
    def group_column(self) -> str | None:
        """The innermost grouping column (the groups of ``group_effects``).

        Examples
        --------
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> HierarchicalModel("weekly_cost ~ 1", group=("authority_type", "authority")).group_column
        'authority'
        """
        return split_group(self.group)[1]

    @property
    def outer_column(self) -> str | None:
        """The outer grouping column of a nested model (else ``None``).

        Examples
        --------
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> HierarchicalModel("weekly_cost ~ 1", group=("authority_type", "authority")).outer_column
        'authority_type'
        >>> HierarchicalModel("weekly_cost ~ 1", group="authority").outer_column is None
        True
        """
        return split_group(self.group)[0]

    @property
    def _scales(self) -> dict[str, float]:
        return {**DEFAULT_PRIORS, **(self.priors or {})}

    def design(self, data: pd.DataFrame) -> Design:
        """Validate ``data`` and build the scaled design (raises before any sampling).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> design = HierarchicalModel("weekly_cost ~ risk_score").design(cases)
        >>> design.names, len(design.levels), len(design.y)
        (('risk_score',), 19, 1253)
        """
        self._check_options()
        return build_design(
            self.formula,
            data,
            family=self.family,
            group=self.group,
            varying=self.varying,
            autoscale=self.autoscale,
            trials=self.trials,
            exposure=self.exposure,
        )

    def _collapsed(self) -> bool:
        return (
            bool(self.group)
            and not self.nested
            and self.family.collapsible
            and self.fast_path in (True, "auto")
            and not self.observation_effects
        )

    # -- fit ------------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        rng: int | np.random.Generator | None = None,
        progress: bool = False,
        check: bool = True,
        log_likelihood: bool = True,
    ) -> HierarchicalResult:
        """Sample the posterior and return a :class:`HierarchicalResult`; with ``check``,
        raise :class:`ConvergenceError` (saying what to change) if the fit fails the gate.
        The sampler is quiet unless ``progress=True`` asks it to show its progress bar.
        ``log_likelihood`` is kept for compatibility: the pointwise log-likelihood is
        computed on demand by ``result.loo()``.

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> model = HierarchicalModel("weekly_cost ~ risk_score")
        >>> fit = model.fit(cases, draws=1000, tune=500, chains=4, rng=1)  # quiet: progress=False
        >>> fit.diagnostics.passed, fit.fixed_effects()['term'].tolist()
        (True, ['Intercept', 'risk_score'])
        """
        del log_likelihood
        start = time.perf_counter()
        d = self.design(data)
        seed = int(np.random.default_rng(rng).integers(0, 2**31 - 1))
        collapse = self._collapsed()
        scales = self._scales
        grouped = bool(self.group)
        if collapse:
            stats = collapsed.statistics(d)
            lam = np.array([scales["intercept"]] + [scales["beta"]] * len(d.names)) ** -2.0
            q = d.q
            correlated = bool(self.correlated and q > 1)
            centred = np.zeros(len(d.levels), dtype=bool)

            def pymc_model():
                model = collapsed.build(q, correlated, scales["correlation"])
                values = collapsed.data_values(
                    stats, lam, 1 / scales["group_sd"], 1 / scales["sigma"]
                )
                return model, values

            def native_model():
                return compiled.collapsed_model(stats, lam, scales, q, correlated)

        else:
            centred = full.centred_groups(d, self.family, self.centred_threshold, grouped)
            outer_centred = d.outer is not None and full.centre_outer(d, self.family)
            options = {
                "centred": centred,
                "scales": scales,
                "grouped": grouped,
                "correlated": self.correlated,
                "outer_centred": outer_centred,
                "observation_effects": self.observation_effects,
            }

            def pymc_model():
                return full.build(d, self.family, **options), None

            def native_model():
                return compiled.full_model(d, self.family, **options)

        built = time.perf_counter()
        kind = "collapsed" if collapse else "full"
        sampled = self._sample(kind, pymc_model, native_model, draws, tune, chains, seed, progress)
        draws_, sample_stats, compile_seconds, reused, sample_seconds = sampled
        post_start = time.perf_counter()
        if collapse:
            idata = _collapsed_posterior(
                draws_, sample_stats, stats, lam, d, seed, grouped, self.correlated
            )
        else:
            idata = _full_posterior(draws_, sample_stats, d, self.family, grouped, self.correlated)
        diag = diagnostics(idata, chains, draws)
        timings = {
            "build": built - start,
            "compile": compile_seconds,
            "sample": sample_seconds,
            "post": time.perf_counter() - post_start,
        }
        result = HierarchicalResult(
            model=self,
            design=d,
            idata=idata,
            diagnostics=diag,
            fast_path=collapse,
            priors=self._priors_record(d),
            seed=seed,
            options={
                "draws": draws,
                "tune": tune,
                "chains": chains,
                "sampler": self.sampler,
                "adaptation": self.adaptation,
                "target_accept": self.target_accept,
                "correlated": self.correlated,
                "fast_path": collapse,
                "coefficients": (
                    "integrated out, drawn exactly from their conditional posterior"
                    if collapse
                    else "sampled"
                ),
                "centred_groups": int(centred.sum()),
                "non_centred_groups": int((~centred).sum()) if self.group and not collapse else 0,
                "compiled_model_reused": reused,
                "outer_centred": bool(not collapse and d.outer is not None and outer_centred),
            },
            timings=timings,
        )
        if check and not diag.passed:
            raise ConvergenceError(
                "the fit failed the convergence gate ("
                + "; ".join(diag.problems())
                + "). To fix it: "
                + diag.advice()
                + ". Inspect the fit with fit(..., check=False).",
                diag,
            )
        return result

    def _sample(self, kind, pymc_model, native_model, draws, tune, chains, seed, progress):
        """Compile (or load) and sample; returns (named draws, sample statistics, compile s,
        whether the compiled code was ready in this process, sample s)."""
        cores = min(chains, os.cpu_count() or 1)
        start = time.perf_counter()
        if self.sampler == "pymc":
            import pymc as pm

            model, values = pymc_model()
            if values is not None:
                pm.set_data(values, model=model)
            with model, warnings.catch_warnings(), np.errstate(over="ignore"):
                warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
                trace = pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=seed,
                    progressbar=progress,
                    target_accept=self.target_accept,
                    compute_convergence_checks=False,
                    nuts_sampler="pymc",
                )
            # a Ctrl-C or SIGTERM raised inside the sampler's callbacks may have been
            # swallowed: stop here if one arrived (lacstats.interrupts)
            interrupts.check()
            posterior = trace["posterior"]
            named = {name: np.asarray(posterior[name]) for name in posterior.data_vars}
            return named, _stats(trace), 0.0, False, time.perf_counter() - start
        import nutpie

        reused = compiled.ready(kind)
        fitted, layout = native_model()
        compiled_at = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            trace = nutpie.sample(
                fitted,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                target_accept=self.target_accept,
                adaptation=self.adaptation,
                progress_bar=progress,
                save_warmup=False,
            )
        interrupts.check()  # as above: a signal swallowed inside nutpie's callbacks
        sampled = time.perf_counter()
        named = layout.unpack(np.asarray(trace["posterior"]["x"]))
        return named, _stats(trace), compiled_at - start, reused, sampled - compiled_at

    def _priors_record(self, d: Design) -> dict[str, Any]:
        scales = self._scales
        unit = d.y_scale  # 1 but for a response the design scaled
        record = {
            "intercept": (
                f"Normal(0, {scales['intercept']}) scaled; SD "
                f"{scales['intercept'] * unit:.4g} on the original (link) scale"
            ),
            "group_sd": (
                f"Exponential(rate {1 / scales['group_sd']:.3g}) scaled; prior mean "
                f"{scales['group_sd'] * unit:.4g}"
            ),
        }
        if self.group and self.varying and self.correlated:
            record["correlation"] = f"LKJ({scales['correlation']:g}) on the scaled coefficients"
        for name, sd in zip(d.names, d.x_sd, strict=True):
            record[f"beta[{name}]"] = (
                f"Normal(0, {scales['beta']}) scaled; SD "
                f"{scales['beta'] * unit / sd:.4g} on the original scale"
            )
        record.update(self.family.prior_records(scales, unit))
        return record


# -- posterior assembly -------------------------------------------------------------------
def _stats(trace):
    """The sampler's statistics (divergences, tree depth, ...) as a Dataset."""
    return trace["sample_stats"].to_dataset()


def _tau_corr(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group SDs and the correlations of each pair i < k (in ``np.triu_indices`` order)."""
    cov = L @ np.swapaxes(L, -1, -2)
    tau = np.sqrt(np.einsum("...ii->...i", cov))
    i, k = np.triu_indices(L.shape[-1], 1)
    corr = cov[..., i, k] / (tau[..., i] * tau[..., k])
    return tau, corr


def _dataset(sample_stats, variables: dict[str, tuple[tuple[str, ...], np.ndarray]], d: Design):
    import xarray as xr

    chains, draws = next(iter(variables.values()))[1].shape[:2]
    coef = ["intercept", *(d.names[j] for j in d.varying)]
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws),
        "term": list(d.names),
        "group": [str(g) for g in d.levels],
        "outer": [str(g) for g in d.outer_levels],
        "coef": coef,
        "pair": [
            f"{coef[i]}:{coef[k]}" for i, k in zip(*np.triu_indices(len(coef), 1), strict=True)
        ],
    }
    data = {name: (("chain", "draw", *dims), values) for name, (dims, values) in variables.items()}
    ds = xr.Dataset(data)
    used = {dim for dims, _ in variables.values() for dim in dims} | {"chain", "draw"}
    ds = ds.assign_coords({k: v for k, v in coords.items() if k in used})
    return xr.DataTree.from_dict({"posterior": ds, "sample_stats": sample_stats})


def _collapsed_posterior(
    named, sample_stats, stats, lam, d: Design, seed: int, grouped: bool, correlated
):
    sigma = named["sigma"]
    L = named["L"]
    chains, draws = sigma.shape
    q = L.shape[-1]
    gen = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    beta, b = collapsed.draw_coefficients(stats, sigma.reshape(-1), L.reshape(-1, q, q), lam, gen)
    tau, corr = _tau_corr(L)
    variables = {
        "alpha": ((), beta[:, 0].reshape(chains, draws)),
        "beta": (("term",), beta[:, 1:].reshape(chains, draws, -1)),
        "sigma": ((), sigma),
    }
    if grouped:
        variables["b"] = (("group", "coef"), b.reshape(chains, draws, *b.shape[1:]))
        variables["tau"] = (("coef",), tau)
        if q > 1 and correlated:
            variables["corr"] = (("pair",), corr)
    return _dataset(sample_stats, variables, d)


def _full_posterior(
    named, sample_stats, d: Design, family: Family, grouped: bool, correlated: bool
):
    mu = named["mu"]
    chains, draws = mu.shape[:2]
    k = len(d.names)
    beta = np.zeros((chains, draws, k))
    fixed_cols = [j for j in range(k) if j not in d.varying]
    if fixed_cols:
        beta[..., fixed_cols] = named["beta_fixed"]
    for i, j in enumerate(d.varying, start=1):
        beta[..., j] = mu[..., i]
    variables: dict[str, Any] = {"alpha": ((), mu[..., 0]), "beta": (("term",), beta)}
    if grouped:
        c = named["c"]
        centre = np.repeat(mu[:, :, None, :], c.shape[2], axis=2)
        if d.outer is not None:
            r = named["r"]
            centre[..., 0] += r[:, :, d.outer]
            variables["r"] = (("outer",), r)
            variables["tau_outer"] = ((), named["tau_outer"])
        variables["b"] = (("group", "coef"), c - centre)
        tau, corr = _tau_corr(named["L"])
        variables["tau"] = (("coef",), tau)
        if mu.shape[-1] > 1 and correlated:
            variables["corr"] = (("pair",), corr)
    for name in (*(p.output for p in family.parameters), "sigma_obs"):
        if name in named:
            variables[name] = ((), named[name])
    if "obs_z" in named:
        e = named["obs_z"] * named["sigma_obs"][..., None]
        variables["obs_effect"] = (("row",), e)
    return _dataset(sample_stats, variables, d)
