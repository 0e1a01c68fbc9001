"""The DfE's validation rules for the SSDA903 return, by the DfE's codes and messages.

The rules are those of the DfE's validator (``csc-validator-be-903``, the reference
implementation the DfE publishes for the return; its rule sets start with 2022-23 and
lacstats applies them to the earlier years' returns, back to 2017-18), each written here
as operations on whole tables: every authority's return of every year at once, keyed by
return and child, never a loop over children. Each rule says which collection years it
applies in; a rule the DfE changed has a version per span of years.

:func:`run` checks tables already typed by :func:`lacstats.ssda903.read` and returns one
problem per flagged row (the columns of
:data:`lacstats.ssda903.PROBLEM_COLUMNS`, ``rule`` the DfE's code).
:func:`rule_table` lists the rules, the DfE's and lacstats' own.

Some rules cannot be checked as the DfE checks them: the DfE derives PL_LA, PL_LOCATION
and PL_DISTANCE from postcodes with the ONS postcode directory, which lacstats does not
ship, so the rules on those fields read them as the return or extract writes them; rules
that need Ofsted's lists of providers are not run (:data:`NOT_IMPLEMENTED`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lacstats.ssda903._codes import CORE_TABLES, TABLES
from lacstats.ssda903._validation import PROBLEM_COLUMNS, RULES, no_problems
from lacstats.ssda903.dfe import (  # noqa: F401 - the rules register themselves
    _adoption,
    _codes,
    _episodes,
    _header,
    _outcomes,
    _reviews,
    _social_workers,
)
from lacstats.ssda903.dfe._context import TEXT, Context
from lacstats.ssda903.dfe._registry import FIRST_YEAR, LAST_YEAR, REGISTRY, Rule, as_mask

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "NOT_IMPLEMENTED",
    "REGISTRY",
    "Rule",
    "absent_fields",
    "rule_table",
    "run",
]

#: DfE rules lacstats does not run, with why.
NOT_IMPLEMENTED: dict[str, str] = {
    "392c": "checks each postcode against the ONS postcode directory (NSPL), which the DfE's "
    "validator ships and lacstats does not",
}


def versions(year: int) -> dict[str, Rule]:
    """The DfE's rules that apply in collection year ``year`` (end year), by code."""
    out = {}
    for code, found in REGISTRY.items():
        for version in found:
            if version.applies(year):
                out[code] = version
    return out


def rule_table(year: int | None = None) -> pd.DataFrame:
    """Every rule lacstats checks, one row each; with ``year``, the rules of that
    collection year.

    Columns: ``code``, ``source`` (``DfE`` or ``lacstats``), ``message``, ``fields`` (the
    return's fields the rule reads, comma-separated; empty for lacstats' own rules),
    ``first_year`` and ``last_year`` (collection end years; missing for lacstats' own
    rules, which apply every year).

    Examples
    --------
    >>> from lacstats.ssda903 import dfe
    >>> table = dfe.rule_table(2019)
    >>> table[table["code"] == "148"][["source", "message"]].values.tolist()
    [['DfE', 'Date episode ceased and reason episode ceased must both be coded, or both left blank.']]
    >>> table[table["code"] == "dec_before_decom"]["source"].item()
    'lacstats'
    """
    rows = [
        {
            "code": name,
            "source": "lacstats",
            "message": text,
            "fields": "",
            "first_year": pd.NA,
            "last_year": pd.NA,
        }
        for name, text in RULES.items()
    ]
    for code, found in REGISTRY.items():
        for version in found:
            if year is not None and not version.applies(year):
                continue
            rows.append(
                {
                    "code": code,
                    "source": "DfE",
                    "message": version.message,
                    "fields": ", ".join(version.fields),
                    "first_year": version.first,
                    "last_year": version.last,
                }
            )
    table = pd.DataFrame(rows).astype({"first_year": "Int64", "last_year": "Int64"})
    dfe = table["source"] == "DfE"
    table["_order"] = np.where(dfe, 1, 0)
    table["_number"] = pd.to_numeric(table["code"].str.extract(r"^(\d+)")[0], errors="coerce")
    table = table.sort_values(["_order", "_number", "code"], kind="stable")
    return table.drop(columns=["_order", "_number"]).reset_index(drop=True)


def absent_fields(
    version: Rule, written: dict[str, Iterable[str]] | None, present: Iterable[str] | None
) -> tuple[str, ...]:
    """The fields of rule ``version`` that no file of the tables it needs wrote
    (``written``: the columns each table's files wrote, as
    :attr:`lacstats.ssda903.Return.written`); such a rule cannot be checked. A table not
    in ``written`` counts as writing every column.

    Examples
    --------
    >>> from lacstats.ssda903 import dfe
    >>> rule = dfe.REGISTRY["225"][0]
    >>> dfe.absent_fields(rule, {"episodes": ["CHILD", "DECOM", "RNE"]}, ["episodes"])
    ('REASON_PLACE_CHANGE',)
    """
    if not written:
        return ()
    read = set(present) if present is not None else set(written)
    out = []
    for name in version.fields:
        holders = [
            t
            for t in dict.fromkeys((*version.needs, *CORE_TABLES))
            if t in TABLES and t in read and name in (*TABLES[t].required, *TABLES[t].optional)
        ]
        if holders and all(t in written and name not in set(written[t]) for t in holders):
            out.append(name)
    return tuple(out)


def run(
    tables: dict[str, pd.DataFrame],
    *,
    present: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    la_codes: dict[str, str] | None = None,
    written: dict[str, Iterable[str]] | None = None,
) -> pd.DataFrame:
    """The DfE's rules on typed tables (as :attr:`lacstats.ssda903.Return.tables`, the
    core tables included): one problem per flagged row, ``rule`` the DfE's code. Rows are
    flagged only in the collection years the rule applies in; a rule needing a table that
    was not read (``present``) is not run, nor one whose fields no file wrote
    (``written``, the columns each table's files wrote: a regional extract without
    postcodes cannot be checked for them, see :func:`absent_fields`). ``codes`` picks
    rules by code; ``la_codes`` gives each authority's ONS code (the rules that compare
    PL_LA with the authority's own code check only the authorities it names). Columns:
    :data:`~lacstats.ssda903.PROBLEM_COLUMNS` (``authority``, ``table``,
    ``file``, ``year``, ``row``, ``column``, ``value``, ``rule``, ``message``).

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import ssda903
    >>> from lacstats.ssda903 import dfe
    >>> data = ssda903.read(ssda903.fake903_path())
    >>> found = dfe.run({t: data.table(t) for t in ("header", "episodes", "uasc")}, codes=["148"])
    >>> found[["table", "row", "column", "rule"]].head(2)
          table  row column rule
    0  episodes    3    DEC  148
    1  episodes    5    DEC  148
    """
    context = Context(tables, set(present) if present is not None else None, la_codes)
    wanted = None if codes is None else {str(c) for c in codes}
    years = sorted(
        {int(y) for frame in context.t.values() for y in frame["YEAR"].dropna().unique()}
    )
    found = []
    year_of = {name: frame["YEAR"].to_numpy() for name, frame in context.t.items()}
    for code, all_versions in REGISTRY.items():
        if wanted is not None and code not in wanted:
            continue
        for version in all_versions:
            if not any(version.applies(y) for y in years):
                continue
            if not set(version.needs) <= context.present:
                continue
            if absent_fields(version, written, context.present):
                continue
            flagged = version.check(context)
            for table, values in flagged.items():
                frame = context.t[table]
                mask = as_mask(values, len(frame))
                mask &= year_of[table] >= version.first
                mask &= year_of[table] <= version.last
                if not mask.any():
                    continue
                column = next((f for f in version.fields if f in frame), "CHILD")
                at = np.flatnonzero(mask)
                found.append((table, column, code, version.message, at))
    return _problems(context, found)


def _problems(context: Context, found: list) -> pd.DataFrame:
    """The problems table of the flagged rows, built once from arrays: each table's
    columns are taken once for all the rules that flag rows in it (dates written once per
    column), not once per rule."""
    if not found:
        return no_problems()
    sizes = np.array([len(at) for *_, at in found], dtype=np.int64)
    item = np.repeat(np.arange(len(found)), sizes)  # the entry of `found` of each problem
    ends = np.cumsum(sizes)
    total = int(ends[-1])

    def per_item(values: list[str]) -> Any:
        # text, one value per entry: taken by Arrow (as pandas would store the objects)
        return pd.array(pa.array(values, type=pa.large_string()).take(item), dtype=TEXT)

    parts: dict[str, Any] = {
        "table": per_item([f[0] for f in found]),
        "column": per_item([f[1] for f in found]),
        "rule": per_item([f[2] for f in found]),
        "message": per_item([f[3] for f in found]),
    }
    # the flagged rows of each table (and of each table's column), gathered, taken once
    # and put back where each rule's rows go
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (table, column, *_) in enumerate(found):
        groups.setdefault((table, None), []).append(i)
        groups.setdefault((table, column), []).append(i)
    authority = np.empty(total, dtype=object)
    files = np.empty(total, dtype=object)
    year = np.empty(total, dtype=np.int64)
    row = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=object)
    for (table, column), members in groups.items():
        frame = context.t[table]
        at = np.concatenate([found[i][4] for i in members])
        to = np.concatenate([np.arange(ends[i] - sizes[i], ends[i]) for i in members])
        if column is None:
            authority[to] = frame["authority"].to_numpy(dtype=object)[at]
            if "_file" in frame:
                files[to] = frame["_file"].to_numpy(dtype=object)[at]
            year[to] = frame["YEAR"].to_numpy(dtype=np.int64)[at]
            row[to] = frame["_row"].to_numpy(dtype=np.int64)[at] if "_row" in frame else at + 1
        else:
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values.dtype):
                value[to] = _written(values.iloc[at]).to_numpy(dtype=object)
            else:
                value[to] = values.iloc[at].to_numpy(dtype=object)
    parts.update(authority=authority, file=files, year=year, row=row, value=value)
    out = pd.DataFrame({c: parts[c] for c in PROBLEM_COLUMNS})
    return out.astype({"year": "Int64", "row": "Int64"})


def _written(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.strftime("%d/%m/%Y").astype(object)
    return values.astype(object)
