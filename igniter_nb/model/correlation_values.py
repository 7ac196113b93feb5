"""What a correlation value may be: a JSON scalar a store can index — so a float only when it is finite (JSON has
no NaN or Infinity). Here, below every layer, so the workflow layer (checking a contract's correlations, with errors
that name the graph and key) and the stores (checking any correlation they index) ask the one question the same
way."""

from __future__ import annotations

import math
from typing import Any, TypeGuard


def non_finite(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a float NaN or infinity, which no correlation may hold: ``non_finite(float("nan"))``."""
    return isinstance(value, float) and not math.isfinite(value)


__all__ = ["non_finite"]
