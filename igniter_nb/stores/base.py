"""The execution-store protocol every store implements, the record it returns, and the rules all stores share.

A store keeps JSON snapshots of executions, one *version* per save, plus the metadata a workflow needs to be
found again: its ``graph`` name, its business ``correlation`` and its ``status``. The rules (id syntax,
correlation canonical form, which statuses are *active*: ``stores/rules.py``) and the checked save
(``stores/save_request.py``) are the same for every store, so ``tests/stores`` runs one conformance suite over
all of them; their names are importable from here.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import os
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from igniter_nb.errors import SnapshotNotFoundError, StoreError

# The shared rules and the checked save live in modules of their own; every store imports them from here.
from igniter_nb.stores.rules import (  # noqa: F401
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    STATUSES,
    canonical_correlation,
    check_execution_id,
    check_filters,
    check_graph,
    check_listing,
    check_status,
    check_version,
    is_internal_graph,
    listed,
)
from igniter_nb.stores.save_request import (  # noqa: F401
    Metadata,
    SaveRequest,
    conflict,
    dump_runtime_snapshot,
    dump_snapshot,
    duplicate,
    snapshot_id,
)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredExecution:
    """One stored version of an execution: the snapshot plus the metadata saved with it."""

    execution_id: str
    snapshot: dict[str, Any]
    version: int
    graph: str | None
    correlation: dict[str, Any] | None
    status: str | None
    updated_at: dt.datetime  # aware, UTC: when this version was saved

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (``updated_at`` as ISO-8601 text)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["updated_at"] = self.updated_at.isoformat()
        return data


@runtime_checkable
class ExecutionStore(Protocol):
    """What the runtime and the workflow layer need from a store. See ``docs/stores.md``.

    Optional methods, which every store of this package has and the change feed (``stores.feed.watch``) uses
    when present: ``version_of(execution_id) -> int | None`` (the latest version number without reading the
    snapshot; the feed falls back to ``record(...).version``) and ``subscribe_changes(execution_id) ->
    ChangeSubscription | None`` (native wake-ups on each save and delete; None or absent: the feed polls).
    """

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Store a new version of ``snapshot["execution_id"]`` and return its number (1 for the first save).

        ``graph``/``correlation``/``status`` left at None keep what is stored. ``expected_version`` makes the
        save a compare-and-set (0 = must not exist yet): a mismatch raises ``ConcurrencyError``. A second
        *active* execution with the same graph and correlation raises ``DuplicateWorkflowError``.
        """
        ...

    def fetch(self, execution_id: str) -> dict[str, Any]:
        """The latest snapshot (a fresh dict); ``SnapshotNotFoundError`` when there is none."""
        ...

    def record(self, execution_id: str) -> StoredExecution:
        """The latest snapshot (a fresh dict, as from :meth:`fetch`: the runtime restores from it without copying
        it again) with its metadata; ``SnapshotNotFoundError`` when there is none."""
        ...

    def delete(self, execution_id: str) -> bool:
        """Remove the execution and its history; True if something was removed (deleting twice is no error)."""
        ...

    def exists(self, execution_id: str) -> bool:
        """Whether the execution is stored."""
        ...

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        """The id of the *active* execution of ``graph`` with exactly this correlation, by index lookup."""
        ...

    # Optional: ``record_by_correlation(graph, correlation) -> StoredExecution | None``, the record of the active
    # execution with this correlation in one read (memory, SQL and Redis stores have it); the workflow engine falls
    # back to ``find_by_correlation`` + ``record`` for a store without it.

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        """The id of the most recently saved execution of ``graph`` with exactly this correlation, whatever its
        status (active or finished), by index lookup; None when there is none.

        The correlation compared is the execution's *current* one (canonical JSON, as in
        :meth:`find_by_correlation`). Every save of an execution that has this graph and correlation makes it the
        latest — also a save with ``correlation=None``, which keeps the stored correlation. Deleting the latest
        execution falls back to the one saved before it (None when no other execution has the correlation).
        Used to answer a duplicate event idempotently after its workflow finished.
        """
        ...

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        """``(execution_id, correlation)`` of the executions of ``graph`` that have a correlation, most recently
        saved first, at most ``limit`` of them; only the *active* ones unless ``active_only=False``.

        Read from the metadata and indexes the store keeps beside the snapshots — no snapshot is loaded or
        decoded, so it stays cheap however large the snapshots are (the workflow engine calls it to suggest the
        nearest correlations when an event names an unknown one). "Most recently saved" is the same order as in
        :meth:`find_latest_by_correlation`. An unknown graph gives ``[]``; ``limit=0`` gives ``[]``.
        """
        ...

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        """Latest records, optionally filtered, ordered by ``updated_at`` then id."""
        ...

    # Optional (``stores/paging.py``; every store of this package has them, ``paging.list_page``/``paging.count``
    # fall back to ``list()`` for a store without them):
    # ``list_page(graph=None, status=None, *, limit, after=None) -> (records, next_cursor)``, the latest records
    # most recently saved first, ``limit`` at a time, reading about ``limit`` records per page; and
    # ``count(graph=None, status=None) -> int``.

    def history(self, execution_id: str) -> builtins.list[dict[str, Any]]:
        """Every saved snapshot of the execution, oldest first; ``SnapshotNotFoundError`` when there is none."""
        ...

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        """Like :meth:`history` with each version's metadata (status and save time per version)."""
        ...

    def close(self) -> None:
        """Release connections and file handles; the store is unusable afterwards."""
        ...

    def __enter__(self) -> ExecutionStore: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class StoreBase:
    """What the concrete stores share: ``history`` from ``history_records``, and context-manager support."""

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:  # pragma: no cover
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """In a notebook: a table of the stored executions (status, correlation, waiting on, age)."""
        try:
            from igniter_nb.notebook.reprs import store_mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        bundle: dict[str, Any] = store_mimebundle(self)
        return bundle

    def history(self, execution_id: str) -> builtins.list[dict[str, Any]]:
        """Every saved snapshot of the execution, oldest first; ``SnapshotNotFoundError`` when there is none."""
        return [r.snapshot for r in self.history_records(execution_id)]

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        raise NotImplementedError  # pragma: no cover - every store overrides it

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """The latest records most recently saved first (``updated_at`` then id, descending), at most ``limit``,
        below the cursor ``after`` (a previous page's ``next_cursor``); and the cursor of the next page (None on
        the last one). See ``stores/paging.py``. This default cuts the page from ``list()``; the stores of this
        package override it to read only about ``limit`` records."""
        from igniter_nb.stores.paging import fallback_page

        return fallback_page(self, graph, status, limit=limit, after=after)

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records ``list(graph, status)`` answers (this default: counts them, internal records left out
        when no graph is named, as ``list`` of every store of this package does)."""
        return sum(1 for r in self.list(graph, status) if listed(r.graph, graph))

    def close(self) -> None:  # pragma: no cover - every store overrides it
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------- shared helpers


@contextlib.contextmanager
def write_errors(where: str, execution_id: str) -> Iterator[None]:
    """Turn an ``OSError`` of a save (a full disk, a quota, a file size limit, a read-only file system) into a
    ``StoreError`` naming the store and the file. The stores write so that a save cut short is never visible."""
    try:
        yield
    except OSError as exc:
        file = f" ({exc.filename})" if exc.filename else ""
        raise StoreError(f"{where}: could not save execution {execution_id!r}: {exc.strerror or exc}{file}; nothing "
                         "of this save is visible", execution_id=execution_id, file=exc.filename,
                         errno=exc.errno) from exc


@contextlib.contextmanager
def opening_errors(where: str) -> Iterator[None]:
    """Turn what opening a file or parquet store's directory raises — an ``OSError`` (a file where the directory
    should be, no permission), a ``ValueError`` (a NUL byte in the path), SQLite's error for an index that is not a
    database — into a ``StoreError`` naming the store and the path."""
    import sqlite3

    try:
        yield
    except (OSError, ValueError, sqlite3.Error) as exc:
        file = getattr(exc, "filename", None)
        detail = f"{getattr(exc, 'strerror', None) or exc}" + (f" ({file})" if file else "")
        raise StoreError(f"{where}: cannot open the store's directory: {detail}", file=file) from exc


_TAKES_CHECK: dict[type, bool] = {}


def save_runtime_snapshot(store: Any, snapshot: dict[str, Any], **metadata: Any) -> int:
    """``store.save`` for a snapshot the runtime just built (JSON-safe by construction, never changed
    afterwards): a store whose ``save`` takes ``check_json=`` skips its JSON-safety check (``MemoryStore`` keeps
    it as ``marshal`` bytes; the SQL, file and Redis stores write its JSON with :func:`runtime_json`)."""
    kind = type(store)
    takes = _TAKES_CHECK.get(kind)
    if takes is None:
        import inspect

        try:
            takes = "check_json" in inspect.signature(kind.save).parameters
        except (AttributeError, TypeError, ValueError):
            takes = False
        _TAKES_CHECK[kind] = takes
    if takes:
        return int(store.save(snapshot, check_json=False, **metadata))
    return int(store.save(snapshot, **metadata))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """Databases without time zones hand back naive UTC times; make them aware."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def not_found(execution_id: str) -> SnapshotNotFoundError:
    return SnapshotNotFoundError(f"No stored snapshot for execution {execution_id!r}", execution_id=execution_id)


@contextlib.contextmanager
def exclusive_lock(path: os.PathLike[str] | str) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if missing): one writer at a time across threads
    and processes of this machine. The lock goes with the file descriptor, so a killed holder releases it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                break
            except OSError as exc:  # pragma: no cover - EINTR on signals
                if exc.errno != errno.EINTR:
                    raise
        yield
    finally:
        os.close(fd)  # closing releases the flock
