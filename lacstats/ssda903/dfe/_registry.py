"""The registry of the DfE's rules: code, message, fields, the collection years each
applies in, and the whole-table check that finds the rows it flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: The first collection year (end year) a rule applies in when it says none: the DfE
#: validator's rule sets start with 2022-23, and lacstats applies them to the returns of
#: earlier years too, back to 2017-18.
FIRST_YEAR = 2018
#: The last collection year (end year) a rule applies in when it says none (2025-26).
LAST_YEAR = 2026


@dataclass(frozen=True)
class Rule:
    """One validation rule: ``code`` and ``message`` (the DfE's, or lacstats' own),
    the ``fields`` it reports, the ``tables`` it needs, the collection years it applies
    in (``first``..``last``, end years) and ``check``, which returns the rows it flags by
    table (boolean arrays aligned with the context's tables).

    Examples
    --------
    >>> from lacstats.ssda903 import dfe
    >>> rule = dfe.REGISTRY["148"][0]
    >>> rule.code, rule.fields, rule.first, rule.applies(2019)
    ('148', ('DEC', 'REC'), 2018, True)
    """

    code: str
    message: str
    fields: tuple[str, ...]
    needs: tuple[str, ...]
    first: int = FIRST_YEAR
    last: int = LAST_YEAR
    check: Callable[[Any], dict[str, Any]] | None = field(default=None, compare=False)
    source: str = "DfE"
    note: str = ""

    def applies(self, year: int) -> bool:
        return self.first <= year <= self.last


#: Every DfE rule lacstats implements, by code; a code may have several versions for
#: different years.
REGISTRY: dict[str, list[Rule]] = {}


def rule(
    code: str,
    message: str,
    *,
    fields: tuple[str, ...],
    needs: tuple[str, ...] = ("episodes",),
    first: int = FIRST_YEAR,
    last: int = LAST_YEAR,
    note: str = "",
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Register ``check`` as the DfE's rule ``code`` for collection years
    ``first``..``last``."""

    def register(check: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        versions = REGISTRY.setdefault(code, [])
        for other in versions:
            if other.first <= last and first <= other.last:
                raise ValueError(f"rule {code}: two versions for the same year")
        versions.append(Rule(code, message, fields, needs, first, last, check, "DfE", note))
        versions.sort(key=lambda r: r.first)
        return check

    return register


def as_mask(values: Any, n: int) -> np.ndarray:
    """A rule's flags for one table as a boolean array of length ``n`` (missing is not a
    flag)."""
    if isinstance(values, pd.Series):
        if values.dtype == bool:
            values = values.to_numpy(copy=True)
        else:
            values = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
    out = np.asarray(values)
    if out.dtype != bool:
        out = pd.Series(out).astype("boolean").fillna(False).to_numpy(dtype=bool)
    if out.shape != (n,):
        raise ValueError(f"a rule returned {out.shape} flags for a table of {n} rows")
    return out
