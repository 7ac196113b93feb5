"""The reactive engine: runs a contract's ``effect``/``react_to``/``on_success``/``on_failure``/``on_exit``.

Callbacks get only the keyword arguments they declare (or all with ``**kwargs``): ``event``, ``contract``,
``execution``, ``value``, ``status``, ``error``, ``errors``, ``output``. Errors they raise are kept in
``contract.reaction_errors`` and never break the run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from igniter_nb.events.event import Event
from igniter_nb.model import Reaction
from igniter_nb.runtime.status import FAILED, Status


@dataclass(frozen=True, slots=True)
class ReactionError:
    """A callback (reaction or subscriber) raised while handling ``event``."""

    event: Event
    reaction: Any
    error: BaseException

    def to_dict(self) -> dict[str, Any]:
        name = getattr(getattr(self.reaction, "action", self.reaction), "__name__", repr(self.reaction))
        return {"event": self.event.type, "seq": self.event.seq, "reaction": name,
                "error": f"{type(self.error).__name__}: {self.error}"}


_LIFECYCLE_KINDS = frozenset({"on_success", "on_failure", "on_exit"})

_signature_cache: dict[Any, tuple[bool, frozenset[str]]] = {}


def call_with_declared(fn: Any, offered: dict[str, Any]) -> Any:
    """Call ``fn`` with the offered keywords it declares (all of them if it takes ``**kwargs``)."""
    info = _signature_cache.get(fn)
    if info is None:
        params = inspect.signature(fn).parameters.values()
        any_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        names = frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        info = _signature_cache[fn] = (any_kw, names)
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
            try:
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
            errors = {n: st.error for n, st in execution.states.items() if st.status is FAILED}
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
