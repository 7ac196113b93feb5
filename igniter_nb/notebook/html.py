"""Small, deterministic HTML pieces for notebook output: tables, status badges, headings.

Inline styles only (notebook front ends drop ``<style>`` blocks of untrusted output); every value is escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html as _html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from igniter_nb._shown_text import NAME_LIMIT, more_rows
from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.diagnostics.dot import STATE_FILLS
from igniter_nb.diagnostics.geometry import FIT_STYLE
from igniter_nb.diagnostics.report_values import inline
from igniter_nb.diagnostics.view import BIDI_CONTROLS
from igniter_nb.runtime.surrogates import replace_lone_surrogates

_EXTRA_FILLS = {"partial_failure": "#fca5a5", "cancelled": "#e5e7eb", "timed_out": "#fca5a5", "ready": "#dbeafe",
                "missing": "#fca5a5"}
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_MATH = re.compile(r"\$|\\[(\[]|\\begin\{")  # what MathJax starts a formula at (its default delimiters)
MAX_CELL = 120
TITLE_LIMIT = NAME_LIMIT  # characters of a heading's title (a graph name; a store takes names of 200 at most)
NOTE_LIMIT = 1_000  # characters of a heading's note
PRE_LINE = 100  # preformatted text with a longer line wraps (it ran past the output area)
OPEN_LIMIT = 10_000  # characters of a cut cell's whole text shown when it is opened
OPEN_BUDGET = 100_000  # characters of opened text in one table; past it, a cut cell only says how much is hidden
LONG_RUN = 40  # a cell whose text has a run this long without a space may wrap anywhere (else it widens the table)
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")
_PLAIN = (str, dict, list, tuple, int, float, bool, type(None))  # shown as they are / as JSON
TABLE = 'style="border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:12px;margin:4px 0"'
CELL = 'style="border:1px solid #cbd5e1;padding:2px 6px;text-align:left;vertical-align:top"'
NOWRAP_CELL = CELL[:-1] + ';white-space:nowrap"'
#: The text colour of every box with a light fill (a heading cell, a badge): a dark theme's light text on it could
#: not be read (JupyterLab Dark: the plan's headings and an ``unresolved`` badge were white on white).
INK = "#0f172a"
#: The grey of notes (a heading's note, "… n more rows"): 4.8:1 on white and 4:1 on JupyterLab Dark's #111111, where
#: the darker #475569 it replaces read 2.5:1.
NOTE = "#64748b"
HEAD = f'style="border:1px solid #cbd5e1;padding:2px 6px;text-align:left;background:#f1f5f9;color:{INK}"'


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
    return {k: (no_math(sendable_text(v)) if k == "text/html" else sendable_text(v)) if isinstance(v, str) else v
            for k, v in bundle.items()}


def no_math(page: str) -> str:
    """``page`` (an HTML output) inside a ``<div class="tex2jax_ignore mathjax_ignore">`` when it holds a math
    delimiter (``$``, ``\\(``, ``\\[``, ``\\begin{``), else as it is. JupyterLab, the classic notebook and
    ``nbconvert --to html`` typeset HTML outputs with MathJax: a value ``$5 and $6`` lost its dollars and showed
    ``5 and`` as a formula (pandas has ``display.html.use_mathjax`` for the same reason). Only then, so the HTML
    of ordinary values — stored in notebooks — stays as it was."""
    if not _MATH.search(page):
        return page
    return f'<div class="tex2jax_ignore mathjax_ignore">{page}</div>'


def sendable_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (see ``sendable``)."""
    return replace_lone_surrogates(text)


def escape(text: str, quote: bool = True) -> str:
    """``html.escape`` of ``sendable_text(text)``: what every HTML piece of the notebook output writes user text
    with, so that widget values built from them are sendable too. A bidirectional control (``BIDI_CONTROLS``)
    becomes a space, as in the pictures: it would reorder the rest of the cell."""
    return _html.escape(_BIDI.sub(" ", sendable_text(text)), quote)


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
    return cut_text(text_of(value).replace("\n", " "), limit)  # between items, never inside one


def text_of(value: Any) -> str:
    """The whole text form of ``value`` that ``short`` cuts: the string itself, JSON for plain data, else ``repr``.

    Never raises: a value whose ``repr`` raises or is not text, one that contains itself or is nested past the
    recursion limit is shown as ``report_values.inline`` shows it (``<Boom (repr failed)>``, ``[[...]]``, ``...``
    past its depth) — an exception here made the whole notebook output of a result or a playground vanish."""
    try:
        shown = value if isinstance(value, _PLAIN) else _fallback(value)
        if isinstance(shown, str):
            return shown
        try:
            return json.dumps(shown, sort_keys=True, ensure_ascii=False, default=_fallback)
        except (TypeError, ValueError):
            return repr(value)
    except Exception:  # (RecursionError included; a repr that hangs still hangs: nothing here can stop it)
        return inline(value)


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
    return (f'<span style="background:{fill};color:{INK};border:1px solid #94a3b8;border-radius:8px;padding:0 6px">'
            f"{escape(text)}</span>")


def utc_time(value: Any) -> Any:
    """A moment as every table of the toolkit shows it — ``2026-03-02 09:00:00.000``, in UTC (the column says
    ``(UTC)``), as the frames and the Follow view do — from a ``datetime`` (naive: taken as UTC) or ISO text; any
    other value as it is. A store's repr showed ``2026-03-02T09:00:00.123456+00:00`` and the EventSimulator
    ``…123456Z`` next to them."""
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(moment, dt.datetime):
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def heading(title: str, status: Any = None, note: str = "") -> str:
    """A bold ``title`` (cut at ``TITLE_LIMIT`` characters: it names a graph, whose name ``ig.compile`` does not
    bound), a status badge and a grey ``note`` (cut at ``NOTE_LIMIT``: a plan's note lists its targets)."""
    title = cut_text(title, TITLE_LIMIT, say_how_much=True)
    note = cut_text(note, NOTE_LIMIT, say_how_much=True)
    wrap = wrap_style(f"{title} {note}")
    parts = [f'<div style="font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:2px 0{wrap}">'
             f"<b>{escape(title)}</b>"]
    if status is not None:
        parts.append(" " + badge(status))
    if note:
        parts.append(f' <span style="color:{NOTE}">{escape(note)}</span>')
    parts.append("</div>")
    return "".join(parts)


def table(rows: Iterable[Sequence[Any]], columns: Sequence[str], *, status_column: str | None = "status",
          limit: int | None = None, total: int | None = None, nowrap: Iterable[str] = ()) -> str:
    """An HTML table; cells of ``status_column`` become badges, short cells of the ``nowrap`` columns (an id, a
    time) never wrap. ``limit`` rows at most, with a note of the rest."""
    out = [f"<table {TABLE}><thead><tr>"]
    out.extend(f"<th {HEAD}>{escape(c)}</th>" for c in columns)
    out.append("</tr></thead><tbody>")
    status_at = columns.index(status_column) if status_column in columns else -1
    whole = {columns.index(c) for c in nowrap if c in columns}
    shown = 0
    budget = OPEN_BUDGET
    for row in rows:
        if limit is not None and shown >= limit:
            break
        shown += 1
        out.append("<tr>")
        for k, cell in enumerate(row):
            if cell is None:
                out.append(f"<td {CELL}></td>")
            elif k == status_at:
                out.append(f"<td {CELL}>{badge(cell)}</td>")
            else:
                inner, opened = _cell(cell, budget)
                budget -= opened
                attrs = NOWRAP_CELL if k in whole and not opened and len(inner) <= MAX_CELL else wrapping_cell(inner)
                out.append(f"<td {attrs}>{inner}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if total is not None and total > shown:
        out.append(f'<div style="font-size:11px;color:{NOTE}">{more_rows(total - shown)}</div>')
    return "".join(out)


def _cell(value: Any, budget: int) -> tuple[str, int]:
    """The HTML of a table cell holding ``value`` and how many characters of opened text it spent.

    Text up to ``MAX_CELL`` characters is the cell. Longer text is cut (``short``) and the cell becomes a
    ``<details>``: the cut text and how much is hidden as its summary, and the whole text (its lines kept, at
    most ``OPEN_LIMIT`` characters, within the table's ``budget``) shown when it is opened. Nothing needs
    JavaScript, and ``<details>`` passes the sanitizer of an untrusted notebook."""
    whole = text_of(value)
    flat = whole.replace("\n", " ")
    if len(flat) <= MAX_CELL:
        return escape(flat), 0
    summary = cut_text(flat, MAX_CELL, say_how_much=True)
    room = min(OPEN_LIMIT, budget)
    if room <= 0:
        return escape(summary), 0
    body = cut_text(whole, room, say_how_much=True)
    return (f"<details><summary>{escape(summary)}</summary>"
            f'<div style="white-space:pre-wrap;overflow-wrap:anywhere">{escape(body)}</div></details>'), len(body)


def wrapping_cell(inner: str) -> str:
    """The attributes of a cell holding ``inner``: ``CELL``, and when its text has a run of ``LONG_RUN``
    characters without a space (a long event name, id or path), a style that lets it wrap anywhere; a table
    cell does not break such a run and grew the table past the output area, which then scrolled sideways."""
    wrap = wrap_style(re.sub(r"<[^>]*>", " ", inner))
    return CELL[:-1] + wrap + '"' if wrap else CELL


def wrap_style(text: str) -> str:
    """``;overflow-wrap:anywhere`` when ``text`` holds a run of ``LONG_RUN`` characters without a space, else
    nothing: such a run is never broken and made its box (a cell, a title, a note) wider than the output area.
    Only then, so that the HTML of ordinary text — stored in notebooks — stays as it was."""
    return ";overflow-wrap:anywhere" if _LONG_RUN.search(text) else ""


def mapping_table(data: Mapping[str, Any]) -> str:
    return table(([k, v] for k, v in data.items()), ["name", "value"], status_column=None)


def pre(text: str) -> str:
    """Preformatted text; when a line is longer than ``PRE_LINE`` characters (an error message on one line), it
    wraps within the output area instead of running past it."""
    wrap = ";white-space:pre-wrap;overflow-wrap:anywhere" if any(len(line) > PRE_LINE for line in text.splitlines()) else ""
    return f'<pre style="font-size:12px;margin:4px 0{wrap}">{escape(text)}</pre>'


def picture(svg: str, alt: str, *, full: bool = False) -> str:
    """``svg`` as an ``<img>`` with a ``data:`` URI: the HTML form of a graph picture.

    Front ends that prefer HTML (JupyterLab, the classic notebook, VS Code, ``nbconvert --to html``) show this
    instead of the ``image/svg+xml`` part. An ``<img>`` is what fits everywhere: static HTML exports embed SVG
    outputs as an ``<img>`` with no width rule (a wide graph overflows the page), while every front end scales
    an ``<img>`` of an HTML output to the output width; it needs no script and no network, and survives the HTML
    sanitizer of an untrusted notebook (an inline ``<svg>`` would not). ``full`` keeps the natural size and lets
    the output scroll sideways instead."""
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    alt = cut_text(alt, TITLE_LIMIT, say_how_much=True)
    if full:
        return (f'<div style="overflow-x:auto"><img class="jp-mod-unconfined" src="{src}" alt="{escape(alt)}" '
                'style="max-width:none"></div>')
    return f'<img src="{src}" alt="{escape(alt)}" style="{FIT_STYLE}">'


def details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


__all__ = ["badge", "details", "escape", "heading", "mapping_table", "no_math", "picture", "pre", "sendable",
           "sendable_text", "sends", "short", "table", "text_of", "wrap_style", "wrapping_cell"]
