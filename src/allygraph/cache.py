"""An on-disk cache for work that depends only on input files and allygraph's own code: the parsed
definitions and the SPARQL compiled from them (a few hundred milliseconds saved on every run).

Where: `$ALLYGRAPH_CACHE` if set (`off` turns the cache off), else `$XDG_CACHE_HOME/allygraph`, else
`~/.cache/allygraph`. An entry's key is a SHA-256 of the inputs' bytes and of the package's source files
(name, size, modification time), so an edited definition file or a new allygraph version never reads a
stale entry. Entries are pickles, read only from a folder and files owned by the user and writable by no
one else; an entry that cannot be read is ignored and computed again. Writing is best-effort: a read-only or full disk
only costs the time saved. The folder keeps the 64 most recent entries.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """The cache folder, or None when `ALLYGRAPH_CACHE=off`."""
    configured = os.environ.get("ALLYGRAPH_CACHE")
    if configured is not None:
        return None if configured.strip().lower() in ("off", "0", "no", "false", "") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "allygraph"


@cache
def _code_digest() -> bytes:
    """The package's source files by name, size and modification time (as Python checks its .pyc files)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.digest()


def key_of(kind: str, files: Iterable[Path]) -> str:
    """The key of `kind` of work on `files` (paths and contents) with this version of the code."""
    digest = hashlib.sha256(kind.encode() + b"\0" + _code_digest())
    for path in files:
        digest.update(str(path).encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def _private(path: Path) -> bool:
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cached(key: str, compute: Callable[[], T]) -> T:
    """The value stored under `key`, or `compute()` (stored for next time)."""
    folder = cache_dir()
    if folder is None:
        return compute()
    entry = folder / f"{key}.pickle"
    try:
        if _private(folder) and _private(entry):
            with entry.open("rb") as handle:
                return pickle.load(handle)  # a private folder, see the module docstring
    except Exception:  # missing, truncated or from another Python: compute it again
        pass
    value = compute()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            try:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                handle.close()
                temporary.unlink()
                raise
        os.replace(temporary, entry)
        _prune(folder)
    except Exception:  # best-effort: the value is returned all the same
        pass
    return value


KEEP = 64  # entries kept: every edit of a definition file or of allygraph makes new ones


def _prune(folder: Path) -> None:
    """Remove all but the `KEEP` most recently written entries."""
    entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
