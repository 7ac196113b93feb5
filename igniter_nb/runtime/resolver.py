"""Resolving nodes: lazily, dependencies first, without recursion (graphs may be deep).

The loop below is the hot path of igniter_nb; it trades a little elegance for speed (states are named tuples
built with ``tuple.__new__``; with no subscriber, node events are recorded compactly and built into ``Event``
objects when the log is read, see ``EventBus.record_into``; per-node data is looked up once).
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.graph import LATER
from igniter_nb.errors import ResolutionError
from igniter_nb.events.aged import aged_list
from igniter_nb.events.bus import EMPTY_PAYLOAD, SCALAR_TYPES
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import STALE, SUCCEEDED
from igniter_nb.runtime.steps import _SETTLED_TYPES, NodeSteps
from igniter_nb.runtime.steps import one_shot_kind as one_shot_kind  # re-exported: runtime modules import it here
from igniter_nb.runtime.steps import wrap_error as wrap_error
from igniter_nb.runtime.workers import InFlight

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

_new = tuple.__new__
_now = time.time


def _marked(stacks: list[list[Any]]) -> set[str]:
    """The started nodes on ``stacks``: each is a mark (a tuple) on its stack, which names it (``Resolver.resolve``)."""
    found: set[str] = set()
    for stack in stacks:
        for entry in list(stack):
            if type(entry) is tuple:
                first = entry[0]
                if type(first) is str:  # (name,): finish() computes it
                    found.add(first)
                elif type(first) is tuple:  # (entry,): it had a state when it started
                    found.add(first[1])
                else:  # its fast-plan entry, which holds its name
                    found.add(entry[1])
    return found


class Resolver(NodeSteps):
    """Resolves nodes of one execution into ``execution.states`` (one node off the fast path: ``NodeSteps``)."""

    def __init__(self, execution: Execution) -> None:
        self._execution = weakref.ref(execution)  # the execution owns this resolver: no reference cycle
        graph = execution.graph
        self.nodes = graph.nodes_by_name
        self.plan = graph.dep_plan
        self.roots = graph.dep_roots
        self.simple = graph.simple_deps
        self.fast = graph.fast_plan
        self._stacks: list[list[Any]] = []  # the stacks of the resolve calls in progress (see ``running``)
        self.in_flight: InFlight | None = None  # the nodes threads-runner runs have started (set by the first)
        self.recorded = execution.bus.record_into(self.nodes)  # node_started/node_succeeded, built when read

    # ------------------------------------------------------------------ driving
    def resolve(self, target: str) -> NodeState:
        """Resolve ``target`` (and what it needs); returns its state. Never leaves a node ``running`` (L-16).

        A node met for the first time emits ``node_started``; if a dependency still needs resolving, the node
        waits on the stack under its dependencies, else it is computed at once. Plain function computes, with
        no subscriber listening, take a fast path: the same states and events as ``finish`` builds, without its
        calls, recording their two events as a name and the new state (the bus builds the ``Event`` objects
        when the log is read). The clock is read once per computed node (after its callable returns); the
        events in between share that reading, so events cost no clock call of their own.

        A started node is marked on the stack itself: its name is replaced by a mark that names it — its fast-plan
        entry (which holds its name), that entry in a 1-tuple when the node had a state when it started, or
        ``(name,)`` for a node ``finish`` computes — and those marks are what ``running`` reads. One entry per
        waiting node: at 100,000 nodes a chain's stack holds 100,000 entries when the descent ends (it was twice
        that, a name and its mark, copied by the list's growth and walked by the collector). So the loop does no per-node
        set operations and looks each node up in the plan once: at 100,000 nodes every lookup in a table that
        size is a cache miss, and they were most of what a node cost more there than at 1,000 (docs/performance.md).

        A node with several dependencies (or called by keyword) reads them in order, keeping its place in a
        ``frame``. A missing one that is a plain function of one dependency that has succeeded (a fan's leaves,
        once their input is there) is computed right there, as its own turn would (same events, same state,
        marked running meanwhile); the first other missing one is pushed alone, and coming back its state is
        the one just written; if another then needs a turn, all the missing ones left are pushed at once. So
        a fan's leaf is looked up once in the states and takes no turn of its own.
        """
        ex = self.execution
        states = ex.states
        # Read raw: an entry is a NodeState, or a node this loop computed to a plain scalar, held compactly as
        # ``(name, value, version, resolved_at)`` (an exact tuple the collector stops tracking; always succeeded,
        # never stale: runtime/states.py ``States``). Everything else reads states through ``States``' methods.
        sget = states.stored
        st = sget(target)
        if st is not None and (type(st) is tuple or st.status is not STALE):
            return states[target]
        bus = ex.bus
        fast_get = self.fast.get
        roots = self.roots
        nodes = self.nodes
        settled = _SETTLED_TYPES
        scalars = SCALAR_TYPES
        record = self.recorded.append
        now = _now()
        stamp = True  # the next node_started records ``now``: the clock was read since the last recorded time
        stack: list[Any] = aged_list()  # made earlier: the collector need not walk it (events/aged.py)
        stack.append(target)
        push = stack.append
        # What the loop has just looked up or written, so the next turn need not look it up in ``states`` again
        # (at 100,000 nodes each lookup in a table that size is a cache miss): the dependency it pushed and its
        # state and plan entry; the node it computed last and that node's new state.
        pushed: str | None = None
        found: NodeState | None = None
        carried: Any = None
        just_name: str | None = None
        just: Any = None
        # The nodes with several dependencies (or called by keyword) waiting on the stack for one of them, each a
        # ``frame``: [their values so far, the position reached, whether all so far succeeded, what was pushed:
        # 0 nothing yet, 1 the dependency at that position alone, 2 every missing one from that position on].
        frames: list[list[Any]] = []
        active = self._stacks
        active.append(stack)
        nested = len(active) > 1  # called from inside a node's callable (it read this contract's own results)
        try:
            while stack:
                top = stack[-1]
                plain = not bus.subscribers and bus.lock is None
                scan = False  # whether a node with several dependencies (or by keyword) goes on reading them
                if type(top) is tuple:  # a mark (names are never tuples): back to the started node it names
                    first = top[0]
                    if type(first) is str:  # (name,): finish() computes it
                        name = first
                        info = None
                        ready = False
                    else:
                        again = type(first) is tuple  # (entry,): it had a state when it started: read it again
                        if again:
                            info = first
                        else:  # its plan entry: it had no state when it started (nothing else can start it meanwhile)
                            info = top
                            st = None
                        name = info[1]
                        ready = plain  # whether the fast path can compute it now
                        if info[3] == 1:  # its one dependency, by position
                            if again:
                                st = states.get(name)
                            dep = info[4]
                            # the node computed last, when no user code ran since (a chain's usual case)
                            dst = just if dep is just_name else sget(dep)
                            if type(dst) is tuple:
                                last = dst[1]
                            elif dst.status is SUCCEEDED:
                                last = dst.value
                            else:
                                ready = False  # a dependency failed or waits: finish() says how
                        else:  # back from what it pushed (``frame``)
                            frame = frames[-1]
                            values = frame[0]
                            i = frame[1]
                            deps = info[2]
                            subs = info[4]
                            if frame[3] == 1:  # the one dependency it pushed: its state, then read on
                                dep = deps[i]
                                dst = just if dep is just_name else sget(dep)
                                if type(dst) is tuple:
                                    values[dep] = dst[1]
                                elif dst.status is SUCCEEDED:
                                    values[dep] = dst.value
                                else:
                                    frame[2] = False  # a dependency failed or waits: finish() says how
                                i += 1
                                scan = True
                            else:  # all its dependencies from position ``i`` on, pushed at once: read them
                                for dep in deps[i:]:
                                    dst = sget(dep)
                                    if type(dst) is tuple:
                                        values[dep] = dst[1]
                                    elif dst.status is SUCCEEDED:
                                        values[dep] = dst.value
                                    else:
                                        frame[2] = False  # a dependency failed or waits: finish() says how
                                        break
                                frames.pop()
                                ready = plain and frame[2]
                                if again:  # it had a state when it started: read it for its version
                                    st = states.get(name)
                else:
                    name = top
                    if name is pushed:  # the one dependency pushed last turn: ``found`` is its state (none or
                        st = found       # stale: it is to start), ``carried`` its plan entry
                        info = carried
                        pushed = None
                    else:
                        st = sget(name)
                        if st is not None and (type(st) is tuple or st.status is not STALE):
                            stack.pop()
                            continue
                        info = fast_get(name)
                    if nested and name in self._started_outside(stack):
                        raise self._reentered(name)
                    # started: marked running (with what the way back needs to know), before ``node_started`` is
                    # emitted: a subscriber reading the contract then finds it in progress (refused: ``_reentered``)
                    # instead of computing it a first time before this loop computes it again
                    stack[-1] = (name,) if info is None else info if st is None else (info,)
                    if plain:  # node_started at ``now``, built when the log is read (events/bus.py)
                        if stamp:
                            record((name, now))
                            stamp = False
                        else:
                            record(name)
                    else:
                        bus.emit("node_started", name, nodes[name].path, "running", EMPTY_PAYLOAD)
                        just_name = None  # a subscriber ran: read states again
                    if info is None:  # finish() computes it, once every dependency has a state
                        ready = False
                        missing: list[str] | None = None
                        for dep in roots[name]:
                            found = sget(dep)
                            if found is None or (type(found) is not tuple and found.status is STALE):
                                if missing is None:
                                    missing = [dep]
                                else:
                                    missing.append(dep)
                        if missing is not None:
                            missing.reverse()  # the first dependency resolves first
                            stack.extend(missing)
                            continue
                    elif info[3] == 1:  # its one dependency, by position
                        ready = plain  # whether the fast path can compute it now
                        dep = info[4]
                        found = sget(dep)
                        if found is None or (type(found) is not tuple and found.status is STALE):
                            push(dep)
                            pushed = dep  # the next turn starts it: no need to look its state up again
                            carried = info[5]  # its plan entry, held by this one (no lookup by name)
                            if carried is LATER:  # (declared after this node)
                                carried = fast_get(dep)
                            continue
                        if type(found) is tuple:
                            last = found[1]
                        elif found.status is SUCCEEDED:
                            last = found.value
                        else:
                            ready = False  # a dependency failed or waits: finish() says how
                    else:
                        # Its dependencies are read in order (below), its place kept in ``frame``.
                        frame = [{}, 0, True, 0]
                        frames.append(frame)
                        values = frame[0]
                        deps = info[2]
                        subs = info[4]  # their plan entries, by position
                        i = 0
                        scan = True
                        again = st is not None  # read it again at the end: leaves computed here run user code
                if scan:
                    n_deps = len(deps)
                    while i < n_deps:
                        dep = deps[i]
                        found = sget(dep)
                        if found is not None and (type(found) is tuple or found.status is not STALE):
                            if type(found) is tuple:
                                values[dep] = found[1]
                            elif found.status is SUCCEEDED:
                                values[dep] = found.value
                            else:
                                frame[2] = False  # a dependency failed or waits: finish() says how
                            i += 1
                            continue
                        # To start: computed right here when it is a plain function of one dependency that has
                        # succeeded (a fan's leaves), as its own turn would: the same events and state, no turn.
                        sub = subs[i]  # its plan entry (the plan holds it by position: no lookup by name)
                        if sub is None or sub[3] != 1 or nested or bus.subscribers or bus.lock is not None:
                            break
                        sst = sget(sub[4])
                        if sst is None:
                            break
                        if type(sst) is tuple:
                            arg = sst[1]
                        elif sst.status is SUCCEEDED:
                            arg = sst.value
                        else:
                            break
                        if stamp:
                            record((dep, now))
                            stamp = False
                        else:
                            record(dep)
                        push(sub)  # marked running while its callable runs (the entry names it)
                        try:
                            value = sub[0](arg)
                        except Exception as exc:
                            node = nodes[dep]
                            self.write(node, self.failed(node, wrap_error(exc, ex, node)))
                            now = _now()
                            stamp = True
                            just_name = None
                            frame[2] = False
                        else:
                            now = _now()
                            if type(value) in scalars:  # held compactly (see above), also the node_succeeded record
                                states[dep] = dst = (dep, value, found.version + 1 if found is not None else 1, now)
                                record(dst)
                                values[dep] = value
                            elif type(value) in settled:  # the same, and the record keeps a value alive: say so
                                states[dep] = dst = _new(NodeState, (dep, SUCCEEDED, value, None,
                                                                     found.version + 1 if found is not None else 1,
                                                                     now, None, ()))
                                record(dst)
                                bus.pinned = True
                                values[dep] = value
                            else:  # deferred, one-shot, or a type not seen yet
                                self.write(nodes[dep], self._settle(nodes[dep], value))  # type: ignore[arg-type]
                                stamp = True
                                just_name = None
                                dst = states[dep]
                                if dst.status is SUCCEEDED:
                                    values[dep] = dst.value
                                else:
                                    frame[2] = False  # a dependency failed or waits: finish() says how
                        stack.pop()
                        i += 1
                    if i < n_deps:  # ``dep`` needs a turn of its own (its dependencies first)
                        frame[1] = i
                        if frame[3] == 0:  # the first time: alone, so the ones after it may be computed here
                            frame[3] = 1
                            push(dep)
                            pushed = dep  # the next turn starts it: no need to look its state or plan up again
                            carried = sub
                            continue
                        # again: every one still to start, pushed at once (the first resolves first), read back
                        # together (one turn back here instead of one per dependency)
                        frame[3] = 2
                        missing = [dep]
                        for dep in deps[i + 1:]:
                            found = sget(dep)
                            if found is None or (type(found) is not tuple and found.status is STALE):
                                missing.append(dep)
                        missing.reverse()
                        stack.extend(missing)
                        continue
                    frames.pop()
                    ready = plain and frame[2]
                    if again:  # it had a state when it started, and user code may have run: read it for its version
                        st = states.get(name)
                if not ready:  # the general path: finish() computes it (or says why it cannot)
                    self.finish(name)
                    now = _now()
                    stamp = True
                    just_name = None  # user code ran: read states again
                    stack.pop()  # its mark
                    continue
                # A plain function compute whose dependencies all succeeded: what finish() and write() do.
                try:
                    # By position when the dependencies are exactly the function's parameters (the same call
                    # for Python, without a keyword dictionary): ``last`` is the one dependency's value.
                    # (``values`` is only built for the others.)
                    by_position = info[3]  # type: ignore[index]
                    if by_position == 1:
                        value = info[0](last)  # type: ignore[index]
                    elif by_position:
                        value = info[0](*values.values())  # type: ignore[index]
                    else:
                        value = info[0](**values)  # type: ignore[index]
                except Exception as exc:
                    node = nodes[name]
                    self.write(node, self.failed(node, wrap_error(exc, ex, node)))
                    now = _now()
                    stamp = True
                    just_name = None
                else:
                    now = _now()
                    if type(value) in scalars:
                        # held compactly (see above); also the node_succeeded record, at its ``resolved_at``
                        states[name] = just = (name, value, st.version + 1 if st is not None else 1, now)
                        record(just)
                        just_name = name
                    elif type(value) in settled:  # the same, and the record keeps a value alive: say so
                        states[name] = just = _new(NodeState, (name, SUCCEEDED, value, None,
                                                               st.version + 1 if st is not None else 1, now, None,
                                                               ()))
                        record(just)
                        just_name = name
                        bus.pinned = True
                    else:  # deferred, one-shot, or a type not seen yet
                        self.write(nodes[name], self._settle(nodes[name], value))  # type: ignore[arg-type]
                        stamp = True
                        just_name = None
                stack.pop()  # its mark
        finally:
            # Also on KeyboardInterrupt & co: the nodes this call started stop being "running" with its stack
            # (states keep their last value).
            for i, found_stack in enumerate(active):
                if found_stack is stack:
                    del active[i]
                    break
        return states[target]

    @property
    def running(self) -> set[str]:
        """The nodes started and not finished yet by the resolve calls in progress (a node waiting on its
        dependencies, or being computed), and the nodes threads-runner runs have started and not recorded yet
        (being computed on a worker, or their ``node_started`` being delivered)."""
        found = _marked(list(self._stacks))
        in_flight = self.in_flight
        if in_flight is not None and in_flight.started:
            found.update(in_flight.started.copy())  # (a copy: the runs' threads add and remove nodes meanwhile)
        return found

    def running_inline(self) -> set[str]:
        """``running`` without the threads-runner nodes: the nodes the inline resolve calls in progress started."""
        return _marked(list(self._stacks))

    def _started_outside(self, stack: list[Any]) -> set[str]:
        return _marked([other for other in list(self._stacks) if other is not stack])

    def _reentered(self, name: str) -> ResolutionError:
        """The error for a node asked for again, from inside a node's callable or an event subscriber, while it
        waits for that very callable or subscriber: without it the inner call would start the node again (computing
        it twice; from a callable, without end)."""
        return reentered(self.execution, self.nodes[name])


def reentered(ex: Execution, node: Any, cycle: list[str | int] | None = None) -> ResolutionError:
    """The refusal of a read, from inside a run of ``ex`` (a node's callable, an event subscriber), that needs
    ``node`` while that run has started it and waits for the reader (see ``Resolver._reentered``). ``cycle``
    (threads runner): who waits for whom, from the reader round to it again (a node's name, or a thread's ident
    for a reader outside any node's callable)."""
    name = node.name
    how = ""
    names: list[str] | None = None
    if cycle is not None:
        names = [step for step in cycle if isinstance(step, str)]
    if cycle is not None and len(set(cycle)) > 1:  # (not a node's own callable or subscriber reading it)
        shown = [f"'{step}'" if isinstance(step, str) else "a reader outside the nodes" for step in cycle]
        how = f": {' waits for '.join(shown)}"
    return ResolutionError(
        f"Node '{name}' was asked for while it is being resolved: a node's callable or an event subscriber read "
        f"this contract's own results while it resolves, and they need '{name}', which is still in progress, "
        f"waiting for that reader (a cycle through the contract's results{how}; re-entrant reads of a node in "
        "progress are not allowed: pass the value as a dependency, or read it from a node_succeeded subscriber or "
        "after the run)",
        graph=ex.graph.name, node=name, path=node.path, execution_id=ex.execution_id,
        source_location=node.source_location, cycle=names,
    )
