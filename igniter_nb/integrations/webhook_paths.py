"""Dotted paths into a webhook's JSON body (``"data.object.id"``, ``"items.0.sku"``): checking one, following it,
and how deep a body is nested. ``webhooks.py`` picks the correlation, payload and idempotency key with them."""

from __future__ import annotations

from typing import Any


def check_path(text: Any, what: str) -> tuple[str, ...]:
    if not isinstance(text, str) or not text or any(not part for part in text.split(".")):
        raise ValueError(f"{what} must be a dotted path such as 'data.object.id', got {text!r}")
    return tuple(text.split("."))


def pick(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in JSON ``data``: each part is an object key, or a list index when the
    value there is a list (``"items.0.id"``). Raises ``LookupError`` naming the first part that is missing."""
    current = data
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise LookupError(".".join(parts[: i + 1]))
    return current


def has_path(data: Any, path: str) -> bool:
    try:
        pick(data, path)
    except LookupError:
        return False
    return True


def depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


__all__ = ["check_path", "depth_exceeds", "has_path", "pick"]
