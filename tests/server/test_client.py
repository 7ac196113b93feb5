"""``ig.server.Client`` and ``AsyncClient`` against a real `igniter-nb serve` (and in-process over ASGI): every
call, the server's errors as ``RemoteError``, network failures as ``RemoteConnectionError`` (L-43), URL-encoded
names (L-01/L-37), and retries only where repeating is safe."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotNotFoundError
from igniter_nb.server import AsyncClient, Client, RemoteConnectionError, RemoteError, UnroutableExecutionIdError
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import MemoryStore
from tests.server.conftest import TARGET
from tests.server.server_contracts import CONTRACTS, Price
from tests.server.server_process import ServerProcess
from tests.services import dead_port

TOKEN = "client-tøken"


@pytest.fixture(scope="module")
def live(tmp_path_factory: Any) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("client") / "client.db"
    with ServerProcess(TARGET, store=f"sqlite:///{db}", token=TOKEN) as server:
        yield server


@pytest.fixture
def remote(live: ServerProcess) -> Iterator[Client]:
    with Client(live.url, token=TOKEN, timeout=10) as client:
        yield client


def test_client_runs_a_workflow_end_to_end(remote: Client) -> None:
    assert remote.health()["contracts"] == list(CONTRACTS)
    assert {c["name"] for c in remote.contracts()} == set(CONTRACTS)
    started = remote.execute("lead", inputs={"request_id": "c-1"})
    assert started["status"] == "waiting" and started["waiting_for"] == ["crm_received", "billing_received"]
    remote.deliver_event("lead", event="crm_received", correlation={"request_id": "c-1"}, payload={"name": "Acme"},
                         idempotency_key="crm-c-1")
    done = remote.deliver_event("lead", event="billing_received", correlation={"request_id": "c-1"}, payload=9)
    assert done["status"] == "succeeded" and done["outputs"]["report"] == {"crm": "Acme", "billing": 9}
    status = remote.status(started["execution_id"])
    assert status["status"] == "succeeded" and status["diagnostics"]["workflow_status"] == "succeeded"
    assert [v["version"] for v in remote.history(started["execution_id"])] == [1, 2, 3]
    page = remote.executions(graph="lead", status="succeeded", limit=10)
    assert started["execution_id"] in [e["execution_id"] for e in page["executions"]]


def test_a_non_ascii_idempotency_key_travels_in_the_json_body_and_is_stored_as_given(remote: Client,
                                                                                      live: ServerProcess) -> None:
    """The server takes the key in the JSON body (UTF-8), never from a header Starlette would read as latin-1:
    "clé-1" is stored as "clé-1" and a repeat with it is answered unchanged."""
    from igniter_nb.stores import from_url

    started = remote.execute("lead", inputs={"request_id": "c-utf8"})
    for _ in range(2):
        remote.deliver_event("lead", event="crm_received", correlation={"request_id": "c-utf8"},
                             payload={"name": "Acme"}, idempotency_key="clé-1")
    with from_url(live.store) as store:
        signals = store.record(started["execution_id"]).snapshot["workflow"]["signals"]
    assert [s["idempotency_key"] for s in signals] == ["clé-1"]


def test_client_reads_graphs_in_every_format(remote: Client) -> None:
    assert remote.contract("lead")["name"] == "Lead"
    assert remote.contract("lead", format="svg").lstrip().startswith("<svg")
    assert remote.contract("lead", format="mermaid").startswith("graph TD")
    with pytest.raises(ValueError, match="format"):
        remote.contract("lead", format="png")


def test_client_encodes_names_in_paths_L01_L37(remote: Client) -> None:
    for name in ("ціна знижка", '<price> & "co"?#'):
        run = remote.execute(name, inputs={"total": 10})
        assert run["contract"] == name and run["outputs"] == {"gross": 12.0}
        assert remote.contract(name)["contract"] == name
    with pytest.raises(RemoteError) as caught:
        remote.execute("a/b", inputs={})
    assert caught.value.status_code == 404
    with pytest.raises(UnroutableExecutionIdError, match="holds '/'"):  # refused before sending: never another route
        remote.status("../../etc/passwd")


@pytest.mark.parametrize("call", ["status", "history", "events", "resume"])
def test_an_execution_id_holding_a_slash_is_refused_before_any_request(call: str) -> None:
    """The server decodes %2F before routing: status("<id>/history") answered that execution's history, and
    status("<id>/events") opened its live stream and waited out the deadline."""
    with dead_port() as port, Client(f"http://127.0.0.1:{port}", timeout=2) as client:  # a request would fail
        method = getattr(client, call)
        with pytest.raises(UnroutableExecutionIdError, match="holds '/'") as caught:
            if call == "events":
                next(iter(method("e-1/history")))
            elif call == "resume":
                method("e-1/history", "answer")
            else:
                method("e-1/history")
        assert not isinstance(caught.value, RemoteConnectionError)


@pytest.mark.parametrize("execution_id", ["a/b", "/", "e-1/events", "..", ".", "x" * 10_000 + "/"])
def test_an_unroutable_execution_id_is_a_documented_value_error_of_both_clients(execution_id: str) -> None:
    """One type for "this id cannot be one URL path segment": ``UnroutableExecutionIdError``, a ``ValueError`` and
    an ``IgniterError``, raised unsent (nothing listens on the port) and quoting at most 80 characters of it."""
    with dead_port() as port:
        _an_unroutable_execution_id_is_refused_unsent(f"http://127.0.0.1:{port}", execution_id)


def _an_unroutable_execution_id_is_refused_unsent(url: str, execution_id: str) -> None:
    with Client(url, timeout=2) as client, pytest.raises(UnroutableExecutionIdError) as caught:
        client.record(execution_id)
    err = caught.value
    assert isinstance(err, ValueError) and isinstance(err, ig.IgniterError)
    assert len(str(err)) < 400 and repr(execution_id[:80]) in str(err)

    async def send() -> None:
        async with AsyncClient(url, timeout=2) as client:
            await client.history_page(execution_id)

    with pytest.raises(UnroutableExecutionIdError):
        anyio.run(send)


@pytest.mark.parametrize("execution_id", ["a?b", "a#b", "%2F", "a%2Fb", "%2E%2E", "a..b", "<b>x<b>", "&amp;", "é"])
def test_an_execution_id_that_routes_safely_reaches_its_own_route(remote: Client, execution_id: str) -> None:
    """'?', '#' and '%' are percent-encoded and the server decodes once: the id it answers about is exactly the id
    sent (a 404 naming it, no execution holds such an id), never another route or another execution."""
    with pytest.raises(RemoteError) as caught:
        remote.status(execution_id)
    assert caught.value.status_code == 404
    assert caught.value.server_message.startswith(f"no execution {execution_id!r}")
    with pytest.raises(SnapshotNotFoundError):
        ServiceStore(remote).record(execution_id)


def test_dot_segments_reach_the_named_contract_not_another_route(live_app: Any) -> None:
    # as they are, "." and ".." in a URL path are removed (RFC 3986): /v1/contracts/../execute is /v1/execute
    server = live_app(ig.server.create_app({".": Price, "..": Price}, store=MemoryStore()))
    with Client(server.url) as client:
        for name in (".", ".."):
            assert client.execute(name, inputs={"total": 10})["contract"] == name
            assert client.contract(name)["contract"] == name
        with pytest.raises(UnroutableExecutionIdError, match="dot segment"):  # no execution id is one: unsent
            client.status("..")


def test_remote_errors_carry_status_message_type_and_context(remote: Client, live: ServerProcess) -> None:
    with pytest.raises(RemoteError) as missing:
        remote.execute("nope")
    err = missing.value
    assert err.status_code == 404 and err.error_type == "UnknownContractError"
    assert err.server_message.startswith("no contract named 'nope'")
    assert err.body["contract"] == "nope" and live.url in str(err) and "HTTP 404" in str(err)
    assert isinstance(err, ig.IgniterError)

    remote.execute("lead", inputs={"request_id": "c-dup"})
    with pytest.raises(RemoteError) as dup:
        remote.execute("lead", inputs={"request_id": "c-dup"})
    assert dup.value.status_code == 409 and dup.value.error_type == "DuplicateWorkflowError"
    assert dup.value.graph == "Lead"

    with pytest.raises(RemoteError) as bad:
        remote.execute("price", inputs={"total": "x"})
    assert bad.value.status_code == 422 and bad.value.node == "total"

    with pytest.raises(RemoteError) as wrong_token, Client(live.url, token="nope") as intruder:
        intruder.health()
    assert wrong_token.value.status_code == 401


def test_client_validates_its_arguments() -> None:
    for url in ("localhost:8000", "ftp://x", "", None):
        with pytest.raises(ValueError, match="base_url"):
            Client(url)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retries"):
        Client("http://127.0.0.1:1", retries=-1)
    with Client("http://127.0.0.1:1/") as client:
        assert client.base_url == "http://127.0.0.1:1"
        with pytest.raises(ValueError, match="contract name"):
            client.execute("")
        for bad in ("\u00b2", "\u0663", "1.0", "", -1, True, 1.0):  # superscript two, Arabic-Indic three
            with pytest.raises(ValueError, match="last_event_id must be an event seq"):
                client.events("e-1", last_event_id=bad)  # type: ignore[arg-type]  # (raises at the call)
        with pytest.raises(ValueError, match="reconnects must be an int"):
            client.events("e-1", reconnects=-1)
        with pytest.raises(ValueError, match="execution id"):
            client.events("")
        for bad_timeout in (0, -1.0, float("nan"), "5", True):
            with pytest.raises(ValueError, match="read_timeout must be a number of seconds > 0"):
                client.events("e-1", read_timeout=bad_timeout)  # type: ignore[arg-type]
    async_client = AsyncClient("http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="last_event_id must be an event seq"):
        async_client.events("e-1", last_event_id="x")
    with pytest.raises(ValueError, match="reconnects must be an int"):
        async_client.events("e-1", reconnects=True)  # type: ignore[arg-type]
    anyio.run(async_client.aclose)


def _cyclic() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(("value", "error", "says"), [
    ("bad \ud800 text", ValueError, r"inputs\.order\.lines\[1\]\.note as JSON: its text holds an unpaired surrogate"),
    (float("nan"), ValueError, r"inputs\.order\.lines\[1\]\.note as JSON: nan \(JSON has no NaN"),
    (float("-inf"), ValueError, r"lines\[1\]\.note as JSON: -inf"),
    (dt.date(2026, 12, 2), TypeError, r"lines\[1\]\.note as JSON: a date .* date\.isoformat\(\)"),
    ({("a", 1): 1}, TypeError, r"lines\[1\]\.note as JSON: its key \('a', 1\) is a tuple"),
    ({"\udc00": 1}, ValueError, r"lines\[1\]\.note \(a key\) as JSON: its text holds an unpaired surrogate"),
    (_cyclic(), ValueError, r"lines\[1\]\.note\[0\] as JSON: it contains itself"),
])
def test_client_names_a_value_json_cannot_carry_and_sends_nothing(remote: Client, live: ServerProcess, value: Any,
                                                                  error: type[Exception], says: str) -> None:
    before = remote.executions(total=True)["total"]
    inputs = {"request_id": "never-sent", "order": {"lines": [{"note": "ok"}, {"note": value}]}}
    with pytest.raises(error, match=says):
        remote.execute("lead", inputs=inputs)
    with pytest.raises(error, match=says.replace(r"inputs\.order", r"payload\.order")):
        remote.deliver_event("lead", event="crm_received", correlation={"request_id": "x"},
                             payload={"order": inputs["order"]})

    async def from_async() -> None:
        async with AsyncClient(live.url, token=TOKEN, timeout=10) as client:
            with pytest.raises(error, match=says):
                await client.execute("lead", inputs=inputs)

    anyio.run(from_async)
    assert remote.executions(total=True)["total"] == before  # nothing reached the server


def test_client_sends_deeply_nested_values_or_says_they_are_too_deep() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):
        deep = [deep]
    with Client("http://127.0.0.1:1") as client, pytest.raises(ValueError, match="nested too deeply"):
        client.execute("lead", inputs={"request_id": "r", "deep": deep})


# ----------------------------------------------------------------------------------------------- AsyncClient


def test_async_client_in_process_over_asgi(store: Any) -> None:
    app = ig.server.create_app(CONTRACTS, store=store)

    async def scenario() -> None:
        async with AsyncClient("http://igniter.test", transport=httpx.ASGITransport(app=app)) as client:
            assert (await client.health())["status"] == "ok"
            started = await client.execute("lead", inputs={"request_id": "a-1"})
            updated = await client.deliver_event("lead", event="crm_received", correlation={"request_id": "a-1"},
                                                 payload={"name": "Async"})
            assert updated["outputs"] == {"crm_name": "Async"}
            assert (await client.status(started["execution_id"]))["version"] == 2
            assert len(await client.history(started["execution_id"])) == 2
            assert (await client.executions(total=True))["total"] == 1
            assert [row["execution_id"] async for row in client.iter_executions(limit=1)] == [started["execution_id"]]
            assert (await client.contracts())[0]["name"] == "price"
            assert (await client.contract("lead", format="mermaid")).startswith("graph TD")
            with pytest.raises(RemoteError) as caught:
                await client.deliver_event("lead", event="crm_received", correlation={"request_id": "a-1"},
                                           payload={"name": "Again"})
            assert caught.value.status_code == 409 and caught.value.error_type == "DuplicateSignalError"

    anyio.run(scenario)


def test_async_client_against_uvicorn_with_concurrent_calls(live: ServerProcess) -> None:
    async def scenario() -> list[str]:
        async with AsyncClient(live.url, token=TOKEN, timeout=10) as client:
            results: list[str] = []

            async def one(i: int) -> None:
                run = await client.execute("price", inputs={"total": i})
                results.append(run["status"])

            async with anyio.create_task_group() as group:
                for i in range(8):
                    group.start_soon(one, i)
            return results

    assert anyio.run(scenario) == ["succeeded"] * 8


# ----------------------------------------------------------------------------------------------- network failures


def test_refused_connection_is_remote_connection_error_naming_the_url() -> None:
    with dead_port() as port:  # nothing listens there, nor can while the test runs
        _refused_connection_is_remote_connection_error_naming_the_url(port)


def _refused_connection_is_remote_connection_error_naming_the_url(port: int) -> None:
    with Client(f"http://127.0.0.1:{port}", timeout=2) as client, pytest.raises(RemoteConnectionError) as caught:
        client.health()
    assert caught.value.url == f"http://127.0.0.1:{port}/v1/health" and not caught.value.timeout
    assert f"127.0.0.1:{port}" in str(caught.value)

    async def asynchronous() -> None:
        async with AsyncClient(f"http://127.0.0.1:{port}", timeout=2) as client:
            await client.execute("price", inputs={"total": 1})

    with pytest.raises(RemoteConnectionError, match="cannot reach"):
        anyio.run(asynchronous)


def test_read_timeout_is_remote_connection_error_L43() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]  # accepts (the kernel does) but never answers
        with Client(f"http://127.0.0.1:{port}", timeout=0.3) as client, pytest.raises(RemoteConnectionError) as caught:
            client.status("some-id")
    assert caught.value.timeout is True and "ReadTimeout" in str(caught.value)
    assert caught.value.url.endswith("/v1/executions/some-id")


class _Stub(http.server.BaseHTTPRequestHandler):
    """Answers every request with the class's ``status`` and ``body``; counts requests."""

    status = 200
    body = b'{"status": "ok"}'
    content_type = "application/json"
    seen: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        type(self).seen.append(f"{self.command} {self.path}")
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def _serve_now(port: int, handler: type[_Stub], servers: list[Any]) -> threading.Thread:
    """A stub listening on ``port`` when this returns, served on a thread; appended to ``servers``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    servers.append(server)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


def _stop(thread: threading.Thread, servers: list[Any]) -> None:
    for server in servers:
        server.shutdown()
        server.server_close()
    thread.join(5)


def test_non_json_error_pages_become_remote_errors() -> None:
    class Gateway(_Stub):
        status = 502
        body = b"<html>bad gateway</html>"
        content_type = "text/html"
        seen: list[str] = []

    servers: list[Any] = []
    thread = _serve_now(0, Gateway, servers)  # a port the kernel chooses, bound at once
    port = servers[0].server_port
    try:
        with Client(f"http://127.0.0.1:{port}", timeout=5, retries=2) as client:
            with pytest.raises(RemoteError) as caught:
                client.health()
        assert caught.value.status_code == 502 and caught.value.body == "<html>bad gateway</html>"
        assert caught.value.server_message.endswith("(a proxy or gateway in front of it?): bad gateway")
        assert Gateway.seen == ["GET /v1/health"]  # an HTTP error answer is never retried
    finally:
        _stop(thread, servers)


@pytest.mark.parametrize(("call", "retried"), [
    ("health", True),
    ("status", True),
    ("deliver_with_key", True),
    ("deliver_without_key", False),
    ("execute", False),
])
def test_only_repeatable_calls_are_retried_on_connection_errors(call: str, retried: bool,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    class Late(_Stub):
        body = b'{"status": "ok", "contracts": []}'
        seen: list[str] = []

    # bound now, listening only once the first attempt was refused: a connection before is refused (the port is
    # bound, nothing listens) and no other process can take the port meanwhile
    late = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Late, bind_and_activate=False)
    late.allow_reuse_address = False  # (no other socket, SO_REUSEADDR or not, can bind the port then)
    late.server_bind()
    port = late.server_port
    servers: list[Any] = []
    threads: list[threading.Thread] = []
    connect = socket.create_connection

    def first_refused_then_up(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        """The server comes up as soon as the first attempt is refused (not a fixed time after the test started
        it: a test thread held up on a loaded machine made its first attempt after the server was up)."""
        try:
            return connect(address, *args, **kwargs)
        except ConnectionRefusedError:
            if address[1] == port and not servers:
                late.server_activate()  # listening before the refusal is raised
                servers.append(late)
                threads.append(threading.Thread(target=late.serve_forever, kwargs={"poll_interval": 0.05},
                                                daemon=True))
                threads[-1].start()
            raise

    try:
        with Client(f"http://127.0.0.1:{port}", timeout=5, retries=4) as client:
            calls = {
                "health": lambda: client.health(),
                "status": lambda: client.status("x"),
                "deliver_with_key": lambda: client.deliver_event("lead", event="e", correlation={"k": 1},
                                                                 idempotency_key="k-1"),
                "deliver_without_key": lambda: client.deliver_event("lead", event="e", correlation={"k": 1}),
                "execute": lambda: client.execute("price", inputs={"total": 1}),
            }
            monkeypatch.setattr(socket, "create_connection", first_refused_then_up)
            if retried:
                assert calls[call]()["status"] == "ok"
                assert len(Late.seen) == 1
            else:
                with pytest.raises(RemoteConnectionError):
                    calls[call]()
                assert servers and Late.seen == []  # up since the refusal: a retry would have been answered
    finally:
        monkeypatch.undo()
        for thread in threads:
            _stop(thread, servers)
        late.server_close()


def test_client_record_is_the_latest_stored_version(remote: Client) -> None:
    run = remote.execute("lead", {"request_id": "record-1"})
    remote.deliver_event("lead", event="crm_received", correlation={"request_id": "record-1"},
                         payload={"name": "Acme"})
    record = remote.record(run["execution_id"])
    versions = remote.history(run["execution_id"])
    assert record["version"] == versions[-1]["version"] == 2 and record["snapshot"] == versions[-1]["snapshot"]
    assert record["graph"] == "Lead" and record["status"] == "waiting"
    assert record["correlation"] == {"request_id": "record-1"}
    with pytest.raises(RemoteError) as caught:
        remote.record("no-such-execution")
    assert caught.value.status_code == 404
