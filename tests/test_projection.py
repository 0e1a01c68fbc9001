"""Projections: the stock-and-flow simulation against its exact expectation, the
rate-times-population interval against Garwood's exact Poisson limits, growth to a cap."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from lacstats import projection, ssda903
from lacstats.errors import DataError
from lacstats.projection import _backtest


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
    result = projection.stock_and_flow(
        cleaned, months=24, draws=4000, drift=False, groups=False, rng=11
    )
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
    assert (all_["ci_low"] <= all_["mean"]).all()
    assert (all_["mean"] <= all_["ci_high"]).all()
    assert set(all_["level"]) == {0.9}
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
    assert out["rate_ci_low"] == pytest.approx(4.795, abs=5e-4)
    assert out["rate_ci_high"] == pytest.approx(18.390, abs=5e-4)
    assert out["projected"] == 20
    assert out["level"] == 0.95
    assert out["projected_ci_low"] == pytest.approx(9.59, abs=1e-3)
    with pytest.raises(DataError, match="needs a positive number"):
        projection.rate_projection(observed.assign(population=0), target)
    with pytest.raises(DataError, match="no projected population"):
        projection.rate_projection(observed, target.assign(area="y"))


# ---------------------------------------------------------------------------- pooling


def test_gamma_poisson_matches_statsmodels_negative_binomial_on_the_pumps():
    # Failures of 10 pumps of a nuclear plant in thousands of hours of operation: Gaver and
    # O'Muircheartaigh (1987), "Robust empirical Bayes analyses of event rates",
    # Technometrics 29:1-15 (the OpenBUGS "pumps" example). The gamma-Poisson marginal is
    # NB2 with log(exposure) as offset; statsmodels 0.15:
    #   sm.NegativeBinomial(y, np.ones((10, 1)), loglike_method="nb2", exposure=t).fit()
    #   params: const -0.42596997, alpha 1.21614768; llf -32.26306704
    # so shape = 1 / alpha = 0.82226856 and mean = exp(const) = 0.65313596 failures per
    # thousand hours (gamma rate = shape / mean = 1.25895467).
    import statsmodels.api as sm

    y = np.array([5, 1, 5, 14, 3, 19, 1, 1, 4, 22])
    t = np.array([94.320, 15.720, 62.880, 125.760, 5.240, 31.440, 1.048, 1.048, 2.096, 10.480])
    fit = projection.gamma_poisson(y, t)
    assert fit.shape == pytest.approx(0.82226856, rel=1e-6)
    assert fit.mean == pytest.approx(0.65313596, rel=1e-6)
    assert fit.rate == pytest.approx(1.25895467, rel=1e-6)
    assert fit.loglik == pytest.approx(-32.26306704, abs=1e-7)
    peer = sm.NegativeBinomial(y, np.ones((10, 1)), loglike_method="nb2", exposure=t).fit(disp=0)
    assert fit.shape == pytest.approx(1 / peer.params[1], rel=1e-5)
    assert fit.mean == pytest.approx(np.exp(peer.params[0]), rel=1e-5)
    # each pump's rate: (shape + y) / (rate + t), its own rate shrunk towards the mean
    np.testing.assert_allclose(
        fit.posterior_mean(), (0.82226856 + y) / (1.25895467 + t), rtol=1e-6
    )
    assert fit.posterior_mean()[6] < y[6] / t[6]  # 1 failure in 1,048 hours: pulled down
    assert fit.to_dict()["shape"] == pytest.approx(0.82226856, rel=1e-6)
    # counts that vary no more than Poisson: one rate (the boundary of complete pooling)
    flat = projection.gamma_poisson([10, 10, 10, 10], [100, 100, 100, 100])
    assert flat.boundary
    np.testing.assert_allclose(flat.posterior_mean(), 0.1, rtol=1e-4)
    with pytest.raises(DataError, match="two units"):
        projection.gamma_poisson([3, 0], [10, 0])


def test_posterior_draws_carry_the_regional_rates_uncertainty():
    generator = np.random.default_rng(7)
    y, e = np.array([30, 12, 0]), np.array([300.0, 100.0, 0.0])
    # complete pooling: the regional rate's Jeffreys posterior Gamma(42.5) / 400
    drawn, _ = projection.posterior_draws(y, e, 40_000, generator, pooling="complete")
    assert drawn[:, 0].mean() == pytest.approx(42.5 / 400, rel=0.01)
    assert drawn[:, 0].std() == pytest.approx(np.sqrt(42.5) / 400, rel=0.02)
    np.testing.assert_array_equal(drawn[:, 0], drawn[:, 2])
    # none: each unit alone; no exposure, no rate
    alone, fit = projection.posterior_draws(y, e, 40_000, generator, pooling="none")
    assert fit is None
    assert alone[:, 1].mean() == pytest.approx(12.5 / 100, rel=0.01)
    assert (alone[:, 2] == 0).all()


def _region_returns(sizes, *, seed, stay=2.2, years=tuple(range(2016, 2022))):
    extract = ssda903.simulate_region(sizes, years=years, rng=seed, mean_stay_years=stay)
    return ssda903.from_frames(extract["header"], extract["episodes"])


def _region(sizes, *, seed, stay=2.2, years=tuple(range(2016, 2022))):
    return ssda903.clean(_region_returns(sizes, seed=seed, stay=stay, years=years))


@pytest.mark.slow
def test_pooling_small_authorities_that_share_rates_lowers_error():
    # 30 authorities of 5 to 25 children, one set of rates (simulate_region): pooled rates
    # project each authority's next two years with less error than its own rates, and
    # the intervals cover about as often as they say
    sizes = {
        f"LA {i:02d}": int(n) for i, n in enumerate(np.random.default_rng(0).integers(5, 25, 30))
    }
    data = _region_returns(sizes, seed=0)
    result = projection.backtest(data, origin="2019-04-01", horizon_months=24, draws=200, rng=0)
    scores = result.overall().set_index("pooling")
    assert scores.loc["partial", "mae"] < 0.95 * scores.loc["none", "mae"]
    # the band, 80-97%, to within two binomial standard errors of the 720 cells
    # (counts of 5 to 25 children: whole-number intervals cover a little more than 90%)
    se = np.sqrt(0.9 * 0.1 / 720)
    assert 0.8 - 2 * se <= scores.loc["partial", "coverage_90"] <= 0.97 + 2 * se
    assert 0.4 <= scores.loc["partial", "coverage_50"] <= 0.75
    assert 0.35 <= scores.loc["partial", "mean_pit"] <= 0.65
    assert scores.loc["partial", "forecasts"] == 30 * 24
    pit = result.pit[result.pit["pooling"] == "partial"]
    assert pit["count"].sum() == 30 * 24
    assert pit["share"].max() < 0.25  # no bin holds the mass a biased projection piles up
    facts = result.to_dict()
    assert facts["scores"]["partial"]["total"]["forecasts"] == 720
    assert "All authorities" in set(result.forecasts["authority"])


@pytest.mark.slow
def test_pooling_keeps_genuinely_different_rates_apart():
    # five authorities whose children stay a year, five where they stay four: partial
    # pooling keeps the fourfold difference in exit rates; complete pooling erases it
    names = [f"LA {i:02d}" for i in range(10)]
    sizes = dict(zip(names, np.random.default_rng(1).integers(60, 150, 10).tolist(), strict=True))
    stay = {n: (1.0 if i < 5 else 4.0) for i, n in enumerate(names)}
    data = _region_returns(sizes, seed=1, stay=stay)
    cleaned = ssda903.clean(data)

    def exit_rates(pooling):
        result = projection.stock_and_flow(
            cleaned, start="2019-04-01", months=6, draws=200, pooling=pooling, rng=1
        )
        rows = result.rates[result.rates["to"].isin(projection.ROUTES)]
        by_type = rows.groupby(["authority", "from"]).agg(
            rate=("estimate", "sum"), exposure=("exposure_months", "first")
        )
        weighted = (by_type["rate"] * by_type["exposure"]).groupby("authority").sum()
        rate = weighted / by_type["exposure"].groupby("authority").sum()
        return rate[names[:5]].mean() / rate[names[5:]].mean()

    assert exit_rates("none") > 3
    assert exit_rates("partial") > 2.5
    assert exit_rates("complete") == pytest.approx(1, abs=0.1)
    result = projection.backtest(
        data,
        origin="2019-04-01",
        horizon_months=24,
        draws=200,
        pooling=("none", "partial", "complete"),
        rng=1,
    )
    mae = result.overall().set_index("pooling")["mae"]
    assert mae["partial"] <= 1.05 * mae["none"]
    assert mae["complete"] > 1.1 * mae["partial"]


def test_pooled_projection_of_a_region_and_its_faces():
    sizes = {"North": 40, "South": 60, "East": 25}
    cleaned = _region(sizes, seed=3)
    result = projection.stock_and_flow(cleaned, months=6, draws=100, rng=2)
    assert result.authorities == ("East", "North", "South")
    assert result.options["pooling_used"] == "partial"
    assert set(result.stock["authority"]) == {"East", "North", "South", projection.REGION}
    region = result.stock[
        (result.stock["authority"] == projection.REGION)
        & (result.stock["placement_type"] == "All")
    ]
    assert region["mean"].iloc[0] == result.by_authority[0, 0].sum()
    np.testing.assert_array_equal(result.draws, result.by_authority.sum(axis=2))
    # the age bands add up to the total in every draw, month and authority
    assert result.by_age.shape == (100, 7, 3, len(projection.AGE_BANDS))
    np.testing.assert_array_equal(result.by_age.sum(axis=3), result.by_authority.sum(axis=3))
    bands = result.ages[result.ages["authority"] == projection.REGION].groupby("month")["mean"]
    np.testing.assert_allclose(bands.sum().to_numpy(), region["mean"].to_numpy())
    facts = result.to_dict()
    assert facts["stock"]["North"]["start"] == result.counts("North")[0, 0].sum()
    assert isinstance(facts["stock"][projection.REGION]["end_mean"], float)
    assert facts["placement_types"] == list(result.types)
    safe = result.publishable()
    assert set(safe["authority"]) == {"East", "North", "South", projection.REGION}
    start = safe[safe["month"] == 0]
    assert not start[start["placement_type"] != "All"]["mean"].between(1, 4).any()
    cost = result.cost({t: 1000 for t in result.types}, authority="East")
    assert cost[cost["placement_type"] == "All"]["weekly_cost"].iloc[0] == (
        1000 * result.counts("East")[0, 0].sum()
    )
    with pytest.raises(DataError, match="no authority"):
        result.counts("West")
    with pytest.raises(Exception, match="cannot assign"):
        result.start = None  # frozen
    same = projection.stock_and_flow(cleaned, months=6, draws=100, rng=2)
    pd.testing.assert_frame_equal(result.stock, same.stock)
    pd.testing.assert_frame_equal(result.rates, same.rates)
    with pytest.raises(DataError, match="pooling must be"):
        projection.stock_and_flow(cleaned, pooling="some")
    with pytest.raises(DataError, match="population: no positive number"):
        projection.stock_and_flow(cleaned, population=pd.Series({"North": 1000}))
    by_population = projection.stock_and_flow(
        cleaned, months=3, draws=50, population=pd.Series(sizes) * 100, rng=2
    )
    assert by_population.options["entry_exposure"] == "population"


def test_backtest_of_the_packaged_returns():
    data = ssda903.read(ssda903.fake903_path())
    result = projection.backtest(
        data, origin="2020-04-01", horizon_months=12, draws=100, pooling="none", rng=4
    )
    total = result.forecasts[result.forecasts["series"] == "total"]
    # one authority: nothing to pool, so one row of totals a month
    assert len(total) == 12
    observed = total.set_index("month")["observed"]
    # children looked after on 31 March 2021 as the 2020-21 return reported them (103),
    # not as later returns revised them (137: fake903's 2021-22 return adds episodes open
    # on that day that the 2020-21 return did not report, and the 21 children it reported
    # open and the next return dropped stay counted on their last 31 March)
    known = ssda903.clean(projection.returns_up_to(data, 2021))
    march = [pd.Timestamp("2021-03-31")]
    assert observed[12] == projection.observed_stock(known, march).iloc[0, 0] == 103
    assert projection.observed_stock(ssda903.clean(data), march).iloc[0, 0] == 137
    # the placement types add up to the total in every month, observed and projected
    types = result.forecasts[result.forecasts["series"] == "placement_type"]
    np.testing.assert_array_equal(
        types.groupby("month")["observed"].sum().to_numpy(), observed.to_numpy()
    )
    np.testing.assert_allclose(
        types.groupby("month")["mean"].sum().to_numpy(), total["mean"].to_numpy()
    )
    # and so do the DfE age bands
    ages = result.forecasts[result.forecasts["series"] == "age_band"]
    assert set(ages["category"]) == {band for band, _, _ in projection.AGE_BANDS}
    np.testing.assert_array_equal(
        ages.groupby("month")["observed"].sum().to_numpy(), observed.to_numpy()
    )
    np.testing.assert_allclose(
        ages.groupby("month")["mean"].sum().to_numpy(), total["mean"].to_numpy()
    )
    assert set(result.scores["series"]) == {"total", "placement_type", "age_band"}
    assert result.forecasts["pit"].between(0, 1).all()
    assert set(result.forecasts["level"]) == {projection.LEVEL}
    assert "Back-test from 2020-04-01" in result.summary()
    assert result.to_dict()["scores"]["none"]["total"]["forecasts"] == 12
    with pytest.raises(DataError, match="runs past the returns"):
        projection.backtest(data, origin="2021-04-01", horizon_months=13)
    with pytest.raises(DataError, match="day after a return's collection year"):
        projection.backtest(data, origin="2021-06-01", horizon_months=3)
    with pytest.raises(DataError, match="no return for the year"):
        projection.backtest(data, origin="2017-04-01", horizon_months=3)
    with pytest.raises(DataError, match="pooling must be among"):
        projection.backtest(data, origin="2019-04-01", pooling=("all",))
    with pytest.raises(DataError, match="not cleaned"):
        projection.backtest(ssda903.clean(data), origin="2019-04-01")
    with pytest.raises(DataError, match="one origin"):
        projection.backtest(data)


def test_backtests_of_the_same_returns_clean_them_once_and_see_their_changes():
    data = ssda903.read(ssda903.fake903_path())
    kwargs = {"origin": "2021-04-01", "horizon_months": 6, "draws": 50, "pooling": "none"}
    one_year = projection.backtest(data, history_years=1, rng=1, **kwargs)
    shared = _backtest._KNOWN[id(data)]
    three_years = projection.backtest(data, history_years=3, rng=1, **kwargs)
    assert _backtest._KNOWN[id(data)] is shared  # the same cleanings, not new ones
    # what the cleanings already made serves as well as cleaning afresh
    _backtest._KNOWN.clear()
    fresh = projection.backtest(data, history_years=3, rng=1, **kwargs)
    pd.testing.assert_frame_equal(fresh.forecasts, three_years.forecasts, check_exact=True)
    # other options are not served what was made for the first ones
    assert shared.cleaned_to(data, 2021, ("L",)).continues != ssda903.CONTINUES_PLACEMENT
    settings = projection.backtest(
        data, history_years=1, types="placement_setting", rng=1, **kwargs
    )
    assert set(settings.forecasts["series"]) == {"total", "placement_setting", "age_band"}
    # returns changed in place are cleaned again: the 2021-22 return's episodes moved to
    # a later year change what is observed on the dates it covers
    data.episodes.loc[data.episodes["YEAR"] == 2022, "YEAR"] = 2099
    changed = projection.backtest(data, history_years=1, rng=1, **kwargs)
    assert not changed.forecasts["observed"].equals(one_year.forecasts["observed"])
    _backtest._KNOWN.clear()
    fresh = projection.backtest(data, history_years=1, rng=1, **kwargs)
    pd.testing.assert_frame_equal(fresh.forecasts, changed.forecasts, check_exact=True)
    # nothing is kept of returns no longer used
    key = id(data)
    del data
    gc.collect()
    assert key not in _backtest._KNOWN


def _plant(extract, year, children, *, start="2018-06-01", first_id=990000):
    """``children`` new children in ``year``'s return, in care since ``start`` and still
    there at its end: episodes a late return reports from before the origin."""
    header, episodes = extract["header"], extract["episodes"]
    new = [str(first_id + i) for i in range(children)]
    heads = pd.DataFrame(
        {
            "CHILD": new,
            "SEX": "1",
            "DOB": pd.Timestamp("2010-01-01"),
            "ETHNIC": "WBRI",
            "LA": "North",
            "YEAR": year,
        }
    )
    row = episodes[episodes["LA"] == "North"].iloc[0]
    eps = pd.DataFrame([row] * children).reset_index(drop=True)
    eps = eps.assign(
        CHILD=new, DECOM=pd.Timestamp(start), RNE="S", DEC=pd.NaT, REC=None, YEAR=year
    )
    return {
        "header": pd.concat([header, heads], ignore_index=True),
        "episodes": pd.concat([episodes, eps], ignore_index=True),
    }


@pytest.mark.slow  # three back-tests of a five-year extract: CI runs it
def test_backtest_does_not_see_returns_filed_after_the_origin():
    extract = ssda903.simulate_region(
        {"North": 60, "South": 40}, years=tuple(range(2017, 2022)), rng=8
    )
    plain = ssda903.from_frames(extract["header"], extract["episodes"])
    # 2020-21 (filed after every target date) reports 40 children in care since 2018
    late = _plant(extract, 2021, 40)
    planted = ssda903.from_frames(late["header"], late["episodes"])
    origin = pd.Timestamp("2019-04-01")
    # it would change the answer of a test that cleaned every return: 40 more children
    # at the start
    before = projection.stock_and_flow(ssda903.clean(plain), start=origin, months=1, draws=5)
    after = projection.stock_and_flow(ssda903.clean(planted), start=origin, months=1, draws=5)
    assert after.counts("North")[0, 0].sum() == before.counts("North")[0, 0].sum() + 40
    # the real-time back-test does not see it: projections and truths are identical
    kwargs = {"origin": origin, "horizon_months": 12, "draws": 60, "pooling": ("none", "partial")}
    a = projection.backtest(plain, rng=3, **kwargs)
    b = projection.backtest(planted, rng=3, **kwargs)
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    # planted in the return covering the targets (2019-20), it changes what is observed
    # (40 more children on every target date) but not what was projected
    covering = _plant(extract, 2020, 40)
    c = projection.backtest(
        ssda903.from_frames(covering["header"], covering["episodes"]), rng=3, **kwargs
    )
    north = (a.forecasts["authority"] == "North") & (a.forecasts["series"] == "total")
    np.testing.assert_array_equal(
        c.forecasts.loc[north, "observed"], a.forecasts.loc[north, "observed"] + 40
    )
    pd.testing.assert_frame_equal(
        c.forecasts.drop(columns=["observed", "pit"]),
        a.forecasts.drop(columns=["observed", "pit"]),
    )
    # several origins pool their scores
    both = projection.backtest(
        plain, origins=["2019-04-01", "2020-04-01"], horizon_months=12, draws=60, rng=3
    )
    assert both.origins == (pd.Timestamp("2019-04-01"), pd.Timestamp("2020-04-01"))
    overall = both.overall().set_index("pooling")
    assert overall.loc["partial", "forecasts"] == 2 * 2 * 12


# ------------------------------------------------------------------ intervals that cover


def _coverage(result, months=(6, 12)):
    """Coverage of the 90% and 50% intervals over the authorities' cells (origin x month
    x total and placement types), and the number of cells."""
    table = result.forecasts
    cells = table[table["month"].isin(months) & (table["authority"] != projection.REGION)]
    y = cells["observed"]
    inside_90 = (cells["ci_low"] <= y) & (y <= cells["ci_high"])
    inside_50 = (cells["q25"] <= y) & (y <= cells["q75"])
    return float(inside_90.mean()), float(inside_50.mean()), len(cells)


def _drifting(seed, *, drift, common, late=0.05, n=6):
    sizes = {
        f"LA {i}": int(s) for i, s in enumerate(np.random.default_rng(seed).integers(20, 300, n))
    }
    extract = projection.simulate_drifting_region(
        sizes, years=range(2015, 2023), rng=seed, drift=drift, common_drift=common, late=late
    )
    return ssda903.from_frames(extract["header"], extract["episodes"])


@pytest.mark.slow
@pytest.mark.parametrize(("drift", "common"), [(0.15, 0.1), (0.0, 0.0)])
def test_intervals_cover_on_simulated_regions(drift, common):
    # regions whose entry and leaving rates drift (a random walk on the log rates, each
    # authority's own and the region's) and regions whose rates hold, with late records
    # and sibling groups: the real-time 90% and 50% intervals cover 80-97% and 35-65% of
    # the cells (authority x origin x 6 and 12 months x total and placement types), to
    # within two binomial standard errors of the coverage
    inside_90, inside_50, cells = [], [], 0
    for seed in (11, 12, 13):
        result = projection.backtest(
            _drifting(seed, drift=drift, common=common),
            origins=["2019-04-01", "2020-04-01", "2021-04-01"],
            horizon_months=12,
            draws=200,
            pooling="partial",
            rng=seed,
        )
        c90, c50, n = _coverage(result)
        inside_90.append(c90 * n)
        inside_50.append(c50 * n)
        cells += n
    c90, c50 = sum(inside_90) / cells, sum(inside_50) / cells
    for got, level, band in ((c90, 0.9, (0.80, 0.97)), (c50, 0.5, (0.35, 0.65))):
        se = np.sqrt(level * (1 - level) / cells)
        assert band[0] - 2 * se <= got <= band[1] + 2 * se, (got, level, se)


def test_kalman_local_level_matches_statsmodels():
    # statsmodels 0.15: sm.tsa.UnobservedComponents(z, "llevel").smooth([0.5, 0.1]), its
    # exact diffuse start: filtered level 0.997050 (variance 0.181376) at the last
    # period, llf -4.564032 (the first observation is the diffuse burn-in)
    import statsmodels.api as sm

    from lacstats.projection import kalman_local_level

    z = np.array([1.0, 1.2, 0.9, 1.5, 1.1, 0.7])
    m, p, loglik = kalman_local_level(
        z[None], np.full((1, 1, 6), 0.5), np.array([[0.1]]), np.ones((1, 6), bool)
    )
    assert m[0, 0] == pytest.approx(0.997050, abs=1e-6)
    assert p[0, 0] == pytest.approx(0.181376, abs=1e-6)
    assert loglik[0] == pytest.approx(-4.564032, abs=1e-6)
    peer = sm.tsa.UnobservedComponents(z, "llevel").smooth([0.5, 0.1])
    assert m[0, 0] == pytest.approx(peer.filtered_state[0, -1], abs=1e-6)
    assert loglik[0] == pytest.approx(peer.llf, abs=1e-6)
    # a missing period: the level steps on unseen, as statsmodels does with NaN
    gap = z.copy()
    gap[3] = np.nan
    seen = ~np.isnan(gap)
    m, p, loglik = kalman_local_level(
        np.nan_to_num(gap)[None], np.full((1, 1, 6), 0.5), np.array([[0.1]]), seen[None]
    )
    peer = sm.tsa.UnobservedComponents(gap, "llevel").smooth([0.5, 0.1])
    assert m[0, 0] == pytest.approx(peer.filtered_state[0, -1], abs=1e-6)
    assert loglik[0] == pytest.approx(peer.llf, abs=1e-6)


def test_local_level_finds_the_year_to_year_change_it_was_given():
    # quarterly log rates that follow a random walk with a year's step of sd 0.3, seen
    # through Poisson counts of about 400 (40 units x 12 quarters): the grid posterior of
    # tau centres near 0.3; rates that hold give tau near zero
    from lacstats.projection import level_factors, local_level

    generator = np.random.default_rng(4)
    walk = np.cumsum(generator.normal(0, 0.3 / 2, (40, 12)), axis=1)
    exposure = np.full((40, 12), 100.0)
    counts = generator.poisson(4.0 * np.exp(walk) * exposure)
    tau, sigma = local_level(counts, exposure).posterior_mean()
    assert 0.22 < tau < 0.38, tau
    assert sigma < 0.1
    steady = generator.poisson(4.0 * exposure)
    assert local_level(steady, exposure).posterior_mean()[0] < 0.08
    # a level that fell: the projection starts from where it is, not its average
    fallen = np.tile(np.array([40, 38, 30, 26, 22, 20, 16, 15.0]), (1, 1))
    fit = local_level(fallen, np.full((1, 8), 100.0))
    factors = level_factors(fit, 4000, 12, np.random.default_rng(2))
    assert np.median(factors[:, 0, 0]) * np.exp(fit.baseline[0]) * 100 == pytest.approx(16, abs=3)
    # and its interval widens with the horizon
    spread = np.log(factors[:, 0, :]).std(axis=0)
    assert spread[11] > spread[0]


def test_stock_revisions_and_the_drift_options(tmp_path):
    data = ssda903.read(ssda903.fake903_path())
    revisions = projection.stock_revisions(data, 2022)
    # the children looked after on 31 March 2019: 234 as the 2018-19 return reported
    # them, 326 as the 2019-20 return reports the same day (late records)
    row = revisions.set_index("year").loc[2020]
    assert (row["first"], row["revised"]) == (234, 326)
    assert row["log_ratio"] == pytest.approx(np.log(326 / 234))
    assert list(revisions["year"]) == [2019, 2020, 2021, 2022]
    cleaned = ssda903.clean(projection.returns_up_to(data, 2020))
    plain = projection.stock_and_flow(cleaned, months=3, draws=400, drift=False, rng=1)
    revised = projection.stock_and_flow(
        cleaned,
        months=3,
        draws=400,
        drift=False,
        revision=revisions[revisions["year"] <= 2020],
        rng=1,
    )
    # the starting stock, 161 as recorded, is scaled by the revisions seen (22% and 39%)
    assert plain.draws[:, 0].sum(axis=1).tolist() == [161] * 400
    start = revised.draws[:, 0].sum(axis=1)
    seen = np.exp(revisions.loc[revisions["year"] <= 2020, "log_ratio"])
    assert 161 * seen.min() < start.mean() < 161 * seen.max()
    assert start.std() > 5
    drifting = projection.stock_and_flow(cleaned, months=3, draws=50, rng=1)
    assert {"entry_tau", "leaving_tau"} <= set(drifting.options)
    again = projection.stock_and_flow(cleaned, months=3, draws=50, rng=1)
    np.testing.assert_array_equal(drifting.by_authority, again.by_authority)


def test_entries_scale_to_a_population_by_age_and_sex():
    # three authorities; a population by single year of age and sex. Where the projected
    # population under 5 doubles from 2021, the projected children under 5 entering
    # double too; the bands' exposure is the band's population
    cleaned = _region({"North": 60, "South": 90, "East": 40}, seed=5)
    rows = [
        {"authority": a, "age": age, "sex": sex, "year": year, "population": 500.0}
        for a in ("East", "North", "South")
        for age in range(18)
        for sex in ("1", "2")
        for year in (2021,)
    ]
    base = pd.DataFrame(rows)
    grown = pd.concat(
        [base, base.assign(year=2022, population=np.where(base["age"] < 5, 1000.0, 500.0))]
    )
    kwargs = {"start": "2021-04-01", "months": 12, "draws": 300, "drift": False, "groups": False}
    flat = projection.stock_and_flow(cleaned, population=base, rng=4, **kwargs)
    more = projection.stock_and_flow(cleaned, population=grown, rng=4, **kwargs)
    entry = flat.rates[flat.rates["to"] == "entry, aged 1 to 4"].set_index("authority")
    # 4 ages x 2 sexes x 500 children, over the window's months
    window = flat.rates[flat.rates["to"] == "entry, aged under 1"].set_index("authority")
    assert entry["exposure_months"].to_numpy() == pytest.approx(
        4000 / 1000 * window["exposure_months"].to_numpy()
    )
    assert flat.options["entry_exposure"] == "population by age"
    young = slice(0, 2)  # under 1, 1 to 4
    # from January 2022 (the year's last three months) the under-5s enter twice as often:
    # more under-5s are looked after at month 12; the older bands are unchanged
    ratio = more.by_age[:, 12, :, young].sum() / flat.by_age[:, 12, :, young].sum()
    assert 1.03 < ratio < 1.5
    older = slice(3, 5)
    np.testing.assert_allclose(
        more.by_age[:, 12, :, older].mean(), flat.by_age[:, 12, :, older].mean(), rtol=0.05
    )
    with pytest.raises(DataError, match="lacks column 'age'"):
        projection.stock_and_flow(cleaned, population=base.drop(columns="age"), **kwargs)


def test_empty_cells_draw_no_random_numbers():
    # the simulation draws the binomials of the occupied cells only: the same numbers, and
    # the same stream after, as drawing every cell (numpy returns 0 for n = 0 unseen)
    n = np.array([0, 3, 0, 5, 0, 0, 2, 40])
    p = np.linspace(0.1, 0.8, len(n))
    every, occupied = np.random.default_rng(3), np.random.default_rng(3)
    drawn = every.binomial(n, p)
    assert drawn[n == 0].sum() == 0
    assert drawn[n > 0].tolist() == occupied.binomial(n[n > 0], p[n > 0]).tolist()
    assert every.random() == occupied.random()
