"""An execution deleted and saved anew under the same execution id, its event seqs starting again at 1, and a
follower that reconnects with ``Last-Event-ID``: the stream sent only the new execution's events past the old
seq (or 422 when the new log was shorter), and ``Client.events`` dropped every event at or below the last seq it
had yielded as a "replay" — the new execution's first events were lost without a word.

Event ids now carry the execution's *incarnation* (``<seq>-<epoch>``, the epoch a digest of its first event): a
``Last-Event-ID`` of another incarnation makes the server start the stream from the first event, and the follower
seeing a new epoch takes the events from seq 1 again. A plain ``<seq>`` (what older clients and ids hold) resumes
as before. A real uvicorn on the SQLite store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.server import AsyncClient, Client, RemoteError, StreamMessage
from igniter_nb.stores import SQLStore
from tests.recreating import GatedSQLStore, held
from tests.server.server_contracts import CONTRACTS
from tests.server.test_stream_idle import END, FAST, _event

CRM = {"event": "crm_received", "correlation": {"request_id": "r-2"}, "payload": {"name": "Acme"}}
BILLING = {"event": "billing_received", "correlation": {"request_id": "r-2"}, "payload": {"plan": "pro"}}


@pytest.fixture
def served(tmp_path: Any, live_app: Any) -> Iterator[tuple[Any, Any]]:
    with GatedSQLStore(f"sqlite:///{tmp_path / 'served.db'}") as store:
        yield store, live_app(ig.server.create_app(CONTRACTS, store=store))


def _recreate(store: Any, client: Client, eid: str) -> list[int]:
    """Delete ``eid`` and save anew under it another execution's log (seqs from 1, more of them than before); the
    server's streams do not read the store in between (one that did would rightly end with ``deleted``)."""
    other = client.execute("lead", {"request_id": "r-2"})["execution_id"]
    client.deliver_event("lead", **CRM)
    client.deliver_event("lead", **BILLING)
    record = store.record(other)
    with held(store):
        store.delete(other)
        store.delete(eid)
        store.save({**record.snapshot, "execution_id": eid}, graph=record.graph, correlation=record.correlation,
                   status=record.status)
    return [int(event["seq"]) for event in record.snapshot["events"]]


def test_a_follower_resuming_after_the_execution_was_recreated_gets_the_new_events(served: Any) -> None:
    store, server = served
    with Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        old = store.record(eid).snapshot["events"]
        first = client.events(eid, reconnects=0)
        taken = [next(first) for _ in range(1 + len(old))]  # the status, then each event so far
        first.close()  # type: ignore[attr-defined]
        last = taken[-1]
        assert last.kind == "event" and last.id == str(len(old))
        assert last.resume_id is not None and re.fullmatch(rf"{len(old)}-[0-9a-f]{{8}}", last.resume_id)
        seqs = _recreate(store, client, eid)
        assert len(seqs) > len(old)
        got = list(client.events(eid, last_event_id=last.resume_id, reconnects=0))
        assert [int(m.id) for m in got if m.kind == "event"] == seqs  # every event of the new execution, from 1
        assert got[-1].kind == "end"
        fresh = {m.resume_id.partition("-")[2] for m in got if m.kind == "event" and m.resume_id}
        assert len(fresh) == 1 and fresh != {last.resume_id.partition("-")[2]}
        # an old plain seq still resumes after that seq, in whatever execution the id now names
        plain = list(client.events(eid, last_event_id=last.id, reconnects=0))
        assert [int(m.id) for m in plain if m.kind == "event"] == seqs[len(old):]
        # the id of the new incarnation's last event: seen everything (204)
        assert list(client.events(eid, last_event_id=got[-2].resume_id, reconnects=0)) == []


def test_the_raw_stream_starts_over_for_an_id_of_another_incarnation(served: Any) -> None:
    store, server = served
    with Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        n = len(store.record(eid).snapshot["events"])
        old = next(m for m in client.events(eid, last_event_id=n - 1, reconnects=0) if m.kind == "event")
        seqs = _recreate(store, client, eid)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.get(f"/v1/executions/{eid}/events", headers={"Last-Event-ID": old.resume_id})
        ids = re.findall(r"^id: (\d+)-([0-9a-f]{8})\r?$", answer.text, flags=re.M)
        assert [int(seq) for seq, _ in ids] == seqs
        for bad in ("3-", "3-XYZ", "3-1234567", "3-123456789", "-1234abcd", "3-1234abcd-1", "3.0", "3 -1234abcd"):
            refused = http.get(f"/v1/executions/{eid}/events", headers={"Last-Event-ID": bad})
            assert refused.status_code == 422, (bad, refused.status_code)


def test_a_follower_reading_while_the_execution_is_recreated_takes_the_new_events(served: Any) -> None:
    """Mid-stream: the connection the follower holds sees the new incarnation (or closes, and the follower
    reconnects with its Last-Event-ID): either way the new execution's events arrive, from seq 1."""
    store, server = served
    with Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        n = len(store.record(eid).snapshot["events"])
        stream = client.events(eid, reconnects=1, read_timeout=3)
        before = [next(stream) for _ in range(1 + n)]
        seqs = _recreate(store, client, eid)
        after = list(stream)
    assert [int(m.id) for m in before if m.kind == "event"] == list(range(1, n + 1))
    assert [int(m.id) for m in after if m.kind == "event"] == seqs
    assert after[-1].kind == "end"


def test_the_async_follower_takes_the_new_events_too(served: Any) -> None:
    store, server = served
    with Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        n = len(store.record(eid).snapshot["events"])
        last = next(m for m in client.events(eid, last_event_id=n - 1, reconnects=0) if m.kind == "event")
        seqs = _recreate(store, client, eid)

    async def follow() -> list[StreamMessage]:
        async with AsyncClient(server.url, timeout=10) as remote:
            return [m async for m in remote.events(eid, last_event_id=last.resume_id, reconnects=0)]

    got = asyncio.run(follow())
    assert [int(m.id) for m in got if m.kind == "event"] == seqs


def test_a_last_event_id_of_another_shape_is_refused_at_the_call(served: Any) -> None:
    _, server = served
    with Client(server.url, timeout=10) as client:
        for bad in ("3-", "3-XYZ", "3-1234567", "3-12345678-", "-12345678", "3-１２３４５６７８", "3 -12345678",
                    "3-ABCDEF12", "3-12345678\n", "9" * 16, "9" * 5000 + "-12345678", 10**15, -1, "<b>3</b>"):
            with pytest.raises(ValueError, match="last_event_id"):
                client.events("e-1", last_event_id=bad)
        # leading zeros are the same seq (without int(): 5,000 digits would raise inside it)
        for fine in ("0" * 5000 + "3", "0" * 5000 + "3-12345678", 10**15 - 1):
            client.events("e-1", last_event_id=fine)


def test_an_event_id_from_one_server_process_resumes_on_another(tmp_path: Any, live_app: Any, serve: Any) -> None:
    """The epoch is a digest of the stored first event, not of anything a process holds (no ``hash()``, which
    differs per process): an id one server wrote resumes on another server process on the same store — after it,
    not from the start again."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    other = serve(store=url)
    with SQLStore(url) as store, Client(live_app(ig.server.create_app(CONTRACTS, store=store)).url,
                                        timeout=10) as here, Client(other.url, timeout=10) as there:
        eid = here.execute("lead", {"request_id": "r-1"})["execution_id"]
        here.deliver_event("lead", **{**CRM, "correlation": {"request_id": "r-1"}})
        n = len(store.record(eid).snapshot["events"])
        # (the count first: zip takes from its first iterable first, and one message more would wait for ever)
        mine = [m for _, m in zip(range(1 + n), here.events(eid, reconnects=0), strict=False) if m.kind == "event"]
        middle = mine[n // 2]
        theirs = [m for _, m in zip(range(n - n // 2), there.events(eid, last_event_id=middle.resume_id, reconnects=0),
                                    strict=False) if m.kind == "event"]
        assert [m.resume_id for m in theirs] == [m.resume_id for m in mine[n // 2 + 1:]]


def _epoch_event(seq: int, epoch: str) -> bytes:
    return _event(seq).replace(f"id: {seq}\n".encode(), f"id: {seq}-{epoch}\n".encode())


def test_a_new_epoch_restarts_the_replay_check_and_ids_of_another_shape_are_refused(peer: Any) -> None:
    """Raw peers: an event of another epoch is yielded from seq 1 again (a replay within an epoch is still
    dropped), and the follower reconnects with the id as written; an epoch not of 8 lowercase hex digits is an
    event id the server never writes (it is sent back as Last-Event-ID): RemoteError naming it."""
    a, b = "0123abcd", "fedc9876"
    server = peer([FAST, _epoch_event(1, a), _epoch_event(2, a), _epoch_event(1, b), _epoch_event(1, b),
                   _epoch_event(2, b)], [_epoch_event(2, b), _epoch_event(3, b), END], close=True)
    with Client(server.url, timeout=5) as client:
        got = list(client.events("e1", reconnects=1, read_timeout=5))
    assert [(m.id, m.resume_id) for m in got] == [("1", f"1-{a}"), ("2", f"2-{a}"), ("1", f"1-{b}"), ("2", f"2-{b}"),
                                                  ("3", f"3-{b}"), (None, None)]
    assert server.last_event_ids == [None, f"2-{b}"]
    for bad in ("1-0123ABCD", "1-0123abc", "1-<b>x</b>", "1-0123abcd-1"):
        odd = peer([_event(1).replace(b"id: 1\n", f"id: {bad}\n".encode()), END])
        with Client(odd.url, timeout=5) as client, pytest.raises(RemoteError, match="not an event seq"):
            list(client.events("e1", reconnects=0, read_timeout=5))
