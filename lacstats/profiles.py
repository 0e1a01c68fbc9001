"""Need profiles: latent classes, k-means or Gaussian mixtures over the need items.

``method="lca"`` fits latent class models with StepMix (Morin et al. 2025, J Stat Softw),
the nine need items as categorical indicators (scores 1-5 as five categories, as poLCA
treats polytomous items); ``"kmeans"`` and ``"gmm"`` use scikit-learn on standardised
scores. The number of profiles is chosen by BIC over ``k_range`` unless given. For k-means,
which has no likelihood, BIC is that of the spherical, equal-variance Gaussian mixture
with hard assignment implied by the partition (Pelleg and Moore 2000, X-means).

:meth:`NeedProfiles.stability` is Hennig's (2007, Comput Stat Data Anal 52, 258-271)
bootstrap: refit on resamples and, for each profile, the mean over resamples of the best
Jaccard similarity with a bootstrap profile. Hennig's reading: below 0.6 the profile is
not stable ("dissolved"), 0.6-0.75 it indicates a pattern, 0.75 and above it is stable.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError as SklearnNotFitted
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from lacstats import schema
from lacstats.errors import DataError, NotFittedError, frame_argument

__all__ = ["NeedProfiles", "name_profiles", "stability_reading"]

METHODS = ("lca", "kmeans", "gmm")
#: Added to GMM variances, in standardised units (scikit-learn's ``reg_covar``).
GMM_VARIANCE_FLOOR = 0.05
_LABELS = {
    "risk_violence": "violence",
    "risk_missing": "missing",
    "risk_cse": "sexual exploitation",
    "risk_cce": "criminal exploitation",
    "risk_offending": "offending",
    "risk_substance": "substance misuse",
    "risk_self_harm": "self-harm",
    "mental_health": "mental health",
    "learning_disability": "learning disability",
}


def _spawn(gen: np.random.Generator, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``gen`` (SPEC 7), for order-free parallel fits."""
    return np.random.SeedSequence(int(gen.integers(0, 2**63))).spawn(n)


def stability_reading(jaccard: float) -> str:
    """Hennig's (2007) reading of a mean bootstrap Jaccard similarity.

    Examples
    --------
    >>> from lacstats import profiles
    >>> profiles.stability_reading(0.82), profiles.stability_reading(0.65), profiles.stability_reading(0.4)
    ('stable', 'pattern', 'unstable')
    """
    if jaccard >= 0.75:
        return "stable"
    if jaccard >= 0.6:
        return "pattern"
    return "unstable"


def name_profiles(means: pd.DataFrame, overall: pd.Series, *, threshold: float = 0.5) -> list:
    """Plain-language names from each profile's dominant needs.

    An item dominates when the profile's mean score exceeds the overall mean by at least
    ``threshold`` points; the two largest excesses name the profile ("violence and
    offending"); a profile with none is "lower need". Duplicates get a number.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import profiles
    >>> means = pd.DataFrame({"risk_violence": [4.5, 1.5], "risk_offending": [4.0, 1.4], "mental_health": [2.0, 2.1]})
    >>> profiles.name_profiles(means, means.mean())
    ['violence and offending', 'lower need']
    """
    names = []
    for _, row in means.iterrows():
        excess = (row - overall).sort_values(ascending=False)
        top = [_LABELS.get(i, i) for i, v in excess.items() if v >= threshold][:2]
        names.append(" and ".join(top) if top else "lower need")
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return out


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """``scipy.special.logsumexp(a, axis=1)`` of a 2-d float array, bit for bit.

    The same operations as SciPy's (1.15+) real, unweighted path: the row maximum is taken
    out, the other terms summed relative to it, divided by the number of maxima and
    ``log1p``-ed; without SciPy's array-API dispatch, which costs more than the arithmetic
    on an EM step's n x k array. With fewer than 8 columns the work is done on the k columns
    as contiguous vectors, the terms added left to right, which is NumPy's order along a
    short last axis (it sums 8 or more pairwise: those rows go to ``np.sum``). A result that
    is not finite, or a maximum of zero (never in an EM step: StepMix clips every
    probability away from 0 and 1), goes to SciPy itself.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import logsumexp
    >>> from lacstats.profiles import _logsumexp_rows
    >>> a = np.log(np.random.default_rng(1).dirichlet(np.ones(4), size=50)) * 3
    >>> bool(np.array_equal(_logsumexp_rows(a), logsumexp(a, axis=1)))
    True
    """
    k = a.shape[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if 1 <= k < 8:
            cols = np.ascontiguousarray(a.T)
            top = cols.max(axis=0)
            is_top = cols == top
            count = np.count_nonzero(is_top, axis=0)
            rest = cols - top
            rest[is_top] = -np.inf
            np.exp(rest, out=rest)
            s = rest[0].copy()
            for j in range(1, k):
                s += rest[j]
            if count.max() == 1:  # one maximum in every row: s / 1 and + log(1) change nothing
                out = np.log1p(s)
                out += top
                return _finite_or_scipy(out, top, a)
            m = count.astype(a.dtype)
        else:
            top = np.max(a, axis=1)
            is_top = a == top[:, np.newaxis]
            m = np.sum(is_top.astype(a.dtype), axis=1, dtype=a.dtype)
            rest = np.exp(np.where(is_top, -np.inf, a) - top[:, np.newaxis])
            s = np.sum(rest, axis=1, dtype=rest.dtype)
        s = np.where(s == 0, s, s / m)
        out = np.log1p(s) + np.log(m) + top
    return _finite_or_scipy(out, top, a)


def _finite_or_scipy(out: np.ndarray, top: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``out``, or SciPy's logsumexp of ``a`` when a row is not finite or has maximum 0."""
    if np.isfinite(out).all() and top.all():
        return out
    from scipy.special import logsumexp

    return logsumexp(a, axis=1)


@functools.cache
def _stepmix() -> type:
    """StepMix with leaner glue around its E and M steps: the same fits, bit for bit.

    On 1,253 children and up to six classes one EM step's arithmetic takes microseconds and
    StepMix's glue most of a millisecond: ``_m_step`` validates the sample weights again on
    every step (``em`` has already made them an array of ones) and ``_e_step`` calls SciPy's
    array-API ``logsumexp``. These overrides skip the repeated check and use
    :func:`_logsumexp_rows`; the EM loop, initialisation, convergence test and every formula
    stay StepMix's (tests/test_profiles.py compares the fitted parameters with StepMix's
    own, bit for bit). Anything but the measurement-only fit (a structural model, the ML
    correction, other weights) goes to StepMix's own methods.
    """
    from stepmix import StepMix

    class _LeanStepMix(StepMix):
        def _e_step(self, X, Y=None, sample_weight=None, log_emission_pm=None):
            if Y is not None or log_emission_pm is not None:
                return super()._e_step(X, Y, sample_weight, log_emission_pm)
            log_resp = self._mm.log_likelihood(X)
            log_resp += np.log(self.weights_).reshape((1, -1))
            ll = _logsumexp_rows(log_resp)
            with np.errstate(under="ignore"):
                log_resp -= ll.reshape((-1, 1))
            if sample_weight is None or (sample_weight == 1).all():
                return ll.sum() / ll.dtype.type(len(ll)), log_resp
            return np.average(ll, weights=sample_weight), log_resp

        def _m_step(self, X, resp, Y=None, sample_weight=None, freeze_measurement=False):
            checked = (
                isinstance(sample_weight, np.ndarray)
                and sample_weight.dtype == X.dtype
                and sample_weight.shape == (X.shape[0],)
                and sample_weight.flags.c_contiguous
            )
            if (
                Y is not None
                or freeze_measurement
                or not checked
                or not (sample_weight == 1).all()
            ):
                return super()._m_step(X, resp, Y, sample_weight, freeze_measurement)
            # unit weights: np.average(resp, weights, axis=0) is resp.sum(axis=0) / n and
            # resp * weights is resp, the same numbers without the copies
            self.weights_ = np.clip(
                resp.sum(axis=0) / resp.dtype.type(len(resp)), 1e-15, 1 - 1e-15
            )
            self._mm.m_step(X, resp)
            return None

    return _LeanStepMix


@dataclass
class _Fit:
    k: int
    labels: np.ndarray
    probabilities: np.ndarray
    loglik: float
    n_parameters: int
    model: object


def _check_options(model: NeedProfiles) -> None:
    """NeedProfiles' options, checked when it is fitted (scikit-learn's convention: the
    constructor only stores): each a DataError naming the argument."""
    whole = lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool)
    if model.n_profiles != "bic" and not (whole(model.n_profiles) and model.n_profiles >= 1):
        raise DataError(
            f"argument 'n_profiles' must be a whole number >= 1 or 'bic'; got "
            f"{model.n_profiles!r}",
            column="n_profiles",
        )
    k = model.k_range
    if not (
        isinstance(k, tuple | list)
        and len(k) == 2
        and all(whole(v) for v in k)
        and 1 <= k[0] <= k[1]
    ):
        raise DataError(
            f"argument 'k_range' must be (smallest, largest) whole numbers with 1 <= smallest "
            f"<= largest; got {k!r}",
            column="k_range",
        )
    if not (whole(model.n_init) and model.n_init >= 1):
        raise DataError(
            f"argument 'n_init' must be a whole number >= 1; got {model.n_init!r}", column="n_init"
        )


class NeedProfiles(ClusterMixin, BaseEstimator):
    """Cluster children by need, as a scikit-learn estimator.

    ``__init__`` only stores its arguments (``get_params``, ``set_params`` and ``clone``
    work); ``fit`` returns self with the fitted attributes ``selection_`` (every k's
    likelihood, information criteria and relative entropy), ``n_profiles_``, ``model_``,
    ``labels_``, ``probabilities_`` and ``profiles_`` (sizes, names, mean scores and
    prevalence of each profile). The training data are not kept: :meth:`stability` takes
    them again.

    Examples
    --------
    >>> from lacstats import synthetic
    >>> from lacstats.profiles import NeedProfiles
    >>> cases = synthetic.complex_lac(rng=2019)
    >>> model = NeedProfiles(method="kmeans", n_profiles=3, n_init=5, rng=1).fit(cases)
    >>> model.n_profiles_, len(model.labels_)
    (3, 1253)
    >>> model.profiles_.columns.tolist()[:3]
    ['profile', 'size', 'share']
    >>> int(model.profiles_["size"].sum())
    1253
    """

    def __init__(
        self,
        method: str = "lca",
        n_profiles: int | str = "bic",
        k_range: tuple[int, int] = (1, 8),
        n_init: int = 20,
        items: tuple[str, ...] = schema.NEED_ITEMS,
        standardise: bool = True,
        rng: int | np.random.Generator | None = None,
        n_jobs: int = 1,
    ) -> None:
        self.method = method
        self.n_profiles = n_profiles
        self.k_range = k_range
        self.n_init = n_init
        self.items = items
        self.standardise = standardise
        self.rng = rng
        self.n_jobs = n_jobs

    # -- data -------------------------------------------------------------------------
    def _matrix(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        if isinstance(data, np.ndarray):
            return data.astype(float)
        missing = [c for c in self.items if c not in data.columns]
        if missing:
            raise DataError(f"need items missing from the data: {missing}", column=missing[0])
        X = data[list(self.items)].astype("float64")
        incomplete = X.isna().any(axis=1).to_numpy()
        if incomplete.any():
            raise DataError.at(
                "need items must be complete for profiling",
                self.items[0],
                incomplete,
                data[self.items[0]],
            )
        return X.to_numpy()

    def _codes(self, X: np.ndarray, fitted: dict | None = None) -> tuple[np.ndarray, dict | None]:
        """StepMix's input for ``X``: 0/1 items as they are, categorical items one-hot.

        StepMix would one-hot encode integer codes itself, again on every EM step; encoding
        once here, with its own encoder, gives the same model in half the time. ``fitted``
        (the parameters returned for the fitted data) keeps new data in the same columns.
        """
        if self.binary_:
            return X - X.min(axis=0), None
        from stepmix.utils import max_one_hot

        widths = {key: (fitted or {}).get(key) for key in ("max_n_outcomes", "total_outcomes")}
        if fitted is not None and X.max(initial=1) > fitted["max_n_outcomes"]:
            column = int(np.argmax(X.max(axis=0)))
            raise DataError.at(
                f"need scores above {fitted['max_n_outcomes']} were not in the fitted data",
                self.items[column],
                X[:, column] > fitted["max_n_outcomes"],
                X[:, column],
            )
        one_hot, max_outcomes, total_outcomes = max_one_hot(X - 1, **widths)
        return one_hot, {
            "integer_codes": False,
            "max_n_outcomes": max_outcomes,
            "total_outcomes": total_outcomes,
        }

    def _seed(self, gen: np.random.Generator) -> int:
        return int(gen.integers(0, 2**31 - 1))

    # -- one fit ----------------------------------------------------------------------
    def _fit_k(self, X: np.ndarray, k: int, gen: np.random.Generator, n_init: int) -> _Fit:
        n, d = X.shape
        if self.method == "lca":
            codes, params = self._codes(X)
            model = _stepmix()(
                n_components=k,
                measurement=self.measurement_,
                measurement_params=params,
                n_init=n_init,
                random_state=self._seed(gen),
                progress_bar=0,
                verbose=0,
                max_iter=2000,
                abs_tol=1e-8,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)
                model.fit(codes)
            proba = model.predict_proba(codes)
            return _Fit(
                k,
                proba.argmax(axis=1),
                proba,
                float(model.score(codes) * n),
                int(model.n_parameters),
                model,
            )
        Z = (X - self.mean_) / self.scale_
        if self.method == "gmm":
            # a variance floor: on discrete scores a component otherwise collapses onto one
            # value of an item and its likelihood diverges
            model = GaussianMixture(
                k,
                covariance_type="diag",
                n_init=n_init,
                reg_covar=GMM_VARIANCE_FLOOR,
                random_state=self._seed(gen),
            ).fit(Z)
            proba = model.predict_proba(Z)
            params = k * 2 * d + (k - 1)
            return _Fit(k, proba.argmax(axis=1), proba, float(model.score(Z) * n), params, model)
        # one OpenMP thread: on a table this size threads save nothing, spin idle on a busy
        # machine (reproduce fills every core: the analysis's k-means fits and bootstrap took
        # 17 s of CPU instead of 0.7 s beside other work) and make the last bits of the
        # centres depend on the number of cores
        with threadpool_limits(1, user_api="openmp"):
            model = KMeans(k, n_init=n_init, random_state=self._seed(gen)).fit(Z)
        labels = model.labels_
        variance = max(model.inertia_ / (n * d), 1e-12)
        sizes = np.bincount(labels, minlength=k)
        loglik = float(
            -n * d / 2 * np.log(2 * np.pi * variance)
            - n * d / 2
            + np.sum(sizes[sizes > 0] * np.log(sizes[sizes > 0] / n))
        )
        return _Fit(k, labels, np.eye(k)[labels], loglik, k * d + 1 + (k - 1), model)

    # -- public -----------------------------------------------------------------------
    def fit(self, cases: pd.DataFrame | np.ndarray, y: object = None) -> NeedProfiles:
        """Fit every k in ``k_range`` (or the given ``n_profiles``) and keep the chosen one."""
        if not isinstance(cases, np.ndarray):
            frame_argument(cases, "cases")
        _check_options(self)
        if self.method not in METHODS:
            raise DataError(
                f"argument 'method' must be one of {METHODS}; got {self.method!r}", column="method"
            )
        X = self._matrix(cases)
        self.binary_ = bool(np.isin(X, [0, 1]).all() or np.isin(X, [1, 2]).all())
        self.measurement_ = "binary" if self.binary_ else "categorical"
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        if not self.standardise:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        gen = np.random.default_rng(self.rng)
        if isinstance(self.n_profiles, int):
            ks = [self.n_profiles]
        elif self.n_profiles == "bic":
            ks = list(range(self.k_range[0], self.k_range[1] + 1))
        else:
            raise DataError(
                f"argument 'n_profiles' must be an int or 'bic'; got {self.n_profiles!r}",
                column="n_profiles",
            )
        n = len(X)
        # one independent stream per k: the same fits whatever n_jobs
        streams = [np.random.default_rng(s) for s in _spawn(gen, len(ks))]
        fitted = self._parallel(
            self._fit_k, [(X, k, s, self.n_init) for k, s in zip(ks, streams, strict=True)]
        )
        fits, rows = {}, []
        for k, f in zip(ks, fitted, strict=True):
            fits[k] = f
            p = f.probabilities
            entropy = -np.sum(p * np.log(np.clip(p, 1e-300, None)))
            rel = 1 - entropy / (n * np.log(k)) if k > 1 else 1.0
            rows.append(
                {
                    "k": k,
                    "loglik": f.loglik,
                    "n_parameters": f.n_parameters,
                    "aic": -2 * f.loglik + 2 * f.n_parameters,
                    "bic": -2 * f.loglik + np.log(n) * f.n_parameters,
                    "sabic": -2 * f.loglik + np.log((n + 2) / 24) * f.n_parameters,
                    "relative_entropy": rel,
                    "smallest_share": float(np.bincount(f.labels, minlength=k).min() / n),
                }
            )
        self.selection_ = pd.DataFrame(rows)
        best = int(self.selection_.loc[self.selection_["bic"].idxmin(), "k"])
        self.n_profiles_ = best
        self.model_ = fits[best].model
        # the one-hot widths the chosen model was fitted with, for new data in predict
        self._widths = self.model_.measurement_params if self.method == "lca" else None
        self.labels_ = fits[best].labels
        self.probabilities_ = fits[best].probabilities
        self.profiles_ = self._describe(X, self.labels_, best)
        return self

    def _describe(self, X: np.ndarray, labels: np.ndarray, k: int) -> pd.DataFrame:
        frame = pd.DataFrame(X, columns=list(self.items))
        means = frame.groupby(labels).mean().reindex(range(k))
        prevalence = (frame >= schema.PREVALENCE_SCORE).groupby(labels).mean().reindex(range(k))
        sizes = np.bincount(labels, minlength=k)
        out = pd.DataFrame({"profile": range(k), "size": sizes, "share": sizes / len(X)})
        out["name"] = name_profiles(means, frame.mean())
        for item in self.items:
            out[f"mean_{item}"] = means[item].to_numpy()
        for item in self.items:
            out[f"prevalence_{item}"] = prevalence[item].to_numpy()
        return out

    def _parallel(self, func, argument_lists: list[tuple]) -> list:
        """``func(*args)`` for each argument tuple, on ``n_jobs`` processes, in order."""
        if self.n_jobs == 1 or len(argument_lists) == 1:
            return [func(*args) for args in argument_lists]
        from joblib import Parallel, delayed

        return Parallel(n_jobs=self.n_jobs)(delayed(func)(*args) for args in argument_lists)

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "labels_")
        except SklearnNotFitted as err:
            raise NotFittedError(
                "this NeedProfiles is not fitted yet: call fit(cases) first"
            ) from err

    def predict(self, cases: pd.DataFrame) -> np.ndarray:
        """Profile of new cases (modal class for LCA and mixtures, nearest centre for k-means)."""
        self._check_fitted()
        X = self._matrix(cases)
        if self.method == "lca":
            return self.model_.predict(self._codes(X, self._widths)[0])
        return self.model_.predict((X - self.mean_) / self.scale_)

    def stability(
        self,
        cases: pd.DataFrame | np.ndarray,
        n_boot: int = 100,
        rng: int | np.random.Generator | None = None,
        n_init: int | None = None,
    ) -> pd.DataFrame:
        """Hennig's bootstrap Jaccard per profile, with the reading of each.

        ``cases`` are the data the model was fitted to (checked: same number of rows and
        the same profile assignments). Each resample is refitted with the chosen number of
        profiles (``n_init`` starts,
        default ``min(self.n_init, 5)``). Returns ``profile``, ``name``, ``jaccard`` (mean
        over resamples), ``dissolved`` (share of resamples with Jaccard below 0.5) and
        ``reading``.
        """
        self._check_fitted()
        X, k, labels = self._matrix(cases), self.n_profiles_, self.labels_
        n = len(X)
        if n != len(labels):
            raise DataError(
                f"stability needs the {len(labels)} cases the model was fitted to, got {n}",
                column="cases",
            )
        gen = np.random.default_rng(rng)
        starts = n_init or min(self.n_init, 5)
        streams = [np.random.default_rng(s) for s in _spawn(gen, n_boot)]
        resamples = [s.integers(0, n, n) for s in streams]
        refits = self._parallel(
            self._fit_k,
            [(X[idx], k, s, starts) for idx, s in zip(resamples, streams, strict=True)],
        )
        scores = np.zeros((n_boot, k))
        for b, (idx, refit) in enumerate(zip(resamples, refits, strict=True)):
            for c in range(k):
                original = np.unique(idx[labels[idx] == c])
                if len(original) == 0:
                    continue
                best = 0.0
                for c2 in range(k):
                    boot = np.unique(idx[refit.labels == c2])
                    union = len(np.union1d(original, boot))
                    if union:
                        best = max(best, len(np.intersect1d(original, boot)) / union)
                scores[b, c] = best
        jaccard = scores.mean(axis=0)
        return pd.DataFrame(
            {
                "profile": range(k),
                "name": self.profiles_["name"],
                "jaccard": jaccard,
                "dissolved": (scores < 0.5).mean(axis=0),
                "reading": [stability_reading(j) for j in jaccard],
            }
        )
