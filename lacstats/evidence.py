"""The three kinds of evidence, and how a figure was obtained: the vocabulary that
``numbers.json``, ``findings.csv`` and the paper share.

Every figure lacstats writes says which kind of evidence it is (``evidence``) and how it
was obtained (``obtained``), so a reader never takes one kind for another:

- ``case_rows``: recomputed from case rows. On the packaged synthetic sample these match
  the published figures *by construction* (the generator was fitted to them): they show
  that the definitions are right, not that the data are.
- ``synthetic_check``: a method check or demonstration on synthetic data, where the truth
  is the generator's setting. Never a fact about a named, real authority.
- ``real_data``: a finding from real public data (DfE, Ofsted, ONS), from the figures a
  source document published, or from a user's own table.
- ``option``: a setting of the study (a threshold, a seed, a number of draws), written so
  that the paper types none; not evidence.
"""

from __future__ import annotations

__all__ = ["EVIDENCE", "FINDINGS_COLUMNS", "FINDINGS_OBTAINED", "OBTAINED"]

#: Kinds of evidence, with the paper's wording.
EVIDENCE: dict[str, str] = {
    "case_rows": "recomputed from case rows (on the synthetic sample: by construction)",
    "synthetic_check": "method check on synthetic data (the truth is the generator's)",
    "real_data": "real public data, published figures or the user's own data",
    "option": "a setting of the study, not a finding",
}

#: How a row of ``findings.csv`` was obtained.
FINDINGS_OBTAINED: tuple[str, ...] = (
    "recomputed_from_rows",
    "recomputed_from_public_data",
    "arithmetic_on_published_inputs",
)

#: How a figure of ``numbers.json`` was obtained: as in ``findings.csv``, or a value the
#: synthetic generator set (the truth of a method check), or an option of the study.
OBTAINED: tuple[str, ...] = (*FINDINGS_OBTAINED, "generator_setting", "study_option")

#: The columns of ``results/findings.csv``, in order.
FINDINGS_COLUMNS: tuple[str, ...] = (
    "finding",
    "definition",
    "unit",
    "published",
    "reproduced",
    "rule",
    "match",
    "obtained",
    "evidence",
    "must_match",
    "explanation",
    "source",
    "analysis",
)
