"""``Contract.migrate``: move stored executions onto the graph a deploy changed.

Restoring already fits a stored execution into the current graph (``runtime/graph_change.py``): added nodes
start unresolved, states of removed ones are dropped. What a restore cannot guess is a *rename*: a node stored as
``crm`` that the new graph calls ``crm_data`` would lose its state and signals, and a delivery of its event is
refused with ``GraphChangedError``. ``migrate(store, rename={"crm": "crm_data"})`` renames such nodes in every
stored execution of the graph (states, inputs, children, bound events, signal log, deadlines, correlation keys, the
wait a renamed node holds and its dependents carry — ``source_node``, an await's token; the event log keeps the names
it was written with), drops what the graph no longer has, records the graph's
awaits, lets an active workflow resolve what it now can, and saves each with compare-and-set. Running it again
changes nothing; ``dry_run=True`` reports what it would do and writes nothing.

An execution holding the delivered payload of an await the new graph no longer has, whose event the new graph
awaits under another name, is a forgotten rename: it is reported ``failed`` (the error names the ``rename=`` to
pass) and not written, unless ``drop={"old"}`` says to drop that payload. An await removed outright (its event
awaited by no node) is dropped as any removed node is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import (
    ConcurrencyError,
    DuplicateWorkflowError,
    GraphChangedError,
    IgniterError,
    SnapshotNotFoundError,
    WorkflowArgumentError,
)
from igniter_nb.runtime import codec
from igniter_nb.runtime.graph_change import current_awaits, stored_awaits
from igniter_nb.runtime.restore import check_record, restore_contract
from igniter_nb.workflow.contract_class import contract_class
from igniter_nb.workflow.engine import ACTIVE, MAX_ATTEMPTS, _now, _store, refresh_status, save_workflow
from igniter_nb.workflow.migration_inputs import carried_inputs, check_inputs, correlation_now, missing_inputs
from igniter_nb.workflow.rollout import held_payloads

_ACTIVE_RECORDS = ("running", "pending", "waiting")


@dataclasses.dataclass(frozen=True, slots=True)
class MigratedExecution:
    """What ``migrate`` did (or would do) to one stored execution."""

    execution_id: str
    action: str  # "migrated" ("would migrate" in a dry run), "unchanged" or "failed"
    status: str | None  # the stored status afterwards
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)  # old -> new names found and renamed
    dropped: tuple[str, ...] = ()  # stored nodes the graph no longer has
    removed_awaits: Mapping[str, str] = dataclasses.field(default_factory=dict)  # awaits still gone: cannot be delivered
    error: str | None = None  # why it could not be migrated ("failed")
    inputs: tuple[str, ...] = ()  # inputs it had no value for, given by ``inputs=``
    correlation: Mapping[str, Any] | None = None  # its new correlation, when the graph's keys changed
    # the removed awaits it was still waiting for (no delivery recorded, and not now a compute or input of the graph)
    stranded_awaits: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # inputs that took the value their node computed under the graph it was saved under (a compute made an input)
    computed_inputs: tuple[str, ...] = ()
    # renamed awaits whose delivered payload a save under a graph without them had already dropped (records written
    # before such saves were refused): {old await: its event}, to be delivered again
    lost_payloads: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"execution_id": self.execution_id, "action": self.action, "status": self.status,
                "renamed": dict(self.renamed), "dropped": list(self.dropped),
                "removed_awaits": dict(self.removed_awaits), "error": self.error, "inputs": list(self.inputs),
                "correlation": dict(self.correlation) if self.correlation is not None else None,
                "stranded_awaits": dict(self.stranded_awaits), "computed_inputs": list(self.computed_inputs),
                "lost_payloads": dict(self.lost_payloads)}


@dataclasses.dataclass(frozen=True, slots=True)
class MigrationReport:
    """The result of ``Contract.migrate``: one entry per stored execution looked at."""

    graph: str
    dry_run: bool
    executions: tuple[MigratedExecution, ...]

    def _with(self, *actions: str) -> list[MigratedExecution]:
        return [e for e in self.executions if e.action in actions]

    @property
    def migrated(self) -> list[MigratedExecution]:
        return self._with("migrated", "would migrate")

    @property
    def unchanged(self) -> list[MigratedExecution]:
        return self._with("unchanged")

    @property
    def failed(self) -> list[MigratedExecution]:
        return self._with("failed")

    @property
    def stranded(self) -> list[MigratedExecution]:
        """Active executions that still wait for an await the graph no longer has (cancel them, or rename): its event
        had not arrived, and the node is not now computed (an await that became a compute, or that was delivered
        before it was removed, waits for nothing)."""
        return [e for e in self.executions if e.stranded_awaits and e.status in _ACTIVE_RECORDS]

    @property
    def lost(self) -> list[MigratedExecution]:
        """Executions whose renamed await had received its event, but whose payload a save under the new graph
        dropped before ``migrate`` ran (``lost_payloads``): deliver those events again."""
        return [e for e in self.executions if e.lost_payloads]

    def to_dict(self) -> dict[str, Any]:
        return {"graph": self.graph, "dry_run": self.dry_run, "executions": [e.to_dict() for e in self.executions]}

    def __repr__(self) -> str:
        verb = "would migrate" if self.dry_run else "migrated"
        return (f"<MigrationReport {self.graph}: {verb} {len(self.migrated)}, unchanged {len(self.unchanged)}, "
                f"failed {len(self.failed)}, stranded {len(self.stranded)}>")


def _check_rename(graph: Any, rename: Any) -> dict[str, str]:
    if rename is None:
        return {}
    if not isinstance(rename, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in rename.items()):
        raise WorkflowArgumentError(f"rename= must map old node names to new ones (str to str), got {rename!r:.120}",
                                    graph=graph.name, argument="rename")
    targets: dict[str, str] = {}
    for old, new in rename.items():
        if not old.isidentifier():  # (node names are identifiers: no graph ever had it — its own node would be dropped)
            raise WorkflowArgumentError(
                f"rename={{{old!r:.80}: {new!r:.80}}}: {old!r:.80} is not a node name any graph could have had (node "
                f"names are Python identifiers), so it would rename nothing while the node it stands for is dropped "
                f"as removed; nothing was migrated", graph=graph.name, argument="rename", node=old[:80])
        if not graph.has_node(new):
            raise WorkflowArgumentError(f"rename={{{old!r:.80}: {new!r:.80}}}: {graph.name} has no node {new!r:.80}",
                                        graph=graph.name, argument="rename", node=new[:80])
        if graph.has_node(old):
            chain = any(other != old and target == old for other, target in rename.items())
            why = (" — a swap or chain of names (a name that is both renamed and a rename's target) is refused: a "
                   "second run would apply it again to what the first one moved; deploy the graph in two steps, "
                   "through names neither graph uses" if chain else "")
            raise WorkflowArgumentError(f"rename={{{old!r}: {new!r}}}: {graph.name} still has a node {old!r}; "
                                        f"rename only names the graph no longer has{why}", graph=graph.name,
                                        argument="rename", node=old)
        if new in targets:
            raise WorkflowArgumentError(f"rename= maps {targets[new]!r} and {old!r} to the same new name {new!r}",
                                        graph=graph.name, argument="rename", node=new)
        targets[new] = old
    return dict(rename)


def _check_drop(graph: Any, drop: Any, rename: Mapping[str, str]) -> frozenset[str]:
    if drop is None:
        return frozenset()
    if not isinstance(drop, (set, frozenset, list, tuple)) or not all(isinstance(n, str) for n in drop):
        raise WorkflowArgumentError(f"drop= must be a set of old await names (str), got {drop!r:.120}",
                                    graph=graph.name, argument="drop")
    for name in drop:
        if graph.has_node(name):
            raise WorkflowArgumentError(f"drop={{{name!r:.80}}}: {graph.name} still has a node {name!r:.80}; drop= "
                                        f"only names awaits the graph no longer has", graph=graph.name,
                                        argument="drop", node=name[:80])
        if name in rename:
            raise WorkflowArgumentError(f"drop={{{name!r:.80}}} and rename={{{name!r:.80}: {rename[name]!r:.80}}}: "
                                        f"an await is either renamed (its payload moved) or dropped, not both",
                                        graph=graph.name, argument="drop", node=name[:80])
    return frozenset(drop)


def forgotten_renames(graph: Any, snapshot: Mapping[str, Any], drop: frozenset[str], execution_id: str) -> None:
    """``GraphChangedError`` when the stored workflow (renames applied) holds the delivered payload of an await
    ``graph`` no longer has but awaits the event of under another name, and ``drop`` does not name it."""
    held = {old: v for old, v in held_payloads(graph, snapshot).items() if old not in drop}
    if not held:
        return
    old, (event, now) = next(iter(held.items()))
    raise GraphChangedError(
        f"workflow {execution_id} of {graph.name} holds the payload delivered to await {old!r} (event {event!r}), "
        f"which the graph no longer has — it awaits {event!r} as {now!r}: a forgotten rename? Migrating without it "
        f"would drop that payload, so the workflow was not migrated. Pass rename={{{old!r}: {now!r}}} (or "
        f"drop={{{old!r}}} if {now!r} is not {old!r} renamed: its payload is then dropped)",
        graph=graph.name, node=old, execution_id=execution_id, event=event, current_node=now,
        held_payloads=sorted(held))


def _stored_kind(snapshot: Mapping[str, Any], name: str, awaits: Mapping[str, str]) -> str:
    """What ``name`` was in the graph ``snapshot`` was saved under, as far as its stored data says."""
    if name in awaits:
        return f"an await (of event {awaits[name]!r})"
    for key, kind in (("inputs", "an input"), ("children", "a composition"), ("collections", "a collection"),
                      ("selections", "a branch")):
        held = snapshot.get(key)
        if isinstance(held, Mapping) and name in held:
            return kind
    return "a compute"


def _current_kind(node: Any) -> str:
    return f"an await (of event {node.event!r})" if node.kind == "await" else f"a {node.kind}"


def pending_renames(snapshot: Mapping[str, Any], rename: Mapping[str, str]) -> dict[str, str]:
    """The entries of ``rename`` still to apply to a stored workflow: not those of an await whose record is in the
    new shape already — its recorded awaits have the new name and not the old one (migrated before, or started by
    a process running the new graph). A state of the old name there was written by a process still running the
    old graph (it waits: such a process is refused a delivery of the event); it is dropped, not renamed onto the
    new await."""
    if not rename or type(snapshot.get("workflow")) is not dict:
        return dict(rename)
    awaits = stored_awaits(snapshot)
    return {old: new for old, new in rename.items() if not (new in awaits and old not in awaits)}


def check_rename_kinds(graph: Any, snapshot: Mapping[str, Any], rename: Mapping[str, str], execution_id: str) -> None:
    """Refuse a rename that would give an await's stored state and signals to a node of another kind, or another
    kind's computed value to an await (taken for a delivered payload): ``WorkflowArgumentError`` naming both nodes
    and their kinds. Only workflows know their awaits (``workflow["awaits"]``); a plain execution is not checked."""
    if not rename or type(snapshot.get("workflow")) is not dict:
        return
    awaits = stored_awaits(snapshot)
    states = snapshot.get("states")
    for old, new in pending_renames(snapshot, rename).items():
        if old not in awaits and not (isinstance(states, Mapping) and old in states):
            continue  # nothing of it stored: nothing to move
        node = graph.node(new)
        if (old in awaits) == (node.kind == "await"):
            continue
        was, now = _stored_kind(snapshot, old, awaits), _current_kind(node)
        if old in awaits:
            why = (f"its wait, signals and delivered payload would mean nothing on {new!r}; leave {old!r} out of rename= "
                   f"(its state is dropped and {new!r} resolves under the new graph)")
        else:
            why = (f"its value would be taken for a delivered payload; leave {old!r} out of rename= ({new!r} then "
                   "waits for its event)")
        raise WorkflowArgumentError(
            f"rename={{{old!r}: {new!r}}} changes a node's kind: {old!r} was {was} in {graph.name} execution "
            f"{execution_id}, and {new!r} is {now}: {why}. Nothing was migrated",
            graph=graph.name, node=new, argument="rename", execution_id=execution_id, renamed_from=old,
            stored_kind="await" if old in awaits else was.split()[-1], current_kind=node.kind)


def _rename_keys(container: Any, rename: Mapping[str, str], found: dict[str, str]) -> None:
    """Rename the keys of a dict keyed by node name, in place and in order; a clash is an error."""
    if not isinstance(container, dict) or not any(old in container for old in rename):
        return
    items = list(container.items())
    names = {k for k, _ in items}
    container.clear()
    for key, value in items:
        new = rename.get(key)
        if new is not None:
            if new in names:
                raise ValueError(f"the stored execution has both {key!r} and {new!r}")
            found[key] = new
            key = new
        container[key] = value


def _stored_wait(state: Any) -> dict[str, Any] | None:
    """The deferred record a stored state holds (``{codec.TAG: "deferred", "value": {token, source_node, ...}}``)."""
    value = state.get("value") if isinstance(state, dict) else None
    if isinstance(value, dict) and value.get(codec.TAG) == "deferred" and isinstance(value.get("value"), dict):
        return value["value"]
    return None


def _rename_waits(snapshot: dict[str, Any], found: Mapping[str, str]) -> None:
    """Rename a renamed node in the wait it holds, and in the copies its dependents carry (same token): its
    ``source_node`` and ``waiting_on``, and an await's token, ``<execution id>:<node>`` (what a start under the new
    graph gives it). Only the waits the renamed node itself deferred: a composition's wait names a child's node."""
    states = snapshot.get("states")
    if not found or not isinstance(states, dict):
        return
    owned: dict[str, tuple[str, str]] = {}  # token -> (old, new)
    for old, new in found.items():
        wait = _stored_wait(states.get(new))
        if wait is not None and wait.get("source_node") == old and isinstance(wait.get("token"), str):
            owned[wait["token"]] = (old, new)
    if not owned:
        return
    execution_id = snapshot.get("execution_id")
    for state in states.values():
        wait = _stored_wait(state)
        token = wait.get("token") if wait is not None else None
        if wait is None or token not in owned:
            continue
        old, new = owned[token]
        wait["source_node"] = new
        if wait.get("waiting_on") == old:
            wait["waiting_on"] = new
        if wait.get("event") is not None and token == f"{execution_id}:{old}":
            wait["token"] = f"{execution_id}:{new}"


def apply_renames(snapshot: dict[str, Any], rename: Mapping[str, str]) -> dict[str, str]:
    """Rename nodes in a stored snapshot (plain data, changed in place); returns the renames that applied."""
    found: dict[str, str] = {}
    workflow = snapshot.get("workflow")
    if isinstance(workflow, dict) and not isinstance(workflow.get("awaits"), Mapping):
        workflow["awaits"] = stored_awaits(snapshot)  # a record from before "awaits": read it from the log first
    if not rename:
        return found
    for key in ("states", "inputs", "bound_events", "children", "children_given", "selections", "collections"):
        _rename_keys(snapshot.get(key), rename, found)
    states = snapshot.get("states")
    for state in (states.values() if isinstance(states, dict) else ()):
        if isinstance(state, dict):
            if isinstance(state.get("waiting_for"), list):
                state["waiting_for"] = [rename.get(w, w) for w in state["waiting_for"]]
            if state.get("invalidated_by") in rename:
                state["invalidated_by"] = rename[state["invalidated_by"]]
    _rename_waits(snapshot, found)
    if isinstance(workflow, dict):
        for key in ("deadlines", "awaits", "correlation"):
            _rename_keys(workflow.get(key), rename, found)
        signals = [*(workflow.get("signals") or ()), workflow.get("last_external_event")]
        for signal in signals:
            if isinstance(signal, dict):
                if signal.get("node") in rename:
                    found[signal["node"]] = rename[signal["node"]]
                    signal["node"] = rename[signal["node"]]
                _rename_keys(signal.get("correlation"), rename, found)
    return found


def migrate(cls: Any, store: Any = None, *, rename: Mapping[str, str] | None = None, dry_run: bool = False,
            include_finished: bool = False, now: dt.datetime | None = None, inputs: Any = None,
            drop: Any = None) -> MigrationReport:
    """Move the stored executions of ``cls``'s graph onto its current definition (module docstring); returns a
    :class:`MigrationReport`. Active executions only unless ``include_finished``. ``inputs`` gives values to
    inputs stored executions lack, and workflows take their correlation from them (``migration_inputs.py``).
    ``drop`` names removed awaits whose delivered payloads may be dropped though their event is awaited by
    another node (else such an execution fails: a forgotten rename)."""
    graph = contract_class(cls, "migrate").compiled_graph()
    renames = _check_rename(graph, rename)
    drops = _check_drop(graph, drop, renames)
    inputs = check_inputs(graph, inputs)
    if not isinstance(dry_run, bool) or not isinstance(include_finished, bool):
        raise WorkflowArgumentError("dry_run= and include_finished= must be bools", graph=graph.name)
    moment = _now(now)
    store = _store(store)
    records = [r for r in store.list(graph=graph.name) if r.status in _ACTIVE_RECORDS or include_finished]
    for record in records:  # a rename that does not fit one of them fits none: refused before anything is written
        check_rename_kinds(graph, record.snapshot, renames, record.execution_id)
    entries = [_migrate_one(cls, store, record.execution_id, renames, inputs, dry_run, moment, drops,
                            active_only=not include_finished)
               for record in records]
    return MigrationReport(graph.name, dry_run, tuple(entries))


def _migrate_one(cls: Any, store: Any, execution_id: str, rename: Mapping[str, str], inputs: Any, dry_run: bool,
                 moment: dt.datetime, drop: frozenset[str] = frozenset(), *,
                 active_only: bool = False) -> MigratedExecution:
    graph = cls.compiled_graph()
    for _ in range(MAX_ATTEMPTS):
        try:
            record = store.record(execution_id)
            check_record(record)
        except SnapshotNotFoundError:
            return MigratedExecution(execution_id, "failed", None, error="deleted meanwhile")
        except IgniterError as exc:
            return MigratedExecution(execution_id, "failed", record.status, error=f"{type(exc).__name__}: {exc.message}")
        if active_only and record.status not in _ACTIVE_RECORDS:  # finished since it was listed: left as it is
            return MigratedExecution(execution_id, "unchanged", record.status)
        snapshot = record.snapshot
        delivered = _delivered_awaits(snapshot)  # (read before the restore retracts signals of dropped awaits)
        try:
            check_rename_kinds(graph, snapshot, rename, execution_id)  # (saved meanwhile under an older graph)
            pending = pending_renames(snapshot, rename)
            lost = _lost_payloads(snapshot, pending)
            renamed = apply_renames(snapshot, pending)
            forgotten_renames(graph, snapshot, drop, execution_id)  # (read before the restore drops them)
            contract = restore_contract(cls, snapshot, store=store, owned=True)
            given = missing_inputs(graph, contract.execution, inputs)
            correlation = correlation_now(graph, contract.execution, given, cls.__name__)
            carried = (carried_inputs(graph, contract.execution, given, cls.__name__)
                       if record.status in _ACTIVE_RECORDS else {})
        except (IgniterError, ValueError) as exc:
            why = exc.message if isinstance(exc, IgniterError) else str(exc)
            return MigratedExecution(execution_id, "failed", record.status, error=f"{type(exc).__name__}: {why}")
        ex = contract.execution
        changes = ex.graph_changes
        dropped = changes.dropped if changes else ()
        wf = ex.workflow
        awaits = current_awaits(graph)
        stale_awaits = wf is not None and wf.get("awaits") != awaits
        gone = dict(changes.removed_awaits) if changes else {}
        nodes = graph.nodes_by_name
        waits = {n: e for n, e in gone.items()
                 if n not in delivered and not (n in nodes and n not in awaits)}  # (now a compute: it computes)
        if not (renamed or dropped or stale_awaits or given or carried or correlation is not None):
            return MigratedExecution(execution_id, "unchanged", record.status, removed_awaits=gone,
                                     stranded_awaits=waits)
        if dry_run:
            return MigratedExecution(execution_id, "would migrate", record.status, renamed, dropped, gone,
                                     inputs=tuple(given), correlation=correlation, stranded_awaits=waits,
                                     computed_inputs=tuple(carried), lost_payloads=lost)
        ex.loaded_from_store(record.version)
        payload: dict[str, Any] = {"renamed": renamed, "dropped": list(dropped),
                                   "removed_awaits": [{"node": n, "event": e} for n, e in gone.items()]}
        if given:
            payload["inputs"] = list(given)
        if lost:
            payload["lost_payloads"] = lost
        if carried:
            payload["computed_inputs"] = list(carried)
        if correlation is not None:
            payload["correlation"] = correlation
        ex.bus.emit("workflow_migrated" if wf is not None else "execution_migrated", payload=payload)
        if given:
            ex.update_inputs(given)
        ex.inputs.update(carried)  # (their states already hold these values: nothing to invalidate)
        if wf is not None:
            if correlation is not None:
                wf["correlation"] = correlation
            wf["awaits"] = awaits
            deadlines = wf.get("deadlines")
            if isinstance(deadlines, dict):
                wf["deadlines"] = {n: d for n, d in deadlines.items() if n in awaits}
            if wf.get("status") in ACTIVE:
                refresh_status(contract, moment)
        try:
            if wf is not None:
                save_workflow(contract, store, moment)
            else:
                from igniter_nb.runtime.store_runner import persist

                persist(ex, store)
        except ConcurrencyError:
            continue
        except DuplicateWorkflowError as exc:  # the new correlation is another active workflow's
            return MigratedExecution(execution_id, "failed", record.status, renamed, dropped, gone,
                                     error=f"DuplicateWorkflowError: {exc.message}", inputs=tuple(given),
                                     correlation=correlation, stranded_awaits=waits, computed_inputs=tuple(carried),
                                     lost_payloads=lost)
        status = store.record(execution_id).status
        return MigratedExecution(execution_id, "migrated", status, renamed, dropped, gone, inputs=tuple(given),
                                 correlation=correlation, stranded_awaits=waits, computed_inputs=tuple(carried),
                                 lost_payloads=lost)
    return MigratedExecution(execution_id, "failed", None, error=f"{MAX_ATTEMPTS} conflicting saves in a row")


def _delivered_awaits(snapshot: Any) -> frozenset[str]:
    """The awaits a stored workflow's signal log says were delivered: in force, or retracted only because a restore
    dropped the await (``retract_dropped``) — its event had arrived either way."""
    workflow = snapshot.get("workflow") if isinstance(snapshot, dict) else None
    if type(workflow) is not dict:
        return frozenset()
    found = set()
    for signal in workflow.get("signals") or ():
        if type(signal) is not dict or type(signal.get("node")) is not str:
            continue
        retracted = signal.get("retracted")
        if not retracted or (type(retracted) is dict and retracted.get("by") == "graph_changed"):
            found.add(signal["node"])
    return frozenset(found)


def _lost_payloads(snapshot: Mapping[str, Any], rename: Mapping[str, str]) -> dict[str, str]:
    """``{old await: event}`` for each await renamed here whose event had been delivered but whose state a restore
    under a graph without it dropped before a save (its signal retracted ``by: graph_changed``, none in force, no
    state left, the new await without a value): the payload is not stored anywhere, so the rename cannot move it."""
    workflow = snapshot.get("workflow")
    states = snapshot.get("states")
    if type(workflow) is not dict or not isinstance(states, Mapping):
        return {}
    awaits = stored_awaits(snapshot)
    lost: dict[str, str] = {}
    for old, new in rename.items():
        if old not in awaits or old in states:
            continue
        new_state = states.get(new)
        if isinstance(new_state, Mapping) and new_state.get("status") == "succeeded":
            continue
        signals = [s for s in workflow.get("signals") or () if type(s) is dict and s.get("node") == old]
        if signals and all(type(s.get("retracted")) is dict and s["retracted"].get("by") == "graph_changed"
                           for s in signals):
            lost[old] = awaits[old]
    return lost
