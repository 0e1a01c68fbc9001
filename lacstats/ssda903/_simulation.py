"""Synthetic SSDA903 returns, for benchmarks, tests and method checks (never findings).

Children enter care at a steady rate, stay for an exponential time (mean
``mean_stay_years``, cut at 18), move placement as a Poisson process (one move every
``move_every_days`` on average) and leave home (REC E13). The hazards are constant, so an
authority's monthly exit and move rates are known exactly: 1 / (12 x mean stay) and
365.25 / (12 x move_every_days) a child-month. Authorities simulated with the same
parameters share their rates; their sizes differ by ``children``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lacstats.ssda903._codes import year_end, year_start

__all__ = [
    "EPISODE_COLUMNS",
    "RETURN_COLUMNS",
    "simulate",
    "simulate_region",
    "write",
]

#: The columns of a simulated episodes table.
EPISODE_COLUMNS = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "PL_DISTANCE",
    "PL_LOCATION",
)
_PLACES = np.array(["U4", "U6", "U1", "U3", "K2", "H5", "P1", "A4", "S1", "K1"])
_PLACE_WEIGHTS = np.array([0.3, 0.22, 0.08, 0.08, 0.12, 0.06, 0.06, 0.04, 0.02, 0.02])


def simulate(
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    children: int = 2000,
    rng: int | np.random.Generator | None = None,
    mean_stay_years: float = 2.2,
    move_every_days: float = 500,
    first_id: int = 100000,
    tables: str = "core",
) -> dict[int, dict[str, pd.DataFrame]]:
    """Synthetic returns of one authority.

    About ``children`` children looked after at each year end. Returns
    ``{year: {"header": ..., "episodes": ...}}`` (``year`` the collection's end year),
    dates as dd/mm/yyyy text, ready for :func:`write`. Child identifiers are six-digit
    numbers from ``first_id``. Not calibrated to anything: never use it for findings.

    With ``tables="all"`` each year is a whole return, every table with the DfE's
    columns (:data:`RETURN_COLUMNS`), consistent with the DfE's validation rules as far as
    lacstats knows them (the header and episodes are those of ``tables="core"``, adjusted
    where a rule requires it: a mother status for girls, postcodes, the reason for a
    change of placement, one legal status through a period of care, adoption only from a
    foster placement with its decision and AD1 record); the extra draws come from a
    stream spawned from ``rng``, so the core tables' draws are unchanged.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> returns = ssda903.simulate(years=[2023, 2024], children=50, rng=1)
    >>> sorted(returns), sorted(returns[2024])
    ([2023, 2024], ['episodes', 'header'])
    >>> returns[2024]["episodes"].columns.tolist()[:6]
    ['CHILD', 'DECOM', 'RNE', 'LS', 'CIN', 'PLACE']
    >>> full = ssda903.simulate(years=[2023], children=50, rng=1, tables="all")
    >>> sorted(full[2023])[:4]
    ['ad1', 'episodes', 'header', 'missing']
    """
    if tables not in ("core", "all"):
        raise ValueError(f"tables must be 'core' or 'all', got {tables!r}")
    generator = np.random.default_rng(rng)
    header, episodes = _children_and_episodes(
        generator, years, children, mean_stay_years, move_every_days, first_id
    )
    if tables == "all":
        extra = generator.spawn(1)[0]  # the core tables' draws are left as they were
        header, episodes = _as_full(header, episodes, extra)
    else:
        episodes = _consistent(header, episodes)
    out = {}
    for year in years:
        live = _one_year(episodes, year)
        kids = _sexes(header[header["CHILD"].isin(live["CHILD"])], year)
        if tables == "all":
            out[year] = {
                name: _as_text(frame)
                for name, frame in _full_return(kids, live, year, extra).items()
            }
        else:
            out[year] = {"header": _as_text(kids), "episodes": _as_text(live)}
    return out


#: The columns of each table of the return, as the DfE's files write them.
RETURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": (
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ),
    "uasc": ("CHILD", "SEX", "DOB", "DUC"),
    "ad1": (
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    "placed_for_adoption": (
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ),
    "previous_permanence": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
    "oc2": (
        "CHILD",
        "DOB",
        "SDQ_SCORE",
        "SDQ_REASON",
        "CONVICTED",
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ),
    "oc3": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    "reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "sw_episodes": ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
}
_FOSTER = ("U1", "U2", "U3", "U4", "U5", "U6")
_POSTCODE_AREAS = np.array(["BN", "GU", "ME", "OX", "RG", "SO", "TN", "PO", "CT", "MK"])


def _postcodes(generator: np.random.Generator, n: int) -> np.ndarray:
    """Postcodes of the usual shape (area, district, sector, unit): made up."""
    area = generator.choice(_POSTCODE_AREAS, n)
    district = generator.integers(1, 30, n).astype(str)
    sector = generator.integers(1, 10, n).astype(str)
    unit = np.array(["AB", "DE", "FG", "HJ", "LN", "PQ", "RT", "UW"])[generator.integers(0, 8, n)]
    return np.char.add(np.char.add(np.char.add(area, district), np.char.add(" ", sector)), unit)


def _consistent(header: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """The core draws made consistent where a DfE rule requires it, with no new draws:
    one legal status and category of need through a period of care, never section 20
    placed with parents, no placement a child is too young for, adoption only from a
    foster placement as the child's last."""
    episodes = episodes.copy()
    dob = episodes["CHILD"].map(header.set_index("CHILD")["DOB"])
    first = ~episodes["CHILD"].eq(episodes["CHILD"].shift())
    last = ~episodes["CHILD"].eq(episodes["CHILD"].shift(-1))
    # one legal status through a period of care: a change of placement (P) keeps it
    episodes["LS"] = episodes["LS"].where(first).ffill()
    episodes["CIN"] = episodes["CIN"].where(first).ffill()
    episodes.loc[episodes["LS"].eq("E1"), "LS"] = "C2"
    # placed with parents: never under section 20 (V2), for the whole period of care
    with_parents = episodes["CHILD"].isin(episodes.loc[episodes["PLACE"].eq("P1"), "CHILD"])
    episodes.loc[with_parents & episodes["LS"].eq("V2"), "LS"] = "C2"
    # placements a child is too young for
    age = (episodes["DECOM"] - dob).dt.days / 365.25
    young = (episodes["PLACE"].eq("H5") & (age < 16.5)) | (episodes["PLACE"].eq("S1") & (age < 5))
    episodes.loc[young, ["PLACE", "PLACE_PROVIDER"]] = ["U4", "PR1"]
    # adoption: only from a foster placement, a child's last placement, ending adopted
    before = episodes["PLACE"].shift()
    adopted = episodes["PLACE"].eq("A4") & ~first & before.isin(_FOSTER) & last & (age < 16)
    adopted &= (episodes["DEC"] < dob + pd.DateOffset(years=18)).fillna(True)
    episodes.loc[episodes["PLACE"].eq("A4") & ~adopted, ["PLACE", "PLACE_PROVIDER"]] = [
        "U4",
        "PR1",
    ]
    episodes.loc[adopted, "REC"] = "E11"
    return episodes


def _as_full(header: pd.DataFrame, episodes: pd.DataFrame, generator) -> tuple:
    """The core tables with every column of the return (see :func:`simulate`)."""
    header = header.copy()
    episodes = _consistent(header, episodes)
    girls = header["SEX"].eq("2")
    header["MOTHER"] = np.where(girls, "0", None)
    letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
    header["UPN"] = (
        letters[generator.integers(0, len(letters), len(header))]
        + pd.Series(generator.integers(10**11, 10**12, len(header)))
        .astype(str)
        .str.zfill(12)
        .to_numpy()
    )
    header["MC_DOB"] = None
    last = ~episodes["CHILD"].eq(episodes["CHILD"].shift(-1))
    episodes["HOME_POST"] = episodes["CHILD"].map(
        dict(zip(header["CHILD"], _postcodes(generator, len(header)), strict=True))
    )
    episodes["PL_POST"] = _postcodes(generator, len(episodes))
    # an Ofsted URN for every placement that has one (not H5, P1-P3, R1, R2, R5, T0-T4, Z1)
    exempt = episodes["PLACE"].isin(["H5", "P1", "P2", "P3", "R1", "R2", "R5", "Z1"])
    urn = pd.Series(generator.integers(1_000_000, 9_999_999, len(episodes))).astype(str)
    episodes["URN"] = np.where(exempt, None, "SC" + urn.str.slice(0, 6).to_numpy())
    following = episodes["RNE"].shift(-1).isin(["P", "B", "T", "U"]) & ~last
    episodes["REASON_PLACE_CHANGE"] = np.where(following, "CARPL", None)
    return header, episodes[list(RETURN_COLUMNS["episodes"])]


def _full_return(
    header: pd.DataFrame, episodes: pd.DataFrame, year: int, generator: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """Every table of one year's return from its header and episodes (dates as
    timestamps): reviews of the children looked after, OC2 for those looked after
    continuously for 12 months at 31 March, the decision and AD1 of children adopted, a
    previous permanence record for children who started to be looked after, a few
    periods missing, social worker episodes from 2023-24; OC3 and UASC empty.

    """
    start, end = year_start(year), year_end(year)
    dob = episodes["CHILD"].map(header.set_index("CHILD")["DOB"])
    kids = header.set_index("CHILD")
    out: dict[str, pd.DataFrame] = {
        "header": header[list(RETURN_COLUMNS["header"])],
        "episodes": episodes[list(RETURN_COLUMNS["episodes"])],
    }

    def table(name: str, rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.assign(DOB=rows["CHILD"].map(kids["DOB"]))
        return rows.reindex(columns=list(RETURN_COLUMNS[name])).reset_index(drop=True)

    # reviews: one for each child, 20 days after the later of its first episode and 1 April
    first = episodes.groupby("CHILD")["DECOM"].min()
    review = first.clip(lower=start) + pd.Timedelta(days=20)
    review = review[review <= end]
    four = kids["DOB"].reindex(review.index) + pd.DateOffset(years=4)
    out["reviews"] = table(
        "reviews",
        pd.DataFrame(
            {
                "CHILD": review.index,
                "REVIEW": review.to_numpy(),
                "REVIEW_CODE": np.where((review <= four).to_numpy(), "PN0", "PN1"),
            }
        ),
    )
    # OC2: looked after since before 1 April, in care on 31 March, no new period in the year
    began = episodes.groupby("CHILD")["DECOM"].min()
    # in care on 31 March: an episode open then, or ending on that day
    open_end = episodes[episodes["DEC"].isna() | (episodes["DEC"] >= end)]["CHILD"].unique()
    twelve = began[(began < start)].index.intersection(open_end)
    born = kids["DOB"].reindex(twelve)
    sdq = (born + pd.DateOffset(years=4) <= end) & (born + pd.DateOffset(years=17) > start)
    out["oc2"] = table(
        "oc2",
        pd.DataFrame(
            {
                "CHILD": twelve,
                "SDQ_SCORE": np.where(sdq, "12", None),
                "SDQ_REASON": None,
                "CONVICTED": np.where(born + pd.DateOffset(years=10) <= end, "0", None),
                "HEALTH_CHECK": np.where(born + pd.DateOffset(years=5) > end, "1", None),
                "IMMUNISATIONS": "1",
                "TEETH_CHECK": "1",
                "HEALTH_ASSESSMENT": "1",
                "SUBSTANCE_MISUSE": "0",
                "INTERVENTION_RECEIVED": None,
                "INTERVENTION_OFFERED": None,
            }
        ),
    )
    # adoption: the decision for every child placed for adoption (A4), and the AD1 record
    # of those whose episode ended adopted this year
    placement = episodes[episodes["PLACE"].eq("A4")].drop_duplicates("CHILD")
    starts = episodes[episodes["RNE"].eq("S")].groupby("CHILD")["DECOM"].max()
    placed = placement.set_index("CHILD")["DECOM"]
    began = pd.to_datetime(starts.reindex(placed.index))
    decided = placed - pd.Timedelta(days=30)
    decided = decided.where(began.isna() | (decided >= began), began)
    out["placed_for_adoption"] = table(
        "placed_for_adoption",
        pd.DataFrame({"CHILD": placed.index, "DATE_PLACED": decided.to_numpy()}),
    )
    adopted = episodes[episodes["REC"].eq("E11") & episodes["DEC"].between(start, end)]
    adopted = placed.index.isin(adopted["CHILD"])
    out["ad1"] = table(
        "ad1",
        pd.DataFrame(
            {
                "CHILD": placed.index[adopted],
                "DATE_INT": decided.to_numpy()[adopted],
                "DATE_MATCH": placed.to_numpy()[adopted],
                "FOSTER_CARE": "0",
                "NB_ADOPTR": "1",
                "SEX_ADOPTR": "M1",
                "LS_ADOPTR": "L0",
            }
        ),
    )
    # previous permanence: the children who started to be looked after this year
    entered = episodes[episodes["RNE"].eq("S") & (episodes["DECOM"] >= start)]["CHILD"].unique()
    out["previous_permanence"] = table(
        "previous_permanence", pd.DataFrame({"CHILD": entered, "PREV_PERM": "Z1"})
    )
    # missing: one child in twenty, three days from the middle of an episode in the year
    ends = episodes["DEC"].fillna(end).clip(upper=end)
    begins = episodes["DECOM"].clip(lower=start)
    long = episodes[(ends - begins).dt.days > 10]
    chosen = long.drop_duplicates("CHILD")
    chosen = chosen[generator.random(len(chosen)) < 0.05]
    middle = begins[chosen.index] + (ends[chosen.index] - begins[chosen.index]) / 2
    middle = middle.dt.normalize()
    out["missing"] = table(
        "missing",
        pd.DataFrame(
            {
                "CHILD": chosen["CHILD"].to_numpy(),
                "MISSING": "M",
                "MIS_START": middle.to_numpy(),
                "MIS_END": (middle + pd.Timedelta(days=3)).to_numpy(),
            }
        ),
    )
    social = pd.DataFrame(columns=["CHILD"])
    if year >= 2024:
        social = pd.DataFrame(
            {
                "CHILD": first.index,
                "SW_ID": "SW" + pd.Series(first.index).astype(str).to_numpy(),
                "SW_DECOM": first.clip(lower=start).to_numpy(),
                "SW_REASON": "MANAGE",
            }
        )
    out["sw_episodes"] = table("sw_episodes", social)
    out["oc3"] = table("oc3", pd.DataFrame(columns=["CHILD"]))
    out["uasc"] = table("uasc", pd.DataFrame(columns=["CHILD"]))
    del dob
    return out


def simulate_region(
    authorities: Mapping[str, int],
    *,
    years: Sequence[int] = tuple(range(2016, 2026)),
    rng: int | np.random.Generator | None = None,
    mean_stay_years: float | Mapping[str, float] = 2.2,
    move_every_days: float | Mapping[str, float] = 500,
    tables: str = "core",
) -> dict[str, pd.DataFrame]:
    """A regional extract: one table each of header and episodes for every authority and
    year, with ``LA`` and ``YEAR`` columns (the layout of the regional pipelines) and
    dates as datetimes. ``authorities`` maps names to the children looked after at a
    year end; the rates may differ by authority (a mapping) or be shared (a number).
    Identifiers repeat across authorities, as they do in real extracts. With
    ``tables="all"``, every table of the return, as :func:`simulate` makes them.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> extract = ssda903.simulate_region({"Kent": 120, "Medway": 40}, years=[2023, 2024], rng=1)
    >>> sorted(extract)
    ['episodes', 'header']
    >>> sorted(extract["episodes"]["LA"].unique())
    ['Kent', 'Medway']
    """
    if tables not in ("core", "all"):
        raise ValueError(f"tables must be 'core' or 'all', got {tables!r}")
    generator = np.random.default_rng(rng)
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, size in authorities.items():
        stay = mean_stay_years[name] if isinstance(mean_stay_years, Mapping) else mean_stay_years
        moves = move_every_days[name] if isinstance(move_every_days, Mapping) else move_every_days
        header, spells = _children_and_episodes(generator, years, size, stay, moves, 100000)
        if tables == "core":
            core = _core_returns(header, _consistent(header, spells), years, name)
            for table, frame in core.items():
                parts.setdefault(table, []).append(frame)
            continue
        extra = generator.spawn(1)[0]  # the core tables' draws are left as they were
        header, spells = _as_full(header, spells, extra)
        for year in years:
            live = _one_year(spells, year)
            kids = _sexes(header[header["CHILD"].isin(live["CHILD"])], year)
            for table, frame in _full_return(kids, live, year, extra).items():
                parts.setdefault(table, []).append(frame.assign(LA=name, YEAR=year))
    return {table: pd.concat(frames, ignore_index=True) for table, frames in parts.items()}


def _core_returns(header, episodes, years, authority: str) -> dict[str, pd.DataFrame]:
    """The header and episodes of each year's return of ``authority`` (as
    :func:`_one_year` and :func:`_sexes` make them), one year after another, with ``LA``
    and ``YEAR``: every year at once."""
    episodes = episodes.sort_values(["CHILD", "DECOM"], kind="stable")
    starts, ends = episodes["DECOM"].to_numpy(), episodes["DEC"].to_numpy()
    rows, kids = [], []
    for year in years:
        y0, y1 = np.datetime64(year_start(year)), np.datetime64(year_end(year))
        rows.append(np.flatnonzero((starts <= y1) & (ends >= y0)))
        kids.append(np.flatnonzero(header["CHILD"].isin(episodes["CHILD"].iloc[rows[-1]])))
    live = episodes.iloc[np.concatenate(rows)].reset_index(drop=True)
    counts = [len(r) for r in rows]
    year = np.repeat(years, counts)
    closed = live["DEC"].to_numpy() <= np.repeat(
        [np.datetime64(year_end(y)) for y in years], counts
    )
    live["DEC"] = live["DEC"].where(closed)
    live["REC"] = live["REC"].where(closed)
    children = header.iloc[np.concatenate(kids)].reset_index(drop=True)
    child_year = np.repeat(years, [len(k) for k in kids])
    if (child_year >= 2025).any():
        sexes = children["SEX"].map({"1": "M", "2": "F"})
        children["SEX"] = children["SEX"].where(child_year < 2025, sexes)
    return {
        "header": children.assign(LA=authority, YEAR=child_year),
        "episodes": live.assign(LA=authority, YEAR=year),
    }


def _sexes(header: pd.DataFrame, year: int) -> pd.DataFrame:
    """SEX as the year's return writes it: 1 and 2 to 2023-24, M and F from 2024-25."""
    if year < 2025:
        return header
    return header.assign(SEX=header["SEX"].map({"1": "M", "2": "F"}))


def _children_and_episodes(generator, years, children, mean_stay_years, move_every_days, first):
    first_day, last_day = year_start(min(years)), year_end(max(years))
    span = (last_day - first_day).days
    n = int(children * (1.2 + len(years) * 0.55) * 2.2 / max(mean_stay_years, 0.1))
    n = max(n, 1)
    entry = first_day + pd.to_timedelta(generator.integers(-3 * 365, span, n), unit="D")
    age_entry = generator.choice(np.arange(0, 18), n, p=_entry_ages())
    dob = entry - pd.to_timedelta(age_entry * 365 + generator.integers(0, 365, n), unit="D")
    stay = generator.exponential(mean_stay_years * 365.25, n).astype(np.int64) + 1
    ending = (entry + pd.to_timedelta(stay, unit="D")).to_numpy()
    eighteen = (dob + pd.DateOffset(years=18)).to_numpy()
    ending = np.minimum(ending, eighteen)
    days = np.maximum((ending - entry.to_numpy()).astype("timedelta64[D]").astype(np.int64), 1)
    ids = (first + generator.choice(np.arange(0, 899999), n, replace=False)).astype(str)
    moves = generator.poisson(days / move_every_days)
    owner = np.repeat(np.arange(n), moves)
    cuts = (generator.random(len(owner)) * (days[owner] - 1)).astype(np.int64) + 1
    order = np.lexsort((cuts, owner))
    owner, cuts = owner[order], cuts[order]
    # each child's bounds: 0, its sorted cuts, its length in days
    child = np.concatenate([np.arange(n), owner, np.arange(n)])
    offset = np.concatenate([np.zeros(n, np.int64), cuts, days])
    order = np.lexsort((offset, child))
    child, offset = child[order], offset[order]
    starts, ends = offset[:-1], offset[1:]
    keep = (child[:-1] == child[1:]) & (ends > starts)
    owner, starts, ends = child[:-1][keep], starts[keep], ends[keep]
    first_of = np.r_[True, owner[1:] != owner[:-1]]
    last_of = np.r_[owner[1:] != owner[:-1], True]
    base = entry.to_numpy()[owner]
    m = len(owner)
    episodes = pd.DataFrame(
        {
            "CHILD": ids[owner],
            "DECOM": base + starts.astype("timedelta64[D]"),
            "RNE": np.where(first_of, "S", "P"),
            "LS": generator.choice(["C2", "V2", "C1", "E1"], m, p=[0.6, 0.2, 0.15, 0.05]),
            "CIN": generator.choice(
                ["N1", "N2", "N4", "N5", "N6"], m, p=[0.6, 0.05, 0.1, 0.17, 0.08]
            ),
            "PLACE": generator.choice(_PLACES, m, p=_PLACE_WEIGHTS),
            "DEC": base + ends.astype("timedelta64[D]"),
            "REC": np.where(last_of, "E13", "X1"),
            "PL_DISTANCE": np.round(generator.gamma(1.2, 12, m), 1),
            "PL_LOCATION": np.where(generator.random(m) < 0.7, "IN", "OUT"),
        }
    )
    episodes["PLACE_PROVIDER"] = np.where(
        episodes["PLACE"].eq("P1"),
        "PR0",
        generator.choice(["PR1", "PR4", "PR5", "PR2"], m, p=[0.5, 0.35, 0.1, 0.05]),
    )
    header = pd.DataFrame(
        {
            "CHILD": ids,
            "SEX": generator.choice(["1", "2"], n),
            "DOB": dob,
            "ETHNIC": generator.choice(["WBRI", "WOTH", "MOTH", "BAFR", "AIND"], n),
        }
    )
    return header, episodes[list(EPISODE_COLUMNS)]


def _one_year(episodes: pd.DataFrame, year: int) -> pd.DataFrame:
    """The episodes a year's return holds: those open at some time in the year, with DEC
    and REC blank for those still open at its end."""
    y0, y1 = year_start(year), year_end(year)
    live = episodes[(episodes["DECOM"] <= y1) & (episodes["DEC"] >= y0)].copy()
    closed = live["DEC"] <= y1
    live["DEC"] = live["DEC"].where(closed)
    live["REC"] = live["REC"].where(closed)
    return live.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)


def _entry_ages() -> np.ndarray:
    weights = np.array([18, 6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 8, 9, 10, 9, 4], dtype=float)
    return weights / weights.sum()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%d/%m/%Y")
    return out.reset_index(drop=True)


def write(returns: dict[int, dict[str, pd.DataFrame]], folder: str | Path) -> list[Path]:
    """Write returns as ``<year>-<table>.csv`` (year = end year of the collection).

    Examples
    --------
    >>> import tempfile
    >>> from lacstats import ssda903
    >>> returns = ssda903.simulate(years=[2024], children=30, rng=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = ssda903.write(returns, folder)
    ...     data = ssda903.read(folder)
    ...
    >>> [path.name for path in written]
    ['2024-header.csv', '2024-episodes.csv']
    >>> data.years
    [2024]
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, tables in sorted(returns.items()):
        for table, frame in tables.items():
            path = folder / f"{year}-{table}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
    return paths
