"""What a correlation value may be: a JSON scalar a store can index — so a float only when it is finite (JSON has
no NaN or Infinity). Here, below every layer, so the workflow layer (checking a contract's correlations, with errors
that name the graph and key) and the stores (checking any correlation they index) ask the one question the same
way."""

from __future__ import annotations

import math
import sys
from typing import Any, TypeGuard


def non_finite(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a float NaN or infinity, which no correlation may hold: ``non_finite(float("nan"))``."""
    return isinstance(value, float) and not math.isfinite(value)


def too_long_int(value: Any) -> bool:
    """Whether ``value`` is an int with no text form (more digits than ``sys.get_int_max_str_digits()``, 4300 by
    default): no store can write it into its JSON, so no correlation may hold it."""
    if type(value) is not int or value.bit_length() <= 1000:  # (at most 302 digits: always has a text form)
        return False
    try:
        str(value)
    except ValueError:
        return True
    return False


def int_digits_limit() -> int:
    return sys.get_int_max_str_digits()


__all__ = ["int_digits_limit", "non_finite", "too_long_int"]
