"""What the server does for each route, without HTTP: run a contract, deliver an event, read executions.

Every method is blocking (it calls the store), so the routes run them in FastAPI's threadpool. Failures are
igniter_nb errors; ``routing.status_for`` turns them into HTTP statuses.

Decisions (see ``docs/server.md``):
- every execution the server runs is saved in its store — workflows by ``start``, plain contracts right after
  they resolve — so ``GET /v1/executions/{id}`` answers for each id the server ever handed out (L-38);
- a missing required input is refused (422) before anything runs or is stored, exactly like an input of the
  wrong type, for plain contracts and workflows alike (L-39);
- a workflow whose start fails is stored as ``failed`` and answered with a failed body, not a 4xx (L-39);
- reading an execution never resolves, saves or runs user code;
- the calls that change executions answer an :class:`Answer`: the view, plus the callbacks the change made due
  (the app sends those after answering, off the request path: ``callbacks.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from igniter_nb.errors import (
    ConcurrencyError,
    IgniterError,
    InputError,
    SnapshotEncodingError,
    StoreArgumentError,
    WorkflowNotFoundError,
)
from igniter_nb.server import callbacks
from igniter_nb.server.callback_tokens import CallbackTokens
from igniter_nb.server.callbacks import Callback
from igniter_nb.server.encoding import json_safe
from igniter_nb.server.errors import RequestProblem
from igniter_nb.server.remote_dropped import dropped_waits
from igniter_nb.server.served import ServedContracts
from igniter_nb.server.views import (
    execution_view,
    record_summary,
    record_view,
    settled,
    status_of,
    without_llm_state,
)
from igniter_nb.stores import paging

log = logging.getLogger("igniter_nb.server")


def _contract_info(name: str, cls: Any) -> dict[str, Any]:
    graph = cls.compiled_graph()
    inputs = []
    for node in graph.input_nodes:
        has_default = node.has_default
        inputs.append({"name": node.name, "type": node.type_name, "required": bool(node.required and not has_default),
                       "default": json_safe(node.default) if has_default else None, "has_default": has_default})
    return {
        "name": name,
        "graph": graph.name,
        "inputs": inputs,
        "outputs": [out.name for out in graph.outputs],
        "correlation_keys": list(graph.correlation_keys),
        "events": list(dict.fromkeys(node.event for node in graph.await_nodes)),
    }


@dataclass(frozen=True, slots=True)
class Answer:
    """What a call that changes an execution answers: the view, and the callbacks to send now that it finished."""

    view: dict[str, Any]
    callbacks: tuple[Callback, ...] = ()
    contract_class: Any = None


class ContractService:
    """The contracts of one server and the store they share. ``public_url``: this server's base URL as other
    servers reach it; when set, remote nodes of the executions it runs ask to be called back there."""

    def __init__(self, contracts: ServedContracts, store: Any, *, public_url: str | None = None,
                 callback_tokens: CallbackTokens | None = None) -> None:
        self.contracts = contracts
        self.store = store
        self.public_url = public_url
        self.callback_tokens = callback_tokens or CallbackTokens()
        self.catalog = [_contract_info(name, cls) for name, cls in contracts.by_name.items()]
        # name -> input names that must be given (required, no default): checked before anything runs
        self._required = {
            name: [n.name for n in cls.compiled_graph().input_nodes if n.required and not n.has_default]
            for name, cls in contracts.by_name.items()
        }

    # ------------------------------------------------------------------------------------------- running
    @contextmanager
    def _running(self, cls: Any) -> Iterator[None]:
        """Around contract work: remote nodes of ``cls`` ask for callbacks to this server (if it has a public URL)."""
        from igniter_nb.server.remote import callbacks_to

        with callbacks_to(self.public_url, cls.compiled_graph(), self.callback_tokens):
            yield

    def execute(self, name: str, inputs: Mapping[str, Any], callback: Mapping[str, str] | None = None) -> Answer:
        """Run contract ``name``: ``start`` a workflow (a contract with correlation keys), or resolve a plain
        contract and save it. Failing nodes give a ``failed`` view, never an error. ``callback`` (``{url,
        token}``) is recorded with an execution that does not finish at once, and told when it does."""
        cls = self.contracts.get(name)
        graph = cls.compiled_graph()
        missing = [key for key in self._required[name] if key not in inputs]
        if missing:
            label = "input" if len(missing) == 1 else "inputs"
            raise InputError(f"Missing required {label}: {', '.join(missing)}", graph=graph.name, node=missing[0],
                             path=missing[0], missing=missing)
        if callback is not None:
            _check_callback_url(callback["url"])
        due: list[Callback] = []
        with self._running(cls):
            if graph.correlation_keys:
                with _unstored_on_input_error(graph):
                    contract = cls.start(dict(inputs), store=self.store)
                if callback is not None and status_of(contract) not in callbacks.FINISHED:
                    contract, due = self._register(cls, contract, callback)
            else:
                with _unstored_on_input_error(graph):
                    contract = cls._create(inputs, store=self.store)
                contract.resolve_all()
                if callback is not None and status_of(contract) not in callbacks.FINISHED:
                    callbacks.register(contract, callback["url"], callback["token"])
                self._save(contract)
        return Answer(execution_view(contract, name=name), tuple(due), cls)

    def _register(self, cls: Any, contract: Any, callback: Mapping[str, str]) -> tuple[Any, list[Callback]]:
        """Record ``callback`` with a stored workflow (a compare-and-set save); if another writer finished the
        workflow first, the callback is due at once."""
        from igniter_nb.runtime.restore import restore_record
        from igniter_nb.runtime.store_runner import persist

        for _ in range(50):
            callbacks.register(contract, callback["url"], callback["token"])
            try:
                persist(contract.execution, self.store)
            except ConcurrencyError:
                contract = restore_record(cls, self.store.record(contract.execution_id), store=self.store)
                continue
            due = callbacks.due(contract, status_of(contract))
            return contract, [c for c in due if c.token == callback["token"]]
        raise ConcurrencyError(f"could not record the callback of execution {contract.execution_id}: 50 conflicting "
                               "saves in a row", execution_id=contract.execution_id)

    def _save(self, contract: Any) -> None:
        from igniter_nb.runtime.store_runner import persist

        try:
            persist(contract.execution, self.store)
        except SnapshotEncodingError as exc:  # the run happened; its answer still goes back, marked unsaved
            log.warning("execution %s of %s was not stored: %s", contract.execution_id, type(contract).__name__, exc)
            contract.execution.store_version = None

    def deliver(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any,
                idempotency_key: str | None) -> Answer:
        """Deliver ``event`` to the active workflow of contract ``name`` with ``correlation``."""
        from igniter_nb.workflow.correlation import check_delivery_correlation

        cls = self.contracts.get(name)
        graph = cls.compiled_graph()
        if not graph.correlation_keys:
            raise RequestProblem(f"{name} takes no events over HTTP: it has no correlation keys (c.correlate_by)",
                                 graph=graph.name, contract=name)
        try:  # a malformed correlation is a bad request (422); a well-formed one nobody has is a 404
            correlation = check_delivery_correlation(graph, correlation)
        except WorkflowNotFoundError as exc:
            raise RequestProblem(exc.message, **exc.context) from None
        with self._running(cls):
            contract = cls.deliver_event(event, correlation=correlation, payload=payload, store=self.store,
                                         idempotency_key=idempotency_key)
        return self._answer(contract, name, cls)

    def dry_run(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any,
                idempotency_key: str | None) -> dict[str, Any]:
        """What delivering ``event`` to contract ``name``'s workflow with ``correlation`` would do — the checks of
        ``deliver`` made read-only (``notebook.dry_run.preview_delivery``, the EventSimulator's dry run). Problems
        with the delivery itself are the answer (``errors``), not a refusal; nothing is written and no node runs."""
        from igniter_nb.notebook.dry_run import preview_delivery

        cls = self.contracts.get(name)
        graph = cls.compiled_graph()
        if not graph.correlation_keys:
            raise RequestProblem(f"{name} takes no events over HTTP: it has no correlation keys (c.correlate_by)",
                                 graph=graph.name, contract=name)
        preview = preview_delivery(cls, self.store, event=event, correlation=correlation, payload=payload,
                                   idempotency_key=idempotency_key)
        found = preview.to_dict()
        return {"contract": name, "graph": graph.name, "event": event, "correlation": json_safe(dict(correlation)),
                "ok": preview.ok, "execution_id": preview.execution_id, "await_node": preview.await_node,
                "status_before": preview.status_before, "would_recompute": found["would_recompute"],
                "idempotent": preview.idempotent, "errors": [json_safe(e) for e in found["errors"]]}

    def _answer(self, contract: Any, name: str | None, cls: Any) -> Answer:
        view = execution_view(contract, name=name)
        return Answer(view, tuple(callbacks.due(contract, view["status"])), cls)

    def _served_class(self, record: Any) -> Any:
        served = self.contracts.for_graph(record.graph)
        if served is None:
            raise RequestProblem(f"this server does not serve graph {record.graph!r} of execution "
                                 f"{record.execution_id!r}, so it cannot resume it", status=404, graph=record.graph,
                                 execution_id=record.execution_id)
        return served[1]

    def resume(self, execution_id: str, *, token: str, value: Any) -> Answer:
        """Resume the node of a stored execution pending on ``token`` with ``value``, and save it."""
        from igniter_nb.server.resuming import resume_token, update_stored

        contract, _ = update_stored(self.store, self.record_id(execution_id), self._served_class,
                                    lambda c: self._within(c, resume_token, token, value))
        return self._answer(contract, self._served_name(contract), type(contract))

    def remote_callback(self, execution_id: str, outcome: Mapping[str, Any], capability: str) -> Answer:
        """A remote server reports the execution a remote node of ``execution_id`` waits for. The token first: its
        tag without the store (``callback_tokens.py``), then its digest against the one read and restore of the
        execution that the change is applied to (docs/server.md, "How the callback is secured")."""
        from igniter_nb.server.resuming import (
            apply_remote_outcome,
            refuse_callback,
            restore_for_callback,
            update_stored,
        )

        if not self.callback_tokens.may_be_from(execution_id, capability):
            raise refuse_callback(execution_id)  # before any store access
        contract, _ = update_stored(
            self.store, execution_id, self._served_class,
            lambda c: self._within(c, apply_remote_outcome, outcome, via="callback", capability=capability),
            restore=lambda attempt: restore_for_callback(self.store, execution_id, capability, self._served_class,
                                                         attempt))
        return self._answer(contract, self._served_name(contract), type(contract))

    def _served_name(self, contract: Any) -> str | None:
        served = self.contracts.for_graph(contract.execution.graph.name)
        return served[0] if served is not None else None

    def _within(self, contract: Any, change: Any, *args: Any, **kwargs: Any) -> bool:
        with self._running(type(contract)):
            return bool(change(contract, *args, **kwargs))

    # ------------------------------------------------------------------------------------------- reading
    def record_id(self, execution_id: str) -> str:
        from igniter_nb.stores.base import check_execution_id

        try:
            return check_execution_id(execution_id)
        except StoreArgumentError as exc:  # an id no store can hold names no execution
            raise RequestProblem(f"no execution {execution_id[:200]!r}: {exc.message}", status=404) from None

    def read(self, execution_id: str) -> dict[str, Any]:
        """Status, outputs, waits and the diagnostics report of a stored execution."""
        from igniter_nb.diagnostics.report import Report
        from igniter_nb.runtime.restore import restore_contract

        record = self.store.record(self.record_id(execution_id))
        served = self.contracts.for_graph(record.graph)
        if served is None:
            view = record_view(record)
            view.update(diagnostics=None, diagnostics_note=f"this server does not serve graph {record.graph!r}",
                        dropped_waits=[])
            return view
        name, cls = served
        snapshot = record.snapshot
        snapshot["runner"] = {"runner": "inline"}  # restored only to be read: no store runner, nothing saved
        try:
            contract = restore_contract(cls, snapshot, store=None, owned=True)
        except IgniterError as exc:
            view = record_view(record)
            view.update(contract=name, diagnostics=None, diagnostics_note=f"could not be restored: {exc}",
                        dropped_waits=[])
            return view
        view = execution_view(contract, name=name, status=record.status)
        # waits of remote nodes the current graph no longer has (a deploy renamed them): said, not silently gone
        view.update(version=record.version, updated_at=record.updated_at.isoformat(),
                    dropped_waits=dropped_waits(contract, snapshot))
        if settled(contract):
            report = without_llm_state(json_safe(Report(contract).to_dict()), contract.execution)
            view.update(diagnostics=report, diagnostics_note=None)
        else:  # a report would resolve (run user code) first: not on a read
            view.update(diagnostics=None, diagnostics_note="some outputs were never resolved; no report is built "
                                                            "on a read")
        return view

    def history(self, execution_id: str, *, limit: int, latest: bool = False,
                cursor: str | None = None) -> dict[str, Any]:
        """Stored versions, oldest first: at most ``limit`` of them after version ``cursor`` (a page's
        ``next_cursor``: the last version it held), ``next_cursor`` null on the last page; with ``latest`` only the
        current one (one read, not the history)."""
        if latest and cursor is not None:
            raise RequestProblem("give either latest=true or cursor, not both (latest is the one current version)",
                                 cursor=cursor)
        eid = self.record_id(execution_id)
        next_cursor = None
        if latest:
            records = [self.store.record(eid)]
        else:
            after = int(cursor) if cursor is not None else 0
            # one version past the page says whether another page follows; the stores decode only these
            records = paging.history_page(self.store, eid, after_version=after, limit=limit + 1)
            if len(records) > limit:
                records = records[:limit]
                next_cursor = str(records[-1].version)
        return {"execution_id": execution_id,
                "versions": [{"version": r.version, "status": r.status, "updated_at": r.updated_at.isoformat(),
                              "snapshot": callbacks.redact_snapshot(r.snapshot)} for r in records],
                "limit": None if latest else limit, "next_cursor": next_cursor}

    def list(self, *, graph: str | None, status: str | None, limit: int, offset: int = 0, cursor: str | None = None,
             total: bool = False) -> dict[str, Any]:
        """A page of stored executions, most recently updated first (``stores/paging.py``).

        ``cursor`` (a previous page's ``next_cursor``) continues after that page; the store reads about ``limit``
        records. ``offset`` (the older way, kept working) skips that many records first, so it reads
        ``offset + limit``. ``total`` counts every matching record (``store.count``), only when asked."""
        if cursor is not None and offset:
            raise RequestProblem("give either cursor or offset, not both (cursor continues where a page ended)",
                                 offset=offset)
        served = self.contracts.by_name.get(graph) if graph is not None else None
        graph_name = served.compiled_graph().name if served is not None else graph
        records, next_cursor = paging.list_page(self.store, graph_name, status, limit=offset + limit, after=cursor)
        page = records[offset:]
        if offset:  # the next cursor continues after this page, wherever it started
            next_cursor = (paging.encode_cursor(page[-1].updated_at, page[-1].execution_id)
                           if next_cursor is not None and page else None)
        answer = {"executions": [record_summary(r) for r in page], "limit": limit, "next_cursor": next_cursor,
                  "total": paging.count(self.store, graph_name, status) if total else None, "offset": offset,
                  "next_offset": offset + len(page) if next_cursor is not None and cursor is None else None}
        if not page and graph is not None and served is None and graph not in self.contracts.by_graph:
            # a filter that found nothing is still a 200 (any stored graph may be asked for); a lookalike of a served
            # name or graph is said, as the 404 of a contract URL says it
            near = self.contracts.lookalike_of(graph, graphs=True)
            if near is not None:
                answer.update(lookalike=near[0], note=f"no execution of graph {graph[:200]!r}; {near[1]}")
        return answer


@contextmanager
def _unstored_on_input_error(graph: Any) -> Iterator[None]:
    """Inputs are refused before anything is stored: the error's ``execution_id`` (the id the run would have had)
    names no execution, and ``GET /v1/executions/{id}`` of it would be a 404 — the answer leaves it out.

    An unknown input's error points at the line that passed it; here that is the server's own thread (a file of
    the web framework), so the answer points at the contract's definition instead."""
    try:
        yield
    except InputError as exc:
        exc.context.pop("execution_id", None)
        if "unknown" in exc.context:
            if graph.source_location:
                exc.context["source_location"] = graph.source_location
            else:
                exc.context.pop("source_location", None)
        raise


def _check_callback_url(url: str) -> None:
    try:  # urlsplit and .port raise ValueError for a bracketed host left open or a port out of range
        parts = urlsplit(url)
        usable = (parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
                  and url.isprintable())  # a control character: no HTTP client would send to it
    except ValueError:
        usable = False
    if not usable:
        from igniter_nb.settings import redact_url

        shown = redact_url(url)[:200]  # (the sender's own URL, but answers pass through proxies and their logs)
        raise RequestProblem(f"callback.url must be an http:// or https:// URL with a host (and a port from 1 to "
                             f"65535, if any), got {shown!r}", callback_url=shown)


__all__ = ["Answer", "ContractService"]
