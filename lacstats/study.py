"""A study: which authorities, which sampling frame and design, which thresholds, which data.

The South East Complex LAC project is one study among many. A study file (TOML) names the
authorities (a DfE region, or a list of authority names or ONS codes), the sampling frame
(a DfE year and population column), the design (convention, confidence, interval and the
selection rule in words), the thresholds the cohorts and findings use, the published
figures to compare with (if any) and the case data (a file, or the packaged synthetic
sample). Every analysis, pack and the paper read their options from the study.

``lacstats/studies/south_east.toml`` is the seed study (:func:`south_east`); a consortium
writes its own by copying that file::

    [study]
    name = "north_west"
    title = "North West complex needs study"

    [authorities]
    region = "North West"          # or: list = ["Blackpool", "E06000009", ...]

    [frame]
    year = 2019
    population = "lac_10_plus"     # a column of datasets.authority_frame(year)

    [design]
    convention = "crs"
    confidence = 0.95
    interval = 10
    selection = "a simple random sample of looked-after children aged 10 and over"

    [thresholds]
    high_cost = 4800               # GBP a week
    far_miles = 100
    residential_settings = ["residential_la_own", "residential_other_la", "residential_private"]

    [published]
    figures = "none"               # "packaged" (the South East's), "none" or a TOML path

    [cases]
    path = "synthetic"             # or a CSV, XLSX or Parquet case table; "calibrated"
                                   # is the South East's calibrated synthetic sample

    [ssda903]                      # optional: the consortium's own SSDA903 returns
    path = "returns/"              # a folder, a regional extract, or a list of them

Relative paths are read from the study file's folder. :func:`load` validates every key
and value before anything runs, naming the file, the key and the value at fault. The case
table may not exist yet: a study is written before its data are collected, and the design,
the collection workbooks and their status need only its authorities and frame
(``lacstats collect merge --out`` writes the table later); the runs that read it say so
if it is still missing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats import datasets, sampling, schema
from lacstats.errors import DataError, path_argument
from lacstats.results import Result

__all__ = ["FRAME_AGES", "Study", "Thresholds", "load", "loads", "south_east"]

#: The packaged published figures (the five source documents).
PACKAGED = "packaged"
#: An uncalibrated synthetic sample of the study (:func:`lacstats.synthetic.sample`).
SYNTHETIC = "synthetic"
#: The calibrated synthetic South East sample (:func:`lacstats.synthetic.complex_lac`),
#: whose rows reproduce the South East project's published figures.
CALIBRATED = "calibrated"
_YEARS = (2015, 2016, 2017, 2018, 2019)
#: A study's name: a simple identifier, since it names the files lacstats writes
#: (``<name>_<authority>.xlsx``); never a path.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: The ages (whole years at 31 March) each frame population of the DfE releases counts:
#: children looked after are under 18.
FRAME_AGES: dict[str, tuple[int, int]] = {
    "lac_total": (0, 17),
    "lac_under_1": (0, 0),
    "lac_1_4": (1, 4),
    "lac_5_9": (5, 9),
    "lac_10_15": (10, 15),
    "lac_16_over": (16, 17),
    "lac_10_plus": (10, 17),
}
_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "study": {"name": str, "title": str},
    "authorities": {"region": str, "list": list},
    "frame": {"year": int, "population": str},
    "design": {
        "convention": str,
        "confidence": (int, float),
        "interval": (int, float),
        "selection": str,
    },
    "thresholds": {
        "high_cost": (int, float),
        "far_miles": (int, float),
        "residential_settings": list,
    },
    "published": {"figures": str},
    "cases": {"path": str},
    "ssda903": {"path": (str, list)},
}


@dataclass(frozen=True)
class Thresholds:
    """The thresholds cohorts and findings use.

    Examples
    --------
    >>> from lacstats.study import Thresholds
    >>> thresholds = Thresholds(high_cost=5000, far_miles=50)
    >>> thresholds.cohort_overrides()["keeping_local"]
    {'miles': 50}
    """

    #: a placement costing at least this much a week is high cost (GBP)
    high_cost: float = 4800
    #: a child placed further than this from home is far from home (miles)
    far_miles: float = 100
    #: the settings counted as residential care (children's homes)
    residential_settings: tuple[str, ...] = schema.RESIDENTIAL_SETTINGS

    def cohort_overrides(self) -> dict[str, dict[str, Any]]:
        """The overrides of :func:`lacstats.cohorts.assign` these thresholds imply."""
        return {
            "keeping_local": {"miles": self.far_miles},
            "unregistered_care": {"min_weekly_cost": self.high_cost},
            "high_cost_residential": {
                "min_weekly_cost": self.high_cost,
                "settings": self.residential_settings,
            },
            "distant_without_specialist_need": {"miles": self.far_miles},
        }


@dataclass(frozen=True)
class Study(Result):
    """A study: authorities, sampling frame, design, thresholds, published figures, data.

    Examples
    --------
    >>> from lacstats import study
    >>> se = study.south_east()
    >>> se.name, len(se.authorities), se.frame_year, se.population
    ('south_east', 19, 2017, 'lac_10_plus')
    >>> se.design().table[["stratum", "population", "n"]].head(3)
                 stratum  population   n
    0   Bracknell Forest          83  45
    1  Brighton and Hove         313  74
    2    Buckinghamshire         288  72
    >>> int(se.design().table["n"].sum())
    1268
    """

    name: str
    title: str
    #: DfE names of the authorities, in alphabetical order
    authorities: tuple[str, ...]
    #: the region when the study covers one, else None
    region: str | None
    frame_year: int
    population: str
    convention: str = "crs"
    confidence: float = 0.95
    interval: float = 10.0
    selection: str = ""
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: a TOML file of published figures in the format of ``published_findings.toml``, or
    #: None for a study with nothing to compare with
    published: Path | None = None
    #: the case table, or None for a synthetic sample
    cases: Path | None = None
    #: without a case table: the calibrated South East sample (True) or a synthetic
    #: sample of the study (False)
    calibrated: bool = False
    #: the study file, if the study was read from one
    source: Path | None = None
    #: the consortium's own SSDA903 returns (folders or files of an extract), if the study
    #: names them (``[ssda903] path = ...``); none: the SSDA903 sections demonstrate the
    #: packaged synthetic returns
    ssda903: tuple[Path, ...] = ()

    def frame(self) -> pd.DataFrame:
        """The sampling frame: :func:`lacstats.datasets.authority_frame` of the study's year
        and authorities."""
        return datasets.authority_frame(self.frame_year, list(self.authorities))

    def design(self) -> sampling.SampleDesign:
        """The study's stratified design (:func:`lacstats.sampling.design`), one stratum per
        authority."""
        return sampling.design(
            self.frame(),
            population=self.population,
            confidence=self.confidence,
            interval=self.interval,
            convention=self.convention,
        )

    def published_figures(self) -> dict[str, Any] | None:
        """The published figures to compare with, or None."""
        if self.published is None:
            return None
        if self.published == _packaged_findings():
            return datasets.published_findings()
        return _read_toml(self.published)

    def with_cases(self, path: str | Path) -> Study:
        """The same study on the user's own case table (CSV, XLSX or Parquet)."""
        path_argument(path, "path")
        path = Path(path)
        if not path.is_file():
            raise DataError(f"no case table {str(path)!r}", column="cases", values=[str(path)])
        return dataclasses.replace(self, cases=path, calibrated=False)

    @property
    def ages(self) -> tuple[int, int]:
        """The youngest and oldest age the frame's population counts (children looked
        after are under 18: ``lac_10_plus`` is 10 to 17).

        Examples
        --------
        >>> from lacstats import study
        >>> study.south_east().ages
        (10, 17)
        """
        return FRAME_AGES.get(self.population, (0, 17))

    @property
    def frame_description(self) -> str:
        """The sampling frame in words: who, when, from which release."""
        who = datasets.FRAME_POPULATIONS.get(self.population, self.population)
        return f"{who} at 31 March {self.frame_year} (DfE {self.frame_year} release)"

    @property
    def returns_source(self) -> str:
        """Whose SSDA903 returns the study's SSDA903 sections use, in words.

        Examples
        --------
        >>> from lacstats import study
        >>> study.south_east().returns_source
        'the packaged synthetic SSDA903 returns (fake903, Social Finance Ltd), which describe no authority'
        """
        if not self.ssda903:
            return (
                "the packaged synthetic SSDA903 returns (fake903, Social Finance Ltd), which "
                "describe no authority"
            )
        return f"the study's own SSDA903 returns ({', '.join(p.name for p in self.ssda903)})"

    @property
    def data_source(self) -> str:
        """What the case data are, in words."""
        if self.cases is not None:
            return f"the case table {self.cases.name}"
        if self.calibrated:
            return "the calibrated synthetic South East sample"
        return "an uncalibrated synthetic sample of the study's authorities"

    def to_frame(self) -> pd.DataFrame:
        frame = self.frame()
        return frame[["authority", "la_code", "authority_type", "region", self.population]]

    def summary(self) -> str:
        data = self.data_source
        return (
            f"{self.title} ({self.name}): {len(self.authorities)} authorities"
            f"{f' of the {self.region}' if self.region else ''}; frame: {self.population} "
            f"from the DfE {self.frame_year} release; design: {self.convention}, "
            f"{self.confidence:.0%} confidence, +/-{self.interval:g} points; high cost "
            f">= GBP {self.thresholds.high_cost:,.0f} a week, far > "
            f"{self.thresholds.far_miles:g} miles; data: {data}"
        )


def south_east() -> Study:
    """The seed study: the South East Complex LAC project (``studies/south_east.toml``).

    Examples
    --------
    >>> from lacstats import study
    >>> print(study.south_east().summary())
    South East Complex LAC needs analysis (south_east): 19 authorities of the South East; frame: lac_10_plus from the DfE 2017 release; design: crs, 95% confidence, +/-10 points; high cost >= GBP 4,800 a week, far > 100 miles; data: the calibrated synthetic South East sample
    """
    return load(Path(__file__).parent / "studies" / "south_east.toml")


def load(path: str | Path) -> Study:
    """Read and validate a study file (see the module docstring for its keys).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import study
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "kent_medway.toml"
    ...     _ = path.write_text('[study]\\nname = "kent_medway"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    ...     kent_medway = study.load(path)
    ...
    >>> kent_medway.authorities
    ('Kent', 'Medway')
    >>> kent_medway.design().table[["stratum", "population", "n"]]
      stratum  population   n
    0    Kent        1456  90
    1  Medway         228  68
    """
    path_argument(path, "path")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no study file {str(path)!r}", column="study", values=[str(path)])
    from lacstats.io import read_toml

    # any encoding refused with a message naming it, before any work (io.read_toml)
    return _from_data(read_toml(path, what="study file"), source=path)


def loads(text: str, *, source: Path | None = None) -> Study:
    """A study from TOML text; relative paths are read from ``source``'s folder.

    Examples
    --------
    >>> from lacstats import LacstatsError, study
    >>> north_west = study.loads('[study]\\nname = "north_west"\\n[authorities]\\nregion = "North West"\\n[frame]\\nyear = 2019\\n')
    >>> len(north_west.authorities), north_west.frame_year
    (23, 2019)
    >>> try:
    ...     study.loads('[study]\\nname = "x"\\n[authorities]\\nregion = "South East"\\n[design]\\nconfidence = 95\\n')
    ... except LacstatsError as error:
    ...     print(error)
    ...
    study: design.confidence = 95.0: must be between 0 and 1
    """
    if not isinstance(text, str):
        raise DataError(
            f"argument 'text' must be TOML text (str), got {type(text).__name__}; study.load reads a file",
            column="text",
        )
    from lacstats.io import toml_text

    where = str(source) if source is not None else "study"
    return _from_data(toml_text(text, label=where, what="study"), source=source)


def _from_data(data: dict[str, Any], *, source: Path | None) -> Study:
    where = str(source) if source is not None else "study"
    _check_keys(data, where)
    base = source.parent if source is not None else Path.cwd()

    def get(table: str, key: str, default: Any = None) -> Any:
        return data.get(table, {}).get(key, default)

    def fail(key: str, value: Any, why: str) -> DataError:
        return DataError(f"{where}: {key} = {value!r}: {why}", column=key, values=[value])

    name = get("study", "name")
    if not name:
        raise fail("study.name", name, "every study needs a name")
    if not NAME.fullmatch(name):
        raise fail(
            "study.name",
            name,
            "a study's name names its files, so it is a simple identifier: letters, digits, "
            "_ and - (at most 64, beginning with a letter or digit), no spaces, dots or "
            "slashes; put anything else in study.title",
        )
    authorities, region = _authorities(data.get("authorities", {}), fail)
    year = get("frame", "year", 2017)
    if year not in _YEARS:
        raise fail("frame.year", year, f"the packaged DfE releases are {_YEARS}")
    population = get("frame", "population", "lac_10_plus")
    columns = datasets.authority_frame(year).columns
    if population not in columns or not population.startswith("lac_"):
        choices = [c for c in columns if c.startswith("lac_")]
        raise fail("frame.population", population, f"choose one of {choices}")
    convention = get("design", "convention", "crs")
    if convention not in sampling.CONVENTIONS:
        raise fail("design.convention", convention, f"choose one of {sampling.CONVENTIONS}")
    confidence = float(get("design", "confidence", 0.95))
    if not 0 < confidence < 1:
        raise fail("design.confidence", confidence, "must be between 0 and 1")
    interval = float(get("design", "interval", 10))
    if not 0 < interval < 100:
        raise fail("design.interval", interval, "must be between 0 and 100 percentage points")
    thresholds = _thresholds(data.get("thresholds", {}), fail)
    published = get("published", "figures", "none")
    cases = get("cases", "path", SYNTHETIC)
    if cases == CALIBRATED and set(authorities) != set(datasets.SOUTH_EAST):
        raise fail(
            "cases.path",
            cases,
            "the calibrated sample is of the 19 South East authorities only; use "
            f'"{SYNTHETIC}" for a synthetic sample of this study',
        )
    return Study(
        name=name,
        title=get("study", "title", name),
        authorities=authorities,
        region=region,
        frame_year=year,
        population=population,
        convention=convention,
        confidence=confidence,
        interval=interval,
        selection=get("design", "selection", ""),
        thresholds=thresholds,
        published=_published_path(published, base, fail),
        cases=_cases_path(cases, base, fail),
        calibrated=cases == CALIBRATED,
        source=source,
        ssda903=_returns_paths(data.get("ssda903", {}), base, fail),
    )


def _check_keys(data: dict[str, Any], where: str) -> None:
    for table, entries in data.items():
        if table not in _KEYS:
            raise DataError(
                f"{where}: unknown table [{table}]; tables: {', '.join(_KEYS)}",
                column=table,
                values=[table],
            )
        if not isinstance(entries, dict):
            raise DataError(f"{where}: {table} must be a table ([{table}])", column=table)
        for key, value in entries.items():
            expected = _KEYS[table].get(key)
            if expected is None:
                raise DataError(
                    f"{where}: unknown key {table}.{key}; keys of [{table}]: "
                    f"{', '.join(_KEYS[table])}",
                    column=f"{table}.{key}",
                    values=[key],
                )
            if not isinstance(value, expected) or isinstance(value, bool):
                kinds = expected if isinstance(expected, tuple) else (expected,)
                names = " or ".join(k.__name__ for k in kinds)
                raise DataError(
                    f"{where}: {table}.{key} = {value!r}: expected {names}",
                    column=f"{table}.{key}",
                    values=[value],
                )


def _authorities(table: dict[str, Any], fail) -> tuple[tuple[str, ...], str | None]:
    known = datasets.english_authorities()
    if ("region" in table) == ("list" in table):
        raise fail("authorities", table, "give either region = ... or list = [...]")
    if "region" in table:
        try:
            region = datasets.region_of(table["region"])
        except DataError as err:
            raise fail("authorities.region", table["region"], str(err)) from err
        names = known.loc[known["region"] == region, "authority"]
        return tuple(sorted(set(names))), region
    names = []
    by_code = dict(zip(known["la_code"], known["authority"], strict=True))
    by_name = {n.lower(): n for n in known["authority"]}
    for entry in table["list"]:
        text = str(entry).strip()
        name = by_code.get(text.upper()) or by_name.get(text.lower())
        if name is None:
            raise fail(
                "authorities.list", entry, "not an English authority's DfE name or ONS code"
            )
        names.append(name)
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise fail("authorities.list", twice, "listed more than once")
    if not names:
        raise fail("authorities.list", [], "name at least one authority")
    return tuple(sorted(names)), None


def _thresholds(table: dict[str, Any], fail) -> Thresholds:
    defaults = Thresholds()
    high_cost = _number(table.get("high_cost", defaults.high_cost))
    if not 0 < high_cost < 100_000:
        raise fail("thresholds.high_cost", high_cost, "a weekly cost in GBP, above 0")
    far = _number(table.get("far_miles", defaults.far_miles))
    if not 0 < far < 1000:
        raise fail("thresholds.far_miles", far, "a distance in miles, above 0")
    settings = tuple(table.get("residential_settings", defaults.residential_settings))
    unknown = [s for s in settings if s not in schema.PLACEMENT_SETTINGS]
    if unknown or not settings:
        raise fail(
            "thresholds.residential_settings",
            unknown or list(settings),
            f"settings are codes of the case table: {', '.join(schema.PLACEMENT_SETTINGS)}",
        )
    return Thresholds(high_cost, far, settings)


def _number(value: float) -> float:
    """A threshold as written: a whole number stays whole (4800, not 4800.0)."""
    return int(value) if float(value).is_integer() else float(value)


def _packaged_findings() -> Path:
    return Path(str(datasets.data_path("published_findings.toml")))


def _published_path(value: str, base: Path, fail) -> Path | None:
    if value == "none":
        return None
    if value == PACKAGED:
        return _packaged_findings()
    path = _resolve(base, value)
    if not path.is_file():
        raise fail("published.figures", value, f"no such file ({path})")
    _read_toml(path)
    return path


def _cases_path(value: str, base: Path, fail) -> Path | None:
    if value in (SYNTHETIC, CALIBRATED):
        return None
    path = _resolve(base, value)
    if path.exists() and not path.is_file():
        raise fail("cases.path", value, f"not a file ({path})")
    return path  # it may not exist yet: the collection writes it


def _returns_paths(table: dict[str, Any], base: Path, fail) -> tuple[Path, ...]:
    if "path" not in table:
        if table:
            raise fail("ssda903", table, "give path = ... (a folder or files of the returns)")
        return ()
    given = table["path"] if isinstance(table["path"], list) else [table["path"]]
    if not given or not all(isinstance(p, str) and p for p in given):
        raise fail("ssda903.path", table["path"], "a folder or file, or a list of them")
    return tuple(_resolve(base, p) for p in given)


def _read_toml(path: Path) -> dict[str, Any]:
    from lacstats.io import read_toml

    return read_toml(path, what="published figures")


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
