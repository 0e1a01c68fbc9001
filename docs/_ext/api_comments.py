"""The one-line description of a module-level constant: its ``#:`` comment, wherever it is
defined.

autodoc reads a constant's ``#:`` comment from the module it documents, so a constant a
package re-exports from a submodule (``lacstats.projection.AGED_OUT``, defined in
``lacstats.projection._flows``) shows an empty row in the package's summary table. The docs
(``conf.py``, on ``autodoc-process-docstring``) and ``tests/test_docs.py`` both ask this
module instead: it needs no Sphinx, so the test runs without the docs' dependencies.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from functools import cache
from types import ModuleType


@cache
def _comments(module: ModuleType) -> dict[str, str]:
    """``name -> text`` of every module-level ``#:`` comment (the lines above an assignment,
    or after it on its line)."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        above = []
        row = node.lineno - 2
        while row >= 0 and lines[row].lstrip().startswith("#:"):
            above.insert(0, lines[row].lstrip()[2:].strip())
            row -= 1
        after = lines[node.lineno - 1].partition("#:")[2].strip()
        text = " ".join(above) or after
        if text:
            for name in targets:
                found[name] = text
    return found


@cache
def _modules(package: str) -> tuple[ModuleType, ...]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), package + "."):
        try:
            found.append(importlib.import_module(info.name))
        except ImportError:
            continue
    return tuple(found)


def comment(module: str, name: str) -> str | None:
    """The ``#:`` comment of ``module.name``: in ``module`` itself, else in the module of
    the same package that defines the same object."""
    owner = importlib.import_module(module)
    if name in _comments(owner):
        return _comments(owner)[name]
    value = getattr(owner, name)
    for candidate in _modules(module.split(".")[0]):
        if candidate.__dict__.get(name, object()) is value and name in _comments(candidate):
            return _comments(candidate)[name]
    return None


def summary(module: str, name: str) -> str:
    """What the API summary table shows for ``module.name``: the first line of a function's,
    class's or module's docstring, or a constant's ``#:`` comment ("" when it has none)."""
    value = getattr(importlib.import_module(module), name)
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismodule(value):
        return (inspect.getdoc(value) or "").strip().split("\n")[0]
    return comment(module, name) or ""
