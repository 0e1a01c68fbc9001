"""The rules a return must keep: authorities, case ids, and every cell of the case table.

Each check adds a line to the issues list for every problem it finds and marks the rows
(or the whole return) that cannot be merged; none stops at the first problem.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd

from lacstats import datasets, schema
from lacstats.collect._reading import (
    BY_NAME,
    FILE,
    MISSING_ROW,
    ROW,
    Issues,
    Table,
    blank,
    cell_text,
)
from lacstats.collect._workbook import FIRST_ROW, case_ids
from lacstats.errors import DataError

__all__ = ["check_authorities", "check_case_ids", "check_cells"]


def check_authorities(tables: list[Table], study: Any, issues: Issues) -> None:
    """Each return's authority (the one most of its rows name, by DfE name or ONS code):
    rows naming none or another, a return naming none, an authority outside the study,
    two returns for one authority."""
    known = datasets.english_authorities()
    names = {n.lower(): n for n in known["authority"]}
    names.update({c.lower(): n for c, n in zip(known["la_code"], known["authority"], strict=True)})
    for table in tables:
        if "authority" not in table.columns:
            continue
        cells = table.data.loc[table.filled, "authority"]
        resolved = cells.map(lambda v: names.get(cell_text(v).lower()) if not blank(v) else None)
        for row in cells.index[cells.map(blank).to_numpy()]:
            issues.on_table(
                table,
                cell=table.cell("authority", row),
                column="authority",
                rule="a required cell is blank",
                effect=ROW,
            )
            table.bad_rows.add(row)
        unknown = resolved.isna() & ~cells.map(blank)
        for row in cells.index[unknown.to_numpy()]:
            issues.on_table(
                table,
                cell=table.cell("authority", row),
                column="authority",
                value=cells[row],
                rule="not an English authority's DfE name or ONS code",
                effect=ROW,
            )
            table.bad_rows.add(row)
        counts = Counter(resolved.dropna())
        if not counts:
            issues.on_table(
                table, column="authority", rule="no row names its authority", effect=FILE
            )
            table.rejected = True
            continue
        authority = counts.most_common(1)[0][0]
        table.authority = authority
        for row in resolved.index[(resolved.notna() & (resolved != authority)).to_numpy()]:
            issues.on_table(
                table,
                cell=table.cell("authority", row),
                column="authority",
                value=cells[row],
                rule=f"another authority's row in {authority}'s return: one return per authority",
                effect=ROW,
            )
            table.bad_rows.add(row)
        if authority not in study.authorities:
            issues.on_table(
                table,
                cell=table.cell("authority", int(resolved.first_valid_index())),
                column="authority",
                value=authority,
                rule=f"{authority} is not one of the {len(study.authorities)} authorities of "
                f"the study {study.name!r}",
                effect=FILE,
            )
            table.rejected = table.foreign = True
    by_authority: dict[str, list[Table]] = defaultdict(list)
    for table in tables:
        if table.authority is not None:
            by_authority[table.authority].append(table)
    for authority, group in by_authority.items():
        if len(group) < 2:
            continue
        files = ", ".join(f"{t.file}{f' ({t.sheet})' if t.sheet else ''}" for t in group)
        for table in group:
            issues.on_table(
                table,
                value=authority,
                rule=f"two returns for {authority} ({files}): send one",
                effect=FILE,
            )
            table.rejected = True


def check_case_ids(tables: list[Table], study: Any, issues: Issues) -> None:
    """Case ids: present, the study's pseudonym of the return's authority, issued by the
    template (whose rows must all be there), and each used once across all returns."""
    required = study.design().table.set_index("stratum")["n"]
    seen: dict[str, list[tuple[Table, int, bool]]] = defaultdict(list)
    for table in tables:
        if "case_id" not in table.columns or table.authority is None or table.foreign:
            continue
        code = datasets.short_code(table.authority)
        pattern = re.compile(rf"{re.escape(code)}-\d+")
        issued = case_ids(table.authority, int(required[table.authority]))
        if table.layout != "template":
            issued = None
        ids = table.data["case_id"].map(cell_text)
        for row in table.filled:
            value = ids[row]
            rule = ""
            if not value:
                rule = "a required cell is blank (the case id)"
            elif not pattern.fullmatch(value):
                rule = (
                    f"not a case id of this study: {table.authority}'s are {code}- and a "
                    f"number ({code}-001), never a name or a record number"
                )
            elif issued is not None and value not in issued:
                rule = f"not a case id issued in the template ({issued[0]} to {issued[-1]})"
            if value and not table.rejected:
                seen[value].append((table, row, not rule))
            if rule:
                issues.on_table(
                    table,
                    cell=table.cell("case_id", row),
                    column="case_id",
                    value=table.data.loc[row, "case_id"],
                    rule=rule,
                    effect=ROW,
                )
                table.bad_rows.add(row)
        if issued is not None:
            present = set(ids)
            for k, value in enumerate(issued):
                if value not in present:
                    issues.on_table(
                        table,
                        cell=f"A{FIRST_ROW + k}",
                        column="case_id",
                        value=value,
                        rule=f"row deleted: case id {value} (row {FIRST_ROW + k} of the "
                        "template) is missing; put the row back, blank if it has no child",
                        effect=MISSING_ROW,
                    )
    for value, places in seen.items():
        if len(places) < 2:
            continue
        # the first place where the id is the authority's own keeps it
        owner = next((k for k, place in enumerate(places) if place[2]), 0)
        for k, (table, row, _) in enumerate(places):
            if k == owner:
                continue
            others = "; ".join(
                f"{t.file} {t.cell('case_id', r)}"
                for t, r, _ in places
                if t is not table or r != row
            )
            issues.on_table(
                table,
                cell=table.cell("case_id", row),
                column="case_id",
                value=value,
                rule=f"duplicate case id: also in {others}",
                effect=ROW,
            )
            table.bad_rows.add(row)


def _neutral(column: schema.Column, authority: str) -> Any:
    """A valid stand-in for a required cell, so a bad cell does not hide the next one."""
    if column.name == "authority":
        return authority
    if column.kind == "code":
        return column.codes[0]
    if column.kind == "money":
        return 0.0
    return None


def _rule(err: DataError) -> str:
    message = err.args[0].split(" (row ")[0]
    message = re.sub(r"^column '[^']+': ", "", message)
    if message in ("missing value", "missing cost"):
        return "a required cell is blank"
    return message


def _cell_rule(name: str, value: Any, authority: str) -> str:
    """Why the case table refuses ``value`` in column ``name`` on its own ("" if only in
    context)."""
    row = {c.name: _neutral(c, authority) for c in schema.COLUMNS if c.required}
    row["case_id"] = "X-1"
    row[name] = value
    try:
        schema.validate(pd.DataFrame([row], dtype=object), authorities=[authority])
    except DataError as err:
        return _rule(err)
    return ""


def _check_ages(table, study, issues, typed, rows, refused) -> None:
    """Ages outside the study's frame: a child of 9 is not of a frame of children aged 10
    and over, so the row is not merged."""
    low, high = study.ages
    ages = typed["age"].astype("Float64")
    outside = (ages.notna() & ((ages < low) | (ages > high))).to_numpy(dtype=bool)
    for position in np.flatnonzero(outside):
        if (int(position), "age") in refused:
            continue
        row = rows[int(position)]
        issues.on_table(
            table,
            cell=table.cell("age", row),
            column="age",
            value=table.data.loc[row, "age"],
            rule=f"outside the study's frame: {study.frame_description} are aged {low} to {high}",
            effect=ROW,
        )
        table.bad_rows.add(row)


def check_cells(table: Table, study: Any, issues: Issues) -> None:
    """Every cell the case table refuses, all at once: validate, set each refused cell
    to a valid stand-in, validate again, until the table passes."""
    rows = table.filled
    if not len(rows) or table.foreign:
        return
    stand_in = study.authorities[0]
    work = table.data.loc[rows].reset_index(drop=True).copy()
    for column in schema.COLUMNS:
        if column.required and column.name not in work:
            work[column.name] = _neutral(column, stand_in)
    work["case_id"] = [f"X-{i}" for i in range(len(work))]
    work["authority"] = stand_in
    refused: dict[tuple[int, str], str] = {}
    typed = None
    for _ in range(work.size + 1):
        try:
            typed = schema.validate(work, authorities=[stand_in])
            break
        except DataError as err:
            if err.column not in work.columns or not err.rows:
                raise
            for position in err.rows:
                key = (position - 1, err.column)
                if key in refused:  # pragma: no cover - a stand-in refused: a bug
                    raise
                refused[key] = _rule(err)
                spec = BY_NAME.get(err.column)
                work.loc[position - 1, err.column] = (
                    _neutral(spec, stand_in) if spec is not None else None
                )
    for (position, name), loop_rule in sorted(refused.items()):
        row = rows[position]
        value = table.data.loc[row, name]
        rule = (_cell_rule(name, value, stand_in) if name in BY_NAME else "") or loop_rule
        issues.on_table(
            table, cell=table.cell(name, row), column=name, value=value, rule=rule, effect=ROW
        )
        table.bad_rows.add(row)
    if typed is not None and "age" in table.columns:
        _check_ages(table, study, issues, typed, rows, refused)
    if typed is None or table.authority is None or "authority_type" not in table.columns:
        return
    truth = (
        datasets.english_authorities().drop_duplicates("authority").set_index("authority")
    ).loc[table.authority, "authority_type"]
    given = typed["authority_type"].astype(object)
    for position in np.flatnonzero((given.notna() & (given != truth)).to_numpy()):
        if (int(position), "authority_type") in refused:
            continue
        row = rows[int(position)]
        issues.on_table(
            table,
            cell=table.cell("authority_type", row),
            column="authority_type",
            value=table.data.loc[row, "authority_type"],
            rule=f"{table.authority} is a {truth} authority in the DfE data",
            effect=ROW,
        )
        table.bad_rows.add(row)
