"""Risk and cost: correlations and four models side by side, and the fitted lines.

On the calibrated synthetic sample this is a method check: the generator sets how cost
rises with risk (:data:`lacstats.synthetic.RISK_COST_PER_SD`), and each model's estimate
is written beside that truth, with its interval and whether the interval covers it. On a
user's own table the same figures are findings about that table; a table without risk
scores skips the analysis, saying so."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lacstats import plots, regression, schema, synthetic
from lacstats.analysis import CASES, Analysis, Columns, Context, Positive

ANALYSIS = Analysis(
    name="risk_cost",
    title="Risk score and weekly cost: correlations, OLS, gamma GLM, mixed model, median",
    summary="correlations and four models of cost on risk (least squares with "
    "authority-clustered errors, gamma GLM, mixed model, median regression), each beside "
    "the generator's value",
    evidence="synthetic_check",
    obtained="recomputed_from_rows",
    reads=(CASES,),
    requires=(
        Columns(*schema.RISK_FACTORS, "risk_score", what="risk scores"),
        Positive(
            "weekly_cost",
            because="the models of cost are fitted to its logarithm (lognormal, gamma), so "
            "to the positive costs; the cases with no cost are counted beside them",
        ),
    ),
    figures=("risk_cost",),
    paper="required",
    order=3,
)
CI_LEVEL = 0.95  # regression.risk_cost's intervals (its default confidence)
GROUPS = {
    "foster care": schema.FOSTER_SETTINGS,
    "children's homes": schema.RESIDENTIAL_SETTINGS,
    "semi-independent": ("semi_independent",),
    "other settings": (
        "residential_school",
        "secure_unit",
        "unregistered",
        "with_parents",
        "other",
    ),
}


def run(ctx: Context) -> None:
    cases = ctx.cases()
    evidence = "synthetic_check" if ctx.synthetic else "real_data"
    answer = regression.risk_cost(cases)
    table, text = answer.table, answer.text
    mixed = "mixed model, authority intercepts"
    if mixed not in set(table["analysis"]):
        ctx.not_run(
            mixed,
            "its authority variance is at zero: the authorities differ by no "
            "more than chance (summary.txt)",
        )
    ctx.table("risk_cost", table.round(6))
    ctx.text("summary", text)
    overall = table[
        (table["analysis"] == "spearman correlation") & (table["subset"] == "all cases")
    ].iloc[0]
    ctx.numbers(
        evidence=evidence,
        spearman=(round(overall["estimate"], 3), "Spearman rho"),
        spearman_ci_low=(round(overall["ci_low"], 3), "Spearman rho"),
        spearman_ci_high=(round(overall["ci_high"], 3), "Spearman rho"),
    )
    # the truth: log cost rises by RISK_COST_PER_SD per standard deviation of the risk
    # score (over all cases) for the children outside the high-cost group
    truth = synthetic.RISK_COST_PER_SD / float(np.std(cases["risk_score"].astype(float)))
    if ctx.by_construction:
        ctx.numbers(
            obtained="generator_setting",
            generator_risk_per_sd=(synthetic.RISK_COST_PER_SD, "log weekly cost per SD of risk"),
            generator_risk_coefficient=(round(truth, 5), "log weekly cost per risk point"),
        )
    else:
        truth = np.nan
        ctx.not_run(
            "recovery of the generator's risk-cost slope",
            "only the calibrated synthetic sample has a slope set by its generator",
        )
    models = []
    for row in table[table["subset"] == "all cases"].itertuples():
        if row.term == "risk_score":
            key = row.analysis.split(",")[0].replace(" ", "_").replace("-", "_")
            ctx.numbers(
                evidence=evidence,
                **{
                    f"{key}_risk_coefficient": (
                        round(row.estimate, 5),
                        "log weekly cost per risk point",
                    )
                },
            )
            models.append(
                {
                    "model": row.analysis,
                    "estimate": row.estimate,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "truth": truth,
                    "covers_truth": bool(row.ci_low <= truth <= row.ci_high),
                }
            )
    ctx.settings(ci_level=(CI_LEVEL, "level of every interval in the table"))
    recovery = pd.DataFrame(models)
    ctx.numbers(evidence=evidence, models=(len(recovery), "models of cost on risk"))
    if ctx.by_construction:
        ctx.table("risk_coefficient_recovery", recovery.round(6))
        ctx.numbers(models_covering_truth=(int(recovery["covers_truth"].sum()), "models"))

    cases = cases.assign(group=pd.Series(pd.NA, index=cases.index, dtype="object"))
    for label, settings in GROUPS.items():
        cases.loc[cases["placement_setting"].isin(settings), "group"] = label
    fitted = regression.fit(
        cases.assign(group=cases["group"].astype(str)),
        "weekly_cost ~ risk_score * C(group)",
        family="lognormal",
    )
    ctx.table("fitted_by_setting", fitted.to_frame().round(6))
    grid = np.arange(7, 36)
    lines = {}
    for label in GROUPS:
        part = cases[cases["group"] == label]
        # binned means, not child-level points: nothing in results/ shows one child
        bins = part.groupby(
            pd.cut(part["risk_score"].astype(float), range(6, 37, 3)), observed=True
        )["weekly_cost"].agg(["mean", "size"])
        bins = bins[bins["size"] >= 5]
        lines[label] = {
            "mids": [interval.mid for interval in bins.index],
            "means": bins["mean"],
            "sizes": bins["size"],
            "grid": grid,
            "fitted": fitted.predict(pd.DataFrame({"risk_score": grid, "group": label})),
        }
    ctx.figure("risk_cost", plots.risk_cost_lines(lines))
    ctx.options.update({"rng": ctx.seed, "formula": "weekly_cost ~ risk_score * C(group)"})
