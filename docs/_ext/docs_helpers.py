"""Helpers the documentation's notebooks share: tables as MyST markdown, figures inline.

Only the docs import this module (their first, hidden cell puts ``docs/_ext`` on the path),
and only in hidden cells: a cell a reader sees runs without it (tests/test_docs.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
#: Where the tutorials write what they make: inside the build folder, never committed.
WORK = DOCS / "_build" / "tutorial-work"


def setup() -> Path:
    """Put the Python running the kernel (and its ``lacstats`` command) first on ``PATH``,
    and return a fresh work folder for the notebook calling it."""
    bin_dir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK


def fresh_folder(name: str) -> Path:
    """An empty work folder for the notebook ``name`` (after :func:`setup`): the tutorials
    run in it as a reader runs them in a folder of their own."""
    import shutil

    folder = setup() / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, *, index: bool = False) -> Markdown:
    """A frame as a MyST (GitHub-style) table, so it renders as the page's own table."""
    if index:
        frame = frame.reset_index()
    head = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return Markdown("\n".join([head, rule, *rows]))


def png(figure, *, dpi: int = 90) -> Image:
    """A matplotlib ``Figure`` (as :mod:`lacstats.plots` returns them) shown inline."""
    from lacstats import plots

    return Image(plots.png(figure, dpi=dpi))
