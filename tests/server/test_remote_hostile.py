"""Remote nodes against a remote server that misbehaves while answering 200: an answer about another execution
than the one asked for, a status that is not text, JSON nested too deeply to read, an execution id no callback
could name (control or bidi characters, longer than the callback route takes). Each is a located
``ResolutionError`` for the node (never a value taken from the wrong execution, never a bare ``TypeError`` or
``RecursionError``), and ``sync_remote`` reports it as ``remote_error`` and writes nothing. And a stored execution
``sync_remote`` cannot restore is reported as ``unreadable`` without stopping the others' sync."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import article

Live = Callable[..., LiveServer]


def _fake_remote(live_app: Live, execute: Any, status: Any = None) -> LiveServer:
    """A server answering ``POST /v1/contracts/{name}/execute`` with ``execute(name)`` and ``GET
    /v1/executions/{id}`` with ``status(id)`` (JSON bodies, or a ``Response`` as is)."""

    def wrap(answer: Any) -> Response:
        return answer if isinstance(answer, Response) else JSONResponse(answer)

    async def run(request: Request) -> Response:
        return wrap(execute(request.path_params["name"]))

    async def look(request: Request) -> Response:
        assert status is not None
        return wrap(status(request.path_params["eid"]))

    return live_app(Starlette(routes=[Route("/v1/contracts/{name}/execute", run, methods=["POST"]),
                                      Route("/v1/executions/{eid}", look, methods=["GET"])]))


def _error(contract: Any) -> ResolutionError:
    assert contract.status == "failed", contract.status
    err = contract.first_error()
    assert isinstance(err, ResolutionError)
    return err


Damage = Callable[[MemoryStore, Any], None]


def _sync_with_one_damaged(live_app: Live, damage: Damage) -> tuple[dict[str, Any], Any, Any]:
    """Two executions of ``article(..., "deferred")`` pending on a real remote server; the first's stored record
    damaged by ``damage(store, record)``, the second's remote execution finished. ``sync_remote``'s report by
    execution id, the damaged and the healthy execution; checks the damaged record was left as it was."""
    from tests.server.remote_contracts import REMOTE

    server = live_app(ig.server.create_app(REMOTE, store=MemoryStore()))
    store = MemoryStore()
    cls = article(server.url, "deferred")
    damaged = cls({"text": "great"}, runner="store", store=store)
    healthy = cls({"text": "fine"}, runner="store", store=store)
    assert damaged.status == healthy.status == "pending"
    damage(store, store.record(damaged.execution_id))
    version = store.record(damaged.execution_id).version
    with ig.server.Client(server.url) as remote:
        remote.resume(healthy.first_deferred().payload["remote_execution_id"], "review:fine", 0.5)
    report = {e["execution_id"]: e for e in cls.sync_remote(store=store)}
    assert store.record(damaged.execution_id).version == version
    return report, damaged, healthy


def _pending(_: str) -> dict[str, Any]:
    return {"execution_id": "r1", "status": "pending", "outputs": {}}


def _another_execution(eid: str) -> dict[str, Any]:
    return {"execution_id": "r2-someone-else", "status": "succeeded", "outputs": {"score": 0.99}}


def test_a_status_answer_about_another_execution_is_not_taken_as_the_outcome(live_app: Live) -> None:
    """Re-resolving a pending remote node asks the status of its remote execution: an answer about another one (a
    proxy's cache, a load balancer mixing answers) fails the node naming both ids, never gives it those outputs."""
    server = _fake_remote(live_app, _pending, _another_execution)

    class Twice(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.input("bump", type=int, default=0)

            @c.compute
            def same(text, bump):
                return text

            c.remote("sentiment", contract="deferred", node=server.url, inputs={"text": "same"})
            c.output("sentiment")

    contract = Twice(text="a")
    assert contract.status == "pending"
    contract.update_inputs(bump=1)
    err = _error(contract)
    assert "'r2-someone-else'" in err.message and "'r1'" in err.message and "asked about" in err.message
    assert err.context["remote_execution_id"] == "r1" and err.context["http_status"] == 200


def test_sync_remote_reports_an_answer_about_another_execution_as_remote_error_and_writes_nothing(
        live_app: Live) -> None:
    server = _fake_remote(live_app, _pending, _another_execution)
    store = MemoryStore()
    cls = article(server.url, "deferred")
    contract = cls({"text": "x"}, runner="store", store=store)
    assert contract.status == "pending"
    version = store.record(contract.execution_id).version
    [entry] = cls.sync_remote(store=store)
    assert entry["action"] == "remote_error" and "'r2-someone-else'" in entry["error"]
    assert entry["remote_execution_id"] == "r1"
    assert store.record(contract.execution_id).version == version


@pytest.mark.parametrize(("body", "words"), [
    ({"execution_id": "r1", "status": ["succeeded"], "outputs": {}}, "a status that is not text"),
    ({"execution_id": "r1", "status": None, "outputs": {}}, "a status that is not text"),
    ({"execution_id": "r1\x00", "status": "pending"}, "control or format character"),
    ({"execution_id": "r1\u202egnp.exe", "status": "pending"}, "control or format character"),
    ({"execution_id": "r" * 201, "status": "pending"}, "longer than 200 characters"),
    ({"execution_id": 7, "status": "pending"}, "not an execution"),
    ({"execution_id": "r1/history", "status": "pending"}, "holds '/'"),  # its status could never be asked
    ({"execution_id": "..", "status": "pending"}, "is a dot segment"),
])
def test_an_execute_answer_with_a_bad_id_or_status_fails_the_node_located(live_app: Live, body: Any,
                                                                           words: str) -> None:
    server = _fake_remote(live_app, lambda _: body)
    err = _error(article(server.url, "deferred")(text="x"))
    assert words in err.message and server.url in err.message and err.context["node"] == "sentiment"
    assert err.context["http_status"] == 200


def test_an_answer_nested_too_deeply_to_read_fails_the_node_located(live_app: Live) -> None:
    deep = b'{"execution_id":"r1","status":"succeeded","outputs":{"score":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    server = _fake_remote(live_app, lambda _: Response(deep, media_type="application/json"))
    err = _error(article(server.url, "deferred")(text="x"))
    assert "nested too deeply" in err.message and err.context["http_status"] == 200


def test_sync_remote_reports_a_status_that_is_not_text_and_carries_on(live_app: Live) -> None:
    server = _fake_remote(live_app, _pending, lambda eid: {"execution_id": eid, "status": {"x": 1}})
    store = MemoryStore()
    cls = article(server.url, "deferred")
    first = cls({"text": "a"}, runner="store", store=store)
    second = cls({"text": "b"}, runner="store", store=store)
    assert first.status == second.status == "pending"
    report = cls.sync_remote(store=store)
    assert [e["action"] for e in report] == ["remote_error", "remote_error"]
    assert all("a status that is not text" in e["error"] for e in report)


def test_sync_remote_reports_a_stored_execution_it_cannot_restore_and_syncs_the_others(live_app: Live) -> None:
    """A record that no longer restores (damaged, or saved by a contract whose code changed since) raised out of
    ``sync_remote``, so no other execution of the contract was ever synced again."""
    def garbage_states(store: MemoryStore, record: Any) -> None:
        store.save({**record.snapshot, "states": "garbage"}, graph=record.graph, status=record.status,
                   expected_version=record.version)

    report, damaged, healthy = _sync_with_one_damaged(live_app, garbage_states)
    bad = report[damaged.execution_id]
    assert bad["action"] == "unreadable" and "cannot be restored" in bad["error"] and bad["status"] == "pending"
    assert bad["remote_execution_id"] is None
    assert report[healthy.execution_id]["action"] == "resumed" and report[healthy.execution_id]["status"] == "succeeded"


@pytest.mark.parametrize(("waiting_for", "kept"), [
    (["review_done", "billing"], ["review_done", "billing"]),
    ([f"event_{i}" for i in range(5000)], [f"event_{i}" for i in range(100)]),
    (["x" * 10_000], ["x" * 200]),
    ("review_done", []),
    ([{"deep": [[[1]]]}, 3, "ok"], ["ok"]),
])
def test_the_waiting_for_a_pending_remote_reports_is_kept_bounded(live_app: Live, waiting_for: Any,
                                                                  kept: list[str]) -> None:
    """``waiting_for`` is what the remote execution says it waits for, kept in the parent's deferred payload (saved
    with every version of the parent): a remote answering megabytes there made every parent record that big. At
    most 100 event names of at most 200 characters are kept; anything else is not an event name and is left out."""
    server = _fake_remote(live_app, lambda _: {"execution_id": "r1", "status": "waiting", "waiting_for": waiting_for})
    contract = article(server.url, "deferred")(text="x")
    assert contract.status == "pending"
    assert contract.first_deferred().payload["waiting_for"] == kept


@pytest.mark.parametrize("damage", [{"timeout": "soon"}, {"timeout": [1]}, {"timeout": -1}])
def test_sync_remote_reports_a_damaged_stored_wait_and_syncs_the_others(live_app: Live, damage: dict[str, Any]) -> None:
    """A remote wait whose stored payload was damaged (a ``timeout`` that is not a number) raised a bare
    ``ValueError`` out of ``sync_remote``, stopping every other execution's sync."""
    waits: list[dict[str, Any]] = []

    def damage_the_wait(store: MemoryStore, record: Any) -> None:
        snapshot = json.loads(json.dumps(record.snapshot))
        wait = snapshot["states"]["sentiment"]["value"]["value"]["payload"]
        wait.update(damage)
        waits.append(wait)
        store.save(snapshot, graph=record.graph, status=record.status, expected_version=record.version)

    report, damaged, healthy = _sync_with_one_damaged(live_app, damage_the_wait)
    assert report[healthy.execution_id]["action"] == "resumed"
    bad = report[damaged.execution_id]
    assert bad["action"] == "unreadable" and "the stored wait is damaged: timeout" in bad["error"]
    assert bad["remote_execution_id"] == waits[0]["remote_execution_id"]
