"""Benchmark: sample sizes for 152 authorities over a 100 x 100 grid of confidence and
interval, in one vectorised call (goal: under 50 ms). Run: python benchmarks/bench_sample_size.py"""

from __future__ import annotations

import time

import numpy as np

from lacstats import datasets, sampling


def main(repeats: int = 20) -> None:
    wide = datasets.dfe_cla(2017, form="wide")
    la = wide[wide["level"] == "LA"]
    N = (la["CLA_10to15"].fillna(1) + la["CLA_16over"].fillna(1)).round().clip(lower=1)
    N = np.resize(N.to_numpy(), 152)[:, None, None]
    confidence = np.linspace(0.80, 0.995, 100)[None, :, None]
    interval = np.linspace(1, 20, 100)[None, None, :]
    for convention in sampling.CONVENTIONS:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            out = sampling.sample_size(
                N, confidence=confidence, interval=interval, convention=convention
            )
            times.append(time.perf_counter() - start)
        print(
            f"{convention:15s} {out.size:,} sizes: median {1000 * np.median(times):.1f} ms, "
            f"min {1000 * min(times):.1f} ms"
        )


if __name__ == "__main__":
    main()
