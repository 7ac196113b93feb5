"""Where a value holds text no store can write as UTF-8: a string or key with an unpaired UTF-16 surrogate.

JSON allows ``"\\ud800"`` and Python strings can hold it (``os.fsdecode`` of a non-UTF-8 file name does), but it
is not Unicode text: UTF-8 cannot encode it. The server's request reader, the webhook endpoint and the RQ enqueue
functions each refuse such a value before anything is written, naming where it is with this one walk.
"""

from __future__ import annotations

import re
from typing import Any

# A ``\\uD800``-``\\uDFFF`` escape in JSON text, as text and as bytes. A pair of them decodes to one character, so
# a match only says a lone one may be there: the parsed value is walked then (and only then).
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_LONE = re.compile("[\ud800-\udfff]")  # in a str, every surrogate is unpaired (a pair decodes to one character)


def replace_lone_surrogates(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD, so it can be written as UTF-8 (for display:
    pictures, notebook output). ASCII text is returned at once (``isascii`` is a flag check)."""
    if text.isascii() or not _LONE.search(text):
        return text
    return _LONE.sub("\ufffd", text)


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


def escaped_lone_surrogate_at(text: str | bytes, value: Any, path: str) -> tuple[str, str] | None:
    """For JSON ``text`` already parsed into ``value``: where (as :func:`lone_surrogate_at`) an unpaired surrogate
    the text spelled as a ``\\u`` escape landed, or None. Text with no such escape is not walked."""
    spelled = _ESCAPE_BYTES.search(text) if isinstance(text, bytes) else _ESCAPE.search(text)
    return lone_surrogate_at(value, path) if spelled is not None else None
