"""An encoded event log kept as ``marshal`` chunks, handed between the runtime and a store that keeps it by reference.

Events never change once emitted, so a store in the same process does not need to decode a workflow's whole log
on every read and write it again on every save. A store that declares the class attribute
``takes_event_chunks = True`` (``MemoryStore``) agrees to two things:

* ``save(snapshot, check_json=False, ...)`` may receive, as ``snapshot["events"]``, an :class:`EventChunks`
  instead of a list of event dicts; the store keeps its chunks (immutable ``bytes``) by reference and reads
  them back as the same list of events a plain save would have given (``fetch``, ``record``, ``history``);
* ``record(execution_id, event_chunks=True)`` and ``record_by_correlation(graph, correlation,
  event_chunks=True)`` may return a record whose ``snapshot["events"]`` is such an :class:`EventChunks` (the log
  as the store keeps it, not decoded) — for the runtime only, which restores from it lazily.

The runtime extends the chunks it restored with one chunk holding the events a save adds
(:meth:`EventChunks.extended_rows`), so a delivery encodes, writes and reads what it added, not the whole history.
Such a chunk holds each event as a *row*, a tuple of its fields (:data:`ROW_KEYS`), not as a dict: building seven
tuples' worth of dicts per delivery that nobody reads on the delivery path cost more than the rest of the
chunk; :meth:`EventChunks.load` turns rows into the same dicts, only when someone reads the log. The
agreement is optional: every other store (and any store without the attribute) gets and gives plain lists, as
before. Nothing here can be changed after it is built: a chunk is ``bytes``, the chunk list a tuple, and
:meth:`EventChunks.load` returns fresh dicts on every call.
"""

from __future__ import annotations

import dataclasses
import marshal
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)  # (compared and hashed by identity)
class EventChunks:
    """``count`` encoded events (as in a snapshot's ``"events"`` list), ending at ``seq`` ``last_seq``: the events
    of ``before`` followed by those in ``chunk`` (``marshal`` bytes of a list of event dicts). Extending one
    links a new node to it, so every version of a workflow shares the chunks of the versions before it and an
    extension costs the same however long the log. Not JSON and not ``marshal``-able itself: a store that did
    not agree to take it fails loudly instead of storing something else."""

    before: EventChunks | None = None
    chunk: bytes = b""
    count: int = 0
    last_seq: int = 0

    def extended(self, events: list[dict[str, Any]]) -> EventChunks:
        """These events plus ``events`` (encoded event dicts, in order, after ``last_seq``) in one new chunk;
        ``self`` when there are none. Only ``events`` are serialised."""
        if not events:
            return self
        return EventChunks(self if self.count else None, marshal.dumps(events), self.count + len(events),
                           int(events[-1]["seq"]))

    def extended_rows(self, rows: list[tuple[Any, ...]]) -> EventChunks:
        """As :meth:`extended`, for events given as rows (:func:`event_row`): kept as rows, read back as dicts."""
        if not rows:
            return self
        return EventChunks(self if self.count else None, marshal.dumps(tuple(rows)), self.count + len(rows),
                           int(rows[-1][0]))

    def __repr__(self) -> str:
        return f"EventChunks({self.count} events in {len(self.chunks)} chunks, last seq {self.last_seq})"

    @property
    def chunks(self) -> tuple[bytes, ...]:
        """The chunks, oldest first."""
        found = []
        node: EventChunks | None = self
        while node is not None:
            if node.chunk:
                found.append(node.chunk)
            node = node.before
        return tuple(reversed(found))

    def load(self) -> list[dict[str, Any]]:
        """The encoded events, in order, as a fresh list of fresh dicts."""
        events: list[dict[str, Any]] = []
        for chunk in self.chunks:
            found = marshal.loads(chunk)
            if type(found) is tuple:  # rows (extended_rows)
                events.extend(map(_row_dict, found))
            else:
                events.extend(found)
        return events


# The fields of an encoded event (a snapshot's ``"events"`` entries), in their order; a row holds them in this
# order, the payload ``None`` for ``{}``, and an eighth item ``True`` when the payload is in tagged form.
ROW_KEYS = ("seq", "type", "node", "path", "status", "payload", "timestamp")


def _row_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    payload = row[5]
    data = {"seq": row[0], "type": row[1], "node": row[2], "path": row[3], "status": row[4],
            "payload": {} if payload is None else payload, "timestamp": row[6]}
    if len(row) > 7:
        data["tagged"] = True
    return data


def event_row(data: dict[str, Any]) -> tuple[Any, ...]:
    """The row of an encoded event dict (the inverse of what :meth:`EventChunks.load` does with a row)."""
    payload = data["payload"]
    row = (data["seq"], data["type"], data["node"], data["path"], data["status"], payload if payload else None,
           data["timestamp"])
    return (*row, True) if data.get("tagged") else row


NO_EVENTS = EventChunks()


_AGREED: dict[type, bool] = {}
_METHODS = ("save", "record", "record_by_correlation")


def takes_event_chunks(store: Any) -> bool:
    """Whether ``store`` agreed to take and give :class:`EventChunks`: its class, or a base class, sets
    ``takes_event_chunks = True`` and no class below that one overrides ``save``, ``record`` or
    ``record_by_correlation`` (a subclass that does — a test double, a wrapper — gets plain lists, as every other
    store, unless it sets the attribute itself). Looked up on the class, so a proxy forwarding attributes to such
    a store does not claim it for its own ``save``."""
    kind = type(store)
    agreed = _AGREED.get(kind)
    if agreed is None:
        agreed = False
        for owner in kind.__mro__:
            if "takes_event_chunks" in vars(owner):
                agreed = vars(owner)["takes_event_chunks"] is True and all(
                    getattr(kind, name, None) is getattr(owner, name, None) for name in _METHODS)
                break
        _AGREED[kind] = agreed
    return agreed
