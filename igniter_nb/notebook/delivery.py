"""What the EventSimulator reports: ``DeliveryPreview`` (a dry run, nothing written) and ``Delivery`` (the receipt
of a real delivery: event, workflow, status before and after, what recomputed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.notebook import html as h
from igniter_nb.notebook.html import escape

_MESSAGE = "font-family:Helvetica,Arial,sans-serif;font-size:12px;border-radius:4px;padding:3px 6px;margin:3px 0"


@dataclass(frozen=True, slots=True)
class DeliveryPreview:
    """What ``EventSimulator.dry_run()`` found; nothing was written.

    ``execution_id`` — the active workflow the correlation matches (None if none); ``await_node`` — the node the
    event binds to; ``would_recompute`` — the await's downstream nodes not yet succeeded (resolution order);
    ``errors`` — ``{"type", "message"}`` per problem (plus ``nearest`` for ``WorkflowNotFoundError``), the errors
    ``deliver`` would raise; ``idempotent`` — the
    event was already delivered with this idempotency key, so ``deliver`` returns the workflow unchanged.
    With ``simulate=True``: ``status_after`` and ``changes`` (``{node: (before, after)}``) from a throw-away copy.
    """

    graph: str
    event: str | None
    correlation: Mapping[str, Any] | None
    execution_id: str | None = None
    await_node: str | None = None
    status_before: str | None = None
    would_recompute: tuple[str, ...] = ()
    payload: Any = None
    errors: tuple[Mapping[str, Any], ...] = ()
    idempotent: bool = False
    status_after: str | None = None
    changes: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether ``deliver`` would accept the event."""
        return not self.errors

    @property
    def error(self) -> str | None:
        """The first error as ``Type: message`` (None when ``ok``)."""
        return f"{self.errors[0]['type']}: {self.errors[0]['message']}" if self.errors else None

    def to_dict(self) -> dict[str, Any]:
        return {"graph": self.graph, "event": self.event, "correlation": dict(self.correlation or {}),
                "execution_id": self.execution_id, "await_node": self.await_node,
                "status_before": self.status_before, "would_recompute": list(self.would_recompute),
                "payload": plain(self.payload), "ok": self.ok, "errors": [dict(e) for e in self.errors],
                "idempotent": self.idempotent, "status_after": self.status_after,
                "changes": {k: list(v) for k, v in self.changes.items()}}

    def to_text(self) -> str:
        head = f"dry run: {self.event} -> {self.graph} {pairs(self.correlation)}"
        lines = [head + (" — would deliver" if self.ok else " — would be rejected")]
        lines.append(f"  matched execution: {self.execution_id or 'none'} ({self.status_before or '-'})")
        if self.await_node:
            lines.append(f"  await node: {self.await_node}")
        lines.append(f"  would recompute: {', '.join(self.would_recompute) or 'nothing'}")
        if self.idempotent:
            lines.append("  already delivered with this idempotency key: deliver returns the workflow unchanged")
        if self.status_after:
            lines.append(f"  status after: {self.status_after}")
        lines.extend(f"  {name}: {old} -> {new}" for name, (old, new) in self.changes.items())
        lines.extend(f"  error {e['type']}: {cut_text(str(e['message']), h.OPEN_LIMIT, say_how_much=True)}"
                     for e in self.errors)
        lines.append("  (nothing written)")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows: list[list[Any]] = [
            ["event", self.event or "—"], ["correlation", pairs(self.correlation) or "—"],
            ["matched execution", self.execution_id or "none"], ["status now", self.status_before or "—"],
            ["await node", self.await_node or "—"],
            ["would recompute", ", ".join(self.would_recompute) or "nothing"],
        ]
        if self.idempotent:
            rows.append(["idempotent", "already delivered with this key: deliver returns it unchanged"])
        if self.status_after:
            rows.append(["status after", self.status_after])
        verdict = "would deliver" if self.ok else "would be rejected"
        parts = [h.heading(f"Dry run {self.graph}", "ready" if self.ok else "failed", f"{verdict} · nothing written"),
                 h.table(rows, ["", "value"], status_column=None)]
        if self.changes:
            parts.append(h.table(([k, a, b] for k, (a, b) in self.changes.items()), ["node", "before", "after"],
                                 status_column="after"))
        parts.extend(error_html(e["type"], e["message"]) for e in self.errors)
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return h.sendable({"text/plain": self.to_text(), "text/html": self.to_html()})  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Delivery:
    """The receipt of ``EventSimulator.deliver()``: ``event`` went to the ``graph`` workflow ``execution_id``
    (``correlation``), was received by ``await_node``; the workflow went from ``status_before`` to
    ``status_after``; ``recomputed`` lists the nodes that ran because of it and finished (succeeded or failed; in
    resolution order, the await excluded); ``waiting_for`` the events the workflow still awaits; ``idempotent`` —
    it had been delivered with this idempotency key before, so nothing changed."""

    graph: str
    event: str
    correlation: Mapping[str, Any]
    execution_id: str
    await_node: str | None
    status_before: str | None
    status_after: str | None
    recomputed: tuple[str, ...] = ()
    waiting_for: tuple[str, ...] = ()
    idempotent: bool = False

    def to_text(self) -> str:
        head = f"delivered {self.event} to {self.graph} {pairs(self.correlation)}".rstrip()
        if self.idempotent:
            return f"{head}: already delivered with this idempotency key — nothing changed ({self.status_after})"
        moved = f"{self.status_before} → {self.status_after}" if self.status_before != self.status_after \
            else f"still {self.status_after}"
        received = f"received by {self.await_node}; " if self.await_node else ""
        waits = f"; still waits for {', '.join(self.waiting_for)}" if self.waiting_for else ""
        return f"{head}: {moved} ({received}recomputed: {', '.join(self.recomputed) or 'nothing'}{waits})"

    def to_html(self) -> str:
        text = self.to_text()
        return (f'<div style="{_MESSAGE};color:#14532d;background:#dcfce7;border:1px solid #86efac{h.wrap_style(text)}">'
                f"✓ {escape(text)}</div>")

    def to_dict(self) -> dict[str, Any]:
        return {"graph": self.graph, "event": self.event, "correlation": dict(self.correlation),
                "execution_id": self.execution_id, "await_node": self.await_node,
                "status_before": self.status_before, "status_after": self.status_after,
                "recomputed": list(self.recomputed), "waiting_for": list(self.waiting_for),
                "idempotent": self.idempotent}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return h.sendable({"text/plain": self.to_text(), "text/html": self.to_html()})  # type: ignore[no-any-return]


def pairs(correlation: Mapping[str, Any] | None) -> str:
    """``key=value, …`` of a correlation, each value cut at ``h.MAX_CELL`` characters (saying how much more): a
    correlation value of a megabyte made every heading and line of the simulator that names it a megabyte."""
    return ", ".join(f"{k}={cut_text(_text(v), h.MAX_CELL, say_how_much=True)}" for k, v in (correlation or {}).items())


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float | bool) or value is None else h.text_of(value)


def plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def error_html(kind: str, message: str) -> str:
    """An error message box; a multi-line message (a JSON error with its line and caret) keeps its lines. Both are
    cut (``h.OPEN_LIMIT`` characters, saying how much more): a server's refusal may be as long as it likes, and the
    widget's value is sent to the browser whole (``last_error`` keeps the whole text)."""
    kind = cut_text(kind, h.MAX_CELL, say_how_much=True)
    message = cut_text(message, h.OPEN_LIMIT, say_how_much=True)
    first, _, rest = message.partition("\n")
    body = f"<b>{escape(kind)}</b>: {escape(first)}"
    if rest:
        wrap = ";white-space:pre-wrap" if any(len(line) > h.PRE_LINE for line in rest.splitlines()) else ""
        body += f'<pre style="margin:2px 0 0 0;font-size:12px{wrap}">{escape(rest)}</pre>'
    return (f'<div style="{_MESSAGE};color:#991b1b;background:#fee2e2;border:1px solid #fca5a5'
            f'{h.wrap_style(message)}">{body}</div>')


def note_html(text: str) -> str:
    """A neutral note (what to send for an event without a schema, why Deliver is off)."""
    return (f'<div style="{_MESSAGE};color:#1e3a8a;background:#eff6ff;border:1px solid #bfdbfe{h.wrap_style(text)}">'
            f"{escape(text)}</div>")


def error_record(exc: BaseException) -> dict[str, Any]:
    """``{"type", "message"}`` of an error, plus ``nearest`` (the closest active correlations) when it has them. A
    server's error (``ig.server.RemoteError``) is recorded as the server's own error class and words, so a
    delivery refused over HTTP reads like one refused in this process."""
    body = getattr(exc, "body", None)
    server_type, server_message = getattr(exc, "error_type", None), getattr(exc, "server_message", None)
    if isinstance(server_type, str) and isinstance(server_message, str):
        record: dict[str, Any] = {"type": server_type, "message": server_message}
        nearest = body.get("nearest") if isinstance(body, Mapping) else None
        if nearest:
            record["nearest"] = list(nearest)
        return record
    message = getattr(exc, "message", None)
    record = {"type": type(exc).__name__, "message": message if isinstance(message, str) and message else str(exc)}
    nearest = (getattr(exc, "context", None) or {}).get("nearest")
    if nearest:
        record["nearest"] = list(nearest)
    return record


__all__ = ["Delivery", "DeliveryPreview", "error_html", "error_record", "note_html", "pairs", "plain"]
