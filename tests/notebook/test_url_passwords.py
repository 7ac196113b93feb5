"""A remote node's URL holding a password (``http://user:secret@host``) was shown whole by the notebook and the
diagnostics: the graph's JSON (``GET /v1/contracts/{name}``), text and Mermaid picture, the tokens frame of a store
holding a waiting execution of it, its audit frame and timeline. Now ``user:***@`` wherever it is shown
(``settings.redact_url``, the one rule the server's ``shown_url`` also follows); the stored wait keeps the URL it
resumes with. No server runs: the stored wait is the one a remote node keeps (``server/remote.py``), deferred by an
executor standing in for the remote call."""

from __future__ import annotations

import json
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.notebook.remote_wait import SHOWN, URL, Waiting


class Remote(ig.Contract):
    def define(c):
        c.input("text", type=str)
        c.remote("sentiment", contract="score", node=URL, inputs={"text": "text"}, timeout=5.0)
        c.output("sentiment")


def _hidden(text: str) -> None:
    assert "secret" not in text and "user:***@127.0.0.1:9" in text, text


def test_the_graph_of_a_remote_node_shows_its_url_without_the_password() -> None:
    graph = Remote.compiled_graph()
    [node] = [n for n in graph.to_dict()["nodes"] if n["name"] == "sentiment"]
    assert node["url"] == SHOWN
    _hidden(json.dumps(graph.to_dict()))
    _hidden(graph.to_text())
    _hidden(graph.to_mermaid())
    assert graph.node("sentiment").url == URL  # the node calls the URL it was given


@pytest.fixture
def waiting() -> tuple[Any, MemoryStore]:
    store = MemoryStore()
    contract = Waiting(text="great", store=store, execution_id="w-1")
    contract.resolve_all()
    assert contract.execution.states["sentiment"].status.value == "pending"
    return contract, store


def test_the_tokens_frame_shows_a_remote_wait_without_the_password(waiting: tuple[Any, MemoryStore]) -> None:
    _contract, store = waiting
    frame = ig.nb.tokens_frame(store)
    assert json.loads(frame.iloc[0]["payload"])["remote_url"] == SHOWN
    _hidden(frame.to_string() + frame._repr_html_())
    assert URL in json.dumps(store.record("w-1").snapshot["states"])  # the stored wait keeps it: it resumes with it


def test_the_audit_frame_and_timeline_show_a_remote_wait_without_the_password(
        waiting: tuple[Any, MemoryStore]) -> None:
    contract, _store = waiting
    frame = contract.audit.to_frame()
    [pending] = frame[frame["type"] == "node_pending"]["payload"].tolist()
    assert json.loads(pending)["payload"]["remote_url"] == SHOWN
    _hidden(frame.to_string() + frame._repr_html_())
    bundle = contract.audit._repr_mimebundle_()
    _hidden(bundle["text/html"])
    assert "secret" not in bundle["text/plain"]
    assert any(e.payload.get("payload", {}).get("remote_url") == URL for e in contract.audit.events)  # the log keeps it


def test_the_states_frame_shows_a_remote_wait_without_the_password(waiting: tuple[Any, MemoryStore]) -> None:
    contract, _store = waiting
    frame = ig.nb.states_frame(contract)
    [value] = frame[frame["node"] == "sentiment"]["value"].tolist()
    assert SHOWN in value
    _hidden(frame.to_string() + frame._repr_html_())
