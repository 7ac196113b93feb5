"""``Client(retries=N)`` / ``AsyncClient`` retry a call the server cut off while stopping (503 ``ServerStopping``)
when the call is safe to repeat, never ``execute``, ``resume`` or a delivery without an idempotency key. The server
is a real uvicorn on loopback whose app sits inside the real ``StoppedRequests`` middleware: its first requests
have their task cancelled, as uvicorn's graceful shutdown does once its time is up, and the middleware answers them;
later requests are answered 200."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from igniter_nb.server import AsyncClient, Client, RemoteError, stopped
from igniter_nb.server.stopping_retry import MAX_DELAY, retry_delay, server_stopping
from tests.server.live_server import LiveServer

OK = b'{"status": "ok", "contracts": [], "execution_id": "x", "versions": []}'


class Stopping:
    """An ASGI app that cuts off its first ``cuts`` requests (cancels their task) and answers the rest 200; with
    ``refusal`` it answers that (status, content type, body) instead of cutting off."""

    def __init__(self, cuts: int, refusal: tuple[int, bytes, bytes] | None = None) -> None:
        self.cuts = cuts
        self.refusal = refusal
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):  # the whole request body, as a route would read it
            pass
        self.seen.append(f"{scope['method']} {scope['path']}")
        status, media, body = 200, b"application/json", OK
        if len(self.seen) <= self.cuts:
            if self.refusal is None:
                task = asyncio.current_task()
                assert task is not None
                task.cancel()  # what uvicorn does to the requests in flight when the shutdown's time is up
                await asyncio.sleep(0)
            status, media, body = self.refusal  # type: ignore[misc]
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", media)]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def stopping(live_app: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[str, Stopping]]:
    """``stopping(cuts)`` -> (the URL of a real uvicorn serving a ``Stopping`` app, the app). The middleware's
    ``Retry-After`` is 0 here, so the retries do not wait a second each."""
    monkeypatch.setattr(stopped, "RETRY_AFTER_SECONDS", 0)

    def start(cuts: int, refusal: tuple[int, bytes, bytes] | None = None) -> tuple[str, Stopping]:
        app = Stopping(cuts, refusal)
        return live_app(stopped.StoppedRequests(app)).url, app

    return start


CALLS: dict[str, Callable[[Any], Any]] = {
    "health": lambda client: client.health(),
    "status": lambda client: client.status("x"),
    "history": lambda client: client.history("x"),
    "history_page": lambda client: client.history_page("x", after_version=2, limit=5),
    "dry_run_event": lambda client: client.dry_run_event("lead", event="e", correlation={"k": 1}),
    "deliver_with_key": lambda client: client.deliver_event("lead", event="e", correlation={"k": 1},
                                                            idempotency_key="k-1"),
    "deliver_without_key": lambda client: client.deliver_event("lead", event="e", correlation={"k": 1}),
    "execute": lambda client: client.execute("price", inputs={"total": 1}),
    "resume": lambda client: client.resume("x", token="t"),
}
SAFE = ["health", "status", "history", "history_page", "dry_run_event", "deliver_with_key"]
UNSAFE = ["deliver_without_key", "execute", "resume"]


def _call(url: str, name: str, retries: int, asynchronous: bool) -> Any:
    if not asynchronous:
        with Client(url, timeout=10, retries=retries) as client:
            return CALLS[name](client)

    async def run() -> Any:
        async with AsyncClient(url, timeout=10, retries=retries) as client:
            return await CALLS[name](client)

    return anyio.run(run)


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("name", SAFE)
def test_a_call_safe_to_repeat_is_retried_until_it_is_answered(stopping: Any, name: str, asynchronous: bool) -> None:
    url, app = stopping(2)
    assert _call(url, name, 2, asynchronous) is not None
    assert len(app.seen) == 3 and len(set(app.seen)) == 1, app.seen  # two cut off, the third answered


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("name", UNSAFE)
def test_a_call_not_safe_to_repeat_is_never_retried(stopping: Any, name: str, asynchronous: bool) -> None:
    url, app = stopping(1)
    with pytest.raises(RemoteError) as caught:
        _call(url, name, 3, asynchronous)
    assert caught.value.status_code == 503 and caught.value.error_type == "ServerStopping"
    assert "idempotency_key" in caught.value.server_message
    assert len(app.seen) == 1


@pytest.mark.parametrize("asynchronous", [False, True])
def test_once_the_retries_are_spent_the_503_is_raised(stopping: Any, asynchronous: bool) -> None:
    url, app = stopping(5)
    with pytest.raises(RemoteError) as caught:
        _call(url, "health", 2, asynchronous)
    assert caught.value.status_code == 503 and caught.value.error_type == "ServerStopping"
    assert len(app.seen) == 3  # the call and its 2 retries
    with pytest.raises(RemoteError):
        _call(url, "status", 0, asynchronous)  # retries=0, the default: no retry
    assert len(app.seen) == 4


@pytest.mark.parametrize("refusal", [
    (503, b"application/json", b'{"error": "every slot is taken", "type": "TooManyStreams"}'),
    (503, b"text/html", b"<html>Service Unavailable</html>"),  # a proxy's
    (500, b"application/json", b'{"error": "internal server error", "type": "InternalServerError"}'),
])
def test_other_error_answers_are_not_retried(stopping: Any, refusal: tuple[int, bytes, bytes]) -> None:
    url, app = stopping(1, refusal)
    with pytest.raises(RemoteError) as caught:
        _call(url, "health", 3, False)
    assert caught.value.status_code == refusal[0]
    assert len(app.seen) == 1


def test_the_middleware_s_own_retry_after_is_waited_for(live_app: Callable[..., LiveServer]) -> None:
    app = Stopping(2)
    url = live_app(stopped.StoppedRequests(app)).url
    with httpx.Client(base_url=url, timeout=10) as http:
        answer = http.get("/v1/health")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1" and server_stopping(answer)
    assert retry_delay(answer, 1) == 1.0
    assert _call(url, "health", 1, False)["status"] == "ok"  # cut off, then answered a second later
    assert len(app.seen) == 3


def test_the_wait_before_a_retry() -> None:
    def answer(**headers: str | bytes) -> httpx.Response:
        return httpx.Response(503, headers=headers, json={"error": "stopped", "type": "ServerStopping"})

    assert [retry_delay(answer(), n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert retry_delay(answer(**{"Retry-After": "0"}), 3) == 0.0
    assert retry_delay(answer(**{"Retry-After": "3"}), 1) == 3.0
    assert retry_delay(answer(**{"Retry-After": "86400"}), 1) == MAX_DELAY  # bounded, whatever the server says
    for unusable in ("soon", "-1", "1.5", "²".encode("latin-1"), "Wed, 21 Oct 2026 07:28:00 GMT"):
        assert retry_delay(answer(**{"Retry-After": unusable}), 2) == 1.0, unusable
    assert server_stopping(answer()) and not server_stopping(httpx.Response(503, text="{"))
    assert not server_stopping(httpx.Response(500, json={"type": "ServerStopping"}))


class StoppingStream(Stopping):
    """``Stopping`` whose answer, once it stops cutting requests off, is an event stream holding only ``end``."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" or len(self.seen) < self.cuts:
            await super().__call__(scope, receive, send)
            return
        self.seen.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b'event: end\ndata: {"status": "succeeded"}\n\n'})


@pytest.mark.parametrize("asynchronous", [False, True])
def test_events_opens_the_stream_again_after_a_503_server_stopping(live_app: Callable[..., LiveServer],
                                                                   asynchronous: bool) -> None:
    """A stream is a GET safe to open again: the 503 is one of ``reconnects`` attempts that brought nothing (the
    client waits its back-off, 1 s, before the next); with none left the 503 is raised as ``RemoteError``."""
    app = StoppingStream(1)
    url = live_app(stopped.StoppedRequests(app)).url

    def follow(reconnects: int) -> list[Any]:
        if not asynchronous:
            with Client(url, timeout=10) as client:
                return list(client.events("x", reconnects=reconnects))

        async def run() -> list[Any]:
            async with AsyncClient(url, timeout=10) as client:
                return [message async for message in client.events("x", reconnects=reconnects)]

        return anyio.run(run)

    [end] = follow(reconnects=1)
    assert end.kind == "end" and end.data == {"status": "succeeded"}
    assert len(app.seen) == 2
    app.seen.clear()  # cut off again, and no attempt left
    with pytest.raises(RemoteError) as caught:
        follow(reconnects=0)
    assert caught.value.status_code == 503 and caught.value.error_type == "ServerStopping"
    assert len(app.seen) == 1
