"""Writing results without ever touching an input.

:func:`atomic_write_bytes` and :func:`atomic_directory` build in a temporary sibling and
swap it into place only when the work is complete and no interrupt is pending.
:func:`check_output` refuses, before any work, an output that is, contains or lies inside
an input, an existing file where a folder is expected, an existing folder that lacstats
did not make, and a folder lacstats made that now holds files it did not write (or that
were changed since): each folder lacstats makes lists, in its :data:`MARKER`, every file
it wrote with its SHA-256. :func:`allow_replacing` (the command's ``--force``) lets those
files go. A symbolic link given as an output is resolved once, before any work, and the
folder it points to is the one replaced. Statistical modules never import this module
(pyproject.toml's import contracts).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
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
    "allow_replacing",
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
    "foreign_files",
    "inside",
    "record_files",
    "replacing_allowed",
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


#: Files an operating system or a file browser leaves in any folder: never a user's work.
_JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_FORCE: contextvars.ContextVar[bool] = contextvars.ContextVar("lacstats_force", default=False)


@contextlib.contextmanager
def allow_replacing() -> Iterator[None]:
    """Within the block, a lacstats-made folder is replaced even when it holds files
    lacstats did not write (the command line's ``--force``); inputs stay protected.

    Examples
    --------
    >>> from lacstats import outputs
    >>> with outputs.allow_replacing():
    ...     outputs.replacing_allowed()
    True
    """
    token = _FORCE.set(True)
    try:
        yield
    finally:
        _FORCE.reset(token)


def replacing_allowed() -> bool:
    """Whether :func:`allow_replacing` is in force (``--force``).

    Examples
    --------
    >>> from lacstats import outputs
    >>> outputs.replacing_allowed()
    False
    """
    return _FORCE.get()


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listing(folder: Path) -> dict[str, str] | None:
    """The files lacstats wrote into ``folder`` (relative path -> SHA-256), from its
    marker; None when the folder records none (made before the listing existed)."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = record.get("files") if isinstance(record, dict) else None
    return files if isinstance(files, dict) else None


def _files(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if (path.is_file() or path.is_symlink()) and path.name != MARKER and path.name not in _JUNK
    )


def record_files(folder: str | os.PathLike[str], names: Iterable[str] = ()) -> None:
    """Add ``names`` (paths relative to ``folder``; every file in it when none are given)
    to the list of files lacstats wrote there, in ``folder``'s :data:`MARKER`, each with
    its SHA-256: the next run may replace them, and only them.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import MARKER, record_files
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "Kent.html").write_text("<html></html>")
    ...     record_files(folder, ["Kent.html"])
    ...     print(sorted(json.loads((Path(folder) / MARKER).read_text())["files"]))
    ...
    ['Kent.html']
    """
    folder = Path(folder)
    names = list(names) or _files(folder)
    files = dict(_listing(folder) or {})
    for name in names:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            files[Path(name).as_posix()] = _digest(path)
    record = {
        "made_by": "lacstats",
        "note": "lacstats replaces the files listed here, and refuses to replace any other",
        "files": dict(sorted(files.items())),
    }
    atomic_write_text(folder / MARKER, json.dumps(record, indent=1) + "\n")


def foreign_files(folder: str | os.PathLike[str]) -> list[str]:
    """Files in a lacstats-made ``folder`` that lacstats did not write, or that changed
    since it wrote them (a filled-in template, notes saved beside the results); none for a
    folder whose marker lists no files (made before the listing existed).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats.outputs import foreign_files, record_files
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "table.csv").write_text("n\\n12\\n")
    ...     record_files(folder)
    ...     _ = (Path(folder) / "my notes.docx").write_text("mine")
    ...     _ = (Path(folder) / "table.csv").write_text("n\\n13\\n")
    ...     print(foreign_files(folder))
    ...
    ['my notes.docx (not written by lacstats)', 'table.csv (changed since lacstats wrote it)']
    """
    folder = Path(folder)
    listed = _listing(folder)
    if listed is None:
        return []
    found = []
    for name in _files(folder):
        if name not in listed:
            found.append(f"{name} (not written by lacstats)")
        elif (folder / name).is_symlink() or _digest(folder / name) != listed[name]:
            found.append(f"{name} (changed since lacstats wrote it)")
    return found


def _named(entries: list[str], shown: int = 5) -> str:
    more = len(entries) - shown
    return ", ".join(entries[:shown]) + (f" and {more} more" if more > 0 else "")


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
        if replace and target.is_dir() and not _FORCE.get():
            foreign = foreign_files(target)
            if foreign:
                raise OutputError(
                    f"{what} {out}: lacstats made this folder, but it now holds "
                    f"{_named(foreign)}; replacing the folder would lose them: move them "
                    "out, choose another folder, or pass --force to replace them"
                )
    elif target.is_dir():
        raise OutputError(f"{what} {out}: an existing folder, not a file")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {out}: cannot write in {parent}")
    return target


def inside(folder: str | os.PathLike[str], name: str) -> Path:
    """The path of the file ``name`` in ``folder``, proven to stay there: ``name`` is a
    plain file name (no separator, no ``..``, no NUL, not absolute) and the resolved path
    lies in the resolved folder. Every file a writer names from its inputs goes through it.

    Examples
    --------
    >>> from lacstats.outputs import OutputError, inside
    >>> inside("templates", "km_Kent.xlsx").name
    'km_Kent.xlsx'
    >>> try:
    ...     inside("templates", "../../escaped_Kent.xlsx")
    ... except OutputError as error:
    ...     print(error)
    ...
    '../../escaped_Kent.xlsx' is not a plain file name: lacstats writes only inside templates
    """
    text = os.fspath(name)
    plain = (
        text not in ("", ".", "..")
        and "\x00" not in text
        and "/" not in text
        and os.sep not in text
        and (os.altsep is None or os.altsep not in text)
    )
    base = Path(folder)
    path = base / text
    if not plain or _resolved(path).parent != _resolved(base):
        raise OutputError(
            f"{text!r} is not a plain file name: lacstats writes only inside {os.fspath(folder)}"
        )
    return path


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
    path = Path(os.path.realpath(path))  # a link is followed once: the file it names
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

    The target is checked first (:func:`check_output` against ``inputs``; a symbolic link
    is resolved once, here, and the folder it points to replaced). If the block
    raises, or an interrupt is pending when it ends (:mod:`lacstats.interrupts`), the
    temporary directory is removed and ``target`` is untouched. With ``merge``, entries of
    an existing ``target`` that the block did not make are carried over into the new one.
    The folder gets the usual permissions (not mkdtemp's 0700) and a :data:`MARKER` file
    listing every file in it with its SHA-256 (:func:`record_files`).

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
    # a symbolic link is resolved once, before any work: the folder it points to is built
    # beside and replaced, and the link is left as it was
    target = Path(os.path.realpath(os.path.expanduser(os.fspath(target))))
    check_output(target, inputs)
    _remove_stale(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging.{os.getpid()}.")
    )
    try:
        yield staging
        interrupts.check()
        if merge and target.is_dir():
            for entry in target.iterdir():
                if entry.name != MARKER and not (staging / entry.name).exists():
                    if entry.is_dir():
                        shutil.copytree(entry, staging / entry.name, symlinks=True)
                    else:
                        shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        record_files(staging)  # every file written: the next run replaces these only
        os.chmod(staging, 0o777 & ~_umask())
        interrupts.check()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old")
    if old.is_symlink() or old.is_file():
        old.unlink()
    elif old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
