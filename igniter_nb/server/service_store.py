"""``ServiceStore``: the read side of the store protocol over a running server, through ``ig.server.Client``.

The notebook tools read stores (``list``, ``record``, ``history_records``, ``find_by_correlation``,
``correlations``…). Given a ``Client`` instead of a store (``ig.nb.store_frame(client)``), they read through this
adapter, so an operator inspects and feeds a production service from a notebook without opening its database —
with exactly what the server exposes and what its token allows:

=========================================  ==================================================================
store call                                 HTTP
=========================================  ==================================================================
``list(graph, status)``                    ``GET /v1/executions`` (every page, by cursor), then one
                                           ``GET /v1/executions/{id}/history?latest=true`` per execution whose
                                           version is not already cached
``record(id)``, ``fetch(id)``, ``exists``  ``GET /v1/executions/{id}/history?latest=true``
``list_page(graph, status, limit=, ...)``  ``GET /v1/executions?cursor=`` (the server's pages), then as ``list``
``count(graph, status)``                   ``GET /v1/executions?total=true&limit=1``
``history_records(id)``, ``history(id)``   ``GET /v1/executions/{id}/history``
``history_page(id, ...)``                  ``GET /v1/executions/{id}/history?cursor=&limit=``
                                           (``Client.history_page``: one page)
``find_by_correlation``,                   ``GET /v1/executions?graph=`` (ids, statuses and correlations only)
``find_latest_by_correlation``,
``correlations``
``save``, ``delete``                       refused (``StoreError``): a service changes through its routes
=========================================  ==================================================================

It also does what the ``EventSimulator`` needs from a service: ``preview_delivery`` (``POST
/v1/contracts/{name}/events/dry-run``) and ``deliver_event`` (``POST /v1/contracts/{name}/events``), the contract
named as the server serves it. Snapshots read by ``list`` are kept per execution and version (at most
``cache_size``), so a frame drawn again fetches only what changed. The client stays the caller's: ``close()``
does not close it.
"""

from __future__ import annotations

import builtins
import copy
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.server.errors import RemoteError, UnknownContractError, UnroutableExecutionIdError
from igniter_nb.settings import redact_url
from igniter_nb.stores.base import ACTIVE_STATUSES, StoredExecution, check_filters
from igniter_nb.stores.paging import check_history_page, check_page

_PAGE = 1000  # the server's largest page
_PAGE_MAX = 100_000  # the history route's largest limit (a store's history_page allows one more)
_CHECKS = ("event", "correlation", "payload", "workflow")  # the order a dry run reports its problems in
_FETCHERS = 8  # snapshots fetched at once by ``list`` (httpx's client is thread-safe; the pool keeps 10 connections)
T = TypeVar("T")


def _moment(text: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Two correlations are the same when their JSON texts are (keys sorted): what the stores compare."""
    return json.dumps(dict(a or {}), sort_keys=True, default=str) == json.dumps(dict(b or {}), sort_keys=True,
                                                                                 default=str)


def stored_execution(data: Mapping[str, Any], execution_id: str) -> StoredExecution:
    """A ``StoredExecution`` from ``Client.record`` / a version of ``Client.history``."""
    snapshot = data["snapshot"] if isinstance(data.get("snapshot"), dict) else {}
    workflow = snapshot.get("workflow") if isinstance(snapshot.get("workflow"), Mapping) else None
    correlation = data.get("correlation", (workflow or {}).get("correlation")) or None
    graph = data.get("graph") or snapshot.get("graph")
    return StoredExecution(execution_id, snapshot, int(data["version"]), None if graph is None else str(graph),
                           dict(correlation) if isinstance(correlation, Mapping) else None,
                           None if data.get("status") is None else str(data["status"]), _moment(data["updated_at"]))


class ServiceStore:
    """A read-only execution store over ``client`` (an ``ig.server.Client``). See the module docstring."""

    read_only = True

    def __init__(self, client: Any, *, cache_size: int = 10_000) -> None:
        if not all(callable(getattr(client, name, None)) for name in ("executions", "record", "history", "history_page")):
            raise TypeError(f"ServiceStore needs an ig.server.Client, got {client!r:.100}")
        self.client = client
        self.cache_size = cache_size
        self._snapshots: dict[str, StoredExecution] = {}  # the latest record read per execution
        self._served: list[dict[str, Any]] | None = None
        self._history_cap: int | None = None  # the server's max_history_versions, once a 422 named it

    def __repr__(self) -> str:
        return f"ServiceStore({redact_url(self.client.base_url)})"

    # ------------------------------------------------------------------ one execution
    def _execution_call(self, execution_id: str, call: Callable[[str], T]) -> T:
        try:
            return call(execution_id)
        except RemoteError as exc:
            if exc.status_code == 404:  # unknown, or an id no store could hold: "no snapshot", as a store says
                raise SnapshotNotFoundError(f"{exc.server_message} (server {redact_url(self.client.base_url)})",
                                            execution_id=execution_id) from exc
            raise
        except UnroutableExecutionIdError as exc:  # refused unsent ('/', '..'): no store holds such an id either
            raise SnapshotNotFoundError(f"no execution {execution_id[:80]!r}: {exc.message} "
                                        f"(server {redact_url(self.client.base_url)})", execution_id=execution_id) from exc

    def record(self, execution_id: str) -> StoredExecution:
        """The latest stored version (read from the server every time)."""
        found = stored_execution(self._execution_call(execution_id, self.client.record), execution_id)
        self._keep(found)
        return found

    def fetch(self, execution_id: str) -> dict[str, Any]:
        """The latest snapshot (``SnapshotNotFoundError`` when the server has none)."""
        return self.record(execution_id).snapshot

    def exists(self, execution_id: str) -> bool:
        """Whether the server has the execution (and this token may read it)."""
        try:
            self.record(execution_id)
        except SnapshotNotFoundError:
            return False
        return True

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number (None when there is none); the server has no lighter read than the record."""
        try:
            return self.record(execution_id).version
        except SnapshotNotFoundError:
            return None

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        """Every stored version with its metadata, oldest first (callback tokens show as ``"<redacted>"``)."""
        versions = self._execution_call(execution_id, self.client.history)
        return [stored_execution(v, execution_id) for v in versions]

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit`` (``stores/paging.py``):
        ``Client.history_page``, the route's own pages, so the server reads (from a memory, file, SQL, Redis or
        parquet store) and sends only the page. A ``limit`` past the server's ``max_history_versions`` is read in
        several of its pages (its 422 names its largest)."""
        check_history_page(after_version, limit)
        records: builtins.list[StoredExecution] = []
        after = after_version
        while len(records) < limit:
            want = min(limit - len(records), self._history_cap or _PAGE_MAX)
            try:
                page = self._execution_call(execution_id, functools.partial(self.client.history_page,
                                                                            after_version=after, limit=want))
            except RemoteError as exc:
                cap = exc.body.get("limit") if exc.status_code == 422 and isinstance(exc.body, Mapping) else None
                if type(cap) is int and 1 <= cap < want:  # the server pages fewer: ask again for its largest
                    self._history_cap = cap
                    continue
                raise
            # (a server whose route predates cursor/limit answers from version 1: only what follows is kept)
            records += [stored_execution(v, execution_id) for v in page["versions"] if int(v["version"]) > after]
            if not page.get("next_cursor") or not page["versions"]:
                break
            after = int(page["next_cursor"])
        return records[:limit]

    def history(self, execution_id: str) -> builtins.list[dict[str, Any]]:
        """Every stored snapshot, oldest first."""
        return [r.snapshot for r in self.history_records(execution_id)]

    # ------------------------------------------------------------------ listing
    def _rows(self, graph: str | None, status: str | None) -> builtins.list[dict[str, Any]]:
        """Every execution the server lists (newest first), each once, over as many pages as it takes."""
        rows: dict[str, dict[str, Any]] = {}
        for row in self._iter_rows(graph, status):
            rows.setdefault(str(row["execution_id"]), row)
        return builtins.list(rows.values())

    def _iter_rows(self, graph: str | None, status: str | None) -> Iterator[dict[str, Any]]:
        """The server's listing newest first, page after page by cursor (a caller that stops early stops the
        paging: ``find_by_correlation`` reads only up to the execution it finds)."""
        cursor: str | None = None
        while True:
            page = self.client.executions(graph=graph, status=status, limit=_PAGE, cursor=cursor)
            yield from page["executions"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def list_page(self, graph: str | None = None, status: str | None = None, *, limit: int,
                  after: str | None = None) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``): the server's own pages (its cursor), then
        one latest-version read per execution of the page."""
        check_page(graph, status, limit, after)
        rows: builtins.list[dict[str, Any]] = []
        cursor = after
        while len(rows) < limit:
            page = self.client.executions(graph=graph, status=status, limit=min(_PAGE, limit - len(rows)),
                                          cursor=cursor)
            rows += page["executions"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self._read_missing(rows)
        found = [kept for row in rows if (kept := self._snapshots.get(str(row["execution_id"]))) is not None]
        return [self._copy(kept) for kept in found], cursor

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many executions the server lists (``GET /v1/executions?total=true``)."""
        check_filters(graph, status)
        return int(self.client.executions(graph=graph, status=status, limit=1, total=True)["total"])

    def _read_missing(self, rows: builtins.list[dict[str, Any]]) -> None:
        """Read the latest version of each listed execution not cached at its listed version."""
        missing = [r for r in rows if (kept := self._snapshots.get(str(r["execution_id"]))) is None
                   or kept.version != r["version"]]

        def read(row: Mapping[str, Any]) -> StoredExecution | None:
            try:
                return self.record(str(row["execution_id"]))
            except SnapshotNotFoundError:
                return None

        if len(missing) > 1:
            with ThreadPoolExecutor(min(_FETCHERS, len(missing)), thread_name_prefix="igniter-service-store") as pool:
                builtins.list(pool.map(read, missing))
        else:
            builtins.list(map(read, missing))

    @staticmethod
    def _copy(kept: StoredExecution) -> StoredExecution:
        return StoredExecution(kept.execution_id, copy.deepcopy(kept.snapshot), kept.version, kept.graph,
                               copy.deepcopy(kept.correlation), kept.status, kept.updated_at)

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        """Latest records (with their snapshots), oldest first by ``updated_at`` then id, as a store lists them.
        An execution deleted between the listing and the read of its snapshot is left out."""
        rows = self._rows(graph, status)
        self._read_missing(rows)
        found = []
        for row in rows:
            kept = self._snapshots.get(str(row["execution_id"]))
            if kept is not None and (status is None or kept.status == status):
                found.append(self._copy(kept))
        found.sort(key=lambda r: (r.updated_at, r.execution_id))
        return found

    def _keep(self, record: StoredExecution) -> None:
        kept = self._snapshots.get(record.execution_id)
        if kept is not None and kept.version > record.version:
            return  # a newer version was read meanwhile
        self._snapshots.pop(record.execution_id, None)
        self._snapshots[record.execution_id] = record
        while len(self._snapshots) > self.cache_size:
            self._snapshots.pop(next(iter(self._snapshots)))  # the one read longest ago

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        """The active execution of ``graph`` with exactly this correlation."""
        return next((str(r["execution_id"]) for r in self._iter_rows(graph, None)
                     if r.get("status") in ACTIVE_STATUSES and _same(r.get("correlation"), correlation)), None)

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        """The most recently saved execution of ``graph`` with this correlation, whatever its status."""
        return next((str(r["execution_id"]) for r in self._iter_rows(graph, None)
                     if _same(r.get("correlation"), correlation)), None)

    def correlations(self, graph: str, *, active_only: bool = True,
                     limit: int = 1000) -> builtins.list[tuple[str, dict[str, Any]]]:
        """``(execution_id, correlation)`` of ``graph``'s executions that have one, most recently saved first, at most
        ``limit``; only the active ones unless ``active_only=False``. Read from the listing: no snapshot is loaded."""
        if limit <= 0:
            return []
        found: dict[str, dict[str, Any]] = {}
        for r in self._iter_rows(graph, None):
            if r.get("correlation") and (not active_only or r.get("status") in ACTIVE_STATUSES):
                found.setdefault(str(r["execution_id"]), dict(r["correlation"]))
                if len(found) >= limit:
                    break
        return builtins.list(found.items())

    # ------------------------------------------------------------------ refused
    def save(self, *args: Any, **kwargs: Any) -> int:
        """Refused (``StoreError``): a service's executions change through its routes."""
        raise StoreError(f"{self!r} is read-only: a service's executions change through its routes (execute, "
                         "deliver_event, resume), never by writing snapshots")

    def delete(self, execution_id: str) -> bool:
        """Refused (``StoreError``): executions cannot be deleted over HTTP."""
        raise StoreError(f"{self!r} is read-only: executions cannot be deleted over HTTP", execution_id=execution_id)

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller (close it with ``client.close()``)."""

    def __enter__(self) -> ServiceStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from igniter_nb.notebook.reprs import store_mimebundle

        bundle: dict[str, Any] = store_mimebundle(self)
        return bundle

    # ------------------------------------------------------------------ events, for the EventSimulator
    def served_name(self, graph: Any) -> str:
        """The name under which the server serves ``graph`` (a ``CompiledGraph`` or a graph name); the first such
        name when it serves the graph under several. ``UnknownContractError`` when it does not serve it."""
        name = str(getattr(graph, "name", graph))
        if self._served is None:
            self._served = builtins.list(self.client.contracts())
        for info in self._served:
            if info.get("graph") == name:
                return str(info["name"])
        served = ", ".join(f"{i.get('name')} ({i.get('graph')})" for i in self._served) or "nothing"
        raise UnknownContractError(f"the server at {redact_url(self.client.base_url)} serves no contract of graph {name!r} "
                                   f"(it serves: {served})", graph=name)

    def preview_delivery(self, workflow: Any, *, event: str | None, correlation: Mapping[str, Any] | None,
                         payload: Any = None, idempotency_key: str | None = None,
                         payload_problem: Mapping[str, Any] | None = None) -> Any:
        """The server's dry run of a delivery as a ``DeliveryPreview`` (``POST …/events/dry-run``): nothing is
        written there. ``payload_problem`` (a payload the editor could not read) is reported in place of the
        server's payload check, which then saw no payload."""
        from igniter_nb.notebook.delivery import DeliveryPreview

        graph = workflow.compiled_graph()
        if not event:
            return DeliveryPreview(graph=graph.name, event=event, correlation=dict(correlation or {}), payload=payload,
                                   errors=({"type": "AwaitedEventMismatchError", "message": "no event selected"},))
        answer = self.client.dry_run_event(self.served_name(graph), event=event, correlation=dict(correlation or {}),
                                           payload=None if payload_problem is not None else payload,
                                           idempotency_key=idempotency_key)
        errors = [dict(e) for e in answer.get("errors") or ()]
        if payload_problem is not None:  # in the payload's place among the checks, as the local dry run has it
            errors = [e for e in errors if e.get("check") != "payload"] + [{**payload_problem, "check": "payload"}]
            errors.sort(key=lambda e: _CHECKS.index(e["check"]) if e.get("check") in _CHECKS else len(_CHECKS))
        return DeliveryPreview(
            graph=str(answer.get("graph") or graph.name), event=event, correlation=dict(correlation or {}),
            execution_id=answer.get("execution_id"), await_node=answer.get("await_node"),
            status_before=answer.get("status_before"), would_recompute=tuple(answer.get("would_recompute") or ()),
            payload=None if payload_problem is not None else payload, errors=tuple(errors),
            idempotent=bool(answer.get("idempotent")))

    def deliver_event(self, workflow: Any, event: str, *, correlation: Mapping[str, Any], payload: Any = None,
                      idempotency_key: str | None = None) -> Any:
        """Deliver through the server (``POST …/events``); the updated workflow read back and restored here
        against a scratch store (reading it can write nothing). Raises ``RemoteError`` with the server's error."""
        from igniter_nb.notebook.dry_run import load_contract

        view = self.client.deliver_event(self.served_name(workflow.compiled_graph()), event=event,
                                         correlation=dict(correlation), payload=payload,
                                         idempotency_key=idempotency_key)
        return load_contract(workflow, self, str(view["execution_id"]))


__all__ = ["ServiceStore", "stored_execution"]
