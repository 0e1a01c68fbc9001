"""Returned workbooks merged into one case table, with every problem listed at once.

:func:`merge` reads each returned file through :func:`lacstats.io.read_table` (workbooks
made by :func:`lacstats.collect.template`, and CSV, XLSX or Parquet files with the case
table's columns that did not use it), checks all of them and lists **every** problem, not
only the first: authority, file, sheet, cell, column, value, the rule broken and what the
merge does about it. The rules:

- a file that cannot be read (damaged, password-protected, not UTF-8 text, a value under
  no column header), a workbook with a sheet beyond Cases, Instructions and Codes, a
  workbook with several sheets and none called Cases;
- a column that is not a case-table column (renamed, or notes, names and other free text),
  a column given twice, a required column missing;
- a return naming no authority, an authority outside the study, two returns for one
  authority, a row naming another authority, an authority type other than the DfE's;
- a case id missing, not the study's pseudonymous form (the authority's three-letter code,
  a hyphen and a number: ``KEN-001``), not issued in the template, or given twice (in a
  return or across returns); a template row deleted;
- every cell the case table refuses (:func:`lacstats.schema.validate`): a setting not on
  the list, ``four thousand`` in a cost, a score of 6, a blank required cell, ...

Rows whose only filled cells are those the template filled in (case id, authority and its
type) are spare rows, not returns. With ``errors="raise"`` (the default) any problem raises
:class:`ReturnsError`, which carries the issues list and no case table; with
``errors="drop"`` the valid rows are merged and the issues list says which were dropped.
The merged table passes :func:`lacstats.schema.validate` and has only the case table's
columns.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lacstats import datasets, io, schema
from lacstats.collect._workbook import (
    CASES,
    FIRST_ROW,
    LABELS,
    PREFILLED,
    TEMPLATE_SHEETS,
    case_ids,
    file_stem,
    header,
)
from lacstats.errors import DataError
from lacstats.results import Result

__all__ = ["ISSUE_COLUMNS", "Merged", "ReturnsError", "merge"]

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
ROW, FILE, SHEET, COLUMN = (
    "row not merged",
    "file not merged",
    "sheet not read",
    "column not merged",
)
MISSING_ROW = "row missing from the return"
ERRORS = ("raise", "drop")
_CANONICAL = tuple(c.name for c in schema.COLUMNS)
_BY_NAME = {c.name: c for c in schema.COLUMNS}


class ReturnsError(DataError):
    """Returns with problems, under ``errors="raise"``: ``merged`` holds the issues list
    (``merged.issues``) and what ``errors="drop"`` would have merged."""

    def __init__(self, message: str, merged: Merged) -> None:
        self.merged = merged
        super().__init__(message)


@dataclass(frozen=True)
class Merged(Result):
    """Returned case data, merged and checked."""

    #: the study (a :class:`lacstats.study.Study`)
    study: Any
    errors: str
    #: the valid rows, validated (:func:`lacstats.schema.validate`), only the case table's
    #: columns, authorities in the study's order
    cases: pd.DataFrame
    #: every problem: :data:`ISSUE_COLUMNS`
    issues: pd.DataFrame
    #: one row per table read: authority, file, sheet, layout, rows_filled, rows_valid,
    #: merged
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        return self.returns.copy()

    def to_dict(self) -> dict[str, Any]:
        """Counts, the returns and the issues; never the case rows."""
        from lacstats.results import jsonable

        return {
            "study": self.study.name,
            "errors": self.errors,
            "cases": len(self.cases),
            "returns": jsonable(self.returns),
            "issues": jsonable(self.issues),
        }

    def summary(self) -> str:
        lines = [
            (
                f"Returns for {self.study.name}: {len(self.returns)} table(s), "
                f"{len(self.cases):,} valid case rows, {len(self.issues)} problem(s)"
            )
        ]
        if len(self.returns):
            lines.append(self.returns.to_string(index=False))
        if len(self.issues):
            lines.append(self.issues.to_string(index=False, max_rows=40))
        return "\n".join(lines)

    def issues_by_authority(self) -> dict[str, pd.DataFrame]:
        """The issues list of each authority (``""``: returns naming none)."""
        return {
            str(name): part.reset_index(drop=True)
            for name, part in self.issues.groupby("authority", sort=True)
        }

    def write_issues(
        self,
        out: str | os.PathLike[str],
        *,
        fmt: str = "xlsx",
        inputs: Iterable[str | os.PathLike[str]] = (),
    ) -> list[Path]:
        """Write the issues into the folder ``out``: ``issues.csv`` (all of them) and one
        list per authority to send back (``<study>_<authority>_issues.xlsx`` or ``.csv``;
        ``unidentified_issues`` for returns naming no authority). The folder is built aside
        and swapped in whole."""
        from lacstats.collect._xlsx import workbook_bytes
        from lacstats.outputs import atomic_directory

        if fmt not in ("xlsx", "csv"):
            raise DataError(f"issues format must be xlsx or csv, got {fmt!r}", column="fmt")
        written = []
        with atomic_directory(out, inputs=inputs) as folder:
            self.issues.to_csv(folder / "issues.csv", index=False, lineterminator="\n")
            written.append(Path(out) / "issues.csv")
            for authority, part in self.issues_by_authority().items():
                stem = f"{self.study.name}_{file_stem(authority)}" if authority else "unidentified"
                name = f"{stem}_issues.{fmt}"
                if fmt == "csv":
                    part.to_csv(folder / name, index=False, lineterminator="\n")
                else:
                    (folder / name).write_bytes(workbook_bytes(_issues_book(part, authority)))
                written.append(Path(out) / name)
        return written

    def write_cases(
        self, out: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = ()
    ) -> Path:
        """Write the merged case table to ``out`` (``.parquet`` or ``.csv``), atomically."""
        import io as _io

        from lacstats.outputs import atomic_write_bytes, check_output

        path = Path(out)
        check_output(path, inputs, folder=False)
        if path.suffix.lower() == ".parquet":
            buffer = _io.BytesIO()
            self.cases.to_parquet(buffer, index=False)
            data = buffer.getvalue()
        elif path.suffix.lower() == ".csv":
            data = self.cases.to_csv(index=False, lineterminator="\n").encode("utf-8")
        else:
            raise DataError(f"{out}: write the case table as .parquet or .csv", column="--out")
        atomic_write_bytes(path, data)
        return path


def _issues_book(issues: pd.DataFrame, authority: str):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Issues"
    sheet.append(list(ISSUE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in issues.itertuples(index=False):
        sheet.append(list(row))
    widths = {"A": 22, "B": 34, "C": 12, "D": 8, "E": 22, "F": 22, "G": 70, "H": 22}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    for (cell,) in sheet.iter_rows(min_row=2, min_col=7, max_col=7):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.properties.title = f"Issues to correct: {authority or 'unidentified returns'}"
    return book


# --- reading -------------------------------------------------------------------------


@dataclass
class _Table:
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
        if column not in self.columns:
            return ""
        if not self.source.rows:
            return f"row {row}"
        return self.source.cell(self.columns[column], row)


class _Issues:
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

    def on_table(self, table: _Table, **kwargs: Any) -> None:
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
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in schema.NA_SPELLINGS


def _expand(returned: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; folders give their CSV, XLSX and Parquet files, sorted, skipping
    hidden files and Excel's lock files (``~$Kent.xlsx``); each file once."""
    out: list[Path] = []
    for item in returned:
        path = Path(item)
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file()
                and p.suffix.lower() in io.SUFFIXES
                and not p.name.startswith((".", "~$"))
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


def _read_file(path: Path, study: Any, issues: _Issues) -> list[_Table]:
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
        table = _table(path, "", sheet, guess, issues)
        return [] if table is None else [table]
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
    table = _table(path, chosen, sheet, guess, issues)
    return [] if table is None else [table]


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


def _table(
    path: Path, sheet_name: str, sheet: io.Sheet, guess: str | None, issues: _Issues
) -> _Table | None:
    frame = sheet.frame
    headers = [str(h) for h in frame.columns]
    known = {*_CANONICAL, "risk_score"}
    first = frame.iloc[0] if len(frame) else None
    template = first is not None and sum(_text(v) in known for v in first.to_numpy()) >= 3
    labels = _labels()
    columns: dict[str, str] = {}
    table = _Table(
        path,
        sheet_name,
        sheet,
        "template" if template else "plain",
        columns,
        pd.DataFrame(),
        pd.Index([]),
        guess,
    )
    name_row = (sheet.rows[0] if sheet.rows else 2) if template else None
    renamed: dict[str, int] = {}  # template column -> its issue
    for j, heading in enumerate(headers):
        given = _text(first.iloc[j]) if template else heading.strip()
        name = given if given in known else None
        if name is None and not (template and given):
            name = labels.get((heading if template else given).strip().lower())
        letter = re.sub(r"\d+", "", sheet.cell(heading, 1)) if sheet.rows else ""
        where = f"{letter}{name_row if template else (sheet.rows[0] - 1 if sheet.rows else 1)}"
        if name is None:
            expected = _template_column(j, heading) if template else None
            if expected is not None:
                renamed[expected] = len(issues.rows)
            issues.on_table(
                table,
                cell=where if sheet.rows else "header",
                column=given or heading,
                value=given or heading,
                rule=_unknown_column(given or heading, expected, heading, columns),
                effect=COLUMN,
            )
        elif name in columns:
            issues.on_table(
                table,
                cell=where if sheet.rows else "header",
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
            cell=f"row {sheet.rows[0] - 1}" if sheet.rows else "header",
            column=name,
            rule=f"required column {name!r} ({header(_BY_NAME[name])}) is missing",
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
    filled = data.index[~data[entry].map(_blank).all(axis=1).to_numpy()] if entry else data.index
    table.data, table.filled = data, filled
    return table


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


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
    absent = [c for c in _CANONICAL if c not in found]
    guess = difflib.get_close_matches(given.strip().lower().replace(" ", "_"), absent, n=1)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return (
        "not a case-table column: a return carries only the case table's columns (no "
        f"names, notes or other free text){hint}"
    )


# --- checks --------------------------------------------------------------------------


def _authorities(tables: list[_Table], study: Any, issues: _Issues) -> None:
    known = datasets.english_authorities()
    names = {n.lower(): n for n in known["authority"]}
    names.update({c.lower(): n for c, n in zip(known["la_code"], known["authority"], strict=True)})
    for table in tables:
        if "authority" not in table.columns:
            continue
        cells = table.data.loc[table.filled, "authority"]
        resolved = cells.map(lambda v: names.get(_text(v).lower()) if not _blank(v) else None)
        for row in cells.index[cells.map(_blank).to_numpy()]:
            issues.on_table(
                table,
                cell=table.cell("authority", row),
                column="authority",
                rule="a required cell is blank",
                effect=ROW,
            )
            table.bad_rows.add(row)
        unknown = resolved.isna() & ~cells.map(_blank)
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
    by_authority: dict[str, list[_Table]] = defaultdict(list)
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


def _case_ids(tables: list[_Table], study: Any, issues: _Issues) -> None:
    required = study.design().table.set_index("stratum")["n"]
    seen: dict[str, list[tuple[_Table, int, bool]]] = defaultdict(list)
    for table in tables:
        if "case_id" not in table.columns or table.authority is None or table.foreign:
            continue
        code = datasets.short_code(table.authority)
        pattern = re.compile(rf"{re.escape(code)}-\d+")
        issued = case_ids(table.authority, int(required[table.authority]))
        if table.layout != "template":
            issued = None
        ids = table.data["case_id"].map(_text)
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


def _cells(table: _Table, study: Any, issues: _Issues) -> None:
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
                spec = _BY_NAME.get(err.column)
                work.loc[position - 1, err.column] = (
                    _neutral(spec, stand_in) if spec is not None else None
                )
    for (position, name), loop_rule in sorted(refused.items()):
        row = rows[position]
        value = table.data.loc[row, name]
        rule = (_cell_rule(name, value, stand_in) if name in _BY_NAME else "") or loop_rule
        issues.on_table(
            table, cell=table.cell(name, row), column=name, value=value, rule=rule, effect=ROW
        )
        table.bad_rows.add(row)
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


# --- the merge -----------------------------------------------------------------------


def merge(
    returned: Iterable[str | os.PathLike[str]],
    *,
    study: Any = None,
    errors: str = "raise",
) -> Merged:
    """Read, check and merge returned workbooks (or CSV, XLSX, Parquet case tables).

    Parameters
    ----------
    returned:
        Files, or folders whose CSV, XLSX and Parquet files are read (sorted by name).
    study:
        The :class:`lacstats.study.Study` the returns belong to (default: the South East
        seed study).
    errors:
        ``"raise"``: any problem raises :class:`ReturnsError` (its ``merged.issues`` lists
        every one); ``"drop"``: merge the valid rows and list the rest.

    Returns
    -------
    Merged
        The merged case table, the issues list and one row per table read.
    """
    if errors not in ERRORS:
        raise DataError(f"errors must be 'raise' or 'drop', got {errors!r}", column="errors")
    if study is None:
        from lacstats.study import south_east

        study = south_east()
    issues = _Issues()
    tables: list[_Table] = []
    for path in _expand(returned):
        tables.extend(_read_file(path, study, issues))
    _authorities(tables, study, issues)
    _case_ids(tables, study, issues)
    for table in tables:
        _cells(table, study, issues)
    order = {name: k for k, name in enumerate(study.authorities)}
    parts, summary = [], []
    for table in tables:
        valid = [r for r in table.filled if r not in table.bad_rows]
        merged = not table.rejected
        if merged and valid:
            part = table.data.loc[valid, [c for c in _CANONICAL if c in table.columns]]
            part = part.assign(authority=table.authority)  # as the DfE names it
            parts.append((order.get(table.authority, len(order)), len(parts), part))
        summary.append(
            {
                "authority": table.authority or "",
                "file": table.file,
                "sheet": table.sheet,
                "layout": table.layout,
                "rows_filled": len(table.filled),
                "rows_valid": len(valid) if merged else 0,
                "merged": merged,
            }
        )
    parts.sort(key=lambda p: p[:2])
    frame = (
        pd.concat([p[2] for p in parts], ignore_index=True)
        if parts
        else pd.DataFrame({name: pd.Series([], dtype=object) for name in _CANONICAL})
    )
    cases = schema.validate(frame, authorities=list(study.authorities))
    cases = cases[[*_CANONICAL, "risk_score"]]
    result = Merged(
        study=study,
        errors=errors,
        cases=cases,
        issues=issues.frame(),
        returns=pd.DataFrame(
            summary,
            columns=[
                "authority",
                "file",
                "sheet",
                "layout",
                "rows_filled",
                "rows_valid",
                "merged",
            ],
        ),
    )
    if errors == "raise" and len(result.issues):
        per = result.issues.groupby("authority", sort=True).size()
        listed = ", ".join(f"{a or 'unidentified'}: {n}" for a, n in per.items())
        raise ReturnsError(
            f"{len(result.issues)} problem(s) in the returns ({listed}); no case table "
            "merged (errors='drop' merges the valid rows)",
            result,
        )
    return result
