"""Sessions for lacstats: `nox --list` is the menu."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]

PYTHON = "3.12"


def _install(session: nox.Session, *args: str) -> None:
    """Install with the dependencies' bytecode compiled, as pip does and uv does not.

    Without it every run compiles PyMC, ArviZ, pandas and the rest again at import (about
    11 s on this project's reference machine, which sets PYTHONDONTWRITEBYTECODE).
    """
    session.install(*args, env={"UV_COMPILE_BYTECODE": "1"})


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, reference and analysis smoke tests)."""
    _install(session, "-e", ".[test]")
    # the pack test renders HTML in Debian's Chromium and the workbook test opens XLSX in
    # LibreOffice when they are installed (.ci/run installs both on CI); this session never
    # changes the machine's packages
    if shutil.which("chromium") is None:
        session.log("chromium not found: the browser test of the packs will be skipped")
    if shutil.which("soffice") is None:
        session.log("soffice not found: the LibreOffice test of the workbooks will be skipped")
    # pyproject's testpaths are tests/ and lacstats/ with --doctest-modules: the
    # docstrings' examples (>>>) run with the tests
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style with ruff and the architecture's import contracts with import-linter."""
    _install(session, "ruff>=0.8", "import-linter>=2.1")
    # import-linter reads the source; the package's dependencies are not needed
    _install(session, "--no-deps", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation into docs/_build/html, offline, warnings as errors.

    Every tutorial is executed (MyST-NB); then open docs/_build/html/index.html.
    """
    _install(session, "-e", ".[docs]")
    out = Path("docs/_build/html")
    # a fresh build each time: stale pages of a renamed file never linger
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree("docs/_build/tutorial-work", ignore_errors=True)
    session.run(
        "python",
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-j",
        "auto",
        "docs",
        str(out),
    )
    # nothing in the pages may load from the network (no CDN, no remote image)
    remote = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)=["'](?:https?:)?//""")
    offenders = [str(p) for p in out.rglob("*.html") if remote.search(p.read_text("utf-8"))]
    if offenders:
        session.error(f"pages load from the network: {', '.join(offenders)}")
    session.log(f"open {(out / 'index.html').resolve()}")


@nox.session(python=PYTHON)
def reproduce(session: nox.Session) -> None:
    """Rebuild every finding on the packaged data into results/ (pass options after --)."""
    _install(session, "-e", ".")
    session.run("lacstats", "reproduce", *session.posargs)


@nox.session(python=PYTHON)
def paper(session: nox.Session) -> None:
    """Compile paper/paper.pdf from results/ (running `lacstats reproduce` first if needed)."""
    _install(session, "-e", ".")
    if not Path("results/manifest.json").is_file():
        session.run("lacstats", "reproduce")
    session.run("lacstats", "paper", *session.posargs)


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Run the performance benchmarks in benchmarks/ (on demand; never in CI)."""
    _install(session, "-e", ".[bench]")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
