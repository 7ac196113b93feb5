"""The execution-store protocol every store implements, the record it returns, and the rules all stores share.

A store keeps JSON snapshots of executions, one *version* per save, plus the metadata a workflow needs to be
found again: its ``graph`` name, its business ``correlation`` and its ``status``. The rules below (id syntax,
correlation canonical form, which statuses are *active*) are the same for every store, so
``tests/stores`` runs one conformance suite over all of them.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from igniter_nb.errors import (
    ConcurrencyError,
    DuplicateWorkflowError,
    SnapshotNotFoundError,
    StoreArgumentError,
    StoreError,
)
from igniter_nb.model.correlation_values import non_finite
from igniter_nb.stores.json_text import (
    _SNAPSHOT_JSON,
    runtime_json,
    runtime_snapshot_json,
    snapshot_json,
)
from igniter_nb.stores.packing import PACK_THRESHOLD, PACKED_KEY, pack

ACTIVE_STATUSES: frozenset[str] = frozenset({"running", "pending", "waiting"})
"""Statuses under which an execution can still receive events; only these are in the correlation index."""
FINISHED_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
"""Statuses of a finished execution: kept in ``list()``/``history()`` but no longer found by correlation."""
STATUSES: frozenset[str] = ACTIVE_STATUSES | FINISHED_STATUSES
"""Every status a store accepts: ``save(status=...)`` refuses any other."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
_MAX_NAME = 200


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
        """How many records ``list(graph, status)`` answers (this default: ``len(list(...))``)."""
        return len(self.list(graph, status))

    def close(self) -> None:  # pragma: no cover - every store overrides it
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------- shared rules


def check_execution_id(execution_id: Any) -> str:
    """Return ``execution_id`` if it is a valid id, else raise ``StoreArgumentError`` saying what is allowed.

    Valid ids are 1–200 characters of letters, digits, ``_ . : -``, start with a letter or digit and never
    contain ``..`` — so an id can never name a path outside a store's directory.
    """
    if not isinstance(execution_id, str):
        raise StoreArgumentError(f"execution id must be a str, got {type(execution_id).__name__}")
    if not _ID.match(execution_id) or ".." in execution_id:
        raise StoreArgumentError(
            f"invalid execution id {execution_id[:80]!r}: use 1-200 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit, without '..'"
        )
    return execution_id


def check_graph(graph: Any) -> str:
    """Return ``graph`` if it is a usable graph name (non-empty text without control characters)."""
    if type(graph) is str and graph in _GOOD_GRAPHS:  # (every save and correlation lookup asks again)
        return graph
    if not isinstance(graph, str) or not graph or len(graph) > _MAX_NAME or any(ord(ch) < 32 for ch in graph):
        raise StoreArgumentError(f"graph name must be 1-{_MAX_NAME} printable characters, got {graph!r:.80}")
    if type(graph) is str and len(_GOOD_GRAPHS) < 4096:
        _GOOD_GRAPHS.add(graph)
    return graph


_GOOD_GRAPHS: set[str] = set()  # graph names check_graph accepted (exact str only)


def check_status(status: Any) -> str:
    if status not in STATUSES:
        raise StoreArgumentError(f"unknown status {status!r}; use one of {', '.join(sorted(STATUSES))}")
    return str(status)


def check_version(expected_version: Any) -> int | None:
    if expected_version is None:
        return None
    if type(expected_version) is not int or expected_version < 0:
        raise StoreArgumentError(f"expected_version must be an int >= 0 or None, got {expected_version!r}")
    return expected_version


def check_listing(graph: Any, active_only: Any, limit: Any) -> str:
    """Validate the arguments of ``correlations()``; returns the graph name."""
    check_graph(graph)
    if not isinstance(active_only, bool):
        raise StoreArgumentError(f"active_only must be a bool, got {active_only!r:.80}")
    if type(limit) is not int or limit < 0:
        raise StoreArgumentError(f"limit must be an int >= 0, got {limit!r:.80}")
    return str(graph)


def canonical_correlation(correlation: Any) -> str:
    """The one text form of a correlation: ``json.dumps(correlation, sort_keys=True, separators=(",", ":"))``.

    A correlation maps str keys to JSON scalars (str, int, float, bool, None); anything else raises
    ``StoreArgumentError``.
    """
    if type(correlation) is dict and len(correlation) == 1:  # (most correlations: one str or int key)
        ((key, value),) = correlation.items()
        kind = type(value)
        if type(key) is str and (kind is str or kind is int):
            return _canonical_text(((key, kind, value),))
    if not isinstance(correlation, Mapping) or not correlation:
        raise StoreArgumentError(f"correlation must be a non-empty dict of str to JSON scalars, got {correlation!r:.80}")
    for key, value in correlation.items():
        if not isinstance(key, str):
            raise StoreArgumentError(f"correlation keys must be str, got {key!r}")
        if not (value is None or (isinstance(value, (str, int, float)) and not non_finite(value))):  # (bool: an int)
            raise StoreArgumentError(
                f"correlation value for {key!r} must be a str, int, finite float, bool or None, got {type(value).__name__}"
            )
    try:
        items = tuple(sorted((key, type(value), value) for key, value in correlation.items()))
        return _canonical_text(items)
    except TypeError:  # a value that cannot be hashed or ordered for the cache key: encode directly
        return _CANONICAL.encode(dict(correlation))


@functools.lru_cache(maxsize=4096)
def _canonical_text(items: tuple[tuple[str, type, Any], ...]) -> str:
    # keyed with each value's type, so {"k": 1}, {"k": 1.0} and {"k": True} never share an entry
    return _CANONICAL.encode({key: value for key, _, value in items})


# Built once: ``json.dumps`` with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def snapshot_id(snapshot: Any) -> str:
    """The execution id of a snapshot to save: it must be a mapping with a valid ``execution_id``."""
    if type(snapshot) is not dict and not isinstance(snapshot, Mapping):  # (a dict: no ABC check)
        raise StoreArgumentError(f"snapshot must be a dict, got {type(snapshot).__name__}")
    execution_id = check_execution_id(snapshot.get("execution_id"))
    if PACKED_KEY in snapshot:
        raise StoreArgumentError(f"snapshot key {PACKED_KEY!r} is reserved for the stores' packed history layout",
                                 execution_id=execution_id)
    return execution_id


def dump_snapshot(snapshot: Any) -> tuple[str, str]:
    """Check a snapshot and return ``(execution_id, json_text)``; raises before anything is written."""
    execution_id = snapshot_id(snapshot)
    return execution_id, snapshot_json(snapshot, execution_id)


def dump_runtime_snapshot(snapshot: Any) -> tuple[str, str]:
    """:func:`dump_snapshot` for a snapshot the runtime built (``save(..., check_json=False)``): the same JSON,
    written faster (:func:`~igniter_nb.stores.json_text.runtime_snapshot_json`)."""
    execution_id = snapshot_id(snapshot)
    return execution_id, runtime_snapshot_json(snapshot, execution_id)


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


@dataclasses.dataclass(frozen=True, slots=True)
class SaveRequest:
    """A validated ``save()`` call; ``resolve()`` merges it with what is stored."""

    execution_id: str
    snapshot_json: str
    graph: str | None  # None = keep the stored graph (or take the snapshot's "graph" on a first save)
    snapshot_graph: str | None
    correlation_json: str | None  # canonical text; None = keep the stored correlation
    status: str | None  # None = keep the stored status
    expected_version: int | None
    parts: Mapping[str, str] = dataclasses.field(default_factory=dict)  # packed: digest -> part JSON (packing.py)

    @classmethod
    def build(
        cls,
        snapshot: Any,
        graph: Any,
        correlation: Any,
        status: Any,
        expected_version: Any,
        *,
        encode: bool = True,
        packed: bool = True,
        trusted: bool = False,
    ) -> SaveRequest:
        """Validate a ``save()`` call before anything is written. ``encode=False`` (``MemoryStore.save(check_json=False)``)
        checks only the id and the metadata and leaves ``snapshot_json`` empty: the store encodes the snapshot
        itself. ``trusted=True`` (``save(..., check_json=False)``: a snapshot the runtime built) writes it with
        :func:`runtime_json`. A large snapshot is packed (``stores/packing.py``) unless ``packed=False``."""
        if not encode:
            execution_id, text = snapshot_id(snapshot), ""
        else:
            execution_id, text = dump_runtime_snapshot(snapshot) if trusted else dump_snapshot(snapshot)
        parts: dict[str, str] = {}
        if packed and len(text) > PACK_THRESHOLD:
            dumps = runtime_json if trusted else _SNAPSHOT_JSON.encode
            split = pack(snapshot, dumps)
            if split is not None:
                text, parts = dumps(split[0]), split[1]
        snap_graph = snapshot.get("graph")
        return cls(
            execution_id=execution_id,
            snapshot_json=text,
            graph=None if graph is None else check_graph(graph),
            snapshot_graph=snap_graph if isinstance(snap_graph, str) and snap_graph else None,
            correlation_json=None if correlation is None else canonical_correlation(correlation),
            status=None if status is None else check_status(status),
            expected_version=check_version(expected_version),
            parts=parts,
        )

    def plan(
        self, actual_version: int, stored: Metadata | None, owner_of: Callable[[tuple[str, str]], str | None]
    ) -> Metadata:
        """Check this save against what is stored and return the metadata it leaves behind.

        Raises ``ConcurrencyError`` when ``expected_version`` differs from ``actual_version`` (0 = not stored)
        and ``DuplicateWorkflowError`` when ``owner_of(key)`` names another execution that is active with the
        same graph and correlation. Stores call it while holding their write lock or transaction.
        """
        if self.expected_version is not None and self.expected_version != actual_version:
            raise conflict(self.execution_id, self.expected_version, actual_version)
        meta = self.resolve(stored)
        key = meta.active_key
        if key is not None:
            other = owner_of(key)
            if other is not None and other != self.execution_id:
                raise duplicate(self.execution_id, key[0], key[1], other)
        return meta

    def resolve(self, stored: Metadata | None) -> Metadata:
        """The metadata this save leaves behind, given what was stored before (None = nothing)."""
        if stored is None:
            graph = self.graph or self.snapshot_graph
            return Metadata(graph, self.correlation_json, self.status)
        graph = self.graph or stored.graph or self.snapshot_graph
        correlation_json = self.correlation_json if self.correlation_json is not None else stored.correlation_json
        status = self.status if self.status is not None else stored.status
        if graph == stored.graph and correlation_json == stored.correlation_json and status == stored.status:
            return stored  # (most saves: a value object equal to the stored one, not built again)
        return Metadata(graph, correlation_json, status)


@dataclasses.dataclass(frozen=True, slots=True)
class Metadata:
    """What a store keeps beside each snapshot version."""

    graph: str | None
    correlation_json: str | None
    status: str | None

    @property
    def active_key(self) -> tuple[str, str] | None:
        """``(graph, canonical correlation)`` when this execution belongs in the correlation index."""
        if self.status in ACTIVE_STATUSES and self.graph is not None and self.correlation_json is not None:
            return (self.graph, self.correlation_json)
        return None

    @property
    def correlation_key(self) -> tuple[str, str] | None:
        """``(graph, canonical correlation)`` whatever the status: the key of ``find_latest_by_correlation``."""
        if self.graph is not None and self.correlation_json is not None:
            return (self.graph, self.correlation_json)
        return None

    def correlation(self) -> dict[str, Any] | None:
        return None if self.correlation_json is None else dict(_parsed_correlation(self.correlation_json))


@functools.lru_cache(maxsize=4096)
def _parsed_correlation(text: str) -> tuple[tuple[str, Any], ...]:
    return tuple(json.loads(text).items())  # scalars only: a dict made from these is a fresh copy


def check_filters(graph: Any, status: Any) -> None:
    if graph is not None:
        check_graph(graph)
    if status is not None:
        check_status(status)


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """Databases without time zones hand back naive UTC times; make them aware."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def not_found(execution_id: str) -> SnapshotNotFoundError:
    return SnapshotNotFoundError(f"No stored snapshot for execution {execution_id!r}", execution_id=execution_id)


def conflict(execution_id: str, expected: int, actual: int) -> ConcurrencyError:
    """The error a lost compare-and-set raises (``actual`` 0 = the execution does not exist)."""
    if expected == 0:
        what = f"it already exists at version {actual}"
    elif actual == 0:
        what = "it does not exist"
    else:
        what = f"the stored version is {actual}"
    return ConcurrencyError(
        f"Cannot save execution {execution_id!r} expecting version {expected}: {what}; re-read it and retry",
        execution_id=execution_id,
        expected_version=expected,
        actual_version=actual,
    )


def duplicate(execution_id: str, graph: str, correlation_json: str, other_id: str) -> DuplicateWorkflowError:
    return DuplicateWorkflowError(
        f"Cannot save execution {execution_id!r} as active: execution {other_id!r} of graph {graph!r} is already "
        f"active with correlation {correlation_json}",
        graph=graph,
        execution_id=execution_id,
        correlation=json.loads(correlation_json),
        existing_execution_id=other_id,
    )


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
