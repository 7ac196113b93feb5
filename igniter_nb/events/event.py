"""Event records."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from igniter_nb._shown_repr import bounded_repr
from igniter_nb.settings import without_url_passwords


class Event(NamedTuple):
    """One thing that happened in an execution. ``seq`` is monotonic per execution (1, 2, 3, ...).

    ``node``/``path`` are ``None`` for execution-level events; ``timestamp`` is a POSIX time (``.at`` gives an
    aware UTC datetime). Immutable; a named tuple because every node resolution emits two of these.
    """

    seq: int
    type: str
    execution_id: str
    node: str | None = None
    path: str | None = None
    status: str | None = None
    payload: Any = None
    timestamp: float = 0.0

    def __repr__(self) -> str:
        """The named tuple's text, with the password of a remote node's URL in the payload as ``***``
        (``settings.without_url_passwords``): a repr lands in logs and tracebacks; ``payload`` keeps it. Each field
        by ``bounded_repr``: a payload whose ``repr`` raises or is megabytes is shown as such, cut."""
        shown = (*self[:6], without_url_passwords(self.payload), self.timestamp)
        return f"Event({', '.join(f'{n}={bounded_repr(v)}' for n, v in zip(self._fields, shown, strict=True))})"

    @property
    def at(self) -> dt.datetime:
        """``timestamp`` as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC)

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-safe data (status as text, timestamp as ISO-8601 UTC); ``from_dict`` reads it back."""
        return {
            "seq": self.seq,
            "type": self.type,
            "execution_id": self.execution_id,
            "node": self.node,
            "path": self.path,
            "status": str(self.status) if self.status is not None else None,
            "payload": dict(self.payload) if self.payload else {},
            "timestamp": self.at.isoformat().replace("+00:00", "Z"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """An event from ``to_dict()`` data; ``timestamp`` may be epoch seconds or an ISO-8601 string."""
        ts = data.get("timestamp")
        if isinstance(ts, str):
            ts = dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
        return cls(
            int(data["seq"]),
            str(data["type"]),
            str(data["execution_id"]),
            data.get("node"),
            data.get("path"),
            data.get("status"),
            dict(data.get("payload") or {}),
            float(ts or 0.0),
        )
