"""The ``lacstats`` command: parses arguments, calls the API, prints or writes."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Sequence

from lacstats.errors import LacstatsError


def _reproduce(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lacstats.reproduce import run_all

    def say(message: str) -> None:
        tqdm.write(message, file=sys.stderr)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    # a terminated run (a CI timeout, `kill`) cleans up as an interrupted one does: the
    # workers stop, the staging folder goes, the previous results stay
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        summary = run_all(
            args.out,
            seed=args.seed,
            fast=args.fast,
            only=args.only or None,
            progress=None if args.quiet else say,
            bars=not args.quiet and sys.stderr.isatty(),
            jobs=args.jobs,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary.summary())
    unmatched = summary.findings[~summary.findings["match"].astype(bool)]
    if len(unmatched):
        print(f"{len(unmatched)} finding(s) do not match:", file=sys.stderr)
        print(
            unmatched[["finding", "published", "reproduced"]].to_string(index=False),
            file=sys.stderr,
        )
        return 1
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    import tomllib

    from lacstats import datasets, sensitivity, synthetic
    from lacstats.errors import DataError

    sweeps = {
        "threshold": (sensitivity.threshold_sensitivity, "cases"),
        "design": (sensitivity.design_sensitivity, "frame"),
        "prior": (sensitivity.prior_sensitivity, "cases"),
        "selection": (sensitivity.selection_sensitivity, "cases"),
    }
    func, data = sweeps[args.name]
    grid = {}
    if args.grid:
        with open(args.grid, "rb") as handle:
            grid = tomllib.load(handle)
    if args.name == "selection":
        grid = {k: v for k, v in grid.items() if k in ("reps", "methods")}
    elif any(not isinstance(v, list) for v in grid.values()):
        raise DataError(f"{args.grid}: every grid entry must be a list of values")
    source = (
        datasets.south_east_authorities(args.year)
        if data == "frame"
        else synthetic.complex_lac(rng=args.seed)
    )
    options = {"backend": args.backend, "progress": not args.quiet}
    if args.scheduler:
        options["client"] = args.scheduler
    if args.name != "design" and args.name != "threshold":
        options["rng"] = args.seed
    table = func(source, **grid, **options)
    text = table.to_csv(index=False, lineterminator="\n")
    if args.out:
        from lacstats.io import atomic_write_text

        atomic_write_text(args.out, text)
    else:
        print(text, end="")
    failed = len(sensitivity.failed(table))
    if failed:
        print(f"{failed} point(s) failed; see the error column", file=sys.stderr)
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from lacstats import reporting, synthetic
    from lacstats.io import read_cases

    if args.cases:
        cases = read_cases(args.cases)
        source = f"case table {args.cases}"
    else:
        cases = synthetic.complex_lac(rng=args.seed)
        source = f"the packaged synthetic South East sample (seed {args.seed})"
    names = None if args.all else [args.authority]
    written = reporting.write_all(
        cases, args.out, source=source, fast=args.fast, rng=args.seed, authorities=names
    )
    for path in written:
        print(path)
    return 0


def _paper(args: argparse.Namespace) -> int:
    from lacstats.paper import build

    print(build(args.results, args.out))
    return 0


def _sample_size(args: argparse.Namespace) -> int:
    from lacstats.sampling import sample_size

    population = None if args.population in (None, "inf") else float(args.population)
    if population is not None and math.isfinite(population):
        population = int(population)
    print(
        sample_size(
            population,
            confidence=args.confidence,
            interval=args.interval,
            proportion=args.proportion,
            convention=args.convention,
        )
    )
    return 0


def _design(args: argparse.Namespace) -> int:
    from lacstats.datasets import south_east_authorities
    from lacstats.sampling import design

    frame = south_east_authorities(args.year)
    plan = design(
        frame,
        population=args.population_column,
        confidence=args.confidence,
        interval=args.interval,
        convention=args.convention,
    )
    print(plan.summary())
    if args.out:
        from lacstats.io import atomic_write_text

        atomic_write_text(args.out, plan.to_frame().to_csv(index=False, lineterminator="\n"))
    return 0


def _ssda903(args: argparse.Namespace) -> int:
    """Read, validate and clean returns; write aggregate tables (no child-level rows)."""
    import pandas as pd

    from lacstats import costs, disclosure, io, projection, ssda903

    data = ssda903.read(args.paths, year_from=args.year_from)
    cleaned = ssda903.clean(data)
    units = pd.read_csv(args.unit_costs) if args.unit_costs else costs.dorset_unit_costs()
    census = args.census or str(cleaned.coverage[1].date())
    period = args.period or (
        str(pd.Timestamp(census) - pd.DateOffset(years=1, days=-1))[:10],
        census,
    )
    cases = ssda903.to_cases(cleaned, census_date=census, la_code=args.la_code)
    episodes = ssda903.episode_table(cleaned, period=period)
    table = costs.cost_table(episodes, unit_costs=units, period=period)
    by_need = costs.cost_table(episodes, unit_costs=units, by=("need_group",), period=period)
    settings = (
        cases.groupby(["placement_setting", "distance_status"], observed=True)
        .size()
        .rename("children")
        .reset_index()
    )

    def published(frame: pd.DataFrame, first: str) -> pd.DataFrame:
        return disclosure.suppress_small_counts(
            frame.round(2),
            "children",
            dependent=[
                c
                for c in frame.columns
                if c not in (first, "children") and frame[c].dtype.kind == "f"
            ]
            + ["episodes"],
            total=frame[first].eq(costs.ALL_TYPES),
        )

    outputs = {
        "cleaning_report.csv": cleaned.report,
        "files.csv": data.files,
        "cost_table.csv": published(table, "placement_type"),
        "cost_by_need.csv": published(by_need, "need_group"),
        "cases_by_setting.csv": disclosure.suppress_small_counts(settings, "children"),
    }
    if args.project:
        result = projection.stock_and_flow(
            cleaned, months=args.project, draws=args.draws, rng=args.seed
        )
        outputs["projection.csv"] = result.publishable().round(2)
    with io.atomic_directory(args.out) as folder:
        for name, frame in outputs.items():
            frame.to_csv(folder / name, index=False, lineterminator="\n")
    print(data.summary())
    print(cleaned.report.to_string(index=False))
    print(f"{len(cases)} children looked after on {census}; tables in {args.out}")
    return 0


def _add_design_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level (0.95)")
    p.add_argument(
        "--interval", type=float, default=10, help="half-width in percentage points (10 = +/-10)"
    )
    p.add_argument(
        "--convention", default="crs", choices=["crs", "exact", "krejcie-morgan", "cochran"]
    )


def parser() -> argparse.ArgumentParser:
    from lacstats import __version__

    top = argparse.ArgumentParser(prog="lacstats", description=__doc__)
    top.add_argument("--version", action="version", version=f"lacstats {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("reproduce", help="rebuild every finding into a results folder")
    p.add_argument("--out", default="results", help="results folder (default: results)")
    p.add_argument("--seed", type=int, default=2019, help="seed of every random step")
    p.add_argument("--fast", action="store_true", help="shortened sampling (smoke test)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these analyses")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument(
        "--jobs",
        type=int,
        help="analyses run at once (default: one per core, at most 4); the longest runs "
        "in this process, the others in worker processes",
    )
    p.set_defaults(func=_reproduce)

    p = sub.add_parser("sensitivity", help="run a ready-made sensitivity sweep")
    p.add_argument("name", choices=["threshold", "design", "prior", "selection"])
    p.add_argument("--grid", help="TOML file: parameter = [values, ...]")
    p.add_argument("--backend", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", help="address of a dask scheduler (with --backend dask)")
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument("--year", type=int, default=2017, help="DfE year for the design sweep")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_sensitivity)

    p = sub.add_parser("report", help="per-authority packs (HTML and XLSX)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--authority", help="the authority to report on")
    who.add_argument("--all", action="store_true", help="a pack for every authority")
    p.add_argument(
        "--cases", help="case table (CSV, XLSX, Parquet); default: the packaged synthetic sample"
    )
    p.add_argument("--out", required=True, help="folder for the packs")
    p.add_argument(
        "--fast", action="store_true", help="frequentist authority effects instead of MCMC"
    )
    p.add_argument("--seed", type=int, default=2019)
    p.set_defaults(func=_report)

    p = sub.add_parser("paper", help="compile the methods paper from a results folder")
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--out", help="PDF to write (default: paper/paper.pdf)")
    p.set_defaults(func=_paper)

    p = sub.add_parser(
        "ssda903", help="validate and clean SSDA903 returns; cost and projection tables"
    )
    p.add_argument("paths", nargs="+", help="folder(s) or files: CSV, XLSX or XML")
    p.add_argument("--out", required=True, help="folder for the aggregate tables")
    p.add_argument("--census", help="census date (default: the end of the last return)")
    p.add_argument("--period", nargs=2, metavar=("START", "END"), help="costing period")
    p.add_argument("--unit-costs", help="CSV of unit costs (default: Dorset's sample report)")
    p.add_argument("--la-code", help="the authority's code, to place PL_LA in or out")
    p.add_argument("--year-from", default="data", choices=["data", "start", "end"])
    p.add_argument(
        "--project",
        type=int,
        default=0,
        metavar="MONTHS",
        help="also project children looked after this many months ahead",
    )
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2019)
    p.set_defaults(func=_ssda903)

    p = sub.add_parser("sample-size", help="sample size for a proportion")
    p.add_argument("--population", default=None, help="population size N (omit for infinite)")
    p.add_argument("--proportion", type=float, default=0.5)
    _add_design_options(p)
    p.set_defaults(func=_sample_size)

    p = sub.add_parser("design", help="the South East stratified design from DfE data")
    p.add_argument("--year", type=int, default=2017)
    p.add_argument("--population-column", default="lac_10_plus")
    p.add_argument("--out", help="write the per-authority table to this CSV file")
    _add_design_options(p)
    p.set_defaults(func=_design)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except LacstatsError as err:
        print(f"lacstats: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
