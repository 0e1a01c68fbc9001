"""The case table of the children looked after on a census date, from a cleaned return."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from lacstats import costs, schema
from lacstats.errors import DataError
from lacstats.results import Result, jsonable
from lacstats.ssda903._cleaning import CONTINUES_PLACEMENT, Cleaned, clean
from lacstats.ssda903._codes import placement_settings, provider_groups
from lacstats.ssda903._reading import Return, from_frames
from lacstats.units import DAYS_PER_MONTH

__all__ = [
    "DEFAULT_AUTHORITY",
    "DISTANCE_UNKNOWN",
    "CaseTable",
    "age_in_years",
    "case_table",
    "child_values",
    "episode_attributes",
    "episode_table",
    "need_group",
    "to_cases",
]

#: PL_DISTANCE when the placement postcode is unknown or outside England.
DISTANCE_UNKNOWN = 999.9
#: A child who is placed with a provider not expected for the placement: no provider group.
_NO_PROVIDER = "N/A"
#: SEX as the return writes it (1 and 2 to 2023-24; M, F and U from 2024-25) to the case
#: table's sex (U, unknown, is missing).
SEXES = {"1": "male", "2": "female", "M": "male", "F": "female"}
#: The authority of returns that do not name theirs, unless ``authority=`` says.
DEFAULT_AUTHORITY = "Synthetic authority"


def _map_settings(place: pd.Series, provider: pd.Series) -> pd.DataFrame:
    """Placement setting, type and registration of each PLACE and PLACE_PROVIDER pair
    (each distinct pair looked up once)."""
    table = placement_settings()
    exact = table[table["PLACE_PROVIDER"] != "*"].set_index(["PLACE", "PLACE_PROVIDER"])
    fallback = table[table["PLACE_PROVIDER"] == "*"].set_index("PLACE")
    pairs = pd.DataFrame({"place": place.to_numpy(object), "provider": provider.to_numpy(object)})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(pairs))
    distinct = pd.DataFrame(list(uniques), columns=["place", "provider"])
    keys = pd.MultiIndex.from_frame(distinct)
    out = {}
    for column in ("placement_setting", "placement_type", "registered"):
        by_pair = pd.Series(exact[column].reindex(keys).to_numpy(), dtype=object)
        by_place = distinct["place"].map(fallback[column]).astype(object)
        found = by_pair.where(by_pair.notna(), by_place).to_numpy(dtype=object)
        out[column] = np.append(found, None)[codes]
    frame = pd.DataFrame(out, index=place.index)
    unmapped = frame["placement_setting"].isna() & place.notna()
    if unmapped.any():
        raise DataError.at(
            "column 'PLACE': no placement setting in settings.csv for this code",
            "PLACE",
            unmapped.to_numpy(),
            place,
        )
    frame["registered"] = frame["registered"].astype("boolean")
    return frame


def _need_labels() -> list[str]:
    names = ("Disabilities", "EBD", "UASC", "Offender")
    labels = ["00: None"] + [""] * 15
    number = 1
    for size in range(1, 5):
        for combo in combinations(range(4), size):
            text = "+".join(names[i] for i in combo)
            labels[sum(1 << i for i in combo)] = (
                f"{number:02d}: {text}{' only' if size == 1 else ''}"
            )
            number += 1
    return labels


def need_group(disability: Any, ebd: Any, uasc: Any, offender: Any) -> pd.Series:
    """Dorset's need groups (Dorset County Council 2017, "Analysis of Costs by Age, Needs and Time Looked
    after"): ``00: None``, ``01: Disabilities only``, ``02: EBD only``, ``03: UASC only``,
    ``04: Offender only``, then pairs ``05``-``10`` (``09: EBD+Offender``,
    ``10: UASC+Offender``), triples ``11``-``14`` and ``15`` for all four.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> ssda903.need_group([False, True, False], [False, True, True], [False, False, False], [False, False, True]).tolist()
    ['00: None', '05: Disabilities+EBD', '09: EBD+Offender']
    """
    flags = [np.asarray(x, dtype=bool) for x in (disability, ebd, uasc, offender)]
    bits = sum(flag.astype(np.int64) << i for i, flag in enumerate(flags))
    return pd.Series(np.asarray(_need_labels(), dtype=object)[bits])


def child_values(cleaned: Cleaned, rows: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of :attr:`Cleaned.children` (DOB, SEX, authority, ...) for each row of a
    table with a ``child_key``; children of different authorities never mix.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> ssda903.child_values(cleaned, cleaned.episodes.head(3), "SEX").tolist()
    ['1', '1', '1']
    """
    return rows["child_key"].map(cleaned.children[column])


def episode_attributes(cleaned: Cleaned) -> pd.DataFrame:
    """Each cleaned episode with its placement setting and type, provider group, location,
    age at start and need group.

    Columns: those of :attr:`Cleaned.episodes` (``child_key``, ``authority``, CHILD, DECOM,
    DEC, PLACE, PLACE_PROVIDER, ``placement``, ``period`` and the rest), then
    ``placement_setting``, ``placement_type`` and ``registered`` (from
    :func:`placement_settings`), ``provider`` (Dorset's provider group, ``N/A`` when none),
    ``location`` (``IN LA``, ``Out LA`` or ``Unknown``), ``age_at_start`` (completed years at
    DECOM) and ``need_group`` (:func:`need_group`).

    Examples
    --------
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> attributes = ssda903.episode_attributes(cleaned)
    >>> attributes["placement_type"].value_counts().head(3)
    placement_type
    Foster care     1699
    Residential      302
    Kinship care     259
    Name: count, dtype: int64
    """
    episodes = cleaned.episodes
    mapped = _map_settings(episodes["PLACE"], episodes["PLACE_PROVIDER"])
    out = episodes.join(mapped)
    out["provider"] = episodes["PLACE_PROVIDER"].map(provider_groups()).fillna(_NO_PROVIDER)
    out["location"] = _location(episodes, child_values(cleaned, episodes, "la_code"))
    dob = child_values(cleaned, episodes, "DOB")
    out["age_at_start"] = age_in_years(dob, episodes["DECOM"])
    uasc = _uasc_at(cleaned.children, episodes["child_key"], episodes["DECOM"])
    out["need_group"] = need_group(
        episodes["CIN"].eq("N2"),
        episodes["CIN"].eq("N6"),
        uasc,
        episodes["LS"].isin(["J1", "J2", "J3"]) | episodes["PLACE"].eq("R5"),
    ).to_numpy()
    return out


def episode_table(cleaned: Cleaned, *, period: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """The cleaned episodes as the table :func:`lacstats.costs.cost_table` prices.

    Columns: those of :func:`episode_attributes` (``authority`` and ``child_key`` among
    them, so that children of different authorities are counted apart), with DECOM and
    DEC as ``start`` and ``end`` (empty while open) and ``age`` at the later of the
    episode's start and the start of ``period`` (default: the years the returns cover), as
    Dorset's cost calculator counts ages.

    Examples
    --------
    >>> from lacstats import costs, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> year = ("2019-04-01", "2020-03-31")
    >>> episodes = ssda903.episode_table(cleaned, period=year)
    >>> episodes[["placement_type", "provider", "location", "age", "need_group"]].head(3)
      placement_type provider location  age             need_group
    0   Kinship care       LA  Unknown   11  01: Disabilities only
    1    Foster care       LA  Unknown   11  01: Disabilities only
    2    Foster care       LA  Unknown   11  01: Disabilities only
    >>> table = costs.cost_table(episodes, unit_costs=costs.dorset_unit_costs(), period=year)
    >>> table[["placement_type", "children", "weeks", "total"]].tail(1).round()
             placement_type  children    weeks       total
    18  All placement types       350  14262.0  15853803.0
    """
    episodes = episode_attributes(cleaned).rename(columns={"DECOM": "start", "DEC": "end"})
    first = cleaned.coverage[0] if period is None else schema.parse_date(period[0], "period start")
    start = max(first, cleaned.coverage[0])
    dob = child_values(cleaned, episodes, "DOB")
    begins = episodes["start"].where(episodes["start"] > start, start)
    episodes["age"] = age_in_years(dob, begins)
    return episodes


def _location(episodes: pd.DataFrame, la_code: Any = None) -> pd.Series:
    """``IN LA`` or ``Out LA`` from PL_LOCATION, else from PL_LA against the authority's
    code (one code, or one per row); ``Unknown`` otherwise."""
    location = pd.Series("Unknown", index=episodes.index, dtype=object)
    if "PL_LOCATION" in episodes:
        code = episodes["PL_LOCATION"].astype("string").str.upper()
        location[code.eq("IN").fillna(False).to_numpy()] = "IN LA"
        location[code.eq("OUT").fillna(False).to_numpy()] = "Out LA"
    if la_code is None or "PL_LA" not in episodes:
        return location
    own = pd.Series(la_code, index=episodes.index).astype(object)
    known = (episodes["PL_LA"].notna() & own.notna() & location.eq("Unknown")).to_numpy()
    same = (episodes["PL_LA"].astype(object) == own).to_numpy()
    location[known & same] = "IN LA"
    location[known & ~same] = "Out LA"
    return location


def age_in_years(dob: pd.Series, when: pd.Series | pd.Timestamp) -> pd.Series:
    """Age in completed years on ``when`` (a date or one date per row); missing stays NA.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> ssda903.age_in_years(pd.Series(pd.to_datetime(["2008-04-01", "2008-03-31", None])), pd.Timestamp("2024-03-31")).tolist()
    [15, 16, <NA>]
    """
    when = pd.Series(when, index=dob.index) if isinstance(when, pd.Timestamp) else when
    years = when.dt.year - dob.dt.year
    before_birthday = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    return (years - before_birthday.astype(int)).astype("Int64")


def _uasc_at(children: pd.DataFrame, child: pd.Series, when: pd.Series | pd.Timestamp):
    ever = child.map(children["ever_uasc"]).fillna(False).astype(bool)
    ceased = child.map(children["DUC"])
    return (ever & (ceased.isna() | (ceased > when))).to_numpy(dtype=bool)


@dataclass(frozen=True)
class CaseTable(Result):
    """The children looked after on a census date, one row each, and who was left out.

    ``cases`` is the case table (child-level: never publish it as it is); ``unpriced``
    counts, by authority and placement setting, the children left out because their
    placement has no unit cost (``unpriced="drop"``); ``not_covered`` names the
    authorities whose returns do not cover the census date. ``to_frame()`` counts the
    children by authority and placement setting.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> result = ssda903.case_table(cleaned, census_date="2020-03-31")
    >>> result.census_date, len(result.cases)
    (Timestamp('2020-03-31 00:00:00'), 214)
    """

    cases: pd.DataFrame
    census_date: pd.Timestamp
    unpriced: pd.DataFrame
    not_covered: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def n_unpriced(self) -> int:
        return int(self.unpriced["children"].sum())

    def to_frame(self) -> pd.DataFrame:
        counts = self.cases.groupby(["authority", "placement_setting"], observed=True).size()
        return counts.rename("children").reset_index()

    def summary(self) -> str:
        n = len(set(self.cases["authority"]))
        text = (
            f"{len(self.cases)} children looked after on {self.census_date.date()} in "
            f"{n} authorit{'y' if n == 1 else 'ies'}"
        )
        if self.n_unpriced:
            text += f"; {self.n_unpriced} left out with no unit cost"
        if self.not_covered:
            text += f"; returns not covering the date: {', '.join(self.not_covered)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        by_authority = self.cases.groupby("authority", observed=True).size()
        return jsonable(
            {
                "census_date": str(self.census_date.date()),
                "children": int(len(self.cases)),
                "by_authority": {str(k): int(v) for k, v in by_authority.items()},
                "unpriced": self.n_unpriced,
                "not_covered": list(self.not_covered),
                **self.options,
            }
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.to_frame().to_html(index=False)


def to_cases(
    data: Return | Cleaned | pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    *,
    census_date: str | pd.Timestamp,
    unit_costs: pd.DataFrame | None = None,
    authority: str | None = None,
    authority_type: str | None = None,
    la_code: str | None = None,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    unpriced: str = "error",
) -> pd.DataFrame:
    """Deprecated: use ``case_table(...).cases``, the one case-table function of
    :mod:`lacstats.ssda903` (it also says who was left out). Gives the same table, with a
    ``FutureWarning``; to be removed in lacstats 1.0. Columns: those of
    :func:`case_table`'s ``cases`` (``case_id``, ``authority``, ``age``,
    ``placement_setting``, ``need_group`` and the rest, with ``weekly_cost`` when
    ``unit_costs`` is given).

    Examples
    --------
    >>> import warnings
    >>> from lacstats import ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cases = ssda903.to_cases(cleaned, census_date="2020-03-31")
    >>> print(caught[0].message)
    ssda903.to_cases is deprecated: use ssda903.case_table(...).cases (the same table, with who was left out)
    >>> cases.equals(ssda903.case_table(cleaned, census_date="2020-03-31").cases)
    True
    """
    warnings.warn(
        "ssda903.to_cases is deprecated: use ssda903.case_table(...).cases (the same table, "
        "with who was left out)",
        FutureWarning,
        stacklevel=2,
    )
    return case_table(
        data,
        episodes,
        census_date=census_date,
        unit_costs=unit_costs,
        authority=authority,
        authority_type=authority_type,
        la_code=la_code,
        continues=continues,
        unpriced=unpriced,
    ).cases


def case_table(
    data: Return | Cleaned | pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    *,
    census_date: str | pd.Timestamp,
    unit_costs: pd.DataFrame | None = None,
    authority: str | None = None,
    authority_type: str | None = None,
    la_code: str | None = None,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    unpriced: str = "error",
) -> CaseTable:
    """The case table of the children looked after on ``census_date``, with who was left out.

    ``data`` is a :class:`Return` (cleaned here with ``continues``), a :class:`Cleaned`,
    or the Header table with the Episodes table as ``episodes`` (frames as
    :func:`from_frames` reads them). ``census_date`` is a date, ISO or dd/mm/yyyy text.
    Columns: ``case_id`` (the return's CHILD), ``authority``, ``la_code`` and
    ``authority_type`` (of the authority each return names; for returns that name none,
    ``authority`` (default ``"Synthetic authority"``), ``la_code`` and ``authority_type``
    (default ``Unitary``) as given), ``age`` at the census, ``sex``, ``uasc`` (UASC on
    the census date), ``placement_setting``, ``registered``, ``placement_type`` and
    ``provider`` (Dorset's groups), ``location`` and ``in_authority`` (from PL_LOCATION,
    or PL_LA against the authority's code; missing when the return has neither),
    ``distance_miles`` with ``distance_status`` (``known``; ``unknown`` for 999.9, a
    postcode unknown or outside England; ``blank`` where the return leaves it empty, as
    it does for UASC), ``placement_number`` (1 = the child's first placement in the
    data), ``months_in_placement``, ``previous_setting``, ``legal_status``,
    ``need_group`` and, with ``unit_costs``, ``weekly_cost`` (see
    :func:`lacstats.costs.unit_cost`), in which case the table is validated by
    :func:`lacstats.schema.validate`. A child whose placement has no unit cost is an
    error naming it, or with ``unpriced="drop"`` is left out and counted in
    ``unpriced``. Authorities whose returns do not cover the census date are listed in
    ``not_covered``; the date must fall within some authority's returns.

    Examples
    --------
    >>> from lacstats import costs, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> result = ssda903.case_table(cleaned, census_date="31/03/2020")
    >>> print(result.summary().splitlines()[0])
    214 children looked after on 2020-03-31 in 1 authority
    >>> result.cases["placement_setting"].value_counts().head(3)
    placement_setting
    foster_in_house        75
    foster_ifa             63
    residential_private    19
    Name: count, dtype: int64
    """
    if unpriced not in ("error", "drop"):
        raise DataError(f"unpriced must be 'error' or 'drop', got {unpriced!r}", column="unpriced")
    # step 1: a cleaned return from any of the three shapes of input
    cleaned = _as_cleaned(data, episodes, continues)
    names = _authority_names(cleaned, authority, authority_type, la_code)
    # step 2: the census date, within the returns read
    census, not_covered = _census(cleaned, census_date)
    # step 3: the episodes open on the census date, with their placements
    now = _current(cleaned, census, not_covered)
    # step 4: the case table
    cases = _case_rows(cleaned, now, census, names)
    # step 5: prices, with the table validated against the schema
    priced, left_out = _price(cases, unit_costs, unpriced)
    return CaseTable(
        cases=priced,
        census_date=census,
        unpriced=left_out,
        not_covered=not_covered,
        options={"continues": list(cleaned.continues), "unpriced_rule": unpriced},
    )


def _as_cleaned(data: Any, episodes: pd.DataFrame | None, continues: Sequence[str]) -> Cleaned:
    if isinstance(data, pd.DataFrame):
        if episodes is None:
            raise DataError(
                "case_table(header, episodes, ...) needs the episodes table too", column="episodes"
            )
        data = from_frames(data, episodes)
    elif episodes is not None:
        raise DataError(
            "pass either a Return or the header and episodes tables", column="episodes"
        )
    if isinstance(data, Cleaned):
        return data
    if isinstance(data, Return):
        return clean(data, continues=continues)
    raise DataError(
        f"case_table needs a Return, a Cleaned return or the header and episodes tables, got "
        f"{type(data).__name__}",
        column="data",
    )


def _authority_names(cleaned, authority, authority_type, la_code) -> pd.DataFrame:
    """Each authority's name, code and type; returns that name none take the arguments."""
    table = cleaned.authorities.set_index("authority")[["la_code", "authority_type"]]
    named = [a for a in table.index if a]
    if named and (authority is not None or la_code is not None):
        raise DataError(
            f"the returns name their authorities ({', '.join(named[:3])}"
            f"{', ...' if len(named) > 3 else ''}); authority= and la_code= are for returns "
            "that do not",
            column="authority",
        )
    out = pd.DataFrame(
        {
            "authority": table.index.where(table.index != "", authority or DEFAULT_AUTHORITY),
            "la_code": table["la_code"].astype(object).to_numpy(),
            "authority_type": table["authority_type"].astype(object).to_numpy(),
        },
        index=table.index,
    )
    unnamed = table.index == ""
    if unnamed.any():
        out.loc[unnamed, "la_code"] = la_code
    out["authority_type"] = out["authority_type"].where(
        out["authority_type"].notna(), authority_type or "Unitary"
    )
    return out


def _census(cleaned: Cleaned, census_date: Any) -> tuple[pd.Timestamp, tuple[str, ...]]:
    census = schema.parse_date(census_date, "census_date")  # dd/mm/yyyy or ISO
    first, last = cleaned.coverage
    if not first <= census <= last:
        raise DataError(
            f"census_date {census.date()} is outside the returns read "
            f"({first.date()} to {last.date()})",
            column="census_date",
            values=[str(census.date())],
        )
    spans = cleaned.authorities
    outside = spans[(spans["start"] > census) | (spans["end"] < census)]["authority"]
    return census, tuple(str(a) for a in outside)


def _current(cleaned: Cleaned, census: pd.Timestamp, not_covered: Sequence[str]):
    """The episodes open on ``census`` with their placement's start and the setting of the
    placement before it."""
    attributes = episode_attributes(cleaned)
    current = (
        (attributes["DECOM"] <= census)
        & (attributes["DEC"].isna() | (attributes["DEC"] > census))
        & ~attributes["authority"].isin(list(not_covered))
    )
    now = attributes.loc[current.to_numpy()].reset_index(drop=True)
    placements = cleaned.placements.set_index(["child_key", "placement"])
    keys = pd.MultiIndex.from_arrays([now["child_key"], now["placement"]])
    now["placement_start"] = placements["start"].reindex(keys).to_numpy()
    previous = placements.reindex(
        pd.MultiIndex.from_arrays([now["child_key"], now["placement"] - 1])
    )
    now["previous_setting"] = (
        _map_settings(
            previous["PLACE"].reset_index(drop=True),
            previous["PLACE_PROVIDER"].reset_index(drop=True),
        )["placement_setting"]
        .where(now["placement"] > 1)
        .to_numpy()
    )
    return now


def _distance(cleaned: Cleaned, now: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    distance = now["PL_DISTANCE"].astype(float)
    status = np.where(
        distance.isna(),
        "blank",
        np.where(np.isclose(distance, DISTANCE_UNKNOWN), "unknown", "known"),
    ).astype(object)
    if cleaned.episodes["PL_DISTANCE"].isna().all():
        status[:] = "not recorded"
    return distance.where(status == "known"), status


def _case_rows(cleaned, now, census, names) -> pd.DataFrame:
    dob = child_values(cleaned, now, "DOB")
    own = now["authority"].map(names["authority"])
    la_code = now["authority"].map(names["la_code"])
    location = _location(now, la_code)
    distance, status = _distance(cleaned, now)
    return pd.DataFrame(
        {
            "case_id": now["CHILD"].astype(str),
            "authority": own.to_numpy(dtype=object),
            "authority_type": now["authority"].map(names["authority_type"]).to_numpy(dtype=object),
            "la_code": la_code.astype(object).astype(str),
            "age": age_in_years(dob, census).to_numpy(),
            "sex": child_values(cleaned, now, "SEX").map(SEXES),
            "uasc": _uasc_at(cleaned.children, now["child_key"], census),
            "placement_setting": now["placement_setting"],
            "registered": now["registered"],
            "placement_type": now["placement_type"],
            "provider": now["provider"],
            "location": location,
            "in_authority": location.map({"IN LA": True, "Out LA": False}).astype("boolean"),
            "distance_miles": distance,
            "distance_status": status,
            "months_in_placement": (census - pd.to_datetime(now["placement_start"])).dt.days
            / DAYS_PER_MONTH,
            "placement_number": now["placement"].astype(int),
            "previous_setting": now["previous_setting"],
            "legal_status": now["LS"],
            "need_group": now["need_group"],
        }
    )


def _price(cases: pd.DataFrame, unit_costs, unpriced: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = pd.DataFrame(
        {
            "authority": pd.Series(dtype=object),
            "placement_setting": pd.Series(dtype=object),
            "children": pd.Series(dtype="int64"),
        }
    )
    if unit_costs is None:
        return cases, empty
    cases = cases.assign(weekly_cost=costs.unit_cost(cases, unit_costs, unpriced=unpriced))
    kept = cases["weekly_cost"].notna()
    left = cases.loc[~kept].groupby(["authority", "placement_setting"], observed=True).size()
    left_out = left.rename("children").reset_index() if len(left) else empty
    typed = schema.validate(cases[kept], authorities=sorted(set(cases["authority"])))
    return typed, left_out
