"""Deeply nested child contracts without a deep stack.

Child contracts nest: a composition whose child composes another contract, and so on. Resolving, resuming
or reading one level costs a handful of Python frames, so a few hundred levels would pass Python's recursion
limit and surface as a ``RecursionError`` from ``contract.status`` — which must never raise. Each step one
level down goes through :func:`descend`: while the stack is shallow it is a plain call; once it is deep, the
step continues on a fresh thread (its own stack and recursion count) while the caller waits. Nesting depth is
then bounded by memory, not by the recursion limit: each third of the limit costs one waiting thread.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Continue on a fresh stack once this many frames are in use: leaves room for the user's own calls (a
# compute, an executor, a subscriber) under the deepest level, whatever the recursion limit is.
_HOP_FRACTION = 3


def stack_is_deep() -> bool:
    """Whether this thread already uses more than a third of the recursion limit."""
    try:
        sys._getframe(sys.getrecursionlimit() // _HOP_FRACTION)
    except ValueError:
        return False
    return True


def descend(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``: a plain call while the stack is shallow, else run on a fresh thread (with this thread's
    context variables) and waited for; its result is returned and its exception re-raised here."""
    if not stack_is_deep():
        return fn(*args)
    outcome: list[Any] = []
    failure: list[BaseException] = []
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome.append(context.run(fn, *args))
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            failure.append(exc)

    worker = threading.Thread(target=run, name="igniter-nested", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]  # type: ignore[no-any-return]
