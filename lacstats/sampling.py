"""Sample sizes for estimating a proportion, stratified designs and their allocation.

The South East Complex LAC project sized its sample per authority with "95% confidence
level and confidence interval of 10" (Evans 2020, "South East Needs DfE Project: SE
Fostering Group"), the wording of the Creative Research Systems (CRS) online calculator.
Each convention the field uses is available through ``convention=``:

``"crs"``
    Creative Research Systems, "Sample Size Calculator" (surveysystem.com/sscalc.htm):
    z = 1.96 at 95% and 2.58 at 99% (other levels: the normal quantile rounded to two
    decimals); ss = z^2 p (1 - p) / c^2; n = ss / (1 + (ss - 1) / N); rounded half up.
``"exact"``
    Raosoft's calculator, samplics and PracTools (Valliant, Dever and Kreuter 2013,
    ``nProp``): the exact normal quantile, the same finite-population correction
    n = ss / (1 + (ss - 1) / N), rounded up.
``"krejcie-morgan"``
    Krejcie and Morgan (1970), Educational and Psychological Measurement 30, 607-610:
    s = X^2 N P (1 - P) / (d^2 (N - 1) + X^2 P (1 - P)), X^2 the one-degree chi-square
    quantile to three decimals (3.841 at 95%), rounded half up.
``"cochran"``
    Cochran (1977), Sampling Techniques, eq. 4.2 and its correction as in R's samplingbook
    (``sample.size.prop``): n0 = z^2 p (1 - p) / c^2, n = n0 / (1 + n0 / N), rounded up.

Every size is at most N. ``interval`` is the half-width in percentage points (10 = +/-10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats.errors import DataError, frame_argument
from lacstats.results import Result

__all__ = [
    "CONVENTIONS",
    "ROUNDINGS",
    "SELECTION_METHODS",
    "WEIGHTINGS",
    "Allocation",
    "SampleDesign",
    "allocate",
    "design",
    "explain_total",
    "largest_remainder",
    "margin_of_error",
    "sample_size",
    "select",
    "selection_study",
    "weighting_study",
]

#: Sample size conventions: CRS calculator, exact normal, Krejcie-Morgan, Cochran.
CONVENTIONS: tuple[str, ...] = ("crs", "exact", "krejcie-morgan", "cochran")
_CRS_Z = {0.95: 1.96, 0.99: 2.58}


def _as_numbers(name: str, value: Any) -> np.ndarray:
    """``value`` (a number or numbers) as floats, or a DataError naming the argument."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"argument {name!r} must be a number or numbers, got {value!r}"[:200], column=name
        ) from None


def _check_unit_interval(name: str, value: Any, *, closed: bool = False) -> np.ndarray:
    arr = _as_numbers(name, value)
    ok = (arr >= 0) & (arr <= 1) if closed else (arr > 0) & (arr < 1)
    if not np.all(ok & np.isfinite(arr)):
        bad = arr[~(ok & np.isfinite(arr))].ravel()[0]
        bounds = "between 0 and 1" if closed else "strictly between 0 and 1"
        raise DataError(f"argument {name!r} must be {bounds}, got {bad!r}", column=name)
    return arr


def _z(confidence: np.ndarray, convention: str) -> np.ndarray:
    exact = stats.norm.ppf(0.5 + confidence / 2)
    if convention != "crs":
        return exact
    z = np.round(exact, 2)
    for level, value in _CRS_Z.items():
        z = np.where(np.isclose(confidence, level), value, z)
    return z


def _round_half_up(x: np.ndarray) -> np.ndarray:
    # A tolerance keeps 70.5 (stored as 70.49999999) rounding up as a calculator does.
    return np.floor(x + 0.5 + 1e-9)


def _ceil(x: np.ndarray) -> np.ndarray:
    return np.ceil(x - 1e-9)


def _population(population: Any) -> np.ndarray:
    if population is None:
        return np.asarray(np.inf)
    arr = _as_numbers("population", population)
    whole = np.where(np.isinf(arr), 0.0, np.nan_to_num(arr, nan=0.5)) % 1 == 0
    bad = ~((arr >= 1) & whole)
    if np.any(bad | np.isnan(arr)):
        value = arr[bad | np.isnan(arr)].ravel()[0]
        raise DataError(
            f"argument 'population' must be a whole number of at least 1, or None/inf for "
            f"no finite-population correction; got {value!r}",
            column="population",
        )
    return arr


#: How a sample size is rounded to a whole number.
ROUNDINGS: tuple[str, ...] = ("half_up", "up", "down")
_DEFAULT_ROUNDING = {"crs": "half_up", "exact": "up", "krejcie-morgan": "half_up", "cochran": "up"}


def sample_size(
    population: Any = None,
    *,
    confidence: Any = 0.95,
    interval: Any = 10,
    proportion: Any = 0.5,
    convention: str = "crs",
    rounding: str | None = None,
) -> int | np.ndarray:
    """Sample size to estimate a proportion within +/- ``interval`` points.

    Parameters broadcast against each other (numpy rules), so a grid of populations,
    confidence levels and intervals is one call. Returns an ``int`` for scalar input and an
    integer array otherwise. See the module docstring for the conventions and sources.
    ``rounding`` (``half_up``, ``up`` or ``down``) overrides the convention's own rule, for
    audits of how a published total was reached.

    Examples
    --------
    >>> from lacstats import sampling
    >>> sampling.sample_size(900)  # Hampshire's 900 children aged 10+, CRS convention
    87
    >>> sampling.sample_size(900, convention="exact"), sampling.sample_size(900, convention="krejcie-morgan")
    (87, 87)
    >>> sampling.sample_size([83, 313, 1456], confidence=0.99, interval=5)
    array([ 74, 213, 457])
    >>> sampling.sample_size()  # an infinite population: 1.96^2 x 0.25 / 0.1^2, rounded
    96
    """
    if rounding is not None and rounding not in ROUNDINGS:
        raise DataError(
            f"argument 'rounding' must be one of {', '.join(ROUNDINGS)}; got {rounding!r}",
            column="rounding",
        )
    if convention not in CONVENTIONS:
        raise DataError(
            f"argument 'convention' must be one of {', '.join(CONVENTIONS)}; got {convention!r}",
            column="convention",
        )
    conf = _check_unit_interval("confidence", confidence)
    p = _check_unit_interval("proportion", proportion)
    half = _as_numbers("interval", interval)
    if not np.all((half > 0) & (half < 100)):
        bad = half[~((half > 0) & (half < 100))].ravel()[0]
        raise DataError(
            f"argument 'interval' is a half-width in percentage points, 0 < interval < 100; "
            f"got {bad!r}",
            column="interval",
        )
    N = _population(population)
    c = half / 100
    pq = p * (1 - p)
    finite = np.isfinite(N)
    N_safe = np.where(finite, N, 1.0)
    if convention == "krejcie-morgan":
        chi2 = np.round(stats.chi2.ppf(conf, df=1), 3)
        infinite = chi2 * pq / c**2
        corrected = chi2 * N_safe * pq / (c**2 * (N_safe - 1) + chi2 * pq)
        n = np.where(finite, corrected, infinite)
    else:
        ss = _z(conf, convention) ** 2 * pq / c**2
        if convention == "cochran":
            corrected = ss / (1 + ss / N_safe)
        else:
            corrected = ss / (1 + (ss - 1) / N_safe)
        n = np.where(finite, corrected, ss)
    rule = rounding or _DEFAULT_ROUNDING[convention]
    n = {"half_up": _round_half_up, "up": _ceil, "down": lambda x: np.floor(x + 1e-9)}[rule](n)
    n = np.maximum(n, 1)
    n = np.where(finite, np.minimum(n, N_safe), n)
    out = n.astype(np.int64)
    return int(out) if out.ndim == 0 else out


def margin_of_error(
    n: Any,
    population: Any = None,
    *,
    confidence: float = 0.95,
    proportion: float = 0.5,
) -> float | np.ndarray:
    """Achieved half-width, in percentage points, of a proportion estimated from ``n`` cases.

    z sqrt(p (1 - p) / n) sqrt((N - n) / (N - 1)), with the exact normal quantile; no
    correction when ``population`` is None. Zero when n = N (a census).

    Examples
    --------
    >>> from lacstats import sampling
    >>> round(sampling.margin_of_error(87, 900), 2)
    9.99
    >>> round(sampling.margin_of_error(1253), 2)
    2.77
    """
    conf = _check_unit_interval("confidence", confidence)
    p = _check_unit_interval("proportion", proportion)
    size = _as_numbers("n", n)
    if np.any(size < 1):
        raise DataError(f"argument 'n' must be at least 1, got {size.min()!r}", column="n")
    N = _population(population)
    if np.any(np.isfinite(N) & (size > N)):
        raise DataError("argument 'n' exceeds the population", column="n")
    z = stats.norm.ppf(0.5 + conf / 2)
    finite = np.isfinite(N)
    N_safe = np.where(finite, N, size + 1)
    fpc = np.where(
        finite, np.sqrt(np.clip((N_safe - size) / np.maximum(N_safe - 1, 1), 0, None)), 1.0
    )
    moe = 100 * z * np.sqrt(p * (1 - p) / size) * fpc
    return float(moe) if moe.ndim == 0 else moe


def largest_remainder(shares: Any, total: int) -> np.ndarray:
    """Integers proportional to ``shares`` that sum exactly to ``total`` (Hamilton's method).

    Ties in the remainders go to the earlier entry, so the result is deterministic.

    Examples
    --------
    >>> from lacstats import sampling
    >>> sampling.largest_remainder([1, 1, 1], 10)
    array([4, 3, 3])
    >>> sampling.largest_remainder([0.5, 0.3, 0.2], 7)
    array([4, 2, 1])
    """
    try:
        weights = np.asarray(shares, dtype=float)
    except (TypeError, ValueError):
        raise DataError("shares must be a list of numbers", column="shares") from None
    if (
        weights.ndim != 1
        or len(weights) == 0
        or not np.all(np.isfinite(weights))
        or np.any(weights < 0)
        or weights.sum() <= 0
    ):
        raise DataError(
            "shares must be a non-empty list of finite, non-negative numbers, not all zero",
            column="shares",
        )
    if (
        isinstance(total, bool)
        or not isinstance(total, int | float | np.integer | np.floating)
        or not np.isfinite(total)
        or total < 0
        or int(total) != total
    ):
        raise DataError(f"argument 'total' must be a whole number >= 0, got {total!r}")
    quota = weights / weights.sum() * int(total)
    base = np.floor(quota + 1e-9).astype(np.int64)
    short = int(total) - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


@dataclass(frozen=True)
class Allocation(Result):
    """A sample total shared among strata.

    Examples
    --------
    >>> from lacstats import sampling
    >>> allocation = sampling.allocate(100, [500, 300, 200])
    >>> allocation.to_frame()
       stratum   n  share
    0        0  50   50.0
    1        1  30   30.0
    2        2  20   20.0
    """

    method: str
    total: int
    allocation: np.ndarray
    shares: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"stratum": range(len(self.allocation)), "n": self.allocation, "share": self.shares}
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "total": self.total,
            "allocation": self.allocation.tolist(),
            "shares": self.shares.tolist(),
        }


def allocate(
    total: int,
    populations: Any,
    *,
    method: str = "proportional",
    sd: Any = None,
) -> Allocation:
    """Allocate ``total`` sample cases to strata of sizes ``populations``.

    ``proportional``: n_h ∝ N_h; ``neyman``: n_h ∝ N_h S_h (Cochran 1977, eq. 5.60), with
    ``sd`` the stratum standard deviations; ``equal``: the same number per stratum. Integers
    by largest remainder, summing exactly to ``total``; ``shares`` are the unrounded ones.

    Examples
    --------
    >>> from lacstats import sampling
    >>> sampling.allocate(100, [500, 300, 200]).allocation
    array([50, 30, 20])
    >>> sampling.allocate(100, [500, 300, 200], method="neyman", sd=[1.0, 2.0, 4.0]).allocation
    array([26, 32, 42])
    >>> sampling.allocate(100, [500, 300, 200], method="equal").allocation
    array([34, 33, 33])
    """
    N = _as_numbers("populations", populations)
    if method == "proportional":
        weights = N
    elif method == "neyman":
        if sd is None:
            raise DataError(
                "Neyman allocation needs sd= (one standard deviation per stratum)", column="sd"
            )
        S = _as_numbers("sd", sd)
        if S.shape != N.shape or np.any(S < 0):
            raise DataError(
                "argument 'sd' must give one non-negative value per stratum", column="sd"
            )
        weights = N * S
    elif method == "equal":
        weights = np.ones_like(N)
    else:
        raise DataError(
            f"argument 'method' must be proportional, neyman or equal; got {method!r}",
            column="method",
        )
    integers = largest_remainder(weights, total)
    shares = weights / weights.sum() * total
    return Allocation(method, int(total), integers, shares)


@dataclass(frozen=True)
class SampleDesign(Result):
    """A stratified design: per-stratum population, sample size and design weight.

    Examples
    --------
    >>> from lacstats import datasets, sampling
    >>> plan = sampling.design(datasets.south_east_authorities(2017))
    >>> plan.confidence, plan.interval, plan.convention
    (0.95, 10.0, 'crs')
    >>> int(plan.table["n"].sum())
    1268
    >>> plan.table.columns.tolist()
    ['stratum', 'population', 'n', 'sampling_fraction', 'design_weight', 'achieved_interval']
    """

    table: pd.DataFrame
    confidence: float
    interval: float
    convention: str
    population_column: str
    stratum_column: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(self.table["n"].sum())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "interval": self.interval,
            "convention": self.convention,
            "population": self.population_column,
            "stratum": self.stratum_column,
            "total": self.total,
            "strata": self.table.to_dict(orient="records"),
        }

    def summary(self) -> str:
        lines = [
            (
                f"Stratified design: {len(self.table)} strata, total n = {self.total:,} "
                f"(convention {self.convention!r}, {self.confidence:.0%} confidence, "
                f"+/-{self.interval:g} points, population = {self.population_column})"
            ),
            self.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        return "\n".join(lines)


def design(
    frame: pd.DataFrame,
    *,
    population: str = "lac_10_plus",
    stratum: str = "authority",
    confidence: float = 0.95,
    interval: float = 10,
    convention: str = "crs",
) -> SampleDesign:
    """Size each stratum of ``frame`` as its own survey (the South East project's design).

    Examples
    --------
    >>> from lacstats import datasets, sampling
    >>> frame = datasets.authority_frame(2017, ["Kent", "Medway", "Slough"])
    >>> sampling.design(frame).table[["stratum", "population", "n", "design_weight"]]
      stratum  population   n  design_weight
    0    Kent        1456  90      16.177778
    1  Medway         228  68       3.352941
    2  Slough         132  56       2.357143
    """
    frame_argument(frame, "frame")
    for name in (population, stratum):
        if name not in frame.columns:
            raise DataError(f"design frame has no column {name!r}", column=name)
    N = pd.to_numeric(frame[population], errors="coerce")
    bad = (N.isna() | (N < 1)).to_numpy()
    if bad.any():
        raise DataError.at(
            f"column {population!r}: every stratum needs a population of at least 1",
            population,
            bad,
            frame[population],
        )
    N = N.to_numpy(dtype=float)
    n = sample_size(N, confidence=confidence, interval=interval, convention=convention)
    n = np.atleast_1d(n)
    table = pd.DataFrame(
        {
            "stratum": frame[stratum].to_numpy(),
            "population": N.astype(np.int64),
            "n": n,
            "sampling_fraction": n / N,
            "design_weight": N / n,
            "achieved_interval": margin_of_error(n, N, confidence=confidence),
        }
    )
    return SampleDesign(
        table=table,
        confidence=float(confidence),
        interval=float(interval),
        convention=convention,
        population_column=population,
        stratum_column=stratum,
    )


#: Ways cases are selected: at random, or each authority's most expensive.
SELECTION_METHODS: tuple[str, ...] = ("random", "top_cost")


def select(
    cases: pd.DataFrame,
    plan: SampleDesign,
    *,
    method: str = "random",
    cost: str = "weekly_cost",
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Select each stratum's ``n`` cases from a population table ``cases``.

    ``random``: simple random sampling without replacement within each stratum.
    ``top_cost``: the ``n`` most expensive cases of each stratum (the South East project's
    "each authority provided data on its most expensive placements"), ties broken by row
    order. A stratum with fewer cases than its ``n`` gives all of them. Columns: those of
    ``cases``, then ``design_weight`` (N_h / n_h with N_h the design's stratum population
    and n_h the number selected) and ``selection`` (the method). Rows keep their order.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import sampling
    >>> population = pd.DataFrame({"authority": ["A"] * 6 + ["B"] * 4, "weekly_cost": [100, 900, 300, 700, 500, 200, 50, 400, 800, 600]})
    >>> plan = sampling.design(pd.DataFrame({"authority": ["A", "B"], "lac_10_plus": [6, 4]}), interval=40)
    >>> plan.table[["stratum", "population", "n"]]
      stratum  population  n
    0       A           6  3
    1       B           4  3
    >>> sampling.select(population, plan, method="top_cost")[["authority", "weekly_cost", "design_weight"]]
      authority  weekly_cost  design_weight
    1         A          900       2.000000
    3         A          700       2.000000
    4         A          500       2.000000
    7         B          400       1.333333
    8         B          800       1.333333
    9         B          600       1.333333
    """
    frame_argument(cases, "cases")
    if method not in SELECTION_METHODS:
        raise DataError(
            f"argument 'method' must be random or top_cost; got {method!r}", column="method"
        )
    column = plan.stratum_column
    if column not in cases.columns:
        raise DataError(f"cases have no stratum column {column!r}", column=column)
    if method == "top_cost" and cost not in cases.columns:
        raise DataError(f"cases have no cost column {cost!r}", column=cost)
    rng = np.random.default_rng(rng)
    costs = cases[cost].to_numpy() if method == "top_cost" else None
    picked, weight = _pick(cases[column].to_numpy(), plan, method, costs, rng)
    out = cases.iloc[picked].copy()
    out["design_weight"] = weight
    out["selection"] = method
    return out


def _pick(
    strata: np.ndarray,
    plan: SampleDesign,
    method: str,
    costs: np.ndarray | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows selected by ``method`` (in row order) and their design weights N_h / n_h."""
    plan_rows = plan.table.set_index("stratum")
    absent = sorted(set(strata) - set(plan_rows.index))
    if absent:
        column = plan.stratum_column
        raise DataError(
            f"column {column!r}: strata not in the design: {absent[:5]}", column=column
        )
    weight = np.full(len(strata), np.nan)
    for stratum, row in plan_rows.iterrows():
        members = np.flatnonzero(strata == stratum)
        take = min(int(row["n"]), len(members))
        if take == 0:
            continue
        if method == "random":
            chosen = rng.choice(members, size=take, replace=False)
        else:
            order = np.argsort(-costs[members], kind="stable")
            chosen = members[order[:take]]
        weight[chosen] = row["population"] / take
    picked = np.flatnonzero(~np.isnan(weight))
    return picked, weight[picked]


def explain_total(
    frames: pd.DataFrame | dict[int, pd.DataFrame],
    target: int = 1253,
    *,
    confidence: float = 0.95,
    interval: float = 10,
    bases: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Audit a published sample total: which design reproduces it?

    For every year in ``frames`` (one frame, or ``{year: frame}``), population basis
    (``bases``: label -> column; by default aged 10+, all ages and 10-15), convention and
    rounding rule, the design total and its distance from ``target``. Sorted by that
    distance, then by the order of conventions and roundings. Columns: ``year``,
    ``basis``, ``convention``, ``rounding``, ``default_rounding`` (the convention's own
    rounding), ``total``, ``difference`` (total minus ``target``) and ``abs_difference``.

    Examples
    --------
    >>> from lacstats import datasets, sampling
    >>> audit = sampling.explain_total({2017: datasets.south_east_authorities(2017)}, 1253)
    >>> audit.columns.tolist()
    ['year', 'basis', 'convention', 'rounding', 'default_rounding', 'total', 'difference', 'abs_difference']
    >>> audit.iloc[0][["year", "basis", "convention", "rounding", "total", "difference"]].to_dict()
    {'year': 2017, 'basis': 'aged 10+', 'convention': 'cochran', 'rounding': 'down', 'total': 1254, 'difference': 1}
    """
    if not isinstance(frames, dict):
        frame_argument(frames, "frames")
    if isinstance(frames, pd.DataFrame):
        frames = {None: frames}
    bases = bases or {
        "aged 10+": "lac_10_plus",
        "all ages": "lac_total",
        "aged 10-15": "lac_10_15",
    }
    rows = []
    for year, frame in frames.items():
        for label, column in bases.items():
            if column not in frame.columns:
                raise DataError(f"frame has no population column {column!r}", column=column)
            N = frame[column].to_numpy(dtype=float)
            for convention in CONVENTIONS:
                for rounding in ROUNDINGS:
                    n = sample_size(
                        N,
                        confidence=confidence,
                        interval=interval,
                        convention=convention,
                        rounding=rounding,
                    )
                    total = int(np.sum(n))
                    rows.append(
                        {
                            "year": year,
                            "basis": label,
                            "convention": convention,
                            "rounding": rounding,
                            "default_rounding": rounding == _DEFAULT_ROUNDING[convention],
                            "total": total,
                            "difference": total - int(target),
                        }
                    )
    table = pd.DataFrame(rows)
    table["abs_difference"] = table["difference"].abs()
    return table.sort_values("abs_difference", kind="stable").reset_index(drop=True)


def selection_study(
    population: pd.DataFrame,
    plan: SampleDesign,
    outcomes: list[str],
    *,
    reps: int = 200,
    methods: tuple[str, ...] = SELECTION_METHODS,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate selection from a known population and score the headline proportions.

    For each replicate and method, selects a sample with :func:`select`, estimates each
    0/1 ``outcome`` with :func:`lacstats.survey.estimate` and compares it with the
    population truth. Returns one row per replicate, method and outcome: ``estimate``,
    ``truth``, ``error`` (percentage points), ``ci_covers`` (the design-based 95% interval
    holds the truth) and ``strata_within_interval`` (share of strata whose own estimate is within
    the design's nominal +/- interval of the stratum truth).

    Examples
    --------
    >>> from lacstats import sampling, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> cases["far"] = (cases["distance_miles"] > 100).astype(float)
    >>> kent_medway = cases[cases["authority"].isin(["Kent", "Medway"])]
    >>> population = synthetic.population_like(kent_medway, {"Kent": 400, "Medway": 150}, rng=1)
    >>> plan = sampling.design(population.groupby("authority").size().rename("lac_10_plus").reset_index())
    >>> study = sampling.selection_study(population, plan, ["far"], reps=20, rng=1)
    >>> study.groupby("method")["error"].mean().round(1)
    method
    random      -1.1
    top_cost    20.6
    Name: error, dtype: float64
    """
    from lacstats.survey import numeric_values, stratified

    rng = np.random.default_rng(rng)
    column = plan.stratum_column
    if column not in population.columns:
        raise DataError(f"population has no stratum column {column!r}", column=column)
    strata = population[column].to_numpy()
    codes, labels = pd.factorize(strata, sort=True)
    values = {o: numeric_values(population[o], o, zero_one=True).to_numpy() for o in outcomes}
    truth = {o: float(values[o].mean()) for o in outcomes}
    sizes = np.bincount(codes, minlength=len(labels))
    stratum_truth = {
        o: np.bincount(codes, weights=values[o], minlength=len(labels)) / sizes for o in outcomes
    }
    costs = None
    if "top_cost" in methods:
        if "weekly_cost" not in population.columns:
            raise DataError("population has no cost column 'weekly_cost'", column="weekly_cost")
        costs = population["weekly_cost"].to_numpy()
    # the most expensive cases are the same in every replicate
    fixed = {"top_cost": _pick(strata, plan, "top_cost", costs, rng)} if costs is not None else {}
    rows = []
    for rep in range(reps):
        for method in methods:
            picked, weight = fixed.get(method) or _pick(strata, plan, method, costs, rng)
            sampled, sample_codes = np.unique(codes[picked], return_inverse=True)
            N_h = np.bincount(sample_codes, weights=weight)
            for outcome in outcomes:
                est = stratified(
                    values[outcome][picked],
                    sample_codes,
                    N_h,
                    labels=labels[sampled],
                    column=column,
                )
                half = est.half_width(0.95)
                within = np.abs(est.stratum_means - stratum_truth[outcome][sampled])
                rows.append(
                    {
                        "rep": rep,
                        "method": method,
                        "outcome": outcome,
                        "estimate": est.mean,
                        "truth": truth[outcome],
                        "error": 100 * (est.mean - truth[outcome]),
                        "ci_covers": abs(est.mean - truth[outcome]) <= half,
                        "strata_within_interval": float((within <= plan.interval / 100).mean()),
                    }
                )
    return pd.DataFrame(rows)


#: The weightings :func:`weighting_study` compares.
WEIGHTINGS: tuple[str, ...] = ("design", "post-stratified", "raked")


def weighting_study(
    population: pd.DataFrame,
    plan: SampleDesign,
    outcomes: list[str],
    margins: dict[str, str],
    *,
    method: str = "top_cost",
    reps: int = 1,
    confidence: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """How much of a selection's bias known population margins remove.

    Selects from a known ``population`` by ``method`` (see :func:`select`) and estimates
    each 0/1 outcome three ways: with the design weights N_h / n_h; post-stratified to the
    population counts of stratum x the first margin; and raked to stratum x each margin
    (:class:`lacstats.survey.Design`, linearisation standard errors). ``margins`` maps a
    name to a population column (e.g. ``{"placement": "placement_group", "age":
    "age_band"}``): the counts an analyst knows from public data, here taken from the
    population itself. Cells the sample lacks cannot be weighted to: within a stratum,
    such a cell is merged into the stratum's largest sampled cell (so a stratum whose
    sample fills one cell keeps its design weights).

    Returns one row per replicate, weighting and outcome: ``converged`` (False where the
    sample cannot meet every margin at once, as raking a purposive sample often cannot:
    then the estimate is missing), ``estimate``, ``se``, ``truth``, ``error`` (percentage
    points) and ``ci_covers`` (the interval holds the truth).

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import sampling, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> cases["far"] = (cases["distance_miles"] > 100).astype(float)
    >>> cases["placement_group"] = np.where(cases["placement_setting"].str.startswith("foster"), "foster", "other")
    >>> kent_medway = cases[cases["authority"].isin(["Kent", "Medway"])]
    >>> population = synthetic.population_like(kent_medway, {"Kent": 400, "Medway": 150}, rng=1)
    >>> plan = sampling.design(population.groupby("authority").size().rename("lac_10_plus").reset_index())
    >>> study = sampling.weighting_study(population, plan, ["far"], {"placement": "placement_group"}, rng=1)
    >>> study[["weighting", "converged", "estimate", "truth", "error"]].round(3)
             weighting  converged  estimate  truth   error
    0           design       True     0.349  0.144  20.558
    1  post-stratified       True     0.349  0.144  20.558
    2            raked       True     0.349  0.144  20.558
    """
    from lacstats.survey import Design, numeric_values

    if not margins:
        raise DataError("weighting_study needs at least one margin", column="margins")
    for column in (plan.stratum_column, *margins.values(), *outcomes):
        if column not in population.columns:
            raise DataError(f"population has no column {column!r}", column=column)
    gen = np.random.default_rng(rng)
    strata = population[plan.stratum_column].astype(str).to_numpy()
    values = {o: numeric_values(population[o], o, zero_one=True).to_numpy() for o in outcomes}
    truth = {o: float(values[o].mean()) for o in outcomes}
    costs = population["weekly_cost"].to_numpy() if method == "top_cost" else None
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows = []
    for rep in range(reps):
        picked, weight = _pick(
            population[plan.stratum_column].to_numpy(), plan, method, costs, gen
        )
        sample = pd.DataFrame({"stratum": strata[picked], "w": weight})
        design = Design.from_frame(sample, weights="w", strata="stratum")
        cells = {
            name: _cells(strata, population[column].astype(str).to_numpy(), picked)
            for name, column in margins.items()
        }
        first = next(iter(cells.values()))
        weighted: dict[str, Design | None] = {
            "design": design,
            "post-stratified": design.post_stratify(first[0], first[1]),
        }
        try:
            weighted["raked"] = design.rake(dict(cells))
        except DataError:
            weighted["raked"] = None  # the sample cannot meet every margin at once
        for weighting, calibrated in weighted.items():
            for outcome in outcomes:
                if calibrated is None:
                    point = se = np.nan
                else:
                    est = calibrated.mean(values[outcome][picked], variable=outcome)
                    point, se = est.estimate, est.se
                rows.append(
                    {
                        "rep": rep,
                        "method": method,
                        "weighting": weighting,
                        "outcome": outcome,
                        "converged": calibrated is not None,
                        "estimate": point,
                        "se": se,
                        "truth": truth[outcome],
                        "error": 100 * (point - truth[outcome]),
                        "ci_covers": bool(abs(point - truth[outcome]) <= z * se),
                    }
                )
    return pd.DataFrame(rows)


def _cells(
    strata: np.ndarray, groups: np.ndarray, picked: np.ndarray
) -> tuple[np.ndarray, pd.Series]:
    """Sample labels and population counts of stratum x group cells; a cell the sample
    lacks is merged into its stratum's largest sampled cell."""
    cell = pd.Series(strata).str.cat(pd.Series(groups), sep=" | ")
    sampled = cell.iloc[picked]
    largest = (
        pd.DataFrame({"stratum": strata[picked], "cell": sampled.to_numpy()})
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["stratum", "n", "cell"], ascending=[True, False, True])
        .drop_duplicates("stratum")
        .set_index("stratum")["cell"]
    )
    merged = cell.where(cell.isin(set(sampled)), pd.Series(strata).map(largest))
    return merged.iloc[picked].to_numpy(), merged.value_counts()
