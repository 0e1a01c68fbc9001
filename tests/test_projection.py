"""Projections: the stock-and-flow simulation against its exact expectation, the
rate-times-population interval against Garwood's exact Poisson limits, growth to a cap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lacstats import projection, ssda903
from lacstats.errors import DataError


def _one_type_return(tmp_path):
    """300 children in foster care from 2015, 60 of them adopted during 2018-19, and 50
    entrants in the year; every child is aged 1 to 4, far from 18."""
    rng = np.random.default_rng(5)
    header, episodes = [], []
    for i in range(350):
        dob = pd.Timestamp("2015-06-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
        header.append(f"{i},1,{dob:%d/%m/%Y},WBRI,,,")
        if i < 300:
            start = "01/05/2017"
            end = ""
            rec = ""
            if i < 60:
                left = pd.Timestamp("2018-04-02") + pd.Timedelta(days=int(rng.integers(0, 360)))
                end, rec = f"{left:%d/%m/%Y}", "E11"
        else:
            begun = pd.Timestamp("2018-04-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
            start, end, rec = f"{begun:%d/%m/%Y}", "", ""
        episodes.append(f"{i},{start},S,C2,N1,U4,PR1,{end},{rec},,,,,,")
    (tmp_path / "2019-header.csv").write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n" + "\n".join(header) + "\n"
    )
    (tmp_path / "2019-episodes.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
        "PL_POST,URN,PL_DISTANCE,PL_LOCATION\n" + "\n".join(episodes) + "\n"
    )
    return ssda903.clean(ssda903.read(tmp_path))


def test_stock_and_flow_matches_its_exact_expectation(tmp_path):
    # One type, exit rate R ~ Gamma(E + 1/2) / X, entries L ~ Gamma(n + 1/2) / W a month:
    # S_m = S_{m-1} exp(-R) + L, so E[S_m] = N (1 + m/X)^-(E+1/2)
    #   + (n + 1/2)/W * sum_{j<m} (1 + j/X)^-(E+1/2)   (the gamma Laplace transform)
    cleaned = _one_type_return(tmp_path)
    result = projection.stock_and_flow(cleaned, months=24, draws=4000, rng=11)
    assert result.types == ("Foster care",)
    rates = result.rates.set_index("to")
    exits, exposure = rates.loc["adoption", "events"], rates.loc["adoption", "exposure_months"]
    entries, window = rates.loc["entry", "events"], rates.loc["entry", "exposure_months"]
    assert exits == 60
    assert entries == 50
    a = exits + 0.5
    total = result.stock[result.stock["placement_type"] == "All"].set_index("month")
    n0 = total.loc[0, "mean"]
    assert n0 == 290  # 300 - 60 + 50 looked after on 31 March 2019
    for m in (6, 12, 24):
        expected = n0 * (1 + m / exposure) ** -a + (entries + 0.5) / window * sum(
            (1 + j / exposure) ** -a for j in range(m)
        )
        draws = result.draws[:, m, :].sum(axis=1)
        se = draws.std() / np.sqrt(len(draws))
        assert abs(draws.mean() - expected) < 4 * se, (m, draws.mean(), expected)
    # exits by route add up with the stock
    adopted = result.exits[result.exits["route"] == "adoption"]["mean"].sum()
    assert adopted > 0


def test_stock_and_flow_is_reproducible_and_checks_arguments(tmp_path):
    cleaned = _one_type_return(tmp_path)
    a = projection.stock_and_flow(cleaned, months=6, draws=50, rng=3)
    b = projection.stock_and_flow(cleaned, months=6, draws=50, rng=3)
    pd.testing.assert_frame_equal(a.stock, b.stock)
    cost = a.cost({"Foster care": 465})
    assert set(cost["placement_type"]) == {"Foster care", "All"}
    cost = cost[cost["placement_type"] == "All"]
    assert cost["weekly_cost"].iloc[0] == 290 * 465
    assert cost["annual_cost"].iloc[0] == 290 * 465 * 52
    with pytest.raises(DataError, match="months"):
        projection.stock_and_flow(cleaned, months=0)
    with pytest.raises(DataError, match="outside the returns"):
        projection.stock_and_flow(cleaned, start="2030-01-01")
    with pytest.raises(DataError, match="cleaned return"):
        projection.stock_and_flow(pd.DataFrame())
    with pytest.raises(DataError, match="no projected placement type"):
        a.cost({"Residential": 3000})


def test_stock_and_flow_on_the_synthetic_returns():
    cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    result = projection.stock_and_flow(cleaned, start="2020-04-01", months=12, draws=200, rng=1)
    all_ = result.stock[result.stock["placement_type"] == "All"]
    assert (all_["low"] <= all_["mean"]).all()
    assert (all_["mean"] <= all_["high"]).all()
    parts = result.stock[result.stock["placement_type"] != "All"].groupby("month")["mean"].sum()
    np.testing.assert_allclose(parts.to_numpy(), all_["mean"].to_numpy())
    # publishable: no placement type with 1-4 children at the start shows alone
    safe = result.publishable()
    start = safe[safe["month"] == 0].set_index("placement_type")["mean"]
    assert not start.between(1, 4).any()
    assert start.filter(like="Other (fewer than 5").item() >= 5
    assert start["All"] == all_["mean"].iloc[0]
    np.testing.assert_allclose(
        safe[safe["placement_type"] != "All"].groupby("month")["mean"].sum().to_numpy(),
        all_["mean"].to_numpy(),
    )


def test_rate_projection_uses_exact_poisson_limits():
    # Garwood (1936) exact 95% limits for an observed count of 10: 4.795 to 18.390
    observed = pd.DataFrame({"area": ["x"], "children": [10], "population": [10_000]})
    target = pd.DataFrame({"area": ["x"], "population": [20_000]})
    out = projection.rate_projection(observed, target).iloc[0]
    assert out["rate"] == 10
    assert out["rate_low"] == pytest.approx(4.795, abs=5e-4)
    assert out["rate_high"] == pytest.approx(18.390, abs=5e-4)
    assert out["projected"] == 20
    assert out["projected_low"] == pytest.approx(9.59, abs=1e-3)
    with pytest.raises(DataError, match="needs a positive number"):
        projection.rate_projection(observed.assign(population=0), target)
    with pytest.raises(DataError, match="no projected population"):
        projection.rate_projection(observed, target.assign(area="y"))
