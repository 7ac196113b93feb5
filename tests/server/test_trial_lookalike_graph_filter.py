"""``GET /v1/executions?graph=`` with a lookalike of a served contract or graph name (another Unicode spelling, an
invisible character pasted in) answered the empty list, with nothing saying why, while the same name in a contract
URL is the 404 naming the lookalike (``test_trial_lookalike_names.py``). The list stays a 200 — ``graph`` is a
filter, documented as taking any graph name (a store holds graphs this server does not serve, and a graph with no
executions lists none): an empty page now carries ``lookalike`` (the served name it looks like) and ``note`` (what
differs); matching stays exact. A real uvicorn on 127.0.0.1, a memory store."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import Lead, Price

NFC = "café"
NFD = unicodedata.normalize("NFD", NFC)


@pytest.fixture
def served(live_app: Any) -> Any:
    server = live_app(ig.server.create_app({NFC: Price, "lead": Lead}, store=MemoryStore()))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
        assert http.post(f"/v1/contracts/{NFC}/execute", json={"inputs": {"total": 1}}).status_code == 200
        yield http


INVISIBLE = "the same text but for invisible characters: the requested name has "
CASES = {  # asked: (the served name it looks like, why)
    NFD: (NFC, "the same text after Unicode normalisation (NFC), other code points"),
    "le\u200bad": ("lead", INVISIBLE + "U+200B (ZERO WIDTH SPACE) at index 2"),
    "Le\u00adad": ("Lead", INVISIBLE + "U+00AD (SOFT HYPHEN) at index 2"),  # the graph of the contract served as "lead"
}


@pytest.mark.parametrize("asked", list(CASES))
def test_a_lookalike_graph_filter_is_an_empty_page_naming_the_lookalike(served: Any, asked: str) -> None:
    like, why = CASES[asked]
    response = served.get("/v1/executions", params={"graph": asked})
    assert response.status_code == 200, response.text[:300]
    page = response.json()
    assert page["executions"] == [] and page["lookalike"] == like
    assert page["note"] == (f"no execution of graph {asked!r}; it looks like the served {like!r} ({why}): names match "
                            "exactly, send the served name's own code points")


def test_an_exact_or_unrelated_filter_has_no_hint(served: Any) -> None:
    for graph, count in (("lead", 1), ("Lead", 1), (NFC, 1), ("Price", 1), ("pricing", 0), ("", 2)):
        page = served.get("/v1/executions", params={"graph": graph}).json()
        assert len(page["executions"]) == count, (graph, page)
        assert "lookalike" not in page and "note" not in page


def test_the_schema_documents_the_hint(served: Any) -> None:
    schema = served.get("/openapi.json").json()["components"]["schemas"]["ExecutionPage"]["properties"]
    assert "lookalike" in schema and "note" in schema
