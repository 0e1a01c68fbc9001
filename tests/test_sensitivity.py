"""Sweeps: identical results on every backend and worker count; failures surfaced."""

from __future__ import annotations

import sys

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from lacstats import sensitivity
from lacstats.errors import DataError

# workers import lacstats but not this test module: send its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def noisy(a: float, b: float, rng: np.random.Generator) -> dict[str, float]:
    return {"x": a + rng.normal(), "y": b * rng.random()}


def fragile(a: float, b: float, rng: np.random.Generator) -> float:
    if a == 2 and b == 20:
        raise ValueError("no convergence at this point")
    return a * b


GRID = {"a": [1, 2, 3], "b": [10, 20]}


def test_grid_points_order():
    points = sensitivity.grid_points(GRID)
    assert points[:3] == [{"a": 1, "b": 10}, {"a": 1, "b": 20}, {"a": 2, "b": 10}]
    frame = pd.DataFrame({"a": [5, 6], "b": [7, 8]})
    assert sensitivity.grid_points(frame) == [{"a": 5, "b": 7}, {"a": 6, "b": 8}]
    with pytest.raises(DataError, match="list of values"):
        sensitivity.grid_points({"a": 3})


def test_same_results_whatever_the_backend_and_workers():
    one = sensitivity.sweep(noisy, GRID, rng=42, n_jobs=1, progress=False)
    two = sensitivity.sweep(noisy, GRID, rng=42, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(one, two)
    on_dask = sensitivity.sweep(noisy, GRID, rng=42, backend="dask", progress=False)
    pd.testing.assert_frame_equal(one, on_dask)
    assert len(one) == 6 * 2
    other = sensitivity.sweep(noisy, GRID, rng=43, n_jobs=1, progress=False)
    assert not np.allclose(one["value"], other["value"])


def test_a_failing_point_is_reported_with_its_parameters():
    table = sensitivity.sweep(fragile, GRID, rng=1, n_jobs=2, progress=False)
    failed = table[table["output"] == "error"]
    assert failed[["a", "b"]].to_dict(orient="records") == [{"a": 2, "b": 20}]
    assert failed["error"].item() == "ValueError: no convergence at this point"
    assert len(sensitivity.failed(table)) == 1
    # a*b at (1,10) (1,20) (2,10) (3,10) (3,20); (2,20) failed
    assert table.loc[table["output"] == "value", "value"].tolist() == [10, 20, 20, 30, 60]


def test_threshold_sensitivity_contains_the_published_point(cases):
    table = sensitivity.threshold_sensitivity(
        cases, high_cost=[4800, 6000], miles=[20, 100], n_jobs=1, progress=False
    )
    at = table.set_index(["high_cost", "miles", "output"])["value"]
    assert at[(4800, 100, "high_cost_residential_n")] == 114
    assert at[(6000, 100, "high_cost_residential_n")] == 37
    assert at[(4800, 100, "keeping_local_n")] == 200
    assert at[(4800, 20, "keeping_local_n")] > 200


def test_design_sensitivity():
    from lacstats import datasets

    table = sensitivity.design_sensitivity(
        datasets.south_east_authorities(2017),
        confidence=[0.95],
        interval=[10],
        n_jobs=1,
        progress=False,
    )
    assert table.set_index("output")["value"]["crs"] == 1268
    assert table.set_index("output")["value"]["exact"] == 1275


def test_unknown_backend():
    with pytest.raises(DataError, match="backend"):
        sensitivity.sweep(noisy, GRID, backend="spark")
