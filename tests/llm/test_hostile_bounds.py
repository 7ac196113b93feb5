"""A provider that answers for ever: a body trickled a byte at a time (each byte well within the executor's
``timeout``, which bounds each read only) or a body far larger than any answer (streamed without end). The SDKs
read on — the worker and its node held for as long as the provider liked, the whole body in memory. Now each
provider call has a deadline (``Executor.total_timeout``) and a size cap (``Executor.max_answer_bytes``): past
either the call stops, is not retried, and fails with a ``ProviderError`` saying which bound and naming the
provider and its URL. The provider is a plain socket server on 127.0.0.1 that gives up on its own after a few
seconds or 20 MB (so the tests end on main too)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import igniter_nb as ig
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class

GIVE_UP_SECONDS = 4.0
GIVE_UP_BYTES = 20_000_000


class RawProvider:
    """Answers every request with ``head`` and then the pieces of ``body()``, with ``pause`` seconds between them,
    until the client goes away or the server gives up."""

    def __init__(self, head: bytes, body: Callable[[], Iterator[bytes]], pause: float) -> None:
        self.head, self.body, self.pause = head, body, pause
        self.requests = 0
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # (accept waits no longer: stop() ends the thread at once)
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            with conn:
                conn.settimeout(GIVE_UP_SECONDS)
                try:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")), 0)
                    while len(body) < length:
                        body += conn.recv(65536)
                    conn.sendall(self.head)
                    end = time.monotonic() + GIVE_UP_SECONDS
                    for piece in self.body():
                        if time.monotonic() > end or self.sent > GIVE_UP_BYTES or self.closed.is_set():
                            break
                        conn.sendall(piece)
                        self.sent += len(piece)
                        if self.pause:
                            time.sleep(self.pause)
                except OSError:  # the client closed the connection
                    pass

    def url(self, provider: str) -> str:
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if provider == "openai" else root

    def stop(self) -> None:
        self.closed.set()
        self.listener.close()
        self.thread.join(10)


@pytest.fixture
def raw() -> Iterator[Callable[..., RawProvider]]:
    started: list[RawProvider] = []

    def start(head: bytes, body: Callable[[], Iterator[bytes]], pause: float = 0.0) -> RawProvider:
        started.append(RawProvider(head, body, pause))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def _trickled() -> Iterator[bytes]:
    while True:
        yield b" "  # (JSON whitespace: the body never ends, each byte in time)


def _huge() -> Iterator[bytes]:
    chunk = b" " * 65536
    while True:
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)


JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def _quiet(text: str) -> None:
    pass


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_body_trickled_for_ever_is_cut_off_at_the_total_timeout(provider, stream, raw):
    server = raw(JSON_HEAD, _trickled, pause=0.05)
    executor = executor_class(provider, base_url=server.url(provider), api_key="k", max_retries=2, timeout=0.5,
                              total_timeout=1.0)
    with pytest.raises(ig.llm.ProviderError) as info:
        executor().complete("q", stream=_quiet if stream else None)
    message = str(info.value)
    assert "no complete answer within total_timeout=1s" in message and f"127.0.0.1:{server.port}" in message
    assert info.value.provider == provider and info.value.context["total_timeout"] == 1.0
    assert server.requests == 1  # not retried: a retry would start the wait again


@pytest.mark.parametrize("head", [CHUNKED_HEAD, SSE_HEAD], ids=["json", "event-stream"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_endless_body_is_cut_off_at_max_answer_bytes(provider, head, raw):
    server = raw(head, _huge)
    executor = executor_class(provider, base_url=server.url(provider), api_key="k", max_retries=2,
                              max_answer_bytes=1_000_000)
    with pytest.raises(ig.llm.ProviderError) as info:
        executor().complete("q", stream=_quiet if head is SSE_HEAD else None)
    message = str(info.value)
    assert "more than 1000000 bytes" in message and f"127.0.0.1:{server.port}" in message
    assert info.value.context["max_answer_bytes"] == 1_000_000
    assert server.requests == 1 and server.sent < GIVE_UP_BYTES  # stopped at the cap (and what sockets buffer)


def test_the_node_fails_located_with_the_bound_in_its_context(raw):
    server = raw(JSON_HEAD, _trickled, pause=0.05)
    executor = executor_class("anthropic", base_url=server.url("anthropic"), api_key="k", timeout=0.5,
                              total_timeout=1.0)
    contract = contract_class(executor)(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.context["node"] == "answer"
    assert "total_timeout=1s" in str(error)


@pytest.mark.parametrize("setting", ["total_timeout", "max_answer_bytes"])
@pytest.mark.parametrize("bad", [0, -1, True, "5", float("nan"), float("inf")])
def test_bounds_that_are_not_numbers_are_refused_when_the_class_is_made(setting, bad):
    if setting == "max_answer_bytes" and bad == float("inf"):
        bad = 1.5
    with pytest.raises(ig.llm.ConfigurationError, match=setting):
        executor_class("anthropic", **{setting: bad})


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_retry_wait_longer_than_the_time_left_is_not_slept_past_the_deadline(provider, stubs):
    """The SDK sleeps what ``Retry-After`` asks (up to 120 s) before a retry: that sleep is cut to the time the
    call's ``total_timeout`` leaves, and the call then fails at its deadline (on main it slept 8 s and retried)."""
    from igniter_nb.llm.testing import StubFailure, StubReply

    stub = stubs(provider, [StubFailure(429, "slow down", headers={"retry-after": "8"}), StubReply("late")])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=2, total_timeout=1.0)().complete("q")
    assert "no complete answer within total_timeout=1s" in str(info.value)
    assert len(stub.requests) == 1  # the retry would have come after the deadline: it is not made
