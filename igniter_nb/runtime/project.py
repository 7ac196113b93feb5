"""``c.project``: walking into a value by dict key, list index or attribute."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from igniter_nb.errors import ResolutionError
from igniter_nb.model import MISSING

_NOT_FOUND = object()


def _step(value: Any, part: Any) -> Any:
    if isinstance(value, Mapping):
        if part in value:
            return value[part]
        if not isinstance(part, str) and str(part) in value:
            return value[str(part)]
        return _NOT_FOUND
    if isinstance(part, int) and not isinstance(part, bool) and isinstance(value, Sequence) and not isinstance(value, str):
        try:
            return value[part]
        except IndexError:
            return _NOT_FOUND
    if isinstance(part, str) and not part.startswith("_") and hasattr(value, part):
        return getattr(value, part)
    return _NOT_FOUND


def extract_path(name: str, value: Any, steps: Sequence[Any], default: Any = MISSING) -> Any:
    """Follow ``steps``; at the first missing step return ``default`` (the walk stops there, L-32) or fail."""
    current = value
    walked: list[str] = []
    for part in steps:
        nxt = _step(current, part)
        if nxt is _NOT_FOUND:
            if default is not MISSING:
                return default
            where = "".join(walked) or "the value"
            raise ResolutionError(
                f"project '{name}' could not extract {part!r} from {where} ({type(current).__name__})"
            )
        walked.append(f"[{part!r}]")
        current = nxt
    return current
