"""Provenance for results: versions, the git commit, input hashes and options."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["DEPENDENCIES", "environment", "file_hash", "git_commit", "packaged_data_hashes"]

#: Packages whose versions every manifest records.
DEPENDENCIES = (
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "pymc",
    "pytensor",
    "arviz",
    "matplotlib",
    "openpyxl",
    "pyarrow",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit(where: Path | None = None) -> str:
    """The commit of the working tree (with ``+dirty`` if it has changes), or ``unknown``.

    Examples
    --------
    >>> from lacstats import provenance
    >>> commit = provenance.git_commit()
    >>> commit == "unknown" or len(commit.removesuffix("+dirty")) == 40
    True
    """
    where = where or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """lacstats, Python and dependency versions, and the platform.

    Examples
    --------
    >>> from lacstats import provenance
    >>> env = provenance.environment()
    >>> sorted(env)[:3]
    ['dependencies', 'git_commit', 'lacstats']
    >>> import lacstats
    >>> env["lacstats"] == lacstats.__version__
    True
    """
    from lacstats import __version__

    return {
        "lacstats": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "git_commit": git_commit(),
    }


def file_hash(path: Path | Any) -> str:
    """SHA-256 of a file (a path or an importlib resource).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import provenance
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "cases.csv"
    ...     _ = path.write_text("case_id,authority\\nA1,Kent\\n")
    ...     print(provenance.file_hash(path))
    ...
    41a9ddb5d2c2ba87ced136a2f7b4eef8c12bbdaf17caa52bbd9074c15d57b8e0
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def packaged_data_hashes() -> dict[str, str]:
    """SHA-256 of every packaged data file.

    Examples
    --------
    >>> from lacstats import provenance
    >>> hashes = provenance.packaged_data_hashes()
    >>> len(hashes["SFR50_CLA2017.csv"])
    64
    """
    from importlib import resources

    folder = resources.files("lacstats.datasets") / "data"
    return {
        item.name: file_hash(item)
        for item in sorted(folder.iterdir(), key=lambda p: p.name)
        if item.is_file()
    }
