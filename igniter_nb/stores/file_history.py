"""Reading a ``FileStore`` execution's versions while other processes may delete it, or delete it and save a new
execution under the same id: a history is the one execution's whole, or ``SnapshotNotFoundError``, never versions
of two executions (or the first versions of a deleted one).

A delete moves the execution's folder away whole (to the trash) and a new save makes a new folder and a new first
version file, so the folder's inode with the first version file's inode and modification time (in nanoseconds)
name the execution being read — a folder's inode alone may be reused at once by the next folder made, once the
trash is emptied. That identity is taken before the first file and compared after the last, and a read whose
execution was replaced meanwhile is read again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import not_found

T = TypeVar("T")

CURRENT = "current.json"  # an execution's latest version (its metadata first, then its snapshot)


def version_file(version: int) -> str:
    """The name of an execution's file of ``version`` (kept beside ``current.json``)."""
    return f"v{version:09d}.json"


#: How many times a read is started again after its folder was replaced under it (each replacement is a whole
#: delete and a new save by another process; more than this in a row is reported, not looped on).
ATTEMPTS = 5


def folder_identity(folder: Path) -> tuple[int, int, int, int] | None:
    """Which execution ``folder`` holds now: its inode, its first version file's inode and modification time (0s
    while that file is not written yet); None when the folder is not there."""
    try:
        found = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        first = os.stat(folder / version_file(1))
    except (FileNotFoundError, NotADirectoryError):
        return found.st_dev, found.st_ino, 0, 0
    return found.st_dev, found.st_ino, first.st_ino, first.st_mtime_ns


def read_whole(store: Any, execution_id: str, folder: Path, read: Callable[[], T]) -> T:
    """``read()`` of one execution's folder, started again while another process replaces the folder under it
    (deleted, then saved anew under the same id); ``SnapshotNotFoundError`` when it is gone."""
    for _ in range(ATTEMPTS):
        before = folder_identity(folder)
        if before is None:
            raise not_found(execution_id)
        try:
            result = read()
        except StoreError:
            if folder_identity(folder) != before:  # a version file went with the folder: read the new one
                continue
            raise
        if folder_identity(folder) == before:
            return result
    raise StoreError(f"{store!r}: execution {execution_id!r} was deleted and saved again {ATTEMPTS} times while "
                     "its history was read; read it again later", execution_id=execution_id)


def missing_version(store: Any, execution_id: str, path: Path) -> StoreError:
    """What a version file missing below the current version means: deleted meanwhile (``SnapshotNotFoundError``),
    else removed by hand (a ``StoreError`` naming it; :func:`read_whole` reads again if the folder was replaced)."""
    if not (path.parent / CURRENT).exists():
        return not_found(execution_id)
    return StoreError(f"{store!r}: execution {execution_id!r}: version file {path} is missing (removed by hand?)",
                      execution_id=execution_id)


__all__ = ["ATTEMPTS", "CURRENT", "folder_identity", "missing_version", "read_whole", "version_file"]
