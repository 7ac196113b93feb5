"""Where the notebook tools read from: a store, or a running igniter_nb server through ``ig.server.Client``.

``as_store`` is the one place that tells them apart. A store is used as it is; a ``Client`` is wrapped in a
read-only ``igniter_nb.server.service_store.ServiceStore`` (the store protocol over HTTP, which also delivers and
dry-runs events through the server), so ``store_frame``, ``tokens_frame``, ``SnapshotStepper``, ``EventSimulator``
and ``Follow`` take either without asking which. The same client always gets the same ``ServiceStore``, so the
snapshots it already read are not fetched again while their version stays the same.
"""

from __future__ import annotations

import sys
from typing import Any

_CACHED = "_igniter_service_store"  # where a client keeps its ServiceStore (collected with the client)


def client_module() -> Any:
    """``igniter_nb.server.client`` if it has been imported (a Client exists only then), else None: telling a client
    apart never imports httpx."""
    return sys.modules.get("igniter_nb.server.client")


def is_client(source: Any) -> bool:
    module = client_module()
    return module is not None and isinstance(source, module.Client)


def as_store(source: Any) -> Any:
    """``source`` as a store for the notebook tools: an ``ig.server.Client`` becomes its (cached) ``ServiceStore``;
    anything else is returned unchanged. An ``AsyncClient`` is refused: the tools read synchronously."""
    module = client_module()
    if module is not None:
        if isinstance(source, module.AsyncClient):
            raise TypeError("the notebook tools read synchronously: give them an ig.server.Client (same arguments) "
                            "instead of an AsyncClient")
        if isinstance(source, module.Client):
            found = getattr(source, _CACHED, None)
            if found is None:
                from igniter_nb.server.service_store import ServiceStore

                found = ServiceStore(source)
                setattr(source, _CACHED, found)
            return found
    return source


def store_of(source: Any, who: str) -> Any:
    """``as_store(source)``, refused with a ``TypeError`` naming ``who`` when it is not a store (no ``fetch``,
    ``record`` and ``list``): None, a number, a store URL as text (``from_url`` makes it a store)."""
    store = as_store(source)
    if all(callable(getattr(store, name, None)) for name in ("fetch", "record", "list")):
        return store
    hint = (" (a store URL: igniter_nb.stores.from_url(url) makes the store)" if isinstance(source, str) else "")
    raise TypeError(f"{who} needs a store (igniter_nb.stores: MemoryStore, SQLStore, from_url(...)) or an "
                    f"ig.server.Client, got {type(source).__name__} {source!r:.80}{hint}")


__all__ = ["as_store", "is_client", "store_of"]
