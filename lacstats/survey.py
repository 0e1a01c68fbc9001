"""Design-weighted estimates from a stratified sample, with stratified variance.

Estimators are the stratified ones of Cochran (1977), Sampling Techniques, ch. 5 and
Lohr (2022), Sampling: Design and Analysis, 3rd ed., section 3.2: for stratum h with
population N_h, sample n_h, mean ybar_h and sample variance s_h^2,

    mean  = sum_h W_h ybar_h,                 W_h = N_h / N
    V     = sum_h W_h^2 (1 - n_h / N_h) s_h^2 / n_h
    total = N mean, with variance N^2 V.

A proportion is the mean of a 0/1 variable. The design effect is V over the variance of
the mean of a simple random sample of the same size, (1 - n/N) S^2 / n, with S^2 the
design-weighted population variance. Intervals use Student's t on n - H degrees of
freedom (Lohr 2022, 3.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats.errors import DataError
from lacstats.results import Result

__all__ = ["Design", "Estimate", "Stratified", "estimate", "stratified"]

KINDS = ("proportion", "mean", "total")


@dataclass(frozen=True)
class Estimate(Result):
    """A design-based estimate.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import survey
    >>> cases = pd.DataFrame({"authority": ["A", "A", "A", "B", "B", "B"], "far": [1, 0, 0, 1, 1, 0], "design_weight": [10.0] * 3 + [5.0] * 3})
    >>> result = survey.estimate(cases, "far")
    >>> round(result.estimate, 4), round(result.se, 4), result.n
    (0.4444, 0.2331, 6)
    >>> result.to_frame().columns.tolist()[:5]
    ['variable', 'kind', 'estimate', 'se', 'ci_low']
    """

    variable: str
    kind: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    deff: float
    n: int
    population: float
    strata: int
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"{self.kind} of {self.variable}: {self.estimate:.4g} (SE {self.se:.3g}; "
            f"{self.confidence:.0%} CI {self.ci_low:.4g} to {self.ci_high:.4g}; "
            f"deff {self.deff:.2f}; n = {self.n} in {self.strata} strata, N = "
            f"{self.population:,.0f})"
        )


@dataclass(frozen=True)
class Stratified(Result):
    """Cochran's stratified mean of one sample, its variance and each stratum's mean.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import survey
    >>> result = survey.stratified(np.array([1.0, 0, 0, 1, 1, 0]), np.array([0, 0, 0, 1, 1, 1]), np.array([30.0, 15.0]))
    >>> round(result.mean, 4), round(result.variance, 5), result.stratum_means.round(3)
    (0.4444, 0.05432, array([0.333, 0.667]))
    """

    mean: float
    variance: float
    #: the design-weighted population variance S^2, for the design effect
    population_variance: float
    n: int
    population: float
    stratum_means: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per stratum: its position and sample mean."""
        return pd.DataFrame(
            {"stratum": np.arange(len(self.stratum_means)), "mean": self.stratum_means}
        )

    def summary(self) -> str:
        return (
            f"stratified mean {self.mean:.4g} (SE {np.sqrt(self.variance):.3g}; "
            f"n = {self.n} in {len(self.stratum_means)} strata, N = {self.population:,.0f})"
        )

    def half_width(self, confidence: float = 0.95) -> float:
        """Half the interval for the mean: Student's t on n - H degrees of freedom
        (Lohr 2022, 3.2.1) times the standard error."""
        df = max(self.n - len(self.stratum_means), 1)
        return float(stats.t.ppf(0.5 + confidence / 2, df=df) * np.sqrt(self.variance))


def stratified(
    y: np.ndarray,
    codes: np.ndarray,
    N_h: np.ndarray,
    *,
    labels: Any = None,
    column: str = "stratum",
) -> Stratified:
    """The stratified estimator on arrays: ``y`` with 0-based stratum ``codes``, where every
    code below ``len(N_h)`` has cases and ``N_h`` holds the stratum populations.

    The single implementation behind :func:`estimate` and the selection study's replicates;
    ``labels`` (one per stratum) and ``column`` name strata in errors.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import survey
    >>> y = np.array([2.0, 4.0, 6.0, 10.0, 14.0])
    >>> result = survey.stratified(y, np.array([0, 0, 0, 1, 1]), np.array([60.0, 40.0]))
    >>> round(result.mean, 2), round(result.variance, 3)
    (7.2, 1.064)
    """
    H = len(N_h)
    n_h = np.bincount(codes, minlength=H)
    names = np.asarray(labels if labels is not None else np.arange(H))
    if (n_h < 2).any():
        raise DataError(
            f"strata with fewer than two cases have no variance: {names[n_h < 2][:5].tolist()}",
            column=column,
        )
    if (n_h > N_h + 1e-9).any():
        raise DataError("a stratum has more cases than its population", column=column)
    ybar_h = np.bincount(codes, weights=y, minlength=H) / n_h
    s2_h = np.bincount(codes, weights=(y - ybar_h[codes]) ** 2, minlength=H) / (n_h - 1)
    N, n = float(N_h.sum()), int(n_h.sum())
    W_h = N_h / N
    mean = float(np.sum(W_h * ybar_h))
    return Stratified(
        mean=mean,
        variance=float(np.sum(W_h**2 * (1 - n_h / N_h) * s2_h / n_h)),
        population_variance=float(np.sum((N_h - 1) * s2_h + N_h * (ybar_h - mean) ** 2) / (N - 1)),
        n=n,
        population=N,
        stratum_means=ybar_h,
    )


def numeric_values(y: pd.Series, variable: str, *, zero_one: bool = False) -> pd.Series:
    """``y`` as floats (true/false as 1/0), or a DataError naming the rows that are
    missing or not numbers, or (``zero_one``) not 0 or 1."""
    if pd.api.types.is_bool_dtype(y):
        y = y.astype("float64")
    values = pd.to_numeric(y, errors="coerce")
    if zero_one:
        bad = (~values.isin([0, 1]) & values.notna()).to_numpy()
        if bad.any():
            raise DataError.at(
                f"column {variable!r}: a proportion needs 0/1 or true/false values",
                variable,
                bad,
                y,
            )
    if values.isna().any():
        raise DataError.at(
            f"column {variable!r}: missing or non-numeric values",
            variable,
            values.isna().to_numpy(),
            y,
        )
    return values.astype("float64")


def estimate(
    cases: pd.DataFrame,
    variable: str,
    *,
    kind: str = "proportion",
    strata: str = "authority",
    weights: str = "design_weight",
    population: dict[Any, float] | pd.Series | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Stratified estimate of a proportion, mean or total of ``variable``.

    ``population`` gives N_h per stratum; by default N_h is the sum of the design weights
    in the stratum (exact for weights N_h / n_h). Every stratum needs at least two cases.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import survey
    >>> cases = pd.DataFrame({"authority": ["A", "A", "A", "B", "B", "B"], "far": [1, 0, 0, 1, 1, 0], "weekly_cost": [900, 1200, 4000, 3000, 800, 950]})
    >>> print(survey.estimate(cases, "far", population={"A": 30, "B": 15}).summary())
    proportion of far: 0.4444 (SE 0.233; 95% CI -0.2027 to 1.092; deff 1.07; n = 6 in 2 strata, N = 45)
    >>> round(survey.estimate(cases, "weekly_cost", kind="mean", population={"A": 30, "B": 15}).estimate, 1)
    1883.3
    """
    if kind not in KINDS:
        raise DataError(
            f"argument 'kind' must be one of {', '.join(KINDS)}; got {kind!r}", column="kind"
        )
    for column in (variable, strata):
        if column not in cases.columns:
            raise DataError(f"cases have no column {column!r}", column=column)
    values = numeric_values(cases[variable], variable, zero_one=kind == "proportion")
    codes, labels = pd.factorize(cases[strata].to_numpy(), sort=True)
    if (codes < 0).any():
        raise DataError.at(
            f"column {strata!r}: every case needs a stratum", strata, codes < 0, cases[strata]
        )
    if population is None:
        if weights not in cases.columns:
            raise DataError(
                f"cases have no weight column {weights!r}; pass population=", column=weights
            )
        w = pd.to_numeric(cases[weights]).to_numpy(dtype=float)
        N_h = np.bincount(codes, weights=w, minlength=len(labels))
    else:
        given = pd.Series(population, dtype=float)
        missing = sorted(set(labels) - set(given.index))
        if missing:
            raise DataError(f"no population size for strata {missing[:5]}", column=strata)
        N_h = given.reindex(labels).to_numpy()
    strat = stratified(values.to_numpy(dtype=float), codes, N_h, labels=labels, column=strata)
    N, n, mean, var = strat.population, strat.n, strat.mean, strat.variance
    var_srs = (1 - n / N) * strat.population_variance / n
    deff = var / var_srs if var_srs > 0 else float("nan")
    scale = N if kind == "total" else 1.0
    point, se, half = mean * scale, np.sqrt(var) * scale, strat.half_width(confidence) * scale
    return Estimate(
        variable=variable,
        kind=kind,
        estimate=point,
        se=float(se),
        ci_low=float(point - half),
        ci_high=float(point + half),
        deff=float(deff),
        n=n,
        population=N,
        strata=len(labels),
        confidence=confidence,
    )


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Design(Result):
    """A sample design: weights, strata, clusters (PSUs) and finite-population sizes, and,
    once calibrated, the variables the weights were calibrated on.

    Variances are by linearisation (Taylor series): an estimate's influence values are
    summed by PSU within strata, and the with-replacement variance of those totals is
    scaled by (1 - n_h / N_h) where the number of PSUs in the population is known (Lohr
    2022, sections 9.1 and 11.6). For a calibrated design the influence values are first
    replaced by their residuals from a regression on the calibration variables weighted by
    the design weights before calibration (Deville and Sarndal 1992; Lumley 2010, section
    7.4), as R's ``survey`` package computes for ``postStratify``, ``rake`` and
    ``calibrate``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import survey
    >>> data = pd.DataFrame({"stratum": ["A", "A", "A", "B", "B"], "w": [10.0, 10, 10, 20, 20], "fpc": [30, 30, 30, 40, 40], "cost": [900.0, 1200, 4000, 3000, 800]})
    >>> design = survey.Design.from_frame(data, weights="w", strata="stratum", fpc="fpc")
    >>> print(design.summary())
    design weights: 5 cases in 5 PSUs and 2 strata; weights sum to 70.0
    >>> total = design.total(data["cost"], variable="cost")
    >>> round(total.estimate), round(total.se, 1)
    (137000, 51268.9)
    """

    weights: np.ndarray
    #: stratum code of each case (all 0 when unstratified)
    strata: np.ndarray
    #: PSU code of each case (each case its own PSU when there are no clusters)
    clusters: np.ndarray
    #: number of PSUs in the population of each case's stratum (inf: no correction)
    psu_population: np.ndarray
    #: the calibration variables (one column per constraint), or None
    calibration: np.ndarray | None = None
    #: the weights before calibration, which weight the residuals' regression
    base_weights: np.ndarray | None = None
    method: str = "design weights"
    #: the calibration's targets and achieved totals, per constraint
    margins: pd.DataFrame | None = None
    iterations: int = 0

    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        strata: str | None = None,
        clusters: str | None = None,
        fpc: str | None = None,
    ) -> Design:
        """A design from the columns of ``data``: ``weights`` (inverse inclusion
        probabilities), optional ``strata`` and ``clusters`` (PSUs), and ``fpc``, the number
        of PSUs in the population of the case's stratum (R's ``svydesign(fpc=)``)."""
        for column in (weights, strata, clusters, fpc):
            if column is not None and column not in data.columns:
                raise DataError(f"design data have no column {column!r}", column=column)
        w = numeric_values(data[weights], weights).to_numpy()
        if (w <= 0).any() or not np.isfinite(w).all():
            raise DataError.at(
                f"column {weights!r}: weights must be positive and finite",
                weights,
                (w <= 0) | ~np.isfinite(w),
                data[weights],
            )
        n = len(data)
        h = pd.factorize(data[strata], sort=True)[0] if strata else np.zeros(n, dtype=int)
        if clusters:
            keys = data[[strata, clusters]] if strata else data[[clusters]]
            c = keys.groupby(list(keys.columns), sort=True, dropna=False).ngroup().to_numpy()
        else:
            c = np.arange(n)
        N = numeric_values(data[fpc], fpc).to_numpy() if fpc else np.full(n, np.inf)
        return cls(w, h, c, N)

    @property
    def n(self) -> int:
        return len(self.weights)

    def to_frame(self) -> pd.DataFrame:
        """The calibration's margins (target and achieved totals), or the weights' summary."""
        if self.margins is not None:
            return self.margins.copy()
        return pd.DataFrame({"cases": [self.n], "weight_total": [float(self.weights.sum())]})

    def summary(self) -> str:
        return (
            f"{self.method}: {self.n} cases in {len(np.unique(self.clusters))} PSUs and "
            f"{len(np.unique(self.strata))} strata; weights sum to {self.weights.sum():,.1f}"
        )

    # -- estimation ------------------------------------------------------------------
    def _variance(self, scores: np.ndarray) -> float:
        """Linearised variance of sum_i w_i scores_i (see the class docstring)."""
        z = self.weights * self._residuals(scores)
        var = 0.0
        for h in np.unique(self.strata):
            in_h = self.strata == h
            totals = np.bincount(pd.factorize(self.clusters[in_h])[0], weights=z[in_h])
            m = len(totals)
            if m < 2:
                continue
            N = self.psu_population[in_h][0]
            correction = 1 - m / N if np.isfinite(N) else 1.0
            var += correction * m / (m - 1) * np.sum((totals - totals.mean()) ** 2)
        return float(var)

    def _residuals(self, scores: np.ndarray) -> np.ndarray:
        if self.calibration is None:
            return scores
        X, w = self.calibration, self.base_weights
        # the weighted least-squares fit through its p x p normal equations: calibration
        # variables are few, cases many; pinv gives the (unique) fitted values even though
        # raking's indicator blocks are collinear
        beta = np.linalg.pinv(X.T @ (X * w[:, None])) @ (X.T @ (w * scores))
        return scores - X @ beta

    def _degrees_of_freedom(self) -> int:
        return max(len(np.unique(self.clusters)) - len(np.unique(self.strata)), 1)

    def total(self, y: Any, *, variable: str = "y", confidence: float = 0.95) -> Estimate:
        """The estimated population total of ``y`` with its linearised standard error."""
        values = _as_values(y, variable, self.n)
        point = float(np.sum(self.weights * values))
        return self._estimate(variable, "total", point, self._variance(values), confidence)

    def mean(self, y: Any, *, variable: str = "y", confidence: float = 0.95) -> Estimate:
        """The estimated population mean of ``y`` (a ratio of two totals, linearised)."""
        values = _as_values(y, variable, self.n)
        N_hat = float(self.weights.sum())
        point = float(np.sum(self.weights * values) / N_hat)
        variance = self._variance((values - point) / N_hat)
        return self._estimate(variable, "mean", point, variance, confidence)

    def _estimate(self, variable, kind, point, variance, confidence) -> Estimate:
        se = float(np.sqrt(variance))
        half = float(stats.t.ppf(0.5 + confidence / 2, df=self._degrees_of_freedom())) * se
        return Estimate(
            variable=variable,
            kind=kind,
            estimate=point,
            se=se,
            ci_low=point - half,
            ci_high=point + half,
            deff=float("nan"),
            n=self.n,
            population=float(self.weights.sum()),
            strata=len(np.unique(self.strata)),
            confidence=confidence,
        )

    # -- calibration -----------------------------------------------------------------
    def post_stratify(self, groups: Any, population: dict[Any, float] | pd.Series) -> Design:
        """Weights scaled within each post-stratum to its known population count (R's
        ``postStratify``): every post-stratum in the sample needs a count."""
        labels = pd.Series(np.asarray(groups), dtype=object)
        targets = pd.Series(population, dtype=float)
        _check_targets(labels, targets, "post-stratum")
        codes = pd.Categorical(labels, categories=list(targets.index))
        X = _indicators(codes)
        current = X.T @ self.weights
        factor = targets.to_numpy() / current
        weights = self.weights * (X @ factor)
        margins = _margin_table("post-stratum", targets, X.T @ weights)
        return self._calibrated(weights, X, "post-stratified", margins, 1)

    def rake(
        self,
        margins: dict[str, tuple[Any, dict[Any, float] | pd.Series]],
        *,
        tolerance: float = 1e-10,
        max_iterations: int = 1000,
    ) -> Design:
        """Iterative proportional fitting to several margins (R's ``rake``).

        ``margins`` maps a name to ``(labels, population)``: each case's category and the
        known population count of each category. Post-stratifies on each margin in turn
        until every margin is met within ``tolerance`` (relative), or raises.
        """
        blocks, targets, names = [], [], []
        for name, (labels, population) in margins.items():
            labels = pd.Series(np.asarray(labels), dtype=object)
            target = pd.Series(population, dtype=float)
            _check_targets(labels, target, name)
            blocks.append(_indicators(pd.Categorical(labels, categories=list(target.index))))
            targets.append(target)
            names.append(name)
        totals = [t.sum() for t in targets]
        if not np.allclose(totals, totals[0], rtol=1e-9):
            raise DataError(
                f"margins must share one population total; got {dict(zip(names, totals, strict=True))}",
                column=names[0],
            )
        weights = self.weights.copy()
        iterations, gap = 0, np.inf
        while gap > tolerance and iterations < max_iterations:
            iterations += 1
            for X, target in zip(blocks, targets, strict=True):
                weights = weights * (X @ (target.to_numpy() / (X.T @ weights)))
            gap = max(
                np.max(np.abs(X.T @ weights - t.to_numpy()) / t.to_numpy())
                for X, t in zip(blocks, targets, strict=True)
            )
        if gap > tolerance:
            raise DataError(
                f"raking did not meet the margins within {tolerance} after {max_iterations} "
                "iterations: the margins may be inconsistent with the sample",
                column=names[0],
            )
        table = pd.concat(
            [
                _margin_table(name, t, X.T @ weights)
                for name, X, t in zip(names, blocks, targets, strict=True)
            ],
            ignore_index=True,
        )
        X = np.column_stack(blocks)
        return self._calibrated(weights, X, f"raked on {', '.join(names)}", table, iterations)

    def _calibrated(self, weights, X, method, margins, iterations) -> Design:
        calibration = X if self.calibration is None else np.column_stack([self.calibration, X])
        base = self.weights if self.base_weights is None else self.base_weights
        return Design(
            weights=weights,
            strata=self.strata,
            clusters=self.clusters,
            psu_population=self.psu_population,
            calibration=calibration,
            base_weights=base,
            method=method,
            margins=margins,
            iterations=iterations,
        )


def _as_values(y: Any, variable: str, n: int) -> np.ndarray:
    values = numeric_values(pd.Series(np.asarray(y)), variable).to_numpy()
    if len(values) != n:
        raise DataError(
            f"{variable}: {len(values)} values for a design of {n} cases", column=variable
        )
    return values


def _check_targets(labels: pd.Series, targets: pd.Series, name: str) -> None:
    missing = sorted(set(labels.dropna()) - set(targets.index), key=str)
    if missing or labels.isna().any():
        raise DataError(
            f"{name}: no population count for categories {missing[:5] or ['<missing>']}",
            column=name,
            values=missing[:5],
        )
    bad = ~np.isfinite(targets.to_numpy()) | (targets.to_numpy() <= 0)
    if bad.any():
        raise DataError(
            f"{name}: population counts must be positive and finite",
            column=name,
            values=targets[bad].tolist()[:5],
        )
    empty = sorted(set(targets.index) - set(labels), key=str)
    if empty:
        raise DataError(
            f"{name}: categories with a population count but no cases in the sample "
            f"cannot be weighted to: {empty[:5]}",
            column=name,
            values=empty[:5],
        )


def _indicators(codes: pd.Categorical) -> np.ndarray:
    X = np.zeros((len(codes), len(codes.categories)))
    X[np.arange(len(codes)), codes.codes] = 1.0
    return X


def _margin_table(name: str, targets: pd.Series, achieved: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "margin": name,
            "category": [str(c) for c in targets.index],
            "target": targets.to_numpy(),
            "achieved": achieved,
        }
    )
