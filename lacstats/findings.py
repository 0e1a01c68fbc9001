"""The published case-level figures of the South East Complex LAC project, recomputed.

One function per figure, each with the definition it uses, so analyses, the findings table
and the paper agree. The printing rules are those of seed ``000_07fcf8ae04fdfcb4.txt``:
whole-number percentages are truncated (45/114 = 39.5% is printed "39%"), one-decimal
percentages are rounded half up (114/1253 = 9.098% is printed "9.1%"), money in millions
to one decimal.

The high-cost residential group ("114 children were placed in residential care placements
costing at least £4,800 per week (excluding residential schools and secure units)") is the
children in a children's home (``residential_la_own``, ``residential_other_la``,
``residential_private``) costing at least £4,800 a week.
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
from lacstats.regression import WEAK_CORRELATION, strength
from lacstats.units import WEEKS_PER_YEAR

__all__ = [
    "FINDINGS",
    "Finding",
    "compare",
    "high_cost_residential",
    "percent_one_decimal",
    "percent_truncated",
    "row",
]

HIGH_COST_THRESHOLD = cohorts.HIGH_COST
HIGH_COST_6000 = 6000
FAR_MILES = 100


def row(
    key: str,
    definition: str,
    unit: str,
    published: Any,
    reproduced: Any,
    source: str,
    *,
    rule: str = "exact",
) -> dict[str, Any]:
    """One row of ``results/findings.csv`` for a figure an analysis checks exactly."""
    return {
        "finding": key,
        "definition": definition,
        "unit": unit,
        "published": published,
        "reproduced": reproduced,
        "rule": rule,
        "match": published == reproduced,
        "source": source,
    }


def percent_truncated(numerator: float, denominator: float) -> str:
    """Whole-number percentage, truncated as in seed 000 ("39%" for 39.5%)."""
    return f"{math.floor(100 * numerator / denominator + 1e-9)}%"


def percent_one_decimal(numerator: float, denominator: float) -> str:
    """Percentage to one decimal, rounded half up ("9.1%" for 9.098%)."""
    value = Decimal(repr(float(100 * numerator / denominator))).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{value}%"


def _millions(amount: float) -> str:
    value = Decimal(repr(float(amount) / 1e6)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"£{value} million"


def high_cost_residential(cases: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the high-cost residential group: the default ``high_cost_residential``
    rule of :mod:`lacstats.cohorts` (children's homes at £4,800 a week or more)."""
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
    """One published figure: where it is, what it says, and how to recompute it."""

    key: str  # "<table>.<field>" in published_findings.toml, or a derived name
    definition: str
    compute: Callable[[pd.DataFrame], Any]
    published: Callable[[dict[str, Any]], Any]
    unit: str = "children"
    rule: str = "exact"


def _count(key: str, definition: str, compute, unit: str = "children") -> Finding:
    table, name = key.split(".", 1)
    return Finding(key, definition, compute, lambda f: f[table][name], unit)


def _pct(key: str, definition: str, num, den, text: str) -> Finding:
    return Finding(
        key,
        definition,
        lambda c: percent_truncated(num(c), den(c)),
        lambda f: text,
        "percent (truncated)",
        "printed text",
    )


def _by_setting_findings() -> list[Finding]:
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

        measures = {
            "children": (lambda s: len(s), "children"),
            "weekly_total": (lambda s: int(round(s.sum())), "GBP per week"),
            "mean": (
                lambda s: int(Decimal(repr(float(s.mean()))).to_integral(ROUND_HALF_UP)),
                "GBP",
            ),
            "min": (lambda s: int(s.min()), "GBP per week"),
            "max": (lambda s: int(s.max()), "GBP per week"),
        }
        for field, (fn, unit) in measures.items():
            out.append(
                Finding(
                    f"{stem}.{field}",
                    f"{field} of weekly cost, high-cost residential, {kind}, {label}",
                    lambda c, kind=kind, setting=setting, fn=fn: fn(_cell(c, kind, setting)),
                    lambda f, published=published, field=field: published(f, field=field),
                    unit,
                    "exact (mean rounded half up to whole pounds)" if field == "mean" else "exact",
                )
            )

    def type_total(f, kind, field):
        rows = [r for r in f["high_cost_residential"]["by_setting"] if r["authority_type"] == kind]
        total, children = sum(r["weekly_total"] for r in rows), sum(r["children"] for r in rows)
        if field == "mean":
            return int(Decimal(total) / Decimal(children) + Decimal("0.5"))
        return total if field == "weekly_total" else children

    for kind in ("County", "Unitary"):
        stem = f"high_cost_residential.total.{kind}"
        out += [
            Finding(
                f"{stem}.weekly_total",
                f"weekly spend, high-cost residential, {kind}",
                lambda c, k=kind: int(round(_cell(c, k, None).sum())),
                lambda f, k=kind: type_total(f, k, "weekly_total"),
                "GBP per week",
            ),
            Finding(
                f"{stem}.children",
                f"children, high-cost residential, {kind}",
                lambda c, k=kind: len(_cell(c, k, None)),
                lambda f, k=kind: type_total(f, k, "children"),
            ),
            Finding(
                f"{stem}.mean",
                f"mean weekly cost, high-cost residential, {kind} "
                "(published totals row: total / children)",
                lambda c, k=kind: int(
                    Decimal(repr(float(_cell(c, k, None).mean()))).to_integral(ROUND_HALF_UP)
                ),
                lambda f, k=kind: type_total(f, k, "mean"),
                "GBP",
                "exact (rounded half up)",
            ),
        ]
    return out


def _hc_n(c: pd.DataFrame) -> int:
    return int(high_cost_residential(c).sum())


def _known_distance(c: pd.DataFrame) -> int:
    return int(c["distance_miles"].notna().sum())


FINDINGS: tuple[Finding, ...] = (
    _count("sample.cases", "cases in the sample", len, "cases"),
    _count(
        "sample.authorities",
        "authorities in the sample",
        lambda c: int(c["authority"].nunique()),
        "authorities",
    ),
    _count(
        "high_cost_residential.children",
        "children in a children's home (LA own, other LA, private or voluntary) costing "
        "at least £4,800 a week",
        _hc_n,
    ),
    _count(
        "high_cost_residential.weekly_total",
        "weekly spend on the high-cost residential group",
        lambda c: int(round(_hc(c)["weekly_cost"].sum())),
        "GBP per week",
    ),
    Finding(
        "high_cost_residential.annual_total_text",
        f"weekly spend x {WEEKS_PER_YEAR} weeks, in millions to one decimal",
        lambda c: _millions(_hc(c)["weekly_cost"].sum() * WEEKS_PER_YEAR),
        lambda f: f["high_cost_residential"]["annual_total_text"],
        "GBP per year",
        "printed text",
    ),
    Finding(
        "high_cost_residential.share_of_sample_text",
        "high-cost group / all cases",
        lambda c: percent_one_decimal(_hc_n(c), len(c)),
        lambda f: f["high_cost_residential"]["share_of_sample_text"],
        "percent (one decimal)",
        "printed text",
    ),
    Finding(
        "high_cost_residential.share_of_spend_text",
        "high-cost group's weekly spend / the whole sample's weekly spend",
        lambda c: percent_one_decimal(_hc(c)["weekly_cost"].sum(), c["weekly_cost"].sum()),
        lambda f: f["high_cost_residential"]["share_of_spend_text"],
        "percent (one decimal)",
        "printed text",
    ),
    _count(
        "high_cost_residential.cost_6000_plus",
        "high-cost group costing at least £6,000",
        lambda c: int((_hc(c)["weekly_cost"] >= HIGH_COST_6000).sum()),
    ),
    _pct(
        "high_cost_residential.cost_6000_plus_percent",
        "share of the high-cost group",
        lambda c: (_hc(c)["weekly_cost"] >= HIGH_COST_6000).sum(),
        _hc_n,
        "32%",
    ),
    _count(
        "high_cost_residential.needs_mostly_or_completely_met",
        "high-cost group whose placement mostly or completely meets current needs",
        lambda c: int(_hc(c)["needs_met"].isin(["mostly", "completely"]).sum()),
    ),
    _pct(
        "high_cost_residential.needs_met_percent",
        "share of the high-cost group",
        lambda c: _hc(c)["needs_met"].isin(["mostly", "completely"]).sum(),
        _hc_n,
        "54%",
    ),
    _count(
        "high_cost_residential.placed_over_100_miles",
        "high-cost group placed more than 100 miles from home",
        lambda c: _over(_hc(c)),
    ),
    _pct(
        "high_cost_residential.over_100_miles_percent",
        "share of the high-cost group",
        lambda c: _over(_hc(c)),
        _hc_n,
        "39%",
    ),
    _count(
        "high_cost_residential.in_placement_under_1_year",
        "high-cost group in the current placement for under 12 months",
        lambda c: int((_hc(c)["months_in_placement"] < 12).sum()),
    ),
    _pct(
        "high_cost_residential.under_1_year_percent",
        "share of the high-cost group",
        lambda c: (_hc(c)["months_in_placement"] < 12).sum(),
        _hc_n,
        "71%",
    ),
    _count(
        "high_cost_residential.placement_changes",
        "high-cost group with a recorded previous placement",
        lambda c: len(_moves(c)),
        "placement changes",
    ),
    _count(
        "high_cost_residential.moved_from_residential",
        "of those, previous placement in residential care (children's home, residential "
        "school or secure unit)",
        lambda c: int(_moves(c)["previous_setting"].isin(schema.ALL_RESIDENTIAL_SETTINGS).sum()),
    ),
    _pct(
        "high_cost_residential.moved_from_residential_percent",
        "share of placement changes",
        lambda c: _moves(c)["previous_setting"].isin(schema.ALL_RESIDENTIAL_SETTINGS).sum(),
        lambda c: len(_moves(c)),
        "59%",
    ),
    _count(
        "high_cost_residential.moved_from_foster_care",
        "of those, previous placement in foster care (in-house, IFA or kinship)",
        lambda c: int(_moves(c)["previous_setting"].isin(schema.FOSTER_SETTINGS).sum()),
    ),
    _pct(
        "high_cost_residential.moved_from_foster_percent",
        "share of placement changes",
        lambda c: _moves(c)["previous_setting"].isin(schema.FOSTER_SETTINGS).sum(),
        lambda c: len(_moves(c)),
        "26%",
    ),
    _count(
        "high_cost_residential.changes_with_increased_cost",
        "placement changes where the current weekly cost exceeds the previous one",
        lambda c: int((_moves(c)["weekly_cost"] > _moves(c)["previous_weekly_cost"]).sum()),
        "placement changes",
    ),
    _count(
        "high_cost_residential.no_prevalence_any_factor",
        "high-cost group with no risk factor, mental health or learning disability scored 4 or 5",
        lambda c: _no_prevalence(_hc(c)),
    ),
    Finding(
        "high_cost_residential.risk_cost_relationship",
        f"Spearman correlation of risk score and weekly cost in the high-cost group; "
        f"'weak' when |rho| < {WEAK_CORRELATION}",
        lambda c: strength(spearman_risk_cost(c, high_cost_only=True)),
        lambda f: "weak",
        "description",
        "verbal (|rho| < 0.3)",
    ),
    *_by_setting_findings(),
    _count(
        "keeping_local.children_over_100_miles",
        "children placed more than 100 miles from home (whole sample)",
        _over,
    ),
    Finding(
        "keeping_local.percent_text",
        "of the cases with a known distance",
        lambda c: percent_one_decimal(_over(c), _known_distance(c)),
        lambda f: f["keeping_local"]["percent_text"],
        "percent (one decimal)",
        "printed text",
    ),
)


def compare(cases: pd.DataFrame, published: dict[str, Any] | None = None) -> pd.DataFrame:
    """The published case-level figures beside those recomputed from ``cases``.

    Columns: ``finding``, ``definition``, ``unit``, ``published``, ``reproduced``, ``rule``,
    ``match`` and ``source`` (the seed file).
    """
    from lacstats.datasets import published_findings

    cases = schema.validate(cases, authorities=cases["authority"].unique())
    figures = published_findings() if published is None else published
    rows = []
    for finding in FINDINGS:
        table = finding.key.split(".", 1)[0]
        expected = finding.published(figures)
        value = finding.compute(cases)
        if isinstance(value, np.generic):
            value = value.item()
        rows.append(
            {
                "finding": finding.key,
                "definition": finding.definition,
                "unit": finding.unit,
                "published": expected,
                "reproduced": value,
                "rule": finding.rule,
                "match": bool(value == expected),
                "source": figures.get(table, {}).get("source", ""),
            }
        )
    return pd.DataFrame(rows)


def spearman_risk_cost(cases: pd.DataFrame, *, high_cost_only: bool = False) -> float:
    """Spearman correlation of ``risk_score`` and ``weekly_cost`` (all cases or the 114)."""
    data = _hc(cases) if high_cost_only else cases
    data = data.dropna(subset=["risk_score"])
    return float(stats.spearmanr(data["risk_score"], data["weekly_cost"]).statistic)
