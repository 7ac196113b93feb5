"""``cut_text``: the one place long text is cut for display (table cells of the notebook output via
``notebook.html.short``, the lines of a diagnostics report). It lives in ``igniter_nb._shown_text`` (which depends
on nothing, so the runtime's text forms cut the same way) and is re-exported here."""

from __future__ import annotations

from igniter_nb._shown_text import cut_text

__all__ = ["cut_text"]
