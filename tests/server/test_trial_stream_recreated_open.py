"""An OPEN live stream whose execution is deleted and saved anew under the same id at a version not past the one
the stream holds (a new incarnation saved once, at version 1, while the stream held version 1): the change feed
compares version numbers only, so the connection sent nothing until ``stream_idle_seconds`` (300 s) closed it —
and the server's keep-alive pings kept a follower's ``read_timeout`` from ever firing, so ``Client.events`` and
``ig.nb.Follow`` showed the old incarnation for five minutes. The stream now re-reads the execution every few
seconds while quiet (5 s, or half of ``stream_idle_seconds`` when that is shorter) and sends the new incarnation
on the same connection, from its first event, under its new epoch. A real uvicorn on an SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.recreating import GatedSQLStore, held
from tests.server.server_contracts import CONTRACTS


@pytest.fixture
def served(tmp_path: Any, live_app: Any) -> Iterator[tuple[Any, Any]]:
    with GatedSQLStore(f"sqlite:///{tmp_path / 'open.db'}") as store:
        # idle 4 s: the stream re-reads the execution every 2 s and, quiet, closes after 4 s; the test's reads give up after 10 s
        yield store, live_app(ig.server.create_app(CONTRACTS, store=store, stream_idle_seconds=4))


def _messages(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """SSE messages of one connection as dicts (``event``, ``id``, ``data``)."""
    message: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in message:
                yield message
            message = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            message[field] = value.removeprefix(" ")
    if "data" in message:
        yield message


def _recreate_at_version_1(store: Any, http: httpx.Client, eid: str) -> list[int]:
    """Delete ``eid`` and save anew under it another finished execution's log, once: version 1 again."""
    other = http.post("/v1/contracts/price/execute", json={"inputs": {"total": 2}}).json()["execution_id"]
    record = store.record(other)
    with held(store):  # the stream never reads between the two writes (it would rightly end 'deleted')
        store.delete(eid)
        store.save({**record.snapshot, "execution_id": eid}, graph=record.graph, correlation=record.correlation,
                   status=record.status)
        assert store.record(eid).version == 1
    return [int(event["seq"]) for event in record.snapshot["events"]]


@pytest.mark.parametrize("held", [1, 2])  # the new incarnation at the version the stream holds, or below it
def test_an_open_stream_sends_a_new_incarnation_saved_at_the_same_version(served: tuple[Any, Any], held: int) -> None:
    store, server = served
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=10)) as http:
        started = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "open-1"}}).json()
        eid = started["execution_id"]
        if held == 2:
            assert http.post("/v1/contracts/lead/events", json={"event": "crm_received", "correlation": {
                "request_id": "open-1"}, "payload": {"name": "Acme"}}).status_code == 200
        old = store.record(eid)
        assert old.version == held and old.status == "waiting"
        with http.stream("GET", f"/v1/executions/{eid}/events") as stream:
            messages = _messages(stream.iter_lines())
            first = [next(messages) for _ in range(1 + len(old.snapshot["events"]))]
            old_epoch = first[-1]["id"].split("-")[1]
            seqs = _recreate_at_version_1(store, http, eid)
            after = []
            for message in messages:  # the same connection
                after.append(message)
                if message.get("event") == "end":
                    break
    events = [m for m in after if "event" not in m]
    assert [json.loads(m["data"])["seq"] for m in events] == seqs  # from seq 1, none left out
    new_epochs = {m["id"].split("-")[1] for m in events}
    assert len(new_epochs) == 1 and old_epoch not in new_epochs
    assert json.loads(after[-1]["data"])["reason"] == "finished"
    assert json.loads(after[-1]["data"])["status"] == "succeeded"


def test_an_open_stream_still_ends_deleted_and_closes_when_quiet(served: tuple[Any, Any]) -> None:
    store, server = served
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=6)) as http:
        eid = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "open-2"}}).json()["execution_id"]
        with http.stream("GET", f"/v1/executions/{eid}/events") as stream:
            quiet = list(_messages(stream.iter_lines()))  # nothing happens: closed after stream_idle_seconds
        assert quiet[-1].get("event") != "end" and all(m.get("event") != "end" for m in quiet)
        with http.stream("GET", f"/v1/executions/{eid}/events") as stream:
            messages = _messages(stream.iter_lines())
            next(messages)
            store.delete(eid)
            rest = list(messages)
    assert rest[-1]["event"] == "end" and json.loads(rest[-1]["data"])["reason"] == "deleted"
