"""Benchmark: wall time of the full `lacstats reproduce` on this machine, cold (fresh
PyTensor and numba compile caches) and warm (caches filled by the cold run).
Goals: under 3 minutes cold, under 90 seconds warm. A third run, one analysis at a time,
shows what running them side by side gains, and that it changes no byte.

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
            # base_compiledir moves both of PyTensor's caches: its C modules and its numba
            # cache (which lacstats.hierarchical._compiled also uses); compiledir alone
            # left the numba cache warm
            "PYTENSOR_FLAGS": f"base_compiledir={Path(scratch) / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(Path(scratch) / "numba"),
        }
        runs = (("cold", []), ("warm", []), ("warm, one at a time (--jobs 1)", ["--jobs", "1"]))
        folders = []
        for label, options in runs:
            out = Path(scratch) / f"results-{len(folders)}"
            folders.append(out)
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "lacstats",
                    "reproduce",
                    "--quiet",
                    "--out",
                    str(out),
                    *options,
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            print(f"{label}: {time.perf_counter() - start:.1f} s")
        # the same seed must give byte-identical numbers and findings, however run
        first = folders[0]
        files = sorted(
            p.relative_to(first)
            for p in first.rglob("*")
            if p.name in ("numbers.json", "findings.csv")
        )
        for other in folders[1:]:
            differ = [
                str(f) for f in files if (first / f).read_bytes() != (other / f).read_bytes()
            ]
            print(
                f"{other.name} byte-identical to the cold run: {len(files) - len(differ)} of "
                f"{len(files)} files" + (f"; differ: {differ}" if differ else "")
            )


if __name__ == "__main__":
    main()
