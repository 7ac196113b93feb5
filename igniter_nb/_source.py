"""Where in the user's code a declaration was made."""

from __future__ import annotations

import os
import sys
from bisect import bisect_right
from types import CodeType, FrameType

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKIP_PREFIXES = (_PACKAGE_DIR, "<frozen ", os.path.dirname(os.__file__) + os.sep + "contextlib.py")


def user_location(depth: int = 1) -> str | None:
    """``file:line`` of the nearest caller outside igniter_nb (and outside contextlib)."""
    frame = sys._getframe(depth)
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_SKIP_PREFIXES):
            # A declaration in a loop asks again for the same place as the one before: remember the last one.
            # (One entry: distinct places, the usual long define, would only evict a table, at a cost per call.)
            lasti = frame.f_lasti
            last = _last[0]
            if last[0] is code and last[1] == lasti:
                return last[2]
            location = f"{code.co_filename}:{line_of(frame)}"
            _last[0] = (code, lasti, location)
            return location
        frame = frame.f_back  # type: ignore[assignment]
    return None


_last: list[tuple[CodeType | None, int, str]] = [(None, -1, "")]  # (code, instruction, "file:line") asked last


# ``frame.f_lineno`` scans the code's line table from the start up to the current instruction: in a long
# ``define`` (thousands of declarations) that is a scan per declaration, quadratic in all. Far into a big code
# object, the line comes from a table of the code's line ranges, built once per code object, by bisection.
_SCAN_LIMIT = 2048  # bytecode offset below which the plain scan is cheap
_line_tables: dict[int, tuple[CodeType, list[int], list[int | None]]] = {}  # by id(code): hashing code is O(size)
_LINE_TABLE_LIMIT = 64


def line_of(frame: FrameType) -> int | None:
    """The line ``frame`` is executing (as ``frame.f_lineno``), without a linear scan in big code objects."""
    lasti = frame.f_lasti
    if lasti < _SCAN_LIMIT:
        return frame.f_lineno
    code = frame.f_code
    table = _line_tables.get(id(code))
    if table is None or table[0] is not code:
        starts: list[int] = []
        lines: list[int | None] = []
        for start, _end, line in code.co_lines():
            starts.append(start)
            lines.append(line)
        if len(_line_tables) >= _LINE_TABLE_LIMIT:
            del _line_tables[next(iter(_line_tables))]
        table = _line_tables[id(code)] = (code, starts, lines)
    i = bisect_right(table[1], lasti) - 1
    line = table[2][i] if i >= 0 else None
    return line if line is not None else frame.f_lineno


def callable_location(fn: object) -> str | None:
    """``file:line`` where a function was defined, if it has code."""
    code = getattr(fn, "__code__", None)
    if code is None:
        call = getattr(fn, "call", None) or (type(fn).__call__ if callable(fn) else None)
        code = getattr(call, "__code__", None)
    if code is None:
        return None
    return f"{code.co_filename}:{code.co_firstlineno}"

