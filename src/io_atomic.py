"""Atomic outputs: a file or a folder is written beside its target and swapped in only when complete."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from filelock import FileLock

RENAME_EXCHANGE = 2  # linux/fs.h: swap two existing paths in one step
AT_FDCWD = -100


@contextmanager
def atomic_output(output: Path) -> Iterator[Path]:
    """A temporary path beside `output` to write; it becomes `output` only if the block succeeds."""
    output = Path(output)
    partial = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        yield partial
        os.replace(partial, output)  # readers never see a half-written file
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A fresh folder beside `target` to fill; it replaces `target` only if the block succeeds.

    Until then `target` keeps its previous content, whatever happens (exception or kill). Folders
    left by killed runs (`.<name>.<pid>.partial` of a process that no longer runs) are removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(target)
    partial = partial_folder(target, os.getpid())
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield partial
        swap_in(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def partial_folder(target: Path, pid: int) -> Path:
    """Where process `pid` builds the next content of `target`."""
    return target.with_name(f".{target.name}.{pid}.partial")


def remove_abandoned(target: Path) -> None:
    """Delete the partial folders of `target` whose writer process is gone."""
    for folder in target.parent.glob(f".{target.name}.*.partial"):
        pid = folder.name[len(target.name) + 2 : -len(".partial")]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def swap_in(new: Path, target: Path) -> None:
    """Make `new` the content of `target`: one atomic exchange where the kernel offers it."""
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # `new` now holds the previous content
        return
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    os.rename(target, old)  # fallback: a short window in which `target` is missing, never partial
    os.rename(new, target)
    shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths with Linux renameat2(RENAME_EXCHANGE); False where unsupported."""
    libc = _libc()
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    status = libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return status == 0


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library, if it can be loaded."""
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _running(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cache_lock(cache_dir: Path | str, name: str) -> FileLock:
    """A file lock `<cache_dir>/locks/<name>.lock`, for writers of shared state in parallel sweep jobs."""
    folder = Path(cache_dir) / "locks"  # apart from the cached files themselves
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(folder / f"{name}.lock")
