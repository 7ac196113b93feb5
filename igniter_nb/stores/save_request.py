"""A ``save()`` call checked before anything is written (``SaveRequest``), the metadata a store keeps beside each
snapshot version (``Metadata``), and the errors a save that loses raises: another version is stored
(``ConcurrencyError``), another execution is active with the same correlation (``DuplicateWorkflowError``)."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.errors import ConcurrencyError, DuplicateWorkflowError, StoreArgumentError
from igniter_nb.stores.json_text import _SNAPSHOT_JSON, runtime_json, runtime_snapshot_json, snapshot_json
from igniter_nb.stores.packing import PACK_THRESHOLD, PACKED_KEY, pack
from igniter_nb.stores.rules import (
    ACTIVE_STATUSES,
    canonical_correlation,
    check_execution_id,
    check_graph,
    check_status,
    check_version,
)


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
        return cls(  # (by position, in field order: every save builds one)
            execution_id,  # execution_id
            text,  # snapshot_json
            None if graph is None else check_graph(graph),  # graph
            snap_graph if isinstance(snap_graph, str) and snap_graph else None,  # snapshot_graph
            None if correlation is None else canonical_correlation(correlation),  # correlation_json
            None if status is None else check_status(status),  # status
            check_version(expected_version),  # expected_version
            parts,
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


_SHOWN_JSON = 300  # a longer correlation is cut in the message (its context keeps it whole)


def duplicate(execution_id: str, graph: str, correlation_json: str, other_id: str) -> DuplicateWorkflowError:
    text = correlation_json
    if len(text) > _SHOWN_JSON:
        text = f"{text[:_SHOWN_JSON]}... ({len(correlation_json)} characters)"
    return DuplicateWorkflowError(
        f"Cannot save execution {execution_id!r} as active: execution {other_id!r} of graph {graph!r} is already "
        f"active with correlation {text}",
        graph=graph,
        execution_id=execution_id,
        correlation=json.loads(correlation_json),
        existing_execution_id=other_id,
    )
