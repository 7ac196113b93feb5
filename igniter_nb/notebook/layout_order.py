"""Order within each layer for the pure-Python layout: barycentric sweeps, down then up, so that fewer edges cross.

The nodes of a folded layer (``layout._fold``) keep their declared order within each row (column) they are folded
into: a reader scans 200 inputs by name. The sweeps still move the other items of those layers (the slots of edges
passing through) and give the folded nodes the places their barycentres ask for, in their order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from igniter_nb.notebook.layout_time import in_time

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import _Item

SWEEPS = 4


def _order(items: list[_Item], links: list[tuple[_Item, _Item]], fixed: frozenset[int] = frozenset(),
           deadline: float | None = None) -> list[float]:
    """Barycentric crossing reduction; returns each item's normalised position (0..1) within its layer, by
    ``_Item.index``. Works on indices: a 300-node graph has thousands of slots, swept several times. The items of
    ``fixed`` (indices, in declared order) keep their order among themselves within a layer. ``deadline``: as
    ``layout.layout``'s, checked at each layer."""
    n = len(items)
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for tail, head in links:
        preds[head.index].append(tail.index)
        succs[tail.index].append(head.index)
    by_layer: dict[int, list[int]] = {}
    for it in items:
        by_layer.setdefault(it.layer, []).append(it.index)
    levels = sorted(by_layer)
    # per layer, its fixed items in index (declared) order
    kept = {lv: sorted(i for i in members if i in fixed) for lv, members in by_layer.items()} if fixed else {}
    pos = [0.0] * n
    key = [0.0] * n

    def number(members: list[int]) -> None:
        count = len(members)
        for k, i in enumerate(members):
            pos[i] = (k + 0.5) / count

    for level in levels:
        number(by_layer[level])

    def sweep(sequence: list[int], neighbours: list[list[int]]) -> None:
        for level in sequence:
            in_time(deadline)
            members = by_layer[level]
            for i in members:
                near = neighbours[i]
                if len(near) == 1:
                    key[i] = pos[near[0]]
                elif near:
                    key[i] = sum([pos[m] for m in near]) / len(near)
                else:
                    key[i] = pos[i]
            own = kept.get(level)
            if own:  # the places the fixed items' barycentres ask for, handed out in their order
                for i, k in zip(own, sorted([key[i] for i in own]), strict=True):
                    key[i] = k
            members.sort(key=key.__getitem__)
            number(members)

    for _ in range(SWEEPS if n <= 2000 else 2):  # a very long or dense graph: fewer, costly sweeps
        sweep(levels[1:], preds)
        sweep(levels[-2::-1], succs)
    return pos


__all__ = ["SWEEPS"]
