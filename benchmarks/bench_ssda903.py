"""Benchmark: SSDA903 at national scale, and a pooled regional projection.

1. A national extract, 150 authorities x 10 years (about 1.5 million episode rows,
   synthetic: ``ssda903.simulate_region``), written as the regional pipelines write it
   (one file per table, LA and YEAR columns, ISO dates): read, validate, clean and derive
   the case table. Goal: under 60 s on 2 cores with peak memory under 4 GB. Each step runs
   in a fresh process whose wall time, CPU time and peak resident memory are reported;
   the peer in the same run is pandas' own ``read_csv`` of the same files (parsing alone,
   no checks), the floor any reader stands on.
2. The pooled projection of 19 authorities sized as the South East's children looked
   after in March 2019 (DfE), 36 months, 1,000 draws. Goal: under 30 s. The peer in the
   same run is the same projection with each authority alone (``pooling="none"``).

Run: python benchmarks/bench_ssda903.py [--authorities 150] [--years 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _extract(folder: Path, authorities: int, years: int) -> dict[str, float]:
    from lacstats import ssda903

    rng = np.random.default_rng(1)
    sizes = np.clip(rng.lognormal(np.log(430), 0.6, authorities), 40, 3000).astype(int)
    region = ssda903.simulate_region(
        {f"Authority {i:03d}": int(n) for i, n in enumerate(sizes)},
        years=tuple(range(2026 - years, 2026)),
        rng=2,
    )
    for table, frame in region.items():
        frame.to_csv(
            folder / f"SSDA903_{table.title()}_merged.csv", index=False, date_format="%Y-%m-%d"
        )
    return {
        "episodes": len(region["episodes"]),
        "header": len(region["header"]),
        "children_at_year_end": int(sizes.sum()),
        "megabytes": sum(p.stat().st_size for p in folder.iterdir()) / 1e6,
    }


def _child(task: str, folder: str) -> None:
    """Run one task in this (fresh) process and print its figures as JSON."""
    clock, cpu = time.perf_counter(), time.process_time()
    figures: dict[str, float] = {}
    if task == "lacstats":
        from lacstats import ssda903

        steps = {}
        start = time.perf_counter()
        data = ssda903.read(folder)
        steps["read"] = time.perf_counter() - start
        cleaned = ssda903.clean(data)
        steps["clean"] = time.perf_counter() - start - steps["read"]
        cases = ssda903.to_cases(cleaned, census_date="2025-03-31")
        steps["cases"] = time.perf_counter() - start - steps["read"] - steps["clean"]
        figures = {**steps, "rows": len(data.episodes), "children": len(cases)}
    else:
        import pandas as pd

        rows = 0
        for path in sorted(Path(folder).glob("*.csv")):
            rows += len(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
        figures = {"rows": rows}
    figures["wall"] = time.perf_counter() - clock
    figures["cpu"] = time.process_time() - cpu
    figures["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(figures))


def _run(task: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _projection() -> None:
    from lacstats import datasets, projection, ssda903

    frame = datasets.south_east_authorities(2019)
    sizes = dict(zip(frame["authority"], frame["lac_total"].astype(int), strict=True))
    region = ssda903.simulate_region(sizes, years=tuple(range(2017, 2023)), rng=3)
    cleaned = ssda903.clean(ssda903.from_frames(region["header"], region["episodes"]))
    children = sum(sizes.values())
    for how in ("partial", "none"):
        clock, cpu = time.perf_counter(), time.process_time()
        result = projection.stock_and_flow(cleaned, months=36, draws=1000, pooling=how, rng=1)
        wall, used = time.perf_counter() - clock, time.process_time() - cpu
        print(
            f"projection of {len(result.authorities)} authorities ({children:,} children), "
            f"36 months x 1,000 draws, pooling {how:7s}: {wall:5.1f} s wall, {used:5.1f} s CPU"
            + (" (goal < 30 s)" if how == "partial" else " (peer: each authority alone)")
        )


def main(authorities: int = 150, years: int = 10) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        size = _extract(folder, authorities, years)
        print(
            f"national extract: {authorities} authorities x {years} years, "
            f"{size['episodes']:,} episode rows, {size['header']:,} header rows, "
            f"{size['megabytes']:.0f} MB of CSV"
        )
        ours = _run("lacstats", folder)
        peer = _run("pandas", folder)
    print(
        f"lacstats read + clean + cases: {ours['wall']:.1f} s wall, {ours['cpu']:.1f} s CPU "
        f"(read {ours['read']:.1f}, clean {ours['clean']:.1f}, cases {ours['cases']:.1f}) "
        f"-- goal < 60 s; peak memory {ours['peak_gb']:.2f} GB (goal < 4 GB); "
        f"{int(ours['children']):,} children looked after on 31 March 2025"
    )
    print(
        f"peer, pandas.read_csv of the same files (parsing only): {peer['wall']:.1f} s wall, "
        f"{peer['cpu']:.1f} s CPU, peak memory {peer['peak_gb']:.2f} GB"
    )
    _projection()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--authorities", type=int, default=150)
        parser.add_argument("--years", type=int, default=10)
        args = parser.parse_args()
        main(args.authorities, args.years)
