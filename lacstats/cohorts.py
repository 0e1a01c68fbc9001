"""Commissioning cohorts as data: named rules with parameters, sources and predicates.

The South East project turned its needs analysis into commissioning themes (Evans 2020,
"South East Needs DfE Project: SE Fostering Group"): keeping children local, preventing
unregistered care, sufficiency (children placed far away for no obvious reason) and new
placement options (hybrid and step-down); the March 2018 workshop (SESLIP 2018, "Complex
LAC and Edge of Care Efficiencies Project") asked for categories such as frequent and
costly placement moves and a history of violence.

A :class:`Rule` is a predicate over the case table and the parameters it reads. Change a
threshold with :func:`assign`'s overrides (``assign(cases, keeping_local={"miles": 20})``)
or :meth:`Rule.with_params`; add a cohort by building a :class:`Rule` and passing
``rules=[*DEFAULT_RULES, mine]``. Nothing in lacstats needs to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from lacstats import schema
from lacstats.errors import DataError, frame_argument
from lacstats.units import WEEKS_PER_YEAR

__all__ = ["DEFAULT_RULES", "Rule", "assign", "by_profile", "parameters", "rule", "summarise"]

HIGH_COST = 4800
#: The DfE's distance for "placed at a distance" (SSDA903 and seed 002: 20 miles).
DFE_DISTANCE_MILES = 20


@dataclass(frozen=True)
class Rule:
    """A commissioning cohort: who is in it, with which thresholds, and why.

    Examples
    --------
    >>> from lacstats import cohorts
    >>> keeping_local = next(rule for rule in cohorts.DEFAULT_RULES if rule.name == "keeping_local")
    >>> dict(keeping_local.params)
    {'miles': 100}
    >>> dict(keeping_local.with_params(miles=20).params)
    {'miles': 20}
    """

    name: str
    description: str
    predicate: Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    #: Columns whose missing values make membership unknown (counted, then excluded).
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def with_params(self, **changes: Any) -> Rule:
        """The same rule with some parameters changed (unknown names are an error)."""
        unknown = sorted(set(changes) - set(self.params))
        if unknown:
            raise DataError(
                f"rule {self.name!r} has no parameter(s) {unknown}; its parameters: "
                f"{sorted(self.params)}",
                column=self.name,
            )
        for key, value in changes.items():
            _check_param(self.name, key, self.params[key], value)
        return replace(self, params={**self.params, **changes})

    def evaluate(self, cases: pd.DataFrame) -> pd.Series:
        """Membership as a nullable boolean: ``<NA>`` where a required value is missing."""
        missing = [c for c in self.requires if c not in cases.columns]
        if missing:
            raise DataError(f"rule {self.name!r} needs column(s) {missing}", column=missing[0])
        flags = self.predicate(cases, self.params)
        values = np.asarray(pd.Series(flags).fillna(False), dtype=bool)
        out = pd.Series(values, index=cases.index, name=self.name, dtype="boolean")
        out[self.unknown(cases).to_numpy()] = pd.NA
        return out

    def unknown(self, cases: pd.DataFrame) -> pd.Series:
        """Cases whose membership cannot be decided (a required value is missing)."""
        if not self.requires:
            return pd.Series(False, index=cases.index)
        return cases[list(self.requires)].isna().any(axis=1)


def rule(name: str, description: str, source: str, requires: tuple[str, ...] = (), **params):
    """Decorator: turn ``predicate(cases, params)`` into a :class:`Rule`.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import cohorts
    >>> @cohorts.rule("young_in_residential", "aged under 12 in a children's home", source="illustration", age=12)
    ... def young_in_residential(cases, p):
    ...     return (cases["age"] < p["age"]) & cases["placement_setting"].str.startswith("residential")
    ...
    >>> cases = pd.DataFrame({"age": [10, 14, 9], "placement_setting": ["residential_private", "residential_private", "foster_ifa"]})
    >>> cohorts.assign(cases, [young_in_residential])
       young_in_residential
    0                  True
    1                 False
    2                 False
    """

    def wrap(predicate: Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]) -> Rule:
        return Rule(name, description, predicate, params, source, requires)

    return wrap


def _scores(cases: pd.DataFrame, items: Iterable[str]) -> pd.DataFrame:
    return cases[list(items)].astype("float64")


@rule(
    "keeping_local",
    "placed more than `miles` from home (100 in the seed; the DfE's 'at a distance' is 20); "
    "unknown distances are excluded and counted",
    "Evans (2020): 200 children, 16.5%, placed over 100 miles from home",
    requires=("distance_miles",),
    miles=100,
)
def _keeping_local(cases, p):
    return cases["distance_miles"] > p["miles"]


@rule(
    "unregistered_care",
    "in an unregistered setting, or in any setting not regulated by Ofsted costing at least "
    "`min_weekly_cost` a week",
    "Evans (2020): 'a small but significant group of children placed in high "
    "cost settings that are not regulated'",
    min_weekly_cost=HIGH_COST,
)
def _unregistered(cases, p):
    unregulated = cases["registered"].eq(False).fillna(False).to_numpy(dtype=bool)
    costly = (cases["weekly_cost"] >= p["min_weekly_cost"]).to_numpy()
    return (cases["placement_setting"] == "unregistered").to_numpy() | (unregulated & costly)


@rule(
    "high_cost_residential",
    "in a children's home (LA own, other LA, private or voluntary; not a residential school "
    "or secure unit) costing at least `min_weekly_cost` a week",
    "Evans (2020): 114 children in residential placements costing at least "
    "£4,800 per week (excluding residential schools and secure units)",
    min_weekly_cost=HIGH_COST,
    settings=schema.RESIDENTIAL_SETTINGS,
)
def _high_cost_residential(cases, p):
    return (
        cases["placement_setting"].isin(p["settings"]).to_numpy()
        & (cases["weekly_cost"] >= p["min_weekly_cost"]).to_numpy()
    )


@rule(
    "distant_without_specialist_need",
    "placed more than `miles` from home with no specialist need (learning disability, "
    "mental health, self-harm) scored `min_score` or more, and not in a residential school "
    "or secure unit: specialist needs and specialist provision can justify distance, "
    "anything else points to placement availability",
    "Evans (2020): 'children from the South East placed in other distant "
    "regions for no obvious good reason'; 'placement availability rather than need'",
    requires=("distance_miles", "learning_disability", "mental_health", "risk_self_harm"),
    miles=100,
    specialist_items=("learning_disability", "mental_health", "risk_self_harm"),
    min_score=schema.PREVALENCE_SCORE,
    specialist_settings=("residential_school", "secure_unit"),
)
def _distant_without_need(cases, p):
    specialist = (_scores(cases, p["specialist_items"]) >= p["min_score"]).any(axis=1)
    provision = cases["placement_setting"].isin(p["specialist_settings"])
    far = cases["distance_miles"] > p["miles"]
    return (far & ~specialist & ~provision).to_numpy()


@rule(
    "frequent_moves",
    "placement number at or above `min_placement_number` (the workshop heard of children "
    "on their 8th or 9th placement)",
    "SESLIP (2018): 'those with frequent and costly placement moves'",
    requires=("placement_number",),
    min_placement_number=4,
)
def _frequent_moves(cases, p):
    return cases["placement_number"] >= p["min_placement_number"]


@rule(
    "violence",
    "violence scored `min_score` or more (some or most prevalence)",
    "SESLIP (2018): 'children and young people who have experienced violence or "
    "who exhibit violent behaviour'",
    requires=("risk_violence",),
    min_score=schema.PREVALENCE_SCORE,
)
def _violence(cases, p):
    return cases["risk_violence"] >= p["min_score"]


@rule(
    "step_down_candidate",
    "in a children's home with no need item (risk factors, mental health, learning "
    "disability) scored `min_score` or more: a candidate to step down to foster care",
    "Evans (2020): new placement options, 'developing links between residential "
    "and foster care'; 2 high-cost children had no prevalence of any factor",
    requires=schema.NEED_ITEMS,
    min_score=schema.PREVALENCE_SCORE,
    settings=schema.RESIDENTIAL_SETTINGS,
)
def _step_down(cases, p):
    none_prevalent = (_scores(cases, schema.NEED_ITEMS) < p["min_score"]).all(axis=1)
    return (cases["placement_setting"].isin(p["settings"]) & none_prevalent).to_numpy()


#: The commissioning cohorts' rules, with the South East project's thresholds and sources.
DEFAULT_RULES: tuple[Rule, ...] = (
    _keeping_local,
    _unregistered,
    _high_cost_residential,
    _distant_without_need,
    _frequent_moves,
    _violence,
    _step_down,
)


def _check_param(rule: str, key: str, default: Any, value: Any) -> None:
    """A threshold changed by the caller: a finite number in the range its unit allows."""
    import math

    numeric = isinstance(default, int | float) and not isinstance(default, bool)
    if not numeric:
        return
    name = f"{rule}={{{key!r}: {value!r}}}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(f"{name}: {key} must be a number", column=rule)
    if not math.isfinite(value) or value < 0:
        raise DataError(f"{name}: {key} must be a finite number >= 0", column=rule)
    if "miles" in key and value > schema.MAX_MILES:
        raise DataError(f"{name}: more than {schema.MAX_MILES:g} miles", column=rule)
    if "cost" in key and value > schema.MAX_WEEKLY_COST:
        raise DataError(f"{name}: more than {schema.MAX_WEEKLY_COST:,.0f} GBP a week", column=rule)
    if "score" in key and not schema.SCORE_RANGE[0] <= value <= schema.SCORE_RANGE[1]:
        raise DataError(f"{name}: scores run from 1 to 5", column=rule)


def _resolve(rules: Iterable[Rule], overrides: Mapping[str, Mapping[str, Any]]) -> list[Rule]:
    rules = list(rules)
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise DataError(f"rule names must be unique: {names}", column="rules")
    bad = [k for k, v in overrides.items() if not isinstance(v, Mapping)]
    if bad:
        raise DataError(
            f"{bad[0]}= must be a mapping of parameters, e.g. {{'miles': 20}}", column=bad[0]
        )
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise DataError(f"no rule(s) named {unknown}; rules: {names}", column=unknown[0])
    return [r.with_params(**overrides[r.name]) if r.name in overrides else r for r in rules]


def assign(
    cases: pd.DataFrame,
    rules: Iterable[Rule] = DEFAULT_RULES,
    **overrides: Mapping[str, Any],
) -> pd.DataFrame:
    """One nullable boolean column per rule (named as the rule), aligned with ``cases``.
    Columns: the rules' names (``keeping_local``, ``high_cost_residential``, ... for
    :data:`DEFAULT_RULES`), in the order of ``rules``.

    ``overrides`` name a rule and its changed parameters, e.g.
    ``assign(cases, keeping_local={"miles": 20})``. Cases whose membership is unknown (a
    required value such as the distance is missing) are ``<NA>``: :func:`summarise`
    counts them and leaves them out of the share.

    Examples
    --------
    >>> from lacstats import cohorts, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> flags = cohorts.assign(cases)
    >>> int(flags["keeping_local"].sum()), int(flags["high_cost_residential"].sum())
    (200, 114)
    >>> int(cohorts.assign(cases, keeping_local={"miles": 20})["keeping_local"].sum())
    638
    """
    frame_argument(cases, "cases")
    resolved = _resolve(rules, overrides)
    return pd.DataFrame({r.name: r.evaluate(cases) for r in resolved}, index=cases.index)


def parameters(
    rules: Iterable[Rule] = DEFAULT_RULES, **overrides: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each rule's parameters after ``overrides``, as :func:`assign` applies them (for a
    manifest: ``parameters(keeping_local={"miles": 20})``).

    Examples
    --------
    >>> from lacstats import cohorts
    >>> cohorts.parameters(keeping_local={"miles": 20})["keeping_local"]
    {'miles': 20}
    """
    return {r.name: dict(r.params) for r in _resolve(rules, overrides)}


def summarise(
    cases: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    weeks: float = WEEKS_PER_YEAR,
    by: str | None = "authority_type",
) -> pd.DataFrame:
    """Per cohort (and per ``by`` group, plus ``All``): size, share, cost and need profile.

    Columns: ``cohort``, ``group``, ``n``, ``share`` (of the group's cases whose membership
    is known), ``unknown`` (cases whose membership could not be decided), ``weekly_cost`` (total, GBP),
    ``annual_cost`` (weekly x ``weeks``, 52.143 = 365/7 by default), ``mean_weekly_cost``,
    ``median_weekly_cost`` and, per need item, ``prevalence_<item>``: the share scored 4-5.

    Examples
    --------
    >>> from lacstats import cohorts, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> table = cohorts.summarise(cases, cohorts.assign(cases), by=None)
    >>> table.loc[table["cohort"] == "keeping_local", ["cohort", "n", "share"]]
              cohort    n     share
    0  keeping_local  200  0.165017
    """
    frame_argument(cases, "cases")
    frame_argument(flags, "flags")
    if isinstance(weeks, bool) or not isinstance(weeks, int | float | np.number) or not weeks > 0:
        raise DataError(
            f"argument 'weeks' must be a number of weeks above 0, got {weeks!r}", column="weeks"
        )
    if by is not None and by not in cases.columns:
        raise DataError(f"argument 'by': no column {by!r} in the cases", column="by")
    if not flags.index.equals(cases.index):
        raise DataError("flags and cases must share an index (use assign(cases))", column="flags")
    groups = [("All", np.ones(len(cases), dtype=bool))]
    if by is not None and by in cases.columns:
        groups += [
            (str(g), (cases[by] == g).to_numpy()) for g in sorted(cases[by].dropna().unique())
        ]
    items = [i for i in schema.NEED_ITEMS if i in cases.columns]
    prevalent = _scores(cases, items) >= schema.PREVALENCE_SCORE
    rows = []
    for cohort in flags.columns:
        column = flags[cohort].astype("boolean")
        member = column.to_numpy(dtype=bool, na_value=False)
        undecided = column.isna().to_numpy()
        for label, in_group in groups:
            sel = member & in_group
            known = int((in_group & ~undecided).sum())
            cost = cases.loc[sel, "weekly_cost"]
            row = {
                "cohort": cohort,
                "group": label,
                "n": int(sel.sum()),
                "share": float(sel.sum() / known) if known else float("nan"),
                "unknown": int((in_group & undecided).sum()),
                "weekly_cost": float(cost.sum()),
                "annual_cost": float(cost.sum() * weeks),
                "mean_weekly_cost": float(cost.mean()) if len(cost) else float("nan"),
                "median_weekly_cost": float(cost.median()) if len(cost) else float("nan"),
            }
            for item in items:
                row[f"prevalence_{item}"] = (
                    float(prevalent.loc[sel, item].mean()) if sel.any() else float("nan")
                )
            rows.append(row)
    return pd.DataFrame(rows)


def by_profile(
    cases: pd.DataFrame, flags: pd.DataFrame, profiles: pd.Series | np.ndarray
) -> pd.DataFrame:
    """Which need profiles sit in which cohorts, and what they cost.

    One row per cohort and profile: ``n``, ``share_of_cohort``, ``weekly_cost`` (total),
    ``mean_weekly_cost``. ``profiles`` is one label per case (e.g. ``NeedProfiles.labels_``
    mapped to names).

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import cohorts, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> flags = cohorts.assign(cases)
    >>> profiles = np.where(cases["risk_score"] >= 20, "higher need", "lower need")
    >>> table = cohorts.by_profile(cases, flags, profiles)
    >>> table[table["cohort"] == "high_cost_residential"][["cohort", "profile", "n"]]
                      cohort      profile   n
    4  high_cost_residential  higher need  67
    5  high_cost_residential   lower need  47
    """
    labels = pd.Series(np.asarray(profiles), index=cases.index, name="profile")
    rows = []
    for cohort in flags.columns:
        member = flags[cohort].astype("boolean").to_numpy(dtype=bool, na_value=False)
        total = int(member.sum())
        for profile in sorted(labels.unique(), key=str):
            sel = member & (labels == profile).to_numpy()
            cost = cases.loc[sel, "weekly_cost"]
            rows.append(
                {
                    "cohort": cohort,
                    "profile": profile,
                    "n": int(sel.sum()),
                    "share_of_cohort": float(sel.sum() / total) if total else float("nan"),
                    "weekly_cost": float(cost.sum()),
                    "mean_weekly_cost": float(cost.mean()) if len(cost) else float("nan"),
                }
            )
    return pd.DataFrame(rows)
