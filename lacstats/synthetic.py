"""The calibrated synthetic South East Complex LAC sample.

The project's case database (1,253 cases from 19 authorities; Evans, "South East Needs
DfE Project: SE Fostering Group", SESLIP, 2020) is confidential. This module builds a
synthetic table of the same shape whose case-level figures reproduce every published aggregate exactly, for any
``rng``; the joint structure between the published margins is modelled, not observed.

How it is built (each step draws from one ``numpy.random.Generator``):

1. **Cases per authority.** Each authority's CRS design size from its looked-after children
   aged 10+ at 31 March 2017 (:func:`lacstats.sampling.design`, total 1,268) is scaled to
   the 1,253 cases actually returned by largest remainder (:func:`authority_counts`): the
   published total is 15 short of the design, and the shortfall is spread in proportion.
2. **Need profiles.** Each child belongs to one of five latent need profiles
   (:data:`PROFILES`); the nine need items (seven risk factors, mental health, learning
   disability, scored 1-5) are drawn from the profile's item distributions.
3. **High-cost residential children (114).** 96 in counties, 18 in unitaries, spread over
   authorities in proportion to their sample sizes. Settings, totals, minima and maxima per
   authority type are the published ones; costs are drawn within those bounds (37 at
   £6,000 or more) and then fitted to the published totals (:func:`fit_to_total`); higher
   costs go, noisily, to children with higher risk scores (a weak relationship). Exactly 62
   have needs mostly or completely met, 45 are over 100 miles from home, 81 have been in
   placement under a year, 86 have a recorded previous placement (51 residential, 23
   foster, 12 other; 46 of the 86 moves raised the cost) and 2 have no need item scored 4-5.
4. **The other 1,139 children.** Settings are drawn from a mix tilted towards residential
   care by profile (:data:`SETTING_MIX`): the project asked for each authority's most
   expensive placements, and the published spend share (114 children, 17.9% of weekly
   spend) implies a sample mean of about £2,970 a week, far above a sample in line with the
   all-placements mix of looked-after children aged 10+. Costs are drawn per setting (log
   normal, weakly rising with risk, with an authority effect), children's homes below
   £4,800, and fitted so that the 114 make up 17.9% of spend. 41 have an unknown distance
   (unaccompanied asylum-seeking children first, as in SSDA903, where distance is blank for
   them) and 155 are over 100 miles from home, so that 200 of the 1,212 with a known
   distance (16.5%) are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lacstats import cohorts, datasets, schema
from lacstats.datasets import (
    PUBLISHED_SETTING_LABELS,
    published_findings,
    south_east_authorities,
)
from lacstats.errors import DataError, frame_argument, rng_argument
from lacstats.results import Result
from lacstats.sampling import design, largest_remainder

__all__ = [
    "PROFILES",
    "SETTING_MIX",
    "SyntheticSample",
    "Truth",
    "authority_counts",
    "calibrated_sample",
    "complex_lac",
    "fit_to_total",
    "high_cost_shares",
    "population_like",
    "sample",
    "study_sample",
]

HIGH_COST = cohorts.HIGH_COST
#: Generator settings that method checks recover (the truth beside each estimate): the
#: rise in log weekly cost per standard deviation of risk score, and the standard deviation
#: of the authorities' effects on log weekly cost (both for the children outside the
#: high-cost residential group, whose costs the published table fixes).
RISK_COST_PER_SD = 0.03
AUTHORITY_EFFECT_SD = 0.07

# Score distributions over 1..5 (1 = none ... 5 = most prevalence).
_LOW = (0.50, 0.24, 0.16, 0.07, 0.03)
_MID = (0.22, 0.24, 0.26, 0.17, 0.11)
_HIGH = (0.04, 0.08, 0.16, 0.36, 0.36)


@dataclass(frozen=True)
class Profile:
    name: str
    share: float  # in the sample outside the high-cost residential group
    share_high_cost: float  # among the 114 high-cost residential children
    high: tuple[str, ...]
    mid: tuple[str, ...] = ()


#: Latent need profiles of the synthetic population (names say which items dominate).
PROFILES: tuple[Profile, ...] = (
    Profile("lower_need", 0.34, 0.06, (), ("mental_health",)),
    Profile(
        "exploitation_and_missing",
        0.20,
        0.30,
        ("risk_missing", "risk_cse", "risk_cce", "risk_substance"),
        ("risk_offending", "risk_self_harm", "mental_health"),
    ),
    Profile(
        "violence_and_offending",
        0.17,
        0.30,
        ("risk_violence", "risk_offending", "risk_cce", "risk_substance"),
        ("risk_missing", "mental_health"),
    ),
    Profile(
        "mental_health_and_self_harm",
        0.18,
        0.22,
        ("mental_health", "risk_self_harm"),
        ("risk_missing", "risk_violence", "risk_substance"),
    ),
    Profile(
        "learning_disability",
        0.11,
        0.12,
        ("learning_disability",),
        ("risk_violence", "mental_health"),
    ),
)

#: Base setting mix outside the high-cost residential group, and per-profile multipliers.
SETTING_MIX: dict[str, float] = {
    "foster_in_house": 0.085,
    "foster_ifa": 0.24,
    "foster_kinship": 0.025,
    "residential_la_own": 0.07,
    "residential_other_la": 0.02,
    "residential_private": 0.27,
    "residential_school": 0.05,
    "secure_unit": 0.02,
    "semi_independent": 0.135,
    "unregistered": 0.03,
    "with_parents": 0.015,
    "other": 0.04,
}
_PROFILE_TILT: dict[str, dict[str, float]] = {
    "lower_need": {
        "foster_in_house": 1.8,
        "foster_ifa": 1.6,
        "foster_kinship": 2.0,
        "residential_private": 0.7,
        "secure_unit": 0.3,
        "unregistered": 0.4,
        "with_parents": 2.0,
    },
    "exploitation_and_missing": {
        "residential_private": 1.3,
        "unregistered": 1.8,
        "secure_unit": 1.8,
        "foster_in_house": 0.6,
    },
    "violence_and_offending": {
        "residential_private": 1.4,
        "secure_unit": 2.5,
        "residential_la_own": 1.2,
        "foster_in_house": 0.5,
        "foster_ifa": 0.7,
    },
    "mental_health_and_self_harm": {"residential_private": 1.1, "other": 2.0},
    "learning_disability": {"residential_school": 5.0, "semi_independent": 0.4},
}

# Weekly cost (GBP) per setting: median, log-scale spread, bounds.
_COSTS: dict[str, tuple[float, float, float, float]] = {
    "foster_in_house": (480, 0.30, 200, 1500),
    "foster_ifa": (960, 0.25, 550, 3000),
    "foster_kinship": (320, 0.35, 120, 1000),
    "residential_la_own": (3700, 0.15, 2400, HIGH_COST - 1),
    "residential_other_la": (3800, 0.15, 2600, HIGH_COST - 1),
    "residential_private": (4150, 0.12, 2800, HIGH_COST - 1),
    "residential_school": (4300, 0.35, 1500, 9500),
    "secure_unit": (6400, 0.18, 4200, 11500),
    "semi_independent": (2100, 0.55, 400, 7500),
    "unregistered": (5400, 0.35, 1800, 12000),
    "with_parents": (160, 0.6, 0, 800),
    "other": (1500, 0.7, 150, 6000),
}
_DISTANCE_MEDIAN = {  # miles from home, for placements within 100 miles
    "foster_in_house": 5,
    "foster_kinship": 8,
    "foster_ifa": 16,
    "residential_la_own": 12,
    "residential_other_la": 30,
    "residential_private": 35,
    "residential_school": 35,
    "secure_unit": 45,
    "semi_independent": 10,
    "unregistered": 30,
    "with_parents": 4,
    "other": 15,
}
_FAR_WEIGHT = {  # relative chance of being more than 100 miles from home
    "foster_in_house": 0.05,
    "foster_kinship": 0.2,
    "foster_ifa": 0.9,
    "residential_la_own": 0.2,
    "residential_other_la": 2.0,
    "residential_private": 2.6,
    "residential_school": 2.6,
    "secure_unit": 3.5,
    "semi_independent": 0.6,
    "unregistered": 3.0,
    "with_parents": 0.05,
    "other": 1.0,
}


@dataclass(frozen=True)
class Truth:
    """What the generator set, which a method check recovers: it travels with the sample,
    never as columns of the case table (a user's table may have columns of any name).

    Examples
    --------
    >>> from lacstats import synthetic
    >>> truth = synthetic.calibrated_sample(rng=2019).truth
    >>> len(truth.authority_effects), truth.need_profiles.nunique()
    (19, 5)
    """

    #: each authority's effect on log weekly cost (None: the generator set none)
    authority_effects: pd.Series | None
    #: each child's latent need profile, indexed by ``case_id``
    need_profiles: pd.Series | None


@dataclass(frozen=True)
class SyntheticSample(Result):
    """A synthetic case table and the generator's truth behind it.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> drawn = synthetic.calibrated_sample(rng=2019)
    >>> len(drawn.cases), "authority_effect" in drawn.cases
    (1253, False)
    """

    cases: pd.DataFrame
    truth: Truth

    def to_frame(self) -> pd.DataFrame:
        return self.cases.copy()


@dataclass(frozen=True)
class _Targets:
    """The published figures the sample must reproduce, read from published_findings."""

    cases: int
    cells: dict  # (authority type, setting) -> (children, weekly total, min, max)
    cost_6000: int
    needs_met: int
    far_high_cost: int
    far_all: int
    unknown_distance: int
    under_a_year: int
    previous: dict  # residential / foster / other -> moves
    increased: int
    no_prevalence: int
    spend_share: tuple[float, float]


def _percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


@cache
def _targets() -> _Targets:
    figures = published_findings()
    hc, local = figures["high_cost_residential"], figures["keeping_local"]
    cases = figures["sample"]["cases"]
    cells = {
        (row["authority_type"], PUBLISHED_SETTING_LABELS[row["setting"]]): (
            row["children"],
            row["weekly_total"],
            row["min"],
            row["max"],
        )
        for row in hc["by_setting"]
    }
    # 200 is 16.5% of the known distances: 1,212 known, the rest unknown
    known = round(local["children_over_100_miles"] / _percent(local["percent_text"]))
    share = _percent(hc["share_of_spend_text"])  # printed to one decimal: stay inside
    moves = hc["placement_changes"]
    previous = {
        "residential": hc["moved_from_residential"],
        "foster": hc["moved_from_foster_care"],
        "other": moves - hc["moved_from_residential"] - hc["moved_from_foster_care"],
    }
    return _Targets(
        cases=cases,
        cells=cells,
        cost_6000=hc["cost_6000_plus"],
        needs_met=hc["needs_mostly_or_completely_met"],
        far_high_cost=hc["placed_over_100_miles"],
        far_all=local["children_over_100_miles"],
        unknown_distance=cases - known,
        under_a_year=hc["in_placement_under_1_year"],
        previous=previous,
        increased=hc["changes_with_increased_cost"],
        no_prevalence=hc["no_prevalence_any_factor"],
        spend_share=(share - 0.0004, share + 0.0004),
    )


_WEAK_BAND = (0.05, 0.25)  # Spearman of risk score and cost among the 114


def authority_counts(year: int = 2017) -> pd.DataFrame:
    """Cases per authority: the CRS design scaled to the 1,253 cases returned.

    Columns ``authority``, ``authority_type``, ``lac_10_plus``, ``design_n`` (CRS, 95%,
    +/-10) and ``n`` (largest-remainder share of 1,253 in proportion to ``design_n``).

    Examples
    --------
    >>> from lacstats import synthetic
    >>> counts = synthetic.authority_counts(2017)
    >>> counts.head(3)
               authority authority_type  lac_10_plus  design_n   n
    0   Bracknell Forest        Unitary           83        45  45
    1  Brighton and Hove        Unitary          313        74  73
    2    Buckinghamshire         County          288        72  71
    >>> int(counts["n"].sum())
    1253
    """

    frame = south_east_authorities(year)
    plan = design(frame)
    out = frame[["authority", "authority_type", "lac_10_plus"]].copy()
    out["design_n"] = plan.table["n"].to_numpy()
    out["n"] = largest_remainder(out["design_n"].to_numpy(), _targets().cases)
    return out


def fit_to_total(
    values: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: int
) -> np.ndarray:
    """Integers within ``[lower, upper]`` summing to ``total``, close to ``values`` in ratio.

    Every value is multiplied by one common factor (found by bisection) and clipped to its
    bounds; rounding leftovers go, one unit each, to the values with the largest rounding
    remainders that still have room. Raises ``ValueError`` if the total is out of reach.

    Examples
    --------
    >>> import numpy as np
    >>> from lacstats import synthetic
    >>> synthetic.fit_to_total(np.array([10.0, 20.0, 30.0]), lower=np.zeros(3), upper=np.array([5, 50, 50]), total=100)
    array([ 5, 45, 50])
    """
    x = np.asarray(values, dtype=float)
    lo = np.ceil(np.asarray(lower, dtype=float))
    hi = np.floor(np.asarray(upper, dtype=float))
    if not lo.sum() <= total <= hi.sum():
        raise ValueError(f"total {total} outside [{lo.sum()}, {hi.sum()}]")
    x = np.clip(np.maximum(x, 1e-9), np.maximum(lo, 1e-9), np.maximum(hi, 1e-9))
    a, b = -20.0, 20.0
    for _ in range(200):
        mid = (a + b) / 2
        if np.clip(x * np.exp(mid), lo, hi).sum() < total:
            a = mid
        else:
            b = mid
    y = np.clip(x * np.exp((a + b) / 2), lo, hi)
    out = np.clip(np.floor(y), lo, hi)
    remainder = y - out
    gap = int(round(total - out.sum()))
    step = 1 if gap > 0 else -1
    room = (out < hi) if gap > 0 else (out > lo)
    order = np.argsort(-remainder if gap > 0 else remainder, kind="stable")
    order = order[room[order]]
    while gap != 0:
        take = order[: abs(gap)]
        out[take] += step
        gap -= step * len(take)
        room = (out < hi) if step > 0 else (out > lo)
        order = order[room[order]]
        if len(order) == 0 and gap != 0:
            raise ValueError("cannot reach the total within the bounds")
    return out.astype(np.int64)


def _choose(rng: np.random.Generator, k: int, weights: np.ndarray) -> np.ndarray:
    """Exactly ``k`` positions, without replacement, with probability ∝ ``weights``."""
    w = np.asarray(weights, dtype=float)
    mask = np.zeros(len(w), dtype=bool)
    mask[rng.choice(len(w), size=k, replace=False, p=w / w.sum())] = True
    return mask


def _scores(rng: np.random.Generator, profiles: np.ndarray) -> dict[str, np.ndarray]:
    by_name = {p.name: p for p in PROFILES}
    items: dict[str, np.ndarray] = {}
    for item in schema.NEED_ITEMS:
        probs = np.array(
            [
                _HIGH if item in by_name[p].high else _MID if item in by_name[p].mid else _LOW
                for p in profiles
            ]
        )
        u = rng.random(len(profiles))[:, None]
        items[item] = (u > np.cumsum(probs, axis=1)).sum(axis=1) + 1
    return items


def _lognormal(rng, median, sigma, lower, upper, size):
    """Log-normal draws truncated to [lower, upper] by inverse CDF."""
    dist = stats.lognorm(s=sigma, scale=median)
    a, b = dist.cdf(lower), dist.cdf(upper)
    return dist.ppf(a + (b - a) * rng.random(size))


def _setting_costs(rng, settings: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Whole-pound weekly costs drawn from each setting's distribution where ``where``."""
    out = np.full(len(settings), np.nan)
    for setting, (median, sigma, lo, hi) in _COSTS.items():
        sel = where & (settings == setting)
        out[sel] = np.round(_lognormal(rng, median, sigma, lo, hi, int(sel.sum())))
    return out


def _high_cost_costs(
    rng, types: np.ndarray, settings: np.ndarray, key: np.ndarray, targets: _Targets
):
    """Weekly costs of the 114 that reproduce the published table, higher for higher key."""
    cost = np.zeros(len(types), dtype=np.int64)
    n_unitary_6000 = int(rng.integers(4, 8))  # besides the 7,617 maximum
    n_county_6000 = targets.cost_6000 - 2 - n_unitary_6000  # besides the 10,700 maximum
    for (kind, setting), (n, total, low, high) in targets.cells.items():
        cell = np.flatnonzero((types == kind) & (settings == setting))
        assert len(cell) == n
        if low == high:
            cost[cell] = low
            continue
        k = n_county_6000 if kind == "County" else n_unitary_6000
        over = np.zeros(n - 2, dtype=bool)
        over[:k] = True
        lo = np.where(over, 6000, low)
        hi = np.where(over, high, 5999)
        draw = np.where(
            over,
            6000 + rng.gamma(1.6, (high - 6000) / 6, n - 2),
            low + rng.beta(1.3, 1.2, n - 2) * (5999 - low),
        )
        free = fit_to_total(np.clip(draw, lo, hi), lo, hi, total - low - high)
        values = np.sort(np.concatenate([[low, high], free]))
        cost[cell[np.argsort(key[cell], kind="stable")]] = values
    return cost


def complex_lac(rng: int | np.random.Generator | None = 2019) -> pd.DataFrame:
    """Build the calibrated synthetic sample (see the module docstring); validated.

    One row per case. Columns: the case table's (:data:`lacstats.schema.COLUMNS`, in that
    order), then ``risk_score`` (:func:`lacstats.schema.risk_score` of the need items).

    Each step below draws from the one generator in turn, always in the same order, so
    the same ``rng`` gives the same table. The generator's truth (each authority's effect,
    each child's latent profile) is not a column of the table: :func:`calibrated_sample`
    gives it beside the table.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> len(cases)
    1253
    >>> high_cost = (cases["placement_setting"].isin(["residential_la_own", "residential_other_la", "residential_private"]) & (cases["weekly_cost"] >= 4800))
    >>> int(high_cost.sum())
    114
    """
    return calibrated_sample(rng).cases


def calibrated_sample(rng: int | np.random.Generator | None = 2019) -> SyntheticSample:
    """The calibrated sample (:func:`complex_lac`) with the generator's truth beside it:
    each authority's effect on log weekly cost and each child's latent need profile.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> drawn = synthetic.calibrated_sample(rng=2019)
    >>> len(drawn.cases), sorted(drawn.truth.need_profiles.unique())[:2]
    (1253, ['exploitation_and_missing', 'learning_disability'])
    >>> "need_profile" in drawn.cases, len(drawn.truth.authority_effects)
    (False, 19)
    """
    rng_argument(rng)
    rng = np.random.default_rng(rng)
    targets = _targets()
    counts = authority_counts()
    authority = np.repeat(counts["authority"].to_numpy(), counts["n"].to_numpy())
    kind = np.repeat(counts["authority_type"].to_numpy(), counts["n"].to_numpy())
    high_cost, hc_setting = _high_cost_residential(rng, kind, targets)
    profile, need = _needs(rng, high_cost, targets)
    risk = need[:, : len(schema.RISK_FACTORS)].sum(axis=1)
    # UASC (outside the high-cost group), more likely where the authority has more
    uasc_rate = pd.Series(authority).map(_uasc_rates()).to_numpy()
    uasc = ~high_cost & (rng.random(len(authority)) < uasc_rate)
    setting = _settings(rng, hc_setting, high_cost, profile, uasc)
    age, sex = _ages_and_sex(rng, setting, uasc)
    weekly, effect = _weekly_costs(rng, counts, authority, kind, setting, high_cost, risk, targets)
    distance, in_authority = _distances(rng, kind, setting, high_cost, uasc, targets)
    needs_met, months = _needs_met_and_time(rng, high_cost, age, targets)
    previous, previous_cost = _previous_placements(rng, high_cost, weekly, targets)
    placement_number = np.where(
        pd.isna(previous),
        1,
        2 + rng.geometric(np.where(profile == "violence_and_offending", 0.28, 0.42)) - 1,
    )
    frame = pd.DataFrame(
        {
            "case_id": [f"SE{i + 1:05d}" for i in range(len(authority))],
            "authority": authority,
            "authority_type": kind,
            "age": age,
            "sex": sex,
            "uasc": uasc,
            "placement_setting": setting,
            "registered": ~np.isin(setting, ["unregistered", "semi_independent"]),
            "weekly_cost": weekly.astype(float),
            "distance_miles": distance,
            "in_authority": in_authority,
            "months_in_placement": months,
            "placement_number": placement_number,
            "previous_setting": previous,
            "previous_weekly_cost": previous_cost,
            "needs_met": needs_met,
            **{item: need[:, j] for j, item in enumerate(schema.NEED_ITEMS)},
        }
    )
    cases = schema.validate(frame, authorities=counts["authority"])
    # the truth the method checks recover, beside the table (never columns of it)
    effects = pd.Series(effect, index=authority).groupby(level=0, sort=True).first()
    truth = Truth(
        authority_effects=effects.rename("authority_effect").rename_axis("authority"),
        need_profiles=pd.Series(
            profile, index=cases["case_id"].to_numpy(), name="need_profile"
        ).rename_axis("case_id"),
    )
    return SyntheticSample(cases, truth)


def _high_cost_residential(
    rng: np.random.Generator, kind: np.ndarray, targets: _Targets
) -> tuple[np.ndarray, np.ndarray]:
    """Which children are the high-cost residential 114, and their settings."""
    n = len(kind)
    high_cost = np.zeros(n, dtype=bool)
    hc_setting = np.empty(n, dtype=object)
    for which in ("County", "Unitary"):
        cells = {s: c[0] for (k, s), c in targets.cells.items() if k == which}
        positions = np.flatnonzero(kind == which)
        chosen = rng.choice(positions, size=sum(cells.values()), replace=False)
        high_cost[chosen] = True
        hc_setting[chosen] = np.repeat(list(cells), list(cells.values()))
    return high_cost, hc_setting


def _needs(
    rng: np.random.Generator, high_cost: np.ndarray, targets: _Targets
) -> tuple[np.ndarray, np.ndarray]:
    """Need profiles and item scores; the high-cost group's prevalence as published."""
    n = len(high_cost)
    names = np.array([p.name for p in PROFILES])
    p_rest = np.array([p.share for p in PROFILES])
    p_high = np.array([p.share_high_cost for p in PROFILES])
    profile = np.where(
        high_cost,
        rng.choice(names, size=n, p=p_high / p_high.sum()),
        rng.choice(names, size=n, p=p_rest / p_rest.sum()),
    )
    items = _scores(rng, profile)
    need = np.column_stack([items[i] for i in schema.NEED_ITEMS])
    hc_index = np.flatnonzero(high_cost)
    none_prevalent = rng.choice(hc_index, size=targets.no_prevalence, replace=False)
    need[none_prevalent] = np.minimum(need[none_prevalent], schema.PREVALENCE_SCORE - 1)
    rest = np.setdiff1d(hc_index, none_prevalent)
    lacking = rest[need[rest].max(axis=1) < schema.PREVALENCE_SCORE]
    need[lacking, need[lacking].argmax(axis=1)] = schema.PREVALENCE_SCORE
    return profile, need


#: Settings open to unaccompanied asylum-seeking children in the synthetic sample.
_UASC_SETTINGS = (
    "foster_ifa",
    "foster_in_house",
    "semi_independent",
    "residential_private",
    "other",
)


def _settings(
    rng: np.random.Generator,
    hc_setting: np.ndarray,
    high_cost: np.ndarray,
    profile: np.ndarray,
    uasc: np.ndarray,
) -> np.ndarray:
    """Settings of the other children, tilted by need profile and UASC status."""
    setting = hc_setting.copy()
    base = np.array(list(SETTING_MIX.values()))
    codes = np.array(list(SETTING_MIX))
    for profile_ in PROFILES:
        name = profile_.name
        tilt = np.array([_PROFILE_TILT.get(name, {}).get(s, 1.0) for s in codes])
        for asylum in (False, True):
            w = base * tilt
            if asylum:
                w = w * np.isin(codes, _UASC_SETTINGS)
            who = np.flatnonzero(~high_cost & (profile == name) & (uasc == asylum))
            setting[who] = rng.choice(codes, size=len(who), p=w / w.sum())
    return setting


def _ages_and_sex(
    rng: np.random.Generator, setting: np.ndarray, uasc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ages 10+ only (semi-independent living at 16 and 17), and sex."""
    n = len(setting)
    age = np.where(
        np.isin(setting, [*schema.RESIDENTIAL_SETTINGS, "secure_unit", "unregistered"]),
        rng.choice(np.arange(11, 18), size=n, p=[0.03, 0.06, 0.12, 0.18, 0.22, 0.22, 0.17]),
        rng.choice(np.arange(10, 18), size=n, p=[0.11, 0.11, 0.12, 0.13, 0.14, 0.14, 0.13, 0.12]),
    )
    age = np.where(uasc, rng.choice([15, 16, 17], size=n, p=[0.2, 0.4, 0.4]), age)
    age = np.where(setting == "semi_independent", rng.choice([16, 17], size=n), age)
    sex = np.where(rng.random(n) < np.where(uasc, 0.92, 0.56), "male", "female")
    return age, sex


def _weekly_costs(
    rng: np.random.Generator,
    counts: pd.DataFrame,
    authority: np.ndarray,
    kind: np.ndarray,
    setting: np.ndarray,
    high_cost: np.ndarray,
    risk: np.ndarray,
    targets: _Targets,
) -> tuple[np.ndarray, np.ndarray]:
    """Weekly costs from an authority effect, a weak rise with risk and setting bounds;
    then the others' total set so that the 114 hold the published share of spend. Also
    returns each child's authority effect on log cost (the truth of a method check)."""
    n = len(authority)
    z_risk = (risk - risk.mean()) / risk.std()
    hc_index = np.flatnonzero(high_cost)
    effect = dict(
        zip(counts["authority"], rng.normal(0, AUTHORITY_EFFECT_SD, len(counts)), strict=True)
    )
    auth_effect = pd.Series(authority).map(effect).to_numpy()
    weekly = np.zeros(n, dtype=np.int64)
    # the 114's costs rise only weakly with risk: redraw until Spearman is in the weak band
    for _ in range(1000):
        key = 0.3 * z_risk[hc_index] + rng.normal(size=len(hc_index))
        weekly_hc = _high_cost_costs(rng, kind[hc_index], setting[hc_index], key, targets)
        rho = stats.spearmanr(risk[hc_index], weekly_hc).statistic
        if _WEAK_BAND[0] <= rho <= _WEAK_BAND[1]:
            break
    weekly[hc_index] = weekly_hc
    others = np.flatnonzero(~high_cost)
    raw = np.zeros(len(others))
    lower = np.zeros(len(others))
    upper = np.zeros(len(others))
    for s, (median, sigma, lo, hi) in _COSTS.items():
        sel = setting[others] == s
        scale = median * np.exp(RISK_COST_PER_SD * z_risk[others][sel] + auth_effect[others][sel])
        draw = _lognormal(rng, 1.0, sigma, lo / median, hi / median, int(sel.sum()))
        raw[sel] = np.clip(draw * scale, lo, hi)
        lower[sel], upper[sel] = lo, hi
    share = rng.uniform(*targets.spend_share)
    hc_total = int(weekly_hc.sum())
    target = int(round(hc_total / share)) - hc_total
    weekly[others] = fit_to_total(raw, lower, upper, target)
    return weekly, auth_effect


def _distances(
    rng: np.random.Generator,
    kind: np.ndarray,
    setting: np.ndarray,
    high_cost: np.ndarray,
    uasc: np.ndarray,
    targets: _Targets,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from home (the published counts over 100 miles and unknown) and
    placement inside the authority's boundary."""
    n = len(setting)
    hc_index = np.flatnonzero(high_cost)
    others = np.flatnonzero(~high_cost)
    far = np.zeros(n, dtype=bool)
    far_w = np.array([_FAR_WEIGHT[s] for s in setting])
    far[hc_index] = _choose(rng, targets.far_high_cost, far_w[hc_index])
    unknown = np.zeros(n, dtype=bool)
    unknown[others] = _choose(rng, targets.unknown_distance, np.where(uasc[others], 40.0, 1.0))
    known_others = others[~unknown[others]]
    far[known_others] = _choose(rng, targets.far_all - targets.far_high_cost, far_w[known_others])
    med = np.array([_DISTANCE_MEDIAN[s] for s in setting], dtype=float)
    near_miles = _lognormal(rng, 1.0, 0.9, 0.2 / med, 100 / med, n) * med
    far_miles = 100.1 + rng.gamma(1.5, 35, n)
    distance = np.round(np.where(far, np.minimum(far_miles, 420), near_miles), 1)
    distance = np.where(far, np.maximum(distance, 100.1), np.minimum(distance, 100.0))
    distance = np.where(unknown, np.nan, distance)
    radius = np.where(kind == "County", 22.0, 7.0) * rng.lognormal(0, 0.3, n)
    in_authority = np.where(unknown, rng.random(n) < 0.4, distance <= radius)
    return distance, in_authority


def _needs_met_and_time(
    rng: np.random.Generator, high_cost: np.ndarray, age: np.ndarray, targets: _Targets
) -> tuple[np.ndarray, np.ndarray]:
    """Whether needs are met, and months in the placement (the published shares
    of the 114 met mostly or completely, and placed for under a year)."""
    n = len(high_cost)
    hc_index = np.flatnonzero(high_cost)
    met_levels = np.array(schema.NEEDS_MET)
    needs_met = rng.choice(met_levels, size=n, p=[0.07, 0.25, 0.42, 0.26])
    met = _choose(rng, targets.needs_met, np.ones(len(hc_index)))
    needs_met[hc_index] = np.where(
        met,
        rng.choice(met_levels[2:], size=len(hc_index), p=[0.65, 0.35]),
        rng.choice(met_levels[:2], size=len(hc_index), p=[0.3, 0.7]),
    )
    months = np.round(rng.lognormal(np.log(14), 0.9, n), 1)
    short = _choose(rng, targets.under_a_year, np.ones(len(hc_index)))
    months[hc_index] = np.round(
        np.where(
            short, rng.uniform(0.3, 11.9, len(hc_index)), 12 + rng.gamma(1.3, 10, len(hc_index))
        ),
        1,
    )
    months = np.minimum(months, np.maximum(age - 9, 1) * 12.0)
    return needs_met, months


def _previous_placements(
    rng: np.random.Generator, high_cost: np.ndarray, weekly: np.ndarray, targets: _Targets
) -> tuple[np.ndarray, np.ndarray]:
    """Previous settings and costs; for the 114, the published counts of moves from
    residential, foster and other settings and of moves that raised the weekly cost."""
    n = len(high_cost)
    hc_index = np.flatnonzero(high_cost)
    base = np.array(list(SETTING_MIX.values()))
    codes = np.array(list(SETTING_MIX))
    previous = np.full(n, None, dtype=object)
    had_previous = rng.random(n) < 0.7
    previous[~high_cost & had_previous] = rng.choice(
        codes,
        size=int((~high_cost & had_previous).sum()),
        p=base / base.sum(),
    )
    residential_prev = np.array(schema.ALL_RESIDENTIAL_SETTINGS)
    groups = np.repeat(
        ["residential", "foster", "other", "none"],
        [*targets.previous.values(), len(hc_index) - sum(targets.previous.values())],
    )
    groups = rng.permutation(groups)
    pools = {
        "residential": (residential_prev, [0.15, 0.08, 0.62, 0.07, 0.08]),
        "foster": (np.array(schema.FOSTER_SETTINGS), [0.3, 0.62, 0.08]),
        "other": (np.array(["semi_independent", "unregistered", "other"]), [0.45, 0.3, 0.25]),
    }
    for group, (pool, p) in pools.items():
        who = hc_index[groups == group]
        previous[who] = rng.choice(pool, size=len(who), p=p)
    previous_cost = _setting_costs(rng, previous, ~high_cost & had_previous)
    # high-cost moves: every move from foster care raised the cost; of the other 63, 23 did
    moved = hc_index[groups != "none"]
    from_foster = np.isin(previous[moved], schema.FOSTER_SETTINGS)
    others_moved = moved[~from_foster]
    rose = np.zeros(n, dtype=bool)
    rose[moved[from_foster]] = True
    rose[others_moved] = _choose(
        rng, targets.increased - int(from_foster.sum()), np.ones(len(others_moved))
    )
    foster_moves = np.zeros(n, dtype=bool)
    foster_moves[moved[from_foster]] = True
    previous_cost = np.where(
        foster_moves, _setting_costs(rng, previous, foster_moves), previous_cost
    )
    ratio = np.where(rose, rng.uniform(0.55, 0.97, n), rng.uniform(1.0, 1.3, n))
    other_moves = np.zeros(n, dtype=bool)
    other_moves[others_moved] = True
    previous_cost = np.where(
        other_moves,
        np.where(rose, np.floor(weekly * ratio), np.ceil(weekly * ratio)),
        previous_cost,
    )
    return previous, previous_cost


def _uasc_rates() -> dict[str, float]:

    frame = south_east_authorities(2017)
    rate = (frame["uasc"].astype("Float64") / frame["lac_10_plus"].astype("Float64")).fillna(0.01)
    return dict(
        zip(frame["authority"], np.clip(rate.to_numpy(dtype=float), 0.01, 0.35), strict=True)
    )


def population_like(
    cases: pd.DataFrame,
    sizes: pd.Series | dict[str, int],
    *,
    stratum: str = "authority",
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """A population of children shaped like ``cases``: each stratum resampled to its size.

    Rows are drawn with replacement within each stratum (a stratified bootstrap
    population), given fresh ``case_id`` values, for simulation studies of selection.
    Columns: those of ``cases``, in its order.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> population = synthetic.population_like(cases, {"Kent": 300, "Medway": 120}, rng=1)
    >>> population["authority"].value_counts().to_dict()
    {'Kent': 300, 'Medway': 120}
    """
    frame_argument(cases, "cases")
    rng_argument(rng)
    negative = {
        k: v
        for k, v in dict(sizes).items()
        if not (isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0)
    }
    if negative:
        raise DataError(
            f"argument 'sizes' must give whole numbers >= 0, got {negative}", column="sizes"
        )
    rng = np.random.default_rng(rng)
    sizes = pd.Series(sizes)
    parts = []
    for name, size in sizes.items():
        members = np.flatnonzero(cases[stratum].to_numpy() == name)
        if len(members) == 0:
            raise DataError(f"no cases in stratum {name!r} to resample", column=stratum)
        parts.append(cases.iloc[rng.choice(members, size=int(size), replace=True)])
    out = pd.concat(parts, ignore_index=True)
    out["case_id"] = [f"P{i + 1:06d}" for i in range(len(out))]
    return out


# --------------------------------------------------------------------------- any study

#: How the DfE's placement types share out over the case table's settings. The releases
#: count children by type of placement and, separately, by provider; the shares within a
#: type are lacstats's assumptions for synthetic data, not published figures.
_DFE_SETTINGS: dict[str, dict[str, float]] = {
    # foster care: in-house for the authority's own provision, IFA for private and
    # voluntary providers (from each authority's provider counts); kinship a fixed fifth
    "foster": {},
    # "secure units, children's homes and semi-independent living accommodation"
    "secure_homes_hostels": {
        "residential_la_own": 0.2,
        "residential_other_la": 0.05,
        "residential_private": 0.45,
        "secure_unit": 0.04,
        "semi_independent": 0.24,
        "unregistered": 0.02,
    },
    "residential_school": {"residential_school": 1.0},
    "with_parents": {"with_parents": 1.0},
    "other_residential": {"other": 1.0},
    "other_community": {"other": 1.0},
    "other_placement": {"other": 1.0},
}
_KINSHIP_SHARE = 0.2


def sample(study: Any, *, rng: int | np.random.Generator | None = None) -> pd.DataFrame:
    """An uncalibrated synthetic case table for any study, for demonstrations and tests.

    Each authority of ``study`` (a :class:`lacstats.study.Study`) gets the number of cases
    its design asks for, with the ages (10-15 or 16-17), placement settings and distances
    from home of its own looked-after children in the study's DfE release: settings in
    proportion to the authority's placement types (all ages, as the releases publish them;
    placed for adoption left out, which children aged 10 and over rarely are), split
    within types as :data:`_DFE_SETTINGS` assumes; distances within or over 20 miles, or
    unknown, and inside or outside the boundary, in proportion to its distance columns
    (from the 2017 release where an earlier year lacks them). Needs follow the latent
    profiles of :data:`PROFILES`, costs each setting's distribution, with an upper tail
    that reaches the study's lines as the seed study's did (:func:`high_cost_shares`): of
    each authority's cases, 9.1% on average are in the study's residential settings at its
    high-cost line or more (as many as it has in those settings, if fewer), and 32% of those
    at 1.25 times the line or more (the seed's £6,000 to its £4,800). Case ids are the
    authority's three-letter code and a number (``KEN-001``). Nothing is calibrated to a
    published finding: never present a figure from this table as a fact. One row per
    case. Columns: the case table's (:data:`lacstats.schema.COLUMNS`, in that order), then
    ``risk_score``.

    Examples
    --------
    >>> from lacstats import study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> cases = synthetic.sample(kent_medway, rng=1)
    >>> cases.groupby("authority").size().to_dict()
    {'Kent': 90, 'Medway': 68}
    >>> cases["case_id"].iloc[0]
    'KEN-001'
    """
    return study_sample(study, rng=rng).cases


def study_sample(study: Any, *, rng: int | np.random.Generator | None = None) -> SyntheticSample:
    """:func:`sample` with the generator's truth beside it: each child's latent need
    profile and each authority's effect on log weekly cost (drawn with standard deviation
    :data:`AUTHORITY_EFFECT_SD`, as in the calibrated sample, so that the models across
    authorities have something to find).

    Examples
    --------
    >>> from lacstats import study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> drawn = synthetic.study_sample(kent_medway, rng=1)
    >>> drawn.truth.need_profiles.index[0], drawn.truth.authority_effects.index.tolist()
    ('KEN-001', ['Kent', 'Medway'])
    """
    rng_argument(rng)
    if not hasattr(study, "authorities") or not hasattr(study, "frame"):
        raise DataError(
            f"argument 'study' must be a lacstats.study.Study, got {type(study).__name__}",
            column="study",
        )
    gen = np.random.default_rng(rng)
    frame = study.frame()
    if "inside_within_20_miles" not in frame or frame["inside_within_20_miles"].isna().all():
        distances = datasets.authority_frame(2017, list(study.authorities))
    else:
        distances = frame
    sizes = study.design().table.set_index("stratum")["n"]
    effects = pd.Series(
        gen.normal(0, AUTHORITY_EFFECT_SD, len(frame)),
        index=pd.Index(frame["authority"].astype(str), name="authority"),
        name="authority_effect",
    )
    parts = []
    for _, row in frame.iterrows():
        name = row["authority"]
        far = distances.set_index("authority").loc[name]
        parts.append(
            _authority_sample(
                gen, row, far, int(sizes[name]), study.thresholds, effects[str(name)]
            )
        )
    cases = pd.concat(parts, ignore_index=True)
    profiles = cases.pop("need_profile")
    truth = Truth(
        authority_effects=effects.sort_index(),
        need_profiles=profiles.set_axis(cases["case_id"]),
    )
    return SyntheticSample(schema.validate(cases, authorities=list(study.authorities)), truth)


def _shares(values: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Names and probabilities from counts, missing (suppressed) counted as 2.5, the
    middle of the suppressed range 1-4."""
    names = list(values)
    counts = np.array([2.5 if pd.isna(values[k]) else float(values[k]) for k in names])
    if counts.sum() <= 0:
        counts = np.ones(len(names))
    return names, counts / counts.sum()


def high_cost_shares() -> tuple[float, float, float]:
    """The seed study's published shares that a synthetic study sample's cost tail follows:
    the share of cases in children's homes at the high-cost line or more (114 of 1,253),
    the share of those at £6,000 or more (37 of the 114) and that line's ratio to the
    high-cost line (£6,000 to £4,800). Evans (2020), "South East Needs DfE Project".

    Examples
    --------
    >>> from lacstats import synthetic
    >>> [round(x, 3) for x in synthetic.high_cost_shares()]
    [0.091, 0.325, 1.25]
    """
    from lacstats.findings import HIGH_COST_6000

    targets = _targets()
    high_cost = sum(children for children, *_ in targets.cells.values())
    return high_cost / targets.cases, targets.cost_6000 / high_cost, HIGH_COST_6000 / HIGH_COST


def _authority_sample(
    gen: np.random.Generator,
    row: pd.Series,
    far: pd.Series,
    n: int,
    thresholds: Any,
    effect: float = 0.0,
) -> pd.DataFrame:
    types, p_types = _shares({t: row.get(t) for t in _DFE_SETTINGS})
    own = 0.0 if pd.isna(row.get("provider_own")) else float(row["provider_own"])
    bought = sum(
        0.0 if pd.isna(row.get(c)) else float(row[c])
        for c in ("provider_private", "provider_voluntary")
    )
    in_house = own / (own + bought) if own + bought > 0 else 0.5
    foster = {
        "foster_kinship": _KINSHIP_SHARE,
        "foster_in_house": (1 - _KINSHIP_SHARE) * in_house,
        "foster_ifa": (1 - _KINSHIP_SHARE) * (1 - in_house),
    }
    kind = gen.choice(types, size=n, p=p_types)
    setting = np.empty(n, dtype=object)
    for t in types:
        within = foster if t == "foster" else _DFE_SETTINGS[t]
        who = np.flatnonzero(kind == t)
        names, p = list(within), np.array(list(within.values()), dtype=float)
        setting[who] = gen.choice(names, size=len(who), p=p / p.sum())
    _, p_age = _shares({"10_15": row["lac_10_15"], "16_over": row["lac_16_over"]})
    older = gen.random(n) < p_age[1]
    age = np.where(older, gen.integers(16, 18, n), gen.integers(10, 16, n))
    age = np.where(setting == "semi_independent", np.maximum(age, 16), age)
    bands = {
        band: sum(
            0 if pd.isna(far.get(f"{side}_{band}")) else far[f"{side}_{band}"]
            for side in ("inside", "outside")
        )
        for band in ("within_20_miles", "over_20_miles", "distance_unknown")
    }
    names, p_band = _shares(bands)
    band = gen.choice(names, size=n, p=p_band)
    _, p_inside = _shares(
        {"in": far.get("placed_inside_boundary"), "out": far.get("placed_outside_boundary")}
    )
    miles = np.where(
        band == "within_20_miles",
        np.round(gen.uniform(0.2, 20.0, n), 1),
        np.round(20.1 + gen.gamma(1.3, 30.0, n), 1),
    )
    distance = np.where(band == "distance_unknown", np.nan, miles)
    profile = gen.choice(
        [p.name for p in PROFILES], size=n, p=_normalised([p.share for p in PROFILES])
    )
    items = _scores(gen, profile)
    weekly = np.empty(n)
    for s in np.unique(setting):
        median, sigma, lo, hi = _COSTS[s]
        sel = setting == s
        # the authority's effect on log cost, within the setting's bounds
        drawn = _lognormal(gen, median, sigma, lo, hi, int(sel.sum())) * np.exp(effect)
        weekly[sel] = np.round(np.clip(drawn, lo, hi))
    weekly = _cost_tail(gen, weekly, setting, thresholds)
    code = datasets.short_code(row["authority"])
    return pd.DataFrame(
        {
            "case_id": [f"{code}-{i + 1:03d}" for i in range(n)],
            "authority": row["authority"],
            "authority_type": row["authority_type"],
            "age": age,
            "sex": np.where(gen.random(n) < 0.56, "male", "female"),
            "placement_setting": setting,
            "registered": ~np.isin(setting, ["unregistered", "semi_independent"]),
            "weekly_cost": weekly,
            "distance_miles": distance,
            "in_authority": gen.random(n) < p_inside[0],
            **{item: items[item] for item in schema.NEED_ITEMS},
            "need_profile": profile,
        }
    )


def _cost_tail(
    gen: np.random.Generator, weekly: np.ndarray, setting: np.ndarray, thresholds: Any
) -> np.ndarray:
    """Costs at the study's high-cost line or more for a share of the cases in its
    residential settings, as the seed study's shares go (:func:`high_cost_shares`)."""
    share, top_share, ratio = high_cost_shares()
    homes = np.flatnonzero(np.isin(setting, thresholds.residential_settings))
    k = min(len(homes), int(gen.binomial(len(weekly), share)))
    if k == 0:
        return weekly
    chosen = gen.choice(homes, size=k, replace=False)
    line = float(thresholds.high_cost)
    top = gen.random(k) < top_share
    high = np.minimum(line * ratio * (1 + gen.gamma(1.6, 0.12, k)), schema.MAX_WEEKLY_COST)
    low = gen.uniform(line, line * ratio, k)
    out = weekly.copy()
    out[chosen] = np.where(top, np.ceil(high), np.clip(np.round(low), line, line * ratio - 1))
    return out


def _normalised(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()
