"""Reference examples E-10/E-11 as two real `igniter-nb serve` processes on loopback: node 1
(``examples/server_node1.py``, ArticleAnalysis) calls node 2 (``examples/server_node2.py``, SentimentAnalyzer)
through a remote node — the answer, node 2 down, and node 2 answering pending (resumed by callback) or waiting
(resumed by ``sync_remote``)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igniter_nb as ig
from igniter_nb.stores import SQLStore
from tests.polling import wait_for
from tests.server.server_process import ServerProcess
from tests.services import OWN_LISTENER, dead_port, on_free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEXT = "Ruby is great and awesome!"
Serve = Callable[..., ServerProcess]


def _env(**extra: str) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLES)]), **extra}


def _node1(serve: Serve, node2_url: str, *, callbacks: bool, store: str = "memory://") -> ServerProcess:
    def start(port: int) -> ServerProcess:
        args = ("--public-url", f"http://127.0.0.1:{port}") if callbacks else ()
        return serve("server_node1:CONTRACTS", env=_env(NODE2_URL=node2_url), port=port, args=args, store=store)

    return on_free_port(start, "node 1", **OWN_LISTENER)


def _wait_status(client: ig.server.Client, execution_id: str, status: str) -> dict[str, Any]:
    """The execution's view once its status is ``status`` (resumed by node 2's callback, sent after node 2 answered:
    on a loaded machine that takes longer than the 10 s this waited)."""
    return wait_for(lambda: (view := client.status(execution_id))["status"] == status and view,
                    f"execution {execution_id} {status}")


def test_node1_asks_node2_for_the_sentiment_E10_E11(serve: Serve) -> None:
    node2 = serve("server_node2:CONTRACTS", env=_env())
    node1 = _node1(serve, node2.url, callbacks=True)
    with ig.server.Client(node2.url) as client:
        assert client.execute("SentimentAnalyzer", {"text": TEXT})["outputs"] == {"score": 0.2}  # 1 of 5 words
    with ig.server.Client(node1.url) as client:
        run = client.execute("ArticleAnalysis", {"text": TEXT})
        assert run["status"] == "succeeded"
        assert run["outputs"] == {"summary": {"score": 0.2, "tone": "negative"}}
        assert client.execute("ArticleAnalysis", {"text": "great awesome love it"})["outputs"]["summary"] == {
            "score": 0.75, "tone": "positive"}


def test_node1_with_node2_down_fails_naming_node2s_url_E11(serve: Serve) -> None:
    with dead_port() as port:
        node2_url = f"http://127.0.0.1:{port}"
        node1 = _node1(serve, node2_url, callbacks=True)
        with ig.server.Client(node1.url) as client:
            run = client.execute("ArticleAnalysis", {"text": TEXT})
    assert run["status"] == "failed"
    error = run["error"]
    assert node2_url in error["message"] and "cannot be reached" in error["message"]
    assert error["node"] == "sentiment" and error["context"]["url"] == node2_url


def test_node2_pending_then_finished_resumes_node1_by_callback(serve: Serve) -> None:
    node2 = serve("tests.server.remote_contracts:PENDING", env=_env())
    node1 = _node1(serve, node2.url, callbacks=True)
    with ig.server.Client(node1.url) as client1, ig.server.Client(node2.url) as client2:
        run = client1.execute("ArticleAnalysis", {"text": TEXT})
        assert run["status"] == "pending" and run["error"] is None
        [wait] = run["pending"]
        rid = wait["payload"]["remote_execution_id"]
        assert wait["token"] == f"remote:{rid}" and client2.status(rid)["status"] == "pending"
        client2.resume(rid, f"review:{TEXT}", 0.2)  # node 2 finishes; it calls node 1 back after answering
        view = _wait_status(client1, run["execution_id"], "succeeded")
    assert view["outputs"] == {"summary": {"score": 0.2, "tone": "negative"}}


def test_node2_waiting_then_finished_resumes_node1_by_sync_remote(serve: Serve, tmp_path: Path) -> None:
    node2 = serve("tests.server.remote_contracts:WAITING", env=_env())
    db = tmp_path / "node1.db"
    node1 = _node1(serve, node2.url, callbacks=False, store=f"sqlite:///{db}")
    with ig.server.Client(node1.url) as client1, ig.server.Client(node2.url) as client2:
        run = client1.execute("ArticleAnalysis", {"text": TEXT})
        assert run["status"] == "pending"
        rid = run["pending"][0]["payload"]["remote_execution_id"]
        assert run["pending"][0]["payload"]["remote_status"] == "waiting"
        client2.deliver_event("SentimentAnalyzer", event="review_done", correlation={"text": TEXT},
                              payload={"score": 0.6})
        assert client1.status(run["execution_id"])["status"] == "pending"  # no callback was asked for
        sys.path.insert(0, str(EXAMPLES))
        try:
            node1_module = importlib.import_module("server_node1")
        finally:
            sys.path.remove(str(EXAMPLES))
        store = SQLStore(f"sqlite:///{db}")
        try:
            [entry] = node1_module.ArticleAnalysis.sync_remote(store=store)
        finally:
            store.close()
        assert entry["action"] == "resumed" and entry["remote_execution_id"] == rid
        assert entry["remote_url"] == node2.url
        view = client1.status(run["execution_id"])
    assert view["status"] == "succeeded" and view["outputs"] == {"summary": {"score": 0.6, "tone": "positive"}}
