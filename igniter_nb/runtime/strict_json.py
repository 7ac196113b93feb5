"""Reading JSON as JSON is written, not as Python's ``json`` reads it.

``json.loads`` also reads ``NaN``, ``Infinity`` and ``-Infinity``, turns ``1e999`` into an infinity, and keeps the last
value of a key repeated within one object. None of that is JSON, and whatever reads the same text after us (a
store, a proxy, another language) would read it differently. :func:`loads_strict` refuses each: a non-finite
number as :class:`NotJSONNumber`, a repeated key as ``RepeatedKeyError`` (``runtime/repeated_keys.py``). The
server's request reader and the notebook's payload editor both read with it, each wording the refusal its own way.
"""

from __future__ import annotations

import json
import math
from typing import Any

from igniter_nb.runtime.repeated_keys import unique_keys


class NotJSONNumber(ValueError):
    """``token`` reads as a number in Python but not in JSON: a constant (``NaN``, ``Infinity``, ``-Infinity``) when
    ``constant``, else a number too large for a float (``1e999``)."""

    def __init__(self, token: str, *, constant: bool) -> None:
        super().__init__(f"{token} is not a JSON number" if constant else f"number {token[:40]} is too large for a float")
        self.token = token
        self.constant = constant


def refuse_constant(name: str) -> Any:
    """A ``parse_constant`` for ``json.loads``: ``NaN``, ``Infinity`` and ``-Infinity`` refused."""
    raise NotJSONNumber(name, constant=True)


def finite_float(text: str) -> float:
    """A ``parse_float`` for ``json.loads``: a number too large for a float (``1e999``) refused."""
    number = float(text)
    if not math.isfinite(number):
        raise NotJSONNumber(text, constant=False)
    return number


def loads_strict(text: str) -> Any:
    """``json.loads(text)``, refusing a non-finite number (:class:`NotJSONNumber`) and a key repeated within one
    object (``RepeatedKeyError``); ``json``'s own errors (``JSONDecodeError``, ``RecursionError``, ``ValueError`` for
    an integer with more digits than Python converts) go through unchanged."""
    return json.loads(text, parse_constant=refuse_constant, parse_float=finite_float, object_pairs_hook=unique_keys)


__all__ = ["NotJSONNumber", "finite_float", "loads_strict", "refuse_constant"]
