"""The pure-Python layout drawn as SVG: title and legend, scope bands, routed edges, shaped nodes.

The document fits its output by default (``style="max-width:100%;height:auto"`` on the root, a ``viewBox``
and a width in px, so it scales down keeping its aspect in JupyterLab, the classic notebook, VS Code and a
static HTML export); ``fit=False`` leaves it at full size. Every text is escaped (``html.escape``) and the
document holds no script, link or event attribute.
"""

from __future__ import annotations

from html import escape

from igniter_nb.diagnostics.geometry import FIT_STYLE, FIT_WIDTH, glyph_width, text_width
from igniter_nb.diagnostics.view import EDGE_COLOR, FONT_SIZE, WAIT_EDGE_COLOR, GraphView, LegendItem, clean, writable
from igniter_nb.notebook.layout import MARGIN, Layout, layout
from igniter_nb.notebook.layout_labels import ASCENT, DESCENT, SHORTEST, shorten, text_width_of
from igniter_nb.notebook.shapes import Box, label_offset, num, shape_svg

FONT_FAMILY = "Helvetica,Arial,sans-serif"
LINE_H = 15
CHIP_FONT = 10


def _chip_width(item: LegendItem) -> float:
    return text_width(item.text) * CHIP_FONT / FONT_SIZE + 14


def legend_rows(view: GraphView, wrap: float = FIT_WIDTH) -> list[list[LegendItem]]:
    """The legend's chips, kinds then states, wrapped to ``wrap`` px (at most a notebook output's width)."""
    rows: list[list[LegendItem]] = []
    limit = min(wrap, FIT_WIDTH) - 2 * MARGIN
    used = limit
    for item in view.legend:
        w = _chip_width(item) + 6
        if used + w > limit:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += w
    return rows


def row_width(row: list[LegendItem]) -> float:
    return sum(_chip_width(item) + 6 for item in row)


def _text(lines: tuple[str, ...] | list[str], cx: float, cy: float, size: int = FONT_SIZE, *,
          bold_first: bool = True, anchor: str = "middle", fill: str = "#0f172a") -> str:
    top = cy - (len(lines) - 1) * LINE_H / 2 + size * 0.35
    parts = []
    for k, line in enumerate(lines):
        weight = ' font-weight="bold"' if bold_first and k == 0 else ""
        parts.append(f'<text x="{num(cx)}" y="{num(top + k * LINE_H)}" text-anchor="{anchor}" font-size="{size}"'
                     f'{weight} fill="{fill}">{escape(line)}</text>')
    return "".join(parts)


def _header(view: GraphView, wrap: float) -> list[str]:
    out = ['<g class="title">']
    for k, t in enumerate(view.title):
        weight = ' font-weight="bold"' if k == 0 else ""
        out.append(f'<text x="{num(MARGIN)}" y="{num(MARGIN + 12 + k * 18)}" font-size="{14 if k == 0 else 12}"'
                   f'{weight} fill="#0f172a">{escape(t)}</text>')
    out.append("</g>")
    rows = legend_rows(view, wrap)
    if rows:
        out.append('<g class="legend">')
        y = MARGIN + len(view.title) * 18 + 2
        for row in rows:
            x = MARGIN
            for item in row:
                w = _chip_width(item)
                dash = {"dashed": ' stroke-dasharray="4,2"', "dotted": ' stroke-dasharray="1.5,2"'}.get(item.style, "")
                out.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="16" rx="4" fill="{item.fill}" '
                           f'stroke="{item.border}" stroke-width="1.2"{dash}/>'
                           f'<text x="{num(x + w / 2)}" y="{num(y + 11.5)}" text-anchor="middle" font-size="{CHIP_FONT}" '
                           f'fill="#0f172a">{escape(item.text)}</text>')
                x += w + 6
            y += 22
        out.append("</g>")
    return out


def _fitted(name: str, band: Box, x: float, after: str = "") -> str:
    """``name`` (then ``after``) as drawn from ``x``: shortened with an ellipsis when it would run past the band's
    right side (1 px in), as measured where the label was placed (``layout_labels.text_width_of``); a label that
    fits is left as it is."""
    room = band.x + band.w - 1 - x - (text_width_of(after) if after else 0.0)
    if text_width_of(name) <= room:
        return name
    return shorten(name, room) or clean(name, SHORTEST + 1)


def layout_svg(view: GraphView, *, direction: str | None = None, fit: bool = True) -> str:
    """The view as a standalone SVG document (UTF-8 text); with ``fit``, a left-to-right picture too wide to be
    read in the output area is wrapped into rows (``layout_wrap``)."""
    lay = layout(view, direction=direction, wrap=fit)
    return draw(view, lay, fit=fit)


def draw(view: GraphView, lay: Layout, *, fit: bool = True) -> str:
    w, h = lay.width, lay.height
    style = f' style="{FIT_STYLE}"' if fit else ""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(w)}" height="{num(h)}" '
           f'viewBox="0 0 {num(w)} {num(h)}" font-family="{FONT_FAMILY}"{style} '
           f'data-direction="{lay.direction}"' + (f' data-rows="{lay.rows}"' if lay.rows > 1 else "") + ">",
           '<defs><marker id="igniter-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/></marker>'
           '<marker id="igniter-arrow-wait" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{WAIT_EDGE_COLOR}"/></marker></defs>',
           f'<rect x="0" y="0" width="{num(w)}" height="{num(h)}" fill="#ffffff"/>',
           *_header(view, lay.legend_wrap),
           '<g class="clusters">']
    over: list[str] = []  # band labels with no place clear of edges, drawn over them (``layout_labels.Squeezed``)
    for scope in sorted(lay.clusters):
        b = lay.clusters[scope]
        tx, ty = lay.band_labels.get(scope, (b.x + 8, b.y + 13))  # clear of the edges (``layout_labels``)
        # cut to the room from where it starts to the band's right side (a label placed right of the edges in a
        # band a wrap into rows made narrower ran past the band and off the picture)
        name = _fitted(clean(scope[-1], max(int((b.w - 16) / (text_width("m") * 11 / FONT_SIZE)), 4)), b, tx)
        short = lay.squeezed.texts.get(scope)
        whole = clean(scope[-1], 10_000)
        tip = f"<title>{escape(whole)}</title>" if short or name != whole else ""  # a cut label: its name as a tooltip
        path = escape(writable(".".join(scope)))
        text = f'<text x="{num(tx)}" y="{num(ty)}" font-size="11" fill="#475569">{escape(short or name)}</text>'
        if scope in lay.squeezed.over:  # on a white ground that hides the edges under it
            w = text_width_of(short or name)
            text = (f'<rect x="{num(tx - 2)}" y="{num(ty - ASCENT - 1)}" width="{num(w + 4)}" '
                    f'height="{num(ASCENT + DESCENT + 2)}" fill="#ffffff"/>' + text)
        out.append(f'<g class="cluster" data-scope="{path}">{tip}<rect x="{num(b.x)}" y="{num(b.y)}" '
                   f'width="{num(b.w)}" height="{num(b.h)}" rx="8" fill="none" stroke="#94a3b8" stroke-dasharray="5,3"/>'
                   + ("" if scope in lay.squeezed.over else text) + "</g>")
        if scope in lay.squeezed.over:
            over.append(f'<g class="band-label" data-scope="{path}">{tip}{text}</g>')
        # the band wrapped into later rows (``layout_wrap``), each piece labelled where no edge passes
        for piece, (lx, ly) in zip(lay.continued.get(scope, ()), lay.continued_labels.get(scope, ()), strict=True):
            part = _fitted(name, piece, lx, " (cont.)")
            cut_tip = f"<title>{escape(whole)}</title>" if part != whole else ""
            out.append(f'<g class="cluster-continued" data-scope="{path}">{cut_tip}<rect x="{num(piece.x)}" '
                       f'y="{num(piece.y)}" width="{num(piece.w)}" height="{num(piece.h)}" rx="8" fill="none" '
                       f'stroke="#94a3b8" stroke-dasharray="5,3"/><text x="{num(lx)}" y="{num(ly)}" font-size="11" '
                       f'fill="#475569">{escape(part)} (cont.)</text></g>')
    out.append('</g><g class="edges">')
    labels: list[str] = []
    for e in view.edges:
        route = lay.routes.get((e.tail, e.head))
        if route is None:
            continue
        color = WAIT_EDGE_COLOR if e.wait else EDGE_COLOR
        dash = {"dashed": ' stroke-dasharray="6,4"', "dotted": ' stroke-dasharray="2,3"'}.get(e.style, "")
        marker = "igniter-arrow-wait" if e.wait else "igniter-arrow"
        width = "1.6" if e.wait else "1.2"
        out.append(f'<g class="edge" data-tail="{escape(e.tail)}" data-head="{escape(e.head)}"><path d="{route.path()}" '
                   f'fill="none" stroke="{color}" stroke-width="{width}"{dash} marker-end="url(#{marker})"/></g>')
        if e.label:
            lx, ly = route.label_at
            labels.append(f'<text x="{num(lx)}" y="{num(ly - 4)}" text-anchor="middle" font-size="10" fill="{color}" '
                          f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(e.label)}</text>')
    out.append('</g><g class="nodes">')
    for n in view.nodes:
        b = lay.boxes[n.id]
        dash = ' stroke-dasharray="5,3"' if "dashed" in n.style else (' stroke-dasharray="2,2"' if "dotted" in n.style else "")
        out.append(f'<g class="node" data-id="{escape(n.id)}" data-kind="{escape(n.kind)}" '
                   f'data-box="{num(b.x)} {num(b.y)} {num(b.w)} {num(b.h)}"'
                   + (f' data-status="{escape(n.status)}"' if n.status else "")
                   + f"><title>{escape(n.tooltip or n.kind + ' ' + n.name)}</title>")
        out.append(shape_svg(n.shape, b, n.fill, n.border, dash, n.peripheries))
        dx, dy = label_offset(n.shape)
        out.append(_text(n.label, b.cx + dx, b.cy + dy))
        out.append("</g>")
    out.append('</g><g class="edge-labels">' + "".join(labels) + "</g>" + "".join(over) + "</svg>")
    return "\n".join(out) + "\n"


def placeholder_svg(view: GraphView, lines: list[str], *, fit: bool = True) -> str:
    """A picture standing in for a graph that could not be drawn: its title, then ``lines`` saying why (within
    the output area's width)."""
    title = [clean(t, 110) for t in view.title] or ["graph"]
    texts = [(t, 14 if k == 0 else 12, k == 0) for k, t in enumerate(title)] + [(clean(t, 130), 12, False) for t in lines]
    w = min(max(glyph_width(t, size, bold=bold) for t, size, bold in texts) + 2 * MARGIN, FIT_WIDTH)
    h = 2 * MARGIN + 18 * len(texts) + 20
    style = f' style="{FIT_STYLE}"' if fit else ""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(w)}" height="{num(h)}" viewBox="0 0 {num(w)} {num(h)}" '
           f'font-family="{FONT_FAMILY}"{style} data-placeholder="true">',
           f'<rect x="0.5" y="0.5" width="{num(w - 1)}" height="{num(h - 1)}" rx="6" fill="#f8fafc" stroke="#94a3b8" '
           'stroke-dasharray="5,3"/>']
    y = MARGIN + 12
    for k, (t, size, bold) in enumerate(texts):
        weight = ' font-weight="bold"' if bold else ""
        y += 8 if k == len(title) else 0  # a line between the title and the reason
        out.append(f'<text x="{num(MARGIN)}" y="{num(y)}" font-size="{size}"{weight} fill="#0f172a">{escape(t)}</text>')
        y += 18
    return "\n".join([*out, "</svg>"]) + "\n"


__all__ = ["draw", "layout_svg", "legend_rows", "placeholder_svg"]
