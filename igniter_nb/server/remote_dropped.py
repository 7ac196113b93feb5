"""Remote waits a deploy dropped: a parent saved while its remote node waited on a remote execution, restored into a
graph that no longer has that node (renamed or removed since). The restore drops the node's state, wait included
(``runtime/graph_change.py``), so the callback of that remote execution and ``Contract.sync_remote`` would find
nothing waiting for it; they say so instead, naming the node and the ``migrate`` call that moves the wait onto the
node's new name (docs/server.md, "Remote nodes").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import GraphChangedError, IgniterError
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.server.remote import remote_wait


def dropped_remote_waits(contract: Any, snapshot: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``{node: deferred payload}`` of the remote waits the stored ``snapshot`` held on its own nodes that ``contract``
    (restored from it) dropped because its graph no longer has them. Empty without decoding anything when the
    restore dropped nothing (the usual case). Waits inside children are not looked for."""
    changes = contract.execution.graph_changes
    states = snapshot.get("states")
    if not changes or not changes.dropped or not isinstance(states, Mapping):
        return {}
    from igniter_nb.runtime import codec

    found: dict[str, Mapping[str, Any]] = {}
    for node in changes.dropped:
        state = states.get(node)
        if not isinstance(state, Mapping) or not isinstance(state.get("value"), Mapping):
            continue
        try:
            value = codec.decode(state["value"])
        except (IgniterError, LookupError, TypeError, ValueError):  # a damaged state is no wait
            continue
        wait = remote_wait(value) if isinstance(value, DeferredResult) else None
        if wait is not None and value.source_node == node:
            found[node] = wait
    return found


def dropped_wait_error(contract: Any, node: str, wait: Mapping[str, Any], what: str) -> GraphChangedError:
    """The error of ``what`` (``"the callback"``) meeting the wait of ``node`` that ``contract``'s graph dropped."""
    ex = contract.execution
    graph = ex.graph.name
    rid = str(wait.get("remote_execution_id"))[:200]
    cls_name = type(contract).__name__
    return GraphChangedError(
        f"{what} is for remote node {node!r} of {graph} {ex.execution_id} (waiting for remote execution {rid!r}), "
        f"which the current graph no longer has: the execution was saved by a version of the contract that had that "
        f"node, and nothing is written. If the node was renamed, move stored executions onto the current graph with "
        f"{cls_name}.migrate(store, rename={{{node!r}: <its new name>}}): then the remote server's callback (a 409 "
        f"is retried) or {cls_name}.sync_remote resumes it", graph=graph, node=node,
        execution_id=ex.execution_id, remote_execution_id=rid, remote_contract=wait.get("remote_contract"))


def dropped_waits(contract: Any, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per remote wait of the stored ``snapshot`` that ``contract`` (restored from it) dropped:
    ``{node, remote_execution_id, remote_contract, remote_url, error}`` (the URL without its password) — what
    ``GET /v1/executions/{id}`` shows as ``dropped_waits`` and ``sync_remote`` reports as ``unreadable``."""
    from igniter_nb.server.errors import shown_url

    return [{"node": node, "remote_execution_id": wait["remote_execution_id"],
             "remote_contract": wait.get("remote_contract"), "remote_url": shown_url(str(wait["remote_url"])),
             "error": str(dropped_wait_error(contract, node, wait, "this remote wait"))}
            for node, wait in dropped_remote_waits(contract, snapshot).items()]


__all__ = ["dropped_remote_waits", "dropped_wait_error", "dropped_waits"]
