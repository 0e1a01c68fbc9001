"""Benchmark: a 1,000-point sweep of the cohort-threshold function on the synthetic
sample, on all local cores and on one; reports wall times and the speed-up.

    python benchmarks/bench_sensitivity.py
"""

from __future__ import annotations

import os
import time

import numpy as np

from lacstats import sensitivity, synthetic


def main() -> None:
    cases = synthetic.complex_lac()
    high_cost = list(np.linspace(3000, 8000, 40))
    miles = list(np.linspace(10, 250, 25))  # 40 x 25 = 1,000 points
    timings = {}
    for jobs in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        table = sensitivity.threshold_sensitivity(
            cases, high_cost=high_cost, miles=miles, n_jobs=jobs, progress=False
        )
        timings[jobs] = time.perf_counter() - start
        assert table["point"].nunique() == 1000
        assert table.attrs["failed_points"] == 0
        print(f"{jobs} worker(s): {timings[jobs]:.1f} s for 1,000 points")
    cores = max(timings)
    print(f"speed-up on {cores} cores: {timings[1] / timings[cores]:.2f}x")


if __name__ == "__main__":
    main()
