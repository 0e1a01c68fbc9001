"""Every English authority, 2015-2019, from the public releases (kind of evidence: real
public data; DfE children looked after, ONS population, Ofsted providers and fostering).

Three shares of each authority's children looked after at 31 March, by year, with
partial pooling: placed more than 20 miles from home (of those with a known distance,
2017-2019), placed in children's homes, secure units and semi-independent living (DfE's
"secure units, children's homes and semi-independent living accommodation"), and placed
with private providers; and the rate of children looked after per 10,000 children with
the ONS population under 18 as exposure. Each is a hierarchical model with a national
trend, region effects and authority effects nested in them, each authority with its own
trend (binomial with trials and an effect per authority and year for movement beyond
binomial sampling; negative binomial with exposure for the rate). Suppressed
cells are missing data: the rows drop out of that model, never enter as zeros.

It reports the shrunken estimate of every authority for 2019 with its 90% interval and
rank interval, the South East's 19 authorities marked, the variance shares of region,
authority and year, the authorities credibly above or below the national level, and
checks that the releases' published national and regional totals equal the sums of their
LA rows within the releases' rounding. Sufficiency: Ofsted's foster places (2018-19) and
children's homes places (31 March 2016) by region beside the children the region's
authorities placed in those settings at the same dates.

The models, their rows and sampling settings are :mod:`lacstats.national`'s (the national
benchmark times the same ones).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from lacstats import cache, datasets, findings, plots
from lacstats.analysis import Analysis, Context
from lacstats.national import (
    CENTRE_YEAR,
    LATEST,
    PROB,
    SHARES,
    national_panel,
    rate_model,
    rate_rows,
    sampling,
    share_model,
    share_rows,
)

ANALYSIS = Analysis(
    name="national",
    title="Every English authority 2015-2019: partial pooling of placement shares and rates",
    summary="every English authority 2015-2019 (real public data): shares placed over 20 "
    "miles, in children's homes/secure/semi-independent, with private providers, and "
    "looked-after rates per 10,000 (ONS population), with region and authority effects, 90% "
    "and rank intervals, variance shares, authorities credibly above or below national; the "
    "releases' totals checked against their LA rows; Ofsted places by region beside the "
    "children placed",
    evidence="real_data",
    obtained="recomputed_from_public_data",
    figures=(
        "caterpillar_far",
        "caterpillar_residential",
        "caterpillar_private",
        "caterpillar_rate",
        "sufficiency_homes",
    ),
    paper="optional",
    order=11,
    expected_seconds=70,  # on two cores; the longest analyses start first
    # it marks the study's authorities (and names its region, or its title) and reads
    # nothing else of the study: computed once for them (lacstats.cache); its four models
    # read nothing of the study, and are computed once for any study (run: "fits")
    study_reads=("authorities", "region", "title"),
)
EVIDENCE = ANALYSIS.evidence
RULE = "recomputed_from_public_data"

#: the ranked figures name this many highest and lowest authorities beside the study's
NAMED_EXTREMES = 5
#: tidy measure -> the release's column, for the checks against published totals
PUBLISHED = {
    "lac_total": "CLA_Mar{year}",
    "foster": "CLA_Fost",
    "secure_homes_hostels": "CLA_Secure",
    "provider_private": "CLA_Priv",
    "over_20_miles": "CLA_GT20",
}


def run(ctx: Context) -> None:
    panel = national_panel()
    common = sampling("residential", fast=ctx.fast)  # the draws of the models without more
    check = not ctx.fast
    ctx.options.update(
        {"rng": ctx.seed, "check": check, **common, "interval": PROB, "evidence": EVIDENCE}
    )
    # the four models and their summaries do not depend on the study: computed once for
    # the seed and options, kept in the cache and reused by any run or study (the study
    # only marks its authorities below)
    fits = ctx.computed_once("fits", lambda folder: _fit_all(ctx, panel, folder), _read_fits)
    # the study's authorities are marked (the South East's 19 for the seed study)
    panel["south_east"] = panel["authority"].isin(ctx.study.authorities) | panel["region"].eq(
        ctx.study.region
    )
    ctx.table("panel_summary", _panel_summary(panel))
    _published_checks(ctx, panel)

    numbers: dict = {}
    positions, summary, by_year = [], [], []
    # the study's authorities, as the figures' legends name them
    marked_label = ctx.study.region or ctx.study.title
    for key in (*SHARES, "rate"):
        rows = rate_rows(panel) if key == "rate" else share_rows(panel, key)
        table, extra, row, years = _mark(ctx, key, fits[key], rows)
        positions.append(table)
        summary.append(row)
        by_year.extend(years)
        numbers.update(extra)
        national = extra[f"{key}_national_{LATEST}"][0]
        if key == "rate":
            shown = table
            xlabel = f"looked after per 10,000 children, {LATEST} ({PROB:.0%} intervals)"
        else:
            shown = table.assign(
                estimate=100 * table["estimate"],
                ci_low=100 * table["ci_low"],
                ci_high=100 * table["ci_high"],
            )
            national = 100 * national
            label = SHARES[key][3]
            xlabel = f"% {label}, {LATEST} (partial pooling, {PROB:.0%} intervals)"
        ctx.figure(
            f"caterpillar_{key}",
            plots.national_caterpillar(
                shown,
                national=national,
                xlabel=xlabel,
                marked_label=marked_label,
                extremes=NAMED_EXTREMES,
            ),
        )
    ctx.table("national_positions", pd.concat(positions, ignore_index=True).round(5))
    # the paper's table by measure: each figure in the unit a reader uses
    ctx.table("national_summary", pd.DataFrame(summary).round(4))
    # the appendix's table by measure and year
    ctx.table("national_by_year", pd.DataFrame(by_year).round(4))
    numbers.update(_sufficiency(ctx, panel))
    ctx.numbers(**numbers)
    ctx.settings(
        interval=(PROB, "central posterior interval"),
        latest_year=(LATEST, "year of the positions"),
        first_year=(int(panel["year"].min()), "first release"),
        distance_first_year=(SHARES["far"][2][0], "first release with distance bands"),
        south_east_authorities=(
            int(panel.loc[panel["year"] == LATEST, "south_east"].sum()),
            "authorities",
        ),
        homes_year=(2016, "Ofsted providers and places, 31 March"),
        draws=(common["draws"], "draws per chain (3,000 for far, 1,500 for rate)"),
        chains=(common["chains"], "chains"),
    )


# -- the models, fitted once ----------------------------------------------------------------
def _fit_all(ctx: Context, panel: pd.DataFrame, folder: Path) -> None:
    """Fit the four models (one generator from the seed, in this order) and write what
    the analysis reports of each into ``folder``: its tables and the positions of every
    authority (:func:`lacstats.cache.frame_to_json`), its figures (``fits.json``). Nothing
    here reads the study."""
    gen = np.random.default_rng(ctx.seed)
    check = not ctx.fast
    kept: dict = {}
    for key in (*SHARES, "rate"):
        if key == "rate":
            rows, model = rate_rows(panel), rate_model()
            response, trials = "lac_total_revised", "population_under_18"
            label, transform = "looked after per 10,000 children", _per_10000
        else:
            rows, model = share_rows(panel, key), share_model(key)
            response, trials, _years, label = SHARES[key]
            transform = special.expit
        ctx.progress(f"[{ctx.name}] sampling {key}")
        options = sampling(key, fast=ctx.fast)
        fit = model.fit(rows, rng=gen, progress=ctx.bars, check=check, **options)
        tables, positions, extra, row, years = _summarise(
            key, fit, rows, response, trials, label, transform
        )
        for name, frame in {**tables, f"positions_{key}": positions}.items():
            (folder / f"{name}.json").write_text(cache.frame_to_json(frame), encoding="utf-8")
        kept[key] = {
            "passed": bool(fit.diagnostics.passed),
            "tables": list(tables),
            "extra": extra,
            "row": row,
            "by_year": years,
        }
    text = json.dumps(kept, ensure_ascii=False, allow_nan=True, indent=1)
    (folder / "fits.json").write_text(text + "\n", encoding="utf-8")


def _read_fits(folder: Path) -> dict:
    """What :func:`_fit_all` wrote: each model's diagnostics verdict, tables, positions,
    figures, summary row and national level by year."""
    kept = json.loads((folder / "fits.json").read_text(encoding="utf-8"))
    for key, fit in kept.items():

        def frame(name: str) -> pd.DataFrame:
            return cache.frame_from_json((folder / f"{name}.json").read_text(encoding="utf-8"))

        fit["tables"] = {name: frame(name) for name in fit["tables"]}
        fit["positions"] = frame(f"positions_{key}")
        fit["extra"] = {name: tuple(figure) for name, figure in fit["extra"].items()}
    return kept


def _per_10000(eta):
    return 1e4 * np.exp(eta)


def _mark(ctx: Context, key: str, fit: dict, rows: pd.DataFrame):
    """A model's tables written, its positions with the study's authorities marked, and
    the figures that count them."""
    ctx.diagnostic(key, fit["passed"])
    for name, frame in fit["tables"].items():
        ctx.table(name, frame)
    marks = rows.drop_duplicates("authority").set_index("authority")["south_east"]
    table = fit["positions"].copy()
    table.insert(2, "marked", table["authority"].map(marks).astype(bool))
    se = table[table["marked"]]
    row = {
        **fit["row"],
        "marked": int(table["marked"].sum()),
        "marked_above": int(se["above_national"].sum()),
        "marked_below": int(se["below_national"].sum()),
    }
    extra = {
        **fit["extra"],
        f"{key}_south_east_above": (int(se["above_national"].sum()), "authorities"),
        f"{key}_south_east_below": (int(se["below_national"].sum()), "authorities"),
    }
    return table, extra, row, fit["by_year"]


# -- the panel and the published totals ----------------------------------------------------
def _panel_summary(panel: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for year, group in panel.groupby("year"):
        rows.append(
            {
                "year": year,
                "authorities": len(group),
                "lac_total": int(group["lac_total"].sum()),
                "missing_over_20_miles": int(group["over_20_miles"].isna().sum()),
                "missing_secure_homes_hostels": int(group["secure_homes_hostels"].isna().sum()),
                "missing_provider_private": int(group["provider_private"].isna().sum()),
            }
        )
    return pd.DataFrame(rows)


def _published_checks(ctx, panel: pd.DataFrame) -> None:
    """Each published national and regional total (rounded to the nearest 10) against the
    sum of its LA rows: the true total lies in [sum, sum + 5 per suppressed LA cell] (a
    suppressed count "x" is 1 to 5; 2019's "c" may hide more, so only the sum bounds it
    there), the published one within 5 of it."""
    table, rows = [], []
    for year in sorted(panel["year"].unique()):
        release = datasets.dfe_cla(int(year))
        totals = release[release["level"].isin(["NATIONAL", "REGION"])]
        las = panel[panel["year"] == year]
        for measure, column in PUBLISHED.items():
            column = column.format(year=year)
            published = totals[totals["measure"] == column]
            if published.empty:
                continue
            for _, cell in published.iterrows():
                half = cell["area"].upper()
                if cell["level"] == "NATIONAL":
                    area, members = "England", las
                elif half in ("INNER LONDON", "OUTER LONDON"):  # datasets.INNER_LONDON
                    area = half.title()
                    inner = las["authority"].isin(datasets.INNER_LONDON)
                    members = las[
                        (las["region"] == "London") & (inner == (half == "INNER LONDON"))
                    ]
                else:
                    area = datasets.region_of(cell["area"])
                    members = las[las["region"] == area]
                known = int(members[measure].sum())
                hidden = int(members[f"{measure}_suppressed"].sum())
                value = cell["value"]
                # 2019 marks suppression "c", which may hide larger, secondary cells:
                # only the lower bound holds there, and a comparison with no upper bound
                # cannot fail, so it is not made (not comparable, never a match)
                comparable = year < 2019 or hidden == 0
                upper = known + 5 * hidden if comparable else None
                match = bool(comparable and known <= value + 5 and upper >= value - 5)
                table.append(
                    {
                        "year": int(year),
                        "area": area,
                        "measure": measure,
                        "dfe_column": column,
                        "published": value,
                        "sum_of_la_rows": known,
                        "suppressed_la_cells": hidden,
                        "upper_bound": upper,
                        "comparable": comparable,
                        "within_rounding": match if comparable else None,
                    }
                )
    checks = pd.DataFrame(table).astype({"upper_bound": "Int64", "within_rounding": "object"})
    ctx.table("published_totals_check", checks)
    national = checks[checks["area"] == "England"]
    for _, row in national.iterrows():
        if not row["comparable"]:
            rows.append(_not_comparable(row))
            continue
        reproduced = (
            f"{row['sum_of_la_rows']}"
            if row["suppressed_la_cells"] == 0
            else f"{row['sum_of_la_rows']:,} to {row['upper_bound']:,}"
        )
        rows.append(
            findings.row(
                f"national.england.{row['measure']}.{row['year']}",
                f"England {row['dfe_column']} as the sum of the LA rows of the DfE "
                f"{row['year']} release (a suppressed cell counts 1 to 5)",
                "children",
                int(row["published"]),
                reproduced,
                f"DfE children looked after {row['year']}, LA-level underlying data",
                rule="published total (rounded to 10) within 5 of the LA sum",
                obtained=RULE,
                match=bool(row["within_rounding"]),
                explanation=(
                    "the release's England total is not the sum of its LA rows within "
                    "its rounding and suppression: DfE computes totals from child-level "
                    "returns and may revise them"
                    if not row["within_rounding"]
                    else ""
                ),
            )
        )
    regional = checks[checks["area"] != "England"]
    for year, group in regional.groupby("year"):
        compared = group[group["comparable"]]
        within = int(compared["within_rounding"].astype(bool).sum())
        skipped = len(group) - len(compared)
        notes = []
        if within != len(compared):
            notes.append(
                "some regional totals differ from their LA rows by more than the rounding "
                "and suppression allow (published_totals_check.csv)"
            )
        if skipped:
            notes.append(
                f"{skipped:,} regional total{'s' if skipped != 1 else ''} not comparable: "
                "the release's suppression ('c') may hide secondary cells larger than 5, so "
                "the LA rows bound the total from below only"
            )
        rows.append(
            findings.row(
                f"national.regions_within_rounding.{year}",
                "regional totals (9 regions, each checked measure) that can be bounded from "
                "their LA rows, equal to the sum of those rows within the release's rounding",
                "region totals",
                len(compared),
                within,
                f"DfE children looked after {year}, LA-level underlying data",
                rule="every comparable regional total within rounding",
                obtained=RULE,
                explanation="; ".join(notes),
            )
        )
    rows.extend(_rate_checks(panel))
    ctx.findings(findings.frame(rows))
    compared = checks[checks["comparable"]]
    ctx.numbers(
        totals_checked=(
            len(compared),
            "published totals that the LA rows bound (national, regional, London)",
        ),
        totals_within_rounding=(
            int(compared["within_rounding"].astype(bool).sum()),
            "published totals",
        ),
        totals_not_comparable=(
            len(checks) - len(compared),
            "published totals the LA rows bound from below only ('c' suppression)",
        ),
    )


def _not_comparable(row: pd.Series) -> dict:
    """A published total the LA rows bound from below only: not comparable, never a
    match (a comparison with an unbounded interval cannot fail)."""
    return findings.row(
        f"national.england.{row['measure']}.{row['year']}",
        f"England {row['dfe_column']} as the sum of the LA rows of the DfE {row['year']} release",
        "children",
        int(row["published"]),
        f"at least {row['sum_of_la_rows']:,}",
        f"DfE children looked after {row['year']}, LA-level underlying data",
        rule="not comparable: bounded from below only",
        obtained=RULE,
        match=False,
        explanation=(
            f"not comparable: the release marks suppressed cells 'c', which may hide "
            f"secondary cells larger than 5, so its {row['suppressed_la_cells']:,} suppressed "
            "LA cells bound the England total from below only (at least "
            f"{row['sum_of_la_rows']:,}); a comparison that cannot fail is not made"
        ),
    )


def _rate_checks(panel: pd.DataFrame) -> list[dict]:
    """England's rate per 10,000 from the LA rows against the 2019 release's own."""
    release = datasets.dfe_cla(2019)
    rows = []
    for year, group in panel.groupby("year"):
        published = release[
            (release["level"] == "NATIONAL") & (release["measure"] == f"CLA_Rate{year}")
        ]["value"].item()
        rate = 1e4 * group["lac_total_revised"].sum() / group["population_under_18"].sum()
        rows.append(
            findings.row(
                f"national.england.rate_per_10000.{year}",
                "England's children looked after per 10,000 under 18: the LA rows' counts "
                "over their ONS populations (2019 release series)",
                "per 10,000",
                int(published),
                int(np.floor(rate + 0.5)),
                "DfE children looked after 2019, LA-level underlying data (CLA_Rate)",
                rule="rounded to a whole number",
                obtained=RULE,
                explanation="",
            )
        )
    return rows


# -- model summaries --------------------------------------------------------------------------
def _summarise(key, fit, rows, response, trials, label, transform):
    """A model's tables, positions of every authority in the latest year (the study's
    marks are added by :func:`_mark`), figures, summary row (the marked counts left for
    :func:`_mark`, in their place) and national level by year."""
    tables = {
        f"diagnostics_{key}": fit.diagnostics.to_frame(),
        f"fixed_effects_{key}": fit.fixed_effects(PROB).round(5),
        f"variance_components_{key}": fit.variance_components(PROB).round(5),
        f"region_effects_{key}": fit.outer_effects(PROB).round(5),
    }
    t = LATEST - CENTRE_YEAR
    areas = rows.drop_duplicates("authority")[["authority", "region"]]
    areas = areas.sort_values("authority").reset_index(drop=True)
    new = areas.assign(year_c=t)
    eta = fit.predict(new, kind="linear")
    national = pd.DataFrame({"authority": ["(England)"], "region": ["(England)"]})
    eta0 = fit.predict(national.assign(year_c=t), kind="linear")[:, 0]
    slope = eta0 - fit.predict(national.assign(year_c=t - 1), kind="linear")[:, 0]
    value = transform(eta)
    lo, hi = (1 - PROB) / 2, 1 - (1 - PROB) / 2
    diff = eta - eta0[:, None]
    ranks = (-value).argsort(axis=1).argsort(axis=1) + 1  # 1 = highest
    latest = rows[rows["year"] == LATEST].set_index("authority")
    observed = latest[response].astype(float) / latest[trials].astype(float)
    table = areas.assign(
        measure=key,
        year=LATEST,
        estimate=value.mean(axis=0),
        ci_low=np.quantile(value, lo, axis=0),
        ci_high=np.quantile(value, hi, axis=0),
        rank_low=np.quantile(ranks, lo, axis=0),
        rank_high=np.quantile(ranks, hi, axis=0),
        observed=areas["authority"].map(observed * (1e4 if key == "rate" else 1)),
        above_national=np.quantile(diff, lo, axis=0) > 0,
        below_national=np.quantile(diff, hi, axis=0) < 0,
    )
    sds = fit.sd_draws()
    var_t = float(np.var(np.sort(rows["year_c"].unique())))  # the panel's years, equally
    components = {
        "region": sds["region (intercept)"] ** 2,
        "authority": sds["authority (intercept)"] ** 2,
        "authority_trend": sds["authority (year_c)"] ** 2 * var_t,
        "year": slope**2 * var_t,
    }
    if "observation" in sds:  # an authority's own year-to-year movement
        components["authority_year"] = sds["observation"] ** 2
    total = sum(components.values())
    shares = pd.DataFrame(
        [
            {
                "measure": key,
                "component": name,
                "share": float(np.mean(v / total)),
                "ci_low": float(np.quantile(v / total, lo)),
                "ci_high": float(np.quantile(v / total, hi)),
            }
            for name, v in components.items()
        ]
    )
    tables[f"variance_shares_{key}"] = shares.round(5)
    scale = 100 if key != "rate" else 1
    unit = "percent" if key != "rate" else "per 10,000 children"
    national_value = float(np.mean(transform(eta0)))
    level = scale * transform(eta0)
    change = level - scale * transform(eta0 - slope)  # on the year before, in its units
    summary_row = {
        "measure": key,
        "label": label,
        "unit": "percent" if key != "rate" else "per 10,000 children",
        "year": LATEST,
        "authorities": len(table),
        "national": float(np.mean(level)),
        "national_low": float(np.quantile(level, lo)),
        "national_high": float(np.quantile(level, hi)),
        "change_per_year": float(np.mean(change)),
        "change_low": float(np.quantile(change, lo)),
        "change_high": float(np.quantile(change, hi)),
        "above": int(table["above_national"].sum()),
        "below": int(table["below_national"].sum()),
        # the study's marked authorities, counted by _mark
        "marked": None,
        "marked_above": None,
        "marked_below": None,
        "share_region": float(100 * shares.set_index("component").loc["region", "share"]),
        "share_authority": float(100 * shares.set_index("component").loc["authority", "share"]),
        "rows_missing": int(fit.design.n_dropped),
        "named_extremes": NAMED_EXTREMES,  # the figure labels as many highest and lowest
    }
    extra = {
        f"{key}_national_{LATEST}": (
            national_value,
            f"{label}: national level, {'fraction' if key != 'rate' else 'per 10,000 children'}",
        ),
        f"{key}_national_{LATEST}_display": (round(scale * national_value, 1), unit),
        f"{key}_trend_per_year": (
            round(float(np.mean(slope)), 4),
            "change in the log-odds (log rate) a year",
        ),
        f"{key}_trend_ci_low": (round(float(np.quantile(slope, lo)), 4), "log scale"),
        f"{key}_trend_ci_high": (round(float(np.quantile(slope, hi)), 4), "log scale"),
        f"{key}_authorities": (len(table), "authorities"),
        f"{key}_rows": (int(len(fit.design.y)), "authority-years"),
        f"{key}_rows_missing": (int(fit.design.n_dropped), "authority-years suppressed"),
        f"{key}_above": (int(table["above_national"].sum()), "authorities"),
        f"{key}_below": (int(table["below_national"].sum()), "authorities"),
    }
    for _, row in shares.iterrows():
        extra[f"{key}_share_{row['component']}"] = (round(100 * row["share"], 1), "percent")
    # the national level in each year the model saw, beside the LA rows' pooled figure
    by_year = []
    for year in sorted(int(y) for y in rows["year"].unique()):
        e = fit.predict(national.assign(year_c=year - CENTRE_YEAR), kind="linear")[:, 0]
        v = scale * transform(e)
        known = rows[rows["year"] == year].dropna(subset=[response, trials])
        by_year.append(
            {
                "measure": key,
                "label": label,
                "unit": summary_row["unit"],
                "year": year,
                "national": float(np.mean(v)),
                "national_low": float(np.quantile(v, lo)),
                "national_high": float(np.quantile(v, hi)),
                "pooled": float(
                    (100 if key != "rate" else 1e4)
                    * known[response].astype(float).sum()
                    / known[trials].astype(float).sum()
                ),
                "authorities": int(known["authority"].nunique()),
            }
        )
    return tables, table, extra, summary_row, by_year


# -- sufficiency by region ----------------------------------------------------------------------
FOSTER = {
    "foster_places_approved": "Number of approved foster places",
    "foster_places_filled": "Number of filled places",
    "foster_places_vacant": "Number of vacant places",
    "foster_places_not_available": "Number of places not available",
}
HOMES = ("Children's home", "Secure children's home")


def _sufficiency(ctx, panel: pd.DataFrame) -> dict:
    """Ofsted's places by region beside the children the region's authorities placed."""
    fostering = datasets.ofsted_fostering(2019)
    foster = (
        fostering[fostering["measure"].isin(FOSTER.values())]
        .pivot_table(index="area", columns="measure", values="value", aggfunc="first")
        .rename(columns={v: k for k, v in FOSTER.items()})
    )
    ctx.table("foster_places_arithmetic", _foster_arithmetic(fostering))
    providers = datasets.ofsted_providers(2016)
    homes = providers[
        providers["provision_type"].isin(HOMES)
        | providers["provision_type"].str.contains("registered as a children's home")
    ]
    home_places = homes.groupby("region")["places"].sum()
    lac19 = panel[panel["year"] == 2019].groupby("region")
    lac16 = panel[panel["year"] == 2016].groupby("region")
    table = pd.DataFrame({"region": list(datasets.REGIONS)})
    for column in FOSTER:
        table[column] = table["region"].map(foster[column]).astype("Int64")
    table["fostered_children_2019"] = table["region"].map(lac19["foster"].sum()).astype("Int64")
    table["fostered_children_2019_suppressed"] = table["region"].map(
        lac19["foster_suppressed"].sum()
    )
    table["childrens_homes_places_2016"] = table["region"].map(home_places).astype("Int64")
    table["residential_children_2016"] = (
        table["region"].map(lac16["secure_homes_hostels"].sum()).astype("Int64")
    )
    table["residential_children_2016_suppressed"] = table["region"].map(
        lac16["secure_homes_hostels_suppressed"].sum()
    )
    table["homes_places_per_child"] = (
        table["childrens_homes_places_2016"] / table["residential_children_2016"]
    ).round(2)
    table["la_foster_places_per_fostered_child"] = (
        table["foster_places_approved"] / table["fostered_children_2019"]
    ).round(2)
    ctx.table("sufficiency_by_region", table)
    ctx.figure(
        "sufficiency_homes",
        plots.regional_sufficiency(
            table,
            places="childrens_homes_places_2016",
            children="residential_children_2016",
            title="Children's homes places (Ofsted, 31 March 2016) and children placed in "
            "homes, secure units and semi-independent living by the region's authorities",
        ),
    )
    se = table.set_index("region").loc["South East"]
    ranked = table.sort_values("homes_places_per_child", ascending=False)["region"].tolist()
    return {
        "south_east_homes_places_2016": (int(se["childrens_homes_places_2016"]), "places"),
        "south_east_residential_children_2016": (
            int(se["residential_children_2016"]),
            "children (sum of LA rows; suppressed cells omitted)",
        ),
        "south_east_homes_places_per_child": (float(se["homes_places_per_child"]), "ratio"),
        "homes_places_per_child_highest_region": (ranked[0], "region"),
        "homes_places_per_child_lowest_region": (ranked[-1], "region"),
        "south_east_homes_places_rank": (ranked.index("South East") + 1, "of 9 regions"),
        "england_homes_places_2016": (int(table["childrens_homes_places_2016"].sum()), "places"),
        "england_residential_children_2016": (
            int(table["residential_children_2016"].sum()),
            "children (sum of LA rows)",
        ),
    }


#: Ofsted rounds every count to the nearest 5: four rounded figures of one service can
#: differ by up to 7.5 places from exact arithmetic (three parts against their total)
ROUNDING_SLACK = 7.5


def _foster_arithmetic(fostering: pd.DataFrame) -> pd.DataFrame:
    """Approved foster places against filled + vacant + not available, by region and for
    England, with where the gap arises: how many of the region's fostering services report
    figures whose own parts do not add up, beyond what rounding to 5 explains."""
    places = fostering[fostering["measure"].isin(FOSTER.values())]
    wide = places.pivot_table(
        index="area", columns="measure", values="value", aggfunc="first", sort=False
    ).rename(columns={v: k for k, v in FOSTER.items()})
    parts = ["foster_places_filled", "foster_places_vacant", "foster_places_not_available"]
    wide["parts"] = wide[parts].sum(axis=1, min_count=len(parts))
    wide["difference"] = wide["foster_places_approved"] - wide["parts"]
    # the file lists each region's services after the region: a service's region is the
    # last region above it
    region, regions = None, {}
    for area in wide.index:
        region = area if area in datasets.REGIONS else region
        regions[area] = region
    services = wide[[a not in datasets.REGIONS and a != "England" for a in wide.index]]
    services = services.assign(region=[regions[a] for a in services.index])
    rows = []
    for area in (*datasets.REGIONS, "England"):
        mine = services if area == "England" else services[services["region"] == area]
        known = mine.dropna(subset=["difference"])
        rows.append(
            {
                "area": area,
                "approved": wide.loc[area, "foster_places_approved"],
                "parts": wide.loc[area, "parts"],
                "difference": wide.loc[area, "difference"],
                "services": len(mine),
                "services_reporting": len(known),
                "services_more_approved": int((known["difference"] > ROUNDING_SLACK).sum()),
                "services_fewer_approved": int((known["difference"] < -ROUNDING_SLACK).sum()),
                "services_difference": known["difference"].sum(),
            }
        )
    return pd.DataFrame(rows)
