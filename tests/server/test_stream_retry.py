"""The ``retry:`` field of a live stream and the delay ``Client.events`` / ``AsyncClient.events`` wait before
opening it again. The HTML standard sets the reconnection time to any value of ASCII digits, **0 included**; our
reader took ``retry: 0`` and then ignored it (``if blocks.retry:``), waiting the previous delay (1 s) instead of
reconnecting at once. A value that is not only ASCII digits (``-1``, ``1 000``, ``5ms``, ``１``, empty, a second
space) is ignored, as the standard says; one past 10 s waits 10 s (``follow.MAX_DELAY``); attempts that brought
nothing in a row back off from ``max(retry, MIN_BACKOFF)`` doubling, so ``retry: 0`` never makes a tight loop of
failing connections. Raw peers on 127.0.0.1 (tests/server/sse_peer.py)."""

from __future__ import annotations

from typing import Any

import pytest

from igniter_nb.server import follow as follow_module
from igniter_nb.server.sse_parse import Blocks
from tests.server.test_stream_idle import END, FOLLOWERS, _event


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the follower chose before each reconnect (recorded; the test then does not wait them)."""
    chosen: list[float] = []
    real = follow_module._Follow.again

    def again(self: Any, exc: Any) -> float:
        chosen.append(real(self, exc))
        return 0.0

    monkeypatch.setattr(follow_module._Follow, "again", again)
    return chosen


@pytest.mark.parametrize(("value", "expected"), [
    ("0", 0), ("00", 0), ("7", 7), ("1500", 1500), ("9" * 5000, 10**15),
    ("-1", None), ("1 000", None), ("5ms", None), ("\uff11", None), ("", None), ("\t5", None), ("5 ", None), ("+5", None),
    ("1.5", None), ("0x10", None)])
def test_retry_values_the_standard_takes_and_ignores(value: str, expected: int | None) -> None:
    blocks = Blocks(1000)
    blocks.line(f"retry: {value}")
    assert blocks.retry == expected
    blocks.line("retry: 3")
    blocks.line(f"retry:{value}")  # (without the space: the same value)
    assert blocks.retry == (3 if expected is None else expected)


@FOLLOWERS
def test_retry_0_reconnects_at_once(peer: Any, follow: Any, waits: list[float]) -> None:
    server = peer([b"retry: 0\n\n", _event(1)], [_event(2), END], close=True)
    got, err = follow(server.url, reconnects=1, read_timeout=5)
    assert err is None, err
    assert [m.id for m in got] == ["1", "2", None]
    assert waits == [0.0]
    assert server.last_event_ids == [None, "1"]


@FOLLOWERS
@pytest.mark.parametrize(("field", "wait"), [
    (b"retry: 250\n", 0.25), (b"retry: 99999999999999999999\n", 10.0), (b"retry: -1\n", 1.0),
    (b"retry: 1 000\n", 1.0), (b"retry:  5\n", 1.0), (b"retry: 5ms\n", 1.0), (b"retry: \xef\xbc\x91\n", 1.0)])
def test_the_delay_follows_the_retry_field_and_is_bounded(peer: Any, follow: Any, waits: list[float], field: bytes,
                                                          wait: float) -> None:
    server = peer([field, _event(1)], [_event(2), END], close=True)
    got, err = follow(server.url, reconnects=1, read_timeout=5)
    assert err is None, err
    assert [m.id for m in got] == ["1", "2", None]
    assert waits == [wait]


@FOLLOWERS
def test_retry_0_backs_off_after_attempts_that_bring_nothing(peer: Any, follow: Any, waits: list[float]) -> None:
    """A peer saying ``retry: 0`` then closing every later connection at once: the attempts in a row wait
    MIN_BACKOFF doubling (never 0 s: no tight loop), then ``reconnects`` ends it."""
    server = peer([b"retry: 0\n\n", _event(1)], [b"retry: 0\n\n"], close=True)
    got, err = follow(server.url, reconnects=3, read_timeout=5)
    assert [m.id for m in got] == ["1"] and err is not None
    low = follow_module.MIN_BACKOFF
    assert waits == [0.0, low, low * 2, low * 4]


def test_a_real_server_s_retry_is_the_wait_after_it_closes_a_quiet_stream(live_app: Any, waits: list[float]) -> None:
    """A real uvicorn: the stream says ``retry: 1000`` (stream.RETRY_MS) and closes a quiet stream after
    ``stream_idle_seconds``; the follower opens it again after that 1 s, with its Last-Event-ID."""
    import igniter_nb as ig
    from igniter_nb.server import Client
    from igniter_nb.server.stream import RETRY_MS
    from igniter_nb.stores import MemoryStore
    from tests.server.server_contracts import CONTRACTS

    with MemoryStore() as store:
        server = live_app(ig.server.create_app(CONTRACTS, store=store, stream_idle_seconds=0.3))
        with Client(server.url, timeout=10) as client:
            eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
            statuses = 0
            for message in client.events(eid, reconnects=1, read_timeout=5):
                statuses += message.kind == "status"
                if statuses == 2:  # the second connection's first message
                    break
    assert waits == [RETRY_MS / 1000]
