"""The statutory SSDA903 return: read, validate, clean, and derive the case table.

Every English authority files the SSDA903 return on its looked-after children each year
(DfE, "Children looked after return: guide to submitting data"). This package reads every
table of one or many authorities' returns (Header, Episodes and UASC, which the cases use,
and AD1, placed for adoption, previous permanence, OC2, OC3, reviews, missing and social
worker episodes), as each authority
writes them (CSV, XLSX or the XML upload), as regional extracts write them (one file per
table with ``LA`` and ``YEAR`` columns, or one folder per authority) or as frames already
in memory; validates them against the right year's code lists and the guide's rules,
listing every problem (``errors="raise" | "report" | "drop"``); cleans the episodes the
way demand modellers have to before counting anything, each authority apart, with a
ledger of what each step changed; and derives the case table of :mod:`lacstats.schema` at
a census date.

The data that drive it are packaged files, not code (:func:`code_lists`):

- ``datasets/data/ssda903/codes.toml``: the code lists, with the collection year each code
  was added or retired (K3 from 2024-25; H5, P2 and Z1 retired and Z11-Z14 added from
  2025-26). Years are written as the end year of the collection: "2024-25" is 2025.
- ``datasets/data/ssda903/settings.csv``: PLACE and PLACE_PROVIDER to the case table's
  placement setting, Ofsted registration, and the placement types of Dorset's cost
  calculator (Dorset County Council, "Looked After Children: Current Position, Predicting
  Future Numbers and Reducing Costs", 2017, Table 4).
- ``datasets/data/ssda903/providers.csv``: PLACE_PROVIDER to Dorset's provider groups
  (LA, Agency, Parents).

Its private modules follow the work: ``_codes`` (the specification as data),
``_authorities`` (names and codes in extracts), ``_reading`` (files, layouts, years and
dates), ``_validation`` (the rules), ``_cleaning``, ``_cases`` (deriving the case table)
and ``_simulation`` (synthetic returns and extracts for tests and benchmarks). Every
public name is here, with the DfE's rules in :mod:`lacstats.ssda903.dfe`.

A collection year runs from 1 April to 31 March and is named by its end year; how each
file was dated is in ``Return.files`` (see :class:`Return`).
"""

import importlib
from typing import TYPE_CHECKING

from lacstats.ssda903 import dfe
from lacstats.ssda903._authorities import resolve
from lacstats.ssda903._codes import (
    CORE_TABLES,
    NO_PROVIDER,
    TABLES,
    ReturnError,
    TableSpec,
    code_lists,
    collection_year,
    fake903_path,
    placement_settings,
    provider_groups,
    year_end,
    year_ends,
    year_label,
    year_start,
)
from lacstats.ssda903._reading import ERRORS, RULE_SETS, Return, from_frames, read
from lacstats.ssda903._report import ValidationReport, validate
from lacstats.ssda903._validation import (
    DATE_FORMATS,
    PROBLEM_COLUMNS,
    RULES,
    check_consistency,
    check_table,
    detect_date_format,
    no_problems,
    problem_error,
)

rule_table = dfe.rule_table

#: The names of the modules that reading and validating do not need (cleaning, the case
#: table, simulation), by module: imported when first used, so that reading and
#: validating a return (``lacstats ssda903 validate``) starts without them.
_LAZY = {
    "_cases": (
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
    ),
    "_cleaning": ("CONTINUES_PLACEMENT", "LEAVING_AGE", "Cleaned", "clean", "same_as"),
    "_simulation": ("EPISODE_COLUMNS", "RETURN_COLUMNS", "simulate", "simulate_region", "write"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}

if TYPE_CHECKING:  # the names as type checkers and readers see them
    from lacstats.ssda903._cases import (
        DEFAULT_AUTHORITY,
        DISTANCE_UNKNOWN,
        CaseTable,
        age_in_years,
        case_table,
        child_values,
        episode_attributes,
        episode_table,
        need_group,
        to_cases,
    )
    from lacstats.ssda903._cleaning import (
        CONTINUES_PLACEMENT,
        LEAVING_AGE,
        Cleaned,
        clean,
        same_as,
    )
    from lacstats.ssda903._simulation import (
        EPISODE_COLUMNS,
        RETURN_COLUMNS,
        simulate,
        simulate_region,
        write,
    )


def __getattr__(name: str):
    if name in _LAZY:  # the module itself (``ssda903._cleaning.STEPS``)
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})


__all__ = [
    "CONTINUES_PLACEMENT",
    "CORE_TABLES",
    "DATE_FORMATS",
    "DEFAULT_AUTHORITY",
    "DISTANCE_UNKNOWN",
    "EPISODE_COLUMNS",
    "ERRORS",
    "LEAVING_AGE",
    "NO_PROVIDER",
    "PROBLEM_COLUMNS",
    "RETURN_COLUMNS",
    "RULES",
    "RULE_SETS",
    "TABLES",
    "CaseTable",
    "Cleaned",
    "Return",
    "ReturnError",
    "TableSpec",
    "ValidationReport",
    "age_in_years",
    "case_table",
    "check_consistency",
    "check_table",
    "child_values",
    "clean",
    "code_lists",
    "collection_year",
    "detect_date_format",
    "dfe",
    "episode_attributes",
    "episode_table",
    "fake903_path",
    "from_frames",
    "need_group",
    "no_problems",
    "placement_settings",
    "problem_error",
    "provider_groups",
    "read",
    "resolve",
    "rule_table",
    "same_as",
    "simulate",
    "simulate_region",
    "to_cases",
    "validate",
    "write",
    "year_end",
    "year_ends",
    "year_label",
    "year_start",
]
