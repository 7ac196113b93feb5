"""Names are Python identifiers in any script (``ключ``, ``größe``), through every layer: the builder, inputs,
correlation keys, workflows on every store, snapshots and the graph formats (issue 11, point 17)."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig


class Замовлення(ig.Contract):
    def define(c):
        c.correlate_by("ключ")
        c.input("ключ", type=str)
        c.input("größe", type=int, default=2)
        c.await_event("оплата", event="платіж_отримано")

        @c.compute
        def сума(größe, оплата):
            return größe * оплата["n"]

        c.output("сума")


def test_non_ascii_identifiers_are_accepted_as_names():
    graph = Замовлення.graph
    assert graph.name == "Замовлення"
    assert {n.name for n in graph.nodes} == {"ключ", "größe", "оплата", "сума"}
    assert graph.correlation_keys == ("ключ",)
    k = Замовлення({"ключ": "к-1"}, größe=3)
    k.resume("оплата", {"n": 5})
    assert k.result.сума == 15
    assert k.result["сума"] == 15
    k.update_inputs(größe=4)
    assert k.result.сума == 20


@pytest.mark.parametrize("bad", ["1ключ", "клю ч", "ключ-2", "", "a.b"])
def test_names_that_are_not_identifiers_are_still_rejected(bad):
    with pytest.raises(ig.CompileError, match=r"identifier|non-empty"):

        @ig.contract
        def Bad(c):
            c.input(bad)


def test_non_ascii_workflow_round_trips_through_every_store(store):
    wf = Замовлення.start({"ключ": "к-1"}, store=store)
    assert wf.workflow_status == "waiting"
    assert store.find_by_correlation("Замовлення", {"ключ": "к-1"}) == wf.execution_id
    wf = Замовлення.deliver_event("платіж_отримано", correlation={"ключ": "к-1"}, payload={"n": 7},
                                  store=store, idempotency_key="ідемпотентність-1")
    assert wf.status == "succeeded" and wf.result.сума == 14
    again = Замовлення.restore_from_store(wf.execution_id, store=store)
    assert again.result.сума == 14
    assert again.inputs == {"ключ": "к-1"}
    assert again.signals[0]["event"] == "платіж_отримано"
    snapshot = again.snapshot()
    text = json.dumps(snapshot, ensure_ascii=True)  # what stores write
    assert "\\u043a" in text and "ключ" not in text
    assert Замовлення.restore(json.loads(text)).result.сума == 14


def test_non_ascii_names_in_text_and_mermaid():
    text = Замовлення.graph.to_text()
    assert "input ключ" in text and "Correlation: ключ" in text
    mermaid = Замовлення.graph.to_mermaid()
    # labels keep the names; ids stay ASCII so every Mermaid version parses them (and stay distinct)
    assert '["input: ключ"]' in mermaid
    ids = [line.split("[")[0].strip() for line in mermaid.splitlines()[2:] if "[" in line]
    assert all(i.isascii() for i in ids) and len(set(ids)) == len(ids)
    assert all(line.strip().split(" --> ")[0] in ids for line in mermaid.splitlines() if "-->" in line)


@pytest.mark.parametrize("engine", ["dot", "python"])
def test_non_ascii_names_render_to_svg(engine):
    from igniter_nb.notebook.render import render_graph

    svg = render_graph(Замовлення.graph, engine=engine)
    assert "ключ" in svg and "сума" in svg and "платіж_отримано" in svg
