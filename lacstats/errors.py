"""Exceptions raised by lacstats.

Every error raised because of the user's data or arguments is a :class:`LacstatsError`, so
callers can catch the package's errors in one place. :class:`DataError` is also a
``ValueError`` and carries the column, rows and values it complains about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConvergenceError",
    "DataError",
    "LacstatsError",
    "NotFittedError",
    "frame_argument",
    "number_argument",
    "path_argument",
    "rng_argument",
    "whole_number_argument",
]

#: How many offending rows an error message lists before saying "and N more".
MAX_ROWS_SHOWN = 5
#: How many characters of an offending value an error message shows.
MAX_VALUE_SHOWN = 80


class LacstatsError(Exception):
    """Base class of every error that lacstats raises on purpose.

    Examples
    --------
    >>> from lacstats import LacstatsError, sampling
    >>> try:
    ...     sampling.sample_size(900, confidence=1.5)
    ... except LacstatsError as error:
    ...     print(type(error).__name__, "-", error)
    ...
    DataError - argument 'confidence' must be strictly between 0 and 1, got np.float64(1.5)
    """


class DataError(LacstatsError, ValueError):
    """Bad input data or argument, named precisely.

    Attributes
    ----------
    column:
        The column (or argument, or table and column) at fault, if any.
    rows:
        Row numbers of the first offending rows (1-based data rows, the header not counted).
    values:
        The offending values, in the same order as ``rows``.

    Examples
    --------
    >>> from lacstats.errors import DataError
    >>> error = DataError("weekly_cost must be a number", column="weekly_cost", rows=[3, 7], values=["four thousand", "n/a"])
    >>> print(error)
    weekly_cost must be a number (row 3: 'four thousand', row 7: 'n/a')
    >>> error.column, error.rows, error.n_bad
    ('weekly_cost', [3, 7], 2)
    >>> isinstance(error, ValueError)
    True
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[int] = (),
        values: Sequence[Any] = (),
        n_bad: int | None = None,
    ) -> None:
        self.column = column
        self.rows = list(rows)
        self.values = list(values)
        self.n_bad = len(self.rows) if n_bad is None else n_bad
        super().__init__(self._format(message))

    @classmethod
    def at(cls, message: str, column: str, mask: Any, values: Any) -> DataError:
        """The error for the rows where ``mask`` is true, showing ``values`` at those rows.

        ``mask`` is a boolean array over rows in order; ``values`` a Series or array of the
        original cells. Rows are reported 1-based (the first row under a header is row 1).
        """
        import numpy as np

        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        shown = positions[:MAX_ROWS_SHOWN]
        cells = values.iloc[shown] if hasattr(values, "iloc") else np.asarray(values)[shown]
        plain = [v.item() if isinstance(v, np.generic) else v for v in list(cells)]
        return cls(
            message,
            column=column,
            rows=[int(p) + 1 for p in shown],
            values=plain,
            n_bad=len(positions),
        )

    def _format(self, message: str) -> str:
        parts = [message]
        if self.rows:
            shown = ", ".join(
                f"row {r}: {_shown(v)}"
                for r, v in zip(
                    self.rows[:MAX_ROWS_SHOWN], self.values[:MAX_ROWS_SHOWN], strict=False
                )
            )
            more = self.n_bad - min(len(self.rows), MAX_ROWS_SHOWN)
            parts.append(f"({shown}{f'; and {more:,} more' if more > 0 else ''})")
        return " ".join(parts)


def _shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut to :data:`MAX_VALUE_SHOWN`
    characters (a 200 MB cell is named, not copied)."""
    text = repr(value)
    if len(text) <= MAX_VALUE_SHOWN:
        return text
    return f"{text[:MAX_VALUE_SHOWN]}… ({len(text):,} characters)"


class NotFittedError(LacstatsError, ValueError, AttributeError):
    """An estimator was used before ``fit`` (the bases of scikit-learn's own error).

    Examples
    --------
    >>> from lacstats.profiles import NeedProfiles
    >>> from lacstats.errors import NotFittedError
    >>> try:
    ...     NeedProfiles().predict(None)
    ... except NotFittedError as error:
    ...     print(type(error).__name__)
    ...
    NotFittedError
    """


class ConvergenceError(LacstatsError):
    """An MCMC fit failed its convergence gate; ``diagnostics`` says how.

    Examples
    --------
    >>> from lacstats.errors import ConvergenceError
    >>> error = ConvergenceError("R-hat 1.08 > 1.01: run more draws", diagnostics={"rhat_max": 1.08})
    >>> print(error)
    R-hat 1.08 > 1.01: run more draws
    >>> error.diagnostics["rhat_max"]
    1.08
    """

    def __init__(self, message: str, diagnostics: Any = None) -> None:
        self.diagnostics = diagnostics
        super().__init__(message)


def frame_argument(value: Any, name: str) -> Any:
    """``value`` if it is a pandas DataFrame, else a :class:`DataError` naming the
    argument (``read_cases(None)`` and ``design(None)`` are misuse, not internal errors).

    Examples
    --------
    >>> from lacstats.errors import DataError, frame_argument
    >>> try:
    ...     frame_argument(None, "cases")
    ... except DataError as error:
    ...     print(error)
    ...
    argument 'cases' must be a pandas DataFrame (a table), got NoneType
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise DataError(
            f"argument {name!r} must be a pandas DataFrame (a table), got {type(value).__name__}",
            column=name,
        )
    return value


def path_argument(value: Any, name: str) -> Any:
    """``value`` if it is a path (text or :class:`os.PathLike`), else a :class:`DataError`
    naming the argument.

    Examples
    --------
    >>> from lacstats.errors import DataError, path_argument
    >>> try:
    ...     path_argument(123, "path")
    ... except DataError as error:
    ...     print(error)
    ...
    argument 'path' must be a file's path (text or a pathlib.Path), got int
    """
    import os

    if isinstance(value, bool) or not isinstance(value, str | os.PathLike) or value == "":
        raise DataError(
            f"argument {name!r} must be a file's path (text or a pathlib.Path), got "
            f"{type(value).__name__ if value != '' else 'an empty text'}",
            column=name,
        )
    return value


def number_argument(value: Any, name: str) -> float:
    """``value`` as a finite number, else a :class:`DataError` naming the argument (text
    such as ``'abc'`` included; text that is a number is read).

    Examples
    --------
    >>> from lacstats.errors import DataError, number_argument
    >>> number_argument("900", "population")
    900.0
    >>> try:
    ...     number_argument("abc", "population")
    ... except DataError as error:
    ...     print(error)
    ...
    argument 'population' must be a number, got 'abc'
    """
    import math

    if isinstance(value, bool):
        raise DataError(f"argument {name!r} must be a number, got {value!r}", column=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"argument {name!r} must be a number, got {_shown(value)}", column=name
        ) from None
    if not math.isfinite(number):
        raise DataError(f"argument {name!r} must be a finite number, got {value!r}", column=name)
    return number


def whole_number_argument(value: Any, name: str, low: int, high: int, what: str) -> int:
    """``value`` if it is a whole number (not a bool, not a float) from ``low`` to
    ``high``, else a :class:`DataError` naming the argument: ``"argument '<name>' must be
    a whole number <what>; got <value>"``.

    Examples
    --------
    >>> from lacstats.errors import DataError, whole_number_argument
    >>> whole_number_argument(18, "leaving_age", 16, 25, "from 16 to 25")
    18
    >>> try:
    ...     whole_number_argument(18.5, "leaving_age", 16, 25, "from 16 to 25")
    ... except DataError as error:
    ...     print(error)
    ...
    argument 'leaving_age' must be a whole number from 16 to 25; got 18.5
    """
    import numpy as np

    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise DataError(
            f"argument {name!r} must be a whole number {what}; got {value!r}", column=name
        )
    return value


def rng_argument(value: Any, name: str = "rng") -> Any:
    """``value`` if numpy accepts it as a seed or generator (None, a whole number >= 0, a
    SeedSequence or Generator), else a :class:`DataError` naming the argument.

    Examples
    --------
    >>> from lacstats.errors import DataError, rng_argument
    >>> try:
    ...     rng_argument(-1)
    ... except DataError as error:
    ...     print(error)
    ...
    argument 'rng' must be a seed (a whole number >= 0), a numpy Generator or None; got -1
    """
    import numpy as np

    try:
        np.random.default_rng(value)
    except (TypeError, ValueError):
        raise DataError(
            f"argument {name!r} must be a seed (a whole number >= 0), a numpy Generator or "
            f"None; got {_shown(value)}",
            column=name,
        ) from None
    return value
