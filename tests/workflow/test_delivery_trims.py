"""Work a delivery used to do without needing it (issue 13 target 4), pinned by counting and by equality with
the general path: the payload digest reads plain data's text without copying it first, and the list of waiting
events is built only for the ``workflow_waiting`` event that carries it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from igniter_nb.runtime import codec, codec_decoding, codec_encoding, codec_plain
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import engine, quiet
from igniter_nb.workflow.signals import payload_digest
from tests.workflow.wf_contracts import PairWorkflow

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _digest_through_the_codec(value: Any) -> str | None:
    """What the digest was before: the canonical JSON of the codec's encoded copy."""
    try:
        text = _CANONICAL.encode(codec.encode(value))
    except ValueError:
        return None
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("value", [
    {"n": 1, "tags": ["a", "b"], "nested": {"x": None, "y": True, "z": 2.5}},
    {"b": 1, "a": 2},  # key order does not matter
    {"when": dt.date(2026, 1, 2)},  # not plain: the codec's tagged form is digested
    {"pair": (1, 2)},
    {"__ig__": "user data that looks like a tag"},
    {"k": float("nan")},
    {1: "int key"},
    [1, "x", None],
    "text",
    None,
])
def test_the_payload_digest_is_the_one_of_the_codecs_encoded_copy(value: Any) -> None:
    assert payload_digest(value) == _digest_through_the_codec(value)


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of ``module.name`` (looked up by name at each call, recursive ones included)."""
    calls = [0]
    real = getattr(module, name)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_the_digest_of_a_plain_payload_copies_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # (the plain copy as encode calls it, and as plain_copy and its own recursion do)
    by_encode, by_plain = _counting(monkeypatch, codec_encoding, "_plain_copy"), _counting(monkeypatch, codec_plain, "_plain_copy")
    payload_digest({"n": 1, "items": [{"a": 1}, {"b": [2, 3]}]})
    assert by_encode == by_plain == [0]
    payload_digest({"when": dt.date(2026, 1, 2)})  # not plain: the general path, as before
    assert by_encode[0] > 0


def test_the_waiting_list_is_built_only_when_the_workflow_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)  # (the general path's list: a quiet delivery writes its own)
    calls = _counting(monkeypatch, engine, "waiting_events")
    store = MemoryStore()
    wf = PairWorkflow.start(pair_id="p", store=store)  # waits for both
    assert calls == [1]
    PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store)
    assert calls == [2]  # waits for right
    done = PairWorkflow.deliver_event("right_arrived", correlation={"pair_id": "p"}, payload={"n": 2}, store=store)
    assert calls == [2]  # succeeded: no list built (it used to be built and dropped)
    assert done.execution.workflow["status"] == "succeeded"
    waiting = [e for e in store.fetch(wf.execution_id)["events"] if e["type"] == "workflow_waiting"]
    assert [e["payload"] for e in waiting] == [
        {"waiting_on": [{"node": "left", "event": "left_arrived"}, {"node": "right", "event": "right_arrived"}]},
        {"waiting_on": [{"node": "right", "event": "right_arrived"}]},
    ]


def test_a_tagged_value_decoded_shared_is_not_copied_before_its_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from igniter_nb.runtime.deferred import DeferredResult

    def stored() -> dict[str, Any]:
        return {"__ig__": "deferred", "value": {"token": "t", "payload": {"event": "e", "seen": ["a"]},
                                                "source_node": "n", "event": "e"}}

    copies = _counting(monkeypatch, codec_decoding, "_decode_fast")
    data = stored()
    shared = codec.decode_shared(data)
    assert copies == [0]  # the owned value goes to the decoder as it is (what decode_shared promises)
    assert shared == DeferredResult.from_dict(stored()["value"]) == codec.decode(stored())
    assert shared.payload["seen"] is data["value"]["payload"]["seen"]
    copied = codec.decode(data)  # decode still copies
    assert copies[0] > 0 and copied == shared and copied.payload["seen"] is not data["value"]["payload"]["seen"]
