"""Sessions for lacstats: `nox --list` is the menu.

Every session installs the locked versions of `uv.lock` (`uv sync --locked`) into its own
environment under `.nox/` and keeps that environment: a later run reuses it as it is and
installs only what changed in the lock (the first run on a machine takes a minute or two,
a later one a fraction of a second). Change a dependency in `pyproject.toml`, then run
`uv lock` and commit both files; `--locked` refuses a lock that does not match.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"

PYTHON = "3.12"


def _sync(session: nox.Session, *extras: str, group: str | None = None) -> None:
    """Make the session's environment match `uv.lock` (the package, editable, with
    ``extras``; or only the dependency ``group``), changing nothing when it already does.

    Bytecode is compiled at install, as pip does and uv does not by default: without it
    every run compiles PyMC, ArviZ, pandas and the rest again at import (about 11 s on this
    project's reference machine, which sets PYTHONDONTWRITEBYTECODE).
    """
    env = {"UV_COMPILE_BYTECODE": "1"}
    if shutil.which("uv") is None:  # nox's virtualenv backend and no uv: pip, unlocked
        if group:
            session.install("ruff>=0.8", "import-linter>=2.1")
        else:
            session.install("-e", f".[{','.join(extras)}]" if extras else ".")
        return
    env["UV_PROJECT_ENVIRONMENT"] = session.virtualenv.location
    selection = [f"--only-group={group}"] if group else [f"--extra={e}" for e in extras]
    session.run_install(
        "uv", "sync", "--locked", "--no-default-groups", *selection, env=env, external=True
    )


def _pytest(session: nox.Session, *selection: str) -> None:
    _sync(session, "test")
    # the pack test renders HTML in Debian's Chromium and the workbook test opens XLSX in
    # LibreOffice when they are installed (.ci/run installs both on CI); this session never
    # changes the machine's packages
    if shutil.which("chromium") is None:
        session.log("chromium not found: the browser test of the packs will be skipped")
    if shutil.which("soffice") is None:
        session.log("soffice not found: the LibreOffice test of the workbooks will be skipped")
    # pyproject's testpaths are tests/ and lacstats/ with --doctest-modules: the
    # docstrings' examples (>>>) run with the tests; one worker per core (pytest-xdist),
    # each test file on one worker so that its fixtures are built once (`-- -n 0` runs
    # them in this process)
    session.run("pytest", "-n", "auto", "--dist", "loadfile", *selection, *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the tests a developer runs often: all but those marked slow (the long reference
    fits and whole runs, over ~10 s each; `nox -s tests_all` or `nox -s tests -- -m ''`
    runs them too)."""
    _pytest(session, "-m", "not slow")


@nox.session(python=PYTHON, default=False)
def tests_slow(session: nox.Session) -> None:
    """Run only the tests marked slow (the long reference fits and whole runs): CI runs
    `nox -s tests` and then this, so that together they run every test once."""
    _pytest(session, "-m", "slow")


@nox.session(python=PYTHON, default=False)
def tests_all(session: nox.Session) -> None:
    """Run every test, the slow ones included (as CI does, from .ci/run)."""
    _pytest(session)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style with ruff and the architecture's import contracts with import-linter."""
    # import-linter reads the source (from the working directory): the package and its
    # dependencies need not be installed
    _sync(session, group="lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation into docs/_build/html, offline, warnings as errors.

    Every tutorial is executed (MyST-NB); then open docs/_build/html/index.html.
    """
    _sync(session, "docs")
    out = Path("docs/_build/html")
    # a fresh build each time: stale pages of a renamed file never linger
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree("docs/_build/tutorial-work", ignore_errors=True)
    # the tutorials run side by side (-j auto): each on one BLAS thread, not one per core
    session.env["OPENBLAS_NUM_THREADS"] = "1"
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
    _sync(session)
    session.run("lacstats", "reproduce", *session.posargs)


@nox.session(python=PYTHON)
def paper(session: nox.Session) -> None:
    """Compile paper/paper.pdf from results/ (running `lacstats reproduce` first if needed)."""
    _sync(session)
    if not Path("results/manifest.json").is_file():
        session.run("lacstats", "reproduce")
    session.run("lacstats", "paper", *session.posargs)


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Run the performance benchmarks in benchmarks/ (on demand; never in CI)."""
    _sync(session, "bench")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
