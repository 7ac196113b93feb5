"""The default store: the one piece of process-wide mutable state igniter_nb has.

``configure(store=...)`` sets it (a store object or a store URL); otherwise ``default_store()`` builds one
from the ``IGNITER_STORE_URL`` environment variable on first use, else uses one process-wide ``MemoryStore``.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

from igniter_nb import settings

ENV_VAR = settings.STORE_URL
"""The environment variable that names the default store's URL when ``configure`` was not called."""

_lock = threading.Lock()
_default: Any = None
_implicit: Any = None  # the MemoryStore default_store() made because nothing was configured
_warned = False


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
    """The configured store; else one built from ``IGNITER_STORE_URL`` (once); else a process-wide MemoryStore
    (saving into it warns once: see :func:`warn_if_implicit`).

    A value of ``IGNITER_STORE_URL`` that names no store raises :class:`~igniter_nb.errors.SettingsError` naming
    the variable (its password hidden). The first call also applies ``IGNITER_LOG_LEVEL`` (see
    :mod:`igniter_nb.settings`).
    """
    global _default, _implicit
    with _lock:
        if _default is None:
            settings.apply_log_level()
            url = settings.store_url()
            if url:
                _default = _from_environment(url)
            else:
                from igniter_nb.stores.memory import MemoryStore

                _default = _implicit = MemoryStore()
        return _default


def warn_if_implicit(store: Any) -> None:
    """Warn once per process when an execution is saved into the MemoryStore ``default_store()`` made because
    nothing was configured: its data is gone when the process exits, which is rarely what a saved workflow
    wants. Passing ``store=`` or calling ``configure`` (even with a MemoryStore) says it is meant."""
    global _warned
    if _warned or store is None or store is not _implicit:
        return
    with _lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        "igniter_nb is saving into a process-wide MemoryStore because no store is configured: everything saved is "
        f"lost when this process exits. Set {ENV_VAR} (e.g. sqlite:///igniter.db), call "
        "ig.configure(store=...), or pass store= explicitly (ig.configure(store='memory://') keeps memory and "
        "silences this warning).",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _user_stacklevel() -> int:
    """The stack level of the first frame outside igniter_nb, so the warning points at the caller's line."""
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _from_environment(url: str) -> Any:
    from igniter_nb.errors import IgniterError, SettingsError

    try:
        return _build(url)
    except Exception as exc:  # building a store checks its URL and connects to nothing: any error is the URL's
        shown = settings.redact_url(url)
        reason = str(exc) if isinstance(exc, IgniterError) else f"{type(exc).__name__}: {exc}"
        # not chained: the cause's message holds the URL with its password
        raise SettingsError(f"{ENV_VAR}={shown!r}: {settings.redact_url(url, reason)}", variable=ENV_VAR) from None


def _build(url: str) -> Any:
    from igniter_nb.stores.url import from_url

    return from_url(url)


def _looks_like_store(obj: Any) -> bool:
    return all(callable(getattr(obj, name, None)) for name in ("save", "fetch", "find_by_correlation"))


__all__ = ["ENV_VAR", "configure", "default_store", "warn_if_implicit"]
