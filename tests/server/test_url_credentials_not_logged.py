"""A password in a server's URL (``http://user:s3cr3t-PW@127.0.0.1:port/``, for a proxy with basic auth) was logged
whole: httpx logs each request's URL at INFO (``HTTP Request: POST http://user:s3cr3t-PW@…``), and ``Client``,
``AsyncClient`` and remote nodes gave httpx the URL with its user part. Now the user part is taken out of the URL
and sent as httpx's ``auth=(user, password)``: the server gets the same ``Authorization: Basic`` header as before
(percent-encoded characters decoded as httpx decoded them: ``%40``, ``:``, an unencoded ``@``, spaces, non-ASCII),
and the URL httpx logs has no user part. The same for a callback URL with a password, whose ``igniter_nb.server``
log lines (sent, failed) also quoted it whole.

Every record of the ``httpx``, ``httpcore`` and ``igniter_nb`` loggers, at DEBUG, is checked; the servers are real
(uvicorn on 127.0.0.1), recording the ``Authorization`` header each request brings."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, article
from tests.services import dead_port

SECRET = "s3cr3t-PW"


class Recording:
    """An app recording the ``Authorization`` header of every HTTP request; answers ``{"ok": true}`` itself when it
    wraps no app (a callback receiver)."""

    def __init__(self, app: Any = None) -> None:
        self.app = app
        self.seen: list[bytes | None] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(dict(scope["headers"]).get(b"authorization"))
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        else:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"ok": true}'})


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore", "igniter_nb"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[LiveServer, Recording]]:
    app = Recording(ig.server.create_app(REMOTE, store=MemoryStore()))
    with LiveServer(app) as server:
        yield server, app


def _url(server: LiveServer, userinfo: str) -> str:
    return server.url.replace("http://", f"http://{userinfo}@") + "/"


def _basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def _nothing_logged_holds_the_password(logs: pytest.LogCaptureFixture) -> list[str]:
    messages = [record.getMessage() for record in logs.records]
    leaked = [message for message in messages if SECRET in message]
    assert not leaked, leaked
    return messages


#: A URL's user part, and the user and password the server must get from it (as httpx decoded them before).
USERINFO = [
    (f"user:{SECRET}", "user", SECRET),
    (f"user:{SECRET}%40x", "user", f"{SECRET}@x"),
    (f"user:{SECRET}%2540x", "user", f"{SECRET}%40x"),
    (f"user:{SECRET}@x", "user", f"{SECRET}@x"),  # an unencoded @: up to the last one
    (f"user:{SECRET}:x", "user", f"{SECRET}:x"),
    (f"us%40er:{SECRET} x", "us@er", f"{SECRET} x"),
    (f"user:{SECRET}%20é€", "user", f"{SECRET} é€"),
    (f"{SECRET}", SECRET, ""),  # a user and no password
    (f":{SECRET}", "", SECRET),
]


async def _async_health(client: ig.server.Client) -> dict[str, Any]:
    async with client.to_async() as asyncly:
        return await asyncly.health()


@pytest.mark.parametrize(("userinfo", "user", "password"), USERINFO)
def test_the_client_sends_the_urls_credentials_and_logs_no_password(
        remote: tuple[LiveServer, Recording], logs: pytest.LogCaptureFixture, userinfo: str, user: str,
        password: str) -> None:
    server, app = remote
    del app.seen[:]
    url = _url(server, userinfo)
    with ig.server.Client(url, retries=1, timeout=5.0) as client:
        assert client.health()["status"] == "ok"
        run = client.execute("score", {"text": "great fine"})  # (the client that never retries)
        assert client.status(run["execution_id"])["status"] == "succeeded"
        assert [m.kind for m in client.events(run["execution_id"])][-1] == "end"  # the live stream
        assert asyncio.run(_async_health(client))["status"] == "ok"
    with ig.server.Client(url, max_answer_bytes=None, timeout=5.0) as unlimited:
        assert unlimited.health()["status"] == "ok"
    assert app.seen == [_basic(user, password)] * 6
    messages = _nothing_logged_holds_the_password(logs)
    assert any(m.startswith(f"HTTP Request: GET {server.url}/v1/health ") for m in messages), messages


def test_the_urls_credentials_still_replace_a_token(remote: tuple[LiveServer, Recording],
                                                    logs: pytest.LogCaptureFixture) -> None:
    """As before: httpx sends the URL's credentials as ``Authorization: Basic``, in place of the bearer token."""
    server, app = remote
    del app.seen[:]
    with ig.server.Client(_url(server, f"user:{SECRET}"), token="a-token", timeout=5.0) as client:
        client.health()
    assert app.seen == [_basic("user", SECRET)]
    with ig.server.Client(server.url, token="a-token", timeout=5.0) as client:
        client.health()
    assert app.seen[-1] == b"Bearer a-token"
    _nothing_logged_holds_the_password(logs)


def test_a_remote_node_sends_its_urls_credentials_and_logs_no_password(
        remote: tuple[LiveServer, Recording], logs: pytest.LogCaptureFixture) -> None:
    server, app = remote
    del app.seen[:]
    url = _url(server, f"user:{SECRET}%40x")
    done = article(url)(text="great").resolve_all()
    assert done.result.summary["score"] == 1.0
    waits = article(url, "deferred")
    store = MemoryStore()
    contract = waits(text="remote", store=store, runner="store")
    contract.resolve_all()
    assert contract.execution.states["sentiment"].status.value == "pending"
    [entry] = waits.sync_remote(store=store)  # a stored wait: asks the status
    assert entry["action"] == "still_running"
    assert len(app.seen) == 3 and set(app.seen) == {_basic("user", f"{SECRET}@x")}
    _nothing_logged_holds_the_password(logs)


def _wait_for(found: Any, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, f"no {what} within {seconds}s"
        time.sleep(0.02)


def _callback_run(server: LiveServer, callback_url: str, text: str) -> str:
    """An execution of ``deferred`` asking for a callback to ``callback_url``, resumed: it finishes, the server
    sends the callback (after answering, from a worker thread)."""
    with ig.server.Client(server.url, timeout=5.0) as client:
        run = client.execute("deferred", {"text": text}, callback_url=callback_url, callback_token="cb-token-0123456789")
        assert client.resume(run["execution_id"], f"review:{text}", 1.0)["status"] == "succeeded"
    return str(run["execution_id"])


def test_a_callback_is_sent_with_its_urls_credentials_and_logged_without_the_password(
        logs: pytest.LogCaptureFixture) -> None:
    receiver = Recording()
    with LiveServer(receiver) as hook, LiveServer(ig.server.create_app(REMOTE, store=MemoryStore())) as server:
        _callback_run(server, f"{_url(hook, f'user:{SECRET}%40x')}hook", "cb")
        _wait_for(lambda: any("callback of execution" in r.getMessage() for r in logs.records), "callback log line")
    assert receiver.seen == [_basic("user", f"{SECRET}@x")]  # as before: the URL's credentials, not the token
    messages = _nothing_logged_holds_the_password(logs)
    [sent] = [m for m in messages if m.startswith("callback of execution")]
    assert f"sent to http://user:***@127.0.0.1:{hook.port}/hook" in sent, sent


def test_a_failed_callback_is_logged_without_the_password(logs: pytest.LogCaptureFixture) -> None:
    app = ig.server.create_app(REMOTE, store=MemoryStore(), callback_retries=0)
    with dead_port() as port, LiveServer(app) as server:
        _callback_run(server, f"http://user:{SECRET}@127.0.0.1:{port}/hook", "failing")
        _wait_for(lambda: any("callback of execution" in r.getMessage() for r in logs.records), "callback log line")
    messages = _nothing_logged_holds_the_password(logs)
    [failed] = [m for m in messages if m.startswith("callback of execution")]
    assert f"to http://user:***@127.0.0.1:{port}/hook failed after 1 attempt(s)" in failed, failed


def test_the_servers_answers_show_a_callback_urls_password_hidden_and_the_store_keeps_it() -> None:
    """``callback_registered`` / ``callback_sent`` / ``callback_failed`` keep the callback URL in their payload: the
    history, the execution's answer and its live stream showed its password (``redact_event`` hid only the token)."""
    store = MemoryStore()
    app = ig.server.create_app(REMOTE, store=store, callback_retries=0)
    with dead_port() as port, LiveServer(app) as server:
        eid = _callback_run(server, f"http://user:{SECRET}@127.0.0.1:{port}/hook", "failing")
        _wait_for(lambda: any(e["type"] == "callback_failed" for e in store.record(eid).snapshot["events"]),
                  "callback_failed event")
        with ig.server.Client(server.url, timeout=5.0) as client:
            answers = {"history": client.history(eid), "status": client.status(eid),
                       "stream": list(client.events(eid, reconnects=0))}
    for name, answer in answers.items():
        assert SECRET not in repr(answer), name
    shown = [e for e in answers["history"][-1]["snapshot"]["events"] if str(e["type"]).startswith("callback_")]
    assert {e["type"] for e in shown} == {"callback_registered", "callback_failed"}
    assert all(e["payload"]["url"] == f"http://user:***@127.0.0.1:{port}/hook" for e in shown), shown
    stored = [e for e in store.record(eid).snapshot["events"] if e["type"] == "callback_registered"]
    assert stored[0]["payload"]["url"] == f"http://user:{SECRET}@127.0.0.1:{port}/hook"  # what the sender uses


def test_a_service_store_names_its_server_without_the_password() -> None:
    with LiveServer(ig.server.create_app(REMOTE, store=MemoryStore())) as server:
        with ig.server.Client(_url(server, f"user:{SECRET}"), timeout=5.0) as client:
            remote_store = ig.server.ServiceStore(client)
            assert SECRET not in repr(remote_store) and "user:***@" in repr(remote_store)
            with pytest.raises(ig.errors.SnapshotNotFoundError) as caught:
                remote_store.record("no-such-execution")
    assert SECRET not in str(caught.value) and "user:***@" in str(caught.value)


def test_a_refused_callback_url_is_quoted_without_its_password() -> None:
    """``callback.url`` that is no usable URL (a bracket left open) was quoted whole in the 422 (its ``error`` and
    ``callback_url``), password included; now as ``redact_url`` shows it, as the compiler's refusal of a remote
    node's URL does."""
    with LiveServer(ig.server.create_app(REMOTE, store=MemoryStore())) as server:
        answer = httpx.post(f"{server.url}/v1/contracts/deferred/execute", timeout=5.0, json={
            "inputs": {"text": "a"}, "callback": {"url": f"http://user:{SECRET}@[::1/cb", "token": "t" * 20}})
    assert answer.status_code == 422, answer.text
    assert SECRET not in answer.text and "http://user:***@[::1/cb" in answer.json()["error"], answer.text
    assert answer.json()["callback_url"] == "http://user:***@[::1/cb"


@pytest.mark.parametrize("base_url", [f"ftp://user:{SECRET}@127.0.0.1/", f"user:{SECRET}@127.0.0.1:80"])
def test_a_refused_base_url_is_quoted_without_its_password(base_url: str) -> None:
    with pytest.raises(ValueError, match="must be an http:// or https:// URL") as caught:
        ig.server.Client(base_url)
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(("base_url", "why"), [
    (f"http://user:{SECRET}@127.0.0.1:x/", "Port could not be cast"),  # was httpx's bare InvalidURL
    ("http://127.0.0.1:99999/", "Port out of range"),  # was taken, and failed at the first call
    ("http://[::1/", "Invalid IPv6 URL"),  # was urllib's message alone, naming no URL
    ("http://:80/", ""),
])
def test_a_base_url_with_a_bad_host_or_port_is_a_value_error_naming_it(base_url: str, why: str) -> None:
    with pytest.raises(ValueError, match="with a host and a valid port") as caught:
        ig.server.Client(base_url)
    message = str(caught.value)
    assert why in message and SECRET not in message
    assert base_url.replace(SECRET, "***") in message


@pytest.mark.parametrize("outcome", ["sent", "failed"])
def test_a_callback_result_event_is_stored_with_the_urls_password_hidden(outcome: str) -> None:
    """``callback_sent`` / ``callback_failed`` stored the callback URL with its password (only the views hid it):
    the store, an export or a notebook's ``contract.events`` showed it. The result event is a report, never used to
    call the URL: it is stored as ``redact_url`` shows it; the registration keeps the real URL, which is called."""
    store = MemoryStore()
    with contextlib.ExitStack() as stack:
        if outcome == "sent":
            hook = stack.enter_context(LiveServer(Recording()))
            url = f"http://user:{SECRET}@127.0.0.1:{hook.port}/hook"
        else:
            url = f"http://user:{SECRET}@127.0.0.1:{stack.enter_context(dead_port())}/hook"
        server = stack.enter_context(LiveServer(ig.server.create_app(REMOTE, store=store, callback_retries=0)))
        eid = _callback_run(server, url, outcome)
        kind = f"callback_{outcome}"
        _wait_for(lambda: any(e["type"] == kind for e in store.record(eid).snapshot["events"]), kind)
    events = store.record(eid).snapshot["events"]
    [result] = [e for e in events if e["type"] == kind]
    assert SECRET not in repr(result), result
    assert result["payload"]["url"] == url.replace(SECRET, "***")
    [registered] = [e for e in events if e["type"] == "callback_registered"]
    assert registered["payload"]["url"] == url  # what the sender calls
