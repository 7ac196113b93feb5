"""Walking a node's value (lists, tuples, dicts) to turn igniter_nb objects inside it into plain data, safely.

A node may return any value: one that contains itself (``l.append(l)``), or one nested thousands of levels
deep. ``result.to_dict()``, ``states`` and the diagnostics walk values to turn child results and deferreds into
dicts, and they never raise; a plain recursive walk would loop until ``RecursionError`` on either. So
:func:`convert` keeps the value's shape like ``copy.deepcopy`` does — a container met again is the same converted
container, so a value that contains itself converts to one that contains itself — and leaves what is nested
deeper than ``MAX_DEPTH`` levels as it is (unconverted, not copied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

# Levels of lists/tuples/dicts converted; below that a value is kept as it is. (Each level costs two Python
# frames; callers may already be a third of the recursion limit deep: runtime/depth.py.)
MAX_DEPTH = 100

KEEP: Any = object()  # what a ``leaf`` function returns for a value it does not convert


def convert(value: Any, leaf: Callable[[Any], Any], containers: tuple[type, ...] = (list, tuple, dict)) -> Any:
    """``value`` with every part for which ``leaf(part)`` is not ``KEEP`` replaced by that, walking the given
    container types (exact lists, tuples and dicts, and their subclasses, rebuilt as the plain type)."""
    return _convert(value, leaf, containers, {}, 0)


def _convert(value: Any, leaf: Callable[[Any], Any], containers: tuple[type, ...], memo: dict[int, Any],
             depth: int) -> Any:
    found = leaf(value)
    if found is not KEEP:
        return found
    if not isinstance(value, containers):
        return value
    key = id(value)
    done = memo.get(key)
    if done is not None:
        return done  # met again: a value that contains itself
    if depth >= MAX_DEPTH:
        return value
    depth += 1
    if isinstance(value, list):
        out: list[Any] = []
        memo[key] = out
        for v in value:
            out.append(_convert(v, leaf, containers, memo, depth))
        return out
    if isinstance(value, dict):
        mapping: dict[Any, Any] = {}
        memo[key] = mapping
        for k, v in value.items():
            mapping[k] = _convert(v, leaf, containers, memo, depth)
        return mapping
    memo[key] = value  # a tuple containing itself (through a list or dict) points back to the original tuple
    converted = tuple(_convert(v, leaf, containers, memo, depth) for v in cast("tuple[Any, ...]", value))
    memo[key] = converted
    return converted
