"""Where a value holds text no store can write as UTF-8: a string or key with an unpaired UTF-16 surrogate.

JSON allows ``"\\ud800"`` and Python strings can hold it (``os.fsdecode`` of a non-UTF-8 file name does), but it
is not Unicode text: UTF-8 cannot encode it. The server's request reader, the webhook endpoint and the RQ enqueue
functions each refuse such a value before anything is written, naming where it is with this one walk.
"""

from __future__ import annotations

from typing import Any


def _lone_surrogate(text: str) -> str | None:
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return char
    return None


def lone_surrogate_at(value: Any, path: str) -> tuple[str, str] | None:
    """Where (a dotted path from ``path``) the first string or key holding an unpaired surrogate is, and that
    surrogate; None when there is none. Recursive: call it on values whose nesting is already bounded (a parsed
    request body, JSON-checked job arguments)."""
    if isinstance(value, str):
        found = _lone_surrogate(value)
        return (path, found) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key)
            if found:
                return (f"{path} (a key)", found)
            hit = lone_surrogate_at(item, f"{path}.{key}")
            if hit:
                return hit
    elif isinstance(value, list):
        for index, item in enumerate(value):
            hit = lone_surrogate_at(item, f"{path}[{index}]")
            if hit:
                return hit
    return None
