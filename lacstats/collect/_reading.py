"""Reading returns: each file's case table, its columns mapped, and an issues list.

A return is a workbook made by :func:`lacstats.collect.template` (human headers in row 1,
the case table's column names in row 2, cases from row 3) or a CSV, XLSX or Parquet table
with the case table's columns (``plain``). Every file is read through
:func:`lacstats.io.read_table`; what cannot be read, and every column that is not the case
table's, becomes a line of the issues list rather than an exception.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats import io, schema
from lacstats.collect._workbook import CASES, LABELS, PREFILLED, TEMPLATE_SHEETS, file_stem, header
from lacstats.errors import DataError

__all__ = [
    "BY_NAME",
    "CANONICAL",
    "COLUMN",
    "FILE",
    "ISSUE_COLUMNS",
    "MISSING_ROW",
    "ROW",
    "SHEET",
    "Issues",
    "Table",
    "blank",
    "cell_text",
    "expand",
    "read_return",
]

#: The columns of an issues list.
ISSUE_COLUMNS: tuple[str, ...] = (
    "authority",
    "file",
    "sheet",
    "cell",
    "column",
    "value",
    "rule",
    "effect",
)
#: What the merge does about a problem (an issue's ``effect``).
ROW, FILE, SHEET, COLUMN = (
    "row not merged",
    "file not merged",
    "sheet not read",
    "column not merged",
)
MISSING_ROW = "row missing from the return"
#: The case table's columns, in order (``risk_score`` is derived on merging).
CANONICAL = tuple(c.name for c in schema.COLUMNS)
BY_NAME = {c.name: c for c in schema.COLUMNS}


@dataclass
class Table:
    """One table of a return: where it came from and its case rows as written."""

    path: Path
    sheet: str
    source: io.Sheet
    layout: str  # "template" | "plain"
    #: canonical column -> the header it is read from
    columns: dict[str, str]
    #: every case row (canonical columns, cells as written), indexed by data row of
    #: ``source`` (1-based)
    data: pd.DataFrame
    filled: pd.Index
    authority: str | None = None
    rejected: bool = False
    #: the return of an authority outside the study: nothing else is checked
    foreign: bool = False
    bad_rows: set[int] = field(default_factory=set)

    @property
    def file(self) -> str:
        return self.path.name

    def cell(self, column: str, row: int) -> str:
        """The spreadsheet cell (``E5``) of ``column`` in data row ``row``; ``row 5`` in a
        Parquet table."""
        if column not in self.columns:
            return ""
        if not self.source.rows:
            return f"row {row}"
        return self.source.cell(self.columns[column], row)


class Issues:
    """The issues list, built up by every reading step and check."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(
        self,
        *,
        authority: str | None,
        file: str,
        sheet: str = "",
        cell: str = "",
        column: str = "",
        value: Any = None,
        rule: str,
        effect: str,
    ) -> None:
        self.rows.append(
            {
                "authority": authority or "",
                "file": file,
                "sheet": sheet,
                "cell": cell,
                "column": column,
                "value": _show(value),
                "rule": rule,
                "effect": effect,
            }
        )

    def on_table(self, table: Table, **kwargs: Any) -> None:
        self.add(authority=table.authority, file=table.file, sheet=table.sheet, **kwargs)

    def frame(self) -> pd.DataFrame:
        """The issues, file by file, file-level ones first, then cell by cell."""
        order = sorted(
            range(len(self.rows)),
            key=lambda k: (
                self.rows[k]["authority"],
                self.rows[k]["file"],
                self.rows[k]["sheet"],
                *_position(self.rows[k]["cell"]),
                k,
            ),
        )
        rows = [self.rows[k] for k in order]
        return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS), dtype=object).astype(str)


def _position(cell: str) -> tuple[int, int]:
    """(row, column) of ``E5``, ``line 5`` or ``row 5``; (0, 0) for none."""
    found = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    if found:
        column = 0
        for letter in found[1]:
            column = column * 26 + ord(letter) - 64
        return int(found[2]), column
    number = re.search(r"\d+", cell)
    return (int(number[0]), 0) if number else (0, 0)


def _show(value: Any) -> str:
    """A cell as the issues list shows it: text, cut to a readable length (the issue names
    the cell, so a 200 MB string is not copied)."""
    from lacstats.cells import MAX_ECHO

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= MAX_ECHO else f"{text[:MAX_ECHO]}… ({len(text):,} characters)"


def blank(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in schema.NA_SPELLINGS


def expand(returned: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; folders give their files, sorted, skipping hidden files and Excel's
    lock files (``~$Kent.xlsx``); each file once. A file lacstats cannot read (``.xls``,
    ``.ods``, ``.docx``, ...) is kept: reading it makes it a line of the issues list, never
    a silent skip."""
    out: list[Path] = []
    for item in returned:
        path = Path(item)
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and not p.name.startswith((".", "~$"))
            )
        else:
            out.append(path)
    unique = {p.resolve(): p for p in reversed(out)}  # a file named twice is read once
    return [p for p in out if unique.get(p.resolve()) is p]


def _location(message: str) -> str:
    """The cell or line a reading error names, if any."""
    found = re.search(r"\(cells? ([A-Z]+\d+)", message) or re.search(r", line (\d+)", message)
    if not found:
        return ""
    return found[1] if found[1][0].isalpha() else f"line {found[1]}"


def read_return(path: Path, study: Any, issues: Issues) -> list[Table]:
    """The case table of one returned file (none if it cannot be read), listing in
    ``issues`` what cannot be read, extra sheets and columns that are not the case table's."""
    guess = _authority_from_name(path, study)

    def unreadable(err: DataError, sheet: str = "") -> None:
        issues.add(
            authority=guess,
            file=path.name,
            sheet=sheet,
            cell=_location(str(err)),
            rule=f"cannot be read: {err}",
            effect=FILE,
        )

    kind = io.SUFFIXES.get(path.suffix.lower())
    if kind != "excel":
        try:
            (sheet,) = io.read_table(path)
        except DataError as err:
            unreadable(err)
            return []
        return [_case_table(path, "", sheet, guess, issues)]
    try:
        names = io.sheet_names(path)
    except DataError as err:
        unreadable(err)
        return []
    if CASES in names:
        chosen = CASES
    elif len(names) == 1:
        chosen = names[0]
    else:
        issues.add(
            authority=guess,
            file=path.name,
            rule=f"no sheet called {CASES!r} (sheets: {', '.join(names)}); "
            f"the cases go on the {CASES} sheet of the template",
            effect=FILE,
        )
        return []
    for name in names:
        if name != chosen and name not in TEMPLATE_SHEETS:
            issues.add(
                authority=guess,
                file=path.name,
                sheet=name,
                cell=_extent(path, name),
                value=name,
                rule=f"an extra sheet: a return has the sheets {', '.join(TEMPLATE_SHEETS)} "
                f"only; move any cases into {CASES} and delete this sheet",
                effect=SHEET,
            )
    try:
        (sheet,) = io.read_table(path, sheet=chosen)
    except DataError as err:
        unreadable(err, chosen)
        return []
    return [_case_table(path, chosen, sheet, guess, issues)]


def _extent(path: Path, sheet: str) -> str:
    """The cells an extra sheet uses (``A1:C12``), to point at what to remove."""
    try:
        (table,) = io.read_table(path, sheet=sheet)
    except DataError as err:
        return _location(str(err))
    if not table.rows and not len(table.frame.columns):
        return ""
    columns = list(table.frame.columns)
    first = table.cell(columns[0], 1) if table.rows else ""
    top = int(re.sub(r"[A-Z]+", "", first)) - 1 if first else 1
    last = table.cell(columns[-1], len(table.rows)) if table.rows else ""
    letters = re.sub(r"\d+", "", last) if last else ""
    if not last:
        return f"A{top}"
    return f"A{top}:{letters}{table.rows[-1]}"


def _authority_from_name(path: Path, study: Any) -> str | None:
    """The study authority whose template file name this is, if any (for routing issues
    about a file whose cells name no authority)."""
    stem = path.stem.lower()
    for authority in study.authorities:
        if stem.endswith(file_stem(authority).lower()):
            return authority
    return None


def _labels() -> dict[str, str]:
    out = {}
    for column in schema.COLUMNS:
        out[header(column).lower()] = column.name
        out[LABELS[column.name].lower()] = column.name
    return out


def _case_table(
    path: Path, sheet_name: str, sheet: io.Sheet, guess: str | None, issues: Issues
) -> Table:
    """The case rows of a sheet, its columns mapped to the case table's: by the names in
    row 2 of a template, else by the header (a column name or its human header)."""
    frame = sheet.frame
    headers = [str(h) for h in frame.columns]
    known = {*CANONICAL, "risk_score"}
    first = frame.iloc[0] if len(frame) else None
    template = first is not None and sum(cell_text(v) in known for v in first.to_numpy()) >= 3
    labels = _labels()
    columns: dict[str, str] = {}
    table = Table(
        path,
        sheet_name,
        sheet,
        "template" if template else "plain",
        columns,
        pd.DataFrame(),
        pd.Index([]),
        guess,
    )
    # the row naming the columns: row 2 of a template, the header of a plain table
    names_row = (sheet.rows[0] - (0 if template else 1)) if sheet.rows else None

    def where(heading: str) -> str:
        if names_row is None:
            return "header"
        return re.sub(r"\d+", "", sheet.cell(heading, 1)) + str(names_row)

    renamed: dict[str, int] = {}  # template column -> its issue
    for j, heading in enumerate(headers):
        given = cell_text(first.iloc[j]) if template else heading.strip()
        name = given if given in known else None
        if name is None and not (template and given):
            name = labels.get((heading if template else given).strip().lower())
        if name is None:
            expected = _template_column(j, heading) if template else None
            if expected is not None:
                renamed[expected] = len(issues.rows)
            issues.on_table(
                table,
                cell=where(heading),
                column=given or heading,
                value=given or heading,
                rule=_unknown_column(given or heading, expected, heading, columns),
                effect=COLUMN,
            )
        elif name in columns:
            issues.on_table(
                table,
                cell=where(heading),
                column=name,
                value=given or heading,
                rule=f"column {name!r} given twice; keep one",
                effect=COLUMN,
            )
        else:
            columns[name] = heading
    missing = [c.name for c in schema.COLUMNS if c.required and c.name not in columns]
    whole = "sheet not merged" if sheet_name else FILE
    for name in missing:
        if name in renamed:
            issues.rows[renamed[name]]["effect"] = whole
            continue
        issues.on_table(
            table,
            cell=f"row {names_row}" if names_row else "header",
            column=name,
            rule=f"required column {name!r} ({header(BY_NAME[name])}) is missing",
            effect=whole,
        )
    if missing:
        table.rejected = True
    body = frame.iloc[1:] if template else frame
    body = body.set_axis(range(len(frame) - len(body) + 1, len(frame) + 1))
    data = pd.DataFrame(
        {name: body[heading].to_numpy() for name, heading in columns.items()},
        index=body.index,
        dtype=object,
    )
    entry = [c for c in data.columns if c not in PREFILLED]
    filled = data.index[~data[entry].map(blank).all(axis=1).to_numpy()] if entry else data.index
    table.data, table.filled = data, filled
    return table


def cell_text(value: Any) -> str:
    """A cell as stripped text, ``""`` when blank."""
    return "" if blank(value) else str(value).strip()


def _template_column(position: int, heading: str) -> str | None:
    """The template's column at ``position``, if the human header there is still its."""
    order = list(schema.COLUMNS)
    if position < len(order) and heading == header(order[position]):
        return order[position].name
    return None


def _unknown_column(given: str, expected: str | None, heading: str, found: dict[str, str]) -> str:
    if expected is not None:
        return (
            f"renamed column: the template's column here is {expected!r} "
            f"({heading}); put its name back"
        )
    absent = [c for c in CANONICAL if c not in found]
    guess = difflib.get_close_matches(given.strip().lower().replace(" ", "_"), absent, n=1)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return (
        "not a case-table column: a return carries only the case table's columns (no "
        f"names, notes or other free text){hint}"
    )
