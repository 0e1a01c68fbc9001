"""Collecting case data: a workbook for every authority, merged and checked in one step.

The South East project collected its cases from 19 authorities as spreadsheets, where most
of a study's errors are born: free-text settings, costs typed as words, scores of 0 or 6,
missing rows. A data manager sends each authority a workbook that makes wrong entries hard
(:func:`template`), gets back one validated case table and, for each authority, a list of
what to fix, cell by cell (:func:`merge`), and follows the returns against the design
(:func:`status`)::

    from lacstats import collect, study

    se = study.south_east()
    collect.template(se).write("templates")  # one workbook per authority
    merged = collect.merge(["returns/"], study=se, errors="drop")
    merged.write_issues("issues")  # one list per authority to send back
    merged.write_cases("cases.parquet")
    print(collect.status(merged))
"""

from lacstats.collect._returns import ISSUE_COLUMNS, Merged, ReturnsError, merge
from lacstats.collect._status import CollectionStatus, status
from lacstats.collect._workbook import (
    LABELS,
    PREFILLED,
    Templates,
    case_ids,
    header,
    template,
)

__all__ = [
    "ISSUE_COLUMNS",
    "LABELS",
    "PREFILLED",
    "CollectionStatus",
    "Merged",
    "ReturnsError",
    "Templates",
    "case_ids",
    "header",
    "merge",
    "status",
    "template",
]
