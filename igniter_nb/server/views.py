"""What the server answers about an execution: built from a contract it just ran, or from a stored record.

Building a view never resolves anything: it reads the node states as they are, so looking at an execution
(``GET /v1/executions/{id}``) runs no user code and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.status import FAILED, PENDING, STALE, SUCCEEDED, WAITING
from igniter_nb.server.encoding import json_safe
from igniter_nb.settings import without_url_passwords
from igniter_nb.stores.base import FINISHED_STATUSES


def _outputs(execution: Any) -> dict[str, Any]:
    from igniter_nb.diagnostics.report import plain_value

    found: dict[str, Any] = {}
    for out in execution.graph.outputs:
        st = execution.states.get(out.source_root)
        if st is None or st.status is not SUCCEEDED:
            continue
        if out.child_output is not None:  # an output exported from a child contract: read it from the child
            try:
                st = execution.output_state(out.name)
            except Exception:
                continue
            if st.status is not SUCCEEDED:
                continue
        found[out.name] = json_safe(plain_value(st.value))
    return found


def _waiting_on(execution: Any) -> list[dict[str, str]]:
    """Each await node still waiting, with its event: one entry per await, never one per blocked node (L-36)."""
    waits = []
    for node in execution.graph.await_nodes:
        st = execution.states.get(node.name)
        if st is not None and st.status is WAITING:
            waits.append({"node": node.name, "event": node.event})
    return waits


def _pending(execution: Any) -> list[dict[str, Any]]:
    """Deferred work outstanding, one entry per token (nodes downstream of a deferral carry the same token)."""
    tokens: dict[str, dict[str, Any]] = {}
    for name, st in execution.states.items():
        value = st.value
        if st.status is PENDING and isinstance(value, DeferredResult) and value.token not in tokens:
            tokens[value.token] = {"node": value.source_node or name, "token": value.token,
                                   "payload": json_safe(shown_payload(value.payload))}
    return list(tokens.values())


def without_llm_state(data: Any, execution: Any) -> Any:
    """Report data (``diagnostics``) as the server shows it: the payload of each output the report shows as
    deferred (``outputs[name]``: ``{status, token, payload, ...}`` of a pending or waiting output, the one place a
    report holds a pending payload) as :func:`shown_payload` shows it — an LLM node's tool calls without its
    conversation. Only those: any other value, a user's output of the same shape included, is shown whole."""
    deferred = _deferred_outputs(execution)
    outputs = data.get("outputs") if isinstance(data, Mapping) else None
    if not deferred or not isinstance(outputs, Mapping):
        return data
    shown = dict(outputs)
    for name in deferred:
        entry = shown.get(name)
        if isinstance(entry, Mapping) and "payload" in entry:
            shown[name] = {**entry, "payload": shown_payload(entry["payload"])}
    return {**data, "outputs": shown}


def _deferred_outputs(execution: Any) -> list[str]:
    """The outputs whose state is a pending or waiting ``DeferredResult`` (what ``Report._outputs`` shows as
    ``{"status", **deferred.to_dict()}``)."""
    names = []
    for out in execution.graph.outputs:
        st = execution.states.get(out.source_root)
        if st is None:
            continue
        if out.child_output is not None:
            try:
                st = execution.output_state(out.name)
            except Exception:
                continue
        if st.status in (PENDING, WAITING) and isinstance(st.value, DeferredResult):
            names.append(out.name)
    return names


def shown_payload(payload: Any) -> Any:
    """A pending payload as the server shows it: an LLM executor's tool calls without the conversation it keeps to
    continue (``llm.durable.public_payload``: the system prompt is the service's own), a remote node's
    ``remote_url`` with any password in it as ``***`` (the stored wait keeps it: it resumes with it); any other
    as it is."""
    if not isinstance(payload, Mapping):
        return payload
    if isinstance(payload.get("remote_url"), str):  # a remote node's wait: its URL without a password in it
        from igniter_nb.server.errors import shown_url

        payload = {**payload, "remote_url": shown_url(payload["remote_url"])}
    if "llm" not in payload:
        return dict(payload)
    from igniter_nb.llm.durable import public_payload

    return public_payload(payload)




def _failure(execution: Any) -> dict[str, Any] | None:
    for name, st in execution.states.items():
        if st.status is FAILED:
            err = st.error
            context = dict(getattr(err, "context", {}) or {})
            return {"type": type(err).__name__, "message": str(getattr(err, "message", None) or err),
                    "node": context.get("node") or name, "context": json_safe(context)}
    return None


def status_of(contract: Any) -> str:
    """A workflow's own status (``running``, ``waiting``, ``cancelled``…), else the contract's status."""
    workflow = contract.execution.workflow
    if workflow and workflow.get("status"):
        return str(workflow["status"])
    return str(contract.execution.status_of())


def execution_view(contract: Any, *, name: str | None, status: str | None = None) -> dict[str, Any]:
    """The ``ExecutionView`` of a contract instance (see ``models.ExecutionView``)."""
    ex = contract.execution
    workflow = ex.workflow or {}
    status = status or status_of(contract)
    # a finished workflow takes no more events (a delivery is a 404: no *active* workflow), so it waits for none,
    # even when an await was still open as it failed, was cancelled or timed out
    waits = [] if workflow and status in FINISHED_STATUSES else _waiting_on(ex)
    correlation = workflow.get("correlation")
    return {
        "execution_id": ex.execution_id,
        "graph": ex.graph.name,
        "contract": name,
        "status": status,
        "correlation": json_safe(correlation) if correlation else None,
        "outputs": _outputs(ex),
        "waiting_for": list(dict.fromkeys(w["event"] for w in waits)),
        "waiting_on": waits,
        "pending": _pending(ex),
        "error": _failure(ex),
        "version": ex.store_version or None,
    }


def settled(contract: Any) -> bool:
    """Whether every output's node has a current state, so reading it (or a report) computes nothing."""
    ex = contract.execution
    return all((st := ex.states.get(t)) is not None and st.status is not STALE for t in ex.targets())


def record_view(record: Any) -> dict[str, Any]:
    """An ``ExecutionView`` from a stored record alone (for a graph this server does not serve)."""
    return {
        "execution_id": record.execution_id,
        "graph": record.graph or str(record.snapshot.get("graph") or ""),
        "contract": None,
        "status": record.status or str(record.snapshot.get("status") or "failed"),
        "correlation": json_safe(record.correlation) if record.correlation else None,
        "outputs": {},
        "waiting_for": [],
        "waiting_on": [],
        "pending": [],
        "error": None,
        "version": record.version,
        "updated_at": record.updated_at.isoformat(),
    }


def record_summary(record: Any) -> dict[str, Any]:
    """One row of ``GET /v1/executions``."""
    return {
        "execution_id": record.execution_id,
        "graph": record.graph,
        "status": record.status,
        "correlation": json_safe(record.correlation) if record.correlation else None,
        "version": record.version,
        "updated_at": record.updated_at.isoformat(),
    }


__all__ = ["execution_view", "record_summary", "record_view", "settled", "shown_payload", "without_url_passwords", "status_of",
           "without_llm_state"]
