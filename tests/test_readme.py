"""The README as a contract: every code block in it runs, or is checked for what it names.

Each fenced block of README.md is claimed by one test below, by its first line; a block no
test claims fails :func:`test_every_readme_block_is_claimed`, so a new example cannot go
unchecked. Shell blocks run against a temporary folder through ``lacstats.cli.main`` with
small, fast options added (``--fast``, ``--only``); Python blocks run as written, each
``expression  # value`` line checked against its comment; blocks that cannot run in a
test (the nox sessions, the synopses with ``[options]``) are checked structurally: the
session exists, every option named is an option of that command.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from lacstats import cli, ssda903, study, synthetic

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def blocks() -> list[tuple[str, str]]:
    """Every fenced block of the README: (language, text)."""
    text = README.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in re.finditer(r"(?ms)^```(\w*)\n(.*?)^```", text)]


def block(first: str) -> str:
    """The one block whose first line starts with ``first``."""
    found = [text for _, text in blocks() if text.startswith(first)]
    assert len(found) == 1, f"README: {len(found)} blocks start with {first!r}"
    return found[0]


#: The first line of each block, and the test that checks it.
CLAIMS = {
    "# 1. the main job": "test_quick_start_sessions_exist_and_their_options_parse",
    "# lacstats on your PATH": "test_the_path_instructions_give_the_lacstats_command",
    "[study]": "test_the_study_file_example_loads_as_written",
    "lacstats design --study north_west.toml": "test_the_study_commands_run",
    "import lacstats.io, lacstats.findings": "test_your_own_data_example_runs",
    "from lacstats import costs, projection, ssda903": "test_the_ssda903_example_runs",
    "lacstats collect template": "test_the_synopses_name_real_options",
    "lacstats reproduce [--out results]": "test_the_synopses_name_real_options",
    "from lacstats import cohorts, datasets": "test_the_python_api_example_runs",
    "cli                                          the command": "test_the_layout_names_modules",
}


def test_every_readme_block_is_claimed():
    unclaimed = [text.splitlines()[0] for _, text in blocks() if not _claim(text)]
    assert unclaimed == []
    names = {n for n in dir(sys.modules[__name__]) if n.startswith("test_")}
    assert set(CLAIMS.values()) <= names


def _claim(text: str) -> str | None:
    return next((test for first, test in CLAIMS.items() if text.startswith(first)), None)


def _commands(text: str) -> list[list[str]]:
    """The ``lacstats`` command lines of a shell block, continuations joined, comments cut."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.split("#", 1)[0].strip() for line in joined.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("lacstats ")]


def _sessions() -> set[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("session" in ast.unparse(d) for d in node.decorator_list)
    }


def test_quick_start_sessions_exist_and_their_options_parse():
    text = README.read_text(encoding="utf-8")
    quick = block("# 1. the main job")
    assert {"reproduce", "tests"} <= set(re.findall(r"nox -s (\w+)", quick))
    # every session the README names (here and in the prose) is one of the noxfile's
    assert set(re.findall(r"nox -s (\w+)", text)) <= _sessions()
    listing = text.split("`nox --list` shows every session:")[1].split("Options after")[0]
    listed = set(re.findall(r"`(\w+)`", listing))
    assert {"tests", "lint", "reproduce", "paper", "docs", "benchmarks"} <= listed
    assert listed <= _sessions()
    # options passed after `--` go to `lacstats reproduce`, and parse
    for options in re.findall(r"nox -s reproduce -- ([^`]+)`", text):
        args = cli.parser().parse_args(["reproduce", *shlex.split(options)])
        assert args.func is cli._reproduce


def test_the_path_instructions_give_the_lacstats_command():
    text = block("# lacstats on your PATH")
    assert "pip install" in text
    assert "-e ." in text
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"lacstats": "lacstats.cli:main"}
    # the installed command (this environment's, as pip install -e . makes it) runs
    command = shutil.which("lacstats", path=str(Path(sys.executable).parent))
    assert command is not None, "no lacstats command beside this Python"
    done = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("lacstats ")


@pytest.fixture
def north_west(tmp_path, monkeypatch):
    """A folder holding the README's north_west.toml, as written, and our_cases.csv."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "north_west.toml").write_text(block("[study]"), encoding="utf-8")
    synthetic.complex_lac(rng=7).to_csv(tmp_path / "our_cases.csv", index=False)
    return tmp_path


def test_the_study_file_example_loads_as_written(north_west):
    loaded = study.load("north_west.toml")
    assert (loaded.name, loaded.region, loaded.frame_year) == ("north_west", "North West", 2019)
    assert len(loaded.authorities) == 23
    assert loaded.thresholds.far_miles == 75
    assert loaded.cases is None  # a synthetic sample: the example needs no file of yours


#: What each README command gets added in the test: small and fast, the same code paths.
FAST = {
    "reproduce": ["--fast", "--quiet", "--only", "calibrated_sample"],
    "report": ["--fast"],
}


@pytest.mark.slow
def test_the_study_commands_run(north_west, capsys):
    commands = _commands(block("lacstats design --study north_west.toml"))
    assert [c[1] for c in commands] == ["design", "reproduce", "reproduce", "paper", "report"]
    for command in commands:
        assert cli.main([*command[1:], *FAST.get(command[1], [])]) == 0, command
    printed = capsys.readouterr().out
    assert "23 strata" in printed  # the design comment's 23 authorities
    assert (north_west / "results.nw" / "manifest.json").is_file()
    assert (north_west / "results.ours" / "manifest.json").is_file()
    assert (north_west / "north_west.pdf").read_bytes()[:5] == b"%PDF-"
    packs = sorted(p.stem for p in (north_west / "packs.nw").glob("*.html"))
    assert len(packs) == 23


def _run_python(text: str, namespace: dict) -> None:
    """Run a README Python block statement by statement; an expression whose line ends in a
    comment that is a number (``sample_size(900)  # 87``) must give that number."""
    tree = ast.parse(text)
    lines = text.splitlines()
    for node in tree.body:
        code = compile(ast.Module([node], []), "README.md", "exec")
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "README.md", "eval"), namespace)
            comment = lines[node.end_lineno - 1].partition("#")[2].strip()
            if re.fullmatch(r"-?[\d,]+(\.\d+)?", comment):
                assert value == float(comment.replace(",", "")), (ast.unparse(node), comment)
        else:
            exec(code, namespace)  # noqa: S102 (the README's own example, as written)


@pytest.mark.slow
def test_your_own_data_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cases = synthetic.complex_lac(rng=3)
    with pd.ExcelWriter("our_cases.xlsx") as book:
        cases.to_excel(book, sheet_name="Cases", index=False)
    _run_python(block("import lacstats.io, lacstats.findings"), {})
    printed = capsys.readouterr().out
    assert "finding" in printed


@pytest.mark.slow
def test_the_ssda903_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ssda903.fake903_path(), "returns")
    extract = ssda903.simulate_region({"Kent": 120, "Medway": 60}, years=range(2020, 2025), rng=3)
    Path("extract").mkdir()
    for table, frame in extract.items():
        frame.to_csv(f"extract/SSDA903_{table.title()}_merged.csv", index=False)
    namespace: dict = {}
    _run_python(block("from lacstats import costs, projection, ssda903"), namespace)
    assert len(namespace["cases"]) > 0
    assert {"children", "total"} <= set(namespace["table"].columns)
    assert "coverage" in capsys.readouterr().out.lower()


def _parser_of(words: list[str]):
    """The parser of ``lacstats WORDS`` (``ssda903 validate`` has its own)."""
    if words[:2] == ["ssda903", "validate"]:
        return cli._ssda903_validate_parser()
    parser = cli.parser()
    for word in words:
        parser = _commands_of(parser)[word]
    return parser


def _commands_of(parser) -> dict:
    return next((a.choices for a in parser._actions if isinstance(a.choices, dict)), {})


def test_the_synopses_name_real_options():
    """Each synopsis line names a command that exists and only options it has."""
    checked = 0
    for first in ("lacstats collect template", "lacstats reproduce [--out results]"):
        for command in _commands(block(first)):
            variants = [[]]
            for token in command[1:]:
                choices = token.split("|")
                if variants[0] == ["ssda903"] and token == "validate":
                    variants = [["ssda903", "validate"]]
                    break
                if not all(c in _commands_of(_parser_of(variants[0])) for c in choices):
                    break
                variants = [[*v, c] for v in variants for c in choices]
            for words in variants:
                options = {o for a in _parser_of(words)._actions for o in a.option_strings}
                named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(command)))
                assert named <= options, (words, named - options)
                checked += 1
    assert checked >= 14


def test_the_runnable_synopsis_lines_print_what_they_say(capsys):
    # lacstats sample-size --population 900            # 87 (CRS convention, 95%, +/-10)
    line = next(
        line
        for line in block("lacstats reproduce [--out results]").splitlines()
        if "sample-size" in line
    )
    command, comment = line.split("#", 1)
    assert cli.main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out.strip() == comment.split()[0]


@pytest.mark.slow
def test_the_python_api_example_runs():
    namespace: dict = {}
    _run_python(block("from lacstats import cohorts, datasets"), namespace)
    assert namespace["fit"].diagnostics.passed
    assert "authority" in namespace["slopes"].variance_components().to_string()


def test_the_layout_names_modules():
    layout = block("cli                                          the command")
    names = set()
    for line in layout.splitlines():
        # a layer: module names separated by |, then their description
        if match := re.match(r"(\w+(?: \| \w+)*)", line):
            names |= set(match.group(1).split(" | "))
    package = ROOT / "lacstats"
    missing = [
        n for n in names if not (package / f"{n}.py").is_file() and not (package / n).is_dir()
    ]
    assert names
    assert missing == []
