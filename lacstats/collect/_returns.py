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
  the list, ``four thousand`` in a cost, a score of 6, a blank required cell, ...; an age
  outside the study's frame (9 in a frame of children aged 10 and over);

An authority of the study that sent no return is listed in ``merged.missing`` and stops
the merge (:class:`ReturnsError`) unless ``allow_missing``: a study without one of its
authorities is not the study its design describes.

Rows whose only filled cells are those the template filled in (case id, authority and its
type) are spare rows, not returns. With ``errors="raise"`` (the default) any problem raises
:class:`ReturnsError`, which carries the issues list and no case table; with
``errors="drop"`` the valid rows are merged and the issues list says which were dropped.
The merged table passes :func:`lacstats.schema.validate` and has only the case table's
columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats import schema
from lacstats.collect._checks import check_authorities, check_case_ids, check_cells
from lacstats.collect._reading import (
    CANONICAL,
    ISSUE_COLUMNS,
    Issues,
    Table,
    expand,
    read_return,
)
from lacstats.collect._workbook import file_stem
from lacstats.errors import DataError
from lacstats.results import Result

__all__ = ["ISSUE_COLUMNS", "Merged", "ReturnsError", "merge"]

ERRORS = ("raise", "drop")


class ReturnsError(DataError):
    """Returns with problems, under ``errors="raise"``: ``merged`` holds the issues list
    (``merged.issues``) and what ``errors="drop"`` would have merged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> cases = synthetic.sample(kent_medway, rng=1)
    >>> cases = cases.astype({"placement_setting": str})
    >>> cases.loc[0, "placement_setting"] = "castle"
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name, part in cases.groupby("authority", observed=True):
    ...         _ = part.to_csv(Path(folder) / f"{name}.csv", index=False)
    ...     try:
    ...         collect.merge([folder], study=kent_medway)
    ...     except collect.ReturnsError as error:
    ...         print(error.merged.issues[["cell", "column", "value"]].to_string(index=False))
    ...
    cell            column  value
      G2 placement_setting castle
    """

    def __init__(self, message: str, merged: Merged) -> None:
        self.merged = merged
        super().__init__(message)


@dataclass(frozen=True)
class Merged(Result):
    """Returned case data, merged and checked.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name, part in synthetic.sample(kent_medway, rng=1).groupby("authority", observed=True):
    ...         _ = part.to_csv(Path(folder) / f"{name}.csv", index=False)
    ...     merged = collect.merge([folder], study=kent_medway)
    ...
    >>> print(merged.summary().splitlines()[0])
    Returns for km: 2 table(s), 158 valid case rows, 0 problem(s)
    """

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
    #: the study's authorities that sent no return
    missing: tuple[str, ...] = ()

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
            "missing": list(self.missing),
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
        from lacstats.cells import csv_text
        from lacstats.collect._xlsx import workbook_bytes
        from lacstats.outputs import atomic_directory, inside

        if fmt not in ("xlsx", "csv"):
            raise DataError(f"issues format must be xlsx or csv, got {fmt!r}", column="fmt")
        written = []
        names = {
            authority: (
                f"{self.study.name}_{file_stem(authority)}" if authority else "unidentified"
            )
            + f"_issues.{fmt}"
            for authority in self.issues_by_authority()
        }
        for name in names.values():  # names are not paths: refused before any write
            inside(out, name)
        with atomic_directory(out, inputs=inputs) as folder:
            # every echoed cell made safe: a return's text never runs in a spreadsheet
            (folder / "issues.csv").write_text(csv_text(_echoed(self.issues)), encoding="utf-8")
            written.append(Path(out) / "issues.csv")
            for authority, part in self.issues_by_authority().items():
                name = names[authority]
                if fmt == "csv":
                    inside(folder, name).write_text(csv_text(_echoed(part)), encoding="utf-8")
                else:
                    data = workbook_bytes(_issues_book(part, authority))
                    inside(folder, name).write_bytes(data)
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


def _echoed(issues: pd.DataFrame) -> pd.DataFrame:
    """The issues with every text cut to a readable length (an echoed value is already cut
    where it is read: the issue names the cell, a 200 MB string is not copied) and made safe
    for a spreadsheet."""
    from lacstats.cells import MAX_ECHO, safe_frame

    return safe_frame(issues, limit=5 * MAX_ECHO)


def _issues_book(issues: pd.DataFrame, authority: str):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from lacstats.cells import safe_text

    book = Workbook()
    sheet = book.active
    sheet.title = "Issues"
    sheet.append(list(ISSUE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _echoed(issues).itertuples(index=False):
        sheet.append(list(row))
    widths = {"A": 22, "B": 34, "C": 12, "D": 8, "E": 22, "F": 22, "G": 70, "H": 22}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    for (cell,) in sheet.iter_rows(min_row=2, min_col=7, max_col=7):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.properties.title = safe_text(f"Issues to correct: {authority or 'unidentified returns'}")
    return book


# --- the merge -----------------------------------------------------------------------


def merge(
    returned: Iterable[str | os.PathLike[str]],
    *,
    study: Any = None,
    errors: str = "raise",
    allow_missing: bool = False,
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
    allow_missing:
        Merge without the authorities that sent no return (listed in ``merged.missing``);
        otherwise any such authority raises :class:`ReturnsError`, whatever ``errors``
        says.

    Returns
    -------
    Merged
        The merged case table, the issues list and one row per table read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study, synthetic
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> cases = synthetic.sample(kent_medway, rng=1)
    >>> cases.loc[3, "weekly_cost"] = -40.0
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name, part in cases.groupby("authority", observed=True):
    ...         _ = part.to_csv(Path(folder) / f"{name}.csv", index=False)
    ...     merged = collect.merge([folder], study=kent_medway, errors="drop")
    ...
    >>> len(merged.cases), len(merged.issues)
    (157, 1)
    >>> merged.issues[["authority", "file", "cell", "column", "value", "effect"]]
      authority      file cell       column  value          effect
    0      Kent  Kent.csv   I5  weekly_cost  -40.0  row not merged
    """
    if errors not in ERRORS:
        raise DataError(f"errors must be 'raise' or 'drop', got {errors!r}", column="errors")
    if isinstance(returned, str | os.PathLike):
        returned = [returned]  # one file or folder
    paths = list(returned) if isinstance(returned, Iterable) else None
    if paths is None or not all(isinstance(item, str | os.PathLike) for item in paths):
        raise DataError(
            f"argument 'returned' must be files or folders (paths), got {returned!r}",
            column="returned",
        )
    if study is None:
        from lacstats.study import south_east

        study = south_east()
    issues = Issues()
    tables: list[Table] = []
    files = expand(paths)
    if paths and not files:  # none given is a status before any return came back
        raise DataError(
            f"no returns to merge in {', '.join(map(str, paths))}: no file found",
            column="returned",
        )
    for path in files:
        tables.extend(read_return(path, study, issues))
    check_authorities(tables, study, issues)
    check_case_ids(tables, study, issues)
    for table in tables:
        check_cells(table, study, issues)
    # an authority whose return could not be read did send one: it is listed as a problem
    named = {table.authority for table in tables if table.authority}
    named |= {row["authority"] for row in issues.rows if row["authority"]}
    missing = tuple(a for a in study.authorities if a not in named)
    order = {name: k for k, name in enumerate(study.authorities)}
    parts, summary = [], []
    for table in tables:
        valid = [r for r in table.filled if r not in table.bad_rows]
        merged = not table.rejected
        if merged and valid:
            part = table.data.loc[valid, [c for c in CANONICAL if c in table.columns]]
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
        else pd.DataFrame({name: pd.Series([], dtype=object) for name in CANONICAL})
    )
    cases = schema.validate(frame, authorities=list(study.authorities))
    cases = cases[[*CANONICAL, "risk_score"]]
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
        missing=missing,
    )
    if missing and not allow_missing:
        also = f"; {len(result.issues)} problem(s) in the returns" if len(result.issues) else ""
        raise ReturnsError(
            f"{len(missing)} of the study's {len(study.authorities)} authorities sent no "
            f"return ({', '.join(missing)}){also}; no case table merged (allow_missing=True "
            "merges without them)",
            result,
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
