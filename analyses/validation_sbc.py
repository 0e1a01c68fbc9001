"""Simulation-based calibration of the default hierarchical model (run on demand).

Talts et al. (2018), "Validating Bayesian inference algorithms with simulation-based
calibration", arXiv:1804.06788: draw parameters from the prior, simulate data, fit, and
record the rank of each true parameter among L posterior draws. If the sampler and model
are right, ranks are uniform on 0..L and central intervals cover at their nominal rate.
Run with ``lacstats reproduce --only validation_sbc`` (about 10 minutes on two cores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from lacstats import plots
from lacstats.analysis import Analysis, Context
from lacstats.hierarchical import HierarchicalModel

ANALYSIS = Analysis(
    name="validation_sbc",
    title="Simulation-based calibration of the random-intercept model (on demand)",
    summary="simulation-based calibration of the hierarchical model (on demand: "
    "`--only validation_sbc`)",
    evidence="synthetic_check",  # simulation-based calibration: the truth is simulated
    obtained="recomputed_from_rows",
    figures=("rank_histograms",),
    order=13,
    on_demand=True,
)
PARAMETERS = ("alpha", "beta", "tau", "sigma")


def simulate(gen: np.random.Generator, groups: int = 12) -> tuple[dict, pd.DataFrame]:
    """One data set from the model's default priors (see lacstats.hierarchical)."""
    truth = {
        "alpha": gen.normal(0, 2.5),
        "beta": gen.normal(0, 2.5),
        "tau": gen.exponential(1.0),
        "sigma": gen.exponential(1.0),
    }
    sizes = gen.integers(3, 40, groups)
    g = np.repeat(np.arange(groups), sizes)
    x = gen.normal(size=len(g))
    a = gen.normal(0, truth["tau"], groups)
    y = truth["alpha"] + truth["beta"] * x + a[g] + truth["sigma"] * gen.normal(size=len(g))
    return truth, pd.DataFrame({"y": y, "x": x, "g": [f"g{i:02d}" for i in g]})


def run(ctx: Context) -> None:
    sims, draws = (10, 100) if ctx.fast else (100, 100)
    ctx.options.update({"simulations": sims, "posterior_draws_ranked": draws, "rng": ctx.seed})
    gen = np.random.default_rng(ctx.seed)
    model = HierarchicalModel("y ~ x", group="g", family="gaussian", autoscale=False)
    rows = []
    for s in range(sims):
        truth, data = simulate(gen)
        fit = model.fit(
            data,
            draws=500,
            tune=1000,
            chains=2,
            rng=gen,
            progress=False,
            check=False,
            log_likelihood=False,
        )
        post = fit.idata["posterior"]
        ctx.progress(f"[{ctx.name}] simulation {s + 1}/{sims}")
        for name in PARAMETERS:
            values = np.asarray(post[name]).reshape(-1)
            thinned = values[np.linspace(0, len(values) - 1, draws).astype(int)]
            lo50, hi50 = np.quantile(values, [0.25, 0.75])
            lo90, hi90 = np.quantile(values, [0.05, 0.95])
            rows.append(
                {
                    "simulation": s,
                    "parameter": name,
                    "truth": truth[name],
                    "rank": int(np.sum(thinned < truth[name])),
                    "covered_50": lo50 <= truth[name] <= hi50,
                    "covered_90": lo90 <= truth[name] <= hi90,
                    "divergences": fit.diagnostics.divergences,
                }
            )
    table = pd.DataFrame(rows)
    ctx.table("ranks", table.round(6))
    summary = []
    for name, part in table.groupby("parameter", sort=False):
        counts = np.histogram(part["rank"], bins=10, range=(0, draws + 1))[0]
        summary.append(
            {
                "parameter": name,
                "coverage_50": part["covered_50"].mean(),
                "coverage_90": part["covered_90"].mean(),
                "uniformity_pvalue": float(stats.chisquare(counts).pvalue),
            }
        )
    summary = pd.DataFrame(summary)
    ctx.table("calibration", summary.round(4))
    for row in summary.itertuples():
        ctx.numbers(
            **{
                f"coverage50_{row.parameter}": (round(row.coverage_50, 3), "share"),
                f"coverage90_{row.parameter}": (round(row.coverage_90, 3), "share"),
                f"uniformity_p_{row.parameter}": (round(row.uniformity_pvalue, 4), "chi-square p"),
            }
        )
    ctx.diagnostic("ranks_uniform", bool((summary["uniformity_pvalue"] > 0.01).all()))
    ranks = table[table["parameter"].isin(PARAMETERS)]
    ctx.figure("rank_histograms", plots.rank_histograms(ranks, draws=draws, simulations=sims))
