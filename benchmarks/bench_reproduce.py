"""Benchmark: wall time of the full `lacstats reproduce` on this machine, cold (fresh
PyTensor and numba compile caches) and warm (caches filled by the cold run).
Goals: under 3 minutes cold, under 90 seconds warm.

    python benchmarks/bench_reproduce.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "PYTENSOR_FLAGS": f"compiledir={Path(scratch) / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(Path(scratch) / "numba"),
        }
        for label in ("cold", "warm"):
            out = Path(scratch) / f"results-{label}"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "lacstats", "reproduce", "--quiet", "--out", str(out)],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            print(f"{label}: {time.perf_counter() - start:.1f} s")
        # the same seed must give byte-identical numbers and findings
        cold, warm = Path(scratch) / "results-cold", Path(scratch) / "results-warm"
        files = sorted(
            p.relative_to(cold)
            for p in cold.rglob("*")
            if p.name in ("numbers.json", "findings.csv")
        )
        differ = [str(f) for f in files if (cold / f).read_bytes() != (warm / f).read_bytes()]
        print(
            f"byte-identical: {len(files) - len(differ)} of {len(files)} files"
            + (f"; differ: {differ}" if differ else "")
        )


if __name__ == "__main__":
    main()
