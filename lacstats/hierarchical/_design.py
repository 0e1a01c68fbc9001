"""The design of a hierarchical model: the formula's columns, scaled, with group codes.

Predictors are centred and divided by their standard deviation; the response is put on
its family's scale (``Family.scale_response``: a gaussian-type response, or the log of a
lognormal one, centred and scaled). Priors apply on that scale; :class:`Scale` maps coefficients and group effects back to the user's scale, with
the intercept at x = 0 as lme4, brms and Bambi report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from lacstats.errors import DataError
from lacstats.families import Family
from lacstats.regression import formula_columns, model_frame


@dataclass(frozen=True)
class Design:
    """Scaled data of one fit (internal; arrays are not copied)."""

    y: np.ndarray  # transformed and scaled response (counts for count families)
    X: np.ndarray  # scaled predictors, no intercept column
    names: tuple[str, ...]
    x_mean: np.ndarray
    x_sd: np.ndarray
    y_shift: float
    y_scale: float
    groups: np.ndarray  # integer codes
    levels: tuple[Any, ...]
    counts: np.ndarray
    varying: tuple[int, ...]  # indices into names
    trials: np.ndarray | None  # binomial denominators
    offset: np.ndarray | None  # log exposure of count families
    n_dropped: int
    response: str
    outer: np.ndarray | None = None  # outer-level code of each group (nested grouping)
    outer_levels: tuple[Any, ...] = ()

    @property
    def q(self) -> int:
        """Number of varying coefficients per group (intercept and slopes)."""
        return 1 + len(self.varying)

    def with_intercept(self) -> np.ndarray:
        return np.column_stack([np.ones(len(self.y)), self.X])

    def transform(self) -> np.ndarray:
        """T (q x q) mapping internal group coefficients (intercept at the predictors'
        means, slopes per predictor SD, response units of the scaled data) to the user's
        scale: intercept at x = 0 and slopes per unit of x."""
        unit = self.y_scale
        q = self.q
        T = np.zeros((q, q))
        T[0, 0] = unit
        for k, j in enumerate(self.varying, start=1):
            T[0, k] = -unit * self.x_mean[j] / self.x_sd[j]
            T[k, k] = unit / self.x_sd[j]
        return T


def split_group(group: str | tuple[str, ...] | None) -> tuple[str | None, str | None]:
    """``(outer, inner)`` of a grouping: ``"authority"`` -> ``(None, "authority")``,
    ``("region", "authority")`` -> authorities nested in regions."""
    if group is None or isinstance(group, str):
        return None, group
    parts = tuple(group)
    if len(parts) == 1:
        return None, str(parts[0])
    if len(parts) != 2 or not all(isinstance(p, str) for p in parts) or parts[0] == parts[1]:
        raise DataError(
            f"argument 'group': a column or two columns (outer, inner); got {group!r}",
            column="group",
        )
    return parts[0], parts[1]


def _nesting(complete: pd.DataFrame, outer: str, inner: str, levels) -> tuple:
    """The outer level of each inner level; an inner level under two outer ones is an
    error naming it."""
    pairs = complete[[inner, outer]].drop_duplicates()
    counts = pairs[inner].value_counts()
    if (counts > 1).any():
        bad = counts[counts > 1].index[0]
        seen = sorted(map(str, pairs.loc[pairs[inner] == bad, outer]))
        raise DataError(
            f"group {inner!r} is not nested in {outer!r}: {bad!r} is in {seen}",
            column=inner,
            values=[bad],
        )
    mapping = pairs.set_index(inner)[outer]
    codes, outer_levels = pd.factorize(mapping.reindex(list(levels)), sort=True)
    return np.asarray(codes, dtype=np.int64), tuple(outer_levels)


def build_design(
    formula: str,
    data: pd.DataFrame,
    *,
    family: Family,
    group: str | tuple[str, str] | None,
    varying: tuple[str, ...],
    autoscale: bool,
    trials: str | None,
    exposure: str | None,
) -> Design:
    """Validate the data and build the scaled design (raises :class:`DataError`)."""
    response, columns = formula_columns(formula, data)
    outer, group = split_group(group)
    extra = [c for c in (trials, exposure) if c]
    groups = [c for c in (outer, group) if c]
    for column in groups + extra:
        if column not in data.columns:
            raise DataError(f"data have no column {column!r}", column=column)
    needed = columns + groups + extra
    complete = model_frame(data, needed).dropna()
    y_frame, X_frame = patsy.dmatrices(
        formula, complete, return_type="dataframe", NA_action="raise"
    )
    raw = y_frame.iloc[:, 0]
    y = raw.to_numpy(dtype=float)
    family.check_response(y, raw, response)
    trial_values = offset = None
    if family.needs_trials:
        if not trials:
            raise DataError(
                "a binomial model needs trials=COLUMN naming the denominators", column="trials"
            )
        trial_values = complete[trials].to_numpy(dtype=float)
        bad = (trial_values < y) | (trial_values != np.round(trial_values))
        if bad.any():
            raise DataError.at(
                f"column {trials!r}: trials must be whole numbers at least {response!r}",
                trials,
                bad,
                complete[trials],
            )
    elif trials:
        raise DataError("trials= is for the binomial family", column="trials")
    if exposure:
        if not family.takes_exposure:
            raise DataError("exposure= is for count families", column="exposure")
        values = complete[exposure].to_numpy(dtype=float)
        if np.any(values <= 0):
            raise DataError.at(
                f"column {exposure!r}: exposure must be positive",
                exposure,
                values <= 0,
                complete[exposure],
            )
        offset = np.log(values)
    X_frame = X_frame.drop(columns=[c for c in X_frame.columns if c == "Intercept"])
    names = tuple(X_frame.columns)
    X = X_frame.to_numpy(dtype=float)
    if X.shape[1] and np.linalg.matrix_rank(np.column_stack([np.ones(len(X)), X])) < (
        X.shape[1] + 1
    ):
        raise DataError(
            f"singular design in {formula!r}: a term is a linear combination of others",
            column="formula",
        )
    x_mean, x_sd = X.mean(axis=0), X.std(axis=0)
    x_sd[x_sd == 0] = 1.0
    if not autoscale:  # priors as stated on the data's own scale (e.g. for SBC)
        x_mean, x_sd = np.zeros_like(x_mean), np.ones_like(x_sd)
    X = (X - x_mean) / x_sd
    y, y_shift, y_scale = family.scale_response(y, autoscale)
    missing = [v for v in varying if v not in names]
    if missing:
        raise DataError(
            f"varying term(s) {missing} not among the formula's terms {list(names)}",
            column=missing[0],
        )
    if group is None and varying:
        raise DataError("varying slopes need a group", column="varying")
    if group:
        codes, levels = pd.factorize(complete[group], sort=True)
        levels = tuple(levels)
    else:
        codes, levels = np.zeros(len(y), dtype=np.int64), ("all",)
    outer_codes, outer_levels = _nesting(complete, outer, group, levels) if outer else (None, ())
    return Design(
        y=y,
        X=X,
        names=names,
        x_mean=x_mean,
        x_sd=x_sd,
        y_shift=y_shift,
        y_scale=y_scale,
        groups=np.asarray(codes, dtype=np.int64),
        levels=levels,
        counts=np.bincount(codes, minlength=len(levels)),
        varying=tuple(names.index(v) for v in varying),
        trials=trial_values,
        offset=offset,
        n_dropped=len(data) - len(complete),
        response=response,
        outer=outer_codes,
        outer_levels=outer_levels,
    )
