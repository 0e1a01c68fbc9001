"""The tables of the returns as the DfE's rules see them, with the keys they need.

A rule of the DfE's validator checks one authority's return of one year; lacstats checks
every return of an extract at once, so each row carries integer keys: ``_ret`` (the
authority and collection year) and ``_key`` (the child within that return), the same in
every table. Codes are compared in upper case, as the DfE's validator reads them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lacstats.ssda903._codes import TABLES
from lacstats.ssda903._validation import UNCHECKED

#: Columns holding codes that the DfE's validator upper-cases before checking.
CODED = {
    "header": ("SEX", "ETHNIC", "UPN", "MOTHER", "UASC"),
    "episodes": (
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
        "PL_LA",
        "PL_LOCATION",
    ),
    "uasc": ("SEX",),
    "ad1": ("FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"),
    "placed_for_adoption": ("REASON_PLACED_CEASED",),
    "previous_permanence": ("PREV_PERM", "LA_PERM", "DATE_PERM"),
    "oc2": (
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
    "oc3": ("IN_TOUCH", "ACTIV", "ACCOM"),
    "reviews": ("REVIEW_CODE",),
    "missing": ("MISSING",),
    "sw_episodes": ("SW_ID", "SW_REASON"),
}


#: pandas' str dtype (Arrow-backed, NaN for missing), as text read from files is typed.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def _upper(values: pd.Series) -> pd.Series:
    """Text in upper case as a categorical (each distinct value upper-cased once; equality
    and membership are then comparisons of small integer codes)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.array(values.array)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        if len(text) and pc.all(pc.string_is_ascii(text)).as_py():
            # ASCII text (codes, postcodes) upper-cased and encoded by Arrow: the same
            # categories, in order of first appearance, as the distinct values' below
            encoded = pc.dictionary_encode(pc.ascii_upper(text))
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            categories = pd.Index(encoded.dictionary.to_pylist(), dtype=object)
            categorical = pd.Categorical.from_codes(codes, categories=categories)
            return pd.Series(categorical, index=values.index)
    codes, uniques = pd.factorize(_factorizable(values), use_na_sentinel=True)
    merged, categories = pd.factorize(_upper_text(uniques))
    mapped = np.append(merged, -1)[codes] if len(uniques) else codes
    categorical = pd.Categorical.from_codes(mapped, categories=pd.Index(categories, dtype=object))
    return pd.Series(categorical, index=values.index)


def _upper_text(uniques: Any) -> Any:
    """Distinct values in upper case, as Python's ``str.upper`` writes them: ASCII text
    (codes, postcodes) by Arrow, anything else one value at a time."""
    if isinstance(uniques.dtype, pd.StringDtype) and len(uniques):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.array(uniques.array)
        if pc.all(pc.string_is_ascii(text)).as_py():
            return pd.Series(pd.array(pc.ascii_upper(text), dtype=str))
    return pd.Index([str(u).upper() for u in np.asarray(uniques, dtype=object)], dtype=object)


def _factorizable(values: pd.Series) -> Any:
    """``values`` as :func:`pandas.factorize` takes them, giving the same codes and
    distinct values as the column's Python objects would: Arrow-backed text as it is
    (factorized by Arrow, no Python object per row), anything else as objects."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.to_numpy(dtype=object)


def _return_codes(who: pd.Series, year: np.ndarray) -> np.ndarray:
    """The codes :func:`pandas.factorize` gives each row's ``authority|year`` (a missing
    authority written as ``""``), found without writing that text for every row: each
    distinct authority is written once and paired with the year as an integer."""
    if not len(year):
        return np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(_factorizable(who), use_na_sentinel=True)
    texts, _ = pd.factorize(pd.Index([*(str(u) for u in uniques), ""], dtype=object))
    written = texts[codes]  # -1 (missing) picks the last: ""
    low = int(year.min())
    pairs = written.astype(np.int64) * (int(year.max()) - low + 1) + (year - low)
    out, _ = pd.factorize(pairs)
    return out


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows sorted by key, where each key's run starts, and its length."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return order, starts, np.diff(np.r_[starts, len(keys)])


def _per_key(
    keys: np.ndarray, values: np.ndarray, how: str, groups: tuple | None = None
) -> np.ndarray | None:
    """``how`` of ``values`` over the rows of each key, back on every row, as
    :meth:`pandas.core.groupby.SeriesGroupBy.transform` gives it, by sorting once
    (``groups``: :func:`_groups` of ``keys``, when known): for dates (``min``, ``max``:
    missing skipped, a key with none is missing) and booleans (``any``, ``all``);
    ``None`` for anything else."""
    dates = values.dtype == np.dtype("datetime64[ns]") and how in ("min", "max")
    if not (dates or (values.dtype == bool and how in ("any", "all"))) or not len(keys):
        return None
    order, starts, counts = groups if groups is not None else _groups(keys)
    if dates:
        numbers = values.view(np.int64)[order]
        missing = np.iinfo(np.int64).min  # NaT
        if how == "min":
            numbers = np.where(numbers == missing, np.iinfo(np.int64).max, numbers)
            found = np.minimum.reduceat(numbers, starts)
            found[found == np.iinfo(np.int64).max] = missing
        else:
            found = np.maximum.reduceat(numbers, starts)
        found = found.view("datetime64[ns]")
    else:
        reduce = np.logical_or if how == "any" else np.logical_and
        found = reduce.reduceat(values[order], starts)
    out = np.empty_like(found, shape=len(keys))
    out[order] = np.repeat(found, counts)
    return out


def same_key_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of a row of ``left`` and a row of ``right`` with the same key (the rows
    of an inner merge on the key), as positions: (left rows, right rows)."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    low = np.searchsorted(ordered, left, side="left")
    counts = np.searchsorted(ordered, left, side="right") - low
    at = np.repeat(np.arange(len(left)), counts)
    # the positions low .. low + count - 1 of each left row, one after another
    steps = np.arange(len(at)) - np.repeat(np.cumsum(counts) - counts, counts)
    return at, order[np.repeat(low, counts) + steps]


class Context:
    """The tables of one or many returns, typed, with per-row keys and helpers.

    ``present`` names the tables that were read (a rule needing a table that was not
    read is not run, as the DfE's validator skips it).
    """

    def __init__(
        self,
        tables: dict[str, pd.DataFrame],
        present: set[str] | None = None,
        la_codes: dict[str, str] | None = None,
    ):
        self.present = set(present if present is not None else tables)
        self.la_codes = dict(la_codes or {})
        self._key_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lookup_cache: dict[tuple, tuple[pd.DataFrame, np.ndarray]] = {}
        self._pick_cache: dict[tuple, pd.Series] = {}
        self._bound_cache: dict[tuple, pd.Series] = {}
        #: what several rules derive alike, derived once (by the rules' own keys)
        self.memo: dict[Any, Any] = {}
        frames = {}
        for name in TABLES:
            frame = tables.get(name)
            if frame is None:
                frame = pd.DataFrame(
                    {c: pd.Series(dtype=object) for c in (*TABLES[name].required, "CHILD")}
                ).assign(authority=pd.Series(dtype=object), YEAR=pd.Series(dtype="int64"))
            frames[name] = frame.reset_index(drop=True)
        # integer keys shared by every table: the return, and the child within it
        names = list(frames)
        who = pd.concat([frames[n]["authority"] for n in names], ignore_index=True)
        year = np.concatenate([frames[n]["YEAR"].to_numpy(dtype=np.int64) for n in names])
        child = pd.concat([frames[n]["CHILD"] for n in names], ignore_index=True)
        ret = _return_codes(who, year)
        kid, uniques = pd.factorize(_factorizable(child), use_na_sentinel=True)
        key = ret.astype(np.int64) * (len(uniques) + 1) + kid + 1
        key[kid < 0] = -1
        bounds = np.cumsum([0, *(len(frames[n]) for n in names)])
        self.t: dict[str, pd.DataFrame] = {}
        for i, name in enumerate(names):
            frame = frames[name].copy(deep=False)  # copy-on-write: the caller's is untouched
            for kept in [c for c in frame.columns if c.endswith(UNCHECKED)]:
                # a date lacstats' own rules left out (after the year): the DfE's see it
                column = kept[1 : -len(UNCHECKED)]
                frame[column] = frame[column].fillna(frame[kept])
                frame = frame.drop(columns=[kept])
            coded = CODED.get(name, ())
            for column in frame.columns:
                if column in coded:
                    frame[column] = _upper(frame[column])
                elif (
                    pd.api.types.is_string_dtype(frame[column].dtype)
                    and column != "_file"
                    and frame[column].dtype != TEXT
                ):
                    # text as pandas' str dtype (a column of Python strings is stored so
                    # when set; a str column already is)
                    frame[column] = frame[column].to_numpy(dtype=object)
            frame["_ret"] = ret[bounds[i] : bounds[i + 1]]
            frame["_key"] = key[bounds[i] : bounds[i + 1]]
            self.t[name] = frame
        header = self.t["header"]
        if "UASC" not in header or header["UASC"].isna().all():
            # the DfE's validator flags a header child as UASC when the UASC table lists them
            header["UASC"] = np.where(self.has(header, "uasc"), "1", "0")

    # ----------------------------------------------------------------- tables and keys

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.t[name]

    def la_code(self, frame: pd.DataFrame) -> pd.Series:
        """The ONS code of each row's authority (missing when not known)."""
        return frame["authority"].map(self.la_codes)

    def start(self, frame: pd.DataFrame) -> pd.Series:
        """1 April that opens each row's collection year."""
        return self._bound(frame, "start")

    def end(self, frame: pd.DataFrame) -> pd.Series:
        """31 March that closes each row's collection year."""
        return self._bound(frame, "end")

    def _bound(self, frame: pd.DataFrame, which: str) -> pd.Series:
        memo = (id(frame), len(frame), which)
        found = self._bound_cache.get(memo)
        if found is None:
            years = frame["YEAR"].to_numpy(dtype=np.int64)
            distinct, at = np.unique(years, return_inverse=True)
            days = np.array(
                [
                    np.datetime64(f"{y - 1}-04-01" if which == "start" else f"{y}-03-31", "ns")
                    for y in distinct
                ],
                dtype="datetime64[ns]",
            )
            found = pd.Series(
                days[at] if len(days) else years.astype("datetime64[ns]"), index=frame.index
            )
            self._bound_cache[memo] = found
        return found

    def _keys(self, other: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct child keys of table ``other`` (sorted), the position of each
        key's first row and, for each row, its key's place among the distinct keys."""
        found = self._key_cache.get(other)
        if found is None:
            keys = self.t[other]["_key"].to_numpy()
            found = np.unique(keys, return_index=True, return_inverse=True)
            self._key_cache[other] = found
        return found

    def _slots(self, frame: pd.DataFrame, other: str) -> np.ndarray:
        """For each row of ``frame``, its child's place among the distinct keys of
        ``other`` (-1 when the child has no row there, or no CHILD)."""
        cache_key = (id(frame), len(frame), other)
        found = self._lookup_cache.get(cache_key)
        # the frame is kept with its slots: its id cannot be another frame's meanwhile
        if found is None or found[0] is not frame:
            unique = self._keys(other)[0]
            keys = frame["_key"].to_numpy()
            if len(unique):
                at = np.minimum(np.searchsorted(unique, keys), len(unique) - 1)
                slots = np.where((keys >= 0) & (unique[at] == keys), at, -1)
            else:
                slots = np.full(len(keys), -1, dtype=np.int64)
            found = (frame, slots)
            self._lookup_cache[cache_key] = found
        return found[1]

    def _lookup(self, frame: pd.DataFrame, other: str) -> np.ndarray:
        """For each row of ``frame``, the position of its child's first row in ``other``
        (-1 when there is none)."""
        slots = self._slots(frame, other)
        first = self._keys(other)[1]
        if not len(first):
            return np.full(len(slots), -1, dtype=np.int64)
        return np.where(slots >= 0, first[np.maximum(slots, 0)], -1)

    def has(self, frame: pd.DataFrame, other: str, where: Any = None) -> np.ndarray:
        """Whether each row's child (in the same return) has a row in table ``other``
        (restricted to the rows ``where``)."""
        slots = self._slots(frame, other)
        if where is None:
            return slots >= 0
        unique, _, inverse = self._keys(other)
        chosen = np.zeros(len(unique) + 1, dtype=bool)  # the last: no such child
        chosen[inverse[np.asarray(where, dtype=bool)]] = True
        return chosen[slots] & (frame["_key"].to_numpy() >= 0)

    def value(self, frame: pd.DataFrame, other: str, column: str) -> pd.Series:
        """For each row, ``column`` of the child's first row in table ``other`` of the same
        return (missing when there is none)."""
        at = self._lookup(frame, other)
        source = self.t[other][column]
        if not len(source):
            return pd.Series(np.full(len(frame), None), index=frame.index, dtype=source.dtype)
        if isinstance(source.dtype, (pd.CategoricalDtype, pd.StringDtype)):
            # taken as stored (codes, Arrow text): no Python object per row
            taken = source.array.take(np.maximum(at, 0))
            return pd.Series(taken, index=frame.index).where(at >= 0)
        values = source.to_numpy()
        picked = pd.Series(values[np.maximum(at, 0)], index=frame.index, dtype=source.dtype)
        return picked.where(at >= 0)

    def per_child(self, frame: pd.DataFrame, values: Any, how: str) -> pd.Series:
        """``how`` ("any", "all", "sum", "max", "min", "count") of ``values`` over each
        child's rows of ``frame``, back on every row."""
        array = np.asarray(values)
        memo = ("groups", id(frame), len(frame))
        if memo not in self.memo or self.memo[memo][0] is not frame:
            # the frame is kept with its groups: its id cannot be another frame's meanwhile
            self.memo[memo] = (frame, _groups(frame["_key"].to_numpy()))
        fast = _per_key(frame["_key"].to_numpy(), array, how, self.memo[memo][1])
        if fast is not None:
            return pd.Series(fast, index=frame.index)
        series = pd.Series(array, index=frame.index)
        grouped = series.groupby(frame["_key"].to_numpy(), sort=False)
        if how == "any":
            return grouped.transform("max").astype(bool)
        if how == "all":
            return grouped.transform("min").astype(bool)
        return grouped.transform(how)

    def first_of(self, frame: pd.DataFrame, flags: Any) -> pd.Series:
        """Of the rows ``flags`` marks, each child's first (in row order)."""
        marked = np.flatnonzero(np.asarray(flags, dtype=bool))
        _, first = np.unique(frame["_key"].to_numpy()[marked], return_index=True)
        out = np.zeros(len(frame), dtype=bool)
        out[marked[first]] = True
        return pd.Series(out, index=frame.index)

    def spread(self, frame: pd.DataFrame, per_key: pd.Series, fill: Any = np.nan) -> pd.Series:
        """Values indexed by ``_key`` back on the rows of ``frame``."""
        out = per_key.reindex(frame["_key"].to_numpy())
        return (
            pd.Series(out.to_numpy(), index=frame.index).fillna(fill)
            if fill is not None
            else (pd.Series(out.to_numpy(), index=frame.index))
        )

    # ----------------------------------------------------------------- episodes in order

    @cached_property
    def order(self) -> np.ndarray:
        """Episodes sorted by child (within return) and DECOM (missing first), as row
        positions."""
        e = self.t["episodes"]
        decom = e["DECOM"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        return np.lexsort((np.arange(len(e)), decom, e["_key"].to_numpy()))

    def _neighbour(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Each episode's previous (step -1) or next (step 1) episode of the same child:
        (position, exists)."""
        order = self.order
        keys = self.t["episodes"]["_key"].to_numpy()[order]
        n = len(order)
        at = np.full(n, -1, dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        if n > 1:
            if step == 1:
                ok[:-1] = keys[:-1] == keys[1:]
                at[:-1] = order[1:]
            else:
                ok[1:] = keys[1:] == keys[:-1]
                at[1:] = order[:-1]
        positions = np.full(n, -1, dtype=np.int64)
        exists = np.zeros(n, dtype=bool)
        positions[order] = np.where(ok, at, -1)
        exists[order] = ok
        return positions, exists

    @cached_property
    def _next(self) -> tuple[np.ndarray, np.ndarray]:
        return self._neighbour(1)

    @cached_property
    def _previous(self) -> tuple[np.ndarray, np.ndarray]:
        return self._neighbour(-1)

    @property
    def has_next(self) -> np.ndarray:
        return self._next[1]

    @property
    def has_previous(self) -> np.ndarray:
        return self._previous[1]

    def next(self, column: str) -> pd.Series:
        """Each episode's next episode's ``column`` (missing when it has none)."""
        return self._pick(column, *self._next)

    def previous(self, column: str) -> pd.Series:
        """Each episode's previous episode's ``column`` (missing when it has none)."""
        return self._pick(column, *self._previous)

    def _pick(self, column: str, at: np.ndarray, exists: np.ndarray) -> pd.Series:
        memo = (column, id(at))
        found = self._pick_cache.get(memo)
        if found is not None:
            return found
        e = self.t["episodes"]
        values = e[column]
        where = np.where(exists, at, 0)
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            picked = np.where(exists, codes[where] if len(codes) else codes, -1)
            out = pd.Series(pd.Categorical.from_codes(picked, dtype=values.dtype), index=e.index)
        elif isinstance(values.dtype, pd.StringDtype) and len(values):
            out = pd.Series(values.array.take(where), index=e.index).where(exists)
        else:
            array = values.to_numpy()
            taken = array[where] if len(array) else array
            out = pd.Series(taken, index=e.index, dtype=values.dtype).where(exists)
        self._pick_cache[memo] = out
        return out

    @cached_property
    def first_episode(self) -> np.ndarray:
        """Whether each episode is its child's first in the return."""
        return ~self.has_previous

    @cached_property
    def last_episode(self) -> np.ndarray:
        """Whether each episode is its child's last in the return."""
        return ~self.has_next

    # ----------------------------------------------------------------- derived facts

    @cached_property
    def looked_after_continuously(self) -> pd.Series:
        """By child key: looked after continuously for the 12 months to 31 March (the
        DfE's definition: some episode in the year, and none that starts a period of care
        (RNE S) after 1 April, ends one (REC other than X1) before 31 March or is under
        legal status V3 or V4 in the year)."""
        e = self.t["episodes"]
        start, end = self.start(e), self.end(e)
        during = (e["DECOM"] <= end) & ((e["DEC"] >= start) | e["DEC"].isna())
        enters = e["RNE"].eq("S") & (e["DECOM"] > start) & (e["DECOM"] <= end)
        leaves = e["REC"].ne("X1") & (e["DEC"] >= start) & (e["DEC"] < end)
        short = e["LS"].isin(["V3", "V4"]) & during
        broken = (enters | leaves | short).groupby(e["_key"].to_numpy()).max()
        seen = during.groupby(e["_key"].to_numpy()).max()
        return (seen & ~broken).astype(bool)

    def continuously(self, frame: pd.DataFrame) -> pd.Series:
        """Whether each row's child was looked after continuously for 12 months."""
        per_key = self.looked_after_continuously  # by key, sorted (a groupby's)
        known = per_key.index.to_numpy()
        keys = frame["_key"].to_numpy()
        if not len(known):
            return pd.Series(np.zeros(len(keys), dtype=bool), index=frame.index)
        at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        found = (known[at] == keys) & per_key.to_numpy(dtype=bool)[at]
        return pd.Series(found, index=frame.index)


def add_years(dates: pd.Series, years: int) -> pd.Series:
    """``dates`` plus whole years (29 February to 28 February), missing stays missing."""
    return dates + pd.DateOffset(years=years)
