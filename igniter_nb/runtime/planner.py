"""The planner: what resolving some outputs would do, read from the current states. Resolves nothing, emits
no events.

Node statuses in a plan: the cached status (``succeeded``, ``failed``, ``pending``, ``waiting``, ``stale``,
``running``), ``unresolved`` for a node never resolved, and ``waiting`` for an await node whose event has not
been delivered yet. A node needs resolution when it is unresolved, stale or running; it is *ready* when it
needs resolution and every dependency is satisfied, and *blocked* otherwise. Pending and waiting nodes are
blocked too: reading them again changes nothing until a token is resumed or an event delivered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from igniter_nb._shown_text import TABLE_LIMIT, cut_text, more_rows, shown_name
from igniter_nb.model import AwaitNode, ComputeNode, InputNode, Node
from igniter_nb.runtime.status import BLOCKED, FAILED, RUNNING, STALE, SUCCEEDED, UNRESOLVED, WAITING

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

# Dependency status of an input that has a value (given, default or optional) but was not read yet.
READY = "ready"
# Dependency status of a required input that has no value: resolving will fail with "Missing required input".
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class PlanDependency:
    """One dependency of a plan entry. ``name`` is what the node declared; ``source`` the runtime node it
    reads (different when the dependency is an output); ``kind`` the kind of what ``name`` names."""

    name: str
    source: str
    kind: str
    status: str
    satisfied: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "kind": self.kind, "status": self.status,
                "satisfied": self.satisfied}


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """One node of a plan. ``waiting_on`` lists the unsatisfied dependency names that may still succeed (none for a
    failed node: it waits on nothing); ``failed_deps`` the dependencies that failed (why a failed node failed, or
    what blocks one not resolved yet: it will fail too until they are retried); ``waiting_for`` the pending or
    await nodes a blocked node waits for; ``event`` the awaited event of an await node; ``role`` the kind the
    graph picture shows (``kind`` stays the node kind of the reference text format); ``error`` a failed
    node's error (type and first line); ``token`` the token of a node its executor deferred."""

    id: str
    name: str
    path: str
    kind: str
    status: str
    ready: bool
    blocked: bool
    dependencies: tuple[PlanDependency, ...]
    waiting_on: tuple[str, ...]
    waiting_for: tuple[str, ...] = ()
    event: str | None = None
    role: str = ""  # what the graph picture calls it: guard, const, lookup, map, project, aggregate, or ``kind``
    error: str | None = None  # a failed node's error: ``Type: first line of the message``
    token: str | None = None  # a node deferred by its executor: the token that resumes it
    failed_deps: tuple[str, ...] = ()  # dependencies that failed: not waited on (they succeed only if retried)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "ready": self.ready,
            "blocked": self.blocked,
            "dependencies": [d.to_dict() for d in self.dependencies],
            "waiting_on": list(self.waiting_on),
            "waiting_for": list(self.waiting_for),
            "event": self.event,
            "role": self.role or self.kind,
            "error": self.error,
            "token": self.token,
            "failed_deps": list(self.failed_deps),
        }

    def to_text(self) -> str:
        """One line: names are cut and lists bounded as ``Plan.to_text`` says."""
        words = [f"- {self.kind} {shown_name(self.path)} status={self.status}"]
        if self.ready:
            words.append("ready=true")
        if self.blocked:
            words.append("blocked=true")
        if self.event is not None:
            words.append(f"event={shown_name(self.event)}")
        if self.waiting_on:
            words.append(f"waiting_on={_names(self.waiting_on)}")
        if self.failed_deps:  # (a failed dependency is not waited for: it stays failed until retried)
            key = "failed_because" if self.status == FAILED else "blocked_by_failed"
            words.append(f"{key}={_names(self.failed_deps)}")
        if self.dependencies:
            words.append("deps=" + _names([f"{shown_name(d.name)}({d.status})" for d in self.dependencies]))
        if self.token is not None:
            words.append(f"token={shown_name(self.token)}")
        if self.error is not None:
            words.append(f"error={self.error}")
        return " ".join(words)


def _names(items: Iterable[str]) -> str:
    """``items`` comma-joined, each cut by ``shown_name``: the first ``TABLE_LIMIT``, then ``,… N more``."""
    items = list(items)
    shown = ",".join(shown_name(item) for item in items[:TABLE_LIMIT])
    return shown + (f",… {len(items) - TABLE_LIMIT} more" if len(items) > TABLE_LIMIT else "")


@dataclass(frozen=True, slots=True)
class Plan:
    """What resolving ``targets`` needs: ``entries`` in dependency order (dependencies first), and the names
    of the ``ready`` and ``blocked`` entries. ``str(plan)`` is the text form."""

    graph: str
    execution_id: str
    targets: tuple[str, ...]
    ready: tuple[str, ...]
    blocked: tuple[str, ...]
    entries: tuple[PlanEntry, ...]

    def entry(self, name: str) -> PlanEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"plan of {self.graph} has no node {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "execution_id": self.execution_id,
            "targets": list(self.targets),
            "ready": list(self.ready),
            "blocked": list(self.blocked),
            "entries": [e.to_dict() for e in self.entries],
        }

    def to_text(self) -> str:
        """The plan for people, bounded as the notebook's tables are: ``TABLE_LIMIT`` nodes (then ``… 2800 more
        nodes``) and names per list (then ``,… 2800 more``), each name cut at ``NAME_LIMIT`` characters. ``to_dict()``
        keeps everything."""
        def names(items: tuple[str, ...]) -> str:
            return _names(items) if items else "none"

        lines = [
            f"Plan {shown_name(self.graph)}",
            f"Targets: {names(self.targets)}",
            f"Ready: {names(self.ready)}",
            f"Blocked: {names(self.blocked)}",
            "Nodes:",
        ]
        lines.extend(e.to_text() for e in self.entries[:TABLE_LIMIT])
        if len(self.entries) > TABLE_LIMIT:
            lines.append(more_rows(len(self.entries) - TABLE_LIMIT, "nodes"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import plan_mimebundle
        except ImportError:
            return {"text/plain": self.to_text()}
        bundle: dict[str, Any] = plan_mimebundle(self)
        return bundle


class _Planner:
    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.graph = execution.graph
        self.nodes = execution.resolver.nodes
        self.states = execution.states
        self.running = execution.resolver.running

    def order(self, targets: tuple[str, ...]) -> list[str]:
        """Relevant nodes, dependencies first (DFS post-order from each target), each once; no recursion."""
        dep_plan = self.graph.dep_plan
        seen: set[str] = set()
        order: list[str] = []
        for target in targets:
            if target in seen:
                continue
            seen.add(target)
            stack: list[tuple[str, int]] = [(target, 0)]
            while stack:
                name, index = stack[-1]
                deps = dep_plan[name]
                if index < len(deps):
                    stack[-1] = (name, index + 1)
                    root = deps[index][1]
                    if root not in seen:
                        seen.add(root)
                        stack.append((root, 0))
                    continue
                stack.pop()
                order.append(name)
        return order

    def input_available(self, node: InputNode) -> bool:
        return node.name in self.execution.inputs or node.has_default or not node.required

    def status(self, node: Node) -> str:
        st = self.states.get(node.name)
        if st is not None:
            return str(st.status)
        if node.name in self.running:
            return str(RUNNING)
        if isinstance(node, AwaitNode) and node.name not in self.execution.bound_events:
            return str(WAITING)
        return str(UNRESOLVED)

    def dependency(self, name: str, root: str) -> PlanDependency:
        source = self.nodes[root]
        kind = source.kind if name == root else "output"
        st = self.states.get(root)
        if st is not None:
            return PlanDependency(name, root, kind, str(st.status), st.status is SUCCEEDED)
        if isinstance(source, InputNode):
            available = self.input_available(source)
            return PlanDependency(name, root, kind, READY if available else MISSING, available)
        return PlanDependency(name, root, kind, self.status(source), False)

    def entry(self, name: str) -> PlanEntry:
        node = self.nodes[name]
        st = self.states.get(name)
        status = self.status(node)
        deps = tuple(self.dependency(dep, root) for dep, root, _ in self.graph.dep_plan[name])
        failed_deps = tuple(d.name for d in deps if d.status == FAILED)
        # a failed node waits on nothing; a failed dependency is not waited for (it fails again until retried)
        waiting_on = () if st is not None and st.status is FAILED else \
            tuple(d.name for d in deps if not d.satisfied and d.status != FAILED)
        event = node.event if isinstance(node, AwaitNode) else None
        waiting_for: tuple[str, ...] = ()
        if st is not None and st.status in BLOCKED:
            waiting_for = st.waiting_for
            required = False
            blocked = True
        elif status == WAITING:  # an await node whose event has not arrived
            waiting_for = (name,)
            required = False
            blocked = True
        else:
            required = st is None or st.status is STALE or name in self.running
            blocked = required and bool(waiting_on or failed_deps)
            if isinstance(node, InputNode) and st is None and not self.input_available(node):
                blocked = True
        ready = required and not blocked
        error = token = None
        if st is not None and st.status is FAILED and st.error is not None:
            error = _error_line(st.error)
        elif st is not None and st.status in BLOCKED and getattr(st.value, "source_node", None) == name:
            token = getattr(st.value, "token", None) if getattr(st.value, "event", None) is None else None
        return PlanEntry(node.id, name, node.path, node.kind, status, ready, blocked, deps, waiting_on, waiting_for,
                         event, role_of(node), error, token, failed_deps)


def role_of(node: Node) -> str:
    """The kind the graph picture shows: a compute node's role (guard, const) or category (lookup, map,
    project, aggregate), else the node kind."""
    if isinstance(node, ComputeNode):
        if node.role in ("guard", "const"):
            return str(node.role)
        if node.category in ("lookup", "map", "project", "aggregate"):
            return str(node.category)
    return node.kind


def _error_line(error: BaseException) -> str:
    """``Type: first line of the message`` on one line, cut at 200 characters saying how much more there was (a
    view cutting it again then shows, opened, how long the error really was: not a line ending in a bare ``…``)."""
    message = str(getattr(error, "message", None) or error)
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return cut_text(text, 200, say_how_much=True)


def build_plan(execution: Execution, outputs: Iterable[str] | None = None) -> Plan:
    """The plan for ``outputs`` (default: every output). Unknown output names raise ``KeyError``."""
    if isinstance(outputs, str):
        outputs = (outputs,)
    planner = _Planner(execution)
    targets = execution.targets(outputs)
    entries = tuple(planner.entry(name) for name in planner.order(targets))
    return Plan(
        graph=execution.graph.name,
        execution_id=execution.execution_id,
        targets=targets,
        ready=tuple(e.name for e in entries if e.ready),
        blocked=tuple(e.name for e in entries if e.blocked),
        entries=entries,
    )
