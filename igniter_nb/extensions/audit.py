"""The audit timeline: an execution's events as a readable history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.events.event import Event

if TYPE_CHECKING:
    import pandas as pd

    from igniter_nb.runtime.execution import Execution

FRAME_COLUMNS = ["seq", "type", "execution_id", "graph", "node", "path", "status", "payload", "timestamp"]


class AuditTimeline:
    """A view of the execution's event log (no copy is kept per event: reading is what costs)."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution

    @property
    def events(self) -> list[Event]:
        return list(self.execution.bus.events)

    def __len__(self) -> int:
        return len(self.execution.bus.events)

    def __iter__(self) -> Any:
        return iter(list(self.execution.bus.events))

    def __repr__(self) -> str:
        return f"<AuditTimeline {self.execution.graph.name} {self.execution.execution_id}: {len(self)} events>"

    def snapshot(self) -> dict[str, Any]:
        """Events, current node states and the children's timelines as JSON data: values and payloads by the
        server's rule (datetimes as ISO text, non-finite floats as ``"NaN"``, other objects as ``str()``,
        nesting past 200 levels cut off as ``"..."``; docs/events.md)."""
        from igniter_nb.diagnostics.json_safe import json_safe
        from igniter_nb.settings import without_url_passwords

        # shown: a remote node's URL without its password (the log and the stored snapshot keep it)
        return json_safe(without_url_passwords(self._plain()))  # type: ignore[no-any-return]

    def _plain(self) -> dict[str, Any]:
        from igniter_nb.diagnostics.states import states_view

        ex = self.execution
        children = []
        for name, child in ex.children.instances.items():
            children.append({"node": name, "snapshot": child.audit._plain()})
        return {
            "execution_id": ex.execution_id,
            "graph": ex.graph.name,
            "event_count": len(ex.bus.events),
            "events": [e.to_dict() for e in ex.bus.events],
            "states": states_view(ex),
            "children": children,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per event; columns: seq, type, execution_id, graph, node, path, status, payload (JSON text),
        timestamp (UTC)."""
        from igniter_nb.notebook.frames import audit_frame

        return audit_frame(self.execution)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import timeline_mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        return timeline_mimebundle(self)
