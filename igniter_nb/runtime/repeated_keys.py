"""Refusing JSON that repeats a key within one object, and saying where.

``{"amount": 1, "amount": 1000}`` is JSON syntax, but readers disagree on it: Python's ``json`` keeps the last value,
a proxy, a validator or a signature checker in front may have read the first. Two readers of one body must never see
two different requests, so the server's request reader and the webhook endpoint both parse with
:func:`unique_keys`, which raises :class:`RepeatedKeyError` at the first repeat (no cost beyond a length check for a
body without one), and :func:`repeated_key_at` then finds where that object is (``body.data.payment``) for the
message — once, on the refusal's path.
"""

from __future__ import annotations

import json
from typing import Any


class RepeatedKeyError(ValueError):
    """A JSON object repeats ``key``."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"a JSON object repeats the key {key[:80]!r}")


def _first_repeat(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no key repeats")  # (not reached: called only when the dict came out shorter)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook``: the object, or :class:`RepeatedKeyError` naming the first key it
    repeats."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise RepeatedKeyError(_first_repeat(pairs))
    return obj


def repeated_key_at(text: str | bytes, path: str) -> tuple[str, str] | None:
    """For JSON ``text`` that :func:`unique_keys` refused: where the first object that repeats a key is (a dotted
    path from ``path``, ``[i]`` for list items, as :func:`~igniter_nb.runtime.surrogates.lone_surrogate_at` writes
    them) and that key; None when the text cannot be read again to find it (another fault after the repeat)."""
    found: list[tuple[dict[str, Any], str]] = []

    def marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs) and not found:  # the first to close, as unique_keys met it
            found.append((obj, _first_repeat(pairs)))
        return obj

    try:
        value = json.loads(text, object_pairs_hook=marking)
    except (ValueError, RecursionError):
        return None
    if not found:
        return None
    target, key = found[0]
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if item is target:
            return where, key
        if isinstance(item, dict):
            stack.extend((child, f"{where}.{name}") for name, child in item.items() if isinstance(child, dict | list))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item) if isinstance(child, dict | list))
    return None


__all__ = ["RepeatedKeyError", "repeated_key_at", "unique_keys"]
