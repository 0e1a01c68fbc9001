"""Benchmark of the national panel models (run on demand, not in CI).

The national analysis's models (:mod:`lacstats.national`) on the packaged national panel (152 authorities,
2015-2019; DfE releases), each in its own Python process so that every time is cold
(compilation included; PyTensor's on-disk cache is whatever earlier runs left):

  far          over_20_miles ~ year_c, trials distance_known (2017-2019), binomial
  residential  secure_homes_hostels ~ year_c, trials lac_total, binomial
  private      provider_private ~ year_c, trials lac_total, binomial
  rate         lac_total_revised ~ year_c, exposure population_under_18, negative binomial

each with region intercepts and authority intercepts and year slopes nested in regions
(``group=("region", "authority")``, ``varying=("year_c",)``; the binomial ones with an
effect per authority and year, ``observation_effects=True``), 4 chains, 1,000 draws (3,000
for far, 1,500 for rate) after 800 tuning steps: the analysis's own models, rows and settings
(``share_model``, ``rate_model``, ``share_rows``, ``rate_rows``, ``sampling``). Goal: each passes the convergence gate in
under 10 s on two cores, compilation included.

Peer, in the same run with ``--bambi`` (pip install -e '.[bench]'): Bambi's
``p(y, n) ~ year_c + (1 | region) + (1 + year_c | region:authority) + (1 | obs)``
(binomial) with
PyMC's default sampler, same draws and chains; its wall time and minimum bulk ESS.

    python benchmarks/bench_national.py [far] [residential] [private] [rate] [--bambi]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import date

MODELS = ("far", "residential", "private", "rate")


def _analysis():
    """:mod:`lacstats.national`: the national analysis's models, rows and sampling settings
    are the ones timed."""
    from lacstats import national

    return national


def _rows(national, name: str):
    """The rows, response and denominator (trials or exposure) of a model."""
    panel = national.national_panel()
    if name == "rate":
        return national.rate_rows(panel), "lac_total_revised", "population_under_18"
    response, trials, _years, _label = national.SHARES[name]
    return national.share_rows(panel, name), response, trials


def one(name: str) -> dict:
    start = time.perf_counter()
    from lacstats.hierarchical import HierarchicalModel  # noqa: F401 (timed: the import)

    imported = time.perf_counter() - start
    national = _analysis()
    rows, _response, _other = _rows(national, name)
    model = national.rate_model() if name == "rate" else national.share_model(name)
    t = time.perf_counter()
    options = national.sampling(name)
    fit = model.fit(rows, rng=2019, progress=False, check=False, **options)
    wall = time.perf_counter() - t
    return {
        "model": name,
        "rows": int(len(fit.design.y)),
        "authorities": len(fit.design.levels),
        "import_s": round(imported, 1),
        "wall_s": round(wall, 1),
        "timings": {k: round(v, 1) for k, v in fit.timings.items()},
        "gate": fit.diagnostics.passed,
        "rhat_max": round(fit.diagnostics.rhat_max, 4),
        "ess_bulk_min": round(fit.diagnostics.ess_bulk_min),
        "divergences": fit.diagnostics.divergences,
    }


def bambi(name: str) -> dict:
    import arviz as az
    import bambi as bmb

    national = _analysis()
    rows, response, trials = _rows(national, name)
    data = rows[["region", "authority", "year_c", response, trials]].dropna().copy()
    data[[response, trials]] = data[[response, trials]].astype(int)
    data["obs"] = [str(i) for i in range(len(data))]
    t = time.perf_counter()
    model = bmb.Model(
        f"p({response}, {trials}) ~ year_c + (1 | region) + (1 + year_c | region:authority)"
        " + (1 | obs)",
        data,
        family="binomial",
    )
    idata = model.fit(
        draws=national.SAMPLING["draws"],
        tune=national.SAMPLING["tune"],
        chains=national.SAMPLING["chains"],
        random_seed=2019,
        progressbar=False,
    )
    wall = time.perf_counter() - t
    ess = az.ess(idata, method="bulk")
    low = min(float(ess[v].min()) for v in ess.data_vars)
    return {"model": f"{name} (Bambi)", "wall_s": round(wall, 1), "ess_bulk_min": round(low)}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(argv[1])))
        return
    if argv and argv[0] == "--one-bambi":
        print(json.dumps(bambi(argv[1])))
        return
    names = [a for a in argv if a in MODELS] or list(MODELS)
    print(
        f"# {date.today():%d/%m/%Y}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for name in names:
        for flag in ("--one", *(("--one-bambi",) if "--bambi" in argv and name != "rate" else ())):
            out = subprocess.run(
                [sys.executable, __file__, flag, name], capture_output=True, text=True, check=True
            )
            print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
