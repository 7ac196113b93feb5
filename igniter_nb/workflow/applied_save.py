"""Saving a delivery applied to the stored record — a quiet delivery (``quiet.py``) or one that completes a join
(``completing.py``): the snapshot such a delivery saves, the proof before the save that it restores, the
store's compare-and-set, and the contract it returns (built on first touch where the class allows it,
``runtime/first_touch.py``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from igniter_nb.runtime import codec
from igniter_nb.runtime.event_chunks import EventChunks
from igniter_nb.runtime.execution import _validator
from igniter_nb.runtime.first_touch import restored_on_first_touch, takes_first_touch
from igniter_nb.runtime.restore import restore_contract
from igniter_nb.runtime.restore_checks import untagged
from igniter_nb.runtime.snapshot import FORMAT, SELF_ENCODING_TYPES
from igniter_nb.runtime.utc_text import utc_now_text

_TAG = codec.TAG


def saved_contract(cls: Any, graph: Any, plan: Any, snapshot: dict[str, Any], store: Any, record: Any,
                   status: str, checked: Mapping[str, Any] | None = None) -> Any:
    """``snapshot`` (made from ``record`` by a delivery applied to it: this module's or ``completing``'s) saved
    over ``record`` with the store's compare-and-set, and the contract it restores to — built when first read
    where the class allows it; None when it would not restore as it is (nothing written). A lost race raises the
    store's ``ConcurrencyError`` (nothing written): another writer saved after ``record`` was read, so the general
    path, restoring and saving that same record, could only lose again — ``deliver_event`` reads the record again
    instead. ``checked``: the delivered correlation, each value checked against its key's input type already
    (``correlation.check_delivery_correlation``)."""
    contract = None
    if takes_first_touch(cls):  # the contract is restored when first read: proof now that it will restore
        if not restores(graph, snapshot, record.snapshot, checked):
            return None
    else:  # (a class that makes or keeps its attributes its own way) the contract now, and the proof
        try:
            contract = restore_contract(cls, snapshot, store=store, owned=True)
        except Exception:
            return None
        ex = contract.execution
        if ex.graph_changes is not None or ex.inputs != snapshot["inputs"] or ex.bus.last_seq() != last_seq(snapshot):
            return None  # (a restore that changed something: the general path does what it does)
    version = _save_runtime_snapshot()(store, snapshot, graph=plan.graph_name,  # (as store_runner._save does)
                                       correlation=snapshot["workflow"].get("correlation") or None,
                                       status=status, expected_version=record.version)
    if contract is None:  # (nobody else holds the snapshot: the store keeps a copy, or its immutable event chunks)
        return restored_on_first_touch(cls, snapshot, store=store, version=version)
    contract.execution.loaded_from_store(version)
    return contract


def restores(graph: Any, snapshot: dict[str, Any], stored: dict[str, Any],
             checked: Mapping[str, Any] | None = None) -> bool:
    """Whether ``restore_contract`` takes ``snapshot`` (``_apply`` made it from the record's ``stored``) without an
    error or a change, found without building the contract. ``_apply`` checked the rest: the snapshot's form and
    field types, no input, node or await the graph lacks, every succeeded await bound, no orphaned wait — nothing
    the restore would drop, put back or refuse. What is left is what the restore decodes: the inputs must pass the
    graph's input checks, and the node values and the workflow record must decode. An input whose stored value
    is, type and value, the one ``checked`` gives for it (the delivered correlation: ``check_delivery_correlation``
    checked it with the same input type check) is not checked again — the restore checks every input once more.

    Only a tagged value can fail to decode. What ``_apply`` wrote decodes by construction (a plain payload; waits
    copied from a wait the record keeps, checked here); an await's wait (``{tag: "deferred", "value": {"token":
    ..., "payload": {...}, ...}}``) decodes when nothing inside it is tagged. So the question is whether anything
    else the snapshot keeps from the record is tagged — asked of all of it at once (``restore_checks.untagged``), and
    answered by decoding the snapshot's values and workflow record, as the restore would, only when something is."""
    execution_id = snapshot["execution_id"]
    if type(execution_id) is not str or not execution_id:
        return False
    try:
        check = _validator(graph).check  # (what InputValidator.initial does for inputs the graph has)
        for name, given in snapshot["inputs"].items():
            if checked is not None and name in checked:
                delivered = checked[name]  # (stored inputs are scalars here: quiet.record_checks)
                if type(delivered) is type(given) and delivered == given:
                    continue
            check(name, given, execution_id)
    except Exception:
        return False
    kept = stored["states"]
    parts = [v for k, v in stored["workflow"].items() if k != "last_external_event"]  # (that one _apply replaced)
    for name, data in snapshot["states"].items():
        value = data["value"]
        if type(value) in SELF_ENCODING_TYPES or data is not kept.get(name):
            continue  # (a state _apply wrote)
        if type(value) is dict and value.get(_TAG) == "deferred":  # (as DeferredResult.from_dict reads it)
            inner = value.get("value")
            if type(inner) is dict and "token" in inner and (inner.get("payload") is None
                                                             or type(inner["payload"]) is dict):
                parts.append(inner)
                continue
        parts.append(value)
    if untagged(parts):
        return True
    decode = codec.decode_shared
    try:
        for data in snapshot["states"].values():
            if type(data["value"]) not in SELF_ENCODING_TYPES:
                decode(data["value"])
        decode(snapshot["workflow"])
    except Exception:
        return False
    return True


def next_snapshot(plan: Any, record: Any, status: str, runner: Any, inputs: Any, states: dict[str, Any],
                  events: Any, bound: list[str], workflow: dict[str, Any], saved_at: str | None = None) -> dict[str, Any]:
    """The snapshot a delivery applied to ``record`` saves (this module's or ``completing``'s): the record's
    contract, the given parts, the await just delivered bound in its state, nothing else bound or held; saved at
    ``saved_at`` (the delivery's own reading of the clock), else now."""
    return {
        "format": FORMAT,
        "graph": plan.graph_name,
        "contract": record.snapshot["contract"],
        "execution_id": record.execution_id,
        "status": status,
        "runner": runner,
        "inputs": inputs,
        "states": states,
        "events": events,
        "bound_events": {},
        "bound_in_states": [*bound, plan.await_name],
        "children": {},
        "children_given": {},
        "selections": {},
        "collections": {},
        "workflow": workflow,
        "saved_at": saved_at if saved_at is not None else _saved_at(),
    }


@functools.cache
def _save_runtime_snapshot() -> Any:
    """The stores' save of a runtime snapshot, imported on first use (stores sit above the workflow layer)."""
    from igniter_nb.stores.base import save_runtime_snapshot

    return save_runtime_snapshot


def last_seq(snapshot: Mapping[str, Any]) -> int:
    events = snapshot["events"]
    return events.last_seq if type(events) is EventChunks else (int(events[-1]["seq"]) if events else 0)


def _saved_at() -> str:
    return utc_now_text()
