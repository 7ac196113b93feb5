"""Read-only openings of the file and parquet stores: a directory the process cannot write (a copied or mounted
store an analyst reads in a notebook), or any directory opened with ``read_only=True`` to guarantee that nothing is
written there.

A read-only opening writes nothing — no ``.lock``, no folder, no sidecar index, and none of what an opening
otherwise finishes for a killed writer (an unfinished save, delete or import swap, the trash, an import's staging
folder) — and every write (save, delete, import, ``rebuild_index``) is a ``StoreError`` naming the store's
directory, raised before anything is touched.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from pathlib import Path
from typing import Any

from igniter_nb.errors import StoreError


def is_read_only(root: Path, read_only: bool | None, where: str, files: tuple[Path, ...] = ()) -> bool:
    """Whether to open ``root`` read-only: ``read_only`` when given, else whether the directory exists and this
    process may not write it or one of ``files`` that exists (the parquet sidecar index: a copy's permissions, a
    read-only bind mount of that file). A read-only opening of a directory that does not exist is a ``StoreError``."""
    if read_only is None:
        read_only = root.is_dir() and unwritable(root, files) is not None
    if read_only and not root.is_dir():
        raise StoreError(f"{where}: cannot open the store's directory read-only: {root} is not a directory",
                         file=str(root))
    return bool(read_only)


def unwritable(root: Path, files: tuple[Path, ...] = ()) -> Path | None:
    """The first of ``root`` and the existing ``files`` this process may not write; None when it may write all."""
    for path in (root, *files):  # (os.access: EROFS on a read-only mount, even for root)
        if (path == root or os.path.lexists(path)) and not os.access(path, os.W_OK):
            return path
    return None


def refuse_write(where: str, root: Path, what: str, explicit: bool, files: tuple[Path, ...] = ()) -> StoreError:
    """The error of a write asked of a read-only opening (raised before anything is touched): it names the directory,
    or the file of ``files`` that made a writable directory's store read-only, and the fix."""
    path = None if explicit else unwritable(root, files)
    if path is not None and path != root:
        return StoreError(f"{where}: cannot {what}: the store's file {path} is read-only (this process cannot write "
                          f"it, so the store in the writable directory {root} was opened read-only); nothing was "
                          "written. Make the file writable to write here, or open with read_only=True to say so",
                          file=str(path))
    why = "opened with read_only=True" if explicit else "this process cannot write it"
    return StoreError(f"{where}: cannot {what}: the store's directory {root} is read-only ({why}); nothing was "
                      "written", file=str(root))


def folders(folder: Path) -> builtins.list[Path]:
    """The entries of ``folder``; none when it does not exist (a read-only opening creates no folder)."""
    try:
        return builtins.list(folder.iterdir())
    except FileNotFoundError:
        return []


def scan(folder: Path) -> contextlib.AbstractContextManager[Any]:
    """``os.scandir(folder)``; nothing when it does not exist."""
    try:
        return os.scandir(folder)
    except FileNotFoundError:
        return contextlib.nullcontext(iter(()))


__all__ = ["folders", "is_read_only", "refuse_write", "scan", "unwritable"]
