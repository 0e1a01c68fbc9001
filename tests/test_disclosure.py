"""Suppression against hand-checked tables (DfE convention, SFR50/2017 metadata)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import disclosure
from lacstats.errors import DataError


def test_primary_and_secondary_by_hand():
    # residential/County = 3 is primary. Its row (3, 9 | 12) would give it away, so the
    # 9 goes; column County (12, 3, 20 | 35) loses its smallest other count, 12; column
    # Unitary (8, 9, 0 | 17) then has one hidden cell, so 8 goes too. The zero stays.
    table = pd.DataFrame(
        {"County": [12, 3, 20], "Unitary": [8, 9, 0]}, index=["foster", "residential", "secure"]
    )
    result = disclosure.suppress(table)
    expected = pd.DataFrame(
        {"County": ["c", "c", 20, 35], "Unitary": ["c", "c", 0, 17], "Total": [20, 12, 20, 52]},
        index=["foster", "residential", "secure", "Total"],
        dtype=object,
    )
    pd.testing.assert_frame_equal(result.table, expected)
    reasons = result.record.set_index(["row", "column"])["reason"]
    assert reasons[("residential", "County")] == "primary: count below 5"
    assert reasons[("residential", "Unitary")].startswith("secondary")
    assert "3" not in " ".join(result.record["reason"])  # the record never shows values


def _recoverable(result: disclosure.Suppressed) -> bool:
    """True if some line (row or column with its total) has exactly one hidden cell."""
    mask = result.mask.to_numpy()
    return any(line.sum() == 1 for line in [*mask, *mask.T])


@pytest.mark.parametrize("seed", range(20))
def test_no_suppressed_cell_can_be_recovered(seed):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.integers(0, 12, (6, 4)))
    result = disclosure.suppress(table)
    assert not _recoverable(result)
    shown = result.table.to_numpy()
    for value in shown.ravel():
        assert value == "c" or value == 0 or value >= 5


def test_money_follows_its_counts():
    counts = pd.DataFrame({"County": [12, 3], "Unitary": [8, 9]}, index=["a", "b"])
    money = pd.DataFrame(
        {"County": [60000.0, 15000.0], "Unitary": [40000.0, 45000.0]}, index=["a", "b"]
    )
    result = disclosure.suppress(counts)
    hidden = result.apply(money)
    assert (hidden == "c").to_numpy().sum() == 4  # primary + its three complements


def test_no_secondary_when_asked():
    table = pd.DataFrame({"x": [3, 10], "y": [10, 10]})
    result = disclosure.suppress(table, secondary=False)
    assert int(result.mask.to_numpy().sum()) == 1


def test_bad_input():
    with pytest.raises(DataError, match="whole, non-negative"):
        disclosure.suppress(pd.DataFrame({"x": [1.5, 2]}))


def test_long_table_with_a_total_row_gets_secondary_suppression():
    from lacstats.disclosure import suppress_small_counts

    table = pd.DataFrame({"kind": ["a", "b", "c", "All"], "n": [3, 7, 12, 22]})
    out = suppress_small_counts(table, "n", total=table["kind"].eq("All"))
    # 3 alone could be recovered as 22 - 7 - 12: the next smallest (7) goes too
    assert out["n"].tolist() == ["c", "c", 12, 22]
    plain = suppress_small_counts(table, "n")
    assert plain["n"].tolist() == ["c", 7, 12, 22]


def _range(published: pd.DataFrame, counts: pd.DataFrame, target: tuple[int, int]) -> float:
    """Width of the values a hidden interior cell can take given every published number
    of a table with margins (linear programming over non-negative tables)."""
    from scipy.optimize import linprog

    n_rows, n_cols = counts.shape
    equations, values = [], []
    for i, row in enumerate(published.index):
        for j, column in enumerate(published.columns):
            value = published.loc[row, column]
            if value == disclosure.SUPPRESSED:
                continue
            vector = np.zeros(n_rows * n_cols)
            rows = range(n_rows) if row == "Total" else [i]
            cols = range(n_cols) if column == "Total" else [j]
            for r in rows:
                for c in cols:
                    vector[r * n_cols + c] = 1
            equations.append(vector)
            values.append(float(value))
    goal = np.zeros(n_rows * n_cols)
    goal[target[0] * n_cols + target[1]] = 1
    low = linprog(goal, A_eq=np.array(equations), b_eq=values, bounds=(0, None), method="highs")
    high = linprog(-goal, A_eq=np.array(equations), b_eq=values, bounds=(0, None), method="highs")
    return -high.fun - low.fun


def test_two_columns_together_no_longer_give_a_cell_away():
    """Found by the pack attack on a generated South West study (tests/test_hostile_packs):
    the distance sheet hides Bournemouth's number of children, the settings sheet then hides
    it too (the same count), and row-and-column secondary suppression leaves two columns
    whose hidden cells sum to published totals. South Gloucestershire's only children are
    4 in foster care, so Bournemouth's children's homes = (B + S) - foster (B + S) - with
    parents = 3. The audit of suppress_tables hides one more cell."""
    settings = pd.DataFrame(
        {
            "Bournemouth": [39, 3, 0, 0, 0, 0, 19],
            "Dorset": [52, 2, 0, 1, 1, 0, 16],
            "Plymouth": [51, 8, 0, 0, 2, 0, 8],
            "South Gloucestershire": [4, 0, 0, 0, 0, 0, 0],
            "Swindon": [48, 1, 1, 0, 0, 0, 15],
            "Torbay": [59, 7, 1, 0, 1, 0, 0],
        },
        index=["foster", "homes", "school", "secure", "semi", "unregistered", "parents"],
    )
    distance = pd.DataFrame(
        {
            "Bournemouth": [43, 4, 2, 2, 10],
            "Dorset": [36, 17, 17, 2, 0],
            "Plymouth": [49, 10, 4, 2, 4],
            "South Gloucestershire": [3, 1, 0, 0, 0],
            "Swindon": [45, 8, 9, 3, 0],
            "Torbay": [50, 9, 7, 2, 0],
        },
        index=["up to 20", "20 to 50", "50 to 100", "over 100", "unknown"],
    )
    same = [[("settings", "Total"), ("distance", "Total")]]
    hidden_total = disclosure.suppress(distance).mask.loc[["Total"]]
    linked_only = disclosure.suppress(settings, also=hidden_total).table
    assert linked_only.loc["Total", "Bournemouth"] == "c"
    assert _range(linked_only, settings, (1, 0)) < 1e-6  # recovered: exactly 3
    together = disclosure.suppress_tables({"settings": settings, "distance": distance}, same=same)
    shown = together["settings"].table
    assert shown.loc["homes", "Bournemouth"] == "c"
    assert _range(shown, settings, (1, 0)) >= 1
    assert _range(shown, settings, (0, 3)) >= 1  # South Gloucestershire's 4 in foster care


def test_a_count_hidden_in_one_table_is_hidden_in_the_other():
    far = pd.DataFrame({"A": [10, 3], "B": [12, 9]}, index=["near", "far"])
    cohort = pd.DataFrame({"A": [3, 30], "B": [9, 40]}, index=["far_cohort", "other"])
    alone = disclosure.suppress(cohort).table
    assert alone.loc["far_cohort", "A"] == "c"  # itself below 5 here: hidden anyway
    cohort.loc["far_cohort"] = [7, 9]
    far.loc["far"] = [7, 9]
    far.loc["near", "A"] = 2  # now "near" is small, and far is hidden beside it
    result = disclosure.suppress_tables(
        {"distance": far, "cohorts": cohort},
        margins={"distance": True, "cohorts": False},
        same=[[("distance", "far"), ("cohorts", "far_cohort")]],
    )
    hidden_far = result["distance"].mask.loc["far"]
    assert hidden_far["A"]
    assert (result["cohorts"].mask.loc["far_cohort"] == hidden_far).all()
    assert "linked" in " ".join(result["cohorts"].record["reason"])
