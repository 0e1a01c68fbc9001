"""The printing rules of seed 000 and findings that fail when the data change."""

from __future__ import annotations

import pytest

from lacstats import findings


@pytest.mark.parametrize(
    ("num", "den", "text"),
    # seed 000: 45/114 printed "39%", 37/114 "32%", 23/86 "26%" (26.7%: truncated, not rounded)
    [(45, 114, "39%"), (37, 114, "32%"), (23, 86, "26%"), (81, 114, "71%"), (62, 114, "54%")],
)
def test_whole_percentages_are_truncated(num, den, text):
    assert findings.percent_truncated(num, den) == text


@pytest.mark.parametrize(
    ("num", "den", "text"),
    # seed 000: 114/1253 printed "9.1%", 200 of ~1,212 "16.5%"
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
