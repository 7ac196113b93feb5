"""What the picture says (issue 12 points 1, 4, 5): correlation values, deadlines, tokens, errors, supplied
inputs, plan kinds, the legend, the direction, fitting the output, and big graphs collapsed."""

from __future__ import annotations

import pytest
from contracts import AllKinds, ApprovalContract, FailingContract, PriceContract, layered_graph
from nb_store_contracts import NOW, NbAsyncPricing, NbLeadWorkflow
from svgcheck import SVG, node_boxes, parse

import igniter_nb as ig
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook import reprs
from igniter_nb.notebook.render import render_graph
from igniter_nb.stores import MemoryStore


def _labels(view):
    return {n.name if n.kind != "output" else f"output:{n.name}": n.label for n in view.nodes}


def test_workflow_title_shows_correlation_values_and_await_shows_its_deadline():
    wf = NbLeadWorkflow.start({"request_id": "req-1", "company_id": 42}, store=MemoryStore(), now=NOW)
    view = graph_view(wf.graph, states=wf)
    assert view.title[1] == "correlate by: request_id='req-1', company_id=42"
    crm = _labels(view)["crm"]
    assert "waiting for event crm_received" in crm and "deadline 2026-01-02 04:04:05 UTC" in crm
    assert not any(line.startswith("deadline") for line in _labels(view)["billing"])  # no timeout, no deadline


def test_deferred_node_shows_its_token_in_picture_and_plan():
    c = NbAsyncPricing(order_total=100, store=MemoryStore())
    c.resolve_all()
    assert "token quote-100" in _labels(graph_view(c.graph, states=c))["quote_total"]
    entry = c.plan().entry("quote_total")
    assert entry.token == "quote-100" and "token=quote-100" in entry.to_text()
    assert c.plan().entry("gross_total").token is None  # blocked through it, not deferred itself


def test_failed_node_shows_its_error_line_in_picture_and_plan():
    c = FailingContract(x=1)
    c.resolve_all()
    assert _labels(graph_view(c.graph, states=c))["boom"][2:] == ("failed: ResolutionError", "ValueError: no good")
    entry = c.plan().entry("boom")
    assert entry.error == "ResolutionError: ValueError: no good"
    html = reprs.plan_mimebundle(c.plan())["text/html"]
    assert "ResolutionError: ValueError: no good" in html


def test_supplied_input_reads_supplied_not_unresolved():
    c = PriceContract(order_total=100, country="UA")
    view = graph_view(c.graph, states=c)
    nodes = {n.name: n for n in view.nodes}
    assert nodes["order_total"].status == "supplied" and nodes["order_total"].label[-1] == "supplied"
    assert nodes["vat_rate"].status == "unresolved"  # a default, not supplied
    assert nodes["gross_total"].status == "unresolved"


def test_plan_kinds_match_the_graph():
    class Kinds(ig.Contract):
        def define(c):
            c.input("items", type=list)
            c.const("rate", 3)
            c.guard("has_items", depends_on=["items"], call=lambda items: bool(items))
            c.lookup("customer", depends_on=["rate"], call=lambda rate: {"rate": rate})

            @c.aggregate
            def report(customer, has_items):
                return 1

            c.output("report")

    c = Kinds(items=[1])
    plan = c.plan()
    roles = {e.name: e.role for e in plan.entries}
    assert roles == {"items": "input", "rate": "const", "has_items": "guard", "customer": "lookup",
                     "report": "aggregate"}
    assert {n.name: n.kind for n in graph_view(Kinds.graph).nodes if n.kind != "output"} == roles
    assert plan.entry("rate").kind == "compute"  # the reference text format keeps the node kind
    assert plan.entry("rate").to_dict()["role"] == "const"
    html = reprs.plan_mimebundle(plan)["text/html"]
    assert ">const<" in html and ">lookup<" in html


def test_legend_lists_kinds_and_states_and_can_be_turned_off():
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    view = graph_view(c.graph, states=c)
    texts = [i.text for i in view.legend]
    assert {"input", "await", "aggregate", "guard", "waiting", "succeeded", "unresolved"} <= set(texts)
    assert "lookup" not in texts  # only what the picture holds
    for engine in ("python", "dot"):
        on, off = render_graph(c, engine=engine), render_graph(c, engine=engine, legend=False)
        assert ">waiting<" in on.replace("</tspan>", "<") or "waiting</text>" in on
        assert len(off) < len(on)
    assert graph_view(c.graph, legend=False).legend == ()


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_pictures_fit_the_output_and_full_size_is_an_option(engine):
    svg = render_graph(AllKinds.graph, engine=engine)
    assert 'style="max-width:100%;height:auto"' in svg.split(">", 1)[0]
    assert 'pt"' not in svg.split(">", 1)[0]  # px: text draws at the same size on both engines
    full = render_graph(AllKinds.graph, engine=engine, size="full")
    assert "max-width" not in full.split(">", 1)[0]
    _bundle, meta = reprs.show(AllKinds, engine=engine, size="full")._repr_mimebundle_()
    assert meta == {"image/svg+xml": {"unconfined": True}}
    assert isinstance(reprs.show(AllKinds, engine=engine)._repr_mimebundle_(), dict)
    with pytest.raises(ValueError, match="size"):
        render_graph(AllKinds.graph, engine=engine, size="huge")  # type: ignore[arg-type]


def test_direction_is_chosen_from_the_shape_and_can_be_forced():
    chain = layered_graph(40, scope_size=None, fan=1)  # deep: 40 layers of one node
    assert 'data-direction="TB"' in render_graph(chain, engine="python")
    assert 'data-direction="LR"' in render_graph(PriceContract.graph, engine="python")  # fits left to right
    assert 'data-direction="LR"' in render_graph(chain, engine="python", direction="LR")
    from igniter_nb.diagnostics.dot import graph_to_dot

    assert "rankdir=TB" in graph_to_dot(chain).source and "rankdir=LR" in graph_to_dot(chain, direction="LR").source
    with pytest.raises(ValueError, match="direction"):
        graph_view(chain, direction="RL")


def test_chain_of_40_fits_a_notebook_output_width():
    svg = render_graph(layered_graph(40, scope_size=None, fan=1), engine="python")
    width = float(parse(svg).get("width"))
    assert width <= 970


def test_unscoped_big_graphs_collapse_into_blocks():
    # (how fast: bench/notebook.py, B7 — no clocks in unit tests)
    graph = layered_graph(10_000, scope_size=None)
    view = graph_view(graph)
    svg = render_graph(graph, engine="python")
    assert view.collapsed and all(name.startswith("block") for name in view.collapsed)
    assert len(view.nodes) <= 60 and "10,001 nodes" in view.title[-1]
    assert len(node_boxes(svg)) == len(view.nodes)
    states = {"x5": "failed", "x6": "succeeded"}
    block = next(n for n in graph_view(graph, states=states).nodes if n.kind == "scope")
    assert block.status == "failed" and "1 failed" in block.label[-1]


def test_scoped_big_graphs_still_collapse_by_scope():
    view = graph_view(layered_graph(400))
    assert view.collapsed[0] == "s000" and len(view.nodes) == 42


def test_svg_nodes_carry_a_bold_name():
    root = parse(render_graph(PriceContract.graph, engine="python"))
    bold = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert "gross_total" in bold and "order_total" in bold


class _ToolCallsExecutor(ig.Executor):
    def call(self, question):
        calls = [{"id": "toolu_01", "name": "search_catalogue", "arguments": {"query": question}},
                 {"id": "toolu_02", "name": "price<of>&", "arguments": {}}]
        return self.defer(token="tools-1", payload={"tool_calls": calls})


class _AsksTools(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("question", type=str)
        c.compute("answer", depends_on=["question"], call=_ToolCallsExecutor)
        c.output("answer")


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_pending_tool_calls_show_their_names_and_ids_on_both_engines(engine):
    store = MemoryStore()
    c = _AsksTools(question="Dune", store=store, execution_id="asks-1")
    c.resolve_all()
    answer = _labels(graph_view(c.graph, states=c))["answer"]
    assert answer[2:] == ("pending: deferred", "tool call: search_catalogue (toolu_01)",
                          "tool call: price<of>& (toolu_02)", "token tools-1")
    svg = render_graph(c.graph, states=c, engine=engine)
    assert "search_catalogue (toolu_01)" in svg and "price&lt;of&gt;&amp; (toolu_02)" in svg
    assert "price<of>" not in svg  # escaped by each renderer
    # the same lines from the stored snapshot (a stepper over the store replays snapshots)
    stepper = ig.nb.SnapshotStepper(store, execution_id="asks-1", graph=_AsksTools, engine=engine)
    shown = stepper.svg(-1).replace("&#45;", "-")  # dot writes a hyphen as an entity
    assert "search_catalogue (toolu_01)" in shown and "token tools-1" in shown


def test_many_or_odd_tool_calls_are_cut_short():
    from igniter_nb.diagnostics.view import LINE_LIMIT, pending_summary

    calls = [{"id": "x" * 80, "name": "n" * 80}] * 5
    lines = pending_summary({"tool_calls": calls})
    assert len(lines) == 4 and lines[-1] == "+2 more tool calls"
    assert all(len(line) <= LINE_LIMIT for line in lines)
    assert pending_summary({"tool_calls": [{"name": "a\nb"}]}) == ("tool call: a b",)
    assert pending_summary({"tool_calls": "not a list"}) == () and pending_summary(None) == ()
    assert pending_summary({"other": 1}) == ()


def test_simulator_picture_shows_correlation_values_and_the_deadline():
    store = MemoryStore()
    NbLeadWorkflow.start({"request_id": "req-1", "company_id": 42}, store=store, now=NOW)
    sim = ig.nb.EventSimulator(NbLeadWorkflow, store, now=NOW, engine="python")
    svg = sim.svg()
    assert "correlate by: request_id=&#x27;req-1&#x27;, company_id=42" in svg
    assert "deadline 2026-01-02 04:04:05 UTC" in svg


def test_stepper_picture_over_a_store_knows_supplied_inputs_correlation_and_deadline():
    store = MemoryStore()
    wf = NbLeadWorkflow.start({"request_id": "req-1", "company_id": 42}, store=store, now=NOW)
    NbLeadWorkflow.deliver_event("crm_received", correlation={"request_id": "req-1", "company_id": 42},
                                 payload={"ok": 1}, store=store, now=NOW)
    stepper = ig.nb.SnapshotStepper(store, execution_id=wf.execution_id, engine="python")
    first = stepper.svg(0)
    assert "correlate by: request_id=&#x27;req-1&#x27;, company_id=42" in first
    assert "deadline 2026-01-02 04:04:05 UTC" in first
    # a plain contract saved before its input was read: the input is supplied, not unresolved
    from igniter_nb.runtime.snapshot import snapshot_execution

    pricing = NbAsyncPricing(order_total=100, store=store, execution_id="pricing-1")
    store.save(snapshot_execution(pricing.execution), graph="NbAsyncPricing", status="running")
    view = parse(ig.nb.SnapshotStepper(store, execution_id="pricing-1", engine="python").svg(0))
    statuses = {n.get("data-id"): n.get("data-status") for n in view.iter(f"{SVG}g") if n.get("class") == "node"}
    assert statuses["n_order_total"] == "supplied" and statuses["n_quote_total"] == "unresolved"
