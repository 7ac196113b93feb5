"""The first line of an error's message, as every "could not ... : <cause>" message quotes it.

A driver's, a library's or a server's error can say nothing (``str(exc) == ""``), only whitespace, start with blank
lines, run over many lines (a PostgreSQL error's ``DETAIL:`` and ``HINT:``, a traceback pasted in) or be one very
long line. Four copies of "strip, take ``splitlines()[0]``" treated those differently (one left ``"ValueError: "``
with nothing after it, one said the type twice: ``OperationalError: OperationalError``). Depends on nothing, so
every layer can use it.

Also the one middle cut (:func:`short_path`): a long value an error quotes — a path inside a snapshot value, an
item of the ``[graph=..., execution=...]`` suffix, a store URL — shown as its head and tail and how many characters
were left out.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

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


# The longest path an error shows whole (it shows it twice: in its text and in ``[path=...]``).
PATH_SHOWN = 160
# What may start a level in a path (``.key``, ``[index]``, ``{set item}``): where a cut is made when one is near.
# Only "may": a key can hold these characters itself ("a.b", "x[1]"), so a path's text cannot say how many levels
# it has, and a cut says how many characters it left out.
_LEVEL_STARTS = frozenset(".[{")


def cut_end(text: str, limit: int) -> str:
    """``text`` when it is at most ``limit`` characters, else its first ``limit`` and how many were left out
    (``… (2,000,000 characters left out)``): the words of another party quoted in an error kept with an execution (a
    provider's, a remote server's), which may be megabytes."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} characters left out)"


def short_path(path: str, limit: int = PATH_SHOWN, *, escape: bool = True) -> str:
    """``path`` when it has at most ``limit`` characters, else its head and tail around what was left out:
    ``inputs.order.a.a … 360 characters left out … .a.a``, each cut just before a ``.``, ``[`` or ``{`` when one is
    near (else mid-key); the count is exact, in characters of ``path`` itself. A character that would break the line
    or read as something else (a newline, a control character, a bidi override, a lone surrogate) is shown escaped
    as ``repr`` shows it (``\\n``, ``\\u202e``), so the message stays one readable line, and a cut never splits
    such an escape; ``full_path`` keeps the path whole. Not only for paths: any one-line value an error quotes (an
    execution id, a graph name, a URL). ``escape=False`` leaves every character as it is, for text the caller
    shows with ``repr`` (which escapes them itself)."""
    if type(path) is not str:  # (a caller's ``path=`` of another type: named as its text, not a TypeError)
        path = str(path)
    shown = path
    at: Sequence[int] = range(len(path) + 1)  # where each character of ``path`` starts in ``shown``
    if escape and not path.isprintable():
        pieces = [ch if ch.isprintable() else repr(ch)[1:-1] for ch in path]
        shown = "".join(pieces)
        at = [0, *itertools.accumulate(map(len, pieces))]
    limit = max(limit, 0)  # (a limit below 0 cuts as 0 does: everything left out, counted)
    if len(shown) <= limit:
        return shown
    half = limit // 2
    end = len(shown)
    head = bisect.bisect_right(at, half) - 1  # the last character that starts within the first half
    for i in range(head, -1, -1):
        if at[i] <= half // 2:
            break
        if path[i] in _LEVEL_STARTS:
            head = i
            break
    tail = bisect.bisect_left(at, end - half)  # the first character that starts within the last half
    for i in range(tail, len(path)):
        if at[i] >= end - half // 2:
            break
        if path[i] in _LEVEL_STARTS:
            tail = i
            break
    left_out = tail - head
    return f"{shown[:at[head]]} … {left_out:,} character{'s' if left_out != 1 else ''} left out … {shown[at[tail]:]}"


__all__ = ["MAX_LINE", "PATH_SHOWN", "cut_end", "described", "first_line", "short_path", "shown_text", "text_of", "unreadable"]
