"""Turning a graph view into SVG: Graphviz ``dot`` when it is on PATH, the pure-Python layout otherwise.

The choice is made at render time (``shutil.which("dot")``), so a notebook opened on a machine without
Graphviz still draws every graph. The environment variable ``IGNITER_NB_RENDER`` (``auto``, ``dot`` or
``python``) overrides ``engine="auto"`` — notebooks validated in CI pin ``python`` so their stored pictures do
not depend on the Graphviz version installed. ``dot`` output is made deterministic by dropping its comments (they carry
the Graphviz version and node names) and the XML prologue; nothing here touches the network.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from typing import Any, Literal

from igniter_nb.diagnostics.dot import COLLAPSE_ABOVE, GraphView, graph_view, view_to_dot

Engine = Literal["auto", "dot", "python"]

ENGINE_VARIABLE = "IGNITER_NB_RENDER"
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_PROLOGUE = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.S)


def dot_available() -> bool:
    """Whether the Graphviz ``dot`` binary is on PATH right now."""
    return shutil.which("dot") is not None


def clean_dot_svg(svg: str) -> str:
    """``dot``'s SVG without comments and prologue, ending with one newline."""
    return _PROLOGUE.sub("", _COMMENT.sub("", svg)).strip() + "\n"


def render_view(view: GraphView, *, engine: Engine = "auto") -> str:
    """SVG text for ``view``. ``engine="auto"`` uses ``dot`` when installed, else the pure-Python layout;
    a ``dot`` failure falls back to the pure-Python layout rather than leaving the cell without a picture."""
    if engine == "auto":
        engine = os.environ.get(ENGINE_VARIABLE, "auto").strip().lower() or "auto"  # type: ignore[assignment]
    if engine not in ("auto", "dot", "python"):
        raise ValueError(f"engine must be 'auto', 'dot' or 'python', got {engine!r}")
    if engine == "dot" or (engine == "auto" and dot_available()):
        try:
            raw = view_to_dot(view).pipe(format="svg", encoding="utf-8")
            return clean_dot_svg(raw)
        except Exception:
            if engine == "dot":
                raise
    from igniter_nb.notebook.layout import layout_svg

    return layout_svg(view)


def render_graph(
    graph: Any,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
    engine: Engine = "auto",
) -> str:
    """SVG of a ``CompiledGraph`` (or of a contract instance, coloured by its node states)."""
    if hasattr(graph, "execution") and not hasattr(graph, "nodes"):
        contract = graph
        graph = contract.execution.graph
        states = contract if states is None else states
        status = status or str(contract.execution.status_of())
    view = graph_view(graph, states=states, status=status, title=title, expand=expand, collapse_above=collapse_above)
    return render_view(view, engine=engine)


__all__ = ["clean_dot_svg", "dot_available", "render_graph", "render_view"]
