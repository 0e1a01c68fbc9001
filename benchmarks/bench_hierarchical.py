"""Benchmarks of lacstats.hierarchical (run on demand, not in CI).

(a) The same random-intercept model and data fitted by lacstats and by Bambi in one run:
    minimum bulk ESS per second of wall time (goal: lacstats at least 3x Bambi).
(b) National scale: 152 authorities, 80,000 synthetic children, random-intercept lognormal
    model of weekly cost by setting and risk band (goal: under 60 s on 2 cores with the
    convergence gate passed).

    python benchmarks/bench_hierarchical.py [a|b]      (needs `pip install bambi` for a)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from lacstats import schema, synthetic
from lacstats.hierarchical import HierarchicalModel, _diagnostics

FORMULA = "weekly_cost ~ risk_score + C(placement_setting)"


def _min_bulk_ess(idata) -> float:
    """The smallest bulk ESS, as the convergence gate computes it."""
    return _diagnostics(idata, chains=0, draws=0).ess_bulk_min


def versus_bambi(draws: int = 1000, tune: int = 1000, chains: int = 4) -> None:
    """Each package fits the model twice: the first fit includes compilation (cold), the
    second reuses compile caches (warm). Wall time covers building, sampling and
    post-processing."""
    import bambi as bmb

    cases = synthetic.complex_lac()
    cases = cases.assign(
        authority=cases["authority"].astype(str),
        placement_setting=cases["placement_setting"].astype(str),
        risk_score=cases["risk_score"].astype(float),
        log_cost=np.log(cases["weekly_cost"]),
    )

    def ours():
        fit = HierarchicalModel(FORMULA, group="authority", fast_path=True).fit(
            cases,
            draws=draws,
            tune=tune,
            chains=chains,
            rng=1,
            progress=False,
            check=False,
            log_likelihood=False,
        )
        return fit.idata

    def theirs():
        model = bmb.Model("log_cost ~ risk_score + C(placement_setting) + (1|authority)", cases)
        return model.fit(draws=draws, tune=tune, chains=chains, random_seed=1, progressbar=False)

    rates = {}
    for name, fit in (("lacstats", ours), ("bambi", theirs)):
        for label in ("cold", "warm"):
            start = time.perf_counter()
            idata = fit()
            seconds = time.perf_counter() - start
            ess = _min_bulk_ess(idata)
            rates[(name, label)] = ess / seconds
            print(
                f"{name:8s} {label}: min bulk ESS {ess:.0f} in {seconds:.1f} s = "
                f"{ess / seconds:.1f} ESS/s"
            )
    for label in ("cold", "warm"):
        ratio = rates[("lacstats", label)] / rates[("bambi", label)]
        print(f"ratio ({label}): {ratio:.1f}x")


def national(children: int = 80_000, authorities: int = 152, seed: int = 7) -> None:
    gen = np.random.default_rng(seed)
    settings = np.array(schema.PLACEMENT_SETTINGS)
    base = np.log([480, 960, 320, 3700, 3800, 4150, 4300, 6400, 2100, 5400, 160, 1500])
    share = np.array([0.3, 0.25, 0.1, 0.04, 0.01, 0.1, 0.03, 0.01, 0.08, 0.01, 0.05, 0.02])
    authority = gen.integers(0, authorities, children)
    setting = gen.choice(len(settings), children, p=share)
    risk_band = gen.integers(0, 5, children)
    effect = gen.normal(0, 0.1, authorities)
    log_cost = base[setting] + 0.05 * risk_band + effect[authority] + gen.normal(0, 0.35, children)
    data = pd.DataFrame(
        {
            "weekly_cost": np.exp(log_cost),
            "placement_setting": settings[setting],
            "risk_band": risk_band.astype(str),
            "authority": [f"LA{a:03d}" for a in authority],
        }
    )
    start = time.perf_counter()
    fit = HierarchicalModel(
        "weekly_cost ~ C(placement_setting) + C(risk_band)", group="authority"
    ).fit(data, draws=1000, tune=1000, chains=4, rng=1, progress=False, check=False)
    seconds = time.perf_counter() - start
    d = fit.diagnostics
    print(
        f"national: {children:,} children, {authorities} authorities, fast path "
        f"{fit.fast_path}: {seconds:.1f} s wall; R-hat {d.rhat_max:.4f}, bulk ESS "
        f"{d.ess_bulk_min:.0f}, tail ESS {d.ess_tail_min:.0f}, divergences "
        f"{d.divergences}: gate {'passed' if d.passed else 'FAILED'}"
    )
    sd = fit.variance_components().set_index("term").loc["authority (intercept)", "mean"]
    print(f"authority SD {sd:.4f} (simulated 0.1)")


if __name__ == "__main__":
    which = sys.argv[1:] or ["a", "b"]
    if "a" in which:
        versus_bambi()
    if "b" in which:
        national()
