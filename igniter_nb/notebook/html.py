"""Small, deterministic HTML pieces for notebook output: tables, status badges, headings.

Inline styles only (notebook front ends drop ``<style>`` blocks of untrusted output); every value is escaped.
"""

from __future__ import annotations

import base64
import functools
import html as _html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.diagnostics.dot import STATE_FILLS
from igniter_nb.diagnostics.geometry import FIT_STYLE
from igniter_nb.runtime.surrogates import replace_lone_surrogates

_EXTRA_FILLS = {"partial_failure": "#fca5a5", "cancelled": "#e5e7eb", "timed_out": "#fca5a5", "ready": "#dbeafe",
                "missing": "#fca5a5"}
MAX_CELL = 120
_PLAIN = (str, dict, list, tuple, int, float, bool, type(None))  # shown as they are / as JSON
TABLE = 'style="border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:12px;margin:4px 0"'
CELL = 'style="border:1px solid #cbd5e1;padding:2px 6px;text-align:left;vertical-align:top"'
HEAD = 'style="border:1px solid #cbd5e1;padding:2px 6px;text-align:left;background:#f1f5f9"'


_F = TypeVar("_F")


def sendable(bundle: Any) -> Any:
    """``bundle`` (a mime bundle, or ``(bundle, metadata)``) with every lone UTF-16 surrogate in its text
    replaced by U+FFFD. Jupyter sends output as UTF-8 JSON: a surrogate (``os.fsdecode`` of a non-UTF-8 file
    name, ``json.loads('"\\ud800"')``) in a value or an error message made the display fail or send bytes
    that are not UTF-8."""
    if isinstance(bundle, tuple):
        return (sendable(bundle[0]), *bundle[1:])
    if not isinstance(bundle, dict):
        return bundle
    return {k: sendable_text(v) if isinstance(v, str) else v for k, v in bundle.items()}


def sendable_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (see ``sendable``)."""
    return replace_lone_surrogates(text)


def escape(text: str, quote: bool = True) -> str:
    """``html.escape`` of ``sendable_text(text)``: what every HTML piece of the notebook output writes user text
    with, so that widget values built from them are sendable too."""
    return _html.escape(sendable_text(text), quote)


def sends(fn: _F) -> _F:
    """Decorate a function that returns a mime bundle so that what it returns is ``sendable``."""
    @functools.wraps(fn)  # type: ignore[arg-type]
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return sendable(fn(*args, **kwargs))  # type: ignore[operator]

    return wrapper  # type: ignore[return-value]


def short(value: Any, limit: int = MAX_CELL) -> str:
    """A one-line text form of ``value`` (JSON for plain data, else ``repr``), cut at ``limit`` characters.

    An object shown by its ``repr`` (a pydantic model, a dataclass) reads as written — ``Crm(name='Acme')`` —
    not as a quoted JSON string of that text, which looked like a string value."""
    shown = value if isinstance(value, _PLAIN) else _fallback(value)
    if isinstance(shown, str):
        text = shown
    else:
        try:
            text = json.dumps(shown, sort_keys=True, ensure_ascii=False, default=_fallback)
        except (TypeError, ValueError):
            text = repr(value)
    return cut_text(text.replace("\n", " "), limit)  # between items, never inside one


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return repr(value)


def badge(status: Any) -> str:
    text = str(status)
    fill = STATE_FILLS.get(text) or _EXTRA_FILLS.get(text, "#f1f5f9")
    return (f'<span style="background:{fill};border:1px solid #94a3b8;border-radius:8px;padding:0 6px">'
            f"{escape(text)}</span>")


def heading(title: str, status: Any = None, note: str = "") -> str:
    parts = [f'<div style="font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:2px 0">'
             f"<b>{escape(title)}</b>"]
    if status is not None:
        parts.append(" " + badge(status))
    if note:
        parts.append(f' <span style="color:#475569">{escape(note)}</span>')
    parts.append("</div>")
    return "".join(parts)


def table(rows: Iterable[Sequence[Any]], columns: Sequence[str], *, status_column: str | None = "status",
          limit: int | None = None, total: int | None = None) -> str:
    """An HTML table; cells of ``status_column`` become badges. ``limit`` rows at most, with a note of the rest."""
    out = [f"<table {TABLE}><thead><tr>"]
    out.extend(f"<th {HEAD}>{escape(c)}</th>" for c in columns)
    out.append("</tr></thead><tbody>")
    status_at = columns.index(status_column) if status_column in columns else -1
    shown = 0
    for row in rows:
        if limit is not None and shown >= limit:
            break
        shown += 1
        out.append("<tr>")
        for k, cell in enumerate(row):
            inner = badge(cell) if k == status_at and cell is not None else escape(short(cell)) if cell is not None else ""
            out.append(f"<td {CELL}>{inner}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if total is not None and total > shown:
        out.append(f'<div style="font-size:11px;color:#475569">… {total - shown} more rows</div>')
    return "".join(out)


def mapping_table(data: Mapping[str, Any]) -> str:
    return table(([k, v] for k, v in data.items()), ["name", "value"], status_column=None)


def pre(text: str) -> str:
    return f'<pre style="font-size:12px;margin:4px 0">{escape(text)}</pre>'


def picture(svg: str, alt: str, *, full: bool = False) -> str:
    """``svg`` as an ``<img>`` with a ``data:`` URI: the HTML form of a graph picture.

    Front ends that prefer HTML (JupyterLab, the classic notebook, VS Code, ``nbconvert --to html``) show this
    instead of the ``image/svg+xml`` part. An ``<img>`` is what fits everywhere: static HTML exports embed SVG
    outputs as an ``<img>`` with no width rule (a wide graph overflows the page), while every front end scales
    an ``<img>`` of an HTML output to the output width; it needs no script and no network, and survives the HTML
    sanitizer of an untrusted notebook (an inline ``<svg>`` would not). ``full`` keeps the natural size and lets
    the output scroll sideways instead."""
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    if full:
        return (f'<div style="overflow-x:auto"><img class="jp-mod-unconfined" src="{src}" alt="{escape(alt)}" '
                'style="max-width:none"></div>')
    return f'<img src="{src}" alt="{escape(alt)}" style="{FIT_STYLE}">'


def details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


__all__ = ["badge", "details", "escape", "heading", "mapping_table", "picture", "pre", "sendable", "sendable_text", "sends",
           "short", "table"]
