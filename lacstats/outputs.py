"""Writing results without ever touching an input.

:func:`atomic_write_bytes` and :func:`atomic_directory` build in a temporary sibling and
swap it into place only when the work is complete and no interrupt is pending.
:func:`check_output` refuses, before any work, an output that is, contains or lies inside
an input, an existing file where a folder is expected, and an existing folder that
lacstats did not make. Statistical modules never import this module (pyproject.toml's
import contracts).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from lacstats import interrupts
from lacstats.errors import LacstatsError

__all__ = [
    "MARKER",
    "OutputError",
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
]

#: The file that marks a folder made by :func:`atomic_directory`: only such a folder is
#: ever replaced.
MARKER = ".lacstats-output"


class OutputError(LacstatsError):
    """An output path that would destroy or mix with an input, or cannot be written.

    Examples
    --------
    >>> from lacstats.outputs import OutputError
    >>> from lacstats import LacstatsError
    >>> issubclass(OutputError, LacstatsError)
    True
    """


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path)))).resolve()


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _ours(folder: Path) -> bool:
    """A folder made by lacstats: the marker, or (before the marker existed) a results
    folder with its top-level manifest."""
    return (folder / MARKER).is_file() or (folder / "manifest.json").is_file()


def check_output(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]] = (),
    *,
    folder: bool = True,
    replace: bool = True,
    what: str = "--out",
) -> Path:
    """Refuse an output path that would destroy an input or another user's files.

    Refused: ``out`` is, contains or lies inside any of ``inputs`` (files or folders);
    with ``folder``, an existing file, or an existing non-empty folder that lacstats did
    not make (no :data:`MARKER` in it), unless ``replace`` is false (files are added to the
    folder, not the folder replaced); without ``folder``, an existing folder. Called
    before any work, so nothing is computed for a write that cannot happen.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import OutputError, check_output
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     cases = Path(folder) / "cases.csv"
    ...     _ = cases.write_text("case_id\\nA1\\n")
    ...     try:
    ...         check_output(cases, inputs=[cases], folder=False)
    ...     except OutputError as error:
    ...         print("refused")
    ...
    refused
    """
    target = _resolved(out)
    for given in inputs:
        source = _resolved(given)
        if _within(target, source) or _within(source, target):
            relation = (
                "is"
                if target == source
                else "lies inside"
                if _within(target, source)
                else "contains"
            )
            raise OutputError(
                f"{what} {out}: {relation} the input {given}; outputs never overwrite inputs, "
                "choose another folder"
            )
    if folder:
        if target.exists() and not target.is_dir():
            raise OutputError(f"{what} {out}: an existing file, not a folder")
        if replace and target.is_dir() and any(target.iterdir()) and not _ours(target):
            raise OutputError(
                f"{what} {out}: an existing folder that lacstats did not make; it would be "
                "replaced, so choose a new or empty folder"
            )
    elif target.is_dir():
        raise OutputError(f"{what} {out}: an existing folder, not a file")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {out}: cannot write in {parent}")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import atomic_write_bytes
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "table.csv"
    ...     atomic_write_bytes(target, b"n\\n12\\n")
    ...     print(target.read_bytes())
    ...
    b'n\\n12\\n'
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: an existing folder, not a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        interrupts.check()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import atomic_write_text
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "note.txt"
    ...     atomic_write_text(target, "Weekly cost (£)")
    ...     print(target.read_text(encoding="utf-8"))
    ...
    Weekly cost (£)
    """
    atomic_write_bytes(path, text.encode("utf-8"))


_STAGING = re.compile(r"\.(?P<name>.+)\.staging\.(?P<pid>\d+)\.[^.]+$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove staging folders left by runs that died (SIGKILL, power cut) and finish a
    swap that was cut short between its two renames."""
    if not target.parent.is_dir():
        return
    for entry in target.parent.iterdir():
        match = _STAGING.fullmatch(entry.name)
        if match and match["name"] == target.name and not _alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
    old = target.with_name(f".{target.name}.old")
    if old.is_dir() and (old / MARKER).is_file():
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, target)


@contextlib.contextmanager
def atomic_directory(
    target: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    merge: bool = False,
) -> Iterator[Path]:
    """Build a directory in a temporary sibling and swap it into place only on success.

    The target is checked first (:func:`check_output` against ``inputs``). If the block
    raises, or an interrupt is pending when it ends (:mod:`lacstats.interrupts`), the
    temporary directory is removed and ``target`` is untouched. With ``merge``, entries of
    an existing ``target`` that the block did not make are carried over into the new one.
    The folder gets the usual permissions (not mkdtemp's 0700) and a :data:`MARKER` file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import atomic_directory
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = Path(folder) / "results"
    ...     with atomic_directory(out) as staging:
    ...         _ = (staging / "numbers.json").write_text("{}")
    ...         print(out.exists())
    ...     print(sorted(p.name for p in out.iterdir() if not p.name.startswith(".")))
    ...
    False
    ['numbers.json']
    """
    target = Path(target)
    check_output(target, inputs)
    _remove_stale(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging.{os.getpid()}.")
    )
    try:
        yield staging
        interrupts.check()
        (staging / MARKER).write_text(
            "made by lacstats; replaced as a whole by the next run\n", encoding="utf-8"
        )
        if merge and target.is_dir():
            for entry in target.iterdir():
                if not (staging / entry.name).exists():
                    if entry.is_dir():
                        shutil.copytree(entry, staging / entry.name, symlinks=True)
                    else:
                        shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        os.chmod(staging, 0o777 & ~_umask())
        interrupts.check()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
