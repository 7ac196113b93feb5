"""Turning a graph view into SVG: Graphviz ``dot`` when it is on PATH, the pure-Python layout otherwise.

The choice is made at render time (``shutil.which("dot")``), so a notebook opened on a machine without
Graphviz still draws every graph. The environment variable ``IGNITER_NB_RENDER`` (``auto``, ``dot`` or
``python``) overrides ``engine="auto"`` — notebooks validated in CI pin ``python`` so their stored pictures do
not depend on the Graphviz version installed. ``dot`` output is made deterministic by dropping its comments (they carry
the Graphviz version and node names) and the XML prologue; nothing here touches the network.

``dot`` does not fold a long layer (60 awaits: one rank 26,000 px wide; 200 inputs: a column 12,000 px tall), so
``engine="auto"`` draws the pure-Python layout, which folds it, where that picture is better: ``dot``'s too wide
and the layout's fitting, or the layout folding, fitting, and ``dot``'s more than ``TALLER`` times as tall.
``engine="dot"`` always gives ``dot``'s picture.

``dot`` runs as a subprocess bounded by ``DOT_TIMEOUT`` seconds (``IGNITER_NB_DOT_TIMEOUT`` overrides it): a
``dot`` that hangs, or takes minutes over a huge expanded graph, is killed with its process group, and the
picture falls back to the pure-Python layout — a notebook cell never waits on it for ever. ``engine="auto"``
bounds the pure-Python layout by the same limit (it stops at its next check, ``layout_time``): the layout drawn
to compare with ``dot``'s picture shares ``dot``'s limit, and ``dot``'s picture stays when it runs out; the
layout drawn for want of ``dot`` (missing or failed) has a limit of its own, and when it runs out the cell shows
a placeholder saying why (``picture.placeholder_svg``). ``engine="python"`` is not bounded: it was asked for.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from igniter_nb.diagnostics.dot import COLLAPSE_ABOVE, GraphView, graph_view, view_to_dot
from igniter_nb.diagnostics.geometry import FIT_STYLE, FIT_WIDTH, choose_direction

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import Layout

Engine = Literal["auto", "dot", "python"]
Size = Literal["fit", "full"]

ENGINE_VARIABLE = "IGNITER_NB_RENDER"
TIMEOUT_VARIABLE = "IGNITER_NB_DOT_TIMEOUT"
DOT_TIMEOUT = 10.0  # seconds; B7 wants a 300-node graph from dot within 1.5 s
#: ``engine="auto"`` draws the pure-Python layout, which folds long layers, when it fits and ``dot``'s picture is
#: more than this many times as tall (``_better_layout``)
TALLER = 2.0
#: a picture wider than ``FIT_WIDTH`` is given a size ``FIT_WIDTH`` wide (its ``viewBox`` unchanged: drawn smaller)
#: when that keeps it at least this scale: 12 px node names at least 8.4 px, 10 px edge labels 7 px (``fit_size``)
MIN_SCALE = 0.7
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_PROLOGUE = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.S)
_ROOT_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')
_ROOT_FIT = re.compile(r'(<svg[^>]*?\swidth=")([0-9.]+)("[^>]*?\sheight=")([0-9.]+)')


def dot_available() -> bool:
    """Whether the Graphviz ``dot`` binary is on PATH right now."""
    return shutil.which("dot") is not None


class DotError(RuntimeError):
    """Graphviz ``dot`` could not draw the graph: not on PATH, failed, timed out, or wrote no SVG."""


def dot_timeout() -> float:
    """Seconds ``dot`` may take: ``IGNITER_NB_DOT_TIMEOUT`` when set to a positive number, else ``DOT_TIMEOUT``."""
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    try:
        value = float(text) if text else DOT_TIMEOUT
    except ValueError:
        raise ValueError(f"{TIMEOUT_VARIABLE} must be a number of seconds, got {text!r}") from None
    return value if 0 < value < 86_400 else DOT_TIMEOUT  # (NaN, infinity and nonsense: the default)


def run_dot(source: str, timeout: float | None = None) -> str:
    """SVG text of the DOT ``source`` from ``dot -Tsvg``, within ``timeout`` seconds (default ``dot_timeout()``).
    Raises ``DotError`` saying why when ``dot`` is missing, exits non-zero, times out (it is killed with its
    process group, so a wrapper script's children go too) or writes no SVG."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotError("Graphviz dot is not on PATH")
    limit = dot_timeout() if timeout is None else timeout
    posix = os.name == "posix"
    proc = subprocess.Popen([exe, "-Kdot", "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=posix)
    try:
        out, err = proc.communicate(source.encode("utf-8"), timeout=limit)
    except subprocess.TimeoutExpired:
        if posix:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()
        raise DotError(f"Graphviz dot did not finish within {limit:g} s ({TIMEOUT_VARIABLE} sets the limit)") from None
    if proc.returncode != 0:
        said = err.decode("utf-8", "replace").strip().splitlines()
        raise DotError(f"Graphviz dot exited with status {proc.returncode}" + (f": {said[0][:200]}" if said else ""))
    text = out.decode("utf-8", "replace")
    if "<svg" not in text:
        raise DotError("Graphviz dot wrote no SVG")
    return text


def fit_size(width: float, height: float) -> tuple[float, float]:
    """The size a picture drawn ``width`` × ``height`` (viewBox units, one a px) is given to fit the output area:
    itself when at most ``FIT_WIDTH`` wide; else ``FIT_WIDTH`` wide, its aspect kept, when that scale is at least
    ``MIN_SCALE`` (every text at least 0.7 of its size); else itself (too wide, the browser scales it down)."""
    if width <= FIT_WIDTH or FIT_WIDTH / width < MIN_SCALE:
        return width, height
    return float(FIT_WIDTH), round(height * FIT_WIDTH / width, 1)


def clean_dot_svg(svg: str, *, fit: bool = True) -> str:
    """``dot``'s SVG without comments and prologue, ending with one newline. Its size is given in px equal to
    its points (one viewBox unit is one px, as in the pure-Python layout, so both engines draw text at the same
    size) and, with ``fit``, it scales down to the output width keeping its aspect."""
    text = _PROLOGUE.sub("", _COMMENT.sub("", svg)).strip()
    style = f' style="{FIT_STYLE}"' if fit else ""
    text = _ROOT_SIZE.sub(lambda m: f'<svg width="{m.group(1)}" height="{m.group(2)}"{style}', text, count=1)
    return text + "\n"


def _fitted(svg: str) -> str:
    """Either engine's picture with the size ``fit_size`` gives it (its ``viewBox`` unchanged: one that is a
    little too wide is drawn smaller, 940 px wide)."""
    root = _ROOT_FIT.search(svg)
    if root is None:
        return svg
    width, height = float(root.group(2)), float(root.group(4))
    shown = fit_size(width, height)
    if shown[0] == width:
        return svg
    w, h = (f"{v:.1f}".removesuffix(".0") for v in shown)
    return f"{svg[:root.start()]}{root.group(1)}{w}{root.group(3)}{h}{svg[root.end():]}"


def render_view(view: GraphView, *, engine: Engine = "auto", size: Size = "fit") -> str:
    """SVG text for ``view``. ``engine="auto"`` uses ``dot`` when installed, else the pure-Python layout;
    a ``dot`` failure falls back to the pure-Python layout rather than leaving the cell without a picture, and
    so does a ``dot`` picture the layout beats (``_better_layout``: ``dot`` does not fold a long layer).
    ``engine="dot"`` draws ``dot``'s picture whatever its size. ``engine="auto"`` bounds the pure-Python layout by
    ``dot_timeout()`` too: drawn to compare, ``dot``'s picture stays when it runs out; drawn for want of ``dot``, a
    placeholder says why (``picture.placeholder_svg``). ``size="fit"`` scales the picture down to the output width;
    ``"full"`` keeps its natural size. With ``engine="auto"`` and ``size="fit"`` a picture wider than ``FIT_WIDTH``
    is given a size ``FIT_WIDTH`` wide when its text stays at least ``MIN_SCALE`` of its size (``fit_size``)."""
    svg = _render(view, engine, size)
    # engine="auto" promises a picture within the output area: one a little too wide is drawn smaller (``fit_size``)
    return _fitted(svg) if engine == "auto" and size == "fit" else svg


def _render(view: GraphView, engine: Engine, size: Size) -> str:
    if engine == "auto":
        engine = os.environ.get(ENGINE_VARIABLE, "auto").strip().lower() or "auto"  # type: ignore[assignment]
    if engine not in ("auto", "dot", "python"):
        raise ValueError(f"engine must be 'auto', 'dot' or 'python', got {engine!r}")
    if size not in ("fit", "full"):
        raise ValueError(f"size must be 'fit' or 'full', got {size!r}")
    from igniter_nb.notebook.layout import LayoutTimeout, layout
    from igniter_nb.notebook.picture import draw, layout_svg, placeholder_svg

    limit = dot_timeout() if engine == "auto" else 0.0
    started = time.monotonic()
    why = "Graphviz dot is not on PATH"
    if engine == "dot" or (engine == "auto" and dot_available()):
        try:
            svg = _dot_svg(view)
        except Exception as error:
            if engine == "dot":
                raise
            why = str(error)
        else:
            better = None if engine == "dot" else _better_layout(view, svg, started + limit, wrap=size == "fit")
            if better is None:
                return clean_dot_svg(svg, fit=size == "fit")
            return draw(view, better, fit=size == "fit")
    if engine == "python":
        return layout_svg(view, fit=size == "fit")  # the layout judges the direction on its own drawing (folds included)
    try:
        lay = layout(view, deadline=time.monotonic() + limit, wrap=size == "fit")
    except LayoutTimeout:
        named = "" if TIMEOUT_VARIABLE in why else f" ({TIMEOUT_VARIABLE} sets the limit)"
        return placeholder_svg(view, [f"{why};", f"the pure-Python layout did not finish within {limit:g} s{named}.",
                                      "engine='python' draws it without a limit."], fit=size == "fit")
    return draw(view, lay, fit=size == "fit")


def _better_layout(view: GraphView, dot_svg: str, deadline: float | None = None, *, wrap: bool = True
                   ) -> Layout | None:
    """The pure-Python layout of ``view`` when ``engine="auto"`` should draw it rather than ``dot``'s picture: when
    that picture is wider than ``FIT_WIDTH`` (in both directions, unless one is given) and the layout fits or is
    narrower (both too wide: the narrower, drawn less small by ``fit_size``), or when
    the layout folds a long layer, fits, and ``dot``'s picture is more than ``TALLER`` times as tall (200 inputs of
    one node: ``dot`` 320 × 12,054 px, the layout 916 × 2,333). Else ``None``: ``dot``'s picture stays. The layout
    is drawn only then (a picture that fits, of a graph with no long layer, costs nothing more), and only until
    ``deadline`` (``time.monotonic()`` seconds): then ``None``, ``dot``'s picture stays."""
    from igniter_nb.notebook.layout import LayoutTimeout, folds, layout
    from igniter_nb.notebook.layout_wrap import WRAP_ABOVE

    width, height = _svg_size(dot_svg)
    wide = width > FIT_WIDTH
    if not wide and not folds(view):
        return None
    try:
        # rows only for a picture ``dot`` cannot show legibly either: one it draws a little too wide stays
        lay = layout(view, deadline=deadline, wrap=wrap and width > WRAP_ABOVE)
    except LayoutTimeout:
        return None
    if lay.width > FIT_WIDTH:
        if wide:
            return lay if lay.width < width else None  # both too wide: the narrower, scaled less (``fit_size``)
        # ``dot``'s fits: a folded layout drawn smaller to fit (``fit_size``) when ``dot``'s is far taller still
        # (200 inputs with long names: ``dot`` 535 × 12,054 px; the layout's columns 1,283 × 3,844, shown 940 wide)
        shown = fit_size(lay.width, lay.height)
        return lay if lay.folded and shown[0] <= FIT_WIDTH and height > TALLER * shown[1] else None
    return lay if wide or height > TALLER * lay.height else None


def _dot_svg(view: GraphView) -> str:
    """``dot``'s SVG of ``view`` in a direction that fits the output area when one does: ``view.direction`` if
    set, else the estimated direction (``choose_direction``) and, when ``dot`` draws it wider than ``FIT_WIDTH``,
    the other one too, kept when it fits or is narrower. The estimate misjudges ``dot`` (its clusters sit side by
    side, its long edges take room in every rank they cross): a 15-node graph with scopes was drawn 969 px wide top
    to bottom though ``dot`` draws it 727 px left to right. Both runs share one ``dot_timeout()``; a second run
    that fails or runs out of time leaves the first picture."""
    if view.direction:
        return run_dot(view_to_dot(view).source)
    started = time.monotonic()
    limit = dot_timeout()
    first = choose_direction(view)
    svg = run_dot(view_to_dot(view, direction=first).source, limit)
    width = _svg_width(svg)
    left = limit - (time.monotonic() - started)
    if width <= FIT_WIDTH or left <= 0:
        return svg
    try:
        other = run_dot(view_to_dot(view, direction="TB" if first == "LR" else "LR").source, left)
    except DotError:
        return svg
    other_width = _svg_width(other)
    return other if other_width <= FIT_WIDTH or other_width < width else svg


def _svg_width(svg: str) -> float:
    return _svg_size(svg)[0]


def _svg_size(svg: str) -> tuple[float, float]:
    found = _ROOT_SIZE.search(svg)
    return (float(found.group(1)), float(found.group(2))) if found else (float("inf"), float("inf"))


def _check_graph(graph: Any, who: str) -> None:
    from igniter_nb.compiler.graph import CompiledGraph

    if not isinstance(graph, CompiledGraph):
        raise TypeError(f"{who} draws a CompiledGraph, a contract class or a contract instance, got "
                        f"{type(graph).__name__} {graph!r:.80}")


def render_graph(
    graph: Any,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
    engine: Engine = "auto",
    direction: str | None = None,
    legend: bool = True,
    size: Size = "fit",
) -> str:
    """SVG of a ``CompiledGraph`` or a contract class (or of a contract instance, coloured by its node states). ``states`` may
    be a contract or an ``Execution`` (then supplied inputs, correlation values and deadlines show too) or a
    mapping of node name → state. ``direction`` is ``"LR"``, ``"TB"`` or ``None`` (chosen from the graph's
    shape); ``legend=False`` drops the legend; ``size="full"`` keeps the natural size."""
    compile_class = getattr(graph, "compiled_graph", None) if isinstance(graph, type) else None
    if callable(compile_class):
        graph = compile_class()  # a contract class: its graph, as the message below promises
    elif hasattr(graph, "execution") and not hasattr(graph, "nodes"):
        contract = graph
        graph = contract.execution.graph
        states = contract if states is None else states
        status = status or str(contract.execution.status_of())
    _check_graph(graph, "render_graph")
    view = graph_view(graph, states=states, status=status, title=title, expand=expand, collapse_above=collapse_above,
                      direction=direction, legend=legend)
    return render_view(view, engine=engine, size=size)


__all__ = ["DOT_TIMEOUT", "MIN_SCALE", "TALLER", "DotError", "Size", "clean_dot_svg", "dot_available", "dot_timeout", "fit_size", "render_graph",
           "render_view", "run_dot"]
