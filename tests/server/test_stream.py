"""``GET /v1/executions/{id}/events``: the live stream — every event once, in seq order, id = seq; resuming with
``Last-Event-ID`` misses nothing and repeats nothing; ``end`` when the execution finishes; live across worker
processes and across a second process writing to the store; ``Client.events`` reconnects on a dropped connection."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from httpx_sse import connect_sse

import igniter_nb as ig
from igniter_nb.server import RemoteConnectionError, RemoteError
from igniter_nb.server.follow import StreamMessage
from igniter_nb.server.stream import epoch
from igniter_nb.stores import SQLStore
from tests.polling import wait_for
from tests.server.conftest import TARGET
from tests.server.server_contracts import CONTRACTS, Lead
from tests.server.server_process import ServerProcess

CRM = {"event": "crm_received", "correlation": {"request_id": "r-1"}, "payload": {"name": "Acme"}}
BILLING = {"event": "billing_received", "correlation": {"request_id": "r-1"}, "payload": {"plan": "pro"}}


def _sse(client: Any, path: str, **headers: str) -> list[Any]:
    with connect_sse(client, "GET", path, headers=headers) as source:
        assert source.response.status_code == 200
        return list(source.iter_sse())


def _seq(event_id: str) -> int:
    """The seq of an event id as the stream writes it (``<seq>-<epoch>``)."""
    return int(event_id.partition("-")[0])


def _finished_lead(client: Any) -> str:
    eid = str(client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).json()["execution_id"])
    client.post("/v1/contracts/lead/events", json=CRM)
    client.post("/v1/contracts/lead/events", json=BILLING)
    return eid


def test_stream_of_a_finished_execution_sends_every_event_then_end(client: Any, store: Any) -> None:
    eid = _finished_lead(client)
    messages = _sse(client, f"/v1/executions/{eid}/events")
    stored = store.record(eid).snapshot["events"]
    events = [m for m in messages if m.event == "message"]
    assert [m.id for m in events] == [f"{e['seq']}-{epoch(store.record(eid).snapshot)}" for e in stored]
    assert [m.json()["type"] for m in events] == [e["type"] for e in stored]
    assert messages[0].event == "status" and messages[0].json()["status"] == "succeeded"
    assert messages[0].retry == 1000
    assert messages[-1].event == "end"
    assert messages[-1].json() == {**messages[0].json(), "reason": "finished"}
    crm = next(m.json() for m in events if m.json()["type"] == "external_event_received")
    assert crm["payload"]["event"] == "crm_received" and crm["version"] == 3


def test_last_event_id_resumes_after_that_event(client: Any) -> None:
    eid = _finished_lead(client)
    every = [m for m in _sse(client, f"/v1/executions/{eid}/events") if m.event == "message"]
    middle = every[len(every) // 2].id
    rest = [m for m in _sse(client, f"/v1/executions/{eid}/events", **{"Last-Event-ID": middle})
            if m.event == "message"]
    assert [m.id for m in rest] == [m.id for m in every if _seq(m.id) > _seq(middle)]
    assert client.get(f"/v1/executions/{eid}/events", headers={"Last-Event-ID": every[-1].id}).status_code == 204


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "99999999999999999999", "3.0", "+3", "1_0", " 3", "0x3", ""])
def test_malformed_last_event_id_is_a_422(client: Any, bad: str) -> None:
    eid = _finished_lead(client)
    answer = client.get(f"/v1/executions/{eid}/events", headers={"Last-Event-ID": bad})
    assert answer.status_code == 422 and "Last-Event-ID" in answer.json()["error"]


def test_last_event_id_past_the_last_event_is_a_422(client: Any, store: Any) -> None:
    eid = _finished_lead(client)
    last = store.record(eid).snapshot["events"][-1]["seq"]
    answer = client.get(f"/v1/executions/{eid}/events", headers={"Last-Event-ID": str(last + 1)})
    assert answer.status_code == 422 and answer.json()["last_seq"] == last


def test_stream_of_an_unknown_execution_is_a_404(client: Any) -> None:
    assert client.get("/v1/executions/no-such/events").status_code == 404
    assert client.get("/v1/executions/..%2Fetc/events").status_code == 404


def test_stream_requires_the_token(store: Any) -> None:
    from fastapi.testclient import TestClient

    with TestClient(ig.server.create_app(CONTRACTS, store=store, token="s3cret")) as anonymous:
        assert anonymous.get("/v1/executions/x/events").status_code == 401


def test_stream_and_history_hide_callback_tokens(store: Any) -> None:
    from fastapi.testclient import TestClient

    body = {"inputs": {"total": 2}, "callback": {"url": "http://127.0.0.1:9/cb", "token": "k" * 40}}
    with TestClient(ig.server.create_app(CONTRACTS, store=store, callback_retries=0)) as client:
        eid = client.post("/v1/contracts/deferred/execute", json=body).json()["execution_id"]
        client.post(f"/v1/executions/{eid}/resume", json={"token": "quote-2", "value": 1})
        history = client.get(f"/v1/executions/{eid}/history").text
        assert "k" * 40 not in history and "<redacted>" in history
        streamed = [m.json() for m in _sse(client, f"/v1/executions/{eid}/events") if m.event == "message"]
    registered = [m for m in streamed if m["type"] == "callback_registered"]
    assert registered and registered[0]["payload"] == {"url": "http://127.0.0.1:9/cb", "token": "<redacted>"}


def _follow_in_thread(client: Any, eid: str, **kw: Any) -> tuple[list[StreamMessage], threading.Thread]:
    got: list[StreamMessage] = []

    def run() -> None:
        got.extend(client.events(eid, **kw))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return got, thread



def test_stream_is_live_for_deliveries_from_this_process(live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        got, thread = _follow_in_thread(client, eid)
        wait_for(lambda: any(m.kind == "status" for m in got), every=0.02)
        Lead.deliver_event(CRM["event"], correlation=CRM["correlation"], payload=CRM["payload"], store=store)
        wait_for(lambda: any(m.data.get("type") == "await_satisfied" for m in got), every=0.02)
        assert any(m.kind == "status" and m.data["version"] == 2 for m in got)
        Lead.deliver_event(BILLING["event"], correlation=BILLING["correlation"], payload=BILLING["payload"],
                           store=store)
        wait_for(lambda thread=thread: not thread.is_alive(), "the stream's end")
    events = [m for m in got if m.kind == "event"]
    assert [int(m.id or 0) for m in events] == [e["seq"] for e in store.record(eid).snapshot["events"]]
    assert got[-1].kind == "end" and got[-1].data["status"] == "succeeded"


def test_stream_is_live_across_workers_and_processes(serve: Any, tmp_path: Any) -> None:
    db = tmp_path / "live.db"
    server = serve(store=f"sqlite:///{db}", workers=2)
    store = SQLStore(f"sqlite:///{db}")  # this test process writes too: another process, to the servers
    try:
        with ig.server.Client(server.url, timeout=10) as client:
            eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
            streams = [_follow_in_thread(client, eid) for _ in range(2)]  # likely on both workers
            for got, _ in streams:
                wait_for(lambda got=got: any(m.kind == "status" for m in got), every=0.02)
            Lead.deliver_event(CRM["event"], correlation=CRM["correlation"], payload=CRM["payload"], store=store)
            for got, _ in streams:
                wait_for(lambda got=got: any(m.data.get("type") == "await_satisfied" for m in got),
                         every=0.02)
            client.deliver_event("lead", **BILLING)  # over HTTP: any worker
            for _, thread in streams:
                wait_for(lambda thread=thread: not thread.is_alive(), "the stream's end")
    finally:
        store.close()
    stored = [e["seq"] for e in SQLStore(f"sqlite:///{db}").record(eid).snapshot["events"]]
    for got, _ in streams:
        assert [int(m.id or 0) for m in got if m.kind == "event"] == stored
        assert got[-1].kind == "end" and got[-1].data["status"] == "succeeded"


def test_client_reconnects_with_last_event_id_after_the_server_restarts(tmp_path: Any) -> None:
    db = tmp_path / "restart.db"
    first = ServerProcess(TARGET, store=f"sqlite:///{db}")
    second: ServerProcess | None = None
    store = SQLStore(f"sqlite:///{db}")
    try:
        first.start()
        second = ServerProcess(TARGET, store=f"sqlite:///{db}", port=first.port)  # back where the client follows
        with ig.server.Client(first.url, timeout=10) as client:
            eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
            got, thread = _follow_in_thread(client, eid, reconnects=8)
            wait_for(lambda: any(m.kind == "status" for m in got), every=0.02)
            Lead.deliver_event(CRM["event"], correlation=CRM["correlation"], payload=CRM["payload"], store=store)
            wait_for(lambda: any(m.data.get("type") == "await_satisfied" for m in got), every=0.02)
            first.close()  # the stream drops; the client retries with back-off
            Lead.deliver_event(BILLING["event"], correlation=BILLING["correlation"], payload=BILLING["payload"],
                               store=store)
            second.start()
            wait_for(lambda thread=thread: not thread.is_alive(), "the stream's end")
        stored = [e["seq"] for e in store.record(eid).snapshot["events"]]
        assert [int(m.id or 0) for m in got if m.kind == "event"] == stored  # nothing missed, nothing twice
        assert got[-1].kind == "end"
    finally:
        first.close()
        if second is not None:
            second.close()
        store.close()


def test_client_gives_up_after_its_reconnects(tmp_path: Any) -> None:
    from tests.services import dead_port

    with (dead_port() as port, ig.server.Client(f"http://127.0.0.1:{port}", timeout=2) as client,
          pytest.raises(RemoteConnectionError) as caught):
        list(client.events("some-id", reconnects=1))
    assert "/v1/executions/some-id/events" in str(caught.value)


def test_client_events_raises_remote_errors_at_once(client: Any, live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url, timeout=10) as remote:
        with pytest.raises(RemoteError) as caught:
            list(remote.events("no-such-id"))
        assert caught.value.status_code == 404
        eid = remote.execute("price", {"total": 1})["execution_id"]
        messages = list(remote.events(eid))
        assert messages[-1].kind == "end" and [m.kind for m in messages].count("event") == len(
            store.record(eid).snapshot["events"])
        assert list(remote.events(eid, last_event_id=messages[-2].id)) == []  # 204: seen everything


def test_async_client_events(live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))

    async def follow() -> list[StreamMessage]:
        async with ig.server.AsyncClient(server.url, timeout=10) as client:
            eid = (await client.execute("lead", {"request_id": "r-9"}))["execution_id"]
            got: list[StreamMessage] = []

            async def deliver() -> None:
                await asyncio.sleep(0.2)
                await client.deliver_event("lead", event="crm_received", correlation={"request_id": "r-9"},
                                           payload={"name": "A"})
                await client.deliver_event("lead", event="billing_received", correlation={"request_id": "r-9"},
                                           payload={})

            task = asyncio.create_task(deliver())
            async for message in client.events(eid):
                got.append(message)
            await task
            return got

    got = asyncio.run(asyncio.wait_for(follow(), 20))
    assert got[-1].kind == "end" and got[-1].data["status"] == "succeeded"
    seqs = [int(m.id or 0) for m in got if m.kind == "event"]
    assert seqs == sorted(set(seqs)) and seqs[0] == 1


def test_stream_ends_when_the_execution_is_deleted(live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        got, thread = _follow_in_thread(client, eid)
        wait_for(lambda: any(m.kind == "status" for m in got), every=0.02)
        store.delete(eid)
        wait_for(lambda thread=thread: not thread.is_alive(), "the stream's end")
    assert got[-1].kind == "end" and got[-1].data["reason"] == "deleted"


def test_a_quiet_stream_is_closed_after_its_idle_time_without_end(live_app: Any, store: Any) -> None:
    import httpx

    server = live_app(ig.server.create_app(CONTRACTS, store=store, stream_idle_seconds=0.3))
    with ig.server.Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
    with httpx.Client(timeout=10) as http, connect_sse(http, "GET", f"{server.url}/v1/executions/{eid}/events") as source:
        messages = list(source.iter_sse())  # ends: the server closed it
    assert messages[0].event == "status" and "end" not in [m.event for m in messages]
    last = [m for m in messages if m.event == "message"][-1].id
    with httpx.Client(timeout=10) as http, connect_sse(http, "GET", f"{server.url}/v1/executions/{eid}/events",
                                                       headers={"Last-Event-ID": last}) as source:
        again = list(source.iter_sse())
    assert [m.event for m in again] == ["status"]  # reconnecting: nothing new, nothing repeated
