"""``Client.events`` / ``AsyncClient.events`` and a server or proxy that sends an event id again after a reconnect
(``Last-Event-ID``): the caller got that event twice. An event whose id (its seq) is at or below the last one
yielded, or the ``last_event_id`` given, is now dropped; and a replay is no new message, so a peer that only ever
replays cannot keep the caller reconnecting for ever. Raw peers on 127.0.0.1 (tests/server/sse_peer.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from igniter_nb.server import AsyncClient, Client, RemoteConnectionError
from tests.server.test_stream_idle import END, FAST, _event


def _follow(url: str, limit: int = 20, **kw: Any) -> tuple[list[Any], BaseException | None]:
    got: list[Any] = []
    try:
        with Client(url, timeout=5) as client:
            for message in client.events("e1", **kw):
                got.append(message)
                if len(got) >= limit:
                    break
    except Exception as exc:
        return got, exc
    return got, None


def _afollow(url: str, limit: int = 20, **kw: Any) -> tuple[list[Any], BaseException | None]:
    got: list[Any] = []

    async def main() -> None:
        async with AsyncClient(url, timeout=5) as client:
            async for message in client.events("e1", **kw):
                got.append(message)
                if len(got) >= limit:
                    break

    try:
        asyncio.run(main())
    except Exception as exc:
        return got, exc
    return got, None


FOLLOWERS = pytest.mark.parametrize("follow", [_follow, _afollow], ids=["Client", "AsyncClient"])


@FOLLOWERS
def test_an_event_replayed_after_a_reconnect_is_yielded_once(peer: Any, follow: Any) -> None:
    server = peer([FAST, _event(1), _event(2)], [_event(2), _event(3), END], close=True)
    got, err = follow(server.url, reconnects=1, read_timeout=5)
    assert err is None, err
    assert [(m.kind, m.id) for m in got] == [("event", "1"), ("event", "2"), ("event", "3"), ("end", None)]
    assert server.last_event_ids == [None, "2"]


@FOLLOWERS
def test_older_ids_and_ids_at_or_below_the_given_last_event_id_are_dropped(peer: Any, follow: Any) -> None:
    """Out of order on one connection too, and ids written with leading zeros or past what int() reads."""
    huge = "9" * 5000
    server = peer([_event(3), _event(2), _event(4), _event(4).replace(b"id: 4", b"id: 0004"), _event(5),
                   _event(5).replace(b"id: 5", f"id: {huge}".encode()), _event(6), END])
    got, err = follow(server.url, reconnects=0, read_timeout=5, last_event_id=3)
    assert err is None, err
    assert [m.id for m in got] == ["4", "5", huge, None]
    assert server.last_event_ids == ["3"]


@FOLLOWERS
def test_a_peer_that_only_replays_counts_as_silent_and_gives_up(peer: Any, follow: Any) -> None:
    """Each connection sends event 1 again and closes: without the fix an endless stream of the same event (the
    follower stops it after 10); now those attempts brought nothing new, and ``reconnects`` bounds them."""
    server = peer([FAST, _event(1)], [_event(1)], close=True)
    got, err = follow(server.url, reconnects=2, read_timeout=5, limit=10)
    assert [m.id for m in got] == ["1"]
    assert isinstance(err, RemoteConnectionError), err
    assert "closed 3 times in a row without a message" in err.message
    assert server.last_event_ids == [None, "1", "1", "1"]


@FOLLOWERS
def test_replays_on_one_connection_do_not_hold_the_caller_past_read_timeout(peer: Any, follow: Any) -> None:
    """Event 1 sent again every 0.1 s for 4 s: no new message, so the idle deadline (0.3 s) cuts the connection."""
    server = peer([FAST, _event(1), *[step for _ in range(40) for step in (0.1, _event(1))], END], [])
    got, err = follow(server.url, reconnects=0, read_timeout=0.3)
    assert [m.id for m in got] == ["1"]  # never the end after the replays
    assert isinstance(err, RemoteConnectionError) and err.timeout is True, err
    assert server.last_event_ids == [None, "1"]
