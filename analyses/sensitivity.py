"""Sensitivity of the headline figures to thresholds, design choices and selection.

Cohort sizes at other thresholds and the selection errors are properties of the case data:
on the synthetic sample method checks, not findings (only the published thresholds' sizes
match by construction), on a user's own table findings about it. The design totals come
from the study's DfE frame: real data."""

from __future__ import annotations

from lacstats import plots, sensitivity
from lacstats.analysis import CASES, Analysis, Columns, Context, EveryAuthority

ANALYSIS = Analysis(
    name="sensitivity",
    title="Sensitivity: cohort thresholds, design conventions, purposive versus random selection",
    summary="cohort sizes by threshold, design totals by confidence and interval, selection error",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    reads=(CASES,),
    requires=(
        EveryAuthority(part="selection error"),
        Columns("distance_miles", part="selection error of over_100_miles"),
        Columns("needs_met", part="selection error of needs_met"),
    ),
    figures=("thresholds", "design"),
    paper="required",
    order=6,
    expected_seconds=5,  # on two cores; the longest analyses start first
)
HIGH_COST_LOWER, HIGH_COST_UPPER = 4000, 6000  # the thresholds the paper quotes
NARROW_INTERVAL = 5


def run(ctx: Context) -> None:
    cases = ctx.cases()
    high, far = ctx.study.thresholds.high_cost, ctx.study.thresholds.far_miles
    evidence = "synthetic_check" if ctx.synthetic else "real_data"
    thresholds = sensitivity.threshold_sensitivity(
        cases,
        high_cost=sorted({*range(3600, 7201, 400), high}),
        miles=sorted({20, 50, 75, 100, 150, far}),
        progress=False,
    )
    ctx.table("thresholds", thresholds.drop(columns="error"))
    design = sensitivity.design_sensitivity(
        ctx.study.frame(),
        confidence=[0.9, 0.95, 0.99],
        interval=[5, 7.5, 10, 12.5, 15],
        progress=False,
    )
    ctx.table("design", design.drop(columns="error"))
    reps = 10 if ctx.fast else 100
    population = ctx.study.frame().set_index("authority")[ctx.study.population]
    ctx.runs("selection error")  # an authority without cases is left out, and says so
    population = population[population.index.isin(set(cases["authority"].astype(str)))]
    selection = sensitivity.selection_sensitivity(
        cases,
        reps=reps,
        rng=ctx.seed,
        progress=False,
        population=population,
        far_miles=far,
        high_cost=high,
        settings=ctx.study.thresholds.residential_settings,
    )
    for outcome in ("over_100_miles", "needs_met"):
        # the requirements say why an outcome the data cannot give is left out; one left
        # out for another reason says so too
        part = f"selection error of {outcome}"
        if ctx.runs(part) and f"error_{outcome}" not in set(selection["output"]):
            ctx.not_run(part, "the data give no case for it")
    ctx.table("selection", selection.drop(columns="error"))
    ctx.options.update({"rng": ctx.seed, "selection_reps": reps})
    for table, name in ((thresholds, "thresholds"), (design, "design"), (selection, "selection")):
        ctx.diagnostic(f"{name}_all_points_ran", sensitivity.failed(table).empty)

    at = thresholds.set_index(["high_cost", "miles", "output"])["value"]
    by_design = design.set_index(["confidence", "interval", "output"])["value"]
    errors = selection.groupby(["method", "output"])["value"].mean()
    ctx.settings(
        high_cost_lower=(HIGH_COST_LOWER, "GBP a week"),
        high_cost_upper=(HIGH_COST_UPPER, "GBP a week"),
        narrow_interval=(NARROW_INTERVAL, "+/- percentage points"),
    )
    ctx.numbers(
        evidence="real_data",
        obtained="recomputed_from_public_data",
        design_total_95_5=(int(by_design[(0.95, NARROW_INTERVAL, "crs")]), "cases"),
        design_total_95_10=(int(by_design[(0.95, 10, "crs")]), "cases"),
        design_total_99_10=(int(by_design[(0.99, 10, "crs")]), "cases"),
    )
    ctx.numbers(
        evidence=evidence,
        high_cost_at_4000=(int(at[(HIGH_COST_LOWER, far, "high_cost_residential_n")]), "children"),
        keeping_local_at_20=(int(at[(high, 20, "keeping_local_n")]), "children"),
        selection_error_top_cost_high_cost=(
            round(float(errors[("top_cost", "error_high_cost_residential")]), 2),
            "points",
        ),
        selection_error_random_high_cost=(
            round(float(errors[("random", "error_high_cost_residential")]), 2),
            "points",
        ),
    )
    # at the published thresholds the sizes match by construction (the 114, the 200, and
    # the 37 of them at £6,000 or more)
    ctx.numbers(
        evidence=ctx.case_evidence,
        high_cost_at_6000=(int(at[(HIGH_COST_UPPER, far, "high_cost_residential_n")]), "children"),
        high_cost_at_4800=(int(at[(high, far, "high_cost_residential_n")]), "children"),
        keeping_local_at_100=(int(at[(high, far, "keeping_local_n")]), "children"),
    )

    ctx.figure("thresholds", plots.threshold_curves(thresholds, high_cost=high, miles=far))
    published = (ctx.study.published_figures() or {}).get("sample", {}).get("cases")
    fig = plots.design_totals(design, strata=len(ctx.study.authorities), published=published)
    ctx.figure("design", fig)
    ctx.settings(
        thresholds_points=(int(thresholds["point"].nunique()), "points"),
        design_points=(int(design["point"].nunique()), "points"),
        selection_points=(int(selection["point"].nunique()), "points"),
    )
