"""Calling a callable with a dictionary of keyword arguments that its caller drops right after, without a copy.

``fn(**values)`` first copies ``values`` into a new dictionary (CPython's ``DICT_MERGE``: a table as big, each
name's reference count raised, and lowered again when the copy is freed), then unpacks that copy for the call. For a
node with many keyword dependencies (a fan's ``sink(**kw)`` over 100,000 names) the copy and its freeing touch every
name twice more, out of the CPU caches at that size (docs/performance.md, "One stack entry per waiting node").
The C API's ``PyObject_Call(fn, (), values)`` is what ``fn(**values)`` does after its copy: the callee receives
exactly the same arguments (a Python function still builds its own ``**kw`` dictionary from them), and the resolver
never reads or changes ``values`` afterwards, so leaving out the copy changes nothing a callable can see. It is
reached through ``ctypes`` (loaded at the first such call); where ``ctypes`` is missing the call is ``fn(**values)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


@functools.cache
def _object_call() -> Callable[[Any, tuple[()], dict[str, Any]], Any] | None:
    """``PyObject_Call`` as a Python callable (its own prototype: ``ctypes.pythonapi``'s shared function objects are
    left as they are), or None without ``ctypes``."""
    try:
        import ctypes

        prototype = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object, ctypes.py_object)
        return prototype(("PyObject_Call", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):
        return None


def call_with_keywords(fn: Callable[..., Any], values: dict[str, Any]) -> Any:
    """``fn(**values)``, without copying ``values`` first: for a caller that drops ``values`` after the call (names
    must be strings, as in any keyword call)."""
    call = _object_call()
    if call is None:
        return fn(**values)
    return call(fn, (), values)
