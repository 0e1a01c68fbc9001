"""The national panel: every English authority in every DfE release 2015-2019, one row per
authority and year, under one set of column names.

Identity across years is the DfE's three-digit LA number (``la_number``): Gateshead and
Northumberland changed ONS codes in 2018 and Bedford became "Bedford Borough" in 2019, but
each keeps its number. ``authority`` is the latest name the releases use; ``la_code`` and
``authority_published`` are as that year's release printed them.

The 2019 reorganisation in Dorset: Bournemouth, Christchurch and Poole (BCP) and the new
Dorset council replaced Bournemouth, Poole and Dorset county on 1 April 2019, the day after
the 2019 release's reference date (31 March 2019). Every release here therefore counts the
old three authorities, and the panel keeps them as published; BCP and the new Dorset first
appear in the 2020 release, which is not packaged. Nothing is re-apportioned.

The Isles of Scilly: the 2015-2018 releases print no LA row for it (the 2017 file has an
unlabelled row of zeros); the 2019 release gives its series for 2015-2019 (0 looked after
each year) and its population, which the panel uses for ``lac_total`` and
``population_under_18`` in every year (``published_in`` says which release a row's counts
come from). Its other counts are missing (not published) before 2019.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from lacstats.datasets import _releases as _ds
from lacstats.errors import DataError

PANEL_YEARS = (2015, 2016, 2017, 2018, 2019)

#: Counts built from the release's own columns: name -> the parts they sum.
DERIVED = {
    "residential_care": ("secure_homes_hostels", "other_residential"),
    "within_20_miles": ("inside_within_20_miles", "outside_within_20_miles"),
    "over_20_miles": ("inside_over_20_miles", "outside_over_20_miles"),
    "distance_unknown": ("inside_distance_unknown", "outside_distance_unknown"),
}

_IDS = [
    "year",
    "la_number",
    "authority",
    "authority_published",
    "la_code",
    "region",
    "authority_type",
    "published_in",
]


def _status(year: int) -> pd.DataFrame:
    """Per LA row and tidy measure: True where the release suppressed the cell."""
    long = _ds.dfe_cla(year)
    long = long[long["level"] == "LA"]
    names = {**_ds.DFE_COLUMNS, f"CLA_Mar{year}": "lac_total", f"CLA_UASC{year}": "uasc"}
    long = long[long["measure"].isin(names)].assign(name=lambda f: f["measure"].map(names))
    return long.pivot_table(
        index="la_code", columns="name", values="suppressed", aggfunc="any"
    ).astype(bool)


@cache
def _population() -> pd.DataFrame:
    """Population under 18 and the rate per 10,000 by LA number and year, from the 2019
    release: its five population columns (headed CLA_Pop2014 ... CLA_Pop2018) stand beside
    CLA_Rate2015 ... CLA_Rate2019 in that order, and each is the denominator of the rate
    beside it (the 2018 release heads the same numbers CLA_Pop2015 ... CLA_Pop2018)."""
    raw = _ds.raw_dfe(2019)
    raw = raw[raw["geog_l"].str.strip() == "LA"]
    pops = [c for c in raw.columns if c.startswith("CLA_Pop")]
    rates = [c for c in raw.columns if c.startswith("CLA_Rate")]
    counts = [f"CLA_Mar{y}" for y in PANEL_YEARS]
    rows = []
    for year, pop, rate, count in zip(PANEL_YEARS, pops, rates, counts, strict=True):
        rows.append(
            pd.DataFrame(
                {
                    "la_number": raw["geog_c"].str.strip().to_numpy(),
                    "year": year,
                    "population_under_18": _number(raw[pop]),
                    "lac_rate_published": _number(raw[rate]),
                    "lac_total_2019_release": _number(raw[count]),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _number(text: pd.Series) -> np.ndarray:
    cleaned = text.str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned.where(~cleaned.isin(list(_ds.MISSING_MARKS))), errors="coerce")


def _year_rows(year: int) -> pd.DataFrame:
    frame = _ds.authority_frame(year)
    status = _status(year)
    known = _ds.authorities()
    numbers = known.set_index(["authority", "la_code"])["dfe_number"]
    frame.insert(0, "year", year)
    keys = pd.MultiIndex.from_frame(frame[["authority", "la_code"]])
    frame.insert(1, "la_number", numbers.reindex(keys).to_numpy())
    counts = [c for c in frame.columns if c not in _IDS]
    for column in counts:
        flags = status[column] if column in status else pd.Series(dtype=bool)
        frame[f"{column}_suppressed"] = frame["la_code"].map(flags.to_dict()).eq(True)
    frame["lac_10_plus_suppressed"] = (
        frame["lac_10_15_suppressed"] | frame["lac_16_over_suppressed"]
    )
    frame["published_in"] = year
    return frame


def national_panel(years=range(2015, 2020)) -> pd.DataFrame:
    """Children looked after at 31 March by authority and year (DfE releases 2015-2019):
    one row per authority and year, 152 authorities a year.

    Identity columns: ``year``, ``la_number`` (the DfE LA number; one id across the code changes of Gateshead
    and Northumberland and Bedford's renaming), ``authority`` (latest name),
    ``authority_published`` and ``la_code`` (as that year's release printed them),
    ``region``, ``authority_type``, ``published_in`` (the release of the row's counts).

    Count columns (nullable integers; missing where the release suppressed a cell, ``x`` or ``c``,
    or did not publish it): those of :func:`lacstats.datasets.authority_frame` (total, age
    bands, UASC, placement types, providers, boundary), ``residential_care``
    (``secure_homes_hostels`` + ``other_residential``: secure units, children's homes,
    semi-independent living and other residential settings), the distance bands
    ``within_20_miles``, ``over_20_miles``, ``distance_unknown`` (from 2017; the 2018 and
    2019 releases print them, the 2017 release's inside/outside parts are summed) and
    ``distance_known`` (within + over). Each count ``c`` has a boolean ``c_suppressed``,
    True where the release suppressed it (or any part of a sum): suppressed cells are
    never zero.

    Population: ``population_under_18`` is the ONS mid-year estimate of children aged 0-17
    that DfE divides by for its rate at 31 March of that year, and ``lac_rate_published``
    that rate per 10,000, and ``lac_total_revised`` the count of that rate: all three from
    the 2019 release's series for 2015-2019, in which DfE revised some earlier counts
    (``lac_total`` is as first published; the two differ for a few authorities a year).
    ``lac_total_revised / population_under_18 * 10,000`` rounds to the published rate for
    every authority and year.

    The Dorset, Bournemouth and Poole reorganisation took effect on 1 April 2019, the day
    after the 2019 release's reference date, so every release here counts the old three
    authorities and the panel keeps them as published (BCP and the new Dorset first appear
    in the 2020 release, not packaged); nothing is re-apportioned. The Isles of Scilly
    have no LA row in the 2015-2018 releases; the 2019 release gives their series for
    2015-2019 (0 looked after each year) and population, used for ``lac_total`` and
    ``population_under_18`` in every year (``published_in`` says which release a row's
    counts come from); their other counts are missing before 2019.

    Examples
    --------
    >>> from lacstats import datasets
    >>> panel = datasets.national_panel()
    >>> panel.groupby("year").size().tolist()
    [152, 152, 152, 152, 152]
    >>> panel.loc[(panel["authority"] == "Kent") & (panel["year"] == 2017), ["la_number", "la_code", "lac_total"]]
        la_number    la_code  lac_total
    366       886  E10000016       1898
    """
    years = tuple(int(y) for y in years)
    bad = [y for y in years if y not in PANEL_YEARS]
    if bad or not years:
        raise DataError(
            f"argument 'years': the panel covers {PANEL_YEARS[0]}-{PANEL_YEARS[-1]}; "
            f"got {list(years)}",
            column="years",
            values=bad,
        )
    return _panel(years).copy()


@cache
def _panel(years: tuple[int, ...]) -> pd.DataFrame:
    frames = [_year_rows(year) for year in years]
    panel = pd.concat(frames, ignore_index=True)
    panel = _add_missing_scilly(panel, years)
    for name, parts in DERIVED.items():
        total = panel[list(parts)].sum(axis=1, min_count=len(parts)).astype("Int64")
        total[panel[list(parts)].isna().any(axis=1)] = pd.NA
        flag = panel[[f"{p}_suppressed" for p in parts]].any(axis=1)
        if name in panel:  # printed by the 2018 and 2019 releases: keep theirs
            printed = panel[name].notna()
            panel[name] = panel[name].where(printed, total)
            panel[f"{name}_suppressed"] = panel[f"{name}_suppressed"].eq(True).where(printed, flag)
        else:
            panel[name] = total
            panel[f"{name}_suppressed"] = flag
    panel["distance_known"] = panel["within_20_miles"] + panel["over_20_miles"]
    panel["distance_known_suppressed"] = (
        panel["within_20_miles_suppressed"] | panel["over_20_miles_suppressed"]
    )
    population = _population()
    panel = panel.merge(population, on=["la_number", "year"], how="left", validate="one_to_one")
    panel = panel.rename(columns={"lac_total_2019_release": "lac_total_revised"})
    latest = _ds.authorities().sort_values("last_year").drop_duplicates("dfe_number", keep="last")
    panel["authority_published"] = panel["authority"]
    panel["authority"] = panel["la_number"].map(latest.set_index("dfe_number")["authority"])
    counts = [c for c in panel.columns if c not in _IDS and not c.endswith("_suppressed")]
    counts = [c for c in counts if c not in ("population_under_18", "lac_rate_published")]
    counts = [c for c in counts if c != "lac_total_revised"]
    flags = [f"{c}_suppressed" for c in counts]
    for flag in flags:
        panel[flag] = panel[flag].eq(True)
    panel[counts] = panel[counts].astype("Int64")
    panel["population_under_18"] = panel["population_under_18"].astype("Int64")
    panel["lac_rate_published"] = panel["lac_rate_published"].astype("Int64")
    panel["lac_total_revised"] = panel["lac_total_revised"].astype("Int64")
    rates = ["lac_total_revised", "population_under_18", "lac_rate_published"]
    ordered = [*_IDS, *counts, *rates, *flags]
    return panel[ordered].sort_values(["year", "authority"], kind="stable").reset_index(drop=True)


def _add_missing_scilly(panel: pd.DataFrame, years: tuple[int, ...]) -> pd.DataFrame:
    """The Isles of Scilly's rows for years whose release has no LA row for it: its total
    from the 2019 release's series (0 each year), other counts missing."""
    scilly = _ds.authorities().query("authority == 'Isles of Scilly'").iloc[0]
    series = _population().set_index(["la_number", "year"])["lac_total_2019_release"]
    rows = []
    for year in years:
        if ((panel["year"] == year) & (panel["la_number"] == scilly["dfe_number"])).any():
            continue
        rows.append(
            {
                "year": year,
                "la_number": scilly["dfe_number"],
                "authority": scilly["authority"],
                "la_code": scilly["la_code"],
                "region": scilly["region"],
                "authority_type": scilly["authority_type"],
                "published_in": 2019,
                "lac_total": series[(scilly["dfe_number"], year)],
            }
        )
    if not rows:
        return panel
    extra = pd.DataFrame(rows).astype({"lac_total": "Int64"})
    return pd.concat([panel, extra], ignore_index=True)
