"""Risk-to-cost correlations and frequentist regressions, built on scipy and statsmodels.

The South East project reported "a weak correlation between risk score and cost of
placement" (Evans 2020, "South East Needs DfE Project: SE Fostering Group").
:func:`risk_cost` answers that question side by side with correlations and four models;
:func:`fit` and :func:`correlation` are the building blocks. No estimator is written by
hand: OLS, GLM, MixedLM and QuantReg come from statsmodels, correlations from scipy.

Correlation intervals use Fisher's z transformation with the standard errors of
Fieller, Hartley and Pearson (1957, Biometrika 44, 470-481): 1/sqrt(n - 3) for Pearson,
sqrt(1.06 / (n - 3)) for Spearman and sqrt(0.437 / (n - 4)) for Kendall; or a percentile
bootstrap when ``bootstrap > 0``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, DomainWarning, ModelWarning

from lacstats import families
from lacstats.errors import ConvergenceError, DataError, frame_argument
from lacstats.results import Result

__all__ = [
    "WEAK_CORRELATION",
    "CorrelationResult",
    "RegressionResult",
    "RiskCost",
    "correlation",
    "fit",
    "formula_columns",
    "model_frame",
    "risk_cost",
    "strength",
]

#: the families fitted here (their objects from :mod:`lacstats.families`)
FAMILIES = ("gaussian", "gamma", "lognormal")
COVARIANCES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
_FISHER_SE = {
    "pearson": lambda n: 1 / np.sqrt(n - 3),
    "spearman": lambda n: np.sqrt(1.06 / (n - 3)),
    "kendall": lambda n: np.sqrt(0.437 / (n - 4)),
}
MIN_GROUPS = 3
#: ``|rho|`` below this is called "weak" (Cohen 1988's 0.3 for a medium effect).
WEAK_CORRELATION = 0.3


def strength(rho: float) -> str:
    """``"weak"`` when ``|rho| <`` :data:`WEAK_CORRELATION`, else ``"not weak"``.

    Examples
    --------
    >>> from lacstats import regression
    >>> regression.strength(0.12), regression.strength(-0.45)
    ('weak', 'not weak')
    """
    return "weak" if abs(rho) < WEAK_CORRELATION else "not weak"


@dataclass(frozen=True)
class CorrelationResult(Result):
    """A correlation coefficient with its interval.

    Examples
    --------
    >>> from lacstats import regression, synthetic
    >>> result = regression.correlation(synthetic.complex_lac(rng=2019), method="spearman")
    >>> result.method, result.n, result.x, result.y
    ('spearman', 1253, 'risk_score', 'weekly_cost')
    >>> result.to_frame().columns.tolist()
    ['method', 'estimate', 'ci_low', 'ci_high', 'pvalue', 'n', 'confidence', 'interval', 'x', 'y']
    """

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    pvalue: float
    n: int
    confidence: float
    interval: str  # "fisher-z" or "bootstrap-percentile (B)"
    x: str
    y: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"{self.method} correlation of {self.x} and {self.y}: {self.estimate:.3f} "
            f"({self.confidence:.0%} CI {self.ci_low:.3f} to {self.ci_high:.3f}, "
            f"{self.interval}; p = {self.pvalue:.3g}; n = {self.n})"
        )


def _coefficient(method: str, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if method == "pearson":
        res = stats.pearsonr(x, y)
    elif method == "spearman":
        res = stats.spearmanr(x, y)
    else:
        res = stats.kendalltau(x, y)
    return float(res.statistic), float(res.pvalue)


def correlation(
    data: pd.DataFrame,
    x: str = "risk_score",
    y: str = "weekly_cost",
    *,
    method: str = "pearson",
    confidence: float = 0.95,
    bootstrap: int = 0,
    rng: int | np.random.Generator | None = None,
) -> CorrelationResult:
    """Correlation of ``x`` and ``y`` (rows with either missing are dropped).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import regression
    >>> data = pd.DataFrame({"risk_score": [8, 12, 15, 20, 22, 30], "weekly_cost": [900, 1100, 1000, 3000, 2600, 5200]})
    >>> result = regression.correlation(data)
    >>> round(result.estimate, 3), round(result.ci_low, 3), round(result.ci_high, 3)
    (0.948, 0.59, 0.994)
    >>> round(regression.correlation(data, method="spearman").estimate, 3)
    0.886
    """
    frame_argument(data, "data")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise DataError(
            f"argument 'bootstrap' must be a whole number >= 0, got {bootstrap!r}",
            column="bootstrap",
        )
    if method not in _FISHER_SE:
        raise DataError(
            f"argument 'method' must be pearson, spearman or kendall; got {method!r}",
            column="method",
        )
    for column in (x, y):
        if column not in data.columns:
            raise DataError(f"data have no column {column!r}", column=column)
    pair = data[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(pair)
    if n < 5:
        raise DataError(f"a correlation needs at least 5 complete pairs, got {n}", column=x)
    xs, ys = pair[x].to_numpy(dtype=float), pair[y].to_numpy(dtype=float)
    estimate, pvalue = _coefficient(method, xs, ys)
    alpha = 1 - confidence
    if bootstrap > 0:
        gen = np.random.default_rng(rng)
        idx = gen.integers(0, n, size=(bootstrap, n))
        draws = np.array([_coefficient(method, xs[i], ys[i])[0] for i in idx])
        low, high = np.nanquantile(draws, [alpha / 2, 1 - alpha / 2])
        interval = f"bootstrap-percentile ({bootstrap})"
    else:
        z = np.arctanh(np.clip(estimate, -0.999999, 0.999999))
        half = stats.norm.ppf(1 - alpha / 2) * _FISHER_SE[method](n)
        low, high = np.tanh(z - half), np.tanh(z + half)
        interval = "fisher-z"
    return CorrelationResult(
        method, estimate, float(low), float(high), pvalue, n, confidence, interval, x, y
    )


@dataclass(frozen=True)
class RegressionResult(Result):
    """A fitted model: tidy coefficients, fit statistics and the options used.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import regression
    >>> data = pd.DataFrame({"risk_score": [8, 12, 15, 20, 22, 30], "weekly_cost": [900, 1100, 1000, 3000, 2600, 5200]})
    >>> result = regression.fit(data, "weekly_cost ~ risk_score")
    >>> result.coefficients[["term", "estimate"]].round(2)
             term  estimate
    0   Intercept  -1309.01
    1  risk_score    202.37
    >>> result.family, result.method
    ('gaussian', 'ols')
    """

    formula: str
    family: str
    link: str
    method: str
    options: dict[str, Any]
    coefficients: pd.DataFrame
    statistics: dict[str, float]
    model: Any = field(repr=False)
    smearing: float = 1.0

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def to_dict(self) -> dict[str, Any]:
        """The fields, JSON-safe, without the statsmodels results object."""
        return {k: v for k, v in super().to_dict().items() if k != "model"}

    def summary(self) -> str:
        stats_text = ", ".join(f"{k} = {v:.4g}" for k, v in self.statistics.items())
        return "\n".join(
            [
                f"{self.method}: {self.formula} ({self.family}, {self.link} link)",
                self.coefficients.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
                stats_text,
            ]
        )

    def predict(self, new: pd.DataFrame, scale: str = "response") -> np.ndarray:
        """Predictions for ``new``; ``scale="link"`` for the linear predictor.

        Log-scale models (lognormal) return the mean on the original scale with Duan's
        (1983) smearing factor, mean(exp(residual)).
        """
        if scale not in ("response", "link"):
            raise DataError(
                f"argument 'scale' must be response or link; got {scale!r}", column="scale"
            )
        family = families.get(self.family)
        if not family.gaussian_type:  # a GLM
            which = "linear" if scale == "link" else "mean"
            return np.asarray(self.model.predict(new, which=which))
        linear = np.asarray(self.model.predict(new))
        if family.log_response and scale == "response":
            return np.exp(linear) * self.smearing
        return linear


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\.]*")
_KNOWN = {
    "C",
    "np",
    "log",
    "exp",
    "I",
    "Q",
    "center",
    "standardize",
    "scale",
    "bs",
    "cr",
    "Treatment",
    "Sum",
    "poly",
    "sqrt",
    "abs",
    "T",
    "Intercept",
}


def formula_columns(formula: str, data: pd.DataFrame) -> tuple[str, list[str]]:
    """The response and the data columns a patsy formula names, in order; a column the
    data do not have raises a :class:`DataError` naming it.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import regression
    >>> data = pd.DataFrame({"weekly_cost": [1.0], "risk_score": [7], "placement_setting": ["foster_ifa"]})
    >>> regression.formula_columns("np.log(weekly_cost) ~ risk_score + C(placement_setting)", data)
    ('np.log(weekly_cost)', ['weekly_cost', 'risk_score', 'placement_setting'])
    """
    if "~" not in formula:
        raise DataError(f"formula {formula!r} has no '~'", column="formula")
    lhs, _rhs = formula.split("~", 1)
    quoted = re.findall(r"Q\(['\"]([^'\"]+)['\"]\)", formula)
    bare = re.sub(r"Q\(['\"][^'\"]+['\"]\)", " ", formula)
    bare = re.sub(r"\[[^\]]*\]|'[^']*'|\"[^\"]*\"", " ", bare)
    names = [
        name
        for name in _NAME.findall(bare)
        if name not in _KNOWN and not name.startswith("np.") and not name.isdigit()
    ]
    columns = [*dict.fromkeys(quoted + names)]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(
            f"formula {formula!r} names column(s) not in the data: {', '.join(missing)}",
            column=missing[0],
        )
    return lhs.strip(), columns


def model_frame(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy of ``columns`` in the types patsy expects: categories as text, nullable
    integers, floats and flags as float (missing as NaN). Columns: ``columns``, once each.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import regression
    >>> data = pd.DataFrame({"risk_score": pd.array([7, None], dtype="Int64"), "placement_setting": pd.Categorical(["foster_ifa", "other"])})
    >>> frame = regression.model_frame(data, ["risk_score", "placement_setting"])
    >>> frame.dtypes.astype(str).to_dict()
    {'risk_score': 'float64', 'placement_setting': 'str'}
    """
    frame = data[list(dict.fromkeys(columns))].copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
        elif str(frame[column].dtype) in ("Int64", "Float64", "boolean"):
            frame[column] = frame[column].astype(float)
    return frame


def _tidy(params: pd.Series, bse: pd.Series, ci: pd.DataFrame, p: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "term": params.index,
            "estimate": params.to_numpy(),
            "se": bse.to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
            "pvalue": p.to_numpy(),
        }
    )


def fit(
    data: pd.DataFrame,
    formula: str,
    *,
    family: str = "gaussian",
    link: str | None = None,
    groups: str | None = None,
    cov: str = "nonrobust",
    cluster: str | None = None,
    quantile: float | None = None,
    confidence: float = 0.95,
) -> RegressionResult:
    """Fit a regression of ``formula`` (patsy syntax, as statsmodels names terms).

    ``family``: ``gaussian`` (OLS, or a gaussian GLM when ``link`` is given), ``gamma``
    (GLM, log link by default for costs) or ``lognormal`` (OLS of the log response).
    ``groups``: a column for random intercepts (statsmodels MixedLM, REML).
    ``cov``: ``nonrobust``, ``HC0``-``HC3`` or ``cluster`` (with ``cluster=`` a column;
    Stata's CR1 small-sample correction). ``quantile``: quantile regression (0.5 = median).

    Every fit's ``statistics`` has ``n``, ``loglik``, ``aic`` and ``bic`` (NaN where the
    estimator has no likelihood: quantile regression; REML for a mixed model's AIC and
    BIC), then the estimator's own: ``r2`` and ``residual_sd`` (OLS), ``deviance`` and
    ``dispersion`` (GLM), ``groups``, ``group_sd`` and ``residual_sd`` (mixed model),
    ``pseudo_r2`` (quantile regression).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import regression
    >>> exact = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [3.0, 5, 7, 9]})
    >>> regression.fit(exact, "y ~ x").coefficients["estimate"].round(6).tolist()
    [1.0, 2.0]
    >>> data = pd.DataFrame({"risk_score": [8, 12, 15, 20, 22, 30], "weekly_cost": [900, 1100, 1000, 3000, 2600, 5200]})
    >>> gamma = regression.fit(data, "weekly_cost ~ risk_score", family="gamma", link="log")
    >>> gamma.coefficients[["term", "estimate"]].round(3)
             term  estimate
    0   Intercept     5.998
    1  risk_score     0.087
    """
    frame_argument(data, "data")
    _check_arguments(data, formula, confidence)
    family_ = _check_options(family, cov, cluster, groups, quantile)
    link = link or family_.link
    response, frame = _complete_rows(data, formula, family_, link, [groups, cluster])
    if response in frame and not (
        pd.api.types.is_numeric_dtype(frame[response])
        or pd.api.types.is_bool_dtype(frame[response])
    ):
        raise DataError(
            f"column {response!r}: the response of a regression must be numbers, not text "
            f"({frame[response].dtype}); recode it (e.g. a 0/1 flag for one category)",
            column=response,
        )
    model_formula = formula
    if family_.log_response:
        model_formula = f"np.log({response}) ~ {formula.split('~', 1)[1]}"
    _check_rank(model_formula, frame)
    alpha = 1 - confidence
    if groups is not None:
        fitted = _fit_mixed(model_formula, frame, groups, alpha, formula)
    elif quantile is not None:
        fitted = _fit_quantile(model_formula, frame, quantile, alpha)
    elif not family_.gaussian_type or link != "identity":
        fitted = _fit_glm(model_formula, frame, family_, link, cov, cluster, alpha)
    else:
        fitted = _fit_ols(model_formula, frame, cov, cluster, alpha)
    options: dict[str, Any] = {
        "groups": groups,
        "cov": cov,
        "cluster": cluster,
        "quantile": quantile,
        "confidence": confidence,
    }
    if fitted.notes:
        options["warnings"] = fitted.notes
    res = fitted.res
    smearing = 1.0
    if family_.log_response:
        # marginal residuals for a mixed model: predictions use the fixed effects only
        resid = (
            res.model.endog - res.model.exog @ np.asarray(res.fe_params)
            if groups is not None
            else res.resid
        )
        smearing = float(np.mean(np.exp(resid)))
    statistics = {"n": float(res.nobs), **_likelihood(res), **fitted.statistics}
    return RegressionResult(
        formula,
        family_.name,
        link,
        fitted.method,
        options,
        fitted.coefficients,
        statistics,
        res,
        smearing,
    )


class _Fitted(NamedTuple):
    res: Any
    coefficients: pd.DataFrame
    statistics: dict[str, float]
    method: str
    notes: list[str]


def _check_arguments(data, formula, confidence) -> None:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float | np.floating)
        or not 0 < confidence < 1
    ):
        raise DataError(
            f"argument 'confidence' must be between 0 and 1 (e.g. 0.95); got {confidence!r}",
            column="confidence",
        )
    if not isinstance(formula, str):
        raise DataError(f"argument 'formula' must be text; got {formula!r}", column="formula")
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(data).__name__}", column="data")


def _check_options(family, cov, cluster, groups, quantile) -> families.Family:
    """The family's object, once every option is checked."""
    family = families.get(family, among=FAMILIES)
    if cov not in COVARIANCES:
        raise DataError(
            f"argument 'cov' must be one of {', '.join(COVARIANCES)}; got {cov!r}", column="cov"
        )
    if cov == "cluster" and cluster is None:
        raise DataError("cov='cluster' needs cluster= (the column of clusters)", column="cluster")
    if sum(x is not None for x in (groups, quantile)) > 1:
        raise DataError("choose one of groups= (mixed model) or quantile=", column="groups")
    if groups is not None and not family.gaussian_type:
        raise DataError("mixed models here are gaussian or lognormal", column="family")
    if quantile is not None and not 0 < quantile < 1:
        raise DataError(
            f"argument 'quantile' must be in (0, 1); got {quantile!r}", column="quantile"
        )
    return family


def _complete_rows(
    data: pd.DataFrame,
    formula: str,
    family: families.Family,
    link: str,
    extra: list[str | None],
) -> tuple[str, pd.DataFrame]:
    """The response and the complete rows of the formula's (and ``extra``) columns; a log
    scale needs a positive response, reported at the caller's rows."""
    response, columns = formula_columns(formula, data)
    extra = [c for c in extra if c is not None]
    for column in extra:
        if column not in data.columns:
            raise DataError(f"data have no column {column!r}", column=column)
    frame = model_frame(data, columns + extra).dropna()
    if len(frame) == 0:
        raise DataError("no complete rows for the formula's columns", column=columns[0])
    log_scale = family.positive or link == "log"
    if log_scale and response in frame.columns:
        bad = (frame[response] <= 0).to_numpy()
        if bad.any():
            # report rows of the caller's table, not of the complete-case subset
            where = np.isin(np.arange(len(data)), data.index.get_indexer(frame.index[bad]))
            raise DataError.at(
                f"column {response!r}: a {family} model with a {link} link needs positive values",
                response,
                where,
                data[response],
            )
    return response, frame


def _likelihood(res: Any) -> dict[str, float]:
    """``loglik``, ``aic`` and ``bic`` of a statsmodels fit, NaN where it has none."""
    out = {}
    for key, attribute in (("loglik", "llf"), ("aic", "aic"), ("bic", "bic_llf")):
        value = getattr(res, attribute, None)
        if value is None and attribute == "bic_llf":
            value = getattr(res, "bic", None)
        out[key] = float(value) if value is not None else float("nan")
    return out


def _cluster_kwds(frame: pd.DataFrame, cov: str, cluster: str | None) -> dict[str, Any]:
    return {"groups": pd.factorize(frame[cluster])[0]} if cov == "cluster" else {}


def _fit_mixed(model_formula, frame, groups, alpha, formula) -> _Fitted:
    n_groups = frame[groups].nunique()
    if n_groups < MIN_GROUPS:
        raise DataError(
            f"a mixed model needs at least {MIN_GROUPS} groups; column {groups!r} has {n_groups}",
            column=groups,
        )
    model = smf.mixedlm(model_formula, frame, groups=frame[groups])
    # statsmodels' warnings (no convergence, a singular random-effects covariance when
    # the groups do not differ, a boundary fit) are recorded with the fit, not lost
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelWarning)
        warnings.simplefilter("always", ConvergenceWarning)
        res = model.fit(reml=True)
    notes = [
        str(w.message)
        for w in caught
        if issubclass(w.category, (ConvergenceWarning, ModelWarning))
    ]
    if not (np.isfinite(res.llf) and np.all(np.isfinite(res.fe_params))):
        raise ConvergenceError(
            f"mixed model {formula!r} by {groups!r} did not converge "
            f"(log-likelihood {res.llf}); statsmodels said: {'; '.join(notes) or 'nothing'}. "
            "Try adding the predictors that explain between-group differences, or the "
            "Bayesian model in lacstats.hierarchical.",
            diagnostics={"loglik": float(res.llf), "warnings": notes},
        )
    fe = res.fe_params.index
    coefs = _tidy(res.fe_params, res.bse[fe], res.conf_int(alpha).loc[fe], res.pvalues[fe])
    statistics = {
        "groups": float(n_groups),
        "group_sd": float(np.sqrt(res.cov_re.iloc[0, 0])),
        "residual_sd": float(np.sqrt(res.scale)),
    }
    return _Fitted(res, coefs, statistics, "mixedlm (REML, random intercepts)", notes)


def _fit_quantile(model_formula, frame, quantile, alpha) -> _Fitted:
    res = smf.quantreg(model_formula, frame).fit(q=quantile)
    coefs = _tidy(res.params, res.bse, res.conf_int(alpha), res.pvalues)
    statistics = {"pseudo_r2": float(res.prsquared)}
    return _Fitted(res, coefs, statistics, f"quantreg (q = {quantile})", [])


def _fit_glm(model_formula, frame, family, link, cov, cluster, alpha) -> _Fitted:
    links = {
        "log": sm.families.links.Log(),
        "inverse": sm.families.links.InversePower(),
        "identity": sm.families.links.Identity(),
    }
    if link not in links:
        raise DataError(
            f"argument 'link' must be log, inverse or identity; got {link!r}", column="link"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DomainWarning)
        model = smf.glm(model_formula, frame, family=family.statsmodels(links[link]))
    notes = [str(w.message) for w in caught if issubclass(w.category, DomainWarning)]
    if cov != "nonrobust":
        res = model.fit(cov_type=cov, cov_kwds=_cluster_kwds(frame, cov, cluster))
    else:
        res = model.fit()
    coefs = _tidy(res.params, res.bse, res.conf_int(alpha), res.pvalues)
    statistics = {"deviance": float(res.deviance), "dispersion": float(res.scale)}
    return _Fitted(res, coefs, statistics, f"glm ({family}, {link} link)", notes)


def _fit_ols(model_formula, frame, cov, cluster, alpha) -> _Fitted:
    model = smf.ols(model_formula, frame)
    if cov != "nonrobust":
        # t inference on G - 1 degrees of freedom for clusters, as Stata's vce(cluster)
        res = model.fit(cov_type=cov, cov_kwds=_cluster_kwds(frame, cov, cluster), use_t=True)
    else:
        res = model.fit()
    coefs = _tidy(res.params, res.bse, res.conf_int(alpha), res.pvalues)
    statistics = {"r2": float(res.rsquared), "residual_sd": float(np.sqrt(res.scale))}
    method = "ols" + (f" ({cov} covariance)" if cov != "nonrobust" else "")
    return _Fitted(res, coefs, statistics, method, [])


def _check_rank(formula: str, frame: pd.DataFrame) -> None:
    import patsy

    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            y, X = patsy.dmatrices(
                formula,
                frame,
                return_type="dataframe",
                eval_env=patsy.EvalEnvironment([{"np": np}]),
            )
    except patsy.PatsyError as err:
        raise DataError(f"formula {formula!r} cannot be built: {err}", column="formula") from err
    for side, matrix in (("response", y), ("term", X)):
        finite = np.isfinite(matrix.to_numpy(dtype=float)).all(axis=1)
        if not finite.all():
            positions = np.flatnonzero(~finite)
            raise DataError(
                f"formula {formula!r}: a {side} is not finite (the log of zero, or a "
                "division by zero?); data rows (index labels)",
                column="formula",
                rows=[int(p) + 1 for p in positions[:5]],
                values=[matrix.index[p] for p in positions[:5]],
                n_bad=len(positions),
            )
    rank = np.linalg.matrix_rank(X.to_numpy())
    if rank < X.shape[1]:
        # name the columns that are linear combinations of earlier ones
        dependent, kept = [], []
        for name in X.columns:
            trial = [*kept, name]
            if np.linalg.matrix_rank(X[trial].to_numpy()) == len(trial):
                kept.append(name)
            else:
                dependent.append(name)
        raise DataError(
            f"singular design: term(s) {', '.join(dependent)} are linear combinations of "
            f"other terms (rank {rank} of {X.shape[1]} columns)",
            column=dependent[0],
        )


@dataclass(frozen=True)
class RiskCost(Result):
    """The risk-cost question answered side by side: correlations and models.

    Examples
    --------
    >>> from lacstats import regression, synthetic
    >>> answer = regression.risk_cost(synthetic.complex_lac(rng=2019))
    >>> list(answer.table["analysis"].unique())
    ['pearson correlation', 'spearman correlation', 'kendall correlation', 'log-cost OLS, authority-clustered SE', 'gamma GLM, log link', 'mixed model, authority intercepts', 'median regression of log cost']
    """

    #: one row per correlation or model: ``analysis``, ``subset``, ``term``, ``estimate``,
    #: ``ci_low``, ``ci_high``, ``pvalue``, ``n``
    table: pd.DataFrame
    #: the conclusions in words, each number read from ``table``
    text: str
    options: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return f"{self.heading()}\n{self.table.to_string(index=False)}\n\n{self.text}"


def risk_cost(
    cases: pd.DataFrame,
    *,
    x: str = "risk_score",
    y: str = "weekly_cost",
    setting: str = "placement_setting",
    confidence: float = 0.95,
    min_cases: int = 10,
) -> RiskCost:
    """The project's risk-cost question answered side by side.

    Returns a :class:`RiskCost`: a tidy table (``analysis``, ``subset``, ``term``,
    ``estimate``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``) and the conclusions in words. Correlations overall, within
    settings with at least ``min_cases`` cases and within authority type; then the risk
    coefficient of a log-cost OLS with authority-clustered errors, a gamma GLM (log link),
    a mixed model with authority intercepts and a median regression of log cost, each
    adjusted for setting. Finally the restriction of range: the Spearman correlation among
    the most expensive half and the most expensive tenth of the cases, beside the whole.

    Examples
    --------
    >>> from lacstats import regression, synthetic
    >>> answer = regression.risk_cost(synthetic.complex_lac(rng=2019))
    >>> len(answer.table) >= 4, "estimate" in answer.table.columns
    (True, True)
    >>> print(answer.text.splitlines()[0])
    Spearman correlation of risk_score and weekly_cost: 0.22 (95% CI 0.17 to 0.28, n = 1253): weak.
    """
    frame_argument(cases, "cases")
    if isinstance(min_cases, bool) or not isinstance(min_cases, int | np.integer) or min_cases < 1:
        raise DataError(
            f"argument 'min_cases' must be a whole number >= 1, got {min_cases!r}",
            column="min_cases",
        )
    rows: list[dict[str, Any]] = []

    def add_corr(label: str, subset: str, part: pd.DataFrame, method: str) -> None:
        if len(part.dropna(subset=[x, y])) < max(min_cases, 5):
            return
        r = correlation(part, x, y, method=method, confidence=confidence)
        rows.append(
            {
                "analysis": f"{method} correlation",
                "subset": subset,
                "term": label,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "pvalue": r.pvalue,
                "n": r.n,
            }
        )

    for method in ("pearson", "spearman", "kendall"):
        add_corr(f"{x} ~ {y}", "all cases", cases, method)
    for name, part in cases.groupby(setting, observed=True):
        add_corr(f"{x} ~ {y}", f"{setting} = {name}", part, "spearman")
    for name, part in cases.groupby("authority_type", observed=True):
        add_corr(f"{x} ~ {y}", f"authority_type = {name}", part, "spearman")

    formula = f"{y} ~ {x} + C({setting})"
    models = {
        "log-cost OLS, authority-clustered SE": {
            "family": "lognormal",
            "cov": "cluster",
            "cluster": "authority",
        },
        "gamma GLM, log link": {"family": "gamma"},
        "mixed model, authority intercepts": {"family": "lognormal", "groups": "authority"},
        "median regression of log cost": {"family": "lognormal", "quantile": 0.5},
    }
    notes = []
    for label, kwargs in models.items():
        try:
            res = fit(cases, formula, confidence=confidence, **kwargs)
        except ConvergenceError:
            if "groups" not in kwargs:
                raise
            # the authorities' variance at its boundary (zero): the data show no more
            # difference between authorities than chance, and the model cannot say more
            notes.append(
                f"The {label} was not estimated: its authority variance is at zero, so the "
                "authorities differ by no more than chance; the other models do not need it."
            )
            continue
        row = res.coefficients.set_index("term").loc[x]
        rows.append(
            {
                "analysis": label,
                "subset": "all cases",
                "term": x,
                "estimate": row["estimate"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                "pvalue": row["pvalue"],
                "n": int(res.statistics["n"]),
            }
        )

    ranked = cases.sort_values(y, ascending=False, kind="stable")
    for share in (0.5, 0.1):
        part = ranked.head(max(int(round(share * len(cases))), 10))
        add_corr(f"{x} ~ {y}", f"most expensive {share:.0%} of cases", part, "spearman")
    table = pd.DataFrame(rows)

    overall = table[
        (table["analysis"] == "spearman correlation") & (table["subset"] == "all cases")
    ].iloc[0]
    top = table[table["subset"] == "most expensive 10% of cases"]
    ols = table[table["analysis"].str.startswith("log-cost OLS")].iloc[0]
    pct = 100 * (np.exp(ols["estimate"]) - 1)
    lines = [
        (
            f"Spearman correlation of {x} and {y}: {overall['estimate']:.2f} "
            f"({confidence:.0%} CI {overall['ci_low']:.2f} to {overall['ci_high']:.2f}, "
            f"n = {overall['n']}): {strength(overall['estimate'])}."
        ),
        (
            f"Adjusted for setting, each point of {x} goes with {pct:+.1f}% weekly cost "
            f"(log-cost OLS, authority-clustered {confidence:.0%} CI "
            f"{100 * (np.exp(ols['ci_low']) - 1):+.1f}% to {100 * (np.exp(ols['ci_high']) - 1):+.1f}%)."
        ),
    ]
    half = table[table["subset"] == "most expensive 50% of cases"]
    restricted = [
        f"{row.estimate:.2f} in the {row.subset}" for row in pd.concat([half, top]).itertuples()
    ]
    if restricted:
        lower = [row.estimate < overall["estimate"] for row in pd.concat([half, top]).itertuples()]
        verdict = (
            "lower: restricting the range of cost attenuates the correlation"
            if all(lower)
            else "not uniformly lower in this sample"
        )
        lines.append(
            "Caveat: the project sampled each authority's most expensive placements, which "
            "restricts the range of cost and can attenuate a correlation. Spearman "
            f"correlation {', '.join(restricted)}, against {overall['estimate']:.2f} in all "
            f"cases ({verdict})."
        )
    lines.extend(notes)
    options = {"x": x, "y": y, "setting": setting, "confidence": confidence}
    return RiskCost(table, "\n".join(lines), {**options, "min_cases": min_cases})
