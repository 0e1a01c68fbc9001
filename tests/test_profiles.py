"""Need profiles against poLCA (carcinoma) and R's kmeans (iris); stability and naming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from lacstats import profiles
from lacstats.errors import DataError

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def carcinoma() -> pd.DataFrame:
    patterns = pd.read_csv(DATA / "carcinoma_patterns.csv")
    return patterns.loc[patterns.index.repeat(patterns.pop("count"))].reset_index(drop=True)


def test_carcinoma_against_polca(carcinoma):
    # Linzer and Lewis (2011), J Stat Softw 42(10), section 5.1; poLCA(cbind(A,...,G) ~ 1,
    # carcinoma, nclass = k, nrep = 10): maximum log-likelihood, AIC and BIC
    published = {
        1: (-524.4648, 1062.93, 1082.324),
        2: (-317.2568, 664.5137, 706.0739),
        3: (-293.705, 633.41, 697.1357),
        4: (-289.2858, 640.5717, 726.4629),
    }
    assert len(carcinoma) == 118
    model = profiles.NeedProfiles(
        method="lca", k_range=(1, 4), n_init=20, items=tuple("ABCDEFG"), rng=1
    ).fit(carcinoma)
    table = model.selection_.set_index("k")
    for k, (loglik, aic, bic) in published.items():
        assert table.loc[k, "loglik"] == pytest.approx(loglik, abs=1e-3), k
        assert table.loc[k, "aic"] == pytest.approx(aic, abs=1e-3), k
        assert table.loc[k, "bic"] == pytest.approx(bic, abs=1e-3), k
    assert model.n_profiles_ == 3  # BIC picks the published three classes
    # poLCA's three-class shares: 0.4447, 0.3736, 0.1817
    assert sorted(model.profiles_["share"].round(2)) == pytest.approx([0.19, 0.37, 0.44], abs=0.02)


def test_kmeans_against_r_iris():
    # R: kmeans(iris[, 1:4], centers = 3, nstart = 20): tot.withinss 78.85144, sizes 50/62/38
    iris = load_iris(as_frame=True).frame.iloc[:, :4]
    model = profiles.NeedProfiles(
        method="kmeans",
        n_profiles=3,
        n_init=20,
        items=tuple(iris.columns),
        standardise=False,
        rng=0,
    ).fit(iris)
    assert model.model_.inertia_ == pytest.approx(78.85144, abs=1e-4)
    assert sorted(model.profiles_["size"]) == [38, 50, 62]


def test_bic_selection_and_stability_on_separated_groups(rng):
    centres = np.array([[1, 1, 5, 5], [5, 5, 1, 1], [1, 5, 1, 5]])
    X = np.repeat(centres, 80, axis=0) + rng.normal(0, 0.4, (240, 4))
    frame = pd.DataFrame(
        X, columns=["risk_violence", "risk_missing", "mental_health", "learning_disability"]
    )
    model = profiles.NeedProfiles(
        method="kmeans", k_range=(1, 6), items=tuple(frame.columns), rng=2
    ).fit(frame)
    assert model.n_profiles_ == 3
    assert set(model.selection_.columns) >= {
        "k",
        "loglik",
        "aic",
        "bic",
        "sabic",
        "relative_entropy",
        "smallest_share",
    }
    stab = model.stability(frame, n_boot=20, rng=3)
    assert (stab["jaccard"] > 0.95).all()
    assert set(stab["reading"]) == {"stable"}
    assert model.probabilities_.shape == (240, 3)


def test_readings_and_names():
    assert [profiles.stability_reading(j) for j in (0.5, 0.6, 0.74, 0.75)] == [
        "unstable",
        "pattern",
        "pattern",
        "stable",
    ]
    means = pd.DataFrame(
        {"risk_violence": [4.5, 1.5], "risk_offending": [4.0, 1.6], "mental_health": [2.0, 2.1]}
    )
    assert profiles.name_profiles(means, means.mean()) == ["violence and offending", "lower need"]


def test_lca_on_need_items_recovers_a_profile(cases, truth):
    model = profiles.NeedProfiles(method="lca", n_profiles=3, n_init=3, rng=4).fit(cases)
    crosstab = pd.crosstab(model.labels_, cases["case_id"].map(truth.need_profiles))
    # the violence-and-offending children mostly share one latent class
    assert (
        crosstab["violence_and_offending"].max() / crosstab["violence_and_offending"].sum() > 0.6
    )
    # new data is encoded in the fitted columns: a few rows (fewer scores seen) keep their
    # classes, and a score the fit never saw is refused
    assert (model.predict(cases.head(20)) == model.labels_[:20]).all()
    assert (model.predict(cases) == model.labels_).all()
    unseen = cases.head(3).copy()
    unseen.loc[unseen.index[1], "mental_health"] = 9
    with pytest.raises(DataError, match="need scores above 5") as err:
        model.predict(unseen)
    assert (err.value.column, err.value.rows, err.value.values) == ("mental_health", [2], [9.0])


def test_scikit_learn_contract_and_no_training_data_kept(rng):
    from sklearn.base import clone

    from lacstats.errors import NotFittedError

    model = profiles.NeedProfiles(method="kmeans", n_profiles=2, n_init=2, rng=1)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(np.ones((3, 9)))
    X = np.vstack([rng.normal(1.5, 0.2, (40, 9)), rng.normal(4.5, 0.2, (40, 9))])
    labels = model.fit_predict(X)  # ClusterMixin: fit, then labels_
    assert np.array_equal(labels, model.labels_)
    assert np.array_equal(model.predict(X), model.labels_)
    kept = [v for v in vars(model).values() if isinstance(v, np.ndarray) and v.shape == X.shape]
    assert kept == []  # the training matrix is not stored
    with pytest.raises(DataError, match="the 80 cases the model was fitted to, got 79"):
        model.stability(X[:-1], n_boot=2, rng=1)


def test_logsumexp_rows_is_scipys_bit_for_bit(rng):
    from scipy.special import logsumexp

    for k in (1, 2, 3, 6, 7, 8, 11):
        a = np.log(rng.dirichlet(np.ones(k), size=400)) * rng.uniform(0.5, 40, (400, 1))
        a[:40] = np.round(a[:40])  # ties for the maximum
        a[40:60, 0] = a[40:60, -1]
        assert np.array_equal(profiles._logsumexp_rows(a), logsumexp(a, axis=1)), k
    odd = np.array([[-np.inf, -np.inf], [0.0, -0.0], [np.inf, 1.0], [-3.0, np.nan]])
    assert np.array_equal(profiles._logsumexp_rows(odd), logsumexp(odd, axis=1), equal_nan=True)


@pytest.mark.parametrize("binary", [True, False])
def test_lean_stepmix_fits_are_stepmixs_bit_for_bit(binary, carcinoma, cases):
    import warnings

    from stepmix import StepMix

    if binary:
        data = carcinoma[list("ABCDEFG")].to_numpy(float) - 1
        measurement, params = "binary", None
    else:
        model = profiles.NeedProfiles(method="lca")
        model.binary_ = False
        data, params = model._codes(model._matrix(cases.head(400)))
        measurement = "categorical"
    for k in (1, 3):
        fits = []
        for cls in (StepMix, profiles._stepmix()):
            fit = cls(
                n_components=k,
                measurement=measurement,
                measurement_params=params,
                n_init=2,
                random_state=7,
                progress_bar=0,
                max_iter=300,
                abs_tol=1e-8,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fits.append(fit.fit(data))
        plain, lean = fits
        assert lean.n_iter_ == plain.n_iter_
        assert lean.n_iter_ > (1 if k > 1 else 0)
        assert lean.lower_bound_buffer_ == plain.lower_bound_buffer_
        assert np.array_equal(lean.weights_, plain.weights_)
        assert np.array_equal(lean._mm.parameters["pis"], plain._mm.parameters["pis"])
        assert np.array_equal(lean.predict_proba(data), plain.predict_proba(data))
        assert lean.score(data) == plain.score(data)
