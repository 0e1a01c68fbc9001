"""Benchmark: SSDA903 at national scale with every rule, the DfE's validator beside
lacstats, and a pooled regional projection.

1. A national extract, 150 authorities x 10 years (about 1.5 million episode rows and
   every other table, synthetic: ``ssda903.simulate_region(..., tables="all")``), written
   as the regional pipelines write it
   (one file per table, LA and YEAR columns, ISO dates): read and validated with every
   rule (lacstats' own and the DfE's, ``rules="all"``), cleaned, and the case table
   derived. Goal: under 60 s on 2 cores with peak memory under 4 GB. Each step runs in a
   fresh process whose wall time, CPU time and peak resident memory are reported; the
   peer in the same run is pandas' own ``read_csv`` of the same files (parsing alone, no
   checks), the floor any reader stands on.
2. The DfE's validator (``csc-validator-be-903`` in its own environment, ``--dfe-venv``)
   on its own fake return (2,675 children, 5,050 episodes), with the rules lacstats
   implements and with all of its rules, beside lacstats reading the same files with
   every rule. Goal: lacstats at least 10x faster on the same rules.
3. The pooled projection of 19 authorities sized as the South East's children looked
   after in March 2019 (DfE), 36 months, 1,000 draws. Goal: under 30 s. The peer in the
   same run is the same projection with each authority alone (``pooling="none"``).

Run (under the shared lock: ``flock /tmp/lacstats-heavy.lock ...``):
python benchmarks/bench_ssda903.py [--authorities 150] [--years 10] [--dfe-venv /work/ext/dfe903]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
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
        tables="all",
    )
    for table, frame in region.items():
        frame.to_csv(
            folder / f"SSDA903_{table.title()}_merged.csv", index=False, date_format="%Y-%m-%d"
        )
    return {
        "episodes": len(region["episodes"]),
        "header": len(region["header"]),
        "rows": sum(len(f) for f in region.values()),
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
        # one pass: every rule checked, the rows they flag left out and listed
        data = ssda903.read(folder, rules="all", errors="drop")
        steps["read"] = time.perf_counter() - start
        report = ssda903.validate(data)
        cleaned = ssda903.clean(data)
        steps["clean"] = time.perf_counter() - start - steps["read"]
        cases = ssda903.case_table(cleaned, census_date="2025-03-31").cases
        steps["cases"] = time.perf_counter() - start - steps["read"] - steps["clean"]
        figures = {
            **steps,
            "rows": len(data.episodes),
            "children": len(cases),
            "flags": report.n_problems,
            "rules": int((report.by_rule["source"] == "DfE").sum()),
        }
    elif task == "lacstats-fake":
        from lacstats import ssda903
        from lacstats.ssda903 import dfe

        start = time.perf_counter()
        data = ssda903.read(folder, year=2018, errors="report")
        read_at, read_cpu = time.perf_counter(), time.process_time()
        tables = {t: data.table(t) for t in ssda903.TABLES}
        found = dfe.run(tables, present=set(data.files["table"]))
        figures = {
            "read": read_at - start,
            "rules_s": time.perf_counter() - read_at,
            "rules_cpu": time.process_time() - read_cpu,
            "flags": len(found),
            "episodes": len(data.episodes),
        }
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


def _process(argv: list[str]) -> dict[str, float]:
    """Run ``argv`` in a fresh process: its figures (the JSON it prints last) with its
    wall and CPU time as seen from outside (``process_wall``, ``process_cpu``: the
    interpreter's start and every import included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.perf_counter()
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = out.stdout.strip().splitlines()
    figures = json.loads(lines[-1]) if lines else {}
    figures["process_wall"] = wall
    figures["process_cpu"] = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    return figures


def _run(task: str, folder: Path) -> dict[str, float]:
    return _process([sys.executable, __file__, "--child", task, str(folder)])


#: The DfE's validator on a folder of the return's CSVs, timed in its own environment:
#: argv = folder, collection year, rule codes (comma-separated, or "all").
VALIDATOR = """
import json, logging, resource, sys, time
from pathlib import Path
logging.disable(logging.CRITICAL)
clock, cpu = time.perf_counter(), time.process_time()
from lac_validator import datastore
from lac_validator.ingress import read_files, read_from_text
from lac_validator.rules.lac2022_23 import registry
files = read_files([str(p) for p in sorted(Path(sys.argv[1]).glob("*.csv"))])
read_at = time.perf_counter()
tables, extra = read_from_text(files)
store = datastore.create_datastore(
    tables, {"collectionYear": sys.argv[2], "localAuthority": "E09000027", **extra})
rules_at, rules_cpu = time.perf_counter(), time.process_time()
chosen = {c: r for c, r in registry.items() if sys.argv[3] == "all" or c in sys.argv[3].split(",")}
flags = 0
for code, rule in chosen.items():  # as LacValidator.validate runs them
    try:
        found = rule.func(datastore.copy_datastore(store))
    except Exception:
        continue
    flags += sum(len(set(v)) for v in found.values())
done = time.perf_counter()
print(json.dumps({"wall": done - clock, "read": rules_at - read_at, "rules_s": done - rules_at,
                  "rules_cpu": time.process_time() - rules_cpu, "cpu": time.process_time() - cpu,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "flags": flags, "rules": len(chosen)}))
"""


def _validator(venv: Path, folder: Path, codes: str) -> dict[str, float]:
    return _process([str(venv / "bin" / "python"), "-c", VALIDATOR, str(folder), "2018", codes])


def _peer(venv: Path) -> None:
    """The DfE's validator and lacstats on the validator's fake return."""
    from lacstats.ssda903 import dfe

    fake = Path(__file__).resolve().parents[1] / "tests" / "reference" / "dfe903" / "fake"
    codes = ",".join(sorted(dfe.REGISTRY))
    # lacstats' modules compiled to bytecode, as an installed package's are (the DfE's
    # environment has its own): a checkout run with PYTHONDONTWRITEBYTECODE would
    # otherwise compile every module in each fresh process
    compileall.compile_dir(Path(dfe.__file__).resolve().parents[2], quiet=1)
    same = _validator(venv, fake, codes)
    every = _validator(venv, fake, "all")
    ours = [_run("lacstats-fake", fake) for _ in range(3)]
    best = min(ours, key=lambda r: r["process_wall"])
    print(
        f"DfE validator (csc-validator-be-903) on its fake return, the {same['rules']} rules "
        f"lacstats implements: {same['process_wall']:.1f} s wall, {same['process_cpu']:.1f} s "
        f"CPU in a fresh process (import, read and postcodes {same['read']:.1f} s, rules "
        f"{same['rules_s']:.2f} s wall, {same['rules_cpu']:.2f} s CPU), {same['flags']:,} "
        f"flags; all {every['rules']} of its rules: {every['process_wall']:.1f} s (rules "
        f"{every['rules_s']:.1f} s)"
    )
    print(
        f"lacstats on the same files (best of 3 fresh processes): {best['process_wall']:.2f} s "
        f"wall, {best['process_cpu']:.2f} s CPU (read {best['read']:.2f} s, the same rules "
        f"{best['rules_s']:.2f} s wall, {best['rules_cpu']:.2f} s CPU), {best['flags']:,} "
        f"flags -- the rules {same['rules_s'] / best['rules_s']:.1f}x faster "
        f"({same['rules_cpu'] / best['rules_cpu']:.1f}x in CPU time), the whole run "
        f"{same['process_wall'] / best['process_wall']:.1f}x "
        f"({same['process_cpu'] / best['process_cpu']:.1f}x in CPU time) (goal >= 10x)"
    )
    floor = min(
        (_process([sys.executable, "-c", "import pandas"]) for _ in range(3)),
        key=lambda r: r["process_wall"],
    )
    print(
        f"the floor of a run in pandas: the interpreter and `import pandas` alone, "
        f"{floor['process_wall']:.2f} s wall, {floor['process_cpu']:.2f} s CPU (best of 3 "
        "fresh processes)"
    )


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


def main(
    authorities: int = 150,
    years: int = 10,
    dfe_venv: Path | None = None,
    projection: bool = True,
) -> None:
    print(f"load before the run: {os.getloadavg()[0]:.2f} (1-minute average, 2 cores)")
    if dfe_venv is not None and (dfe_venv / "bin" / "python").exists():
        _peer(dfe_venv)
    else:
        print("DfE validator: not run (no --dfe-venv with csc-validator-be-903)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        size = _extract(folder, authorities, years)
        print(
            f"national extract: {authorities} authorities x {years} years, "
            f"{size['episodes']:,} episode rows, {size['header']:,} header rows, "
            f"{size['rows']:,} rows of every table, "
            f"{size['megabytes']:.0f} MB of CSV"
        )
        ours = _run("lacstats", folder)
        peer = _run("pandas", folder)
    print(
        f"lacstats read with every rule ({int(ours['rules'])} of the DfE's and lacstats' own) "
        f"+ clean + cases: {ours['wall']:.1f} s wall, {ours['cpu']:.1f} s CPU "
        f"(read and rules {ours['read']:.1f}, clean {ours['clean']:.1f}, cases "
        f"{ours['cases']:.1f}) -- goal < 60 s; peak memory {ours['peak_gb']:.2f} GB (goal < "
        f"4 GB); {int(ours['flags']):,} flags; {int(ours['children']):,} children looked "
        "after on 31 March 2025"
    )
    print(
        f"peer, pandas.read_csv of the same files (parsing only): {peer['wall']:.1f} s wall, "
        f"{peer['cpu']:.1f} s CPU, peak memory {peer['peak_gb']:.2f} GB"
    )
    if projection:
        _projection()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--authorities", type=int, default=150)
        parser.add_argument("--years", type=int, default=10)
        parser.add_argument("--dfe-venv", type=Path, default=Path("/work/ext/dfe903"))
        parser.add_argument("--no-projection", action="store_true")
        args = parser.parse_args()
        main(args.authorities, args.years, args.dfe_venv, not args.no_projection)
