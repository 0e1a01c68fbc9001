"""Interrupts that no sampler can swallow.

A Ctrl-C (SIGINT) or a ``kill`` (SIGTERM) that arrives while nutpie or PyMC is sampling
may be raised inside a ctypes callback, where Python prints "Exception ignored" and goes
on: the run would finish and swap its results into place as if nothing had happened.
:func:`stop_on_signals` installs handlers that first record the signal and then raise, and
:func:`check`, called after each fit and before any result is swapped into place, raises
again if a signal was recorded, whatever happened to the first exception. Under
:func:`stop_on_signals` the interrupt that such a callback (or a weak-reference callback)
swallows is not printed as "Exception ignored ... Traceback": the run stops with its one
line all the same.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = ["check", "pending", "stop_on_signals"]

_pending: int | None = None


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _record(signum: int, frame: object) -> None:
    global _pending
    _pending = signum
    _raise_for(signum)


def _quiet_unraisable(default):
    """An unraisable hook that drops the interrupts this module raised (they are recorded
    and raised again by :func:`check`) and passes anything else to ``default``."""

    def hook(unraisable) -> None:
        if _pending is not None and issubclass(
            unraisable.exc_type, (KeyboardInterrupt, SystemExit)
        ):
            return
        default(unraisable)

    return hook


def pending() -> int | None:
    """The signal received under :func:`stop_on_signals` and not yet cleared, if any.

    Examples
    --------
    >>> from lacstats import interrupts
    >>> print(interrupts.pending())
    None
    """
    return _pending


def check() -> None:
    """Raise ``KeyboardInterrupt`` (SIGINT) or ``SystemExit(128 + signum)`` if a signal was
    recorded, even if the exception its handler raised was swallowed.

    Examples
    --------
    >>> from lacstats import interrupts
    >>> interrupts.check()  # nothing recorded: returns quietly
    """
    if _pending is not None:
        _raise_for(_pending)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Record and raise on SIGINT and SIGTERM for the duration of the block (main thread
    only; elsewhere the block runs unchanged). The previous handlers come back after.

    Examples
    --------
    >>> from lacstats import interrupts
    >>> with interrupts.stop_on_signals():
    ...     interrupts.pending() is None
    ...
    True
    >>> interrupts.pending() is None
    True
    """
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGINT, signal.SIGTERM]
    previous = {s: signal.getsignal(s) for s in wanted}
    _pending = None
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(hook)
    for s in wanted:
        signal.signal(s, _record)
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for s, handler in previous.items():
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        _pending = None
