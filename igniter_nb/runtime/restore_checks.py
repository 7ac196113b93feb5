"""Reading a stored snapshot back safely, before anything is restored from it: is it a snapshot of this graph
(:func:`check_snapshot`) and of the execution its record says (:func:`check_record`), whether a part of it holds
nothing a decode could refuse (:func:`untagged`), and a private copy of a caller's snapshot (``_private_copy``),
with the bounded way their errors show stored values. ``restore.py``
restores from what passes here.
"""

from __future__ import annotations

import marshal
import reprlib
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.runtime import codec
from igniter_nb.runtime.snapshot import FORMAT


def check_snapshot(snapshot: Any, graph_name: str) -> None:
    if not (type(snapshot) is dict or isinstance(snapshot, Mapping)) or snapshot.get("format") != FORMAT:
        found = snapshot.get("format") if isinstance(snapshot, Mapping) else type(snapshot).__name__
        execution_id = snapshot.get("execution_id") if isinstance(snapshot, Mapping) else None
        raise SnapshotEncodingError(f"not an igniter_nb snapshot (format {_shown(found)}, expected {FORMAT!r})",
                                    graph=graph_name, execution_id=_text(execution_id))
    if snapshot.get("graph") != graph_name:
        raise SnapshotEncodingError(f"snapshot is of graph {_shown(snapshot.get('graph'))}, not {graph_name!r}",
                                    graph=graph_name, execution_id=_text(snapshot.get("execution_id")))


def check_record(record: Any) -> None:
    """Refuse a stored record whose snapshot belongs elsewhere: restoring it would continue (and its next save
    overwrite) another execution. Happens only when a store was edited or copied by hand."""
    snapshot = record.snapshot
    found = snapshot.get("execution_id") if type(snapshot) is dict or isinstance(snapshot, Mapping) else None
    if found != record.execution_id:
        raise SnapshotEncodingError(
            f"stored record {record.execution_id!r} holds a snapshot of execution {_shown(found)}; refusing to restore "
            "it (its next save would overwrite that execution). Was the store edited or copied by hand?",
            graph=record.graph, execution_id=record.execution_id, snapshot_execution_id=_text(found))
    graph = snapshot.get("graph")
    if record.graph is not None and graph != record.graph:
        raise SnapshotEncodingError(
            f"stored record {record.execution_id!r} of graph {record.graph!r} holds a snapshot of graph {_shown(graph)}; "
            "refusing to restore it. Was the store edited or copied by hand?",
            graph=record.graph, execution_id=record.execution_id)


def untagged(value: Any) -> bool:
    """Whether no dict inside ``value`` (stored plain data) has the codec's tag key, so decoding it cannot refuse
    it; asked at C speed for a caller that must know a snapshot restores without restoring it (a quiet delivery:
    ``workflow/quiet.py``). ``marshal`` writes the text of every key (the first time it meets that string; later
    ones may refer back to it), so the tag's text is then nowhere in its bytes, which are only searched. False
    also when the text is there for another reason, or marshal cannot write ``value``: then decode to know."""
    try:
        return _TAG_BYTES not in marshal.dumps(value)
    except (ValueError, TypeError):
        return False


_TAG_BYTES = codec.TAG.encode()


def _text(value: Any) -> str | None:
    """An execution id read from a snapshot, as an error's context may show it: an ordinary id as it is, anything
    else (not text, too long, holding a newline or a control or bidi character) as its ``repr`` cut to 80."""
    if value is None:
        return None
    if type(value) is str and len(value) <= 80 and value.isprintable():
        return value
    return _shown(value)


_REPR = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 80, 80


def _shown(value: Any) -> str:
    """``repr(value)`` cut to 80 characters, at a bounded cost: a value 100,000 levels deep or a list of millions
    (stored data edited by hand) is shown by its first levels and items, not a RecursionError."""
    if isinstance(value, str):
        return repr(value[:100])[:80]
    try:
        return _REPR.repr(value)[:80]
    except Exception:  # (an object whose own __repr__ fails)
        return f"<{type(value).__name__}>"


def _private_copy(snapshot: Mapping[str, Any], graph_name: str) -> dict[str, Any]:
    """A copy of a caller's snapshot that shares nothing with it: marshal (a C-level copy of plain data, never
    persisted) for the usual dicts/lists/scalars, else a walk that also accepts other mappings, sequences and
    subclasses of the JSON scalar types (an ``OrderedDict`` from ``json.loads``, a str enum...)."""
    try:
        return marshal.loads(marshal.dumps(snapshot))  # type: ignore[arg-type, no-any-return]
    except ValueError:
        pass
    try:
        copied: dict[str, Any] = _plain_data(snapshot, "snapshot", graph_name, snapshot.get("execution_id"))
    except RecursionError:
        raise SnapshotEncodingError("snapshot is nested too deeply to restore", graph=graph_name,
                                    execution_id=_text(snapshot.get("execution_id"))) from None
    return copied


def _plain_data(value: Any, path: str, graph_name: str, execution_id: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    for kind in (bool, int, float, str):  # subclasses (enums...) as their JSON type
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return {str(k): _plain_data(v, f"{path}.{k}", graph_name, execution_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v, f"{path}[{i}]", graph_name, execution_id) for i, v in enumerate(value)]
    shown = codec.short_path(path)
    raise codec.located(SnapshotEncodingError(f"snapshot is not JSON data: {type(value).__name__} at {shown}",
                                              graph=graph_name, execution_id=_text(execution_id), path=shown), path)


__all__ = ["check_record", "check_snapshot"]
