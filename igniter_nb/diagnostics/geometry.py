"""Sizes and layers of a graph view, shared by both renderers: how big a node's text is, which layer each node
sits in, and which direction (left to right or top to bottom) fits a notebook output best.

``choose_direction`` estimates the drawing's width in each direction: left to right when it fits ``FIT_WIDTH``
(an output area is about 970 px wide), else whichever is narrower — a long chain reads better top to bottom
(scrolling down is natural in a notebook, scrolling sideways is not). The estimate is a first guess: each engine
then checks the picture it really draws and draws the other direction too when the first is wider than
``FIT_WIDTH`` (``igniter_nb.notebook.layout.layout``, which folds long layers; ``render._dot_svg``), and
``render_view(engine="auto")`` draws the folded layout rather than ``dot``'s picture where ``dot``'s does not fit
or is many times taller (``render._better_layout``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from igniter_nb.diagnostics.view import FONT_SIZE, GraphView, ViewEdge, ViewNode

CHAR_W = FONT_SIZE * 0.56  # average glyph width of a 12 px sans-serif font, generous so text stays inside
BOLD_W = FONT_SIZE * 0.62
LINE_H = 15
PAD_X = 10
PAD_Y = 6
ELLIPSE_MARGIN = 4.0  # px between a line of text and an ellipse's (inner) outline, on each side
FIT_WIDTH = 940
FIT_STYLE = "max-width:100%;height:auto"  # on the root <svg>: scale down to the output width, keep the aspect
LAYER_GAP = {"LR": 56.0, "TB": 40.0}
NODE_GAP = {"LR": 14.0, "TB": 18.0}

#: extra width/height a shape needs around its text (its slant, point, tab or curved top)
EXTRA_W = {"parallelogram": 16, "cds": 18, "hexagon": 22, "octagon": 12, "house": 6, "invhouse": 6,
           "component": 12, "rarrow": 22, "box3d": 6, "note": 10, "folder": 4, "tab": 4, "cylinder": 4}
EXTRA_H = {"rarrow": 10, "cylinder": 12, "house": 14, "invhouse": 14, "folder": 7, "tab": 7, "box3d": 5,
           "octagon": 4}


def text_width(text: str, *, bold: bool = False) -> float:
    """Estimated width in px of ``text`` at the label font size (wide East Asian characters count twice)."""
    per = BOLD_W if bold else CHAR_W
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF") if not text.isascii() else 0
    return (len(text) + wide) * per


# Helvetica's advance widths (per 1000 em, as Arial and Liberation Sans share them) for the letters whose width
# differs most from the average; anything else counts as 556, a digit's width
_REGULAR = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,:;'|!-()[]", (
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278,
    556, 500, 722, 500, 500, 500, 278, 278, 278, 278, 278, 191, 260, 278, 333, 333, 333, 278, 278), strict=True))
_BOLD = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,:;'|!-()[]", (
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333,
    611, 556, 778, 556, 556, 500, 278, 278, 278, 333, 333, 238, 280, 333, 333, 333, 333, 333, 333), strict=True))


def glyph_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in px of ``text`` at ``size`` px from Helvetica's letter widths: wider than ``text_width``'s average
    for text of wide letters (``GGGG…``, ``WWWW…``, capitals), which ran past the picture's edge when only the
    average was counted."""
    table = _BOLD if bold else _REGULAR
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF") if not text.isascii() else 0
    return (sum(table.get(ch, 556) for ch in text) + wide * 1000) * size / 1000


def node_size(node: ViewNode) -> tuple[float, float]:
    """Width and height (px) of a node: its text, padding, and what its shape needs."""
    widths = [max(text_width(line, bold=k == 0), glyph_width(line, FONT_SIZE, bold=k == 0))
              for k, line in enumerate(node.label)]
    widest = max(widths, default=0.0)
    w = widest + 2 * PAD_X + EXTRA_W.get(node.shape, 0)
    h: float = len(node.label) * LINE_H + 2 * PAD_Y + EXTRA_H.get(node.shape, 0)
    if node.shape == "ellipse":  # text inside an ellipse needs about √2 of its box
        w, h = _ellipse_size(widths, w * 1.2 + 6, h + 8, 4.0 if node.peripheries > 1 else 0.0)
    return round(max(w, 48.0), 1), round(h, 1)


def _ellipse_size(widths: list[float], w: float, h: float, inset: float) -> tuple[float, float]:
    """An ellipse at least ``w`` × ``h`` whose inner outline (``inset`` in: a second periphery) holds every line of
    text, its glyphs' box (cap height above the baseline, descenders below, as the pure-Python picture sets the
    lines ``LINE_H`` apart; ``dot`` sets them closer) plus ``ELLIPSE_MARGIN`` a side: a line near the top or bottom
    has less room than the widest one in the middle (a long last line of six touched the outline). Of the heights
    that hold them, the one giving the smallest ellipse."""
    n = len(widths)
    first = -(n - 1) * LINE_H / 2
    reach = [max(abs(first + k * LINE_H - 0.37 * FONT_SIZE), abs(first + k * LINE_H + 0.56 * FONT_SIZE))
             for k in range(n)]  # each line's far edge from the centre
    best = (float("inf"), w, h)
    for step in range(41):  # heights up to twice the usual: 41 tries, however many lines
        ry = (h / 2 - inset) * (1 + step / 40)
        rx = w / 2 - inset
        for line_w, y in zip(widths, reach, strict=True):
            rx = max(rx, (line_w / 2 + ELLIPSE_MARGIN) / (1 - (y / ry) ** 2) ** 0.5)
        size = (2 * (rx + inset), 2 * (ry + inset))
        if step == 0 and size[0] <= w:
            return w, h  # the usual size holds every line already
        if size[0] * size[1] < best[0]:
            best = (size[0] * size[1], *size)
    return best[1], best[2]


def assign_layers(ids: list[str], edges: Iterable[ViewEdge]) -> dict[str, int]:
    """Longest path from the sources, then every source moved next to its nearest consumer (an input read
    only at the end sits just before it, not far left with a long edge). Wait edges do not count; cycles
    (possible after collapsing) are broken deterministically."""
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if not e.wait and e.tail in preds and e.head in preds and e.tail != e.head:
            preds[e.head].append(e.tail)
            succs[e.tail].append(e.head)
    indeg = {i: len(preds[i]) for i in ids}
    layer = dict.fromkeys(ids, 0)
    order = {i: k for k, i in enumerate(ids)}
    ready = [i for i in ids if indeg[i] == 0]
    done: set[str] = set()
    while len(done) < len(ids):
        if not ready:  # a cycle: release the earliest remaining node
            ready = [min((i for i in ids if i not in done), key=lambda i: (indeg[i], order[i]))]
        current, ready = ready, []
        for n in current:
            if n in done:
                continue
            done.add(n)
            for s in succs[n]:
                if s in done:
                    continue
                layer[s] = max(layer[s], layer[n] + 1)
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
    for i in ids:
        if not preds[i] and succs[i]:
            later = [layer[s] for s in succs[i] if layer[s] > layer[i]]
            if later:
                layer[i] = min(later) - 1
    return layer


def estimated_widths(view: GraphView) -> tuple[float, float]:
    """Rough drawing widths (px) of ``view`` left to right and top to bottom."""
    ids = [n.id for n in view.nodes]
    layer = assign_layers(ids, view.edges)
    sizes = {n.id: node_size(n) for n in view.nodes}
    widest: dict[int, float] = {}
    across: dict[int, float] = {}
    for i in ids:
        w = sizes[i][0]
        widest[layer[i]] = max(widest.get(layer[i], 0.0), w)
        across[layer[i]] = across.get(layer[i], 0.0) + w + NODE_GAP["TB"]
    lr = sum(widest.values()) + LAYER_GAP["LR"] * max(len(widest) - 1, 0)
    tb = max(across.values(), default=0.0)
    return lr, tb


def choose_direction(view: GraphView) -> str:
    """``view.direction`` if set, else ``"LR"`` when the estimated left-to-right drawing fits ``FIT_WIDTH``, else
    the narrower of the two estimates (folds not counted: the renderers check their real drawing)."""
    if view.direction:
        return view.direction
    lr, tb = estimated_widths(view)
    return "LR" if lr <= FIT_WIDTH or lr <= tb else "TB"


__all__ = ["FIT_STYLE", "FIT_WIDTH", "assign_layers", "choose_direction", "estimated_widths", "node_size", "text_width"]
