"""``Client(retries=N)`` / ``AsyncClient`` retry a call that is safe to repeat when the connection dropped after the
request went out (``RemoteConnectionError.sent=True``), up to N times; a call that is not safe to repeat
(``execute``, ``resume``, ``deliver_event`` without an idempotency key) is never retried — its error says it was sent.
The server is a real uvicorn on loopback whose app starts its answer to each of its first requests and then fails,
so uvicorn closes the connection before the answer is complete; later requests are answered 200."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from igniter_nb.server import RemoteConnectionError
from tests.server.live_server import LiveServer
from tests.server.test_client_stopping import SAFE, UNSAFE, _call

OK = b'{"status": "ok", "contracts": [], "execution_id": "x", "versions": []}'


class Dropping:
    """An ASGI app that drops the connection of its first ``cuts`` requests mid-answer and answers the rest 200.
    ``seen``: every request, in order."""

    def __init__(self, cuts: int) -> None:
        self.cuts = cuts
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        self.seen.append(f"{scope['method']} {scope['path']}")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(OK)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if len(self.seen) <= self.cuts:
            raise ConnectionAbortedError("dropped on purpose")  # uvicorn closes the connection: the answer is cut
        await send({"type": "http.response.body", "body": OK})


@pytest.fixture
def dropping(live_app: Callable[..., LiveServer], caplog: pytest.LogCaptureFixture) -> Iterator[Callable[..., Any]]:
    """``dropping(cuts)`` -> (the URL of a real uvicorn serving a ``Dropping`` app, the app)."""
    caplog.set_level(logging.CRITICAL, logger="uvicorn.error")  # the app's failure is logged there, on purpose

    def start(cuts: int) -> tuple[str, Dropping]:
        app = Dropping(cuts)
        return live_app(app).url, app

    yield start


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("name", SAFE)
def test_a_safe_call_whose_connection_dropped_after_sending_is_retried(dropping: Any, name: str,
                                                                      asynchronous: bool) -> None:
    url, app = dropping(2)
    assert _call(url, name, 2, asynchronous) is not None
    assert len(app.seen) == 3 and len(set(app.seen)) == 1, app.seen  # two dropped, the third answered


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("name", UNSAFE)
def test_an_unsafe_call_whose_connection_dropped_is_never_retried(dropping: Any, name: str,
                                                                 asynchronous: bool) -> None:
    url, app = dropping(1)
    with pytest.raises(RemoteConnectionError) as caught:
        _call(url, name, 3, asynchronous)
    assert caught.value.sent is True and "may have applied" in str(caught.value)
    assert len(app.seen) == 1, app.seen


@pytest.mark.parametrize("asynchronous", [False, True])
def test_once_the_retries_are_spent_the_dropped_connection_is_raised(dropping: Any, asynchronous: bool) -> None:
    url, app = dropping(5)
    with pytest.raises(RemoteConnectionError) as caught:
        _call(url, "status", 2, asynchronous)
    assert caught.value.sent is True and "lost before the answer" in str(caught.value)
    assert "after 2 retries" in str(caught.value)
    assert len(app.seen) == 3, app.seen  # the first try and two retries


def test_without_retries_a_dropped_safe_call_is_tried_once(dropping: Any) -> None:
    url, app = dropping(1)
    with pytest.raises(RemoteConnectionError) as caught:
        _call(url, "health", 0, False)
    assert caught.value.sent is True and "retries" not in str(caught.value)
    assert app.seen == ["GET /v1/health"]
