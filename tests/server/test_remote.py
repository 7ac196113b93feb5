"""Remote nodes (``c.remote``) against a real server on loopback: the outcomes (succeeded → outputs, failed →
``ResolutionError`` with context, pending/waiting → pending, L-43), every way a call can go wrong as a located
``ResolutionError`` (never a raw httpx error), no second remote execution for one set of inputs, ``sync_remote``,
and the clear message when the server extra is missing (L-19)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, article
from tests.services import dead_port

Live = Callable[..., LiveServer]


@pytest.fixture
def node2(live_app: Live) -> tuple[LiveServer, Any]:
    store = MemoryStore()
    return live_app(ig.server.create_app(REMOTE, store=store)), store


def _error(contract: Any) -> ResolutionError:
    assert contract.status == "failed"
    err = contract.first_error()
    assert isinstance(err, ResolutionError)
    return err


def test_remote_node_value_is_the_remote_outputs(node2: Any) -> None:
    server, store = node2
    contract = article(server.url)(text="Ruby is great and awesome!")
    assert contract.result.summary == {"score": 0.2, "tone": "negative"}
    assert contract.result.to_dict()["summary"] == {"score": 0.2, "tone": "negative"}
    called = [e for e in contract.events if e.type == "remote_called"]
    assert len(called) == 1 and called[0].payload["remote_status"] == "succeeded"
    assert store.exists(called[0].payload["remote_execution_id"])


def test_remote_failure_is_a_resolution_error_with_context(node2: Any) -> None:
    server, _ = node2
    err = _error(article(server.url, "broken")(text="meh"))
    assert "broken" in err.message and server.url in err.message and "cannot score 'meh'" in err.message
    ctx = err.context
    assert ctx["graph"] == "Article" and ctx["node"] == "sentiment" and ctx["url"] == server.url
    assert ctx["remote_contract"] == "broken" and ctx["remote_status"] == "failed"
    assert ctx["remote_message"].startswith("ValueError: cannot score") and ctx["remote_error"]["node"] == "score"
    assert ctx["remote_execution_id"]


@pytest.mark.parametrize(("contract", "inputs", "status", "words"), [
    ("nope", {}, 404, "no contract named 'nope'"),
])
def test_remote_http_error_is_a_resolution_error(node2: Any, contract: str, inputs: Any, status: int,
                                                 words: str) -> None:
    server, _ = node2
    err = _error(article(server.url, contract)(text="x"))
    assert err.context["http_status"] == status and words in err.message and server.url in err.message
    assert err.context["remote_error_type"] == "UnknownContractError"


def test_remote_input_refused_by_the_remote_is_a_resolution_error(node2: Any) -> None:
    server, _ = node2

    class Numbers(ig.Contract):
        def define(c):
            c.input("text", type=int)
            c.remote("sentiment", contract="score", node=server.url, inputs={"text": "text"})
            c.output("sentiment")

    err = _error(Numbers(text=3))
    assert err.context["http_status"] == 422 and "must be of type str" in err.message


def test_refused_connection_names_the_url() -> None:
    with dead_port() as port:
        url = f"http://127.0.0.1:{port}"
        err = _error(article(url)(text="x"))
    assert f"{url}/v1/contracts/score/execute" in err.message and "cannot be reached" in err.message
    assert err.context["url"] == url and err.context["node"] == "sentiment"


def test_unknown_host_is_a_resolution_error() -> None:
    url = "http://igniter-nb-no-such-host.invalid:8000"
    err = _error(article(url)(text="x"))
    assert "cannot be reached" in err.message and url in err.message


def test_remote_read_timeout_is_a_resolution_error_L43(node2: Any) -> None:
    server, _ = node2
    err = _error(article(server.url, "slow", timeout=0.3)(text="x"))
    assert "no answer within 0.3s" in err.message and err.context["timeout"] is True


def test_answers_that_are_not_executions_are_resolution_errors(live_app: Live) -> None:
    async def html(request: Any) -> Any:
        return PlainTextResponse("<html>maintenance</html>", media_type="text/html")

    async def bad_gateway(request: Any) -> Any:
        return PlainTextResponse("bad gateway", status_code=502)

    async def not_a_view(request: Any) -> Any:
        return PlainTextResponse('{"hello": "world"}', media_type="application/json")

    proxy = live_app(Starlette(routes=[Route("/v1/contracts/html/execute", html, methods=["POST"]),
                                       Route("/v1/contracts/gateway/execute", bad_gateway, methods=["POST"]),
                                       Route("/v1/contracts/json/execute", not_a_view, methods=["POST"])]))
    assert "the answer is not JSON" in _error(article(proxy.url, "html")(text="x")).message
    err = _error(article(proxy.url, "gateway")(text="x"))
    assert err.context["http_status"] == 502 and "bad gateway" in err.message
    assert "not an execution" in _error(article(proxy.url, "json")(text="x")).message


def test_remote_pending_makes_the_node_pending_with_the_remote_id_L43(node2: Any) -> None:
    server, remote_store = node2
    parent_store = MemoryStore()
    cls = article(server.url, "deferred")
    contract = cls({"text": "great"}, store=parent_store)
    assert contract.status == "pending"
    wait = contract.first_deferred()
    rid = wait.payload["remote_execution_id"]
    assert wait.token == f"remote:{rid}" and wait.payload["remote_url"] == server.url
    assert wait.payload["remote_status"] == "pending" and "callback_digest" not in wait.payload
    assert [r.execution_id for r in remote_store.list(graph="DeferredScore")] == [rid]
    assert contract.states["sentiment"]["status"] == "pending" and contract.states["summary"]["status"] == "pending"


def test_a_reresolved_pending_remote_node_asks_for_the_status_instead_of_executing_again(node2: Any) -> None:
    server, remote_store = node2

    class Twice(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.input("bump", type=int, default=0)

            @c.compute
            def same_text(text, bump):
                return text  # recomputed when bump changes, with the same value

            c.remote("sentiment", contract="deferred", node=server.url, inputs={"text": "same_text"})
            c.output("sentiment")

    contract = Twice(text="great")
    assert contract.status == "pending"
    contract.update_inputs(bump=1)  # same_text and the remote node go stale; same_text recomputes to "great"
    assert contract.status == "pending"
    assert len(remote_store.list(graph="DeferredScore")) == 1
    assert [e.payload["via"] for e in contract.events if e.type == "remote_called"] == ["execute", "status"]
    contract.update_inputs(text="other")  # new inputs: a new remote execution
    assert contract.status == "pending"
    assert len(remote_store.list(graph="DeferredScore")) == 2


def test_sync_remote_resumes_parents_whose_remote_execution_finished(node2: Any) -> None:
    server, _ = node2
    parent_store = MemoryStore()
    cls = article(server.url, "deferred")
    waiting = cls({"text": "great"}, runner="store", store=parent_store)
    assert waiting.status == "pending"
    other = cls({"text": "not yet"}, runner="store", store=parent_store)
    assert other.status == "pending"
    rid = waiting.first_deferred().payload["remote_execution_id"]

    assert [e["action"] for e in cls.sync_remote(store=parent_store)] == ["still_running", "still_running"]
    with ig.server.Client(server.url) as remote:
        assert remote.resume(rid, "review:great", 1.0)["status"] == "succeeded"
    report = cls.sync_remote(store=parent_store)
    done = {e["execution_id"]: e for e in report}
    assert done[waiting.execution_id]["action"] == "resumed" and done[waiting.execution_id]["status"] == "succeeded"
    assert done[other.execution_id]["action"] == "still_running"
    resumed = cls.restore_from_store(waiting.execution_id, store=parent_store)
    assert resumed.result.summary == {"score": 1.0, "tone": "positive"}
    assert [e.payload["via"] for e in resumed.events if e.type == "remote_resumed"] == ["poll"]
    assert [e["execution_id"] for e in cls.sync_remote(store=parent_store)] == [other.execution_id]


def test_sync_remote_turns_a_failed_remote_execution_into_a_failed_node(node2: Any) -> None:
    server, _ = node2
    parent_store = MemoryStore()
    cls = article(server.url, "reviewed")
    contract = cls({"text": "bad"}, runner="store", store=parent_store)
    assert contract.status == "pending"
    with ig.server.Client(server.url) as remote:
        remote.deliver_event("reviewed", event="review_done", correlation={"text": "bad"}, payload={"nope": 1})
    [entry] = cls.sync_remote(store=parent_store)
    assert entry["action"] == "resumed" and entry["remote_status"] == "failed" and entry["status"] == "failed"
    err = cls.restore_from_store(contract.execution_id, store=parent_store).first_error()
    assert err.context["remote_status"] == "failed" and "'score'" in err.message
    assert err.context["node"] == "sentiment" and err.context["url"] == server.url


def test_sync_remote_reports_an_unreachable_remote_and_writes_nothing(live_app: Live) -> None:
    remote_store = MemoryStore()
    server = live_app(ig.server.create_app(REMOTE, store=remote_store))
    parent_store = MemoryStore()
    cls = article(server.url, "deferred")
    contract = cls({"text": "great"}, runner="store", store=parent_store)
    assert contract.status == "pending"
    version = parent_store.record(contract.execution_id).version
    server.stop()
    [entry] = cls.sync_remote(store=parent_store)
    assert entry["action"] == "unreachable" and server.url in entry["error"]
    assert parent_store.record(contract.execution_id).version == version


def test_sync_remote_reports_an_error_answer_as_remote_error_not_unreachable(live_app: Live, monkeypatch: Any) -> None:
    """A remote server that answers, but refuses (here the token it is asked with changed: 401), is not a
    network problem: ``remote_error`` with the status, and nothing written."""
    remote_store = MemoryStore()
    server = live_app(ig.server.create_app(REMOTE, store=remote_store, token="node2-secret"))
    monkeypatch.setenv("NODE2_TOKEN", "node2-secret")
    parent_store = MemoryStore()
    cls = article(server.url, "deferred", token_env="NODE2_TOKEN")
    contract = cls({"text": "great"}, runner="store", store=parent_store)
    assert contract.status == "pending"
    version = parent_store.record(contract.execution_id).version
    monkeypatch.setenv("NODE2_TOKEN", "rotated-wrongly")
    [entry] = cls.sync_remote(store=parent_store)
    assert entry["action"] == "remote_error" and "401" in entry["error"] and server.url in entry["error"]
    assert parent_store.record(contract.execution_id).version == version


def test_remote_token_env_sends_the_remote_servers_token(live_app: Live, monkeypatch: Any) -> None:
    server = live_app(ig.server.create_app(REMOTE, store=MemoryStore(), token="node2-secret"))
    monkeypatch.setenv("NODE2_TOKEN", "node2-secret")
    assert article(server.url, token_env="NODE2_TOKEN")(text="great").result.summary["score"] == 1.0
    monkeypatch.delenv("NODE2_TOKEN")
    err = _error(article(server.url, token_env="NODE2_TOKEN")(text="great"))
    assert "NODE2_TOKEN" in err.message
    assert _error(article(server.url)(text="great")).context["http_status"] == 401


def test_remote_node_without_the_server_extra_names_the_extra_L19() -> None:
    code = (
        "import sys\n"
        "sys.modules['httpx'] = None  # as on an install without the server extra\n"
        "import igniter_nb as ig\n"
        "class A(ig.Contract):\n"
        "    def define(c):\n"
        "        c.input('text')\n"
        "        c.remote('sentiment', contract='S', node='http://127.0.0.1:9', inputs={'text': 'text'})\n"
        "        c.output('sentiment')\n"
        "a = A(text='x')\n"
        "print(a.status, type(a.first_error()).__name__)\n"
        "print(a.first_error())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    status, message = done.stdout.splitlines()[:2]
    assert status == "failed ResolutionError"
    assert "pip install 'igniter_nb[server]'" in message and "node=sentiment" in message


def test_sync_remote_resumes_a_remote_node_inside_a_composed_child(node2: Any) -> None:
    server, remote_store = node2
    child = article(server.url, "deferred")

    class Parent(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.compose("inner", contract=child, inputs={"text": "text"})
            c.output("summary", source="inner.summary")

    parent_store = MemoryStore()
    contract = Parent({"text": "great"}, runner="store", store=parent_store)
    assert contract.status == "pending" and contract.states["inner"]["status"] == "pending"
    rid = contract.first_deferred().payload["remote_execution_id"]
    with ig.server.Client(server.url) as remote:
        remote.resume(rid, "review:great", 0.3)
    [entry] = Parent.sync_remote(store=parent_store)
    assert entry["action"] == "resumed" and entry["status"] == "succeeded"
    resumed = Parent.restore_from_store(contract.execution_id, store=parent_store)
    assert resumed.result.summary == {"score": 0.3, "tone": "neutral"}
    assert len(remote_store.list(graph="DeferredScore")) == 1  # the child asked for the outcome, never re-ran it
