"""Authority effects from Bayesian hierarchical models: cost by risk and setting with
authority intercepts, placement far from home (the study's distance), and pooled versus
unpooled versus partial pooling compared by LOO.

On synthetic data the authority effects are the generator's draws: a method check
(estimates beside the truth on the calibrated sample), never a finding about the named
councils, so no authority is named or ranked. On a user's own table they are findings
about that table, shown by authority."""

from __future__ import annotations

import arviz as az
import numpy as np

from lacstats import plots, schema, synthetic
from lacstats.analysis import CASES, Analysis, Authorities, Columns, Context, Positive
from lacstats.hierarchical import INTERVAL, HierarchicalModel

# On the synthetic sample the authority effects are the generator's draws: a method check
# (estimates beside the truth), never a finding about the named councils.
ANALYSIS = Analysis(
    name="authority_effects",
    title="Authority effects: hierarchical lognormal and logistic models, LOO comparison",
    summary="hierarchical lognormal and logistic models (PyMC), LOO comparison; synthetic "
    "authority effects true versus estimated",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    reads=(CASES,),
    requires=(
        Authorities(
            3, because="a hierarchical model across authorities needs at least three authorities"
        ),
        Columns(*schema.RISK_FACTORS, "risk_score", part="risk adjustment", what="risk scores"),
        Positive(
            "weekly_cost",
            part="cost models",
            because="the cost models are lognormal, fitted to the positive costs; the cases "
            "with no cost are counted beside them",
        ),
        Columns("distance_miles", part="placement far from home", what="distances from home"),
    ),
    figures=("posterior_predictive", "authority_effects", "authority_effects_recovery"),
    paper="required",
    order=4,
    expected_seconds=25,  # on two cores; the longest analyses start first
)
COST = "weekly_cost ~ risk_score + C(placement_setting)"


def _as_text(cases):
    return cases.assign(authority=cases["authority"].astype(str))


def run(ctx: Context) -> None:
    cases = _as_text(ctx.cases("cost models"))
    evidence = "synthetic_check" if ctx.synthetic else "real_data"
    cost = COST
    if not ctx.runs("risk adjustment"):
        cost = "weekly_cost ~ C(placement_setting)"
    sampling = (
        {"draws": 300, "tune": 300, "chains": 2}
        if ctx.fast
        else {"draws": 1000, "tune": 1000, "chains": 4}
    )
    check = not ctx.fast  # a full run stops on a bad fit; a smoke test records it
    ctx.options.update({"rng": ctx.seed, "check": check, **sampling, "cost_formula": cost})
    gen = np.random.default_rng(ctx.seed)

    def fit(label: str, model: HierarchicalModel, data):
        ctx.progress(f"[{ctx.name}] sampling {label}")
        result = model.fit(data, rng=gen, progress=ctx.bars, check=check, **sampling)
        ctx.diagnostic(label, result.diagnostics.passed)
        ctx.table(f"diagnostics_{label}", _frame(result.diagnostics.to_dict()))
        return result

    partial = fit("partial_pooling", HierarchicalModel(cost, group="authority"), cases)
    ctx.table("fixed_effects", partial.fixed_effects().round(5))
    ctx.table("variance_components", partial.variance_components().round(5))
    effects = partial.group_effects().sort_values("mean")
    ctx.table("authority_effects", effects.round(5))
    predictive = partial.ppc(cases, rng=gen)
    ctx.table("posterior_predictive", predictive.to_frame().round(5))
    ctx.figure("posterior_predictive", plots.posterior_predictive(predictive))
    if ctx.synthetic:
        ctx.not_run(
            "authority effects by name",
            "on synthetic data the effects are the generator's draws, not facts about the "
            "named councils",
        )
    else:
        _caterpillar(ctx, effects)
        ctx.numbers(
            evidence=evidence,
            highest_authority=(effects.iloc[-1]["group"], "authority"),
            highest_effect_percent=(round(100 * (np.exp(effects.iloc[-1]["mean"]) - 1), 1), "%"),
            lowest_authority=(effects.iloc[0]["group"], "authority"),
            lowest_effect_percent=(round(100 * (np.exp(effects.iloc[0]["mean"]) - 1), 1), "%"),
        )
    truth = ctx.truth.authority_effects if ctx.truth is not None else None
    if truth is not None:
        _recovery(ctx, truth, effects)

    fixed = partial.fixed_effects().set_index("term")
    sds = partial.variance_components().set_index("term")
    if "risk_score" in fixed.index:
        risk = fixed.loc["risk_score"]
        ctx.numbers(
            evidence=evidence,
            risk_percent_per_point=(round(100 * (np.exp(risk["mean"]) - 1), 2), "% weekly cost"),
            risk_percent_low=(round(100 * (np.exp(risk["ci_low"]) - 1), 2), "% weekly cost"),
            risk_percent_high=(round(100 * (np.exp(risk["ci_high"]) - 1), 2), "% weekly cost"),
        )
    ctx.numbers(
        evidence=evidence,
        authority_sd=(round(sds.loc["authority (intercept)", "mean"], 4), "log weekly cost"),
        authority_sd_low=(round(sds.loc["authority (intercept)", "ci_low"], 4), "log"),
        authority_sd_high=(round(sds.loc["authority (intercept)", "ci_high"], 4), "log"),
        residual_sd=(round(sds.loc["residual", "mean"], 4), "log weekly cost"),
        rhat_max=(round(partial.diagnostics.rhat_max, 4), "R-hat"),
        ess_bulk_min=(round(partial.diagnostics.ess_bulk_min), "draws"),
    )
    ctx.settings(interval=(INTERVAL, "level of the posterior intervals"))
    if ctx.runs("placement far from home"):
        _far_from_home(ctx, _as_text(ctx.cases("placement far from home")), fit, cost, evidence)
    _loo(ctx, cases, fit, cost, partial, evidence)


def _far_from_home(ctx, cases, fit, cost, evidence) -> None:
    miles = ctx.study.thresholds.far_miles
    far = cases.dropna(subset=["distance_miles"]).assign(
        over_100=lambda f: (f["distance_miles"] > miles).astype(float)
    )
    formula = cost.replace("weekly_cost ~", "over_100 ~")
    # a rare outcome: the intercept and the coefficients of the commonest settings are
    # strongly correlated, which a diagonal mass matrix cannot follow (1,000 draws a chain:
    # bulk ESS 300-340, R-hat 1.014-1.016, failing the gate; 3,000 were needed). nutpie's
    # low-rank adaptation follows it: bulk ESS 1,150-1,520 and R-hat 1.004 at 1,000
    logistic = fit(
        "far_from_home",
        HierarchicalModel(formula, group="authority", family="bernoulli", adaptation="low_rank"),
        far,
    )
    ctx.table("far_fixed_effects", logistic.fixed_effects().round(5))
    ctx.table("far_authority_effects", logistic.group_effects().round(5))
    far_sd = logistic.variance_components().set_index("term").loc["authority (intercept)"]
    fixed = logistic.fixed_effects().set_index("term")
    ctx.numbers(
        evidence=evidence,
        far_children=(int(far["over_100"].sum()), "children"),
        far_known=(len(far), "children"),
        far_authority_sd=(round(far_sd["mean"], 4), "logit"),
    )
    if "risk_score" in fixed.index:
        ctx.numbers(
            evidence=evidence,
            far_risk_odds_ratio=(
                round(float(np.exp(fixed.loc["risk_score", "mean"])), 4),
                "odds ratio per risk point",
            ),
        )
    ctx.settings(far_miles=(miles, "miles from home"))


def _loo(ctx, cases, fit, cost, partial, evidence) -> None:
    pooled = fit("pooled", HierarchicalModel(cost, group=None, fast_path=False), cases)
    unpooled = fit(
        "unpooled", HierarchicalModel(f"{cost} + C(authority)", group=None, fast_path=False), cases
    )
    loos = {"pooled": pooled.loo(), "unpooled": unpooled.loo(), "partial": partial.loo()}
    comparison = az.compare(loos, round_to="none")  # full precision; rounded below
    comparison = comparison.reset_index().rename(columns={"index": "model"})
    keep = [
        c
        for c in ("model", "rank", "elpd", "p", "elpd_diff", "weight", "se", "dse")
        if c in comparison.columns
    ]
    ctx.table("loo_comparison", comparison[keep].round(3))
    ctx.numbers(
        evidence=evidence,
        loo_best=(str(comparison.iloc[0]["model"]), "model"),
        **{
            f"elpd_{name}": (round(float(loo.elpd), 2), "elpd (log score)")
            for name, loo in loos.items()
        },
        **{
            f"high_pareto_k_{name}": (int(loo.high_pareto_k), "observations")
            for name, loo in loos.items()
        },
    )


def _frame(record):
    import pandas as pd

    return pd.DataFrame([record])


def _caterpillar(ctx, effects) -> None:
    fig = plots.authority_effects(
        effects,
        with_n=True,
        title="Authority effects (partial pooling)",
        xlabel=f"authority effect on weekly cost, % ({INTERVAL:.0%} interval), same risk and "
        "setting",
    )
    ctx.figure("authority_effects", fig)


def _recovery(ctx, truth, effects) -> None:
    """True versus estimated authority effects: the generator's draws (centred, as the
    model's effects are deviations from the regional intercept) beside the posterior means,
    how many 95% intervals cover them, and a figure without authority names."""
    truth = truth.rename_axis("authority")
    frame = effects.set_index("group")[["mean", "ci_low", "ci_high"]].join(
        (truth - truth.mean()).rename("truth")
    )
    frame["covers_truth"] = (frame["ci_low"] <= frame["truth"]) & (
        frame["truth"] <= frame["ci_high"]
    )
    ctx.table("authority_effects_recovery", frame.reset_index(drop=True).round(5))
    ctx.numbers(
        obtained="generator_setting",
        generator_authority_sd=(synthetic.AUTHORITY_EFFECT_SD, "log weekly cost"),
        realised_authority_sd=(round(float(np.std(truth, ddof=1)), 4), "log weekly cost"),
    )
    ctx.numbers(
        authorities=(len(frame), "authorities"),
        effects_covered=(int(frame["covers_truth"].sum()), "authorities"),
        effects_correlation=(
            round(float(np.corrcoef(frame["truth"], frame["mean"])[0, 1]), 3),
            "Pearson r, true and estimated effects",
        ),
    )
    ctx.figure("authority_effects_recovery", plots.true_versus_estimated(frame, level=INTERVAL))
