"""The study's sample design from its DfE frame; for the South East, the audit of the
published 1,253 against it (real public data); what "most expensive placements" selection
does to the headline proportions, and how much of that bias weighting to known population
margins removes (method checks on populations simulated from the case data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats import datasets, findings, plots, sampling, schema, synthetic
from lacstats.analysis import CASES, Analysis, Columns, Context, EveryAuthority, InFrame
from lacstats.errors import DataError

ANALYSIS = Analysis(
    name="sample_design",
    title="Sample design, audit of a published total, selection and weighting",
    summary="the CRS design from DfE 2017, the audit of the 1,253 total, purposive versus "
    "random selection",
    evidence="real_data",
    obtained="recomputed_from_public_data",
    reads=(CASES,),
    requires=(
        InFrame("age", part="selection and weighting"),
        EveryAuthority(part="selection and weighting"),
        Columns("distance_miles", part="selection outcome far_from_home"),
        Columns("needs_met", part="selection outcome needs_met"),
    ),
    figures=("selection_bias",),
    paper="required",
    order=2,
    expected_seconds=7,  # on two cores; the longest analyses start first
)
AUDIT_YEARS = (2015, 2016, 2017, 2018)
MIN_AGES = {"lac_10_plus": 10, "lac_16_over": 16}  # the frame's youngest age, by column
OUTCOMES = {
    "far_from_home": "placed far from home (the study's distance)",
    "needs_met": "needs mostly or completely met",
    "high_cost_residential": "children's home at the study's high-cost threshold or more",
}
#: Settings grouped as the DfE releases count placements: the margins an analyst knows.
PLACEMENT_GROUPS = {
    "foster": schema.FOSTER_SETTINGS,
    "children's homes, secure, semi-independent": (
        *schema.RESIDENTIAL_SETTINGS,
        "secure_unit",
        "semi_independent",
        "unregistered",
    ),
}


def run(ctx: Context) -> None:
    study = ctx.study
    frame = study.frame()
    plan = study.design()
    ctx.table("design", plan.to_frame().round(4))
    exact = sampling.design(
        frame,
        population=study.population,
        confidence=study.confidence,
        interval=study.interval,
        convention="exact",
    )
    ctx.numbers(
        design_total=(plan.total, "cases"),
        design_total_exact=(exact.total, "cases"),
        population_frame=(int(frame[study.population].sum()), "children"),
        smallest_n=(int(plan.table["n"].min()), "cases"),
        largest_n=(int(plan.table["n"].max()), "cases"),
    )
    ctx.settings(
        frame_year=(study.frame_year, "DfE release year of the sampling frame"),
        confidence=(study.confidence, "confidence level of the design"),
        interval_points=(study.interval, "+/- percentage points"),
        frame_population=(study.frame_description, "the sampling frame in words"),
    )
    if study.population in MIN_AGES:
        ctx.settings(
            frame_min_age=(
                MIN_AGES[study.population],
                "years: the frame counts children this age and over",
            )
        )
    published = (study.published_figures() or {}).get("sample")
    if published is None:
        ctx.not_run("audit of a published total", "the study names no published sample")
    else:
        _audit(ctx, published, plan)
    if ctx.runs("selection and weighting"):
        cases = ctx.cases("selection and weighting")
        present = frame["authority"].isin(set(cases["authority"].astype(str)))
        if not present.all():  # an authority without cases: the others' design (said why)
            frame = frame[present].reset_index(drop=True)
            plan = sampling.design(
                frame,
                population=study.population,
                confidence=study.confidence,
                interval=study.interval,
                convention=study.convention,
            )
        _selection(ctx, cases, frame, plan)


def _audit(ctx, published, plan) -> None:
    """Which design gives the published total: the study's authorities in each DfE year."""
    PUBLISHED_TOTAL = int(published["cases"])
    FRAME_YEAR = ctx.study.frame_year
    MIN_AGE = MIN_AGES.get(ctx.study.population, 0)
    frame = ctx.study.frame()
    years = {}
    for year in AUDIT_YEARS:
        try:
            years[year] = datasets.authority_frame(year, list(ctx.study.authorities))
        except DataError:
            continue  # an authority renamed or recoded that year: the audit skips the year
    audit = sampling.explain_total(years, PUBLISHED_TOTAL)
    ctx.table("audit", audit)
    defaults = audit[audit["default_rounding"] & (audit["basis"] == "aged 10+")]
    best = audit.iloc[0]
    ctx.numbers(
        design_total_crs=(plan.total, "cases"),
        published_total=(PUBLISHED_TOTAL, "cases"),
        shortfall_crs=(plan.total - PUBLISHED_TOTAL, "cases"),
        population_10_plus=(int(frame["lac_10_plus"].sum()), "children"),
        closest_design=(
            f"{best['year']} {best['basis']}, {best['convention']}, rounding {best['rounding']}",
            "description",
        ),
        closest_design_total=(int(best["total"]), "cases"),
        closest_default_total=(int(defaults.iloc[0]["total"]), "cases"),
        closest_default=(
            f"{defaults.iloc[0]['year']} {defaults.iloc[0]['convention']}",
            "description",
        ),
    )

    ctx.settings(
        audit_first_year=(min(years), "first DfE year the audit tries"),
        audit_last_year=(max(years), "last DfE year the audit tries"),
        design_text=(published["text"], "the design as the source states it"),
        audit_combinations=(len(audit), "designs the audit tries"),
    )
    ctx.findings(
        findings.frame(
            [
                findings.row(
                    "sample.design_total",
                    f"Cases the stated design gives (CRS convention, {published['confidence']:.0%},"
                    f" +/-{published['interval_points']} points per authority, DfE "
                    f"{FRAME_YEAR} children aged {MIN_AGE}+) against the cases sampled",
                    "cases",
                    PUBLISHED_TOTAL,
                    plan.total,
                    published["source"],
                    obtained="recomputed_from_public_data",
                    explanation=(
                        f"The published sample is {plan.total - PUBLISHED_TOTAL} cases short of "
                        f"the design it states. Of the {len(audit)} designs tried (conventions, "
                        f"roundings, population bases, DfE years {min(years)}-"
                        f"{max(years)}), the closest gives {int(best['total'])} "
                        f"({best['year']} {best['basis']}, {best['convention']}, rounding "
                        f"{best['rounding']})."
                    ),
                )
            ]
        )
    )


def _selection(ctx, cases, frame, plan) -> None:
    """Purposive versus random selection from a population simulated from the case data
    (a stratified bootstrap to the frame's sizes), then weighting to known margins."""
    reps = 20 if ctx.fast else 200
    thresholds = ctx.study.thresholds
    population = synthetic.population_like(
        cases, frame.set_index("authority")[ctx.study.population], rng=ctx.seed + 1
    )
    outcomes = {}
    if ctx.runs("selection outcome far_from_home"):
        outcomes["far_from_home"] = population["distance_miles"] > thresholds.far_miles
    if ctx.runs("selection outcome needs_met"):
        outcomes["needs_met"] = population["needs_met"].isin(["mostly", "completely"])
    outcomes["high_cost_residential"] = population["placement_setting"].isin(
        thresholds.residential_settings
    ) & (population["weekly_cost"] >= thresholds.high_cost)
    population = population.assign(**outcomes)
    ctx.options.update({"reps": reps, "rng": ctx.seed, "outcomes": list(outcomes)})
    ctx.settings(selection_reps=(reps, "simulated populations"))
    study = sampling.selection_study(population, plan, list(outcomes), reps=reps, rng=ctx.seed + 2)
    summary = (
        study.groupby(["method", "outcome"])
        .agg(
            truth=("truth", "first"),
            mean_estimate=("estimate", "mean"),
            bias_points=("error", "mean"),
            rmse_points=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
            ci_coverage=("ci_covers", "mean"),
            strata_within_10=("strata_within_interval", "mean"),
        )
        .reset_index()
        .round(4)
    )
    ctx.table("selection_study", summary)
    for row in summary.itertuples():
        key = f"{row.method}__{row.outcome}"
        ctx.numbers(
            evidence="synthetic_check",
            obtained="recomputed_from_rows",
            **{
                f"bias_{key}": (round(row.bias_points, 2), "percentage points"),
                f"coverage_{key}": (round(row.ci_coverage, 3), "proportion of replicates"),
                f"within10_{key}": (round(row.strata_within_10, 3), "proportion of strata"),
            },
        )
    random_cov = summary.loc[summary["method"] == "random", "ci_coverage"]
    ctx.diagnostic("random_selection_coverage_near_nominal", bool(random_cov.min() >= 0.85))

    fig = plots.selection_bias(summary, {o: OUTCOMES[o] for o in outcomes}, reps=reps)
    ctx.figure("selection_bias", fig)
    _weighting(ctx, population, plan, list(outcomes))


def _weighting(ctx, population, plan, outcomes) -> None:
    """Design weights, post-stratification and raking on the simulated population, where
    the truth is known: how much of each selection's bias public margins remove."""
    groups = np.full(len(population), "other placements", dtype=object)
    for label, settings in PLACEMENT_GROUPS.items():
        groups[population["placement_setting"].isin(settings).to_numpy()] = label
    population = population.assign(
        placement_group=groups,
        age_band=np.where(population["age"].astype(float) >= 16, "16-17", "10-15"),
    )
    margins = {"placement": "placement_group", "age": "age_band"}
    reps = 5 if ctx.fast else 50
    parts = [
        sampling.weighting_study(population, plan, outcomes, margins, method="top_cost"),
        sampling.weighting_study(
            population, plan, outcomes, margins, method="random", reps=reps, rng=ctx.seed + 3
        ),
    ]
    study = pd.concat(parts, ignore_index=True)
    summary = (
        study.groupby(["method", "weighting", "outcome"])
        .agg(
            truth=("truth", "first"),
            mean_estimate=("estimate", "mean"),
            converged=("converged", "mean"),
            mean_se=("se", "mean"),
            bias_points=("error", "mean"),
            ci_coverage=("ci_covers", "mean"),
        )
        .reset_index()
        .round(4)
    )
    ctx.table("weighting_study", summary)
    ctx.settings(weighting_reps=(reps, "random selections"))
    for row in summary.itertuples():
        key = f"{row.method}__{row.weighting.replace('-', '_')}__{row.outcome}"
        ctx.numbers(
            evidence="synthetic_check",
            obtained="recomputed_from_rows",
            **{
                f"weighted_bias_{key}": (
                    None if np.isnan(row.bias_points) else round(row.bias_points, 2),
                    "percentage points",
                ),
                f"weighted_converged_{key}": (round(row.converged, 3), "share of selections"),
            },
        )
