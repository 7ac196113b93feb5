"""A left-to-right picture too wide to be read in the output area is wrapped into rows (``layout_wrap``).

``ig.nb.show(chain30, direction='LR')`` was 3,980 px wide without ``dot`` (3,256 px with it) and JupyterLab shrank
it to a strip, its 12 px names 3 px tall; 9 seeded random graphs asked left to right without ``dot`` stayed wider
than 1,342 px (``FIT_WIDTH / MIN_SCALE``), too wide to be drawn 940 px wide at 0.7 of their size. Now their columns
are cut into rows read left to right, one below the other, each edge between rows drawn out of the right of one row,
along the gap below it and into the left of the next."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

import pytest
from contracts import random_graph
from edgecheck import LABEL_FONT, _meets, read, too_near

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import FIT_WIDTH, glyph_width, text_width
from igniter_nb.diagnostics.view import GraphView, graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.layout_wrap import WRAP_ABOVE
from igniter_nb.notebook.picture import draw
from igniter_nb.notebook.render import MIN_SCALE, dot_available, render_view

SVG = "{http://www.w3.org/2000/svg}"
#: left to right asked for, without dot: wider than ``WRAP_ABOVE`` in one row (their columns of long names)
WRAPPED_LR = [(2, 10), (3, 10), (32, 10), (33, 10), (2, 15), (3, 15), (7, 15), (8, 15), (12, 15)]
_ROOT = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)(?:pt)?"[^>]*?\sheight="([0-9.]+)(?:pt)?"[^>]*?viewBox="[-0-9.]+ [-0-9.]+ '
                   r'([0-9.]+) ([0-9.]+)"')


def chain(n: int) -> Any:
    def define(c: Any) -> None:
        c.input("x0", type="numeric")
        for i in range(1, n):
            c.compute(f"step_{i}", depends_on=["x0" if i == 1 else f"step_{i - 1}"], call=lambda **kw: 1)
        c.output(f"step_{n - 1}")

    return ig.compile(define, name=f"Chain{n}")


@cache
def _chain_view(n: int) -> GraphView:
    return graph_view(chain(n), direction="LR")


@cache
def _random_view(seed: int, n: int) -> GraphView:
    return graph_view(random_graph(seed, n), direction="LR")


def _shown(svg: str) -> tuple[float, float, float, float]:
    found = _ROOT.search(svg)
    assert found, svg[:300]
    return tuple(float(v) for v in found.groups())  # type: ignore[return-value]


def _legible(svg: str) -> None:
    """At most 940 px wide as shown, every text at least ``MIN_SCALE`` of its size, the aspect kept."""
    w, h, vw, vh = _shown(svg)
    assert w <= FIT_WIDTH, (w, vw)
    assert w / vw >= MIN_SCALE - 1e-3, (w, vw)
    assert abs(w / vw - h / vh) < 0.01


def _subjects() -> list[tuple[str, Any]]:
    return [*((f"chain{n}", n) for n in (30, 60, 200)), *((f"random_{s}_{n}", (s, n)) for s, n in WRAPPED_LR)]


def _view(name: str, arg: Any) -> GraphView:
    return _chain_view(arg) if name.startswith("chain") else _random_view(*arg)


@pytest.mark.parametrize(("name", "arg"), _subjects(), ids=[n for n, _ in _subjects()])
def test_a_long_left_to_right_picture_fits_legibly_without_dot(name: str, arg: Any, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = _view(name, arg)
    assert layout(view, wrap=False).width > WRAP_ABOVE  # one row: too wide to be shown at 0.7 of its size
    svg = render_view(view)
    _legible(svg)
    assert 'data-direction="LR"' in svg and 'data-rows="' in svg
    assert too_near(svg, 0.5) == []  # no edge through or grazing a box, the edges between rows included


@pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")
@pytest.mark.parametrize(("name", "arg"), _subjects(), ids=[n for n, _ in _subjects()])
def test_a_long_left_to_right_picture_fits_legibly_with_dot(name: str, arg: Any, monkeypatch) -> None:
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    _legible(render_view(_view(name, arg)))


@pytest.mark.parametrize("n", [30, 60, 200])
def test_a_chain_is_read_row_by_row_left_to_right(n: int) -> None:
    view = _chain_view(n)
    svg = render_view(view, engine="python")
    assert _shown(svg)[0] <= FIT_WIDTH and f'data-rows="{layout(view).rows}"' in svg
    boxes, edges = read(svg)
    rows: dict[float, list[str]] = {}
    for name, (_x, y, _w, h) in boxes.items():
        rows.setdefault(round(y + h / 2), []).append(name)
    ordered = [sorted(names, key=lambda k: boxes[k][0]) for _, names in sorted(rows.items())]
    assert len(ordered) > 1
    reading = [name for row in ordered for name in row]  # row by row, left to right
    after = {e.tail: e.head for e in view.edges}
    order = [next(iter(set(after) - set(after.values())))]
    while order[-1] in after:
        order.append(after[order[-1]])
    assert reading == order  # the chain, in reading order
    assert sorted(e.tail for e in view.edges) == sorted(t for t, _, _ in edges)
    for tail, head, pts in edges:
        tx, ty, tw, th = boxes[tail]
        hx, hy, hw, hh = boxes[head]
        # out of its right side (a parallelogram's is slanted), into the head's left side
        assert tx + tw / 2 < pts[0][0] <= tx + tw + 1 and ty <= pts[0][1] <= ty + th, (tail, pts[0])
        assert hx - 1 <= pts[-1][0] < hx + hw / 2 and hy <= pts[-1][1] <= hy + hh, (head, pts[-1])
        assert pts[-1][0] > pts[-3][0]  # the arrow points right, into the head
        if reading.index(head) != reading.index(tail) + 1:
            raise AssertionError((tail, head))
        same_row = any(tail in row and head in row for row in ordered)
        if not same_row:  # the end of one row to the start of the next, below it
            assert any(row[-1] == tail for row in ordered) and any(row[0] == head for row in ordered)
            assert max(p[0] for p in pts) > tx + tw and min(p[0] for p in pts) < hx  # around both rows
            assert max(p[1] for p in pts) <= hy + hh / 2 + 0.5  # never below the head's row


def _edge_ends(svg: str) -> list[tuple[str, str, tuple[float, float], tuple[float, float]]]:
    _, edges = read(svg)
    return [(t, h, pts[0], pts[-1]) for t, h, pts in edges]


def _near(p: tuple[float, float], box: tuple[float, float, float, float], pad: float) -> bool:
    x, y, w, h = box
    return x - pad <= p[0] <= x + w + pad and y - pad <= p[1] <= y + h + pad


@pytest.mark.parametrize(("seed", "n"), WRAPPED_LR)
def test_every_edge_between_rows_connects_its_own_nodes_and_reads_forward(seed: int, n: int) -> None:
    view = _random_view(seed, n)
    lay = layout(view)
    assert lay.rows > 1
    svg = render_view(view, engine="python")
    boxes, _ = read(svg)
    for tail, head, start, end in _edge_ends(svg):
        assert _near(start, boxes[tail], 2.0), (tail, head, start, boxes[tail])  # starts at its tail
        assert _near(end, boxes[head], 2.0), (tail, head, end, boxes[head])  # and ends at its head
    for e in view.edges:  # forward: into a later row, or further right in the same row
        t, h = lay.boxes[e.tail], lay.boxes[e.head]
        if e.wait:
            continue
        assert h.y > t.y + t.h or h.x > t.x + t.w, (e.tail, e.head)


@pytest.mark.parametrize(("seed", "n"), WRAPPED_LR)
def test_a_band_split_by_a_row_is_drawn_in_every_row_with_its_nodes_inside(seed: int, n: int) -> None:
    view = _random_view(seed, n)
    lay = layout(view)
    svg = render_view(view, engine="python")
    root = ET.fromstring(svg)
    continued = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster-continued"]
    assert len(continued) == sum(len(v) for v in lay.continued.values())
    boxes, edges = read(svg)
    for g in continued:  # labelled, in its top strip, where no edge or box is
        text = g.find(f"{SVG}text")
        assert text is not None and (text.text or "").endswith(" (cont.)")
        x, y, name = float(text.get("x", "0")), float(text.get("y", "0")), text.text or ""
        label = (x, y - 0.8 * LABEL_FONT, max(glyph_width(name, LABEL_FONT), text_width(name) * LABEL_FONT / 12),
                 1.05 * LABEL_FONT)
        assert not [(t, h) for t, h, pts in edges if any(_meets(p, q, label, 1.0) for p, q in itertools.pairwise(pts))]
        lx, ly, lw, lh = label
        assert not [k for k, (bx, by, bw, bh) in boxes.items() if bx < lx + lw and lx < bx + bw and by < ly + lh
                    and ly < by + bh]
    for node in view.nodes:
        b = lay.boxes[node.id]
        for k in range(1, len(node.scope) + 1):
            pieces = [lay.clusters[node.scope[:k]], *lay.continued.get(node.scope[:k], [])]
            assert any(p.x <= b.x and b.x + b.w <= p.x + p.w and p.y <= b.y and b.y + b.h <= p.y + p.h
                       for p in pieces), (node.id, node.scope[:k])


def test_pictures_that_fit_are_drawn_as_before(monkeypatch) -> None:
    # wrapping applies only past WRAP_ABOVE: below it the layout is the very one drawn without wrapping
    from test_picture_width import SWEEP

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    checked = 0
    for seed, n in SWEEP:
        for direction in (None, "LR", "TB"):
            view = graph_view(random_graph(seed, n), direction=direction)
            one = layout(view, wrap=False)
            if one.width > WRAP_ABOVE:
                continue
            assert layout(view) == one and render_view(view, engine="python") == draw(view, one)
            checked += 1
    assert checked >= 150


def test_size_full_keeps_one_row_that_scrolls() -> None:
    view = _chain_view(30)
    svg = render_view(view, engine="python", size="full")
    assert "data-rows" not in svg and _shown(svg)[0] > 3000
    assert render_view(view, engine="python") == render_view(view, engine="python")  # deterministic


def _labels(svg: str) -> list[tuple[float, float, str]]:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "edge-labels")
    return [(float(t.get("x", "0")), float(t.get("y", "0")), t.text or "") for t in group.iter(f"{SVG}text")]


def test_an_edge_label_between_rows_sits_on_the_way_into_its_head() -> None:
    import dataclasses

    view = _chain_view(30)
    view = dataclasses.replace(view, edges=tuple(dataclasses.replace(e, label=".total_value") if e.head.startswith("n_")
                                                 else e for e in view.edges))
    lay = layout(view)
    svg = render_view(view, engine="python")
    _legible(svg)
    assert lay.rows > 1 and too_near(svg, 0.5) == []
    width = _shown(svg)[2]
    assert len(_labels(svg)) == sum(1 for e in view.edges if e.label)
    for x, _, text in _labels(svg):
        assert text == ".total_value"
        assert text_width(text) * 10 / 12 / 2 < x < width - text_width(text) * 10 / 12 / 2  # within the picture
    for e in view.edges:  # each label just before its head, level with where the edge enters it
        if not e.label:
            continue
        x, y = lay.routes[(e.tail, e.head)].label_at
        head = lay.boxes[e.head]
        assert x < head.x and head.x - x < 80 and head.y <= y <= head.y + head.h, (e.tail, e.head, x, y, head)


def test_a_waits_for_edge_between_rows_runs_from_its_tail_to_its_head() -> None:
    def define(c: Any) -> None:
        c.input("x0", type="numeric")
        c.await_event("approval", event="approved")
        for i in range(1, 30):
            deps = ["x0" if i == 1 else f"step_{i - 1}"] + (["approval"] if i == 12 else [])
            c.compute(f"step_{i}", depends_on=deps, call=lambda **kw: 1)
        c.output("step_29")

    contract = ig.contract(define, name="WaitChain")
    instance = contract(x0=1)
    instance.resolve_all()
    view = graph_view(contract.compiled_graph(), states=instance, direction="LR")
    waits = [e for e in view.edges if e.wait]
    assert waits
    lay = layout(view)
    assert lay.rows > 1
    svg = render_view(view, engine="python")
    _legible(svg)
    boxes, _ = read(svg)
    ends = {(t, h): (s, e) for t, h, s, e in _edge_ends(svg)}
    vw = _shown(svg)[2]
    for e in waits:
        assert lay.layers[e.tail] != lay.layers[e.head]
        start, end = ends[(e.tail, e.head)]
        assert _near(start, boxes[e.tail], 2.0) and _near(end, boxes[e.head], 2.0)
    for x, _, text in _labels(svg):  # the "waits for" label inside the picture
        assert 0 < x - len(text) * 3 and x + len(text) * 3 < vw
