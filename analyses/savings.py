"""Savings scenarios: Dorset's in-house fostering table (Table 3) and high-cost placement
review (Table 2), recomputed from their inputs (Dorset County Council 2017), and the
in-year saving when the planned changes take "on average 6 months to reach completion",
with uncertainty on timing and costs.

Table 3's last two rows are the same 7 children in independent children's homes, moved
either to the council's homes or to its foster care: alternatives, so no total adds them.
"""

from __future__ import annotations

import pandas as pd

from lacstats import costs, findings
from lacstats.analysis import Analysis, Context

ANALYSIS = Analysis(
    name="savings",
    title="Dorset's savings tables from their inputs, with timing and cost uncertainty",
    summary="Dorset's in-house fostering table (each option on its own: two rows are "
    "alternatives for the same children) and high-cost review; in-year savings with timing "
    "and cost uncertainty",
    evidence="real_data",
    obtained="arithmetic_on_published_inputs",
    paper="required",
    order=9,
)
DELAY_WEEKS = 26  # "on average 6 months"
DELAY_SD = 13
COST_CV = 0.15
INTERVAL = 0.9


def _alternatives(dorset: dict) -> list[str]:
    """For each row of Table 3, which rows it is an alternative to ("" for none)."""
    out = [""] * len(dorset["rows"])
    for group in dorset.get("alternatives", []):
        for i in group:
            others = [j for j in group if j != i]
            out[i - 1] = "alternative to row " + ", ".join(str(j) for j in others)
    return out


def run(ctx: Context) -> None:
    published = ctx.study.published_figures()
    if published is None or "dorset_high_cost_review" not in published:
        ctx.skip("the study's published figures do not include Dorset's savings tables")
    draws = 400 if ctx.fast else 4000
    rows = []

    dorset = published["dorset_in_house_fostering"]
    inputs = pd.DataFrame(
        [r[:4] for r in dorset["rows"]],
        columns=["change", "children", "weekly_cost", "new_weekly_cost"],
    )
    fostering = costs.savings(inputs, weeks=dorset["weeks_per_year"]).to_frame()
    fostering.insert(0, "row", range(1, len(fostering) + 1))
    fostering["alternatives"] = _alternatives(dorset)
    ctx.table("dorset_in_house_fostering", fostering)
    for i, (row, printed) in enumerate(zip(fostering.itertuples(), dorset["rows"], strict=True)):
        for field, column, words in (
            ("weekly_saving", 4, "weekly saving (weekly cost minus the in-house cost)"),
            (
                "annual_saving",
                5,
                f"full-year cost avoided (weekly saving x {dorset['weeks_per_year']})",
            ),
        ):
            rows.append(
                findings.row(
                    f"dorset_in_house_fostering.row{i + 1}.{field}",
                    f"In-house fostering (Table 3), {row.change}: {words}",
                    "GBP",
                    printed[column],
                    int(round(getattr(row, field))),
                    dorset["source"],
                    obtained="arithmetic_on_published_inputs",
                )
            )
    # each option on its own: rows that are alternatives for the same children are never
    # added together
    alternative = [bool(a) for a in fostering["alternatives"]]
    ctx.numbers(
        **{
            f"dorset_row{i + 1}_annual": (int(round(value)), "GBP a year, full-year cost avoided")
            for i, value in enumerate(fostering["annual_saving"])
        },
        **{
            f"dorset_row{i + 1}_children": (int(n), "children")
            for i, n in enumerate(fostering["children"])
        },
        dorset_alternative_rows=(sum(alternative), "rows that are options for the same children"),
    )

    review = published["dorset_high_cost_review"]
    table = pd.DataFrame(review["rows"], columns=["change", "children", "annual_saving"])
    full = costs.high_cost_review(table, delay_weeks=0)
    rows.append(
        findings.row(
            "dorset_high_cost_review.total",
            "High-cost placement review (Table 2): sum of the potential savings if all "
            "timescales are met",
            "GBP",
            review["total"],
            int(round(full.annual_total)),
            review["source"],
            obtained="arithmetic_on_published_inputs",
        )
    )
    timed = costs.high_cost_review(
        table,
        delay_weeks=DELAY_WEEKS,
        delay_sd=DELAY_SD,
        cost_cv=COST_CV,
        draws=draws,
        interval=INTERVAL,
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
        high_cost_review_in_year_low=(int(round(total["in_year_ci_low"])), "GBP, 5th percentile"),
        high_cost_review_in_year_high=(
            int(round(total["in_year_ci_high"])),
            "GBP, 95th percentile",
        ),
    )
    ctx.findings(findings.frame(rows))
    ctx.options.update(
        {
            "weeks": dorset["weeks_per_year"],
            "delay_weeks": DELAY_WEEKS,
            "delay_sd": DELAY_SD,
            "cost_cv": COST_CV,
            "draws": draws,
            "interval": INTERVAL,
            "rng": ctx.seed,
        }
    )
    ctx.settings(
        delay_text=(review["delay_text"], "Dorset County Council (2017), quoted"),
        delay_weeks=(DELAY_WEEKS, "weeks, mean delay"),
        delay_sd=(DELAY_SD, "weeks, standard deviation of the delay"),
        cost_cv=(COST_CV, "coefficient of variation of each cost"),
        interval=(INTERVAL, "share of simulations inside the interval"),
        draws=(draws, "simulations"),
        weeks_per_year=(dorset["weeks_per_year"], "weeks (Table 3)"),
    )
