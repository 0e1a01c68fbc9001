"""Benchmark: wall time of the full `lacstats reproduce` on this machine, cold (fresh
PyTensor and numba compile caches, an empty cache of analyses computed once) and warm
(compile caches filled by the cold run), and what computing once saves.
Goals: under 3 minutes cold, under 90 seconds warm. The runs, in order:

1. cold: every cache empty; it computes every analysis and keeps `national` and
   `sufficiency` in the cache of analyses computed once (lacstats.cache);
2. warm, `--no-cache`: every analysis computed (the warm figure of earlier versions);
3. warm, second run: the same inputs, `national` and `sufficiency` reused from the cache;
4. warm, one at a time (`--jobs 1 --no-cache`): what running side by side gains;
5. the national analysis alone, reused from the cache (`--only national`);
6. the national analysis alone for a study of another region (North West): its four
   models reused from the cache, the study's authorities marked.

The national analysis's computing time is its `wall_seconds` in run 2's manifest. Every
run of the seed study must give the same bytes (numbers.json and findings.csv).

    python benchmarks/bench_reproduce.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NORTH_WEST = """
[study]
name = "north_west"
title = "North West complex needs study"
[authorities]
region = "North West"
[frame]
year = 2019
[cases]
path = "synthetic"
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            # base_compiledir moves both of PyTensor's caches: its C modules and its numba
            # cache (which lacstats.hierarchical._compiled also uses); compiledir alone
            # left the numba cache warm
            "PYTENSOR_FLAGS": f"base_compiledir={Path(scratch) / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(Path(scratch) / "numba"),
            # the analyses computed once are kept here, empty at the start
            "LACSTATS_CACHE_DIR": str(Path(scratch) / "lacstats-cache"),
        }
        study = Path(scratch) / "north_west.toml"
        study.write_text(NORTH_WEST, encoding="utf-8")
        runs = (
            ("cold (every cache empty)", []),
            ("warm, --no-cache (every analysis computed)", ["--no-cache"]),
            ("warm, second run (national and sufficiency reused from the cache)", []),
            ("warm, one at a time (--jobs 1 --no-cache)", ["--jobs", "1", "--no-cache"]),
            ("national alone, reused from the cache", ["--only", "national"]),
            (
                "national alone, North West study (its models reused, its authorities marked)",
                ["--only", "national", "--study", str(study)],
            ),
        )
        folders, seconds = [], []
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
            seconds.append(time.perf_counter() - start)
            print(f"{label}: {seconds[-1]:.1f} s", flush=True)
        print(f"cold / warm (--no-cache): {seconds[0] / seconds[1]:.2f}")
        print(f"second run / first warm run: {seconds[2] / seconds[1]:.2f}")
        for i, out in enumerate(folders):
            analyses = json.loads((out / "manifest.json").read_text())["analyses"]
            national = analyses.get("national", {})
            cache = national.get("cache", {}).get("status")
            fits = national.get("computed_once", {}).get("fits", {}).get("status")
            print(
                f"run {i + 1}: national {cache}"
                + (f", its models {fits}" if fits and cache != "reused" else "")
                + (f"; computed in {national['wall_seconds']:.1f} s" if cache != "reused" else "")
            )
        # the same seed must give byte-identical numbers and findings, however run
        first = folders[0]
        files = sorted(
            p.relative_to(first)
            for p in first.rglob("*")
            if p.name in ("numbers.json", "findings.csv")
        )
        for other in folders[1:4]:
            differ = [
                str(f) for f in files if (first / f).read_bytes() != (other / f).read_bytes()
            ]
            print(
                f"{other.name} byte-identical to the cold run: {len(files) - len(differ)} of "
                f"{len(files)} files" + (f"; differ: {differ}" if differ else "")
            )
        # the national analysis reused alone: every file but its manifest
        national = sorted(
            p.relative_to(first / "national")
            for p in (first / "national").rglob("*")
            if p.is_file() and p.name != "manifest.json"
        )
        alone = folders[4] / "national"
        same = sum(
            (first / "national" / f).read_bytes() == (alone / f).read_bytes() for f in national
        )
        print(f"national reused alone, byte-identical: {same} of {len(national)} files")


if __name__ == "__main__":
    main()
