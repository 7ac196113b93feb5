"""``bounded_repr``: the ``repr`` of a value a record holds (a node's value, an event's payload), as the records'
own ``__repr__`` writes it: never raising, and never megabytes.

A node may hold any value: one whose ``__repr__`` raises or returns something that is not text, one nested past the
recursion limit, a string of 10 MB. The default named-tuple ``repr`` of a node state then raised (IPython showed an
error instead of the state) or filled the output and the log with the whole value. Depends on nothing, so every
layer can use it.
"""

from __future__ import annotations

#: The most characters of one value's ``repr`` shown; longer ones are cut, saying how many more there are.
MAX_REPR = 1_000


def bounded_repr(value: object, limit: int = MAX_REPR) -> str:
    """``repr(value)``, cut at ``limit`` characters (``… (N more characters)``); ``<Type (repr failed)>`` when the
    ``repr`` raises, is not text or recurses too deep."""
    try:
        text = repr(value)
    except Exception:  # (RecursionError, and the TypeError of a __repr__ that returns something else)
        return f"<{type(value).__name__} (repr failed)>"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


__all__ = ["MAX_REPR", "bounded_repr"]
