"""The case table of the children looked after on a census date, from a cleaned return."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from lacstats import costs, schema
from lacstats.errors import DataError
from lacstats.ssda903.cleaning import CONTINUES_PLACEMENT, Cleaned, clean
from lacstats.ssda903.codes import placement_settings, provider_groups
from lacstats.ssda903.reading import Return, from_frames
from lacstats.units import DAYS_PER_MONTH

__all__ = ["DISTANCE_UNKNOWN", "age_in_years", "episode_attributes", "need_group", "to_cases"]

#: PL_DISTANCE when the placement postcode is unknown or outside England.
DISTANCE_UNKNOWN = 999.9
#: A child who is placed with a provider not expected for the placement: no provider group.
_NO_PROVIDER = "N/A"


def _map_settings(place: pd.Series, provider: pd.Series) -> pd.DataFrame:
    table = placement_settings()
    exact = table[table["PLACE_PROVIDER"] != "*"].set_index(["PLACE", "PLACE_PROVIDER"])
    fallback = table[table["PLACE_PROVIDER"] == "*"].set_index("PLACE")
    keys = pd.MultiIndex.from_arrays([place.astype(object), provider.astype(object)])
    out = {}
    for column in ("placement_setting", "placement_type", "registered"):
        by_pair = pd.Series(exact[column].reindex(keys).to_numpy(), index=place.index)
        by_place = place.map(fallback[column])
        out[column] = by_pair.where(by_pair.notna(), by_place)
    unmapped = out["placement_setting"].isna() & place.notna()
    if unmapped.any():
        raise DataError.at(
            "column 'PLACE': no placement setting in settings.csv for this code",
            "PLACE",
            unmapped.to_numpy(),
            place,
        )
    frame = pd.DataFrame(out)
    frame["registered"] = frame["registered"].astype("boolean")
    return frame


def need_group(disability: Any, ebd: Any, uasc: Any, offender: Any) -> pd.Series:
    """Dorset's need groups (Dorset County Council 2017, "Analysis of Costs by Age, Needs and Time Looked
    after"): ``00: None``, ``01: Disabilities only``, ``02: EBD only``, ``03: UASC only``,
    ``04: Offender only``, then pairs ``05``-``10`` (``09: EBD+Offender``,
    ``10: UASC+Offender``), triples ``11``-``14`` and ``15`` for all four."""
    names = ("Disabilities", "EBD", "UASC", "Offender")
    flags = np.column_stack([np.asarray(x, dtype=bool) for x in (disability, ebd, uasc, offender)])
    labels = {(): "00: None"}
    number = 1
    for size in range(1, 5):
        for combo in combinations(range(4), size):
            text = "+".join(names[i] for i in combo)
            labels[combo] = f"{number:02d}: {text}{' only' if size == 1 else ''}"
            number += 1
    keys = [tuple(np.flatnonzero(row)) for row in flags]
    return pd.Series([labels[tuple(int(i) for i in k)] for k in keys])


def episode_attributes(cleaned: Cleaned) -> pd.DataFrame:
    """Each cleaned episode with its placement setting and type, provider group, location
    (``IN LA``, ``Out LA`` or ``Unknown``), age at start, need group and distance status."""
    episodes = cleaned.episodes
    mapped = _map_settings(episodes["PLACE"], episodes["PLACE_PROVIDER"])
    out = episodes.join(mapped)
    out["provider"] = episodes["PLACE_PROVIDER"].map(provider_groups()).fillna(_NO_PROVIDER)
    out["location"] = _location(episodes)
    dob = episodes["CHILD"].map(cleaned.children["DOB"])
    out["age_at_start"] = age_in_years(dob, episodes["DECOM"])
    uasc = _uasc_at(cleaned.children, episodes["CHILD"], episodes["DECOM"])
    out["need_group"] = need_group(
        episodes["CIN"].eq("N2"),
        episodes["CIN"].eq("N6"),
        uasc,
        episodes["LS"].isin(["J1", "J2", "J3"]) | episodes["PLACE"].eq("R5"),
    ).to_numpy()
    return out


def episode_table(cleaned: Cleaned, *, period: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """The cleaned episodes as the table :func:`lacstats.costs.cost_table` prices.

    Columns: those of :func:`episode_attributes`, with DECOM and DEC as ``start`` and
    ``end`` (empty while open) and ``age`` at the later of the episode's start and the
    start of ``period`` (default: the years the return covers), as Dorset's cost
    calculator counts ages.
    """
    episodes = episode_attributes(cleaned).rename(columns={"DECOM": "start", "DEC": "end"})
    first = cleaned.coverage[0] if period is None else schema.parse_date(period[0], "period start")
    start = max(first, cleaned.coverage[0])
    dob = episodes["CHILD"].map(cleaned.children["DOB"])
    begins = episodes["start"].where(episodes["start"] > start, start)
    episodes["age"] = age_in_years(dob, begins)
    return episodes


def _location(episodes: pd.DataFrame, la_code: str | None = None) -> pd.Series:
    location = pd.Series("Unknown", index=episodes.index, dtype=object)
    if "PL_LOCATION" in episodes:
        code = episodes["PL_LOCATION"].astype("string").str.upper()
        location[code.eq("IN").fillna(False).to_numpy()] = "IN LA"
        location[code.eq("OUT").fillna(False).to_numpy()] = "Out LA"
    if la_code is not None and "PL_LA" in episodes:
        known = episodes["PL_LA"].notna() & location.eq("Unknown")
        location[(known & episodes["PL_LA"].eq(la_code)).to_numpy()] = "IN LA"
        location[(known & episodes["PL_LA"].ne(la_code)).to_numpy()] = "Out LA"
    return location


def age_in_years(dob: pd.Series, when: pd.Series | pd.Timestamp) -> pd.Series:
    """Age in completed years on ``when`` (a date or one date per row); missing stays NA."""
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


def to_cases(
    data: Return | Cleaned | pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    *,
    census_date: str | pd.Timestamp,
    unit_costs: pd.DataFrame | None = None,
    authority: str = "Synthetic authority",
    authority_type: str = "Unitary",
    la_code: str | None = None,
    continues: Sequence[str] = CONTINUES_PLACEMENT,
    unpriced: str = "error",
) -> pd.DataFrame:
    """The case table (:mod:`lacstats.schema`) of the children looked after on ``census_date``.

    ``data`` is a :class:`Return` (cleaned here with ``continues``), a :class:`Cleaned`,
    or the Header table with the Episodes table as ``episodes`` (see :func:`from_frames`).
    Columns: ``case_id`` (the return's CHILD), ``age`` at the census, ``sex``, ``uasc``
    (UASC on the census date), ``placement_setting``, ``registered``, ``placement_type``
    and ``provider`` (Dorset's groups), ``location`` and ``in_authority`` (from
    PL_LOCATION, or PL_LA against ``la_code``; missing when the return has neither),
    ``distance_miles`` with ``distance_status`` (``known``; ``unknown`` for 999.9, a
    postcode unknown or outside England; ``blank`` where the return leaves it empty, as
    it does for UASC), ``placement_number`` (1 = the child's first placement in the
    data), ``months_in_placement``, ``previous_setting``, ``legal_status``,
    ``need_group`` and, with ``unit_costs``, ``weekly_cost`` (see
    :func:`lacstats.costs.unit_cost`), in which case the table is validated by
    :func:`lacstats.schema.validate`. A child whose placement has no unit cost is an
    error naming it, or with ``unpriced="drop"`` is left out and counted in
    ``cases.attrs["unpriced"]``.
    """
    if unpriced not in ("error", "drop"):
        raise DataError(f"unpriced must be 'error' or 'drop', got {unpriced!r}", column="unpriced")
    if isinstance(data, pd.DataFrame):
        if episodes is None:
            raise DataError(
                "to_cases(header, episodes, ...) needs the episodes table too", column="episodes"
            )
        data = from_frames(data, episodes)
    elif episodes is not None:
        raise DataError(
            "pass either a Return or the header and episodes tables", column="episodes"
        )
    cleaned = data if isinstance(data, Cleaned) else clean(data, continues=continues)
    census = schema.parse_date(census_date, "census_date")  # dd/mm/yyyy or ISO
    first, last = cleaned.coverage
    if not first <= census <= last:
        raise DataError(
            f"census_date {census.date()} is outside the returns read "
            f"({first.date()} to {last.date()})",
            column="census_date",
            values=[str(census.date())],
        )
    attributes = episode_attributes(cleaned)
    current = (attributes["DECOM"] <= census) & (
        attributes["DEC"].isna() | (attributes["DEC"] > census)
    )
    now = attributes.loc[current.to_numpy()].reset_index(drop=True)
    placements = cleaned.placements.set_index(["CHILD", "placement"])
    keys = pd.MultiIndex.from_arrays([now["CHILD"], now["placement"]])
    start = placements["start"].reindex(keys).to_numpy()
    previous_keys = pd.MultiIndex.from_arrays([now["CHILD"], now["placement"] - 1])
    previous = placements.reindex(previous_keys)
    previous_setting = _map_settings(
        previous["PLACE"].reset_index(drop=True),
        previous["PLACE_PROVIDER"].reset_index(drop=True),
    )["placement_setting"]

    dob = now["CHILD"].map(cleaned.children["DOB"])
    distance = now["PL_DISTANCE"].astype(float)
    status = np.where(
        distance.isna(),
        "blank",
        np.where(np.isclose(distance, DISTANCE_UNKNOWN), "unknown", "known"),
    ).astype(object)
    if cleaned.episodes["PL_DISTANCE"].isna().all():
        status[:] = "not recorded"
    location = _location(now, la_code)
    cases = pd.DataFrame(
        {
            "case_id": now["CHILD"].astype(str),
            "authority": authority,
            "authority_type": authority_type,
            "age": age_in_years(dob, census).to_numpy(),
            "sex": now["CHILD"].map(cleaned.children["SEX"]).map({"1": "male", "2": "female"}),
            "uasc": _uasc_at(cleaned.children, now["CHILD"], census),
            "placement_setting": now["placement_setting"],
            "registered": now["registered"],
            "placement_type": now["placement_type"],
            "provider": now["provider"],
            "location": location,
            "in_authority": location.map({"IN LA": True, "Out LA": False}).astype("boolean"),
            "distance_miles": distance.where(status == "known"),
            "distance_status": status,
            "months_in_placement": (census - pd.to_datetime(start)).days / DAYS_PER_MONTH,
            "placement_number": now["placement"].astype(int),
            "previous_setting": previous_setting.where(now["placement"] > 1).to_numpy(),
            "legal_status": now["LS"],
            "need_group": now["need_group"],
        }
    )
    if unit_costs is not None:
        cases["weekly_cost"] = costs.unit_cost(cases, unit_costs, unpriced=unpriced)
        kept = cases["weekly_cost"].notna()
        typed = schema.validate(cases[kept], authorities=[authority])
        typed.attrs["unpriced"] = int((~kept).sum())
        return typed
    return cases
