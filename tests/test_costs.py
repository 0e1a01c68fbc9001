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


# ---------------------------------------------------------------------------- calculator


def _dorset_table4():
    from lacstats.datasets import published_findings

    sample = published_findings()["dorset_cost_calculator_sample"]
    rows = pd.DataFrame(
        sample["rows"],
        columns=["placement_type", "provider", "location", "total", "weeks", "average"],
    )
    return sample, rows


def test_cost_table_reproduces_dorsets_sample_report():
    # Dorset County Council (2017), appendix Table 4: each row's total, time in weeks (one
    # decimal) and average cost a week (whole pounds). The inputs here are the average cost
    # and the time; the totals the calculator printed are not used, so the table's totals
    # are checked against them: total = weekly cost x weeks, within the rounding of the
    # printed average (0.5 a week), of the printed weeks (0.05) and of whole days (half a
    # day). The "All Placement Types" row: £3,332,385 over 2,637.0 weeks, £1,264 a week.
    sample, rows = _dorset_table4()
    days = (rows["weeks"] * 7).round().astype(int)
    # one episode per row (the report's rows pool many children: a period of ten years
    # holds the longest, 465 weeks)
    start = pd.Timestamp("2010-04-01")
    episodes = rows[["placement_type", "provider", "location"]].assign(
        CHILD=[str(i) for i in range(len(rows))],
        start=start,
        end=start + pd.to_timedelta(days, unit="D"),
        weekly_cost=rows["average"].astype(float),
    )
    table = costs.cost_table(episodes, period=("2010-04-01", "2020-03-31"))
    body = table.iloc[:-1].merge(rows, on=["placement_type", "provider", "location"])
    assert len(body) == len(rows)
    assert body["total_x"].to_numpy() == pytest.approx(
        (body["average"] * days.to_numpy() / 7).to_numpy()
    )
    slack = body["average"] * (0.05 + 0.5 / 7) + 0.5 * (body["weeks_y"] + 0.05)
    assert ((body["total_x"] - body["total_y"]).abs() <= slack).all()
    assert (body["weeks_x"].round(1) == body["weeks_y"]).all()
    total = table.iloc[-1]
    assert total["placement_type"] == costs.ALL_TYPES
    assert abs(total["total"] - sample["all_types_total"]) <= slack.sum()
    assert abs(total["weeks"] - sample["all_types_weeks"]) < 0.15
    assert total["average_weekly"] == pytest.approx(total["total"] / total["weeks"])
    assert abs(total["average_weekly"] - sample["all_types_mean_weekly"]) < 2
    assert total["children"] == len(rows)


def test_cost_table_clips_episodes_to_the_period_and_counts_open_ones():
    episodes = pd.DataFrame(
        {
            "CHILD": ["a", "a", "b"],
            "start": ["01/01/2019", "01/03/2019", "15/03/2019"],
            "end": ["01/03/2019", None, "29/03/2019"],
            "placement_type": ["Foster care", "Residential", "Residential"],
            "weekly_cost": [700.0, 3500.0, 3500.0],
        }
    )
    table = costs.cost_table(
        episodes, by=("placement_type",), period=("2019-02-01", "2019-03-31")
    ).set_index("placement_type")
    # foster: 1 Feb to 1 Mar = 28 days; residential: 1-31 Mar (31 days) + 14 days
    assert table.loc["Foster care", "weeks"] == pytest.approx(4.0)
    assert table.loc["Residential", "weeks"] == pytest.approx(45 / 7)
    assert table.loc["Residential", "total"] == pytest.approx(45 / 7 * 3500)
    assert table.loc[costs.ALL_TYPES, "children"] == 2
    with pytest.raises(DataError, match="open episodes"):
        costs.cost_table(episodes, by=("placement_type",))
    with pytest.raises(DataError, match="no column 'provider'"):
        costs.cost_table(episodes, period=("2019-02-01", "2019-03-31"))
    with pytest.raises(DataError, match=r"ends .* before it starts"):
        costs.cost_table(episodes, by=("placement_type",), period=("2019-03-01", "2019-02-01"))


def test_cost_table_from_a_return_with_fallback_unit_costs():
    from lacstats import ssda903

    cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    units = costs.dorset_unit_costs()
    period = ("2019-04-01", "2020-03-31")
    episodes = ssda903.episode_table(cleaned, period=period)
    table = costs.cost_table(episodes, unit_costs=units, period=period)
    body, total = table.iloc[:-1], table.iloc[-1]
    assert total["total"] == pytest.approx(body["total"].sum())
    assert total["weeks"] == pytest.approx(body["weeks"].sum())
    # fake903 records no location: costs fall back to type and provider
    foster_la = body[(body["placement_type"] == "Foster care") & (body["provider"] == "LA")]
    assert foster_la["average_weekly"].item() == pytest.approx((218132 + 82167) / (465 + 193.3))
    # no more than 52.3 weeks a year for any child
    per_child = costs.cost_table(episodes, unit_costs=units, by=("CHILD",), period=period)
    assert per_child["weeks"].iloc[:-1].max() <= 366 / 7 + 1e-9
    by_need = costs.cost_table(episodes, unit_costs=units, by=("need_group", "age"), period=period)
    assert by_need["total"].iloc[-1] == pytest.approx(total["total"])


def test_unit_cost_errors():
    with pytest.raises(DataError, match="'placement_type' or 'placement_setting'"):
        costs.unit_cost(pd.DataFrame({"x": [1]}), pd.DataFrame({"weekly_cost": [1]}))
    bad = pd.DataFrame({"placement_type": ["a", "a"], "weekly_cost": [1, 2]})
    with pytest.raises(DataError, match="more than one cost"):
        costs.unit_cost(pd.DataFrame({"placement_type": ["a"]}), bad)
    neg = pd.DataFrame({"placement_type": ["a"], "weekly_cost": [-1]})
    with pytest.raises(DataError, match="non-negative"):
        costs.unit_cost(pd.DataFrame({"placement_type": ["a"]}), neg)


# ---------------------------------------------------------------------------- savings


def test_high_cost_review_from_its_inputs():
    # seed 001, Table 2: £582,000 + £128,800 + £227,184 + £186,888 = £1,124,872 "if all
    # timescales are met"; the plans "can take on average 6 months to reach completion"
    from lacstats.datasets import published_findings

    review = published_findings()["dorset_high_cost_review"]
    table = pd.DataFrame(review["rows"], columns=["change", "children", "annual_saving"])
    result = costs.high_cost_review(table, delay_weeks=0)
    assert result.annual_total == review["total"] == 1124872
    delayed = costs.high_cost_review(table, delay_weeks=26).total()
    assert delayed["in_year_saving"] == pytest.approx(1124872 / 2)


def test_in_year_saving_simulation_matches_the_gamma_partial_expectation():
    # E[(h - D)+] for D ~ Gamma(k, theta): h F_k(h) - k theta F_{k+1}(h), the standard
    # partial expectation of the gamma distribution
    from scipy import stats

    table = pd.DataFrame(
        {"change": ["x"], "children": [40], "weekly_cost": [4000.0], "new_weekly_cost": [0.0]}
    )
    mean, sd, horizon = 26.0, 13.0, 52.0
    result = costs.savings(
        table, delay_weeks=mean, delay_sd=sd, draws=4000, rng=1, horizon=horizon
    )
    k, theta = (mean / sd) ** 2, sd**2 / mean
    expected_weeks = horizon * stats.gamma.cdf(horizon, k, scale=theta) - k * theta * (
        stats.gamma.cdf(horizon, k + 1, scale=theta)
    )
    frame = result.to_frame()
    assert frame["in_year_mean"].item() == pytest.approx(4000 * expected_weeks, rel=0.01)
    assert (
        frame["in_year_ci_low"].item()
        < frame["in_year_mean"].item()
        < frame["in_year_ci_high"].item()
    )
    # no spread: the simulation is the deterministic answer
    exact = costs.savings(table, delay_weeks=26, delay_sd=0, draws=10, rng=1).to_frame()
    assert exact["in_year_mean"].item() == pytest.approx(exact["in_year_saving"].item())
    again = costs.savings(table, delay_weeks=mean, delay_sd=sd, draws=4000, rng=1, horizon=52)
    assert again.to_dict() == result.to_dict()


def test_cost_uncertainty_widens_the_interval():
    table = pd.DataFrame(
        {"change": ["x"], "children": [5], "weekly_cost": [4000.0], "new_weekly_cost": [1000.0]}
    )
    narrow = costs.savings(table, delay_weeks=26, draws=2000, rng=2).total()
    wide = costs.savings(table, delay_weeks=26, draws=2000, rng=2, cost_cv=0.3).total()
    assert (
        wide["in_year_ci_high"] - wide["in_year_ci_low"]
        > narrow["in_year_ci_high"] - narrow["in_year_ci_low"]
    )
    for bad in ({"delay_weeks": -1}, {"cost_cv": -0.1}, {"interval": 1.5}, {"weeks": 0}):
        with pytest.raises(DataError):
            costs.savings(table, **bad)
    with pytest.raises(DataError, match="whole number"):
        costs.savings(table.assign(children=2.5))
