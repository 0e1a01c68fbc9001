"""One face for every result object.

A result is a frozen dataclass that derives from :class:`Result` and says how it reads as
a table (:meth:`Result.to_frame`). From that the base gives every result the same face:

- ``summary()``: a plain-text report (a title line, then the table);
- ``to_frame()``: a tidy :class:`pandas.DataFrame` with identifier-safe column names;
- ``to_dict()``: JSON-safe values only (numbers, strings, booleans, ``None``, lists and
  dicts of them), from the dataclass fields; tables become lists of records;
- ``_repr_html_()``: the title and the table as HTML, for notebooks;
- ``str(result)`` is its summary.

A result overrides ``summary`` or ``to_dict`` where its own reads better; nothing else is
needed. No result hides metadata in ``DataFrame.attrs``: what a result knows is a field.
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with every part made JSON-safe: NumPy scalars and arrays to Python numbers
    and lists, NaN and NA to ``None``, dates to ISO text, frames to lists of records, series
    to dicts, results to their ``to_dict()``, tuples and sets to lists.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from lacstats.results import jsonable
    >>> jsonable({"n": np.int64(87), "share": np.float64(0.25), "missing": np.nan, "when": pd.Timestamp("2017-03-31"), "sizes": (1, 2)})
    {'n': 87, 'share': 0.25, 'missing': None, 'when': '2017-03-31T00:00:00', 'sizes': [1, 2]}
    """
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class Result:
    """Base of every result: subclasses are ``@dataclass(frozen=True)`` and define
    :meth:`to_frame`.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> import pandas as pd
    >>> from lacstats.results import Result
    >>> @dataclass(frozen=True)
    ... class Count(Result):
    ...     "Children counted by setting."
    ...     table: pd.DataFrame
    ...     def to_frame(self):
    ...         return self.table
    ...
    >>> count = Count(pd.DataFrame({"setting": ["foster_ifa", "residential_private"], "n": [12, 5]}))
    >>> print(count.summary())
    Children counted by setting
                setting  n
             foster_ifa 12
    residential_private  5
    >>> count.to_dict()
    {'table': [{'setting': 'foster_ifa', 'n': 12}, {'setting': 'residential_private', 'n': 5}]}
    """

    def to_frame(self) -> pd.DataFrame:
        """The result as a tidy table."""
        raise NotImplementedError(f"{type(self).__name__} does not define to_frame()")

    def heading(self) -> str:
        """One line naming the result (the first line of its class docstring by default)."""
        doc = (type(self).__doc__ or type(self).__name__).strip()
        return doc.splitlines()[0].rstrip(".")

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe."""
        return {
            f.name: jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not f.name.startswith("_")
        }

    def summary(self) -> str:
        """A plain-text report: the title, then the table."""
        frame = self.to_frame()
        return f"{self.heading()}\n{frame.to_string(index=False)}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        return f"<p><strong>{html.escape(self.heading())}</strong></p>" + frame.to_html(
            index=False, max_rows=40, border=0, na_rep=""
        )
