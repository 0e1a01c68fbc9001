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

The data that drive it are packaged files, not code (:mod:`lacstats.ssda903.codes`):

- ``datasets/data/ssda903/codes.toml``: the code lists, with the collection year each code
  was added or retired (K3 from 2024-25; H5, P2 and Z1 retired and Z11-Z14 added from
  2025-26). Years are written as the end year of the collection: "2024-25" is 2025.
- ``datasets/data/ssda903/settings.csv``: PLACE and PLACE_PROVIDER to the case table's
  placement setting, Ofsted registration, and the placement types of Dorset's cost
  calculator (Dorset County Council, "Looked After Children: Current Position, Predicting
  Future Numbers and Reducing Costs", 2017, Table 4).
- ``datasets/data/ssda903/providers.csv``: PLACE_PROVIDER to Dorset's provider groups
  (LA, Agency, Parents).

Its modules follow the work: :mod:`~lacstats.ssda903.codes` (the specification as data),
:mod:`~lacstats.ssda903.authorities` (names and codes in extracts),
:mod:`~lacstats.ssda903.reading` (files, layouts, years and dates),
:mod:`~lacstats.ssda903.validation` (the rules), :mod:`~lacstats.ssda903.cleaning`,
:mod:`~lacstats.ssda903.cases` (deriving the case table) and
:mod:`~lacstats.ssda903.simulation` (synthetic returns and extracts for tests and
benchmarks).

A collection year runs from 1 April to 31 March and is named by its end year; how each
file was dated is in ``Return.files`` (see :mod:`lacstats.ssda903.reading`).
"""

from lacstats.ssda903 import dfe
from lacstats.ssda903.cases import (
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
from lacstats.ssda903.cleaning import CONTINUES_PLACEMENT, LEAVING_AGE, Cleaned, clean, same_as
from lacstats.ssda903.codes import (
    CORE_TABLES,
    NO_PROVIDER,
    TABLES,
    ReturnError,
    code_lists,
    collection_year,
    fake903_path,
    placement_settings,
    provider_groups,
    year_end,
    year_label,
    year_start,
)
from lacstats.ssda903.reading import ERRORS, RULE_SETS, Return, from_frames, read
from lacstats.ssda903.report import ValidationReport, validate
from lacstats.ssda903.simulation import simulate, simulate_region, write
from lacstats.ssda903.validation import RULES

rule_table = dfe.rule_table

__all__ = [
    "CONTINUES_PLACEMENT",
    "CORE_TABLES",
    "DISTANCE_UNKNOWN",
    "ERRORS",
    "LEAVING_AGE",
    "NO_PROVIDER",
    "RULES",
    "RULE_SETS",
    "TABLES",
    "CaseTable",
    "Cleaned",
    "Return",
    "ReturnError",
    "ValidationReport",
    "age_in_years",
    "case_table",
    "child_values",
    "clean",
    "code_lists",
    "collection_year",
    "dfe",
    "episode_attributes",
    "episode_table",
    "fake903_path",
    "from_frames",
    "need_group",
    "placement_settings",
    "provider_groups",
    "read",
    "rule_table",
    "same_as",
    "simulate",
    "simulate_region",
    "to_cases",
    "validate",
    "write",
    "year_end",
    "year_label",
    "year_start",
]
