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

__all__ = ["Estimate", "Stratified", "estimate", "stratified"]

KINDS = ("proportion", "mean", "total")


@dataclass(frozen=True)
class Estimate(Result):
    """A design-based estimate."""

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
    """Cochran's stratified mean of one sample, its variance and each stratum's mean."""

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
