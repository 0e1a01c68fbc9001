"""Analyses computed once: plain files kept under the key of everything that made them.

An analysis, or a part of one, that does not depend on a study's case data (the national
models, Ofsted's sufficiency tables) gives the same bytes for the same inputs, options,
seed and code. Its files are kept in the user's cache folder (:func:`folder`: the
``LACSTATS_CACHE_DIR`` environment variable, else platformdirs' user cache folder for
``lacstats``), under the SHA-256 of those inputs (:func:`key`), and any later run or study
with the same key copies them instead of computing them again.

An entry is a folder ``<kind>/<key>/``: ``files/``, the files exactly as they were written,
any attachments beside them (JSON text) and ``entry.json``, which records the key, what
went into it and the SHA-256 of every file. Entries are written into a temporary sibling
and renamed into place in one step, so a reader never sees half an entry; an entry is
never overwritten; an entry that does not match its record (a crash on a file system
without atomic renames, a file edited by hand) is reported and ignored
(:meth:`Cache.get`), and computed again. Nothing in the cache is ever unpickled: the files
are CSV, JSON, PNG and SVG, read as text or bytes.

Frames kept in an entry go through :func:`frame_to_json` and :func:`frame_from_json`,
which keep every value exactly (a float's shortest round-trip text) and every column's
type, so a table written from a reused entry is the same bytes as one written from a
fresh computation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lacstats import provenance
from lacstats.errors import LacstatsError

__all__ = [
    "ENV",
    "Cache",
    "Entry",
    "folder",
    "frame_from_json",
    "frame_to_json",
    "key",
    "library",
    "source_hash",
]

#: The environment variable naming the cache folder (tests set it to a temporary folder).
ENV = "LACSTATS_CACHE_DIR"
#: The layout of an entry; an entry of another layout is ignored.
FORMAT = 1
_RECORD = "entry.json"
_FILES = "files"


def folder() -> Path:
    """The cache folder: ``$LACSTATS_CACHE_DIR`` if set, else platformdirs' user cache
    folder for ``lacstats`` (``~/.cache/lacstats`` on Linux).

    Examples
    --------
    >>> import os
    >>> from pathlib import Path
    >>> from lacstats import cache
    >>> os.environ.get(cache.ENV) is None or cache.folder() == Path(os.environ[cache.ENV])
    True
    """
    given = os.environ.get(ENV)
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("lacstats", appauthor=False))


def source_hash() -> str:
    """SHA-256 over the package's sources, Python and C (names and contents): results of
    edited code are never reused, whatever its version says.

    Examples
    --------
    >>> from lacstats import cache
    >>> len(cache.source_hash())
    64
    """
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    sources = (p for p in root.rglob("*") if p.suffix in (".py", ".c") and p.is_file())
    for path in sorted(sources):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: Packages whose versions every key holds beside the manifests' (the sampler's compiler
#: and the sampler change draws; matplotlib changes figures' bytes).
DEPENDENCIES = (*provenance.DEPENDENCIES, "nutpie", "numba", "platformdirs")


def library() -> dict[str, Any]:
    """What every key holds of the package and what it runs on: its version,
    :func:`source_hash`, the SHA-256 of every packaged data file, the versions of Python
    and of :data:`DEPENDENCIES`, and the machine's architecture.

    Examples
    --------
    >>> from lacstats import cache
    >>> sorted(cache.library())
    ['dependencies', 'lacstats', 'machine', 'packaged_data', 'python', 'source']
    """
    import platform
    import sys
    from importlib import metadata

    import lacstats

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "lacstats": lacstats.__version__,
        "source": source_hash(),
        "packaged_data": provenance.packaged_data_hashes(),
        "python": sys.version.split()[0],
        "dependencies": {name: version(name) for name in DEPENDENCIES},
        "machine": platform.machine(),
    }


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def key(payload: Mapping[str, Any]) -> str:
    """SHA-256 of ``payload`` written as canonical JSON (sorted keys): the key of what the
    inputs in ``payload`` make.

    Examples
    --------
    >>> from lacstats import cache
    >>> cache.key({"seed": 2019, "fast": True}) == cache.key({"fast": True, "seed": 2019})
    True
    >>> cache.key({"seed": 2019}) == cache.key({"seed": 7})
    False
    """
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


# ------------------------------------------------------------------------------ frames
_DTYPES = ("float64", "int64", "bool", "str", "object", "Int64", "Float64", "boolean")


def _cell(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # a NumPy scalar
        return value.item()
    return value


def frame_to_json(frame: pd.DataFrame) -> str:
    """A frame as JSON: column names, their types and the rows, every float exactly (NaN
    kept). The index is not kept. Types other than float, integer, bool, text and object
    columns are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import cache
    >>> frame = pd.DataFrame({"area": ["Kent"], "share": [0.1 + 0.2], "n": [3], "above": [True]})
    >>> back = cache.frame_from_json(cache.frame_to_json(frame))
    >>> back.equals(frame), back["share"].item() == 0.1 + 0.2
    (True, True)
    """
    dtypes = [str(t) for t in frame.dtypes]
    odd = sorted({t for t in dtypes if t not in _DTYPES})
    if odd:
        raise LacstatsError(f"a frame kept in the cache has columns of types {odd}")
    rows = [
        [_cell(v) for v in values]
        for values in frame.astype(object).itertuples(index=False, name=None)
    ]
    data = {"columns": [str(c) for c in frame.columns], "dtypes": dtypes, "rows": rows}
    return json.dumps(data, ensure_ascii=False, allow_nan=True) + "\n"


def frame_from_json(text: str) -> pd.DataFrame:
    """The frame :func:`frame_to_json` wrote into ``text``, every value and type as it was.

    Columns: those of the frame written into ``text``, in its order, with their types.

    Examples
    --------
    >>> import pandas as pd
    >>> from lacstats import cache
    >>> text = cache.frame_to_json(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))
    >>> cache.frame_from_json(text)["n"].tolist()
    [1, <NA>]
    """
    data = json.loads(text)
    out = pd.DataFrame(data["rows"], columns=data["columns"], dtype=object)
    if not len(out):
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in data["columns"]})
    for column, dtype in zip(data["columns"], data["dtypes"], strict=True):
        if dtype in ("float64", "Float64"):
            values = [math.nan if v is None else v for v in out[column]]
            out[column] = pd.Series(values, dtype="float64", index=out.index)
            if dtype == "Float64":
                out[column] = out[column].astype("Float64")
        elif dtype != "object":
            out[column] = out[column].astype(dtype)
    return out


# ------------------------------------------------------------------------------ entries
@dataclass(frozen=True)
class Entry:
    """An entry found in the cache: its folder, the folder of its files, its record and
    its attachments (name -> text).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import cache
    >>> with tempfile.TemporaryDirectory() as scratch:
    ...     store = cache.Cache(Path(scratch))
    ...     made = Path(scratch) / "made"
    ...     made.mkdir()
    ...     _ = (made / "numbers.json").write_text("{}")
    ...     _ = store.put("demo", "k1", made, {"seed": 1}, {"row.json": "[]"})
    ...     entry, _ = store.get("demo", "k1")
    ...     sorted(entry.record["files"]), entry.attachments, entry.record["inputs"]
    ...
    (['files/numbers.json', 'row.json'], {'row.json': '[]'}, {'seed': 1})
    """

    path: Path
    record: dict[str, Any]
    attachments: dict[str, str]

    @property
    def files(self) -> Path:
        """The files exactly as they were written."""
        return self.path / _FILES


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): provenance.file_hash(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


#: A temporary folder older than this (seconds) was left by a run that was killed.
STALE_SECONDS = 24 * 3600


def _remove_stale(kind: Path) -> None:
    """Remove the temporary folders that killed runs left beside the entries."""
    import time

    now = time.time()
    for left in kind.glob(".*.tmp.*"):
        try:
            if now - left.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:
            continue


@dataclass(frozen=True)
class Cache:
    """A cache folder (default :func:`folder`) holding entries by kind and key.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lacstats import cache
    >>> with tempfile.TemporaryDirectory() as scratch:
    ...     store = cache.Cache(Path(scratch) / "cache")
    ...     made = Path(scratch) / "made"
    ...     made.mkdir()
    ...     _ = (made / "table.csv").write_text("a,b\\n1,2\\n")
    ...     k = cache.key({"seed": 2019})
    ...     print(store.get("demo", k))
    ...     print(store.put("demo", k, made, {"seed": 2019}))
    ...     found, problem = store.get("demo", k)
    ...     print((found.files / "table.csv").read_text(), problem)
    ...
    (None, '')
    (True, '')
    a,b
    1,2
    <BLANKLINE>
    """

    root: Path

    @classmethod
    def default(cls) -> Cache:
        """The cache of :func:`folder`."""
        return cls(folder())

    def path(self, kind: str, key: str) -> Path:
        """Where the entry of ``kind`` and ``key`` is (or would be)."""
        return self.root / kind / key

    def get(self, kind: str, key: str) -> tuple[Entry | None, str]:
        """The entry of ``kind`` and ``key`` and "", or None and "" when there is none,
        or None and what is wrong with an entry that is there but does not match its
        record (it is then ignored; :meth:`discard` removes it)."""
        where = self.path(kind, key)
        if not where.exists():
            return None, ""
        try:
            record = json.loads((where / _RECORD).read_text(encoding="utf-8"))
            if not isinstance(record, dict):
                return None, f"{_RECORD} is not a record"
            if record.get("format") != FORMAT or record.get("key") != key:
                return None, f"{_RECORD} is of another format or key"
            listed = record.get("files")
            if not isinstance(listed, dict):
                return None, f"{_RECORD} lists no files"
            found = {k: v for k, v in _hashes(where).items() if k != _RECORD}
            if found != listed:
                changed = sorted(set(found) ^ set(listed)) + sorted(
                    k for k in set(found) & set(listed) if found[k] != listed[k]
                )
                return None, f"files missing, added or changed: {', '.join(changed[:5])}"
            attachments = {
                name: (where / name).read_text(encoding="utf-8")
                for name in record.get("attachments", [])
            }
        except (OSError, ValueError, UnicodeDecodeError) as err:
            return None, f"unreadable ({type(err).__name__}: {err})"
        return Entry(where, record, attachments), ""

    def put(
        self,
        kind: str,
        key: str,
        files: Path,
        inputs: Mapping[str, Any],
        attachments: Mapping[str, str] | None = None,
    ) -> tuple[bool, str]:
        """Keep a copy of the folder ``files`` (and ``attachments``: name -> text) as the
        entry of ``kind`` and ``key``, with a record of ``inputs``: built aside, renamed
        into place in one step. Returns whether it was stored and, if not, why (an entry
        already there is never overwritten; a cache folder that cannot be written is not
        an error of the run)."""
        attachments = dict(attachments or {})
        target = self.path(kind, key)
        if target.exists():
            return False, "an entry of this key is already there"
        scratch: Path | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(target.parent)
            scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{key[:16]}.tmp."))
            shutil.copytree(files, scratch / _FILES)
            for name, text in attachments.items():
                if name in (_RECORD, _FILES) or "/" in name or name.startswith("."):
                    raise LacstatsError(f"a cache attachment may not be named {name!r}")
                (scratch / name).write_text(text, encoding="utf-8")
            record = {
                "format": FORMAT,
                "kind": kind,
                "key": key,
                "inputs": dict(inputs),
                "attachments": sorted(attachments),
                "files": _hashes(scratch),
            }
            (scratch / _RECORD).write_text(
                json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
            os.rename(scratch, target)  # refuses (on POSIX) to replace a non-empty folder
            scratch = None
        except OSError as err:
            if target.exists():
                return False, "an entry of this key is already there"
            return False, f"{type(err).__name__}: {err}"
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        return True, ""

    def discard(self, kind: str, key: str) -> None:
        """Remove an entry that does not match its record (moved aside first, so that a
        reader never sees it half removed)."""
        where = self.path(kind, key)
        if not where.exists():
            return
        aside = where.with_name(f".{key[:16]}.discarded.{os.getpid()}")
        try:
            os.rename(where, aside)
        except OSError:
            return
        shutil.rmtree(aside, ignore_errors=True)
