"""Benchmark: read, validate, clean and derive the case table from ten years of SSDA903
returns of a large authority (about 2,000 children looked after a year, synthetic), goal
under 10 seconds. Run: python benchmarks/bench_ssda903.py"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from lacstats import costs, ssda903


def main(repeats: int = 3) -> None:
    returns = ssda903.simulate(years=tuple(range(2016, 2026)), children=2000, rng=1)
    with tempfile.TemporaryDirectory() as folder:
        ssda903.write(returns, folder)
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6
        rows = sum(len(t["episodes"]) for t in returns.values())
        print(f"10 returns, {rows:,} episode rows, {size:.1f} MB of CSV")
        units = costs.dorset_unit_costs()
        for _ in range(repeats):
            start = time.perf_counter()
            data = ssda903.read(folder)
            read = time.perf_counter() - start
            cleaned = ssda903.clean(data)
            cleaning = time.perf_counter() - start - read
            cases = ssda903.to_cases(cleaned, census_date="2025-03-31")
            derive = time.perf_counter() - start - read - cleaning
            period = ("2024-04-01", "2025-03-31")
            table = costs.cost_table(
                ssda903.episode_table(cleaned, period=period), unit_costs=units, period=period
            )
            total = time.perf_counter() - start
            print(
                f"read {read:.2f} s, clean {cleaning:.2f} s, to_cases {derive:.2f} s "
                f"({len(cases):,} children), cost table {total - read - cleaning - derive:.2f} s"
                f" ({len(table) - 1} rows); read to cases {read + cleaning + derive:.2f} s "
                f"(goal < 10 s)"
            )


if __name__ == "__main__":
    main()
