"""Stored executions and the graph they restore into, when a deploy changed it meanwhile.

A snapshot names the nodes it has states for, and a workflow record names the awaits its graph had
(``workflow["awaits"]``, ``{node: event}``, written by ``start`` and by ``Contract.migrate``). Restoring into the
current graph keeps what still fits: states, children, bound events and inputs of nodes the graph no longer
has are dropped (listed in a ``graph_changed`` event); nodes added since have no state and resolve when
needed. An await that is gone — removed, renamed, or now awaiting another event — is remembered here, so a
delivery of its event is answered with ``GraphChangedError`` naming it (see ``workflow.engine``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class GraphChanges:
    """What a restore found changed between a stored execution and the current graph."""

    dropped: tuple[str, ...] = ()  # names of stored nodes (states, inputs, children...) the graph no longer has
    removed_awaits: Mapping[str, str] = dataclasses.field(default_factory=dict)  # await node -> its stored event

    def __bool__(self) -> bool:
        return bool(self.dropped or self.removed_awaits)

    def to_dict(self) -> dict[str, Any]:
        return {"removed": list(self.dropped),
                "removed_awaits": [{"node": n, "event": e} for n, e in self.removed_awaits.items()]}


def stored_awaits(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """``{await node: event}`` of the graph a stored workflow was started (or last migrated) under.

    Records written before ``workflow["awaits"]`` existed are read from what they do have: the signal log and
    the ``workflow_waiting`` / ``external_event_received`` events of their log.
    """
    workflow = snapshot.get("workflow")
    if type(workflow) is not dict:  # (stored data: plain dicts)
        return {}
    recorded = workflow.get("awaits")
    if type(recorded) is dict:
        return {str(k): v for k, v in recorded.items() if type(v) is str}
    found: dict[str, str] = {}
    for signal in workflow.get("signals") or ():
        if isinstance(signal, Mapping) and isinstance(signal.get("node"), str) and isinstance(signal.get("event"), str):
            found[signal["node"]] = signal["event"]
    for event in snapshot.get("events") or ():
        if not isinstance(event, Mapping) or not isinstance(event.get("payload"), Mapping):
            continue
        payload = event["payload"]
        if event.get("type") == "workflow_waiting":
            for item in payload.get("waiting_on") or ():
                if isinstance(item, Mapping) and isinstance(item.get("node"), str) and isinstance(item.get("event"), str):
                    found.setdefault(item["node"], item["event"])
        elif (event.get("type") == "external_event_received" and isinstance(event.get("node"), str)
              and isinstance(payload.get("event"), str)):
            found.setdefault(event["node"], payload["event"])
    return found


def removed_awaits(graph: Any, awaits: Mapping[str, str]) -> dict[str, str]:
    """The stored awaits the graph no longer has as an await of the same event."""
    current = _awaits(graph)
    if awaits == current:  # the usual case: restored into the graph it was saved under
        return {}
    return {node: event for node, event in awaits.items() if current.get(node) != event}


def removed_since_saved(graph: Any, snapshot: Mapping[str, Any]) -> dict[str, str]:
    """``removed_awaits(graph, stored_awaits(snapshot))``, answered without building anything in the usual case:
    the stored workflow's awaits are exactly the graph's."""
    workflow = snapshot.get("workflow")
    if type(workflow) is dict:
        recorded = workflow.get("awaits")
        if type(recorded) is dict and recorded == _awaits(graph):
            return {}
    return removed_awaits(graph, stored_awaits(snapshot))


@dataclasses.dataclass(frozen=True, slots=True)
class KindChanges:
    """Nodes a stored workflow and the current graph both have by name, but as another kind."""

    no_longer_awaited: frozenset[str]  # awaits when saved, computed (or given) now
    newly_awaited: frozenset[str]  # awaits now, another kind when saved
    delivered: frozenset[str]  # nodes a signal in force was delivered to

    def stale(self, name: str, status: str, waiting_for: tuple[str, ...]) -> bool:
        """Whether a stored state of ``name`` cannot mean the same under the current graph: a wait for an await
        that is no longer one (nothing would ever resolve it), or, on a node now awaited, a value its event did
        not deliver or a wait for another await. Values are kept otherwise, as across any deploy (a payload an
        await received before it became a compute stays its value)."""
        if status == "waiting" and not self.no_longer_awaited.isdisjoint(waiting_for):
            return True
        if name in self.newly_awaited:
            if status == "succeeded":
                return name not in self.delivered
            return status == "waiting" and waiting_for != (name,)
        return False


def kind_changes(graph: Any, snapshot: Mapping[str, Any]) -> KindChanges | None:
    """What changed kind between the graph a stored workflow was saved under (its recorded awaits) and ``graph``;
    None in the usual case of the same awaits. The recorded awaits stay those of the graph the workflow started
    under until ``migrate``, so the answer is the same on every restore: what :meth:`KindChanges.stale` drops is
    what the old graph left, never what the current graph wrote since."""
    workflow = snapshot.get("workflow")
    if type(workflow) is not dict:
        return None
    current = _awaits(graph)
    recorded = workflow.get("awaits")
    if type(recorded) is dict and recorded.keys() == current.keys():
        return None
    stored = stored_awaits(snapshot)
    nodes = graph.nodes_by_name
    gone = frozenset(n for n in stored if n in nodes and n not in current)
    new = frozenset(n for n in current if n not in stored)
    if not gone and not new:
        return None
    delivered = frozenset(
        s["node"] for s in workflow.get("signals") or ()
        if isinstance(s, Mapping) and isinstance(s.get("node"), str) and not s.get("retracted"))
    return KindChanges(gone, new, delivered)


def computed_awaits(graph: Any, states: Mapping[str, Any], bound: Mapping[str, Any],
                    workflow: Mapping[str, Any]) -> list[str]:
    """Awaits of an active workflow that hold a value no delivery gave: ``succeeded``, not bound (a delivery or a
    resume by token binds its value) and no signal in force for them. A deploy made the await a compute, the
    workflow was saved with the computed value without a ``migrate``, and a rollback made it an await again: its
    recorded awaits still match the graph, so :func:`kind_changes` sees nothing. Such a value is never taken for
    a delivered payload: the restore puts the await back to waiting (``runtime/restore.py``)."""
    found = []
    for node in graph.await_nodes:
        st = states.get(node.name)
        if st is not None and st.status == "succeeded" and node.name not in bound:
            found.append(node.name)
    if not found:  # the usual case
        return found
    signalled = {s.get("node") for s in workflow.get("signals") or ()
                 if isinstance(s, Mapping) and not s.get("retracted")}
    return [name for name in found if name not in signalled]


def orphaned_waits(graph: Any, states: Mapping[str, Any], blocked: frozenset[Any]) -> list[str]:
    """Blocked states (``blocked``: pending or waiting) of nodes that wait for something none of their current
    dependencies waits for — a dependency a deploy changed (``x`` depended on the await ``crm``, now on ``lead``):
    nothing would ever resume them, and the workflow would wait for ever with every event delivered. A node
    waiting on itself (an await, a deferring executor, a composition) is never listed; a listed node only waited
    behind its dependencies, so it resolves again from them. Checked one dependency level at a time, repeated
    while a listed node leaves a dependent without the wait it named."""
    first, second = blocked  # (identity checks: an enum's hash is computed in Python)
    waiting = [(name, st.waiting_for) for name, st in states.items()
               if (st.status is first or st.status is second) and st.waiting_for and name not in st.waiting_for]
    if not waiting:  # the usual case: every blocked node waits on itself (awaits, deferring executors)
        return []
    plan = graph.dep_plan
    orphaned: list[str] = []
    changed = True
    while changed:
        changed = False
        for name, waits in waiting:
            if name in orphaned:
                continue
            through: set[str] = set()
            for _, root, _ in plan.get(name, ()):
                dep = states.get(root)
                if dep is not None and (dep.status is first or dep.status is second) and root not in orphaned:
                    through.update(dep.waiting_for)
            if not through.issuperset(waits):
                orphaned.append(name)
                changed = True
    return orphaned


def retract_dropped(workflow: dict[str, Any], dropped: tuple[str, ...]) -> None:
    """Retract the signals in force whose await's state a restore dropped (the await was removed, or changed kind):
    the payload they delivered is gone, so they no longer count — a deploy that brings the await back (a rollback,
    a rename migrated after a save) lets its event be delivered again instead of waiting for ever behind a signal
    that says it arrived. The log keeps them, marked ``retracted: {at, by: "graph_changed"}``."""
    gone = set(dropped)
    at = None
    for signal in workflow.get("signals") or ():
        if type(signal) is dict and signal.get("node") in gone and not signal.get("retracted"):
            if at is None:
                at = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
            signal["retracted"] = {"at": at, "by": "graph_changed"}
            satisfied = list(workflow.get("satisfied_events") or ())
            if signal.get("event") in satisfied:
                satisfied.remove(signal.get("event"))
            workflow["satisfied_events"] = satisfied


def current_awaits(graph: Any) -> dict[str, str]:
    """``{await node: event}`` of ``graph`` (a fresh dict)."""
    return dict(_awaits(graph))


@functools.lru_cache(maxsize=256)  # per compiled graph (graphs compare by identity): restores ask on every delivery
def _awaits(graph: Any) -> dict[str, str]:
    return {node.name: node.event for node in graph.await_nodes}
