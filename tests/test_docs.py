"""The documentation cannot drift from the code: every public name is in the API reference,
and every public function and result type carries an example that runs.

These tests read the API reference's sources (``docs/api/*.rst``), not the built pages,
so they run without building the documentation (``nox -s docs`` builds it).
"""

from __future__ import annotations

import ast
import builtins
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
    assert {"lacstats", "lacstats.sampling", "lacstats.ssda903.dfe"} <= set(MODULES)
    assert len(MODULES) >= 35  # the top-level modules and the subpackages, not their modules


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


# -- the API summary tables ---------------------------------------------------------------
def _api_comments():
    """docs/_ext/api_comments.py: what the docs' summary tables show for a name."""
    import importlib.util

    path = API.parent / "_ext" / "api_comments.py"
    spec = importlib.util.spec_from_file_location("api_comments", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary_rows() -> list[tuple[str, str]]:
    """Every row of every ``autosummary`` table of the API reference: (module, name)."""
    rows = []
    for page in sorted(API.glob("*.rst")):
        module = None
        in_summary = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if match := re.match(r"\.\. automodule:: (\S+)", line):
                module, in_summary = match.group(1), False
            elif ".. autosummary::" in line:
                in_summary = True
            elif in_summary and re.match(r"\s{6}\S", line) and module is not None:
                rows.append((module, line.strip()))
            elif in_summary and line.strip() and not line.startswith("      "):
                in_summary = False
    return rows


def test_every_api_summary_row_has_a_one_line_description():
    comments = _api_comments()
    rows = summary_rows()
    assert len(rows) > 250
    empty = [f"{module}.{name}" for module, name in rows if not comments.summary(module, name)]
    assert empty == [], "no docstring or #: comment (the summary row would be blank)"


def test_a_reexported_constant_is_described_by_its_defining_module_comment():
    comments = _api_comments()
    # lacstats.projection.EXIT_ROUTES is defined, with its #: comment, in projection._flows
    assert comments.comment("lacstats.projection", "EXIT_ROUTES").startswith(
        "Reason episode ceased (REC) -> exit route."
    )
    assert comments.comment("lacstats.projection", "AGED_OUT").startswith("The exit route")
    assert comments.summary("lacstats.sampling", "design").startswith("Size each stratum")


# -- the tutorials' visible cells -------------------------------------------------------------
DOCS = API.parent
#: Cells a reader does not see (their input is removed): the build's set-up and generated
#: tables. A reader's cells may not rely on anything they define.
HIDDEN = ("remove-cell", "remove-input", "remove_cell", "remove_input")


def notebook_cells(page: Path) -> list[tuple[list[str], str]]:
    """The code cells of a MyST notebook page: (tags, source without option lines)."""
    cells = []
    for match in re.finditer(r"(?ms)^```\{code-cell\}[^\n]*\n(.*?)^```", page.read_text("utf-8")):
        lines = match.group(1).splitlines()
        tags: list[str] = []
        while lines and lines[0].startswith(":"):
            if lines[0].startswith(":tags:"):
                tags = re.findall(r"[\w-]+", lines[0].split(":", 2)[2])
            lines = lines[1:]
        cells.append((tags, "\n".join(lines)))
    return cells


PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts and notebook_cells(p))


def _defined_and_used(tree: ast.AST) -> tuple[set[str], set[str]]:
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_visible_cells_run_without_the_hidden_ones(page):
    """Read in order, a page's visible cells define every name they use (no ``Path``,
    ``ROOT`` or ``docs_helpers`` from a hidden cell), are Python or a ``%%bash`` script a
    reader can paste into a terminal, and use no other IPython syntax (``!cmd``, ``%cd``)."""
    known = set(dir(builtins))
    problems = []
    for number, (tags, source) in enumerate(notebook_cells(page), 1):
        if any(tag in HIDDEN for tag in tags):
            continue
        if source.startswith("%%bash\n"):
            continue
        magics = [line for line in source.splitlines() if line.lstrip().startswith(("!", "%"))]
        if magics:
            problems.append(f"cell {number}: IPython syntax a reader cannot paste: {magics}")
            continue
        defined, used = _defined_and_used(ast.parse(source))
        missing = sorted(used - defined - known)
        if missing:
            problems.append(f"cell {number}: uses {missing}, defined by no visible cell before it")
        known |= defined
    assert problems == [], "; ".join(problems)


def test_the_cell_check_catches_a_hidden_dependency(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```{code-cell} python\n:tags: [remove-cell]\nfrom pathlib import Path\n```\n\n"
        "```{code-cell} python\nPath('x').exists()\n```\n\n"
        "```{code-cell} python\n!lacstats --help\n```\n"
    )
    with pytest.raises(AssertionError, match=r"cell 2: uses \['Path'\].*; cell 3: IPython"):
        test_visible_cells_run_without_the_hidden_ones(page)
