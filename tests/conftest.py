from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from lacstats import synthetic

try:
    import fcntl
except ImportError:  # not POSIX: each worker makes its own seed_fast_run
    fcntl = None


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """The linear algebra library and OpenMP on one thread, as ``lacstats reproduce`` runs
    each analysis (the same limits): the tests run on one pytest-xdist worker per core, and
    a thread per core in each worker would only contend (OpenBLAS's waiting threads spin)."""
    from lacstats.reproduce import _threads

    with _threads(side_by_side=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """The cache of analyses computed once (lacstats.cache) in a temporary folder, for the
    session's shared fixtures (``seed_fast_run`` fills it): no test writes to the user's
    cache folder. Its path."""
    from lacstats import cache

    before = os.environ.get(cache.ENV)
    shared = _shared_folder(tmp_path_factory)
    if shared is None:
        folder = tmp_path_factory.mktemp("session-cache")
    else:  # the workers share seed_fast_run, so they share the cache it fills
        folder = shared / "session-cache"
        folder.mkdir(exist_ok=True)
    os.environ[cache.ENV] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(cache.ENV, None)
    else:
        os.environ[cache.ENV] = before


@pytest.fixture(autouse=True)
def _cache_folder(tmp_path_factory, monkeypatch):
    """Each test's own empty cache folder (lacstats.cache), so that what one test computes
    once is not what another test reuses; ``os.environ[LACSTATS_CACHE_DIR]`` names it."""
    from lacstats import cache

    monkeypatch.setenv(cache.ENV, str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20191024)


@pytest.fixture(scope="session")
def cases():
    """The packaged calibrated sample at its default seed."""
    return synthetic.complex_lac()


@pytest.fixture(scope="session")
def truth():
    """The generator's truth behind ``cases`` (authority effects, latent profiles)."""
    return synthetic.calibrated_sample().truth


def _shared_folder(tmp_path_factory) -> Path | None:
    """The folder every pytest-xdist worker of this run shares (None: one process, or no
    POSIX file locks to share it with)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None or fcntl is None:
        return None
    return tmp_path_factory.getbasetemp().parent


@pytest.fixture(scope="session")
def seed_fast_run(tmp_path_factory):
    """One ``lacstats reproduce --fast`` of every analysis of the seed study, shared by the
    modules that read a complete results folder (test_reproduce, test_paper_compiled): made
    once per run of the tests, whichever pytest-xdist worker needs it first (the others
    wait for it and read it; it takes minutes). A test that changes anything in it works
    on a copy. The folder and the run's summary."""
    from lacstats.reproduce import run_all

    shared = _shared_folder(tmp_path_factory)
    if shared is None:
        out = tmp_path_factory.mktemp("fast") / "results"
        return out, run_all(out, seed=2019, fast=True)
    out = shared / "seed-fast-run" / "results"
    summary = out.parent / "summary.pickle"  # written by this test run, read by it only
    with open(shared / "seed-fast-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if summary.is_file():
            return out, pickle.loads(summary.read_bytes())
        made = run_all(out, seed=2019, fast=True)
        summary.write_bytes(pickle.dumps(made))
        return out, made


@pytest.fixture
def small_cases(cases):
    """A small valid case table (copied, safe to modify)."""
    return cases.head(12).copy()


@pytest.fixture
def page_blankness(tmp_path):
    """A function giving, for each page of a PDF but the last, the share of its pixel rows
    between the margins with no ink (rendered by Debian's pdftoppm, poppler-utils)."""
    import shutil
    import subprocess

    from PIL import Image

    if shutil.which("pdftoppm") is None:
        pytest.skip(
            "pdftoppm is not installed (Debian: apt-get install poppler-utils; .ci/run "
            "installs it in CI): the paper's pages are not rendered"
        )

    def blankness(pdf) -> dict[str, float]:
        folder = tmp_path / f"pages-{pdf.stem}"
        folder.mkdir()
        subprocess.run(
            ["pdftoppm", "-r", "40", "-gray", str(pdf), str(folder / "page")], check=True
        )
        shares = {}
        for page in sorted(folder.glob("page-*.pgm"))[:-1]:
            pixels = np.asarray(Image.open(page).convert("L"))
            height = pixels.shape[0]
            body = pixels[int(0.08 * height) : int(0.92 * height)]  # inside the margins
            shares[page.name] = round(float(1 - (body < 200).any(axis=1).mean()), 2)
        return shares

    return blankness


@pytest.fixture
def pdf_text():
    """A function giving a PDF's text (Debian's pdftotext, poppler-utils), its lines
    joined, the words typst hyphenated at a line end put back together and its curly
    quotes straight."""
    import re
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian: poppler-utils): no text check")

    def text(pdf) -> str:
        raw = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True
        ).stdout.decode("utf-8")
        raw = re.sub("\u00ad\n", "", raw)  # a word typst hyphenated at a line end
        raw = re.sub(r"-\n", "-", raw)  # a hyphen of the text at a line end
        raw = raw.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))  # smart quotes
        return re.sub(r"\s+", " ", raw)

    return text
