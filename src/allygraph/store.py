"""The persistent store: pyoxigraph on disk, replaced atomically by each successful build.

Layout of an output folder (default `build/`):

    build/
      .lock                 held (flock) by the one process that may build here
      .gen-<id>/            one generation: store/, allygraph.trig, allygraph.nq, ontology.ttl
      current -> .gen-<id>  a symlink, replaced atomically (rename) when a build succeeds
      store -> current/store, allygraph.trig -> current/allygraph.trig, ...

A build writes a new generation beside the current one and only then swaps `current`, so a build that
fails, is interrupted or killed leaves the previous store exactly as it was; no store is ever written
while a reader has it open. The previous generation is kept so a reader that opened it just before
the swap keeps working; older ones, and leftovers of killed builds, are removed by the next build.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph

from .errors import StoreBusy, StoreError

CURRENT = "current"
STORE = "store"
_LOCK = ".lock"
_PREFIX = ".gen-"
LINKS = (STORE, "allygraph.trig", "allygraph.nq", "ontology.ttl")


@contextlib.contextmanager
def write_lock(out: Path) -> Iterator[None]:
    """Hold the output folder's write lock, or fail at once with StoreBusy.

    :raises StoreBusy: if another process holds it.
    """
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise StoreBusy(
                f"the store in {out} is busy: a build by process {holder} is writing it; wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def new_generation(out: Path) -> Path:
    """A fresh, empty generation folder (call with the write lock held)."""
    path = out / f"{_PREFIX}{time.time_ns()}-{os.getpid()}"
    path.mkdir()
    return path


def current_generation(out: Path) -> Path | None:
    """The generation `current` points to, or None before the first successful build."""
    link = out / CURRENT
    if not link.is_symlink():
        return None
    target = out / os.readlink(link)
    return target if target.is_dir() else None


def commit(out: Path, generation: Path) -> None:
    """Make `generation` current, atomically, then remove generations nobody needs."""
    for name in LINKS:  # refuse before switching, so a refusal leaves the previous build current
        link = out / name
        if not link.is_symlink() and link.exists():
            raise StoreError(f"{link} exists and is not allygraph's link; move it away")
    _fsync_tree(generation)
    previous = current_generation(out)
    tmp = out / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(generation.name)
    os.replace(tmp, out / CURRENT)  # the atomic step
    _fsync_dir(out)
    for name in LINKS:
        link = out / name
        if not link.is_symlink():
            link.symlink_to(f"{CURRENT}/{name}")
    collect_garbage(out, keep={generation, previous})


def discard(generation: Path) -> None:
    """Remove a generation that will never be committed (never the current one)."""
    if current_generation(generation.parent) == generation:
        return
    shutil.rmtree(generation, ignore_errors=True)


def collect_garbage(out: Path, keep: set[Path | None]) -> None:
    """Remove every generation (and stray temporary link) except those in `keep`."""
    keep_names = {p.name for p in keep if p is not None}
    for child in out.iterdir():
        if child.name.startswith(_PREFIX) and child.name not in keep_names:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(".current-") and child.is_symlink():
            child.unlink(missing_ok=True)


def open_store(out: Path | str) -> pyoxigraph.Store:
    """Open the current store read-only. Builds never write into it, so this is safe beside a build.

    :raises StoreError: if nothing has been built in `out` yet.
    """
    out = Path(out)
    generation = current_generation(out)
    if generation is None:
        raise StoreError(f"no store in {out}: run `allygraph build` first")
    try:
        return pyoxigraph.Store.read_only(str(generation / STORE))
    except OSError as exc:
        raise StoreError(f"cannot open the store in {generation}: {exc}") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))
