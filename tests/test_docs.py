"""The documentation cannot drift from the code: every public name is in the API reference,
and every public function and result type carries an example that runs.

These tests read the API reference's sources (``docs/api/*.rst``), not the built pages,
so they run without building the documentation (``nox -s docs`` builds it).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import lacstats

API = Path(__file__).resolve().parents[1] / "docs" / "api"


def public_modules() -> list[str]:
    """``lacstats`` and every module under it whose dotted path has no private part and
    which declares ``__all__``."""
    names = ["lacstats"]
    for info in pkgutil.walk_packages(lacstats.__path__, "lacstats."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            names.append(info.name)
    return names


def documented() -> dict[str, set[str]]:
    """Per module, the names the API reference lists: each ``autosummary`` entry under an
    ``automodule`` directive, and each ``:obj:`` reference of an "Also in" line."""
    listed: dict[str, set[str]] = {}
    for page in sorted(API.glob("*.rst")):
        module = None
        in_summary = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if match := re.match(r"\.\. automodule:: (\S+)", line):
                module = match.group(1)
                listed.setdefault(module, set())
                in_summary = False
            elif ".. autosummary::" in line:
                in_summary = True
            elif in_summary and re.match(r"\s{6}\S", line) and module is not None:
                listed[module].add(line.strip())
            elif in_summary and line.strip() and not line.startswith("      "):
                in_summary = False
            for target in re.findall(r":obj:`~?([\w.]+)`", line):
                parent, _, name = target.rpartition(".")
                listed.setdefault(parent, set()).add(name)
    return listed


MODULES = public_modules()


def test_there_are_public_modules_to_check():
    assert {"lacstats", "lacstats.sampling", "lacstats.ssda903.validation"} <= set(MODULES)
    assert len(MODULES) >= 40


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_is_in_the_api_reference(name):
    module = importlib.import_module(name)
    listed = documented()
    missing = []
    for attr in module.__all__:
        if attr in listed.get(name, set()):
            continue
        # a submodule's name re-exported by its package is documented there
        parent = name.rpartition(".")[0]
        package = importlib.import_module(parent) if parent else None
        if (
            package is not None
            and attr in getattr(package, "__all__", ())
            and getattr(package, attr) is getattr(module, attr)
            and attr in listed.get(parent, set())
        ):
            continue
        missing.append(attr)
    assert name in listed, f"no automodule page for {name} in {API}"
    assert missing == [], f"{name}: not in the API reference ({API}): {missing}"


def example_owners() -> list[tuple[str, str]]:
    """Every public function and class (results, estimators, errors) of every public
    module, once, under the first module that exports it."""
    seen: set[int] = set()
    owners = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            owners.append((name, attr))
    return owners


@pytest.mark.parametrize(("module", "name"), example_owners())
def test_every_public_function_and_result_type_has_an_example(module, name):
    obj = getattr(importlib.import_module(module), name)
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"{module}.{name} has no example (>>>) in its docstring"
