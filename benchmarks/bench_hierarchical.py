"""Benchmarks of lacstats.hierarchical against Bambi (run on demand, not in CI).

Data are generated here, independently of ``lacstats.synthetic``: log weekly cost of
children in authorities, with a continuous risk score (standardised, N(0, 1)), a
six-level placement type, authority intercepts (SD 0.15) and, for (c), authority slopes on
risk (SD 0.05, correlation 0.3 with the intercepts), residual SD 0.35.

(a) n = 1,253, J = 19, random intercepts: lacstats and Bambi, each fitted twice in one
    process (cold: first fit, compilation included; warm: a second data set of the same
    shape). Goal: gate passed with defaults, >= 5x Bambi's min bulk ESS per second.
(b) n = 80,000, J = 152, random intercepts: goal under 10 s cold, under 3 s warm.
(c) n = 80,000, J = 152, correlated varying intercepts and risk slopes: goal under 15 s cold.

Each scenario runs twice, each time in a new Python process. The first process starts with
empty numba and PyTensor caches (a new folder), as on a fresh machine: its fit's
``compile`` is the first compilation. The second process finds the compiled code that the
first wrote ("cold": the first fit in a process, as on a user's second day) and fits again
("warm": a second data set of the same shape in the same process); Bambi, in that process,
uses the same (new) PyTensor folder, so its cold fit includes its first compilation. Wall time covers the whole ``fit`` call
(design, sufficient statistics, compilation, sampling, exact draws, diagnostics); imports
are timed separately. The load average is printed before each process.

    python benchmarks/bench_hierarchical.py [a] [b] [c] [--bambi-national]
    (Bambi: pip install -e '.[bench]')
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

SETTINGS = ("foster", "ifa", "kinship", "residential", "semi_independent", "secure")
BASE = np.log([480.0, 950.0, 330.0, 4200.0, 1600.0, 6500.0])
SHARE = np.array([0.35, 0.3, 0.12, 0.12, 0.08, 0.03])
FORMULA = "weekly_cost ~ risk + C(setting)"


def simulate(n: int, groups: int, *, slopes: bool, seed: int) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    authority = gen.integers(0, groups, n)
    setting = gen.choice(len(SETTINGS), n, p=SHARE)
    risk = gen.standard_normal(n)
    cov = np.array([[0.15**2, 0.3 * 0.15 * 0.05], [0.3 * 0.15 * 0.05, 0.05**2]])
    effects = gen.multivariate_normal([0, 0], cov, groups)
    slope = 0.12 + (effects[authority, 1] if slopes else 0.0)
    log_cost = BASE[setting] + slope * risk + effects[authority, 0] + gen.normal(0, 0.35, n)
    return pd.DataFrame(
        {
            "weekly_cost": np.exp(log_cost),
            "log_cost": log_cost,
            "risk": risk,
            "setting": np.array(SETTINGS)[setting],
            "authority": [f"LA{a:03d}" for a in authority],
        }
    )


def _min_bulk_ess(idata, skip=()) -> float:
    import arviz as az

    names = [
        v
        for v in idata["posterior"].data_vars
        if not any(v.endswith(s) for s in ("_offset", "mu", *skip))
    ]
    ess = az.ess(idata, var_names=names, method="bulk")
    values = np.concatenate([np.asarray(ess[v]).ravel() for v in ess.data_vars])
    return float(np.nanmin(values))


def ours(data, varying=()):
    from lacstats.hierarchical import HierarchicalModel

    start = time.perf_counter()
    fit = HierarchicalModel(FORMULA, group="authority", varying=varying).fit(
        data, rng=1, progress=False, check=False
    )
    seconds = time.perf_counter() - start
    d = fit.diagnostics
    return {
        "seconds": seconds,
        "min_bulk_ess": d.ess_bulk_min,
        "rhat_max": d.rhat_max,
        "divergences": d.divergences,
        "gate": d.passed,
        "compile": fit.timings["compile"],
        "sample": fit.timings["sample"],
        "other": fit.timings["build"] + fit.timings["post"],
    }


def bambi(data, varying=()):
    import bambi as bmb

    from lacstats.hierarchical import diagnostics

    terms = "1 + risk" if varying else "1"
    start = time.perf_counter()
    model = bmb.Model(f"log_cost ~ risk + C(setting) + ({terms}|authority)", data)
    idata = model.fit(draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False)
    seconds = time.perf_counter() - start
    ess = _min_bulk_ess(idata)
    d = diagnostics(idata, 4, 1000) if "diverging" in idata["sample_stats"] else None
    return {
        "seconds": seconds,
        "min_bulk_ess": ess,
        "rhat_max": None if d is None else d.rhat_max,
        "divergences": None if d is None else d.divergences,
        "gate": None,
    }


def scenario(name: str, bambi_national: bool, first: bool = False) -> dict:
    start = time.perf_counter()
    import lacstats.hierarchical  # noqa: F401

    out = {"scenario": name, "import_seconds": time.perf_counter() - start}
    if first:  # empty caches: the first compilation, lacstats only
        n, groups = (1253, 19) if name == "a" else (80_000, 152)
        data = simulate(n, groups, slopes=name == "c", seed={"a": 11}.get(name, 21))
        out["lacstats"] = {"first": ours(data, ("risk",) if name == "c" else ())}
        return out
    if name == "a":
        cold, warm = (
            simulate(1253, 19, slopes=False, seed=11),
            simulate(1253, 19, slopes=False, seed=12),
        )
        out["lacstats"] = {"cold": ours(cold), "warm": ours(warm)}
        out["bambi"] = {"cold": bambi(cold), "warm": bambi(warm)}
        for label in ("cold", "warm"):
            a, b = out["lacstats"][label], out["bambi"][label]
            out[f"ess_per_second_ratio_{label}"] = (a["min_bulk_ess"] / a["seconds"]) / (
                b["min_bulk_ess"] / b["seconds"]
            )
    else:
        varying = ("risk",) if name == "c" else ()
        cold, warm = (simulate(80_000, 152, slopes=name == "c", seed=s) for s in (21, 22))
        out["lacstats"] = {"cold": ours(cold, varying), "warm": ours(warm, varying)}
        if bambi_national:
            out["bambi"] = {"cold": bambi(cold, varying)}
    return out


def _process(name: str, extra: list[str], cache: Path, first: bool) -> dict:
    """One scenario in a new process, with lacstats' numba cache and PyTensor's compile
    folder (where PyTensor's numba graphs are cached too) in ``cache``."""
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache / "numba"),
        "PYTENSOR_FLAGS": f"base_compiledir={cache / 'pytensor'}",
    }
    run = subprocess.run(
        [sys.executable, __file__, "--one", name, *extra, *(["--first"] if first else [])],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(scenario(argv[1], "--bambi-national" in argv, "--first" in argv)))
        return
    which = [a for a in argv if a in ("a", "b", "c")] or ["a", "b", "c"]
    extra = [a for a in argv if a == "--bambi-national"]
    print(
        f"# {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for name in which:
        with tempfile.TemporaryDirectory() as scratch:
            load = os.getloadavg()[0]
            first = _process(name, extra, Path(scratch), first=True)["lacstats"]["first"]
            print(
                f"\n({name}) first compilation, empty caches (load {load:.1f}): "
                f"{first['seconds']:.1f} s [compile {first['compile']:.1f}, sample "
                f"{first['sample']:.1f}, other {first['other']:.1f}], min bulk ESS "
                f"{first['min_bulk_ess']:.0f}"
            )
            load = os.getloadavg()[0]
            result = _process(name, extra, Path(scratch), first=False)
        print(f"({name}) import {result['import_seconds']:.1f} s (load {load:.1f})")
        for package in ("lacstats", "bambi"):
            for label, r in result.get(package, {}).items():
                extra_t = (
                    f" [compile {r['compile']:.1f}, sample {r['sample']:.1f}, "
                    f"other {r['other']:.1f}]"
                    if "compile" in r
                    else ""
                )
                gate = "" if r["gate"] is None else f", gate {'passed' if r['gate'] else 'FAILED'}"
                print(
                    f"  {package:8s} {label}: {r['seconds']:.1f} s{extra_t}, min bulk ESS "
                    f"{r['min_bulk_ess']:.0f} ({r['min_bulk_ess'] / r['seconds']:.0f}/s), "
                    f"R-hat {r['rhat_max'] if r['rhat_max'] is None else round(r['rhat_max'], 4)}, "
                    f"divergences {r['divergences']}{gate}"
                )
        for label in ("cold", "warm"):
            key = f"ess_per_second_ratio_{label}"
            if key in result:
                print(f"  ESS per second, lacstats / Bambi ({label}): {result[key]:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
