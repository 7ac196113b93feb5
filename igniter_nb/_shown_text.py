"""How much of a name and of a listing plain text shows: ``cut_text``, ``shown_name``, ``TABLE_LIMIT`` and
``more_rows``. Depends on nothing, so the runtime's ``Plan.to_text`` and ``Result`` repr, the diagnostics report
and the notebook's text and HTML outputs cut the same way.

A graph name used to be any text (``ig.compile(name=)``), a node name is an identifier of any length, and a graph
may have thousands of nodes: a 1 MB name made a 1 MB line, and a plan of 3,000 nodes 169 KB of text. The HTML
headings already cut a title at ``NAME_LIMIT`` characters and the HTML tables list ``TABLE_LIMIT`` rows; the text
outputs now do the same, with the same words.
"""

from __future__ import annotations

#: Rows of a table or listing shown (an HTML table, a result's outputs, a plan's nodes); the rest are counted.
TABLE_LIMIT = 200
#: Characters of a name shown (a heading's title: a graph name; a node name in a line of text).
NAME_LIMIT = 200


def cut_text(text: str, limit: int, *, say_how_much: bool = False) -> str:
    """``text`` when it is at most ``limit`` characters, else its start and a marker: `` …``, or with
    ``say_how_much`` `` … (4,880 more characters)``.

    The cut falls between items (after the last ``", "`` in the second half of the kept part), never inside one: a
    half id or timestamp would escape the nbval sanitizer, and a half number reads as another number."""
    if len(text) <= limit:
        return text
    cut = text.rfind(", ", 0, limit)
    kept = text[: cut if cut > limit // 2 else limit - 1]
    if say_how_much:
        return f"{kept} … ({len(text) - len(kept):,} more characters)"
    return kept + " …"


def shown_name(name: object) -> str:
    """``str(name)`` cut as a heading cuts its title: at most ``NAME_LIMIT`` characters, then how many more."""
    return cut_text(str(name), NAME_LIMIT, say_how_much=True)


def more_rows(count: int, what: str = "rows") -> str:
    """What stands for the ``count`` rows left out of a listing: ``… 2800 more rows`` (``what``: ``outputs`` …, a
    plural ending in ``s``); one left out is ``… 1 more row``."""
    return f"… {count} more {what[:-1] if count == 1 and what.endswith('s') else what}"


__all__ = ["NAME_LIMIT", "TABLE_LIMIT", "cut_text", "more_rows", "shown_name"]
