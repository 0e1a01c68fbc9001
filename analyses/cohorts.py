"""Commissioning cohorts from the rules, need profiles and their stability, and costs.

The rules' thresholds are the study's. On the calibrated synthetic sample, the two cohorts
the project published (over 100 miles; children's homes at £4,800 a week or more) match by
construction; every other cohort size, profile and cost is a property of the generator: a
method check (profiles are compared with the generator's latent profiles), not a finding
about real children. On a user's own table they are findings about that table; cohorts
and profiles whose columns the data lack are left out, saying why."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats import cohorts, datasets, disclosure, findings, plots, profiles, schema
from lacstats.analysis import CASES, Analysis, Columns, Context
from lacstats.units import WEEKS_PER_YEAR

ANALYSIS = Analysis(
    name="cohorts",
    title="Commissioning cohorts and need profiles (latent classes, k-means), with costs",
    summary="commissioning cohorts from rules, need profiles (StepMix latent classes, "
    "k-means) and stability",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    reads=(CASES,),
    requires=(
        *(
            Columns(*rule.requires, part=f"cohort {rule.name}")
            for rule in cohorts.DEFAULT_RULES
            if rule.requires
        ),
        Columns(*schema.NEED_ITEMS, part="need profiles"),
    ),
    figures=("cohort_costs", "profile_heatmap"),
    paper="required",
    order=5,
    expected_seconds=18,  # on two cores; the longest analyses start first
)


def run(ctx: Context) -> None:
    cases = ctx.cases()
    thresholds = ctx.study.thresholds
    rules = [
        rule
        for rule in cohorts.DEFAULT_RULES
        if not rule.requires or ctx.runs(f"cohort {rule.name}")
    ]
    names = {r.name for r in rules}
    overrides = {k: v for k, v in thresholds.cohort_overrides().items() if k in names}
    flags = cohorts.assign(cases, rules, **overrides)
    evidence = "synthetic_check" if ctx.synthetic else "real_data"
    summary = cohorts.summarise(cases, flags)
    ctx.table(
        "cohort_summary",
        disclosure.suppress_small_counts(
            summary.round(4),
            "n",
            dependent=["weekly_cost", "annual_cost", "mean_weekly_cost", "median_weekly_cost"],
        ),
    )
    everyone = summary[summary["group"] == "All"].set_index("cohort")
    high = everyone.loc["high_cost_residential"]
    # the published cohorts: by construction on the calibrated sample
    ctx.numbers(
        evidence=ctx.case_evidence,
        high_cost_children=(int(high["n"]), "children"),
        high_cost_weekly=(int(high["weekly_cost"]), "GBP per week"),
        high_cost_annual_millions=(round(high["annual_cost"] / 1e6, 1), "GBP million a year"),
    )
    if "keeping_local" in names:
        local = everyone.loc["keeping_local"]
        local_dfe = cohorts.assign(
            cases,
            rules,
            **{**overrides, "keeping_local": {"miles": cohorts.DFE_DISTANCE_MILES}},
        )
        ctx.numbers(
            evidence=ctx.case_evidence,
            keeping_local_children=(int(local["n"]), "children"),
            keeping_local_unknown_distance=(int(local["unknown"]), "children"),
            keeping_local_percent=(
                findings.percent_one_decimal(local["n"], len(cases) - local["unknown"]),
                "percent of cases with a known distance",
            ),
        )
        ctx.numbers(
            evidence=evidence,
            keeping_local_20_miles=(int(local_dfe["keeping_local"].sum()), "children"),
        )
    ctx.numbers(
        evidence=evidence,
        **{f"cohort_{name}": (int(row["n"]), "children") for name, row in everyone.iterrows()},
    )
    ctx.settings(
        annual_weeks=(WEEKS_PER_YEAR, "weeks"),
        dfe_distance_miles=(cohorts.DFE_DISTANCE_MILES, "miles: the DfE's 'at a distance'"),
        high_cost_threshold=(thresholds.high_cost, "GBP a week"),
        far_miles=(thresholds.far_miles, "miles from home"),
    )
    if ctx.by_construction and "keeping_local" in names:
        # the cohort rules and the published definitions (lacstats.findings) must agree;
        # the findings table already holds these figures, so this is a check, not a finding
        published = datasets.published_findings()
        far, costly = published["keeping_local"], published["high_cost_residential"]
        ctx.diagnostic(
            "cohort_rules_agree_with_published_definitions",
            int(everyone.loc["keeping_local", "n"]) == far["children_over_100_miles"]
            and int(high["n"]) == costly["children"],
        )
    ctx.options.update({"rng": ctx.seed, "rules": cohorts.parameters(rules, **overrides)})
    if ctx.runs("need profiles"):
        _profiles(ctx, cases, flags, evidence)
    ctx.figure("cohort_costs", plots.cohort_sizes(everyone))


def _profiles(ctx, cases: pd.DataFrame, flags: pd.DataFrame, evidence: str) -> None:
    n_init, n_boot = (3, 5) if ctx.fast else (5, 30)
    ctx.options.update({"lca_n_init": n_init, "stability_n_boot": n_boot, "k_range": [1, 6]})
    rng = np.random.default_rng(ctx.seed)
    # one process, alone too: a pool of workers (each importing StepMix) made the analysis
    # slower even with both cores to itself (reproduce --jobs 1 --only cohorts: 20.4 s wall,
    # 22.6 s CPU with n_jobs=-1; 18.7 s, 18.4 s with one process), and side by side reproduce
    # runs joblib loops in the analysis's process anyway; the fits are the same whatever
    # n_jobs (one random stream per fit)
    lca = profiles.NeedProfiles(
        method="lca", k_range=(1, 6), n_init=n_init, rng=rng, n_jobs=1
    ).fit(cases)
    km = profiles.NeedProfiles(method="kmeans", k_range=(1, 8), n_init=20, rng=rng).fit(cases)
    for label, model in (("lca", lca), ("kmeans", km)):
        ctx.table(f"{label}_selection", model.selection_.round(4))
        ctx.table(
            f"{label}_profiles",
            disclosure.suppress_small_counts(
                model.profiles_.round(4), "size", dependent=["share"]
            ),
        )
        stab = model.stability(cases, n_boot=n_boot, rng=rng)
        ctx.table(f"{label}_stability", stab.round(4))
        ctx.numbers(
            evidence=evidence,
            **{
                f"{label}_profiles": (model.n_profiles_, "profiles (chosen by BIC)"),
                f"{label}_stable_profiles": (int((stab["reading"] == "stable").sum()), "profiles"),
            },
        )
        named = np.array(model.profiles_["name"])[model.labels_]
        crosstab = cohorts.by_profile(cases, flags, named)
        ctx.table(
            f"{label}_profiles_by_cohort",
            disclosure.suppress_small_counts(
                crosstab.round(4),
                "n",
                dependent=["share_of_cohort", "weekly_cost", "mean_weekly_cost"],
            ),
        )
        ctx.diagnostic(
            f"{label}_smallest_profile_at_least_5_percent",
            model.selection_.set_index("k").loc[model.n_profiles_, "smallest_share"] >= 0.05,
        )
    generated = ctx.truth.need_profiles if ctx.truth is not None else None
    if generated is not None:
        latent = cases["case_id"].astype(str).map(generated).to_numpy()
        truth = pd.crosstab(km.labels_, latent)
        ctx.numbers(
            kmeans_recovery=(
                round(float(truth.max(axis=1).sum() / len(cases)), 3),
                (
                    "share of children in the majority true profile of "
                    "their k-means profile (synthetic truth)"
                ),
            )
        )
        ctx.numbers(
            obtained="generator_setting",
            generator_profiles=(int(pd.Series(latent).nunique()), "latent need profiles"),
        )
    ctx.figure(
        "profile_heatmap", plots.need_profiles(km.profiles_, schema.NEED_ITEMS, method="k-means")
    )
