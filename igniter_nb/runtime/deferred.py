"""Deferred results: a node that cannot finish yet says what it waits for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from igniter_nb.settings import without_url_passwords


def new_token() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True, repr=False)
class DeferredResult:
    """Returned by ``Executor.defer`` (and produced by await nodes): the node is pending on ``token``.

    ``source_node`` is the node that deferred; ``waiting_on`` is the node a dependent is blocked by.
    ``event`` is set for await nodes (the node is then *waiting* for that external event).
    """

    token: str = field(default_factory=new_token)
    payload: Mapping[str, Any] = field(default_factory=dict)
    source_node: str | None = None
    waiting_on: str | None = None
    event: str | None = None

    def __repr__(self) -> str:
        """The dataclass's text, with the password of a remote node's URL in the payload as ``***``
        (``settings.without_url_passwords``): a repr lands in logs and tracebacks; ``payload`` keeps it."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["payload"] = without_url_passwords(self.payload)
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    @property
    def waiting(self) -> bool:
        """True when this waits for an external event rather than a token."""
        return self.event is not None

    def to_dict(self) -> dict[str, Any]:
        """The pending value as JSON-safe data (token, payload, and the node, wait and event when known)."""
        data: dict[str, Any] = {"token": self.token, "payload": dict(self.payload)}
        if self.source_node is not None:
            data["source_node"] = self.source_node
        if self.waiting_on is not None:
            data["waiting_on"] = self.waiting_on
        if self.event is not None:
            data["event"] = self.event
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeferredResult:
        """A pending value from ``to_dict()`` data."""
        get = data.get  # (positional, in field order: half the cost of keywords; every restore of a waiting await)
        return cls(str(data["token"]), dict(get("payload") or {}), get("source_node"), get("waiting_on"), get("event"))
