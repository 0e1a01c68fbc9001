"""The full-likelihood model, for families without sufficient statistics (and as a check
on them): every group's coefficients sampled, hierarchically centred where the group's
own data outweigh the prior and non-centred elsewhere.

Model on the scaled data (``_design.py``):

  eta_i = F_i beta_F + Z_i c[g_i] (+ log exposure),   c_g ~ MVN(mu, Sigma)

where Z_i holds the intercept and the varying columns, F_i the other (fixed) columns and
mu the means of the varying coefficients (the intercept first). With nested grouping
(``group=("region", "authority")``) the intercept's mean is mu_0 + r[region of g], with
region effects r_k ~ N(0, tau_r): centred (the region's mean intercept m_k ~ N(mu_0,
tau_r), r_k = m_k - mu_0) when at least half the groups are centred, else non-centred
(r_k = tau_r z_k). Centred groups draw c_g
around mu itself (hierarchical centring, Gelfand, Sahu and Carlin 1995, Biometrika 82,
479-488), so the intercept and the mean of the effects form no ridge; non-centred groups
use c_g = mu + L z_g (Papaspiliopoulos, Roberts and Skold 2007, Statistical Science 22,
59-73). With varying slopes a centred group centres its intercept only: c_g0 ~ N(mu_0,
L_00) and the slopes are non-centred given it, c_g = mu + L z with z_0 = (c_g0 - mu_0) /
L_00 and the other z standard normal (the same MVN(mu, L L') prior; a group's slope is
seldom well identified by its own few rows, so its SD would otherwise form a funnel). Fixed columns are sampled through the QR decomposition of the Stan manual
(section 1.2); their normal prior applies to beta itself.
"""

from __future__ import annotations

import numpy as np

from lacstats.families import Family
from lacstats.hierarchical._design import Design


def pilot_variances(d: Design, family: Family) -> tuple[float, np.ndarray]:
    """Moment estimates of the between-group variance tau^2 of the intercepts and of each
    group's sampling variance v_g on the link scale; group g is centred when v_g <= tau^2
    (its data outweigh the prior: partial pooling shrinks it by less than half)."""
    G = len(d.levels)
    n = np.maximum(d.counts, 1)
    if family.discrete:
        est, sampling = family.link_estimates(d)
        tau2 = max(float(np.var(est, ddof=1) - np.mean(sampling)), 0.0) if G > 1 else 0.0
        return tau2, sampling
    y = family.pilot_response(d.y)
    X = d.with_intercept()
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    N = len(y)
    means = np.bincount(d.groups, weights=resid, minlength=G) / n
    within = np.sum((resid - means[d.groups]) ** 2) / max(N - G, 1)
    between = np.sum(d.counts * (means - resid.mean()) ** 2) / max(G - 1, 1)
    n0 = (N - np.sum(d.counts**2) / N) / max(G - 1, 1)
    return max((between - within) / n0, 0.0), within / n


def centre_outer(d: Design, family: Family) -> bool:
    """Whether to centre the outer groups' effects of a nested model: when the moment
    estimate of their variance (the spread of the outer groups' mean pilot intercepts,
    less its sampling part) is at least twice the sampling variance of one outer mean (as for
    :func:`centred_groups`, one level up)."""
    tau2, sampling = pilot_variances(d, family)
    if family.discrete:
        est = family.link_estimates(d)[0]
    else:
        est = np.bincount(d.groups, weights=d.y, minlength=len(d.levels))
        est = est / np.maximum(d.counts, 1)
    R = len(d.outer_levels)
    k = np.bincount(d.outer, minlength=R)
    means = np.bincount(d.outer, weights=est, minlength=R) / np.maximum(k, 1)
    noise = (tau2 + sampling.mean()) / np.maximum(k, 1)  # variance of an outer mean
    between = float(np.var(means, ddof=1) - noise.mean()) if R > 1 else 0.0
    return between >= 2 * float(noise.mean())


def centred_groups(d: Design, family: Family, threshold: int | str, grouped: bool) -> np.ndarray:
    """Which groups to centre (see :func:`pilot_variances`); an integer threshold centres
    groups with at least that many rows instead."""
    if not grouped:
        return np.zeros(len(d.levels), dtype=bool)
    if threshold != "auto":
        return d.counts >= int(threshold)
    tau2, sampling = pilot_variances(d, family)
    return sampling <= tau2


def build(
    d: Design,
    family: Family,
    *,
    grouped: bool,
    correlated: bool,
    centred: np.ndarray,
    scales: dict[str, float],
    outer_centred: bool = False,
    observation_effects: bool = False,
):
    """The PyMC model with its data in ``pm.Data`` containers (their values may be swapped
    for another data set of the same structure). ``observation_effects`` adds one normal
    effect per row on the link scale, e_i = sigma_obs z_i (non-centred), for variation
    beyond the binomial or Poisson (an observation-level random effect: Harrison 2014,
    PeerJ 2:e616; Browne et al. 2005, JRSS A 168, 599-613)."""
    import pymc as pm
    import pytensor.tensor as pt

    q = d.q if grouped else 0
    values = data_values(d, grouped)
    n_fixed = values["R_inv"].shape[0] if "R_inv" in values else 0
    idx_c, idx_n = np.flatnonzero(centred), np.flatnonzero(~centred)
    with pm.Model() as model:
        y = pm.Data("y", values["y"])
        eta = 0.0
        if n_fixed:
            Q = pm.Data("Q", values["Q"])
            R_inv = pm.Data("R_inv", values["R_inv"])
            theta = pm.Flat("theta", shape=n_fixed)
            beta_f = pt.dot(R_inv, theta)
            pm.Potential("beta_prior", pm.logp(pm.Normal.dist(0.0, scales["beta"]), beta_f).sum())
            eta = eta + pt.dot(Q, theta)
        else:
            beta_f = pt.zeros(0)
        prior_sd = np.array([scales["intercept"]] + [scales["beta"]] * (q - 1 if q else 0))
        if grouped:
            mu = pm.Normal("mu", 0.0, prior_sd, shape=q)
            Zd = pm.Data("Z", values["Z"])
            g = pm.Data("g", values["g"])
            rate = 1.0 / scales["group_sd"]
            if correlated and q > 1:
                L, _corr, _sds = pm.LKJCholeskyCov(
                    "group_chol",
                    eta=scales["correlation"],
                    n=q,
                    sd_dist=pm.Exponential.dist(rate, shape=q),
                    compute_corr=True,
                    store_in_trace=False,
                )
            else:
                L = pt.diag(pm.Exponential("tau_", rate, shape=q))
            pm.Deterministic("L", L)
            G = len(d.levels)
            centre = pt.zeros((G, q)) + mu  # each group's mean: mu (+ its outer effect)
            if d.outer is not None:
                tau_r = pm.Exponential("tau_outer", rate)
                R = len(d.outer_levels)
                if outer_centred:  # outer means centred on mu (centre_outer)
                    m = pm.Normal("outer_mean", mu[0], tau_r, shape=R)
                    r = pm.Deterministic("r", m - mu[0])
                else:
                    r = pm.Deterministic("r", tau_r * pm.Normal("r_z", 0.0, 1.0, shape=R))
                centre = pt.set_subtensor(centre[:, 0], mu[0] + r[d.outer])
            c = pt.zeros((G, q))
            if len(idx_c):
                if q == 1:
                    c_c = pm.Normal("c_centred", centre[idx_c, 0], L[0, 0], shape=len(idx_c))[
                        :, None
                    ]
                else:  # intercept centred, slopes non-centred given it (see the docstring)
                    c0 = pm.Normal("c_centred", centre[idx_c, 0], L[0, 0], shape=len(idx_c))
                    z_rest = pm.Normal("c_centred_z", 0.0, 1.0, shape=(len(idx_c), q - 1))
                    z = pt.concatenate([((c0 - centre[idx_c, 0]) / L[0, 0])[:, None], z_rest], 1)
                    c_c = centre[idx_c] + pt.dot(z, L.T)
                c = pt.set_subtensor(c[idx_c], c_c)
            if len(idx_n):
                z = pm.Normal("c_z", 0.0, 1.0, shape=(len(idx_n), q))
                c = pt.set_subtensor(c[idx_n], centre[idx_n] + pt.dot(z, L.T))
            pm.Deterministic("c", c)
            eta = eta + pt.sum(Zd * c[g], axis=1)
        else:
            mu = pm.Normal("mu", 0.0, scales["intercept"], shape=1)
            eta = eta + mu[0]
        pm.Deterministic("beta_fixed", beta_f)
        if d.offset is not None:
            eta = eta + pm.Data("offset", values["offset"])
        if observation_effects:
            sigma_obs = pm.Exponential("sigma_obs", 1.0 / scales["group_sd"])
            eta = eta + sigma_obs * pm.Normal("obs_z", 0.0, 1.0, shape=len(d.y))
        family.pymc_likelihood(pm, pt, eta, y, d, scales)
    return model


def data_values(d: Design, grouped: bool) -> dict[str, np.ndarray]:
    """The values of the model's data containers (see :func:`build`)."""
    fixed_cols = [j for j in range(d.X.shape[1]) if not (grouped and j in d.varying)]
    F = d.X[:, fixed_cols]
    values = {"y": d.y}
    if fixed_cols:
        r_inv = np.linalg.inv(np.linalg.qr(F)[1])
        values["Q"], values["R_inv"] = F @ r_inv, r_inv
    if grouped:
        values["Z"] = np.column_stack([np.ones(len(d.y)), d.X[:, list(d.varying)]])
        values["g"] = d.groups
    if d.offset is not None:
        values["offset"] = d.offset
    if d.trials is not None:
        values["trials"] = d.trials.astype(np.int64)
    return values
