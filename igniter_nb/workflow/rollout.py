"""A rollout: processes of two deploys — one graph awaits an event as ``a``, the next as ``a2`` — save the same
stored workflows until ``Contract.migrate`` moves them all onto the new graph.

A restore drops the state of an await its graph no longer has (``runtime/graph_change.py``). For an await that
had received its event, that state *is* the payload (the signal log keeps only its digest): a process running the
other graph that saved the workflow would drop it for good, and a ``migrate(rename={"a": "a2"})`` afterwards
would have nothing to move. So a delivery that would save such a workflow is refused with ``GraphChangedError``,
writing nothing, when the delivering graph awaits the same event under another name (a rename it has not been
migrated for); the error names the execution, the await and the ``migrate`` call to run. ``retry_workflow`` and
``Contract.resume_from_store`` (a node resumed by its token, e.g. by an RQ job: :func:`restore_keeping_payloads`)
are refused the same way. An await removed outright (its event awaited by no node) is dropped as any removed
node is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import GraphChangedError
from igniter_nb.runtime.graph_change import current_awaits, removed_since_saved, stored_awaits


def held_payloads(graph: Any, snapshot: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{stored await: (its event, the await of that event in graph)}`` for each await of the graph ``snapshot``
    was saved under that ``graph`` no longer has, that holds a delivered payload (succeeded, a signal in force),
    and whose event ``graph`` awaits under another name. Empty without reading anything more in the usual case
    (the stored awaits are the graph's). Read before a restore, which drops those states."""
    gone = removed_since_saved(graph, snapshot)
    if not gone:
        return {}
    workflow = snapshot.get("workflow")
    states = snapshot.get("states")
    if type(workflow) is not dict or not isinstance(states, Mapping):
        return {}
    by_event = {event: node for node, event in current_awaits(graph).items()}
    in_force = {s.get("node") for s in workflow.get("signals") or () if type(s) is dict and not s.get("retracted")}
    held = {}
    for node, event in gone.items():
        state = states.get(node)
        now = by_event.get(event)
        if (now is not None and now != node and node in in_force and isinstance(state, Mapping)
                and state.get("status") == "succeeded"):
            held[node] = (event, now)
    return held


def refuse_dropping(cls: Any, contract: Any, held: Mapping[str, tuple[str, str]], doing: str) -> None:
    """``GraphChangedError`` when the restored ``contract`` dropped one of the ``held`` payloads; ``doing`` says what
    was refused (``"event 'eb' is not applied"``)."""
    changes = contract.execution.graph_changes
    dropped = [node for node in held if changes is not None and node in changes.dropped]
    if not dropped:
        return
    graph = cls.compiled_graph()
    old = dropped[0]
    event, now = held[old]
    raise GraphChangedError(
        f"workflow {contract.execution_id} of {graph.name} holds the payload delivered to await {old!r} (event "
        f"{event!r}), which the current graph no longer has — it awaits {event!r} as {now!r}: saving the workflow "
        f"under this graph would drop that payload, so {doing} and nothing is written. Move stored workflows onto "
        f"this graph first with {cls.__name__}.migrate(store, rename={{{old!r}: {now!r}}}) (or with "
        f"drop={{{old!r}}} instead, if {now!r} is not {old!r} renamed: its payload is then dropped), then retry",
        graph=graph.name, node=old, execution_id=contract.execution_id, event=event, current_node=now,
        held_payloads=sorted(dropped), stored_awaits=stored_awaits({"workflow": contract.execution.workflow}))


def restore_keeping_payloads(cls: Any, record: Any, store: Any, doing: str) -> Any:
    """``restore_record`` of a record about to be changed and saved (``Contract.resume_from_store``), refused with
    ``GraphChangedError`` (:func:`refuse_dropping`) when the restore dropped a payload :func:`held_payloads` finds."""
    from igniter_nb.runtime.restore import restore_record

    held = held_payloads(cls.compiled_graph(), record.snapshot)  # (read before the restore drops them)
    contract = restore_record(cls, record, store=store)
    if held:
        refuse_dropping(cls, contract, held, doing)
    return contract
