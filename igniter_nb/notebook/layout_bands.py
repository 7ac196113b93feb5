"""Scope bands of the pure-Python layout: where each item goes across its layer (``_place_cross``), bands stacked
beside the sibling bands and the parent's own nodes of the layers they share, each band's own items packed as near
as they can to their predecessors (``_pack``).

Part of the pure-Python layout (``igniter_nb.notebook.layout``, which re-exports the constants).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.geometry import NODE_GAP, text_width
from igniter_nb.diagnostics.view import GraphView
from igniter_nb.notebook.layout_time import in_time
from igniter_nb.notebook.shapes import Box

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import _Item

BAND_PAD = 10.0
BAND_LABEL = 16.0
SLOT_GAP = 6.0


def _place_cross(view: GraphView, items: list[_Item], pos: list[float], direction: str,
                 start: float, compact: bool = False, labelled: frozenset[tuple[str, ...]] = frozenset(),
                 below: frozenset[tuple[str, ...]] = frozenset(), deadline: float | None = None
                 ) -> dict[tuple[str, ...], Box]:
    """Cross-axis positions: scope bands stacked, inside a band its own nodes first, then its child bands.
    Returns the bands in (main, cross) form: ``Box(main, cross, main size, cross size)``. ``labelled``: bands
    whose label is an item (``layout_labels``), with no strip kept for it; ``below``: top to bottom, bands with a
    strip for their label along their bottom. ``deadline``: as ``layout.layout``'s, checked at each band."""
    across = direction == "TB"
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for scope in view.clusters:
        children.setdefault(scope[:-1], []).append(scope)
    members: dict[tuple[str, ...], list[_Item]] = {}
    within: dict[tuple[str, ...], list[_Item]] = {}  # every item in a scope or below it
    for it in items:
        members.setdefault(it.scope, []).append(it)
        for k in range(1, len(it.scope) + 1):
            within.setdefault(it.scope[:k], []).append(it)

    def mean_pos(scope: tuple[str, ...]) -> float:
        found = [pos[it.index] for it in within.get(scope, ()) if not it.dummy and not it.label]
        return sum(found) / len(found) if found else 0.0

    for kids in children.values():
        kids.sort(key=lambda s: (mean_pos(s), s))
    bands: dict[tuple[str, ...], Box] = {}
    gap = NODE_GAP[direction]

    def top_reach(scope: tuple[str, ...], depth: int) -> float:
        """How far before an item of ``scope`` the band of ``scope[:depth]`` starts: each band from there in
        (``band_reach``)."""
        return sum(band_reach(scope[:k], across, labelled) for k in range(depth, len(scope) + 1))

    def span(kid: tuple[str, ...]) -> tuple[float, float]:
        """The band's extent along the layers once it holds its nested bands (each level BAND_PAD wider and, top to
        bottom, with a strip for its label: a parent whose first row holds only a nested band had none)."""
        inside, depth = within[kid], len(kid)
        lo = min(it.main - top_reach(it.scope, depth) for it in inside)
        hi = max(it.main + it.main_size + (len(it.scope) - depth) * BAND_PAD for it in inside) + BAND_PAD + (
            BAND_LABEL if kid in below else 0.0)
        return lo, hi

    def place(scope: tuple[str, ...], top: float) -> float:
        """Place the items of ``scope`` from ``top``; returns the far end."""
        in_time(deadline)
        own = members.get(scope, [])
        taken: list[tuple[float, float, float]] = []  # (main from, main to, cross end) of placed sibling bands
        # (main from, main to, cross end) of the own items: a band goes beside those in the layers it spans only
        # (a wide row of outputs at the end no longer pushes every band aside: a skyline, not a column)
        own_ends: list[tuple[float, float, float]] = []
        kids = children.get(scope, [])
        spans = [span(kid) for kid in kids]
        far = top
        if own:
            per_layer: dict[int, list[_Item]] = {}
            for it in own:
                per_layer.setdefault(it.layer, []).append(it)
            size = max(_column_size(col, gap) for col in per_layer.values())
            for level in sorted(per_layer):
                col = sorted(per_layer[level], key=lambda it: pos[it.index])
                bottom = top + size
                if compact and any(lo < col[0].main + col[0].main_size and col[0].main < hi for lo, hi in spans):
                    bottom = top + _column_size(col, gap)  # a layer beside bands: packed close, bands close by
                _pack(col, top, bottom, gap)
            own_ends = [(it.main, it.main + it.main_size, it.cross + it.cross_size) for it in own]
            far = top + size + gap
        for kid, (lo, hi) in zip(kids, spans, strict=True):
            # a band goes beside the siblings and the own column it shares layers with, and level with those it
            # does not: a chain of nested scopes goes down (or across) as a chain, not as a staircase
            band_top = max([top, *(end + gap for a, b, end in own_ends if a < hi and lo < b),
                            *(end + gap for a, b, end in taken if a < hi + gap and lo < b + gap)])
            label_room = 0.0 if across or kid in labelled else BAND_LABEL
            end = place(kid, band_top + label_room + BAND_PAD)
            if across:  # the band's label runs along the cross axis: leave it room
                end = max(end, band_top + text_width(kid[-1]) + 2 * BAND_PAD)
            bands[kid] = Box(lo, band_top, hi - lo, end - band_top)
            taken.append((lo, hi, end + BAND_PAD))
            far = max(far, end + BAND_PAD + gap)
        return far - gap + BAND_PAD if (own or kids) else top

    place((), start)
    # nested bands: widen parents to cover their children
    for scope in sorted(bands, key=len, reverse=True):
        parent = scope[:-1]
        if parent in bands:
            p, ch = bands[parent], bands[scope]
            lo = min(p.x, ch.x - band_reach(parent, across, labelled))
            hi = max(p.x + p.w, ch.x + ch.w + BAND_PAD)
            bands[parent] = Box(lo, p.y, hi - lo, max(p.h, ch.y + ch.h + BAND_PAD - p.y))
    return bands


def band_reach(scope: tuple[str, ...], across: bool, labelled: frozenset[tuple[str, ...]]) -> float:
    """How far a band starts before what it holds: its padding and, top to bottom, the strip for its label (unless
    its label is an item, ``layout_labels.label_items``)."""
    return BAND_PAD + (BAND_LABEL if across and scope not in labelled else 0.0)


def _column_size(col: list[_Item], gap: float) -> float:
    total = sum(it.cross_size for it in col)
    return total + sum(SLOT_GAP if a.dummy or b.dummy else gap for a, b in itertools.pairwise(col))


def _pack(col: list[_Item], top: float, bottom: float, gap: float) -> None:
    """Stack ``col`` between ``top`` and ``bottom`` in order, each as near as possible to its predecessors."""
    at: list[float] = []
    cursor = top
    previous: _Item | None = None
    for it in col:
        preds = it.preds
        if len(preds) == 1:  # a slot, or a node read by one other: the common case, without a list
            p = preds[0]
            want = p.cross + p.cross_size / 2 - it.cross_size / 2 if p.placed else top
        else:
            near = [p.cross + p.cross_size / 2 for p in preds if p.placed]
            want = sum(near) / len(near) - it.cross_size / 2 if near else top
        if previous is not None:
            cursor += SLOT_GAP if previous.dummy or it.dummy else gap
        c = want if want > cursor else cursor
        at.append(c)
        cursor = c + it.cross_size
        previous = it
    limit = bottom
    for k in range(len(col) - 1, -1, -1):
        it = col[k]
        if limit - it.cross_size < at[k]:
            at[k] = limit - it.cross_size
        if k:
            limit = at[k] - (SLOT_GAP if col[k - 1].dummy or it.dummy else gap)
    for k, it in enumerate(col):
        it.cross = round(at[k] if at[k] > top else top, 1)
        it.placed = True


__all__ = ["BAND_LABEL", "BAND_PAD", "SLOT_GAP", "band_reach"]
