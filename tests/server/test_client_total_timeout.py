"""``timeout`` bounds each read, so a server trickling its answer a byte at a time (each within the timeout) held a
Client call, a remote node and the worker running it far past it (measured: 8.6 s with ``timeout=1``). Every call
now has an overall deadline, ``total_timeout`` (default: 3 × the timeout): past it the Client raises
``RemoteConnectionError`` naming the URL and the deadline, a remote node fails with a located ``ResolutionError``,
and a call that is not safe to repeat is never repeated.

The server (tests/server/sse_peer.py, Trickle) sends the whole answer after ~5 s: without the deadline these calls succeed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.server import AsyncClient, Client, RemoteConnectionError
from tests.server.remote_contracts import article
from tests.server.sse_peer import Trickle

SUCCEEDED = json.dumps({"execution_id": "r1", "status": "succeeded", "outputs": {"score": 0.9},
                        "pad": "x" * 40}).encode()


@pytest.fixture
def trickle() -> Iterator[Any]:
    started: list[Trickle] = []

    def start(body: bytes = SUCCEEDED, **kw: Any) -> Trickle:
        server = Trickle(body, **kw).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_trickled_answer_is_cut_off_at_the_total_timeout(trickle: Any, in_headers: bool) -> None:
    server = trickle(in_headers=in_headers)
    with Client(server.url, timeout=0.5, total_timeout=1.0) as client, \
            pytest.raises(RemoteConnectionError) as caught:
        client.status("r1")
    err = caught.value
    url = f"{server.url}/v1/executions/r1"
    assert err.url == url and err.timeout is True and err.sent is True
    assert f"GET {url} did not complete within total_timeout=1s" in err.message
    assert err.context["total_timeout"] == 1.0


def test_the_default_total_timeout_is_three_times_the_timeout(trickle: Any) -> None:
    server = trickle()
    client = Client(server.url, timeout=0.4)
    assert client.total_timeout == pytest.approx(1.2)
    with client, pytest.raises(RemoteConnectionError, match=r"within total_timeout=1\.2s"):
        client.status("r1")
    assert Client(server.url, timeout=httpx.Timeout(1.0, read=2.0)).total_timeout == 6.0  # the longest part
    assert Client(server.url, timeout=httpx.Timeout(None)).total_timeout is None  # no timeout at all: none either
    assert Client(server.url, timeout=0.4, total_timeout=None).total_timeout == pytest.approx(1.2)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5", [5], 10**400])
def test_a_total_timeout_that_is_not_a_number_of_seconds_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^total_timeout must be a number of seconds > 0"):
        Client("http://127.0.0.1:9", total_timeout=bad)
    with pytest.raises(ValueError, match=r"^total_timeout must be a number of seconds > 0"):
        AsyncClient("http://127.0.0.1:9", total_timeout=bad)


@pytest.mark.parametrize(("bad", "shown"), [
    (0, "0"), (-1, "-1"), (float("nan"), "nan"), (float("inf"), "inf"), (True, "True"), ("5", "'5'"),
    (10**400, "1000"), (httpx.Timeout(5.0, read=-1), "httpx.Timeout with read=-1"),
    (httpx.Timeout(5.0, connect=float("nan")), "httpx.Timeout with connect=nan"),
])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(bad: Any, shown: str) -> None:
    """``timeout`` went to httpx unchecked: ``"5"`` failed only at the first call, ``nan`` made a total_timeout of
    ``nan``, ``10**400`` an ``OverflowError`` — now a ``ValueError`` naming the value, as ``total_timeout`` has."""
    for make in (Client, AsyncClient):
        with pytest.raises(ValueError, match=r"^timeout must be a number of seconds > 0") as caught:
            make("http://127.0.0.1:9", timeout=bad)
        assert f"got {shown}" in str(caught.value)
    assert Client("http://127.0.0.1:9", timeout=None).total_timeout is None  # None: no timeout, as in httpx
    assert Client("http://127.0.0.1:9", timeout=httpx.Timeout(2.0, pool=None)).total_timeout == 6.0


def test_a_huge_timeout_is_no_bound_not_an_overflow(trickle: Any) -> None:
    """``timeout=1e300`` reached the socket as it was: ``OverflowError: timestamp out of range`` at the first call."""
    server = trickle(slow=0)
    for huge in (1e300, httpx.Timeout(1e300), httpx.Timeout(2.0, read=1e300)):
        with Client(server.url, timeout=huge) as client:
            assert client.status("r1")["status"] == "succeeded"
    assert Client(server.url, timeout=1e300).total_timeout is None
    assert Client(server.url, timeout=httpx.Timeout(2.0, read=1e300)).total_timeout == 6.0


def test_a_call_not_safe_to_repeat_is_not_repeated_after_the_total_timeout(trickle: Any) -> None:
    server = trickle()
    with Client(server.url, timeout=0.5, total_timeout=1.0, retries=3) as client, \
            pytest.raises(RemoteConnectionError) as caught:
        client.execute("score", {"text": "x"})
    assert server.requests == 1
    assert "did not complete within total_timeout=1s" in caught.value.message
    assert "look for the execution" in caught.value.message  # what to do instead of repeating it


def test_a_call_safe_to_repeat_is_not_repeated_past_its_total_timeout_either(trickle: Any) -> None:
    server = trickle()
    with Client(server.url, timeout=0.5, total_timeout=1.0, retries=3) as client, \
            pytest.raises(RemoteConnectionError):
        client.health()
    assert server.requests == 1


def test_the_async_client_cuts_it_off_too(trickle: Any) -> None:
    server = trickle()

    async def main() -> None:
        async with AsyncClient(server.url, timeout=0.5, total_timeout=1.0) as client:
            await client.status("r1")

    with pytest.raises(RemoteConnectionError) as caught:
        asyncio.run(main())
    assert caught.value.timeout is True and caught.value.url == f"{server.url}/v1/executions/r1"
    assert "did not complete within total_timeout=1s" in caught.value.message
    assert Client(server.url, timeout=0.5, total_timeout=2).to_async().total_timeout == 2


def test_a_remote_node_fails_located_at_its_total_timeout(trickle: Any) -> None:
    server = trickle()
    contract = article(server.url, "score", timeout=0.5, total_timeout=1.0)(text="x")
    assert contract.status == "failed", contract.status
    err = contract.first_error()
    assert isinstance(err, ResolutionError)
    assert "no complete answer within total_timeout=1s" in err.message
    assert err.context["url"] == server.url and err.context["node"] == "sentiment"
    assert err.context["graph"] == "Article" and err.context["timeout"] is True
    assert server.requests == 1


def test_a_remote_node_has_the_default_total_timeout(trickle: Any) -> None:
    server = trickle()
    err = article(server.url, "score", timeout=0.4)(text="x").first_error()
    assert isinstance(err, ResolutionError) and "within total_timeout=1.2s" in err.message


@pytest.mark.parametrize("bad", [0, -1, -0.5, "soon", "5", True, False, float("nan"), float("inf"), 10**400, [5]])
def test_a_remote_node_refuses_a_total_timeout_that_is_not_seconds_where_it_is_declared(bad: Any) -> None:
    """Refused at run time only, once the node resolved (after its dependencies ran): now a ``CompileError`` at the
    ``c.remote`` line, as ``timeout=`` is, naming graph, node and the keyword."""
    with pytest.raises(ig.CompileError) as caught:
        article("http://127.0.0.1:9", "score", total_timeout=bad)
    err = caught.value
    assert "remote 'sentiment': `total_timeout=` must be a positive number of seconds" in err.message
    assert err.context["graph"] == "Article" and err.context["node"] == "sentiment"
    assert err.context["source_location"].endswith(tuple(f"remote_contracts.py:{n}" for n in range(80, 100)))


@pytest.mark.parametrize(("keyword", "bad", "says"), [
    ("timeout", 0, "`timeout=` must be a positive number of seconds"),
    ("timeout", "30", "`timeout=` must be a positive number of seconds"),
    ("max_answer_bytes", 0, "`max_answer_bytes=` must be an int >= 1"),
    ("max_answer_bytes", 1.5, "`max_answer_bytes=` must be an int >= 1"),
    ("max_answer_bytes", True, "`max_answer_bytes=` must be an int >= 1"),
    ("token_env", "", "`token_env=` must be the name of an environment variable"),
    ("token_env", 5, "`token_env=` must be the name of an environment variable"),
])
def test_the_other_remote_options_are_refused_where_declared_too(keyword: str, bad: Any, says: str) -> None:
    with pytest.raises(ig.CompileError, match=says) as caught:
        article("http://127.0.0.1:9", "score", **{keyword: bad})
    assert caught.value.context["node"] == "sentiment"


def test_a_stored_wait_with_a_damaged_total_timeout_still_fails_located() -> None:
    """A pending node's deferred payload is stored data: checked again when read (not only at definition)."""
    from igniter_nb.server.remote import RemoteCall

    call = RemoteCall.waiting("sentiment", {"remote_contract": "score", "remote_url": "http://127.0.0.1:9",
                                            "remote_execution_id": "r1", "total_timeout": "soon"})
    with pytest.raises(ResolutionError, match=r"total_timeout= must be a number of seconds > 0") as caught:
        call.client()
    assert "remote 'sentiment' (score@http://127.0.0.1:9)" in caught.value.message


def test_a_pending_remote_keeps_its_total_timeout_for_the_status_it_asks_later(trickle: Any) -> None:
    pending = json.dumps({"execution_id": "r1", "status": "pending", "outputs": {}}).encode()
    server = trickle(pending, slow=0)
    contract = article(server.url, "score", timeout=0.5, total_timeout=1.0)(text="x")
    assert contract.status == "pending"
    assert contract.first_deferred().payload["total_timeout"] == 1.0
    assert "total_timeout" not in ig.Contract.__dict__  # (no name clash with the contract API)


def test_a_huge_total_timeout_without_other_timeouts_is_no_bound_at_all(trickle: Any) -> None:
    """(A socket wait cut to 1e300 s overflowed the OS's timeval: ``OverflowError`` instead of the answer.)"""
    server = trickle(slow=0)
    with Client(server.url, timeout=httpx.Timeout(None), total_timeout=1e300) as client:
        assert client.status("r1")["status"] == "succeeded"

    async def main() -> dict[str, Any]:
        async with AsyncClient(server.url, timeout=httpx.Timeout(None), total_timeout=1e300) as client:
            return await client.status("r1")

    assert asyncio.run(main())["status"] == "succeeded"


def test_retries_stop_where_the_next_one_would_start_past_the_total_timeout(live_app: Any) -> None:
    """503 ``StoreUnavailable`` is retried (``retries=N``) after its ``Retry-After``: ten retries of 1 s each held
    the call ten seconds past a total_timeout of 1.5 s. The retry that would start too late is not made: the 503 is
    raised as it would be with no retries left."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    seen: list[int] = []

    async def unavailable(request: Any) -> JSONResponse:
        seen.append(1)
        return JSONResponse({"error": "the store did not answer", "type": "StoreUnavailable"}, status_code=503,
                            headers={"Retry-After": "1"})

    server = live_app(Starlette(routes=[Route("/v1/health", unavailable)]))
    with Client(server.url, timeout=0.5, total_timeout=1.5, retries=10) as client, \
            pytest.raises(ig.server.RemoteError) as caught:
        client.health()
    assert caught.value.status_code == 503 and caught.value.error_type == "StoreUnavailable"
    assert 1 <= len(seen) <= 2


def test_a_client_given_an_http_transport_of_its_own_is_bounded_too(trickle: Any) -> None:
    server = trickle()
    with Client(server.url, timeout=0.5, total_timeout=1.0, transport=httpx.HTTPTransport()) as client, \
            pytest.raises(RemoteConnectionError, match=r"did not complete within total_timeout=1s"):
        client.health()


class _FuturePool(httpcore.ConnectionPool):
    """httpcore's pool keeping its network backend under another name, as a future httpcore might."""

    def __init__(self) -> None:
        super().__init__()
        self._backend_elsewhere = self._network_backend
        del self._network_backend

    def create_connection(self, origin: httpcore.URL) -> httpcore.ConnectionInterface:
        return httpcore.HTTPConnection(origin=origin, network_backend=self._backend_elsewhere)


class _PoolOfAFutureHttpx(httpx.HTTPTransport):
    """A real transport whose connection pool has no ``_network_backend``: the Client cannot cut its socket waits
    to the deadline."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = _FuturePool()


class _NoPool(httpx.HTTPTransport):
    """A real transport keeping its pool under another name (no ``_pool`` at all)."""

    def __init__(self) -> None:
        super().__init__()
        self._kept = self._pool
        del self._pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._pool = self._kept
        try:
            return super().handle_request(request)
        finally:
            del self._pool

    def close(self) -> None:
        self._kept.close()


@pytest.mark.parametrize(("transport", "missing"), [
    (_PoolOfAFutureHttpx, "a connection pool (_FuturePool) without a network backend (_network_backend)"),
    (_NoPool, "has no connection pool (_pool)"),
])
def test_a_transport_that_cannot_be_bounded_is_said_so_at_construction(trickle: Any, transport: Any,
                                                                       missing: str) -> None:
    """The deadline relies on httpx internals (``_pool._network_backend``). Without them the Client kept working
    without its total_timeout and said nothing: now a ``TotalTimeoutWarning`` at construction names the client,
    the deadline, the transport and what is missing (an error with a warnings filter)."""
    server = trickle(slow=0)
    with pytest.warns(ig.server.TotalTimeoutWarning) as caught:
        client = Client(server.url, timeout=0.5, total_timeout=1.0, transport=transport())
    [warning] = caught.list
    text = str(warning.message)
    assert f"Client('{server.url}'): total_timeout=1s cannot be enforced" in text
    assert transport.__name__ in text and missing in text and "bounded by timeout only" in text
    assert warning.filename == __file__  # points at the construction, not into igniter_nb
    with client:
        assert client.status("r1")["status"] == "succeeded"  # it still works, bounded by timeout
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ig.server.TotalTimeoutWarning)
        with pytest.raises(ig.server.TotalTimeoutWarning):
            Client(server.url, total_timeout=1.0, transport=transport())
        Client(server.url, timeout=httpx.Timeout(None), transport=transport()).close()  # no deadline: nothing lost
        Client(server.url, total_timeout=1.0).close()  # httpx's own transport is bounded: no warning
        Client(server.url, total_timeout=1.0, transport=httpx.HTTPTransport()).close()
