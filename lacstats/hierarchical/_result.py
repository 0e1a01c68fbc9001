"""Results of hierarchical fits: diagnostics, the fitted model, posterior predictive checks.

Every number a result reports is on the user's scale: coefficients per unit of each
predictor, the intercept (and each group's intercept deviation) at x = 0, group SDs and
correlations of the coefficients as lme4's ``VarCorr``, brms and Bambi print them. For a
model with varying slopes the internal coefficients (predictors centred and scaled) map to
the user's by a linear map T, so Sigma_user = T Sigma T' draw by draw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import patsy

from lacstats.errors import DataError
from lacstats.hierarchical._design import Design
from lacstats.results import Result

if TYPE_CHECKING:
    from lacstats.hierarchical._model import HierarchicalModel

RHAT_MAX = 1.01
ESS_MIN = 400
#: The level of the central posterior intervals the results report unless asked otherwise.
INTERVAL = 0.95
#: Posterior variables the gate checks (internal reparameterisations are left out).
GATED = (
    "alpha",
    "beta",
    "b",
    "tau",
    "corr",
    "r",
    "tau_outer",
    "sigma",
    "nu",
    "shape",
    "phi",
    "sigma_obs",
)


@dataclass(frozen=True)
class Diagnostics(Result):
    """Convergence diagnostics of a fit and whether it passes the gate (R-hat <= 1.01,
    bulk and tail ESS >= 400, no divergences; Vehtari et al. 2021, Bayesian Analysis 16,
    667-718).

    Examples
    --------
    >>> from lacstats.hierarchical import Diagnostics
    >>> ok = Diagnostics(rhat_max=1.003, ess_bulk_min=1450, ess_tail_min=1210, divergences=0, draws=1000, chains=4)
    >>> ok.passed
    True
    >>> poor = Diagnostics(rhat_max=1.04, ess_bulk_min=180, ess_tail_min=390, divergences=3, draws=200, chains=2)
    >>> poor.passed, poor.problems()
    (False, ['R-hat 1.040 > 1.01', 'bulk ESS 180 < 400', 'tail ESS 390 < 400', '3 divergent transitions'])
    """

    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    draws: int
    chains: int

    @property
    def passed(self) -> bool:
        """Whether the fit passes the gate: R-hat <= 1.01, bulk and tail ESS >= 400 and no
        divergences.

        Examples
        --------
        >>> from lacstats.hierarchical import Diagnostics
        >>> Diagnostics(rhat_max=1.003, ess_bulk_min=1450, ess_tail_min=1210, divergences=0, draws=1000, chains=4).passed
        True
        >>> Diagnostics(rhat_max=1.003, ess_bulk_min=390, ess_tail_min=1210, divergences=0, draws=1000, chains=4).passed
        False
        """
        return (
            self.rhat_max <= RHAT_MAX
            and self.ess_bulk_min >= ESS_MIN
            and self.ess_tail_min >= ESS_MIN
            and self.divergences == 0
        )

    def problems(self) -> list[str]:
        """What fails the gate, one phrase each (empty when the fit passes).

        Examples
        --------
        >>> from lacstats.hierarchical import Diagnostics
        >>> Diagnostics(rhat_max=1.02, ess_bulk_min=1450, ess_tail_min=350, divergences=0, draws=1000, chains=4).problems()
        ['R-hat 1.020 > 1.01', 'tail ESS 350 < 400']
        """
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

    def advice(self) -> str:
        """What to change when the gate fails.

        Examples
        --------
        >>> from lacstats.hierarchical import Diagnostics
        >>> print(Diagnostics(rhat_max=1.003, ess_bulk_min=180, ess_tail_min=390, divergences=3, draws=200, chains=2).advice())
        raise target_accept (e.g. HierarchicalModel(..., target_accept=0.99)); draw more (fit(..., draws=600)) or, where parameters are correlated, adapt a low-rank mass matrix (HierarchicalModel(..., adaptation='low_rank'))
        """
        tips = []
        if self.divergences:
            tips.append("raise target_accept (e.g. HierarchicalModel(..., target_accept=0.99))")
        if not (self.ess_bulk_min >= ESS_MIN and self.ess_tail_min >= ESS_MIN):
            need = ESS_MIN / max(min(self.ess_bulk_min, self.ess_tail_min), 1.0)
            tips.append(
                f"draw more (fit(..., draws={int(np.ceil(self.draws * need * 1.2 / 100) * 100)}))"
                " or, where parameters are correlated, adapt a low-rank mass matrix"
                " (HierarchicalModel(..., adaptation='low_rank'))"
            )
        if not self.rhat_max <= RHAT_MAX:
            tips.append("tune longer (fit(..., tune=2000)) or check the model's identification")
        return "; ".join(tips)

    def summary(self) -> str:
        status = "passed" if self.passed else "FAILED: " + "; ".join(self.problems())
        return (
            f"R-hat max {self.rhat_max:.4f}, bulk ESS min {self.ess_bulk_min:.0f}, tail ESS "
            f"min {self.ess_tail_min:.0f}, divergences {self.divergences}: {status}"
        )

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

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


def diagnostics(idata, chains: int, draws: int) -> Diagnostics:
    """The gate's numbers over the reported parameters of a fit's posterior.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> from lacstats.hierarchical import HierarchicalModel, diagnostics
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=1000, tune=500, chains=4, rng=1, progress=False)
    >>> again = diagnostics(fit.idata, chains=4, draws=1000)
    >>> again == fit.diagnostics
    True
    """
    import arviz as az

    posterior = idata["posterior"]
    names = [v for v in GATED if v in posterior.data_vars]
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")

    def extreme(ds, fn):
        values = [np.asarray(ds[v]).ravel() for v in ds.data_vars]
        values = np.concatenate(values) if values else np.array([np.nan])
        finite = values[np.isfinite(values)]
        return float(fn(finite)) if finite.size else np.nan

    divergences = int(np.asarray(idata["sample_stats"]["diverging"]).sum())
    return Diagnostics(
        extreme(rhat, np.max),
        extreme(bulk, np.min),
        extreme(tail, np.min),
        divergences,
        draws,
        chains,
    )


def _interval(draws: np.ndarray, level: float = INTERVAL) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def _row(term: str, draws: np.ndarray, level: float = INTERVAL) -> dict[str, Any]:
    lo, hi = _interval(draws, level)
    return {
        "term": term,
        "mean": float(draws.mean()),
        "sd": float(draws.std(ddof=1)),
        "ci_low": lo,
        "ci_high": hi,
        "level": level,
    }


def _check_level(level: float, prob: float | None = None) -> float:
    """``level``, or ``prob`` (its old name, still taken with a ``FutureWarning``),
    checked to lie strictly between 0 and 1."""
    if prob is not None:
        warnings.warn(
            "argument 'prob' is now 'level' (the interval's level, as elsewhere in lacstats)",
            FutureWarning,
            stacklevel=3,
        )
        level = prob
    if not 0 < level < 1:
        raise DataError(
            f"argument 'level' must lie strictly between 0 and 1; got {level!r}", column="level"
        )
    return float(level)


@dataclass(frozen=True)
class PosteriorPredictiveCheck(Result):
    """Observed statistics of the (log) response beside their replicated distribution,
    with the posterior predictive p-value P(T(y_rep) >= T(y)); ``observed`` and
    ``replicated`` (a few replicated data sets) are kept for plotting. ``table`` has one
    row per statistic: ``statistic``, ``observed``, ``replicated_mean``, ``ci_low`` and
    ``ci_high`` (the replicated statistic's central interval), ``level`` (its probability)
    and ``ppp``.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> from lacstats.hierarchical import HierarchicalModel
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=1000, tune=500, chains=4, rng=1, progress=False)
    >>> check = fit.ppc(cases, n_draws=100, rng=1)
    >>> check.table.columns.tolist()
    ['statistic', 'observed', 'replicated_mean', 'ci_low', 'ci_high', 'level', 'ppp']
    >>> check.label
    'log weekly_cost'
    """

    table: pd.DataFrame
    observed: np.ndarray = field(repr=False)
    replicated: np.ndarray = field(repr=False)
    label: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "statistics": self.table.to_dict(orient="records")}

    def summary(self) -> str:
        return f"posterior predictive check of {self.label}\n" + self.table.to_string(
            index=False, float_format=lambda v: f"{v:.4g}"
        )

    __str__ = summary


@dataclass(frozen=True)
class HierarchicalResult(Result):
    """A fitted hierarchical model; numbers are on the user's (link) scale.

    ``timings`` holds wall seconds: ``build`` (design and sufficient statistics),
    ``compile`` (0 when a compiled model of the same structure was reused), ``sample`` and
    ``post`` (exact draws of integrated-out coefficients and diagnostics).

    Examples
    --------
    >>> from lacstats import synthetic
    >>> from lacstats.hierarchical import HierarchicalModel
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=1000, tune=500, chains=4, rng=1, progress=False)
    >>> effects = fit.group_effects()
    >>> len(effects), effects.columns.tolist()[:4]
    (19, ['group', 'term', 'mean', 'sd'])
    >>> fit.variance_components()["term"].tolist()
    ['authority (intercept)', 'residual']
    >>> sorted(fit.timings)
    ['build', 'compile', 'post', 'sample']
    """

    model: HierarchicalModel
    design: Design = field(repr=False)
    idata: Any = field(repr=False)
    diagnostics: Diagnostics
    fast_path: bool
    priors: dict[str, Any]
    seed: int
    options: dict[str, Any]
    timings: dict[str, float]

    # -- draws on the user's scale -----------------------------------------------------
    def _draws(self, name: str) -> np.ndarray:
        values = np.asarray(self.idata["posterior"][name])
        return values.reshape(-1, *values.shape[2:])

    @property
    def _unit(self) -> float:
        """The response's scale in the design (1 unless the family scales it)."""
        return self.design.y_scale

    def _family_draws(self, user_scale: bool) -> dict[str, np.ndarray]:
        """The family's parameters' draws (draws, 1), by reported name; on the user's
        scale (a residual SD in the response's units) or the model's."""
        out = {}
        for p in self.model.family.parameters:
            values = self._draws(p.output)[:, None]
            out[p.output] = values * self._unit if user_scale and p.response_scale else values
        return out

    def _betas(self) -> np.ndarray:
        d = self.design
        if not d.names:
            return np.zeros((len(self._draws("alpha")), 0))
        return self._draws("beta") * self._unit / d.x_sd

    def _intercept(self) -> np.ndarray:
        d = self.design
        return d.y_shift + self._unit * self._draws("alpha") - self._betas() @ d.x_mean

    def _group_draws(self) -> np.ndarray:
        """Group deviations on the user's scale, (draws, groups, q)."""
        return self._draws("b") @ self.design.transform().T

    def _covariance(self) -> np.ndarray:
        """The group covariance matrix on the user's scale, (draws, q, q)."""
        tau = self._draws("tau")
        q = tau.shape[1]
        corr = np.broadcast_to(np.eye(q), (len(tau), q, q)).copy()
        if "corr" in self.idata["posterior"].data_vars:
            i, k = np.triu_indices(q, 1)
            corr[:, i, k] = corr[:, k, i] = self._draws("corr")
        cov = tau[:, :, None] * tau[:, None, :] * corr
        T = self.design.transform()
        return T @ cov @ T.T

    @property
    def _coef_names(self) -> list[str]:
        return ["intercept", *self.model.varying]

    def fixed_effects(self, level: float = INTERVAL, *, prob: float | None = None) -> pd.DataFrame:
        """Fixed effects, one row per coefficient. Columns: ``term``, ``mean``, ``sd``,
        ``ci_low`` and ``ci_high`` (the central posterior interval) and ``level`` (its
        probability; ``prob=`` is the old name of ``level``).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> fit.fixed_effects(level=0.9).columns.tolist()
        ['term', 'mean', 'sd', 'ci_low', 'ci_high', 'level']
        >>> fit.fixed_effects(level=0.9)[['term', 'level']]
                 term  level
        0   Intercept    0.9
        1  risk_score    0.9
        """
        level = _check_level(level, prob)
        rows = [_row("Intercept", self._intercept(), level)]
        betas = self._betas()
        rows += [_row(name, betas[:, j], level) for j, name in enumerate(self.design.names)]
        return pd.DataFrame(rows)

    def sd_draws(self) -> dict[str, np.ndarray]:
        """Posterior draws of the group SDs on the user's (link) scale: ``"{group}
        ({coef})"`` for the intercept and each varying slope and, when nested,
        ``"{outer} (intercept)"``.

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> {name: draws.shape for name, draws in fit.sd_draws().items()}  # 2 chains x 200 draws
        {'authority (intercept)': (400,)}
        """
        out: dict[str, np.ndarray] = {}
        if self.model.outer_column:
            out[f"{self.model.outer_column} (intercept)"] = self._draws("tau_outer") * self._unit
        if self.model.group:
            sds = np.sqrt(np.einsum("sii->si", self._covariance()))
            for k, name in enumerate(self._coef_names):
                out[f"{self.model.group_column} ({name})"] = sds[:, k]
        if getattr(self.model, "observation_effects", False):
            out["observation"] = self._draws("sigma_obs")
        return out

    def variance_components(
        self, level: float = INTERVAL, *, prob: float | None = None
    ) -> pd.DataFrame:
        """Group SDs of the intercept (at x = 0) and of each varying slope (and of the outer
        groups' intercepts when nested), their correlations, and the residual SD. Columns:
        ``term``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``level`` (as
        :meth:`fixed_effects`) and ``component`` (``sd`` or ``corr``, or the family's own
        such as ``shape``).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> fit.variance_components()[['term', 'component', 'level']]
                            term component  level
        0  authority (intercept)        sd   0.95
        1               residual        sd   0.95
        """
        level = _check_level(level, prob)
        rows = []
        group = self.model.group_column
        if group:
            cov = self._covariance()
            sds = np.sqrt(np.einsum("sii->si", cov))
            names = self._coef_names
            if self.model.outer_column:
                outer_sd = self._draws("tau_outer") * self._unit
                rows.append(
                    {
                        **_row(f"{self.model.outer_column} (intercept)", outer_sd, level),
                        "component": "sd",
                    }
                )
            for k, name in enumerate(names):
                rows.append({**_row(f"{group} ({name})", sds[:, k], level), "component": "sd"})
            for i in range(len(names)):
                for k in range(i + 1, len(names)):
                    corr = cov[:, i, k] / (sds[:, i] * sds[:, k])
                    rows.append(
                        {
                            **_row(f"{group} corr({names[i]}, {names[k]})", corr, level),
                            "component": "corr",
                        }
                    )
        for term, values, component in self.model.family.components(self._draws, self._unit):
            rows.append({**_row(term, values, level), "component": component})
        if getattr(self.model, "observation_effects", False):
            rows.append(
                {**_row("observation", self._draws("sigma_obs"), level), "component": "sd"}
            )
        return pd.DataFrame(rows)

    def outer_effects(self, level: float = INTERVAL, *, prob: float | None = None) -> pd.DataFrame:
        """A nested model's outer groups (e.g. regions): each intercept's deviation from the
        fixed intercept, one row per outer group (``group``, ``mean``, ``sd``, ``ci_low``,
        ``ci_high``, ``level``, ``n`` rows of data).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> model = HierarchicalModel("weekly_cost ~ risk_score", group=("authority_type", "authority"))
        >>> fit = model.fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> fit.outer_effects()[['group', 'n']]
             group    n
        0   County  559
        1  Unitary  694
        """
        level = _check_level(level, prob)
        if not self.model.outer_column:
            raise DataError("a model without nested groups has no outer effects", column="group")
        r = self._draws("r") * self._unit
        d = self.design
        rows_per = np.bincount(d.outer[d.groups], minlength=len(d.outer_levels))
        rows = []
        for k, outer in enumerate(d.outer_levels):
            row = _row(str(outer), r[:, k], level)
            row["group"] = row.pop("term")
            row["n"] = int(rows_per[k])
            rows.append(row)
        return pd.DataFrame(rows)[["group", "mean", "sd", "ci_low", "ci_high", "level", "n"]]

    def group_effects(self, level: float = INTERVAL, *, prob: float | None = None) -> pd.DataFrame:
        """One row per group and varying coefficient (``term``): its deviation from the
        fixed effect (for the intercept: at x = 0; when nested, from the fixed intercept
        plus its outer group's effect), ``n`` rows of data, and ``shrinkage``:
        posterior variance of the deviation over the group variance (for normal models
        with intercepts only exactly sigma^2 / (sigma^2 + n tau^2): 1 = fully pooled).
        Columns: ``group``, ``term``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``level``
        (as :meth:`fixed_effects`), ``n`` and ``shrinkage``.

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> effects = fit.group_effects()
        >>> len(effects), effects.columns.tolist()
        (19, ['group', 'term', 'mean', 'sd', 'ci_low', 'ci_high', 'level', 'n', 'shrinkage'])
        >>> effects[['group', 'term', 'n']].head(2)
                       group       term   n
        0   Bracknell Forest  intercept  45
        1  Brighton and Hove  intercept  73
        """
        level = _check_level(level, prob)
        if not self.model.group:
            raise DataError("a pooled model has no group effects", column="group")
        b = self._group_draws()
        var = np.mean(np.einsum("sii->si", self._covariance()), axis=0)
        rows = []
        for k, name in enumerate(self._coef_names):
            for g, name_g in enumerate(self.design.levels):
                row = _row(str(name_g), b[:, g, k], level)
                row["group"] = row.pop("term")
                row["term"] = name
                row["n"] = int(self.design.counts[g])
                row["shrinkage"] = float(np.var(b[:, g, k]) / var[k]) if var[k] > 0 else 1.0
                rows.append(row)
        cols = ["group", "term", "mean", "sd", "ci_low", "ci_high", "level", "n", "shrinkage"]
        return pd.DataFrame(rows)[cols]

    # -- prediction ----------------------------------------------------------------------
    def _linear(self, new: pd.DataFrame) -> np.ndarray:
        d = self.design
        X = patsy.dmatrix(self.model.formula.split("~", 1)[1], new, return_type="dataframe")
        X = X.reindex(columns=list(d.names), fill_value=0.0).to_numpy(dtype=float)
        eta = self._intercept()[:, None] + self._betas() @ X.T
        if self.model.outer_column:
            r = self._draws("r") * self._unit
            outer = {level: k for k, level in enumerate(d.outer_levels)}
            if self.model.outer_column in new:
                k_new = np.array([outer.get(v, -1) for v in new[self.model.outer_column]])
            else:  # from the inner group's own outer level
                inner = {level: d.outer[i] for i, level in enumerate(d.levels)}
                k_new = np.array([inner.get(v, -1) for v in new[self.model.group_column]])
            seen = k_new >= 0
            eta[:, seen] += r[:, k_new[seen]]
        if self.model.group:
            lookup = {level: i for i, level in enumerate(d.levels)}
            idx = np.array([lookup.get(v, -1) for v in new[self.model.group_column]])
            known = idx >= 0
            b = self._group_draws()[:, idx[known], :]
            Z = np.column_stack([np.ones(len(X)), X[:, list(d.varying)]])[known]
            eta[:, known] += np.einsum("sng,ng->sn", b, Z)
        if self.model.exposure and self.model.exposure in new:
            eta = eta + np.log(new[self.model.exposure].to_numpy(dtype=float))
        return eta

    def predict(
        self, new: pd.DataFrame, kind: str = "mean", rng: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """``kind="mean"``: posterior mean of the expected response per row (a group not in
        the data gets the overall mean, or its outer group's when nested; binomial: the
        probability, times ``trials`` if ``new`` has that column; count families: the
        rate, times the exposure if ``new`` has it); ``kind="linear"``: posterior draws of
        the linear predictor (link scale, with the log exposure if ``new`` has it), shape
        (draws, rows); ``kind="response"``: posterior predictive draws, shape (draws,
        rows).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> fit.predict(cases.head(3)).shape  # the posterior mean of each row
        (3,)
        >>> fit.predict(cases.head(3), kind="response", rng=1).shape  # draws x rows
        (400, 3)
        """
        eta = self._linear(new)
        if kind == "linear":
            return eta
        family = self.model.family
        trials = (
            new[self.model.trials].to_numpy(dtype=float)
            if self.model.trials and self.model.trials in new
            else None
        )
        if kind == "mean":
            return family.mean(eta, self._family_draws(user_scale=True), trials)
        if kind != "response":
            raise DataError(
                f"argument 'kind' must be mean, linear or response; got {kind!r}", column="kind"
            )
        gen = np.random.default_rng(rng)
        if getattr(self.model, "observation_effects", False):
            eta = eta + self._draws("sigma_obs")[:, None] * gen.standard_normal(eta.shape)
        return family.draw(gen, eta, self._family_draws(user_scale=True), trials)

    def ppc(
        self,
        data: pd.DataFrame,
        *,
        n_draws: int = 500,
        keep: int = 50,
        level: float = INTERVAL,
        rng: int | np.random.Generator | None = None,
    ) -> PosteriorPredictiveCheck:
        """Posterior predictive checks of the mean, SD, 10th, 50th and 90th percentiles of
        the (log) response, each replicated statistic's central interval at ``level``;
        ``keep`` replicated data sets are kept for a figure (``lacstats.plots`` or the
        analysis draws it).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> check = fit.ppc(cases, n_draws=100, rng=1)
        >>> check.table['statistic'].tolist()
        ['mean of log weekly_cost', 'sd of log weekly_cost', 'p10 of log weekly_cost', 'median of log weekly_cost', 'p90 of log weekly_cost']
        """
        level = _check_level(level)
        gen = np.random.default_rng(rng)
        response = self.design.response
        rows = data.dropna(subset=[response])
        y = rows[response].to_numpy(dtype=float)
        reps = self.predict(rows, kind="response", rng=gen)
        take = gen.choice(len(reps), size=min(n_draws, len(reps)), replace=False)
        reps = reps[take]
        log_scale = self.model.family.log_scale
        f = np.log if log_scale else (lambda v: v)
        statistics = {
            "mean": lambda v: np.mean(f(v), axis=-1),
            "sd": lambda v: np.std(f(v), axis=-1),
            "p10": lambda v: np.quantile(f(v), 0.1, axis=-1),
            "median": lambda v: np.median(f(v), axis=-1),
            "p90": lambda v: np.quantile(f(v), 0.9, axis=-1),
        }
        label = f"{'log ' if log_scale else ''}{response}"
        table = []
        for name, fn in statistics.items():
            obs, rep = float(fn(y)), fn(reps)
            lo, hi = _interval(rep, level)
            table.append(
                {
                    "statistic": f"{name} of {label}",
                    "observed": obs,
                    "replicated_mean": float(rep.mean()),
                    "ci_low": lo,
                    "ci_high": hi,
                    "level": level,
                    "ppp": float(np.mean(rep >= obs)),
                }
            )
        return PosteriorPredictiveCheck(pd.DataFrame(table), f(y), f(reps[:keep]), label)

    # -- model comparison ----------------------------------------------------------------
    def log_likelihood(self) -> np.ndarray:
        """Pointwise log-likelihood of each row of the data at each posterior draw,
        (chains, draws, rows), on the response's own scale (lognormal: of y, with the
        Jacobian -log y), given the group coefficients.

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> fit.log_likelihood().shape  # chains, draws, rows
        (2, 200, 1253)
        """
        d = self.design
        post = self.idata["posterior"]
        chains, draws = np.asarray(post["alpha"]).shape
        X = d.with_intercept()
        coef = np.column_stack([self._draws("alpha"), self._draws("beta")])
        eta = coef @ X.T
        if self.model.group:
            b = self._draws("b")
            Z = np.column_stack([np.ones(len(d.y)), d.X[:, list(d.varying)]])
            eta += np.einsum("sng,ng->sn", b[:, d.groups, :], Z)
        if d.outer is not None:
            eta += self._draws("r")[:, d.outer[d.groups]]
        if "obs_effect" in self.idata["posterior"].data_vars:
            eta += self._draws("obs_effect")
        if d.offset is not None:
            eta += d.offset
        ll = self.model.family.log_likelihood(d, eta, self._family_draws(user_scale=False))
        return ll.reshape(chains, draws, -1)

    def loo(self):
        """PSIS-LOO (ArviZ) from :meth:`log_likelihood`.

        ArviZ's warning about large Pareto k is not raised but recorded: the result's
        ``high_pareto_k`` attribute counts observations with k above ArviZ's threshold
        (0.7 here), whose LOO contributions are unreliable (Vehtari et al. 2024, JMLR).

        Examples
        --------
        >>> from lacstats import synthetic
        >>> from lacstats.hierarchical import HierarchicalModel
        >>> cases = synthetic.complex_lac(rng=2019)
        >>> fit = HierarchicalModel("weekly_cost ~ risk_score").fit(cases, draws=200, tune=200, chains=2, rng=1, check=False)
        >>> result = fit.loo()
        >>> result.high_pareto_k  # observations whose LOO contribution is unreliable
        0
        """
        import arviz as az
        import xarray as xr

        ll = self.log_likelihood()
        post = self.idata["posterior"].to_dataset()
        tree = xr.DataTree.from_dict(
            {
                "posterior": post[["alpha"]],
                "log_likelihood": xr.Dataset(
                    {"y": (("chain", "draw", "obs"), ll)},
                    coords={"chain": post["chain"], "draw": post["draw"]},
                ),
            }
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
            result = az.loo(tree, pointwise=True)
        n_samples = ll.shape[0] * ll.shape[1]
        good_k = min(1 - 1 / np.log10(n_samples), 0.7)  # ArviZ's threshold
        result.high_pareto_k = int(np.sum(np.asarray(result.pareto_k) > good_k))
        return result

    # -- faces ---------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        fixed = self.fixed_effects().assign(component="fixed")
        return pd.concat([fixed, self.variance_components()], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.model.family.name,
            "formula": self.model.formula,
            "group": self.model.group_column,
            "outer_group": self.model.outer_column,
            "varying": list(self.model.varying),
            "groups": len(self.design.levels),
            "rows": len(self.design.y),
            "rows_dropped": self.design.n_dropped,
            "estimates": self.to_frame().to_dict(orient="records"),
            "diagnostics": self.diagnostics.to_dict(),
            "priors": self.priors,
            "options": self.options,
            "seed": self.seed,
            "timings": self.timings,
        }

    def summary(self) -> str:
        paths = "sufficient statistics, coefficients integrated out" if self.fast_path else ""
        return "\n".join(
            [
                (
                    f"{self.model.family} hierarchical model: {self.model.formula} | "
                    f"{self.model.group_column} ({len(self.design.levels)} groups"
                    + (
                        f" in {len(self.design.outer_levels)} {self.model.outer_column}, "
                        if self.model.outer_column
                        else ", "
                    )
                    + f"{len(self.design.y)} rows{', ' + paths if paths else ''})"
                ),
                self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"),
                "diagnostics: " + self.diagnostics.summary(),
                (
                    f"seconds: compile {self.timings['compile']:.2f}, sample "
                    f"{self.timings['sample']:.2f}, other "
                    f"{self.timings['build'] + self.timings['post']:.2f}"
                ),
            ]
        )

    __str__ = summary
