"""The notebook tools pointed at a live service, tried as a hostile operator would (`ig.nb.store_frame(client)`,
`tokens_frame`, `SnapshotStepper`, `EventSimulator`, `Follow`): remote data shaped like HTML/JS is escaped in every
HTML output and widget value, a server that stops or sends a bad stream message is named in the view (not a frozen
widget or a traceback hidden in a callback or a thread). A real uvicorn on 127.0.0.1 in a thread, sharing its
MemoryStore with the test (tests/server/live_server.py)."""

from __future__ import annotations

import base64
import copy
import html.parser
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import igniter_nb as ig
from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import MemoryStore
from tests.notebook.service_contracts import CONTRACTS, SvcLead
from tests.server.live_server import LiveServer

pytestmark = pytest.mark.timeout(60)
TOKEN = "hostile-token"
XSS = '<img src=x onerror=alert(1)></script>"><svg onload=alert(2)>'


class _Active(html.parser.HTMLParser):
    """Collects what would run in a browser: script-like tags, ``on*`` attributes, ``javascript:`` links — also
    inside the SVG of a picture's ``data:`` URI."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if value and name in ("href", "src") and value.strip().lower().startswith("javascript"):
                self.found.append(f"{tag}[{name}=javascript]")
            if tag == "img" and name == "src" and value and value.startswith("data:image/svg+xml;base64,"):
                self.found.extend(active(base64.b64decode(value.partition(",")[2]).decode()))

    handle_startendtag = handle_starttag


def active(text: str) -> list[str]:
    parser = _Active()
    parser.feed(text)
    parser.close()
    return parser.found


def _html_values(widget: Any) -> Iterator[str]:
    """Every ``HTML`` widget's value under ``widget`` (the parts a front end renders as HTML)."""
    import ipywidgets

    if isinstance(widget, ipywidgets.HTML):
        yield widget.value
    for child in getattr(widget, "children", ()):
        yield from _html_values(child)


def _html_of(obj: Any) -> str:
    bundle = obj._repr_mimebundle_()
    return str((bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"])


@pytest.fixture
def served() -> Iterator[tuple[MemoryStore, LiveServer, Any]]:
    store = MemoryStore()
    with LiveServer(ig.server.create_app(CONTRACTS, store=store, token=TOKEN)) as server, \
            ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
        yield store, server, client


def _tampered(store: MemoryStore) -> str:
    """A stored version whose free text — state statuses, errors, values, event types and nodes, awaited event
    names, correlation keys and values — is markup (what a compromised or careless production database holds);
    only what the store itself checks (execution id, record status) is plain."""
    eid = SvcLead.start(request_id=XSS, store=store).execution_id
    record = store.record(eid)
    snap = copy.deepcopy(record.snapshot)
    for event in snap["events"]:
        event.update(type=XSS, status=XSS, node=XSS, path=XSS, payload={XSS: XSS})
    snap["states"][XSS] = {"status": XSS, "version": 1, "resolved_at": 1.0, "invalidated_by": XSS,
                           "waiting_for": [XSS], "value": XSS, "error": {"type": XSS, "message": XSS}}
    snap["states"]["crm"]["status"] = XSS
    snap["workflow"].update(status=XSS, awaits={"crm": XSS, XSS: XSS}, deadlines={XSS: XSS},
                            error={"type": XSS, "message": XSS, "node": XSS})
    store.save(snap, graph=record.graph, correlation={"request_id": XSS, XSS: XSS}, status="waiting",
               expected_version=record.version)
    return eid


def test_remote_markup_is_escaped_in_every_tool_and_widget(served: Any) -> None:
    store, _, client = served
    honest = client.execute("lead", inputs={"request_id": XSS + "-2"})["execution_id"]
    client.deliver_event("lead", event="crm_received", correlation={"request_id": XSS + "-2"},
                         payload={"name": XSS, "tier": XSS})
    tampered = _tampered(store)
    outputs = {"store_frame": ig.nb.store_frame(client)._repr_html_(),
               "tokens_frame": ig.nb.tokens_frame(client)._repr_html_()}
    from igniter_nb.notebook.sources import as_store

    outputs["store repr"] = as_store(client)._repr_mimebundle_()["text/html"]
    for eid in (honest, tampered):
        for engine in ("python", "dot"):
            stepper = ig.nb.SnapshotStepper(client, execution_id=eid, engine=engine)
            outputs[f"stepper {eid} {engine}"] = _html_of(stepper)
            outputs.update({f"stepper widget {eid} {engine} {k}": v for k, v in enumerate(_html_values(stepper.widget))})
            follow = Follow(eid, client, engine=engine, start=False)
            outputs[f"follow {eid} {engine}"] = follow.to_html()
            outputs.update({f"follow widget {eid} {engine} {k}": v for k, v in enumerate(_html_values(follow.widget))})
    sim = ig.nb.EventSimulator(SvcLead, client, engine="python")
    sim.select(correlation={"request_id": XSS}, payload={"name": XSS})
    view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
    view.dry_run.click()
    outputs.update({f"simulator {k}": v for k, v in enumerate(_html_values(view.root))})
    view.payload.value = json.dumps({"name": {XSS: 1}})  # refused by the server (422)
    view.deliver.click()
    assert "PayloadValidationError" in view.message.value
    outputs.update({f"simulator refused {k}": v for k, v in enumerate(_html_values(view.root))})
    outputs["simulator repr"] = _html_of(sim)
    assert sum(XSS.replace("<", "&lt;").split(">")[0] in text for text in outputs.values()) > 20  # shown, escaped
    assert {name: active(text) for name, text in outputs.items() if active(text)} == {}
    assert active(XSS) == ["img[onerror]", "svg[onload]"]  # (the check finds what it looks for)


def _stopped(server: LiveServer) -> str:
    server.stop()
    return server.url


def test_a_stopped_server_is_named_by_the_tools_and_in_the_simulator_view(served: Any) -> None:
    store, server, client = served
    client.execute("lead", inputs={"request_id": "r-1"})
    sim = ig.nb.EventSimulator(SvcLead, client, engine="python")
    sim.select(correlation={"request_id": "r-1"}, payload={"name": "Acme"})
    view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
    url = _stopped(server)
    for button in (view.dry_run, view.deliver):
        view.message.value = ""
        button.click()  # (ipywidgets logs what a click handler raises: the view is all the user sees)
        assert "RemoteConnectionError" in view.message.value and f"cannot reach {url}/v1/" in view.message.value
        assert sim.last_error is not None and sim.last_error["type"] == "RemoteConnectionError"
    assert [r.version for r in store.list()] == [1]
    eid = store.list()[0].execution_id
    for tool in (lambda: ig.nb.store_frame(client), lambda: ig.nb.tokens_frame(client),
                 lambda: ig.nb.SnapshotStepper(client, execution_id=eid), lambda: Follow(eid, client),
                 lambda: ig.nb.EventSimulator(SvcLead, client)):
        with pytest.raises(ig.server.RemoteConnectionError, match=f"cannot reach {url}/v1/"):
            tool()


def _long_history(store: MemoryStore, versions: int) -> str:
    eid = SvcLead.start(request_id="long", store=store).execution_id
    record = store.record(eid)
    for version in range(2, versions + 1):
        store.save(record.snapshot, graph=record.graph, correlation=record.correlation, status=record.status,
                   expected_version=version - 1)
    return eid


def test_stepper_widget_names_a_stopped_server_and_stays_where_it_was(served: Any) -> None:
    from igniter_nb.notebook.stepper_sources import VERSION_PAGE

    store, server, client = served
    eid = _long_history(store, VERSION_PAGE + 5)
    stepper = ig.nb.SnapshotStepper(client, execution_id=eid, engine="python")
    assert stepper.widget is not None
    view = stepper._live
    view.show(VERSION_PAGE - 1)  # the last step of the first page (read): the next one is on a page not read yet
    body = view.body.value
    url = _stopped(server)
    view.forward.click()
    assert "RemoteConnectionError" in view.refused and f"cannot reach {url}/v1/executions/{eid}/history" in \
        view.refused and f"step {VERSION_PAGE + 1} was not shown" in view.refused
    assert (view.index, view.slider.value, stepper.index, view.body.value) == (VERSION_PAGE - 1, VERSION_PAGE,
                                                                              VERSION_PAGE - 1, view.refused + body)
    view.slider.value = VERSION_PAGE + 3  # dragged there: refused the same way, the slider back where the view is
    assert f"step {VERSION_PAGE + 3} was not shown" in view.refused
    assert (view.index, view.slider.value, view.body.value) == (VERSION_PAGE - 1, VERSION_PAGE, view.refused + body)
    view.back.click()  # a step already read: shown, and the refusal goes
    assert view.index == VERSION_PAGE - 2 and view.refused == "" and view.body.value.startswith("<div") and \
        f"step {VERSION_PAGE - 1}/" in view.body.value and "was not shown" not in view.body.value


class _BadStream:
    """The service's app, except that an execution's event stream answers ``message`` (then ends) once ``gate`` is
    set: a stream a proxy mangled, a server of another version (or with ``status``, an error answer)."""

    def __init__(self, app: Any, message: bytes, status: int = 200) -> None:
        self.app, self.message, self.status, self.gate = app, message, status, threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/events") and scope["method"] == "GET":
            await anyio.to_thread.run_sync(self.gate.wait, 10)
            kind = b"text/event-stream" if self.status == 200 else b"application/json"
            await send({"type": "http.response.start", "status": self.status, "headers": [(b"content-type", kind)]})
            await send({"type": "http.response.body", "body": self.message})
            return
        await self.app(scope, receive, send)


@pytest.mark.parametrize("message", [b"event: status\ndata: {not json\n\n", b"event: status\ndata: [1, 2]\n\n",
                                     b'event: end\ndata: "finished"\n\n'])
def test_follow_names_a_bad_stream_message_and_says_it_stopped(message: bytes) -> None:
    store = MemoryStore()
    app = _BadStream(ig.server.create_app(CONTRACTS, store=store, token=TOKEN), message)
    with LiveServer(app) as server, ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
        eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
        follow = Follow(eid, client, engine="python", start=False)
        view = follow.widget
        follow.start()
        assert "· following" in view.children[0].value

        def opened(_: Follow) -> bool:  # (let the stream answer once the cell waits)
            app.gate.set()
            return False

        with pytest.raises(TimeoutError, match="following ended: RemoteError: the stream of "):
            follow.wait(opened, timeout=600)  # returns once following ended (it waited out its whole timeout)
        assert follow.state == "stopped" and not follow.running
        assert f"the stream of {server.url}/v1/executions/{eid}/events sent" in (follow.error or "")
        status = view.children[0].value
        assert "· stopped ·" in status and "following" not in status and "RemoteError" in status


def test_follow_says_it_is_reconnecting_while_the_server_is_down_and_goes_on_after(
        monkeypatch: pytest.MonkeyPatch) -> None:
    go_on = _held_reconnect(monkeypatch)  # the view is read while it says attempt 1 (a loaded host moved on to 2)
    store = MemoryStore()
    server = LiveServer(ig.server.create_app(CONTRACTS, store=store, token=TOKEN)).start()
    try:
        with ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
            eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
            follow = Follow(eid, client, engine="python")
            view = follow.widget
            url = _stopped(server)
            follow.wait(lambda f: f.reconnecting is not None, timeout=20)
            status = view.children[0].value
            assert "· following · reconnecting (1 of 5) after RemoteConnectionError: cannot reach " \
                   f"{url}/v1/executions/{eid}/events" in status
            server = LiveServer(ig.server.create_app(CONTRACTS, store=store, token=TOKEN), port=server.port).start()
            SvcLead.deliver_event("crm_received", correlation={"request_id": "r-1"}, payload={"name": "A"},
                                  store=store)
            go_on.set()
            follow.wait(version=2, timeout=20)
            assert follow.reconnecting is None and follow.error is None and follow.state == "following"
            assert "reconnecting" not in view.children[0].value
            follow.stop()
            assert follow.state == "stopped" and "· stopped" in view.children[0].value
    finally:
        server.stop()


def test_follow_ends_naming_the_url_once_the_server_stays_down(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from igniter_nb.notebook import follow as follow_module

    monkeypatch.setattr(follow_module, "RECONNECTS", 1)  # (5 attempts take 25 s)
    monkeypatch.setattr(follow_module, "RECONNECT_DELAY", 0.05)
    _, server, client = served
    eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
    follow = Follow(eid, client, engine="python")
    view = follow.widget
    url = _stopped(server)
    with pytest.raises(TimeoutError, match=f"following ended: RemoteConnectionError: cannot reach {url}/v1/"):
        follow.wait(timeout=60)
    assert follow.state == "stopped" and follow.reconnecting is not None
    status = view.children[0].value
    assert "· stopped · RemoteConnectionError: cannot reach" in status and "reconnecting" not in status


@pytest.mark.parametrize("opened", [True, False])  # (deleted while the stream is open, or before: 404)
def test_follow_says_why_it_ended_when_the_execution_is_deleted_on_the_server(served: Any, opened: bool) -> None:
    store, server, client = served
    eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
    follow = Follow(eid, client, engine="python", start=opened)
    view = follow.widget
    store.delete(eid)
    follow.start()
    with pytest.raises(TimeoutError, match="following ended: SnapshotNotFoundError: "):
        follow.wait(timeout=60)
    assert f"execution '{eid}' (server {server.url})" in (follow.error or "") and follow.state == "stopped"
    assert "· stopped · SnapshotNotFoundError" in view.children[0].value


class _Refusing:
    """The service's app, except that deliveries are refused with an error of ``size`` characters (a server of
    another version, or a hostile one)."""

    def __init__(self, app: Any, size: int) -> None:
        self.app, self.size = app, size

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/events"):
            body = json.dumps({"error": "refused " + "x" * self.size + "\nline two " + XSS,
                               "type": "Duplicate" + "S" * self.size}).encode()
            await send({"type": "http.response.start", "status": 409,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_huge_refusal_from_the_server_is_shown_cut() -> None:
    from igniter_nb.notebook import html as h

    store = MemoryStore()
    app = _Refusing(ig.server.create_app(CONTRACTS, store=store, token=TOKEN), 1_000_000)
    with LiveServer(app) as server, ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
        client.execute("lead", inputs={"request_id": "r-1"})
        sim = ig.nb.EventSimulator(SvcLead, client, engine="python")
        sim.select(correlation={"request_id": "r-1"}, payload={"name": "A"})
        view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
        view.deliver.click()
        shown = view.message.value
        assert "refused xxx" in shown and "more characters)" in shown and len(shown) < 3 * h.OPEN_LIMIT
        assert sim.last_error is not None and len(sim.last_error["message"]) > 1_000_000  # kept whole in Python
        assert [r.version for r in store.list()] == [1] and active(shown) == []


def test_follow_shows_a_huge_refusal_cut() -> None:
    from igniter_nb.notebook import html as h

    store = MemoryStore()
    refusal = json.dumps({"error": "token revoked " + "y" * 1_000_000 + XSS, "type": "Unauthorized"}).encode()
    app = _BadStream(ig.server.create_app(CONTRACTS, store=store, token=TOKEN), refusal, status=401)
    app.gate.set()
    with LiveServer(app) as server, ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
        eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
        follow = Follow(eid, client, engine="python")
        view = follow.widget
        with pytest.raises(TimeoutError, match="following ended: RemoteError: HTTP 401"):
            follow.wait(timeout=60)
        status = view.children[0].value
        assert "· stopped · RemoteError: HTTP 401" in status and "more characters)" in status
        assert len(status) < 3 * h.OPEN_LIMIT and active(status) == []
        # the error is cut as every IgniterError message is (errors.MESSAGE_SHOWN): what it was and how long
        assert follow.error is not None and "characters left out" in follow.error and len(follow.error) < 11_000


def _held_reconnect(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Following waits before its next attempt until the returned event is set (at most 20 s): the test reads the
    view while it says "reconnecting" (with a 0.05 s pause, a loaded host had already moved on to "stopped")."""
    import asyncio

    from igniter_nb.notebook import follow as follow_module

    go_on = threading.Event()

    async def held(seconds: float) -> None:
        for _ in range(2000):
            if go_on.is_set():
                return
            await asyncio.sleep(0.01)

    monkeypatch.setattr(follow_module, "_pause", held)
    return go_on


def test_a_live_simulator_says_its_server_is_being_reconnected_to(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from igniter_nb.notebook import follow as follow_module

    monkeypatch.setattr(follow_module, "RECONNECTS", 1)  # (5 attempts take 25 s)
    go_on = _held_reconnect(monkeypatch)
    _, server, client = served
    client.execute("lead", inputs={"request_id": "r-1"})
    sim = ig.nb.EventSimulator(SvcLead, client, engine="python", live=True)
    view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
    follow = sim._live.follow
    assert follow is not None and sim.live_trouble() is None and "live updates" not in view.status.value
    url = _stopped(server)
    follow.wait(lambda f: f.reconnecting is not None, timeout=20)
    # (stopping the server cut the live stream in flight, "GET ...: the connection was lost before the answer",
    # or the next request found nothing listening, "cannot reach ...": which comes first is the host's timing)
    assert re.search(r"<b>live updates</b>: reconnecting \(1 of 1\) after RemoteConnectionError: "
                     r"(cannot reach |GET )" + re.escape(f"{url}/v1/executions/"), view.status.value), \
        view.status.value
    go_on.set()
    with pytest.raises(TimeoutError, match="following ended: RemoteConnectionError"):
        follow.wait(timeout=60)
    assert "<b>live updates</b>: stopped: RemoteConnectionError: cannot reach" in view.status.value
    assert "reconnecting" not in view.status.value


def test_a_live_stepper_says_its_server_is_being_reconnected_to(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from igniter_nb.notebook import follow as follow_module

    monkeypatch.setattr(follow_module, "RECONNECTS", 1)  # (5 attempts take 25 s)
    go_on = _held_reconnect(monkeypatch)
    _, server, client = served
    eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
    stepper = ig.nb.SnapshotStepper(client, execution_id=eid, engine="python", live=True)
    assert stepper.widget is not None and stepper._following is not None
    view, follow = stepper._live, stepper._following.follow
    assert stepper.live_trouble() is None and "live updates" not in view.body.value
    url = _stopped(server)
    follow.wait(lambda f: f.reconnecting is not None, timeout=20)
    # (stopping the server cut the live stream in flight, "GET ...: the connection was lost before the answer",
    # or the next request found nothing listening, "cannot reach ...": which comes first is the host's timing)
    assert re.search(r"<b>live updates</b>: reconnecting \(1 of 1\) after RemoteConnectionError: "
                     r"(cannot reach |GET )" + re.escape(f"{url}/v1/executions/{eid}/events"), view.body.value), \
        view.body.value
    go_on.set()
    with pytest.raises(TimeoutError, match="following ended: RemoteConnectionError"):
        follow.wait(timeout=60)
    assert "<b>live updates</b>: stopped: RemoteConnectionError: cannot reach" in view.body.value
    assert not stepper.live and "step 1/1" in view.body.value


class MarkupEvent(ig.Contract):
    def define(c):
        c.correlate_by("k")
        c.input("k", type=str)
        c.await_event("a", event=XSS)
        c.output("a")


def test_markup_event_and_served_names_are_escaped_over_http() -> None:
    served_name = XSS.replace("/", "|")  # (a served name is one URL path segment)
    store = MemoryStore()
    with LiveServer(ig.server.create_app({served_name: MarkupEvent}, store=store, token=TOKEN)) as server, \
            ig.server.Client(server.url, token=TOKEN, timeout=5) as client:
        eid = client.execute(served_name, inputs={"k": XSS})["execution_id"]
        sim = ig.nb.EventSimulator(MarkupEvent, client, engine="dot")
        sim.select(correlation={"k": XSS}, payload={"x": XSS})
        view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
        view.dry_run.click()
        outputs = [*_html_values(view.root)]
        view.deliver.click()
        assert "✓ delivered &lt;img src=x" in view.message.value
        outputs += [*_html_values(view.root), _html_of(sim), ig.nb.store_frame(client)._repr_html_()]
        stepper = ig.nb.SnapshotStepper(client, execution_id=eid, engine="dot")
        outputs += [stepper.to_html(0), *_html_values(stepper.widget)]
        outputs += [*_html_values(Follow(eid, client, engine="dot").widget)]
        assert [active(text) for text in outputs if active(text)] == []
