"""Figures come from lacstats.plots only, as Figure objects that leave no pyplot state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lacstats import plots, schema, synthetic


def test_every_figure_is_a_standalone_figure(rng):
    before = plt.get_fignums()
    cases = synthetic.complex_lac()
    effects = pd.DataFrame(
        {
            "group": ["A", "B", "C"],
            "mean": [-0.1, 0.0, 0.1],
            "ci_low": [-0.2, -0.1, 0.0],
            "ci_high": [0.0, 0.1, 0.2],
            "n": [10, 20, 30],
        }
    )
    recovery = effects.assign(truth=[-0.05, 0.0, 0.12])
    profiles = pd.DataFrame(
        {"name": ["lower need", "violence"], "share": [0.6, 0.4]}
        | {f"mean_{i}": [1.5, 3.5] for i in schema.NEED_ITEMS}
    )
    cohorts = pd.DataFrame({"n": [5, 8], "weekly_cost": [9000, 12000]}, index=["a", "b"])
    selection = pd.DataFrame(
        {
            "method": ["random", "top_cost"],
            "outcome": ["x", "x"],
            "bias_points": [0.1, 12.0],
            "strata_within_10": [0.95, 0.3],
        }
    )
    grid = pd.DataFrame(
        {
            "high_cost": [4000, 4800, 4800],
            "miles": [100, 100, 20],
            "output": ["high_cost_residential_n", "high_cost_residential_n", "keeping_local_n"],
            "value": [150, 114, 420],
        }
    )
    design = pd.DataFrame(
        {"confidence": [0.95, 0.95], "interval": [5, 10], "output": "crs", "value": [3000, 1268]}
    )
    ranks = pd.DataFrame({"parameter": ["a"] * 20 + ["b"] * 20, "rank": rng.integers(0, 100, 40)})
    figures = [
        plots.authority_effects(effects, highlight="B", with_n=True, title="t"),
        plots.true_versus_estimated(recovery, level=0.95),
        plots.cost_by_risk_band(cases, high_cost=4800, data="synthetic"),
        plots.risk_cost_lines(
            {
                "g": {
                    "mids": [8, 11],
                    "means": [500, 600],
                    "sizes": [5, 6],
                    "grid": np.arange(7, 36),
                    "fitted": np.linspace(500, 900, 29),
                }
            }
        ),
        plots.need_profiles(profiles, schema.NEED_ITEMS, method="k-means"),
        plots.cohort_sizes(cohorts),
        plots.selection_bias(selection, {"x": "an outcome"}, reps=3),
        plots.threshold_curves(grid, high_cost=4800, miles=100),
        plots.design_totals(design, strata=19, published=1253),
        plots.rank_histograms(ranks, draws=99, simulations=20),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        assert len(plots.png(fig)) > 1000
    # the same figure renders to the same bytes (no date or software stamp)
    assert plots.png(figures[0]) == plots.png(figures[0])
    assert plt.get_fignums() == before  # no pyplot figure was opened
    assert [len(f.axes) for f in figures[-3:]] == [2, 1, 2]
