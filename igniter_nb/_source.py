"""Where in the user's code a declaration was made."""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKIP_PREFIXES = (_PACKAGE_DIR, "<frozen ", os.path.dirname(os.__file__) + os.sep + "contextlib.py")


def user_location(depth: int = 1) -> str | None:
    """``file:line`` of the nearest caller outside igniter_nb (and outside contextlib)."""
    frame = sys._getframe(depth)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_SKIP_PREFIXES):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def callable_location(fn: object) -> str | None:
    """``file:line`` where a function was defined, if it has code."""
    code = getattr(fn, "__code__", None)
    if code is None:
        call = getattr(fn, "call", None) or (type(fn).__call__ if callable(fn) else None)
        code = getattr(call, "__code__", None)
    if code is None:
        return None
    return f"{code.co_filename}:{code.co_firstlineno}"

