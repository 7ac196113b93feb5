"""A server URL holding a password (``http://user:s3cret@host``, what a proxy with basic auth asks for) was quoted
whole in every error of the Client — ``RemoteConnectionError: cannot reach http://user:s3cret@127.0.0.1:9/v1/health``,
its ``context["url"]`` too — and of a remote node (``ResolutionError``, stored with the failed execution and shown
over HTTP). Errors now show it as ``user:***@``; the stores already hide theirs. Real uvicorn on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.server import RemoteConnectionError, RemoteError
from igniter_nb.server.errors import shown_url
from tests.server.remote_contracts import REMOTE, article
from tests.services import dead_port


def _hidden(error: BaseException) -> None:
    text = f"{error} {getattr(error, 'context', '')}"
    assert "s3cret" not in text and "user:***@127.0.0.1" in text, text


def test_the_client_hides_the_password_of_an_unreachable_server() -> None:
    with dead_port() as port, ig.server.Client(f"http://user:s3cret@127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(RemoteConnectionError) as exc:
            client.health()
    _hidden(exc.value)


def test_the_client_hides_it_in_an_error_answer(live_app: Any) -> None:
    server = live_app(ig.server.create_app(REMOTE, store=ig.stores.MemoryStore()))
    with ig.server.Client(server.url.replace("http://", "http://user:s3cret@"), timeout=10) as client:
        with pytest.raises(RemoteError) as exc:
            client.status("no-such-execution")
    _hidden(exc.value)


def test_a_remote_node_hides_it_in_its_error() -> None:
    with dead_port() as port:
        cls = article(f"http://user:s3cret@127.0.0.1:{port}", "score")
        contract = cls(text="great")
        contract.resolve_all()
    error = contract.execution.states["sentiment"].error
    _hidden(error)


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:pw@host:8000/x", "http://user:***@host:8000/x"),
    ("http://:pw@host", "http://:***@host"),
    ("http://user@host", "http://user@host"),
    ("http://host:80", "http://host:80"),
    ("http://u:p:q@host", "http://u:***@host"),
])
def test_shown_url(url: str, shown: str) -> None:
    assert shown_url(url) == shown
