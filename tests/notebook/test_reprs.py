"""Rich reprs of every object: text/plain always, well-formed SVG or HTML, deterministic across processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from contracts import ApprovalContract, FailingContract, Item, PriceContract, layered_graph
from svgcheck import parse

import igniter_nb as ig
from igniter_nb.notebook import reprs
from igniter_nb.notebook.extension import sanitizer_path
from igniter_nb.notebook.render import clean_dot_svg, dot_available

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _check(bundle, rich):
    assert isinstance(bundle["text/plain"], str) and bundle["text/plain"].strip()
    assert rich in bundle, sorted(bundle)
    if rich == "image/svg+xml":
        parse(bundle[rich])
        assert "0x" not in bundle[rich] and "<!--" not in bundle[rich]
    else:
        # HTML fragments are well-formed XML too once wrapped (we only write balanced tags).
        import xml.etree.ElementTree as ET

        ET.fromstring("<div>" + bundle[rich].replace("&nbsp;", " ") + "</div>")


def test_graph_repr():
    bundle = PriceContract.graph._repr_mimebundle_()
    _check(bundle, "image/svg+xml")
    assert "gross_total" in bundle["text/plain"]


def test_contract_repr_shows_states_without_resolving():
    c = ApprovalContract(order_id="o-1", order_total=5)
    bundle = c._repr_mimebundle_()
    assert c.execution.states == {}  # displaying resolves nothing
    assert "unresolved" in bundle["text/plain"].splitlines()[0]
    c.resolve_all()
    bundle = c._repr_mimebundle_()
    _check(bundle, "image/svg+xml")
    text = bundle["text/plain"]
    assert "waiting: approval (event manager_approved)" in text
    assert "summary (waits for approval)" in text
    assert "ApprovalContract — waiting" in bundle["image/svg+xml"]


def test_result_repr_resolves_and_lists_outputs():
    c = PriceContract(order_total=100, country="UA")
    bundle = c.result._repr_mimebundle_()
    _check(bundle, "text/html")
    assert "gross_total [succeeded] = 120.0" in bundle["text/plain"]
    failing = FailingContract(x=1).result._repr_mimebundle_()
    assert "after [failed]" in failing["text/plain"] and "no good" in failing["text/html"]
    waiting = ApprovalContract(order_id="o", order_total=1).result._repr_mimebundle_()
    assert "waiting for event manager_approved" in waiting["text/html"]


def test_plan_report_and_timeline_reprs():
    c = ApprovalContract(order_id="o-1", order_total=5)
    plan = c.plan()._repr_mimebundle_()
    _check(plan, "text/html")
    assert "manager_approved" in plan["text/html"]
    c.resolve_all()
    report = c.diagnostics._repr_mimebundle_()
    _check(report, "text/html")
    assert "text/markdown" in report
    assert "manager_approved" in report["text/html"]
    timeline = c.audit._repr_mimebundle_()
    _check(timeline, "text/html")
    assert f"{len(c.events)} events" in timeline["text/plain"]
    assert timeline["text/html"].count("<tr>") == len(c.events) + 1


def test_collection_repr():
    def define(c):
        c.input("items", type=list)
        c.collection("lines", source="items", each=Item, key="id")
        c.output("lines")

    Order = ig.contract(define, name="CollectionOrder")
    result = Order(items=[{"id": "a", "qty": 1}, {"id": "b", "qty": "x"}]).result.lines
    bundle = reprs.collection_mimebundle(result)
    _check(bundle, "text/html")
    assert "'a' [succeeded]" in bundle["text/plain"] and "'b' [failed]" in bundle["text/plain"]
    assert "partial_failure" in bundle["text/html"]


def test_store_repr():
    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    store.save({"execution_id": "e-1", "states": {}}, graph="Lead", correlation={"request_id": "r1"}, status="waiting")
    store.save({"execution_id": "e-2", "states": {}}, graph="Lead", correlation={"request_id": "r2"}, status="succeeded")
    bundle = reprs.store_mimebundle(store)
    _check(bundle, "text/html")
    assert "2 executions (1 succeeded, 1 waiting)" in bundle["text/plain"]
    assert "r1" in bundle["text/html"] and "e-2" in bundle["text/html"]


def test_show_expands_collapsed_graphs():
    graph = layered_graph(320)
    collapsed = ig.nb.show(graph, engine="python")._repr_mimebundle_()["image/svg+xml"]
    expanded = ig.nb.show(graph, expand=True, engine="python")._repr_mimebundle_()["image/svg+xml"]
    assert collapsed.count('class="node"') == 34 and expanded.count('class="node"') == 321


def test_repr_never_raises_when_a_picture_fails(monkeypatch):
    import igniter_nb.notebook.reprs as module

    def broken(*args, **kwargs):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(module, "render_graph", broken)
    bundle = PriceContract.graph._repr_mimebundle_()
    assert bundle["text/plain"] and "renderer broke" in bundle["text/html"]


def test_clean_dot_svg_strips_comments_and_prologue():
    raw = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- Generated by graphviz -->\n<svg><!-- a&#45;&gt;b --><g/></svg>'
    assert clean_dot_svg(raw) == "<svg><g/></svg>\n"


# ----------------------------------------------------------------------------------------------- determinism

_SCRIPT = r"""
import json, sys
sys.path.insert(0, {here!r})
from contracts import AllKinds, ApprovalContract, PriceContract, layered_graph, random_graph
from igniter_nb.notebook import reprs
from igniter_nb.notebook.render import dot_available
c = ApprovalContract(order_id="o-1", order_total=5)
c.resolve_all()
out = {{
    "dot": dot_available(),
    "graph": reprs.graph_mimebundle(PriceContract.graph),
    "all_kinds": reprs.graph_mimebundle(AllKinds.graph),
    "large": reprs.graph_mimebundle(layered_graph(400)),
    "unscoped": reprs.graph_mimebundle(layered_graph(400, scope_size=None)),
    "random1": reprs.graph_mimebundle(random_graph(1, 40)),
    "random2": reprs.graph_mimebundle(random_graph(2, 40)),
    "instance": reprs.contract_mimebundle(c),
    "result": reprs.result_mimebundle(c.result),
    "plan": reprs.plan_mimebundle(c.plan()),
    "report": reprs.report_mimebundle(c.diagnostics),
    "timeline": reprs.timeline_mimebundle(c.audit),
}}
print(json.dumps(out, sort_keys=True))
"""


def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(Path(sanitizer_path()).read_text()):
        text = re.sub(regex, replace, text)
    return text


def _run(path_env: str | None) -> dict:
    env = dict(os.environ)
    if path_env is not None:
        env["PATH"] = path_env
    proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(here=str(HERE))], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _assert_same(a: dict, b: dict) -> None:
    for name in a:
        if name == "dot":
            continue
        for mime, value in a[name].items():
            other = b[name][mime]
            if mime == "image/svg+xml":
                assert value == other, f"{name} {mime} differs between processes"
            else:
                assert _sanitize(value) == _sanitize(other), f"{name} {mime} differs after sanitizing"


@pytest.mark.skipif(not dot_available() and not os.environ.get("CI"),  # CI installs dot: there it must run
                    reason="Graphviz dot is installed by `make setup`")
def test_output_is_identical_in_two_fresh_processes_with_dot():
    first, second = _run(None), _run(None)
    assert first["dot"] is True
    assert 'class="graph"' in first["graph"]["image/svg+xml"]  # drawn by dot
    _assert_same(first, second)


def test_output_is_identical_in_two_fresh_processes_without_dot(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    first, second = _run(str(bin_dir)), _run(str(bin_dir))
    assert first["dot"] is False
    svg = first["graph"]["image/svg+xml"]
    assert "data-box=" in svg  # drawn by the pure-Python layout
    parse(svg)
    _assert_same(first, second)


def test_collection_result_displays_itself_without_the_extension():
    import igniter_nb as ig

    @ig.contract
    def ReprItem(c):
        c.input("id")
        c.output("id")

    @ig.contract
    def ReprColl(c):
        c.input("items")
        c.collection("all", source="items", each=ReprItem, key="id")
        c.output("all")

    bundle = ReprColl(items=[{"id": 1}, {"id": 2}]).result.all._repr_mimebundle_()
    assert "text/plain" in bundle and "total=2" in bundle["text/plain"]
    assert "text/html" in bundle


def test_stores_display_themselves_without_the_extension(tmp_path):
    import igniter_nb as ig
    from igniter_nb.stores import FileStore, MemoryStore

    @ig.contract
    def ReprWaiting(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("paid", event="payment_received")
        c.output("paid")

    for store in (MemoryStore(), FileStore(tmp_path)):
        ReprWaiting.start(order_id="A-1", store=store)
        bundle = store._repr_mimebundle_()
        assert "text/plain" in bundle and "text/html" in bundle
        assert "ReprWaiting" in bundle["text/html"] and "waiting" in bundle["text/html"]


def test_a_timeline_of_one_event_says_one_event() -> None:
    class One(ig.Contract):
        def define(c: Any) -> None:
            c.input("x")
            c.output("x")

    c = One(x=1)
    c.resolve_all()
    c.execution.bus.replace(c.execution_id, c.events[:1])  # (a log cut to its first event)
    bundle = c.audit._repr_mimebundle_()
    assert ": 1 event\n" in bundle["text/plain"] + "\n" and "1 events" not in bundle["text/plain"]
    assert "1 event<" in bundle["text/html"] and "1 events" not in bundle["text/html"]
