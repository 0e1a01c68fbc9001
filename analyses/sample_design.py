"""The South East sample design from DfE 2017, its audit against 1,253 (real public
data), and what "most expensive placements" selection does to the headline proportions (a
method check on populations simulated from the synthetic sample)."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lacstats import datasets, findings, sampling, synthetic

NAME = "sample_design"
TITLE = "Sample design, audit of the 1,253 total, purposive versus random selection"
EXPECTED_SECONDS = 3  # on two cores; the longest analyses start first
EVIDENCE = "real_data"
OBTAINED = "recomputed_from_public_data"
PUBLISHED_TOTAL = 1253
FRAME_YEAR = 2017  # "LAC aged 10+ as at March 2017 (the latest published data at the time)"
AUDIT_YEARS = (2015, 2016, 2017, 2018)
MIN_AGE = 10  # the frame counts children aged 10 and over (lac_10_plus)
OUTCOMES = {
    "over_100_miles": "placed more than 100 miles from home",
    "needs_met": "needs mostly or completely met",
    "high_cost_residential": "children's home costing at least £4,800 a week",
}


def run(ctx) -> None:
    published = datasets.published_findings()["sample"]
    frame = datasets.south_east_authorities(FRAME_YEAR)
    plan = sampling.design(
        frame, confidence=published["confidence"], interval=published["interval_points"]
    )
    ctx.table("design_2017", plan.to_frame().round(4))
    exact = sampling.design(
        frame,
        confidence=published["confidence"],
        interval=published["interval_points"],
        convention="exact",
    )

    years = {year: datasets.south_east_authorities(year) for year in AUDIT_YEARS}
    audit = sampling.explain_total(years, PUBLISHED_TOTAL)
    ctx.table("audit", audit)
    defaults = audit[audit["default_rounding"] & (audit["basis"] == "aged 10+")]
    best = audit.iloc[0]
    ctx.numbers(
        design_total_crs=(plan.total, "cases"),
        design_total_exact=(exact.total, "cases"),
        published_total=(PUBLISHED_TOTAL, "cases"),
        shortfall_crs=(plan.total - PUBLISHED_TOTAL, "cases"),
        population_10_plus=(int(frame["lac_10_plus"].sum()), "children"),
        smallest_n=(int(plan.table["n"].min()), "cases"),
        largest_n=(int(plan.table["n"].max()), "cases"),
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
        frame_year=(FRAME_YEAR, "DfE release year of the sampling frame"),
        frame_min_age=(MIN_AGE, "years: the frame counts children this age and over"),
        audit_first_year=(AUDIT_YEARS[0], "first DfE year the audit tries"),
        audit_last_year=(AUDIT_YEARS[-1], "last DfE year the audit tries"),
        confidence=(published["confidence"], "confidence level of the design"),
        interval_points=(published["interval_points"], "+/- percentage points"),
        design_text=(published["text"], "the design as Evans (2020) states it"),
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
                        f"roundings, population bases, DfE years {AUDIT_YEARS[0]}-"
                        f"{AUDIT_YEARS[-1]}), the closest gives {int(best['total'])} "
                        f"({best['year']} {best['basis']}, {best['convention']}, rounding "
                        f"{best['rounding']})."
                    ),
                )
            ]
        )
    )

    reps = 20 if ctx.fast else 200
    ctx.options.update({"reps": reps, "rng": ctx.seed, "outcomes": list(OUTCOMES)})
    ctx.settings(selection_reps=(reps, "simulated populations"))
    cases = synthetic.complex_lac(rng=ctx.seed)
    population = synthetic.population_like(
        cases, frame.set_index("authority")["lac_10_plus"], rng=ctx.seed + 1
    )
    population["over_100_miles"] = population["distance_miles"] > findings.FAR_MILES
    population["needs_met"] = population["needs_met"].isin(["mostly", "completely"])
    population["high_cost_residential"] = findings.high_cost_residential(population)
    study = sampling.selection_study(population, plan, list(OUTCOMES), reps=reps, rng=ctx.seed + 2)
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

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    labels = list(OUTCOMES)
    x = np.arange(len(labels))
    methods = {"random": "random selection", "top_cost": "most expensive first"}
    for offset, method, colour in ((-0.18, "random", "#4c72b0"), (0.18, "top_cost", "#dd8452")):
        part = summary[summary["method"] == method].set_index("outcome").reindex(labels)
        name = methods[method]
        axes[0].bar(x + offset, part["bias_points"], width=0.36, label=name, color=colour)
        axes[1].bar(x + offset, part["strata_within_10"], width=0.36, label=name, color=colour)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set_ylabel("bias of regional estimate (points)")
    axes[1].axhline(0.95, color="black", lw=0.8, ls="--")
    axes[1].set_ylabel("authorities within +/-10 points")
    for ax in axes:
        ax.set_xticks(x, [textwrap.fill(OUTCOMES[label], 18) for label in labels], fontsize=7)
    axes[0].legend(frameon=False)
    fig.suptitle(f"Most expensive placements first versus random selection ({reps} simulations)")
    ctx.figure("selection_bias", fig)
    plt.close(fig)
