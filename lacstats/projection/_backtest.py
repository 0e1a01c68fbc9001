"""Real-time back-tests: project from a past origin with only what was known then, and
score the projection against what the returns then reported.

At an origin (1 April, the day after a collection year ends) the returns known are those
up to the year just ended (:func:`returns_up_to`): the episodes as they were recorded
then, with the errors, the open episodes and the late records of those returns. They are
cleaned on their own and the projection is fitted on them. Each target date (the day
before each month after the origin) is scored against the return that covers it, cleaned
with the returns up to its year: the count the analyst would have been told at the time.
So a return filed after the origin can change neither the projection (its starting
stock, its rates) nor the count a target date is scored against, unless it is the return
covering that date.

For each authority (and the sum over authorities), month, and series (the total and each
placement type), the observed count is set beside the simulated counts: whether it falls
in the central 50% and 90% intervals, the absolute error of the median, and the
probability integral transform (PIT). Counts are whole numbers, so the PIT is the
mid-PIT, ``(F(y - 1) + F(y)) / 2`` (Czado, Gneiting and Held 2009, "Predictive model
assessment for count data", Biometrics 65:1254-1261): uniform on average when the
projection is calibrated. Several origins are pooled; several ways of pooling rates
across authorities are scored side by side on the same data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lacstats import schema, ssda903
from lacstats.errors import DataError
from lacstats.projection._flows import AGE_BANDS, MAX_AGE
from lacstats.projection._rates import _forecast_score, _forecast_scores
from lacstats.projection._stock_flow import POOLING, REGION, stock_and_flow
from lacstats.results import Result, jsonable

__all__ = [
    "LEVEL",
    "OVERALL",
    "TOTAL",
    "Backtest",
    "backtest",
    "observed_stock",
    "returns_up_to",
    "stock_revisions",
]

#: The label of the scores over every authority and month together.
OVERALL = "every authority-month"
#: The category of the total (all placement types, all ages).
TOTAL = "All"
#: The level of the interval ``ci_low`` to ``ci_high`` of the forecasts.
LEVEL = 0.9


@dataclass(frozen=True)
class Backtest(Result):
    """Real-time projections from one or several origins scored against the returns that
    covered each target date, for each pooling.

    ``forecasts``: one row per origin, pooling, authority (and the region's total),
    series (``"total"`` or the category column, e.g. ``"placement_type"``), category and
    month, with the observed count, the projected mean, median, quartiles (``q25``,
    ``q75``), the central interval ``ci_low`` to ``ci_high`` at ``level`` (0.9) and the
    mid-PIT; ``scores``: by pooling, series and authority (and over every
    authority-month), the coverage of the 50% and 90% intervals, the mean absolute error
    of the median, the mean absolute percentage error (over counts above zero) and the
    mean PIT; ``pit``: the PIT histogram of the totals by pooling.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> tested = projection.backtest(data, origin="2021-04-01", horizon_months=6, history_years=1, draws=100, rng=1)
    >>> tested.overall()[["pooling", "forecasts", "coverage_90"]]
       pooling  forecasts  coverage_90
    0     none          6          1.0
    1  partial          6          1.0
    >>> tested.pit.columns.tolist()
    ['pooling', 'bin_low', 'bin_high', 'count', 'share']
    """

    forecasts: pd.DataFrame
    scores: pd.DataFrame
    pit: pd.DataFrame
    origins: tuple[pd.Timestamp, ...]
    horizon_months: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> pd.Timestamp:
        """The first origin."""
        return self.origins[0]

    def to_frame(self) -> pd.DataFrame:
        return self.scores.copy()

    def overall(self, series: str = "total") -> pd.DataFrame:
        """The scores over every authority-month of ``series``, one row per pooling."""
        rows = self.scores[
            (self.scores["authority"] == OVERALL) & (self.scores["series"] == series)
        ]
        return rows.reset_index(drop=True)

    def by_horizon(self, series: str = "total") -> pd.DataFrame:
        """The scores of the authorities' ``series`` month by month ahead, by pooling."""
        table = self.forecasts
        table = table[(table["authority"] != REGION) & (table["series"] == series)]
        rows = [
            {"pooling": how, "month": int(month), **_forecast_score(group)}
            for (how, month), group in table.groupby(["pooling", "month"], sort=False)
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        table = self.overall()[["pooling", "forecasts", "coverage_50", "coverage_90", "mae"]]
        origins = ", ".join(str(o.date()) for o in self.origins)
        return (
            f"Back-test from {origins}, {self.horizon_months} months ahead, "
            f"{self.options.get('authorities', 0)} authorities\n"
            + table.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origins": [str(o.date()) for o in self.origins],
            "horizon_months": self.horizon_months,
            "level": LEVEL,
            **{k: v for k, v in self.options.items()},
            "scores": {},
        }
        for row in self.scores[self.scores["authority"] == OVERALL].itertuples(index=False):
            out["scores"].setdefault(row.pooling, {})[row.series] = {
                "forecasts": int(row.forecasts),
                "coverage_50": float(row.coverage_50),
                "coverage_90": float(row.coverage_90),
                "mae": float(row.mae),
                "mape": float(row.mape),
                "mean_pit": float(row.mean_pit),
            }
        out["pit"] = {
            p: [int(c) for c in rows["count"]]
            for p, rows in self.pit.groupby("pooling", sort=False)
        }
        return jsonable(out)

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.overall().to_html(index=False)


def returns_up_to(data: ssda903.Return, year: int) -> ssda903.Return:
    """The returns as they stood when ``year``'s (the collection's end year) was the
    latest: every table's rows, files, problems and ledger entries of the collection years
    up to ``year``, as they were read. Nothing filed later is left in.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> known = projection.returns_up_to(data, 2019)
    >>> known.years, len(known.episodes)
    ([2018, 2019], 2434)
    """
    if not isinstance(data, ssda903.Return):
        raise DataError(
            f"returns_up_to needs returns as read (lacstats.ssda903.read), got "
            f"{type(data).__name__}",
            column="data",
        )

    def keep(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        if column not in frame or frame.empty:
            return frame
        years = pd.to_numeric(frame[column], errors="coerce")
        return frame.loc[(years.isna() | (years <= year)).to_numpy()].reset_index(drop=True)

    extra = {}
    if isinstance(getattr(data, "tables", None), dict):  # every table of the return
        extra["tables"] = {name: keep(frame, "YEAR") for name, frame in data.tables.items()}
    return dataclasses.replace(
        data,
        **extra,
        header=keep(data.header, "YEAR"),
        episodes=keep(data.episodes, "YEAR"),
        uasc=keep(data.uasc, "YEAR"),
        files=keep(data.files, "year"),
        errors=keep(data.errors, "year"),
        ledger=keep(data.ledger, "year"),
    )


def stock_revisions(
    data: ssda903.Return,
    year: int,
    *,
    continues: Sequence[str] = ssda903.CONTINUES_PLACEMENT,
    cleaned_to: Any = None,
) -> pd.DataFrame:
    """How each return up to ``year`` revised the count of children looked after at the
    end of the year before it. Columns: ``authority``, ``year`` (the revising return's),
    ``first`` (the count the earlier return reported), ``revised`` (the count the later
    one reports for the same day) and ``log_ratio``. Late records (a child's period of
    care first reported a year late) make the ratio exceed one.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> projection.stock_revisions(data, 2020)[["year", "first", "revised"]]
       year  first  revised
    0  2019    430      524
    1  2020    234      326
    """
    if cleaned_to is None:

        def cleaned_to(y: int) -> ssda903.Cleaned:
            return ssda903.clean(returns_up_to(data, y), continues=continues)

    rows = []
    known = [y for y in data.years if y <= year]
    for earlier, later in itertools.pairwise(known):
        if later != earlier + 1:
            continue
        day = [ssda903.year_end(earlier)]
        first = observed_stock(cleaned_to(earlier), day).iloc[:, 0]
        revised = observed_stock(cleaned_to(later), day).iloc[:, 0]
        for authority in first.index.intersection(revised.index):
            a, b = int(first[authority]), int(revised[authority])
            if a > 0 and b > 0:
                rows.append(
                    {
                        "authority": authority,
                        "year": later,
                        "first": a,
                        "revised": b,
                        "log_ratio": float(np.log(b / a)),
                    }
                )
    columns = ["authority", "year", "first", "revised", "log_ratio"]
    return pd.DataFrame(rows, columns=columns)


def observed_stock(
    cleaned: ssda903.Cleaned, dates: Sequence[pd.Timestamp], *, by: str | None = None
) -> pd.DataFrame:
    """Children looked after on each date, by authority (columns: dates), and by ``by``
    when given: an episode column (``placement_type``, ``placement_setting``) or
    ``"age_band"`` (the DfE's bands, :data:`~lacstats.projection.AGE_BANDS`).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import projection, ssda903
    >>> cleaned = ssda903.clean(ssda903.read(ssda903.fake903_path()))
    >>> projection.observed_stock(cleaned, [pd.Timestamp("2019-03-31"), pd.Timestamp("2020-03-31")])
               2019-03-31  2020-03-31
    authority
                      339         214
    >>> projection.observed_stock(cleaned, [pd.Timestamp("2021-03-31")], by="age_band").loc[""]
                 2021-03-31
    age_band
    10 to 15             98
    16 and over          39
    """
    episodes = ssda903.episode_attributes(cleaned) if by not in (None, "age_band") else None
    return _counts(cleaned, cleaned.episodes if episodes is None else episodes, dates, by)


def _counts(cleaned, episodes: pd.DataFrame, dates, by: str | None) -> pd.DataFrame:
    """Distinct children with an episode open on each date (DECOM on or before it, DEC
    after it or missing), by authority and ``by``, every date at once."""
    dates = list(dates)
    keys = ["authority"] if by is None else ["authority", by]
    when = pd.DatetimeIndex(dates)
    decom, dec = episodes["DECOM"].to_numpy(), episodes["DEC"].to_numpy()
    on = when.to_numpy()[None, :]
    row, day = np.nonzero((decom[:, None] <= on) & (np.isnat(dec)[:, None] | (dec[:, None] > on)))
    authority, authorities = pd.factorize(episodes["authority"])
    if by is None:
        group, levels = authority[row], [authorities]
    else:
        if by == "age_band":
            dob = ssda903.child_values(cleaned, episodes, "DOB")
            category = _band_codes(dob.iloc[row], when[day])
            categories = pd.Index(np.array([label for label, _, _ in AGE_BANDS], dtype=object))
        else:
            codes, categories = pd.factorize(episodes[by])
            category = codes[row]
        group = np.where(category >= 0, authority[row] * len(categories) + category, -1)
        levels = [authorities, categories]
    child = pd.factorize(episodes["child_key"])[0][row]
    kept = (group >= 0) & (child >= 0)  # groupby and nunique leave missing values out
    group, day, child = group[kept], day[kept], child[kept]
    # each child once in each group on each date
    n_groups, n_dates, n_children = (
        np.prod([len(v) for v in levels]),
        len(dates),
        child.max(initial=0) + 1,
    )
    cells = np.unique((group * n_dates + day) * n_children + child) // n_children
    matrix = np.bincount(cells, minlength=n_groups * n_dates).reshape(n_groups, n_dates)
    present = np.flatnonzero(matrix.any(axis=1))
    if by is None:
        index = pd.Index(authorities[present], name="authority")
    else:
        width = len(levels[1])
        index = pd.MultiIndex.from_arrays(
            [levels[0][present // width], levels[1][present % width]], names=keys
        )
    table = pd.DataFrame(matrix[present], index=index, columns=dates)
    if by is None:
        return table.reindex(sorted(set(cleaned.authorities["authority"]))).fillna(0).astype(int)
    if by == "age_band":
        order = {label: i for i, (label, _, _) in enumerate(AGE_BANDS)}
        return table.sort_index(key=lambda v: v.map(order) if v.name == "age_band" else v)
    return table.sort_index()


def _band_codes(dob: pd.Series, when: pd.DatetimeIndex) -> np.ndarray:
    """The DfE age band (its place in :data:`AGE_BANDS`) of a child born on ``dob`` on the
    date ``when``, element by element: age in completed years, 0 when ``dob`` is
    missing."""
    missing = dob.isna().to_numpy()
    born = pd.DatetimeIndex(dob.fillna(when[0]) if len(when) else dob)
    before_birthday = (when.month < born.month) | (
        (when.month == born.month) & (when.day < born.day)
    )
    age = np.asarray(when.year - born.year) - np.asarray(before_birthday)
    age = np.where(missing, 0, np.clip(age, 0, MAX_AGE - 1))
    bands = np.empty(MAX_AGE, dtype=np.int64)
    for b, (_, lo, hi) in enumerate(AGE_BANDS):
        bands[lo : hi + 1] = b
    return bands[age]


def backtest(
    data: ssda903.Return,
    *,
    origin: Any = None,
    origins: Sequence[Any] | None = None,
    horizon_months: int = 12,
    history_years: float = 3,
    draws: int = 500,
    pooling: Sequence[str] | str = ("none", "partial"),
    types: str = "placement_type",
    population: pd.Series | None = None,
    continues: Sequence[str] = ssda903.CONTINUES_PLACEMENT,
    drift: bool = True,
    groups: bool = True,
    revision: bool = True,
    bins: int = 10,
    rng: int | np.random.Generator | None = None,
) -> Backtest:
    """Real-time back-test: at each origin, clean only the returns then known, fit on the
    ``history_years`` before it, project ``horizon_months`` ahead with each way of
    ``pooling`` (see :func:`stock_and_flow`), and score each month against the return
    that covers it.

    Parameters
    ----------
    data:
        The returns as read (:func:`lacstats.ssda903.read` or ``from_frames``), not
        cleaned: they are cleaned again for each origin and each year scored, each time
        with only the returns filed by then.
    origin, origins:
        One origin, or several whose scores are pooled: each the day after a collection
        year's end (1 April), ISO or dd/mm/yyyy.
    continues:
        RNE codes that continue a placement (passed to :func:`lacstats.ssda903.clean`).
    drift, groups:
        Passed to :func:`stock_and_flow`.
    revision:
        Scale the starting stock by the revisions the returns known at the origin show
        (:func:`stock_revisions`; passed to :func:`stock_and_flow`).

    Only authorities whose returns cover the origin and every target date are scored.
    Each origin and pooling uses its own stream of random numbers from ``rng``.

    Examples
    --------
    >>> from lacstats import projection, ssda903
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> tested = projection.backtest(data, origins=["2020-04-01", "2021-04-01"], horizon_months=12, history_years=1, draws=100, rng=1)
    >>> print(tested.summary())
    Back-test from 2020-04-01, 2021-04-01, 12 months ahead, 1 authorities
    pooling  forecasts  coverage_50  coverage_90    mae
       none         24        0.167        1.000 13.896
    partial         24        0.375        1.000 14.896
    """
    if isinstance(data, ssda903.Cleaned):
        raise DataError(
            "backtest needs the returns as read (lacstats.ssda903.read), not cleaned: it "
            "cleans again at each origin with only the returns then filed",
            column="data",
        )
    if not isinstance(data, ssda903.Return):
        raise DataError(
            f"backtest needs returns as read (lacstats.ssda903.read), got {type(data).__name__}",
            column="data",
        )
    pooling = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    if not pooling or any(p not in POOLING for p in pooling):
        raise DataError(f"pooling must be among {', '.join(POOLING)}", column="pooling")
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise DataError("horizon_months must be a positive whole number", column="horizon_months")
    if (origin is None) == (origins is None):
        raise DataError("give one origin= or a list origins=", column="origin")
    wanted = [origin] if origins is None else list(origins)
    if not wanted:
        raise DataError("origins is empty", column="origins")
    parsed = [_origin(data, o, horizon_months) for o in wanted]
    known_at = _known(data)

    def cleaned_to(year: int) -> ssda903.Cleaned:
        return known_at.cleaned_to(data, year, continues)

    filed = set(zip(data.files["authority"], data.files["year"].astype(int), strict=True))
    streams = np.random.default_rng(rng).spawn(len(parsed))
    dates = {
        start: [
            start + pd.DateOffset(months=m) - pd.Timedelta(days=1)
            for m in range(1, horizon_months + 1)
        ]
        for start, _ in parsed
    }
    every = sorted({c for census in dates.values() for c in census})
    truth = known_at.truth(data, every, types, continues)
    frames, not_scored = [], set()
    for (start, year), stream in zip(parsed, streams, strict=True):
        census = dates[start]
        years = [_collection_year(c) for c in census]
        known = cleaned_to(year)
        revised = stock_revisions(data, year, cleaned_to=cleaned_to) if revision else None
        scored = [
            a
            for a in known.authorities["authority"]
            if all((a, y) in filed for y in {year, *years})
        ]
        not_scored |= set(known.authorities["authority"]) - set(scored)
        for how, substream in zip(pooling, stream.spawn(len(pooling)), strict=True):
            result = stock_and_flow(
                known,
                start=start,
                months=horizon_months,
                history_years=history_years,
                draws=draws,
                types=types,
                pooling=how,
                population=population,
                drift=drift,
                groups=groups,
                revision=revised,
                rng=substream,
            )
            frames.append(_forecasts(result, truth, census, scored, how, types, start))
    table = pd.concat(frames, ignore_index=True)
    return Backtest(
        forecasts=table,
        scores=_scores(table),
        pit=_histogram(table[(table["authority"] != REGION) & (table["series"] == "total")], bins),
        origins=tuple(s for s, _ in parsed),
        horizon_months=int(horizon_months),
        options={
            "history_years": history_years,
            "draws": draws,
            "pooling": list(pooling),
            "types": types,
            "authorities": int(table.loc[table["authority"] != REGION, "authority"].nunique()),
            "not_scored": sorted(not_scored),
            "real_time": True,
            "drift": drift,
            "groups": groups,
            "revision": revision,
        },
    )


def _collection_year(date: pd.Timestamp) -> int:
    return date.year + 1 if date.month >= 4 else date.year


def _origin(data: ssda903.Return, value: Any, horizon: int) -> tuple[pd.Timestamp, int]:
    start = schema.parse_date(value, "origin")
    year = _collection_year(start - pd.Timedelta(days=1))
    if start != ssda903.year_end(year) + pd.Timedelta(days=1):
        raise DataError(
            f"origin {start.date()}: a real-time back-test starts the day after a return's "
            "collection year ends (1 April)",
            column="origin",
            values=[str(start.date())],
        )
    if year not in data.years:
        raise DataError(
            f"origin {start.date()}: no return for the year ending {ssda903.year_end(year).date()}",
            column="origin",
            values=[str(start.date())],
        )
    last = start + pd.DateOffset(months=horizon) - pd.Timedelta(days=1)
    if _collection_year(last) > max(data.years):
        raise DataError(
            f"origin {start.date()} + {horizon} months runs past the returns read "
            f"(to {ssda903.year_end(max(data.years)).date()}): nothing to score against",
            column="origin",
            values=[str(start.date())],
        )
    return start, year


class _Known:
    """The returns as known at each collection year, cleaned once, and the counts the
    returns covering a set of dates report: what the back-tests of the same returns
    share (see :func:`_known`)."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self._cleaned: dict[tuple, ssda903.Cleaned] = {}
        self._truth: dict[tuple, dict[str, pd.DataFrame]] = {}

    def cleaned_to(self, data: ssda903.Return, year: int, continues) -> ssda903.Cleaned:
        key = (year, tuple(continues))
        if key not in self._cleaned:
            self._cleaned[key] = ssda903.clean(returns_up_to(data, year), continues=continues)
        return self._cleaned[key]

    def truth(self, data, census, types: str, continues) -> dict[str, pd.DataFrame]:
        """Observed counts (authority, category) x census date, each date from the return
        covering it (cleaned with the returns up to its year)."""
        key = (tuple(census), types, tuple(continues))
        if key not in self._truth:
            self._truth[key] = _truth(
                lambda year: self.cleaned_to(data, year, continues), census, types
            )
        return self._truth[key]


#: The cleanings of the returns back-tested, by the returns' id while they live: a
#: back-test of returns already tested (another model, another history) cleans nothing
#: again. Each entry is checked against a digest of the returns' tables, so that
#: returns changed in place are cleaned anew.
_KNOWN: dict[int, _Known] = {}


def _known(data: ssda903.Return) -> _Known:
    """The shared cleanings of ``data`` (new ones if its tables changed)."""
    digest = _digest(data)
    entry = _KNOWN.get(id(data))
    if entry is not None and entry.digest == digest:
        return entry
    if id(data) not in _KNOWN:
        weakref.finalize(data, _KNOWN.pop, id(data), None)
    _KNOWN[id(data)] = _Known(digest)
    return _KNOWN[id(data)]


def _digest(data: ssda903.Return) -> str:
    """A digest of every field of the returns: each table's columns, types and rows."""
    digest = hashlib.blake2b(digest_size=16)
    for item in dataclasses.fields(data):
        value = getattr(data, item.name)
        parts = sorted(value.items()) if isinstance(value, dict) else [(item.name, value)]
        for name, part in parts:
            if isinstance(part, pd.DataFrame):
                digest.update(repr((name, list(part.columns), list(part.dtypes))).encode())
                try:
                    rows = pd.util.hash_pandas_object(part, index=True)
                except TypeError:  # cells that cannot be hashed (lists): by their text
                    rows = pd.util.hash_pandas_object(part.astype(str), index=True)
                digest.update(rows.to_numpy().tobytes())
            else:
                digest.update(repr((name, part)).encode())
    return digest.hexdigest()


def _truth(cleaned_to, census, types) -> dict[str, pd.DataFrame]:
    """Observed counts (authority, category) x census date, each date from the return
    covering it (cleaned with the returns up to its year)."""
    years = [_collection_year(c) for c in census]
    out: dict[str, list[pd.DataFrame]] = {"total": [], types: [], "age_band": []}
    for year in sorted(set(years)):
        dates = sorted({c for c, y in zip(census, years, strict=True) if y == year})
        cleaned = cleaned_to(year)
        attributes = ssda903.episode_attributes(cleaned)
        out["total"].append(_counts(cleaned, cleaned.episodes, dates, None))
        out[types].append(_counts(cleaned, attributes, dates, types))
        out["age_band"].append(_counts(cleaned, cleaned.episodes, dates, "age_band"))
    return {k: pd.concat(v, axis=1).fillna(0).astype(int) for k, v in out.items()}


class _Observed:
    """One table of the observed counts on the census dates, by row key: an authority,
    or (authority, category)."""

    def __init__(self, table: pd.DataFrame, census) -> None:
        self.values = table.reindex(columns=census, fill_value=0).to_numpy(dtype=np.int64)
        self.rows = {key: i for i, key in enumerate(table.index)}
        self.categories: dict[str, set] = {}
        if table.index.nlevels == 2:
            for authority, category in table.index:
                self.categories.setdefault(authority, set()).add(category)

    def sum(self, keys) -> np.ndarray:
        """The counts of the rows ``keys`` added up (zero for a key with no row)."""
        out = np.zeros(self.values.shape[1], dtype=np.int64)
        for key in keys:
            if key in self.rows:
                out = out + self.values[self.rows[key]]
        return out


def _forecasts(result, truth, census, scored, how, types, origin) -> pd.DataFrame:
    """Forecast rows of each scored authority and, with several, of their sum: the total,
    each placement type and each DfE age band."""
    names = [a for a in result.authorities if a in scored]
    index = [result.authorities.index(a) for a in names]
    observed = {name: _Observed(table, census) for name, table in truth.items()}
    series = (
        (types, list(result.types), result.by_authority[:, 1:]),
        ("age_band", [band for band, _, _ in AGE_BANDS], result.by_age[:, 1:]),
    )
    who = [(a, [i]) for a, i in zip(names, index, strict=True)]
    if len(names) > 1:
        who.append((REGION, index))
    counts, seen, keys = [], [], []
    for label, columns in who:
        members = names if label == REGION else [label]
        counts.append(result.by_authority[:, 1:, columns].sum(axis=(2, 3)))
        seen.append(observed["total"].sum(members))
        keys.append((label, "total", TOTAL))
        for name, labels, drawn in series:
            table = observed[name]
            summed = drawn[:, :, columns].sum(axis=2)
            extra = set().union(*(table.categories.get(a, set()) for a in members))
            for category in [*labels, *sorted(extra - set(labels))]:
                if category in labels:
                    counts.append(summed[:, :, labels.index(category)])
                else:
                    counts.append(np.zeros(summed.shape[:2], dtype=np.int64))
                seen.append(table.sum([(a, category) for a in members]))
                keys.append((label, name, category))
    return _forecast(
        np.stack(counts, axis=2),
        np.stack(seen, axis=1),
        [str(c.date()) for c in census],
        keys,
        how=how,
        origin=str(origin.date()),
    )


def _forecast(counts, observed, dates, keys, **labels) -> pd.DataFrame:
    """The forecast rows of simulated counts (draws, months, series) beside the observed
    (months, series): one row per series and month, the series named by ``keys``
    (authority, series, category), ``labels`` the same in every row."""
    months, n = observed.shape
    below = (counts < observed[None]).mean(axis=0)
    at_most = (counts <= observed[None]).mean(axis=0)
    tail = (1 - LEVEL) / 2
    q = np.quantile(counts, [tail, 0.25, 0.5, 0.75, 1 - tail], axis=0)

    def by_row(values: np.ndarray) -> np.ndarray:  # (months, series) -> series by series
        return values.T.ravel()

    authority, series, category = (
        np.repeat(np.array(v, dtype=object), months) for v in zip(*keys, strict=True)
    )
    return pd.DataFrame(
        {
            "origin": labels["origin"],
            "pooling": labels["how"],
            "authority": authority,
            "series": series,
            "category": category,
            "month": np.tile(np.arange(1, months + 1), n),
            "date": np.tile(np.array(dates, dtype=object), n),
            "observed": by_row(observed),
            "mean": by_row(counts.mean(axis=0)),
            "median": by_row(q[2]),
            "q25": by_row(q[1]),
            "q75": by_row(q[3]),
            "ci_low": by_row(q[0]),
            "ci_high": by_row(q[4]),
            "level": LEVEL,
            "pit": by_row((below + at_most) / 2),
        }
    )


def _scores(table: pd.DataFrame) -> pd.DataFrame:
    by_authority = _forecast_scores(table, ["pooling", "series", "authority"])
    overall = _forecast_scores(table[table["authority"] != REGION], ["pooling", "series"])
    rows = [
        {"pooling": how, "series": series, "authority": who, **score}
        for (how, series, who), score in by_authority
    ]
    rows += [
        {"pooling": how, "series": series, "authority": OVERALL, **score}
        for (how, series), score in overall
    ]
    return pd.DataFrame(rows)


def _histogram(table: pd.DataFrame, bins: int) -> pd.DataFrame:
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for how, group in table.groupby("pooling", sort=False):
        counts, _ = np.histogram(group["pit"], bins=edges)
        for b in range(bins):
            rows.append(
                {
                    "pooling": how,
                    "bin_low": edges[b],
                    "bin_high": edges[b + 1],
                    "count": int(counts[b]),
                    "share": counts[b] / max(len(group), 1),
                }
            )
    return pd.DataFrame(rows)
