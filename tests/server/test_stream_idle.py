"""``Client.events`` / ``AsyncClient.events`` and a stream that goes quiet. ``read_timeout`` bounded each socket
read only, so a peer sending bytes that never make a message — a line that never ends, blank lines — held the
iterating caller for as long as it sent them. It is now the stream's idle deadline: the longest it may go without a
message or a keep-alive comment (keep-alives are fine: a live server pings every 15 s while nothing happens).
Past it the connection counts as dropped: opened again with ``Last-Event-ID``, and ``reconnects`` silent attempts
in a row raise ``RemoteConnectionError(timeout=True)`` naming the URL.

And a ping after an event (``: ping\\r\\n\\r\\n``: its blank line dispatches an empty block, carrying the last
event id) ended the iteration with ``RemoteError: ... sent data that is not JSON: ''`` — on a real server, any
stream quiet for 15 s after an event.

The peers are raw servers on 127.0.0.1 (tests/server/sse_peer.py) and a real uvicorn. Each peer script ends with
an ``end`` message, or in silence that the idle deadline must cut: without the fix the first kind of test gets the
``end`` (and fails its ``raises``), never hangs."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.server import AsyncClient, Client, RemoteConnectionError
from tests.polling import wait_for
from tests.server.server_contracts import CONTRACTS, Lead

PATH = "/v1/executions/e1/events"


def _event(seq: int) -> bytes:
    data = {"seq": seq, "type": "node_resolved", "node": "n", "path": "n", "status": "succeeded", "payload": {},
            "timestamp": 1.0, "version": 1}
    return f"id: {seq}\nevent: event\ndata: {json.dumps(data)}\n\n".encode()


#: A block with no data: no message, but the reconnection delay it sets (20 ms instead of 1 s) keeps tests fast.
FAST = b"retry: 20\n\n"
END = b'event: end\ndata: {"status": "succeeded", "reason": "finished"}\n\n'


def _trickle(piece: bytes, times: int = 40, every: float = 0.1) -> list[bytes | float]:
    return [step for _ in range(times) for step in (every, piece)]


def _follow(url: str, **kw: Any) -> tuple[list[Any], BaseException | None]:
    got: list[Any] = []
    try:
        with Client(url, timeout=5) as client:
            for message in client.events("e1", **kw):
                got.append(message)
    except Exception as exc:
        return got, exc
    return got, None


def _afollow(url: str, **kw: Any) -> tuple[list[Any], BaseException | None]:
    got: list[Any] = []

    async def main() -> None:
        async with AsyncClient(url, timeout=5) as client:
            async for message in client.events("e1", **kw):
                got.append(message)

    try:
        asyncio.run(main())
    except Exception as exc:
        return got, exc
    return got, None


FOLLOWERS = pytest.mark.parametrize("follow", [_follow, _afollow], ids=["Client", "AsyncClient"])


def _silence(err: BaseException | None, url: str, times: str) -> None:
    assert isinstance(err, RemoteConnectionError), err
    assert err.timeout is True and err.url == f"{url}{PATH}"
    assert err.message == (f"the stream of {url}{PATH} sent no message and no keep-alive within read_timeout=0.3s "
                           f"({times})")
    assert err.context["read_timeout"] == 0.3


@FOLLOWERS
@pytest.mark.parametrize("noise", [b"x", b"\n", b"\r\n", b"retry: 100\n", b"data: {\"a\"", b"id: 7\n\n"],
                         ids=["unended-line", "blank-lines", "crlf", "retry-field", "unended-data", "id-only"])
def test_bytes_that_make_no_message_do_not_hold_the_caller(peer: Any, follow: Any, noise: bytes) -> None:
    server = peer([FAST, _event(1), *_trickle(noise), END], [])
    got, err = follow(server.url, reconnects=0, read_timeout=0.3)
    assert [m.id for m in got] == ["1"]  # the event before the noise; never the end after it
    _silence(err, server.url, "once")  # (the first connection brought a message: its silence is not counted)
    assert server.last_event_ids == [None, "1"]


@FOLLOWERS
def test_headers_then_total_silence_raise_after_the_reconnects(peer: Any, follow: Any) -> None:
    server = peer([FAST])
    got, err = follow(server.url, reconnects=2, read_timeout=0.3)
    assert got == []
    _silence(err, server.url, "3 times in a row")
    assert server.last_event_ids == [None, None, None]


@FOLLOWERS
def test_a_silent_connection_is_opened_again_with_last_event_id(peer: Any, follow: Any) -> None:
    server = peer([FAST, _event(3), _event(4)], [_event(5), END])
    got, err = follow(server.url, reconnects=1, read_timeout=0.3)
    assert err is None
    assert [m.id for m in got] == ["3", "4", "5", None] and got[-1].kind == "end"
    assert server.last_event_ids == [None, "4"]


@FOLLOWERS
def test_silence_after_messages_reconnects_then_gives_up_with_the_last_event_id(peer: Any, follow: Any) -> None:
    server = peer([FAST, _event(1)], [])
    got, err = follow(server.url, reconnects=1, read_timeout=0.3)
    assert [m.id for m in got] == ["1"]
    _silence(err, server.url, "2 times in a row")  # the first connection brought a message: not counted
    assert server.last_event_ids == [None, "1", "1"]


@FOLLOWERS
def test_keep_alive_comments_keep_a_quiet_stream_open(peer: Any, follow: Any) -> None:
    """Comments every 0.1 s for 1.2 s, past read_timeout=0.3 many times over: one connection, then the end."""
    server = peer([_event(1), *_trickle(b": ping\r\n\r\n", times=12), _event(2), END])
    got, err = follow(server.url, reconnects=0, read_timeout=0.3)
    assert err is None
    assert [m.id for m in got] == ["1", "2", None]
    assert server.last_event_ids == [None]


@FOLLOWERS
def test_a_ping_after_an_event_is_no_message(peer: Any, follow: Any) -> None:
    server = peer([_event(1), b": ping - 2026-12-04 19:00:00\r\n\r\n", b"\r\n\r\n", _event(2), END])
    got, err = follow(server.url, reconnects=0, read_timeout=5)
    assert err is None, err
    assert [(m.kind, m.id) for m in got] == [("event", "1"), ("event", "2"), ("end", None)]


def test_a_real_server_pinging_after_events_is_followed_to_the_end(live_app: Any, store: Any,
                                                                   monkeypatch: Any) -> None:
    """A real uvicorn pinging every 0.1 s (as it pings every 15 s): the stream stays open past read_timeout and
    across its pings — one connection (one opening status), every event once, then the end."""
    import igniter_nb.server.app as app_module

    monkeypatch.setattr(app_module, "PING_SECONDS", 0.1)
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    got: list[Any] = []
    failed: list[BaseException] = []
    with Client(server.url, timeout=10) as client:
        eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]

        def run() -> None:
            try:
                got.extend(client.events(eid, reconnects=0, read_timeout=0.5))
            except Exception as exc:
                failed.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        wait_for(lambda: any(m.kind == "event" for m in got) or failed, timeout=10.0, every=0.02)
        threading.Event().wait(1.0)  # several pings, twice read_timeout
        Lead.deliver_event("crm_received", correlation={"request_id": "r-1"}, payload={"name": "Acme"}, store=store)
        Lead.deliver_event("billing_received", correlation={"request_id": "r-1"}, payload={"plan": "pro"},
                           store=store)
        thread.join(10)
    assert not thread.is_alive() and failed == []
    versions = [m.data["version"] for m in got if m.kind == "status"]
    assert got[0].kind == "status" and versions[0] == 1
    assert versions == sorted(set(versions))  # one connection: a reconnection would open with a status again
    events = [int(m.id) for m in got if m.kind == "event"]
    assert events == [e["seq"] for e in store.record(eid).snapshot["events"]]
    assert got[-1].kind == "end" and got[-1].data["status"] == "succeeded"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 10**400, True, "60"])
def test_a_read_timeout_that_is_not_seconds_is_refused_at_the_call(bad: Any) -> None:
    with Client("http://127.0.0.1:9") as client, pytest.raises(ValueError, match=r"^read_timeout must be"):
        client.events("e1", read_timeout=bad)


@pytest.mark.parametrize(("chunks", "lines"), [
    (["a\nb\n"], ["a", "b"]),
    (["a", "b\n", "c"], ["ab"]),  # a line is complete only at its end of line
    (["a\r", "\nb\r\n"], ["a", "b"]),  # \r\n split across chunks is one end of line
    (["a\r", "b\r"], ["a", "b"]),  # \r alone ends a line too, at once (no wait for what follows it)
    (["a\r"], ["a"]),
    (["a\r", "\n"], ["a"]),  # ... and a \n starting the next chunk is the rest of its \r\n, no blank line
    (["a\r", "", "\nb\n"], ["a", "b"]),
    (["a\r", "\r\n"], ["a", ""]),
    (["\ufeffa\n"], ["a"]),  # one byte order mark at the stream's start is dropped ...
    (["", "\ufeff", "a\n"], ["a"]),
    (["\ufeff\ufeffa\n"], ["\ufeffa"]),  # ... only one
    (["a\n\ufeffb\n"], ["a", "\ufeffb"]),  # ... and only at the start
    (["\n\n\r\n"], ["", "", ""]),
    (["a\r", "b"], ["a"]),  # a \r then no end of line: the line it ended is not held back
    (["a\r", "\r", "b\n"], ["a", "", "b"]),
    (["a", "b", "c\r", "\nd\n"], ["abc", "d"]),
    ([""], []),
])
def test_lines_are_split_on_every_end_of_line_across_chunks(chunks: list[str], lines: list[str]) -> None:
    from igniter_nb.server.sse_parse import Lines

    reader = Lines(100)
    assert [line for chunk in chunks for line in reader.feed(chunk)] == lines


@FOLLOWERS
@pytest.mark.parametrize("bom", [b"", "\ufeff".encode()], ids=["no-bom", "bom"])
def test_a_stream_ending_lines_with_cr_alone_is_read_at_once(peer: Any, follow: Any, bom: bytes) -> None:
    event = _event(1).replace(b"\n", b"\r")  # the blank line ending the message is the chunk's last \r
    server = peer([bom + FAST, event], [])
    got, err = follow(server.url, reconnects=0, read_timeout=0.3)
    assert [m.id for m in got] == ["1"]  # (it waited for a byte that never came, and the message was lost)
    _silence(err, server.url, "once")


@FOLLOWERS
def test_a_byte_order_mark_at_the_stream_start_is_dropped(peer: Any, follow: Any) -> None:
    server = peer(["\ufeff".encode() + _event(1), END], [])  # (the first line is "id: 1", not "\ufeffid: 1")
    got, err = follow(server.url, reconnects=0, read_timeout=5)
    assert err is None and [m.kind for m in got] == ["event", "end"] and got[0].id == "1"


@FOLLOWERS
def test_a_retry_field_of_thousands_of_digits_is_a_long_delay_not_an_error(peer: Any, follow: Any) -> None:
    """int() of more than 4,300 digits raises ValueError: it came out of events() raw, naming no stream."""
    server = peer([b"retry: " + b"9" * 5000 + b"\n\n" + _event(1) + END], [])
    got, err = follow(server.url, reconnects=0, read_timeout=5)
    assert err is None and [m.kind for m in got] == ["event", "end"]


def test_blocks_dispatch_only_blocks_with_data() -> None:
    from igniter_nb.server.sse_parse import COMMENT, Blocks

    blocks = Blocks(100)
    out = [blocks.line(line) for line in ["id: 4", "event: event", "data: {", "data:}", "", ": ping", "", "retry: 50",
                                          "", "id: 5", "", "event: end", "", "retry: soon", "data: x", ""]]
    first, last = out[4], out[-1]
    assert (first.event, first.data, first.id) == ("event", "{\n}", "4")  # type: ignore[union-attr]
    assert out[5] is COMMENT
    assert [o for o in out if o is not None and o is not COMMENT] == [first, last]  # no data: no message
    assert (last.event, last.data, last.id, last.retry) == ("message", "x", "5", 50)  # type: ignore[union-attr]
    blocks.line("retry: " + "9" * 5000)
    assert blocks.retry is not None and blocks.retry >= 10**15  # (a delay past any wait the client makes)


@FOLLOWERS
def test_a_huge_read_timeout_is_no_idle_deadline_not_an_overflow(peer: Any, follow: Any) -> None:
    """(``read_timeout=1e300`` reached the socket as it was: ``OverflowError`` from the blocking Client.)"""
    server = peer([_event(1), END])
    got, err = follow(server.url, reconnects=0, read_timeout=1e300)
    assert err is None and [m.kind for m in got] == ["event", "end"]


def test_a_line_or_message_past_the_limit_is_refused_not_buffered() -> None:
    from igniter_nb.server.sse_parse import Blocks, Lines, MessageTooLarge

    lines = Lines(10)
    assert lines.feed("x" * 10) == [] and lines.too_long is None
    assert lines.feed("x") == [] and lines.too_long == "a line longer than 10 characters"  # never ending, in pieces
    assert lines.feed("\nnext\n") == []  # nothing more is read
    lines = Lines(10)
    assert lines.feed("ok\n" + "y" * 11 + "\nafter\n") == ["ok"]  # the lines before it, in one chunk
    assert lines.too_long == "a line longer than 10 characters"
    lines = Lines(10)
    assert lines.feed("ok\n" + "y" * 11) == ["ok"] and lines.too_long is not None
    blocks = Blocks(10)
    blocks.line("data: 12345")
    with pytest.raises(MessageTooLarge, match="a message whose data is longer than 10 characters"):
        blocks.line("data: 6789")  # many short data lines, never a blank line


@FOLLOWERS
@pytest.mark.parametrize("flood", [b"x" * 4096, b"data: " + b"y" * 4090 + b"\n"], ids=["line", "data-lines"])
def test_a_stream_flooding_one_message_stops_at_max_answer_bytes(peer: Any, follow: Any, flood: bytes) -> None:
    """A peer sending one line that never ends (or data lines without the blank line) as fast as it can was
    buffered for all of read_timeout (64 MB by default), each chunk copying all before it."""
    server = peer([_event(1), *[flood] * 40, END])
    kw = {"reconnects": 0, "read_timeout": 5}
    got: list[Any] = []
    if follow is _follow:
        with Client(server.url, timeout=5, max_answer_bytes=50_000) as client, \
                pytest.raises(ig.server.AnswerTooLargeError) as caught:
            got.extend(client.events("e1", **kw))
    else:
        async def main() -> None:
            async with AsyncClient(server.url, timeout=5, max_answer_bytes=50_000) as client:
                async for message in client.events("e1", **kw):
                    got.append(message)

        with pytest.raises(ig.server.AnswerTooLargeError) as caught:
            asyncio.run(main())
    assert [m.id for m in got] == ["1"]
    err = caught.value
    assert err.url == f"{server.url}{PATH}" and err.limit == 50_000
    assert "(max_answer_bytes=50000); nothing more was read" in err.message
    assert server.last_event_ids == [None]  # not opened again


@FOLLOWERS
@pytest.mark.parametrize("ident", ["1\u00e9", "x", "-1", "1 2", "\u0661"], ids=["latin", "word", "sign", "space", "arabic-digit"])
def test_an_event_id_that_is_not_a_seq_is_a_remote_error_not_a_raw_one(peer: Any, follow: Any, ident: str) -> None:
    """The id is sent back as ``Last-Event-ID`` on reconnecting: ``1é`` raised a raw ``UnicodeEncodeError`` from
    the iterator there (``x`` got the server's 422). Refused where it arrives, naming the stream and the id."""
    event = _event(1).replace(b"id: 1", f"id: {ident}".encode())
    server = peer([FAST, event], [])
    got, err = follow(server.url, reconnects=1, read_timeout=0.3)
    assert got == []
    assert isinstance(err, ig.server.RemoteError) and err.context["url"] == f"{server.url}{PATH}"
    assert err.message == f"the stream of {server.url}{PATH} sent an event id that is not an event seq: {ident!r}"
    assert server.last_event_ids == [None]
