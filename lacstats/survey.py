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

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats.errors import DataError

__all__ = ["Estimate", "estimate"]

KINDS = ("proportion", "mean", "total")


@dataclass(frozen=True)
class Estimate:
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"{self.kind} of {self.variable}: {self.estimate:.4g} (SE {self.se:.3g}; "
            f"{self.confidence:.0%} CI {self.ci_low:.4g} to {self.ci_high:.4g}; "
            f"deff {self.deff:.2f}; n = {self.n} in {self.strata} strata, N = "
            f"{self.population:,.0f})"
        )

    __str__ = summary


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
    y = cases[variable]
    if kind == "proportion":
        if pd.api.types.is_bool_dtype(y):
            y = y.astype("float64")
        values = pd.to_numeric(y, errors="coerce")
        bad = (~values.isin([0, 1]) & values.notna()).to_numpy()
        if bad.any():
            raise DataError.at(
                f"column {variable!r}: a proportion needs 0/1 or true/false values",
                variable,
                bad,
                y,
            )
    else:
        values = pd.to_numeric(y, errors="coerce")
    if values.isna().any():
        raise DataError.at(
            f"column {variable!r}: missing or non-numeric values",
            variable,
            values.isna().to_numpy(),
            y,
        )
    frame = pd.DataFrame({"y": values.to_numpy(dtype=float), "h": cases[strata].to_numpy()})
    if population is None:
        if weights not in cases.columns:
            raise DataError(
                f"cases have no weight column {weights!r}; pass population=", column=weights
            )
        frame["w"] = pd.to_numeric(cases[weights]).to_numpy(dtype=float)
        N_h = frame.groupby("h", sort=True)["w"].sum()
    else:
        N_h = pd.Series(population, dtype=float)
    grouped = frame.groupby("h", sort=True)["y"]
    n_h = grouped.size()
    missing = sorted(set(n_h.index) - set(N_h.index))
    if missing:
        raise DataError(f"no population size for strata {missing[:5]}", column=strata)
    N_h = N_h.reindex(n_h.index)
    if (n_h < 2).any():
        thin = n_h[n_h < 2].index.tolist()
        raise DataError(
            f"strata with fewer than two cases have no variance: {thin[:5]}", column=strata
        )
    if (n_h > N_h + 1e-9).any():
        raise DataError("a stratum has more cases than its population", column=strata)
    ybar_h, s2_h = grouped.mean(), grouped.var(ddof=1)
    N, n = float(N_h.sum()), int(n_h.sum())
    W_h = N_h / N
    mean = float((W_h * ybar_h).sum())
    var = float((W_h**2 * (1 - n_h / N_h) * s2_h / n_h).sum())
    # design-weighted population variance for the design effect
    S2 = float(((N_h - 1) * s2_h + N_h * (ybar_h - mean) ** 2).sum() / (N - 1))
    var_srs = (1 - n / N) * S2 / n
    deff = var / var_srs if var_srs > 0 else float("nan")
    scale = N if kind == "total" else 1.0
    point, se = mean * scale, np.sqrt(var) * scale
    t = stats.t.ppf(0.5 + confidence / 2, df=max(n - len(n_h), 1))
    return Estimate(
        variable=variable,
        kind=kind,
        estimate=point,
        se=float(se),
        ci_low=float(point - t * se),
        ci_high=float(point + t * se),
        deff=float(deff),
        n=n,
        population=N,
        strata=len(n_h),
        confidence=confidence,
    )
