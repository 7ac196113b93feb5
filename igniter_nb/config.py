"""The default store: the one piece of process-wide mutable state igniter_nb has.

``configure(store=...)`` sets it (a store object or a store URL); otherwise ``default_store()`` builds one
from the ``IGNITER_STORE_URL`` environment variable on first use, else uses one process-wide ``MemoryStore``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

ENV_VAR = "IGNITER_STORE_URL"
"""The environment variable that names the default store's URL when ``configure`` was not called."""

_lock = threading.Lock()
_default: Any = None


def configure(store: Any = None) -> Any:
    """Set the default store to ``store`` (a store object or a URL for ``stores.from_url``) and return it.

    ``configure()`` / ``configure(None)`` forgets the setting, so the next ``default_store()`` looks at
    ``IGNITER_STORE_URL`` again. The previous store is not closed (it may still be in use).
    """
    global _default
    resolved = _build(store) if isinstance(store, str) else store
    if resolved is not None and not _looks_like_store(resolved):
        raise TypeError(f"configure(store=...) needs a store or a store URL, got {type(resolved).__name__}")
    with _lock:
        _default = resolved
    return resolved


def default_store() -> Any:
    """The configured store; else one built from ``IGNITER_STORE_URL`` (once); else a process-wide MemoryStore."""
    global _default
    with _lock:
        if _default is None:
            url = os.environ.get(ENV_VAR, "").strip()
            if url:
                _default = _build(url)
            else:
                from igniter_nb.stores.memory import MemoryStore

                _default = MemoryStore()
        return _default


def _build(url: str) -> Any:
    from igniter_nb.stores.url import from_url

    return from_url(url)


def _looks_like_store(obj: Any) -> bool:
    return all(callable(getattr(obj, name, None)) for name in ("save", "fetch", "find_by_correlation"))


__all__ = ["ENV_VAR", "configure", "default_store"]
