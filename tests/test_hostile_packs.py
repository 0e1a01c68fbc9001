"""Suppression that holds inside a pack and across a region's packs (issue #31 item 4).

The attacker holds every pack of a region and knows what each row means: the distance
sheet's far band counts the same children as the keeping_local cohort, violence is the
same count among the needs and the cohorts, every exclusive table's Total is the
authority's number of cases (as is the sample design's), and some rows are parts of others
(distant without specialist need within keeping_local, a cohort within all cases). For
every hidden count of 1 to 4 they solve for its least and greatest value over all
non-negative whole-number tables agreeing with every published number and these relations
(integer linear programming, scipy's HiGHS). A count is recovered when the two agree.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from lacstats import datasets, disclosure, reporting, schema, study, synthetic

COUNT_TABLES = (
    "placement settings",
    "distance from home",
    "needs scored 4-5",
    "commissioning cohorts",
)
EXCLUSIVE = ("placement settings", "distance from home")


def _relations(chosen: study.Study, tables: dict[str, list[str]]):
    """What the attacker knows of the rows' definitions: equal rows, and rows within rows
    (``(part, whole)``); ``"*"`` is every case of an authority."""
    far = f"over {chosen.thresholds.far_miles:g} miles"
    equal, within = [], []
    cohorts = tables.get("commissioning cohorts", [])
    if "distance from home" in tables and "keeping_local" in cohorts:
        equal.append((("distance from home", far), ("commissioning cohorts", "keeping_local")))
    if "needs scored 4-5" in tables and "violence" in cohorts:
        equal.append((("needs scored 4-5", "violence"), ("commissioning cohorts", "violence")))
    if "distant_without_specialist_need" in cohorts and "keeping_local" in cohorts:
        within.append(
            (
                ("commissioning cohorts", "distant_without_specialist_need"),
                ("commissioning cohorts", "keeping_local"),
            )
        )
    for name in ("needs scored 4-5", "commissioning cohorts"):
        within.extend(((name, row), "*") for row in tables.get(name, []))
    return equal, within


def recovered(packs: dict[str, reporting.Pack], chosen: study.Study, truth) -> list[str]:
    """Every hidden count of 1 to 4 that the attacker pins down, as ``table/row/authority``."""
    authorities = sorted(packs)
    first = packs[authorities[0]]
    tables = {
        name: [r for r in first.tables[name].index if r != disclosure.TOTAL]
        for name in COUNT_TABLES
        if name in first.tables
    }
    cells_of = [
        (name, row, a) for name, rows in tables.items() for row in rows for a in authorities
    ]
    index = {cell: k for k, cell in enumerate(cells_of)}
    size = len(index)
    rows_a, low, high = [], [], []

    def relation(coefficients: dict[int, float], lo: float, hi: float) -> None:
        vector = np.zeros(size)
        for k, c in coefficients.items():
            vector[k] += c
        rows_a.append(vector)
        low.append(lo)
        high.append(hi)

    hidden = []
    for a, pack in packs.items():
        own, rest = f"children: {a}", "children: other authorities"
        for name, rows in tables.items():
            shown = pack.tables[name]
            for r in shown.index:
                covered = rows if r == disclosure.TOTAL else [r]
                for column, who in (
                    (own, [a]),
                    (rest, [b for b in authorities if b != a]),
                    (disclosure.TOTAL, authorities),
                ):
                    value = shown.loc[r, column]
                    if value == disclosure.SUPPRESSED:
                        if column == own and r != disclosure.TOTAL:
                            hidden.append((name, r, a))
                        continue
                    cells = {index[(name, x, w)]: 1.0 for x in covered for w in who}
                    relation(cells, float(value), float(value))
        n = pack.tables["sample design"].iloc[0]["cases in the sample"]
        if n != disclosure.SUPPRESSED:
            for name in EXCLUSIVE:
                if name in tables:
                    relation({index[(name, x, a)]: 1.0 for x in tables[name]}, n, n)
    equal, within = _relations(chosen, tables)
    for a in authorities:
        exclusive = [t for t in EXCLUSIVE if t in tables]
        for t1, t2 in itertools.pairwise(exclusive):  # one number of cases
            cells = {index[(t1, x, a)]: 1.0 for x in tables[t1]}
            for x in tables[t2]:
                cells[index[(t2, x, a)]] = -1.0
            relation(cells, 0, 0)
        for (t1, r1), (t2, r2) in equal:
            relation({index[(t1, r1, a)]: 1.0, index[(t2, r2, a)]: -1.0}, 0, 0)
        for (t1, r1), whole in within:
            if whole == "*":
                cells = {index[(t1, r1, a)]: 1.0}
                for x in tables["placement settings"]:
                    cells[index[("placement settings", x, a)]] = -1.0
            else:
                cells = {index[(t1, r1, a)]: 1.0, index[(whole[0], whole[1], a)]: -1.0}
            relation(cells, -np.inf, 0)
    constraint = LinearConstraint(
        sparse.csr_array(np.array(rows_a)), np.array(low), np.array(high)
    )
    found = []
    options = {
        "integrality": np.ones(size),
        "bounds": Bounds(0, np.inf),
        "constraints": constraint,
    }
    for cell in hidden:
        name, row, a = cell
        value = truth[name][0].loc[row, a]
        if not 1 <= value <= 4:
            continue
        target = np.zeros(size)
        target[index[cell]] = 1
        least = milp(target, **options)
        assert least.status == 0, (cell, least.message)  # the true tables are feasible
        if round(least.fun) < value:
            continue  # two whole numbers agree with everything published
        most = milp(-target, **options)
        assert most.status in (0, 3), (cell, most.message)  # 3: unbounded above
        if most.status == 0 and round(-most.fun) == round(least.fun):
            found.append(f"{name}/{row}/{a} = {round(least.fun)}")
    return found


@pytest.fixture(autouse=True)
def _no_figures(monkeypatch):
    """The attack reads tables: the packs' figures are not drawn."""
    monkeypatch.setattr(reporting, "_figures", lambda *args: {})


def _packs(cases: pd.DataFrame, chosen: study.Study):
    region = reporting.region_suppression(cases, study=chosen)
    names = sorted(cases["authority"].astype(str).unique())
    packs = {a: reporting.authority_tables(cases, a, region=region, study=chosen) for a in names}
    truth = reporting._region_counts(schema.validate(cases, authorities=names), chosen)
    return packs, truth


@pytest.mark.slow
def test_the_default_south_east_packs_give_nothing_away(cases):
    """The issue's reproduction: Surrey's distance sheet hid "over 100 miles" and
    "distance unknown" while the cohorts sheet showed keeping_local = 12, so distance
    unknown = 82 - 39 - 15 - 14 - 12 = 2."""
    chosen = study.south_east()
    packs, truth = _packs(cases, chosen)
    surrey = packs["Surrey"]
    assert surrey.tables["distance from home"].loc["over 100 miles", "children: Surrey"] == "c"
    assert surrey.tables["commissioning cohorts"].loc["keeping_local", "children: Surrey"] == "c"
    assert recovered(packs, chosen, truth) == []


def _linked_cells_agree(packs: dict[str, reporting.Pack], chosen: study.Study) -> None:
    """A count suppressed anywhere is suppressed wherever the same count appears."""
    far = f"over {chosen.thresholds.far_miles:g} miles"
    for a, pack in packs.items():
        t = pack.tables
        for (t1, r1), (t2, r2) in (
            (("distance from home", far), ("commissioning cohorts", "keeping_local")),
            (("needs scored 4-5", "violence"), ("commissioning cohorts", "violence")),
            (("placement settings", "Total"), ("distance from home", "Total")),
        ):
            if t1 in t and t2 in t:
                left = t[t1].loc[r1].to_numpy() == "c"
                right = t[t2].loc[r2].to_numpy() == "c"
                assert (left == right).all(), (a, t1, r1, t2, r2)


@pytest.mark.parametrize(
    "seed", [*range(3), *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(3, 12))]
)
def test_generated_regions_give_nothing_away(seed):
    """Generated studies of 2 to 6 authorities of one region, one of them cut to a handful
    of cases, the far-from-home line moved: no count of 1 to 4 is recovered from all their
    packs, and every repeated count is hidden in all its tables or none."""
    rng = np.random.default_rng(seed)
    known = datasets.authority_frame(2019)
    known = known[known["lac_10_plus"].fillna(0) >= 10]  # a stratum needs children
    region = rng.choice(sorted(known["region"].unique()))
    names = sorted(known.loc[known["region"] == region, "authority"])
    chosen_names = list(
        rng.choice(names, size=min(len(names), int(rng.integers(2, 7))), replace=False)
    )
    far = int(rng.choice([20, 50, 75, 100]))
    text = (
        f'[study]\nname = "generated_{seed}"\n[authorities]\nlist = {json.dumps(chosen_names)}\n'
        f"[frame]\nyear = 2019\n[thresholds]\nfar_miles = {far}\n"
    )
    chosen = study.loads(text)
    cases = synthetic.sample(chosen, rng=seed)
    small = chosen.authorities[int(rng.integers(len(chosen.authorities)))]
    keep = int(rng.integers(3, 12))
    mine = cases["authority"].astype(str).eq(small)
    cases = cases[(~mine | (mine.cumsum() <= keep)).to_numpy()].reset_index(drop=True)
    packs, truth = _packs(cases, chosen)
    _linked_cells_agree(packs, chosen)
    assert recovered(packs, chosen, truth) == []


@pytest.mark.slow
def test_a_study_s_packs_give_nothing_away():
    """A consortium study (the North West, 23 authorities, frame 2019) on its synthetic
    sample: the issue found violence shown in one sheet and hidden in another in 11 packs."""
    chosen = study.loads(
        '[study]\nname = "north_west"\n[authorities]\nregion = "North West"\n[frame]\nyear = 2019\n'
    )
    cases = synthetic.sample(chosen, rng=2019)
    packs, truth = _packs(cases, chosen)
    _linked_cells_agree(packs, chosen)
    assert recovered(packs, chosen, truth) == []


@pytest.mark.slow
def test_the_solver_finds_what_the_old_suppression_gave_away(cases, monkeypatch):
    """The attack is real: with each table suppressed on its own (as before), the solver
    recovers Surrey's distance unknown = 2."""
    chosen = study.south_east()

    def alone(cases, *, threshold=5, study=None):
        return {
            name: disclosure.suppress(counts, threshold=threshold)
            for name, (counts, _) in reporting._region_counts(cases, study).items()
        }

    monkeypatch.setattr(reporting, "region_suppression", alone)
    packs, truth = _packs(cases, chosen)
    found = recovered(packs, chosen, truth)
    assert "distance from home/distance unknown/Surrey = 2" in found
