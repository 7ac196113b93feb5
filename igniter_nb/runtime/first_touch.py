"""A contract restored on first touch: the instance a quiet delivery returns (``workflow/quiet.py``).

A quiet delivery changes the stored record without building the contract; restoring it whole only to return it
cost about a third of the delivery, and most callers (a server answering 202, a loop of deliveries) never read
it. :func:`restored_on_first_touch` returns a real instance of the contract class — ``type()``,
``isinstance``, the class's own methods and properties all as usual — holding only the snapshot it was saved
from. The first read of anything that needs its execution (``execution``, ``result``, ``events``, ``workflow``,
``states``, ``audit``, ``diagnostics``, ``repr``, the notebook reprs, a subclass's own attributes reading them)
restores it from that snapshot, exactly as the delivery would have, and marks it loaded at the saved version.

How: the three attributes ``Contract._setup`` sets (:data:`ATTRIBUTES`) are class attributes of ``Contract``
that are :class:`BuiltOnFirstTouch` — *non-data* descriptors. An instance attribute of the same name is found
before them, so an ordinary contract (and a restored one, once restored) reads its ``execution`` as before,
with no call; only an instance lacking it reaches the descriptor, which restores it. A ``__getattr__`` on
``Contract`` would be called on every miss of every subclass and lose to a subclass's own ``__getattr__``; a
property would cost a call on every read of every contract; a proxy execution would not be one (``is``,
``type()``). The restore builds all three attributes before it sets any (``runtime/restore.py``,
``restore_attributes``), under a lock per instance: two threads touching the same fresh contract get one
execution, and neither sees a half-restored one.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

from igniter_nb.runtime.restore import restore_attributes

# What Contract._setup sets, in the order Contract._attributes gives them.
ATTRIBUTES = ("execution", "reaction_errors", "_reactive")
_PENDING = "_igniter_first_touch"  # (the instance attribute holding what to restore, until it is restored)
_OWN_WAY = ("__new__", "__setattr__", "__getattribute__", "__delattr__")


class BuiltOnFirstTouch:
    """One of :data:`ATTRIBUTES` on ``Contract``: on an instance restored on first touch that does not have it
    yet, restores the instance and answers it; otherwise ``AttributeError`` as for any missing attribute (also
    on the class itself, so ``hasattr(SomeContract, "execution")`` stays false)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is not None:
            pending = obj.__dict__.get(_PENDING)
            if pending is not None:
                pending.restore(obj)
                found = obj.__dict__.get(self.name, _MISSING)  # (deleted since by its owner: missing, as below)
                if found is not _MISSING:
                    return found
        if obj is None:
            raise AttributeError(f"type object {getattr(owner, '__name__', owner)!r} has no attribute {self.name!r}",
                                 name=self.name, obj=owner)
        raise AttributeError(f"{type(obj).__name__!r} object has no attribute {self.name!r}", name=self.name, obj=obj)


_MISSING: Any = object()


class _Pending:
    """What a contract restored on first touch is restored from, and the lock its first touch takes."""

    __slots__ = ("lock", "restoring", "snapshot", "store", "version")

    def __init__(self, snapshot: Mapping[str, Any], store: Any, version: int) -> None:
        self.snapshot: Mapping[str, Any] | None = snapshot
        self.store = store
        self.version = version
        self.lock = threading.Lock()
        self.restoring: int | None = None  # the thread restoring it (a touch during its own restore is refused)

    def restore(self, contract: Any) -> None:
        if self.restoring == threading.get_ident():
            raise RuntimeError(f"{type(contract).__name__} contract read while it is being restored from its snapshot")
        with self.lock:
            snapshot = self.snapshot
            if snapshot is None:
                return  # (restored by another thread meanwhile)
            self.restoring = threading.get_ident()
            try:
                made = restore_attributes(contract, snapshot, store=self.store)
            finally:
                self.restoring = None
            made[0].loaded_from_store(self.version)
            attributes = contract.__dict__
            for name, value in zip(ATTRIBUTES, made, strict=True):
                attributes.setdefault(name, value)  # (one its owner set meanwhile is kept, as after a restore)
            self.snapshot = self.store = None
            attributes.pop(_PENDING, None)


def takes_first_touch(cls: Any) -> bool:
    """Whether ``cls``'s instances can be restored on first touch: ``Contract`` makes, sets up and keeps its
    attributes (it defines ``_create``, ``_setup``, ``_attributes`` and :data:`ATTRIBUTES` for ``cls``, and no class
    changes how instances are made or how their attributes are set, read or deleted). Otherwise a quiet delivery
    restores the contract it returns at once, as before. Kept per class in its graph's ``runtime_cache`` (the class
    held weakly)."""
    cache = cls.compiled_graph().runtime_cache
    found = cache.get("first_touch")
    if found is None or found[0]() is not cls:
        found = cache["first_touch"] = (weakref.ref(cls), _takes_first_touch(cls))
    return found[1]  # type: ignore[no-any-return]


def _takes_first_touch(cls: Any) -> bool:
    owner = next((k for k in cls.__mro__ if type(vars(k).get("execution")) is BuiltOnFirstTouch), None)
    if owner is None:
        return False
    for name in ("_create", "_setup", "_attributes", *ATTRIBUTES):
        if _defined_by(cls, name) is not owner:
            return False
    return all(_defined_by(cls, name) is object for name in _OWN_WAY)


def _defined_by(cls: Any, name: str) -> Any:
    return next((k for k in cls.__mro__ if name in vars(k)), None)


def restored_on_first_touch(cls: Any, snapshot: Mapping[str, Any], *, store: Any, version: int) -> Any:
    """A ``cls`` instance restored from ``snapshot`` (owned: nobody changes it later) when first touched, then
    loaded from ``store`` at ``version``. Only for a class :func:`takes_first_touch` accepts, and a snapshot that
    restores without an error (the caller's checks make sure)."""
    contract = cls.__new__(cls)
    contract.__dict__[_PENDING] = _Pending(snapshot, store, version)
    return contract


__all__ = ["ATTRIBUTES", "BuiltOnFirstTouch", "restored_on_first_touch", "takes_first_touch"]


def execution_id_of(contract: Any) -> str:
    """``contract``'s execution id; for one restored on first touch and not touched yet, read from the snapshot it
    will be restored from (``execution_id`` is the one thing a caller of a delivery commonly reads — a server's
    answer, a loop keeping ids — and the restore takes it as it is), without restoring it."""
    pending = contract.__dict__.get(_PENDING)
    snapshot = pending.snapshot if pending is not None else None
    if snapshot is not None:
        return snapshot["execution_id"]  # type: ignore[no-any-return]
    return contract.execution.execution_id  # type: ignore[no-any-return]
