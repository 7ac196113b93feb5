"""Writing generated files all or nothing, never over an existing file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from igniter_nb.scaffold.spec import ScaffoldError


def existing(files: Mapping[Path, str]) -> list[Path]:
    """The targets that exist already — files, directories, or symlinks (dangling ones too)."""
    return [path for path in files if os.path.lexists(path)]


def blocked(files: Mapping[Path, str]) -> list[Path]:
    """Where a target's directory should be, something else exists: a file or a symlink to no directory (the
    nearest existing ancestor of each target, when it is not a directory)."""
    found: dict[Path, None] = {}
    for path in files:
        for parent in path.parents:
            if os.path.lexists(parent):
                if not parent.is_dir():
                    found[parent] = None
                break
    return list(found)


def write_all(files: Mapping[Path, str]) -> list[Path]:
    """Write every file, or none: refuse when any target exists (naming each), and remove what was written and
    the directories made for it when a write fails halfway. Returns the paths written, in order."""
    taken = existing(files)
    in_the_way = blocked(files)
    if taken or in_the_way:
        raise ScaffoldError([f"{path} exists already; nothing was written (move it away or choose another "
                             "name or --dir)" for path in taken]
                            + [f"{path} exists and is not a directory; nothing was written (move it away or "
                               "choose another name or --dir)" for path in in_the_way])
    made_dirs: list[Path] = []
    written: list[Path] = []
    try:
        for path, text in files.items():
            made_dirs += _make_parents(path.parent)
            try:
                # "x": exclusive creation, so a file that appeared since the check above is never overwritten
                with open(path, "x", encoding="utf-8", newline="\n") as handle:
                    written.append(path)
                    handle.write(text)
            except OSError as exc:
                if exc.filename is None:  # a write or close (a full disk) names no file: name the one being written
                    raise OSError(exc.errno, exc.strerror, str(path)) from exc
                raise
    except BaseException:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        for directory in reversed(made_dirs):
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
                directory.rmdir()
        raise
    return written


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return the ones this call created, outermost first."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    made: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        made.append(path)
    return made
