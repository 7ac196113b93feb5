"""A connection that drops *after* the server applied the request (a loopback proxy forwards each request to a real
server, then closes the client's connection without the answer): the client never repeats a call that is not
safe to repeat (one that is — a delivery with an idempotency key — is retried, ``retries`` times), and its
``RemoteConnectionError`` says the request was sent (``sent=True``: the server may have
applied it) instead of "cannot reach"; the user's own repeat with the same idempotency key is answered with the
same result, applied once."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import igniter_nb as ig
from igniter_nb.server import AsyncClient, Client, RemoteConnectionError
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.server_contracts import CONTRACTS

CRM = {"event": "crm_received", "payload": {"name": "Acme"}}


class DroppingProxy:
    """Forwards each POST to ``upstream`` (the server applies it and answers), then closes the caller's connection
    without a byte of the answer. ``seen``: ``(path, upstream status)`` of every request forwarded."""

    def __init__(self, upstream: str) -> None:
        seen: list[tuple[str, int]] = []

        class Drop(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                answer = httpx.post(upstream + self.path, content=body, timeout=10,
                                    headers={"Content-Type": "application/json"})
                seen.append((self.path, answer.status_code))
                self.close_connection = True  # and no answer at all

            def log_message(self, *args: Any) -> None:
                pass

        self.seen = seen
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drop)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def served(live_app: Callable[..., LiveServer]) -> Iterator[tuple[Any, LiveServer, DroppingProxy]]:
    with MemoryStore() as store:
        upstream = live_app(ig.server.create_app(CONTRACTS, store=store))
        proxy = DroppingProxy(upstream.url)
        try:
            yield store, upstream, proxy
        finally:
            proxy.close()


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


@pytest.mark.parametrize("key", [None, "crm-r-1"])
def test_a_delivery_whose_answer_is_lost_is_repeated_only_with_a_key_and_says_it_was_sent(served: Any, key: str | None) -> None:
    store, upstream, proxy = served
    with Client(upstream.url, timeout=10) as direct, Client(proxy.url, timeout=10, retries=3) as dropped:
        eid = direct.execute("lead", {"request_id": "r-1"})["execution_id"]
        with pytest.raises(RemoteConnectionError) as caught:
            dropped.deliver_event("lead", correlation={"request_id": "r-1"}, idempotency_key=key, **CRM)
        err = caught.value
        # without a key never repeated by the client; with one retried (retries=3), applied once all the same
        assert proxy.seen == [("/v1/contracts/lead/events", 200)] * (1 if key is None else 4)
        assert err.sent is True and err.context["sent"] is True and not err.timeout
        assert err.url == f"{proxy.url}/v1/contracts/lead/events"
        assert "cannot reach" not in str(err) and "may have applied" in str(err)
        assert len(_signals(store, eid)) == 1
        if key is None:  # the user's blind repeat is refused: the event is already there
            with pytest.raises(ig.server.RemoteError) as again:
                direct.deliver_event("lead", correlation={"request_id": "r-1"}, **CRM)
            assert again.value.status_code == 409 and again.value.error_type == "DuplicateSignalError"
        else:  # the user's repeat with the same key gets the same result
            view = direct.deliver_event("lead", correlation={"request_id": "r-1"}, idempotency_key=key, **CRM)
            assert view["execution_id"] == eid and view["status"] == "waiting"
        assert len(_signals(store, eid)) == 1


def test_an_execute_whose_answer_is_lost_started_one_execution_and_says_so(served: Any) -> None:
    store, _, proxy = served

    async def execute() -> None:
        async with AsyncClient(proxy.url, timeout=10, retries=3) as client:
            await client.execute("price", {"total": 1})

    with pytest.raises(RemoteConnectionError) as caught:
        anyio.run(execute)
    assert caught.value.sent is True and "may have applied" in str(caught.value)
    assert proxy.seen == [("/v1/contracts/price/execute", 200)]
    assert len(store.list(graph="Price")) == 1  # the one the user must look up, not start again


def test_a_refused_connection_was_not_sent() -> None:
    from tests.services import dead_port

    with (dead_port() as port, Client(f"http://127.0.0.1:{port}", timeout=2) as client,
          pytest.raises(RemoteConnectionError) as caught):
        client.execute("price", {"total": 1})
    assert caught.value.sent is False and caught.value.context["sent"] is False
    assert "cannot reach" in str(caught.value) and "may have applied" not in str(caught.value)


def test_a_remote_node_whose_answer_is_lost_fails_saying_the_remote_may_have_run(
        live_app: Callable[..., LiveServer]) -> None:
    from tests.server.remote_contracts import REMOTE, article

    with MemoryStore() as store:
        proxy = DroppingProxy(live_app(ig.server.create_app(REMOTE, store=store)).url)
        try:
            contract = article(proxy.url)(text="great")
            assert contract.status == "failed"  # resolves: the call goes out through the proxy
        finally:
            proxy.close()
        err = contract.first_error()
        assert "dropped the connection before answering" in err.message and "may have applied" in err.message
        assert err.context["sent"] is True and err.context["url"] == proxy.url
        assert len(store.list(graph="Score")) == 1  # it did run there, once
