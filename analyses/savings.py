"""Savings scenarios: Dorset's in-house fostering table and high-cost placement review
(seed 001), recomputed from their inputs, and the in-year saving when the planned changes
take "on average 6 months to reach completion", with uncertainty on timing and costs."""

from __future__ import annotations

import pandas as pd

from lacstats import costs, datasets, findings

NAME = "savings"
TITLE = "Dorset's savings tables from their inputs, with timing and cost uncertainty"
DELAY_WEEKS = 26  # "on average 6 months"
DELAY_SD = 13
COST_CV = 0.15


def run(ctx) -> None:
    published = datasets.published_findings()
    draws = 400 if ctx.fast else 4000
    rows = []

    dorset = published["dorset_in_house_fostering"]
    inputs = pd.DataFrame(
        [r[:4] for r in dorset["rows"]],
        columns=["change", "children", "weekly_cost", "new_weekly_cost"],
    )
    fostering = costs.savings(inputs, weeks=dorset["weeks_per_year"]).to_frame()
    ctx.table("dorset_in_house_fostering", fostering)
    for i, (row, printed) in enumerate(zip(fostering.itertuples(), dorset["rows"], strict=True)):
        for field, column in (("weekly_saving", 4), ("annual_saving", 5)):
            rows.append(
                findings.row(
                    f"dorset_in_house_fostering.row{i + 1}.{field}",
                    f"{row.change}: weekly cost minus in-house cost"
                    + (" x 52" if field == "annual_saving" else ""),
                    "GBP",
                    printed[column],
                    int(round(getattr(row, field))),
                    dorset["source"],
                )
            )
    ctx.numbers(
        dorset_full_year_avoided=(int(fostering["annual_saving"].sum()), "GBP a year"),
    )

    review = published["dorset_high_cost_review"]
    table = pd.DataFrame(review["rows"], columns=["change", "children", "annual_saving"])
    full = costs.high_cost_review(table, delay_weeks=0)
    rows.append(
        findings.row(
            "dorset_high_cost_review.total",
            "sum of the potential savings if all timescales are met",
            "GBP",
            review["total"],
            int(round(full.annual_total)),
            review["source"],
        )
    )
    timed = costs.high_cost_review(
        table,
        delay_weeks=DELAY_WEEKS,
        delay_sd=DELAY_SD,
        cost_cv=COST_CV,
        draws=draws,
        rng=ctx.seed,
    )
    frame = timed.to_frame()
    frame["weekly_saving_per_child"] = frame["weekly_saving"] / frame["children"]
    ctx.table("dorset_high_cost_review", frame.round(2))
    total = timed.total()
    ctx.numbers(
        high_cost_review_total=(int(round(full.annual_total)), "GBP, all timescales met"),
        high_cost_review_in_year=(int(round(total["in_year_saving"])), "GBP, 26-week delay"),
        high_cost_review_in_year_mean=(int(round(total["in_year_mean"])), "GBP"),
        high_cost_review_in_year_low=(int(round(total["in_year_low"])), "GBP, 5th percentile"),
        high_cost_review_in_year_high=(
            int(round(total["in_year_high"])),
            "GBP, 95th percentile",
        ),
    )
    ctx.findings(pd.DataFrame(rows))
    ctx.options.update(
        {
            "weeks": dorset["weeks_per_year"],
            "delay_weeks": DELAY_WEEKS,
            "delay_sd": DELAY_SD,
            "cost_cv": COST_CV,
            "draws": draws,
            "rng": ctx.seed,
        }
    )
