"""``ig.server``: contracts and workflows over HTTP — the FastAPI app, its router, the CLI's app factory, the
``Client``/``AsyncClient`` that call it (and follow an execution's live stream), and the runtime of remote nodes
(``server/remote.py``, loaded by the runtime on first use). See ``docs/server.md``.

Names load on first use: ``ig.server.Client`` needs only httpx, ``ig.server.create_app`` needs FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._lazy import lazy_attributes
from igniter_nb.server.errors import (
    AnswerTooLargeError,
    RemoteConnectionError,
    RemoteError,
    UnknownContractError,
    UnroutableExecutionIdError,
)

if TYPE_CHECKING:
    from igniter_nb.server.app import create_app, create_router
    from igniter_nb.server.client import AsyncClient, Client
    from igniter_nb.server.follow import StreamMessage, StreamTimeoutWarning
    from igniter_nb.server.limits import BodySizeLimit
    from igniter_nb.server.service_store import ServiceStore
    from igniter_nb.server.total_timeout import TotalTimeoutWarning

_LAZY = {
    "create_app": "igniter_nb.server.app",
    "create_router": "igniter_nb.server.app",
    "BodySizeLimit": "igniter_nb.server.limits",
    "Client": "igniter_nb.server.client",
    "AsyncClient": "igniter_nb.server.client",
    "StreamMessage": "igniter_nb.server.follow",
    "StreamTimeoutWarning": "igniter_nb.server.follow",
    "ServiceStore": "igniter_nb.server.service_store",
    "TotalTimeoutWarning": "igniter_nb.server.total_timeout",
}


if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes("igniter_nb.server", globals(), _LAZY)


__all__ = [
    "AnswerTooLargeError",
    "AsyncClient",
    "BodySizeLimit",
    "Client",
    "RemoteConnectionError",
    "RemoteError",
    "ServiceStore",
    "StreamMessage",
    "StreamTimeoutWarning",
    "TotalTimeoutWarning",
    "UnknownContractError",
    "UnroutableExecutionIdError",
    "create_app",
    "create_router",
]
