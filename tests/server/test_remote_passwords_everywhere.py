"""A remote node's URL holding a password (``http://user:s3cr3t-PW@host``) was still shown whole by views the
earlier fixes did not reach: ``contract.audit.snapshot()``, ``contract.diagnostics`` (``to_dict()``, text,
Markdown, the notebook view), ``contract.states`` / ``result.states`` / ``execution.to_dict()``,
``result.to_dict()``, ``result.explain()``, the stepper's ``current_states``, and ``repr()`` of a node state, of
its wait (``DeferredResult``) and of an event. Every public output of a contract whose remote node waits, or
failed, is checked here against a real server (uvicorn on 127.0.0.1) or a dead port: none holds the password. What
is stored keeps it (the wait resumes with it), the event log given to subscribers too, and a workflow restored
from the store still calls the node with its credentials."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.explain import explain_text
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, batch
from tests.services import dead_port

SECRET = "s3cr3t-PW"


class Credentials:
    """The remote app, recording the ``Authorization`` header of every request it is sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[bytes | None] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(dict(scope["headers"]).get(b"authorization"))
        await self.app(scope, receive, send)


def workflow(url: str, remote_contract: str) -> Any:
    """A workflow whose remote node asks ``remote_contract`` at ``url``, then waits for an approval."""

    class Scoring(ig.Contract):
        def define(c):
            c.correlate_by("text")
            c.input("text", type=str)
            c.remote("sentiment", contract=remote_contract, node=url, inputs={"text": "text"}, timeout=5.0)
            c.await_event("approval", event="approved")

            @c.compute
            def summary(sentiment, approval):
                return {"sentiment": sentiment, "approval": approval}

            c.output("summary")

    return Scoring


@dataclass
class Run:
    contract: Any
    store: MemoryStore
    cls: Any


class LogLines(logging.Handler):
    """Every record igniter_nb logs (its ``igniter_nb.*`` loggers) while this module's tests run, as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


LOGGED = LogLines()


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[LiveServer, Credentials]]:
    logger = logging.getLogger("igniter_nb")
    level = logger.level
    logger.addHandler(LOGGED)
    logger.setLevel(logging.DEBUG)
    app = Credentials(ig.server.create_app(REMOTE, store=MemoryStore()))
    try:
        with LiveServer(app) as server:
            yield server, app
    finally:
        logger.removeHandler(LOGGED)
        logger.setLevel(level)


def _with_password(server: LiveServer) -> str:
    return server.url.replace("http://", f"http://user:{SECRET}@") + "/"


def _started(url: str, remote_contract: str, text: str) -> Run:
    cls = workflow(url, remote_contract)
    store = MemoryStore()
    return Run(cls.start(text=text, store=store), store, cls)


@pytest.fixture(scope="module")
def waiting(remote: tuple[LiveServer, Credentials]) -> Run:
    run = _started(_with_password(remote[0]), "deferred", "waits")
    assert run.contract.execution.states["sentiment"].status.value == "pending"
    return run


@pytest.fixture(scope="module", params=["unreachable", "remote failed"])
def failed(request: pytest.FixtureRequest, remote: tuple[LiveServer, Credentials]) -> Iterator[Run]:
    if request.param == "unreachable":
        with dead_port() as port:
            run = _started(f"http://user:{SECRET}@127.0.0.1:{port}/", "score", "fails")
    else:
        run = _started(_with_password(remote[0]), "broken", "fails")
    assert run.contract.execution.states["sentiment"].status.value == "failed"
    yield run


def _simulator(run: Run) -> Any:
    sim = ig.nb.EventSimulator(run.cls, run.store, engine="python")
    sim.select({"text": run.contract.execution.inputs["text"]}, event="approved", payload={"ok": True})
    return sim


def _stepper(run: Run) -> Any:
    return ig.nb.SnapshotStepper(run.store, run.contract.execution_id, engine="python")


def _error(run: Run) -> Any:
    err = run.contract.execution.states["sentiment"].error
    return None if err is None else [str(err), repr(err), err.context, err.to_dict()]


#: Every public output of a contract, by name: what each shows must never hold the password.
VIEWS: dict[str, Callable[[Run], Any]] = {
    "audit.snapshot()": lambda r: r.contract.audit.snapshot(),
    "audit.to_frame()": lambda r: r.contract.audit.to_frame().to_string(),
    "audit notebook view": lambda r: r.contract.audit._repr_mimebundle_(),
    "diagnostics.to_dict()": lambda r: r.contract.diagnostics.to_dict(),
    "diagnostics.to_text()": lambda r: r.contract.diagnostics.to_text(),
    "diagnostics.to_markdown()": lambda r: r.contract.diagnostics.to_markdown(),
    "repr(diagnostics)": lambda r: repr(r.contract.diagnostics),
    "diagnostics notebook view": lambda r: r.contract.diagnostics._repr_mimebundle_(),
    "contract.states": lambda r: r.contract.states,
    "result.states": lambda r: r.contract.result.states,
    "result.to_dict()": lambda r: r.contract.result.to_dict(),
    "result.explain()": lambda r: r.contract.result.explain("summary"),
    "execution.to_dict()": lambda r: r.contract.execution.to_dict(),
    "repr(node states)": lambda r: repr(dict(r.contract.execution.states)),
    "repr(the wait)": lambda r: repr(r.contract.execution.states["sentiment"].value),
    "repr(events)": lambda r: [repr(e) for e in r.contract.events] + [str(e) for e in r.contract.events],
    "repr(contract)": lambda r: repr(r.contract),
    "contract notebook view": lambda r: r.contract._repr_mimebundle_(),
    "result.explain() as text": lambda r: explain_text(r.contract.result.explain("summary")),
    "plan": lambda r: [r.contract.plan(), r.contract.explain_plan()],
    "the node's error": _error,
    "graph": lambda r: [r.cls.compiled_graph().to_dict(), r.cls.compiled_graph().to_text()],
    "nb.states_frame": lambda r: ig.nb.states_frame(r.contract).to_string(),
    "igniter_nb's logs": lambda r: LOGGED.lines,
    "nb.tokens_frame": lambda r: ig.nb.tokens_frame(r.store).to_string(),
    "simulator text and HTML": lambda r: [_simulator(r).to_text(), _simulator(r).to_html()],
    "simulator dry run": lambda r: [_simulator(r).dry_run().to_dict(), repr(_simulator(r).dry_run())],
    "simulator simulated dry run": lambda r: _simulator(r).dry_run(simulate=True).to_dict(),
    "stepper text and HTML": lambda r: [_stepper(r).to_text(), _stepper(r).to_html(), repr(_stepper(r))],
    "stepper.current_states": lambda r: _stepper(r).current_states,
    "stepper describe, changes and diff": lambda r: [_stepper(r).describe(), repr(_stepper(r).changes()),
                                                      _stepper(r).diff()],
}


def _shown(view: str, run: Run) -> str:
    found = VIEWS[view](run)
    return found if isinstance(found, str) else json.dumps(found, default=str) + repr(found)


def _no_password(shown: str) -> None:
    at = shown.find(SECRET)
    assert at < 0, f"...{shown[max(0, at - 120):at + 40]}..."


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_waiting_remote_node_shows_no_password(waiting: Run, view: str) -> None:
    _no_password(_shown(view, waiting))


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_failed_remote_node_shows_no_password(failed: Run, view: str) -> None:
    _no_password(_shown(view, failed))


@pytest.fixture(scope="module")
def in_collection(remote: tuple[LiveServer, Credentials]) -> Run:
    cls = batch(_with_password(remote[0]))
    store = MemoryStore()
    contract = cls(texts=["great", "fine"], store=store, runner="store")
    contract.resolve_all()
    assert contract.execution.states["scores"].status.value == "pending"
    return Run(contract, store, cls)


#: What shows a collection whose items wait on a remote node.
COLLECTION_VIEWS: dict[str, Callable[[Run], Any]] = {
    **{name: VIEWS[name] for name in (
        "audit.snapshot()", "audit.to_frame()", "diagnostics.to_dict()", "diagnostics.to_text()",
        "diagnostics.to_markdown()", "diagnostics notebook view", "contract.states", "result.to_dict()",
        "execution.to_dict()", "repr(node states)", "repr(events)", "contract notebook view", "nb.states_frame",
        "stepper text and HTML", "stepper.current_states")},
    "result.explain()": lambda r: r.contract.result.explain("tones"),
    "repr(the wait)": lambda r: repr(r.contract.execution.states["scores"].value),
    "the collection": lambda r: [r.contract.execution.states["scores"].value.collection.to_dict(),
                                 r.contract.execution.states["scores"].value.collection._repr_mimebundle_()],
}


@pytest.mark.parametrize("view", list(COLLECTION_VIEWS))
def test_collection_items_waiting_on_a_remote_node_show_no_password(in_collection: Run, view: str) -> None:
    found = COLLECTION_VIEWS[view](in_collection)
    _no_password(found if isinstance(found, str) else json.dumps(found, default=str) + repr(found))


def test_the_shown_wait_names_the_url_with_its_password_hidden(waiting: Run) -> None:
    url = waiting.contract.execution.states["sentiment"].value.payload["remote_url"]
    shown = url.replace(f"user:{SECRET}@", "user:***@")
    assert waiting.contract.states["sentiment"]["value"]["payload"]["remote_url"] == shown
    assert waiting.contract.diagnostics.to_dict()["outputs"]["summary"]["payload"]["remote_url"] == shown
    [pending] = [e for e in waiting.contract.audit.snapshot()["events"]
                 if e["type"] == "node_pending" and e["node"] == "sentiment"]
    assert pending["payload"]["payload"]["remote_url"] == shown
    assert f"user:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in repr(waiting.contract.execution.states["sentiment"])


def test_what_is_stored_and_given_to_subscribers_keeps_the_url(waiting: Run) -> None:
    """The stored snapshot and the event log (the events subscribers are given, what the snapshot stores) keep the
    URL: the wait is resumed with it."""
    stored = json.dumps(waiting.store.record(waiting.contract.execution_id).snapshot, default=str)
    assert f"user:{SECRET}@" in stored
    assert f"user:{SECRET}@" in json.dumps([e.to_dict() for e in waiting.contract.events], default=str)
    assert f"user:{SECRET}@" in waiting.contract.execution.states["sentiment"].value.payload["remote_url"]


def test_a_restored_workflow_calls_the_remote_node_with_its_credentials(
        remote: tuple[LiveServer, Credentials]) -> None:
    server, app = remote
    run = _started(_with_password(server), "deferred", "restored")
    rid = run.contract.execution.states["sentiment"].value.payload["remote_execution_id"]
    expected = b"Basic " + base64.b64encode(f"user:{SECRET}".encode())
    assert app.seen[-1] == expected  # the first call
    del app.seen[:]
    [entry] = run.cls.sync_remote(store=run.store)  # restores it from the store, asks the remote server
    assert entry["action"] == "still_running"
    assert app.seen == [expected]
    with ig.server.Client(server.url) as client:
        assert client.resume(rid, "review:restored", 1.0)["status"] == "succeeded"
    [entry] = run.cls.sync_remote(store=run.store)
    assert entry["action"] == "resumed" and app.seen[-1] == expected
    restored = run.cls.restore_from_store(run.contract.execution_id, store=run.store)
    assert restored.execution.states["sentiment"].value == {"score": 1.0}
