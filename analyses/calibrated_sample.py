"""The calibrated synthetic South East sample and the published findings it reproduces.

Every figure recomputed here from the sample's rows matches the published one by
construction (the generator was fitted to them): evidence that the definitions are right,
not that the data are. The relationships between the figures are the generator's."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from lacstats import datasets, findings, regression, schema, synthetic
from lacstats.units import WEEKS_PER_YEAR

NAME = "calibrated_sample"
TITLE = "Calibrated synthetic sample: cases per authority, setting mix, published findings"
EVIDENCE = "case_rows"
OBTAINED = "recomputed_from_rows"

# Synthetic settings grouped as the DfE release groups placements (SFR50 columns).
DFE_GROUPS = {
    "foster": schema.FOSTER_SETTINGS,
    "secure_homes_hostels": (*schema.RESIDENTIAL_SETTINGS, "secure_unit", "unregistered"),
    "residential_school": ("residential_school",),
    "other_community": ("semi_independent",),
    "with_parents": ("with_parents",),
    "other": ("other",),
}


def run(ctx) -> None:
    cases = synthetic.complex_lac(rng=ctx.seed)
    ctx.options.update({"rng": ctx.seed, "sample_cases": len(cases)})

    table = findings.compare(cases, by_construction=True)
    ctx.findings(table)
    ctx.table("findings", table)
    ctx.numbers(
        **{
            row.finding.replace(".", "__"): (row.reproduced, row.unit)
            for row in table.itertuples()
        }
    )
    ctx.numbers(
        findings_matched=(int(table["match"].sum()), "findings"),
        findings_total=(len(table), "findings"),
        weekly_spend=(int(cases["weekly_cost"].sum()), "GBP per week"),
        mean_weekly_cost=(round(float(cases["weekly_cost"].mean()), 2), "GBP per week"),
        known_distance=(int(cases["distance_miles"].notna().sum()), "cases"),
    )
    # the generator sets these: the weak risk-cost relationship, the UASC share
    ctx.numbers(
        evidence="synthetic_check",
        spearman_all=(round(findings.spearman_risk_cost(cases), 3), "Spearman rho"),
        spearman_high_cost=(
            round(findings.spearman_risk_cost(cases, high_cost_only=True), 3),
            "Spearman rho",
        ),
        uasc=(int(cases["uasc"].sum()), "children"),
    )
    ctx.settings(
        high_cost_threshold=(findings.HIGH_COST_THRESHOLD, "GBP per week"),
        far_miles=(findings.FAR_MILES, "miles from home"),
        annual_weeks=(WEEKS_PER_YEAR, "weeks in a year"),
        weak_correlation=(regression.WEAK_CORRELATION, "|Spearman rho| below which 'weak'"),
        need_items=(len(schema.NEED_ITEMS), "need items"),
        risk_factors=(len(schema.RISK_FACTORS), "risk factors in the risk score"),
        score_low=(schema.SCORE_RANGE[0], "score: none"),
        score_high=(schema.SCORE_RANGE[1], "score: most prevalence"),
        prevalence_score=(schema.PREVALENCE_SCORE, "lowest score of 'some prevalence'"),
    )

    counts = synthetic.authority_counts()
    ctx.table("authority_counts", counts)

    frame = datasets.south_east_authorities(2017)
    mix = []
    for group, settings in DFE_GROUPS.items():
        n = int(cases["placement_setting"].isin(settings).sum())
        dfe = int(frame[group].sum()) if group in frame else None
        mix.append(
            {
                "dfe_group": group,
                "synthetic_n": n,
                "synthetic_share": n / len(cases),
                "dfe_2017_all_ages_n": dfe,
            }
        )
    mix = pd.DataFrame(mix).astype({"dfe_2017_all_ages_n": "Int64"})
    total_dfe = mix["dfe_2017_all_ages_n"].sum()
    mix["dfe_2017_all_ages_share"] = mix["dfe_2017_all_ages_n"] / total_dfe
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

    bands = pd.cut(
        cases["risk_score"].astype(float),
        [6, 12, 16, 20, 24, 35],
        labels=["7-12", "13-16", "17-20", "21-24", "25-35"],
    )
    fig, ax = plt.subplots(figsize=(6, 4))
    groups = [cases.loc[bands == b, "weekly_cost"].to_numpy() for b in bands.cat.categories]
    ax.boxplot(groups, tick_labels=list(bands.cat.categories), showfliers=False)
    ax.set_yscale("log")
    ax.axhline(findings.HIGH_COST_THRESHOLD, color="firebrick", lw=1, ls="--")
    ax.set_xlabel("risk score (sum of seven risk factors, 7-35)")
    ax.set_ylabel("weekly cost (GBP, log scale)")
    ax.set_title("Weekly cost by risk score band (synthetic sample)")
    ctx.figure("cost_by_risk_band", fig)
    plt.close(fig)
    ctx.diagnostic("all_findings_match", bool(table["match"].all()))
    ctx.inputs.update(_inputs())


def _inputs() -> dict[str, str]:
    from lacstats.provenance import packaged_data_hashes

    hashes = packaged_data_hashes()
    return {name: hashes[name] for name in ("SFR50_CLA2017.csv", "published_findings.toml")}
