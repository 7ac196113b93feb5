"""Edges of a folded layer run along the gap between rows (a bus), each on a track of its own when it shares
neither end with another run there (``layout_routes._bus_tracks``): a 200-node random graph drawn top to bottom
had 721 pairs of unrelated edges on one line, up to 880 px of it, so that no reader could tell which of two nodes
above led to which of two below."""

from __future__ import annotations

import random
from typing import Any

import pytest
from edgecheck import read, shared_runs, too_near

import igniter_nb as ig
from igniter_nb.notebook.render import render_graph


def random_dag(n: int, seed: int = 7) -> Any:
    """``n`` nodes: five inputs, then computes each reading one to three of the 40 nodes declared before it."""
    rng = random.Random(seed)

    def define(c: Any) -> None:
        names = [f"in{i}" for i in range(5)]
        for name in names:
            c.input(name)
        for i in range(n - 5):
            window = names[-40:]
            deps = sorted(set(rng.sample(window, k=min(len(window), rng.randint(1, 3)))))
            c.compute(f"n{i}", depends_on=deps, call=lambda **kw: 1)
            names.append(f"n{i}")
        c.output(names[-1])

    return ig.compile(define, name=f"Dag{n}")


@pytest.mark.parametrize(("n", "direction", "size"), [(200, "TB", "fit"), (200, "LR", "full"), (120, "TB", "full")])
def test_unrelated_edges_never_share_a_line(n: int, direction: str, size: Any) -> None:
    svg = render_graph(random_dag(n), engine="python", direction=direction, size=size)
    assert 'data-box' in svg
    assert shared_runs(svg) == []
    assert too_near(svg, 0.5) == []  # a track is still inside its gap: through no box


def test_each_edge_still_runs_from_its_tail_to_its_head() -> None:
    svg = render_graph(random_dag(200), engine="python", direction="TB")
    boxes, edges = read(svg)
    assert len(edges) == 391

    def distance(p: tuple[float, float], box: tuple[float, float, float, float]) -> float:
        x, y, w, h = box
        return float(max(x - p[0], 0.0, p[0] - x - w) + max(y - p[1], 0.0, p[1] - y - h))

    far = [(t, h) for t, h, pts in edges if distance(pts[0], boxes[t]) > 2 or distance(pts[-1], boxes[h]) > 12]
    assert far == []
