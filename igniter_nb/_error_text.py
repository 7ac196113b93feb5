"""The first line of an error's message, as every "could not ... : <cause>" message quotes it.

A driver's, a library's or a server's error can say nothing (``str(exc) == ""``), only whitespace, start with blank
lines, run over many lines (a PostgreSQL error's ``DETAIL:`` and ``HINT:``, a traceback pasted in) or be one very
long line. Four copies of "strip, take ``splitlines()[0]``" treated those differently (one left ``"ValueError: "``
with nothing after it, one said the type twice: ``OperationalError: OperationalError``). Depends on nothing, so
every layer can use it.
"""

from __future__ import annotations

#: The most characters of a first line quoted; longer ones are cut, ending in ``…``.
MAX_LINE = 500


def text_of(value: object) -> str:
    """``str(value)``, or ``""`` when that fails (an exception whose ``__str__`` raises must not replace the error
    being reported)."""
    try:
        return str(value)
    except Exception:  # any failure: there is no text to quote
        return ""


def unreadable(value: object) -> str:
    """What stands for the text of ``value`` when ``str()`` of it raises: ``<Type: its message cannot be read>``."""
    return f"<{type(value).__name__}: its message cannot be read>"


def shown_text(value: object) -> str:
    """``str(value)``, or :func:`unreadable` when that raises: a node's error in a report, an explanation or a
    picture is shown whole, and one whose ``__str__`` fails must not break what shows it."""
    try:
        return str(value)
    except Exception:  # any failure: the node still failed, and what shows it says so
        return unreadable(value)


def first_line(text: object, limit: int = MAX_LINE) -> str:
    """The first line of ``text`` (``str()`` of it) that is not blank, stripped, at most ``limit`` characters (cut
    ones end in ``…``); ``""`` when every line is blank."""
    for line in text_of(text).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else f"{line[:limit - 1]}…"
    return ""


def described(exc: BaseException, text: object | None = None) -> str:
    """``Type: first line`` of ``exc`` (of ``text`` instead, when given: a wrapped driver error's own words), or
    just ``Type`` when there is no line to quote."""
    line = first_line(exc if text is None else text)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


__all__ = ["MAX_LINE", "described", "first_line", "shown_text", "text_of", "unreadable"]
