"""Analyses as plug-ins: what an analysis declares, what its data must hold, what it gets.

An analysis is a file in ``analyses/`` with a declaration, ``ANALYSIS``, and a function
``run(ctx: Context) -> None``::

    from lacstats import schema
    from lacstats.analysis import CASES, Analysis, Columns, Context, Positive

    ANALYSIS = Analysis(
        name="risk_cost",  # its results folder
        title="Risk score and weekly cost: correlations and four models",
        summary="correlations and four models of cost on risk",  # the README's table
        evidence="synthetic_check",  # the usual kind of its figures (lacstats.evidence)
        obtained="recomputed_from_rows",
        reads=(CASES,),  # the run's case table
        requires=(
            Columns(*schema.RISK_FACTORS, what="risk scores"),
            Positive("weekly_cost", because="the models of cost are fitted to its logarithm"),
        ),
        figures=("risk_cost",),  # the figures it may publish
        paper="required",  # the methods paper reads its results
        order=3,  # its place in the README's table and the paper's list
    )


    def run(ctx: Context) -> None:
        cases = ctx.cases()  # the case table without the cases it cannot use
        ...

The runner (:mod:`lacstats.reproduce`), the paper (:data:`lacstats.paper.REQUIRED`), the
tests and the README's table of analyses read these declarations, so a new analysis is one
file. The declaration is read without running the file (:func:`catalogue`): its expression
may use only this module's names, :mod:`lacstats.schema` and :mod:`lacstats.cohorts`, so a
parallel run's parent process never imports what the analyses import.

**Requirements** say what an analysis needs of the case table, checked for every analysis
before the first one starts (:func:`check`): :class:`Columns` (present and not all empty;
otherwise the analysis, or the named ``part`` of it, does not run, and says why),
:class:`Positive` (a lognormal or gamma model needs positive values: cases with 0 are left
out of that model, counted and reported beside it), :class:`InFrame` (ages outside the
study's frame are left out) and :class:`Authorities` (a model across authorities needs
several). Every case an analysis cannot use is listed, for the analyst, by case id, column,
value and analysis (:meth:`RequirementsCheck.unusable`); results hold only the counts.

**The context** is all an analysis gets: its folder, the seed, the study, the case table
(read and validated once per run), the synthetic generator's truth when the data are
synthetic, and writers. An analysis writes only through it: :meth:`Context.numbers` for
the figures the paper cites, :meth:`Context.table` for CSV tables, :meth:`Context.figure`
for figures, :meth:`Context.text` for text files and :meth:`Context.findings` for rows of
``findings.csv``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from lacstats import cells
from lacstats.errors import LacstatsError
from lacstats.evidence import EVIDENCE, OBTAINED
from lacstats.results import Result, jsonable
from lacstats.study import Study

__all__ = [
    "CASES",
    "RETURNS",
    "Analysis",
    "AnalysisFile",
    "AnalysisSkipped",
    "Authorities",
    "CaseData",
    "Columns",
    "Context",
    "EveryAuthority",
    "InFrame",
    "Positive",
    "Requirement",
    "RequirementsCheck",
    "Verdict",
    "analyses_folder",
    "case_data",
    "catalogue",
    "check",
    "paper_analyses",
    "readme_table",
    "returns_data",
]

#: An input of a run an analysis may read beside the packaged data: the case table. A
#: resumed run reuses an analysis only if what it reads is unchanged.
CASES = "cases"
#: An input of a run an analysis may read: the study's own SSDA903 returns.
RETURNS = "ssda903"
_READS = (CASES, RETURNS)
#: Whether the methods paper needs an analysis's results (``required``), reports them when
#: they are there (``optional``), or does not read them (``no``).
_PAPER = ("required", "optional", "no")
#: What a figure of an analysis that declares no kind is recorded as (a test fails on it).
UNCLASSIFIED = "unclassified"
#: The key of a whole analysis in ``not_run`` and ``left_out``.
WHOLE = "analysis"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: The fields of a study, which ``study_reads`` may name beside its methods.
_FIELDS = frozenset(f.name for f in dataclasses.fields(Study))


# ---------------------------------------------------------------------------- requirements
@dataclass(frozen=True)
class Requirement:
    """What an analysis, or a ``part`` of it (None: the whole analysis), needs of the case
    table. Subclasses say what they check (:meth:`describe`) and judge a table
    (:meth:`judge`).

    Examples
    --------
    >>> from lacstats.analysis import Columns, Requirement
    >>> needs = Columns("needs_met", part="needs met")
    >>> isinstance(needs, Requirement), needs.part, needs.describe()
    (True, 'needs met', 'columns needs_met')
    """

    part: str | None = None

    def describe(self) -> str:
        raise NotImplementedError

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        """Whether the part can run on ``cases``, the reason (why not, or what is done with
        the cases it cannot use; "" if every case is usable) and those cases (columns
        ``row``, ``case_id``, ``column``, ``value``)."""
        raise NotImplementedError


def _left_out(cases: pd.DataFrame, column: str, mask: Any) -> pd.DataFrame:
    """The rows of ``cases`` under ``mask``: 1-based row, case id, column and value."""
    rows = cases.loc[pd.Series(mask, index=cases.index).fillna(False).astype(bool)]
    return pd.DataFrame(
        {
            "row": [cases.index.get_loc(i) + 1 for i in rows.index],
            "case_id": rows["case_id"].astype(str).to_numpy(),
            "column": column,
            "value": rows[column].astype(object).to_numpy(),
        }
    )


def _nothing() -> pd.DataFrame:
    return pd.DataFrame(columns=["row", "case_id", "column", "value"])


def _cases(n: int) -> str:
    return f"{n:,} case{'' if n == 1 else 's'}"


@dataclass(frozen=True, init=False)
class Columns(Requirement):
    """Columns the analysis (or ``part``) needs: present and not entirely empty; otherwise
    it does not run, and says "the data have no ..." (``what`` names the columns as a
    group when all of them are absent).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import study
    >>> from lacstats.analysis import Columns
    >>> needs = Columns("distance_miles", part="placement far from home")
    >>> cases = pd.DataFrame({"case_id": ["A1"], "distance_miles": [None]})
    >>> needs.judge(cases, study.south_east())[:2]
    (False, 'the data have no distance_miles')
    """

    columns: tuple[str, ...] = ()
    what: str | None = None

    def __init__(self, *columns: str, part: str | None = None, what: str | None = None):
        if not columns or not all(isinstance(c, str) for c in columns):
            raise LacstatsError("Columns(...) names one or more columns")
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "part", part)
        object.__setattr__(self, "what", what)

    def describe(self) -> str:
        return f"columns {', '.join(self.columns)}"

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        absent = [c for c in self.columns if c not in cases or cases[c].isna().all()]
        if not absent:
            return True, "", _nothing()
        named = self.what if self.what and len(absent) == len(self.columns) else None
        return False, f"the data have no {named or ', '.join(absent)}", _nothing()


@dataclass(frozen=True, init=False)
class Positive(Requirement):
    """A column whose values must be above 0 (a lognormal or gamma model of cost): cases
    with 0 (a child placed with parents at no cost is a real case) are left out of the
    analysis or ``part``, counted and reported beside it; ``because`` says why.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import study
    >>> from lacstats.analysis import Positive
    >>> needs = Positive("weekly_cost", because="a lognormal model needs positive costs")
    >>> cases = pd.DataFrame({"case_id": ["A1", "A2"], "weekly_cost": [0.0, 950.0]})
    >>> runs, reason, cases_left_out = needs.judge(cases, study.south_east())
    >>> runs, reason
    (True, '1 case with weekly_cost 0 or less left out: a lognormal model needs positive costs')
    >>> cases_left_out[["case_id", "value"]].to_dict("records")
    [{'case_id': 'A1', 'value': 0.0}]
    """

    column: str = ""
    because: str = ""

    def __init__(self, column: str, *, part: str | None = None, because: str = ""):
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "part", part)
        object.__setattr__(self, "because", because)

    def describe(self) -> str:
        return f"{self.column} above 0"

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        if self.column not in cases or cases[self.column].isna().all():
            return False, f"the data have no {self.column}", _nothing()
        values = pd.to_numeric(cases[self.column], errors="coerce")
        bad = values.notna() & (values <= 0)
        n = int(bad.sum())
        if n == 0:
            return True, "", _nothing()
        why = f": {self.because}" if self.because else ""
        if n == int(values.notna().sum()):
            return (
                False,
                f"no case has {self.column} above 0{why}",
                _left_out(cases, self.column, bad),
            )
        reason = f"{_cases(n)} with {self.column} 0 or less left out{why}"
        return True, reason, _left_out(cases, self.column, bad)


@dataclass(frozen=True, init=False)
class InFrame(Requirement):
    """Ages within the study's frame (:attr:`lacstats.study.Study.ages`; a frame of
    children aged 10 and over counts ages 10-17): a case outside it is not of the
    population the design describes, and is left out of the analysis or ``part``. A
    missing age is unknown, not outside.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import study
    >>> from lacstats.analysis import InFrame
    >>> cases = pd.DataFrame({"case_id": ["A1", "A2", "A3"], "age": [9, 12, None]})
    >>> InFrame("age").judge(cases, study.south_east())[1]
    "1 case with age outside the frame's 10-17 left out: the frame is children looked after aged 10 and over at 31 March 2017 (DfE 2017 release)"
    """

    column: str = "age"

    def __init__(self, column: str = "age", *, part: str | None = None):
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "part", part)

    def describe(self) -> str:
        return f"{self.column} within the frame's ages"

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        if self.column not in cases:
            return True, "", _nothing()
        low, high = study.ages
        values = pd.to_numeric(cases[self.column], errors="coerce")
        bad = values.notna() & ((values < low) | (values > high))
        n = int(bad.sum())
        if n == 0:
            return True, "", _nothing()
        why = f"the frame is {study.frame_description}"
        if n == len(cases):
            return (
                False,
                f"no case's {self.column} is within {low}-{high}: {why}",
                _left_out(cases, self.column, bad),
            )
        reason = f"{_cases(n)} with {self.column} outside the frame's {low}-{high} left out: {why}"
        return True, reason, _left_out(cases, self.column, bad)


@dataclass(frozen=True, init=False)
class Authorities(Requirement):
    """At least ``minimum`` authorities with cases (a model across authorities).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import study
    >>> from lacstats.analysis import Authorities
    >>> cases = pd.DataFrame({"case_id": ["A1", "A2"], "authority": ["Kent", "Medway"]})
    >>> Authorities(3, because="a hierarchical model needs three").judge(cases, study.south_east())[:2]
    (False, 'a hierarchical model needs three (the data have 2)')
    """

    minimum: int = 1
    because: str = ""

    def __init__(self, minimum: int, *, part: str | None = None, because: str = ""):
        object.__setattr__(self, "minimum", int(minimum))
        object.__setattr__(self, "part", part)
        object.__setattr__(self, "because", because)

    def describe(self) -> str:
        return f"at least {self.minimum} authorities"

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        n = int(cases["authority"].nunique())
        if n >= self.minimum:
            return True, "", _nothing()
        why = self.because or f"it needs at least {self.minimum} authorities"
        return False, f"{why} (the data have {n})", _nothing()


@dataclass(frozen=True, init=False)
class EveryAuthority(Requirement):
    """Cases from every authority of the study (a simulation of its design resamples each
    authority's cases): an authority without any is left out of the analysis or
    ``part``, which says so; with none at all it does not run.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import study
    >>> from lacstats.analysis import EveryAuthority
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> cases = pd.DataFrame({"case_id": ["KEN-001"], "authority": ["Kent"]})
    >>> EveryAuthority(part="selection").judge(cases, kent_medway)[:2]
    (True, 'the data have no cases from Medway: it is left out, and the design and population are those of the other 1 authority')
    """

    def __init__(self, *, part: str | None = None):
        object.__setattr__(self, "part", part)

    def describe(self) -> str:
        return "cases from every authority of the study"

    def judge(self, cases: pd.DataFrame, study: Study) -> tuple[bool, str, pd.DataFrame]:
        present = set(cases["authority"].astype(str))
        absent = [a for a in study.authorities if a not in present]
        if not absent:
            return True, "", _nothing()
        others = len(study.authorities) - len(absent)
        if others == 0:
            return False, "the data have no cases from any authority of the study", _nothing()
        word = "it is" if len(absent) == 1 else "they are"
        reason = (
            f"the data have no cases from {', '.join(absent)}: {word} left out, and the "
            f"design and population are those of the other {others} "
            f"authorit{'y' if others == 1 else 'ies'}"
        )
        return True, reason, _nothing()


# ----------------------------------------------------------------------------- declaration
@dataclass(frozen=True)
class Analysis:
    """The declaration of an analysis (see the module docstring).

    Examples
    --------
    >>> from lacstats.analysis import CASES, Analysis, Columns
    >>> declared = Analysis(name="far", title="Far from home", reads=(CASES,), requires=(Columns("distance_miles"),))
    >>> declared.uses_cases, declared.parts
    (True, ())
    """

    #: its results folder, a lower-case identifier
    name: str
    title: str
    #: one line: what it does (the README's table of analyses)
    summary: str = ""
    #: the usual kind of evidence of its figures and how they are obtained
    #: (:mod:`lacstats.evidence`); a figure may say otherwise
    evidence: str | None = None
    obtained: str | None = None
    #: the run's inputs it reads: :data:`CASES`, :data:`RETURNS`
    reads: tuple[str, ...] = ()
    #: what it needs of the case table
    requires: tuple[Requirement, ...] = ()
    #: the figures it may publish (``ctx.figure(name, ...)``); None: not declared
    figures: tuple[str, ...] | None = ()
    #: whether the methods paper needs its results: "required", "optional" or "no"
    paper: str = "no"
    #: its place in the README's table and the paper's list of analyses
    order: int = 100
    #: seconds it takes (on two cores): the longest analyses start first
    expected_seconds: float = 1.0
    #: run only when named (``--only``)
    on_demand: bool = False
    #: the attributes of the study it reads (``("region", "published_figures")``), when
    #: it reads nothing else of the study and neither the case table nor the returns:
    #: its results are then computed once and kept in the cache (:mod:`lacstats.cache`)
    #: under the key of its file, the code, the packaged data, the seed, the options and
    #: these attributes' values; None: it is computed in every run
    study_reads: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"analysis {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise LacstatsError(f"{where}: a name is a lower-case identifier")
        if self.paper not in _PAPER:
            raise LacstatsError(f"{where}: paper must be one of {', '.join(_PAPER)}")
        if self.evidence is not None and self.evidence not in EVIDENCE:
            raise LacstatsError(f"{where}: evidence must be one of {', '.join(EVIDENCE)}")
        if self.obtained is not None and self.obtained not in OBTAINED:
            raise LacstatsError(f"{where}: obtained must be one of {', '.join(OBTAINED)}")
        unknown = [r for r in self.reads if r not in _READS]
        if unknown:
            raise LacstatsError(f"{where}: reads {unknown}; inputs: {', '.join(_READS)}")
        for requirement in self.requires:
            if not isinstance(requirement, Requirement):
                raise LacstatsError(f"{where}: requires holds {requirement!r}, not a requirement")
        if self.requires and CASES not in self.reads:
            raise LacstatsError(
                f"{where}: declares requirements of the case table it does not read"
            )
        object.__setattr__(self, "reads", tuple(self.reads))
        object.__setattr__(self, "requires", tuple(self.requires))
        if self.study_reads is not None:
            object.__setattr__(self, "study_reads", tuple(self.study_reads))
            if self.reads:
                raise LacstatsError(
                    f"{where}: declares study_reads (computed once, kept in the cache) but "
                    f"reads {', '.join(self.reads)}, which differ from one study to another"
                )
            unknown = [n for n in self.study_reads if not hasattr(Study, n) and n not in _FIELDS]
            if unknown:
                raise LacstatsError(
                    f"{where}: study_reads names {unknown}, which a study does not have"
                )
        if self.figures is not None:
            object.__setattr__(self, "figures", tuple(self.figures))

    @property
    def uses_cases(self) -> bool:
        """Whether it reads the run's case table."""
        return CASES in self.reads

    @property
    def computed_once(self) -> bool:
        """Whether its results are kept in the cache and reused (``study_reads``)."""
        return self.study_reads is not None

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts its requirements name, in order."""
        return tuple(dict.fromkeys(r.part for r in self.requires if r.part is not None))


@dataclass(frozen=True)
class AnalysisFile:
    """An analysis file and its declaration, read without running the file.

    Examples
    --------
    >>> from lacstats import analysis
    >>> entry = analysis.catalogue()["savings"]
    >>> entry.path.name, entry.title
    ('savings.py', "Dorset's savings tables from their inputs, with timing and cost uncertainty")
    """

    path: Path
    analysis: Analysis

    @property
    def name(self) -> str:
        return self.analysis.name

    @property
    def title(self) -> str:
        return self.analysis.title

    @property
    def expected_seconds(self) -> float:
        return self.analysis.expected_seconds

    @property
    def on_demand(self) -> bool:
        return self.analysis.on_demand

    def load(self) -> ModuleType:
        """Import the file (run its top level), checking that it declares what was read."""
        spec = importlib.util.spec_from_file_location(
            f"lacstats_analysis_{self.path.stem}", self.path
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        declared = getattr(module, "ANALYSIS", None)
        if declared is not None and declared != self.analysis:
            raise LacstatsError(f"{self.path.name}: ANALYSIS differs from the declaration read")
        return module


def analyses_folder() -> Path:
    """``analyses/`` beside the package (a source checkout) or in the working directory.

    Examples
    --------
    >>> from lacstats.analysis import analyses_folder
    >>> analyses_folder().name
    'analyses'
    """
    here = Path(__file__).resolve().parents[1] / "analyses"
    return here if here.is_dir() else Path.cwd() / "analyses"


#: Legacy declarations: module-level literals (``NAME = "x"``), read when a file has no
#: ``ANALYSIS``; such an analysis declares no requirements and is taken to read the cases.
_LITERALS = ("NAME", "TITLE", "ON_DEMAND", "EXPECTED_SECONDS", "EVIDENCE", "OBTAINED")


def _declaration_names() -> dict[str, Any]:
    """What a declaration's expression may use."""
    from lacstats import cohorts, schema

    names = {name: globals()[name] for name in __all__ if name[0].isupper()}
    return {**names, "schema": schema, "cohorts": cohorts}


def _declared(path: Path) -> AnalysisFile | None:
    """The declaration of an analysis file, read from its source, or None for a file that
    is not an analysis (no ``run`` and no declaration)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    has_run = any(isinstance(n, ast.FunctionDef) and n.name == "run" for n in tree.body)
    literals: dict[str, Any] = {}
    assignments = [
        (node, node.targets[0].id)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ]
    declaration = next(
        (_evaluate(node, path) for node, target in assignments if target == "ANALYSIS"), None
    )
    for node, target in assignments if declaration is None else ():
        if target in _LITERALS:
            try:
                literals[target] = ast.literal_eval(node.value)
            except ValueError:
                raise LacstatsError(
                    f"{path.name}, line {node.lineno}: {target} must be a literal value"
                ) from None
    if declaration is None and "NAME" not in literals:
        if has_run:
            raise LacstatsError(f"{path.name}: an analysis declares ANALYSIS = Analysis(...)")
        return None
    if not has_run:
        raise LacstatsError(f"{path.name}: an analysis has a function run(ctx)")
    if declaration is None:
        declaration = Analysis(
            name=literals["NAME"],
            title=literals.get("TITLE", ""),
            evidence=literals.get("EVIDENCE"),
            obtained=literals.get("OBTAINED"),
            reads=(CASES,),
            figures=None,
            on_demand=bool(literals.get("ON_DEMAND", False)),
            expected_seconds=float(literals.get("EXPECTED_SECONDS", 1)),
        )
    return AnalysisFile(path=path, analysis=declaration)


def _evaluate(node: ast.Assign, path: Path) -> Analysis:
    expression = ast.Expression(node.value)
    code = compile(expression, str(path), "eval")
    try:
        value = eval(code, {"__builtins__": {}, **_declaration_names()})
    except NameError as err:
        raise LacstatsError(
            f"{path.name}, line {node.lineno}: ANALYSIS may use only lacstats.analysis's "
            f"names, schema and cohorts ({err})"
        ) from None
    if not isinstance(value, Analysis):
        raise LacstatsError(f"{path.name}, line {node.lineno}: ANALYSIS must be an Analysis(...)")
    return value


def catalogue(folder: Path | None = None) -> dict[str, AnalysisFile]:
    """Every analysis of ``folder`` (default :func:`analyses_folder`), keyed by name, in
    file-name order (the order of ``findings.csv`` and the manifests).

    Examples
    --------
    >>> from lacstats import analysis
    >>> found = analysis.catalogue()
    >>> found["risk_cost"].analysis.paper, found["validation_sbc"].on_demand
    ('required', True)
    """
    folder = folder or analyses_folder()
    if not folder.is_dir():
        raise LacstatsError(f"no analyses folder at {folder}")
    entries = [_declared(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    found: dict[str, AnalysisFile] = {}
    for entry in entries:
        if entry is None:
            continue
        if entry.name in found:
            raise LacstatsError(
                f"two analyses named {entry.name!r}: {found[entry.name].path.name} and "
                f"{entry.path.name}"
            )
        found[entry.name] = entry
    return found


def _report_order(found: Mapping[str, AnalysisFile]) -> list[Analysis]:
    return sorted((e.analysis for e in found.values()), key=lambda a: (a.order, a.name))


def paper_analyses(kind: str, folder: Path | None = None) -> tuple[str, ...]:
    """The analyses the methods paper requires (``kind="required"``) or reports when they
    are there (``"optional"``), in the report's order.

    Examples
    --------
    >>> from lacstats import analysis
    >>> analysis.paper_analyses("optional")
    ('national', 'study_returns')
    """
    return tuple(a.name for a in _report_order(catalogue(folder)) if a.paper == kind)


def readme_table(folder: Path | None = None) -> str:
    """The README's table of analyses, from their declarations.

    Examples
    --------
    >>> from lacstats import analysis
    >>> print(analysis.readme_table().splitlines()[2])
    | `calibrated_sample` | the synthetic sample and the published findings it reproduces |
    """
    lines = ["| analysis | what it does |", "|---|---|"]
    lines += [f"| `{a.name}` | {a.summary} |" for a in _report_order(catalogue(folder))]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ case data
@dataclass(frozen=True)
class CaseData:
    """The case table of a run, read and validated once, and the synthetic generator's
    truth when the data are synthetic (None for a user's table, whose columns are all
    data, whatever their names).

    Examples
    --------
    >>> from lacstats import analysis, study
    >>> data = analysis.case_data(study.south_east(), 2019)
    >>> len(data.cases), data.truth is not None
    (1253, True)
    """

    cases: pd.DataFrame
    #: the generator's truth (:class:`lacstats.synthetic.Truth`), or None
    truth: Any = None


def returns_data(study: Study) -> Any:
    """The study's own SSDA903 returns (``[ssda903] path``), read once and checked
    (:func:`lacstats.ssda903.read`, every problem at once), or None when the study names
    none; their authorities must be the study's.

    Examples
    --------
    >>> from lacstats import analysis, study
    >>> print(analysis.returns_data(study.south_east()))
    None
    """
    return _returns_data(study)


@lru_cache(maxsize=2)
def _returns_data(study: Study) -> Any:
    from lacstats import ssda903
    from lacstats.errors import DataError

    if not study.ssda903:
        return None
    absent = [str(p) for p in study.ssda903 if not p.exists()]
    if absent:
        where = f" (ssda903.path of {study.source})" if study.source is not None else ""
        raise DataError(
            f"no SSDA903 returns at {', '.join(absent)}{where}",
            column="ssda903",
            values=absent,
        )
    paths = list(study.ssda903)
    # one authority's own returns name no authority: the study's, when it has one
    alone = study.authorities[0] if len(study.authorities) == 1 else None
    data = ssda903.read(paths[0] if len(paths) == 1 else paths, authority=alone)
    labels = data.header.get("authority", [])
    named = {str(a) for a in labels if isinstance(a, str) and a}
    outside = sorted(named - set(study.authorities))
    if outside:
        raise DataError(
            f"the SSDA903 returns hold authorities outside the study {study.name!r}: "
            f"{', '.join(outside)}",
            column="authority",
            values=outside,
        )
    return data


def case_data(study: Study, seed: int) -> CaseData:
    """The case table of ``study``: its file (read and validated, authorities checked
    against the study's), else the calibrated South East sample or a synthetic sample of
    the study drawn from ``seed``, with its truth.

    Examples
    --------
    >>> from lacstats import analysis, study
    >>> analysis.case_data(study.south_east(), 2019).cases["authority"].nunique()
    19
    """
    return _case_data(study, seed)


@lru_cache(maxsize=4)
def _case_data(study: Study, seed: int) -> CaseData:
    from lacstats import io, synthetic
    from lacstats.errors import DataError

    if study.cases is not None:
        if not study.cases.is_file():
            where = f" (cases.path of {study.source})" if study.source is not None else ""
            raise DataError(
                f"no case table at {study.cases}{where}: the study's case data are not "
                "there yet; `lacstats collect merge --study ... --out "
                f"{study.cases.name}` writes them from the returns",
                column="cases",
                values=[str(study.cases)],
            )
        return CaseData(io.read_cases(study.cases, authorities=study.authorities))
    drawn = (
        synthetic.calibrated_sample(rng=seed)
        if study.calibrated
        else synthetic.study_sample(study, rng=seed)
    )
    return CaseData(drawn.cases, drawn.truth)


# ----------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class Verdict:
    """One requirement of one analysis judged on the case table.

    Examples
    --------
    >>> from lacstats import analysis, study, synthetic
    >>> cases = synthetic.complex_lac(rng=2019).drop(columns=["needs_met"])
    >>> checked = analysis.check(analysis.catalogue(), analysis.CaseData(cases), study.south_east())
    >>> verdict = next(v for v in checked.verdicts if not v.runs)
    >>> verdict.analysis, verdict.part, verdict.reason
    ('sample_design', 'selection outcome needs_met', 'the data have no needs_met')
    """

    analysis: str
    part: str | None
    requirement: str
    runs: bool
    #: why the part does not run, or what is done with the cases it cannot use
    reason: str
    #: the cases it cannot use: row, case_id, column, value (child-level: never written)
    left_out: pd.DataFrame = field(repr=False, compare=False)


@dataclass(frozen=True)
class RequirementsCheck(Result):
    """Every analysis's requirements judged on the case table before any analysis runs.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import analysis, study, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> cases.loc[:2, "weekly_cost"] = 0.0
    >>> found = analysis.catalogue()
    >>> checked = analysis.check(found, analysis.CaseData(cases), study.south_east())
    >>> checked.to_frame().query("cases_left_out > 0")[["analysis", "part", "cases_left_out"]]
                 analysis         part  cases_left_out
    2   authority_effects  cost models               3
    12          risk_cost     analysis               3
    >>> checked.unusable()[["case_id", "column", "value", "analyses"]].head(1)
       case_id       column  value                     analyses
    0  SE00001  weekly_cost    0.0  authority_effects, risk_cost
    """

    verdicts: tuple[Verdict, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per requirement: analysis, part, requirement, runs, cases left out,
        reason (counts only: no case id)."""
        return pd.DataFrame(
            [
                {
                    "analysis": v.analysis,
                    "part": v.part or WHOLE,
                    "requirement": v.requirement,
                    "runs": v.runs,
                    "cases_left_out": len(v.left_out),
                    "reason": v.reason,
                }
                for v in self.verdicts
            ],
            columns=["analysis", "part", "requirement", "runs", "cases_left_out", "reason"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {"requirements": jsonable(self.to_frame())}

    def _of(self, analysis: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.analysis == analysis]

    def runs(self, analysis: str, part: str | None = None) -> bool:
        """Whether ``analysis`` (or its ``part``) can run on the case table."""
        verdicts = self._of(analysis)
        whole = all(v.runs for v in verdicts if v.part is None)
        if part is None:
            return whole
        return whole and all(v.runs for v in verdicts if v.part == part)

    def not_run(self, analysis: str) -> dict[str, str]:
        """Why ``analysis``, or parts of it, cannot run: ``{"analysis": reason}`` for the
        whole, else ``{part: reason}``."""
        out: dict[str, str] = {}
        for v in self._of(analysis):
            key = v.part or WHOLE
            if not v.runs and key not in out:
                out[key] = v.reason
        return {WHOLE: out[WHOLE]} if WHOLE in out else out

    def left_out(self, analysis: str) -> dict[str, str]:
        """What is done with the cases ``analysis`` cannot use, by part."""
        out: dict[str, list[str]] = {}
        for v in self._of(analysis):
            if v.runs and v.reason and self.runs(analysis, v.part):
                out.setdefault(v.part or WHOLE, []).append(v.reason)
        return {part: "; ".join(reasons) for part, reasons in out.items()}

    def left_out_counts(self, analysis: str) -> dict[str, int]:
        """How many cases each part of ``analysis`` leaves out (a case counted once)."""
        out: dict[str, set[int]] = {}
        for v in self._of(analysis):
            if v.runs and len(v.left_out) and self.runs(analysis, v.part):
                out.setdefault(v.part or WHOLE, set()).update(v.left_out["row"].tolist())
        return {part: len(rows) for part, rows in out.items()}

    def rows_left_out(self, analysis: str, part: str | None = None) -> set[int]:
        """The 1-based rows ``analysis`` (or its ``part``) leaves out."""
        rows: set[int] = set()
        for v in self._of(analysis):
            if v.part is None or v.part == part:
                rows.update(v.left_out["row"].tolist())
        return rows

    def unusable(self) -> pd.DataFrame:
        """Every case some analysis cannot use: row, case id, column, value and the
        analyses (child-level: for the analyst, never written to results)."""
        parts = [
            v.left_out.assign(analysis=v.analysis)
            for v in self.verdicts
            if len(v.left_out) and self.runs(v.analysis, v.part)
        ]
        if not parts:
            return pd.DataFrame(columns=["row", "case_id", "column", "value", "analyses"])
        frame = pd.concat(parts, ignore_index=True)
        grouped = frame.groupby(["row", "case_id", "column"], sort=True, observed=True)
        return grouped.agg(
            value=("value", "first"),
            analyses=("analysis", lambda a: ", ".join(sorted(set(a)))),
        ).reset_index()

    def summary(self) -> str:
        lines = []
        for v in self.verdicts:
            if not v.runs:
                where = v.analysis if v.part is None else f"{v.analysis}, {v.part}"
                lines.append(f"{where}: not run: {v.reason}")
            elif v.reason and self.runs(v.analysis, v.part):
                where = v.analysis if v.part is None else f"{v.analysis}, {v.part}"
                lines.append(f"{where}: {v.reason}")
        unusable = self.unusable()
        if not lines:
            return "Every analysis's requirements of the case table are met."
        text = ["Before any analysis runs: what the case table cannot support", *lines]
        if len(unusable):
            text.append(
                f"{_cases(len(unusable))} an analysis cannot use (row, case id, column, "
                "value, analyses):"
            )
            text += [
                f"  row {r.row}: {r.case_id}, {r.column} = {r.value!r}: {r.analyses}"
                for r in unusable.itertuples()
            ]
        return "\n".join(text)


def check(
    found: Mapping[str, AnalysisFile | Analysis], data: CaseData | None, study: Study
) -> RequirementsCheck:
    """Judge every requirement of the analyses in ``found`` on the case table of ``data``,
    before any of them runs. Requirements after one that stops its part are still judged,
    so every problem is listed at once.

    Examples
    --------
    >>> from lacstats import analysis, study
    >>> se = study.south_east()
    >>> checked = analysis.check(analysis.catalogue(), analysis.case_data(se, 2019), se)
    >>> print(checked.summary())
    Every analysis's requirements of the case table are met.
    """
    verdicts = []
    for entry in found.values():
        declared = entry.analysis if isinstance(entry, AnalysisFile) else entry
        if not declared.uses_cases or data is None:
            continue
        for requirement in declared.requires:
            runs, reason, left_out = requirement.judge(data.cases, study)
            verdicts.append(
                Verdict(
                    analysis=declared.name,
                    part=requirement.part,
                    requirement=requirement.describe(),
                    runs=runs,
                    reason=reason,
                    left_out=left_out,
                )
            )
    return RequirementsCheck(tuple(verdicts))


# ------------------------------------------------------------------------------ context
class AnalysisSkipped(LacstatsError):
    """Raised by :meth:`Context.skip`: the analysis cannot run on the study's data.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.analysis import AnalysisSkipped, Context
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         Context(name="demo", folder=Path(folder)).skip("the study names no figures")
    ...     except AnalysisSkipped as skipped:
    ...         print(skipped)
    ...
    the study names no figures
    """


_FIGURE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def _quiet(message: str) -> None:
    pass


def _seed_study() -> Study:
    from lacstats.study import south_east

    return south_east()


@dataclass
class Context:
    """What an analysis gets: its folder, the seed, the study, the case table and writers
    that record what it made (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.analysis import Context
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     ctx = Context(name="demo", folder=Path(folder), seed=2019, fast=True)
    ...     ctx.by_construction, ctx.case_evidence
    ...     len(ctx.cases())
    ...
    (True, 'case_rows')
    1253
    """

    #: the analysis's name (its folder's)
    name: str
    #: where its outputs go
    folder: Path
    #: the seed every random step draws from
    seed: int = 2019
    #: shortened sampling (a smoke test)
    fast: bool = False
    #: the study the run is of (default: the seed study, the South East project)
    study: Study | None = None
    #: the analysis's declaration (default: a bare one of ``name``)
    analysis: Analysis | None = None
    #: the run's case table, read once (default: :func:`case_data` of the study and seed)
    data: CaseData | None = None
    #: the requirements judged before the run (default: judged here)
    checked: RequirementsCheck | None = None
    #: the study's own SSDA903 returns, read once (default: :func:`returns_data`)
    ssda903: Any = None
    #: where progress messages go
    progress: Callable[[str], None] = _quiet
    #: show progress bars for long steps (MCMC fits); off with --quiet
    bars: bool = False
    #: options that change a number, for its manifest
    options: dict[str, Any] = field(default_factory=dict)
    #: hashes of the files it read, for its manifest
    inputs: dict[str, str] = field(default_factory=dict)
    #: the files it wrote
    outputs: list[str] = field(default_factory=list)
    #: diagnostics: name -> passed
    diagnostics: dict[str, bool] = field(default_factory=dict)
    #: parts that did not run, and why (written to numbers.json as ``not_run``)
    skipped: dict[str, str] = field(default_factory=dict)
    #: where parts computed once are kept (:class:`lacstats.cache.Cache`); None: they are
    #: computed in this run and kept nowhere (``--no-cache``, or a context made by hand)
    cache: Any = None
    #: SHA-256 of the analysis's file, part of the key of what it computes once
    source: str = ""
    #: what the cache did for each part computed once: ``{part: {"status", "key"}}``
    cached: dict[str, dict[str, str]] = field(default_factory=dict)
    _numbers: dict[str, Any] = field(default_factory=dict)
    _findings: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.study is None:
            self.study = _seed_study()
        if self.analysis is None:
            self.analysis = Analysis(name=self.name, title="", reads=(CASES,), figures=None)
        if self.checked is None and self.analysis.uses_cases:
            self.checked = check({self.name: self.analysis}, self._data(), self.study)
        if self.checked is not None:
            for part, reason in self.checked.not_run(self.name).items():
                if part != WHOLE:
                    self.skipped.setdefault(part, reason)

    def _data(self) -> CaseData:
        if self.data is None:
            self.data = case_data(self.study, self.seed)
        return self.data

    # -- what the analysis gets ----------------------------------------------------------
    def cases(self, part: str | None = None) -> pd.DataFrame:
        """A copy of the case table without the cases the analysis (or its ``part``)
        cannot use (:class:`Positive`, :class:`InFrame`); they are counted in
        ``numbers.json`` (``left_out``)."""
        self._known(part)
        cases = self._data().cases
        rows = self.checked.rows_left_out(self.name, part) if self.checked else set()
        if rows:
            keep = [i for i in range(len(cases)) if i + 1 not in rows]
            return cases.iloc[keep].copy()
        return cases.copy()

    def returns(self) -> Any:
        """The study's own SSDA903 returns (:class:`lacstats.ssda903.Return`), or None
        when the study names none."""
        if self.ssda903 is None:
            self.ssda903 = returns_data(self.study)
        return self.ssda903

    @property
    def truth(self) -> Any:
        """The synthetic generator's truth (:class:`lacstats.synthetic.Truth`), or None on
        a user's own table."""
        return self._data().truth if self.synthetic else None

    def runs(self, part: str) -> bool:
        """Whether ``part`` (named in a requirement) can run; if not, its reason is
        already recorded."""
        self._known(part)
        return self.checked is None or self.checked.runs(self.name, part)

    def _known(self, part: str | None) -> None:
        if part is not None and part not in self.analysis.parts:
            raise LacstatsError(
                f"analysis {self.name}: no requirement names the part {part!r} "
                f"(parts: {', '.join(self.analysis.parts) or 'none'})"
            )

    @property
    def evidence(self) -> str | None:
        """The analysis's usual kind of evidence."""
        return self.analysis.evidence

    @property
    def obtained(self) -> str | None:
        """How its figures are usually obtained."""
        return self.analysis.obtained

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

    # -- what it says ----------------------------------------------------------------------
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
        """Write ``frame`` as ``<name>.csv`` (no index, ``\\n`` line ends), every text cell
        made safe for a spreadsheet (:func:`lacstats.cells.csv_text`: a cell a spreadsheet
        would evaluate is written as text; numbers and ordinary text are unchanged)."""
        path = self.folder / f"{name}.csv"
        path.write_text(cells.csv_text(frame), encoding="utf-8", newline="")
        self.outputs.append(path.name)
        return path

    def text(self, name: str, text: str) -> Path:
        """Write ``text`` as ``<name>.txt`` (UTF-8, one final newline)."""
        path = self.folder / f"{name}.txt"
        path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        self.outputs.append(path.name)
        return path

    def figure(self, name: str, fig: Any) -> None:
        """Save ``fig`` as PNG and SVG, without dates and with fixed SVG ids; ``name``
        must be one of the figures the analysis declares."""
        import matplotlib

        declared = self.analysis.figures
        if declared is not None and name not in declared:
            raise LacstatsError(
                f"analysis {self.name}: figure {name!r} is not among those it declares "
                f"({', '.join(declared) or 'none'})"
            )
        with matplotlib.rc_context({"svg.hashsalt": f"lacstats-{self.name}-{name}"}):
            for ext in ("png", "svg"):
                path = self.folder / f"{name}.{ext}"
                fig.savefig(path, dpi=150, bbox_inches="tight", metadata=_FIGURE_METADATA[ext])
                self.outputs.append(path.name)

    def computed_once(
        self,
        part: str,
        build: Callable[[Path], None],
        read: Callable[[Path], Any],
        **inputs: Any,
    ) -> Any:
        """``read(folder)`` of the folder ``build(folder)`` fills: a part of the analysis
        that depends only on the code, the packaged data, the seed, ``fast`` and
        ``inputs`` (JSON values), never on the study's data. With a cache, a folder built
        with the same key before is read instead, and a new one is kept; either way the
        analysis reads its part from the files, so a reused part gives the same bytes as
        a computed one. What happened is recorded in the manifest (``computed_once``).

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from lacstats import cache
        >>> from lacstats.analysis import Context
        >>> def build(folder):
        ...     _ = (folder / "answer.txt").write_text("42")
        >>> def read(folder):
        ...     return (folder / "answer.txt").read_text()
        >>> with tempfile.TemporaryDirectory() as scratch:
        ...     store = cache.Cache(Path(scratch) / "cache")
        ...     for _ in range(2):
        ...         ctx = Context(name="demo", folder=Path(scratch), cache=store)
        ...         print(ctx.computed_once("answer", build, read), ctx.cached["answer"]["status"])
        ...
        42 stored
        42 reused
        """
        import tempfile

        from lacstats import cache

        payload = {
            "analysis": self.name,
            "part": part,
            "file": self.source,
            "seed": self.seed,
            "fast": self.fast,
            "inputs": jsonable(inputs),
            **cache.library(),
        }
        key = cache.key(payload)
        store = self.cache
        if store is not None:
            found, problem = store.get("parts", key)
            if problem:
                self.progress(
                    f"[{self.name}] the cache's entry for {part} ({key[:12]}) is ignored: "
                    f"{problem}; computed again"
                )
                store.discard("parts", key)
            if found is not None:
                self.progress(f"[{self.name}] {part} reused from the cache ({key[:12]})")
                self.cached[part] = {"status": "reused", "key": key}
                return read(found.files)
        where = None
        if store is not None:
            try:  # built beside the entries, so that keeping it is a rename away
                store.root.mkdir(parents=True, exist_ok=True)
                where = store.root
            except OSError:
                pass  # a cache folder that cannot be written: put() says why
        with tempfile.TemporaryDirectory(prefix=f".{self.name}.{part}.", dir=where) as scratch:
            build(Path(scratch))
            status = "computed (not kept: --no-cache)"
            if store is not None:
                stored, why = store.put("parts", key, Path(scratch), payload)
                status = "stored" if stored else f"computed (not kept: {why})"
            self.cached[part] = {"status": status, "key": key}
            return read(Path(scratch))

    def findings(self, frame: pd.DataFrame) -> None:
        """Add rows (:func:`lacstats.findings.row`) to ``findings.csv``."""
        self._findings.append(frame.assign(analysis=self.name))

    def diagnostic(self, name: str, passed: bool) -> None:
        """Record whether a diagnostic passed (R-hat, coverage, ...)."""
        self.diagnostics[name] = bool(passed)
