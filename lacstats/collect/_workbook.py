"""Collection workbooks: one XLSX per authority that makes wrong entries hard.

Each workbook has three sheets:

``Cases``
    Row 1 the human headers, units in brackets ("Weekly cost (£)"); row 2 the case
    table's column names (``weekly_cost``), which is what :func:`lacstats.collect.merge`
    reads; from row 3 one pre-numbered row per case the study's design asks of the
    authority, its pseudonymous ``case_id`` (``KEN-001``), authority and authority type
    filled in. Every column carries Excel data validation with an input message: drop-down
    lists (from the Codes sheet) for coded columns and yes/no flags, whole numbers 1-5 for
    need scores, whole numbers or non-negative decimals within the case table's bounds for
    ages, counts, costs, distances and months. Costs are formatted in pounds. The sheet is
    protected without a password, so headers and case ids cannot be typed over by accident;
    the cells to fill are unlocked.
``Instructions``
    What to sample (the study's selection rule), the frame and sample size, how to
    pseudonymise, how to fill the sheet and where to return it, and every column's meaning.
``Codes``
    The lists behind the drop-downs, with what each placement setting and needs-met code
    means; protected.

The case table has no date column, so no cell takes a date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats import datasets, schema
from lacstats.errors import DataError
from lacstats.results import Result

__all__ = [
    "CASES",
    "CODES",
    "FIRST_ROW",
    "INSTRUCTIONS",
    "LABELS",
    "TEMPLATE_SHEETS",
    "Templates",
    "case_ids",
    "file_stem",
    "header",
    "study_columns",
    "template",
]

CASES, INSTRUCTIONS, CODES = "Cases", "Instructions", "Codes"
TEMPLATE_SHEETS: tuple[str, ...] = (CASES, INSTRUCTIONS, CODES)
#: The first case row of the Cases sheet (row 1: headers, row 2: column names).
FIRST_ROW = 3
#: Filled in by the template: the rest are the authority's to fill.
PREFILLED: tuple[str, ...] = ("case_id", "authority", "authority_type")
YES_NO: tuple[str, ...] = ("yes", "no")

#: The human header of every column of the case table (units are added by :func:`header`).
LABELS: dict[str, str] = {
    "case_id": "Case id",
    "authority": "Authority",
    "authority_type": "Authority type",
    "age": "Age",
    "sex": "Sex",
    "uasc": "Unaccompanied asylum-seeking child",
    "placement_setting": "Placement setting",
    "registered": "Registered with Ofsted",
    "weekly_cost": "Weekly cost",
    "distance_miles": "Distance from home",
    "in_authority": "Placed inside the authority",
    "months_in_placement": "Time in placement",
    "placement_number": "Placement number",
    "previous_setting": "Previous setting",
    "previous_weekly_cost": "Previous weekly cost",
    "needs_met": "Needs met",
    "risk_violence": "Violence",
    "risk_missing": "Missing from care",
    "risk_cse": "Child sexual exploitation",
    "risk_cce": "Child criminal exploitation",
    "risk_offending": "Offending",
    "risk_substance": "Substance misuse",
    "risk_self_harm": "Self-harm",
    "mental_health": "Mental health",
    "learning_disability": "Learning disability",
}
_UNITS = {"GBP per week": "£", "miles": "miles", "months": "months", "years": "years"}
#: What each code means, for the Codes sheet and the input messages.
MEANINGS: dict[str, str] = {
    "foster_in_house": "the authority's own foster carers",
    "foster_ifa": "independent fostering agency",
    "foster_kinship": "family and friends (connected person) foster care",
    "residential_la_own": "children's home run by the authority itself",
    "residential_other_la": "children's home run by another local authority",
    "residential_private": "private or voluntary children's home",
    "residential_school": "residential special school",
    "secure_unit": "secure children's home or welfare secure placement",
    "semi_independent": "supported accommodation for 16-17 year olds",
    "unregistered": "a setting that should be registered with Ofsted and is not",
    "with_parents": "placed with parents or a person with parental responsibility",
    "other": "any other setting",
    "not_met": "the placement does not meet the child's current needs",
    "partly": "it meets them partly",
    "mostly": "it meets them mostly",
    "completely": "it meets them completely",
}
_POPULATIONS = {
    "lac_total": "all children looked after",
    "lac_under_1": "children looked after aged under 1",
    "lac_1_4": "children looked after aged 1 to 4",
    "lac_5_9": "children looked after aged 5 to 9",
    "lac_10_15": "children looked after aged 10 to 15",
    "lac_16_over": "children looked after aged 16 and over",
    "lac_10_plus": "children looked after aged 10 and over",
}
_MONEY_FORMAT = '"£"#,##0.00'
_FORMATS = {"money": _MONEY_FORMAT, "float": "0.0", "int": "0", "score": "0"}
# Excel's limits on data-validation texts
_TITLE_MAX, _PROMPT_MAX, _ERROR_MAX = 32, 255, 225


def header(column: schema.Column) -> str:
    """The human header of ``column``: its label and unit, ``"Weekly cost (£)"``.

    Examples
    --------
    >>> from lacstats import collect, schema
    >>> collect.header(next(column for column in schema.COLUMNS if column.name == "weekly_cost"))
    'Weekly cost (£)'
    """
    label = LABELS.get(column.name, column.name.replace("_", " ").capitalize())
    if column.kind == "bool":
        return f"{label} (yes/no)"
    if column.kind == "score":
        return f"{label} (1-5)"
    unit = _UNITS.get(column.unit, column.unit)
    return f"{label} ({unit})" if unit else label


def case_ids(authority: str, n: int) -> list[str]:
    """The pseudonymous case ids of an authority's ``n`` rows: ``KEN-001`` ... (the
    authority's three-letter code, :func:`lacstats.datasets.short_code`).

    Examples
    --------
    >>> from lacstats import collect
    >>> collect.case_ids("Kent", 3)
    ['KEN-001', 'KEN-002', 'KEN-003']
    """
    code = datasets.short_code(authority)
    width = max(3, len(str(n)))
    return [f"{code}-{i:0{width}d}" for i in range(1, n + 1)]


@dataclass(frozen=True)
class Templates(Result):
    """Collection workbooks, one per authority of a study.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import collect, study
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> templates = collect.template(kent_medway)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = templates.write(Path(folder) / "templates")
    ...     print(sorted(path.name for path in written))
    ...
    ['km_Kent.xlsx', 'km_Medway.xlsx']
    >>> templates.workbooks == collect.template(kent_medway).workbooks  # the same study, the same bytes
    True
    """

    study: str
    #: one row per workbook: authority, file, population, rows, first and last case id
    table: pd.DataFrame
    #: file name -> XLSX bytes
    workbooks: dict[str, bytes]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "workbooks": self.table.to_dict(orient="records")}

    def summary(self) -> str:
        rows = int(self.table["rows"].sum())
        return (
            f"Collection workbooks for {self.study}: {len(self.table)} authorities, "
            f"{rows:,} case rows\n{self.table.to_string(index=False)}"
        )

    def write(self, out: str | Path, *, inputs: Iterable[str | Path] = ()) -> list[Path]:
        """Write the workbooks and ``templates.csv`` (this table) into the folder ``out``,
        built aside and swapped in whole (:func:`lacstats.outputs.atomic_directory`)."""
        from lacstats.cells import csv_text
        from lacstats.outputs import atomic_directory, inside

        for name in self.workbooks:  # names are not paths: refused before any write
            inside(out, name)
        with atomic_directory(out, inputs=inputs) as folder:
            for name, data in self.workbooks.items():
                inside(folder, name).write_bytes(data)
            (folder / "templates.csv").write_text(csv_text(self.table), encoding="utf-8")
        return [Path(out) / name for name in self.workbooks]


def template(
    study: Any,
    *,
    authorities: list[str] | None = None,
    return_to: str | None = None,
    deadline: Any = None,
) -> Templates:
    """Collection workbooks for the authorities of ``study`` (a
    :class:`lacstats.study.Study`), each with as many rows as the study's design asks.

    ``authorities`` limits them to some of the study's authorities; ``return_to`` (who to
    send the workbook to) and ``deadline`` (a date, ``dd/mm/yyyy`` or ``yyyy-mm-dd``) go
    into the instructions. The bytes of each workbook depend only on these arguments.

    Examples
    --------
    >>> from lacstats import collect, study
    >>> kent_medway = study.loads('[study]\\nname = "km"\\n[authorities]\\nlist = ["Kent", "Medway"]\\n')
    >>> templates = collect.template(kent_medway, deadline="31/01/2026")
    >>> templates.table[["authority", "file", "rows", "first_case_id"]]
      authority            file  rows first_case_id
    0      Kent    km_Kent.xlsx    90       KEN-001
    1    Medway  km_Medway.xlsx    68       MED-001
    """
    if not hasattr(study, "authorities") or not hasattr(study, "design"):
        raise DataError(
            f"argument 'study' must be a lacstats.study.Study, got {type(study).__name__}",
            column="study",
        )
    if isinstance(authorities, str):
        authorities = [authorities]
    chosen = list(study.authorities) if authorities is None else list(authorities)
    outside = [a for a in chosen if a not in study.authorities]
    if outside:
        raise DataError(
            f"not an authority of the study {study.name!r}: {', '.join(outside)}",
            column="authority",
            values=outside,
        )
    due = None if deadline is None else schema.parse_date(deadline, "deadline")
    plan = study.design().table.set_index("stratum")
    frame = study.frame().set_index("authority")
    rows, books = [], {}
    for authority in chosen:
        n = int(plan.loc[authority, "n"])
        ids = case_ids(authority, n)
        name = f"{study.name}_{file_stem(authority)}.xlsx"
        books[name] = _workbook(study, authority, frame.loc[authority], n, ids, return_to, due)
        rows.append(
            {
                "authority": authority,
                "file": name,
                "population": int(plan.loc[authority, "population"]),
                "rows": n,
                "first_case_id": ids[0],
                "last_case_id": ids[-1],
            }
        )
    return Templates(study=study.name, table=pd.DataFrame(rows), workbooks=books)


def study_columns(study: Any) -> list[schema.Column]:
    """The case table's columns as the study's template asks for them: ages within the
    study's frame (:attr:`lacstats.study.Study.ages`; 10 to 17 for children aged 10 and
    over), the rest as :data:`lacstats.schema.COLUMNS`."""
    low, high = study.ages
    return [
        dataclasses.replace(
            column,
            minimum=low,
            maximum=high,
            description=f"{column.description} (the study's frame: {low} to {high})",
        )
        if column.name == "age"
        else column
        for column in schema.COLUMNS
    ]


def file_stem(authority: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in authority).strip("_")


def code_lists() -> dict[str, tuple[str, ...]]:
    """The lists of the Codes sheet: list name -> codes (``previous_setting`` shares the
    placement settings' list)."""
    lists: dict[str, tuple[str, ...]] = {}
    for column in schema.COLUMNS:
        if column.kind == "code" and column.codes not in lists.values():
            lists[column.name] = column.codes
    lists["yes_no"] = YES_NO
    return lists


def _list_name(column: schema.Column) -> str:
    if column.kind == "bool":
        return "yes_no"
    return next(name for name, codes in code_lists().items() if codes == column.codes)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounds(column: schema.Column) -> tuple[float, float]:
    if column.kind == "score":
        return schema.SCORE_RANGE
    return (column.minimum or 0), column.maximum  # type: ignore[return-value]


def _number(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:.0f}"


def _messages(column: schema.Column) -> tuple[str, str]:
    """The input message and the error message of a column's validation."""
    need = " Required." if not column.nullable else " Leave blank if not known."
    what = column.description[0].upper() + column.description[1:]
    if column.kind == "score":
        prompt = (
            f"{LABELS[column.name]}: a whole number from 1 (none) to 5 (most prevalence); "
            "2-3 low, 4 some."
        )
        return prompt + need, "A need score is a whole number from 1 to 5."
    if column.kind == "bool":
        return f"{what}: choose yes or no.{need}", "Choose yes or no from the list."
    if column.kind == "code":
        return (
            f"{what}: choose from the list (the Codes sheet says what each code means).{need}",
            "Choose a value from the list; the Codes sheet lists them.",
        )
    lo, hi = _bounds(column)
    if column.kind == "money":
        prompt = f"{what}: pounds a week, as a number (4800, not £4,800 or 'four thousand')."
    else:
        unit = f" ({column.unit})" if column.unit else ""
        kind = "a whole number" if column.kind == "int" else "a number"
        prompt = f"{what}{unit}: {kind} from {_number(lo)} to {_number(hi)}."
    kind = "a whole number" if column.kind == "int" else "a number"
    return prompt + need, f"Enter {kind} from {_number(lo)} to {_number(hi)}."


def _validation(column: schema.Column, cells: str, lists: dict[str, str]):
    from openpyxl.worksheet.datavalidation import DataValidation

    prompt, error = _messages(column)
    options: dict[str, Any] = {
        "sqref": cells,
        "allow_blank": True,
        "showInputMessage": True,
        "showErrorMessage": True,
        "errorStyle": "stop",
        "promptTitle": _clip(LABELS[column.name], _TITLE_MAX),
        "prompt": _clip(prompt, _PROMPT_MAX),
        "errorTitle": _clip(f"Not a valid {LABELS[column.name].lower()}", _TITLE_MAX),
        "error": _clip(error, _ERROR_MAX),
    }
    if column.kind in ("code", "bool"):
        return DataValidation(type="list", formula1=lists[_list_name(column)], **options)
    lo, hi = _bounds(column)
    kind = "decimal" if column.kind in ("money", "float") else "whole"
    return DataValidation(
        type=kind, operator="between", formula1=_number(lo), formula2=_number(hi), **options
    )


def _workbook(
    study: Any,
    authority: str,
    facts: pd.Series,
    n: int,
    ids: list[str],
    return_to: str | None,
    deadline: pd.Timestamp | None,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter

    from lacstats.collect._xlsx import workbook_bytes

    book = Workbook()
    book.properties.title = f"{study.title}: {authority}"
    cases = book.active
    cases.title = CASES
    codes = book.create_sheet(CODES)
    lists = _codes_sheet(codes)
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    names_font = Font(italic=True, color="808080", size=9)
    unlocked = Protection(locked=False)
    last = FIRST_ROW + n - 1
    columns = study_columns(study)
    prefill = {
        "case_id": ids,
        "authority": [authority] * n,
        "authority_type": [str(facts["authority_type"])] * n,
    }
    for j, column in enumerate(columns, start=1):
        letter = get_column_letter(j)
        top = cases.cell(row=1, column=j, value=header(column))
        top.font = bold
        top.fill = required_fill if not column.nullable else header_fill
        top.alignment = Alignment(wrap_text=True, vertical="top")
        cases.cell(row=2, column=j, value=column.name).font = names_font
        cases.column_dimensions[letter].width = max(11, min(30, len(header(column)) * 0.75))
        fmt = _FORMATS.get(column.kind)
        for i in range(n):
            cell = cases.cell(row=FIRST_ROW + i, column=j)
            if column.name in prefill:
                cell.value = prefill[column.name][i]
            if fmt:
                cell.number_format = fmt
            if column.name not in ("case_id", "authority"):
                cell.protection = unlocked
        if column.name not in ("case_id", "authority"):
            cases.add_data_validation(
                _validation(column, f"{letter}{FIRST_ROW}:{letter}{last}", lists)
            )
    cases.row_dimensions[1].height = 45
    cases.freeze_panes = f"C{FIRST_ROW}"
    cases.protection.sheet = True
    cases.protection.formatColumns = False  # widths may be changed
    cases.protection.formatRows = False

    instructions = book.create_sheet(INSTRUCTIONS, 1)
    for row in _instructions(study, authority, facts, n, ids, return_to, deadline):
        instructions.append(row)
    instructions["A1"].font = instructions["B1"].font = bold
    instructions.column_dimensions["A"].width = 34
    instructions.column_dimensions["B"].width = 110
    for (cell,) in instructions.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.active = 0
    return workbook_bytes(book)


def _codes_sheet(sheet) -> dict[str, str]:
    """Write the code lists; return each list's cell range for data validation."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ranges = {}
    j = 1
    for name, codes in code_lists().items():
        letter = get_column_letter(j)
        sheet.cell(row=1, column=j, value=name).font = Font(bold=True)
        for i, code in enumerate(codes, start=2):
            sheet.cell(row=i, column=j, value=code)
        ranges[name] = f"{CODES}!${letter}$2:${letter}${len(codes) + 1}"
        sheet.column_dimensions[letter].width = max(14, max(len(c) for c in codes) + 2)
        if any(code in MEANINGS for code in codes):
            j += 1
            sheet.cell(row=1, column=j, value=f"{name}_meaning").font = Font(bold=True)
            for i, code in enumerate(codes, start=2):
                sheet.cell(row=i, column=j, value=MEANINGS.get(code, ""))
            sheet.column_dimensions[get_column_letter(j)].width = 55
        j += 1
    sheet.protection.sheet = True
    return ranges


def _instructions(
    study: Any,
    authority: str,
    facts: pd.Series,
    n: int,
    ids: list[str],
    return_to: str | None,
    deadline: pd.Timestamp | None,
) -> list[tuple[str, str]]:
    population = int(facts[study.population])
    who = _POPULATIONS.get(study.population, study.population)
    selection = study.selection or "(the study file gives no selection rule: ask the data manager)"
    send = return_to or "the study's data manager"
    due = f" by {deadline.day} {deadline:%B %Y}" if deadline is not None else ""
    rows = [
        ("Topic", "Instructions"),
        ("Study", study.title),
        ("Authority", f"{authority} ({facts['authority_type']})"),
        (
            "What to send",
            f"One row of the Cases sheet per child in the sample. Selection rule: {selection}.",
        ),
        (
            "Sampling frame",
            (
                f"{who[0].upper()}{who[1:]} at 31 March {study.frame_year} in the DfE children "
                f"looked after release (column {study.population}): {population:,} in {authority}."
            ),
        ),
        (
            "Sample size",
            (
                f"{n} children of {population:,}: the study's design ({study.convention} "
                f"convention, {study.confidence:.0%} confidence, +/-{study.interval:g} percentage "
                f"points). The Cases sheet has {n} numbered rows, {ids[0]} to {ids[-1]}."
            ),
        ),
        (
            "Pseudonymisation",
            (
                f"Each row already has its case id ({ids[0]} ...). Keep the list that links these "
                "ids to your own records inside your authority and never send it. Do not type "
                "names, initials, dates of birth, addresses, postcodes, your system's child "
                "numbers or notes anywhere in this workbook: only the listed columns are read, "
                "and a return with anything else is sent back."
            ),
        ),
        (
            "Filling in",
            (
                "Choose coded answers from the drop-down lists (the Codes sheet says what each "
                "code means); scores are whole numbers from 1 to 5; costs are pounds a week, as "
                "numbers. Leave a cell blank when it is not known (blank is not 0). Columns "
                "shaded orange are required for every child you return. If you have fewer "
                "children than rows, leave the spare rows blank. Do not delete, add or rename "
                "rows, columns or sheets."
            ),
        ),
        (
            "Returning",
            (
                f"Save the workbook as .xlsx (not CSV) and send it to {send}{due}. "
                "You will receive a list of anything to correct, cell by cell."
            ),
        ),
    ]
    for column in study_columns(study):
        allowed = ""
        if column.kind in ("code", "bool"):
            allowed = f" Allowed: {', '.join(column.codes or YES_NO)}."
        elif column.kind in ("int", "float", "money", "score"):
            lo, hi = _bounds(column)
            allowed = f" From {_number(lo)} to {_number(hi)}."
        need = " Required." if not column.nullable else ""
        rows.append(
            (
                f"Column: {header(column)}",
                (
                    f"{column.name}: {column.description}"
                    f"{f' ({column.unit})' if column.unit else ''}.{allowed}{need}"
                ),
            )
        )
    return rows
