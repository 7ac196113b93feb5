"""Per-node runtime state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from igniter_nb._shown_repr import bounded_repr
from igniter_nb.runtime.status import Status


class NodeState(NamedTuple):
    """What the runtime knows about one node. Immutable; a change writes a new state with ``version + 1``.

    ``waiting_for`` names the pending/waiting nodes (deferring executors or awaits) a blocked node waits for.
    ``resolved_at`` is a POSIX timestamp. (A named tuple rather than a dataclass: states are created once per
    node resolution, and this keeps that cheap.)
    """

    name: str
    status: Status
    value: Any = None
    error: BaseException | None = None
    version: int = 1
    resolved_at: float | None = None
    invalidated_by: str | None = None
    waiting_for: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """The named tuple's text, each field by ``bounded_repr``: a value whose ``repr`` raises or recurses too
        deep no longer makes this raise, and a 10 MB value shows its first ``MAX_REPR`` characters."""
        return f"NodeState({', '.join(f'{n}={bounded_repr(v)}' for n, v in zip(self._fields, self, strict=True))})"

    @property
    def succeeded(self) -> bool:
        """True when the node holds a fresh value."""
        return self.status is Status.SUCCEEDED

    @property
    def failed(self) -> bool:
        """True when the node failed (``error`` holds the exception)."""
        return self.status is Status.FAILED

    @property
    def pending(self) -> bool:
        """True while the node is pending: deferred itself, or behind a deferred node (``waiting_for`` names which)."""
        return self.status is Status.PENDING

    @property
    def waiting(self) -> bool:
        """True while the node waits for an external event, itself or through a dependency (``waiting_for`` names
        which)."""
        return self.status is Status.WAITING

    @property
    def stale(self) -> bool:
        """True when something it depends on changed since it was computed (it recomputes on the next read)."""
        return self.status is Status.STALE


# A threads run's workers record states (``states[name] = ...``) without a lock while any other thread may read them,
# and no lock is taken on the inline path (it would cost every resolve). A reader that walks the whole dictionary
# therefore copies it first, in one C call: ``list(d.values())`` and ``d.copy()`` run no Python code and make no
# allocation the garbage collector counts (which could run a ``__del__``) while they walk a dictionary of ``str``
# keys, so under the GIL no other thread runs in between — the copy is the dictionary at one instant. A Python-level
# loop over the live dictionary (``for st in d.values()``, a comprehension) may be interrupted after any item, and
# raises "dictionary changed size during iteration" when a worker records a new node meanwhile. (``States``, the
# dictionary ``execution.states`` is, takes that copy itself in ``values``, ``items`` and ``copy``, then turns compact
# entries into ``NodeState`` objects on the copy.)
def states_now(states: dict[str, NodeState]) -> list[NodeState]:
    """Every state in ``states`` as it is at one instant (safe while a threads run records nodes)."""
    return list(states.values())


def named_states_now(states: dict[str, NodeState]) -> dict[str, NodeState]:
    """``states`` as it is at one instant, by name (see ``states_now``)."""
    return states.copy()


_new = tuple.__new__
_dict_get = dict.get
_dict_getitem = dict.__getitem__
_dict_copy = dict.copy
_dict_values = dict.values


def state_of(entry: Any) -> NodeState:
    """The ``NodeState`` a stored entry stands for, made anew for a compact one (not kept: for a reader that
    reads its fields once, such as a snapshot; ``States`` readers get the kept one)."""
    if type(entry) is not tuple:
        return entry  # type: ignore[no-any-return]
    return _new(NodeState, (entry[0], Status.SUCCEEDED, entry[1], None, entry[2], entry[3], None, ()))


class States(dict[str, Any]):
    """``execution.states``: each node's ``NodeState`` by name — a dictionary, read as one.

    A node the resolver's fast path computed to a plain scalar (``int``, ``float``, ``bool``, ``None``) is held
    *compactly*, as the exact tuple ``(name, value, version, resolved_at)``, and read as its succeeded
    ``NodeState``: every reading method below gives the same ``NodeState`` object for that entry each time
    (made on the first read, kept in ``_made`` beside it, never written back — a write back could undo a
    state another thread wrote meanwhile). Why: the cyclic garbage collector stops tracking an exact tuple whose
    items are all untracked at its first young collection, and never stops tracking a ``NodeState`` (a tuple
    subclass holding a ``Status`` member). A run of 100,000 nodes left 100,000 tracked states, which every
    middle and full collection walked — at that size nearly all of what a node cost more than at 1,000
    (docs/performance.md, target 1). Compact entries are written only by ``Resolver.resolve``, which reads
    them raw (``stored``); everything else reads ``NodeState`` objects through these methods. Reading methods
    that walk the dictionary copy it first in one C call (``list(dict.values(...))``, ``dict.copy``), so a
    threads run's workers may record states meanwhile (``states_now``).
    """

    __slots__ = ("_made",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made: dict[str, tuple[tuple[Any, ...], NodeState]] = {}

    #: ``states.stored(name)``: the entry as stored — a ``NodeState``, a compact tuple, or ``None`` (``dict.get``;
    #: the resolver's raw read)
    if TYPE_CHECKING:
        def stored(self, name: str) -> Any: ...
    else:
        stored = dict.get

    def full(self, entry: Any) -> NodeState:
        """The ``NodeState`` of a stored entry (a compact one made once, then the same object)."""
        if type(entry) is not tuple:
            return entry  # type: ignore[no-any-return]
        name = entry[0]
        made = self._made
        kept = made.get(name)
        if kept is not None and kept[0] is entry:
            return kept[1]
        state = state_of(entry)
        made[name] = (entry, state)
        return state

    def __getitem__(self, name: str) -> NodeState:
        entry = _dict_getitem(self, name)
        return self.full(entry) if type(entry) is tuple else entry

    def get(self, name: str, default: Any = None) -> Any:
        entry = _dict_get(self, name)
        if entry is None:
            return default
        return self.full(entry) if type(entry) is tuple else entry

    def values(self) -> list[NodeState]:  # type: ignore[override]
        full = self.full
        return [full(entry) for entry in list(_dict_values(self))]

    def items(self) -> list[tuple[str, NodeState]]:  # type: ignore[override]
        full = self.full
        # (``dict.copy`` first: a copy in one C call that allocates nothing while it walks; ``list(items)``
        # allocates a tuple per item, so a collection, and another thread's write, could come in between)
        return [(name, full(entry)) for name, entry in _dict_copy(self).items()]

    def __iter__(self) -> Any:
        # (defined so that ``dict(states)`` and ``{**states}`` read through ``__getitem__``: CPython copies a dict
        # whose ``__iter__`` is dict's own entry by entry, compact ones included)
        return dict.__iter__(self)

    def copy(self) -> dict[str, NodeState]:
        """A plain dictionary of the states as they are now (``NodeState`` objects)."""
        return dict(self.items())

    def pop(self, name: str, *default: Any) -> Any:
        return self.full(dict.pop(self, name, *default))

    def popitem(self) -> tuple[str, NodeState]:
        name, entry = dict.popitem(self)
        return name, self.full(entry)

    def setdefault(self, name: str, default: Any = None) -> Any:
        return self.full(dict.setdefault(self, name, default))

    def clear(self) -> None:
        dict.clear(self)
        self._made.clear()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, States):
            other = other.copy()
        return self.copy() == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __or__(self, other: Any) -> dict[str, NodeState]:  # type: ignore[override]
        return {**self.copy(), **other}

    def __ror__(self, other: Any) -> dict[str, NodeState]:  # type: ignore[override]
        return {**other, **self.copy()}

    def __ior__(self, other: Any) -> States:  # type: ignore[override]
        self.update(other)
        return self

    def __repr__(self) -> str:
        return repr(self.copy())

    def __reduce__(self) -> Any:
        return (States, (self.copy(),))
