"""Per-authority packs: the authority beside the rest of its region, safe to circulate.

The South East project "produced a set of analysed data for each authority" (Evans 2020,
"South East Needs DfE Project: SE Fostering Group"). :func:`authority_tables` builds the
tables of one pack from any case table; :func:`write_pack` writes them as a
self-contained HTML page (styles and figures inline, no network requests) and an XLSX
workbook with the same tables. Every count passes through
:func:`lacstats.disclosure.suppress` (primary and secondary suppression against the
published margins) and money and shares derived from a suppressed count are suppressed
with it. No ``case_id`` and no child-level row reaches any output.

The packs are of a study (:class:`lacstats.study.Study`, default the South East project):
its frame (DfE year and population column) and design give the sample design table, its
thresholds the distance bands and the commissioning cohorts, its data source the note on
every pack. Tables whose columns the case data lack (need items, placement numbers) are
left out of every pack, and each pack says which and why.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats import cohorts, disclosure, plots, schema
from lacstats import study as studies
from lacstats.cells import xlsx_bytes
from lacstats.errors import DataError, frame_argument, path_argument
from lacstats.outputs import (
    MARKER,
    atomic_write_bytes,
    inside,
    record_files,
    replacing_allowed,
)
from lacstats.results import Result, jsonable
from lacstats.sampling import margin_of_error, sample_size
from lacstats.study import Study

__all__ = [
    "Pack",
    "authority_effects",
    "authority_tables",
    "national_position",
    "write_all",
    "write_pack",
]

SETTING_GROUPS = {
    "foster care": schema.FOSTER_SETTINGS,
    "children's homes": schema.RESIDENTIAL_SETTINGS,
    "residential school": ("residential_school",),
    "secure unit": ("secure_unit",),
    "semi-independent": ("semi_independent",),
    "unregistered": ("unregistered",),
    "with parents or other": ("with_parents", "other"),
}
#: The distance bands of the seed study (far from home: over 100 miles).
DISTANCE_BANDS = [
    (0, 20, "up to 20 miles"),
    (20, 50, "20 to 50 miles"),
    (50, 100, "50 to 100 miles"),
    (100, np.inf, "over 100 miles"),
]
FORMULA = "weekly_cost ~ risk_score + C(placement_setting)"
#: What a pack shows where a mean would be over no children (never ``<NA>`` or ``nan``).
NO_CHILDREN = "no children"
#: What a pack shows where a figure is not available.
NOT_AVAILABLE = "not available"
#: The model of cost without risk scores, for case data that have none.
FORMULA_WITHOUT_RISK = "weekly_cost ~ C(placement_setting)"


def distance_bands(far_miles: float = 100) -> list[tuple[float, float, str]]:
    """The distance bands of a pack: up to 20 miles (the DfE's "at a distance"), 20 to 50,
    50 to the study's far-from-home line and over it (:data:`DISTANCE_BANDS` at 100); the
    bands end at the line whatever it is, so the last band is the far-from-home cohort."""
    edges = sorted({edge for edge in (0, 20, 50) if edge < far_miles} | {far_miles})
    bands = [
        (lo, hi, f"up to {hi:g} miles" if lo == 0 else f"{lo:g} to {hi:g} miles")
        for lo, hi in itertools.pairwise(edges)
    ]
    return [*bands, (edges[-1], np.inf, f"over {edges[-1]:g} miles")]


def _study(study: Study | None) -> Study:
    return studies.south_east() if study is None else study


def _missing(cases: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if c not in cases or cases[c].isna().all()]


def _rules(cases: pd.DataFrame, study: Study) -> tuple[list, dict[str, Any], list[str]]:
    """The cohort rules the case data support, the study's overrides of them, and a note
    for each rule left out."""
    rules, notes = [], []
    for rule in cohorts.DEFAULT_RULES:
        absent = _missing(cases, rule.requires)
        if absent:
            notes.append(f"cohort {rule.name}: the data have no {', '.join(absent)}")
        else:
            rules.append(rule)
    names = {r.name for r in rules}
    overrides = {k: v for k, v in study.thresholds.cohort_overrides().items() if k in names}
    return rules, overrides, notes


def _members(cases: pd.DataFrame, study: Study) -> pd.DataFrame:
    rules, overrides, _ = _rules(cases, study)
    return cohorts.assign(cases, rules, **overrides).fillna(False).astype(bool)


@dataclass(frozen=True)
class Pack(Result):
    """One authority's pack: disclosure-controlled tables, figures and notes.

    Examples
    --------
    >>> from lacstats import reporting, synthetic
    >>> pack = reporting.authority_tables(synthetic.complex_lac(rng=2019), "Medway")
    >>> pack.authority
    'Medway'
    >>> "case_id" in pack.to_frame().columns
    False
    """

    authority: str
    tables: dict[str, pd.DataFrame]
    figures: dict[str, bytes] = field(default_factory=dict)  # PNG bytes
    suppression: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: what the pack leaves out, and why (a table whose columns the data lack)
    notes: tuple[str, ...] = ()
    #: the study's title and the DfE release of its frame (for the pack's notes)
    study: str = ""
    frame_year: int = 2017

    def to_frame(self) -> pd.DataFrame:
        """Every published cell, long: ``table``, ``row``, ``column``, ``value`` (as shown,
        ``c`` where suppressed)."""
        parts = [
            table.astype(object)
            .rename_axis(index="row", columns="column")
            .stack(future_stack=True)
            .rename("value")
            .reset_index()
            .assign(table=name)
            for name, table in self.tables.items()
        ]
        frame = pd.concat(parts, ignore_index=True)
        frame["row"] = frame["row"].astype(str)
        return frame[["table", "row", "column", "value"]]

    def to_dict(self) -> dict[str, Any]:
        """The tables and the suppression record; figures are listed by name only."""
        return {
            "authority": self.authority,
            "tables": {name: jsonable(t.reset_index()) for name, t in self.tables.items()},
            "figures": sorted(self.figures),
            "suppression": jsonable(self.suppression),
            "notes": list(self.notes),
            "study": self.study,
            "frame_year": self.frame_year,
        }


def _columns(authority: str) -> list[str]:
    return [f"children: {authority}", "children: other authorities"]


def _crosstab(labels: pd.Series, mine: np.ndarray, authority: str, order: list[str]):
    counts = pd.DataFrame(
        {
            _columns(authority)[0]: labels[mine].value_counts().reindex(order, fill_value=0),
            _columns(authority)[1]: labels[~mine].value_counts().reindex(order, fill_value=0),
        }
    )
    return counts


def _setting_group(cases: pd.DataFrame) -> pd.Series:
    out = pd.Series("with parents or other", index=cases.index)
    for label, settings in SETTING_GROUPS.items():
        out[cases["placement_setting"].isin(settings).to_numpy()] = label
    return out


def _distance_band(cases: pd.DataFrame, bands=DISTANCE_BANDS) -> pd.Series:
    miles = cases["distance_miles"]
    out = pd.Series("distance unknown", index=cases.index)
    for lo, hi, label in bands:
        out[((miles > lo) | (lo == 0)) & (miles <= hi)] = label
    return out


def _region_indicators(
    cases: pd.DataFrame, study: Study | None = None
) -> dict[str, tuple[pd.DataFrame, bool]]:
    """Every count table of the packs as who each row counts (cases x rows, booleans),
    and whether its rows are exclusive (a column total means something). Tables whose
    columns the data lack are left out."""
    study = _study(study)

    def one_hot(labels: pd.Series, order: list[str]) -> pd.DataFrame:
        return pd.DataFrame({label: (labels == label).to_numpy() for label in order})

    tables = {
        "placement settings": (one_hot(_setting_group(cases), list(SETTING_GROUPS)), True),
    }
    if not _missing(cases, ["distance_miles"]):
        bands = distance_bands(study.thresholds.far_miles)
        order = [label for *_, label in bands] + ["distance unknown"]
        tables["distance from home"] = (one_hot(_distance_band(cases, bands), order), True)
    if not _missing(cases, schema.NEED_ITEMS):
        prevalent = cases[list(schema.NEED_ITEMS)].astype(float) >= schema.PREVALENCE_SCORE
        prevalent.columns = [i.replace("risk_", "").replace("_", " ") for i in prevalent.columns]
        tables["needs scored 4-5"] = (prevalent.reset_index(drop=True), False)
    tables["commissioning cohorts"] = (_members(cases, study).reset_index(drop=True), False)
    return tables


def _region_counts(
    cases: pd.DataFrame, study: Study | None = None
) -> dict[str, tuple[pd.DataFrame, bool]]:
    """Every count table of the packs over the whole region: categories x authorities,
    and whether its rows are exclusive."""
    names = cases["authority"].astype(str).to_numpy()
    authorities = sorted(set(names))
    return {
        name: (
            who.groupby(names).sum().T.reindex(columns=authorities).fillna(0).astype(int),
            exclusive,
        )
        for name, (who, exclusive) in _region_indicators(cases, study).items()
    }


def _same_counts(
    indicators: dict[str, tuple[pd.DataFrame, bool]],
) -> list[list[tuple[str, str]]]:
    """Groups of published rows, across tables, that count the same children (the distance
    sheet's last band and the keeping_local cohort, violence among the needs and the
    cohorts, every exclusive table's Total): each is one quantity, in every column."""
    by_members: dict[bytes, list[tuple[str, str]]] = {}
    for name, (who, exclusive) in indicators.items():
        rows = {str(row): who[row].to_numpy(dtype=bool) for row in who.columns}
        if exclusive:
            rows[disclosure.TOTAL] = np.ones(len(who), dtype=bool)
        for row, members in rows.items():
            if members.any():
                by_members.setdefault(np.packbits(members).tobytes(), []).append((name, row))
    return [group for group in by_members.values() if len({t for t, _ in group}) > 1]


def region_suppression(
    cases: pd.DataFrame, *, threshold: int = 5, study: Study | None = None
) -> dict[str, disclosure.Suppressed]:
    """Disclosure control of every pack of a region as one set.

    Each count table of the packs is suppressed once, over the whole region (categories x
    authorities, with the regional totals), primary and secondary
    (:func:`lacstats.disclosure.suppress`); each pack then shows its authority's column,
    the rest of the region and the regional total, hiding "the rest of the region" wherever
    the authority's cell or the regional total is hidden. So the packs together publish
    exactly the region's suppressed table: no cell hidden in one pack can be recovered by
    differencing the others and the regional totals. A count that appears in more than one
    table (the same children counted: the distance sheet's far band and the keeping_local
    cohort, violence among the needs and the cohorts, the Total of every exclusive table)
    is suppressed in all of them wherever it is suppressed in one; then an attacker holding
    every pack solves for each hidden count (:func:`lacstats.disclosure.suppress_tables`)
    and more is suppressed until none from 1 to 4 can be recovered. ``study`` (default the
    South East project) gives the distance bands and the cohorts' thresholds.
    """
    if not isinstance(threshold, int | np.integer) or threshold < 2:
        raise DataError(f"argument 'threshold' must be a whole number >= 2; got {threshold!r}")
    cases = schema.validate(cases, authorities=cases["authority"].astype(str).unique())
    indicators = _region_indicators(cases, study)
    counts = _region_counts(cases, study)
    return disclosure.suppress_tables(
        {name: table for name, (table, _) in counts.items()},
        threshold=threshold,
        margins={name: exclusive for name, (_, exclusive) in counts.items()},
        same=_same_counts(indicators),
    )


def _controlled(
    name: str,
    region: disclosure.Suppressed,
    authority: str,
    log: list,
    *,
    drop_total_row: bool = False,
) -> disclosure.Suppressed:
    """``authority``'s view of a region-wide suppressed table (see region_suppression)."""
    full = region.table.where(~region.mask, 0).astype(np.int64)
    counts = pd.DataFrame(
        {
            _columns(authority)[0]: full[authority],
            _columns(authority)[1]: full[disclosure.TOTAL] - full[authority],
            disclosure.TOTAL: full[disclosure.TOTAL],
        }
    )
    # hidden values are never carried into the table: take them from the region's counts
    hidden_own, hidden_total = region.mask[authority], region.mask[disclosure.TOTAL]
    mask = pd.DataFrame(
        {
            _columns(authority)[0]: hidden_own,
            _columns(authority)[1]: hidden_own | hidden_total,
            disclosure.TOTAL: hidden_total,
        }
    )
    reasons = {(r.row, r.column): r.reason for r in region.record.itertuples()}
    record = []
    for row in mask.index:
        for column in mask.columns:
            if not mask.loc[row, column]:
                continue
            source = authority if column == _columns(authority)[0] else disclosure.TOTAL
            reason = reasons.get(
                (row, source), "secondary: the rest of the region beside a suppressed cell"
            )
            if column == _columns(authority)[1]:
                reason = "secondary: the rest of the region beside a suppressed cell"
            record.append({"row": row, "column": column, "reason": reason, "table": name})
    if record:
        log.append(pd.DataFrame(record))
    if drop_total_row:  # a sum over non-exclusive rows means nothing: do not publish it
        counts, mask = counts.drop(index=disclosure.TOTAL), mask.drop(index=disclosure.TOTAL)
    shown = counts.astype(object).mask(mask, disclosure.SUPPRESSED)
    return disclosure.Suppressed(shown, mask, pd.DataFrame(record), region.threshold)


def authority_tables(
    cases: pd.DataFrame,
    authority: str,
    *,
    effects: pd.DataFrame | None = None,
    threshold: int = 5,
    region: dict[str, disclosure.Suppressed] | None = None,
    national: pd.DataFrame | None = None,
    study: Study | None = None,
    notes: tuple[str, ...] = (),
) -> Pack:
    """The disclosure-controlled tables of ``authority``'s pack (see the module docstring).
    ``notes`` are added to what the pack says it leaves out, and why.

    ``region`` is :func:`region_suppression` of the same cases and study (computed when
    not given): every pack of a region is suppressed as one set. ``study`` (default the
    South East project) gives the frame and design of the sample design table, the
    distance bands and the cohorts' thresholds.

    Examples
    --------
    >>> from lacstats import reporting, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> pack = reporting.authority_tables(cases, "Medway")
    >>> sorted(pack.tables)[:4]
    ['commissioning cohorts', 'commissioning cohorts (weekly cost)', 'distance from home', 'needs scored 4-5']
    """
    frame_argument(cases, "cases")
    study = _study(study)
    if region is None:
        region = region_suppression(cases, threshold=threshold, study=study)
    threshold = next(iter(region.values())).threshold
    cases = schema.validate(cases, authorities=cases["authority"].astype(str).unique())
    names = cases["authority"].astype(str)
    if authority not in set(names):
        raise DataError(
            f"no cases for authority {authority!r}; authorities: {sorted(set(names))}",
            column="authority",
        )
    mine = (names == authority).to_numpy()
    log: list[pd.DataFrame] = []
    tables: dict[str, pd.DataFrame] = {}

    n = int(mine.sum())
    n_hidden = bool(region["placement settings"].mask.loc[disclosure.TOTAL, authority])
    population = _population(authority, study)
    design = {"authority": authority, "cases in the sample": "c" if n_hidden else n}
    if population is not None:
        conf = f"{study.confidence:.0%}"
        design.update(
            {
                f"frame: {study.frame_description}": population,
                f"design sample ({study.convention.upper()}, {conf}, +/-{study.interval:g})": int(
                    sample_size(
                        population,
                        confidence=study.confidence,
                        interval=study.interval,
                        convention=study.convention,
                    )
                ),
                f"achieved interval (+/- points, {conf})": (
                    "c"
                    if n_hidden
                    else round(
                        float(
                            margin_of_error(
                                min(n, population), population, confidence=study.confidence
                            )
                        ),
                        1,
                    )
                ),
            }
        )
    tables["sample design"] = pd.DataFrame([design]).set_index("authority")

    groups = _setting_group(cases)
    settings = _crosstab(groups, mine, authority, list(SETTING_GROUPS))
    controlled = _controlled("placement settings", region["placement settings"], authority, log)
    shares = settings / settings.sum()
    share_names = {c: c.replace("children:", "share:") for c in settings.columns}
    tables["placement settings"] = controlled.table
    tables["placement settings (share)"] = disclosure.apply(
        shares.round(3).rename(columns=share_names), controlled.mask.rename(columns=share_names)
    )

    cost = cases.groupby([groups, mine])["weekly_cost"].mean().unstack()
    cost = cost.reindex(index=list(SETTING_GROUPS), columns=[True, False])
    cost.columns = [f"mean weekly cost (GBP): {authority}", "mean weekly cost (GBP): others"]
    cost_mask = controlled.mask.iloc[:-1, :2].copy()
    cost_mask.columns = cost.columns
    tables["weekly cost by setting"] = disclosure.apply(
        cost.round(0).astype("Int64"), cost_mask
    ).map(lambda v: NO_CHILDREN if v is pd.NA else v)  # a mean over no children is no cost

    left_out = list(notes)
    notes = left_out
    if "distance from home" in region:
        tables["distance from home"] = _controlled(
            "distance from home", region["distance from home"], authority, log
        ).table
    else:
        notes.append("distance from home: the data have no distance_miles")
    if "needs scored 4-5" in region:
        tables["needs scored 4-5"] = _controlled(
            "needs scored 4-5", region["needs scored 4-5"], authority, log, drop_total_row=True
        ).table
    else:
        absent = _missing(cases, schema.NEED_ITEMS)
        notes.append(f"needs scored 4-5: the data have no {', '.join(absent)}")
    notes.extend(_rules(cases, study)[2])

    member = _members(cases, study)
    cohort_result = _controlled(
        "commissioning cohorts",
        region["commissioning cohorts"],
        authority,
        log,
        drop_total_row=True,
    )
    tables["commissioning cohorts"] = cohort_result.table
    weekly = pd.DataFrame(
        {
            f"weekly cost (GBP): {authority}": [
                cases.loc[mine & member[c].to_numpy(), "weekly_cost"].sum() for c in member.columns
            ],
            "weekly cost (GBP): others": [
                cases.loc[~mine & member[c].to_numpy(), "weekly_cost"].sum()
                for c in member.columns
            ],
        },
        index=member.columns,
    )
    weekly_mask = cohort_result.mask.iloc[:, :2].copy()
    weekly_mask.columns = weekly.columns
    tables["commissioning cohorts (weekly cost)"] = disclosure.apply(
        weekly.round(0).astype("Int64"), weekly_mask
    )
    if effects is not None:
        tables["authority effect"] = _effect_table(effects, authority)
    if national is not None:
        tables["national position"] = national_position(national, authority)

    tables = {name: _no_missing(table) for name, table in tables.items()}
    record = (
        pd.concat(log, ignore_index=True)
        if log
        else pd.DataFrame(columns=["row", "column", "reason", "table"])
    )
    figures = _figures(authority, settings, controlled, effects)
    return Pack(
        authority,
        tables,
        figures=figures,
        suppression=record,
        notes=tuple(notes),
        study=study.title,
        frame_year=study.frame_year,
    )


def _no_missing(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every missing cell (``<NA>``, ``nan``, ``None``) said in words."""
    if not table.isna().to_numpy().any():
        return table
    return table.astype(object).where(table.notna(), NOT_AVAILABLE)


def _shown(value: Any) -> Any:
    """A cell as a pack's page shows it: whole numbers with thousands separators, others
    with as many decimals as they have (at most three), text as it is."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return value
    if pd.isna(value):
        return NOT_AVAILABLE
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.3f}".rstrip("0").rstrip(".")


def _population(authority: str, study: Study) -> int | None:
    """``authority``'s children in the study's frame (None when it is not in the frame or
    the release suppressed its count)."""
    frame = _frame_of(study.frame_year)
    rows = frame[frame["authority"] == authority]
    if rows.empty or study.population not in frame:
        return None
    value = rows[study.population].iloc[0]
    return None if pd.isna(value) else int(value)


@functools.lru_cache(maxsize=8)
def _frame_of(year: int) -> pd.DataFrame:
    """Every authority of the DfE release of ``year`` (read once for all the packs)."""
    from lacstats.datasets import authority_frame

    return authority_frame(year)


def authority_effects(
    cases: pd.DataFrame, *, fast: bool = False, rng: int | np.random.Generator | None = None
) -> pd.DataFrame:
    """Authority effects on log weekly cost, adjusted for risk (when the data have risk
    scores) and setting: the Bayesian hierarchical model, or with ``fast`` the frequentist
    mixed model (statsmodels MixedLM, with conditional standard errors). Columns
    ``group``, ``mean``, ``ci_low``, ``ci_high``, ``level`` (the interval's probability,
    0.95), ``n``, ``method``, ``adjusted_for``.

    Examples
    --------
    >>> from lacstats import reporting, synthetic
    >>> effects = reporting.authority_effects(synthetic.complex_lac(rng=2019), fast=True)
    >>> effects.columns.tolist()
    ['group', 'mean', 'ci_low', 'ci_high', 'level', 'n', 'method', 'adjusted_for']
    >>> len(effects), effects["method"].iloc[0]
    (19, 'mixed model (REML), conditional 95% interval')
    """
    cases = cases.assign(authority=cases["authority"].astype(str))
    formula = FORMULA if not _missing(cases, ["risk_score"]) else FORMULA_WITHOUT_RISK
    adjusted = "risk and setting" if formula == FORMULA else "setting"
    # a weekly cost of 0 (a child placed with parents) is a real case, but the lognormal
    # model is of positive costs: it is fitted to those, and the others are counted
    free = int((cases["weekly_cost"] <= 0).sum())
    if free:
        cases = cases[cases["weekly_cost"] > 0]
        adjusted += f" (fitted to the cases with a weekly cost; {free:,} with none left out)"
    if fast:
        from lacstats.regression import fit

        res = fit(cases, formula, family="lognormal", groups="authority").model
        blups = {g: float(v.iloc[0]) for g, v in res.random_effects.items()}
        sds = {g: float(np.sqrt(np.asarray(c)[0, 0])) for g, c in res.random_effects_cov.items()}
        counts = cases["authority"].value_counts()
        z = float(stats.norm.ppf(0.975))
        rows = [
            {
                "group": g,
                "mean": m,
                "ci_low": m - z * sds[g],
                "ci_high": m + z * sds[g],
                "level": 0.95,
                "n": int(counts[g]),
                "method": "mixed model (REML), conditional 95% interval",
            }
            for g, m in blups.items()
        ]
        return pd.DataFrame(rows).assign(adjusted_for=adjusted)
    from lacstats.hierarchical import HierarchicalModel

    fit_ = HierarchicalModel(formula, group="authority").fit(cases, rng=rng, progress=False)
    out = fit_.group_effects(level=0.95)
    out = out[["group", "mean", "ci_low", "ci_high", "level", "n"]]
    return out.assign(
        method="Bayesian hierarchical model, 95% central interval", adjusted_for=adjusted
    )


NATIONAL_MEASURES = {
    "far": ("placed over 20 miles from home (% of known distance)", 100),
    "residential": ("in children's homes, secure units, semi-independent (%)", 100),
    "private": ("placed with private providers (%)", 100),
    "rate": ("looked after per 10,000 children", 1),
}


def national_position(positions: pd.DataFrame, authority: str) -> pd.DataFrame:
    """The authority among every English authority (``results/national/
    national_positions.csv``, real public data): for each measure its partial-pooling
    estimate and 90% interval, its rank interval (1 = highest) and whether it is credibly
    above or below the national level. Published aggregates of public releases: no
    suppression applies beyond the releases' own. A table for a reader, as the pack
    prints it: indexed by ``measure`` (with its year), columns ``estimate``, ``90%
    interval low``, ``90% interval high``, ``rank interval``, ``authorities`` and
    ``versus national``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import reporting
    >>> positions = pd.DataFrame({"authority": ["Kent", "Medway"], "measure": ["rate", "rate"], "year": [2019, 2019], "estimate": [52.1, 61.0], "ci_low": [49.8, 55.2], "ci_high": [54.5, 67.1], "rank_low": [90, 40], "rank_high": [110, 80], "above_national": [False, False], "below_national": [True, False]})
    >>> reporting.national_position(positions, "Kent").T
    measure           looked after per 10,000 children, 2019
    estimate                                            52.1
    90% interval low                                    49.8
    90% interval high                                   54.5
    rank interval                                  90 to 110
    authorities                                            2
    versus national                           below national
    """
    frame_argument(positions, "positions")
    mine = positions[positions["authority"] == authority]
    if mine.empty:
        return pd.DataFrame([{"measure": "national position", "estimate": "not estimated"}])
    rows = []
    for _, row in mine.iterrows():
        label, scale = NATIONAL_MEASURES.get(row["measure"], (row["measure"], 1))
        position = (
            "above national"
            if row["above_national"]
            else "below national"
            if row["below_national"]
            else "not credibly different"
        )
        rows.append(
            {
                "measure": f"{label}, {int(row['year'])}",
                "estimate": round(scale * row["estimate"], 1),
                "90% interval low": round(scale * row["ci_low"], 1),
                "90% interval high": round(scale * row["ci_high"], 1),
                "rank interval": f"{int(row['rank_low'])} to {int(row['rank_high'])}",
                "authorities": int((positions["measure"] == row["measure"]).sum()),
                "versus national": position,
            }
        )
    return pd.DataFrame(rows).set_index("measure")


def _effect_table(effects: pd.DataFrame, authority: str) -> pd.DataFrame:
    ranked = effects.sort_values("mean", ascending=False).reset_index(drop=True)
    row = ranked[ranked["group"] == authority]
    if row.empty:
        return pd.DataFrame([{"authority": authority, "effect": "not estimated"}])
    r = row.iloc[0]
    pct = lambda v: round(100 * (np.exp(v) - 1), 1)
    return pd.DataFrame(
        [
            {
                "authority": authority,
                (
                    "weekly cost versus the regional mean, same "
                    f"{r.get('adjusted_for', 'risk and setting')} (%)"
                ): pct(r["mean"]),
                "95% interval low (%)": pct(r["ci_low"]),
                "95% interval high (%)": pct(r["ci_high"]),
                "rank (1 = highest cost)": int(row.index[0]) + 1,
                "authorities": len(ranked),
                "method": r["method"],
            }
        ]
    )


def _figures(authority: str, settings: pd.DataFrame, controlled, effects) -> dict[str, bytes]:
    shares = settings / settings.sum()
    hidden = controlled.mask.iloc[:-1, :2].to_numpy()
    shown = shares.iloc[:, :2].mask(hidden)
    figures = {
        "placement settings": plots.png(
            plots.setting_shares(shown, label=authority, other_label="other authorities")
        )
    }
    if effects is not None:
        figures["authority effects"] = plots.png(
            plots.authority_effects(effects, highlight=authority)
        )
    return figures


_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;margin:2rem auto;
max-width:60rem;color:#222;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f2f4f7}
.note{font-size:.8rem;color:#555}img{max-width:100%}
"""


def render_html(pack: Pack, *, source: str) -> str:
    """The pack as one self-contained HTML page (no external resources)."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(pack.authority)}: looked-after children pack</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(pack.authority)}: placements, costs and needs beside the region</h1>",
        *([f"<p>{html.escape(pack.study)}</p>"] if pack.study else []),
        (
            f"<p class='note'>Source: {html.escape(source)}. Counts from 1 to 4 are shown as "
            "<b>c</b> (suppressed), with further cells suppressed where a total would reveal "
            "them; costs and shares from suppressed counts are suppressed too. No child-level "
            "data are included.</p>"
        ),
    ]
    if pack.notes:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in pack.notes)
        parts.append(f"<p class='note'>Not in this pack:</p><ul class='note'>{items}</ul>")
    for name, table in pack.tables.items():
        parts.append(f"<h2>{html.escape(name.capitalize())}</h2>")
        parts.append(table.map(_shown).to_html(border=0, escape=True))
        if name in pack.figures:
            encoded = base64.b64encode(pack.figures[name]).decode("ascii")
            parts.append(f"<img alt='{html.escape(name)}' src='data:image/png;base64,{encoded}'>")
    parts.append(
        "<p class='note'>Contains public sector information licensed under the "
        f"Open Government Licence v3.0 (DfE children looked after, {pack.frame_year}).</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_pack(pack: Pack, out: str | Path, *, source: str) -> tuple[Path, Path]:
    """Write ``<authority>.html`` and ``<authority>.xlsx`` into ``out`` (atomically).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reporting, synthetic
    >>> pack = reporting.authority_tables(synthetic.complex_lac(rng=2019), "Medway")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     html, xlsx = reporting.write_pack(pack, Path(folder) / "packs", source="the calibrated synthetic sample")
    ...     print(html.name, xlsx.name)
    ...
    Medway.html Medway.xlsx
    """
    out = Path(out)
    stem = _stem(pack.authority)
    html_path, xlsx_path = inside(out, f"{stem}.html"), inside(out, f"{stem}.xlsx")
    atomic_write_bytes(html_path, render_html(pack, source=source).encode("utf-8"))
    notes = pd.DataFrame(
        {
            "note": [
                f"{pack.authority}: pack built from {source}.",
                *(f"Not in this pack: {note}." for note in pack.notes),
                (
                    "Counts from 1 to 4 are shown as c; further cells are suppressed where a total "
                    "would reveal them; costs and shares from suppressed counts are suppressed too."
                ),
                (
                    "Contains public sector information licensed under the Open Government Licence "
                    "v3.0."
                ),
            ]
        }
    )
    sheets = {**pack.tables, "notes": notes, "suppression record": pack.suppression}
    # every cell typed and safe (a case table's path or label never runs as a formula)
    workbook = xlsx_bytes(
        sheets, index={name: True for name in pack.tables}, limit=None, thousands=True
    )
    atomic_write_bytes(xlsx_path, workbook)
    return html_path, xlsx_path


def write_all(
    cases: pd.DataFrame,
    out: str | Path,
    *,
    source: str,
    fast: bool = False,
    rng: int | np.random.Generator | None = None,
    authorities: list[str] | None = None,
    threshold: int = 5,
    national: pd.DataFrame | None = None,
    study: Study | None = None,
    synthetic: bool = False,
) -> list[Path]:
    """Packs for ``authorities`` (default: every authority in ``cases``), suppressed as
    one set over the region (:func:`region_suppression`), of ``study`` (default the South
    East project: see :func:`authority_tables`); ``national`` (the national analysis's
    positions table) adds each authority's national position. With ``synthetic`` (the
    cases are a synthetic sample) no authority effect is estimated: it would be the
    generator's draw printed beside a real council's name.

    Every pack is built before anything is written; all of them are then written into a
    staging folder beside ``out`` and moved into ``out`` together, so a run that fails or
    is interrupted half-way leaves ``out`` as it was.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import reporting, synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = reporting.write_all(cases, Path(folder) / "packs", source="the calibrated synthetic sample", fast=True, authorities=["Medway", "Slough"])
    ...     print(sorted(path.name for path in written))
    ...
    ['Medway.html', 'Medway.xlsx', 'Slough.html', 'Slough.xlsx']
    """
    frame_argument(cases, "cases")
    path_argument(out, "out")
    import shutil
    import tempfile

    from lacstats import interrupts

    study = _study(study)
    present = sorted(cases["authority"].astype(str).unique())
    names = authorities or present
    absent = [name for name in names if name not in present]
    if absent:
        raise DataError(
            f"no cases for authorities {absent}; authorities in the data: {present}",
            column="authority",
            values=absent,
        )
    out = Path(os.path.realpath(os.path.expanduser(os.fspath(out))))  # a link, resolved once
    _check_replacing(out, [f"{_stem(name)}.{ext}" for name in names for ext in ("html", "xlsx")])
    region = region_suppression(cases, threshold=threshold, study=study)
    effects, said = None, ()
    if not synthetic:
        effects, said = _effects_if_possible(cases, fast=fast, rng=rng)
    packs = [
        authority_tables(
            cases,
            name,
            effects=effects,
            region=region,
            national=national,
            study=study,
            notes=said,
        )
        for name in names
    ]
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: an existing file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".packs.staging."))
    try:
        staged: list[Path] = []
        for pack in packs:
            staged.extend(write_pack(pack, staging, source=source))
        interrupts.check()
        written = []
        for path in staged:
            final = out / path.name
            os.replace(path, final)
            written.append(final)
        record_files(out, [path.name for path in written])  # the next run may replace these
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _effects_if_possible(
    cases: pd.DataFrame, *, fast: bool, rng
) -> tuple[pd.DataFrame | None, tuple[str, ...]]:
    """The authority effects, or none and the reason when the model cannot be fitted (two
    authorities, a handful of cases, a fit that does not converge): the packs are written
    without it and say so."""
    from lacstats.errors import LacstatsError

    model = "the mixed model" if fast else "the hierarchical model"
    try:
        effects = authority_effects(cases, fast=fast, rng=rng)
    except (LacstatsError, np.linalg.LinAlgError, ValueError) as err:
        return None, (f"authority effect: {model} of cost could not be fitted ({err})",)
    numbers = effects[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
    if not np.isfinite(numbers).all():
        return None, (
            f"authority effect: {model} of cost did not converge (its intervals are not finite)",
        )
    return effects, ()


def _stem(authority: str) -> str:
    """The file name (without suffix) of an authority's pack."""
    return "".join(ch if ch.isalnum() else "_" for ch in authority).strip("_")


def _check_replacing(out: Path, names: list[str]) -> None:
    """Refuse, before any work, to replace a file in ``out`` that lacstats did not write
    there (a user's own ``Kent.html``), unless ``--force`` (:func:`outputs.allow_replacing`)."""
    from lacstats.outputs import OutputError, foreign_files

    if not out.is_dir() or replacing_allowed():
        return
    listed = (
        {entry.split(" (")[0] for entry in foreign_files(out)}
        if (out / MARKER).is_file()
        else None
    )
    theirs = [
        name for name in names if (out / name).exists() and (listed is None or name in listed)
    ]
    if theirs:
        raise OutputError(
            f"{out}: would replace {', '.join(theirs[:5])}"
            f"{f' and {len(theirs) - 5} more' if len(theirs) > 5 else ''}, which lacstats did "
            "not write (or which changed since); move them, choose another folder, or pass "
            "--force"
        )
