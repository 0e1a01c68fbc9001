"""The packaged releases and their loaders, behind :mod:`lacstats.datasets`.

Every name here is public through ``lacstats.datasets``; ``_panel.py`` builds on the raw
loaders (:func:`raw_dfe`, :data:`MISSING_MARKS`).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from lacstats.errors import DataError

__all__ = [
    "ATTRIBUTION",
    "DFE_COLUMNS",
    "FRAME_POPULATIONS",
    "INNER_LONDON",
    "PUBLISHED_SETTING_LABELS",
    "REGIONS",
    "SOUTH_EAST",
    "authorities",
    "authority_frame",
    "data_path",
    "dfe_cla",
    "english_authorities",
    "ofsted_fostering",
    "ofsted_providers",
    "ons_population",
    "published_findings",
    "region_of",
    "short_code",
    "south_east_authorities",
]

#: The Open Government Licence attribution the packaged DfE releases require.
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(DfE, Children looked after in England including adoption, LA-level underlying data)."
)

_DFE_FILES = {
    2015: "SFR34_CLA2015.csv",
    2016: "SFR41_CLA2016.csv",
    2017: "SFR50_CLA2017.csv",
    2018: "CLA2018_DfE_underlying.csv",
    2019: "CLA2019_DfE_underlying.csv",
}
# DfE symbols: x (to 2018) and c (from 2019) suppressed; "." not applicable; ".." not available; "-" negligible/none
MISSING_MARKS = {
    "x": "suppressed",
    "c": "suppressed",
    ".": "not_available",
    "..": "not_available",
    "-": "not_available",
    "": "missing",
}

#: The 19 authorities of the South East Complex LAC project (Evans, SESLIP 2020) and their type.
SOUTH_EAST: dict[str, str] = {
    "Bracknell Forest": "Unitary",
    "Brighton and Hove": "Unitary",
    "Buckinghamshire": "County",
    "East Sussex": "County",
    "Hampshire": "County",
    "Isle of Wight": "Unitary",
    "Kent": "County",
    "Medway": "Unitary",
    "Milton Keynes": "Unitary",
    "Oxfordshire": "County",
    "Portsmouth": "Unitary",
    "Reading": "Unitary",
    "Slough": "Unitary",
    "Southampton": "Unitary",
    "Surrey": "County",
    "West Berkshire": "Unitary",
    "West Sussex": "County",
    "Windsor and Maidenhead": "Unitary",
    "Wokingham": "Unitary",
}

#: The nine English regions, as the DfE and Ofsted releases name them.
REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)

#: The London boroughs the DfE releases total as "Inner London" (the rest of London is
#: "Outer London"): the statistical definition, NUTS 2 regions Inner London - West (UKI3)
#: and Inner London - East (UKI4) of the 2016 NUTS (ONS, "International geographies"),
#: which has Haringey and Newham inner and Greenwich outer (the London Government Act 1963
#: has it the other way round). The sums of these boroughs' rows match the releases' Inner and
#: Outer London totals of 2015-2019 within their rounding; the statutory ones do not (tested).
INNER_LONDON: frozenset[str] = frozenset(
    {
        "Camden",
        "City of London",
        "Hackney",
        "Hammersmith and Fulham",
        "Haringey",
        "Islington",
        "Kensington and Chelsea",
        "Lambeth",
        "Lewisham",
        "Newham",
        "Southwark",
        "Tower Hamlets",
        "Wandsworth",
        "Westminster",
    }
)

#: DfE column -> tidy name, for every release 2015-2019: the one place where the releases'
#: different names meet (boundary columns were CLA_InBound and CLA_Outbound to 2017, then
#: CLA_InLA and CLA_OutLA; the UASC column gained the year in 2018; distance bands from 2017).
DFE_COLUMNS: dict[str, str] = {
    "CLA_U1": "lac_under_1",
    "CLA_1to4": "lac_1_4",
    "CLA_5to9": "lac_5_9",
    "CLA_10to15": "lac_10_15",
    "CLA_16over": "lac_16_over",
    "CLA_UASC": "uasc",
    "CLA_Fost": "foster",
    "CLA_Adopt": "placed_for_adoption",
    "CLA_Parent": "with_parents",
    "CLA_Ocom": "other_community",
    "CLA_Secure": "secure_homes_hostels",
    "CLA_Ores": "other_residential",
    "CLA_RSch": "residential_school",
    "CLA_OthPl": "other_placement",
    "CLA_OwnP": "provider_own",
    "CLA_OthLA": "provider_other_la",
    "CLA_OthPP": "provider_other_public",
    "CLA_Priv": "provider_private",
    "CLA_Vol": "provider_voluntary",
    "CLA_Par": "provider_parents_friends",
    "CLA_Nrep": "provider_not_recorded",
    "CLA_InBound": "placed_inside_boundary",
    "CLA_Outbound": "placed_outside_boundary",
    "CLA_InLA": "placed_inside_boundary",
    "CLA_OutLA": "placed_outside_boundary",
    "CLA_InLA_LTE20": "inside_within_20_miles",
    "CLA_OutLA_LTE20": "outside_within_20_miles",
    "CLA_InLA_GT20": "inside_over_20_miles",
    "CLA_OutLA_GT20": "outside_over_20_miles",
    "CLA_InLA_NoInfo": "inside_distance_unknown",
    "CLA_OutLA_NoInfo": "outside_distance_unknown",
    "CLA_LTE20": "within_20_miles",
    "CLA_GT20": "over_20_miles",
    "CLA_NoInfo": "distance_unknown",
}

#: The population columns of :func:`authority_frame` that can be a sampling frame, in
#: words (children looked after at 31 March of the release's year).
FRAME_POPULATIONS: dict[str, str] = {
    "lac_total": "all children looked after",
    "lac_under_1": "children looked after aged under 1",
    "lac_1_4": "children looked after aged 1 to 4",
    "lac_5_9": "children looked after aged 5 to 9",
    "lac_10_15": "children looked after aged 10 to 15",
    "lac_16_over": "children looked after aged 16 and over",
    "lac_10_plus": "children looked after aged 10 and over",
}


def data_path(name: str) -> resources.abc.Traversable:
    """The packaged data file ``name`` (under ``lacstats/datasets/data``).

    Examples
    --------
    >>> from lacstats import datasets
    >>> datasets.data_path("SFR50_CLA2017.csv").name
    'SFR50_CLA2017.csv'
    """
    path = resources.files("lacstats.datasets") / "data" / name
    if not path.is_file():
        raise DataError(f"no packaged data file {name!r}")
    return path


def _packaged_csv(files: dict[int, str], year: int, what: str, **read) -> pd.DataFrame:
    """A packaged release (Latin-1 text, as published) as strings, by year."""
    if year not in files:
        raise DataError(
            f"argument 'year': no {what} file for {year!r}; packaged years: "
            f"{', '.join(map(str, files))}",
            column="year",
        )
    from io import StringIO

    with data_path(files[year]).open("rb") as handle:
        text = handle.read().decode("latin-1")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, **read)


@cache
def raw_dfe(year: int) -> pd.DataFrame:
    return _packaged_csv(_DFE_FILES, year, "DfE children looked after")


def dfe_cla(year: int = 2017, *, form: str = "long") -> pd.DataFrame:
    """The whole DfE children looked after LA-level file of ``year`` (31 March).

    ``form="long"`` (tidy): one row per geography and measure, columns ``level``
    (NATIONAL, REGION, LA), ``la_code`` (ONS code), ``area``, ``measure`` (the DfE column
    name), ``value`` (float, missing where suppressed or not available), ``suppressed``
    (True where the release printed ``x`` or ``c``: a small count or a secondary
    suppression)
    and ``status`` (``value``, ``suppressed``, ``not_available``, ``missing``).
    ``form="wide"``: one row per geography, measures as float columns.

    Examples
    --------
    >>> from lacstats import datasets
    >>> cla = datasets.dfe_cla(2017)
    >>> cla.loc[cla["area"] == "ENGLAND", ["measure", "value"]].head(2)
             measure     value
    0    CLA_Mar2017   72670.0
    163     CLA_2017  102590.0
    """
    raw = raw_dfe(year)
    ids = {"New_geog_code": "la_code", "geog_l": "level", "geog_n": "area"}
    raw = raw[raw["geog_l"].str.strip() != ""]
    measures = [c for c in raw.columns if c not in (*ids, "LA_order", "geog_c")]
    long = raw.rename(columns=ids).melt(
        id_vars=["la_code", "level", "area"],
        value_vars=measures,
        var_name="measure",
        value_name="text",
    )
    text = long["text"].str.strip().str.replace(",", "", regex=False)
    long["status"] = text.map(MISSING_MARKS).fillna("value")
    long["value"] = pd.to_numeric(text.where(long["status"] == "value"), errors="coerce")
    bad = (long["status"] == "value") & long["value"].isna()
    if bad.any():
        row = long[bad].iloc[0]
        raise DataError(
            f"DfE {year} file: unreadable value {row['text']!r} for {row['area']}",
            column=row["measure"],
        )
    long["suppressed"] = long["status"] == "suppressed"
    long = long.drop(columns="text")[
        ["level", "la_code", "area", "measure", "value", "suppressed", "status"]
    ]
    if form == "long":
        return long.reset_index(drop=True)
    if form == "wide":
        wide = long.pivot(index=["level", "la_code", "area"], columns="measure", values="value")
        return wide[measures].reset_index().rename_axis(columns=None)
    raise DataError(f"argument 'form': expected 'long' or 'wide', got {form!r}", column="form")


@cache
def _authority_table() -> pd.DataFrame:
    with data_path("authorities.csv").open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype={"dfe_number": str})


def authorities() -> pd.DataFrame:
    """Every English local authority of the DfE releases 2015-2019, one row per name and
    ONS code: ``la_code``, ``authority`` (the DfE's name), ``region``, ``authority_type``,
    ``dfe_number`` (the DfE's three-digit LA number), the ``first_year`` and
    ``last_year`` of the releases that use that name and code, and ``short``: a
    three-letter code unique to the authority (``KEN`` for Kent), lacstats's own, for
    pseudonymous case identifiers such as ``KEN-001``.

    Three authorities appear twice: Gateshead and Northumberland changed ONS codes in
    2018, and Bedford became "Bedford Borough" in 2019. Regions are those under which
    Ofsted's "Fostering in England 2018-19" LA-level data list each authority.
    ``authority_type`` is ``County`` for shire counties (ONS codes E10) and ``Unitary``
    for unitary authorities, metropolitan districts and London boroughs.

    Examples
    --------
    >>> from lacstats import datasets
    >>> table = datasets.authorities()
    >>> table.loc[table["authority"] == "Kent", ["la_code", "authority", "region", "short"]]
          la_code authority      region short
    97  E10000016      Kent  South East   KEN
    """
    return _authority_table().copy()


def short_code(authority: str) -> str:
    """The three-letter code of an authority's name (:func:`authorities`).

    Examples
    --------
    >>> from lacstats import datasets
    >>> datasets.short_code("Kent"), datasets.short_code("Brighton and Hove")
    ('KEN', 'BHO')
    """
    table = _authority_table()
    found = table.loc[table["authority"] == authority, "short"]
    if found.empty:
        raise DataError(f"unknown authority {authority!r}", column="authority", values=[authority])
    return str(found.iloc[0])


def english_authorities() -> pd.DataFrame:
    """English local authorities of the DfE releases 2015-2019. Columns: ``authority``,
    ``la_code``, ``authority_type`` and ``region`` (see :func:`authorities`).

    Examples
    --------
    >>> from lacstats import datasets
    >>> english = datasets.english_authorities()
    >>> len(english) > 140, english.columns.tolist()
    (True, ['authority', 'la_code', 'authority_type', 'region'])
    """
    table = _authority_table().sort_values(["authority", "last_year"], kind="stable")
    return table[["authority", "la_code", "authority_type", "region"]].reset_index(drop=True)


def region_of(name: str) -> str:
    """The region's name as the releases write it, for any capitalisation, "and The"
    or "and the", or the ONS code (E12000001-E12000009).

    Examples
    --------
    >>> from lacstats import datasets
    >>> datasets.region_of("yorkshire and the humber")
    'Yorkshire and The Humber'
    """
    wanted = " ".join(str(name).split()).lower().replace(" and the ", " and ")
    for code, region in enumerate(REGIONS, start=1):
        if wanted in (region.lower().replace(" and the ", " and "), f"e1200000{code}"):
            return region
    raise DataError(
        f"unknown region {name!r}; regions: {', '.join(REGIONS)}", column="region", values=[name]
    )


def authority_frame(year: int = 2017, authorities: Any = None) -> pd.DataFrame:
    """The looked-after children of each authority at 31 March ``year``, from that year's
    DfE release, under one set of column names whatever the year.

    ``authorities`` is a list of names or ONS codes (default: every authority in the
    release). Columns: ``authority``, ``la_code``, ``authority_type``, ``region``,
    ``lac_total`` (looked after at 31 March), the age bands (``lac_under_1`` ...
    ``lac_10_15``, ``lac_16_over``) and ``lac_10_plus`` (their sum for 10 and over: the
    South East project's sampling frame), ``uasc``, the placement types, the providers
    (from 2015) and the boundary and distance columns (distance bands from 2017), as
    nullable integers: missing where the release suppressed or did not publish a count
    (:data:`DFE_COLUMNS` maps the release's names).

    Examples
    --------
    >>> from lacstats import datasets
    >>> frame = datasets.authority_frame(2017, ["Kent", "Medway"])
    >>> frame[["authority", "authority_type", "lac_total", "lac_10_plus"]]
      authority authority_type  lac_total  lac_10_plus
    0      Kent         County       1898         1456
    1    Medway        Unitary        390          228
    """
    wide = dfe_cla(year, form="wide")
    wide = wide[wide["level"] == "LA"]
    if authorities is not None:
        wanted = [str(a) for a in authorities]
        chosen = wide["area"].isin(wanted) | wide["la_code"].isin(wanted)
        found = set(wide.loc[chosen, "area"]) | set(wide.loc[chosen, "la_code"])
        absent = [a for a in wanted if a not in found]
        if absent:
            raise DataError(
                f"DfE {year} file lacks authorities: {absent}", column="authority", values=absent
            )
        wide = wide[chosen]
    known = _authority_table().drop_duplicates(["authority", "la_code"])
    info = wide[["area", "la_code"]].merge(
        known, left_on=["area", "la_code"], right_on=["authority", "la_code"], how="left"
    )
    out = pd.DataFrame(
        {
            "authority": wide["area"].to_numpy(),
            "la_code": wide["la_code"].to_numpy(),
            "authority_type": info["authority_type"].to_numpy(),
            "region": info["region"].to_numpy(),
            "lac_total": wide[f"CLA_Mar{year}"].to_numpy(),
        }
    )
    uasc = f"CLA_UASC{year}" if f"CLA_UASC{year}" in wide else "CLA_UASC"
    for dfe, name in {**DFE_COLUMNS, uasc: "uasc"}.items():
        if dfe in wide and name not in out:
            out[name] = wide[dfe].to_numpy()
    out["lac_10_plus"] = out["lac_10_15"] + out["lac_16_over"]
    ids = ["authority", "la_code", "authority_type", "region"]
    counts = [c for c in out.columns if c not in ids]
    out[counts] = out[counts].round().astype("Int64")
    ages = ["lac_under_1", "lac_1_4", "lac_5_9", "lac_10_15", "lac_16_over", "lac_10_plus"]
    first = ["lac_total", *ages, "uasc"]
    ordered = [*ids, *first, *[c for c in counts if c not in first]]
    return out[ordered].sort_values("authority").reset_index(drop=True)


def south_east_authorities(year: int = 2017) -> pd.DataFrame:
    """The 19 South East authorities of the Complex LAC project: :func:`authority_frame`
    for ``year`` restricted to :data:`SOUTH_EAST`. Columns: those of
    :func:`authority_frame` but ``region``, from ``authority``, ``la_code`` and
    ``authority_type`` to ``lac_10_plus`` and the placement counts.

    Examples
    --------
    >>> from lacstats import datasets
    >>> frame = datasets.south_east_authorities(2017)
    >>> len(frame), int(frame["lac_10_plus"].sum())
    (19, 6557)
    """
    return authority_frame(year, list(SOUTH_EAST)).drop(columns="region")


@cache
def _findings() -> dict[str, Any]:
    with data_path("published_findings.toml").open("rb") as handle:
        return tomllib.load(handle)


#: The residential settings as the South East project's tables label them, to the case
#: table's codes (:mod:`lacstats.schema`).
PUBLISHED_SETTING_LABELS = {
    "LA own residential": "residential_la_own",
    "Other LA residential": "residential_other_la",
    "Private/Voluntary residential": "residential_private",
}


def published_findings() -> dict[str, Any]:
    """The figures published in the seed documents, each table naming its source file.

    Examples
    --------
    >>> from lacstats import datasets
    >>> published = datasets.published_findings()
    >>> "high_cost_residential" in published, "sources" in published
    (True, True)
    """
    import copy

    return copy.deepcopy(_findings())


_OFSTED_FOSTERING = {2019: "Ofsted_LA_level_fostering_data_2018_to_2019.csv"}


@cache
def _raw_ofsted(year: int) -> pd.DataFrame:
    return _packaged_csv(_OFSTED_FOSTERING, year, "Ofsted fostering", header=None)


def ofsted_fostering(year: int = 2019) -> pd.DataFrame:
    """Ofsted's fostering in England data for the year to 31 March ``year``, tidy.

    One row per area and measure: ``topic``, ``subtopic``, ``measure`` (the file's three
    label columns, carried down), ``area`` (England, a region or a local authority),
    ``value`` (missing where not published) and ``status``. Region and LA columns cover
    local authority fostering services; Ofsted rounds counts to the nearest 5.

    Examples
    --------
    >>> from lacstats import datasets
    >>> fostering = datasets.ofsted_fostering(2019)
    >>> sorted(fostering.columns)[:4]
    ['area', 'measure', 'status', 'subtopic']
    """
    raw = _raw_ofsted(year)
    areas = raw.iloc[0, 3:].str.strip()
    rows = []
    topic = subtopic = ""
    for r in range(1, len(raw)):
        labels = [raw.iloc[r, c].strip() for c in range(3)]
        topic = labels[0] or topic
        subtopic = labels[1] or subtopic
        if not labels[2]:
            continue
        for offset, area in enumerate(areas):
            if not area:
                continue
            text = raw.iloc[r, 3 + offset].strip().replace(",", "")
            status = MISSING_MARKS.get(text, "value")
            rows.append(
                {
                    "topic": topic,
                    "subtopic": subtopic,
                    "measure": labels[2],
                    "area": area,
                    "text": text,
                    "status": status,
                }
            )
    tidy = pd.DataFrame(rows)
    tidy["value"] = pd.to_numeric(tidy["text"].where(tidy["status"] == "value"), errors="coerce")
    return tidy.drop(columns="text")


_OFSTED_PROVIDERS = {2016: "Ofsted_providers_at_31_Mar_2016.csv"}


def ofsted_providers(year: int = 2016) -> pd.DataFrame:
    """Ofsted's children's social care providers and places at 31 March ``year``
    (provider level; names and addresses redacted in the release). Columns: ``urn``,
    ``provision_type`` (``Children's home``, ``Secure children's home``, ``Independent
    Fostering Agency``, ...; the release's own spelling, trimmed, "Children's Home" read as
    "Children's home"), ``registration_status``, ``region`` (Government Office Region),
    ``local_authority`` (where the provider is), ``sector`` and ``places`` (nullable
    integer; missing where the release gives none, e.g. agencies).

    Examples
    --------
    >>> from lacstats import datasets
    >>> providers = datasets.ofsted_providers(2016)
    >>> homes = providers[providers["provision_type"] == "Children's home"]
    >>> len(homes), int(homes["places"].sum())
    (1884, 8518)
    """
    raw = _packaged_csv(_OFSTED_PROVIDERS, year, "Ofsted providers", header=1)
    raw.columns = [c.strip().lstrip("\ufeff") for c in raw.columns]
    raw = raw[raw["URN"].str.strip() != ""]
    out = pd.DataFrame(
        {
            "urn": raw["URN"].str.strip(),
            "provision_type": raw["Provision type"]
            .str.strip()
            .replace({"Children's Home": "Children's home"}),
            "registration_status": raw["Registration status"].str.strip(),
            "region": raw["Government Office Region"].str.strip(),
            "local_authority": raw["Local authority"].str.strip(),
            "sector": raw["Sector"].str.strip(),
        }
    )
    places = raw["Places"].str.strip()
    numbers = pd.to_numeric(places.where(places != ""), errors="coerce")
    if (numbers.isna() & (places != "")).any():
        bad = raw.loc[numbers.isna() & (places != ""), "URN"].iloc[0]
        raise DataError(
            f"Ofsted providers {year}: unreadable places for URN {bad}", column="Places"
        )
    out["places"] = numbers.astype("Int64")
    return out.reset_index(drop=True)


_ONS_FILES = {
    2019: "ONS_MYE_population19_utla19_single_year_of_age_via_demographr.csv",
    2020: "ONS_MYE_population20_utla20_single_year_of_age_via_demographr.csv",
}


@cache
def _raw_ons(year: int) -> pd.DataFrame:
    return _packaged_csv(_ONS_FILES, year, "ONS mid-year population")


def ons_population(year: int = 2019, *, ages: tuple[int, int] | None = None) -> pd.DataFrame:
    """ONS mid-``year`` population estimates (MYE2, persons) by single year of age for the
    upper-tier local authorities of England and Wales (Crown copyright, OGL v3.0).

    Columns ``la_code``, ``authority`` and ``age_0`` ... ``age_89``, ``age_90_plus``,
    ``total``; with ``ages=(lo, hi)``, a ``population`` column sums the single years
    ``lo`` to ``hi`` inclusive (``(10, 17)``: the ages of looked-after children of 10+).

    Examples
    --------
    >>> from lacstats import datasets
    >>> population = datasets.ons_population(2019, ages=(10, 17))
    >>> population.loc[population["authority"] == "Kent", ["la_code", "population"]]
           la_code  population
    132  E10000016    152528.0
    """
    raw = _raw_ons(year)
    out = pd.DataFrame({"la_code": raw.iloc[:, 0], "authority": raw.iloc[:, 1]})
    out["total"] = pd.to_numeric(raw["total_population"])
    for column in raw.columns[3:]:
        name = "age_90_plus" if column == "90+" else f"age_{column}"
        out[name] = pd.to_numeric(raw[column])
    if ages is not None:
        lo, hi = ages
        if not 0 <= lo <= hi <= 89:
            raise DataError(f"ages must be 0 <= lo <= hi <= 89, got {ages!r}", column="ages")
        out["population"] = out[[f"age_{a}" for a in range(lo, hi + 1)]].sum(axis=1)
    return out
