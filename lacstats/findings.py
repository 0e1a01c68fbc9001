"""The published case-level figures of the South East Complex LAC project, recomputed.

One function per figure, each with the definition it uses, so analyses, the findings table
and the paper agree. The printing rules are those of Evans (2020), "South East Needs DfE
Project: SE Fostering Group": whole-number percentages are consistent with truncation (23/86
= 26.7% is printed "26%"), one-decimal percentages are rounded half up (114/1253 = 9.098% is
printed "9.1%"), money in millions to one decimal.

The high-cost residential group ("114 children were placed in residential care placements
costing at least £4,800 per week (excluding residential schools and secure units)") is the
children in a children's home (``residential_la_own``, ``residential_other_la``,
``residential_private``) costing at least £4,800 a week.

Each row of the findings table says how it was obtained and which kind of evidence it is
(:mod:`lacstats.evidence`). On the packaged synthetic sample, the figures recomputed from
its rows match the published ones by construction (``must_match``); on a user's own table
they are findings about that table, and a difference is a result, not a failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats import cohorts, schema
from lacstats.datasets import PUBLISHED_SETTING_LABELS
from lacstats.errors import LacstatsError, frame_argument
from lacstats.evidence import EVIDENCE, FINDINGS_COLUMNS, FINDINGS_OBTAINED
from lacstats.regression import WEAK_CORRELATION, strength
from lacstats.units import WEEKS_PER_YEAR

__all__ = [
    "FINDINGS",
    "Finding",
    "citation",
    "compare",
    "frame",
    "high_cost_residential",
    "percent_one_decimal",
    "percent_truncated",
    "requirements",
    "row",
]

HIGH_COST_THRESHOLD = cohorts.HIGH_COST
HIGH_COST_6000 = 6000
FAR_MILES = 100


def citation(key: str, published: dict[str, Any] | None = None) -> str:
    """A source document cited by author, year and title, from its key in the published
    findings' ``[sources]`` table (as ``shared/reference/sources.bib`` gives it); a key
    that is not there is returned as it is (a user's own source).

    Examples
    --------
    >>> from lacstats import findings
    >>> findings.citation("seslip2020needs")
    'Evans, Mark (2020), South East Needs DfE Project: SE Fostering Group'
    """
    if published is None:
        from lacstats.datasets import published_findings

        published = published_findings()
    entry = published.get("sources", {}).get(key)
    if entry is None:
        return key
    return f"{entry['author']} ({entry['year']}), {entry['title']}"


def row(
    key: str,
    definition: str,
    unit: str,
    published: Any,
    reproduced: Any,
    source: str,
    *,
    obtained: str,
    rule: str = "exact",
    evidence: str = "real_data",
    must_match: bool = False,
    match: bool | None = None,
    explanation: str = "",
) -> dict[str, Any]:
    """One row of ``results/findings.csv``.

    ``obtained`` says how the reproduced figure was obtained (one of
    :data:`lacstats.evidence.FINDINGS_OBTAINED`), ``evidence`` which kind of evidence it is,
    ``must_match`` whether it matches by construction (a run fails if such a row does not
    match), ``match`` overrides the exact comparison (a rule with a tolerance) and
    ``explanation`` says why a comparison does not match, or what its rule allows.
    ``source`` is a key of the published findings' ``[sources]`` table, printed as a
    citation.

    Examples
    --------
    >>> from lacstats import findings
    >>> entry = findings.row("sample_total", "cases in the sample", "children", 1253, 1253, "seslip2020needs", obtained="recomputed_from_rows")
    >>> entry["match"], entry["evidence"]
    (True, 'real_data')
    """
    if obtained not in FINDINGS_OBTAINED:
        raise LacstatsError(
            f"finding {key!r}: 'obtained' must be one of {', '.join(FINDINGS_OBTAINED)}; "
            f"got {obtained!r}"
        )
    if evidence not in EVIDENCE:
        raise LacstatsError(
            f"finding {key!r}: 'evidence' must be one of {', '.join(EVIDENCE)}; got {evidence!r}"
        )
    matched = published == reproduced if match is None else match
    return {
        "finding": key,
        "definition": definition,
        "unit": unit,
        "published": published,
        "reproduced": reproduced,
        "rule": rule,
        "match": bool(matched),
        "obtained": obtained,
        "evidence": evidence,
        "must_match": bool(must_match),
        "explanation": explanation,
        "source": citation(source),
    }


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows from :func:`row` as a table, each value as it was given (no common dtype: a
    whole number stays whole beside a decimal one).

    One row per finding. Columns: :data:`lacstats.evidence.FINDINGS_COLUMNS` but the
    analysis (which the runner adds), in that order.

    Examples
    --------
    >>> from lacstats import findings
    >>> rows = [findings.row("sample_total", "cases in the sample", "children", 1253, 1253, "seslip2020needs", obtained="recomputed_from_rows")]
    >>> findings.frame(rows)[["finding", "published", "reproduced", "match"]]
            finding published reproduced  match
    0  sample_total      1253       1253   True
    """
    columns = [c for c in FINDINGS_COLUMNS if c != "analysis"]
    out = pd.DataFrame(rows, columns=columns, dtype=object)
    return out.astype({"match": bool, "must_match": bool})


def _check_share(numerator: float, denominator: float) -> None:
    """A percentage's parts: numbers, the denominator not negative."""
    for name, value in (("numerator", numerator), ("denominator", denominator)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise LacstatsError(f"argument {name!r} must be a number, got {value!r}")
    if denominator < 0:
        raise LacstatsError(f"argument 'denominator' must not be negative, got {denominator!r}")


def _no_share(numerator: float, denominator: float) -> bool:
    """A share of no cases (0 of 0, or of a missing count) is not a number; a count of
    cases out of none is an error."""
    _check_share(numerator, denominator)
    if pd.isna(numerator) or pd.isna(denominator):
        return True
    if denominator == 0 and numerator != 0:
        raise LacstatsError(
            f"argument 'denominator' is 0 but 'numerator' is {numerator!r}: a share of no cases"
        )
    return bool(denominator == 0)


def percent_truncated(numerator: float, denominator: float) -> str | None:
    """Whole-number percentage, truncated as Evans (2020) prints them ("26%" for 26.7%);
    None when the denominator is 0 (a share of no cases is not computable).

    Examples
    --------
    >>> from lacstats import findings
    >>> findings.percent_truncated(267, 1000)
    '26%'
    >>> print(findings.percent_truncated(0, 0))
    None
    """
    if _no_share(numerator, denominator):
        return None
    return f"{math.floor(100 * numerator / denominator + 1e-9)}%"


def percent_one_decimal(numerator: float, denominator: float) -> str | None:
    """Percentage to one decimal, rounded half up ("9.1%" for 9.098%); None when the
    denominator is 0.

    Examples
    --------
    >>> from lacstats import findings
    >>> findings.percent_one_decimal(114, 1253)
    '9.1%'
    """
    if _no_share(numerator, denominator):
        return None
    value = Decimal(repr(float(100 * numerator / denominator))).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{value}%"


def _millions(amount: float) -> str:
    value = Decimal(repr(float(amount) / 1e6)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"£{value} million"


def high_cost_residential(cases: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the high-cost residential group: the default ``high_cost_residential``
    rule of :mod:`lacstats.cohorts` (children's homes at £4,800 a week or more).

    Examples
    --------
    >>> from lacstats import findings, synthetic
    >>> int(findings.high_cost_residential(synthetic.complex_lac(rng=2019)).sum())
    114
    """
    rule = next(r for r in cohorts.DEFAULT_RULES if r.name == "high_cost_residential")
    return rule.evaluate(cases).to_numpy(dtype=bool, na_value=False)


def _hc(cases: pd.DataFrame) -> pd.DataFrame:
    return cases[high_cost_residential(cases)]


def _moves(cases: pd.DataFrame) -> pd.DataFrame:
    hc = _hc(cases)
    return hc[hc["previous_setting"].notna()]


def _over(cases: pd.DataFrame, miles: float = FAR_MILES) -> int:
    return int((cases["distance_miles"] > miles).sum())


def _no_prevalence(cases: pd.DataFrame) -> int:
    items = cases[list(schema.NEED_ITEMS)]
    return int((items.max(axis=1) < schema.PREVALENCE_SCORE).sum())


def _cell(cases: pd.DataFrame, kind: str, setting: str | None) -> pd.Series:
    hc = _hc(cases)
    hc = hc[hc["authority_type"] == kind]
    if setting is not None:
        hc = hc[hc["placement_setting"] == setting]
    return hc["weekly_cost"]


@dataclass(frozen=True)
class Finding:
    """One published figure: where it is, what it says, and how to recompute it.

    Examples
    --------
    >>> from lacstats import findings
    >>> first = findings.FINDINGS[0]
    >>> first.key, first.unit
    ('sample.cases', 'cases')
    """

    key: str  # "<table>.<field>" in published_findings.toml, or a derived name
    definition: str
    compute: Callable[[pd.DataFrame], Any]
    published: Callable[[dict[str, Any]], Any]
    unit: str = "children"
    rule: str = "exact"
    #: the cases a share or correlation is of, in words: when the data have none, the
    #: figure is not computable (a share of no cases is not 0%)
    of: str = ""


def _count(key: str, definition: str, compute, unit: str = "children") -> Finding:
    table, name = key.split(".", 1)
    return Finding(key, definition, compute, lambda f: f[table][name], unit)


def _pct(key: str, definition: str, num, den, of: str) -> Finding:
    """A whole-number percentage as printed: the text is ``<key>_text`` in the data."""
    table, name = key.split(".", 1)
    return Finding(
        key,
        definition,
        lambda c: percent_truncated(num(c), den(c)),
        lambda f: f[table][f"{name}_text"],
        "percent (truncated)",
        "printed text",
        of,
    )


_HIGH_COST = "high-cost residential children"
_MOVED = "high-cost residential children with a recorded previous placement"


def _whole_pounds(values: pd.Series) -> int:
    return int(Decimal(repr(float(values.mean()))).to_integral(ROUND_HALF_UP))


_MEASURES = {
    "children": ("children", lambda s: len(s), "children", "exact"),
    "weekly_total": ("weekly spend", lambda s: int(round(s.sum())), "GBP per week", "exact"),
    "mean": (
        "mean weekly cost",
        _whole_pounds,
        "GBP per week",
        "exact (mean rounded half up to whole pounds)",
    ),
    "min": ("lowest weekly cost", lambda s: int(s.min()), "GBP per week", "exact"),
    "max": ("highest weekly cost", lambda s: int(s.max()), "GBP per week", "exact"),
}


def _by_setting_findings() -> list[Finding]:
    """The seed's table of the 114 by authority type and setting, cell by cell, and the
    County "Total" row as printed (the Unitary total repeats its only row)."""
    out: list[Finding] = []
    for kind, label in [
        ("County", "LA own residential"),
        ("County", "Other LA residential"),
        ("County", "Private/Voluntary residential"),
        ("Unitary", "Private/Voluntary residential"),
    ]:
        setting = PUBLISHED_SETTING_LABELS[label]
        stem = f"high_cost_residential.by_setting.{kind}.{setting}"

        def published(f, kind=kind, label=label, field=None):
            row = next(
                r
                for r in f["high_cost_residential"]["by_setting"]
                if r["authority_type"] == kind and r["setting"] == label
            )
            return row[field]

        for field, (words, fn, unit, rule) in _MEASURES.items():
            out.append(
                Finding(
                    f"{stem}.{field}",
                    f"High-cost group, {kind} councils, {label}: {words}",
                    lambda c, kind=kind, setting=setting, fn=fn: fn(_cell(c, kind, setting)),
                    lambda f, published=published, field=field: published(f, field=field),
                    unit,
                    rule,
                )
            )

    def printed_total(f, field):
        rows = f["high_cost_residential"]["totals"]
        return next(r for r in rows if r["authority_type"] == "County")[field]

    for field in ("weekly_total", "children", "mean"):
        words, fn, unit, rule = _MEASURES[field]
        out.append(
            Finding(
                f"high_cost_residential.total.County.{field}",
                f"High-cost group, County councils, all settings (the printed total row): {words}",
                lambda c, fn=fn: fn(_cell(c, "County", None)),
                lambda f, field=field: printed_total(f, field),
                unit,
                rule,
            )
        )
    return out


def _strength(rho: float) -> str | None:
    """``weak`` or ``not weak``; None for a correlation that is not a number."""
    return None if pd.isna(rho) else strength(rho)


def _hc_n(c: pd.DataFrame) -> int:
    return int(high_cost_residential(c).sum())


def _known_distance(c: pd.DataFrame) -> int:
    return int(c["distance_miles"].notna().sum())


#: Every published case-level figure, with how to recompute it from case rows.
FINDINGS: tuple[Finding, ...] = (
    _count("sample.cases", "Cases in the sample", len, "cases"),
    _count(
        "sample.authorities",
        "Authorities in the sample",
        lambda c: int(c["authority"].nunique()),
        "authorities",
    ),
    _count(
        "high_cost_residential.children",
        "High-cost group: children in a children's home (LA own, other LA, private or "
        "voluntary) costing at least £4,800 a week",
        _hc_n,
    ),
    _count(
        "high_cost_residential.weekly_total",
        "High-cost group: weekly spend",
        lambda c: int(round(_hc(c)["weekly_cost"].sum())),
        "GBP per week",
    ),
    Finding(
        "high_cost_residential.annual_total_text",
        f"High-cost group: annual spend (weekly spend x {WEEKS_PER_YEAR} weeks, in millions "
        "to one decimal)",
        lambda c: _millions(_hc(c)["weekly_cost"].sum() * WEEKS_PER_YEAR),
        lambda f: f["high_cost_residential"]["annual_total_text"],
        "GBP per year",
        "printed text",
    ),
    Finding(
        "high_cost_residential.share_of_sample_text",
        "High-cost group: share of all cases",
        lambda c: percent_one_decimal(_hc_n(c), len(c)),
        lambda f: f["high_cost_residential"]["share_of_sample_text"],
        "percent (one decimal)",
        "printed text",
        "cases",
    ),
    Finding(
        "high_cost_residential.share_of_spend_text",
        "High-cost group: share of the whole sample's weekly spend",
        lambda c: percent_one_decimal(_hc(c)["weekly_cost"].sum(), c["weekly_cost"].sum()),
        lambda f: f["high_cost_residential"]["share_of_spend_text"],
        "percent (one decimal)",
        "printed text",
        "cases with a weekly cost above 0",
    ),
    _count(
        "high_cost_residential.cost_6000_plus",
        "High-cost group: costing at least £6,000 a week",
        lambda c: int((_hc(c)["weekly_cost"] >= HIGH_COST_6000).sum()),
    ),
    _pct(
        "high_cost_residential.cost_6000_plus_percent",
        "High-cost group: share costing at least £6,000 a week",
        lambda c: (_hc(c)["weekly_cost"] >= HIGH_COST_6000).sum(),
        _hc_n,
        _HIGH_COST,
    ),
    _count(
        "high_cost_residential.needs_mostly_or_completely_met",
        "High-cost group: placement mostly or completely meets current needs",
        lambda c: int(_hc(c)["needs_met"].isin(["mostly", "completely"]).sum()),
    ),
    _pct(
        "high_cost_residential.needs_met_percent",
        "High-cost group: share whose needs are mostly or completely met",
        lambda c: _hc(c)["needs_met"].isin(["mostly", "completely"]).sum(),
        _hc_n,
        _HIGH_COST,
    ),
    _count(
        "high_cost_residential.placed_over_100_miles",
        "High-cost group: placed more than 100 miles from home",
        lambda c: _over(_hc(c)),
    ),
    _pct(
        "high_cost_residential.over_100_miles_percent",
        "High-cost group: share placed more than 100 miles from home",
        lambda c: _over(_hc(c)),
        _hc_n,
        _HIGH_COST,
    ),
    _count(
        "high_cost_residential.in_placement_under_1_year",
        "High-cost group: in the current placement for under 12 months",
        lambda c: int((_hc(c)["months_in_placement"] < 12).sum()),
    ),
    _pct(
        "high_cost_residential.under_1_year_percent",
        "High-cost group: share in the current placement for under 12 months",
        lambda c: (_hc(c)["months_in_placement"] < 12).sum(),
        _hc_n,
        _HIGH_COST,
    ),
    _count(
        "high_cost_residential.placement_changes",
        "High-cost group: children with a recorded previous placement",
        lambda c: len(_moves(c)),
        "placement changes",
    ),
    _count(
        "high_cost_residential.moved_from_residential",
        "Placement changes from residential care (children's home, residential school or "
        "secure unit)",
        lambda c: int(_moves(c)["previous_setting"].isin(schema.ALL_RESIDENTIAL_SETTINGS).sum()),
    ),
    _pct(
        "high_cost_residential.moved_from_residential_percent",
        "Placement changes from residential care: share of all changes",
        lambda c: _moves(c)["previous_setting"].isin(schema.ALL_RESIDENTIAL_SETTINGS).sum(),
        lambda c: len(_moves(c)),
        _MOVED,
    ),
    _count(
        "high_cost_residential.moved_from_foster_care",
        "Placement changes from foster care (in-house, IFA or kinship)",
        lambda c: int(_moves(c)["previous_setting"].isin(schema.FOSTER_SETTINGS).sum()),
    ),
    _pct(
        "high_cost_residential.moved_from_foster_percent",
        "Placement changes from foster care: share of all changes",
        lambda c: _moves(c)["previous_setting"].isin(schema.FOSTER_SETTINGS).sum(),
        lambda c: len(_moves(c)),
        _MOVED,
    ),
    _count(
        "high_cost_residential.changes_with_increased_cost",
        "Placement changes where the current weekly cost exceeds the previous one",
        lambda c: int((_moves(c)["weekly_cost"] > _moves(c)["previous_weekly_cost"]).sum()),
        "placement changes",
    ),
    _count(
        "high_cost_residential.no_prevalence_any_factor",
        "High-cost group: no risk factor, mental health or learning disability scored 4 or 5",
        lambda c: _no_prevalence(_hc(c)),
    ),
    Finding(
        "high_cost_residential.risk_cost_relationship",
        f"High-cost group: Spearman correlation of risk score and weekly cost, called "
        f"'weak' when |rho| < {WEAK_CORRELATION}",
        lambda c: _strength(spearman_risk_cost(c, high_cost_only=True)),
        lambda f: "weak",
        "description",
        f"verbal (|rho| < {WEAK_CORRELATION})",
        "high-cost residential children with a risk score (at least three, with different "
        "scores and costs)",
    ),
    *_by_setting_findings(),
    _count(
        "keeping_local.children_over_100_miles",
        "Whole sample: children placed more than 100 miles from home",
        _over,
    ),
    Finding(
        "keeping_local.percent_text",
        "Whole sample: share placed more than 100 miles from home, of the cases with a "
        "known distance",
        lambda c: percent_one_decimal(_over(c), _known_distance(c)),
        lambda f: f["keeping_local"]["percent_text"],
        "percent (one decimal)",
        "printed text",
        "cases with a known distance",
    ),
)


#: Columns a finding needs beyond the case table's required ones, by key prefix: a
#: finding whose columns the data lack (or leave empty) is listed as not computable.
_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("high_cost_residential.needs_", ("needs_met",)),
    ("high_cost_residential.placed_over_100", ("distance_miles",)),
    ("high_cost_residential.over_100", ("distance_miles",)),
    ("high_cost_residential.in_placement_under", ("months_in_placement",)),
    ("high_cost_residential.under_1_year", ("months_in_placement",)),
    ("high_cost_residential.placement_changes", ("previous_setting",)),
    ("high_cost_residential.moved_", ("previous_setting",)),
    ("high_cost_residential.changes_with", ("previous_setting", "previous_weekly_cost")),
    ("high_cost_residential.no_prevalence", schema.NEED_ITEMS),
    ("high_cost_residential.risk_cost", schema.RISK_FACTORS),
    ("keeping_local.", ("distance_miles",)),
)


def requirements(finding: Finding) -> tuple[str, ...]:
    """The optional columns ``finding`` is computed from.

    Examples
    --------
    >>> from lacstats import findings
    >>> needs = {finding.key: findings.requirements(finding) for finding in findings.FINDINGS}
    >>> needs["sample.cases"]
    ()
    >>> sorted({column for columns in needs.values() for column in columns})[:3]
    ['distance_miles', 'learning_disability', 'mental_health']
    """
    return next((cols for prefix, cols in _NEEDS if finding.key.startswith(prefix)), ())


def compare(
    cases: pd.DataFrame,
    published: dict[str, Any] | None = None,
    *,
    by_construction: bool = False,
) -> pd.DataFrame:
    """The published case-level figures beside those recomputed from ``cases``.

    Columns as :data:`lacstats.evidence.FINDINGS_COLUMNS` (without ``analysis``). With
    ``by_construction=True`` (the packaged synthetic sample, built to reproduce them) every
    row is evidence of kind ``case_rows`` and must match; otherwise (a user's own table)
    the rows are findings about that table (``real_data``), and a difference is a result.
    A figure whose columns the data lack is listed with no reproduced value and says so;
    a figure ``published`` does not hold is left out.

    Examples
    --------
    >>> from lacstats import findings, synthetic
    >>> table = findings.compare(synthetic.complex_lac(rng=2019), by_construction=True)
    >>> bool(table["match"].all()), len(table) > 40
    (True, True)
    >>> table[["finding", "published", "reproduced"]].head(3)
                              finding published reproduced
    0                    sample.cases      1253       1253
    1              sample.authorities        19         19
    2  high_cost_residential.children       114        114
    """
    frame_argument(cases, "cases")
    from lacstats.datasets import published_findings

    cases = schema.validate(cases, authorities=cases["authority"].unique())
    figures = published_findings() if published is None else published
    rows = []
    for finding in FINDINGS:
        table = finding.key.split(".", 1)[0]
        try:
            expected = finding.published(figures)
        except (KeyError, StopIteration):
            continue  # not among the figures to compare with
        absent = [c for c in requirements(finding) if c not in cases or cases[c].isna().all()]
        explanation = ""
        if absent:
            value = None
            explanation = f"not computable: the data have no {', '.join(absent)}"
        else:
            value = finding.compute(cases)
            if isinstance(value, np.generic):
                value = value.item()
            if value is None or (isinstance(value, float) and np.isnan(value)):
                value = None
                explanation = (
                    f"not computable: the data have no {finding.of or 'case to compute it from'}"
                )
        rows.append(
            row(
                finding.key,
                finding.definition,
                finding.unit,
                expected,
                value,
                figures.get(table, {}).get("source", ""),
                obtained="recomputed_from_rows",
                rule=finding.rule,
                evidence="case_rows" if by_construction else "real_data",
                must_match=by_construction,
                explanation=explanation,
            )
            | {"source": citation(figures.get(table, {}).get("source", ""), figures)}
        )
    return frame(rows)


def spearman_risk_cost(cases: pd.DataFrame, *, high_cost_only: bool = False) -> float:
    """Spearman correlation of ``risk_score`` and ``weekly_cost`` (all cases or the 114)."""
    data = _hc(cases) if high_cost_only else cases
    data = data.dropna(subset=["risk_score"])
    return float(stats.spearmanr(data["risk_score"], data["weekly_cost"]).statistic)
