"""Sensitivity sweeps: how conclusions move when a threshold, assumption or prior moves.

:func:`sweep` evaluates ``func(**params, rng=child)`` at every point of a grid. Each point
gets its own random stream, spawned from ``rng`` with ``numpy.random.SeedSequence`` (SPEC
7), indexed by the point's position in the grid: results are identical whatever the
backend and however many workers run them. Locally the points run on all cores with
joblib; ``backend="dask"`` submits them to a ``dask.distributed`` client (a
``LocalCluster`` by default, or an existing scheduler's address), so a national sweep runs
on a cluster without code changes. A point that raises is reported with its parameters and
the error, never lost.

Ready-made sweeps: :func:`threshold_sensitivity`, :func:`design_sensitivity`,
:func:`prior_sensitivity` and :func:`selection_sensitivity`.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lacstats.errors import DataError

__all__ = [
    "design_sensitivity",
    "failed",
    "grid_points",
    "prior_sensitivity",
    "selection_sensitivity",
    "sweep",
    "threshold_sensitivity",
]

BACKENDS = ("local", "dask")


def grid_points(grid: Mapping[str, Sequence[Any]] | pd.DataFrame) -> list[dict[str, Any]]:
    """The points of a grid: the Cartesian product of a dict of lists (in key order, the
    last key varying fastest) or the rows of a DataFrame.

    Examples
    --------
    >>> from lacstats import sensitivity
    >>> sensitivity.grid_points({"high_cost": [4800, 5200], "miles": [20, 100]})
    [{'high_cost': 4800, 'miles': 20}, {'high_cost': 4800, 'miles': 100}, {'high_cost': 5200, 'miles': 20}, {'high_cost': 5200, 'miles': 100}]
    """
    if isinstance(grid, pd.DataFrame):
        return [
            {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in grid.to_dict(orient="records")
        ]
    if not isinstance(grid, Mapping) or not grid:
        raise DataError("grid must be a non-empty dict of lists or a DataFrame", column="grid")
    for key, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
            raise DataError(f"grid entry {key!r} must be a list of values", column=key)
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _evaluate(func: Callable[..., Any], params: dict[str, Any], seed: np.random.SeedSequence):
    """Run one point; never raises (a failure becomes an error record)."""
    try:
        out = func(**params, rng=np.random.default_rng(seed))
    except Exception as err:  # noqa: BLE001 - reported with the point, not swallowed
        return {
            "__error__": f"{type(err).__name__}: {err}",
            "__traceback__": traceback.format_exc(limit=3),
        }
    if isinstance(out, Mapping):
        return dict(out)
    return {"value": out}


def sweep(
    func: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | pd.DataFrame,
    *,
    rng: int | np.random.Generator | np.random.SeedSequence | None = None,
    backend: str = "local",
    client: Any = None,
    n_jobs: int = -1,
    progress: bool = False,
) -> pd.DataFrame:
    """Evaluate ``func`` over ``grid``; one row per point and output.

    ``func(**params, rng=generator)`` returns a dict of named outputs (or one value, named
    ``value``). Columns of the result: ``point`` (position in the grid), the parameters,
    ``output``, ``value`` and ``error`` (missing unless the point raised; then ``output``
    is ``"error"`` and the message names the exception). ``client`` is a
    ``dask.distributed.Client`` or a scheduler address; without one a ``LocalCluster`` is
    started for the sweep and closed after it. ``progress=True`` shows a progress bar (on
    standard error); the library is quiet unless asked (the command line asks).

    Examples
    --------
    >>> from lacstats import sensitivity, sampling
    >>> def size(population, interval, rng=None):
    ...     return {"n": sampling.sample_size(population, interval=interval)}
    ...
    >>> table = sensitivity.sweep(size, {"population": [100, 900], "interval": [5, 10]}, rng=1, n_jobs=1, progress=False)
    >>> table
       point  population  interval output  value error
    0      0         100         5      n     80  None
    1      1         100        10      n     49  None
    2      2         900         5      n    269  None
    3      3         900        10      n     87  None
    """
    if backend not in BACKENDS:
        raise DataError(
            f"argument 'backend' must be local or dask; got {backend!r}", column="backend"
        )
    points = grid_points(grid)
    if isinstance(rng, np.random.SeedSequence):
        root = rng
    elif isinstance(rng, np.random.Generator):
        root = np.random.SeedSequence(int(rng.integers(0, 2**63)))
    else:
        root = np.random.SeedSequence(rng)
    seeds = root.spawn(len(points))
    if backend == "local":
        outputs = _run_local(func, points, seeds, n_jobs, progress)
    else:
        outputs = _run_dask(func, points, seeds, client, progress)
    rows = []
    for i, (params, out) in enumerate(zip(points, outputs, strict=True)):
        if "__error__" in out:
            rows.append(
                {
                    "point": i,
                    **params,
                    "output": "error",
                    "value": np.nan,
                    "error": out["__error__"],
                }
            )
            continue
        for name, value in out.items():
            rows.append({"point": i, **params, "output": name, "value": value, "error": None})
    return pd.DataFrame(rows)


def failed(table: pd.DataFrame) -> pd.DataFrame:
    """The points of a :func:`sweep` table that raised, with their parameters and error.
    Columns: those of the sweep's table (``point``, the parameters, ``output``,
    ``value``, ``error``).

    Examples
    --------
    >>> from lacstats import sensitivity, sampling
    >>> def size(population, rng=None):
    ...     return {"n": sampling.sample_size(population)}
    ...
    >>> table = sensitivity.sweep(size, {"population": [900, -5]}, rng=1, n_jobs=1, progress=False)
    >>> sensitivity.failed(table)[["population", "output"]]
       population output
    1          -5  error
    """
    if table.empty:
        return table
    return table[table["output"] == "error"]


def _run_local(func, points, seeds, n_jobs, progress):
    from joblib import Parallel, delayed

    jobs = (delayed(_evaluate)(func, p, s) for p, s in zip(points, seeds, strict=True))
    runner = Parallel(n_jobs=n_jobs, return_as="generator", batch_size="auto")
    results = runner(jobs)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(points), desc="sweep", leave=False)
    return list(results)


def _run_dask(func, points, seeds, client, progress):
    from distributed import Client, LocalCluster, as_completed

    own = None
    if client is None:
        own = Client(
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        )
        client = own
    elif isinstance(client, str):
        own = Client(client)
        client = own
    try:
        futures = client.map(_evaluate, [func] * len(points), points, seeds, pure=False)
        if progress:
            from tqdm import tqdm

            for _ in tqdm(as_completed(futures), total=len(futures), desc="sweep", leave=False):
                pass
        return client.gather(futures)
    finally:
        if own is not None:
            cluster = getattr(own, "cluster", None)
            own.close()
            if cluster is not None:
                cluster.close()


# -- ready-made sweeps -----------------------------------------------------------------------
def _cohort_point(cases, *, high_cost: float, miles: float, rng=None) -> dict[str, float]:
    from lacstats import cohorts

    flags = cohorts.assign(
        cases,
        high_cost_residential={"min_weekly_cost": high_cost},
        keeping_local={"miles": miles},
        distant_without_specialist_need={"miles": miles},
    )
    summary = cohorts.summarise(cases, flags, by=None).set_index("cohort")
    out: dict[str, float] = {}
    for name in ("high_cost_residential", "keeping_local", "distant_without_specialist_need"):
        out[f"{name}_n"] = float(summary.loc[name, "n"])
        out[f"{name}_share"] = float(summary.loc[name, "share"])
        out[f"{name}_weekly_cost"] = float(summary.loc[name, "weekly_cost"])
    return out


class _Bound:
    """A picklable partial: a ready-made sweep's function with its data bound."""

    def __init__(self, func: Callable[..., Any], **bound: Any) -> None:
        self.func, self.bound = func, bound

    def __call__(self, **params: Any) -> Any:
        return self.func(**self.bound, **params)


def threshold_sensitivity(
    cases: pd.DataFrame,
    high_cost: Sequence[float] = (4000, 4400, 4800, 5200, 5600, 6000),
    miles: Sequence[float] = (20, 50, 100, 150),
    **kwargs: Any,
) -> pd.DataFrame:
    """Cohort sizes, shares and weekly costs as the high-cost and distance lines move.
    Columns: as :func:`sweep`'s, ``point``, ``high_cost``, ``miles``, ``output`` (each
    cohort's ``_n``, ``_share`` and ``_weekly_cost``), ``value`` and ``error``.

    Examples
    --------
    >>> from lacstats import sensitivity, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> table = sensitivity.threshold_sensitivity(cases, high_cost=[4800], miles=[20, 100], n_jobs=1, progress=False)
    >>> table[table["output"] == "keeping_local_n"][["high_cost", "miles", "value"]]
        high_cost  miles  value
    3        4800     20  638.0
    12       4800    100  200.0
    """
    return sweep(
        _Bound(_cohort_point, cases=cases),
        {"high_cost": list(high_cost), "miles": list(miles)},
        **kwargs,
    )


def _design_point(frame, *, confidence: float, interval: float, rng=None) -> dict[str, float]:
    from lacstats.sampling import CONVENTIONS, design

    return {
        convention: float(
            design(frame, confidence=confidence, interval=interval, convention=convention).total
        )
        for convention in CONVENTIONS
    }


def design_sensitivity(
    frame: pd.DataFrame,
    confidence: Sequence[float] = (0.90, 0.95, 0.99),
    interval: Sequence[float] = (5, 7.5, 10, 12.5, 15),
    **kwargs: Any,
) -> pd.DataFrame:
    """Total sample size of the stratified design by confidence, interval and convention.
    Columns: as :func:`sweep`'s, ``point``, ``confidence``, ``interval``, ``output`` (the
    convention), ``value`` (the total) and ``error``.

    Examples
    --------
    >>> from lacstats import datasets, sensitivity
    >>> frame = datasets.south_east_authorities(2017)
    >>> table = sensitivity.design_sensitivity(frame, confidence=[0.95], interval=[5, 10], n_jobs=1, progress=False)
    >>> table[table["output"] == "crs"][["confidence", "interval", "value"]]
       confidence  interval   value
    0        0.95         5  2925.0
    4        0.95        10  1268.0
    """
    return sweep(
        _Bound(_design_point, frame=frame),
        {"confidence": list(confidence), "interval": list(interval)},
        **kwargs,
    )


def _prior_point(
    cases, formula, fit_options, *, group_sd: float, beta: float, rng=None
) -> dict[str, float]:
    from lacstats.hierarchical import HierarchicalModel

    model = HierarchicalModel(
        formula, group="authority", priors={"group_sd": group_sd, "beta": beta}
    )
    fit = model.fit(
        cases, rng=rng, progress=False, check=False, log_likelihood=False, **fit_options
    )
    sds = fit.variance_components().set_index("term")["mean"]
    effects = fit.group_effects()
    return {
        "authority_sd": float(sds.iloc[0]),
        "largest_effect": float(effects["mean"].abs().max()),
        "diagnostics_passed": float(fit.diagnostics.passed),
    }


def prior_sensitivity(
    cases: pd.DataFrame,
    group_sd: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    beta: Sequence[float] = (1.0, 2.5),
    *,
    formula: str = "weekly_cost ~ risk_score + C(placement_setting)",
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    **kwargs: Any,
) -> pd.DataFrame:
    """Authority effects as the prior scales of the hierarchical model move (on the scaled
    data: 1 = one response SD; see :mod:`lacstats.hierarchical`). Columns: as
    :func:`sweep`'s, ``point``, ``group_sd``, ``beta``, ``output`` (``authority_sd``,
    ``largest_effect``, ``diagnostics_passed``), ``value`` and ``error``.

    Examples
    --------
    >>> from lacstats import sensitivity, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> table = sensitivity.prior_sensitivity(cases, group_sd=[0.5], beta=[2.5], formula="weekly_cost ~ risk_score", chains=4, rng=1, n_jobs=1, progress=False)
    >>> sorted(table["output"].unique())
    ['authority_sd', 'diagnostics_passed', 'largest_effect']
    """
    fit_options = {"draws": draws, "tune": tune, "chains": chains}
    return sweep(
        _Bound(_prior_point, cases=cases, formula=formula, fit_options=fit_options),
        {"group_sd": list(group_sd), "beta": list(beta)},
        **kwargs,
    )


def _selection_point(population, plan, outcomes, *, method: str, rng=None):
    from lacstats.sampling import selection_study

    study = selection_study(population, plan, outcomes, reps=1, methods=(method,), rng=rng)
    return {f"error_{row.outcome}": float(row.error) for row in study.itertuples()}


def selection_sensitivity(
    cases: pd.DataFrame,
    *,
    reps: int = 50,
    methods: Sequence[str] = ("random", "top_cost"),
    rng: int | np.random.Generator | None = None,
    population: pd.Series | None = None,
    far_miles: float | None = None,
    high_cost: float | None = None,
    settings: Sequence[str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Error (points) of the headline proportions under purposive and random selection,
    one replicate per point, from a population shaped like ``cases``.

    ``population`` gives each authority's children in the frame (indexed by authority;
    default the South East's looked-after children aged 10+ in 2017); ``far_miles``,
    ``high_cost`` and ``settings`` are the study's lines (default the South East
    project's). A proportion whose column ``cases`` lack (``distance_miles``,
    ``needs_met``) is left out. Columns: as :func:`sweep`'s, ``point``, ``method``,
    ``rep``, ``output`` (``error_`` and the proportion's name), ``value`` (points) and
    ``error``.

    Examples
    --------
    >>> from lacstats import sensitivity, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> table = sensitivity.selection_sensitivity(cases, reps=2, rng=1, n_jobs=1, progress=False)
    >>> sorted(table["output"].unique())
    ['error_high_cost_residential', 'error_needs_met', 'error_over_100_miles']
    >>> len(table)
    12
    """
    from lacstats import cohorts, findings, synthetic
    from lacstats.sampling import design

    if population is None:
        counts = synthetic.authority_counts()
        population = counts.set_index("authority")["lac_10_plus"]
    far_miles = findings.FAR_MILES if far_miles is None else far_miles
    high_cost = cohorts.HIGH_COST if high_cost is None else high_cost
    gen = np.random.default_rng(rng)
    frame = population.rename("children").rename_axis("authority").reset_index()
    population = synthetic.population_like(cases, population, rng=gen)
    outcomes = []
    if "distance_miles" in population and population["distance_miles"].notna().any():
        population["over_100_miles"] = population["distance_miles"] > far_miles
        outcomes.append("over_100_miles")
    if "needs_met" in population and population["needs_met"].notna().any():
        population["needs_met"] = population["needs_met"].isin(["mostly", "completely"])
        outcomes.append("needs_met")
    rule = {"min_weekly_cost": high_cost}
    if settings is not None:
        rule["settings"] = tuple(settings)
    costly = [r for r in cohorts.DEFAULT_RULES if r.name == "high_cost_residential"]
    population["high_cost_residential"] = (
        cohorts.assign(population, costly, high_cost_residential=rule)["high_cost_residential"]
        .fillna(False)
        .astype(bool)
        .to_numpy()
    )
    outcomes.append("high_cost_residential")
    plan = design(frame, population="children")
    grid = {"method": list(methods), "rep": list(range(reps))}
    func = _Bound(
        _drop_rep,
        inner=_Bound(_selection_point, population=population, plan=plan, outcomes=outcomes),
    )
    return sweep(func, grid, rng=gen, **kwargs)


def _drop_rep(inner, *, rep: int, **params):
    return inner(**params)
