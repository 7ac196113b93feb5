"""The reactive engine: runs a contract's ``effect``/``react_to``/``on_success``/``on_failure``/``on_exit``.

Callbacks get only the keyword arguments they declare (or all with ``**kwargs``): ``event``, ``contract``,
``execution``, ``value``, ``status``, ``error``, ``errors``, ``output``. Errors they raise are kept in
``contract.reaction_errors`` and never break the run.
"""

from __future__ import annotations

import difflib
import inspect
import weakref
from dataclasses import dataclass
from typing import Any

from igniter_nb.events.event import Event
from igniter_nb.model import Reaction
from igniter_nb.runtime.execution import reacting
from igniter_nb.runtime.states import named_states_now
from igniter_nb.runtime.status import FAILED, Status


@dataclass(frozen=True, slots=True)
class ReactionError:
    """A callback (reaction or subscriber) raised while handling ``event``."""

    event: Event
    reaction: Any
    error: BaseException

    def to_dict(self) -> dict[str, Any]:
        action = self.reaction.action if isinstance(self.reaction, Reaction) else self.reaction
        name = getattr(action, "__name__", None)
        if not isinstance(name, str):  # a callable object: its repr, not the whole reaction's
            try:
                name = repr(action)
            except Exception:
                name = f"<{type(action).__name__}>"
        return {"event": self.event.type, "seq": self.event.seq, "reaction": name,
                "error": f"{type(self.error).__name__}: {self.error}"}


_LIFECYCLE_KINDS = frozenset({"on_success", "on_failure", "on_exit"})

#: Every event type igniter_nb emits (docs/events.md and the pages of the features that add some).
EVENT_TYPES = frozenset({
    "execution_started", "execution_finished", "execution_failed", "input_updated",
    "node_started", "node_succeeded", "node_failed", "node_pending", "node_waiting", "node_resumed",
    "node_invalidated", "child_replaced", "branch_selected",
    "collection_item_started", "collection_item_succeeded", "collection_item_pending", "collection_item_failed",
    "llm_call", "llm_tool_round", "llm_tool_results",
    "workflow_started", "workflow_waiting", "workflow_resumed", "workflow_succeeded", "workflow_failed",
    "workflow_cancelled", "workflow_timed_out", "workflow_retried", "workflow_migrated",
    "graph_changed", "external_event_received", "await_satisfied", "await_timed_out",
    "remote_called", "remote_resumed", "callback_registered", "callback_sent", "callback_failed",
})
#: A reaction's event type starting like this must be one of EVENT_TYPES: anything else there is a typo
#: (``node_success``) that would never fire. Other names are events of the user's own.
_RESERVED_PREFIXES = tuple(sorted({t.split("_")[0] + "_" for t in EVENT_TYPES}))

#: The keywords each kind of callback may declare (``call_with_declared`` passes the ones it declares).
OFFERED_KEYWORDS: dict[str, tuple[str, ...]] = {
    "react_to": ("event", "contract", "execution", "value", "status"),
    "effect": ("event", "contract", "execution", "value", "status"),
    "on_success": ("event", "contract", "execution", "value", "output", "status"),
    "on_failure": ("event", "contract", "execution", "status", "errors", "error"),
    "on_exit": ("event", "contract", "execution", "status", "errors", "error"),
}


def event_type_problem(event_type: Any) -> str | None:
    """Why ``event_type`` cannot be a reaction's event type, or None when it can."""
    if not isinstance(event_type, str) or not event_type:
        return f"the event type must be a non-empty string, got {event_type!r}"
    if event_type in EVENT_TYPES or not event_type.strip().startswith(_RESERVED_PREFIXES):
        return None
    close = difflib.get_close_matches(event_type.strip(), sorted(EVENT_TYPES), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (f"{event_type!r} is no event type igniter_nb emits, so the reaction would never fire{hint} "
            "(see docs/events.md; an event of your own needs a name not starting like the built-in ones: "
            f"{', '.join(_RESERVED_PREFIXES)})")


def callback_problem(kind: str, fn: Any) -> str | None:
    """Why ``fn`` cannot be called as a ``kind`` callback (not callable, or requiring a keyword that is never
    passed), or None when it can (also when its signature cannot be read)."""
    if not callable(fn):
        return f"the callback must be callable, got {fn!r}"
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    offered = OFFERED_KEYWORDS[kind]
    never = [p.name for p in params if p.default is p.empty
             and (p.kind is p.POSITIONAL_ONLY or (p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                                                  and p.name not in offered))]
    if not never:
        return None
    name = getattr(fn, "__name__", repr(fn))
    return (f"callback {name} requires {', '.join(repr(n) for n in never)}, which a {kind} callback is never "
            f"given: it gets the keywords it declares among {', '.join(offered)} (or all with **kwargs); "
            "give other parameters a default")

# By callback, weakly: a contract class nobody uses any more is freed with its callbacks.
_signature_cache: weakref.WeakKeyDictionary[Any, tuple[bool, frozenset[str]]] = weakref.WeakKeyDictionary()


def _declared(fn: Any) -> tuple[bool, frozenset[str]]:
    params = inspect.signature(fn).parameters.values()
    any_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    return any_kw, frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))


def call_with_declared(fn: Any, offered: dict[str, Any]) -> Any:
    """Call ``fn`` with the offered keywords it declares (all of them if it takes ``**kwargs``)."""
    try:
        info = _signature_cache.get(fn)
        if info is None:
            info = _signature_cache[fn] = _declared(fn)
    except TypeError:  # a callable that cannot be hashed or weakly referenced: read its signature each time
        info = _declared(fn)
    any_kw, names = info
    return fn(**(offered if any_kw else {k: v for k, v in offered.items() if k in names}))


class ReactiveEngine:
    """Subscribed to one contract's event bus; dispatches its class's reactions."""

    def __init__(self, contract: Any, reactions: tuple[Reaction, ...]) -> None:
        self.contract = contract
        self.reactions = reactions
        self.errors: list[ReactionError] = []
        self.fired: set[int] = set()
        self.exit_status: dict[int, Status] = {}
        types = {r.event_type for r in reactions}
        if any(r.kind in _LIFECYCLE_KINDS for r in reactions):
            types |= {"execution_finished", "execution_failed"}
        self._types = frozenset(types)

    def __call__(self, event: Event) -> None:
        if event.type not in self._types:
            return
        lifecycle_event = event.type in ("execution_finished", "execution_failed")
        # The end of a lifecycle nested in another (a callback reading an output that needs work) is not the end
        # of a run: on_success/on_failure/on_exit follow the outermost one only. A nested read that failed (a
        # reaction reading a node that waits for it) would otherwise report a failed run that then succeeds.
        nested = lifecycle_event and self.contract.execution.lifecycle_depth > 1
        for index, reaction in enumerate(self.reactions):
            if reaction.kind in _LIFECYCLE_KINDS:
                if not lifecycle_event or nested:
                    continue
            elif reaction.event_type != event.type:
                continue
            if reaction.path is not None and reaction.path != event.path:
                continue
            execution = self.contract.execution
            try:
                with reacting(execution):  # this thread may change inputs mid-lifecycle (targets are read again)
                    self._dispatch(index, reaction, event)
            except Exception as exc:
                self.errors.append(ReactionError(event, reaction, exc))

    def _dispatch(self, index: int, reaction: Reaction, event: Event) -> None:
        contract = self.contract
        execution = contract.execution
        base: dict[str, Any] = {"event": event, "contract": contract, "execution": execution}
        status = Status(event.payload.get("status", "succeeded")) if event.type.startswith("execution_") else None
        kind = reaction.kind
        if kind == "on_success":
            # Fires once the whole execution really succeeded — also later, after a resume (L-13).
            if index in self.fired or status is not Status.SUCCEEDED or execution.status_of() is not Status.SUCCEEDED:
                return
            self.fired.add(index)
            target = reaction.target
            value = execution.output_value(target) if execution.graph.has_output(target) else execution.states[target].value
            call_with_declared(reaction.action, {**base, "value": value, "output": target, "status": status})
            return
        if kind in ("on_failure", "on_exit"):
            status = execution.status_of() if status is not FAILED else FAILED
            errors = {n: st.error for n, st in named_states_now(execution.states).items() if st.status is FAILED}
            offered = {**base, "status": status, "errors": errors, "error": next(iter(errors.values()), None)}
            if kind == "on_failure":
                if status is FAILED and index not in self.fired:
                    self.fired.add(index)
                    call_with_declared(reaction.action, offered)
                elif status is not FAILED:
                    self.fired.discard(index)  # a later, new failure is reported again
                return
            # on_exit reports each run's end honestly (pending/waiting too), once per distinct status in a row.
            if self.exit_status.get(index) is status:
                return
            self.exit_status[index] = status
            call_with_declared(reaction.action, offered)
            return
        if reaction.once_per_execution:
            if index in self.fired:
                return
            self.fired.add(index)
        value = None
        if event.node is not None and event.type in ("node_succeeded", "node_resumed", "node_pending", "node_waiting"):
            st = execution.states.get(event.node)
            value = st.value if st is not None else None
        call_with_declared(reaction.action, {**base, "value": value, "status": event.status})
