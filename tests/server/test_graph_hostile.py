"""`GET /v1/contracts/{name}?format=svg|mermaid` with hostile text in the served contract (its served name, scope,
label, event and remote contract names): the SVG is inert XML, the Mermaid keeps every label inside its quotes,
and the SVG answer tells a browser that opens it directly to run nothing and not to guess its type."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

import igniter_nb as ig

TEXT = "<svg onload=alert(1)>\"'`]]>--> %% click node_x call alert() #quot; \\l {|}"
NAME = "<img src=x onerror=alert(1)>"


def _define(c: Any) -> None:
    c.correlate_by("order_id")
    c.input("order_id", type=str)
    with c.scope(TEXT):
        c.compute("shaped", depends_on=["order_id"], call=lambda order_id: order_id, label=TEXT)
        c.await_event("approval", event=TEXT)
    c.remote("score", contract=TEXT, node="http://scoring.local:8080", inputs={"order_id": "order_id"})
    c.output("score")


@pytest.fixture
def hostile_client() -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from igniter_nb.stores import MemoryStore

    contract = ig.contract(_define, name="Hostile")
    with MemoryStore() as store, TestClient(ig.server.create_app({NAME: contract}, store=store),
                                            raise_server_exceptions=False) as client:
        yield client


def test_served_svg_of_hostile_names_is_inert(hostile_client: Any) -> None:
    answer = hostile_client.get(f"/v1/contracts/{quote(NAME, safe='')}", params={"format": "svg"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(answer.content)  # well-formed XML, bytes as sent
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "iframe", "image", "use", "svg") or el is root, tag
        for key in el.attrib:
            name = key.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on") and name not in ("href", "src"), (tag, key)
    assert "<svg onload" in " ".join("".join(el.itertext()) for el in root.iter())  # drawn as text


def test_served_svg_forbids_script_and_type_sniffing(hostile_client: Any) -> None:
    # An SVG opened directly is a document of the server's origin: should a script ever reach one, the policy
    # still keeps it from running (inline styles, which the picture uses, stay allowed).
    answer = hostile_client.get(f"/v1/contracts/{quote(NAME, safe='')}", params={"format": "svg"})
    assert answer.headers["x-content-type-options"] == "nosniff"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy


def test_served_mermaid_of_hostile_names_keeps_labels_quoted(hostile_client: Any) -> None:
    answer = hostile_client.get(f"/v1/contracts/{quote(NAME, safe='')}", params={"format": "mermaid"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"
    lines = answer.text.splitlines()
    assert lines[0] == "graph TD"
    for line in lines[1:]:
        line = line.strip()
        if '["' in line:
            ident, label = line.split('["', 1)
            assert ident.isidentifier() and label.endswith('"]'), line
            assert not any(ch in label[:-2].replace("<br>", "") for ch in '"<>`'), line  # <br>: the label's lines
        elif line.startswith("%%"):
            assert line == "%% correlation: order_id", line
        else:
            tail, arrow, head = line.split(" ")
            assert arrow == "-->" and tail.isidentifier() and head.isidentifier(), line
