"""The printing rules of Evans (2020) and findings that fail when the data change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import findings
from lacstats.errors import LacstatsError


@pytest.mark.parametrize(
    ("num", "den", "text"),
    # Evans (2020): 45/114 printed "39%", 37/114 "32%", 23/86 "26%" (26.7%: truncated, not rounded)
    [(45, 114, "39%"), (37, 114, "32%"), (23, 86, "26%"), (81, 114, "71%"), (62, 114, "54%")],
)
def test_whole_percentages_are_truncated(num, den, text):
    assert findings.percent_truncated(num, den) == text


@pytest.mark.parametrize(
    ("num", "den", "text"),
    # Evans (2020): 114/1253 printed "9.1%", 200 of ~1,212 "16.5%"
    [(114, 1253, "9.1%"), (200, 1212, "16.5%"), (1, 8, "12.5%"), (1, 16, "6.3%")],
)
def test_one_decimal_percentages_round_half_up(num, den, text):
    assert findings.percent_one_decimal(num, den) == text


def test_a_changed_cost_breaks_the_match(cases):
    changed = cases.copy()
    hc = findings.high_cost_residential(changed)
    first = changed.index[hc][0]
    changed.loc[first, "weekly_cost"] += 1
    table = findings.compare(changed).set_index("finding")
    assert not table.loc["high_cost_residential.weekly_total", "match"]
    assert table.loc["high_cost_residential.weekly_total", "reproduced"] == 666434


def test_distance_unknown_changes_keeping_local_share(cases):
    changed = cases.copy()
    known = changed.index[changed["distance_miles"].notna() & (changed["distance_miles"] < 100)]
    changed.loc[known[:30], "distance_miles"] = float("nan")
    table = findings.compare(changed).set_index("finding")
    assert table.loc["keeping_local.percent_text", "reproduced"] == "16.9%"  # 200 / 1,182
    assert not table.loc["keeping_local.percent_text", "match"]


def test_on_the_synthetic_sample_every_figure_must_match(cases):
    table = findings.compare(cases, by_construction=True)
    assert table["match"].all()
    assert table["must_match"].all()
    assert set(table["evidence"]) == {"case_rows"}
    assert set(table["obtained"]) == {"recomputed_from_rows"}
    assert not table["finding"].duplicated().any()
    # the seed's Unitary total row repeats its only row (Private/Voluntary residential):
    # not a figure of its own
    assert not table["finding"].str.startswith("high_cost_residential.total.Unitary").any()
    # the County total row as printed, not re-added from the table's rows
    county = table.set_index("finding").loc["high_cost_residential.total.County.weekly_total"]
    assert county["published"] == 557675  # Evans (2020): "Total £557,675 96 £5,809"
    assert set(table["source"]) == {
        "Evans, Mark (2020), South East Needs DfE Project: SE Fostering Group"
    }


def test_on_a_users_table_the_figures_are_findings_about_it(cases):
    table = findings.compare(cases)
    assert not table["must_match"].any()
    assert set(table["evidence"]) == {"real_data"}


def test_published_percentages_are_read_from_the_data(cases):
    from lacstats.datasets import published_findings

    figures = published_findings()
    figures["high_cost_residential"]["cost_6000_plus_percent_text"] = "33%"
    row = findings.compare(cases, figures).set_index("finding")
    assert row.loc["high_cost_residential.cost_6000_plus_percent", "published"] == "33%"
    assert not row.loc["high_cost_residential.cost_6000_plus_percent", "match"]


def test_a_row_says_how_it_was_obtained():
    row = findings.row(
        "x",
        "a figure",
        "weeks",
        2637.0,
        2636.9,
        "dorset2017lac",
        obtained="arithmetic_on_published_inputs",
        match=True,
        explanation="rounding",
    )
    assert (row["match"], row["must_match"], row["evidence"]) == (True, False, "real_data")
    assert row["source"].startswith("Dorset County Council (2017), Looked After Children")
    with pytest.raises(LacstatsError, match="'obtained' must be one of"):
        findings.row("x", "a figure", "", 1, 1, "", obtained="copied")
    with pytest.raises(LacstatsError, match="'evidence' must be one of"):
        findings.row("x", "a figure", "", 1, 1, "", obtained="recomputed_from_rows", evidence="x")
    # a whole number stays whole beside a decimal one in the same column
    frame = findings.frame(
        [
            row,
            findings.row(
                "y", "b", "GBP", 3332385, 3332385, "", obtained="arithmetic_on_published_inputs"
            ),
        ]
    )
    assert frame["published"].tolist() == [2637.0, 3332385]
    assert type(frame["published"][1]) is int


@pytest.mark.parametrize("empty", [False, True], ids=["dropped", "blank"])
def test_a_table_without_previous_placements_is_compared_not_failed(cases, empty):
    """#30: a table with no previous_setting (dropped, or every cell blank) stopped
    findings.compare with "cannot convert float NaN to integer". The six figures that need
    the previous placements are not computable, saying so; the other 42 are computed."""
    if empty:
        thin = cases.assign(previous_setting=pd.NA, previous_weekly_cost=np.nan)
    else:
        thin = cases.drop(columns=["previous_setting", "previous_weekly_cost"])
    table = findings.compare(thin).set_index("finding")
    assert len(table) == 48
    missing = table[table["reproduced"].isna()]
    assert list(missing.index) == [
        "high_cost_residential.placement_changes",
        "high_cost_residential.moved_from_residential",
        "high_cost_residential.moved_from_residential_percent",
        "high_cost_residential.moved_from_foster_care",
        "high_cost_residential.moved_from_foster_percent",
        "high_cost_residential.changes_with_increased_cost",
    ]
    assert missing["explanation"].iloc[0] == "not computable: the data have no previous_setting"
    assert missing["explanation"].iloc[-1] == (
        "not computable: the data have no previous_setting, previous_weekly_cost"
    )
    assert not missing["match"].any()
    assert table.loc["high_cost_residential.children", "reproduced"] == 114
    assert table.loc["high_cost_residential.children", "match"]


def test_a_share_of_no_cases_is_not_a_percentage():
    assert findings.percent_truncated(0, 0) is None
    assert findings.percent_one_decimal(0, 0) is None
    assert findings.percent_truncated(float("nan"), 10) is None
    with pytest.raises(LacstatsError, match="'denominator' is 0 but 'numerator' is 3"):
        findings.percent_one_decimal(3, 0)
