"""The graph visual language (PRODUCT §9): kinds, events, correlation, scopes, states, collapse, determinism."""

from __future__ import annotations

import re

import pytest
from contracts import AllKinds, ApprovalContract, FailingContract, PriceContract, layered_graph

from igniter_nb.diagnostics.dot import KIND_STYLES, STATE_FILLS, graph_to_dot, graph_view


def _nodes(view):
    return {n.name if n.kind != "output" else f"output:{n.name}": n for n in view.nodes}


def test_every_kind_has_its_own_shape_and_colour():
    shapes = [s for s, _, _ in KIND_STYLES.values()]
    fills = [f for _, f, _ in KIND_STYLES.values()]
    assert len(set(shapes)) == len(shapes)
    assert len(set(fills)) == len(fills)
    view = graph_view(AllKinds.graph)
    kinds = {n.name: n.kind for n in view.nodes if n.kind != "output"}
    assert kinds == {
        "request_id": "input", "kind": "input", "items": "input", "order": "input", "rate": "const",
        "customer": "lookup", "doubled": "map", "amount": "project", "has_items": "guard", "tax": "composition",
        "handler": "branch", "lines": "collection", "crm_data": "await", "score": "remote", "report": "aggregate",
    }
    for n in view.nodes:
        assert (n.shape, n.border) == (KIND_STYLES[n.kind][0], KIND_STYLES[n.kind][2])


def test_await_shows_its_event_and_title_shows_correlation_keys():
    view = graph_view(AllKinds.graph)
    assert view.title == ("AllKinds", "correlate by: request_id")
    crm = _nodes(view)["crm_data"]
    assert "awaits: crm_webhook_received" in crm.label
    source = AllKinds.graph.to_dot().source
    assert "crm_webhook_received" in source and "correlate by: request_id" in source


def test_scopes_become_clusters():
    dot = graph_to_dot(PriceContract.graph).source
    cluster = re.search(r"subgraph cluster_0 \{(.*?)\}", dot, re.S)
    assert cluster is not None and "label=<pricing>" in cluster.group(1)
    assert "n_effective_vat_rate" in cluster.group(1) and "n_gross_total" in cluster.group(1)
    assert "n_order_total" not in cluster.group(1)


def test_instance_view_colours_by_state_and_says_what_blocked_nodes_wait_for():
    c = ApprovalContract(order_id="o-1", order_total=10)
    c.resolve_all()
    assert c.status == "waiting"
    view = graph_view(c.graph, states=c)
    nodes = _nodes(view)
    assert nodes["approval"].status == "waiting"
    assert nodes["approval"].fill == STATE_FILLS["waiting"]
    assert "waiting for event manager_approved" in nodes["approval"].label
    assert "waiting: waits for approval" in nodes["summary"].label
    assert nodes["taxes"].fill == STATE_FILLS["succeeded"]
    assert nodes["positive"].status == "unresolved"  # nothing reads the guard
    assert "dotted" in nodes["positive"].style
    # summary waits for approval through approved_total: a dotted wait edge points at the await node.
    waits = [(e.tail, e.head) for e in view.edges if e.wait]
    assert waits == [("n_summary", "n_approval")]


def test_instance_view_of_failure_and_stale_nodes():
    c = FailingContract(x=1)
    c.resolve_all()
    nodes = _nodes(graph_view(c.graph, states=c))
    assert nodes["boom"].fill == STATE_FILLS["failed"]
    assert "failed: ResolutionError" in nodes["boom"].label
    c.update_inputs(x=2)
    nodes = _nodes(graph_view(c.graph, states=c))
    assert nodes["boom"].status == "stale" and "dashed" in nodes["boom"].style


def test_states_accept_plain_mappings_and_strings():
    view = graph_view(PriceContract.graph, states={"order_total": "succeeded", "gross_total": {"status": "failed"}})
    nodes = _nodes(view)
    assert nodes["order_total"].status == "succeeded"
    assert nodes["gross_total"].status == "failed"
    assert nodes["output:gross_total"].status == "failed"  # an output shows its source's state
    assert nodes["country"].status == "unresolved"


def test_dot_attributes_are_sorted_and_hold_no_addresses():
    source = graph_to_dot(AllKinds.graph).source
    assert "0x" not in source and "//" not in source
    plain = re.sub(r"<<.*?>>", "<>", source)  # HTML-like labels carry their own (table) attributes
    for attrs in re.findall(r"\[(.*?)\]\s*$", plain, re.M):
        keys = re.findall(r'(?:^|\s)(\w+)=(?:"[^"]*"|\S+)', attrs)
        assert keys == sorted(keys), attrs


def test_large_graphs_collapse_by_scope_unless_expanded():
    graph = layered_graph(400)
    view = graph_view(graph)
    assert view.collapsed == tuple(f"s{i:03d}" for i in range(40))
    assert {n.kind for n in view.nodes} == {"input", "scope", "output"}
    assert len(view.nodes) == 42
    assert "expand=True" in view.title[-1]
    assert len(graph_view(graph, expand=True).nodes) == 401
    partly = graph_view(graph, expand=["s001"])
    assert "s001" not in partly.collapsed and any(n.name == "x15" for n in partly.nodes)
    small = graph_view(layered_graph(100))
    assert small.collapsed == () and len(small.nodes) == 101


def test_collapsed_scope_summarises_states():
    graph = layered_graph(320)
    view = graph_view(graph, states={"x1": "succeeded", "x2": "failed"})
    s000 = next(n for n in view.nodes if n.name == "s000")
    assert s000.status == "failed"
    assert "1 failed" in s000.label[-1] and "1 succeeded" in s000.label[-1]


@pytest.mark.parametrize("graph", [PriceContract.graph, AllKinds.graph])
def test_dot_source_is_deterministic(graph):
    assert graph_to_dot(graph).source == graph_to_dot(graph).source
