"""Regressions against certified and published results, each naming its source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.datasets import longley

from lacstats import regression
from lacstats.errors import DataError

DATA = Path(__file__).parent / "data"


def test_longley_nist_certified():
    # NIST StRD, Longley (1967) data, certified values (www.itl.nist.gov/div898/strd/lls/
    # data/Longley.shtml): B0..B6, residual SD 304.854073561965, R^2 0.995479004577296
    data = longley.load_pandas().data
    res = regression.fit(data, "TOTEMP ~ GNPDEFL + GNP + UNEMP + ARMED + POP + YEAR")
    got = res.to_frame().set_index("term")["estimate"]
    certified = {
        "Intercept": -3482258.63459582,
        "GNPDEFL": 15.0618722713733,
        "GNP": -0.358191792925910e-01,
        "UNEMP": -2.02022980381683,
        "ARMED": -1.03322686717359,
        "POP": -0.511041056535807e-01,
        "YEAR": 1829.15146461355,
    }
    for term, value in certified.items():
        assert got[term] == pytest.approx(value, rel=1e-7), term
    assert res.statistics["residual_sd"] == pytest.approx(304.854073561965, rel=1e-7)
    assert res.statistics["r2"] == pytest.approx(0.995479004577296, rel=1e-7)
    se = res.to_frame().set_index("term")["se"]
    assert se["YEAR"] == pytest.approx(455.478499142212, rel=1e-7)  # NIST certified SD(B6)


CLOTTING = pd.DataFrame(
    {
        "u": [5, 10, 15, 20, 30, 40, 60, 80, 100],
        "lot1": [118, 58, 42, 35, 27, 25, 21, 19, 18],
    }
)


def test_gamma_glm_against_r_clotting():
    # McCullagh and Nelder (1989) clotting data, R's ?glm example:
    # glm(lot1 ~ log(u), data = clotting, family = Gamma)
    #   (Intercept) -0.01655438, log(u) 0.01534311; residual deviance 0.01672967 on 7 df;
    #   dispersion 0.002446059
    res = regression.fit(CLOTTING, "lot1 ~ np.log(u)", family="gamma", link="inverse")
    est = res.to_frame().set_index("term")["estimate"]
    assert est["Intercept"] == pytest.approx(-0.01655438, rel=1e-5)
    assert est["np.log(u)"] == pytest.approx(0.01534311, rel=1e-5)
    assert res.statistics["deviance"] == pytest.approx(0.01672967, rel=1e-4)
    assert res.statistics["dispersion"] == pytest.approx(0.002446059, rel=1e-4)


def test_gamma_log_link_against_stata_cancer():
    # Stata: use cancer (Stata Press, r10), glm studytime age i.drug, family(gamma) link(log)
    # as stored in statsmodels' test suite (results_glm.py, class CancerLog):
    #   coefficients age -0.04477778, 2.drug 0.57437126, 3.drug 1.05210726, _cons 4.64604002;
    #   SEs 0.0147328, 0.19694727, 0.19772507, 0.83534671; deviance 16.174635536991005;
    #   scale (Pearson chi2 / df) 0.31805268736385695 on 44 residual df.
    # Stata stops its IRLS earlier than statsmodels (the deviances agree to 1e-9, the
    # coefficients to about 1.5e-5 relative), so the estimates are compared to 5e-5.
    data = pd.read_csv(DATA / "stata_cancer.csv")
    res = regression.fit(data, "studytime ~ age + C(drug)", family="gamma", link="log")
    table = res.to_frame().set_index("term")
    stata = {
        "Intercept": (4.64604002, 0.83534671),
        "age": (-0.04477778, 0.0147328),
        "C(drug)[T.2]": (0.57437126, 0.19694727),
        "C(drug)[T.3]": (1.05210726, 0.19772507),
    }
    for term, (estimate, se) in stata.items():
        assert table.loc[term, "estimate"] == pytest.approx(estimate, rel=5e-5), term
        assert table.loc[term, "se"] == pytest.approx(se, rel=1e-5), term
    assert res.statistics["deviance"] == pytest.approx(16.174635536991005, rel=1e-8)
    assert res.statistics["dispersion"] == pytest.approx(0.31805268736385695, rel=1e-5)
    assert res.statistics["n"] == 48
    # the response-scale prediction is exp(linear predictor): Stata's fitted value for row 1
    assert res.predict(data.iloc[[0]])[0] == pytest.approx(6.78419193, rel=5e-5)


def test_gamma_defaults_to_log_link():
    res = regression.fit(CLOTTING, "lot1 ~ np.log(u)", family="gamma")
    assert res.link == "log"
    pred = res.predict(CLOTTING)
    assert np.all(pred > 0)
    # log link: fitted mean = exp(linear predictor)
    assert pred == pytest.approx(np.exp(res.predict(CLOTTING, scale="link")))


# Dyestuff (Davies 1947; lme4::Dyestuff): yield of dyestuff, 6 batches x 5 preparations
DYESTUFF = pd.DataFrame(
    {
        "batch": np.repeat(list("ABCDEF"), 5),
        "yield_": [
            1545,
            1440,
            1440,
            1520,
            1580,
            1540,
            1555,
            1490,
            1560,
            1495,
            1595,
            1550,
            1605,
            1510,
            1560,
            1445,
            1440,
            1595,
            1465,
            1545,
            1595,
            1630,
            1515,
            1635,
            1625,
            1520,
            1455,
            1450,
            1480,
            1445,
        ],
    }
)


def test_random_intercepts_against_lme4_dyestuff():
    # lme4 (Bates et al. 2015, J Stat Softw 67(1), section 1): lmer(Yield ~ 1 + (1 | Batch),
    # Dyestuff), REML: intercept 1527.50 (SE 19.38), Batch SD 42.00, residual SD 49.51
    res = regression.fit(DYESTUFF, "yield_ ~ 1", groups="batch")
    row = res.to_frame().set_index("term").loc["Intercept"]
    assert row["estimate"] == pytest.approx(1527.5, abs=0.01)
    assert row["se"] == pytest.approx(19.38, abs=0.01)
    assert res.statistics["group_sd"] == pytest.approx(42.00, abs=0.02)
    assert res.statistics["residual_sd"] == pytest.approx(49.51, abs=0.01)


def test_cluster_robust_matches_stata_cr1_formula(rng):
    # Stata's vce(cluster): V = (X'X)^-1 (sum_g X_g'u_g u_g'X_g) (X'X)^-1 x
    # G/(G-1) x (N-1)/(N-K), computed here directly with numpy (Petersen's test data is
    # not available offline).
    n, groups = 400, 20
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n) + rng.normal(size=groups)[g]
    y = 1 + 0.5 * x + rng.normal(size=groups)[g] + rng.normal(size=n)
    data = pd.DataFrame({"y": y, "x": x, "firm": g})
    res = regression.fit(data, "y ~ x", cov="cluster", cluster="firm")
    X = np.column_stack([np.ones(n), x])
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    u = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    meat = sum(np.outer(X[g == k].T @ u[g == k], X[g == k].T @ u[g == k]) for k in range(groups))
    V = bread @ meat @ bread * groups / (groups - 1) * (n - 1) / (n - 2)
    assert res.to_frame()["se"].to_numpy() == pytest.approx(np.sqrt(np.diag(V)), rel=1e-10)


def test_cluster_robust_against_stata_grunfeld():
    # Stata: regress invest mvalue kstock, vce(cluster company) on Grunfeld's 10 companies
    # (200 firm-years; statsmodels' copy adds American Steel), as stored in statsmodels'
    # tests (results_grunfeld_ols_robust_cluster.py): b = .11556215606596, .23067848754982,
    # -42.714369016733; se = .01589433647768, .08496711097464, 20.425202580078;
    # p(mvalue) = .00004710548549 on t(9); 95% CI .07960666895505 to .15151764317688
    from statsmodels.datasets import grunfeld

    data = grunfeld.load_pandas().data
    data = data[data["firm"] != "American Steel"]
    res = regression.fit(data, "invest ~ value + capital", cov="cluster", cluster="firm")
    t = res.to_frame().set_index("term")
    assert t["estimate"].to_numpy() == pytest.approx(
        [-42.714369016733, 0.11556215606596, 0.23067848754982], rel=1e-7
    )  # statsmodels' copy of the data agrees with Stata's to about 8 digits
    assert t["se"].to_numpy() == pytest.approx(
        [20.425202580078, 0.01589433647768, 0.08496711097464], rel=1e-6
    )
    assert t.loc["value", "pvalue"] == pytest.approx(0.00004710548549, rel=1e-6)
    assert (t.loc["value", "ci_low"], t.loc["value", "ci_high"]) == pytest.approx(
        (0.07960666895505, 0.15151764317688), rel=1e-6
    )


def test_duan_smearing_for_lognormal(cases):
    res = regression.fit(
        cases, "weekly_cost ~ risk_score + C(placement_setting)", family="lognormal"
    )
    resid = np.log(cases["weekly_cost"]) - res.predict(cases, scale="link")
    assert res.smearing == pytest.approx(np.mean(np.exp(resid)))
    mean_pred = res.predict(cases).mean()
    assert mean_pred == pytest.approx(cases["weekly_cost"].mean(), rel=0.15)


def test_median_regression_and_hc(cases):
    q = regression.fit(cases, "weekly_cost ~ risk_score", family="lognormal", quantile=0.5)
    assert q.method.startswith("quantreg")
    hc = regression.fit(cases, "weekly_cost ~ risk_score", cov="HC3")
    plain = regression.fit(cases, "weekly_cost ~ risk_score")
    assert hc.to_frame()["estimate"].to_numpy() == pytest.approx(
        plain.to_frame()["estimate"].to_numpy()
    )
    assert not np.allclose(hc.to_frame()["se"], plain.to_frame()["se"])


def test_errors_before_fitting(cases):
    with pytest.raises(DataError, match="not in the data: risk_scor") as err:
        regression.fit(cases, "weekly_cost ~ risk_scor")
    assert err.value.column == "risk_scor"
    zero = cases.assign(weekly_cost=cases["weekly_cost"].where(cases.index != 3, 0.0))
    with pytest.raises(DataError, match="needs positive values") as err:
        regression.fit(zero, "weekly_cost ~ risk_score", family="gamma")
    assert err.value.rows == [4]
    with pytest.raises(DataError, match="at least 3 groups"):
        regression.fit(cases, "weekly_cost ~ risk_score", groups="authority_type")
    twice = cases.assign(risk_copy=cases["risk_score"].astype(float) * 2)
    with pytest.raises(DataError, match=r"singular design: term.*risk_copy"):
        regression.fit(twice, "weekly_cost ~ risk_score + risk_copy")


def test_correlation_against_r_cor_test():
    # R's ?cor.test example (Hollander and Wolfe 1973, p. 187):
    #   x <- c(44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1)
    #   y <- c( 2.6,  3.1,  2.5,  5.0,  3.6,  4.0,  5.2,  2.8,  3.8)
    #   cor.test(x, y)
    # prints t = 1.8411, df = 7, p-value = 0.1082; 95 percent confidence interval:
    # -0.1497426 0.8955795; cor 0.5711816 (Fisher's z, SE 1/sqrt(n - 3), as lacstats)
    data = pd.DataFrame(
        {
            "x": [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1],
            "y": [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8],
        }
    )
    r = regression.correlation(data, "x", "y")
    assert r.estimate == pytest.approx(0.5711816, abs=5e-8)
    assert r.ci_low == pytest.approx(-0.1497426, abs=5e-8)
    assert r.ci_high == pytest.approx(0.8955795, abs=5e-8)
    assert r.pvalue == pytest.approx(0.1082, abs=5e-5)
    boot = regression.correlation(data, "x", "y", method="spearman", bootstrap=500, rng=1)
    assert boot.ci_low < boot.estimate < boot.ci_high
    assert boot == regression.correlation(data, "x", "y", method="spearman", bootstrap=500, rng=1)


def test_risk_cost_table(cases):
    answer = regression.risk_cost(cases)
    table, text = answer.table, answer.text
    assert {
        "log-cost OLS, authority-clustered SE",
        "gamma GLM, log link",
        "mixed model, authority intercepts",
        "median regression of log cost",
    } <= set(table["analysis"])
    overall = table[
        (table["analysis"] == "spearman correlation") & (table["subset"] == "all cases")
    ]
    assert 0.1 < overall["estimate"].item() < 0.3
    assert "weak" in text
    assert "most expensive" in text


def test_every_estimator_reports_the_same_core_statistics(cases):
    formula = "weekly_cost ~ risk_score + C(placement_setting)"
    fits = {
        "ols": regression.fit(cases, formula, family="lognormal"),
        "glm": regression.fit(cases, formula, family="gamma"),
        "mixed": regression.fit(cases, formula, family="lognormal", groups="authority"),
        "quantile": regression.fit(cases, formula, family="lognormal", quantile=0.5),
    }
    for name, res in fits.items():
        assert list(res.statistics)[:4] == ["n", "loglik", "aic", "bic"], name
        assert res.statistics["n"] == len(cases), name
    # OLS of log cost: statsmodels' own likelihood and information criteria
    ols = fits["ols"].model
    assert fits["ols"].statistics["aic"] == pytest.approx(ols.aic)
    assert fits["ols"].statistics["bic"] == pytest.approx(ols.bic)
    assert fits["glm"].statistics["bic"] == pytest.approx(fits["glm"].model.bic_llf)
    assert np.isfinite(fits["mixed"].statistics["loglik"])
    assert np.isnan(fits["mixed"].statistics["aic"])  # REML: no AIC, as statsmodels says
