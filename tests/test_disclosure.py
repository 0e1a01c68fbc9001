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
