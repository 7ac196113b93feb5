"""What the server does for each route, without HTTP: run a contract, deliver an event, read executions.

Every method is blocking (it calls the store), so the routes run them in FastAPI's threadpool. Failures are
igniter_nb errors; ``routing.status_for`` turns them into HTTP statuses.

Decisions (see ``docs/server.md``):
- every execution the server runs is saved in its store — workflows by ``start``, plain contracts right after
  they resolve — so ``GET /v1/executions/{id}`` answers for each id the server ever handed out (L-38);
- a missing required input is refused (422) before anything runs or is stored, exactly like an input of the
  wrong type, for plain contracts and workflows alike (L-39);
- a workflow whose start fails is stored as ``failed`` and answered with a failed body, not a 4xx (L-39);
- reading an execution never resolves, saves or runs user code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import IgniterError, InputError, SnapshotEncodingError, StoreArgumentError, WorkflowNotFoundError
from igniter_nb.server.encoding import json_safe
from igniter_nb.server.routing import RequestProblem
from igniter_nb.server.served import ServedContracts
from igniter_nb.server.views import execution_view, record_summary, record_view, settled

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


class ContractService:
    """The contracts of one server and the store they share."""

    def __init__(self, contracts: ServedContracts, store: Any) -> None:
        self.contracts = contracts
        self.store = store
        self.catalog = [_contract_info(name, cls) for name, cls in contracts.by_name.items()]
        # name -> input names that must be given (required, no default): checked before anything runs
        self._required = {
            name: [n.name for n in cls.compiled_graph().input_nodes if n.required and not n.has_default]
            for name, cls in contracts.by_name.items()
        }

    # ------------------------------------------------------------------------------------------- running
    def execute(self, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Run contract ``name``: ``start`` a workflow (a contract with correlation keys), or resolve a plain
        contract and save it. Failing nodes give a ``failed`` view, never an error."""
        cls = self.contracts.get(name)
        graph = cls.compiled_graph()
        missing = [key for key in self._required[name] if key not in inputs]
        if missing:
            label = "input" if len(missing) == 1 else "inputs"
            raise InputError(f"Missing required {label}: {', '.join(missing)}", graph=graph.name, node=missing[0],
                             path=missing[0], missing=missing)
        if graph.correlation_keys:
            contract = cls.start(dict(inputs), store=self.store)
        else:
            contract = cls(dict(inputs), store=self.store)
            contract.resolve_all()
            self._save(contract)
        return execution_view(contract, name=name)

    def _save(self, contract: Any) -> None:
        from igniter_nb.runtime.store_runner import persist

        try:
            persist(contract.execution, self.store)
        except SnapshotEncodingError as exc:  # the run happened; its answer still goes back, marked unsaved
            log.warning("execution %s of %s was not stored: %s", contract.execution_id, type(contract).__name__, exc)
            contract.execution.store_version = None

    def deliver(self, name: str, *, event: str, correlation: Mapping[str, Any], payload: Any,
                idempotency_key: str | None) -> dict[str, Any]:
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
        contract = cls.deliver_event(event, correlation=correlation, payload=payload, store=self.store,
                                     idempotency_key=idempotency_key)
        return execution_view(contract, name=name)

    # ------------------------------------------------------------------------------------------- reading
    def _record_id(self, execution_id: str) -> str:
        from igniter_nb.stores.base import check_execution_id

        try:
            return check_execution_id(execution_id)
        except StoreArgumentError as exc:  # an id no store can hold names no execution
            raise RequestProblem(f"no execution {execution_id[:200]!r}: {exc.message}", status=404) from None

    def read(self, execution_id: str) -> dict[str, Any]:
        """Status, outputs, waits and the diagnostics report of a stored execution."""
        from igniter_nb.diagnostics.report import Report
        from igniter_nb.runtime.snapshot import restore_contract

        record = self.store.record(self._record_id(execution_id))
        served = self.contracts.for_graph(record.graph)
        if served is None:
            view = record_view(record)
            view.update(diagnostics=None, diagnostics_note=f"this server does not serve graph {record.graph!r}")
            return view
        name, cls = served
        snapshot = record.snapshot
        snapshot["runner"] = {"runner": "inline"}  # restored only to be read: no store runner, nothing saved
        try:
            contract = restore_contract(cls, snapshot, store=None, owned=True)
        except IgniterError as exc:
            view = record_view(record)
            view.update(contract=name, diagnostics=None, diagnostics_note=f"could not be restored: {exc}")
            return view
        view = execution_view(contract, name=name, status=record.status)
        view.update(version=record.version, updated_at=record.updated_at.isoformat())
        if settled(contract):
            view.update(diagnostics=json_safe(Report(contract).to_dict()), diagnostics_note=None)
        else:  # a report would resolve (run user code) first: not on a read
            view.update(diagnostics=None, diagnostics_note="some outputs were never resolved; no report is built "
                                                            "on a read")
        return view

    def history(self, execution_id: str) -> dict[str, Any]:
        records = self.store.history_records(self._record_id(execution_id))
        return {"execution_id": execution_id,
                "versions": [{"version": r.version, "status": r.status, "updated_at": r.updated_at.isoformat(),
                              "snapshot": r.snapshot} for r in records]}

    def list(self, *, graph: str | None, status: str | None, limit: int, offset: int) -> dict[str, Any]:
        """A page of stored executions, most recently updated first."""
        served = self.contracts.by_name.get(graph) if graph is not None else None
        graph_name = served.compiled_graph().name if served is not None else graph
        records = self.store.list(graph=graph_name, status=status)
        records.reverse()
        page = records[offset:offset + limit]
        end = offset + len(page)
        return {"executions": [record_summary(r) for r in page], "total": len(records), "limit": limit,
                "offset": offset, "next_offset": end if end < len(records) else None}


__all__ = ["ContractService"]
