"""The runner behind ``lacstats reproduce``: every analysis of ``analyses/``, one folder each.

An analysis is a file in ``analyses/`` that declares itself (``ANALYSIS``, a
:class:`lacstats.analysis.Analysis`: name, title, what it reads and requires of the case
table, the figures it publishes, whether the paper needs it) and has ``run(ctx: Context)``;
it writes only through its :class:`~lacstats.analysis.Context`. See :mod:`lacstats.analysis`.

A run goes in four steps:

1. **Before any work**: the declarations are read (without running the files), the output
   folder is checked, the case table is read and validated once (or the synthetic sample
   drawn once) and every analysis's requirements are judged on it
   (:func:`lacstats.analysis.check`). An analysis whose columns the data lack is not run
   and says why; the cases an analysis cannot use (a weekly cost of 0 for a lognormal
   model, an age outside the frame) are listed, by case id, column, value and analysis,
   and left out of that analysis only, which counts them beside its estimates.
2. **The analyses** run side by side (``jobs``), the longest first and in this process,
   the others in worker processes, each drawing only from the seed, so results do not
   depend on ``jobs`` or the order. Each is built in ``<out>.partial/.<name>.work`` and,
   when it has finished, renamed to ``<out>.partial/<name>`` with what the runner needs to
   reuse it (its findings, its summary row, the key of its inputs).
3. **A failure** of one analysis does not stop the others: the run ends with every
   finished analysis kept in ``<out>.partial`` and the failures listed
   (:class:`AnalysisFailed`; exit status 3 on the command line). **An interrupt** (Ctrl-C,
   SIGTERM) stops the run at once and keeps what had finished. ``resume=True``
   (``--resume``) then runs only what is missing: an analysis is reused when its key (its
   file, the package's code, the packaged data, the seed, ``fast``, the study and the case
   data or returns it reads) is the one it was built with, and run again otherwise.
4. **When every analysis has finished**, the results folder is assembled in a temporary
   sibling (findings.csv, manifest.json, the analyses' folders) and swapped into place
   (:func:`lacstats.outputs.atomic_directory`); ``<out>.partial`` is then removed. Until
   that moment ``out`` holds the previous complete results, untouched, whatever happened.

A file may declare ``expected_seconds`` so that the longest start first, and
``on_demand=True`` to run only when named.

**Computed once.** An analysis that reads no case data and declares the attributes of the
study it reads (``study_reads``: the national analysis, sufficiency) is kept in the cache
(:mod:`lacstats.cache`) under the key of its inputs (:func:`cache_inputs`) when it has
finished, and copied from there, byte for byte, by any later run or study with the same
key, before any analysis starts; its manifest says ``"cache": {"status": "reused" |
"stored", "key": ...}``. ``cache=False`` (``--no-cache``) neither reads nor writes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from lacstats import cache, cells, interrupts, provenance
from lacstats.analysis import (
    RETURNS,
    WHOLE,
    AnalysisFile,
    AnalysisSkipped,
    CaseData,
    Context,
    RequirementsCheck,
    case_data,
    catalogue,
    check,
    returns_data,
)
from lacstats.analysis import analyses_folder as _default_folder
from lacstats.errors import LacstatsError
from lacstats.evidence import FINDINGS_COLUMNS as _COLUMNS
from lacstats.outputs import MARKER, atomic_directory, check_output
from lacstats.results import Result, jsonable
from lacstats.study import Study

__all__ = [
    "AnalysisFailed",
    "AnalysisSkipped",
    "Context",
    "RunSummary",
    "analysis_key",
    "cache_inputs",
    "discover",
    "partial_folder",
    "run_all",
]

FINDINGS_COLUMNS = list(_COLUMNS)


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
    #: the requirements judged before the run (None when no analysis read the cases)
    checked: RequirementsCheck | None = None
    #: analyses reused from an earlier, unfinished run (``resume``)
    resumed: tuple[str, ...] = ()
    #: analyses computed once and reused from the cache (:mod:`lacstats.cache`)
    cached: tuple[str, ...] = ()
    #: analyses that failed, with their errors (a run with failures raises
    #: :class:`AnalysisFailed`, which carries this summary)
    failed: dict[str, str] = field(default_factory=dict)

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
        if self.resumed:
            lines.append(f"reused from the unfinished run: {', '.join(self.resumed)}")
        if self.cached:
            lines.append(f"reused from the cache: {', '.join(self.cached)}")
        return "\n".join(lines)


class AnalysisFailed(LacstatsError):
    """One or more analyses failed; the others finished and are kept in the partial folder
    (:func:`partial_folder`) for ``resume``. ``failures`` maps each failed analysis to its
    error, ``partial`` is where the finished ones are, ``summary`` the run's
    :class:`RunSummary` of what finished.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reproduce
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     analyses = Path(folder) / "analyses"
    ...     analyses.mkdir()
    ...     _ = (analyses / "broken.py").write_text("NAME = 'broken'\\ndef run(ctx):\\n    1 / 0\\n")
    ...     try:
    ...         reproduce.run_all(Path(folder) / "results", folder=analyses)
    ...     except reproduce.AnalysisFailed as failed:
    ...         print(failed.failures)
    ...
    {'broken': 'ZeroDivisionError: division by zero'}
    """

    def __init__(self, failures: dict[str, str], partial: Path, summary: RunSummary):
        self.failures = dict(failures)
        self.partial = partial
        self.summary = summary
        done = len(summary.table)
        names = "; ".join(f"{name} ({why})" for name, why in failures.items())
        kept = (
            f"The {done} that finished are kept in {partial}; fix the cause and run again "
            "with --resume to run only what is missing"
            if done
            else "None finished; fix the cause and run again"
        )
        super().__init__(
            f"{len(failures)} analys{'i' if len(failures) == 1 else 'e'}s failed: {names}. "
            f"{kept} (the results folder is replaced only when every analysis has finished)"
        )


def analyses_folder() -> Path:
    """``analyses/`` beside the package (a source checkout) or in the working directory."""
    return _default_folder()


def _catalogue(folder: Path | None) -> dict[str, AnalysisFile]:
    return catalogue(folder or analyses_folder())


def discover(folder: Path | None = None) -> dict[str, ModuleType]:
    """Load every analysis module, keyed by its name, in file-name order.

    Examples
    --------
    >>> from lacstats import reproduce
    >>> analyses = reproduce.discover()
    >>> "sample_design" in analyses, "calibrated_sample" in analyses
    (True, True)
    """
    return {name: entry.load() for name, entry in _catalogue(folder).items()}


#: Each analysis already uses two cores in its longest steps (MCMC chains, latent-class
#: starts), so more simultaneous analyses than this mostly add memory.
MAX_DEFAULT_JOBS = 4


def _seed_study() -> Study:
    from lacstats.study import south_east

    return south_east()


def load_cases(study: Study, seed: int) -> pd.DataFrame:
    """The case table of ``study`` (:func:`lacstats.analysis.case_data`): its file, read
    and validated, else the synthetic sample drawn from ``seed``, without the generator's
    truth."""
    return case_data(study, seed).cases


def case_data_record(study: Study, seed: int) -> dict[str, Any]:
    """What the manifest says of the case data: path, hash and row count, or which
    synthetic sample (never the content)."""
    if study.cases is None:
        return {"source": study.data_source, "seed": seed}
    if not study.cases.is_file():  # no analysis of the run read it
        return {"source": study.data_source, "path": str(study.cases), "read": False}
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


# ------------------------------------------------------------------ keys and the partial run
def partial_folder(out: str | os.PathLike[str]) -> Path:
    """Where a run keeps its finished analyses until every one has finished:
    ``<out>.partial`` beside ``out``.

    Examples
    --------
    >>> from lacstats import reproduce
    >>> reproduce.partial_folder("results").name
    'results.partial'
    """
    out = Path(out)
    return out.with_name(f"{out.name}.partial")


def _code_hash() -> str:
    """SHA-256 over the package's Python sources: results of other code are not reused."""
    return cache.source_hash()


def _run_inputs(study: Study, seed: int, fast: bool) -> dict[str, Any]:
    """What every analysis's results depend on besides its own file and what it reads."""
    described = {k: v for k, v in study.to_dict().items() if k not in ("cases", "source")}
    return {
        "code": _code_hash(),
        "packaged_data": provenance.packaged_data_hashes(),
        "seed": seed,
        "fast": fast,
        "study": described,
    }


def analysis_key(entry: AnalysisFile, common: dict[str, Any], study: Study) -> str:
    """The key of an analysis's results: SHA-256 of its file, the run's common inputs
    (code, packaged data, seed, ``fast``, the study) and the inputs it reads (the case
    table's hash, or the synthetic sample's seed; the SSDA903 returns). Results built with
    the same key are the same bytes, so a resumed run (or a cache) may reuse them.

    Examples
    --------
    >>> from lacstats import analysis, reproduce, study
    >>> se = study.south_east()
    >>> common = reproduce._run_inputs(se, seed=2019, fast=True)
    >>> entry = analysis.catalogue()["savings"]
    >>> key = reproduce.analysis_key(entry, common, se)
    >>> len(key), key == reproduce.analysis_key(entry, {**common, "seed": 7}, se)
    (64, False)
    """
    declared = entry.analysis
    reads: dict[str, Any] = {}
    if declared.uses_cases:
        reads["cases"] = (
            provenance.file_hash(study.cases) if study.cases is not None else study.data_source
        )
    if RETURNS in declared.reads:
        reads["ssda903"] = _returns_hash(study)
    payload = {
        "file": provenance.file_hash(entry.path),
        "common": common,
        "reads": reads,
    }
    return hashlib.sha256(dumps(payload).encode()).hexdigest()


def _study_value(study: Study, name: str) -> Any:
    value = getattr(study, name)
    return jsonable(value() if callable(value) else value)


def cache_inputs(entry: AnalysisFile, study: Study, seed: int, fast: bool) -> dict[str, Any]:
    """What the cache key of an analysis computed once holds (``study_reads``): its file,
    the package (version, sources, packaged data: :func:`lacstats.cache.library`), the
    seed, ``fast`` and the values of the study's attributes it reads, nothing else of the
    study (not its name, nor its case data, which it does not read).

    Examples
    --------
    >>> from lacstats import analysis, reproduce, study
    >>> entry = analysis.catalogue()["national"]
    >>> inputs = reproduce.cache_inputs(entry, study.south_east(), seed=2019, fast=True)
    >>> sorted(inputs["study"]), inputs["study"]["region"]
    (['authorities', 'region', 'title'], 'South East')
    """
    return {
        "analysis": entry.name,
        "file": provenance.file_hash(entry.path),
        **cache.library(),
        "seed": seed,
        "fast": fast,
        "study": {name: _study_value(study, name) for name in entry.analysis.study_reads},
    }


def _returns_hash(study: Study) -> str | None:
    """SHA-256 over the study's SSDA903 return files (names and contents), or None."""
    if not study.ssda903:
        return None
    digest = hashlib.sha256()
    for given in study.ssda903:
        files = sorted(given.rglob("*")) if given.is_dir() else [given]
        for path in files:
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(provenance.file_hash(path).encode())
    return digest.hexdigest()


def returns_record(study: Study) -> dict[str, Any] | None:
    """What the manifest says of the study's own SSDA903 returns: paths and hash (never
    their content); None for a study without them."""
    if not study.ssda903:
        return None
    return {
        "source": study.returns_source,
        "paths": [str(p) for p in study.ssda903],
        "sha256": _returns_hash(study),
    }


def _result_file(partial: Path, name: str) -> Path:
    return partial / f".{name}.result.json"


def _findings_file(partial: Path, name: str) -> Path:
    # JSON, never a pickle: a resumed run reads this file back, and reading a pickle from
    # a folder anyone could have written to would run their code
    return partial / f".{name}.findings.json"


def _findings_to_json(found: pd.DataFrame) -> str:
    """An analysis' findings as JSON: columns, rows, each value as given (a whole number
    stays whole, NaN stays NaN, missing stays missing)."""
    rows = [list(values) for values in found.astype(object).itertuples(index=False, name=None)]
    data = {
        "columns": [str(c) for c in found.columns],
        "dtypes": [str(t) for t in found.dtypes],
        "rows": rows,
    }
    # NaN kept as NaN (not null), so the reloaded table equals the one that was kept
    return json.dumps(data, default=_json_default, ensure_ascii=False, allow_nan=True) + "\n"


def _findings_from_json(text: str) -> pd.DataFrame:
    data = json.loads(text)
    out = pd.DataFrame(data["rows"], columns=data["columns"], dtype=object)
    kinds = {"bool": bool, "str": "str"}
    typed = {c: kinds[t] for c, t in zip(out.columns, data["dtypes"], strict=True) if t in kinds}
    return out.astype(typed) if typed else out


def _work_folder(partial: Path, name: str) -> Path:
    return partial / f".{name}.work"


def _finished(partial: Path, keys: dict[str, str]) -> dict[str, tuple]:
    """The analyses of an earlier unfinished run in ``partial`` built with today's keys."""
    done = {}
    for name, key in keys.items():
        record, folder = _result_file(partial, name), partial / name
        if not (record.is_file() and folder.is_dir() and _findings_file(partial, name).is_file()):
            continue
        try:
            kept = json.loads(record.read_text(encoding="utf-8"))
            found = _findings_from_json(_findings_file(partial, name).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if kept.get("key") == key:
            done[name] = (kept["manifest"], found, kept["row"])
    return done


def _keep(partial: Path, name: str, key: str, result: tuple) -> None:
    """Move a finished analysis from its work folder to ``partial/<name>``, with what a
    resumed run needs to reuse it."""
    manifest, found, row = result
    _findings_file(partial, name).write_text(_findings_to_json(found), encoding="utf-8")
    record = {"key": key, "manifest": manifest, "row": row}
    _result_file(partial, name).write_text(dumps(record), encoding="utf-8")
    target = partial / name
    if target.exists():
        shutil.rmtree(target)
    os.replace(_work_folder(partial, name), target)


def _discard(partial: Path, name: str) -> None:
    shutil.rmtree(_work_folder(partial, name), ignore_errors=True)


def _clean_partial(partial: Path) -> None:
    """Remove the work folders of analyses that did not finish, and ``partial`` itself if
    nothing in it finished."""
    if not partial.is_dir():
        return
    for entry in partial.glob(".*.work"):
        shutil.rmtree(entry, ignore_errors=True)
    if not any(p.is_dir() and not p.name.startswith(".") for p in partial.iterdir()):
        shutil.rmtree(partial, ignore_errors=True)


def _refuse_unfinished(partial: Path, inputs: list[Path], resume: bool) -> None:
    """Before any work: ``partial`` must be ours, and a run that is not resuming must not
    discard the finished analyses of an unfinished one."""
    check_output(partial, inputs, what="--out's partial folder")
    if partial.exists() and not resume:
        kept = sorted(p.name for p in partial.iterdir() if p.is_dir() and p.name[0] != ".")
        raise LacstatsError(
            f"{partial} holds an unfinished run ({len(kept)} finished analyses: "
            f"{', '.join(kept) or 'none'}); --resume completes it, running only what is "
            "missing; delete the folder to start over"
        )


def _open_partial(partial: Path) -> None:
    partial.mkdir(parents=True, exist_ok=True)
    (partial / MARKER).write_text("a lacstats run's finished analyses\n", encoding="utf-8")
    for entry in partial.glob(".*.work"):  # left by a run that was killed
        shutil.rmtree(entry, ignore_errors=True)


# -------------------------------------------------------------------- computed once
_ANALYSES = "analyses"  # the cache's kind of whole analyses


def _cache_store() -> cache.Cache:
    return cache.Cache.default()


def _reuse(
    store: cache.Cache,
    partial: Path,
    once: dict[str, dict[str, Any]],
    keys: dict[str, str],
    results: dict[str, tuple],
    say: Callable[[str], None],
) -> tuple[str, ...]:
    """Copy the analyses of ``once`` whose key is in the cache into ``partial`` (as a
    finished analysis is kept there), into ``results``; the names reused."""
    reused = []
    for name, inputs in once.items():
        key = cache.key(inputs)
        t0 = time.perf_counter()
        found, problem = store.get(_ANALYSES, key)
        if problem:
            say(f"[{name}] the cache's entry {key[:12]} is ignored: {problem}; computed again")
            store.discard(_ANALYSES, key)
        if found is None:
            continue
        work = _work_folder(partial, name)
        try:
            manifest = json.loads(found.attachments["manifest.json"])
            found_rows = _findings_from_json(found.attachments["findings.json"])
            row = json.loads(found.attachments["row.json"])
            if work.exists():
                shutil.rmtree(work)
            shutil.copytree(found.files, work)
        except (OSError, ValueError, KeyError, TypeError) as err:
            say(f"[{name}] the cache's entry {key[:12]} is ignored: {err}; computed again")
            shutil.rmtree(work, ignore_errors=True)
            store.discard(_ANALYSES, key)
            continue
        # the whole analysis was reused: what the cache did for its parts is history
        manifest.pop("computed_once", None)
        manifest["cache"] = {"status": "reused", "key": key}
        (work / "manifest.json").write_text(dumps(manifest), encoding="utf-8")
        row["seconds"] = round(time.perf_counter() - t0, 1)
        result = (manifest, found_rows, row)
        _keep(partial, name, keys[name], result)
        results[name] = result
        reused.append(name)
        say(f"[{name}] reused from the cache ({key[:12]}): {store.path(_ANALYSES, key)}")
    return tuple(reused)


def _store(
    store: cache.Cache | None,
    partial: Path,
    name: str,
    inputs: dict[str, Any],
    result: tuple,
    say: Callable[[str], None],
) -> None:
    """Record in a computed-once analysis's manifest what the cache did with it, and keep
    a copy of its files in the cache (``store``; None: ``--no-cache``)."""
    manifest, found, row = result
    key = cache.key(inputs)
    work = _work_folder(partial, name)
    if store is None:
        manifest["cache"] = {"status": "not read or written (--no-cache)", "key": key}
    else:
        manifest["cache"] = {"status": "stored", "key": key}
        (work / "manifest.json").write_text(dumps(manifest), encoding="utf-8")
        attached = {
            "manifest.json": dumps(manifest),
            "findings.json": _findings_to_json(found),
            "row.json": dumps(row),
        }
        stored, why = store.put(_ANALYSES, key, work, inputs, attached)
        if not stored:
            manifest["cache"] = {"status": f"computed (not kept: {why})", "key": key}
        else:
            say(f"[{name}] kept in the cache ({key[:12]})")
    (work / "manifest.json").write_text(dumps(manifest), encoding="utf-8")


# ------------------------------------------------------------------------- one analysis
def _threads(side_by_side: bool) -> contextlib.ExitStack:
    """What an analysis may run in parallel inside itself.

    The linear algebra library (OpenBLAS, MKL) and OpenMP (scikit-learn's k-means) run on
    one thread, always. Two reasons.
    Bytes: a product or a factorisation split over threads may sum in another order, so a
    result could depend on the machine's number of cores (on this project's 2-core
    machine, the unpooled model's R-hat differed in its 7th digit). And speed: a library
    that starts a thread per core in each analysis run side by side (OpenBLAS's threads
    wait spinning) made a 12 s analysis take 55 s beside another.

    When analyses run ``side_by_side`` (``jobs`` > 1), joblib's parallel loops inside one
    (the latent-class starts, the sensitivity sweeps) run in its process, one after
    another, instead of starting worker processes of their own on cores the other
    analyses fill: each such loop draws one random stream per task, so the bytes are the
    same either way.
    """
    # a library is limited only if it is loaded: scipy's OpenBLAS is not numpy's, and
    # scikit-learn brings its own OpenMP
    import scipy.linalg  # noqa: F401
    import sklearn.cluster  # noqa: F401
    from threadpoolctl import threadpool_limits

    stack = contextlib.ExitStack()
    stack.enter_context(threadpool_limits(limits=1))
    if side_by_side:
        from joblib import parallel_config

        stack.enter_context(parallel_config(backend="sequential"))
    return stack


def _run_one(
    entry: AnalysisFile,
    folder: Path,
    *,
    seed: int,
    fast: bool,
    say: Callable[[str], None],
    bars: bool,
    study: Study,
    data: CaseData | None,
    checked: RequirementsCheck | None,
    returns: Any = None,
    store: cache.Cache | None = None,
    side_by_side: bool = False,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Run one analysis into ``folder``: its manifest, its findings and its summary row.

    An analysis that stops with :meth:`Context.skip`, or that the case table cannot
    support (its requirements), or that leaves parts out with :meth:`Context.not_run`,
    says why in its ``numbers.json`` (``not_run``) and manifest; the cases it leaves out
    are counted there too (``left_out``).
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ctx = Context(
        name=entry.name,
        folder=folder,
        seed=seed,
        fast=fast,
        study=study,
        analysis=entry.analysis,
        data=data,
        checked=checked,
        ssda903=returns,
        progress=say,
        bars=bars,
        cache=store,
        source=provenance.file_hash(entry.path),
    )
    say(f"[{entry.name}] {entry.title}")
    t0 = time.perf_counter()
    whole = checked.not_run(entry.name).get(WHOLE) if checked is not None else None
    if whole is not None:
        ctx.not_run(WHOLE, whole)
    else:
        module = entry.load()
        try:
            with _threads(side_by_side):
                module.run(ctx)
        except AnalysisSkipped as skipped:
            ctx.not_run(WHOLE, str(skipped))
    seconds = time.perf_counter() - t0
    if ctx.skipped:
        ctx.numbers(
            evidence="option", obtained="study_option", not_run=(dict(ctx.skipped), "reasons")
        )
    left_out = checked.left_out(entry.name) if checked is not None and whole is None else {}
    if left_out:
        counts = checked.left_out_counts(entry.name)
        ctx.numbers(
            evidence=ctx.case_evidence,
            obtained="recomputed_from_rows",
            left_out=(left_out, "reasons"),
            left_out_cases=(counts, "cases"),
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
    if left_out:
        manifest["left_out"] = left_out
    if ctx.cached:  # its parts computed once: reused, stored or computed
        manifest["computed_once"] = ctx.cached
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


def _failure(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


# ------------------------------------------------------------------------------- the run
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
    resume: bool = False,
    cache: bool = True,
) -> RunSummary:
    """Run the analyses into ``out`` and write the manifests and findings (see the module
    docstring for the steps).

    ``study`` is the study to run (default: the seed study, :func:`lacstats.study.south_east`);
    its case table is read, validated and judged against every analysis's requirements
    before any analysis starts. ``jobs`` analyses run at once (default
    :func:`default_jobs`), longest first: the longest in this process, the others on
    ``jobs - 1`` worker processes whose progress messages come back to ``progress``. With
    ``bars``, a bar counts analyses and each MCMC fit of an analysis running here shows its
    own. ``resume`` completes an unfinished run of ``out`` (:func:`partial_folder`),
    running only the analyses it lacks. A failed analysis raises :class:`AnalysisFailed`
    once the others have finished.

    An analysis that declares ``study_reads`` (it reads public data and those attributes
    of the study, never the case data) is computed once: its files are kept in the cache
    (:mod:`lacstats.cache`) under :func:`cache_inputs`' key, and a later run or study with
    the same key copies them, byte for byte; its manifest says ``"cache": {"status":
    "reused" | "stored", "key": ...}``. ``cache=False`` (``--no-cache``) computes every
    analysis and neither reads nor writes the cache.

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
    found = _catalogue(folder)
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise LacstatsError(f"unknown analyses {unknown}; available: {sorted(found)}")
        selected = {name: found[name] for name in only}
    else:
        selected = {n: e for n, e in found.items() if not e.on_demand}
    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise LacstatsError(f"argument 'jobs' must be a positive integer; got {jobs!r}")
    jobs = min(jobs, len(selected)) or 1
    say = progress or _quiet
    started = time.perf_counter()
    out = Path(out)
    from lacstats import datasets

    study = study or _seed_study()
    inputs = [(folder or analyses_folder()), Path(datasets.__file__).parent]
    inputs += [p for p in (study.cases, study.source, study.published) if p is not None]
    inputs += list(study.ssda903)
    check_output(out, inputs)
    # --only into an existing full results folder updates those analyses inside it and
    # keeps the others (their folders, findings and manifests), never a partial folder
    previous = _previous_run(out, inputs) if only else None
    if previous is not None and previous[1].get("study", {}).get("name") != study.name:
        raise LacstatsError(
            f"--only would mix studies in {out}: it holds the results of study "
            f"{previous[1].get('study', {}).get('name')!r}, not {study.name!r}; "
            "write to another --out"
        )
    partial = partial_folder(out)
    _refuse_unfinished(partial, inputs, resume)
    # the case table is read and checked once, before any work
    data = (
        case_data(study, seed) if any(e.analysis.uses_cases for e in selected.values()) else None
    )
    checked = check(selected, data, study) if data is not None else None
    # and the study's own SSDA903 returns, read and checked once, before any work
    reads_returns = any(RETURNS in e.analysis.reads for e in selected.values())
    returns = returns_data(study) if reads_returns else None
    if (
        checked is not None
        and checked.verdicts
        and any(not v.runs or v.reason for v in checked.verdicts)
    ):
        say(checked.summary())
    common = _run_inputs(study, seed, fast)
    keys = {name: analysis_key(entry, common, study) for name, entry in selected.items()}
    _open_partial(partial)
    results: dict[str, tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]] = {}
    results.update(_finished(partial, keys) if resume else {})
    resumed = tuple(name for name in selected if name in results)
    if resume:
        say(
            f"resuming: {len(resumed)} of {len(selected)} analyses reused from {partial}"
            + (f" ({', '.join(resumed)})" if resumed else "")
        )
    pending = {n: e for n, e in selected.items() if n not in results}
    # analyses computed once (study_reads): copied from the cache when their key is there
    once = {
        name: cache_inputs(entry, study, seed, fast)
        for name, entry in pending.items()
        if entry.analysis.computed_once
    }
    store = _cache_store() if cache else None
    cached = _reuse(store, partial, once, keys, results, say) if store is not None else ()
    pending = {n: e for n, e in pending.items() if n not in results}
    failures: dict[str, str] = {}
    run = _Run(
        partial,
        keys,
        seed,
        fast,
        say,
        bars,
        study,
        data,
        checked,
        returns,
        results,
        failures,
        store,
        {name: inputs for name, inputs in once.items() if name not in cached},
    )
    try:
        from tqdm import tqdm

        bar = tqdm(
            total=len(pending), desc="analyses", unit="analysis", disable=not bars, leave=False
        )
        workers = min(jobs, len(pending)) or 1
        if workers == 1:
            for entry in pending.values():
                run.here(entry)
                bar.update()
        else:
            run.side_by_side = True
            _run_parallel(run, pending, workers, bar)
        bar.close()
    except BaseException:
        _clean_partial(partial)  # an interrupt: keep what finished, for --resume
        raise
    _clean_partial(partial)
    order = list(found)
    done = [name for name in selected if name in results]
    if failures:
        summary = _summary(out, results, done, started, checked, resumed, failures, cached)
        raise AnalysisFailed(failures, partial, summary)
    return _assemble(
        out,
        partial,
        selected,
        order,
        results,
        previous,
        inputs,
        started,
        checked,
        resumed,
        {
            "seed": seed,
            "fast": fast,
            "only": only or sorted(selected),
            "jobs": jobs,
        },
        study,
        cached,
    )


#: The columns of a run's summary table, in order.
_ROW_COLUMNS = (
    "analysis",
    "seconds",
    "findings",
    "matched",
    "diagnostics",
    "diagnostics_passed",
    "not_run",
)


def _summary(
    out, results, names, started, checked, resumed, failures=None, cached=()
) -> RunSummary:
    found = [results[n][1] for n in names]
    all_findings = (
        pd.concat(found, ignore_index=True)
        if any(len(f) for f in found)
        else pd.DataFrame(columns=FINDINGS_COLUMNS)
    )
    table = pd.DataFrame([results[n][2] for n in names])
    if len(table):  # a row read back from JSON (resumed, reused) has its keys sorted
        table = table[
            [c for c in _ROW_COLUMNS if c in table] + [c for c in table if c not in _ROW_COLUMNS]
        ]
    return RunSummary(
        out=out,
        table=table,
        findings=all_findings.reindex(columns=FINDINGS_COLUMNS),
        seconds=time.perf_counter() - started,
        checked=checked,
        resumed=resumed,
        cached=tuple(cached),
        failed=dict(failures or {}),
    )


def _assemble(
    out,
    partial,
    selected,
    order,
    results,
    previous,
    inputs,
    started,
    checked,
    resumed,
    options,
    study,
    cached=(),
) -> RunSummary:
    """Every selected analysis has finished: build the results folder from ``partial``
    and swap it into place, then remove ``partial``."""
    names = list(selected)
    summary = _summary(out, results, names, started, checked, resumed, cached=cached)
    with atomic_directory(out, inputs=inputs, merge=previous is not None) as staging:
        for name in names:
            shutil.copytree(partial / name, staging / name, copy_function=_link_or_copy)
        manifests = {name: results[name][0] for name in names}
        written = summary.findings
        kept: list[str] = []
        if previous is not None:
            old_findings, old_manifest = previous
            kept = sorted(set(old_manifest.get("analyses", {})) - set(selected))
            manifests = {**{k: old_manifest["analyses"][k] for k in kept}, **manifests}
            rank = {name: i for i, name in enumerate(order)}
            manifests = dict(sorted(manifests.items(), key=lambda kv: rank.get(kv[0], 1e9)))
            carried = old_findings[old_findings["analysis"].isin(kept)]
            written = pd.concat([carried, summary.findings], ignore_index=True)
            written = written.iloc[
                written["analysis"].map(rank).fillna(1e9).argsort(kind="stable")
            ].reindex(columns=FINDINGS_COLUMNS)
        (staging / "findings.csv").write_text(
            cells.csv_text(written), encoding="utf-8", newline=""
        )
        total = time.perf_counter() - started
        seed = options["seed"]
        top = {
            **provenance.environment(),
            "options": options,
            "study": study.to_dict(),
            "study_file": study_file_record(study),
            "case_data": case_data_record(study, seed),
            "ssda903_returns": returns_record(study),
            "kept_from_previous_run": kept,
            "resumed_from_partial_run": list(resumed),
            "reused_from_cache": list(cached),
            "fast_note": "MCMC and simulations shortened for a smoke test"
            if options["fast"]
            else None,
            "packaged_data_sha256": provenance.packaged_data_hashes(),
            "requirements": checked.to_dict()["requirements"] if checked is not None else [],
            "analyses": manifests,
            "wall_seconds": round(total, 3),
        }
        (staging / "manifest.json").write_text(dumps(top), encoding="utf-8")
    shutil.rmtree(partial, ignore_errors=True)
    return RunSummary(
        out=out,
        table=summary.table,
        findings=summary.findings,
        seconds=total,
        checked=checked,
        resumed=resumed,
        cached=tuple(cached),
    )


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one (the partial folder is discarded
    next), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _previous_run(out: Path, inputs: list[Path]) -> tuple[pd.DataFrame, dict] | None:
    """The findings and manifest of an earlier complete run in ``out``, if there is one."""
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


@dataclass
class _Run:
    """What every analysis of a run shares, and where its outcome goes."""

    partial: Path
    keys: dict[str, str]
    seed: int
    fast: bool
    say: Callable[[str], None]
    bars: bool
    study: Study
    data: CaseData | None
    checked: RequirementsCheck | None
    returns: Any
    results: dict[str, tuple]
    failures: dict[str, str]
    #: the cache (None: --no-cache) and the analyses computed once that run here, with
    #: the inputs of their keys
    store: cache.Cache | None = None
    once: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: analyses run side by side (jobs > 1): see _threads
    side_by_side: bool = False

    def here(self, entry: AnalysisFile) -> None:
        """Run ``entry`` in this process; keep it if it finishes, list it if it fails."""
        try:
            result = _run_one(
                entry,
                _work_folder(self.partial, entry.name),
                seed=self.seed,
                fast=self.fast,
                say=self.say,
                bars=self.bars,
                study=self.study,
                data=self.data,
                checked=self.checked,
                returns=self.returns,
                store=self.store,
                side_by_side=self.side_by_side,
            )
        except Exception as err:  # noqa: BLE001 - listed as the analysis's failure
            interrupts.check()  # an interrupt raised as something else stops the run
            self.failed(entry.name, err, traceback.format_exc())
            return
        self.kept(entry.name, result)

    def kept(self, name: str, result: tuple) -> None:
        if name in self.once:
            _store(self.store, self.partial, name, self.once[name], result, self.say)
        _keep(self.partial, name, self.keys[name], result)
        self.results[name] = result

    def failed(self, name: str, err: BaseException, trace: str) -> None:
        _discard(self.partial, name)
        self.failures[name] = _failure(err)
        (self.partial / f".{name}.error.txt").write_text(trace, encoding="utf-8")
        self.say(f"[{name}] failed: {_failure(err)}")


# ------------------------------------------------------------------------ worker processes
#: In a worker process: the queue that carries progress messages to the parent.
_to_parent: Any = None


def _start_worker(queue: Any) -> None:
    global _to_parent
    _to_parent = queue
    # A worker stops at once, with joblib's processes under it, when the parent stops it
    # (an interrupted run) or dies: its analysis is going into a folder nobody will keep.
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


def _run_in_worker(
    entry: AnalysisFile,
    folder: Path,
    seed: int,
    fast: bool,
    study: Study,
    data: CaseData | None,
    checked: RequirementsCheck | None,
    returns: Any = None,
    store: cache.Cache | None = None,
):
    """:func:`_run_one` in a worker process, its progress messages relayed to the parent;
    the case table comes from the parent, read once."""
    try:
        return _run_one(
            entry,
            folder,
            seed=seed,
            fast=fast,
            say=_say_to_parent,
            bars=False,
            study=study,
            data=data,
            checked=checked,
            returns=returns,
            store=store,
            side_by_side=True,
        )
    except Exception as err:  # noqa: BLE001 - passed to the parent, which lists it
        # the traceback as text: the parent lists it with the failure
        raise _WorkerError(_failure(err), traceback.format_exc()) from None
    finally:
        _release_pools()


class _WorkerError(Exception):
    """An analysis's error in a worker, with its traceback as text."""

    def __init__(self, failure: str, trace: str):
        super().__init__(failure, trace)
        self.failure, self.trace = failure, trace

    def __str__(self) -> str:
        return self.failure


def _release_pools() -> None:
    """Stop joblib's reusable worker processes (the latent-class starts use them): left
    idle they keep this worker process from exiting for joblib's five-minute timeout."""
    loky = sys.modules.get("joblib.externals.loky")
    if loky is not None:
        loky.get_reusable_executor().shutdown(wait=True)


def _run_parallel(run: _Run, pending: dict[str, AnalysisFile], workers: int, bar: Any) -> None:
    """Run the longest analysis here, with its progress bars, and the rest on
    ``workers - 1`` fresh worker processes, longest first; when this process is free again
    it takes the longest analysis no worker has started. A failed analysis is listed and
    the others go on; on an interrupt the workers are stopped and what finished is kept."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    first, *rest = sorted(pending.values(), key=lambda e: (-e.expected_seconds, e.name))
    # spawn: each worker starts clean (no threads or compiled state inherited by fork)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    relay = threading.Thread(target=_relay, args=(messages, run.say), daemon=True)
    relay.start()
    pool = ProcessPoolExecutor(
        max_workers=workers - 1,
        mp_context=context,
        initializer=_start_worker,
        initargs=(messages,),
    )
    futures: dict[Any, AnalysisFile] = {}
    collected: set[str] = set()

    def collect(only_done: bool) -> None:
        for future, entry in futures.items():
            if entry.name in collected or future.cancelled() or (only_done and not future.done()):
                continue
            collected.add(entry.name)
            try:
                result = future.result()
            except _WorkerError as err:
                run.failures[entry.name] = err.failure
                _discard(run.partial, entry.name)
                (run.partial / f".{entry.name}.error.txt").write_text(err.trace, encoding="utf-8")
                run.say(f"[{entry.name}] failed: {err.failure}")
                continue
            except Exception as err:  # noqa: BLE001 - a worker that died (killed, out of memory)
                run.failed(entry.name, err, traceback.format_exc())
                continue
            run.kept(entry.name, result)

    try:
        futures = {
            pool.submit(
                _run_in_worker,
                e,
                _work_folder(run.partial, e.name),
                run.seed,
                run.fast,
                run.study,
                run.data,
                run.checked,
                run.returns,
                run.store,
            ): e
            for e in rest
        }
        for future in futures:
            future.add_done_callback(lambda f: f.cancelled() or bar.update())
        here = [first]
        while here:
            entry = here.pop()
            run.here(entry)
            bar.update()
            collect(only_done=True)  # keep what the workers finished meanwhile
            # then the longest analysis no worker has started yet, if any
            here = next(([e] for f, e in futures.items() if not f.cancelled() and f.cancel()), [])
        collect(only_done=False)
    except BaseException:
        # an interrupt: keep what finished, stop the workers, leave the rest
        for future in futures:
            future.cancel()
        collect(only_done=True)
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
