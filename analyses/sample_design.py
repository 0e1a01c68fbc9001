"""The South East sample design from DfE 2017, its audit against 1,253, and what
"most expensive placements" selection does to the headline proportions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lacstats import datasets, findings, sampling, synthetic

NAME = "sample_design"
TITLE = "Sample design, audit of the 1,253 total, purposive versus random selection"
EXPECTED_SECONDS = 3  # on two cores; the longest analyses start first
PUBLISHED_TOTAL = 1253
OUTCOMES = {
    "over_100_miles": "placed more than 100 miles from home",
    "needs_met": "needs mostly or completely met",
    "high_cost_residential": "children's home costing at least £4,800 a week",
}


def run(ctx) -> None:
    frame = datasets.south_east_authorities(2017)
    plan = sampling.design(frame)
    ctx.table("design_2017", plan.to_frame().round(4))
    exact = sampling.design(frame, convention="exact")

    years = {year: datasets.south_east_authorities(year) for year in (2015, 2016, 2017, 2018)}
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

    reps = 20 if ctx.fast else 200
    ctx.options.update({"reps": reps, "rng": ctx.seed, "outcomes": list(OUTCOMES)})
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
            **{
                f"bias_{key}": (round(row.bias_points, 2), "percentage points"),
                f"coverage_{key}": (round(row.ci_coverage, 3), "proportion of replicates"),
                f"within10_{key}": (round(row.strata_within_10, 3), "proportion of strata"),
            }
        )
    random_cov = summary.loc[summary["method"] == "random", "ci_coverage"]
    ctx.diagnostic("random_selection_coverage_near_nominal", bool(random_cov.min() >= 0.85))

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    labels = list(OUTCOMES)
    x = np.arange(len(labels))
    for offset, method, colour in ((-0.18, "random", "#4c72b0"), (0.18, "top_cost", "#dd8452")):
        part = summary[summary["method"] == method].set_index("outcome").reindex(labels)
        axes[0].bar(x + offset, part["bias_points"], width=0.36, label=method, color=colour)
        axes[1].bar(x + offset, part["strata_within_10"], width=0.36, label=method, color=colour)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set_ylabel("bias of regional estimate (points)")
    axes[1].axhline(0.95, color="black", lw=0.8, ls="--")
    axes[1].set_ylabel("authorities within +/-10 points")
    for ax in axes:
        ax.set_xticks(x, [label.replace("_", "\n") for label in labels], fontsize=8)
    axes[0].legend(frameon=False)
    fig.suptitle(f"Selection of the most expensive placements versus random ({reps} reps)")
    ctx.figure("selection_bias", fig)
    plt.close(fig)
