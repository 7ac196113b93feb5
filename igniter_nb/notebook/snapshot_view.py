"""A stored ``igniter_nb.snapshot/1``'s node states summarised for display (the SnapshotStepper's steps)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.notebook import html as h
from igniter_nb.settings import without_url_passwords


@dataclass(frozen=True, slots=True)
class SnapshotInstance:
    """A stored snapshot as the picture reads an execution (``diagnostics.view.instance_facts``): the node
    ``states`` (``snapshot_view``), the ``inputs`` given (so an input nothing has read yet shows ``supplied``, not
    ``unresolved``) and the ``workflow`` record (correlation values, await deadlines)."""

    states: Mapping[str, Mapping[str, Any]]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    workflow: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, snapshot: Mapping[str, Any], states: Mapping[str, Mapping[str, Any]] | None = None) -> SnapshotInstance:
        """From a stored snapshot (``states``: its ``snapshot_view`` when already made)."""
        from igniter_nb.notebook.store_frames import _decoded

        inputs = snapshot.get("inputs")
        workflow = snapshot.get("workflow")  # (a part of it that is not a map: instance_facts draws it as missing)
        return cls(states if states is not None else snapshot_view(snapshot),
                   {str(k): _decoded(v) for k, v in inputs.items()} if isinstance(inputs, Mapping) else {},
                   workflow if isinstance(workflow, Mapping) else None)


def snapshot_view(snapshot: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Node name → a small state summary of a stored ``igniter_nb.snapshot/1`` (values decoded for display)."""
    states = snapshot.get("states")
    if not isinstance(states, Mapping):
        return {}
    view: dict[str, dict[str, Any]] = {}
    for name, st in states.items():
        if not isinstance(st, Mapping):
            continue
        status = str(st.get("status") or "unresolved")
        value = st.get("value")
        tagged = isinstance(value, Mapping) and value.get("__ig__") == "deferred"  # also a stale node's old wait
        deferred = _deferred(value) if tagged or status in ("pending", "waiting") else None
        error = st.get("error")
        error_type = error.get("type") if isinstance(error, Mapping) else (str(error) if error else None)
        blocked = status in ("pending", "waiting")
        view[str(name)] = {
            "status": status,
            "version": st.get("version"),
            "waiting_for": _names(st.get("waiting_for")),
            "event": ((deferred or {}).get("event") or st.get("event")) if blocked else None,
            "error_type": error_type,
            "value": _value_text(value, error, deferred),
            # what the picture shows besides the status: a deferred node's token and payload (a remote node's URL
            # without its password: the stored wait keeps it), an error's message
            "token": (deferred or {}).get("token") if blocked else None,
            "payload": without_url_passwords((deferred or {}).get("payload")) if blocked else None,
            "error": error.get("message") if isinstance(error, Mapping) else None,
        }
    return view


def _names(value: Any) -> list[str]:
    from igniter_nb.notebook.store_frames import _names as names

    return names(value)


def _deferred(value: Any) -> dict[str, Any] | None:
    from igniter_nb.notebook.store_frames import _deferred_of

    return _deferred_of(value)


def _value_text(value: Any, error: Any, deferred: Mapping[str, Any] | None = None) -> str | None:
    """A short display text of a stored (codec-encoded) value, of the stored error, or of what a node waits on."""
    if isinstance(error, Mapping):
        return h.short(f"{error.get('type')}: {error.get('message')}", 80)
    if deferred is not None:
        return f"waits for event {deferred['event']}" if deferred.get("event") else f"pending on token {deferred['token']}"
    if value is None:
        return None
    return h.short(_display(value), 80)


def _display(value: Any) -> Any:
    from igniter_nb.diagnostics.states import display_value
    from igniter_nb.notebook.store_frames import _decoded

    if isinstance(value, Mapping) and value.get("__ig__") in ("child_result", "collection_result"):
        inner: Mapping[str, Any] = value["value"] if isinstance(value.get("value"), Mapping) else {}
        kind = "result" if value["__ig__"] == "child_result" else "collection"
        return {"type": kind, **inner}
    decoded = _decoded(value)
    if decoded is value and isinstance(value, Mapping) and value.get("__ig__") in _OBJECT_TAGS:
        return _undecoded_object(value)
    return display_value(decoded)


#: Tags of class instances and where their fields are: shown as ``Name(field=value, ...)`` when the class is not
#: at hand (its module is not imported here: a snapshot read over HTTP, or in another notebook).
_OBJECT_TAGS = {"pydantic": "data", "dataclass": "fields", "enum": "value"}


class _Shown(str):
    """Text that stands for an object: shown as it is, and by ``repr`` without quotes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _undecoded_object(value: Mapping[str, Any]) -> _Shown:
    tag = value["__ig__"]
    name = str(value.get("class", "?")).rpartition(":")[2] or "?"
    inner = value.get(_OBJECT_TAGS[tag])
    if tag == "enum":
        return _Shown(f"{name}({_display(inner)!r})")
    if not isinstance(inner, Mapping):
        return _Shown(f"{name}(…)")
    return _Shown(f"{name}({', '.join(f'{k}={_display(v)!r}' for k, v in inner.items())})")


__all__ = ["SnapshotInstance", "snapshot_view"]
