"""The runner behind ``lacstats reproduce``: every script in ``analyses/``, one folder each.

An analysis is a module in ``analyses/`` with ``NAME`` (its results folder), ``TITLE`` and
``run(ctx: Context) -> None``. It writes only through ``ctx``: ``ctx.numbers(...)`` for
the figures the paper cites (``numbers.json``), ``ctx.table(name, frame)`` for tidy CSV
tables, ``ctx.figure(name, fig)`` for PNG and SVG figures and ``ctx.findings(frame)`` for
rows of ``results/findings.csv``. Every figure in ``numbers.json`` says which kind of
evidence it is and how it was obtained (:mod:`lacstats.evidence`): an analysis declares
its usual kind as ``EVIDENCE`` and ``OBTAINED`` and passes ``evidence=`` and ``obtained=``
to ``ctx.numbers`` for figures of another kind. The whole results folder is built in a temporary
directory and moved into place only when every analysis has finished, so an interrupted
run leaves the previous results intact.

Analyses run side by side (``jobs``), the longest first and in this process, the others in
worker processes: a file may declare ``EXPECTED_SECONDS`` for that, and
``ON_DEMAND = True`` to run only when named.
Each analysis draws its randomness from the seed alone, so results do not depend on
``jobs`` or on the order.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from lacstats import interrupts, provenance
from lacstats.errors import LacstatsError
from lacstats.evidence import EVIDENCE, OBTAINED
from lacstats.evidence import FINDINGS_COLUMNS as _COLUMNS
from lacstats.outputs import atomic_directory
from lacstats.results import Result
from lacstats.study import Study

__all__ = ["Context", "RunSummary", "discover", "run_all"]

FINDINGS_COLUMNS = list(_COLUMNS)
#: What a figure of an analysis that declares no kind is recorded as (a test fails on it).
UNCLASSIFIED = "unclassified"


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return _finite(value.item())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(data: Any) -> Any:
    """``data`` with every NaN or infinite float as None: JSON has no NaN, and the paper's
    reader (typst) refuses a file that writes one."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline; a figure that
    could not be computed (NaN) is ``null``."""
    return (
        json.dumps(
            _finite(data),
            indent=2,
            sort_keys=True,
            default=_json_default,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    )


@dataclass
class Context:
    """What an analysis gets: its folder, the seed, and writers that record what it made.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reproduce
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     ctx = reproduce.Context(name="demo", folder=Path(folder), seed=2019, fast=True)
    ...     ctx.by_construction, ctx.case_evidence
    ...     len(ctx.cases())
    ...
    (True, 'case_rows')
    1253
    """

    name: str
    folder: Path
    seed: int
    fast: bool
    options: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    diagnostics: dict[str, bool] = field(default_factory=dict)
    _numbers: dict[str, Any] = field(default_factory=dict)
    _findings: list[pd.DataFrame] = field(default_factory=list)
    progress: Callable[[str], None] = lambda message: None
    #: Show progress bars for long steps (MCMC fits); off with --quiet.
    bars: bool = False
    #: The analysis's usual kind of evidence and how its figures are obtained (its
    #: ``EVIDENCE`` and ``OBTAINED``), for figures recorded without their own.
    evidence: str | None = None
    obtained: str | None = None
    #: The study the run is of (default: the seed study, the South East project).
    study: Study | None = None
    #: Parts of the analysis that did not run, and why (written to numbers.json).
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.study is None:
            self.study = _seed_study()

    def cases(self) -> pd.DataFrame:
        """The study's case table: the user's file, or a synthetic sample drawn from the
        seed (:func:`load_cases`)."""
        return load_cases(self.study, self.seed).copy()

    @property
    def synthetic(self) -> bool:
        """Whether the case data are synthetic (no file of the user's)."""
        return self.study.cases is None

    @property
    def by_construction(self) -> bool:
        """Whether the case data are the calibrated sample, whose rows reproduce the
        published figures by construction."""
        return self.study.calibrated

    @property
    def case_evidence(self) -> str:
        """The kind of evidence of figures computed from the case rows: ``case_rows`` on
        the calibrated sample (they match the published ones by construction),
        ``real_data`` on the user's own table, ``synthetic_check`` on an uncalibrated
        synthetic sample (a demonstration, never a fact)."""
        if self.by_construction:
            return "case_rows"
        return "synthetic_check" if self.synthetic else "real_data"

    def missing(self, cases: pd.DataFrame, columns: Iterable[str]) -> list[str]:
        """The ``columns`` that ``cases`` lack or leave entirely empty."""
        return [c for c in columns if c not in cases or cases[c].isna().all()]

    def not_run(self, part: str, reason: str) -> None:
        """Record that a part of the analysis did not run, and why."""
        self.skipped[part] = reason
        self.progress(f"[{self.name}] not run: {part}: {reason}")

    def skip(self, reason: str) -> None:
        """Stop the analysis here: nothing it needs is in the data (``reason`` says what)."""
        raise AnalysisSkipped(reason)

    def numbers(
        self, *, evidence: str | None = None, obtained: str | None = None, **figures: Any
    ) -> None:
        """Record figures the paper cites: ``name=(value, unit)`` or ``name=value``, with
        their kind of evidence and how they were obtained (:mod:`lacstats.evidence`)."""
        evidence = evidence or self.evidence or UNCLASSIFIED
        obtained = obtained or self.obtained or UNCLASSIFIED
        if evidence not in (*EVIDENCE, UNCLASSIFIED):
            raise LacstatsError(
                f"analysis {self.name}: evidence must be one of {', '.join(EVIDENCE)}; "
                f"got {evidence!r}"
            )
        if obtained not in (*OBTAINED, UNCLASSIFIED):
            raise LacstatsError(
                f"analysis {self.name}: obtained must be one of {', '.join(OBTAINED)}; "
                f"got {obtained!r}"
            )
        for key, figure in figures.items():
            value, unit = figure if isinstance(figure, tuple) else (figure, "")
            self._numbers[key] = {
                "value": value,
                "unit": unit,
                "evidence": evidence,
                "obtained": obtained,
            }

    def settings(self, **figures: Any) -> None:
        """Record settings of the study that the paper states (thresholds, years, draws)
        in ``numbers.json``, as ``option`` figures: the paper types no number."""
        self.numbers(evidence="option", obtained="study_option", **figures)

    def table(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        self.outputs.append(path.name)
        return path

    def figure(self, name: str, fig: Any) -> None:
        """Save ``fig`` as PNG and SVG, without dates and with fixed SVG ids."""
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": f"lacstats-{self.name}-{name}"}):
            for ext in ("png", "svg"):
                path = self.folder / f"{name}.{ext}"
                fig.savefig(path, dpi=150, bbox_inches="tight", metadata=_FIGURE_METADATA[ext])
                self.outputs.append(path.name)

    def findings(self, frame: pd.DataFrame) -> None:
        self._findings.append(frame.assign(analysis=self.name))

    def diagnostic(self, name: str, passed: bool) -> None:
        self.diagnostics[name] = bool(passed)


_FIGURE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


@dataclass(frozen=True)
class RunSummary(Result):
    """What a run did: per analysis, time taken, findings matched, diagnostics passed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reproduce
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     summary = reproduce.run_all(Path(folder) / "results", fast=True, only=["cost_calculator"], jobs=1)
    ...
    >>> summary.table["analysis"].tolist()
    ['cost_calculator']
    >>> bool(summary.findings["match"].all())
    True
    """

    out: Path
    table: pd.DataFrame
    findings: pd.DataFrame
    seconds: float

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis: seconds, findings matched, diagnostics passed."""
        return self.table.copy()

    def unmatched(self) -> pd.DataFrame:
        """Findings that must match by construction and do not: a failed run."""
        if not len(self.findings):
            return self.findings
        must = self.findings["must_match"].astype(bool)
        return self.findings[must & ~self.findings["match"].astype(bool)]

    def summary(self) -> str:
        found = self.findings
        must = found["must_match"].astype(bool) if len(found) else pd.Series(dtype=bool)
        matched = found["match"].astype(bool) if len(found) else pd.Series(dtype=bool)
        lines = [
            self.table.to_string(index=False),
            (
                f"findings: {int((must & matched).sum())} of {int(must.sum())} that match by "
                f"construction do; {int((~must & matched).sum())} of {int((~must).sum())} "
                f"comparisons with published figures match (findings.csv explains the rest); "
                f"diagnostics passed: {int(self.table['diagnostics_passed'].sum())} of "
                f"{int(self.table['diagnostics'].sum())}; total {self.seconds:.1f} s; "
                f"results in {self.out}"
            ),
        ]
        return "\n".join(lines)


def analyses_folder() -> Path:
    """``analyses/`` beside the package (a source checkout) or in the working directory."""
    here = Path(__file__).resolve().parents[1] / "analyses"
    return here if here.is_dir() else Path.cwd() / "analyses"


@dataclass(frozen=True)
class _Entry:
    """An analysis as its file declares it, read without running the file."""

    path: Path
    name: str
    title: str
    on_demand: bool
    expected_seconds: float


#: What the runner reads from an analysis file, as literals.
_DECLARED = ("NAME", "TITLE", "ON_DEMAND", "EXPECTED_SECONDS")


def _declared(path: Path) -> _Entry | None:
    """The declarations (:data:`_DECLARED`) of an analysis file, read from its source, or
    None for a file without ``NAME`` or ``run``. The parent process of a parallel run thus
    never imports what the analyses import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants: dict[str, Any] = {}
    has_run = False
    for node in tree.body:
        has_run = has_run or (isinstance(node, ast.FunctionDef) and node.name == "run")
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id in _DECLARED:
            try:
                constants[target.id] = ast.literal_eval(node.value)
            except ValueError:
                raise LacstatsError(
                    f"{path.name}, line {node.lineno}: {target.id} must be a literal value"
                ) from None
    if "NAME" not in constants or not has_run:
        return None
    return _Entry(
        path=path,
        name=constants["NAME"],
        title=constants.get("TITLE", ""),
        on_demand=bool(constants.get("ON_DEMAND", False)),
        expected_seconds=float(constants.get("EXPECTED_SECONDS", 1)),
    )


def _catalogue(folder: Path | None) -> dict[str, _Entry]:
    folder = folder or analyses_folder()
    if not folder.is_dir():
        raise LacstatsError(f"no analyses folder at {folder}")
    entries = [_declared(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    return {e.name: e for e in entries if e is not None}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"lacstats_analysis_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def discover(folder: Path | None = None) -> dict[str, ModuleType]:
    """Load every analysis module, keyed by its ``NAME``, in file-name order.

    Examples
    --------
    >>> from lacstats import reproduce
    >>> analyses = reproduce.discover()
    >>> "sample_design" in analyses, "calibrated_sample" in analyses
    (True, True)
    """
    return {name: _load(entry.path) for name, entry in _catalogue(folder).items()}


#: Each analysis already uses two cores in its longest steps (MCMC chains, latent-class
#: starts), so more simultaneous analyses than this mostly add memory.
MAX_DEFAULT_JOBS = 4


class AnalysisSkipped(LacstatsError):
    """Raised by :meth:`Context.skip`: the analysis cannot run on the study's data."""


def _seed_study() -> Study:
    from lacstats.study import south_east

    return south_east()


@lru_cache(maxsize=4)
def load_cases(study: Study, seed: int) -> pd.DataFrame:
    """The case table of ``study``: its file (read and validated, authorities checked
    against the study's), else the calibrated South East sample or a synthetic sample of
    the study, drawn from ``seed``."""
    from lacstats import io, synthetic

    if study.cases is not None:
        return io.read_cases(study.cases, authorities=study.authorities)
    if study.calibrated:
        return synthetic.complex_lac(rng=seed)
    return synthetic.sample(study, rng=seed)


def case_data_record(study: Study, seed: int) -> dict[str, Any]:
    """What the manifest says of the case data: path, hash and row count, or which
    synthetic sample (never the content)."""
    if study.cases is None:
        return {"source": study.data_source, "seed": seed}
    return {
        "source": study.data_source,
        "path": str(study.cases),
        "sha256": provenance.file_hash(study.cases),
        "rows": len(load_cases(study, seed)),
    }


def study_file_record(study: Study) -> dict[str, str] | None:
    """What the manifest says of the study file: its path and hash (None for a study
    built in code)."""
    if study.source is None:
        return None
    return {"path": str(study.source), "sha256": provenance.file_hash(study.source)}


def default_jobs() -> int:
    """Analyses run at once by default: one per core, at most :data:`MAX_DEFAULT_JOBS`."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_JOBS))


def _run_one(
    entry: _Entry,
    folder: Path,
    *,
    seed: int,
    fast: bool,
    say: Callable[[str], None],
    bars: bool,
    study: Study | None = None,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Run one analysis into ``folder``: its manifest, its findings and its summary row.

    An analysis that stops with :meth:`Context.skip`, or leaves parts out with
    :meth:`Context.not_run`, says why in its ``numbers.json`` (``not_run``) and manifest.
    """
    module = _load(entry.path)
    folder.mkdir()
    ctx = Context(
        name=entry.name,
        folder=folder,
        seed=seed,
        fast=fast,
        progress=say,
        bars=bars,
        evidence=getattr(module, "EVIDENCE", None),
        obtained=getattr(module, "OBTAINED", None),
        study=study,
    )
    say(f"[{entry.name}] {entry.title}")
    t0 = time.perf_counter()
    try:
        module.run(ctx)
    except AnalysisSkipped as skipped:
        ctx.not_run("analysis", str(skipped))
    seconds = time.perf_counter() - t0
    if ctx.skipped:
        ctx.numbers(
            evidence="option", obtained="study_option", not_run=(dict(ctx.skipped), "reasons")
        )
    (folder / "numbers.json").write_text(dumps(ctx._numbers), encoding="utf-8")
    manifest = {
        "analysis": entry.name,
        "title": entry.title,
        "seed": seed,
        "fast": fast,
        "options": ctx.options,
        "inputs": ctx.inputs,
        "outputs": sorted({*ctx.outputs, "numbers.json"}),
        "diagnostics": ctx.diagnostics,
        "not_run": ctx.skipped,
        "wall_seconds": round(seconds, 3),
    }
    (folder / "manifest.json").write_text(dumps(manifest), encoding="utf-8")
    found = pd.concat(ctx._findings) if ctx._findings else pd.DataFrame()
    row = {
        "analysis": entry.name,
        "seconds": round(seconds, 1),
        "findings": len(found),
        "matched": int(found["match"].sum()) if len(found) else 0,
        "diagnostics": len(ctx.diagnostics),
        "diagnostics_passed": sum(ctx.diagnostics.values()),
        "not_run": "; ".join(ctx.skipped) if ctx.skipped else "",
    }
    say(f"[{entry.name}] done in {seconds:.1f} s")
    interrupts.check()  # a signal swallowed inside a sampler stops the run here at the latest
    return manifest, found, row


def _quiet(message: str) -> None:
    pass


#: In a worker process: the queue that carries progress messages to the parent.
_to_parent: Any = None


def _start_worker(queue: Any) -> None:
    global _to_parent
    _to_parent = queue
    # A worker stops at once, with joblib's processes under it, when the parent stops it
    # (a failed or interrupted run) or dies: its analysis is going into a folder nobody
    # will keep.
    import multiprocessing
    import signal
    import threading
    from multiprocessing.connection import wait

    groups = hasattr(os, "setpgrp")  # POSIX; elsewhere the worker alone stops

    def stop(*_: object) -> None:
        # nothing that takes a lock: this may interrupt the main thread anywhere
        if groups:
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    if groups:
        os.setpgrp()  # a process group of its own, which joblib's processes join
    signal.signal(signal.SIGTERM, stop)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (wait([parent.sentinel]), stop()), daemon=True).start()


def _say_to_parent(message: str) -> None:
    _to_parent.put(message)


def _run_in_worker(entry: _Entry, folder: Path, seed: int, fast: bool, study: Study | None):
    """:func:`_run_one` in a worker process, its progress messages relayed to the parent."""
    try:
        return _run_one(
            entry, folder, seed=seed, fast=fast, say=_say_to_parent, bars=False, study=study
        )
    finally:
        _release_pools()


def _release_pools() -> None:
    """Stop joblib's reusable worker processes (the latent-class starts use them): left
    idle they keep this worker process from exiting for joblib's five-minute timeout."""
    loky = sys.modules.get("joblib.externals.loky")
    if loky is not None:
        loky.get_reusable_executor().shutdown(wait=True)


def run_all(
    out: str | Path = "results",
    *,
    seed: int = 2019,
    fast: bool = False,
    only: list[str] | None = None,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
    bars: bool = False,
    jobs: int | None = None,
    study: Study | None = None,
) -> RunSummary:
    """Run the analyses into ``out`` (atomically) and write the manifests and findings.

    ``study`` is the study to run (default: the seed study, :func:`lacstats.study.south_east`);
    its case table is read and checked before any analysis starts.

    ``jobs`` analyses run at once (default :func:`default_jobs`), longest first by their
    ``EXPECTED_SECONDS``: the longest in this process, the others on ``jobs - 1`` worker
    processes whose progress messages come back to ``progress``. With ``bars``, a bar
    counts analyses and each MCMC fit of an analysis running here shows its own. Every
    analysis draws only from ``seed``, so results do not depend on ``jobs`` or the order.

    Examples
    --------
    >>> import json
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reproduce
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     summary = reproduce.run_all(Path(folder) / "results", fast=True, only=["savings"], jobs=1)
    ...     manifest = json.loads((summary.out / "manifest.json").read_text())
    ...     print(summary.table[["analysis", "findings", "matched"]].to_string(index=False))
    ...     print(sorted(manifest)[:4])
    ...
    analysis  findings  matched
     savings         7        7
    ['analyses', 'case_data', 'dependencies', 'fast_note']
    """
    catalogue = _catalogue(folder)
    if only:
        unknown = sorted(set(only) - set(catalogue))
        if unknown:
            raise LacstatsError(f"unknown analyses {unknown}; available: {sorted(catalogue)}")
        selected = {name: catalogue[name] for name in only}
    else:
        selected = {n: e for n, e in catalogue.items() if not e.on_demand}
    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise LacstatsError(f"argument 'jobs' must be a positive integer; got {jobs!r}")
    jobs = min(jobs, len(selected)) or 1
    say = progress or _quiet
    started = time.perf_counter()
    results: dict[str, tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]] = {}
    out = Path(out)
    from lacstats import datasets

    study = study or _seed_study()
    inputs = [(folder or analyses_folder()), Path(datasets.__file__).parent]
    inputs += [p for p in (study.cases, study.source, study.published) if p is not None]
    # --only into an existing full results folder updates those analyses inside it and
    # keeps the others (their folders, findings and manifests), never a partial folder
    previous = _previous_run(out, inputs) if only else None
    if previous is not None and previous[1].get("study", {}).get("name") != study.name:
        raise LacstatsError(
            f"--only would mix studies in {out}: it holds the results of study "
            f"{previous[1].get('study', {}).get('name')!r}, not {study.name!r}; "
            "write to another --out"
        )
    load_cases(study, seed)  # the case table is read and checked before any work
    with atomic_directory(out, inputs=inputs, merge=previous is not None) as staging:
        from tqdm import tqdm

        bar = tqdm(
            total=len(selected), desc="analyses", unit="analysis", disable=not bars, leave=False
        )
        if jobs == 1:
            for name, entry in selected.items():
                results[name] = _run_one(
                    entry, staging / name, seed=seed, fast=fast, say=say, bars=bars, study=study
                )
                bar.update()
        else:
            _run_parallel(selected, staging, seed, fast, jobs, say, bars, bar, results, study)
        bar.close()
        manifests = {name: results[name][0] for name in selected}
        found = [results[name][1] for name in selected]
        rows = [results[name][2] for name in selected]
        all_findings = (
            pd.concat(found, ignore_index=True)
            if any(len(f) for f in found)
            else pd.DataFrame(columns=FINDINGS_COLUMNS)
        )
        all_findings = all_findings.reindex(columns=FINDINGS_COLUMNS)
        written = all_findings
        kept: list[str] = []
        if previous is not None:
            old_findings, old_manifest = previous
            kept = sorted(set(old_manifest.get("analyses", {})) - set(selected))
            manifests = {
                **{k: old_manifest["analyses"][k] for k in kept},
                **manifests,
            }
            order = {name: i for i, name in enumerate(catalogue)}
            manifests = dict(sorted(manifests.items(), key=lambda kv: order.get(kv[0], 1e9)))
            carried = old_findings[old_findings["analysis"].isin(kept)]
            written = pd.concat([carried, all_findings], ignore_index=True)
            written = written.iloc[
                written["analysis"].map(order).fillna(1e9).argsort(kind="stable")
            ].reindex(columns=FINDINGS_COLUMNS)
        written.to_csv(staging / "findings.csv", index=False, lineterminator="\n")
        total = time.perf_counter() - started
        top = {
            **provenance.environment(),
            "options": {
                "seed": seed,
                "fast": fast,
                "only": only or sorted(selected),
                "jobs": jobs,
            },
            "study": study.to_dict(),
            "study_file": study_file_record(study),
            "case_data": case_data_record(study, seed),
            "kept_from_previous_run": kept,
            "fast_note": "MCMC and simulations shortened for a smoke test" if fast else None,
            "packaged_data_sha256": provenance.packaged_data_hashes(),
            "analyses": manifests,
            "wall_seconds": round(total, 3),
        }
        (staging / "manifest.json").write_text(dumps(top), encoding="utf-8")
    return RunSummary(out=out, table=pd.DataFrame(rows), findings=all_findings, seconds=total)


def _previous_run(out: Path, inputs: list[Path]) -> tuple[pd.DataFrame, dict] | None:
    """The findings and manifest of an earlier complete run in ``out``, if there is one."""
    from lacstats.outputs import check_output

    check_output(out, inputs)
    manifest_path, findings_path = out / "manifest.json", out / "findings.csv"
    if not (manifest_path.is_file() and findings_path.is_file()):
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        findings = pd.read_csv(findings_path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as err:
        raise LacstatsError(
            f"{out}: its manifest.json or findings.csv cannot be read ({err}); --only updates "
            "a complete results folder, so choose another --out"
        ) from None
    if not isinstance(manifest.get("analyses"), dict) or "analysis" not in findings:
        raise LacstatsError(f"{out}: not a lacstats results folder; choose another --out")
    return findings, manifest


def _run_parallel(selected, staging, seed, fast, jobs, say, bars, bar, results, study) -> None:
    """Run the longest analysis here, with its progress bars, and the rest on ``jobs - 1``
    fresh worker processes, longest first; when this process is free again it takes the
    longest analysis no worker has started. On a failure (or an interrupt) the workers are
    stopped and the error raised: the caller's atomic directory then discards everything."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    first, *rest = sorted(selected.values(), key=lambda e: (-e.expected_seconds, e.name))
    # spawn: each worker starts clean (no threads or compiled state inherited by fork)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    relay = threading.Thread(target=_relay, args=(messages, say), daemon=True)
    relay.start()
    pool = ProcessPoolExecutor(
        max_workers=jobs - 1,
        mp_context=context,
        initializer=_start_worker,
        initargs=(messages,),
    )
    futures: dict[Any, _Entry] = {}
    try:
        futures = {
            pool.submit(_run_in_worker, e, staging / e.name, seed, fast, study): e for e in rest
        }
        for future in futures:
            future.add_done_callback(lambda f: f.cancelled() or bar.update())
        here = [first]
        while here:
            entry = here.pop()
            results[entry.name] = _run_one(
                entry, staging / entry.name, seed=seed, fast=fast, say=say, bars=bars, study=study
            )
            bar.update()
            # then the longest analysis no worker has started yet, if any
            here = next(([e] for f, e in futures.items() if not f.cancelled() and f.cancel()), [])
        for future, entry in futures.items():
            if not future.cancelled():
                results[entry.name] = future.result()
    except BaseException:
        # fail fast: the run is void, so stop the workers before the staging folder goes
        for future in futures:
            future.cancel()
        for process in multiprocessing.active_children():
            process.terminate()
        # a worker stopped mid-message may hold the queue's lock: do not wait on it
        messages.cancel_join_thread()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        messages.put(None)
        relay.join(timeout=5)


def _relay(messages: Any, say: Callable[[str], None]) -> None:
    """Pass the workers' progress messages to ``say`` until a ``None`` arrives."""
    for message in iter(messages.get, None):
        say(message)
