"""Compile the paper of a results folder with typst: the methods paper or a study's report.

Two templates read the same results folder: ``paper/paper.typ``, the methods paper of the
seed study (the South East project on its calibrated synthetic sample, compared with the
packaged published figures), and ``paper/study.typ``, the report of any other run (another
region's study, the South East study on an authority's own table, a run of some analyses
only). :func:`template` chooses between them from the run's manifest. Both read every
number, table and figure from the results folder and cite their sources from
``paper/references.bib``; this module only checks that the folder is complete and runs the
typst compiler (the ``typst`` package from PyPI: no TeX, no network). It tells the paper
which analyses the folder holds (typst cannot ask whether a file exists), so a section
whose analysis was not run is left out or says so. The PDF's timestamp is fixed, so the
same results give the same PDF.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from lacstats import datasets
from lacstats.errors import LacstatsError

__all__ = [
    "REQUIRED",
    "build",
    "is_seed_run",
    "source",
    "suppressed_findings",
    "template",
    "typst_inputs",
]

#: The analyses whose results the methods paper (``paper.typ``) reads, and those it
#: reports when their results are there and says were not run when not: read from the
#: analyses' declarations (``paper="required"`` or ``"optional"``; :mod:`lacstats.analysis`),
#: in the report's order. ``REQUIRED`` and ``OPTIONAL`` are computed when first asked for.
REQUIRED: tuple[str, ...]
OPTIONAL: tuple[str, ...]
_KINDS = {"REQUIRED": "required", "OPTIONAL": "optional"}


def __getattr__(name: str) -> tuple[str, ...]:
    if name in _KINDS:
        from lacstats.analysis import paper_analyses

        return paper_analyses(_KINDS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The templates: the methods paper of the seed run, and the report of any other run.
SEED, STUDY = "paper.typ", "study.typ"
_EPOCH = dt.datetime(2019, 10, 1, tzinfo=dt.UTC)  # the project's October 2019 circulation


def _required() -> tuple[str, ...]:
    return __getattr__("REQUIRED")


def _optional() -> tuple[str, ...]:
    return __getattr__("OPTIONAL")


def source(name: str = SEED) -> Path:
    """``paper/<name>`` beside the package (a source checkout) or in the working dir.

    Examples
    --------
    >>> from lacstats import paper
    >>> paper.source().name, paper.source("study.typ").name
    ('paper.typ', 'study.typ')
    """
    here = Path(__file__).resolve().parents[1] / "paper" / name
    return here if here.is_file() else Path.cwd() / "paper" / name


def _manifest(results: Path) -> dict[str, Any]:
    path = results / "manifest.json"
    if not path.is_file():
        raise LacstatsError(
            f"results folder {results} is incomplete (missing: manifest.json); run "
            "`lacstats reproduce` first"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise LacstatsError(f"{path}: not a readable manifest ({err})") from None
    if not isinstance(manifest.get("analyses"), dict) or "study" not in manifest:
        raise LacstatsError(
            f"{path}: not the manifest of a `lacstats reproduce` run of a study; run it again"
        )
    return manifest


def _present(results: Path, manifest: dict[str, Any]) -> list[str]:
    """The analyses whose results the folder holds, in the paper's order."""
    order = (*_required(), *_optional())
    names = sorted(
        {*manifest["analyses"], *_optional()},
        key=lambda n: (order.index(n) if n in order else len(order), n),
    )
    return [name for name in names if (results / name / "numbers.json").is_file()]


#: The units of findings.csv that count children (or their cases): 1 to 4 is suppressed.
_PEOPLE = ("children", "cases")


def suppressed_findings(findings: Any) -> list[str]:
    """The rows of ``findings.csv`` (a DataFrame) the paper shows as ``c``: a count of
    children from 1 to 4, published or recomputed; in a breakdown by setting
    (``<figure>.by_setting.<type>.<setting>.<measure>``), every figure of a setting whose
    children are suppressed (their costs would show one child's cost), and, where the
    breakdown's total (``<figure>.total.<type>.children``) would give a lone suppressed
    setting back by subtraction, the smallest other setting too
    (:func:`lacstats.disclosure.suppress_small_counts`, the DfE's rule).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import paper
    >>> rows = pd.DataFrame({
    ...     "finding": ["g.by_setting.County.own.children", "g.by_setting.County.own.mean", "g.by_setting.County.other.children", "g.by_setting.County.other.mean", "g.by_setting.County.private.children", "g.total.County.children", "g.none_scored_high"],
    ...     "unit": ["children", "GBP per week", "children", "GBP per week", "children", "children", "children"],
    ...     "published": ["5", "4818", "1", "5550", "90", "96", "2"],
    ...     "reproduced": ["5", "4818", "1", "5550", "90", "96", "2"],
    ... })
    >>> paper.suppressed_findings(rows)
    ['g.by_setting.County.other.children', 'g.by_setting.County.other.mean', 'g.by_setting.County.own.children', 'g.by_setting.County.own.mean', 'g.none_scored_high']
    """
    import re

    import pandas as pd

    from lacstats.disclosure import suppress_small_counts

    def small(value: object) -> bool:
        text = str(value).strip()
        return text.isdigit() and 1 <= int(text) <= 4

    people = findings["unit"].isin(_PEOPLE)
    hidden = set(
        findings.loc[
            people & (findings["published"].map(small) | findings["reproduced"].map(small)),
            "finding",
        ]
    )
    pattern = re.compile(
        r"^(?P<figure>.+)\.by_setting\.(?P<type>[^.]+)\.(?P<setting>[^.]+)\.(?P<measure>[^.]+)$"
    )
    parts = findings["finding"].str.extract(pattern)
    breakdown = findings.assign(**parts).dropna(subset=["setting"])
    for (figure, kind), group in breakdown.groupby(["figure", "type"], sort=True):
        counts = group[group["measure"] == "children"]
        total_key = f"{figure}.total.{kind}.children"
        totals = findings.loc[findings["finding"] == total_key, "published"]
        settings = list(counts["setting"])
        numbers = [float(n) for n in pd.to_numeric(counts["published"])]
        if not totals.empty:  # the breakdown's total row: never suppressed itself
            settings.append("total")
            numbers.append(float(totals.iloc[0]))
        table = pd.DataFrame({"setting": settings, "n": numbers})
        marked = suppress_small_counts(table, "n", total=table["setting"].eq("total"))
        gone = set(marked.loc[marked["suppressed"], "setting"])
        hidden |= set(group.loc[group["setting"].isin(gone), "finding"])
    return sorted(hidden)


def is_seed_run(manifest: dict[str, Any]) -> bool:
    """Whether a run's manifest is of the seed study: the calibrated synthetic South East
    sample compared with the packaged published figures (what ``paper.typ`` is written for).

    Examples
    --------
    >>> from lacstats import datasets, paper
    >>> packaged = str(datasets.data_path("published_findings.toml"))
    >>> paper.is_seed_run({"study": {"calibrated": True, "published": packaged}})
    True
    >>> paper.is_seed_run({"study": {"calibrated": False, "published": None}})
    False
    """
    study = manifest.get("study", {})
    published = study.get("published")
    packaged = Path(str(datasets.data_path("published_findings.toml"))).resolve()
    return (
        bool(study.get("calibrated"))
        and published is not None
        and (Path(published).resolve() == packaged)
    )


def template(results: str | os.PathLike[str] = "results") -> Path:
    """The template for ``results``: ``paper.typ`` for a complete run of the seed study,
    ``study.typ`` for any other run.

    Examples
    --------
    >>> import json
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import paper
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "manifest.json").write_text(json.dumps({"study": {"calibrated": False}, "analyses": {}}))
    ...     print(paper.template(folder).name)
    ...
    study.typ
    """
    results = Path(results).resolve()
    manifest = _manifest(results)
    present = _present(results, manifest)
    seed = is_seed_run(manifest) and all(name in present for name in _required())
    return source(SEED if seed else STUDY)


def _suppressed(results: Path) -> list[str]:
    """:func:`suppressed_findings` of the folder's findings.csv (none without one)."""
    import pandas as pd

    path = results / "findings.csv"
    if not path.is_file():
        return []
    findings = pd.read_csv(path, dtype=str, keep_default_na=False)
    return suppressed_findings(findings) if len(findings) else []


def typst_inputs(
    results: str | os.PathLike[str], typ: str | os.PathLike[str]
) -> tuple[Path, dict[str, str]]:
    """The root folder and ``sys.inputs`` typst compiles ``typ`` with for ``results``: the
    results folder (relative to the root), the analyses it holds and the findings shown as
    ``c`` (:func:`suppressed_findings`). ``typst query`` takes the same, to read the
    compiled document's elements (tests/test_paper_compiled.py).

    Examples
    --------
    >>> import json
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import paper
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "manifest.json").write_text(json.dumps({"study": {}, "analyses": {}}))
    ...     root, inputs = paper.typst_inputs(folder, paper.source())
    ...
    >>> sorted(inputs)
    ['analyses', 'results', 'suppressed']
    """
    results = Path(results).resolve()
    typ = Path(typ).resolve()
    present = _present(results, _manifest(results))
    root = Path(os.path.commonpath([typ.parent, results]))
    return root, {
        "results": results.relative_to(root).as_posix(),
        "analyses": ",".join(present),
        "suppressed": ",".join(_suppressed(results)),
    }


def build(
    results: str | os.PathLike[str] = "results",
    out: str | os.PathLike[str] | None = None,
    typ: str | os.PathLike[str] | None = None,
) -> Path:
    """Compile the paper of ``results`` into ``out`` (default ``paper/paper.pdf``).

    ``typ`` is the template (default :func:`template`: the methods paper for the seed run,
    the study report for any other).

    Examples
    --------
    >>> import tempfile
    >>> from lacstats import LacstatsError, paper
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         paper.build(results=empty)
    ...     except LacstatsError as error:
    ...         print(str(error).split("(")[0].replace(empty, "<folder>"))
    ...
    results folder <folder> is incomplete
    """
    import typst

    results = Path(results).resolve()
    manifest = _manifest(results)
    present = _present(results, manifest)
    typ = Path(typ).resolve() if typ else template(results).resolve()
    if not typ.is_file():
        raise LacstatsError(f"no paper source at {typ}")
    missing = [name for name in _required() if name not in present]
    if typ.name == SEED and missing:
        raise LacstatsError(
            f"results folder {results} is incomplete for the methods paper (missing: "
            f"{', '.join(missing)}); run `lacstats reproduce` first"
        )
    if not present:
        raise LacstatsError(
            f"results folder {results} is incomplete (no analysis has results); run "
            "`lacstats reproduce` first"
        )
    out = Path(out).resolve() if out else source(SEED).with_suffix(".pdf")
    root, inputs = typst_inputs(results, typ)
    try:
        typst.compile(
            str(typ), output=str(out), root=str(root), sys_inputs=inputs, timestamp=_EPOCH
        )
    except typst.TypstError as error:  # a figure missing, a key not in the results
        raise LacstatsError(f"the paper does not compile from {results}: {error}") from None
    return out
