"""The house rules of README's "Layout" section, checked where a machine can check them.

- A public function returns a :class:`~lacstats.results.Result` or a tidy DataFrame with
  fixed columns, named in its docstring: every public function annotated
  ``-> pd.DataFrame`` has a sentence naming its columns, and where a cheap call is known
  (``TABLES``), every column that sentence names is one the call returns.
- The statistical modules (those of pyproject's "Statistics never plot, write files or
  run commands" contract) print nothing by default: no public function or method of
  theirs shows a progress bar unless asked.
- The README says what is true: its layers are pyproject's import-linter layers, checked
  by lint-imports; it names every module that reads files.

(The interval vocabulary, ``ci_low``/``ci_high`` with the level, is checked over every
result type in tests/test_results_contract.py.)
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import re
import tomllib
import typing
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import lacstats

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONTRACTS = PYPROJECT["tool"]["importlinter"]["contracts"]


def _public_modules() -> list[str]:
    names = ["lacstats"]
    for info in pkgutil.walk_packages(lacstats.__path__, "lacstats."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            names.append(info.name)
    return names


def _public_functions() -> dict[str, Callable]:
    """Every function in a public module's ``__all__``, by where it is defined."""
    found: dict[str, Callable] = {}
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


def _returns_frame(func: Callable) -> bool:
    try:
        hint = typing.get_type_hints(func).get("return")
    except NameError:  # an annotation naming a type only imported for type checking
        hint = func.__annotations__.get("return")
    return hint is pd.DataFrame or hint == "pd.DataFrame"


FUNCTIONS = _public_functions()
FRAME_FUNCTIONS = [key for key, func in FUNCTIONS.items() if _returns_frame(func)]

# --- the rule: a Result, or a tidy DataFrame whose columns the docstring names -----------

#: A sentence naming a table's columns: from "Columns", "columns:" or "one row per ...:" to
#: the end of the sentence (a full stop before a space, or a semicolon).
_COLUMNS_SENTENCE = re.compile(
    r"(?s)(?:\bColumns\b|\bcolumns\b(?=\s*[:(]|\s+``)|\b[Oo]ne row per\b[^.;:]*:)"
    r".*?(?=\.\s|\.\Z|;|\Z)"
)
#: A column named in such a sentence, or a constant that lists them (:data:`COLUMNS`).
_NAMED = re.compile(r"``([A-Za-z_]\w*)``")
_LISTED = re.compile(r":data:`[\w.~]+`")


def _description(func: Callable) -> str:
    """The docstring before its Examples section."""
    return re.split(r"\n\s*Examples\n\s*-{4,}", inspect.getdoc(func) or "")[0]


def _columns_sentences(func: Callable) -> list[str]:
    """The sentences of ``func``'s docstring that name its columns."""
    found = [m.group(0) for m in _COLUMNS_SENTENCE.finditer(_description(func))]
    return [s for s in found if _NAMED.search(s) or _LISTED.search(s)]


def _columns_named(func: Callable) -> set[str]:
    """The columns those sentences name, leaving out asides in brackets (values such as
    ``KEN``, rows such as ``ALL_TYPES``) and the function's parameters (``by``)."""
    names = set()
    for sentence in _columns_sentences(func):
        while (plain := re.sub(r"\([^()]*\)", "", sentence)) != sentence:
            sentence = plain
        names |= set(_NAMED.findall(sentence))
    return names - set(inspect.signature(func).parameters)


def test_there_are_dataframe_functions_to_check():
    assert len(FRAME_FUNCTIONS) >= 45
    assert "lacstats.costs.cost_table" in FRAME_FUNCTIONS
    assert "lacstats.publication.cost_tables" not in FRAME_FUNCTIONS  # a Result


@pytest.mark.parametrize("key", FRAME_FUNCTIONS)
def test_a_function_returning_a_dataframe_names_its_columns(key):
    sentences = _columns_sentences(FUNCTIONS[key])
    assert sentences, (
        f"{key} returns a DataFrame: its docstring needs a sentence naming its columns "
        "('Columns: ``a``, ``b`` ...' or 'One row per ...: ``a``, ...')"
    )


def test_the_check_finds_a_missing_columns_sentence():
    def quiet(frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` that are quiet."""

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` that are quiet. Columns: ``authority`` (``KEN`` for
        Kent), ``frame``'s ``n``; the columns ``rows`` of ``frame`` come first.

        Examples
        --------
        >>> named(frame).columns  # columns ``x`` here do not count
        """

    assert _columns_sentences(quiet) == []
    assert len(_columns_sentences(named)) == 2
    assert _columns_named(named) == {"authority", "n", "rows"}


@functools.cache
def _cleaned():
    from lacstats import ssda903

    return ssda903.clean(ssda903.read(ssda903.fake903_path()))


def _km_cases():
    from lacstats import synthetic

    return synthetic.complex_lac(rng=2019)


#: Cheap calls of functions whose documented columns are checked against what they return
#: (every public module is imported above, so ``lacstats.<module>`` resolves).
TABLES: dict[str, Callable[[], pd.DataFrame]] = {
    "lacstats.costs.cost_table": lambda: lacstats.costs.cost_table(
        pd.DataFrame(
            {
                "start": pd.to_datetime(["2023-04-01", "2023-06-01"]),
                "end": pd.to_datetime(["2023-09-30", None]),
                "placement_type": ["Foster care", "Residential"],
                "provider": ["LA", "Agency"],
                "location": ["IN LA", "Out LA"],
                "weekly_cost": [450.0, 5200.0],
            }
        ),
        period=("2023-04-01", "2024-03-31"),
    ),
    "lacstats.costs.dorset_unit_costs": lambda: lacstats.costs.dorset_unit_costs(),
    "lacstats.costs.nottinghamshire_unit_costs": lambda: (
        lacstats.costs.nottinghamshire_unit_costs()
    ),
    "lacstats.cohorts.summarise": lambda: lacstats.cohorts.summarise(
        _km_cases(), lacstats.cohorts.assign(_km_cases())
    ),
    "lacstats.datasets._releases.authority_frame": lambda: lacstats.datasets.authority_frame(2017),
    "lacstats.datasets._releases.authorities": lambda: lacstats.datasets.authorities(),
    "lacstats.datasets._releases.english_authorities": lambda: (
        lacstats.datasets.english_authorities()
    ),
    "lacstats.datasets._panel.national_panel": lambda: lacstats.datasets.national_panel(),
    "lacstats.disclosure.suppress_small_counts": lambda: lacstats.disclosure.suppress_small_counts(
        pd.DataFrame({"n": [1, 9]}), "n"
    ),
    "lacstats.projection._simple.growth_to_cap": lambda: lacstats.projection.growth_to_cap(
        100, per_month=2, cap=110, months=6
    ),
    "lacstats.projection._simple.rate_projection": lambda: lacstats.projection.rate_projection(
        pd.DataFrame({"area": ["x"], "children": [10], "population": [10_000]}),
        pd.DataFrame({"area": ["x"], "population": [20_000]}),
    ),
    "lacstats.reporting.authority_effects": lambda: lacstats.reporting.authority_effects(
        _km_cases(), fast=True
    ),
    "lacstats.ssda903._cases.episode_attributes": lambda: lacstats.ssda903.episode_attributes(
        _cleaned()
    ),
    "lacstats.ssda903._codes.placement_settings": lambda: lacstats.ssda903.placement_settings(),
    "lacstats.ssda903.dfe.rule_table": lambda: lacstats.ssda903.dfe.rule_table(2019),
    "lacstats.ssda903._validation.no_problems": lambda: lacstats.ssda903.no_problems(),
    "lacstats.sampling.explain_total": lambda: lacstats.sampling.explain_total(
        lacstats.datasets.south_east_authorities(2017)
    ),
    "lacstats.sensitivity.sweep": lambda: lacstats.sensitivity.sweep(
        lambda n, rng=None: {"twice": 2 * n}, {"n": [1, 2]}, n_jobs=1
    ),
    "lacstats.sensitivity.design_sensitivity": lambda: lacstats.sensitivity.design_sensitivity(
        lacstats.datasets.south_east_authorities(2017), confidence=[0.95], interval=[10], n_jobs=1
    ),
    "lacstats.sensitivity.threshold_sensitivity": lambda: (
        lacstats.sensitivity.threshold_sensitivity(
            _km_cases(), high_cost=[4800], miles=[100], n_jobs=1
        )
    ),
    "lacstats.synthetic.authority_counts": lambda: lacstats.synthetic.authority_counts(),
}


@pytest.mark.parametrize("key", sorted(TABLES))
def test_the_columns_a_docstring_names_are_returned(key):
    func = FUNCTIONS[key]
    named = _columns_named(func)
    frame = TABLES[key]()
    assert isinstance(frame, pd.DataFrame)
    missing = sorted(named - set(map(str, frame.columns)))
    assert named, f"{key}: its docstring's column sentence names no column"
    assert not missing, f"{key}: its docstring names columns it does not return: {missing}"


# --- quiet by default ----------------------------------------------------------------------

STATISTICAL = next(c for c in CONTRACTS if c["type"] == "forbidden")["source_modules"]
#: Switches that make a function print or show a progress bar.
_LOUD = {"progress", "progressbar", "progress_bar", "verbose", "show_progress"}


def _callables_of(module) -> dict[str, Callable]:
    found = {}
    for attr in getattr(module, "__all__", ()):
        obj = getattr(module, attr)
        if inspect.isfunction(obj):
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
        elif inspect.isclass(obj) and obj.__module__.startswith("lacstats"):
            for name, member in vars(obj).items():
                if inspect.isfunction(member) and not name.startswith("_"):
                    found[f"{obj.__module__}.{obj.__qualname__}.{name}"] = member
    return found


def _statistical_callables() -> dict[str, Callable]:
    found: dict[str, Callable] = {}
    for name in _public_modules():
        if any(name == s or name.startswith(f"{s}.") for s in STATISTICAL):
            found |= _callables_of(importlib.import_module(name))
    return found


def test_statistical_modules_print_nothing_by_default():
    loud = {}
    for key, func in _statistical_callables().items():
        for parameter in inspect.signature(func).parameters.values():
            if parameter.name in _LOUD and parameter.default not in (False, 0, None):
                loud[key] = f"{parameter.name}={parameter.default!r}"
    assert any(key.endswith("HierarchicalModel.fit") for key in _statistical_callables())
    assert loud == {}, f"make these quiet by default (progress=False): {loud}"


def test_a_sweep_is_quiet_unless_asked(capsys):
    from lacstats import sensitivity

    table = sensitivity.sweep(lambda n, rng=None: {"twice": 2 * n}, {"n": [1, 2, 3]}, n_jobs=1)
    assert table["value"].tolist() == [2, 4, 6]
    assert capsys.readouterr() == ("", "")


# --- one privacy convention: private modules behind a public package ---------------------


def _public_modules_in_subpackages(root: Path = ROOT / "lacstats") -> dict[str, str]:
    """Every module file of a subpackage of ``root`` whose dotted name has no private part:
    module name -> what is wrong (a public module, or a public subpackage without
    ``__all__`` in its ``__init__``)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if len(parts) < 3 or any(p.startswith("_") for p in parts[:-1]):
            continue  # a top-level module of lacstats, or inside a private package
        name = ".".join(parts)
        if parts[-1] == "__init__":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            if "__all__" not in names:
                found[name.removesuffix(".__init__")] = "a subpackage without __all__"
        elif not parts[-1].startswith("_"):
            found[name] = "a public module inside a subpackage"
    return found


def test_subpackages_keep_their_modules_private():
    found = _public_modules_in_subpackages()
    assert found == {}, f"make these private (_name.py) behind the package's __all__: {found}"


def test_the_privacy_check_finds_a_public_module(tmp_path):
    package = tmp_path / "lacstats"
    for folder, files in {
        "good": ["__init__.py", "_part.py"],
        "good/inner": ["__init__.py", "_part.py"],
        "_hidden": ["__init__.py", "anything.py"],
        "bad": ["__init__.py", "part.py"],
    }.items():
        (package / folder).mkdir(parents=True)
        for name in files:
            (package / folder / name).write_text(
                '__all__ = ["x"]\n' if name == "__init__.py" else ""
            )
    (package / "bad" / "__init__.py").write_text("from .part import x\n")
    (package / "top.py").write_text("")
    assert _public_modules_in_subpackages(package) == {
        "lacstats.bad": "a subpackage without __all__",
        "lacstats.bad.part": "a public module inside a subpackage",
    }


# --- examples for every public name ---------------------------------------------------------

#: An "Examples" section (numpydoc): its examples run with the tests (--doctest-modules).
_EXAMPLES = re.compile(r"\n\s*Examples\n\s*-{4,}\n")
#: The face every :class:`~lacstats.results.Result` shares, documented once on ``Result``.
_RESULT_FACE = {"summary", "to_frame", "to_dict"}


def _missing_examples(objects: dict[str, object]) -> list[str]:
    return sorted(key for key, obj in objects.items() if not _EXAMPLES.search(obj.__doc__ or ""))


def _public_names() -> dict[str, object]:
    """Every function and class in the ``__all__`` of ``lacstats``, its top-level modules and
    its subpackages, once, under the first module that exports it."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                found[f"{name}.{attr}"] = obj
    return found


def _methods(package: str) -> dict[str, object]:
    """The public methods and properties the classes of ``package``'s ``__all__`` define
    (not the shared result face)."""
    module = importlib.import_module(package)
    found: dict[str, object] = {}
    for attr in module.__all__:
        obj = getattr(module, attr)
        if not inspect.isclass(obj):
            continue
        for name, member in vars(obj).items():
            if name.startswith("_") or name in _RESULT_FACE:
                continue
            if isinstance(member, property):
                found[f"{package}.{attr}.{name}"] = member.fget
            elif inspect.isfunction(member):
                found[f"{package}.{attr}.{name}"] = member
    return found


def test_every_public_name_has_examples():
    names = _public_names()
    assert "lacstats.hierarchical.full_logp" in names  # imported on first use, still checked
    assert len(names) > 250
    missing = _missing_examples(names)
    assert missing == [], f"add an Examples section to the docstrings of: {missing}"


def test_the_hierarchical_classes_show_every_method():
    """lacstats.hierarchical's classes are its interface (a fit is used through its
    methods): each public method and property has its own Examples section too."""
    methods = _methods("lacstats.hierarchical")
    assert "lacstats.hierarchical.HierarchicalResult.group_effects" in methods
    assert "lacstats.hierarchical.Diagnostics.passed" in methods  # a property
    missing = _missing_examples(methods)
    assert missing == [], f"add an Examples section to the docstrings of: {missing}"


def test_the_examples_check_finds_a_missing_section():
    def shown():
        """Twice.

        Examples
        --------
        >>> 2 * 2
        4
        """

    def hidden():
        """Twice. >>> 2 * 2"""

    assert _missing_examples({"shown": shown, "hidden": hidden, "bare": lambda: None}) == [
        "bare",
        "hidden",
    ]


# --- the README's layout section says what is true ---------------------------------------


def _layout() -> str:
    return README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_layers_are_the_import_contracts():
    diagram = re.search(r"```\n(cli .*?)```", _layout(), re.DOTALL).group(1)
    drawn = []
    for line in diagram.splitlines():
        if match := re.match(r"(\w+(?: \| \w+)*)", line):
            drawn.append(set(match.group(1).split(" | ")))
    layers = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    contracted = [
        {m.strip().removeprefix("lacstats.") for m in layer.split("|")} for layer in layers
    ]
    assert drawn == contracted
    assert "lint-imports" in _layout()
    assert "checked with ruff" not in _layout()


#: Calls that read a file's bytes or text (or list a folder) when the name is the callee's.
_READS = {
    "read_text",
    "read_bytes",
    "read_csv",
    "read_excel",
    "read_parquet",
    "load_workbook",
    "iterdir",
    "glob",
    "rglob",
    "open",
}


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _reads_a_file(node: ast.AST) -> bool:
    """A call of one of ``_READS`` that is not given bytes in memory (``BytesIO``)."""
    if not isinstance(node, ast.Call) or _name(node.func) not in _READS:
        return False
    first = node.args[0] if node.args else None
    return not (isinstance(first, ast.Call) and _name(first.func) in ("BytesIO", "StringIO"))


def _modules_that_read() -> set[str]:
    """Modules whose code calls one of ``_READS`` on a file, named as the README names them:
    a private module by its public package (``collect._reading`` is ``collect``)."""
    found = set()
    for path in sorted((ROOT / "lacstats").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(_reads_a_file(node) for node in ast.walk(tree)):
            parts = path.relative_to(ROOT).with_suffix("").parts
            public = [p for p in parts if not p.startswith("_")]
            found.add(".".join(public))
    return found


def test_the_readme_names_every_module_that_reads_files():
    readers = _modules_that_read()
    assert {"lacstats.io", "lacstats.ssda903", "lacstats.collect"} <= readers
    assert "lacstats.cells" not in readers  # it reads back bytes it made, not a file
    sentence = re.search(r"Files are read by .*?\.(?=\s+They are written)", _layout(), re.DOTALL)
    named = set(re.findall(r"`([\w.]+)`", sentence.group(0)))
    missing = sorted(
        m for m in readers if m.removeprefix("lacstats.") not in named and m not in named
    )
    assert missing == [], f"README's layout section does not say these read files: {missing}"
