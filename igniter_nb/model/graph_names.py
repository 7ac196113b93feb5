"""The rule every graph name must meet: the one the stores apply when they save or look up an execution.

A store keeps a graph name of 1-200 characters without a control character (U+0000-U+001F). The compiler
checks the same rule when a contract is compiled (``compiler/compile.py``), so a contract the stores would refuse
never compiles: it used to compile, run in memory and fail only when it was saved. Defined here, in the model
layer, so the compiler and the stores share it without either importing the other.
"""

from __future__ import annotations

MAX_GRAPH_NAME = 200
"""The most characters of a graph name a store keeps (and so the compiler takes)."""


def graph_name_problem(name: object) -> str | None:
    """What makes ``name`` a graph name the stores refuse, in words that follow "graph name ...", or None for a
    usable one: ``"Order"`` → None; ``"G" * 201`` → ``"is 201 characters long (at most 200)"``."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not name:
        return "is empty"
    if len(name) > MAX_GRAPH_NAME:
        return f"is {len(name):,} characters long (at most {MAX_GRAPH_NAME})"
    for at, ch in enumerate(name):
        if ord(ch) < 32:
            return f"holds the control character {ch!r} at position {at} (a store keeps printable text only)"
    return None


__all__ = ["MAX_GRAPH_NAME", "graph_name_problem"]
