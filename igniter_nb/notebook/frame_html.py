"""``IgniterFrame``: the DataFrame every ``ig.nb`` frame function returns, with an HTML repr that fits a notebook.

It *is* a ``pandas.DataFrame`` (every pandas operation works and keeps the class); only ``_repr_html_`` differs
from pandas', and only in how values are shown — the data is untouched:

* ids (``execution_id``, ``token``, any ``*_id`` column) show a UUID as its first 8 characters and ``…``, never
  wrapped; the full id is in the data and in the cell's tooltip;
* times show as ``2026-03-02 09:00:00.000`` (UTC, stated under the table) — a ``deadline`` column to the second,
  ``2026-03-02 09:00:00`` —, durations as ``0 days 02:05:00``;
* JSON text (payloads, correlations, ``waiting_on``, values) is shown whole up to ``JSON_LIMIT`` characters and
  wraps between items, so a second awaited event is never hidden behind ``...``;
* statuses are coloured badges; nulls read ``<NA>``/``NaT`` in grey;
* long frames show their first and last rows, as pandas does (``display.max_rows``/``display.min_rows``);
* a table whose cells, each on one line, would be wider than ``FIT_WIDTH`` (the output area) may wrap a time
  between its date and its clock and a duration before its clock, and, when one JSON item a line is still too
  wide, JSON after a comma or a key's colon at any depth (``[{"event":`` over ``"manager_approved",`` over
  ``"node": "manager"}]``), so the browser narrows it to the output area instead of scrolling it sideways; a table
  that fits is written exactly as before.

The output is deterministic (inline styles, no generated ids), so notebooks can store and compare it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd

from igniter_nb._error_text import shown_text
from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.diagnostics.geometry import FIT_WIDTH, glyph_width
from igniter_nb.notebook import html as h
from igniter_nb.notebook.html import escape

#: Columns holding JSON text (shown whole, wrapping between items).
JSON_COLUMNS = frozenset({"payload", "correlation", "waiting_on", "value", "waiting_for", "tool_call_ids"})
#: Columns of long free text (wrapping).
PROSE_COLUMNS = frozenset({"error", "path"})
JSON_LIMIT = 400  # characters of a JSON cell, its first item included
SPLIT_LIMIT = 100_000  # JSON text longer than this is cut at JSON_LIMIT characters, not split into items
ITEM_LINE = 64  # a JSON item up to this many characters never wraps inside
ID_LIMIT = 24
TITLE_LIMIT = 1_000  # characters of a whole id or path in a cell's tooltip
MAX_COLUMNS = 50  # columns shown (first and last halves) when pandas' display.max_columns is 0 or None
FONT_PX = 12  # the frames' font size (``_FONT``)
MONO_PX = 7.3  # a monospace letter at 12 px (ids)
CELL_PAD = 12.0  # a cell's padding, left and right
JSON_MAX_PX = 34 * FONT_PX  # a JSON cell's ``max-width:34em``
PROSE_MAX_PX = 24 * FONT_PX
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DEADLINE = "deadline"  # the kind of a ``deadline`` time column: shown to the second
_FONT = "font-family:Helvetica,Arial,sans-serif;font-size:12px"
_TD = "padding:2px 6px;vertical-align:top;border-bottom:1px solid #e2e8f0"
_STYLES = {
    "id": f"{_TD};text-align:left;white-space:nowrap;font-family:monospace",
    "time": f"{_TD};text-align:left;white-space:nowrap",
    "duration": f"{_TD};text-align:right;white-space:nowrap",
    "number": f"{_TD};text-align:right;white-space:nowrap",
    "status": f"{_TD};text-align:left;white-space:nowrap",
    "text": f"{_TD};text-align:left;white-space:nowrap",
    "json": f"{_TD};text-align:left;white-space:normal;overflow-wrap:break-word;min-width:8em;max-width:34em",
    "prose": f"{_TD};text-align:left;white-space:normal;overflow-wrap:break-word;min-width:8em;max-width:24em",
    "location": f"{_TD};text-align:left;white-space:nowrap",
}
#: a table too wide for the output area (``_table_width``): times and durations may wrap between their parts
_NARROW = {"time": f"{_TD};text-align:left;white-space:normal",
           "duration": f"{_TD};text-align:right;white-space:normal"}
_STYLES[_DEADLINE] = _STYLES["time"]  # a deadline cell looks like any time cell, to the second
_NULL = '<span style="color:#94a3b8">{}</span>'


class IgniterFrame(pd.DataFrame):
    """A ``pandas.DataFrame`` whose notebook HTML shows short ids, whole JSON and coloured statuses.

    ``ig.nb.read_parquet`` gives one back for a file written from one; ``pd.DataFrame(frame)`` gives a plain
    frame with the same data.
    """

    @property
    def _constructor(self) -> Any:
        return IgniterFrame

    def _repr_html_(self) -> str | None:
        try:
            return h.no_math(h.sendable_text(frame_html(self)))
        except Exception:  # a repr must never raise: pandas' own table is still right
            try:
                html: str | None = pd.DataFrame(self)._repr_html_()  # type: ignore[operator]
            except Exception as exc:  # (pandas' table too: a value whose repr raises) the shape, and why
                return h.pre(f"{len(self)} rows × {len(self.columns)} columns (table unavailable: "
                             f"{type(exc).__name__}: {shown_text(exc)})")
            return None if html is None else h.no_math(h.sendable_text(html))


def column_kind(name: Any, series: pd.Series) -> str:
    """How a column is shown: ``id``, ``time``, ``duration``, ``number``, ``status``, ``json``, ``prose``,
    ``location`` or ``text``."""
    label = str(name)
    dtype = series.dtype
    if label in ("execution_id", "token") or (label.endswith("_id") and not label.startswith("corr_")):
        return "id"  # corr_<key> columns hold business keys, shown as they are
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "time"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if label == "status":
        return "status"
    if label in JSON_COLUMNS:
        return "json"
    if label in PROSE_COLUMNS:
        return "prose"
    if label == "source_location":
        return "location"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def short_id(text: str) -> str:
    """``ad625aaa-0f65-…`` → ``ad625aaa…`` for every UUID in ``text``; other long ids are cut at ``ID_LIMIT``."""
    shown = _UUID.sub(lambda m: m.group(0)[:8] + "…", text)
    return shown if len(shown) <= ID_LIMIT else shown[: ID_LIMIT - 1] + "…"


def _time(value: Any, *, to_the_second: bool = False) -> str:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    if to_the_second:
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def _duration(value: Any) -> str:
    delta = pd.Timedelta(value)
    sign = "-" if delta < pd.Timedelta(0) else ""
    delta = abs(delta)
    total_ms = delta // pd.Timedelta(milliseconds=1)
    days, rest = divmod(total_ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    text = f"{sign}{days} days {hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{ms:03d}" if ms else "")


def top_level_items(text: str) -> list[str]:
    """The text of each top-level item of a JSON list or object (``'"a": 1'``, ``'{"b": 2}'``), exactly as written;
    ``[text]`` for anything else (a scalar, an empty container, text that is not JSON)."""
    stripped = text.strip()
    if len(stripped) < 3 or stripped[0] + stripped[-1] not in ("[]", "{}"):
        return [text]
    items: list[str] = []
    depth, start, in_string, escaped = 0, 1, False, False
    for i, ch in enumerate(stripped[1:-1], start=1):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string, escaped = True, False
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(stripped[start:i].strip())
            start = i + 1
    if depth != 0 or in_string:
        return [text]
    items.append(stripped[start:-1].strip())
    return items


def _json_html(value: Any, split: bool = False) -> str:
    """JSON text whole (up to ``JSON_LIMIT``), UUIDs shortened, each top-level item kept on one line when short,
    so a cell wraps between items — ``[{…billing…},`` then ``{…crm…}]`` — never inside one. ``split`` (a table
    too wide for the output area even so): a short item may wrap too, after a comma or a key's colon inside it."""
    line = _breakable if split else _line
    text = value if isinstance(value, str) else _json_text(value)
    if len(text) > SPLIT_LIMIT:  # (read character by character, a 7 MB list took seconds to show its 400)
        kept = cut_text(text[:SPLIT_LIMIT], JSON_LIMIT).removesuffix(" …")
        shown = _UUID.sub(lambda m: m.group(0)[:8] + "…", kept).strip()
        return escape(f"{shown} … ({len(text) - len(kept):,} more characters)")
    text = _UUID.sub(lambda m: m.group(0)[:8] + "…", text).strip()
    items = top_level_items(text)
    if len(items) == 1:  # (cut, it says how much more, as a cut list or object does)
        text = cut_text(text.replace("\n", " "), JSON_LIMIT, say_how_much=True)
        return line(text) if len(text) <= ITEM_LINE else escape(text)
    if len(items[0]) + 2 > JSON_LIMIT:  # the first item alone is past the limit (a failure's 5,000-character error)
        return escape(cut_text(text, JSON_LIMIT, say_how_much=True))
    pieces: list[str] = []
    used = 2
    for k, item in enumerate(items):
        if used + len(item) > JSON_LIMIT and pieces:
            pieces.append(f"… {len(items) - k} more")
            break
        used += len(item) + 2
        pieces.append(item + ("," if k < len(items) - 1 else ""))
    pieces[0] = text[0] + pieces[0]
    pieces[-1] = pieces[-1] + text[-1]
    return " ".join(line(p) if len(p) <= ITEM_LINE else escape(p) for p in pieces)


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, default=repr, ensure_ascii=False)
    except Exception:  # (contains itself, nests too deep, a repr that raises) as ``html.text_of`` shows it
        return h.text_of(value)


def _line(text: str) -> str:
    return f'<span style="white-space:nowrap">{escape(text)}</span>'


def _breakable(text: str) -> str:
    """``text`` (JSON) in pieces that each stay on one line, a line break allowed only after a ``", "`` or a
    ``": "`` outside a string, at any depth: ``[{"event":`` ``"manager_approved",`` ``"node":`` ``"manager"}]``."""
    return " ".join(_line(piece) for piece in _json_pieces(text))


def _json_pieces(text: str) -> list[str]:
    """``text`` cut after each ``", "`` and ``": "`` outside a JSON string (the comma or colon kept, the space
    dropped)."""
    pieces: list[str] = []
    start, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in ",:" and text[i + 1:i + 2] == " ":
            pieces.append(text[start:i + 1])
            start = i + 2
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _cell(kind: str, value: Any, narrow: bool = False, split: bool = False) -> str:
    style = _STYLES[kind]
    if _missing(value):
        shown = "NaT" if kind in ("time", _DEADLINE, "duration") else "&lt;NA&gt;"
        return f'<td style="{style}">{_NULL.format(shown)}</td>'
    if kind == "id":
        full = _str(value)
        shown = short_id(full)
        title = f' title="{escape(cut_text(full, TITLE_LIMIT, say_how_much=True))}"' if shown != full else ""
        return f'<td style="{style}"{title}>{escape(shown)}</td>'
    if kind in ("time", _DEADLINE):
        shown = _time(value, to_the_second=kind == _DEADLINE)
        # a table too wide: the cell may break at its one space, between the date and the clock (never inside
        # either: no line breaks between a hyphen or a colon and a digit); the text stays as the sanitizer reads it
        return f'<td style="{_NARROW["time"] if narrow else style}">{shown}</td>'
    if kind == "duration":
        return f'<td style="{_NARROW["duration"] if narrow else style}">{_duration(value)}</td>'
    if kind == "status":
        return f'<td style="{style}">{h.badge(value)}</td>'
    if kind == "json":
        return f'<td style="{style}">{_json_html(value, split)}</td>'
    if kind == "location":
        full = _str(value)
        tail = full.rsplit("/", 1)[-1]
        title = f' title="{escape(cut_text(full, TITLE_LIMIT, say_how_much=True))}"' if tail != full else ""
        return f'<td style="{style}"{title}>{escape(h.short(tail, JSON_LIMIT))}</td>'
    if kind == "number":
        return f'<td style="{style}">{escape(str(value))}</td>'
    return f'<td style="{style}">{escape(h.short(value, JSON_LIMIT))}</td>'


def _width(kind: str, value: Any, least: bool = False) -> float:
    """About how wide (px) a cell is drawn, its padding included: with each line as long as it may be (a time or a
    duration on one line, an id in monospace), or, ``least``, as narrow as a table too wide lets it be with its JSON
    items kept whole (a time's date over its clock, a duration's days over its clock). JSON counts one item a line
    either way: it wraps between its items in any table. Only compared with ``FIT_WIDTH`` (``_table_width``): the
    browser lays the table out."""
    if _missing(value):
        return CELL_PAD + 30.0
    if kind == "id":
        return CELL_PAD + MONO_PX * len(short_id(_str(value)))
    if kind in ("time", _DEADLINE, "duration"):
        shown = _duration(value) if kind == "duration" else _time(value, to_the_second=kind == _DEADLINE)
        parts = shown.rsplit(" ", 1) if least else [shown]
        return CELL_PAD + max(glyph_width(part, FONT_PX) for part in parts)
    if kind == "status":
        return CELL_PAD + glyph_width(str(value), FONT_PX) + 14.0  # the badge's padding and border
    if kind == "json":  # (one item a line either way: JSON wraps between its items whatever the table's width)
        text = value if isinstance(value, str) else _json_text(value)
        runs = [item + "[," if len(item) <= ITEM_LINE else max(item.split(" "), key=len)
                for item in top_level_items(_UUID.sub(lambda m: m.group(0)[:8] + "…", text[:JSON_LIMIT]).strip())]
        return CELL_PAD + max(min(max(glyph_width(run, FONT_PX) for run in runs), JSON_MAX_PX), 8 * FONT_PX)
    if kind == "prose":
        text = _str(value)[:JSON_LIMIT]
        if least:
            return CELL_PAD + max(glyph_width(max(text.split(" "), key=len), FONT_PX), 8 * FONT_PX)
        return CELL_PAD + max(min(glyph_width(text, FONT_PX), PROSE_MAX_PX), 8 * FONT_PX)
    text = _str(value) if kind in ("number", "location") else h.short(value, JSON_LIMIT)
    return CELL_PAD + glyph_width(text[:JSON_LIMIT], FONT_PX)


def _table_width(heads: list[str], index: list[str], kinds: list[str | None], columns: list[list[Any]],
                 rows: list[int], least: bool = False) -> float:
    """About how wide the table is drawn, each cell as ``_width`` measures it (headings never wrap); stops counting
    past ``FIT_WIDTH``."""
    width = CELL_PAD + max([glyph_width(text, FONT_PX) for text in index] or [0.0])
    for k, kind in enumerate(kinds):
        head = CELL_PAD + glyph_width(heads[k], FONT_PX, bold=True)
        width += head if kind is None else max([head, *(_width(kind, columns[k][p], least) for p in rows)])
        if width > FIT_WIDTH:
            break
    return width


def _str(value: Any) -> str:
    """``value`` as text: itself when it is text, else ``html.text_of`` (which never raises, unlike ``str``)."""
    return value if isinstance(value, str) else h.text_of(value)


def frame_html(frame: pd.DataFrame) -> str:
    """The notebook HTML of ``frame`` (see the module docstring). Deterministic for the same data."""
    max_rows = pd.get_option("display.max_rows")
    min_rows = pd.get_option("display.min_rows") or 10
    n = len(frame)
    if max_rows is not None and n > max_rows:
        half = max(min(min_rows, max_rows) // 2, 1)
        positions: list[int | None] = [*range(half), None, *range(n - half, n)]
    else:
        positions = list(range(n))
    names = list(frame.columns)
    max_columns = pd.get_option("display.max_columns") or MAX_COLUMNS
    if len(names) > max_columns:  # as pandas does: the first and last columns, and a column of "…" between
        half = max(max_columns // 2, 1)
        picked: list[int | None] = [*range(half), None, *range(len(names) - half, len(names))]
    else:
        picked = list(range(len(names)))
    # a deadline is shown to the second (a person acts on it); the data keeps its milliseconds
    kinds = [None if k is None else _DEADLINE if kind == "time" and str(names[k]) == "deadline" else kind
             for k, kind in ((k, None if k is None else column_kind(names[k], frame.iloc[:, k])) for k in picked)]
    columns = [[] if k is None else frame.iloc[:, k].tolist() for k in picked]
    index = frame.index.tolist()
    head_style = f"{_TD};text-align:left;white-space:nowrap;background:#f1f5f9;color:{h.INK};border-bottom:1px solid #cbd5e1"
    out = [f'<div class="igniter-frame" style="overflow-x:auto;{_FONT}">',
           f'<table class="dataframe" style="border-collapse:collapse;{_FONT};margin:4px 0">',
           # the index's name, when it has one (a ``groupby("execution_id")`` sum), over the index, as pandas shows it
           f'<thead><tr><th style="{head_style}">{_index_name(frame)}</th>']
    out.extend(f'<th style="{head_style}">{"…" if k is None else escape(h.short(_str(names[k]), JSON_LIMIT))}</th>'
               for k in picked)
    out.append("</tr></thead><tbody>")
    index_style = f"{_TD};text-align:right;color:#64748b;font-weight:normal;white-space:nowrap"
    heads = ["…" if k is None else h.short(_str(names[k]), JSON_LIMIT) for k in picked]
    shown_rows = [p for p in positions if p is not None]
    # too wide for the output area: times and durations may wrap; still too wide so, JSON items too (``_cell``)
    labels = [h.short(_str(index[p]), JSON_LIMIT) for p in shown_rows]
    narrow = _table_width(heads, labels, kinds, columns, shown_rows) > FIT_WIDTH
    split = narrow and _table_width(heads, labels, kinds, columns, shown_rows, least=True) > FIT_WIDTH
    for pos in positions:
        if pos is None:
            out.append(f'<tr><th style="{index_style}">…</th>'
                       + "".join(f'<td style="{_STYLES[k or "text"]}">…</td>' for k in kinds) + "</tr>")
            continue
        out.append(f'<tr><th style="{index_style}">{escape(h.short(_str(index[pos]), JSON_LIMIT))}</th>')
        out.extend(f'<td style="{_STYLES["text"]}">…</td>' if kind is None else _cell(kind, columns[k][pos], narrow, split)
                   for k, kind in enumerate(kinds))
        out.append("</tr>")
    out.append("</tbody></table>")
    notes = [f"{n} row{'' if n == 1 else 's'} × {len(names)} column{'' if len(names) == 1 else 's'}"]
    shown = [p for p in positions if p is not None]
    if any(kind is not None and _shortened(kind, columns[k][p]) for k, kind in enumerate(kinds) for p in shown):
        notes.append("ids shortened (full ids in the data; hover over an id to see it)")
    if len(picked) < len(names):
        notes.append(f"{len(names) - len(picked) + 1} columns in the middle not shown")
    if "time" in kinds or _DEADLINE in kinds:
        notes.append("times in UTC")
    out.append(f'<div style="font-size:11px;color:#64748b">{escape(" · ".join(notes))}</div></div>')
    return "".join(out)


def _index_name(frame: pd.DataFrame) -> str:
    """The index's name for the corner heading (escaped, cut as a column name), or nothing when it has none."""
    names = [n for n in frame.index.names if n is not None]
    return escape(h.short(", ".join(_str(n) for n in names), JSON_LIMIT)) if names else ""


def _shortened(kind: str, value: Any) -> bool:
    """Whether a cell shows an id shorter than it is."""
    if kind not in ("id", "json") or not isinstance(value, str):
        return False
    return bool(_UUID.search(value)) or (kind == "id" and len(value) > ID_LIMIT)


def as_igniter_frame(frame: pd.DataFrame, kind: str) -> IgniterFrame:
    """``frame`` as an ``IgniterFrame`` tagged with its kind (``frame.attrs["igniter_nb"]``, kept by parquet)."""
    result = frame if isinstance(frame, IgniterFrame) else IgniterFrame(frame)
    result.attrs["igniter_nb"] = kind
    return result


__all__ = ["JSON_COLUMNS", "IgniterFrame", "as_igniter_frame", "column_kind", "frame_html", "short_id"]
