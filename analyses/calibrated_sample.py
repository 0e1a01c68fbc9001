"""The case data and the published findings recomputed from their rows.

On the calibrated synthetic South East sample every recomputed figure matches the
published one by construction (the generator was fitted to them): evidence that the
definitions are right, not that the data are, and the relationships between the figures
are the generator's. On a user's own table the same figures are findings about that
table, set beside the published ones; a difference is a result, not a failure."""

from __future__ import annotations

import pandas as pd

from lacstats import findings, plots, regression, schema, synthetic
from lacstats.analysis import CASES, Analysis, Columns, Context
from lacstats.units import WEEKS_PER_YEAR

ANALYSIS = Analysis(
    name="calibrated_sample",
    title="The case data: cases per authority, setting mix, the published findings recomputed",
    summary="the synthetic sample and the published findings it reproduces",
    evidence="case_rows",
    obtained="recomputed_from_rows",
    reads=(CASES,),
    requires=(Columns(*schema.RISK_FACTORS, part="risk and cost"),),
    figures=("cost_by_risk_band",),
    paper="required",
    order=1,
)

# Synthetic settings grouped as the DfE release groups placements (SFR50 columns).
DFE_GROUPS = {
    "foster": schema.FOSTER_SETTINGS,
    "secure_homes_hostels": (*schema.RESIDENTIAL_SETTINGS, "secure_unit", "unregistered"),
    "residential_school": ("residential_school",),
    "other_community": ("semi_independent",),
    "with_parents": ("with_parents",),
    "other": ("other",),
}


def run(ctx: Context) -> None:
    cases = ctx.cases()
    ctx.options.update(
        {"rng": ctx.seed, "sample_cases": len(cases), "data": ctx.study.data_source}
    )
    evidence = ctx.case_evidence
    published = ctx.study.published_figures()
    if published is None:
        ctx.not_run("comparison with published figures", "the study names none")
        table = None
    else:
        table = findings.compare(cases, published, by_construction=ctx.by_construction)
        ctx.findings(table)
        ctx.table("findings", table)
        ctx.numbers(
            evidence=evidence,
            **{
                row.finding.replace(".", "__"): (row.reproduced, row.unit)
                for row in table.itertuples()
                if row.reproduced is not None
            },
        )
        ctx.numbers(
            evidence=evidence,
            findings_matched=(int(table["match"].sum()), "findings"),
            findings_total=(len(table), "findings"),
            findings_not_computable=(int(table["reproduced"].isna().sum()), "findings"),
        )
    ctx.numbers(
        evidence=evidence,
        cases=(len(cases), "cases"),
        authorities=(int(cases["authority"].nunique()), "authorities"),
        weekly_spend=(int(cases["weekly_cost"].sum()), "GBP per week"),
        mean_weekly_cost=(round(float(cases["weekly_cost"].mean()), 2), "GBP per week"),
        known_distance=(int(cases["distance_miles"].notna().sum()), "cases"),
    )
    # on synthetic data the generator sets these: the weak risk-cost relationship, UASC
    relation = "synthetic_check" if ctx.synthetic else "real_data"
    risk = ctx.runs("risk and cost")
    if risk:
        ctx.numbers(
            evidence=relation,
            spearman_all=(round(findings.spearman_risk_cost(cases), 3), "Spearman rho"),
            spearman_high_cost=(
                round(findings.spearman_risk_cost(cases, high_cost_only=True), 3),
                "Spearman rho",
            ),
        )
    if not ctx.missing(cases, ["uasc"]):
        ctx.numbers(evidence=relation, uasc=(int(cases["uasc"].sum()), "children"))
    thresholds = ctx.study.thresholds
    ctx.settings(
        high_cost_threshold=(thresholds.high_cost, "GBP per week"),
        far_miles=(thresholds.far_miles, "miles from home"),
        annual_weeks=(WEEKS_PER_YEAR, "weeks in a year"),
        weak_correlation=(regression.WEAK_CORRELATION, "|Spearman rho| below which 'weak'"),
        need_items=(len(schema.NEED_ITEMS), "need items"),
        risk_factors=(len(schema.RISK_FACTORS), "risk factors in the risk score"),
        score_low=(schema.SCORE_RANGE[0], "score: none"),
        score_high=(schema.SCORE_RANGE[1], "score: most prevalence"),
        prevalence_score=(schema.PREVALENCE_SCORE, "lowest score of 'some prevalence'"),
    )

    if ctx.by_construction:
        ctx.table("authority_counts", synthetic.authority_counts())
    else:
        design = ctx.study.design().table.set_index("stratum")["n"].rename("design_n")
        returned = cases.groupby("authority", observed=True).size().rename("n")
        counts = pd.concat([returned, design], axis=1).rename_axis("authority").reset_index()
        ctx.table("authority_counts", counts.astype({"n": "Int64", "design_n": "Int64"}))

    frame = ctx.study.frame()
    year = ctx.study.frame_year
    mix = []
    for group, settings in DFE_GROUPS.items():
        n = int(cases["placement_setting"].isin(settings).sum())
        dfe = int(frame[group].sum()) if group in frame else None
        mix.append(
            {
                "dfe_group": group,
                "synthetic_n": n,
                "synthetic_share": n / len(cases),
                f"dfe_{year}_all_ages_n": dfe,
            }
        )
    mix = pd.DataFrame(mix).astype({f"dfe_{year}_all_ages_n": "Int64"})
    total_dfe = mix[f"dfe_{year}_all_ages_n"].sum()
    mix[f"dfe_{year}_all_ages_share"] = mix[f"dfe_{year}_all_ages_n"] / total_dfe
    ctx.table("setting_mix", mix.round(4))

    by_setting = (
        cases.groupby("placement_setting", observed=True)["weekly_cost"]
        .agg(
            n="size",
            mean="mean",
            median="median",
            p10=lambda s: s.quantile(0.1),
            p90=lambda s: s.quantile(0.9),
        )
        .round(0)
        .reset_index()
    )
    ctx.table("cost_by_setting", by_setting)

    if table is not None and ctx.by_construction:
        ctx.diagnostic("all_findings_match", bool(table["match"].all()))
    ctx.inputs.update(_inputs())
    if not risk:
        return
    fig = plots.cost_by_risk_band(
        cases, high_cost=thresholds.high_cost, data=ctx.study.data_source
    )
    ctx.figure("cost_by_risk_band", fig)


def _inputs() -> dict[str, str]:
    from lacstats.provenance import packaged_data_hashes

    hashes = packaged_data_hashes()
    return {name: hashes[name] for name in ("SFR50_CLA2017.csv", "published_findings.toml")}
