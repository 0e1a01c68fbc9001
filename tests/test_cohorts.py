"""Commissioning cohorts: the published figures from the rules, overrides, custom rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import cohorts, disclosure, findings
from lacstats.errors import DataError


def test_default_rules_reproduce_the_published_cohorts(cases):
    flags = cohorts.assign(cases)
    assert list(flags.columns) == [r.name for r in cohorts.DEFAULT_RULES]
    # seed 000: 200 children (16.5% of those with a known distance) over 100 miles
    assert flags["keeping_local"].sum() == 200
    assert flags["keeping_local"].isna().sum() == 41
    summary = cohorts.summarise(cases, flags).set_index(["cohort", "group"])
    local = summary.loc[("keeping_local", "All")]
    assert findings.percent_one_decimal(local["n"], 1253 - local["unknown"]) == "16.5%"
    # seed 000: 114 high-cost residential children, £666,433 a week, £34.7 million a year
    high = summary.loc[("high_cost_residential", "All")]
    assert (high["n"], high["weekly_cost"]) == (114, 666433)
    assert high["annual_cost"] == pytest.approx(666433 * 52.143)
    assert summary.loc[("high_cost_residential", "County"), "n"] == 96
    assert summary.loc[("high_cost_residential", "Unitary"), "n"] == 18


def test_rules_match_hand_checked_cases():
    cases = pd.DataFrame(
        {
            "placement_setting": [
                "residential_private",
                "residential_school",
                "unregistered",
                "semi_independent",
                "foster_ifa",
            ],
            "registered": [True, True, False, False, True],
            "weekly_cost": [4800.0, 9000.0, 3000.0, 5000.0, 900.0],
            "distance_miles": [150.0, 120.0, np.nan, 25.0, 101.0],
            "placement_number": [4, 1, 9, 2, 3],
            **{item: [1, 1, 1, 1, 1] for item in cohorts.schema.NEED_ITEMS},
        }
    )
    cases.loc[1, "learning_disability"] = 5
    cases.loc[2, "risk_violence"] = 4
    flags = cohorts.assign(cases)
    expected = {
        "keeping_local": [True, True, pd.NA, False, True],
        "unregistered_care": [False, False, True, True, False],
        "high_cost_residential": [True, False, False, False, False],
        # row 1 is far but has a specialist need and is at a residential school
        "distant_without_specialist_need": [True, False, pd.NA, False, True],
        "frequent_moves": [True, False, True, False, False],
        "violence": [False, False, True, False, False],
        "step_down_candidate": [True, False, False, False, False],
    }
    for name, values in expected.items():
        assert flags[name].tolist() == values, name


def test_overrides_and_dfe_20_miles(cases):
    flags = cohorts.assign(cases, keeping_local={"miles": cohorts.DFE_DISTANCE_MILES})
    assert flags["keeping_local"].sum() > 200
    assert cohorts.parameters(keeping_local={"miles": 20})["keeping_local"]["miles"] == 20
    with pytest.raises(DataError, match="no rule\\(s\\) named \\['keep_local'\\]"):
        cohorts.assign(cases, keep_local={"miles": 20})
    with pytest.raises(DataError, match="has no parameter"):
        cohorts.assign(cases, keeping_local={"km": 20})


def test_users_add_rules_without_touching_lacstats(cases):
    @cohorts.rule("teenage_secure", "secure unit, 15 or older", "user", min_age=15)
    def teenage_secure(frame, p):
        return (frame["placement_setting"] == "secure_unit") & (frame["age"] >= p["min_age"])

    flags = cohorts.assign(cases, rules=[*cohorts.DEFAULT_RULES, teenage_secure])
    expected = ((cases["placement_setting"] == "secure_unit") & (cases["age"] >= 15)).sum()
    assert flags["teenage_secure"].sum() == expected
    older = cohorts.assign(cases, rules=[teenage_secure], teenage_secure={"min_age": 17})
    assert older["teenage_secure"].sum() < expected


def test_by_profile_and_suppression(cases, truth):
    flags = cohorts.assign(cases)
    table = cohorts.by_profile(cases, flags, cases["case_id"].map(truth.need_profiles))
    high = table[table["cohort"] == "high_cost_residential"]
    assert high["n"].sum() == 114
    assert high["weekly_cost"].sum() == 666433
    safe = disclosure.suppress_small_counts(table, "n", dependent=["weekly_cost"])
    small = table["n"].between(1, 4)
    assert (safe.loc[small, "n"] == "c").all()
    assert (safe.loc[small, "weekly_cost"] == "c").all()
    assert (safe.loc[table["n"] == 0, "n"] == 0).all()
