"""Completing deliveries: a delivery that makes dependents ready, applied to the stored record.

The delivery that completes a join (BenchPair's second, the 40th of 40 documents) takes the general path
(``workflow/engine.py``): restore the whole contract, resume the await, invalidate and re-resolve its
dependents, build a whole new snapshot. :func:`deliver_completing` makes the same change on the stored record, as
``workflow/quiet.py`` does for a delivery that runs nothing: it calls the dependents that became ready with
their dependencies' stored values (plain data, passed as the very objects the general path's restore would pass),
encodes what they return, sets the await's state and each dependent's, the workflow record and its status as
``refresh_status`` leaves it, appends exactly the events the general path records (same kinds, order, fields,
payloads), and saves with the same compare-and-set.

What is eligible is decided before any user code runs, and answered ``(None, None)`` otherwise (nothing called,
nothing written: the general path then does what it always did). Per graph and await, on top of
:func:`quiet.plan_for`'s plan (inputs, plain function computes and awaits only, no reactions, the await's
dependents read only by outputs and not by each other): each dependent is a plain function compute (not a guard,
const, executor, method or object). Per record: :func:`quiet.record_checks`' form, every state ``succeeded`` or
``waiting``, the await waits, each dependent either becomes ready (every other dependency succeeded) or waits
again, at least one becomes ready, and every value a ready dependent is called with — the payload too — is plain
data (what a restore shares with the record rather than decodes).

Once a dependent has been called, the delivery cannot go back: an outcome this module does not store itself — an
exception, a pending value, a one-shot iterator, a value the codec cannot store, an argument changed in place
into something not plain, a snapshot that would not restore as it is — is handed to the general path
(:class:`Handover`): the contract it restores from the same record calls, instead of each such dependent, a stand-in
that returns (or raises) what the dependent did. So no dependent is called twice for one record, and the general
path records the outcome as it always does (``node_failed``, the error's encoding, the workflow failed). A save that
loses its race raises ``ConcurrencyError`` (nothing written): another writer saved since the record was read, so the
general path could only lose again on it; ``deliver_event`` reads the record again and the dependents are called
again on what it reads — as after a lost race of the general path.

``GENERAL_ONLY`` (tests only) sends every delivery down the general path (``quiet.GENERAL_ONLY`` does too).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import IgniterError
from igniter_nb.runtime import codec
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.steps import _SETTLED_TYPES, one_shot_kind
from igniter_nb.workflow import applied_save, quiet
from igniter_nb.workflow.quiet import (
    READY,
    appended_events,
    delivered_workflow,
    head_events,
    log_end,
    plan_for,
    record_checks,
    wait_of,
    waiting_states,
)

GENERAL_ONLY = False  # tests: every delivery takes the general path (the differential tests compare the two)

_TAG = codec.TAG
_SCALARS = (str, int, bool, type(None))
_SETTLED_STATES = frozenset({"succeeded", "waiting"})


class _Call:
    """How the general path calls one dependent: its callable, its dependencies in the order it reads them, and
    how it passes them (the resolver's fast plan: 1 its one dependency by position, 2 all by position, 0 by
    keyword; a compute the fast plan does not hold is called by keyword, ``NodeSteps._compute``)."""

    __slots__ = ("by_position", "callable", "deps", "name", "path", "value_path")

    def __init__(self, graph: Any, name: str) -> None:
        node = graph.nodes_by_name[name]
        entry = graph.fast_plan.get(name)
        self.name = name
        self.path = node.path
        self.value_path = f"states.{name}.value"  # (where an error encoding its value points)
        self.callable = node.callable
        if entry is None:
            self.deps = tuple(graph.dep_roots[name])
            self.by_position = 0
        else:
            self.deps = tuple(entry[2])
            self.by_position = entry[3]

    def __call__(self, values: list[Any]) -> Any:
        if self.by_position == 1:
            return self.callable(values[0])
        if self.by_position:
            return self.callable(*values)
        return self.callable(**dict(zip(self.deps, values, strict=True)))


def _calls_for(graph: Any, plan: Any) -> dict[str, _Call] | None:
    """``{dependent: _Call}`` for a completing delivery to ``plan``'s await, or None when a dependent is more than
    a plain function compute; kept per graph with the quiet plan it extends."""
    cache = graph.runtime_cache.setdefault("completing_calls", {})
    found = cache.get(plan.await_name)
    if found is not None and found[0] is plan:
        return found[1]  # type: ignore[no-any-return]
    calls: dict[str, _Call] | None = {}
    for name in plan.dependents:
        node = graph.nodes_by_name[name]
        if node.kind != "compute" or node.callable_kind != "function" or node.role != "compute":
            calls = None
            break
        call = _Call(graph, name)
        if set(call.deps) != set(graph.dep_roots[name]) or len(call.deps) != len(graph.dep_roots[name]):
            calls = None
            break
        calls[name] = call  # type: ignore[index]
    cache[plan.await_name] = (plan, calls)
    return calls


# ---------------------------------------------------------------------------- the delivery
def deliver_completing(cls: Any, graph: Any, node: Any, store: Any, corr: dict[str, Any], event: str, value: Any,
                       key: str | None, digest: str | None, received_at: str, updated_at: str,
                       record: Any, *, saved_at: str | None = None) -> tuple[Any, Handover | None]:
    """``(contract, None)`` after delivering ``event`` (validated payload ``value``) to ``record`` (the active
    workflow, just read) as a completing delivery, saved; ``(None, None)`` when it is not one (nothing called,
    nothing written); ``(None, handover)`` when dependents were called but their outcome is for the general path
    to record (it installs ``handover`` on the contract it restores from ``record``). ``ConcurrencyError`` when
    the save lost a race (nothing written: read the record again)."""
    if GENERAL_ONLY or quiet.GENERAL_ONLY or digest is None:
        return None, None
    plan = plan_for(cls, graph, node)
    if plan is None:
        return None, None
    calls = _calls_for(graph, plan)
    if calls is None:
        return None, None
    try:
        found = _eligible(plan, calls, cls, record, corr, event, value, key, digest, store)
    except (IgniterError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
        return None, None  # (the general path reports what is wrong with it, if anything)
    if found is None:
        return None, None
    ready, checked = found
    # From here user code runs: every way out either saves the delivery or hands the outcomes over.
    outcomes: dict[str, tuple[bool, Any]] = {}
    for call, args in ready:
        try:
            outcomes[call.name] = (True, call(args))
        except Exception as exc:  # (BaseException escapes, as from the general path's resolver: nothing saved)
            outcomes[call.name] = (False, exc.with_traceback(_from_the_dependent(exc.__traceback__)))
    handover = Handover(record, outcomes)
    try:
        snapshot = _apply(plan, record, checked, ready, outcomes, corr, event, value, key, digest, received_at,
                          updated_at, store, saved_at)
    except Exception:
        return None, handover
    if snapshot is None:
        return None, handover
    contract = applied_save.saved_contract(cls, graph, plan, snapshot, store, record, snapshot["workflow"]["status"],
                                           corr)
    return (contract, None) if contract is not None else (None, handover)


def _from_the_dependent(tb: Any) -> Any:
    """``tb`` without its first frames that are this module's (``deliver_completing``, ``_Call``): the error a
    dependent raised is recorded by the general path as if it had called it (``Handover``), and a frame of this
    delivery kept in its traceback would keep the record, the outcomes and the handover alive with the error."""
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb


def _eligible(plan: Any, calls: Mapping[str, _Call], cls: Any, record: Any, corr: dict[str, Any], event: str,
              value: Any, key: str | None, digest: str,
              store: Any) -> tuple[list[tuple[_Call, list[Any]]], tuple[Any, ...]] | None:
    """``(the ready dependents in the order the general path resolves them, each with the values it is called
    with; what quiet.record_checks found)``, or None when this delivery is not a completing delivery this module
    applies (decided before any call)."""
    snap = record.snapshot
    states = waiting_states(plan, record)
    if states is None:
        return None
    ready: list[_Call] = []
    for name, _ in plan.started:  # (every dependent is a target: quiet's plan; in the order they resolve)
        found = wait_of(plan, states, name)
        if found is None:
            return None
        if found is READY:
            ready.append(calls[name])
    if not ready:
        return None  # (nothing runs: a quiet delivery, or one the general path decides)
    checked = record_checks(plan, cls, record, corr, event, key, digest)
    if checked is None:
        return None
    for data in states.values():
        if data["status"] not in _SETTLED_STATES:
            return None  # (pending, failed, stale or running somewhere: the general path)
    if not codec.is_plain(value) or not codec.is_plain(snap["workflow"].get("correlation")):
        return None
    if log_end(snap["events"], store) is None:
        return None
    called = []
    for call in ready:
        args = []
        for dep in call.deps:
            if dep == plan.await_name:
                args.append(value)  # (the payload itself, as ``resume`` gives it)
                continue
            stored = states[dep]["value"]  # (succeeded: wait_of)
            if type(stored) not in _SCALARS and not codec.is_plain(stored):
                return None  # (a tagged value a restore decodes into a new object: the general path)
            args.append(stored)
        called.append((call, args))
    return called, checked


def _apply(plan: Any, record: Any, checked: tuple[Any, ...], ready: list[tuple[_Call, list[Any]]],
           outcomes: Mapping[str, tuple[bool, Any]], corr: dict[str, Any], event: str, value: Any, key: str | None,
           digest: str, received_at: str, updated_at: str, store: Any,
           saved_at: str | None = None) -> dict[str, Any] | None:
    """The next snapshot of ``record`` with the outcomes of the ready dependents, or None when an outcome is one
    for the general path to record (see the module's docstring)."""
    snap = record.snapshot
    states = snap["states"]
    node_name = plan.await_name
    encoded_results: dict[str, Any] = {}
    for call, args in ready:
        ok, result = outcomes[call.name]
        if not ok:
            return None  # (node_failed, the error's encoding, the workflow failed: the general path)
        if type(result) not in _SETTLED_TYPES and (isinstance(result, DeferredResult) or one_shot_kind(result)):
            return None  # (pending, or a one-shot value refused: the general path; as NodeSteps._settle asks)
        encoded_results[call.name] = codec.encode(result, node=call.name, path=call.value_path)
        for arg in args:  # an argument changed in place must still be the plain data a save shares
            if type(arg) not in _SCALARS and not codec.is_plain(arg):
                return None
    runner, inputs, wf, signals, bound = checked
    # ``value``, the delivery's own copy of the payload (``payloads.validate_payload``), is stored as it is: every
    # ready dependent reads the await, so the loop above found it still plain after the calls (a dependent may
    # change it in place, as on the general path, which stores what it became)
    encoded = value
    now = time.time()
    new_states = dict(states)
    new_states[node_name] = {"status": "succeeded", "version": states[node_name]["version"] + 1,
                             "resolved_at": now, "invalidated_by": None, "waiting_for": [], "value": encoded,
                             "error": None}
    emitted_nodes: list[tuple[Any, ...]] = []
    for name, dpath in plan.started:
        emitted_nodes.append(("node_started", name, dpath, "running", {}))
        if name in encoded_results:
            new_states[name] = {"status": "succeeded", "version": states[name]["version"] + 2, "resolved_at": now,
                                "invalidated_by": None, "waiting_for": [], "value": encoded_results[name],
                                "error": None}
            emitted_nodes.append(("node_succeeded", name, dpath, "succeeded", {}))
            continue
        deferred, waiting_for = wait_of(plan, states, name)
        new_states[name] = {"status": "waiting", "version": states[name]["version"] + 2, "resolved_at": now,
                            "invalidated_by": None, "waiting_for": list(waiting_for),
                            "value": {_TAG: "deferred", "value": {**deferred, "payload": dict(deferred["payload"])}},
                            "error": None}
        emitted_nodes.append(("node_waiting", name, dpath, "waiting", {**deferred, "waiting_for": list(waiting_for)}))
    # statuses as status_of finds them: every state is succeeded or waiting (_eligible)
    status = targets_status = "succeeded"  # (loops, not any() over generators: every completing delivery asks)
    for st in new_states.values():
        if st["status"] == "waiting":
            status = "waiting"
            break
    for t in plan.targets:
        if new_states[t]["status"] == "waiting":
            targets_status = "waiting"
            break
    workflow, order = delivered_workflow(wf, signals, node_name, event, corr, key, digest, received_at, updated_at,
                                         status)
    raw = snap["events"]
    last_seq = log_end(raw, store)
    if last_seq is None:
        return None
    emitted = head_events(plan, event, corr, key, order)
    emitted.extend(emitted_nodes)
    emitted.append(("execution_finished", None, None, targets_status,
                    {"graph": plan.graph_name, "targets": list(plan.targets), "status": targets_status}))
    if status == "succeeded":
        emitted.append(("workflow_succeeded", None, None, "succeeded",
                        {"correlation": codec.plain_copy(wf["correlation"])}))
    else:
        waiting_on = [{"node": n, "event": e} for n, e in plan.awaits
                      if (st := new_states.get(n)) is not None and st["status"] == "waiting"]
        emitted.append(("workflow_waiting", None, None, "waiting", {"waiting_on": waiting_on}))
    return applied_save.next_snapshot(plan, record, status, runner, inputs, new_states,
                                      appended_events(raw, last_seq, record.execution_id, emitted, now), bound,
                                      workflow, saved_at)


# ---------------------------------------------------------------------------- handing over to the general path
class Handover:
    """What the ready dependents returned or raised, for the general path to record when this module does not:
    :meth:`install` makes the contract restored from the same record call, instead of each of them, a stand-in
    that gives that outcome (once; the dependent itself after)."""

    __slots__ = ("outcomes", "record")

    def __init__(self, record: Any, outcomes: dict[str, tuple[bool, Any]]) -> None:
        self.record = record
        self.outcomes = outcomes

    def install(self, execution: Any, record: Any) -> None:
        """Give ``execution`` (restored from ``record``) the outcomes; nothing when ``record`` is another read."""
        if record is not self.record or not self.outcomes:
            return
        resolver = execution.resolver
        fast, nodes = resolver.fast, resolver.nodes
        left = [len(self.outcomes)]
        held = weakref.ref(resolver)  # (the stand-ins sit in the resolver: no reference cycle through them)

        def done() -> None:
            left[0] -= 1
            found = held()
            if left[0] == 0 and found is not None:  # every outcome given: the resolver as it was (a later run
                found.fast, found.nodes = fast, nodes  # calls the dependents themselves)

        resolver.fast = {k: v for k, v in fast.items() if k not in self.outcomes}  # (their turn: NodeSteps.finish)
        resolver.nodes = {**nodes, **{name: _Replayed(nodes[name], outcome, done)
                                      for name, outcome in self.outcomes.items()}}
        self.outcomes = {}


class _Replayed:
    """A compute node whose callable gives, the first time, the outcome its callable already had."""

    __slots__ = ("_done", "_node", "_outcome")

    def __init__(self, node: Any, outcome: tuple[bool, Any], done: Any) -> None:
        self._node = node
        self._outcome: tuple[bool, Any] | None = outcome
        self._done = done

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._node, attr)

    @property
    def callable(self) -> Any:
        return self._replay

    def _replay(self, *args: Any, **kwargs: Any) -> Any:
        outcome = self._outcome
        if outcome is None:
            return self._node.callable(*args, **kwargs)
        self._outcome = None
        self._done()
        ok, result = outcome
        del outcome
        if ok:
            return result
        try:
            raise result
        finally:
            del result  # (this frame, now in the error's traceback, does not hold the error: no cycle)


__all__ = ["GENERAL_ONLY", "Handover", "deliver_completing"]
