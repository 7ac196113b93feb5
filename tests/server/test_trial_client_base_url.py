"""A ``base_url`` holding a query string (``http://host/igniter?x=1``, an API key pasted with the address, a
trailing ``?``) was taken, and every call went to another route: httpx appends a call's path to the base URL's
path *and query*, so ``status(id)`` asked ``/igniter`` with the query ``x=1v1/executions/<id>`` — here a Starlette
mount's redirect, elsewhere a 404 naming a route the caller never asked for, or another route's answer. It is a
``ValueError`` at construction naming the URL (a password or secret query value as ``***``) and what to do; a
remote node whose ``node=`` URL has one fails located, sending nothing. Real uvicorn on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.remote_contracts import article
from tests.server.server_contracts import CONTRACTS


@pytest.fixture
def mounted(live_app: Any) -> Any:
    return live_app(Starlette(routes=[Mount("/igniter", app=ig.server.create_app(CONTRACTS, store=MemoryStore()))]))


@pytest.mark.parametrize("query", ["?x=1", "?", "?token=s3cret"])
def test_a_base_url_with_a_query_is_refused_at_construction(mounted: Any, query: str) -> None:
    base = f"{mounted.url}/igniter{query}"
    for client in (ig.server.Client, ig.server.AsyncClient):
        with pytest.raises(ValueError) as caught:
            client(base)
        message = str(caught.value)
        assert message.startswith("base_url must not hold a query string (")
        assert "the client appends each route's path to the base URL" in message
        assert "s3cret" not in message


def test_the_same_address_without_the_query_reaches_the_routes(mounted: Any) -> None:
    with ig.server.Client(f"{mounted.url}/igniter", timeout=10) as client:
        run = client.execute("price", {"total": 1})
        assert client.status(run["execution_id"])["outputs"] == {"gross": 1.2}
    with ig.server.Client(f"{mounted.url}/igniter#top", timeout=10) as client:  # a fragment is never sent: fine
        assert client.health()["status"] == "ok"


def test_a_remote_node_whose_url_has_a_query_fails_located(mounted: Any) -> None:
    contract = article(f"{mounted.url}/igniter?x=1")({"text": "great"}, runner="store", store=MemoryStore())
    assert contract.status == "failed"
    error = contract.first_error()
    assert isinstance(error, ResolutionError) and error.context["node"] == "sentiment"
    assert "must not hold a query string" in error.message
