"""Compile the methods paper (``paper/paper.typ``) from a results folder with typst.

The paper reads every number, table and figure from the results folder and cites its
sources from ``paper/references.bib``; this module only checks that the folder is complete
and runs the typst compiler (the ``typst`` package from PyPI: no TeX, no network). It tells
the paper which analyses the folder holds (typst cannot ask whether a file exists), so a
section whose analysis was not run says so. The PDF's timestamp is fixed, so the same
results give the same PDF.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from lacstats.errors import LacstatsError

__all__ = ["REQUIRED", "build"]

#: Analyses whose results the paper reads.
REQUIRED = (
    "calibrated_sample",
    "sample_design",
    "risk_cost",
    "authority_effects",
    "cohorts",
    "sufficiency",
    "sensitivity",
    "cost_calculator",
    "savings",
    "projection",
)
#: Analyses the paper reports when their results are there, and says were not run when not.
OPTIONAL = ("national",)
_EPOCH = dt.datetime(2019, 10, 1, tzinfo=dt.UTC)  # the project's October 2019 circulation


def source() -> Path:
    """``paper/paper.typ`` beside the package (a source checkout) or in the working dir."""
    here = Path(__file__).resolve().parents[1] / "paper" / "paper.typ"
    return here if here.is_file() else Path.cwd() / "paper" / "paper.typ"


def build(
    results: str | os.PathLike[str] = "results",
    out: str | os.PathLike[str] | None = None,
    typ: str | os.PathLike[str] | None = None,
) -> Path:
    """Compile the paper from ``results`` into ``out`` (default ``paper/paper.pdf``)."""
    import typst

    results = Path(results).resolve()
    typ = Path(typ).resolve() if typ else source().resolve()
    if not typ.is_file():
        raise LacstatsError(f"no paper source at {typ}")
    missing = [name for name in REQUIRED if not (results / name / "numbers.json").is_file()]
    if not (results / "manifest.json").is_file() or missing:
        raise LacstatsError(
            f"results folder {results} is incomplete (missing: "
            f"{', '.join(missing) or 'manifest.json'}); run `lacstats reproduce` first"
        )
    out = Path(out).resolve() if out else typ.with_suffix(".pdf")
    root = Path(os.path.commonpath([typ.parent, results]))
    present = [
        name for name in (*REQUIRED, *OPTIONAL) if (results / name / "numbers.json").is_file()
    ]
    try:
        typst.compile(
            str(typ),
            output=str(out),
            root=str(root),
            sys_inputs={
                "results": results.relative_to(root).as_posix(),
                "analyses": ",".join(present),
            },
            timestamp=_EPOCH,
        )
    except typst.TypstError as error:  # a figure missing, a key not in the results
        raise LacstatsError(f"the paper does not compile from {results}: {error}") from None
    return out
