"""The ``lacstats`` command: parses arguments, calls the API, prints or writes.

A user's mistake (a bad argument, an unreadable file, an output that would overwrite an
input) is one line on standard error, ``lacstats: error: ...``, and exit status 2; an
interrupt is exit 130 (Ctrl-C) or 143 (SIGTERM), with nothing half-written left behind.
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from lacstats.errors import LacstatsError

#: The top-level help's description (plain text: --help shows no markup).
DESCRIPTION = (
    "lacstats: placement sufficiency and commissioning statistics for English local "
    "authorities' looked-after children. Each command parses its options, calls the Python "
    "API and prints or writes; a mistake is one line (lacstats: error: ...), exit status 2."
)

#: Seeds are numpy seeds: whole numbers from 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (``lacstats: error: ...``), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        where = self.prog.removeprefix("lacstats").strip()
        hint = f"see lacstats {where} --help".replace("  ", " ") if where else "see --help"
        self.exit(2, f"lacstats: error: {f'{where}: ' if where else ''}{message} ({hint})\n")


def _whole(text: str, *, low: int, high: int | None = None, what: str = "a whole number") -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise argparse.ArgumentTypeError(f"{text!r}: must be {bounds}")
    return value


def _seed(text: str) -> int:
    return _whole(text, low=0, high=MAX_SEED, what="a seed (a whole number)")


def _positive(text: str) -> int:
    return _whole(text, low=1)


def _non_negative(text: str) -> int:
    return _whole(text, low=0)


def _year(text: str) -> int:
    return _whole(text, low=2000, high=2100, what="a year")


def _population(text: str) -> int | None:
    if text.strip().lower() in ("inf", "infinite"):
        return None
    return _whole(text, low=1, what="a population size (a whole number, or inf)")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 0 and 1 (e.g. 0.95)")
    return value


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 0 and 100 points")
    return value


def _date(text: str) -> str:
    from lacstats.errors import DataError
    from lacstats.schema import parse_date

    try:
        return str(parse_date(text, "date").date())
    except DataError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("date: ")) from None


def _file(text: str) -> str:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a file")
    return text


def _input(text: str) -> str:
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return text


def _collection_year(text: str) -> int:
    """A collection year: its end year (2019) or both years (2018-19)."""
    from lacstats.ssda903 import collection_year

    end, how = collection_year(text.strip())
    if end is None or (how == "year" and not text.strip().isdigit()):
        raise argparse.ArgumentTypeError(
            f"not a collection year: {text!r} (write 2019 or 2018-19)"
        )
    return end


def _return_path(text: str) -> str:
    """A return's file or folder, or the word ``validate`` (the report of problems) or
    ``rules`` (the rules checked)."""
    return text if text in ("validate", "rules") else _input(text)


def _check_case_authorities(chosen, args: argparse.Namespace) -> None:
    """Read the case table now, so that one of another study's authorities is named with
    the option that fixes it (--study), before any work."""
    from lacstats.analysis import case_data
    from lacstats.errors import DataError

    if chosen.cases is None or not chosen.cases.is_file():
        return
    try:
        case_data(chosen, args.seed)
    except DataError as err:
        if err.column != "authority":
            raise
        which = f"--study {args.study}" if args.study else "the South East study (the default)"
        raise DataError(
            f"{err}; the case table's authorities must be those of {which}: "
            f"{len(chosen.authorities)} authorities{f' of the {chosen.region}' if chosen.region else ''}."
            " For a table of other authorities, write a study file naming them and pass it "
            "with --study",
            column="authority",
        ) from None


def _reproduce(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lacstats import study
    from lacstats.reproduce import AnalysisFailed, partial_folder, run_all

    def say(message: str) -> None:
        tqdm.write(message, file=sys.stderr)

    chosen = study.load(args.study) if args.study else study.south_east()
    if args.cases:
        chosen = chosen.with_cases(args.cases)
    _check_case_authorities(chosen, args)

    # a terminated run (a CI timeout, `kill`) stops as an interrupted one does: the
    # workers stop, the previous results stay, the finished analyses are kept (see main)
    try:
        summary = run_all(
            args.out,
            seed=args.seed,
            fast=args.fast,
            only=args.only or None,
            progress=None if args.quiet else say,
            bars=not args.quiet and sys.stderr.isatty(),
            jobs=args.jobs,
            study=chosen,
            resume=args.resume,
            cache=not args.no_cache,
        )
    except AnalysisFailed as failed:
        if len(failed.summary.table):
            print(failed.summary.summary())
        print(f"lacstats: error: {failed}", file=sys.stderr)
        return 3
    except (KeyboardInterrupt, SystemExit):
        partial = partial_folder(args.out)
        if partial.is_dir():
            print(
                f"lacstats: the analyses that finished are kept in {partial}; "
                "--resume runs only what is missing",
                file=sys.stderr,
            )
        raise
    if args.quiet and summary.checked is not None and len(summary.checked.unusable()):
        print(
            f"lacstats: {len(summary.checked.unusable()):,} case(s) that some analysis "
            "could not use were left out of it (run without --quiet for the list)",
            file=sys.stderr,
        )
    print(summary.summary())
    # comparisons with real published figures may differ (findings.csv says why); a
    # figure that matches by construction and does not is a broken run
    unmatched = summary.unmatched()
    if len(unmatched):
        print(
            f"{len(unmatched)} finding(s) that must match by construction do not:", file=sys.stderr
        )
        print(
            unmatched[["finding", "published", "reproduced"]].to_string(index=False),
            file=sys.stderr,
        )
        return 1
    return 0


#: The grid keys each sweep takes from ``--grid`` (see lacstats.sensitivity).
GRID_KEYS = {
    "threshold": ("high_cost", "miles"),
    "design": ("confidence", "interval"),
    "prior": ("group_sd", "beta"),
    "selection": ("reps", "methods"),
}


def _sensitivity(args: argparse.Namespace) -> int:
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
    if args.out:
        from lacstats.outputs import check_output

        check_output(args.out, [args.grid] if args.grid else [], folder=False)
    if args.grid:
        from lacstats.io import read_toml

        grid = read_toml(args.grid, what="grid")
        allowed = GRID_KEYS[args.name]
        unknown = sorted(set(grid) - set(allowed))
        if unknown:
            raise DataError(
                f"{args.grid}: unknown key(s) {', '.join(unknown)} for the {args.name} "
                f"sweep; allowed: {', '.join(allowed)}"
            )
        for key, value in grid.items():
            scalar = args.name == "selection" and key == "reps"
            if scalar and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise DataError(f"{args.grid}: reps must be a whole number >= 1")
            if not scalar and (not isinstance(value, list) or not value):
                raise DataError(f"{args.grid}: {key} must be a non-empty list of values")
            if not scalar and key != "methods":
                bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int | float)]
                if bad:
                    raise DataError(f"{args.grid}: {key}: not numbers: {bad}")
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
    from lacstats.cells import csv_text

    text = csv_text(table)  # an error message may echo a grid value: made safe
    if args.out:
        from lacstats.outputs import atomic_write_text

        atomic_write_text(args.out, text)
    else:
        print(text, end="")
    failed = len(sensitivity.failed(table))
    if failed:
        print(f"{failed} point(s) failed; see the error column", file=sys.stderr)
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from lacstats import reporting, study
    from lacstats.outputs import check_output
    from lacstats.reproduce import load_cases

    chosen = study.load(args.study) if args.study else study.south_east()
    if args.cases:
        chosen = chosen.with_cases(args.cases)
    _check_case_authorities(chosen, args)
    inputs = [*_study_inputs(chosen), *([args.national] if args.national else [])]
    check_output(args.out, inputs, replace=False)
    if args.authority and args.authority not in chosen.authorities:
        raise LacstatsError(
            f"--authority {args.authority!r} is not an authority of the study "
            f"{chosen.name!r}: {', '.join(chosen.authorities)}"
        )
    cases = load_cases(chosen, args.seed).copy()
    if chosen.cases is not None:
        source = f"{chosen.title}: case table {args.cases or chosen.cases}"
    else:
        source = (
            f"{chosen.title}: {chosen.data_source} (seed {args.seed}); the data are "
            "synthetic, so nothing in these packs is a fact about the authorities named"
        )
    # whose SSDA903 returns the study's SSDA903 sections use
    source += f"; SSDA903: {chosen.returns_source}"
    names = None if args.all else [args.authority]
    national = None
    if args.national:
        from lacstats.io import read_table

        national = read_table(args.national)
    written = reporting.write_all(
        cases,
        args.out,
        source=source,
        fast=args.fast,
        rng=args.seed,
        authorities=names,
        national=national,
        study=chosen,
        synthetic=chosen.cases is None,
    )
    for path in written:
        print(path)
    return 0


def _paper(args: argparse.Namespace) -> int:
    from lacstats.outputs import check_output
    from lacstats.paper import build

    if args.out:
        check_output(args.out, [args.results], folder=False)
    print(build(args.results, args.out))
    return 0


def _sample_size(args: argparse.Namespace) -> int:
    from lacstats.sampling import sample_size

    print(
        sample_size(
            args.population,
            confidence=args.confidence,
            interval=args.interval,
            proportion=args.proportion,
            convention=args.convention,
        )
    )
    return 0


def _design(args: argparse.Namespace) -> int:
    """A stratified design for a study, a region or a list of authorities."""
    from lacstats import datasets, study
    from lacstats.sampling import design

    if args.out:
        from lacstats.outputs import check_output

        # the study file, the authorities file and what the study reads stay untouched
        inputs = [p for p in (args.study, args.authorities) if p]
        check_output(args.out, inputs, folder=False)
    # each design setting: the option when given, else the study's (as Study.design()), else
    # the seed study's defaults; an option that overrides the study file says so
    settings = {
        "year": args.year,
        "population": args.population_column,
        "convention": args.convention,
        "confidence": args.confidence,
        "interval": args.interval,
    }
    if args.study:
        chosen = study.load(args.study)
        if args.out:
            check_output(args.out, _study_inputs(chosen), folder=False)
        authorities = list(chosen.authorities)
        own = {
            "year": chosen.frame_year,
            "population": chosen.population,
            "convention": chosen.convention,
            "confidence": chosen.confidence,
            "interval": chosen.interval,
        }
        for key, value in settings.items():
            if value is not None and value != own[key]:
                given, theirs = (
                    f"{v:g}" if isinstance(v, float) else v for v in (value, own[key])
                )
                print(
                    f"lacstats design: {_DESIGN_OPTIONS[key]} {given} in place of the study "
                    f"file's {theirs}",
                    file=sys.stderr,
                )
        settings = {k: own[k] if v is None else v for k, v in settings.items()}
    else:
        settings = {k: _DESIGN_DEFAULTS[k] if v is None else v for k, v in settings.items()}
        year = settings["year"]
        if args.region:
            region = datasets.region_of(args.region)
            known = datasets.authority_frame(year)
            authorities = known.loc[known["region"] == region, "authority"].tolist()
        elif args.authorities:
            authorities = _authority_list(args.authorities)
        else:
            authorities = list(study.south_east().authorities)
    frame = datasets.authority_frame(settings["year"], authorities)
    plan = design(
        frame,
        population=settings["population"],
        confidence=settings["confidence"],
        interval=settings["interval"],
        convention=settings["convention"],
    )
    print(plan.summary())
    if args.out:
        from lacstats.cells import csv_text
        from lacstats.outputs import atomic_write_text

        atomic_write_text(args.out, csv_text(plan.to_frame()))
    return 0


#: ``lacstats design``'s settings without --study: the seed study's (studies/south_east.toml).
_DESIGN_DEFAULTS = {
    "year": 2017,
    "population": "lac_10_plus",
    "convention": "crs",
    "confidence": 0.95,
    "interval": 10.0,
}
#: The option that sets each of ``lacstats design``'s settings.
_DESIGN_OPTIONS = {
    "year": "--year",
    "population": "--population-column",
    "convention": "--convention",
    "confidence": "--confidence",
    "interval": "--interval",
}


def _authority_list(path: str) -> list[str]:
    """Authority names or ONS codes, one a line (or the first column of a CSV with a header
    ``authority`` or ``la_code``); blank lines and ``#`` comments are skipped."""
    from pathlib import Path

    from lacstats.errors import DataError

    file = Path(path)
    if not file.is_file():
        raise DataError(f"no authorities file {path!r}", column="--authorities", values=[path])
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8",
            column="--authorities",
        ) from err
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    entries = [line.split(",", 1)[0].strip().strip('"') for line in lines if line]
    if entries and entries[0].lower() in ("authority", "la_code"):
        entries = entries[1:]
    if not entries:
        raise DataError(f"{path}: no authorities listed", column="--authorities")
    return entries


def _ssda903(args: argparse.Namespace) -> int:
    """Read, validate and clean returns; write aggregate tables (no child-level rows), or
    with ``validate`` first, the report of every problem for the data team."""
    if args.paths[0] == "validate":
        return _ssda903_validate(args, args.paths[1:])
    if args.paths[0] == "rules":
        if len(args.paths) > 1:
            from lacstats.errors import DataError

            raise DataError(
                "lacstats ssda903 rules takes no returns: --year picks a collection year",
                column="paths",
            )
        return _ssda903_rules(args)
    if not args.out:
        from lacstats.errors import DataError

        raise DataError("lacstats ssda903 needs --out FOLDER for the tables", column="--out")
    from lacstats import cells, costs, io, outputs, projection, publication, ssda903
    from lacstats.errors import DataError

    inputs = [*args.paths, *([args.unit_costs] if args.unit_costs else [])]
    outputs.check_output(args.out, inputs)  # before any work: outputs never replace inputs
    units = io.read_unit_costs(args.unit_costs) if args.unit_costs else costs.dorset_unit_costs()
    if args.period and args.period[1] < args.period[0]:
        raise DataError(f"--period: ends ({args.period[1]}) before it starts ({args.period[0]})")
    data = ssda903.read(
        args.paths, year_from=args.year_from, year_column=args.year_column, errors=args.errors
    )
    cleaned = ssda903.clean(data)
    # the tables the cost_calculator analysis publishes, made by the same function
    published = publication.cost_tables(
        data,
        cleaned=cleaned,
        unit_costs=units,
        census=args.census,
        period=args.period,
        la_code=args.la_code,
    )
    tables = {f"{name}.csv": frame for name, frame in published.tables().items()}
    if args.project:
        result = projection.stock_and_flow(
            cleaned, months=args.project, draws=args.draws, rng=args.seed
        )
        tables["projection.csv"] = result.publishable().round(2)
    with outputs.atomic_directory(args.out, inputs=inputs) as folder:
        for name, frame in tables.items():
            (folder / name).write_text(cells.csv_text(frame), encoding="utf-8")
    print(data.summary())
    print(cleaned.report.to_string(index=False))
    census = published.census.date()
    print(f"{published.children} children looked after on {census}; tables in {args.out}")
    return 0


def _ssda903_validate(args: argparse.Namespace, paths: Sequence[str]) -> int:
    """Write every problem of the returns (lacstats' rules and the DfE's), with counts by
    rule, as an XLSX workbook for the data team; exit 1 when there are problems."""
    from lacstats import outputs, ssda903
    from lacstats.errors import DataError

    if not paths:
        raise DataError("lacstats ssda903 validate needs the returns to check", column="paths")
    if not str(args.out).lower().endswith(".xlsx"):
        raise DataError(
            f"--out {args.out}: the report is a workbook, name it .xlsx", column="--out"
        )
    outputs.check_output(args.out, paths, folder=False)  # before any work
    report = ssda903.validate(
        paths, year=args.year, year_from=args.year_from, year_column=args.year_column
    )
    # the report's cells echo the returns' text: ValidationReport.to_xlsx writes them safe
    outputs.atomic_write_bytes(args.out, report.to_xlsx())
    print(report.summary())
    print(f"{report.n_problems} problem(s); report in {args.out}")
    return 1 if report.n_problems else 0


def _ssda903_rules(args: argparse.Namespace) -> int:
    """List the rules lacstats checks (its own and the DfE's), for one collection year
    with --year; with --out, write them as CSV."""
    from lacstats import cells, outputs, ssda903

    table = ssda903.rule_table(args.year)
    if args.out:
        outputs.check_output(args.out, [], folder=False)
        outputs.atomic_write_text(args.out, cells.csv_text(table))
    shown = table.assign(
        years=table["first_year"]
        .astype(object)
        .where(table["first_year"].notna(), "all")
        .astype(str)
        .str.cat(table["last_year"].astype(object).fillna("").astype(str), sep="-")
        .str.rstrip("-"),
        message=table["message"].str.slice(0, 90),
    )
    which = f" in {ssda903.year_label(args.year)}" if args.year else ""
    print(
        f"{len(table)} rules{which}: {int((table['source'] == 'DfE').sum())} of the DfE's "
        f"validator, {int((table['source'] == 'lacstats').sum())} of lacstats' own"
    )
    print(shown[["code", "source", "years", "message"]].to_string(index=False))
    return 0


def _study_of(path: str | None):
    """The study of ``--study``, or the seed study."""
    from lacstats import study

    return study.load(path) if path else study.south_east()


def _study_inputs(chosen) -> list[Path]:
    """Every file a study reads: the study file, its case table, published figures and
    SSDA903 returns (an output never equals, contains or lies inside any of them)."""
    return [
        Path(p)
        for p in (chosen.source, chosen.cases, chosen.published, *chosen.ssda903)
        if p is not None and Path(p).exists()
    ]


def _collect_template(args: argparse.Namespace) -> int:
    """One collection workbook per authority of the study."""
    from lacstats import collect
    from lacstats.outputs import check_output

    chosen = _study_of(args.study)
    inputs = _study_inputs(chosen) if args.study else []
    check_output(args.out, inputs)
    templates = collect.template(
        chosen,
        authorities=args.authority,
        return_to=args.return_to,
        deadline=args.deadline,
    )
    templates.write(args.out, inputs=inputs)
    print(templates.summary())
    return 0


def _collect_merge(args: argparse.Namespace) -> int:
    """Merge the returns; the issues list always, the case table only when allowed."""
    from lacstats import collect
    from lacstats.errors import DataError
    from lacstats.outputs import check_output

    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise DataError(f"--out {args.out}: write the case table as .parquet or .csv")
    issues = args.issues or str(out.with_name(f"{out.stem}_issues"))
    chosen = _study_of(args.study)
    inputs = [*args.returned, *(_study_inputs(chosen) if args.study else [])]
    check_output(out, inputs, folder=False)
    check_output(issues, [*inputs, out], what="--issues")
    try:
        merged = collect.merge(
            args.returned,
            study=chosen,
            errors=args.errors,
            allow_missing=args.allow_missing,
        )
    except collect.ReturnsError as err:
        err.merged.write_issues(issues, fmt=args.issues_format, inputs=inputs)
        missing = err.merged.missing
        if missing:
            also = (
                f"; {len(err.merged.issues)} problem(s) in the returns, listed in {issues}"
                if len(err.merged.issues)
                else ""
            )
            raise DataError(
                f"{len(missing)} of the study's authorities sent no return: "
                f"{', '.join(missing)}{also}; no case table written (--allow-missing merges "
                "without them)"
            ) from None
        raise DataError(
            f"{len(err.merged.issues)} problem(s) in the returns; listed in {issues} (one "
            "list per authority); no case table written (--errors drop writes the valid rows)"
        ) from None
    merged.write_issues(issues, fmt=args.issues_format, inputs=inputs)
    if not len(merged.cases):
        raise DataError(
            f"nothing merged: no valid case row in the returns ({len(merged.issues)} "
            f"problem(s) listed in {issues}); no case table written"
        )
    merged.write_cases(out, inputs=inputs)
    print(merged.to_frame().to_string(index=False))
    print(f"{len(merged.cases):,} valid case rows written to {out}")
    if merged.missing:
        print(
            f"merged without {len(merged.missing)} authorit"
            f"{'y' if len(merged.missing) == 1 else 'ies'} that sent no return "
            f"(--allow-missing): {', '.join(merged.missing)}",
            file=sys.stderr,
        )
    if len(merged.issues):
        dropped = int((merged.issues["effect"] != "row missing from the return").sum())
        print(
            f"{len(merged.issues)} problem(s), {dropped} of them leaving rows out; listed "
            f"in {issues}",
            file=sys.stderr,
        )
    return 0


def _collect_status(args: argparse.Namespace) -> int:
    """Returns against the design: status.csv and status.html."""
    from lacstats import collect
    from lacstats.cells import csv_text
    from lacstats.outputs import atomic_directory, check_output

    chosen = _study_of(args.study)
    inputs = [*args.returned, *(_study_inputs(chosen) if args.study else [])]
    check_output(args.out, inputs)
    merged = collect.merge(args.returned, study=chosen, errors="drop", allow_missing=True)
    result = collect.status(merged)
    with atomic_directory(args.out, inputs=inputs) as folder:
        (folder / "status.csv").write_text(csv_text(result.to_frame()), encoding="utf-8")
        (folder / "status.html").write_text(result.to_html(), encoding="utf-8")
    print(result.summary())
    return 0


def _add_design_options(p: argparse.ArgumentParser, *, study: bool = False) -> None:
    """--confidence, --interval and --convention; with ``study``, their defaults are the
    study file's (``lacstats design --study``), else the seed study's."""
    default = "the study file's, else " if study else ""
    p.add_argument(
        "--confidence",
        type=_fraction,
        default=None if study else 0.95,
        help=f"confidence level, between 0 and 1 (default: {default}0.95)",
    )
    p.add_argument(
        "--interval",
        type=_points,
        default=None if study else 10,
        help="half-width of the interval in percentage points, 10 for +/-10 (default: "
        f"{default}10)",
    )
    p.add_argument(
        "--convention",
        default=None if study else "crs",
        choices=["crs", "exact", "krejcie-morgan", "cochran"],
        help="sample size convention: crs (the Creative Research Systems calculator: "
        "z rounded, finite-population correction, rounding half up), exact (the exact "
        "normal quantile, rounding up), krejcie-morgan, cochran "
        f"(default: {default}crs)",
    )


def _ssda903_validate_parser() -> argparse.ArgumentParser:
    """The help of ``lacstats ssda903 validate`` (parsed by the ssda903 parser: its first
    path is the word validate)."""
    p = _Parser(
        prog="lacstats ssda903 validate",
        description="Write every problem of SSDA903 returns, with counts by rule, by file "
        "and the files read, as the workbook an analyst sends back to the data team; exit "
        "status 1 when there are problems. The report names files, rows and cell values: "
        "it is for the data's owner, not for publication.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="RETURNS",
        help="folder(s) or files: CSV, XLSX or XML (one authority's returns, a regional "
        "extract with LA and YEAR columns, or a folder per authority)",
    )
    p.add_argument("--out", required=True, help="the report to write (.xlsx)")
    p.add_argument(
        "--year-from",
        default="data",
        choices=["data", "start", "end"],
        help="how to read a four-digit year in a file name: data (date each return from "
        "its episodes; default), start or end (the collection's first or second year)",
    )
    p.add_argument(
        "--year-column",
        choices=["data", "start", "end"],
        help="a calendar year in a YEAR column: data (as the dates say), start or end "
        "(default: as --year-from)",
    )
    p.add_argument(
        "--year", help="the collection year of files that name none (end year, or 2018-19)"
    )
    return p


def _ssda903_rules_parser() -> argparse.ArgumentParser:
    """The help of ``lacstats ssda903 rules`` (parsed by the ssda903 parser: its first path
    is the word rules)."""
    p = _Parser(
        prog="lacstats ssda903 rules",
        description="List the rules lacstats checks SSDA903 returns against, its own and the "
        "DfE validator's, with the collection years each applies to and its message.",
    )
    p.add_argument(
        "--year",
        help="only the rules of this collection year (end year, 2019, or 2018-19)",
    )
    p.add_argument("--out", help="also write the rules to this CSV file")
    return p


class _Ssda903Help(argparse.Action):
    """``-h`` of ``lacstats ssda903``: the help of ``ssda903 validate`` or ``ssda903
    rules`` after that word, else ssda903's own."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        kwargs.pop("default", None)
        kwargs.pop("nargs", None)
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        paths = getattr(namespace, "paths", None) or []
        own = {"validate": _ssda903_validate_parser, "rules": _ssda903_rules_parser}
        shown = own[paths[0]]() if paths[:1] in (["validate"], ["rules"]) else parser
        shown.print_help()
        parser.exit()


def parser() -> argparse.ArgumentParser:
    from lacstats import __version__

    top = _Parser(prog="lacstats", description=DESCRIPTION)
    top.add_argument("--version", action="version", version=f"lacstats {__version__}")
    top.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for reports)"
    )
    sub = top.add_subparsers(
        dest="command",
        required=True,
        parser_class=_Parser,
        metavar="COMMAND",
        help="one of the commands below; lacstats COMMAND --help for its options",
    )

    p = sub.add_parser("reproduce", help="rebuild every finding into a results folder")
    p.add_argument("--out", default="results", help="results folder (default: results)")
    p.add_argument("--seed", type=_seed, default=2019, help="seed of every random step")
    p.add_argument("--fast", action="store_true", help="shortened sampling (smoke test)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these analyses")
    p.add_argument(
        "--study", type=_file, help="a study file (TOML; default: the South East study)"
    )
    p.add_argument(
        "--cases",
        type=_file,
        help="your own case table (CSV, XLSX or Parquet) in place of the study's data",
    )
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument(
        "--jobs",
        type=_positive,
        help="analyses run at once (default: one per core, at most 4); the longest runs "
        "in this process, the others in worker processes",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="complete an unfinished run of --out (one that failed or was interrupted): "
        "run only the analyses it lacks, reusing those that finished (kept in OUT.partial)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="compute every analysis, even those computed once and kept in the cache "
        "(national, sufficiency); the cache is neither read nor written",
    )
    p.set_defaults(func=_reproduce)

    p = sub.add_parser("sensitivity", help="run a ready-made sensitivity sweep")
    p.add_argument(
        "name",
        choices=["threshold", "design", "prior", "selection"],
        help="the sweep: threshold (cohort sizes by high-cost and distance lines), design "
        "(sample sizes by confidence and interval), prior (authority effects by prior), "
        "selection (error of most-expensive versus random selection)",
    )
    p.add_argument("--grid", type=_file, help="TOML file: parameter = [values, ...]")
    p.add_argument(
        "--backend",
        default="local",
        choices=["local", "dask"],
        help="local: every core of this machine (default); dask: a dask.distributed cluster",
    )
    p.add_argument("--scheduler", help="address of a dask scheduler (with --backend dask)")
    p.add_argument("--seed", type=_seed, default=2019, help="seed of every random step (2019)")
    p.add_argument("--year", type=_year, default=2017, help="DfE year for the design sweep")
    p.add_argument("--out", help="CSV file to write (default: standard output)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_sensitivity)

    p = sub.add_parser("report", help="per-authority packs (HTML and XLSX)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--authority", help="the authority to report on")
    who.add_argument("--all", action="store_true", help="a pack for every authority")
    p.add_argument(
        "--study", type=_file, help="a study file (TOML; default: the South East study)"
    )
    p.add_argument(
        "--cases",
        type=_file,
        help="case table (CSV, XLSX, Parquet); default: the study's data (the South East "
        "study's: the calibrated synthetic sample)",
    )
    p.add_argument("--out", required=True, help="folder for the packs")
    p.add_argument(
        "--national",
        type=_file,
        help="results/national/national_positions.csv: add each authority's national position",
    )
    p.add_argument(
        "--fast", action="store_true", help="frequentist authority effects instead of MCMC"
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=2019,
        help="seed of the synthetic sample and of every random step (2019)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    p.set_defaults(func=_report)

    p = sub.add_parser(
        "paper",
        help="compile the paper of a results folder: the methods paper for the seed study, "
        "the study's report for any other run",
    )
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--out", help="PDF to write (default: paper/paper.pdf)")
    p.set_defaults(func=_paper)

    p = sub.add_parser(
        "ssda903",
        help="validate and clean SSDA903 returns; cost and projection tables",
        description="lacstats ssda903 RETURNS... --out FOLDER writes aggregate tables; "
        "lacstats ssda903 validate RETURNS... --out report.xlsx writes every problem of "
        "the returns, by lacstats' rules and the DfE's, with counts by rule, for the data "
        "team (exit status 1 if any; lacstats ssda903 validate --help for its options); "
        "lacstats ssda903 rules [--year YEAR] lists the rules.",
        add_help=False,
    )
    p.add_argument("-h", "--help", action=_Ssda903Help, help="show this help message and exit")
    p.add_argument(
        "paths",
        nargs="+",
        type=_return_path,
        help="folder(s) or files: CSV, XLSX or XML (one authority's returns, a regional "
        "extract with LA and YEAR columns, or a folder per authority); first 'validate' to "
        "write the problem report",
    )
    p.add_argument(
        "--out",
        help="folder for the aggregate tables (required; validate: an .xlsx; rules: a .csv)",
    )
    p.add_argument(
        "--year",
        type=_collection_year,
        help="the collection year of files that name none (end year, 2019, or 2018-19); "
        "for 'rules', the rules of that year",
    )
    p.add_argument(
        "--errors",
        default="raise",
        choices=["raise", "drop"],
        help="stop on any problem (default), or leave the offending rows out and count them",
    )
    p.add_argument(
        "--census",
        type=_date,
        help="census date, dd/mm/yyyy or yyyy-mm-dd (default: the end of the last return)",
    )
    p.add_argument(
        "--period",
        nargs=2,
        type=_date,
        metavar=("START", "END"),
        help="costing period, dd/mm/yyyy or yyyy-mm-dd",
    )
    p.add_argument(
        "--unit-costs",
        type=_file,
        help="CSV or XLSX of unit costs (default: Dorset's sample report)",
    )
    p.add_argument("--la-code", help="the authority's code, to place PL_LA in or out")
    p.add_argument(
        "--year-from",
        default="data",
        choices=["data", "start", "end"],
        help="a calendar year in file names (and in YEAR, unless --year-column): data "
        "(as each return's episodes say; default), start or end (the collection's first or "
        "second year)",
    )
    p.add_argument(
        "--year-column",
        choices=["data", "start", "end"],
        help="a calendar year in a YEAR column: data (as the dates say), start or end "
        "(default: as --year-from)",
    )
    p.add_argument(
        "--project",
        type=_non_negative,
        default=0,
        metavar="MONTHS",
        help="also project children looked after this many months ahead",
    )
    p.add_argument(
        "--draws", type=_positive, default=1000, help="simulations of the projection (1000)"
    )
    p.add_argument(
        "--seed", type=_seed, default=2019, help="seed of the projection's simulations (2019)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    p.set_defaults(func=_ssda903)

    p = sub.add_parser(
        "collect", help="collection workbooks for a study; merge and check the returns"
    )
    steps = p.add_subparsers(
        dest="step",
        required=True,
        parser_class=_Parser,
        metavar="STEP",
        help="template, merge or status; lacstats collect STEP --help for its options",
    )
    q = steps.add_parser("template", help="one XLSX workbook per authority of the study")
    q.add_argument("--study", type=_file, help="a study file (TOML); default: the South East")
    q.add_argument("--out", required=True, help="folder for the workbooks")
    q.add_argument("--authority", action="append", help="only this authority (repeat for more)")
    q.add_argument("--return-to", help="who the authorities send the workbook to")
    q.add_argument("--deadline", type=_date, help="return date, dd/mm/yyyy or yyyy-mm-dd")
    q.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    q.set_defaults(func=_collect_template)
    q = steps.add_parser("merge", help="check and merge returned workbooks into one table")
    q.add_argument(
        "returned", nargs="+", type=_input, help="returned workbooks, CSV files or folders"
    )
    q.add_argument("--study", type=_file, help="a study file (TOML); default: the South East")
    q.add_argument("--out", required=True, help="the merged case table (.parquet or .csv)")
    q.add_argument(
        "--issues", help="folder for the issues lists (default: beside --out, NAME_issues)"
    )
    q.add_argument(
        "--issues-format",
        default="xlsx",
        choices=["xlsx", "csv"],
        help="the issues lists as workbooks (default) or CSV files",
    )
    q.add_argument(
        "--errors",
        default="raise",
        choices=["raise", "drop"],
        help="raise: no case table while any problem remains (default); drop: write the "
        "valid rows",
    )
    q.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    q.add_argument(
        "--allow-missing",
        action="store_true",
        help="merge even if some of the study's authorities sent no return (they are "
        "listed); by default a missing authority stops the merge (exit status 2)",
    )
    q.set_defaults(func=_collect_merge)
    q = steps.add_parser("status", help="rows returned and valid against the design")
    q.add_argument(
        "returned", nargs="*", type=_input, help="returned workbooks, CSV files or folders"
    )
    q.add_argument("--study", type=_file, help="a study file (TOML); default: the South East")
    q.add_argument("--out", required=True, help="folder for status.csv and status.html")
    q.add_argument(
        "--force",
        action="store_true",
        help="replace files in the output folder that lacstats did not write (inputs are "
        "never replaced)",
    )
    q.set_defaults(func=_collect_status)

    p = sub.add_parser("sample-size", help="sample size for a proportion")
    p.add_argument(
        "--population",
        type=_population,
        default=None,
        help="population size N, a whole number (omit, or inf, for infinite)",
    )
    p.add_argument(
        "--proportion",
        type=_fraction,
        default=0.5,
        help="the proportion expected, between 0 and 1 (default 0.5, the largest sample)",
    )
    _add_design_options(p)
    p.set_defaults(func=_sample_size)

    p = sub.add_parser(
        "design",
        help="a stratified design from DfE data (default: the South East study)",
        description="A stratified sample design, one stratum per authority, from a packaged "
        "DfE release. With --study, the study file's authorities, frame (year and "
        "population) and design (convention, confidence, interval), the same design as "
        "lacstats.study.load(FILE).design(); an option given here overrides the study "
        "file's setting, and says so.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--study",
        help="a study file (TOML): its authorities, frame year and population, convention, "
        "confidence and interval",
    )
    where.add_argument("--region", help='an English region, e.g. "North West"')
    where.add_argument("--authorities", help="a file of authority names or ONS codes")
    p.add_argument(
        "--year",
        type=_year,
        default=None,
        help="DfE release year, 2015-2019 (default: the study file's, else 2017)",
    )
    p.add_argument(
        "--population-column",
        default=None,
        metavar="COLUMN",
        help="the frame's population: lac_10_plus, lac_16_over, lac_total, ... (default: "
        "the study file's, else lac_10_plus)",
    )
    p.add_argument("--out", help="write the per-authority table to this CSV file")
    _add_design_options(p, study=True)
    p.set_defaults(func=_design)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; user errors are one line on standard error (see the module)."""
    from lacstats import interrupts

    args = parser().parse_args(argv)
    debug = args.debug or os.environ.get("LACSTATS_DEBUG") == "1"
    from lacstats.outputs import allow_replacing

    try:
        with (
            interrupts.stop_on_signals(),
            allow_replacing() if getattr(args, "force", False) else contextlib.nullcontext(),
        ):
            return args.func(args)
    except LacstatsError as err:
        if debug:
            traceback.print_exc()
        print(f"lacstats: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("lacstats: interrupted; nothing was written", file=sys.stderr)
        return 130
    except SystemExit as stop:
        if isinstance(stop.code, int) and stop.code > 128:
            if debug:
                traceback.print_exc()
            print("lacstats: terminated; nothing was written", file=sys.stderr)
        raise
    except OSError as err:
        if debug:
            traceback.print_exc()
        where = f"{err.filename}: " if err.filename else ""
        print(f"lacstats: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except Exception as err:
        if debug:
            raise
        print(
            f"lacstats: internal error: {type(err).__name__}: {err} (run with --debug for "
            "the traceback and please report it)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
