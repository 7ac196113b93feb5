"""The trash folder of the file and parquet stores: a delete renames the execution's folder into it (atomic: readers
see the execution or nothing), then removes it; what a delete killed in between left is removed when the store is
next opened. Only entries named as a delete names them are ever removed, so a ``trash`` folder that was already in
a directory given to a store keeps its own files."""

from __future__ import annotations

import errno
import os
import re
import shutil
import uuid
from pathlib import Path

_LEFTOVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\.[0-9a-f]{32}")  # <execution id>.<uuid4 hex>


def trash_path(trash: Path, execution_id: str) -> Path:
    """Where a delete moves ``execution_id``'s folder: a name of its own in ``trash``."""
    return trash / f"{execution_id}.{uuid.uuid4().hex}"


# a folder that cannot be renamed for a reason that waiting for room on the disk does not cure: a mount point or a
# folder another program holds (EBUSY), another file system (EXDEV), permissions (EACCES, EPERM)
_UNMOVABLE = frozenset({errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.ETXTBSY})


class Unmovable(Exception):
    """An execution's folder that cannot be moved into the trash (the ``OSError`` is its ``__cause__``)."""


def move_to_trash(trash: Path, execution_id: str, folder: Path) -> Path:
    """Rename ``folder`` into ``trash`` under a name of its own; ``Unmovable`` when it cannot be moved."""
    trash.mkdir(exist_ok=True)
    doomed = trash_path(trash, execution_id)
    try:
        os.replace(folder, doomed)
    except OSError as exc:
        if exc.errno not in _UNMOVABLE:
            raise
        raise Unmovable(f"its folder {folder} cannot be moved ({exc.strerror})") from exc
    return doomed


def empty_trash(trash: Path) -> None:
    """Remove the folders deletes left in ``trash`` (a delete killed after its rename); nothing else."""
    try:
        entries = list(trash.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if _LEFTOVER.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


__all__ = ["Unmovable", "empty_trash", "move_to_trash", "trash_path"]
