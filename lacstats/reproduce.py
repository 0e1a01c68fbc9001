"""The runner behind ``lacstats reproduce``: every script in ``analyses/``, one folder each.

An analysis is a module in ``analyses/`` with ``NAME`` (its results folder), ``TITLE`` and
``run(ctx: Context) -> None``. It writes only through ``ctx``: ``ctx.numbers(...)`` for
the figures the paper cites (``numbers.json``), ``ctx.table(name, frame)`` for tidy CSV
tables, ``ctx.figure(name, fig)`` for PNG and SVG figures and ``ctx.findings(frame)`` for
rows of ``results/findings.csv``. The whole results folder is built in a temporary
directory and moved into place only when every analysis has finished, so an interrupted
run leaves the previous results intact.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from lacstats import provenance
from lacstats.errors import LacstatsError
from lacstats.io import atomic_directory

__all__ = ["Context", "RunSummary", "discover", "run_all"]

FINDINGS_COLUMNS = [
    "finding",
    "definition",
    "unit",
    "published",
    "reproduced",
    "rule",
    "match",
    "source",
    "analysis",
]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return (
        json.dumps(data, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False)
        + "\n"
    )


@dataclass
class Context:
    """What an analysis gets: its folder, the seed, and writers that record what it made."""

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

    def numbers(self, **figures: Any) -> None:
        """Record figures the paper cites: ``name=(value, unit)`` or ``name=value``."""
        for key, figure in figures.items():
            value, unit = figure if isinstance(figure, tuple) else (figure, "")
            self._numbers[key] = {"value": value, "unit": unit}

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
class RunSummary:
    """What a run did: per analysis, time taken, findings matched, diagnostics passed."""

    out: Path
    table: pd.DataFrame
    findings: pd.DataFrame
    seconds: float

    def summary(self) -> str:
        matched = int(self.findings["match"].sum()) if len(self.findings) else 0
        lines = [
            self.table.to_string(index=False),
            (
                f"findings matched: {matched} of {len(self.findings)}; "
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


def discover(folder: Path | None = None) -> dict[str, ModuleType]:
    """Load every analysis module, keyed by its ``NAME``, in file-name order."""
    folder = folder or analyses_folder()
    if not folder.is_dir():
        raise LacstatsError(f"no analyses folder at {folder}")
    found: dict[str, ModuleType] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"lacstats_analysis_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "run") or not hasattr(module, "NAME"):
            continue
        found[module.NAME] = module
    return found


def run_all(
    out: str | Path = "results",
    *,
    seed: int = 2019,
    fast: bool = False,
    only: list[str] | None = None,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
    bars: bool = False,
) -> RunSummary:
    """Run the analyses into ``out`` (atomically) and write the manifests and findings."""
    modules = discover(folder)
    if only:
        unknown = sorted(set(only) - set(modules))
        if unknown:
            raise LacstatsError(f"unknown analyses {unknown}; available: {sorted(modules)}")
        selected = {name: modules[name] for name in only}
    else:
        selected = {n: m for n, m in modules.items() if not getattr(m, "ON_DEMAND", False)}
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rows, findings, manifests = [], [], {}
    out = Path(out)
    with atomic_directory(out) as staging:
        from tqdm import tqdm

        analyses = tqdm(
            selected.items(),
            total=len(selected),
            desc="analyses",
            unit="analysis",
            disable=not bars,
            leave=False,
        )
        for name, module in analyses:
            folder_ = staging / name
            folder_.mkdir()
            ctx = Context(name=name, folder=folder_, seed=seed, fast=fast, progress=say, bars=bars)
            say(f"[{name}] {getattr(module, 'TITLE', '')}")
            t0 = time.perf_counter()
            module.run(ctx)
            seconds = time.perf_counter() - t0
            (folder_ / "numbers.json").write_text(dumps(ctx._numbers), encoding="utf-8")
            manifest = {
                "analysis": name,
                "title": getattr(module, "TITLE", ""),
                "seed": seed,
                "fast": fast,
                "options": ctx.options,
                "inputs": ctx.inputs,
                "outputs": sorted({*ctx.outputs, "numbers.json"}),
                "diagnostics": ctx.diagnostics,
                "wall_seconds": round(seconds, 3),
            }
            (folder_ / "manifest.json").write_text(dumps(manifest), encoding="utf-8")
            manifests[name] = manifest
            found = pd.concat(ctx._findings) if ctx._findings else pd.DataFrame()
            findings.append(found)
            rows.append(
                {
                    "analysis": name,
                    "seconds": round(seconds, 1),
                    "findings": len(found),
                    "matched": int(found["match"].sum()) if len(found) else 0,
                    "diagnostics": len(ctx.diagnostics),
                    "diagnostics_passed": sum(ctx.diagnostics.values()),
                }
            )
            say(f"[{name}] done in {seconds:.1f} s")
        all_findings = (
            pd.concat(findings, ignore_index=True)
            if any(len(f) for f in findings)
            else pd.DataFrame(columns=FINDINGS_COLUMNS)
        )
        all_findings = all_findings.reindex(columns=FINDINGS_COLUMNS)
        all_findings.to_csv(staging / "findings.csv", index=False, lineterminator="\n")
        total = time.perf_counter() - started
        top = {
            **provenance.environment(),
            "options": {"seed": seed, "fast": fast, "only": only or sorted(selected)},
            "fast_note": "MCMC and simulations shortened for a smoke test" if fast else None,
            "packaged_data_sha256": provenance.packaged_data_hashes(),
            "analyses": manifests,
            "wall_seconds": round(total, 3),
        }
        (staging / "manifest.json").write_text(dumps(top), encoding="utf-8")
    return RunSummary(out=out, table=pd.DataFrame(rows), findings=all_findings, seconds=total)
