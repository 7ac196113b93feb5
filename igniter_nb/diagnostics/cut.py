"""``cut_text``: the one place long text is cut for display (table cells of the notebook output via
``notebook.html.short``, the lines of a diagnostics report)."""

from __future__ import annotations


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


__all__ = ["cut_text"]
