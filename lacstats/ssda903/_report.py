"""The validation report of SSDA903 returns: every problem by rule, file and row, for the
data's owner.

:func:`validate` reads returns with every rule, lacstats' own and the DfE's for each
return's collection year (:mod:`lacstats.ssda903.dfe`), and returns a
:class:`ValidationReport`: the problems, their counts by rule (every rule of the years
read, with the ones that found nothing), by file, and the files read. It names files,
rows and cell values: it is for the data's owner, never for publication.
:meth:`ValidationReport.to_xlsx` gives the workbook an analyst sends back to the data team
(every text cell written as text, never as a formula: :mod:`lacstats.cells`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats import cells
from lacstats.results import Result, jsonable
from lacstats.ssda903 import dfe
from lacstats.ssda903._codes import CORE_TABLES, year_label
from lacstats.ssda903._reading import Return, read

__all__ = ["ValidationReport", "validate"]


@dataclass(frozen=True)
class ValidationReport(Result):
    """The problems of SSDA903 returns, by rule and file.

    ``problems`` has one row per problem (authority, table, file, year, row, column,
    value, rule, message; ``rule`` is a DfE code such as ``148`` or a name of lacstats'
    own); ``by_rule`` every rule that applies to the years read (``rule``, ``source``,
    ``finds``, ``first_year``, ``last_year``) with its count of ``problems`` and
    ``not_checked``, the columns it needs that no file wrote (blank when it was checked:
    a regional extract without postcodes cannot be checked for them, and a rule is never
    counted as passing on columns that are not there);
    ``by_file`` the counts by authority, file, year and rule; ``files`` the files read
    and how each was dated; ``read`` the summary of what was read.

    Examples
    --------
    >>> from lacstats import ssda903
    >>> report = ssda903.validate(ssda903.fake903_path())
    >>> report.n_problems > 0, report.by_rule.columns.tolist()
    (True, ['rule', 'source', 'finds', 'first_year', 'last_year', 'problems', 'not_checked'])
    >>> report.by_rule.set_index("rule").loc["148", "problems"]
    np.int64(996)
    """

    problems: pd.DataFrame
    by_rule: pd.DataFrame
    by_file: pd.DataFrame
    files: pd.DataFrame
    years: tuple[int, ...]
    read: str

    @property
    def n_problems(self) -> int:
        return len(self.problems)

    @property
    def unchecked(self) -> pd.DataFrame:
        """The rules not checked, for columns no file wrote."""
        return self.by_rule[self.by_rule["not_checked"] != ""].reset_index(drop=True)

    def found(self) -> pd.DataFrame:
        """The rules that found problems, most first."""
        hit = self.by_rule[self.by_rule["problems"] > 0]
        return hit.sort_values("problems", ascending=False, kind="stable").reset_index(drop=True)

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The report's tables by sheet name: ``by rule``, ``by file``, ``problems``,
        ``files``."""
        return {
            "by rule": self.by_rule,
            "by file": self.by_file,
            "problems": self.problems,
            "files": self.files,
        }

    def to_xlsx(self) -> bytes:
        """The report as an XLSX workbook (bytes): a returns' cells, file and sheet names
        are echoed, so every text cell is written as text, never as a formula."""
        return cells.xlsx_bytes(self.sheets())

    def to_frame(self) -> pd.DataFrame:
        """Problems by rule (every rule of the years read)."""
        return self.by_rule.copy()

    def summary(self) -> str:
        years = ", ".join(year_label(y) for y in self.years)
        checked = len(self.by_rule) - len(self.unchecked)
        lines = [f"{self.read}", f"{self.n_problems} problem(s) under {len(self.found())} rule(s)"]
        lines[1] += f" of {checked} checked ({years})" if years else ""
        if len(self.unchecked):
            absent = sorted({c for v in self.unchecked["not_checked"] for c in v.split(", ")})
            lines.append(
                f"{len(self.unchecked)} rule(s) not checked: the files do not have "
                f"column(s) {', '.join(absent)}"
            )
        if self.n_problems:
            shown = self.found()[["rule", "source", "problems", "finds"]].head(20)
            shown = shown.assign(finds=shown["finds"].str.slice(0, 70))
            lines.append(shown.to_string(index=False))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        found = self.found()
        return jsonable(
            {
                "problems": self.n_problems,
                "years": list(self.years),
                "rules_checked": int(len(self.by_rule) - len(self.unchecked)),
                "rules_not_checked": sorted(set(map(str, self.unchecked["rule"]))),
                "by_rule": {
                    str(r): int(n) for r, n in zip(found["rule"], found["problems"], strict=True)
                },
            }
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[1]}</p>" + self.found().to_html(index=False)


def validate(
    path: str | Path | Iterable[str | Path] | Return,
    *,
    year: int | None = None,
    year_from: str = "data",
    year_column: str | None = None,
    codes: dict[str, dict[str, dict[str, Any]]] | str | Path | None = None,
    authority: str | None = None,
) -> ValidationReport:
    """Check SSDA903 returns against every rule and report each problem.

    ``path`` is what :func:`lacstats.ssda903.read` reads (read here with
    ``errors="report"`` and ``rules="all"``), or a :class:`Return` already read with
    ``errors="report"`` (its problems are reported as they are).

    Examples
    --------
    >>> from lacstats import ssda903
    >>> report = ssda903.validate(ssda903.fake903_path())
    >>> report.found()[["rule", "source", "problems"]].head(3)
      rule source  problems
    0  148    DfE       996
    1  393    DfE       791
    2  607    DfE       628
    """
    if isinstance(path, Return):
        data = path
    else:
        data = read(
            path,
            year=year,
            year_from=year_from,
            year_column=year_column,
            codes=codes,
            errors="report",
            authority=authority,
            rules="all",
        )
    problems = data.errors.reset_index(drop=True)
    years = tuple(data.years)
    rules = _rules_of(years, data.written, _present(data))
    counts = problems.groupby("rule").size()
    by_rule = rules.assign(problems=rules["rule"].map(counts).fillna(0).astype("int64"))
    unlisted = sorted(set(counts.index) - set(by_rule["rule"]))
    if unlisted:  # a rule of a year not read (cannot happen with read's problems)
        extra = pd.DataFrame({"rule": unlisted, "problems": [int(counts[r]) for r in unlisted]})
        by_rule = pd.concat([by_rule, extra], ignore_index=True)
    by_rule["not_checked"] = by_rule["not_checked"].fillna("")
    by_rule = by_rule[[*(c for c in by_rule.columns if c != "not_checked"), "not_checked"]]
    by_file = (
        problems.groupby(["authority", "file", "year", "rule"], dropna=False)
        .size()
        .rename("problems")
        .reset_index()
    )
    return ValidationReport(
        problems=problems,
        by_rule=by_rule.reset_index(drop=True),
        by_file=by_file,
        files=data.files,
        years=years,
        read=data.summary(),
    )


def _present(data: Return) -> set[str]:
    """The tables read (a file of them, even empty of rows)."""
    return set(data.written) | {t for t in CORE_TABLES if len(data.table(t))}


def _rules_of(
    years: tuple[int, ...], written: dict[str, tuple[str, ...]], present: set[str]
) -> pd.DataFrame:
    """Every rule of the years read: lacstats' own, then the DfE's (a rule the DfE changed
    appears once per version), with the columns each could not check (``not_checked``)."""
    tables = [dfe.rule_table(y) for y in years] if years else [dfe.rule_table()]
    table = pd.concat(tables, ignore_index=True).drop_duplicates(
        ["code", "source", "first_year", "last_year"]
    )
    table = table.rename(columns={"code": "rule", "message": "finds"})
    versions = {(v.code, v.first, v.last): v for found in dfe.REGISTRY.values() for v in found}
    table["not_checked"] = [
        ", ".join(dfe.absent_fields(versions[(code, int(first), int(last))], written, present))
        if source == "DfE"
        else ""
        for code, source, first, last in zip(
            table["rule"], table["source"], table["first_year"], table["last_year"], strict=True
        )
    ]
    columns = ["rule", "source", "finds", "first_year", "last_year", "not_checked"]
    return table[columns].reset_index(drop=True)
