"""Foster places, Dorset savings and Nottinghamshire projections against the seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from lacstats import costs, datasets, projection
from lacstats.errors import DataError


def test_south_east_foster_places_from_the_ofsted_file():
    # seed 000: "7565 approved foster care places in south east (March 19); 4985 were
    # filled, 1070 vacant, 1395 (18.4%) not available"
    fostering = datasets.ofsted_fostering(2019)
    region = fostering[fostering["area"] == "South East"].set_index("measure")["value"]
    assert region["Number of approved foster places"] == 7565
    assert region["Number of filled places"] == 4985
    assert region["Number of vacant places"] == 1070
    assert region["Number of places not available"] == 1395
    # the file's LA columns are LA services only, so England (all sectors) is larger
    england = fostering[fostering["area"] == "England"].set_index("measure")["value"]
    assert england["Number of approved foster places"] > 7565


def test_dorset_in_house_fostering_table():
    # seed 001, Table 3: weekly cost minus average weekly DCC cost = weekly saving; x 52
    table = pd.DataFrame(
        {
            "change": [
                "IFA to in-house foster care",
                "Independent homes to in-house homes",
                "Independent homes to in-house foster care",
            ],
            "children": [15, 7, 7],
            "weekly_cost": [13110, 30289, 30289],
            "new_weekly_cost": [6930, 21000, 3234],
        }
    )
    result = costs.savings(table, weeks=52).to_frame()
    assert result["weekly_saving"].tolist() == [6180, 9289, 27055]
    assert result["annual_saving"].tolist() == [321360, 483028, 1406860]


def test_savings_errors():
    with pytest.raises(DataError, match="lacks column"):
        costs.savings(pd.DataFrame({"change": ["x"]}))
    bad = pd.DataFrame(
        {"change": ["x"], "children": [1], "weekly_cost": ["lots"], "new_weekly_cost": [1]}
    )
    with pytest.raises(DataError, match="'weekly_cost'") as err:
        costs.savings(bad)
    assert err.value.rows == [1]


def test_nottinghamshire_unit_costs_and_growth_to_cap():
    units = costs.nottinghamshire_unit_costs().set_index("placement")["weekly_cost"]
    # seed 004: internal fostering £465, external £829, internal residential £3,952,
    # external residential £2,711 a week (December 2012)
    assert units.to_dict() == {
        "internal_fostering": 465,
        "external_fostering": 829,
        "internal_residential": 3952,
        "external_residential": 2711,
    }
    growth = projection.growth_to_cap(885, per_month=2, cap=898, months=12)
    assert growth["children"].tolist()[:8] == [885, 887, 889, 891, 893, 895, 897, 898]
    assert growth["children"].max() == 898
    mix = pd.DataFrame({"internal_fostering": [416], "placed_with_parents": [6]})
    cost = projection.mix_cost(mix, units.to_dict())
    assert cost["weekly_cost"].item() == 416 * 465
    assert cost["unpriced"].item() == "placed_with_parents"
