"""Served contract names that print alike but differ in code points (real uvicorn on 127.0.0.1).

A contract served as ``"café"`` (``é`` one code point, NFC) and asked for as ``"café"`` with ``e`` and a combining
accent (NFD: what macOS file names and some keyboards give) was the 404 ``no contract named 'café' is served here
(served: café)`` — two names that read the same, and nothing saying why they differ; a name with a zero-width
space pasted into it likewise. Matching stays exact (as for correlations: ``workflow/lookalikes.py``); the 404 now
names the served lookalike and what differs. And ``create_app`` refuses to serve two such names: a caller could not
tell which of the two a URL reaches.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import Lead, Price

NFC = "café"
NFD = unicodedata.normalize("NFD", NFC)


@pytest.fixture
def served(live_app: Any) -> Any:
    server = live_app(ig.server.create_app({NFC: Price, "price list": Price, "lead": Lead}, store=MemoryStore()))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


@pytest.mark.parametrize(("asked", "served_name", "why"), [
    (NFD, NFC, "the same text after Unicode normalisation (NFC), other code points"),
    ("price\u200b list", "price list", "the same text but for invisible characters: the requested name has U+200B "
                                       "(ZERO WIDTH SPACE) at index 5"),
    ("le\u00adad", "lead", "the same text but for invisible characters: the requested name has U+00AD (SOFT HYPHEN) "
                           "at index 2"),
])
def test_a_lookalike_of_a_served_name_is_a_404_naming_it(served: Any, asked: str, served_name: str,
                                                         why: str) -> None:
    response = served.post(f"/v1/contracts/{quote(asked, safe='')}/execute", json={"inputs": {}})
    assert response.status_code == 404, response.text[:300]
    body = response.json()
    assert body["type"] == "UnknownContractError" and body["contract"] == asked
    assert body["lookalike"] == served_name
    assert body["error"] == (f"no contract named {asked!r} is served here; it looks like the served {served_name!r} "
                             f"({why}): names match exactly, send the served name's own code points")
    graph = served.get(f"/v1/contracts/{quote(asked, safe='')}")  # every route that takes a name
    assert graph.status_code == 404 and graph.json()["lookalike"] == served_name


def test_the_served_spelling_is_served_and_other_names_get_the_plain_404(served: Any) -> None:
    assert served.post(f"/v1/contracts/{quote(NFC)}/execute", json={"inputs": {"total": 1}}).status_code == 200
    body = served.post("/v1/contracts/pricing/execute", json={"inputs": {}}).json()
    assert "lookalike" not in body and body["error"].startswith("no contract named 'pricing' is served here (served: ")


def test_the_client_sees_it_too(served: Any) -> None:
    with ig.server.Client(str(served.base_url).rstrip("/"), timeout=10) as client, \
            pytest.raises(ig.server.RemoteError) as caught:
        client.execute(NFD, {"total": 1})
    assert caught.value.status_code == 404 and "looks like the served 'café'" in caught.value.server_message


@pytest.mark.parametrize(("first", "second"), [(NFC, NFD), ("price list", "price\u200b list")])
def test_serving_two_lookalike_names_is_refused(first: str, second: str) -> None:
    with pytest.raises(ValueError) as caught:
        ig.server.create_app({first: Price, second: Lead}, store=MemoryStore())
    message = str(caught.value)
    assert f"served contract names {first!r} and {second!r} print alike" in message
    assert "a caller could not tell which one a URL reaches" in message
