"""``states``: every resolved node's status, version, value and error as plain data."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from igniter_nb._error_text import shown_text
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.nested_values import KEEP, convert
from igniter_nb.settings import without_url_passwords

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def display_value(value: Any) -> Any:
    """A value as shown in states and diagnostics: child results and deferreds become small dicts (inside lists
    too; a list that contains itself, or nests deeply, never makes this raise)."""
    return convert(value, _display_leaf, (list,))


def _display_leaf(value: Any) -> Any:
    if isinstance(value, DeferredResult):  # shown: a remote node's URL without its password (the state keeps it)
        return {"type": "deferred", **without_url_passwords(value.to_dict())}
    kind = type(value).__name__
    if kind == "Result" and type(value).__module__.startswith("igniter_nb."):
        return {"type": "result", "graph": value.graph, "execution_id": value.execution_id}
    if kind == "CollectionResult" and type(value).__module__.startswith("igniter_nb."):
        return {"type": "collection", **value.summary}
    return KEEP


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def states_view(execution: Execution) -> dict[str, dict[str, Any]]:
    """Node name → ``{id, path, kind, status, version, value, error, error_type, invalidated_by, waiting_for,
    resolved_at, source_location}`` (branches add ``selection``) in the order nodes were first resolved. Never raises."""
    nodes = execution.resolver.nodes
    view: dict[str, dict[str, Any]] = {}
    # a copy (one C call): a threads run's workers may record nodes while another thread looks
    for name, st in execution.states.copy().items():
        node = nodes[name]
        err = st.error
        view[name] = {
            "id": node.id,
            "path": node.path,
            "kind": node.kind,
            "status": str(st.status),
            "version": st.version,
            "value": display_value(st.value),
            "error": shown_text(err) if err is not None else None,
            "error_type": type(err).__name__ if err is not None else None,
            "invalidated_by": st.invalidated_by,
            "waiting_for": list(st.waiting_for),
            "resolved_at": iso(st.resolved_at),
            "source_location": node.source_location,
        }
        if node.kind == "branch":  # which case ran: {selector, selector_value, matched_case, selected_contract}
            view[name]["selection"] = execution.children.selection(name)
    for name in execution.resolver.running:
        if name in nodes and name not in view:
            view[name] = {"id": nodes[name].id, "path": nodes[name].path, "kind": nodes[name].kind, "status": "running"}
    return view
